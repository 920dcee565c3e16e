//! Faults that pass the meta pass and must be caught later: by the resolve
//! pass (`btf_check_all_types`), the type-tag placement pass or the
//! special-fields pass. Helper records are valid and hidden; the faulty
//! record comes last, so its id is the one the kernel reports (loops and
//! depth are reported at the chain's first, top-level, type).

use super::{at, Expect, Fault};
use crate::builder::{info, int_data, FUNC_GLOBAL};
use crate::raw::Kind;
use crate::smith::Gen;
use crate::verify::error::{errno, Check, SpecialFieldError as E, Stage};
use arbitrary::{Result, Unstructured};

fn resolve(check: Check, id: u32) -> Expect {
    at(Stage::Resolve, check, errno::EINVAL, id)
}

fn hidden_int(g: &mut Gen<'_>, size: u32, bits: u8) -> u32 {
    g.emit_hidden(b"hi", info(Kind::INT, 0, false), size, &[int_data(0, 0, bits)])
}

fn hidden_fwd(g: &mut Gen<'_>) -> u32 {
    g.emit_hidden(b"opaque", info(Kind::FWD, 0, false), 0, &[])
}

fn hidden_ptr(g: &mut Gen<'_>, target: u32) -> u32 {
    g.emit_hidden(b"", info(Kind::PTR, 0, false), target, &[])
}

/// A STRUCT of `size` bytes holding one member (`ty` at `word`), maybe
/// kind_flag; returns its id.
fn one_member_struct(g: &mut Gen<'_>, kflag: bool, size: u32, ty: u32, word: u32) -> u32 {
    let name = g.b.string("m");
    g.emit_hidden(b"s", info(Kind::STRUCT, 1, kflag), size, &[name, ty, word])
}

/// A FUNC_PROTO returning `ret` with `params` (name, type).
fn proto(g: &mut Gen<'_>, ret: u32, params: &[(&[u8], u32)]) -> u32 {
    let mut tail = Vec::new();
    for (n, t) in params {
        tail.extend_from_slice(&[g.b.string(n), *t]);
    }
    g.emit_hidden(
        b"",
        info(Kind::FUNC_PROTO, params.len() as u16, false),
        ret,
        &tail,
    )
}

