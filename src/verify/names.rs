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

/// Every byte printable (Latin-1 `isprint`).
pub fn is_printable(s: &[u8]) -> bool {
    s.iter().all(|&b| CLASS[b as usize] & PRINT != 0)
}

/// `btf_name_valid_section`: non-empty, every byte printable, at most 512.
pub fn is_section_name(s: &[u8]) -> bool {
    !s.is_empty() && s.len() <= NAME_LEN_MAX && is_printable(s)
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

use super::lanes::Lanes;

/// [`is_identifier`] for every string of a section, computed in one
/// sequential pass (random probes into a 2 MiB string section cost a cache
/// miss each; vmlinux makes ~230k of them). An offset without its bit is
/// scanned on demand: it is inside another string (rare), or not an
/// identifier, which rejects the blob.
#[derive(Debug, Default, Clone)]
pub struct IdentCache {
    /// Bit `off`: a string starts at `off` and is an identifier.
    valid: Vec<u64>,
}

impl IdentCache {
    /// The cache, built on the calling thread.
    pub fn new(section: &[u8]) -> Self {
        IdentCache::build(section, Lanes::ONE)
    }

    /// The cache; with two lanes, the strings from a string start near the
    /// middle on are scanned on a second thread.
    pub fn build(section: &[u8], lanes: Lanes) -> Self {
        IdentCache::build_beside(section, lanes, 0.5, || false)
    }

    /// The cache, built beside other work: the first lane scans the strings
    /// before a string start near `first_share` of the section (all of them
    /// on one lane), calling `beside` once per 64 bytes until it returns
    /// false, and then until it does; the second lane scans the rest.
    /// `beside` should be work whose loads wait on each other: the scan's
    /// arithmetic then fills that time.
    pub fn build_beside(
        section: &[u8],
        lanes: Lanes,
        first_share: f64,
        mut beside: impl FnMut() -> bool + Send,
    ) -> Self {
        let mut valid = vec![0u64; section.len().div_ceil(64)];
        let split = if lanes.two() {
            string_start_from(section, (section.len() as f64 * first_share) as usize)
        } else {
            section.len()
        };
        let (lo, hi) = valid.split_at_mut(split / 64);
        let (carry, _) = lanes.join(
            || {
                let carry = mark_identifiers(section, 0, split, lo, 0, &mut beside);
                while beside() {}
                carry
            },
            || mark_identifiers(section, split, section.len(), hi, split / 64, || false),
        );
        // Strings of the first part that start in the word the second
        // part begins with.
        if carry != 0 {
            valid[split / 64] |= carry;
        }
        IdentCache { valid }
    }

    /// Whether the string at `off` of `section` is an identifier; `off` must
    /// be a valid offset.
    #[inline]
    pub fn is_identifier(&self, section: &[u8], off: u32) -> bool {
        let (w, b) = (off as usize / 64, off % 64);
        match self.valid.get(w) {
            Some(v) if v >> b & 1 != 0 => true,
            _ => scan_identifier(section, off as usize),
        }
    }
}

/// The first string start at or past `at`: just past a NUL, or the end.
fn string_start_from(section: &[u8], at: usize) -> usize {
    let from = at.saturating_sub(1).min(section.len());
    memchr::memchr(0, &section[from..]).map_or(section.len(), |nul| from + nul + 1)
}

/// Sets the bit of every identifier that starts in `from..to` (both string
/// starts, or `to` the end) in `words`, which hold the bits from word `base`
/// on. A bit for the word just past `words` is returned instead: the two
/// parts of a split build share that word.
///
/// Finds, 64 bytes at a time, the bytes no identifier may hold (a bit mask,
/// computed without branches); the strings are what lies between the NULs
/// among them, and a string is an identifier when no other such byte came
/// before its NUL and its first byte may start one. `beside` is called
/// before each 64 bytes until it returns false.
fn mark_identifiers(
    section: &[u8],
    from: usize,
    to: usize,
    words: &mut [u64],
    base: usize,
    mut beside: impl FnMut() -> bool,
) -> u64 {
    let mut carry = 0u64;
    let mut busy = true;
    // The string in progress: where it started, and whether it holds only
    // identifier bytes so far.
    let mut start = from;
    let mut clean = true;
    for w in from / 64..to.div_ceil(64) {
        if busy {
            busy = beside();
        }
        let chunk = &section[w * 64..section.len().min(w * 64 + 64)];
        let mut stops = !if chunk.len() == 64 {
            ident_mask(chunk.try_into().expect("64 bytes"))
        } else {
            // Pad with identifier bytes: no stops past the end.
            let mut padded = [b'a'; 64];
            padded[..chunk.len()].copy_from_slice(chunk);
            ident_mask(&padded)
        };
        // Only bytes in from..to.
        if w == from / 64 {
            stops &= !0u64 << (from % 64);
        }
        if to - w * 64 < 64 {
            stops &= (1u64 << (to - w * 64)) - 1;
        }
        while stops != 0 {
            let at = w * 64 + stops.trailing_zeros() as usize;
            if section[at] == 0 {
                let len = at - start;
                if clean && len > 0 && len <= NAME_LEN_MAX && first_ok(section[start]) {
                    let bit = 1u64 << (start % 64);
                    match words.get_mut(start / 64 - base) {
                        Some(word) => *word |= bit,
                        None => carry |= bit,
                    }
                }
                start = at + 1;
                clean = true;
            } else {
                clean = false;
            }
            stops &= stops - 1;
        }
    }
    carry
}

/// Bit `i`: byte `i` may follow an identifier's first byte. Sixteen bytes
/// at a time (`wide`: SSE2 on x86-64, NEON on aarch64, plain arrays
/// elsewhere), without a table or a branch; each compare's sixteen answers
/// are packed into bits in one step (`pmovmskb`), which the compiler does
/// not find for a byte loop.
#[inline]
fn ident_mask(chunk: &[u8; 64]) -> u64 {
    use wide::u8x16;
    let byte = u8x16::splat;
    // Lanes where `x <= max`, unsigned.
    let at_most = |x: u8x16, max: u8| x.min(byte(max)).simd_eq(x);
    let mut mask = 0u64;
    for (k, part) in chunk.chunks_exact(16).enumerate() {
        let b = u8x16::new(part.try_into().expect("16 bytes"));
        let ascii_letter = at_most((b | byte(0x20)) - byte(b'a'), 25);
        // 0xc0..=0xff except 0xd7 and 0xf7 (multiplication and division).
        let latin1_letter = b.max(byte(0xc0)).simd_eq(b) & !(b & byte(0xdf)).simd_eq(byte(0xd7));
        let digit = at_most(b - byte(b'0'), 9);
        let punct = b.simd_eq(byte(b'_')) | b.simd_eq(byte(b'.'));
        let ok = ascii_letter | latin1_letter | digit | punct;
        mask |= u64::from(ok.to_bitmask()) << (16 * k);
    }
    mask
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
        assert_cache_matches(&section);
    }

    /// The cache answers like `is_identifier` at every offset, and again
    /// when asked twice; built in two parts, it is the same cache.
    fn assert_cache_matches(section: &[u8]) {
        let cache = IdentCache::new(section);
        let two = Lanes::for_blob(crate::verify::Threads::Two, 0);
        assert_eq!(IdentCache::build(section, two).valid, cache.valid);
        for _ in 0..2 {
            for off in 0..section.len() {
                let end = section[off..].iter().position(|&b| b == 0).unwrap() + off;
                assert_eq!(
                    cache.is_identifier(section, off as u32),
                    is_identifier(&section[off..end]),
                    "offset {off}"
                );
            }
        }
    }

    #[test]
    fn split_build_handles_every_split_point() {
        // Short sections put the split in every place relative to 64-byte
        // words: at a word start, inside one, in the last partial word,
        // and in sections with no NUL after the middle.
        let mut section = vec![0u8];
        for len in 0..200 {
            section.extend(std::iter::repeat_n(b'a' + (len % 26) as u8, len % 70));
            section.push(0);
            assert_cache_matches(&section);
        }
        assert_cache_matches(b"");
        assert_cache_matches(b"abc\0");
        assert_cache_matches(b"\0abc\0");
    }

    #[test]
    fn the_mask_agrees_with_the_byte_table() {
        // Every byte value at every position of a chunk.
        for shift in 0..64 {
            let chunk: [u8; 64] = std::array::from_fn(|i| (i * 4 + shift) as u8);
            let want = (0..64).fold(0u64, |m, i| m | u64::from(REST[chunk[i] as usize] != 0) << i);
            assert_eq!(ident_mask(&chunk), want, "shift {shift}");
        }
    }

    #[test]
    fn work_beside_the_scan_is_run_to_its_end() {
        // Far more steps than 64-byte words: the first lane finishes them
        // after its share of the strings.
        let section = b"\0int\0long\0char\0".repeat(20);
        for lanes in [Lanes::ONE, Lanes::for_blob(crate::verify::Threads::Two, 0)] {
            let mut steps = 0;
            let cache = IdentCache::build_beside(&section, lanes, 0.35, || {
                steps += 1;
                steps < 1000
            });
            assert_eq!(steps, 1000);
            assert_eq!(cache.valid, IdentCache::new(&section).valid);
        }
    }

    #[test]
    fn cache_agrees_on_mixed_strings() {
        // Strings of every length class, with a bad byte at every place,
        // crossing 64-byte words in every way.
        let mut section = vec![0u8];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let alphabet = b"aZ_.09\xe9\xd7\xf7-\x80 ";
        for len in (0..600).chain([511, 512, 513, 1024]) {
            for _ in 0..3 {
                for i in 0..len {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let common = [b'a', b'_', b'x', b'7'][(seed % 4) as usize];
                    let b = if seed.is_multiple_of(97) || i == 0 {
                        alphabet[(seed >> 8) as usize % alphabet.len()]
                    } else {
                        common
                    };
                    section.push(b);
                }
                section.push(0);
            }
        }
        assert_cache_matches(&section);
    }
}
