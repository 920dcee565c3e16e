//! Faults the meta pass (`btf_check_all_metas`) must catch: one hidden
//! record each, after any valid helpers it needs.

use super::{at, Expect, Fault};
use crate::builder::{info, int_data};
use crate::profile::Features;
use crate::raw::Kind;
use crate::smith::Gen;
use crate::verify::error::{errno, Check, Stage};
use arbitrary::{Result, Unstructured};

fn meta(check: Check, id: u32) -> Expect {
    at(Stage::Meta, check, errno::EINVAL, id)
}

/// A name offset no string section here reaches.
fn bad_offset(u: &mut Unstructured<'_>) -> Result<u32> {
    u.int_in_range(0x4000_0000..=u32::MAX)
}

/// A name the identifier rule rejects.
fn non_identifier(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    Ok(
        u.choose(&[&b"1st"[..], b"a-b", b"a b", b"caf\xc3\xa9", b"x\x7f", b"$"])?
            .to_vec(),
    )
}

/// Members (name, type, bit offset) that pass every member check: regular
/// INTs at their natural offsets. Returns them and the struct size.
fn good_members(g: &mut Gen<'_>, u: &mut Unstructured<'_>, count: u32) -> Result<(Vec<u32>, u32)> {
    let int = g.regular_int(u)?;
    let size = g.fact(int).size.unwrap_or(4);
    let mut tail = Vec::new();
    for i in 0..count {
        let name = g.b.string(format!("m{i}"));
        tail.extend_from_slice(&[name, int, i * size * 8]);
    }
    Ok((tail, count * size))
}

