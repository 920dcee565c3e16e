//! Type records: the common `struct btf_type` and the kind-specific tails.
//!
//! ```text
//! struct btf_type { u32 name_off; u32 info; union { u32 size; u32 type; }; };
//! info: bits 0-15 vlen, bits 24-28 kind, bit 31 kind_flag, others reserved
//! ```
//!
//! Views are zero-copy: a [`TypeRecord`] borrows its tail from the blob and
//! decodes elements on demand. Nothing here judges validity.

use super::kind::{Kind, Shapes};
use nom::number::complete::le_u32;
use nom::{IResult, Parser};

/// Size of `struct btf_type`.
pub const COMMON_LEN: u32 = 12;
/// The `info` bits the kernel defines (`BTF_INFO_MASK`).
pub const INFO_MASK: u32 = 0x9f00_ffff;

#[inline]
pub(crate) fn u32_at(b: &[u8], off: usize) -> u32 {
    // One bounds check for the four bytes.
    let w: [u8; 4] = b[off..off + 4].try_into().expect("four bytes");
    u32::from_le_bytes(w)
}

/// The common 12-byte header of every record, `info` kept unmasked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommonType {
    pub name_off: u32,
    pub info: u32,
    /// `size` for sized kinds, `type` for referring kinds.
    pub size_type: u32,
    /// Read with Linux 7.2's wider fields: vlen in bits 0-23, kind in
    /// bits 24-30 (before: vlen 0-15, kind 24-28).
    pub wide: bool,
}

#[inline]
fn common(i: &[u8]) -> IResult<&[u8], CommonType> {
    (le_u32, le_u32, le_u32)
        .map(|(name_off, info, size_type)| CommonType {
            name_off,
            info,
            size_type,
            wide: false,
        })
        .parse(i)
}

impl CommonType {
    /// The header in `w`, read with `wide` fields or not (one bounds check
    /// for the three words, done by whoever took `w`).
    #[inline]
    pub fn from_words(w: &[u8; 12], wide: bool) -> CommonType {
        CommonType {
            name_off: u32_at(w, 0),
            info: u32_at(w, 4),
            size_type: u32_at(w, 8),
            wide,
        }
    }

    /// Decodes the first 12 bytes of `b`; `None` if fewer remain.
    #[inline]
    pub fn parse(b: &[u8]) -> Option<CommonType> {
        common(b).ok().map(|(_, c)| c)
    }

    #[inline]
    pub fn kind(&self) -> Kind {
        let mask = if self.wide { 0x7f } else { 0x1f };
        Kind(((self.info >> 24) & mask) as u8)
    }
    #[inline]
    pub fn vlen(&self) -> u32 {
        self.info & if self.wide { 0x00ff_ffff } else { 0xffff }
    }
    /// The same words, read with (or without) 7.2's wider fields.
    #[inline]
    pub fn with_wide(mut self, wide: bool) -> CommonType {
        self.wide = wide;
        self
    }
    #[inline]
    pub fn kflag(&self) -> bool {
        self.info >> 31 != 0
    }
    /// Bits outside [`INFO_MASK`].
    #[inline]
    pub fn reserved_bits(&self) -> u32 {
        self.info & !INFO_MASK
    }
    #[inline]
    pub fn size(&self) -> u32 {
        self.size_type
    }
    #[inline]
    pub fn type_id(&self) -> u32 {
        self.size_type
    }

    /// Tail length this record claims (fixed + vlen elements), for a kind
    /// the kernel knows.
    #[inline]
    pub fn tail_len(&self) -> Option<u32> {
        self.tail_len_in(&Shapes::KERNEL)
    }

    /// Tail length under a reader's kind table.
    #[inline]
    pub fn tail_len_in(&self, shapes: &Shapes) -> Option<u32> {
        shapes.tail_len(self.kind(), self.vlen())
    }
}

/// `struct btf_array { u32 type; u32 index_type; u32 nelems; }`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Array {
    pub elem_type: u32,
    pub index_type: u32,
    pub nelems: u32,
}

