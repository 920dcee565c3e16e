//! DATASEC resolution under the extern proposals (`extern-func`,
//! `extern-var`, `datasec-extern-uniform`; proposals.md P1/P2). Never runs
//! under a kernel profile: there the meta pass checks entry layout and
//! [`Resolver::datasec_resolve`] mirrors `btf_datasec_resolve()`.
//!
//! Entry layout moves here because it depends on each entry's kind:
//! - an extern FUNC entry must have size 0;
//! - an extern VAR entry sits at offset 0 with size 0 or at least its
//!   variable's size (clang emits the variable's size; see docs/proposals.md);
//! - any other VAR entry keeps the kernel's rules (non-zero size, sorted,
//!   not overlapping, inside the section, at least its variable's size);
//! - a DATASEC of size 0 must hold at least one entry, all of them extern.

use super::{Resolver, Step, Vertex};
use crate::profile::Features;
use crate::raw::Kind;
use crate::verify::error::{Check, Site};

/// What a DATASEC entry is, for the layout rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    Func,
    ExternVar,
    Var,
}

impl<'b, 'a> Resolver<'b, 'a> {
    /// A VAR with extern linkage, under extern-var.
    pub(super) fn is_extern_var(&self, id: u32) -> bool {
        self.features.contains(Features::EXTERN_VAR) && self.record(id).var_linkage() == 2
    }

    fn entry_kind(&self, type_id: u32) -> Option<Entry> {
        match self.slot(type_id)?.kind() {
            Kind::FUNC if self.features.contains(Features::EXTERN_FUNC) => Some(Entry::Func),
            Kind::VAR if self.is_extern_var(type_id) => Some(Entry::ExternVar),
            Kind::VAR => Some(Entry::Var),
            _ => None,
        }
    }

    pub(super) fn datasec_resolve_with_externs(&mut self, v: Vertex) -> Step {
        let t = self.record(v.id);
        self.mode = super::Mode::Tbd;
        let entry_fail = |r: &Self, i: usize, check| {
            let site = Site::SecInfo {
                id: v.id,
                index: i as u32,
            };
            r.fail(check, site, t.pos + t.element_pos(i))
        };
        if v.next_member == 0 {
            self.check_extern_layout(v.id)?;
        }
        for i in v.next_member as usize..t.vlen() as usize {
            let e = t.secinfo(i);
            let Some(kind) = self.entry_kind(e.type_id) else {
                return Err(entry_fail(self, i, Check::SecInfoNotVar));
            };
            let slot = self.slot(e.type_id).expect("entry_kind found it");
            if !self.is_sink(slot.kind()) && !self.resolved_in_table(e.type_id) {
                self.set_next_member(i as u32 + 1);
                return self.push(e.type_id, slot.kind());
            }
            if kind == Entry::Func {
                continue;
            }
            let var_size = match self.type_id_size(slot.type_id()) {
                Some((_, _, size)) => size,
                None if kind == Entry::ExternVar => 0,
                None => return Err(entry_fail(self, i, Check::SecInfoTypeInvalid)),
            };
            let size_ok = e.size >= var_size || (kind == Entry::ExternVar && e.size == 0);
            if !size_ok {
                return Err(entry_fail(self, i, Check::SecInfoSizeInvalid));
            }
        }
        self.pop_resolved(0, 0);
        Ok(())
    }

    /// The layout rules that depend on entry kinds but not on resolution.
    fn check_extern_layout(&self, id: u32) -> Result<(), super::Stop> {
        let t = self.record(id);
        let sec_size = t.common.size();
        // Size 0 first, as the kernel's meta pass would say it: only a
        // section of nothing but externs may be empty.
        let is_extern = |i| {
            matches!(
                self.entry_kind(t.secinfo(i).type_id),
                Some(Entry::Func | Entry::ExternVar)
            )
        };
        let all_extern = (0..t.vlen() as usize).all(is_extern);
        if sec_size == 0 && (t.vlen() == 0 || !all_extern) {
            return Err(self.type_fail(id, Check::DatasecSizeZero));
        }
        let (mut last_end, mut externs, mut allocated) = (0u64, 0u32, 0u32);
        for i in 0..t.vlen() as usize {
            let e = t.secinfo(i);
            let fail = |check| {
                let site = Site::SecInfo { id, index: i as u32 };
                self.fail(check, site, t.pos + t.element_pos(i))
            };
            match self.entry_kind(e.type_id) {
                None => return Err(fail(Check::SecInfoNotVar)),
                Some(Entry::Func) => {
                    externs += 1;
                    if e.size != 0 {
                        return Err(fail(Check::SecInfoFuncSizeNotZero));
                    }
                }
                Some(Entry::ExternVar) => {
                    externs += 1;
                    if e.offset != 0 {
                        return Err(fail(Check::SecInfoExternOffset));
                    }
                }
                Some(Entry::Var) => {
                    allocated += 1;
                    if e.size == 0 {
                        return Err(fail(Check::SecInfoSizeInvalid));
                    }
                    if (e.offset as u64) < last_end {
                        return Err(fail(Check::SecInfoOffsetInvalid));
                    }
                    last_end = e.offset as u64 + e.size as u64;
                    if last_end > sec_size as u64 {
                        return Err(fail(Check::SecInfoEndBeyondSize));
                    }
                }
            }
        }
        if self.features.contains(Features::DATASEC_EXTERN_UNIFORM) && externs > 0 && allocated > 0 {
            return Err(self.type_fail(id, Check::DatasecExternMixed));
        }
        Ok(())
    }
}
