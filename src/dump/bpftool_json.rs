//! The JSON of `bpftool -j btf dump file FILE` (and `-p`, pretty): one
//! object `{"types":[...]}` whose elements carry, in bpftool's order, `id`,
//! `kind`, `name`, then the kind's fields, with `members`, `values`,
//! `params` or `vars` arrays for kinds with elements. Output goes through a
//! writer with the same comma, newline and indentation rules as bpftool's
//! `json_writer.c`, so the bytes match in both layouts.

use super::{int_encoding_str, kind_str, linkage_str, Loaded, Out, Span};
use crate::raw::{Kind, TypeRecord};

/// Appends the JSON document (with bpftool's final `\n`) to `out`.
pub(crate) fn write_json(btf: &Loaded<'_>, out: &mut Out<'_>, pretty: bool) {
    // The layout is a type parameter so the compact writer carries no
    // pretty-printing branches.
    if pretty {
        write_doc::<true>(btf, out)
    } else {
        write_doc::<false>(btf, out)
    }
}

fn write_doc<const PRETTY: bool>(btf: &Loaded<'_>, out: &mut Out<'_>) {
    let mut w = Writer::<PRETTY> {
        out,
        depth: 0,
        comma: false,
    };
    w.begin(b'{');
    w.name(b"types");
    w.begin(b'[');
    for (id, rec) in btf.records() {
        if w.out.failed() {
            return;
        }
        type_object(&mut w, btf, id, &rec);
    }
    w.end(b']');
    w.end(b'}');
    w.out.byte(b'\n');
}

fn type_object<const PRETTY: bool>(
    w: &mut Writer<'_, '_, PRETTY>,
    btf: &Loaded<'_>,
    id: u32,
    t: &TypeRecord<'_>,
) {
    let kind = t.kind();
    let vlen = t.vlen();
    w.begin(b'{');
    w.uint_field(b"id", id.into());
    w.str_field(b"kind", kind_str(kind));
    w.str_field(b"name", btf.name(t.name_off()));
    match kind {
        Kind::INT => {
            let v = t.int_data();
            w.uint_field(b"size", t.common.size().into());
            w.uint_field(b"bits_offset", ((v >> 16) & 0xff).into());
            w.uint_field(b"nr_bits", (v & 0xff).into());
            w.str_field(b"encoding", int_encoding_str((v >> 24) & 0x0f));
        }
        Kind::PTR | Kind::CONST | Kind::VOLATILE | Kind::RESTRICT | Kind::TYPEDEF | Kind::TYPE_TAG => {
            w.uint_field(b"type_id", t.common.type_id().into());
        }
        Kind::ARRAY => {
            let a = t.array();
            w.uint_field(b"type_id", a.elem_type.into());
            w.uint_field(b"index_type_id", a.index_type.into());
            w.uint_field(b"nr_elems", a.nelems.into());
        }
        Kind::STRUCT | Kind::UNION => {
            w.uint_field(b"size", t.common.size().into());
            w.uint_field(b"vlen", vlen.into());
            w.name(b"members");
            w.begin(b'[');
            let kflag = t.kflag();
            for i in 0..vlen as usize {
                if w.out.failed() {
                    break;
                }
                let m = t.member(i);
                let (bit_off, bit_sz) = (
                    crate::verify::meta::member_bit_offset(kflag, m.offset),
                    crate::verify::meta::member_bitfield_size(kflag, m.offset),
                );
                w.begin(b'{');
                w.str_field(b"name", btf.name(m.name_off));
                w.uint_field(b"type_id", m.type_id.into());
                w.uint_field(b"bits_offset", bit_off.into());
                if bit_sz != 0 {
                    w.uint_field(b"bitfield_size", bit_sz.into());
                }
                w.end(b'}');
            }
            w.end(b']');
        }
        Kind::ENUM | Kind::ENUM64 => {
            let signed = t.kflag();
            w.str_field(
                b"encoding",
                lit_span(if signed { b"SIGNED" } else { b"UNSIGNED" }),
            );
            w.uint_field(b"size", t.common.size().into());
            w.uint_field(b"vlen", vlen.into());
            w.name(b"values");
            w.begin(b'[');
            let wide = kind == Kind::ENUM64;
            for i in 0..vlen as usize {
                if w.out.failed() {
                    break;
                }
                let e = t.enumerator(i);
                w.begin(b'{');
                w.str_field(b"name", btf.name(e.name_off));
                // bpftool passes ENUM's `__s32 val` to 64-bit writers: an
                // unsigned enum's negative value comes out sign-extended.
                let v = if wide {
                    e.value
                } else {
                    e.value as u32 as i32 as i64 as u64
                };
                if signed {
                    w.int_field(b"val", v as i64);
                } else {
                    w.uint_field(b"val", v);
                }
                w.end(b'}');
            }
            w.end(b']');
        }
        Kind::FWD => {
            w.str_field(
                b"fwd_kind",
                lit_span(if t.kflag() { b"union" } else { b"struct" }),
            );
        }
        Kind::FUNC => {
            w.uint_field(b"type_id", t.common.type_id().into());
            w.str_field(b"linkage", linkage_str(vlen));
        }
        Kind::FUNC_PROTO => {
            w.uint_field(b"ret_type_id", t.common.type_id().into());
            w.uint_field(b"vlen", vlen.into());
            w.name(b"params");
            w.begin(b'[');
            for i in 0..vlen as usize {
                if w.out.failed() {
                    break;
                }
                let p = t.param(i);
                w.begin(b'{');
                w.str_field(b"name", btf.name(p.name_off));
                w.uint_field(b"type_id", p.type_id.into());
                w.end(b'}');
            }
            w.end(b']');
        }
        Kind::VAR => {
            w.uint_field(b"type_id", t.common.type_id().into());
            w.str_field(b"linkage", linkage_str(t.var_linkage()));
        }
        Kind::DATASEC => {
            w.uint_field(b"size", t.common.size().into());
            w.uint_field(b"vlen", vlen.into());
            w.name(b"vars");
            w.begin(b'[');
            for i in 0..vlen as usize {
                if w.out.failed() {
                    break;
                }
                let v = t.secinfo(i);
                w.begin(b'{');
                w.uint_field(b"type_id", v.type_id.into());
                w.uint_field(b"offset", v.offset.into());
                w.uint_field(b"size", v.size.into());
                w.end(b'}');
            }
            w.end(b']');
        }
        Kind::FLOAT => {
            w.uint_field(b"size", t.common.size().into());
        }
        Kind::DECL_TAG => {
            w.uint_field(b"type_id", t.common.type_id().into());
            w.int_field(b"component_idx", t.component_idx().into());
        }
        _ => {}
    }
    w.end(b'}');
}

