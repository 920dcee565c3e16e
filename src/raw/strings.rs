//! The string section: NUL-terminated byte strings addressed by any offset
//! (a name may start in the middle of another string).

/// Largest name offset the kernel accepts (`BTF_MAX_NAME_OFFSET`).
pub const MAX_NAME_OFFSET: u32 = 0xff_ffff;

/// A zero-copy view of the string section.
#[derive(Clone, Copy, Debug, Default)]
pub struct Strings<'a> {
    bytes: &'a [u8],
}

impl<'a> Strings<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Strings { bytes }
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn len(&self) -> u32 {
        self.bytes.len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// `btf_name_offset_valid()` for base BTF: in the section and within the
    /// 24-bit limit (one comparison: both bounds fit in a u64).
    #[inline]
    pub fn offset_valid(&self, off: u32) -> bool {
        (off as u64) < (self.bytes.len() as u64).min(MAX_NAME_OFFSET as u64 + 1)
    }

    /// The bytes of the string at `off`, up to (not including) its NUL, or
    /// `None` for an invalid offset. A verified section always ends in NUL;
    /// on an unverified one the string runs to the section end.
    pub fn get(&self, off: u32) -> Option<&'a [u8]> {
        if !self.offset_valid(off) {
            return None;
        }
        let rest = &self.bytes[off as usize..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        Some(&rest[..end])
    }

    /// The name as the kernel's log prints it (`__btf_name_by_offset`):
    /// `(anon)` for 0, `(invalid-name-offset)` when out of range.
    pub fn log_name(&self, off: u32) -> &'a [u8] {
        if off == 0 {
            return b"(anon)";
        }
        self.get(off).unwrap_or(b"(invalid-name-offset)")
    }
}
