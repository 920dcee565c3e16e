//! Header and section layout.
//!
//! Mirrors `btf_parse_hdr()` and `btf_check_sec_info()` in kernel/bpf/btf.c
//! (v6.18): the header may be shorter than 24 bytes (missing fields read as
//! zero) or longer (the extra bytes must be zero), and the sections must tile
//! the rest of the blob exactly.

use super::error::{errno, Check, Failure, Site, Stage};
use crate::raw::header::{read_hdr_len, Header, LayoutFields, HDR_LEN_END, MAGIC};
use crate::raw::{Kind, Shapes, Tail};

fn plain(check: Check, errno: i32, offset: u64) -> Failure {
    Failure {
        stage: Stage::Header,
        check,
        site: Site::Plain { id: None },
        errno,
        offset: Some(offset),
    }
}

/// Checks that come before the header dump. On success returns the header
/// as the kernel copies it. `known_len` is the header size the kernel knows
/// (24; 32 with `kind-layout`): bytes past it must be zero.
pub fn read_header(blob: &[u8], known_len: u32) -> Result<Header, Failure> {
    if blob.len() < HDR_LEN_END {
        return Err(plain(Check::HdrLenNotFound, errno::EINVAL, 0));
    }
    let hdr_len = read_hdr_len(blob).unwrap_or(0);
    if (blob.len() as u64) < hdr_len as u64 {
        return Err(plain(Check::HeaderNotFound, errno::EINVAL, 4));
    }
    if hdr_len > known_len {
        let tail = &blob[known_len as usize..hdr_len as usize];
        if let Some(i) = tail.iter().position(|&b| b != 0) {
            return Err(plain(
                Check::HeaderTailNotZero,
                errno::E2BIG,
                known_len as u64 + i as u64,
            ));
        }
    }
    Ok(Header::copied_from(blob, hdr_len))
}

/// Checks that come after the header dump. `layout` is the layout section
/// under `kind-layout` (Linux 7.1), which takes part in the tiling check.
pub fn check_header(h: &Header, layout: Option<LayoutFields>, blob_len: u32) -> Result<(), Failure> {
    if h.magic != MAGIC {
        return Err(plain(Check::BadMagic, errno::EINVAL, 0));
    }
    if h.version != 1 {
        return Err(plain(Check::BadVersion, errno::ENOTSUPP, 2));
    }
    if h.flags != 0 {
        return Err(plain(Check::BadFlags, errno::ENOTSUPP, 3));
    }
    if blob_len == h.hdr_len {
        return Err(plain(Check::NoData, errno::EINVAL, h.hdr_len as u64));
    }
    check_sections(h, layout, blob_len)
}

/// kind-layout (Linux 7.1 `btf_parse_layout_sec`): an optional section of
/// 4-byte per-kind entries; only looked at when `hdr_len >= 32` and
/// `layout_len != 0`.
/// Runs after the string section's checks, before the type section's.
pub fn check_layout(h: &Header, l: LayoutFields, blob_len: u32) -> Result<(), Failure> {
    const ENTRY: u32 = 4;
    if h.hdr_len < crate::raw::header::HEADER_LEN_LAYOUT || l.len == 0 {
        return Ok(());
    }
    if !l.off.is_multiple_of(ENTRY) {
        return Err(plain(Check::LayoutOffUnaligned, errno::EINVAL, 24));
    }
    if l.len < ENTRY {
        return Err(plain(Check::LayoutTooSmall, errno::EINVAL, 28));
    }
    if !l.len.is_multiple_of(ENTRY) {
        return Err(plain(Check::LayoutLenNotMultiple, errno::EINVAL, 28));
    }
    if h.hdr_len as u64 + l.off as u64 + l.len as u64 > blob_len as u64 {
        return Err(plain(Check::LayoutTooBig, errno::EINVAL, 28));
    }
    Ok(())
}

