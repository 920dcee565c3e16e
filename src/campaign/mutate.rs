//! Byte-level mutations of real blobs (the corpus), steered towards the
//! fields BTF checks: u32 words get boundary values, bytes get flipped,
//! ranges get cut, copied or cut off.

use arbitrary::{Result, Unstructured};

/// Values that sit on a rule's boundary somewhere in the format.
const INTERESTING: &[u32] = &[
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    12,
    16,
    24,
    31,
    32,
    33,
    64,
    128,
    129,
    255,
    256,
    511,
    512,
    513,
    0x7fff,
    0xffff,
    0x1_0000,
    0xf_ffff,
    0x10_0000,
    0xff_ffff,
    0x0100_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// Applies 1-8 mutations to `blob`.
pub fn mutate(u: &mut Unstructured<'_>, blob: &mut Vec<u8>) -> Result<()> {
    for _ in 0..u.int_in_range(1..=8)? {
        if blob.is_empty() {
            blob.push(u.arbitrary()?);
            continue;
        }
        let at = u.choose_index(blob.len())?;
        match u.int_in_range(0..=6)? {
            // A boundary value into an aligned word (headers, ids, sizes).
            0 | 1 => {
                let at = at & !3;
                let v = u.choose(INTERESTING)?.to_le_bytes();
                let end = (at + 4).min(blob.len());
                blob[at..end].copy_from_slice(&v[..end - at]);
            }
            // A word nudged by a little.
            2 => {
                let at = at & !3;
                if at + 4 <= blob.len() {
                    let w = u32::from_le_bytes(blob[at..at + 4].try_into().unwrap());
                    let d = u.int_in_range(-4i32..=4)?;
                    blob[at..at + 4].copy_from_slice(&w.wrapping_add(d as u32).to_le_bytes());
                }
            }
            3 => blob[at] ^= 1 << u.int_in_range(0..=7)?,
            4 => blob[at] = u.arbitrary()?,
            // Cut the blob short.
            5 => blob.truncate(at.max(1)),
            // Remove or duplicate a range.
            _ => {
                let len = u.int_in_range(1..=64usize)?.min(blob.len() - at);
                let range: Vec<u8> = blob[at..at + len].to_vec();
                if u.arbitrary()? {
                    blob.drain(at..at + len);
                } else if blob.len() + len <= 16 << 20 {
                    blob.splice(at..at, range);
                }
            }
        }
    }
    Ok(())
}