/// `struct btf_member { u32 name_off; u32 type; u32 offset; }`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub name_off: u32,
    pub type_id: u32,
    /// Raw: a bit offset, or with kind_flag `bitfield_size << 24 | bit_offset`.
    pub offset: u32,
}

/// `struct btf_param { u32 name_off; u32 type; }`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    pub name_off: u32,
    pub type_id: u32,
}

/// `struct btf_enum { u32 name_off; s32 val; }` and
/// `struct btf_enum64 { u32 name_off; u32 val_lo32; u32 val_hi32; }`, unified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enumerator {
    pub name_off: u32,
    /// The value's bits: 32-bit enums zero-extended.
    pub value: u64,
}

/// FUNC_ADDR's tail: `u32 addr_lo; u32 addr_hi; u32 flags;`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncAddr {
    /// The link-time address (`addr_hi << 32 | addr_lo`).
    pub addr: u64,
    pub flags: u32,
}

impl FuncAddr {
    /// The function is a kfunc.
    pub const KFUNC: u32 = 1 << 0;
    /// The function can be traced (fentry/kprobe).
    pub const TRACEABLE: u32 = 1 << 1;
    /// Every flag bit the proposal defines.
    pub const DEFINED: u32 = FuncAddr::KFUNC | FuncAddr::TRACEABLE;
}

/// `struct btf_var_secinfo { u32 type; u32 offset; u32 size; }`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecInfo {
    pub type_id: u32,
    pub offset: u32,
    pub size: u32,
}

/// One record: its common header and the tail bytes that follow it.
#[derive(Clone, Copy, Debug)]
pub struct TypeRecord<'a> {
    /// Offset of the record inside the type section.
    pub pos: u32,
    pub common: CommonType,
    /// Exactly the tail the kind and vlen call for.
    pub tail: &'a [u8],
}