pub(super) fn construct(f: Fault, g: &mut Gen<'_>, u: &mut Unstructured<'_>) -> Result<Expect> {
    let int32 = int_data(1, 0, 32);
    let int_info = info(Kind::INT, 0, false);
    Ok(match f {
        Fault::RecordTruncated => {
            let left = u.int_in_range(1..=11u32)?;
            let bytes: Vec<u8> = (0..left).map(|_| u.arbitrary()).collect::<Result<_>>()?;
            let id = g.b.next_id();
            g.b.raw_type_bytes(&bytes);
            meta(Check::RecordTruncated { left }, id)
        }
        Fault::TailTruncated => {
            let kind = *u.choose(&[
                Kind::INT,
                Kind::ARRAY,
                Kind::STRUCT,
                Kind::UNION,
                Kind::ENUM,
                Kind::FUNC_PROTO,
            ])?;
            let (fixed, per) = kind.tail().map_or((0, 0), |t| (t.fixed, t.per_vlen));
            let vlen = if per > 0 { u.int_in_range(1..=64u16)? } else { 0 };
            let needed = fixed + per * vlen as u32;
            let words = u.int_in_range(0..=(needed - 1) / 4)?;
            let id = g.emit_raw(0, info(kind, vlen, false), 4, &vec![0; words as usize]);
            meta(
                Check::TailTruncated {
                    left: words * 4,
                    needed,
                },
                id,
            )
        }
        Fault::InfoReservedBits => {
            let bit = *u.choose(&[16u32, 17, 18, 19, 20, 21, 22, 23, 29, 30])?;
            let info = int_info | 1 << bit;
            meta(
                Check::InfoReservedBits { info },
                g.emit_hidden(b"int", info, 4, &[int32]),
            )
        }
        Fault::UnknownKind => {
            // Above the last known kind, within the kind bits the profile's
            // info mask has (4 before 5.13: bit 28 is a reserved bit then).
            let lo = g.profile.limits.max_kind + 1;
            let hi = if g.profile.has(Features::FLOAT) { 31 } else { 15 };
            let kind = if u.ratio(1, 8)? || lo > hi {
                0
            } else {
                u.int_in_range(lo..=hi)?
            };
            let id = g.emit_raw(0, (kind as u32) << 24, 0, &[]);
            meta(Check::UnknownKind { kind }, id)
        }
        Fault::NameOffsetInvalid => {
            let off = bad_offset(u)?;
            meta(
                Check::NameOffsetInvalid { off },
                g.emit_raw(off, int_info, 4, &[int32]),
            )
        }
        Fault::IntVlen => {
            let vlen = u.int_in_range(1..=u16::MAX)?;
            meta(
                Check::VlenNotZero,
                g.emit_hidden(b"int", info(Kind::INT, vlen, false), 4, &[int32]),
            )
        }
        Fault::IntKflag => meta(
            Check::KflagNotAllowed,
            g.emit_hidden(b"int", info(Kind::INT, 0, true), 4, &[int32]),
        ),
        Fault::IntDataReserved => {
            let data = int32 | (u.int_in_range(1..=0xfu32)? << 28);
            meta(
                Check::IntDataReservedBits { data },
                g.emit_hidden(b"int", int_info, 4, &[data]),
            )
        }
        Fault::IntBitsOver128 => {
            let offset = u.int_in_range(1..=127u8)?;
            let bits = u.int_in_range(129 - offset..=255)?;
            let id = g.emit_hidden(b"i", int_info, 16, &[int_data(0, offset, bits)]);
            meta(Check::IntBitsOver128, id)
        }
        Fault::IntBitsOverSize => {
            let size = *u.choose(&[1u32, 2, 4, 8])?;
            let bits = u.int_in_range(size as u8 * 8 + 1..=128)?;
            meta(
                Check::IntBitsOverSize,
                g.emit_hidden(b"i", int_info, size, &[int_data(0, 0, bits)]),
            )
        }
        Fault::IntEncoding => {
            let enc = *u.choose(&[3u8, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])?;
            let id = g.emit_hidden(b"i", int_info, 4, &[int_data(enc, 0, 32)]);
            at(Stage::Meta, Check::IntEncodingUnsupported, errno::ENOTSUPP, id)
        }
        Fault::PtrNamed => {
            let target = g.regular_int(u)?;
            meta(
                Check::NameInvalid,
                g.emit_hidden(b"p", info(Kind::PTR, 0, false), target, &[]),
            )
        }
        Fault::PtrKflag => {
            let target = g.regular_int(u)?;
            meta(
                Check::KflagNotAllowed,
                g.emit_hidden(b"", info(Kind::PTR, 0, true), target, &[]),
            )
        }
        Fault::RefTypeIdRange => {
            let mut kinds = vec![
                Kind::PTR,
                Kind::TYPEDEF,
                Kind::CONST,
                Kind::VOLATILE,
                Kind::RESTRICT,
            ];
            if g.cfg.allows(&g.profile, Kind::TYPE_TAG) {
                kinds.push(Kind::TYPE_TAG);
            }
            let kind = *u.choose(&kinds)?;
            let name: &[u8] = match kind {
                Kind::TYPEDEF => b"t",
                Kind::TYPE_TAG => b"tag",
                _ => b"",
            };
            let target = u.int_in_range(0x10_0000..=u32::MAX)?;
            meta(
                Check::TypeIdInvalid,
                g.emit_hidden(name, info(kind, 0, false), target, &[]),
            )
        }
        Fault::ModifierNamed => {
            let kind = *u.choose(&[Kind::CONST, Kind::VOLATILE, Kind::RESTRICT])?;
            let target = g.regular_int(u)?;
            meta(
                Check::NameInvalid,
                g.emit_hidden(b"q", info(kind, 0, false), target, &[]),
            )
        }
        Fault::TypedefNameInvalid => {
            let target = g.regular_int(u)?;
            let name = if u.arbitrary()? {
                Vec::new()
            } else {
                non_identifier(u)?
            };
            meta(
                Check::NameInvalid,
                g.emit_hidden(&name, info(Kind::TYPEDEF, 0, false), target, &[]),
            )
        }
        Fault::ArrayNamed | Fault::ArraySizeNotZero | Fault::ArrayElemZero | Fault::ArrayIndexZero => {
            let int = g.regular_int(u)?;
            let (name, size, elem, index, check): (&[u8], u32, u32, u32, Check) = match f {
                Fault::ArrayNamed => (b"a", 0, int, int, Check::NameInvalid),
                Fault::ArraySizeNotZero => (
                    b"",
                    u.int_in_range(1..=u32::MAX)?,
                    int,
                    int,
                    Check::ArraySizeNotZero,
                ),
                Fault::ArrayElemZero => (b"", 0, 0, int, Check::ArrayElemInvalid),
                _ => (b"", 0, int, 0, Check::ArrayIndexInvalid),
            };
            meta(
                check,
                g.emit_hidden(name, info(Kind::ARRAY, 0, false), size, &[elem, index, 4]),
            )
        }
        Fault::CompositeNameInvalid => {
            let count = u.int_in_range(0..=2)?;
            let (tail, size) = good_members(g, u, count)?;
            let kind = *u.choose(&[Kind::STRUCT, Kind::UNION])?;
            let (tail, size) = if kind == Kind::UNION {
                (Vec::new(), size)
            } else {
                (tail, size)
            };
            let name = non_identifier(u)?;
            meta(
                Check::NameInvalid,
                g.emit_hidden(&name, info(kind, (tail.len() / 3) as u16, false), size, &tail),
            )
        }
        Fault::MemberNameOffset
        | Fault::MemberNameInvalid
        | Fault::MemberTypeZero
        | Fault::UnionMemberOffset
        | Fault::MemberOffsetBackwards
        | Fault::MemberBeyondSize => member_fault(f, g, u)?,
        Fault::EnumSize => {
            let kind = if g.cfg.allows(&g.profile, Kind::ENUM64) && u.arbitrary()? {
                Kind::ENUM64
            } else {
                Kind::ENUM
            };
            let size = *u.choose(&[0u32, 3, 5, 6, 7, 12, 16, 32])?;
            meta(
                Check::EnumSizeUnexpected,
                g.emit_hidden(b"e", info(kind, 0, false), size, &[]),
            )
        }
        Fault::EnumeratorNameEmpty | Fault::EnumeratorNameOffset => {
            let before = u.int_in_range(0..=3u32)?;
            let mut tail = Vec::new();
            for i in 0..before {
                tail.extend_from_slice(&[g.b.string(format!("E{i}")), i]);
            }
            let (name_off, check) = if f == Fault::EnumeratorNameEmpty {
                (0, Check::EnumeratorNameInvalid)
            } else {
                let off = bad_offset(u)?;
                (off, Check::EnumeratorNameOffsetInvalid { off })
            };
            tail.extend_from_slice(&[name_off, 7]);
            let id = g.emit_hidden(b"e", info(Kind::ENUM, before as u16 + 1, false), 4, &tail);
            meta(check, id)
        }
        Fault::FwdTypeNotZero => {
            let t = u.int_in_range(1..=u32::MAX)?;
            meta(
                Check::FwdTypeNotZero,
                g.emit_hidden(b"f", info(Kind::FWD, 0, false), t, &[]),
            )
        }
        Fault::FwdNameEmpty => meta(
            Check::NameInvalid,
            g.emit_hidden(b"", info(Kind::FWD, 0, false), 0, &[]),
        ),
        Fault::FuncLinkage | Fault::FuncNameInvalid | Fault::ProtoNamed => {
            let ret = g.regular_int(u)?;
            let proto_name: &[u8] = if f == Fault::ProtoNamed { b"proto" } else { b"" };
            let proto = g.emit_hidden(proto_name, info(Kind::FUNC_PROTO, 0, false), ret, &[]);
            if f == Fault::ProtoNamed {
                return Ok(meta(Check::NameInvalid, proto));
            }
            let (name, linkage, check) = if f == Fault::FuncLinkage {
                (
                    b"f".to_vec(),
                    u.int_in_range(2..=u16::MAX)?,
                    Check::FuncLinkageInvalid,
                )
            } else {
                (non_identifier(u)?, 0, Check::NameInvalid)
            };
            meta(
                check,
                g.emit_hidden(&name, info(Kind::FUNC, linkage, false), proto, &[]),
            )
        }
        Fault::VarLinkage | Fault::VarTypeZero => {
            let int = g.regular_int(u)?;
            let (ty, linkage, check) = if f == Fault::VarLinkage {
                (int, u.int_in_range(2..=u32::MAX)?, Check::VarLinkageUnsupported)
            } else {
                (0, 0, Check::TypeIdInvalid)
            };
            meta(
                check,
                g.emit_hidden(b"v", info(Kind::VAR, 0, false), ty, &[linkage]),
            )
        }
        Fault::DatasecSizeZero => meta(
            Check::DatasecSizeZero,
            g.emit_hidden(b".data", info(Kind::DATASEC, 0, false), 0, &[]),
        ),
        Fault::DatasecNameInvalid => {
            let bad = *u.choose(&[1u8, 0x09, 0x1f, 0x7f, 0x80, 0x9f])?;
            let name: Vec<u8> = match u.int_in_range(0..=2)? {
                0 => Vec::new(),
                1 => vec![bad, b'd'],
                _ => vec![b'.', b'd', bad],
            };
            meta(
                Check::NameInvalid,
                g.emit_hidden(&name, info(Kind::DATASEC, 0, false), 8, &[]),
            )
        }
        Fault::SecInfoOverlap | Fault::SecInfoSizeZero | Fault::SecInfoPastEnd => {
            let var = g.regular_int(u)?; // meta only checks the id range
            let sec_size = 64;
            let (entries, check): (Vec<u32>, Check) = match f {
                Fault::SecInfoOverlap => {
                    let back = u.int_in_range(1..=8u32)?;
                    (vec![var, 8, 8, var, 16 - back, 4], Check::SecInfoOffsetInvalid)
                }
                Fault::SecInfoSizeZero => (vec![var, 8, 0], Check::SecInfoSizeInvalid),
                _ => (
                    vec![var, 60, u.int_in_range(5..=64u32)?],
                    Check::SecInfoEndBeyondSize,
                ),
            };
            let vlen = (entries.len() / 3) as u16;
            meta(
                check,
                g.emit_hidden(b".data", info(Kind::DATASEC, vlen, false), sec_size, &entries),
            )
        }
        Fault::FloatSize => {
            let size = *u.choose(&[0u32, 1, 3, 5, 6, 7, 10, 24, 32])?;
            meta(
                Check::FloatSizeInvalid,
                g.emit_hidden(b"float", info(Kind::FLOAT, 0, false), size, &[]),
            )
        }
        Fault::DeclTagValueEmpty | Fault::DeclTagIndexBelow => {
            let target = g.regular_int(u)?; // the target is checked later
            let (value, idx, check): (&[u8], i32, Check) = if f == Fault::DeclTagValueEmpty {
                (b"", -1, Check::TagValueEmpty)
            } else {
                (b"tag", u.int_in_range(i32::MIN..=-2)?, Check::ComponentIdxInvalid)
            };
            meta(
                check,
                g.emit_hidden(value, info(Kind::DECL_TAG, 0, false), target, &[idx as u32]),
            )
        }
        Fault::TypeTagValueEmpty => {
            let target = g.regular_int(u)?;
            meta(
                Check::NameInvalid,
                g.emit_hidden(b"", info(Kind::TYPE_TAG, 0, false), target, &[]),
            )
        }
        other => unreachable!("{} is not a meta fault", other.name()),
    })
}

