//! The verifier's view of a blob once its header and sections are known: the
//! type table the meta pass builds, and id lookups the later passes share.

use crate::raw::types::{u32_at, COMMON_LEN};
use crate::raw::{CommonType, Header, Kind, Strings, TypeRecord};

/// Record position used for VOID (id 0), which has no bytes.
pub const VOID_POS: u32 = u32::MAX;

/// A kept type: its `info` and `size`/`type` words and where its record
/// starts in the type section. Kept apart from the blob so the later passes'
/// lookups by id touch 12 dense bytes instead of the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name_off: u32,
    pub info: u32,
    pub size_type: u32,
    pub pos: u32,
    /// Resolve results (`btf->resolved_ids/sizes`), kept next to the type
    /// so one lookup by id touches one cache line.
    pub resolved_id: u32,
    pub resolved_size: u32,
    pub state: super::resolve::VisitState,
}

impl Entry {
    pub const VOID: Entry = Entry::new(0, 0, 0, VOID_POS);

    pub const fn new(name_off: u32, info: u32, size_type: u32, pos: u32) -> Entry {
        Entry {
            name_off,
            info,
            size_type,
            pos,
            resolved_id: 0,
            resolved_size: 0,
            state: super::resolve::VisitState::NotVisited,
        }
    }
}

/// A blob whose header, string section and (so far) type records were read.
#[derive(Clone, Debug)]
pub struct Btf<'a> {
    pub blob: &'a [u8],
    pub header: Header,
    /// The type section bytes.
    pub types: &'a [u8],
    /// Absolute offset of the type section in the blob.
    pub types_start: u64,
    pub strings: Strings<'a>,
    /// Absolute offset of the string section in the blob.
    pub strings_start: u64,
    /// Every kept type's common header and position; index 0 is VOID.
    pub entries: Vec<Entry>,
    /// Records the meta pass walked, including ones dropped by the type cap.
    pub records_walked: u32,
    /// Identifier checks already made on this string section.
    pub idents: super::names::IdentCache,
}

impl<'a> Btf<'a> {
    /// Number of entries in the type table, VOID included (`btf->nr_types`).
    #[inline]
    pub fn nr_types(&self) -> u32 {
        self.entries.len() as u32
    }

    /// Ids of the kept types, 1..nr_types.
    pub fn ids(&self) -> std::ops::Range<u32> {
        1..self.nr_types()
    }

    /// `btf_type_by_id`: VOID for 0, `None` past the table.
    #[inline]
    pub fn by_id(&self, id: u32) -> Option<TypeRecord<'a>> {
        let e = *self.entries.get(id as usize)?;
        if e.pos == VOID_POS {
            return Some(void_record());
        }
        Some(self.record_of(e))
    }

    /// The record of a kept entry, without reading its header from the blob.
    #[inline]
    pub fn record_of(&self, e: Entry) -> TypeRecord<'a> {
        let common = CommonType {
            name_off: e.name_off,
            info: e.info,
            size_type: e.size_type,
        };
        let (fixed, per) = Kind::TAIL_TABLE[((e.info >> 24) & 0x1f) as usize];
        let tail_len = (fixed + per * (e.info & 0xffff)) as usize;
        let start = e.pos as usize + COMMON_LEN as usize;
        TypeRecord {
            pos: e.pos,
            common,
            tail: &self.types[start..start + tail_len],
        }
    }

    /// The record at a position the meta pass accepted.
    #[inline]
    pub fn record_at(&self, pos: u32) -> TypeRecord<'a> {
        let p = pos as usize;
        let common = CommonType {
            name_off: u32_at(self.types, p),
            info: u32_at(self.types, p + 4),
            size_type: u32_at(self.types, p + 8),
        };
        let tail_len = common.tail_len().unwrap_or(0) as usize;
        let start = p + COMMON_LEN as usize;
        TypeRecord {
            pos,
            common,
            tail: &self.types[start..start + tail_len],
        }
    }

    /// Absolute blob offset of a record position.
    pub fn abs(&self, pos: u32) -> u64 {
        self.types_start + pos as u64
    }

    /// `btf_name_valid_identifier` for a valid offset (memoised).
    #[inline]
    pub fn is_identifier(&self, off: u32) -> bool {
        self.idents.is_identifier(self.strings.bytes(), off)
    }

    /// Name bytes of a type, `None` if anonymous or the offset is invalid.
    pub fn name(&self, rec: &TypeRecord<'_>) -> Option<&'a [u8]> {
        match rec.name_off() {
            0 => None,
            off => self.strings.get(off),
        }
    }
}

/// VOID as the kernel's `btf_void`: kind 0, everything zero.
pub fn void_record() -> TypeRecord<'static> {
    TypeRecord {
        pos: VOID_POS,
        common: CommonType {
            name_off: 0,
            info: 0,
            size_type: 0,
        },
        tail: &[],
    }
}

/// Kind-level predicates over records, named after the kernel helpers.
pub trait RecordExt {
    fn is_void(&self) -> bool;
    /// VOID, FWD, FUNC, FUNC_PROTO (`btf_type_nosize`).
    fn is_nosize(&self) -> bool;
    /// INT that can be used as a whole value: bits multiple of 8, no bit
    /// offset, power-of-two byte width up to 16 (`btf_type_int_is_regular`).
    fn is_regular_int(&self) -> bool;
}

impl RecordExt for TypeRecord<'_> {
    #[inline]
    fn is_void(&self) -> bool {
        self.pos == VOID_POS
    }
    #[inline]
    fn is_nosize(&self) -> bool {
        self.is_void() || matches!(self.kind(), Kind::FWD | Kind::FUNC | Kind::FUNC_PROTO)
    }
    fn is_regular_int(&self) -> bool {
        let d = self.int_data();
        let bits = d & 0xff;
        let offset = (d >> 16) & 0xff;
        let bytes = bits / 8;
        bits % 8 == 0 && offset == 0 && bytes != 0 && bytes <= 16 && bytes.is_power_of_two()
    }
}
