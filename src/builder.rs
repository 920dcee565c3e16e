//! `BtfBuilder`: writes BTF blobs from typed calls, so tests, fixtures and
//! generators read as small programs instead of arrays of words.
//!
//! Every call appends one record and returns its type id. Names are added to
//! the string section on first use (deduplicated, in first-use order, as
//! pahole and clang do). For malformed cases, [`BtfBuilder::record`] writes
//! any header and tail words, [`BtfBuilder::raw_string`] any string bytes, and
//! [`BtfBuilder::build_with`] any header.

use crate::raw::{Header, Kind, Shapes};
use std::collections::HashMap;

pub const INT_SIGNED: u8 = 1;
pub const INT_CHAR: u8 = 2;
pub const INT_BOOL: u8 = 4;

pub const FUNC_STATIC: u16 = 0;
pub const FUNC_GLOBAL: u16 = 1;
pub const FUNC_EXTERN: u16 = 2;

pub const VAR_STATIC: u32 = 0;
pub const VAR_GLOBAL: u32 = 1;
pub const VAR_EXTERN: u32 = 2;

/// `info` word from its parts.
pub fn info(kind: Kind, vlen: u16, kflag: bool) -> u32 {
    (u32::from(kflag) << 31) | ((kind.0 as u32) << 24) | vlen as u32
}

/// INT's `int_data` word.
pub fn int_data(encoding: u8, offset: u8, bits: u8) -> u32 {
    ((encoding as u32) << 24) | ((offset as u32) << 16) | bits as u32
}

#[derive(Clone, Debug)]
pub struct BtfBuilder {
    types: Vec<u8>,
    strings: Vec<u8>,
    index: HashMap<Vec<u8>, u32>,
    next_id: u32,
}

impl Default for BtfBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// A struct/union member: name, type, bit offset (and bitfield size for
/// kind_flag composites).
#[derive(Clone, Copy, Debug)]
pub struct M<'n> {
    pub name: &'n str,
    pub ty: u32,
    pub bits: u32,
    pub bitfield: u8,
}

/// Member at a bit offset.
pub fn m(name: &str, ty: u32, bits: u32) -> M<'_> {
    M {
        name,
        ty,
        bits,
        bitfield: 0,
    }
}

/// kind_flag member with a bitfield size.
pub fn mb(name: &str, ty: u32, bits: u32, bitfield: u8) -> M<'_> {
    M {
        name,
        ty,
        bits,
        bitfield,
    }
}

impl BtfBuilder {
    pub fn new() -> Self {
        BtfBuilder {
            types: Vec::new(),
            strings: vec![0],
            index: HashMap::new(),
            next_id: 1,
        }
    }

    /// Id the next record will get.
    pub fn next_id(&self) -> u32 {
        self.next_id
    }

    /// Offset of `s` in the string section, adding it on first use; "" is 0.
    pub fn string(&mut self, s: impl AsRef<[u8]>) -> u32 {
        let s = s.as_ref();
        if s.is_empty() {
            return 0;
        }
        if let Some(&off) = self.index.get(s) {
            return off;
        }
        let off = self.raw_string(s);
        self.strings.push(0);
        self.index.insert(s.to_vec(), off);
        off
    }

    /// Appends bytes to the string section as they are (no NUL added);
    /// returns their offset.
    pub fn raw_string(&mut self, bytes: &[u8]) -> u32 {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(bytes);
        off
    }

    /// Current string section length.
    pub fn strings_len(&self) -> u32 {
        self.strings.len() as u32
    }

    /// Appends raw 32-bit words to the type section (for truncated records).
    pub fn raw_words(&mut self, words: &[u32]) {
        for w in words {
            self.types.extend_from_slice(&w.to_le_bytes());
        }
    }

    /// Appends raw bytes to the type section.
    pub fn raw_type_bytes(&mut self, bytes: &[u8]) {
        self.types.extend_from_slice(bytes);
    }