/// Faults in one member of a struct or union; the members before it pass.
fn member_fault(f: Fault, g: &mut Gen<'_>, u: &mut Unstructured<'_>) -> Result<Expect> {
    let is_union = f == Fault::UnionMemberOffset;
    let before = match f {
        Fault::UnionMemberOffset => 1,
        Fault::MemberOffsetBackwards => u.int_in_range(1..=3u32)?,
        _ => u.int_in_range(0..=3u32)?,
    };
    let (mut tail, mut size) = good_members(g, u, before)?;
    if is_union {
        // Every union member sits at offset 0.
        tail[2] = 0;
        size = 4;
    }
    let int = tail.get(1).copied().map_or_else(|| g.regular_int(u), Ok)?;
    let next_bit = if is_union { 0 } else { size * 8 };
    let (name_off, ty, off, check) = match f {
        Fault::MemberNameOffset => {
            let off = bad_offset(u)?;
            (off, int, next_bit, Check::MemberNameOffsetInvalid { off })
        }
        Fault::MemberNameInvalid => {
            let name = non_identifier(u)?;
            (g.b.string(name), int, next_bit, Check::MemberNameInvalid)
        }
        Fault::MemberTypeZero => (0, 0, next_bit, Check::MemberTypeIdInvalid),
        Fault::UnionMemberOffset => (0, int, u.int_in_range(1..=32u32)?, Check::MemberBitsOffsetInvalid),
        Fault::MemberOffsetBackwards => {
            // Move the last good member one slot later, then go back from it.
            let last = tail.len() - 1;
            tail[last] += 32;
            size += 4;
            let prev = tail[last];
            let back = u.int_in_range(1..=prev)?;
            (0, int, prev - back, Check::MemberBitsOffsetInvalid)
        }
        _ => {
            let over = u.int_in_range(9..=4096u32)?;
            (0, int, size * 8 + over, Check::MemberBitsOffsetBeyondSize)
        }
    };
    if !is_union && f != Fault::MemberBeyondSize {
        size += 4;
    }
    tail.extend_from_slice(&[name_off, ty, off]);
    let kind = if is_union { Kind::UNION } else { Kind::STRUCT };
    let index = (tail.len() / 3 - 1) as u16;
    let id = g.emit_hidden(b"s", info(kind, index + 1, false), size, &tail);
    Ok(meta(check, id))
}
