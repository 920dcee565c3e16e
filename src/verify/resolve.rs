//! The resolve pass: sizes, targets, loops and member layout.
//!
//! Mirrors `btf_check_all_types()`, `btf_resolve()` and the per-kind
//! `*_resolve()` / `*_check_member()` callbacks in kernel/bpf/btf.c (v6.18):
//! an explicit DFS stack of at most 32 vertices, a resolve mode that decides
//! which targets are sinks, and per-type `(resolved_id, resolved_size)`.

use super::btf::{Btf, RecordExt};
use super::error::{errno, Check, Failure, Site, Stage};
use super::meta::{member_bit_offset, member_bitfield_size, roundup_bytes};
use crate::profile::Profile;
use crate::raw::{Kind, Member, TypeRecord};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum VisitState {
    NotVisited = 0,
    Visited = 1,
    Resolved = 2,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Tbd,
    Ptr,
    StructOrArray,
}

#[derive(Clone, Copy, Debug)]
struct Vertex {
    id: u32,
    next_member: u16,
}

/// Why a resolve walk stopped.
enum Stop {
    /// A push found the stack full (`-E2BIG`).
    TooDeep,
    /// A push found a type already on the stack (`-EEXIST`).
    Loop,
    /// A check failed and said why.
    Fail(Failure),
}

type Step = Result<(), Stop>;

/// The resolver; its per-type results live in [`Btf::entries`].
pub struct Resolver<'b, 'a> {
    btf: &'b mut Btf<'a>,
    depth_limit: usize,
    stack: Vec<Vertex>,
    mode: Mode,
}

impl<'b, 'a> Resolver<'b, 'a> {
    pub fn new(btf: &'b mut Btf<'a>, profile: &Profile) -> Self {
        Resolver {
            btf,
            depth_limit: profile.limits.resolve_depth,
            stack: Vec::with_capacity(profile.limits.resolve_depth),
            mode: Mode::Tbd,
        }
    }

    #[inline]
    fn rid(&self, id: u32) -> u32 {
        self.btf.entries[id as usize].resolved_id
    }

    #[inline]
    fn rsize(&self, id: u32) -> u32 {
        self.btf.entries[id as usize].resolved_size
    }

    /// `btf_check_all_types()`.
    pub fn check_all_types(&mut self) -> Result<(), Failure> {
        for id in self.btf.ids() {
            let t = self.btf.record_of(self.btf.entries[id as usize]);
            if t.kind().needs_resolve() && !self.is_resolved(id) {
                self.resolve(&t, id)?;
            }
            if t.kind() == Kind::FUNC_PROTO {
                self.func_proto_check(&t, id)?;
            }
        }
        Ok(())
    }

    fn fail(&self, check: Check, site: Site, pos: u32) -> Stop {
        Stop::Fail(Failure {
            stage: Stage::Resolve,
            check,
            site,
            errno: errno::EINVAL,
            offset: Some(self.btf.abs(pos)),
        })
    }

    fn type_fail(&self, id: u32, t: &TypeRecord<'_>, check: Check) -> Stop {
        self.fail(check, Site::Type { id }, t.pos)
    }

    #[inline]
    fn is_resolved(&self, id: u32) -> bool {
        self.btf
            .entries
            .get(id as usize)
            .is_some_and(|e| e.state == VisitState::Resolved)
    }

    /// `env_type_is_resolve_sink`: whether the walk stops at `t`.
    fn is_sink(&self, t: &TypeRecord<'_>) -> bool {
        let k = t.kind();
        match self.mode {
            Mode::Tbd => t.is_void() || !k.needs_resolve(),
            Mode::Ptr => t.is_void() || !(k.is_modifier() || k == Kind::PTR),
            Mode::StructOrArray => t.is_void() || !(k.is_modifier() || k == Kind::ARRAY || k.is_composite()),
        }
    }