/// skip-unknown-kinds: `base` plus every kind the layout section describes
/// that `base` does not know. An entry for a kind `base` knows must give the
/// same sizes, or the blob describes itself wrongly. Entry `k` describes
/// kind `k` (entry 0 is UNKN); only the 32 kinds `info` can name are read.
pub fn layout_shapes(h: &Header, l: LayoutFields, blob: &[u8], base: Shapes) -> Result<Shapes, Failure> {
    let start = h.hdr_len as usize + l.off as usize;
    let entries = blob.get(start..start + l.len as usize).unwrap_or_default();
    let mut shapes = base;
    for (k, e) in entries.chunks_exact(4).enumerate().take(32).skip(1) {
        let kind = Kind(k as u8);
        let tail = Tail {
            fixed: e[0] as u32,
            per_vlen: e[1] as u32,
        };
        match base.tail(kind) {
            Some(known) if known != tail => {
                return Err(plain(
                    Check::LayoutKindMismatch { kind: kind.0 },
                    errno::EINVAL,
                    (start + 4 * k) as u64,
                ));
            }
            Some(_) => {}
            None => shapes = shapes.with_described(kind, tail),
        }
    }
    Ok(shapes)
}

#[derive(Clone, Copy)]
struct Section {
    off: u32,
    len: u32,
    /// Header byte offset of the `off` field, for diagnostics.
    field: u64,
}

/// The kernel's comparator: u32 differences read as signed 32-bit, so
/// offsets 2^31 apart sort "backwards".
fn kernel_cmp(x: &Section, y: &Section) -> i32 {
    match x.off.wrapping_sub(y.off) as i32 {
        0 => x.len.wrapping_sub(y.len) as i32,
        d => d,
    }
}

fn check_sections(h: &Header, layout: Option<LayoutFields>, blob_len: u32) -> Result<(), Failure> {
    let mut secs = vec![
        Section {
            off: h.type_off,
            len: h.type_len,
            field: 8,
        },
        Section {
            off: h.str_off,
            len: h.str_len,
            field: 16,
        },
    ];
    if let Some(l) = layout {
        secs.push(Section {
            off: l.off,
            len: l.len,
            field: 24,
        });
    }
    // The kernel sorts with its comparator; for two entries that is one
    // compare-and-swap. For three (kind-layout) an insertion sort, which
    // never panics on the comparator's wrap-around, stands in for the
    // kernel's heapsort (they can differ only for offsets 2^31 apart).
    for i in 1..secs.len() {
        let mut j = i;
        while j > 0 && kernel_cmp(&secs[j - 1], &secs[j]) > 0 {
            secs.swap(j - 1, j);
            j -= 1;
        }
    }
    let expected = blob_len.wrapping_sub(h.hdr_len);
    let mut total: u32 = 0;
    for s in &secs {
        if expected < s.off {
            return Err(plain(Check::SectionOffsetBeyondData, errno::EINVAL, s.field));
        }
        if total < s.off {
            return Err(plain(Check::SectionGap, errno::EINVAL, s.field));
        }
        if total > s.off {
            return Err(plain(Check::SectionOverlap, errno::EINVAL, s.field));
        }
        if expected - total < s.len {
            return Err(plain(Check::SectionTooLong, errno::EINVAL, s.field + 4));
        }
        total += s.len;
    }
    if expected != total {
        return Err(plain(
            Check::TrailingData,
            errno::EINVAL,
            h.hdr_len as u64 + total as u64,
        ));
    }
    Ok(())
}

/// `btf_parse_str_sec()` for base BTF. `max_name_offset` is
/// `BTF_MAX_NAME_OFFSET` (0xffff before 5.4). With a 32-byte header (7.1,
/// `self_describing`) the sections may come in any order, so the strings
/// need not be last.
pub fn check_strings(
    h: &Header,
    blob: &[u8],
    max_name_offset: u32,
    self_describing: bool,
) -> Result<(), Failure> {
    let fail = |check, at: u64| Failure {
        stage: Stage::Strings,
        check,
        site: Site::Plain { id: None },
        errno: errno::EINVAL,
        offset: Some(at),
    };
    let start = h.hdr_len as u64 + h.str_off as u64;
    let end = start + h.str_len as u64;
    if end != blob.len() as u64 && !self_describing {
        return Err(fail(Check::StringsNotAtEnd, 16));
    }
    let s = &blob[start as usize..end as usize];
    if s.is_empty() || s.len() - 1 > max_name_offset as usize || s[s.len() - 1] != 0 {
        return Err(fail(Check::StringsInvalid, start + (s.len().max(1) - 1) as u64));
    }
    if s[0] != 0 {
        return Err(fail(Check::StringsInvalid, start));
    }
    Ok(())
}
