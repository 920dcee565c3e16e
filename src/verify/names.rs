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