    fn push(&mut self, t: &TypeRecord<'_>, id: u32) -> Step {
        if self.stack.len() == self.depth_limit {
            return Err(Stop::TooDeep);
        }
        match self.btf.entries.get_mut(id as usize) {
            Some(e) if e.state == VisitState::NotVisited => e.state = VisitState::Visited,
            _ => return Err(Stop::Loop),
        }
        self.stack.push(Vertex { id, next_member: 0 });
        if self.mode == Mode::Tbd {
            if t.kind() == Kind::PTR {
                self.mode = Mode::Ptr;
            } else if t.kind().is_composite() || t.kind() == Kind::ARRAY {
                self.mode = Mode::StructOrArray;
            }
        }
        Ok(())
    }

    fn pop_resolved(&mut self, resolved_id: u32, resolved_size: u32) {
        if let Some(v) = self.stack.pop() {
            let e = &mut self.btf.entries[v.id as usize];
            e.resolved_id = resolved_id;
            e.resolved_size = resolved_size;
            e.state = VisitState::Resolved;
        }
    }

    fn set_next_member(&mut self, next: u16) {
        if let Some(top) = self.stack.last_mut() {
            top.next_member = next;
        }
    }

    /// `btf_type_id_size`: the sized type behind `id` (following one
    /// resolved modifier/VAR hop) and its size.
    fn type_id_size(&self, id: u32) -> Option<(u32, TypeRecord<'a>, u32)> {
        let t = self.btf.by_id(id)?;
        if t.is_nosize() {
            return None;
        }
        let k = t.kind();
        if k.has_size() {
            return Some((id, t, t.common.size()));
        }
        if k == Kind::ARRAY {
            return Some((id, t, self.rsize(id)));
        }
        if k == Kind::PTR {
            return Some((id, t, 8));
        }
        if !k.is_modifier() && k != Kind::VAR {
            return None;
        }
        let rid = self.rid(id);
        let r = self.btf.by_id(rid)?;
        if r.is_nosize() {
            return None;
        }
        let rk = r.kind();
        if rk.has_size() {
            Some((rid, r, r.common.size()))
        } else if rk == Kind::ARRAY {
            Some((rid, r, self.rsize(rid)))
        } else if rk == Kind::PTR {
            Some((rid, r, 8))
        } else {
            None
        }
    }

    /// `btf_type_id_resolve`: the recorded `resolved_id` and its type.
    fn id_resolve(&self, id: u32) -> (u32, Option<TypeRecord<'a>>) {
        let rid = self.rid(id);
        (rid, self.btf.by_id(rid))
    }

    /// `btf_resolve()`: resolves one top-level type and everything it pulls
    /// in; failures of the walk itself are reported on the top-level type.
    fn resolve(&mut self, t: &TypeRecord<'a>, id: u32) -> Result<(), Failure> {
        self.mode = Mode::Tbd;
        // The top-level push cannot fail: the stack is empty and the type
        // is not visited.
        let _ = self.push(t, id);
        let mut stop = None;
        while let Some(&v) = self.stack.last() {
            let vt = self.btf.by_id(v.id).expect("stacked ids exist");
            if let Err(s) = self.resolve_step(&vt, v) {
                stop = Some(s);
                break;
            }
        }
        // Leave no half-walked vertices behind (the kernel frees the env).
        self.stack.clear();
        match stop {
            Some(Stop::TooDeep) => Err(Failure {
                stage: Stage::Resolve,
                check: Check::ResolveTooDeep,
                site: Site::Type { id },
                errno: errno::E2BIG,
                offset: Some(self.btf.abs(t.pos)),
            }),
            Some(Stop::Loop) => Err(Failure {
                stage: Stage::Resolve,
                check: Check::ResolveLoop,
                site: Site::Type { id },
                errno: errno::EEXIST,
                offset: Some(self.btf.abs(t.pos)),
            }),
            Some(Stop::Fail(f)) => Err(f),
            None if !self.resolve_valid(t, id) => Err(Failure {
                stage: Stage::Resolve,
                check: Check::ResolveStateInvalid,
                site: Site::Type { id },
                errno: errno::EINVAL,
                offset: Some(self.btf.abs(t.pos)),
            }),
            None => Ok(()),
        }
    }