fn lit_span(s: &'static [u8]) -> Span<'static> {
    Span { src: s, len: s.len() }
}

/// bpftool's `json_writer`: `comma` is its `sep` (a comma is owed before
/// the next item), `depth` its nesting for pretty indentation.
struct Writer<'o, 'w, const PRETTY: bool> {
    out: &'o mut Out<'w>,
    depth: u32,
    comma: bool,
}

impl<const PRETTY: bool> Writer<'_, '_, PRETTY> {
    /// `jsonw_eor`: the owed comma, if any.
    #[inline(always)]
    fn eor(&mut self) {
        if self.comma {
            self.out.byte(b',');
        }
        self.comma = true;
    }
    /// `jsonw_eol`: newline and indent, pretty only.
    #[inline(always)]
    fn eol(&mut self) {
        if PRETTY {
            self.out.byte(b'\n');
            for _ in 0..self.depth {
                self.out.lit(b"    ");
            }
        }
    }
    #[inline(always)]
    fn begin(&mut self, c: u8) {
        self.eor();
        self.out.byte(c);
        self.depth += 1;
        self.comma = false;
    }
    #[inline(always)]
    fn end(&mut self, c: u8) {
        self.depth -= 1;
        if self.comma {
            self.eol();
        }
        self.out.byte(c);
        self.comma = true;
    }
    /// `jsonw_name` (keys here are plain words: nothing to escape).
    #[inline(always)]
    fn name<const N: usize>(&mut self, key: &[u8; N]) {
        self.eor();
        self.eol();
        self.comma = false;
        self.out.byte(b'"');
        self.out.lit(key);
        if PRETTY {
            self.out.lit(b"\": ");
        } else {
            self.out.lit(b"\":");
        }
    }
    /// `jsonw_puts` as built into Debian's bpftool, quirk included: `\`
    /// becomes `\n`; control bytes other than `\t \n \r \f \b` pass through.
    #[inline]
    fn puts(&mut self, s: Span<'_>) {
        self.out.byte(b'"');
        let bytes = s.bytes();
        if !bytes.iter().any(|&b| NEEDS_ESCAPE[b as usize]) {
            self.out.span(s);
        } else {
            for &b in bytes {
                match b {
                    b'\t' => self.out.lit(b"\\t"),
                    b'\n' => self.out.lit(b"\\n"),
                    b'\r' => self.out.lit(b"\\r"),
                    0x0c => self.out.lit(b"\\f"),
                    0x08 => self.out.lit(b"\\b"),
                    b'\\' => self.out.lit(b"\\n"),
                    b'"' => self.out.lit(b"\\\""),
                    _ => self.out.byte(b),
                }
            }
        }
        self.out.byte(b'"');
    }
    #[inline(always)]
    fn str_field<const N: usize>(&mut self, key: &[u8; N], v: Span<'_>) {
        self.name(key);
        self.eor();
        self.puts(v);
    }
    #[inline(always)]
    fn uint_field<const N: usize>(&mut self, key: &[u8; N], v: u64) {
        self.name(key);
        self.eor();
        self.out.u64(v);
    }
    #[inline(always)]
    fn int_field<const N: usize>(&mut self, key: &[u8; N], v: i64) {
        self.name(key);
        self.eor();
        self.out.i64(v);
    }
}

/// Bytes `jsonw_puts` rewrites.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t[0x0c] = true;
    t[0x08] = true;
    t[b'\\' as usize] = true;
    t[b'"' as usize] = true;
    t
};
