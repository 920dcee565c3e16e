//! Name predicates, over the kernel's Latin-1 `ctype` table (lib/ctype.c):
//! bytes are unsigned, 0xC0..0xFF are letters except 0xD7 and 0xF7, and
//! 0xA0..0xFF are printable.

/// `KSYM_NAME_LEN`: the longest accepted identifier or section name.
pub const NAME_LEN_MAX: usize = 512;

const ALPHA: u8 = 1;
const DIGIT: u8 = 2;
const PRINT: u8 = 4;

const fn class(b: u8) -> u8 {
    match b {
        b'A'..=b'Z' | b'a'..=b'z' => ALPHA | PRINT,
        0xc0..=0xd6 | 0xd8..=0xf6 | 0xf8..=0xff => ALPHA | PRINT,
        b'0'..=b'9' => DIGIT | PRINT,
        0x20..=0x7e => PRINT,
        0xa0..=0xff => PRINT,
        _ => 0,
    }
}

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = class(i as u8);
        i += 1;
    }
    t
};

#[inline]
fn first_ok(b: u8) -> bool {
    CLASS[b as usize] & ALPHA != 0 || b == b'_' || b == b'.'
}

#[inline]
fn rest_ok(b: u8) -> bool {
    CLASS[b as usize] & (ALPHA | DIGIT) != 0 || b == b'_' || b == b'.'
}

/// `btf_name_valid_identifier`: a C-like identifier (dots allowed anywhere)
/// of at most 512 bytes. `s` is the string without its NUL.
pub fn is_identifier(s: &[u8]) -> bool {
    match s.split_first() {
        Some((&f, rest)) if first_ok(f) => s.len() <= NAME_LEN_MAX && rest.iter().all(|&b| rest_ok(b)),
        _ => false,
    }
}

/// `btf_name_valid_section`: non-empty, every byte printable, at most 512.
pub fn is_section_name(s: &[u8]) -> bool {
    !s.is_empty() && s.len() <= NAME_LEN_MAX && s.iter().all(|&b| CLASS[b as usize] & PRINT != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_follow_kernel_ctype() {
        assert!(is_identifier(b"_x1"));
        assert!(is_identifier(b".x.y"));
        assert!(is_identifier(b"\xe9t\xe9"));
        assert!(
            !is_identifier(b"\xc3\xa9"),
            "UTF-8 continuation byte 0xa9 is punctuation"
        );
        assert!(!is_identifier(b"1m"));
        assert!(!is_identifier(b"s-1"));
        assert!(!is_identifier(b""));
        assert!(
            !is_identifier(b"a\xd7b"),
            "0xd7 (multiplication sign) is not a letter"
        );
        assert!(is_identifier(&[b'a'; 512]));
        assert!(!is_identifier(&[b'a'; 513]));
    }

    #[test]
    fn section_names_are_printable_latin1() {
        assert!(is_section_name(b".data my sec!"));
        assert!(is_section_name(b".d\xa0\xff"));
        assert!(!is_section_name(b".d\x80"));
        assert!(!is_section_name(b"\x01data"));
        assert!(!is_section_name(b""));
        assert!(is_section_name(&[b'.'; 512]));
        assert!(!is_section_name(&[b'.'; 513]));
    }
}

/// Memoised [`is_identifier`] over one string section: names are shared by
/// many types (vmlinux references ~125k distinct names ~230k times), so each
/// offset is scanned once. Two bits per offset: known, valid.
#[derive(Debug, Default)]
pub struct IdentCache {
    bits: Vec<std::sync::atomic::AtomicU64>,
}

impl IdentCache {
    pub fn new(section_len: usize) -> Self {
        let words = (section_len * 2).div_ceil(64);
        IdentCache {
            bits: (0..words).map(|_| std::sync::atomic::AtomicU64::new(0)).collect(),
        }
    }

    /// Whether the string at `off` of `section` is an identifier; `off` must
    /// be a valid offset.
    #[inline]
    pub fn is_identifier(&self, section: &[u8], off: u32) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let bit = off as usize * 2;
        let Some(word) = self.bits.get(bit / 64) else {
            return scan_identifier(section, off as usize);
        };
        let shift = bit % 64;
        let w = word.load(Relaxed);
        if w >> shift & 1 != 0 {
            return w >> (shift + 1) & 1 != 0;
        }
        let valid = scan_identifier(section, off as usize);
        // Load/store, not a read-modify-write: a lost update only costs a rescan.
        word.store(word.load(Relaxed) | (1 | (valid as u64) << 1) << shift, Relaxed);
        valid
    }
}

/// One pass: first byte, later bytes and length up to the NUL.
fn scan_identifier(section: &[u8], off: usize) -> bool {
    let Some(s) = section.get(off..) else { return false };
    match s.first() {
        Some(&f) if first_ok(f) => {}
        _ => return false,
    }
    for (i, &b) in s.iter().enumerate().skip(1) {
        if b == 0 {
            return i <= NAME_LEN_MAX;
        }
        if i >= NAME_LEN_MAX || !rest_ok(b) {
            return false;
        }
    }
    // No NUL before the section end (only on unverified sections).
    s.len() <= NAME_LEN_MAX
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    #[test]
    fn cache_agrees_with_plain_check() {
        let mut section = b"\0int\0a-b\0\xe9t\0".to_vec();
        section.extend(std::iter::repeat_n(b'a', 512));
        section.push(0);
        section.extend(std::iter::repeat_n(b'b', 513));
        section.push(0);
        let cache = IdentCache::new(section.len());
        for _ in 0..2 {
            for off in 0..section.len() {
                let end = section[off..].iter().position(|&b| b == 0).unwrap() + off;
                assert_eq!(
                    cache.is_identifier(&section, off as u32),
                    is_identifier(&section[off..end]),
                    "offset {off}"
                );
            }
        }
    }
}

impl Clone for IdentCache {
    fn clone(&self) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
        IdentCache {
            bits: self
                .bits
                .iter()
                .map(|w| AtomicU64::new(w.load(Relaxed)))
                .collect(),
        }
    }
}