    /// Appends one record: common header plus tail words.
    pub fn record(&mut self, name_off: u32, info: u32, size_type: u32, tail: &[u32]) -> u32 {
        self.raw_words(&[name_off, info, size_type]);
        self.raw_words(tail);
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn named(&mut self, kind: Kind, name: &str, vlen: u16, kflag: bool, size_type: u32, tail: &[u32]) -> u32 {
        let n = self.string(name);
        self.record(n, info(kind, vlen, kflag), size_type, tail)
    }

    pub fn int(&mut self, name: &str, size: u32, bits: u8, encoding: u8) -> u32 {
        self.int_raw(name, size, int_data(encoding, 0, bits))
    }

    pub fn int_raw(&mut self, name: &str, size: u32, int_data: u32) -> u32 {
        self.named(Kind::INT, name, 0, false, size, &[int_data])
    }

    pub fn ptr(&mut self, target: u32) -> u32 {
        self.named(Kind::PTR, "", 0, false, target, &[])
    }
    pub fn const_(&mut self, target: u32) -> u32 {
        self.named(Kind::CONST, "", 0, false, target, &[])
    }
    pub fn volatile(&mut self, target: u32) -> u32 {
        self.named(Kind::VOLATILE, "", 0, false, target, &[])
    }
    pub fn restrict(&mut self, target: u32) -> u32 {
        self.named(Kind::RESTRICT, "", 0, false, target, &[])
    }
    pub fn typedef(&mut self, name: &str, target: u32) -> u32 {
        self.named(Kind::TYPEDEF, name, 0, false, target, &[])
    }
    pub fn type_tag(&mut self, value: &str, target: u32) -> u32 {
        self.named(Kind::TYPE_TAG, value, 0, false, target, &[])
    }
    /// A TYPE_TAG with kind_flag set (`__attribute__((btf_type_tag))` as an attribute).
    pub fn type_tag_attr(&mut self, value: &str, target: u32) -> u32 {
        self.named(Kind::TYPE_TAG, value, 0, true, target, &[])
    }

    pub fn array(&mut self, elem: u32, index: u32, nelems: u32) -> u32 {
        self.named(Kind::ARRAY, "", 0, false, 0, &[elem, index, nelems])
    }

    fn composite(&mut self, kind: Kind, name: &str, size: u32, kflag: bool, members: &[M<'_>]) -> u32 {
        // The type's name first, then its members': first-use order.
        self.string(name);
        let mut tail = Vec::with_capacity(members.len() * 3);
        for mem in members {
            let off = if kflag {
                ((mem.bitfield as u32) << 24) | (mem.bits & 0xff_ffff)
            } else {
                mem.bits
            };
            tail.extend_from_slice(&[self.string(mem.name), mem.ty, off]);
        }
        self.named(kind, name, members.len() as u16, kflag, size, &tail)
    }

    pub fn struct_(&mut self, name: &str, size: u32, members: &[M<'_>]) -> u32 {
        self.composite(Kind::STRUCT, name, size, false, members)
    }
    /// A kind_flag struct: members carry bitfield sizes.
    pub fn struct_kflag(&mut self, name: &str, size: u32, members: &[M<'_>]) -> u32 {
        self.composite(Kind::STRUCT, name, size, true, members)
    }
    pub fn union_(&mut self, name: &str, size: u32, members: &[M<'_>]) -> u32 {
        self.composite(Kind::UNION, name, size, false, members)
    }
    pub fn union_kflag(&mut self, name: &str, size: u32, members: &[M<'_>]) -> u32 {
        self.composite(Kind::UNION, name, size, true, members)
    }

    /// ENUM; `signed` sets kind_flag.
    pub fn enum_(&mut self, name: &str, size: u32, signed: bool, values: &[(&str, i64)]) -> u32 {
        self.string(name);
        let mut tail = Vec::new();
        for (n, v) in values {
            tail.extend_from_slice(&[self.string(n), *v as u32]);
        }
        self.named(Kind::ENUM, name, values.len() as u16, signed, size, &tail)
    }

    pub fn enum64(&mut self, name: &str, size: u32, signed: bool, values: &[(&str, i64)]) -> u32 {
        self.string(name);
        let mut tail = Vec::new();
        for (n, v) in values {
            let v = *v as u64;
            tail.extend_from_slice(&[self.string(n), v as u32, (v >> 32) as u32]);
        }
        self.named(Kind::ENUM64, name, values.len() as u16, signed, size, &tail)
    }

    pub fn fwd(&mut self, name: &str, is_union: bool) -> u32 {
        self.named(Kind::FWD, name, 0, is_union, 0, &[])
    }

    pub fn func(&mut self, name: &str, proto: u32, linkage: u16) -> u32 {
        self.named(Kind::FUNC, name, linkage, false, proto, &[])
    }

    /// FUNC_PROTO; a parameter of type 0 named "" is the vararg slot.
    pub fn func_proto(&mut self, ret: u32, params: &[(&str, u32)]) -> u32 {
        let mut tail = Vec::new();
        for (n, t) in params {
            tail.extend_from_slice(&[self.string(n), *t]);
        }
        self.named(Kind::FUNC_PROTO, "", params.len() as u16, false, ret, &tail)
    }

    pub fn var(&mut self, name: &str, ty: u32, linkage: u32) -> u32 {
        self.named(Kind::VAR, name, 0, false, ty, &[linkage])
    }

    /// DATASEC with entries (type, offset, size).
    pub fn datasec(&mut self, name: &str, size: u32, entries: &[(u32, u32, u32)]) -> u32 {
        let tail: Vec<u32> = entries.iter().flat_map(|&(t, o, s)| [t, o, s]).collect();
        self.named(Kind::DATASEC, name, entries.len() as u16, false, size, &tail)
    }

    pub fn float(&mut self, name: &str, size: u32) -> u32 {
        self.named(Kind::FLOAT, name, 0, false, size, &[])
    }

    pub fn decl_tag(&mut self, value: &str, target: u32, component_idx: i32) -> u32 {
        self.named(Kind::DECL_TAG, value, 0, false, target, &[component_idx as u32])
    }
    pub fn decl_tag_attr(&mut self, value: &str, target: u32, component_idx: i32) -> u32 {
        self.named(Kind::DECL_TAG, value, 0, true, target, &[component_idx as u32])
    }

    /// func-addr (P4): a FUNC_ADDR record for `name` at `addr`.
    pub fn func_addr(&mut self, name: &str, proto: u32, addr: u64, flags: u32) -> u32 {
        self.named(
            Kind::FUNC_ADDR,
            name,
            0,
            false,
            proto,
            &[addr as u32, (addr >> 32) as u32, flags],
        )
    }

    /// A self-describing blob (kind-layout, Linux 7.1): 32-byte header,
    /// types, one layout entry per kind `0..=max_kind` of `shapes`, strings.
    pub fn build_self_describing(&self, shapes: &Shapes, max_kind: u8) -> Vec<u8> {
        assemble_with_layout(&self.types, &layout_entries(shapes, max_kind), &self.strings)
    }

    /// The standard header for the current sections.
    pub fn header(&self) -> Header {
        Header {
            magic: crate::raw::header::MAGIC,
            version: 1,
            flags: 0,
            hdr_len: 24,
            type_off: 0,
            type_len: self.types.len() as u32,
            str_off: self.types.len() as u32,
            str_len: self.strings.len() as u32,
        }
    }

    /// header ++ types ++ strings.
    pub fn build(&self) -> Vec<u8> {
        self.build_with(|_| {})
    }

    /// Like [`build`](Self::build) after `edit` changes the header (the
    /// sections are still laid out as types then strings after 24 bytes).
    pub fn build_with(&self, edit: impl FnOnce(&mut Header)) -> Vec<u8> {
        let mut h = self.header();
        edit(&mut h);
        let mut out = Vec::with_capacity(24 + self.types.len() + self.strings.len());
        out.extend_from_slice(&h.to_bytes());
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }

    /// The raw sections, for callers assembling unusual layouts.
    pub fn sections(&self) -> (&[u8], &[u8]) {
        (&self.types, &self.strings)
    }
}

/// The layout section describing kinds `0..=max_kind` as `shapes` sizes them
/// (`u8 info_sz, u8 elem_sz, u16 flags`; unknown kinds and kind 0 are 0/0).
pub fn layout_entries(shapes: &Shapes, max_kind: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 * (max_kind as usize + 1));
    for k in 0..=max_kind {
        let t = shapes.tail(Kind(k)).unwrap_or(crate::raw::Tail {
            fixed: 0,
            per_vlen: 0,
        });
        out.extend_from_slice(&[t.fixed as u8, t.per_vlen as u8, 0, 0]);
    }
    out
}

/// A 32-byte-header blob: types, then the layout section, then strings
/// (the order Linux 7.1's encoders use).
pub fn assemble_with_layout(types: &[u8], layout: &[u8], strings: &[u8]) -> Vec<u8> {
    let h = Header {
        magic: crate::raw::header::MAGIC,
        version: 1,
        flags: 0,
        hdr_len: crate::raw::header::HEADER_LEN_LAYOUT,
        type_off: 0,
        type_len: types.len() as u32,
        str_off: (types.len() + layout.len()) as u32,
        str_len: strings.len() as u32,
    };
    let mut out = Vec::with_capacity(32 + types.len() + layout.len() + strings.len());
    out.extend_from_slice(&h.to_bytes());
    out.extend_from_slice(&(types.len() as u32).to_le_bytes());
    out.extend_from_slice(&(layout.len() as u32).to_le_bytes());
    out.extend_from_slice(types);
    out.extend_from_slice(layout);
    out.extend_from_slice(strings);
    out
}