    fn resolve_step(&mut self, t: &TypeRecord<'a>, v: Vertex) -> Step {
        match t.kind() {
            k if k.is_modifier() => self.modifier_resolve(t, v.id),
            Kind::PTR => self.ptr_resolve(t, v.id),
            Kind::ARRAY => self.array_resolve(t, v.id),
            Kind::STRUCT | Kind::UNION => self.struct_resolve(t, v),
            Kind::VAR => self.var_resolve(t, v.id),
            Kind::DATASEC => self.datasec_resolve(t, v),
            Kind::FUNC => self.func_resolve(t, v.id),
            Kind::DECL_TAG => self.decl_tag_resolve(t, v.id),
            // Kinds that never need resolving are never pushed.
            _ => Err(self.fail(Check::ResolveStateInvalid, Site::Basic { id: v.id }, t.pos)),
        }
    }

    /// Target lookup shared by modifiers, PTR and VAR: must exist and not be
    /// a VAR, DECL_TAG or DATASEC.
    fn target(&self, t: &TypeRecord<'_>, id: u32) -> Result<(u32, TypeRecord<'a>), Stop> {
        let next_id = t.common.type_id();
        match self.btf.by_id(next_id) {
            Some(n) if !n.kind().is_source_only() => Ok((next_id, n)),
            _ => Err(self.type_fail(id, t, Check::TypeIdInvalid)),
        }
    }

