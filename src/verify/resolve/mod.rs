//! The resolve pass: sizes, targets, loops and member layout.
//!
//! Mirrors `btf_check_all_types()`, `btf_resolve()` and the per-kind
//! `*_resolve()` / `*_check_member()` callbacks in kernel/bpf/btf.c (v6.18):
//! an explicit DFS stack of at most 32 vertices, a resolve mode that decides
//! which targets are sinks, and per-type `(resolved_id, resolved_size)`.
//!
//! Lookups by id go to the 8-byte [`Slot`]s; a record is read from the blob
//! only when its tail is needed (members, array, DATASEC entries, INT bits).
//! Top-level FUNCs, PTRs and modifiers that would resolve in one step (the
//! walk would push nothing after them) are resolved without the stack; on
//! vmlinux that is 75,000 of the 91,000 top-level resolves.

use super::btf::{Btf, Slot, VisitState};
use super::error::{errno, Check, Failure, Site, Stage};
use super::meta::{member_bit_offset, member_bitfield_size, roundup_bytes};
use crate::profile::{Features, Profile};
use crate::raw::{Kind, Member, TypeRecord};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering::Acquire, Ordering::Release};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Tbd,
    Ptr,
    StructOrArray,
}

#[derive(Clone, Copy, Debug)]
struct Vertex {
    id: u32,
    next_member: u32,
}

/// Why a resolve walk stopped.
enum Stop {
    /// A push found the stack full (`-E2BIG`).
    TooDeep,
    /// A push found a type already on the stack (`-EEXIST`).
    Loop,
    /// A check failed and said why (boxed: a [`Step`] then fits in two
    /// registers on the hot paths that never fail).
    Fail(Box<Failure>),
}

type Step = Result<(), Stop>;

/// The resolver; its per-type results live in [`Btf::resolution`] (an
/// ARRAY's total size in its slot).
pub struct Resolver<'b, 'a> {
    btf: &'b Btf<'a>,
    features: Features,
    depth_limit: usize,
    stack: Vec<Vertex>,
    mode: Mode,
    /// On the first of two lanes: the FUNC_PROTOs that refer only to types
    /// before them are left to the second lane, which checks each once this
    /// progress is past it ([`Resolver::check_backward_protos`]).
    progress: Option<&'b Progress>,
    /// Whether a check may start a walk. Not on the second lane: the types
    /// its prototypes name were all resolved before their turn.
    walks: bool,
}

/// How far the first lane's `btf_check_all_types()` loop has got, for the
/// FUNC_PROTO checks the second lane makes behind it, and which lane checks
/// the backward-only prototypes of each chunk of `PUBLISH_EVERY` ids.
#[derive(Debug)]
pub struct Progress {
    /// Every id below it has had its turn (stores published with Release,
    /// so the slots it resolved are visible to an Acquire load).
    next: AtomicU32,
    /// The loop has ended; `next` is then the id it failed at, or the end.
    done: AtomicBool,
    /// Per chunk: [`UNCLAIMED`], [`FIRST_LANE`] or [`SECOND_LANE`]. The
    /// first lane claims a chunk as it enters it; the second owns the
    /// first `share` of them from the start and may claim any other the
    /// first has not entered yet.
    owner: Vec<AtomicU8>,
}

const UNCLAIMED: u8 = 0;
const FIRST_LANE: u8 = 1;
const SECOND_LANE: u8 = 2;

impl Progress {
    /// Progress for a table of `nr_types`: the second lane takes the
    /// prototypes in the first `share` of the ids.
    pub fn new(nr_types: u32, share: f64) -> Progress {
        let chunks = nr_types / PUBLISH_EVERY + 1;
        let cut = (nr_types as f64 * share) as u32 / PUBLISH_EVERY;
        Progress {
            next: AtomicU32::new(0),
            done: AtomicBool::new(false),
            owner: (0..chunks)
                .map(|c| AtomicU8::new(if c < cut { SECOND_LANE } else { UNCLAIMED }))
                .collect(),
        }
    }

    /// `lane` claims the chunk of `id` unless it is claimed already;
    /// returns its owner.
    fn claim(&self, id: u32, lane: u8) -> u8 {
        let owner = &self.owner[(id / PUBLISH_EVERY) as usize];
        match owner.compare_exchange(UNCLAIMED, lane, Acquire, Acquire) {
            Ok(_) => lane,
            Err(other) => other,
        }
    }

    fn publish(&self, next: u32) {
        self.next.store(next, Release);
    }

    fn finish(&self, next: u32) {
        self.next.store(next, Release);
        self.done.store(true, Release);
    }

    /// Waits until `id` has had its turn (true) or the loop has stopped
    /// before it (false).
    fn wait_past(&self, id: u32) -> bool {
        super::lanes::wait_until(|| id < self.next.load(Acquire) || self.done.load(Acquire));
        // Once done, `next` is where the loop stopped.
        id < self.next.load(Acquire)
    }
}