impl<'a> TypeRecord<'a> {
    /// Reads the record at `pos` of a type section whose records were already
    /// walked (the tail is known to be present). `None` otherwise.
    #[inline]
    pub fn at(types: &'a [u8], pos: u32) -> Option<TypeRecord<'a>> {
        let start = pos as usize;
        let common = CommonType::parse(types.get(start..)?)?;
        let tail_len = common.tail_len()? as usize;
        let tail_start = start + COMMON_LEN as usize;
        let tail = types.get(tail_start..tail_start.checked_add(tail_len)?)?;
        Some(TypeRecord { pos, common, tail })
    }

    #[inline]
    pub fn kind(&self) -> Kind {
        self.common.kind()
    }
    #[inline]
    pub fn vlen(&self) -> u32 {
        self.common.vlen()
    }
    #[inline]
    pub fn kflag(&self) -> bool {
        self.common.kflag()
    }
    #[inline]
    pub fn name_off(&self) -> u32 {
        self.common.name_off
    }
    /// Total record length.
    #[inline]
    pub fn len(&self) -> u32 {
        COMMON_LEN + self.tail.len() as u32
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `N` bytes of the tail from `off`, checked once: the words read from
    /// them then need no check of their own (hot in the meta and resolve
    /// loops: 2.5 M fewer instructions on vmlinux than a check per word).
    #[inline]
    fn tail_bytes<const N: usize>(&self, off: usize) -> &'a [u8; N] {
        self.tail[off..off + N].try_into().expect("N bytes")
    }

    /// INT's `int_data` word.
    #[inline]
    pub fn int_data(&self) -> u32 {
        u32_at(self.tail, 0)
    }
    /// ARRAY's `struct btf_array`.
    #[inline]
    pub fn array(&self) -> Array {
        let w = self.tail_bytes::<12>(0);
        Array {
            elem_type: u32_at(w, 0),
            index_type: u32_at(w, 4),
            nelems: u32_at(w, 8),
        }
    }
    /// VAR's `linkage` word.
    #[inline]
    pub fn var_linkage(&self) -> u32 {
        u32_at(self.tail, 0)
    }
    /// DECL_TAG's `component_idx`.
    #[inline]
    pub fn component_idx(&self) -> i32 {
        u32_at(self.tail, 0) as i32
    }
    /// FUNC_ADDR's tail (the `func-addr` proposal).
    #[inline]
    pub fn func_addr(&self) -> FuncAddr {
        let w = self.tail_bytes::<12>(0);
        FuncAddr {
            addr: u32_at(w, 0) as u64 | (u32_at(w, 4) as u64) << 32,
            flags: u32_at(w, 8),
        }
    }
    /// Member `i` of a STRUCT/UNION.
    #[inline]
    pub fn member(&self, i: usize) -> Member {
        let w = self.tail_bytes::<12>(i * 12);
        Member {
            name_off: u32_at(w, 0),
            type_id: u32_at(w, 4),
            offset: u32_at(w, 8),
        }
    }
    #[inline]
    pub fn members(&self) -> impl Iterator<Item = Member> + 'a {
        let rec = *self;
        (0..self.vlen() as usize).map(move |i| rec.member(i))
    }
    /// Parameter `i` of a FUNC_PROTO.
    #[inline]
    pub fn param(&self, i: usize) -> Param {
        let w = self.tail_bytes::<8>(i * 8);
        Param {
            name_off: u32_at(w, 0),
            type_id: u32_at(w, 4),
        }
    }
    #[inline]
    pub fn params(&self) -> impl Iterator<Item = Param> + 'a {
        let rec = *self;
        (0..self.vlen() as usize).map(move |i| rec.param(i))
    }
    /// Enumerator `i` of an ENUM or ENUM64.
    #[inline]
    pub fn enumerator(&self, i: usize) -> Enumerator {
        if self.kind() == Kind::ENUM64 {
            let w = self.tail_bytes::<12>(i * 12);
            Enumerator {
                name_off: u32_at(w, 0),
                value: u32_at(w, 4) as u64 | (u32_at(w, 8) as u64) << 32,
            }
        } else {
            let w = self.tail_bytes::<8>(i * 8);
            Enumerator {
                name_off: u32_at(w, 0),
                value: u32_at(w, 4) as u64,
            }
        }
    }
    #[inline]
    pub fn enumerators(&self) -> impl Iterator<Item = Enumerator> + 'a {
        let rec = *self;
        (0..self.vlen() as usize).map(move |i| rec.enumerator(i))
    }
    /// Entry `i` of a DATASEC.
    #[inline]
    pub fn secinfo(&self, i: usize) -> SecInfo {
        let w = self.tail_bytes::<12>(i * 12);
        SecInfo {
            type_id: u32_at(w, 0),
            offset: u32_at(w, 4),
            size: u32_at(w, 8),
        }
    }
    #[inline]
    pub fn secinfos(&self) -> impl Iterator<Item = SecInfo> + 'a {
        let rec = *self;
        (0..self.vlen() as usize).map(move |i| rec.secinfo(i))
    }

    /// Byte offset, inside the record, of vlen element `i`.
    #[inline]
    pub fn element_pos(&self, i: usize) -> u32 {
        let t = self.kind().tail().unwrap_or(super::kind::Tail {
            fixed: 0,
            per_vlen: 0,
        });
        COMMON_LEN + t.fixed + t.per_vlen * i as u32
    }
}

/// Pulls records one at a time from a type section, the way the kernel's
/// meta pass walks it: the common header first, then a tail whose length is
/// only known once the kind has been checked.
#[derive(Clone, Debug)]
pub struct RecordCursor<'a> {
    types: &'a [u8],
    pos: usize,
    shapes: Shapes,
}

