//! Shrinking a disagreement: delta debugging over whole type records.
//!
//! A blob laid out as header, type section, string section is cut into its
//! records (plus any partial tail); chunks of records are dropped while the
//! predicate (for `fuzz-kernel`: "btfcheck and the kernel still disagree")
//! holds. The string section is kept as it is, so names stay put. Blobs
//! with another layout are returned unchanged.

use crate::raw::{Header, RecordCursor};

const HDR: usize = 24;

/// Header, type records (as byte ranges of the type section) and strings.
struct Split<'a> {
    header: Header,
    records: Vec<&'a [u8]>,
    strings: &'a [u8],
}

fn split(blob: &[u8]) -> Option<Split<'_>> {
    if blob.len() < HDR {
        return None;
    }
    let header = Header::copied_from(blob, HDR as u32);
    if header.hdr_len as usize != HDR || header.type_off != 0 || header.str_off != header.type_len {
        return None;
    }
    let types = blob.get(HDR..HDR.checked_add(header.type_len as usize)?)?;
    let strings = blob.get(HDR + header.type_len as usize..)?;
    let mut records = Vec::new();
    let mut cursor = RecordCursor::new(types);
    let mut start = 0usize;
    while cursor.next_whole().is_some() {
        let end = cursor.pos() as usize;
        records.push(&types[start..end]);
        start = end;
    }
    if start < types.len() {
        records.push(&types[start..]);
    }
    Some(Split {
        header,
        records,
        strings,
    })
}

fn join(s: &Split<'_>, keep: &[bool]) -> Vec<u8> {
    let types: Vec<u8> = s
        .records
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .flat_map(|(r, _)| r.iter().copied())
        .collect();
    let mut h = s.header;
    h.type_len = types.len() as u32;
    h.str_off = h.type_len;
    let mut out = h.to_bytes().to_vec();
    out.extend_from_slice(&types);
    out.extend_from_slice(s.strings);
    out
}

/// The smallest blob found (within `budget` predicate calls) for which
/// `still_fails` holds; `blob` itself when nothing smaller does.
pub fn minimize(blob: &[u8], budget: usize, mut still_fails: impl FnMut(&[u8]) -> bool) -> Vec<u8> {
    let Some(s) = split(blob) else {
        return blob.to_vec();
    };
    let n = s.records.len();
    let mut keep = vec![true; n];
    let mut calls = 0;
    let mut chunk = n.div_ceil(2).max(1);
    loop {
        let mut changed = false;
        let mut start = 0;
        while start < n && calls < budget {
            let end = (start + chunk).min(n);
            if keep[start..end].iter().any(|&k| k) {
                let mut trial = keep.clone();
                trial[start..end].iter_mut().for_each(|k| *k = false);
                calls += 1;
                if trial.iter().any(|&k| k) && still_fails(&join(&s, &trial)) {
                    keep = trial;
                    changed = true;
                }
            }
            start = end;
        }
        if calls >= budget || (chunk == 1 && !changed) {
            break;
        }
        if !changed {
            chunk = (chunk / 2).max(1);
        }
    }
    join(&s, &keep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{BtfBuilder, INT_SIGNED};

    #[test]
    fn keeps_only_what_the_predicate_needs() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, INT_SIGNED);
        for _ in 0..40 {
            b.ptr(int);
        }
        b.float("float", 4);
        for _ in 0..40 {
            b.const_(int);
        }
        let blob = b.build();
        let has_float = |blob: &[u8]| {
            blob.windows(5).any(|w| w == b"float") && {
                // A FLOAT record (kind 16) is still there.
                split(blob).unwrap().records.iter().any(|r| r[7] == 16)
            }
        };
        let small = minimize(&blob, 1000, has_float);
        let s = split(&small).unwrap();
        assert_eq!(s.records.len(), 1, "only the FLOAT record is left");
        assert!(small.len() < blob.len());
    }

    #[test]
    fn other_layouts_are_left_alone() {
        assert_eq!(minimize(b"short", 10, |_| true), b"short");
    }
}