    /// Push `n` unless it is a sink or already resolved. `Ok(true)` = pushed.
    fn push_if_needed(&mut self, n: &TypeRecord<'_>, nid: u32) -> Result<bool, Stop> {
        if !self.is_sink(n) && !self.is_resolved(nid) {
            self.push(n, nid)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// After a modifier resolved to a PTR during a struct/array walk, carry on
    /// from that PTR so pointer cycles through modifiers are caught.
    fn push_ptr_behind_modifier(&mut self, n: &TypeRecord<'_>, nid: u32) -> Result<bool, Stop> {
        if n.kind().is_modifier() {
            let (rid, r) = self.id_resolve(nid);
            if let Some(r) = r {
                if r.kind() == Kind::PTR && !self.is_sink(&r) && !self.is_resolved(rid) {
                    self.push(&r, rid)?;
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The no-size fallback of modifiers and PTR: accept VOID, FWD and
    /// FUNC_PROTO (through a resolved FUNC), else `Invalid type_id`.
    fn sized_or_void(&self, t: &TypeRecord<'_>, id: u32, nid: u32, n: TypeRecord<'a>) -> Result<u32, Stop> {
        if let Some((sid, _, _)) = self.type_id_size(nid) {
            return Ok(sid);
        }
        let (mut rid, mut r) = (nid, Some(n));
        if self.is_resolved(nid) {
            (rid, r) = self.id_resolve(nid);
        }
        match r {
            Some(r) if r.is_void() || r.kind() == Kind::FWD || r.kind() == Kind::FUNC_PROTO => Ok(rid),
            _ => Err(self.type_fail(id, t, Check::TypeIdInvalid)),
        }
    }

    fn modifier_resolve(&mut self, t: &TypeRecord<'a>, id: u32) -> Step {
        let (nid, n) = self.target(t, id)?;
        if self.push_if_needed(&n, nid)? {
            return Ok(());
        }
        let rid = self.sized_or_void(t, id, nid, n)?;
        self.pop_resolved(rid, 0);
        Ok(())
    }

    fn ptr_resolve(&mut self, t: &TypeRecord<'a>, id: u32) -> Step {
        let (nid, n) = self.target(t, id)?;
        if self.push_if_needed(&n, nid)? || self.push_ptr_behind_modifier(&n, nid)? {
            return Ok(());
        }
        let rid = self.sized_or_void(t, id, nid, n)?;
        self.pop_resolved(rid, 0);
        Ok(())
    }

    fn var_resolve(&mut self, t: &TypeRecord<'a>, id: u32) -> Step {
        let (nid, n) = self.target(t, id)?;
        if self.push_if_needed(&n, nid)? || self.push_ptr_behind_modifier(&n, nid)? {
            return Ok(());
        }
        match self.type_id_size(nid) {
            Some((sid, _, _)) => {
                self.pop_resolved(sid, 0);
                Ok(())
            }
            None => Err(self.type_fail(id, t, Check::TypeIdInvalid)),
        }
    }

    fn array_resolve(&mut self, t: &TypeRecord<'a>, id: u32) -> Step {
        let a = t.array();
        let usable = |x: &Option<TypeRecord<'_>>| match x {
            Some(r) => !r.is_nosize() && !r.kind().is_source_only(),
            None => false,
        };

        let index = self.btf.by_id(a.index_type);
        if !usable(&index) {
            return Err(self.type_fail(id, t, Check::ArrayIndexInvalid));
        }
        if self.push_if_needed(&index.expect("checked"), a.index_type)? {
            return Ok(());
        }
        match self.type_id_size(a.index_type) {
            Some((_, r, _)) if r.kind() == Kind::INT && r.is_regular_int() => {}
            _ => return Err(self.type_fail(id, t, Check::ArrayIndexInvalid)),
        }

        let elem = self.btf.by_id(a.elem_type);
        if !usable(&elem) {
            return Err(self.type_fail(id, t, Check::ArrayElemInvalid));
        }
        if self.push_if_needed(&elem.expect("checked"), a.elem_type)? {
            return Ok(());
        }
        let Some((eid, e, esize)) = self.type_id_size(a.elem_type) else {
            return Err(self.type_fail(id, t, Check::ArrayElemInvalid));
        };
        if e.kind() == Kind::INT && !e.is_regular_int() {
            return Err(self.type_fail(id, t, Check::ArrayOfIrregularInt));
        }
        if a.nelems != 0 && esize > u32::MAX / a.nelems {
            return Err(self.type_fail(id, t, Check::ArraySizeOverflow));
        }
        self.pop_resolved(eid, esize.wrapping_mul(a.nelems));
        Ok(())
    }

    fn struct_resolve(&mut self, t: &TypeRecord<'a>, v: Vertex) -> Step {
        let kflag = t.kflag();
        if v.next_member > 0 {
            // The member pushed last time is resolved now: check it.
            let i = v.next_member as usize - 1;
            let m = t.member(i);
            if !self.is_resolved(m.type_id) {
                return Err(self.fail(Check::ResolveStateInvalid, Site::Silent { id: None }, t.pos));
            }
            let mt = self.btf.by_id(m.type_id).expect("resolved ids exist");
            self.check_member(t, v.id, i, m, &mt, kflag)?;
        }
        for i in v.next_member as usize..t.vlen() as usize {
            let m = t.member(i);
            let mt = match self.btf.by_id(m.type_id) {
                Some(mt) if !mt.is_nosize() && !mt.kind().is_source_only() => mt,
                _ => return Err(self.member_fail(t, v.id, i, m.type_id, Check::MemberTypeInvalid)),
            };
            if !self.is_sink(&mt) && !self.is_resolved(m.type_id) {
                self.set_next_member(i as u16 + 1);
                return self.push(&mt, m.type_id);
            }
            self.check_member(t, v.id, i, m, &mt, kflag)?;
        }
        self.pop_resolved(0, 0);
        Ok(())
    }

    fn member_fail(
        &self,
        owner: &TypeRecord<'_>,
        owner_id: u32,
        index: usize,
        shown_type: u32,
        check: Check,
    ) -> Stop {
        self.fail(
            check,
            Site::Member {
                id: owner_id,
                index: index as u16,
                shown_type,
            },
            owner.pos + owner.element_pos(index),
        )
    }

    /// `check_member` / `check_kflag_member` of the member type's kind.
    fn check_member(
        &self,
        owner: &TypeRecord<'_>,
        owner_id: u32,
        index: usize,
        m: Member,
        mt: &TypeRecord<'_>,
        kflag: bool,
    ) -> Step {
        let fail = |check| self.member_fail(owner, owner_id, index, m.type_id, check);
        let size = owner.common.size();
        let k = mt.kind();
        if k.is_modifier() {
            // Re-check as the resolved type, showing its id.
            let Some((rid, r, _)) = self.type_id_size(m.type_id) else {
                return Err(fail(Check::MemberTypeInvalid));
            };
            let resolved = Member { type_id: rid, ..m };
            return self.check_member(owner, owner_id, index, resolved, &r, kflag);
        }
        if kflag {
            return self.check_kflag_member(owner, owner_id, index, m, mt);
        }
        let bits_off = m.offset;
        let bytes_off = bits_off / 8;
        match k {
            Kind::INT => {
                let d = mt.int_data();
                let int_off = (d >> 16) & 0xff;
                let int_bits = d & 0xff;
                let Some(b) = bits_off.checked_add(int_off) else {
                    return Err(fail(Check::MemberBitsOffsetOverflow));
                };
                int_bits_fit(size, b, int_bits).map_err(fail)
            }
            Kind::PTR => {
                if bits_off & 7 != 0 {
                    return Err(fail(Check::MemberNotByteAligned));
                }
                if size.wrapping_sub(bytes_off) < 8 {
                    return Err(fail(Check::MemberExceedsSize));
                }
                Ok(())
            }
            Kind::ARRAY | Kind::STRUCT | Kind::UNION | Kind::ENUM | Kind::ENUM64 => {
                if bits_off & 7 != 0 {
                    return Err(fail(Check::MemberNotByteAligned));
                }
                let msize = if k == Kind::ARRAY {
                    self.rsize(m.type_id)
                } else {
                    mt.common.size()
                };
                if size.wrapping_sub(bytes_off) < msize {
                    return Err(fail(Check::MemberExceedsSize));
                }
                Ok(())
            }
            Kind::FLOAT => {
                let fsize = mt.common.size() as u64;
                let align_bits = fsize.min(8) * 8;
                if align_bits == 0 || m.offset as u64 % align_bits != 0 {
                    return Err(fail(Check::MemberMisaligned));
                }
                if m.offset as u64 / 8 + fsize > size as u64 {
                    return Err(fail(Check::MemberExceedsSize));
                }
                Ok(())
            }
            // FWD, FUNC, FUNC_PROTO, VAR, DATASEC, DECL_TAG were rejected as
            // `Invalid member` before dispatch.
            _ => Err(self.fail(Check::MemberTypeInvalid, Site::Basic { id: owner_id }, owner.pos)),
        }
    }

    fn check_kflag_member(
        &self,
        owner: &TypeRecord<'_>,
        owner_id: u32,
        index: usize,
        m: Member,
        mt: &TypeRecord<'_>,
    ) -> Step {
        let fail = |check| self.member_fail(owner, owner_id, index, m.type_id, check);
        let size = owner.common.size();
        let bit_off = member_bit_offset(true, m.offset);
        let nr_bits = member_bitfield_size(true, m.offset);
        match mt.kind() {
            Kind::INT => {
                if !mt.is_regular_int() {
                    return Err(fail(Check::MemberBaseTypeInvalid));
                }
                let int_bits = mt.int_data() & 0xff;
                let bits = if nr_bits == 0 {
                    if bit_off & 7 != 0 {
                        return Err(fail(Check::MemberOffsetInvalid));
                    }
                    int_bits
                } else if nr_bits > int_bits {
                    return Err(fail(Check::MemberBitfieldSizeInvalid));
                } else {
                    nr_bits
                };
                int_bits_fit(size, bit_off, bits).map_err(fail)
            }
            Kind::ENUM | Kind::ENUM64 => {
                // The kernel sizes every enum member as a 32-bit int here.
                let bits = if nr_bits == 0 {
                    if bit_off & 7 != 0 {
                        return Err(fail(Check::MemberNotByteAligned));
                    }
                    32
                } else if nr_bits > 32 {
                    return Err(fail(Check::MemberBitfieldSizeInvalid));
                } else {
                    nr_bits
                };
                if size < roundup_bytes(bit_off + bits) {
                    return Err(fail(Check::MemberExceedsSize));
                }
                Ok(())
            }
            Kind::PTR | Kind::ARRAY | Kind::STRUCT | Kind::UNION | Kind::FLOAT => {
                if nr_bits != 0 {
                    return Err(fail(Check::MemberBitfieldSizeInvalid));
                }
                // With no bitfield size the raw word is the bit offset.
                self.check_member(owner, owner_id, index, m, mt, false)
            }
            _ => Err(self.fail(Check::MemberTypeInvalid, Site::Basic { id: owner_id }, owner.pos)),
        }
    }

    fn datasec_resolve(&mut self, t: &TypeRecord<'a>, v: Vertex) -> Step {
        self.mode = Mode::Tbd;
        for i in v.next_member as usize..t.vlen() as usize {
            let e = t.secinfo(i);
            let site = Site::SecInfo {
                id: v.id,
                index: i as u16,
            };
            let pos = t.pos + t.element_pos(i);
            let var = match self.btf.by_id(e.type_id) {
                Some(var) if var.kind() == Kind::VAR => var,
                _ => return Err(self.fail(Check::SecInfoNotVar, site, pos)),
            };
            if !self.is_sink(&var) && !self.is_resolved(e.type_id) {
                self.set_next_member(i as u16 + 1);
                return self.push(&var, e.type_id);
            }
            let Some((_, _, size)) = self.type_id_size(var.common.type_id()) else {
                return Err(self.fail(Check::SecInfoTypeInvalid, site, pos));
            };
            if e.size < size {
                return Err(self.fail(Check::SecInfoSizeInvalid, site, pos));
            }
        }
        self.pop_resolved(0, 0);
        Ok(())
    }

    fn func_resolve(&mut self, t: &TypeRecord<'a>, id: u32) -> Step {
        let proto = match self.btf.by_id(t.common.type_id()) {
            Some(p) if p.kind() == Kind::FUNC_PROTO => p,
            _ => return Err(self.type_fail(id, t, Check::TypeIdInvalid)),
        };
        for (i, p) in proto.params().enumerate() {
            if p.name_off == 0 && p.type_id != 0 {
                return Err(self.type_fail(id, t, Check::ArgInvalid { arg: i as u32 + 1 }));
            }
        }
        self.pop_resolved(t.common.type_id(), 0);
        Ok(())
    }

    fn decl_tag_resolve(&mut self, t: &TypeRecord<'a>, id: u32) -> Step {
        let nid = t.common.type_id();
        let n = match self.btf.by_id(nid) {
            Some(n) if n.kind().is_decl_tag_target() => n,
            _ => return Err(self.type_fail(id, t, Check::TypeIdInvalid)),
        };
        if self.push_if_needed(&n, nid)? {
            return Ok(());
        }
        let idx = t.component_idx();
        if idx != -1 {
            if n.kind() == Kind::VAR || n.kind() == Kind::TYPEDEF {
                return Err(self.type_fail(id, t, Check::ComponentIdxInvalid));
            }
            let vlen = if n.kind().is_composite() {
                n.vlen() as u32
            } else {
                // A FUNC: count its prototype's parameters.
                self.btf.by_id(n.common.type_id()).map_or(0, |p| p.vlen() as u32)
            };
            if idx as u32 >= vlen {
                return Err(self.type_fail(id, t, Check::ComponentIdxInvalid));
            }
        }
        self.pop_resolved(nid, 0);
        Ok(())
    }

    /// `btf_func_proto_check`: return and parameter types, at the proto's id.
    fn func_proto_check(&mut self, t: &TypeRecord<'a>, id: u32) -> Result<(), Failure> {
        let at = self.btf.abs(t.pos);
        let type_fail = move |check| Failure {
            stage: Stage::Resolve,
            check,
            site: Site::Type { id },
            errno: errno::EINVAL,
            offset: Some(at),
        };
        let ret = t.common.type_id();
        if ret != 0 {
            let Some(rt) = self.btf.by_id(ret) else {
                return Err(type_fail(Check::ReturnTypeInvalid));
            };
            if rt.kind().is_source_only() {
                return Err(type_fail(Check::ReturnTypeInvalid));
            }
            if rt.kind().needs_resolve() && !self.is_resolved(ret) {
                self.resolve(&rt, ret)?;
            }
            if self.type_id_size(ret).is_none() {
                return Err(type_fail(Check::ReturnTypeInvalid));
            }
        }
        let mut nr_args = t.vlen() as usize;
        if nr_args == 0 {
            return Ok(());
        }
        let last = t.param(nr_args - 1);
        if last.type_id == 0 {
            if last.name_off != 0 {
                return Err(type_fail(Check::ArgInvalid { arg: nr_args as u32 }));
            }
            nr_args -= 1;
        }
        for i in 0..nr_args {
            let p = t.param(i);
            let arg = Check::ArgInvalid { arg: i as u32 + 1 };
            let Some(at) = self.btf.by_id(p.type_id) else {
                return Err(type_fail(arg));
            };
            if at.kind().is_source_only() {
                return Err(type_fail(arg));
            }
            if p.name_off != 0
                && !self
                    .btf
                    .strings
                    .get(p.name_off)
                    .is_some_and(super::names::is_identifier)
            {
                return Err(type_fail(arg));
            }
            if at.kind().needs_resolve() && !self.is_resolved(p.type_id) {
                self.resolve(&at, p.type_id)?;
            }
            if self.type_id_size(p.type_id).is_none() {
                return Err(type_fail(arg));
            }
        }
        Ok(())
    }

    /// `btf_resolve_valid`: the bookkeeping a finished walk must leave.
    fn resolve_valid(&self, t: &TypeRecord<'_>, id: u32) -> bool {
        if !self.is_resolved(id) {
            return false;
        }
        let (rid, rsize) = (self.rid(id), self.rsize(id));
        let k = t.kind();
        if k.is_composite() || k == Kind::DATASEC {
            return rid == 0 && rsize == 0;
        }
        if k == Kind::DECL_TAG || k == Kind::FUNC {
            return rid != 0 && rsize == 0;
        }
        if k.is_modifier() || k == Kind::PTR || k == Kind::VAR {
            return match self.btf.by_id(rid) {
                Some(r) => !r.kind().is_modifier() && r.kind() != Kind::VAR && r.kind() != Kind::DATASEC,
                None => false,
            };
        }
        if k == Kind::ARRAY {
            let a = t.array();
            return match self.type_id_size(a.elem_type) {
                Some((_, e, esize)) => !e.kind().is_modifier() && a.nelems.wrapping_mul(esize) == rsize,
                None => false,
            };
        }
        false
    }
}

/// Whether `bits` bits at bit offset `bit_off` fit a struct of `size` bytes
/// when copied as whole bytes (`nr_copy_bits` in the kernel's int checks).
fn int_bits_fit(size: u32, bit_off: u32, bits: u32) -> Result<(), Check> {
    let byte = bit_off / 8;
    let copy = bits + (bit_off & 7);
    if copy > 128 {
        return Err(Check::MemberCopyBitsOver128);
    }
    if size < byte || size - byte < roundup_bytes(copy) {
        return Err(Check::MemberExceedsSize);
    }
    Ok(())
}