/// The first lane tells the second how far it is every this many ids.
const PUBLISH_EVERY: u32 = 1024;

/// The share of the ids whose backward-only prototypes the second lane
/// owns from the start (it claims more chunks once it has caught up). It
/// starts them after the type-tag and struct-metas passes, and checks them
/// slower than the first lane would (the slots they read were last written
/// on the other core). On vmlinux, paired (session 9): 0.75 against 0.7,
/// −0.016 and −0.058 ms; 0.8 and 0.85 leave the second lane ending last.
pub const SECOND_LANE_PROTOS: f64 = 0.75;

mod externs;

impl<'b, 'a> Resolver<'b, 'a> {
    pub fn new(btf: &'b Btf<'a>, profile: &Profile) -> Self {
        Resolver {
            btf,
            features: profile.features,
            depth_limit: profile.limits.resolve_depth,
            stack: Vec::with_capacity(profile.limits.resolve_depth),
            mode: Mode::Tbd,
            progress: None,
            walks: true,
        }
    }

    /// The resolver of the first lane: it leaves the FUNC_PROTOs that refer
    /// only back, below `progress`'s cut (none on one lane), to the second
    /// lane and tells it how far it is.
    pub fn sharing_protos(mut self, progress: &'b Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    #[inline]
    fn slot(&self, id: u32) -> Option<Slot> {
        self.btf.slot(id)
    }

    #[inline]
    fn rid(&self, id: u32) -> u32 {
        self.btf.resolution.at(id).resolved_id()
    }

    #[inline]
    fn rsize(&self, id: u32) -> u32 {
        self.btf.slots.at(id).resolved_size()
    }

    /// `btf_type_needs_resolve` under these rules: before 5.19 a FUNC is
    /// not resolved but checked on its own after its id's resolve step.
    #[inline]
    fn needs_resolve(&self, k: Kind) -> bool {
        k.needs_resolve() && (k != Kind::FUNC || self.features.contains(Features::FUNC_RESOLVE))
    }

    /// `btf_check_all_types()`.
    pub fn check_all_types(&mut self) -> Result<(), Failure> {
        // Tells the second lane where the loop stopped however it ends,
        // a panic included (the lane would wait for ever otherwise).
        struct Finish<'p> {
            progress: Option<&'p Progress>,
            at: u32,
        }
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                if let Some(progress) = self.progress {
                    progress.finish(self.at);
                }
            }
        }
        let mut finish = Finish {
            progress: self.progress,
            at: self.btf.nr_types(),
        };
        self.check_types(&mut finish.at)
    }

    /// The loop of [`Self::check_all_types`]; `stopped_at` is set to the
    /// id whose turn failed.
    fn check_types(&mut self, stopped_at: &mut u32) -> Result<(), Failure> {
        let funcs_resolve = self.features.contains(Features::FUNC_RESOLVE);
        // Whether the second lane checks this chunk's backward-only
        // prototypes.
        let mut shared = self
            .progress
            .is_some_and(|p| p.claim(0, FIRST_LANE) == SECOND_LANE);
        for id in self.btf.ids() {
            if id % PUBLISH_EVERY == 0 {
                if let Some(progress) = self.progress {
                    progress.publish(id);
                    #[cfg(test)]
                    tests::dawdle_before(id);
                    shared = progress.claim(id, FIRST_LANE) == SECOND_LANE;
                }
            }
            let slot = self.btf.slots.at(id);
            let turn = match slot.kind() {
                // Checked on the second lane: see `check_backward_protos`.
                Kind::FUNC_PROTO if shared && !slot.refers_past(id) => Ok(()),
                Kind::FUNC_PROTO => self.func_proto_check(id, slot),
                Kind::FUNC if !funcs_resolve => self.func_check(id),
                k if self.needs_resolve(k) && !self.resolved_in_table(id) => self.resolve(id, slot),
                _ => Ok(()),
            };
            if let Err(f) = turn {
                *stopped_at = id;
                return Err(f);
            }
        }
        Ok(())
    }

    /// The second lane's share of `btf_check_all_types()`: the checks of
    /// the FUNC_PROTOs whose return and parameter types all come before
    /// them, in id order, each once the first lane is past it.
    ///
    /// Such a check starts no walk: when the loop reaches a prototype,
    /// every type before it that needs resolving has been resolved, and
    /// what was found for a resolved type (its resolution, and an ARRAY's
    /// size in its slot) never changes again. So it reads what it would
    /// have read in its turn, and changes nothing the first lane does.
    /// Prototypes at or past the id where the first lane failed are not
    /// checked; a failure here comes before that one.
    ///
    /// It checks the chunks it owns from the start, and once it has caught
    /// up, claims chunks the first lane has not entered yet: the lanes end
    /// within a chunk of each other.
    pub fn check_backward_protos(&mut self, progress: &Progress) -> Result<(), Failure> {
        self.walks = false;
        let nr_types = self.btf.nr_types();
        'chunks: for first in (0..nr_types).step_by(PUBLISH_EVERY as usize) {
            if progress.claim(first, SECOND_LANE) != SECOND_LANE {
                continue;
            }
            for id in first.max(1)..nr_types.min(first + PUBLISH_EVERY) {
                let slot = self.btf.slots.at(id);
                if slot.kind() != Kind::FUNC_PROTO || slot.refers_past(id) {
                    continue;
                }
                if !progress.wait_past(id) {
                    break 'chunks;
                }
                self.func_proto_check(id, slot)?;
            }
        }
        Ok(())
    }

    /// `btf_func_check` as a step of its own (before 5.19): the same rules
    /// as resolving the FUNC, reported at the FUNC, leaving it unresolved.
    fn func_check(&self, id: u32) -> Result<(), Failure> {
        self.func_prototype(id).map(|_| ())
    }

    /// Top-level types that resolve in one step, with no walk: the target
    /// they resolve to. For them `btf_resolve()` would push the type, find
    /// nothing to push after it, pop it resolved and find the result valid.
    /// `None` whenever the walk could do anything else: the walk then
    /// decides and reports.
    #[inline(always)]
    fn direct_target(&self, slot: Slot) -> Option<u32> {
        if self.depth_limit == 0 {
            return None;
        }
        match slot.kind() {
            Kind::FUNC | Kind::FUNC_ADDR => self.func_target_directly(slot),
            Kind::PTR => self.reference_target_directly(slot, true),
            k if k.is_modifier() => self.reference_target_directly(slot, false),
            _ => None,
        }
    }

    /// A FUNC (or FUNC_ADDR) resolves to its FUNC_PROTO when that has no
    /// typed parameter without a name.
    #[inline]
    fn func_target_directly(&self, slot: Slot) -> Option<u32> {
        let proto_id = slot.type_id();
        match self.slot(proto_id) {
            Some(p) if p.kind() == Kind::FUNC_PROTO && !p.flag() => Some(proto_id),
            _ => None,
        }
    }

    /// A PTR (`is_ptr`: pushing it turns the mode to Ptr) or modifier (the
    /// mode stays Tbd) whose target is resolved or a sink resolves to the
    /// sized target, or to VOID, FWD or FUNC_PROTO.
    #[inline]
    fn reference_target_directly(&self, slot: Slot, is_ptr: bool) -> Option<u32> {
        let nid = slot.type_id();
        let n = self.slot(nid)?;
        let nk = n.kind();
        if nk.is_source_only() {
            return None;
        }
        let sink = if is_ptr {
            !(nk.is_modifier() || nk == Kind::PTR)
        } else {
            !self.needs_resolve(nk)
        };
        if !sink && !self.resolved_in_table(nid) {
            return None;
        }
        if is_ptr && nk.is_modifier() {
            // The PTR behind a resolved modifier would be pushed next.
            if let (rid, Some(r)) = self.id_resolve(nid) {
                if r.kind() == Kind::PTR && !self.resolved_in_table(rid) {
                    return None;
                }
            }
        }
        let rid = self.sized_or_void_quiet(nid, n)?;
        // `btf_resolve_valid` of a PTR or modifier.
        let r = self.slot(rid)?;
        if !r.kind().is_final_target() {
            return None;
        }
        Some(rid)
    }

    fn fail(&self, check: Check, site: Site, pos: u32) -> Stop {
        Stop::Fail(Box::new(self.failure(check, site, pos)))
    }

    fn failure(&self, check: Check, site: Site, pos: u32) -> Failure {
        Failure {
            stage: Stage::Resolve,
            check,
            site,
            errno: errno::EINVAL,
            offset: Some(self.btf.abs(pos)),
        }
    }

    #[cold]
    fn type_fail(&self, id: u32, check: Check) -> Stop {
        self.fail(check, Site::Type { id }, self.btf.pos(id))
    }

    #[cold]
    fn type_failure(&self, id: u32, check: Check) -> Failure {
        self.failure(check, Site::Type { id }, self.btf.pos(id))
    }

    /// Whether `id` is resolved (false past the table).
    #[inline]
    fn is_resolved(&self, id: u32) -> bool {
        self.btf.resolution.get(id).is_some_and(|r| r.is_resolved())
    }

    /// [`Self::is_resolved`] for an id known to be in the table.
    #[inline]
    fn resolved_in_table(&self, id: u32) -> bool {
        self.btf.resolution.at(id).is_resolved()
    }

    /// `env_type_is_resolve_sink`: whether the walk stops at a type of kind
    /// `k` (VOID, kind 0, is a sink in every mode).
    #[inline]
    fn is_sink(&self, k: Kind) -> bool {
        match self.mode {
            Mode::Tbd => !self.needs_resolve(k),
            Mode::Ptr => !(k.is_modifier() || k == Kind::PTR),
            Mode::StructOrArray => !(k.is_modifier() || k == Kind::ARRAY || k.is_composite()),
        }
    }

    fn push(&mut self, id: u32, kind: Kind) -> Step {
        if self.stack.len() == self.depth_limit {
            return Err(Stop::TooDeep);
        }
        match self.btf.resolution.get(id) {
            Some(r) if r.state() == VisitState::NotVisited => self.btf.resolution.set_visited(id),
            _ => return Err(Stop::Loop),
        }
        self.stack.push(Vertex { id, next_member: 0 });
        if self.mode == Mode::Tbd {
            if kind == Kind::PTR {
                self.mode = Mode::Ptr;
            } else if kind.is_composite() || kind == Kind::ARRAY {
                self.mode = Mode::StructOrArray;
            }
        }
        Ok(())
    }

    fn pop_resolved(&mut self, resolved_id: u32, resolved_size: u32) {
        if let Some(v) = self.stack.pop() {
            let s = self.btf.slots.at(v.id);
            if s.kind() == Kind::ARRAY {
                self.btf.slots.set(v.id, s.with_array_size(resolved_size));
            }
            self.btf.resolution.set_resolved(v.id, resolved_id);
        }
    }

    fn set_next_member(&mut self, next: u32) {
        if let Some(top) = self.stack.last_mut() {
            top.next_member = next;
        }
    }

    /// `btf_type_id_size`: the sized type behind `id` (following one
    /// resolved modifier/VAR hop), its slot and its size.
    #[inline]
    fn type_id_size(&self, id: u32) -> Option<(u32, Slot, u32)> {
        self.type_id_size_of(id, self.slot(id)?)
    }

    /// [`Self::type_id_size`] with the slot of `id` already at hand.
    #[inline]
    fn type_id_size_of(&self, id: u32, t: Slot) -> Option<(u32, Slot, u32)> {
        if t.is_nosize() {
            return None;
        }
        let k = t.kind();
        if k.has_size() {
            return Some((id, t, t.size()));
        }
        if k == Kind::ARRAY {
            return Some((id, t, t.resolved_size()));
        }
        if k == Kind::PTR {
            return Some((id, t, 8));
        }
        if !k.is_modifier() && k != Kind::VAR {
            return None;
        }
        let rid = self.rid(id);
        let r = self.slot(rid)?;
        if r.is_nosize() {
            return None;
        }
        let rk = r.kind();
        if rk.has_size() {
            Some((rid, r, r.size()))
        } else if rk == Kind::ARRAY {
            Some((rid, r, r.resolved_size()))
        } else if rk == Kind::PTR {
            Some((rid, r, 8))
        } else {
            None
        }
    }

    /// `btf_type_id_resolve`: the recorded `resolved_id` and its slot.
    fn id_resolve(&self, id: u32) -> (u32, Option<Slot>) {
        let rid = self.rid(id);
        (rid, self.slot(rid))
    }

    /// The record of a kept type, read from the blob.
    #[inline]
    fn record(&self, id: u32) -> TypeRecord<'a> {
        self.btf.by_id(id).expect("ids in the table")
    }

    /// `btf_resolve()`: resolves one top-level type, `id` with slot
    /// `slot`, and everything it pulls in; failures of the walk itself are
    /// reported on the top-level type.
    #[inline(always)]
    fn resolve(&mut self, id: u32, slot: Slot) -> Result<(), Failure> {
        match self.direct_target(slot) {
            Some(rid) => {
                self.btf.resolution.set_resolved(id, rid);
                Ok(())
            }
            None => self.walk(id),
        }
    }

    /// [`Self::resolve`] by the explicit stack.
    fn walk(&mut self, id: u32) -> Result<(), Failure> {
        self.mode = Mode::Tbd;
        // The top-level push cannot fail: the stack is empty and the type
        // is not visited.
        let _ = self.push(id, self.btf.kind(id));
        let mut stop = None;
        while let Some(&v) = self.stack.last() {
            if let Err(s) = self.resolve_step(v) {
                stop = Some(s);
                break;
            }
        }
        // Leave no half-walked vertices behind (the kernel frees the env).
        self.stack.clear();
        let top_fail = |check, errno| Failure {
            stage: Stage::Resolve,
            check,
            site: Site::Type { id },
            errno,
            offset: Some(self.btf.abs(self.btf.pos(id))),
        };
        match stop {
            Some(Stop::TooDeep) => Err(top_fail(Check::ResolveTooDeep, errno::E2BIG)),
            Some(Stop::Loop) => Err(top_fail(Check::ResolveLoop, errno::EEXIST)),
            Some(Stop::Fail(f)) => Err(*f),
            None if !self.resolve_valid(id) => Err(top_fail(Check::ResolveStateInvalid, errno::EINVAL)),
            None => Ok(()),
        }
    }

    fn resolve_step(&mut self, v: Vertex) -> Step {
        match self.btf.kind(v.id) {
            k if k.is_modifier() => self.modifier_resolve(v.id),
            Kind::PTR => self.ptr_resolve(v.id),
            Kind::ARRAY => self.array_resolve(v.id),
            Kind::STRUCT | Kind::UNION => self.struct_resolve(v),
            Kind::VAR => self.var_resolve(v.id),
            Kind::DATASEC => self.datasec_resolve(v),
            // A FUNC_ADDR (func-addr) needs what a FUNC needs: a FUNC_PROTO
            // with named parameters.
            Kind::FUNC | Kind::FUNC_ADDR => self.func_resolve(v.id),
            Kind::DECL_TAG => self.decl_tag_resolve(v.id),
            // Kinds that never need resolving are never pushed.
            _ => Err(self.fail(
                Check::ResolveStateInvalid,
                Site::Basic { id: v.id },
                self.btf.pos(v.id),
            )),
        }
    }

    /// Target lookup shared by modifiers, PTR and VAR: must exist and not be
    /// a VAR, DECL_TAG or DATASEC.
    fn target(&self, id: u32) -> Result<(u32, Slot), Stop> {
        let next_id = self.btf.slots.at(id).type_id();
        match self.slot(next_id) {
            Some(n) if !n.kind().is_source_only() => Ok((next_id, n)),
            _ => Err(self.type_fail(id, Check::TypeIdInvalid)),
        }
    }

    /// Push `nid` unless it is a sink or already resolved. `Ok(true)` = pushed.
    fn push_if_needed(&mut self, n: Slot, nid: u32) -> Result<bool, Stop> {
        if !self.is_sink(n.kind()) && !self.resolved_in_table(nid) {
            self.push(nid, n.kind())?;
            return Ok(true);
        }
        Ok(false)
    }

    /// After a modifier resolved to a PTR during a struct/array walk, carry on
    /// from that PTR so pointer cycles through modifiers are caught.
    fn push_ptr_behind_modifier(&mut self, n: Slot, nid: u32) -> Result<bool, Stop> {
        if n.kind().is_modifier() {
            let (rid, r) = self.id_resolve(nid);
            if let Some(r) = r {
                if r.kind() == Kind::PTR && !self.is_sink(r.kind()) && !self.resolved_in_table(rid) {
                    self.push(rid, r.kind())?;
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The no-size fallback of modifiers and PTR: accept VOID, FWD and
    /// FUNC_PROTO (through a resolved FUNC), else `Invalid type_id`.
    fn sized_or_void(&self, id: u32, nid: u32, n: Slot) -> Result<u32, Stop> {
        self.sized_or_void_quiet(nid, n)
            .ok_or_else(|| self.type_fail(id, Check::TypeIdInvalid))
    }

    /// [`Self::sized_or_void`]'s answer, `None` where it fails.
    #[inline]
    fn sized_or_void_quiet(&self, nid: u32, n: Slot) -> Option<u32> {
        if let Some((sid, _, _)) = self.type_id_size_of(nid, n) {
            return Some(sid);
        }
        let (mut rid, mut r) = (nid, Some(n));
        if self.resolved_in_table(nid) {
            (rid, r) = self.id_resolve(nid);
        }
        match r.map(Slot::kind) {
            Some(Kind(0) | Kind::FWD | Kind::FUNC_PROTO) => Some(rid),
            _ => None,
        }
    }

    fn modifier_resolve(&mut self, id: u32) -> Step {
        let (nid, n) = self.target(id)?;
        if self.push_if_needed(n, nid)? {
            return Ok(());
        }
        let rid = self.sized_or_void(id, nid, n)?;
        self.pop_resolved(rid, 0);
        Ok(())
    }

    fn ptr_resolve(&mut self, id: u32) -> Step {
        let (nid, n) = self.target(id)?;
        if self.push_if_needed(n, nid)? || self.push_ptr_behind_modifier(n, nid)? {
            return Ok(());
        }
        let rid = self.sized_or_void(id, nid, n)?;
        self.pop_resolved(rid, 0);
        Ok(())
    }

    fn var_resolve(&mut self, id: u32) -> Step {
        let (nid, n) = self.target(id)?;
        if self.push_if_needed(n, nid)? || self.push_ptr_behind_modifier(n, nid)? {
            return Ok(());
        }
        if self.is_extern_var(id) {
            // extern-var: typeless (`const void`) and incomplete ksyms.
            let rid = self.sized_or_void(id, nid, n)?;
            self.pop_resolved(rid, 0);
            return Ok(());
        }
        match self.type_id_size(nid) {
            Some((sid, _, _)) => {
                self.pop_resolved(sid, 0);
                Ok(())
            }
            None => Err(self.type_fail(id, Check::TypeIdInvalid)),
        }
    }

    fn array_resolve(&mut self, id: u32) -> Step {
        let a = self.record(id).array();
        let usable = |x: Option<Slot>| x.filter(|r| !r.is_nosize() && !r.kind().is_source_only());

        let Some(index) = usable(self.slot(a.index_type)) else {
            return Err(self.type_fail(id, Check::ArrayIndexInvalid));
        };
        if self.push_if_needed(index, a.index_type)? {
            return Ok(());
        }
        match self.type_id_size(a.index_type) {
            // An INT's flag says it is regular.
            Some((_, r, _)) if r.kind() == Kind::INT && r.flag() => {}
            _ => return Err(self.type_fail(id, Check::ArrayIndexInvalid)),
        }

        let Some(elem) = usable(self.slot(a.elem_type)) else {
            return Err(self.type_fail(id, Check::ArrayElemInvalid));
        };
        if self.push_if_needed(elem, a.elem_type)? {
            return Ok(());
        }
        let Some((eid, e, esize)) = self.type_id_size(a.elem_type) else {
            return Err(self.type_fail(id, Check::ArrayElemInvalid));
        };
        if e.kind() == Kind::INT && !e.flag() {
            return Err(self.type_fail(id, Check::ArrayOfIrregularInt));
        }
        if a.nelems != 0 && esize > u32::MAX / a.nelems {
            return Err(self.type_fail(id, Check::ArraySizeOverflow));
        }
        self.pop_resolved(eid, esize.wrapping_mul(a.nelems));
        Ok(())
    }

    fn struct_resolve(&mut self, v: Vertex) -> Step {
        let t = self.record(v.id);
        if v.next_member > 0 {
            // The member pushed last time is resolved now: check it.
            let i = v.next_member as usize - 1;
            let m = t.member(i);
            if !self.is_resolved(m.type_id) {
                return Err(self.fail(Check::ResolveStateInvalid, Site::Silent { id: None }, t.pos));
            }
            let mt = self.btf.slots.at(m.type_id);
            self.check_member(&t, v.id, i, m, mt)?;
        }
        for i in v.next_member as usize..t.vlen() as usize {
            let m = t.member(i);
            let mt = match self.slot(m.type_id) {
                Some(mt) if !mt.is_nosize() && !mt.kind().is_source_only() => mt,
                _ => return Err(self.member_fail(&t, v.id, i, m.type_id, Check::MemberTypeInvalid)),
            };
            if !self.is_sink(mt.kind()) && !self.resolved_in_table(m.type_id) {
                self.set_next_member(i as u32 + 1);
                return self.push(m.type_id, mt.kind());
            }
            self.check_member(&t, v.id, i, m, mt)?;
        }
        self.pop_resolved(0, 0);
        Ok(())
    }

    #[cold]
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
                index: index as u32,
                shown_type,
            },
            owner.pos + owner.element_pos(index),
        )
    }

    /// `check_member` / `check_kflag_member` of the member type's kind;
    /// `mt` is the slot of `m.type_id`.
    #[inline(always)]
    fn check_member(&self, owner: &TypeRecord<'_>, owner_id: u32, index: usize, m: Member, mt: Slot) -> Step {
        let (m, mt) = if mt.kind().is_modifier() {
            // Checked as the resolved type (never a modifier), showing its id.
            match self.type_id_size(m.type_id) {
                Some((rid, r, _)) => (Member { type_id: rid, ..m }, r),
                None => {
                    return Err(self.member_fail(owner, owner_id, index, m.type_id, Check::MemberTypeInvalid))
                }
            }
        } else {
            (m, mt)
        };
        if owner.kflag() {
            return self.check_kflag_member(owner, owner_id, index, m, mt);
        }
        self.check_plain_member(owner, owner_id, index, m, mt)
    }

    /// `check_member` of a non-modifier member type, the offset word read
    /// as a plain bit offset.
    #[inline(always)]
    fn check_plain_member(
        &self,
        owner: &TypeRecord<'_>,
        owner_id: u32,
        index: usize,
        m: Member,
        mt: Slot,
    ) -> Step {
        let fail = |check| self.member_fail(owner, owner_id, index, m.type_id, check);
        let size = owner.common.size();
        let bits_off = m.offset;
        let bytes_off = bits_off / 8;
        match mt.kind() {
            Kind::INT => {
                let int_off = mt.int_offset();
                let int_bits = mt.int_bits();
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
            k @ (Kind::ARRAY | Kind::STRUCT | Kind::UNION | Kind::ENUM | Kind::ENUM64) => {
                if bits_off & 7 != 0 {
                    return Err(fail(Check::MemberNotByteAligned));
                }
                let msize = if k == Kind::ARRAY {
                    mt.resolved_size()
                } else {
                    mt.size()
                };
                if size.wrapping_sub(bytes_off) < msize {
                    return Err(fail(Check::MemberExceedsSize));
                }
                Ok(())
            }
            Kind::FLOAT => {
                let fsize = mt.size() as u64;
                let align_bits = fsize.min(8) * 8;
                if align_bits == 0 || !(m.offset as u64).is_multiple_of(align_bits) {
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
        mt: Slot,
    ) -> Step {
        let fail = |check| self.member_fail(owner, owner_id, index, m.type_id, check);
        let size = owner.common.size();
        let bit_off = member_bit_offset(true, m.offset);
        let nr_bits = member_bitfield_size(true, m.offset);
        match mt.kind() {
            Kind::INT => {
                // An INT's flag says it is regular.
                if !mt.flag() {
                    return Err(fail(Check::MemberBaseTypeInvalid));
                }
                let int_bits = mt.int_bits();
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
                self.check_plain_member(owner, owner_id, index, m, mt)
            }
            _ => Err(self.fail(Check::MemberTypeInvalid, Site::Basic { id: owner_id }, owner.pos)),
        }
    }

    fn datasec_resolve(&mut self, v: Vertex) -> Step {
        if super::meta::datasec_layout_at_resolve(self.features) {
            return self.datasec_resolve_with_externs(v);
        }
        let t = self.record(v.id);
        self.mode = Mode::Tbd;
        for i in v.next_member as usize..t.vlen() as usize {
            let e = t.secinfo(i);
            let site = Site::SecInfo {
                id: v.id,
                index: i as u32,
            };
            let pos = t.pos + t.element_pos(i);
            let var = match self.slot(e.type_id) {
                Some(var) if var.kind() == Kind::VAR => var,
                _ => return Err(self.fail(Check::SecInfoNotVar, site, pos)),
            };
            if !self.is_sink(var.kind()) && !self.resolved_in_table(e.type_id) {
                self.set_next_member(i as u32 + 1);
                return self.push(e.type_id, var.kind());
            }
            let Some((_, _, size)) = self.type_id_size(var.type_id()) else {
                return Err(self.fail(Check::SecInfoTypeInvalid, site, pos));
            };
            if e.size < size {
                return Err(self.fail(Check::SecInfoSizeInvalid, site, pos));
            }
        }
        self.pop_resolved(0, 0);
        Ok(())
    }

    fn func_resolve(&mut self, id: u32) -> Step {
        let proto_id = self.func_prototype(id).map_err(|f| Stop::Fail(Box::new(f)))?;
        self.pop_resolved(proto_id, 0);
        Ok(())
    }

    /// `btf_func_check`: a FUNC's type is a FUNC_PROTO whose typed
    /// parameters are all named. Returns the prototype's id.
    fn func_prototype(&self, id: u32) -> Result<u32, Failure> {
        let proto_id = self.btf.slots.at(id).type_id();
        let proto = match self.slot(proto_id) {
            Some(p) if p.kind() == Kind::FUNC_PROTO => p,
            _ => return Err(self.type_failure(id, Check::TypeIdInvalid)),
        };
        // The flag: some parameter has a type but no name. extern-func lets
        // an extern FUNC's parameters be unnamed.
        let extern_ok = self.features.contains(Features::EXTERN_FUNC) && self.record(id).vlen() == 2;
        if proto.flag() && !extern_ok {
            let params = self.record(proto_id).params().enumerate();
            for (i, p) in params {
                if p.name_off == 0 && p.type_id != 0 {
                    return Err(self.type_failure(id, Check::ArgInvalid { arg: i as u32 + 1 }));
                }
            }
        }
        Ok(proto_id)
    }

    fn decl_tag_resolve(&mut self, id: u32) -> Step {
        let t = self.record(id);
        let nid = t.common.type_id();
        let n = match self.slot(nid) {
            Some(n) if n.kind().is_decl_tag_target() => n,
            _ => return Err(self.type_fail(id, Check::TypeIdInvalid)),
        };
        if self.push_if_needed(n, nid)? {
            return Ok(());
        }
        let idx = t.component_idx();
        if idx != -1 {
            if n.kind() == Kind::VAR || n.kind() == Kind::TYPEDEF {
                return Err(self.type_fail(id, Check::ComponentIdxInvalid));
            }
            let vlen = if n.kind().is_composite() {
                self.record(nid).vlen()
            } else {
                // A FUNC: count its prototype's parameters.
                self.btf.by_id(n.type_id()).map_or(0, |p| p.vlen())
            };
            if idx as u32 >= vlen {
                return Err(self.type_fail(id, Check::ComponentIdxInvalid));
            }
        }
        self.pop_resolved(nid, 0);
        Ok(())
    }

    /// `btf_func_proto_check`: return and parameter types, at the proto's id.
    fn func_proto_check(&mut self, id: u32, proto: Slot) -> Result<(), Failure> {
        let t = self.record(id);
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
            let Some(rt) = self.slot(ret) else {
                return Err(type_fail(Check::ReturnTypeInvalid));
            };
            if rt.kind().is_source_only() && self.features.contains(Features::SOURCE_ONLY_RETURN) {
                return Err(type_fail(Check::ReturnTypeInvalid));
            }
            if !self.is_sized_after_resolving(ret, rt)? {
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
        // The meta pass found every name empty or an identifier.
        let names_ok = proto.names_ok();
        for i in 0..nr_args {
            let p = t.param(i);
            let arg = Check::ArgInvalid { arg: i as u32 + 1 };
            let Some(at) = self.slot(p.type_id) else {
                return Err(type_fail(arg));
            };
            if at.kind().is_source_only() && self.features.contains(Features::SOURCE_ONLY_ARGS) {
                return Err(type_fail(arg));
            }
            if !names_ok
                && p.name_off != 0
                && !(self.btf.strings.offset_valid(p.name_off) && self.btf.is_identifier(p.name_off))
            {
                return Err(type_fail(arg));
            }
            if !self.is_sized_after_resolving(p.type_id, at)? {
                return Err(type_fail(arg));
            }
        }
        Ok(())
    }

    /// Resolves `id` (whose slot is `t`) if it needs it and is not yet
    /// resolved; then whether `btf_type_id_size` finds it sized.
    #[inline(always)]
    fn is_sized_after_resolving(&mut self, id: u32, t: Slot) -> Result<bool, Failure> {
        // Not on the second lane: everything its prototypes name was
        // resolved before their turn (see `check_backward_protos`), so it
        // does not read the resolve table, which the first lane writes
        // (paired, aligned builds: the resolve join 0.028 ms shorter).
        debug_assert!(
            self.walks || !self.needs_resolve(t.kind()) || self.resolved_in_table(id),
            "the second lane checked a prototype naming unresolved type {id}"
        );
        if self.walks && self.needs_resolve(t.kind()) && !self.resolved_in_table(id) {
            self.resolve(id, t)?;
            return Ok(self.type_id_size(id).is_some());
        }
        Ok(self.type_id_size_of(id, t).is_some())
    }

    /// `btf_resolve_valid`: the bookkeeping a finished walk must leave.
    fn resolve_valid(&self, id: u32) -> bool {
        if !self.is_resolved(id) {
            return false;
        }
        let (rid, rsize) = (self.rid(id), self.rsize(id));
        let k = self.btf.kind(id);
        if k.is_composite() || k == Kind::DATASEC {
            return rid == 0 && rsize == 0;
        }
        if k == Kind::DECL_TAG || k == Kind::FUNC || k == Kind::FUNC_ADDR {
            return rid != 0 && rsize == 0;
        }
        if k.is_modifier() || k == Kind::PTR || k == Kind::VAR {
            return match self.slot(rid) {
                Some(r) => r.kind().is_final_target(),
                None => false,
            };
        }
        if k == Kind::ARRAY {
            let a = self.record(id).array();
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

#[cfg(test)]
mod tests {
    use super::PUBLISH_EVERY;
    use crate::builder::BtfBuilder;
    use crate::profile::Profile;
    use crate::verify::{verify, Check, Options, Site, Threads};
    use std::cell::Cell;

    thread_local! {
        /// The first resolve lane (the calling thread) waits before it
        /// claims the chunk that starts at this id, so that the second lane,
        /// done with its own, claims it first.
        static DAWDLE_BEFORE: Cell<u32> = const { Cell::new(0) };
    }

    pub(super) fn dawdle_before(id: u32) {
        if id != 0 && DAWDLE_BEFORE.with(Cell::get) == id {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    #[test]
    fn a_chunk_the_second_lane_claims_ahead_is_checked_there() {
        // ~3,100 types: the second lane owns chunks 0 and 1 from the start
        // (3/4 of the ids, in whole chunks); chunk 2 goes to whichever lane claims it
        // first. A prototype there with a FWD parameter (declared before
        // it, so backward-only) is rejected.
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, 1);
        let fwd = b.fwd("opaque", false);
        while b.next_id() < 2 * PUBLISH_EVERY + 100 {
            b.func_proto(int, &[("x", int)]);
        }
        let bad = b.func_proto(int, &[("x", int), ("o", fwd)]);
        while b.next_id() < 3 * PUBLISH_EVERY {
            b.func_proto(int, &[("x", int)]);
        }
        let blob = b.build();
        let on = |threads| {
            verify(
                &blob,
                &Options {
                    profile: Profile::LINUX_6_18,
                    threads,
                    ..Options::default()
                },
            )
        };
        let one = on(Threads::One);
        let failure = one.failure.expect("rejected");
        assert_eq!(failure.check, Check::ArgInvalid { arg: 2 });
        assert_eq!(failure.site, Site::Type { id: bad });
        DAWDLE_BEFORE.with(|d| d.set(2 * PUBLISH_EVERY));
        let two = on(Threads::Two);
        DAWDLE_BEFORE.with(|d| d.set(0));
        assert_eq!(two.failure, one.failure);
    }
}