/// Named params of type `ty`, with `bad` spliced in at 0-based `pos`.
fn params_with(ty: u32, count: usize, pos: usize, bad: (&[u8], u32)) -> Vec<(&[u8], u32)> {
    const NAMES: [&[u8]; 8] = [b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h"];
    let mut ps: Vec<(&[u8], u32)> = (0..count).map(|i| (NAMES[i % 8], ty)).collect();
    ps.insert(pos, bad);
    ps
}

pub(super) fn construct(f: Fault, g: &mut Gen<'_>, u: &mut Unstructured<'_>) -> Result<Expect> {
    // A regular INT, or a modifier ending on one.
    let int = g.regular_int(u)?;
    Ok(match f {
        Fault::RefToSourceOnly | Fault::RefTargetMissing => {
            let target = if f == Fault::RefToSourceOnly {
                g.emit_hidden(b"v", info(Kind::VAR, 0, false), int, &[0])
            } else {
                0xf_ffff
            };
            let kind = *u.choose(&[
                Kind::PTR,
                Kind::TYPEDEF,
                Kind::CONST,
                Kind::VOLATILE,
                Kind::RESTRICT,
            ])?;
            let name: &[u8] = if kind == Kind::TYPEDEF { b"t" } else { b"" };
            resolve(
                Check::TypeIdInvalid,
                g.emit_hidden(name, info(kind, 0, false), target, &[]),
            )
        }
        Fault::ArrayIndexIrregular
        | Fault::ArrayElemFwd
        | Fault::ArrayOfIrregularInt
        | Fault::ArrayOverflow => {
            let (elem, index, nelems, check) = match f {
                Fault::ArrayIndexIrregular => (int, hidden_int(g, 4, 31), 4, Check::ArrayIndexInvalid),
                Fault::ArrayElemFwd => (hidden_fwd(g), int, 4, Check::ArrayElemInvalid),
                Fault::ArrayOfIrregularInt => (hidden_int(g, 2, 12), int, 4, Check::ArrayOfIrregularInt),
                _ => {
                    let n = u.int_in_range(u32::MAX / 8 + 1..=u32::MAX)?;
                    (hidden_int(g, 8, 64), int, n, Check::ArraySizeOverflow)
                }
            };
            resolve(
                check,
                g.emit_hidden(b"", info(Kind::ARRAY, 0, false), 0, &[elem, index, nelems]),
            )
        }
        Fault::MemberFwd => {
            let fwd = hidden_fwd(g);
            resolve(Check::MemberTypeInvalid, one_member_struct(g, false, 8, fwd, 0))
        }
        Fault::MemberBitsOverflow => {
            // Meta only asks that the offset's byte be inside the struct.
            let off = u.int_in_range(0xffff_ff81..=u32::MAX)?;
            let odd = g.emit_hidden(b"hi", info(Kind::INT, 0, false), 16, &[int_data(0, 127, 1)]);
            let size = off.div_ceil(8);
            resolve(
                Check::MemberBitsOffsetOverflow,
                one_member_struct(g, false, size, odd, off),
            )
        }
        Fault::MemberCopyBitsOver128 => {
            let wide = hidden_int(g, 16, 128);
            let bit = u.int_in_range(1..=7u32)?;
            resolve(
                Check::MemberCopyBitsOver128,
                one_member_struct(g, false, 32, wide, bit),
            )
        }
        Fault::MemberExceedsSize => {
            let long = hidden_int(g, 8, 64);
            let size = u.int_in_range(0..=7u32)?;
            resolve(
                Check::MemberExceedsSize,
                one_member_struct(g, false, size, long, 0),
            )
        }
        Fault::MemberNotByteAligned => {
            let ptr = hidden_ptr(g, int);
            let bit = 8 * u.int_in_range(0..=1u32)? + u.int_in_range(1..=7u32)?;
            resolve(
                Check::MemberNotByteAligned,
                one_member_struct(g, false, 16, ptr, bit),
            )
        }
        Fault::FloatMemberMisaligned => {
            let float = g.emit_hidden(b"float", info(Kind::FLOAT, 0, false), 4, &[]);
            let bit = *u.choose(&[1u32, 8, 16, 24, 33])?;
            resolve(
                Check::MemberMisaligned,
                one_member_struct(g, false, 16, float, bit),
            )
        }
        Fault::BitfieldTooWide => {
            let i32_ = hidden_int(g, 4, 32);
            let bf = u.int_in_range(33..=255u32)?;
            resolve(
                Check::MemberBitfieldSizeInvalid,
                one_member_struct(g, true, 64, i32_, bf << 24),
            )
        }
        Fault::BitfieldIrregularBase => {
            let odd = hidden_int(g, 2, 12);
            resolve(
                Check::MemberBaseTypeInvalid,
                one_member_struct(g, true, 4, odd, 4 << 24),
            )
        }
        Fault::BitfieldOnPtr => {
            let ptr = hidden_ptr(g, int);
            let bf = u.int_in_range(1..=255u32)?;
            resolve(
                Check::MemberBitfieldSizeInvalid,
                one_member_struct(g, true, 16, ptr, bf << 24),
            )
        }
        Fault::BitfieldZeroUnaligned => {
            let i32_ = hidden_int(g, 4, 32);
            let bit = u.int_in_range(1..=7u32)?;
            resolve(
                Check::MemberOffsetInvalid,
                one_member_struct(g, true, 8, i32_, bit),
            )
        }
        Fault::VarOfNoSize => {
            let target = if u.arbitrary()? {
                hidden_fwd(g)
            } else {
                proto(g, 0, &[])
            };
            resolve(
                Check::TypeIdInvalid,
                g.emit_hidden(b"v", info(Kind::VAR, 0, false), target, &[1]),
            )
        }
        Fault::SecInfoNotVar => {
            let entry = [int, 0, 4];
            resolve(
                Check::SecInfoNotVar,
                g.emit_hidden(b".data", info(Kind::DATASEC, 1, false), 8, &entry),
            )
        }
        Fault::SecInfoTooSmall => {
            let long = hidden_int(g, 8, 64);
            let var = g.emit_hidden(b"v", info(Kind::VAR, 0, false), long, &[1]);
            let entry = [var, 0, u.int_in_range(1..=7u32)?];
            resolve(
                Check::SecInfoSizeInvalid,
                g.emit_hidden(b".data", info(Kind::DATASEC, 1, false), 8, &entry),
            )
        }
        Fault::FuncNotProto => resolve(
            Check::TypeIdInvalid,
            g.emit_hidden(b"f", info(Kind::FUNC, FUNC_GLOBAL, false), int, &[]),
        ),
        Fault::FuncArgUnnamed => {
            let count = u.int_in_range(0..=4usize)?;
            let pos = u.int_in_range(0..=count)?;
            let p = proto(g, int, &params_with(int, count, pos, (b"", int)));
            let func = g.emit_hidden(b"f", info(Kind::FUNC, 0, false), p, &[]);
            resolve(Check::ArgInvalid { arg: pos as u32 + 1 }, func)
        }
        Fault::ProtoReturnFwd => {
            let fwd = hidden_fwd(g);
            resolve(Check::ReturnTypeInvalid, proto(g, fwd, &[(b"a", int)]))
        }
        Fault::ProtoArgFwd | Fault::ProtoVoidArg => {
            // VOID is only legal as the last (vararg) slot: keep one after it.
            let bad = if f == Fault::ProtoArgFwd { hidden_fwd(g) } else { 0 };
            let count = u.int_in_range(1..=4usize)?;
            let pos = u.int_in_range(0..=count - 1)?;
            let bad_name: &[u8] = if bad == 0 { b"" } else { b"x" };
            let p = proto(g, 0, &params_with(int, count, pos, (bad_name, bad)));
            resolve(Check::ArgInvalid { arg: pos as u32 + 1 }, p)
        }
        Fault::ProtoVarargNamed => {
            let count = u.int_in_range(0..=4usize)?;
            let p = proto(g, 0, &params_with(int, count, count, (b"rest", 0)));
            resolve(
                Check::ArgInvalid {
                    arg: count as u32 + 1,
                },
                p,
            )
        }
        Fault::DeclTagOnInt => {
            // A hidden INT: `int` may be a TYPEDEF, which a DECL_TAG may target.
            let int = hidden_int(g, 4, 32);
            resolve(
                Check::TypeIdInvalid,
                g.emit_hidden(b"tag", info(Kind::DECL_TAG, 0, false), int, &[u32::MAX]),
            )
        }
        Fault::DeclTagIndexPast => {
            let members = u.int_in_range(0..=3u32)?;
            let mut tail = Vec::new();
            for i in 0..members {
                tail.extend_from_slice(&[g.b.string(format!("m{i}")), int, 0]);
            }
            let target = g.emit_hidden(b"u", info(Kind::UNION, members as u16, false), 16, &tail);
            let idx = u.int_in_range(members..=i32::MAX as u32)?;
            resolve(
                Check::ComponentIdxInvalid,
                g.emit_hidden(b"tag", info(Kind::DECL_TAG, 0, false), target, &[idx]),
            )
        }
        Fault::DeclTagIndexOnTypedef => {
            let target = g.emit_hidden(b"t", info(Kind::TYPEDEF, 0, false), int, &[]);
            let idx = u.int_in_range(0..=i32::MAX as u32)?;
            resolve(
                Check::ComponentIdxInvalid,
                g.emit_hidden(b"tag", info(Kind::DECL_TAG, 0, false), target, &[idx]),
            )
        }
        Fault::TypedefLoop => {
            let first = g.b.next_id();
            g.emit_hidden(b"ta", info(Kind::TYPEDEF, 0, false), first + 1, &[]);
            g.emit_hidden(b"tb", info(Kind::TYPEDEF, 0, false), first, &[]);
            at(Stage::Resolve, Check::ResolveLoop, errno::EEXIST, first)
        }
        Fault::PtrModifierLoop => {
            // PTR -> CONST -> ... -> back to the first PTR.
            let pairs = u.int_in_range(1..=3u32)?;
            let first = g.b.next_id();
            for i in 0..pairs * 2 {
                let next = if i + 1 == pairs * 2 { first } else { first + i + 1 };
                let kind = if i % 2 == 0 { Kind::PTR } else { Kind::CONST };
                g.emit_hidden(b"", info(kind, 0, false), next, &[]);
            }
            at(Stage::Resolve, Check::ResolveLoop, errno::EEXIST, first)
        }
        Fault::ResolveTooDeep => {
            // 32 unresolved modifiers fit on the resolver's stack; 33 do not.
            let len = u.int_in_range(33..=40u32)?;
            let first = g.b.next_id();
            for i in 0..len {
                let next = if i + 1 == len { int } else { first + i + 1 };
                g.emit_hidden(
                    format!("t{i}").as_bytes(),
                    info(Kind::TYPEDEF, 0, false),
                    next,
                    &[],
                );
            }
            at(Stage::Resolve, Check::ResolveTooDeep, errno::E2BIG, first)
        }
        Fault::TagAfterModifier => {
            let tag = g.emit_hidden(b"tag", info(Kind::TYPE_TAG, 0, false), int, &[]);
            let kind = *u.choose(&[Kind::TYPEDEF, Kind::CONST, Kind::VOLATILE, Kind::RESTRICT])?;
            let name: &[u8] = if kind == Kind::TYPEDEF { b"t" } else { b"" };
            let id = g.emit_hidden(name, info(kind, 0, false), tag, &[]);
            at(Stage::TypeTags, Check::TypeTagAfterModifier, errno::EINVAL, id)
        }
        Fault::ModifierChainTooLong => {
            // A PTR resolves chain B (21 CONSTs) first; chain A (18 CONSTs)
            // then ends on B. Neither walk was deep, but the tag pass walks
            // A and B together from A's head: 39 > 32 steps.
            let (a_len, b_len) = (18, 21);
            let ptr = g.b.next_id();
            let a0 = ptr + 1;
            let b0 = a0 + a_len;
            hidden_ptr(g, b0);
            for i in 0..a_len {
                g.emit_hidden(b"", info(Kind::CONST, 0, false), a0 + i + 1, &[]);
            }
            for i in 0..b_len {
                let next = if i + 1 == b_len { int } else { b0 + i + 1 };
                g.emit_hidden(b"", info(Kind::CONST, 0, false), next, &[]);
            }
            at(Stage::TypeTags, Check::ModifierChainTooLong, errno::ELOOP, a0)
        }
        Fault::KptrToNonStruct | Fault::KptrChainedTag => {
            let value = *u.choose(&[&b"kptr"[..], b"kptr_untrusted", b"percpu_kptr"])?;
            let (target, e) = if f == Fault::KptrToNonStruct {
                (hidden_int(g, 4, 32), E::KptrNotStruct)
            } else {
                let obj = g.emit_hidden(b"obj", info(Kind::STRUCT, 0, false), 8, &[]);
                (
                    g.emit_hidden(b"other", info(Kind::TYPE_TAG, 0, false), obj, &[]),
                    E::KptrChainedTag,
                )
            };
            let tag = g.emit_hidden(value, info(Kind::TYPE_TAG, 0, false), target, &[]);
            let ptr = hidden_ptr(g, tag);
            // A kptr alone does not get its struct parsed; a spin lock does.
            let lock = g.emit_hidden(b"bpf_spin_lock", info(Kind::STRUCT, 0, false), 4, &[]);
            let (l, p) = (g.b.string("lock"), g.b.string("p"));
            let s = g.emit_hidden(b"s", info(Kind::STRUCT, 2, false), 16, &[l, lock, 0, p, ptr, 64]);
            at(Stage::StructMetas, Check::SpecialField(e), errno::EINVAL, s)
        }
        Fault::ListHeadNoContains => {
            let lock = g.emit_hidden(b"bpf_spin_lock", info(Kind::STRUCT, 0, false), 4, &[]);
            let head = g.emit_hidden(b"bpf_list_head", info(Kind::STRUCT, 0, false), 16, &[]);
            let (h, l) = (g.b.string("head"), g.b.string("lock"));
            let tail = [h, head, 0, l, lock, 128];
            let s = g.emit_hidden(b"value", info(Kind::STRUCT, 2, false), 24, &tail);
            at(
                Stage::StructMetas,
                Check::SpecialField(E::GraphRootNoContains),
                errno::EINVAL,
                s,
            )
        }
        other => unreachable!("{} is not a resolve-or-later fault", other.name()),
    })
}