impl<'a> RecordCursor<'a> {
    /// A cursor that sizes records with the kernel's kind table.
    #[inline]
    pub fn new(types: &'a [u8]) -> Self {
        RecordCursor::with_shapes(types, Shapes::KERNEL)
    }
    /// A cursor that sizes records with `shapes`.
    #[inline]
    pub fn with_shapes(types: &'a [u8], shapes: Shapes) -> Self {
        RecordCursor {
            types,
            pos: 0,
            shapes,
        }
    }
    /// The same cursor moved to `pos`, which must be a record start (or the
    /// end) found by an earlier walk.
    #[inline]
    pub fn starting_at(mut self, pos: u32) -> Self {
        self.pos = (pos as usize).min(self.types.len());
        self
    }
    /// Offset of the next record inside the type section.
    #[inline]
    pub fn pos(&self) -> u32 {
        self.pos as u32
    }
    /// Bytes left in the type section.
    #[inline]
    pub fn left(&self) -> u32 {
        (self.types.len() - self.pos) as u32
    }
    #[inline]
    pub fn at_end(&self) -> bool {
        self.pos >= self.types.len()
    }
    /// The common header of the next record, if 12 bytes remain.
    #[inline]
    pub fn peek_common(&self) -> Option<CommonType> {
        self.common_at(self.pos)
    }

    /// The common header of the record at `pos`, if 12 bytes remain there.
    /// The meta pass's per-record read: three words, no parser combinator
    /// (whose inlining decided that loop's speed).
    #[inline]
    fn common_at(&self, pos: usize) -> Option<CommonType> {
        let w = self.types.get(pos..pos + COMMON_LEN as usize)?;
        Some(CommonType::from_words(
            w.try_into().ok()?,
            self.shapes.wide_info(),
        ))
    }
    /// The next record if it is whole (known kind, tail present), moving
    /// past it; `None` at the end or at a record that cannot be read whole.
    pub fn next_whole(&mut self) -> Option<TypeRecord<'a>> {
        let common = self.peek_common()?;
        let tail = common.tail_len_in(&self.shapes)?;
        if self.left() - COMMON_LEN < tail {
            return None;
        }
        Some(self.take(common, tail))
    }

    /// Moves past at most `max` whole records, stopping once the cursor is
    /// at or past `at` (or the end), and counts them; `None` at a record that
    /// cannot be sized whole (where [`RecordCursor::next_whole`] stops).
    /// Reads only headers.
    pub fn skip_until(&mut self, at: u32, max: u32) -> Option<u32> {
        let mut skipped = 0u32;
        while skipped < max && self.pos < at as usize && self.pos < self.types.len() {
            self.pos = self.whole_record_end(self.pos)?;
            skipped += 1;
        }
        Some(skipped)
    }

    /// Where the record at `pos` ends, if it is whole: its header fits, its
    /// kind is known and its tail fits. Reads no tail.
    #[inline]
    fn whole_record_end(&self, pos: usize) -> Option<usize> {
        let common = self.common_at(pos)?;
        let tail = common.tail_len_in(&self.shapes)? as usize;
        let end = pos + COMMON_LEN as usize + tail;
        (end <= self.types.len()).then_some(end)
    }

    /// The record at the cursor with only as much of its tail as is there
    /// (a record cut short shows its header alone); does not move.
    pub fn peek_partial(&self) -> Option<TypeRecord<'a>> {
        let common = self.peek_common()?;
        let tail = common.tail_len_in(&self.shapes).unwrap_or(0);
        let tail = if self.left() - COMMON_LEN >= tail { tail } else { 0 };
        let start = self.pos + COMMON_LEN as usize;
        Some(TypeRecord {
            pos: self.pos as u32,
            common,
            tail: &self.types[start..start + tail as usize],
        })
    }

    /// Takes the record at the cursor with a tail of `tail_len` bytes
    /// (the caller has checked they are there) and moves past it.
    #[inline]
    pub fn take(&mut self, common: CommonType, tail_len: u32) -> TypeRecord<'a> {
        let start = self.pos + COMMON_LEN as usize;
        let end = start + tail_len as usize;
        let rec = TypeRecord {
            pos: self.pos as u32,
            common,
            tail: &self.types[start..end],
        };
        self.pos = end;
        rec
    }
}
