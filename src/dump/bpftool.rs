//! The raw text of `bpftool btf dump file FILE format raw` (bpftool v7.1.0,
//! `dump_btf_type` in its `btf.c`): one `[id] KIND 'name'` line per type,
//! the kind's fields after it, then one tab-indented line per member,
//! enumerator, parameter or DATASEC entry.

use super::{int_encoding_str, kind_str, linkage_str, Loaded, Out, Span};
use crate::raw::{Kind, TypeRecord};

/// Appends the dump of every type of `btf` (the split's own types only when
/// it has a base) to `out`.
pub(crate) fn write_raw(btf: &Loaded<'_>, out: &mut Out<'_>) {
    for (id, rec) in btf.records() {
        if out.failed() {
            return;
        }
        type_lines(out, btf, id, &rec);
    }
}

/// `'name'`.
#[inline(always)]
fn quoted(out: &mut Out<'_>, name: Span<'_>) {
    out.byte(b'\'');
    out.span(name);
    out.byte(b'\'');
}

fn type_lines(out: &mut Out<'_>, btf: &Loaded<'_>, id: u32, t: &TypeRecord<'_>) {
    let kind = t.kind();
    out.byte(b'[');
    out.u32(id);
    out.lit(b"] ");
    out.span(kind_str(kind));
    out.byte(b' ');
    quoted(out, btf.name(t.name_off()));
    let vlen = t.vlen();
    match kind {
        Kind::INT => {
            let v = t.int_data();
            out.lit(b" size=");
            out.u32(t.common.size());
            out.lit(b" bits_offset=");
            out.u32((v >> 16) & 0xff);
            out.lit(b" nr_bits=");
            out.u32(v & 0xff);
            out.lit(b" encoding=");
            out.span(int_encoding_str((v >> 24) & 0x0f));
        }
        Kind::PTR | Kind::CONST | Kind::VOLATILE | Kind::RESTRICT | Kind::TYPEDEF | Kind::TYPE_TAG => {
            out.lit(b" type_id=");
            out.u32(t.common.type_id());
        }
        Kind::ARRAY => {
            let a = t.array();
            out.lit(b" type_id=");
            out.u32(a.elem_type);
            out.lit(b" index_type_id=");
            out.u32(a.index_type);
            out.lit(b" nr_elems=");
            out.u32(a.nelems);
        }
        Kind::STRUCT | Kind::UNION => {
            out.lit(b" size=");
            out.u32(t.common.size());
            out.lit(b" vlen=");
            out.u32(vlen);
            let kflag = t.kflag();
            for i in 0..vlen as usize {
                if out.failed() {
                    break;
                }
                let m = t.member(i);
                // With kind_flag the offset word is bitfield_size << 24 | bit_offset.
                let (bit_off, bit_sz) = (
                    crate::verify::meta::member_bit_offset(kflag, m.offset),
                    crate::verify::meta::member_bitfield_size(kflag, m.offset),
                );
                out.lit(b"\n\t");
                quoted(out, btf.name(m.name_off));
                out.lit(b" type_id=");
                out.u32(m.type_id);
                out.lit(b" bits_offset=");
                out.u32(bit_off);
                if bit_sz != 0 {
                    out.lit(b" bitfield_size=");
                    out.u32(bit_sz);
                }
            }
        }
        Kind::ENUM | Kind::ENUM64 => {
            // 7.1.0 prints kind_flag as the enum's signedness.
            let signed = t.kflag();
            if signed {
                out.lit(b" encoding=SIGNED size=");
            } else {
                out.lit(b" encoding=UNSIGNED size=");
            }
            out.u32(t.common.size());
            out.lit(b" vlen=");
            out.u32(vlen);
            let wide = kind == Kind::ENUM64;
            for i in 0..vlen as usize {
                if out.failed() {
                    break;
                }
                let e = t.enumerator(i);
                out.lit(b"\n\t");
                quoted(out, btf.name(e.name_off));
                out.lit(b" val=");
                match (wide, signed) {
                    (false, false) => out.u32(e.value as u32),
                    (false, true) => out.i64(i64::from(e.value as u32 as i32)),
                    (true, false) => {
                        out.u64(e.value);
                        out.lit(b"ULL");
                    }
                    (true, true) => {
                        out.i64(e.value as i64);
                        out.lit(b"LL");
                    }
                }
            }
        }
        Kind::FWD => {
            if t.kflag() {
                out.lit(b" fwd_kind=union");
            } else {
                out.lit(b" fwd_kind=struct");
            }
        }
        Kind::FUNC => {
            out.lit(b" type_id=");
            out.u32(t.common.type_id());
            out.lit(b" linkage=");
            out.span(linkage_str(vlen));
        }
        Kind::FUNC_PROTO => {
            out.lit(b" ret_type_id=");
            out.u32(t.common.type_id());
            out.lit(b" vlen=");
            out.u32(vlen);
            for i in 0..vlen as usize {
                if out.failed() {
                    break;
                }
                let p = t.param(i);
                out.lit(b"\n\t");
                quoted(out, btf.name(p.name_off));
                out.lit(b" type_id=");
                out.u32(p.type_id);
            }
        }
        Kind::VAR => {
            out.lit(b" type_id=");
            out.u32(t.common.type_id());
            out.lit(b", linkage=");
            out.span(linkage_str(t.var_linkage()));
        }
        Kind::DATASEC => {
            out.lit(b" size=");
            out.u32(t.common.size());
            out.lit(b" vlen=");
            out.u32(vlen);
            for i in 0..vlen as usize {
                if out.failed() {
                    break;
                }
                let v = t.secinfo(i);
                out.lit(b"\n\ttype_id=");
                out.u32(v.type_id);
                out.lit(b" offset=");
                out.u32(v.offset);
                out.lit(b" size=");
                out.u32(v.size);
                // The entry's type, when its id exists (0 is void: UNKNOWN).
                if let Some((vk, vname)) = btf.kind_and_name(v.type_id) {
                    out.lit(b" (");
                    out.span(kind_str(vk));
                    out.byte(b' ');
                    quoted(out, btf.name(vname));
                    out.byte(b')');
                }
            }
        }
        Kind::FLOAT => {
            out.lit(b" size=");
            out.u32(t.common.size());
        }
        Kind::DECL_TAG => {
            out.lit(b" type_id=");
            out.u32(t.common.type_id());
            out.lit(b" component_idx=");
            out.i64(t.component_idx().into());
        }
        _ => {}
    }
    out.byte(b'\n');
}
