//! Cases too big to keep as text: blobs at the 16 MiB limit.

use super::suite::{cat, hdr, Suite};
use btfcheck::builder::{info, BtfBuilder};
use btfcheck::raw::Kind;

const MAGIC: u16 = 0xeb9f;

pub fn big_blobs(s: &mut Suite) {
    s.group("strings");
    let mut b = BtfBuilder::new();
    b.record(0, info(Kind::PTR, 0, false), 0, &[]);
    let (pt, _) = b.sections();
    let pt = pt.to_vec();
    // The 16 MiB blob limit comes before any string check, so the
    // "str_len - 1 > 0xffffff" rule cannot be reached from user space.
    let max = 16usize << 20;
    let exact = vec![0u8; max - 24 - pt.len()];
    s.add(
        "blob_16mib_exact",
        "a blob of exactly 16 MiB (mostly string bytes)",
        cat(&[&hdr(MAGIC, 1, 0, 24, 0, 12, 12, exact.len() as u32), &pt, &exact]),
    );
    let over = vec![0u8; max - 24 - pt.len() + 1];
    s.add(
        "blob_16mib_plus1",
        "one byte over 16 MiB: E2BIG before any log",
        cat(&[&hdr(MAGIC, 1, 0, 24, 0, 12, 12, over.len() as u32), &pt, &over]),
    );
}
