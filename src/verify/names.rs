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

/// [`is_identifier`] for every string of a section, computed in one
/// sequential pass (random probes into a 2 MiB string section cost a cache
/// miss each; vmlinux makes ~230k of them). Names that start inside another
/// string are rare and scanned on demand.
#[derive(Debug, Default, Clone)]
pub struct IdentCache {
    /// Bit `off`: a string starts at `off`.
    starts: Vec<u64>,
    /// Bit `off`: the string starting at `off` is an identifier.
    valid: Vec<u64>,
}

impl IdentCache {
    pub fn new(section: &[u8]) -> Self {
        let n = section.len();
        let words = n.div_ceil(64);
        let mut starts = vec![0u64; words];
        let mut valid = vec![0u64; words];
        let mut start = 0;
        // memchr finds each NUL with SIMD; the bytes between are classified
        // eight at a time.
        for nul in memchr::memchr_iter(0, section).chain(std::iter::once(n)) {
            if start >= n {
                break;
            }
            let s = &section[start..nul.min(n)];
            starts[start / 64] |= 1 << (start % 64);
            if is_identifier_fast(s) {
                valid[start / 64] |= 1 << (start % 64);
            }
            start = nul + 1;
        }
        IdentCache { starts, valid }
    }

    /// Whether the string at `off` of `section` is an identifier; `off` must
    /// be a valid offset.
    #[inline]
    pub fn is_identifier(&self, section: &[u8], off: u32) -> bool {
        let (w, b) = (off as usize / 64, off % 64);
        match self.starts.get(w) {
            Some(s) if s >> b & 1 != 0 => self.valid[w] >> b & 1 != 0,
            _ => scan_identifier(section, off as usize),
        }
    }
}

/// `REST[b]` is 0xff when `b` may follow the first byte of an identifier
/// and 0 otherwise (NUL included), so eight lookups AND-ed together say
/// whether a whole word is made of identifier bytes.
const REST: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if CLASS[i] & (ALPHA | DIGIT) != 0 || b == b'_' || b == b'.' {
            t[i] = 0xff;
        }
        i += 1;
    }
    t
};

/// Whether all of eight bytes may follow an identifier's first byte (one
/// AND of table lookups, no branch per byte).
#[inline]
fn all_rest(w: &[u8]) -> bool {
    w[..8].iter().fold(0xff, |acc, &b| acc & REST[b as usize]) != 0
}

/// [`is_identifier`] on a string without its NUL, eight bytes at a time.
fn is_identifier_fast(s: &[u8]) -> bool {
    let Some((&f, rest)) = s.split_first() else {
        return false;
    };
    if !first_ok(f) || s.len() > NAME_LEN_MAX {
        return false;
    }
    let mut chunks = rest.chunks_exact(8);
    for w in &mut chunks {
        if !all_rest(w) {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| REST[b as usize] != 0)
}

/// One pass: first byte, later bytes and length up to the NUL, eight bytes
/// at a time while no NUL is in sight.
fn scan_identifier(section: &[u8], off: usize) -> bool {
    let Some(s) = section.get(off..) else { return false };
    match s.first() {
        Some(&f) if first_ok(f) => {}
        _ => return false,
    }
    let mut i = 1;
    // Whole words: no byte is NUL and every byte is allowed.
    while i + 8 <= s.len() && i < NAME_LEN_MAX {
        let w = &s[i..i + 8];
        if !all_rest(w) {
            break;
        }
        i += 8;
    }
    // The rest byte by byte: the NUL, a bad byte, or the length limit.
    while let Some(&b) = s.get(i) {
        if b == 0 {
            return i <= NAME_LEN_MAX;
        }
        if i >= NAME_LEN_MAX || REST[b as usize] == 0 {
            return false;
        }
        i += 1;
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
        let cache = IdentCache::new(&section);
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
