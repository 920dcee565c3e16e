//! The structural pass: every record, in order, checked on its own.
//!
//! Mirrors `btf_check_all_metas()` / `btf_check_meta()` and the per-kind
//! `*_check_meta()` callbacks in kernel/bpf/btf.c (v6.18). Records are pulled
//! one at a time so the `meta_left` arithmetic and check order match.

use super::btf::{Btf, PositionTable, Slot, SlotTable, Storage, MAX_SLOT_ID, VOID_POS};
use super::error::{errno, Check, Failure, Site, Stage};
use super::lanes::{wait_until, Lanes};
use super::names::{is_printable, is_section_name};
use crate::profile::{Features, Profile};
use crate::raw::types::COMMON_LEN;
use crate::raw::{CommonType, FuncAddr, Kind, TypeRecord};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering::Acquire, Ordering::Release};

/// `BITS_ROUNDUP_BYTES`, without overflow.
#[inline]
pub fn roundup_bytes(bits: u32) -> u32 {
    (bits >> 3) + u32::from(bits & 7 != 0)
}

struct Meta<'b, 'a> {
    btf: &'b Btf<'a>,
    profile: &'b Profile,
    id: u32,
    /// `profile.info_mask()`, computed once per run of records.
    info_mask: u32,
}

/// A check's outcome; the failure is boxed so that the result fits in a
/// register on the paths that pass.
type MetaResult = Result<(), Box<Failure>>;

impl Meta<'_, '_> {
    #[cold]
    fn fail(&self, check: Check, site: Site, pos: u32) -> Box<Failure> {
        let errno = match check {
            Check::IntEncodingUnsupported => errno::ENOTSUPP,
            _ => errno::EINVAL,
        };
        Box::new(Failure {
            stage: Stage::Meta,
            check,
            site,
            errno,
            offset: Some(self.btf.abs(pos)),
        })
    }

    /// A type-line error at the record start.
    fn type_err(&self, rec: &TypeRecord<'_>, check: Check) -> Box<Failure> {
        self.fail(check, Site::Type { id: self.id }, rec.pos)
    }

    #[inline]
    fn name_is_identifier(&self, off: u32) -> bool {
        self.btf.strings.offset_valid(off) && self.btf.is_identifier(off)
    }

    /// `BTF_TYPE_ID_VALID` (the id limit is 0xffff before 5.4).
    #[inline]
    fn id_in_range(&self, id: u32) -> bool {
        id <= self.profile.limits.max_type_table
    }

    /// Names are checked at all (4.20 on).
    #[inline]
    fn names_checked(&self) -> bool {
        self.profile.has(Features::NAME_CHECKS)
    }

    fn name_is_nonempty(&self, off: u32) -> bool {
        self.btf.strings.get(off).is_some_and(|s| !s.is_empty())
    }

    /// The table slot of an accepted record. [`Slot::FLAG`] marks a
    /// FUNC_PROTO whose FUNCs will be rejected for a parameter with a type
    /// but no name; [`Slot::NAMES_OK`] one whose parameter names need no
    /// second look when the resolve pass checks it. A slot never depends
    /// on the record's id (the second meta lane does not know its ids).
    fn slot_of(&self, rec: &TypeRecord<'_>) -> Slot {
        let size_type = rec.common.size_type;
        match rec.kind() {
            Kind::INT => Slot::int(size_type, rec.int_data()),
            Kind::FUNC_PROTO => {
                let (mut unnamed_arg, mut names_ok) = (false, true);
                let mut highest_ref = size_type;
                for p in rec.params() {
                    unnamed_arg |= p.name_off == 0 && p.type_id != 0;
                    names_ok &= p.name_off == 0 || self.name_is_identifier(p.name_off);
                    highest_ref = highest_ref.max(p.type_id);
                }
                Slot::proto(size_type, unnamed_arg, names_ok, highest_ref)
            }
            kind => Slot::new(kind, size_type, false),
        }
    }

    /// Dispatches on the kind; `rec` carries the full tail (checked present).
    fn check_kind(&self, rec: &TypeRecord<'_>) -> MetaResult {
        match rec.kind() {
            Kind::INT => self.int(rec),
            Kind::PTR | Kind::TYPEDEF | Kind::VOLATILE | Kind::CONST | Kind::RESTRICT | Kind::TYPE_TAG => {
                self.reference(rec)
            }
            Kind::ARRAY => self.array(rec),
            Kind::STRUCT | Kind::UNION => self.composite(rec),
            Kind::ENUM | Kind::ENUM64 => self.enumeration(rec),
            Kind::FWD => self.fwd(rec),
            Kind::FUNC => self.func(rec),
            Kind::FUNC_PROTO => self.func_proto(rec),
            Kind::VAR => self.var(rec),
            Kind::DATASEC => self.datasec(rec),
            Kind::FLOAT => self.float(rec),
            Kind::DECL_TAG => self.decl_tag(rec),
            Kind::FUNC_ADDR if self.btf.shapes.is_checked(Kind::FUNC_ADDR) => self.func_addr(rec),
            // skip-unknown-kinds: sized by the layout section, not checked.
            k if self.btf.shapes.is_described(k) => Ok(()),
            // Unknown kinds were rejected before dispatch.
            _ => Err(self.fail(
                Check::UnknownKind { kind: rec.kind().0 },
                Site::Plain { id: Some(self.id) },
                rec.pos,
            )),
        }
    }

    fn no_vlen_no_kflag(&self, rec: &TypeRecord<'_>) -> MetaResult {
        if rec.vlen() != 0 {
            return Err(self.type_err(rec, Check::VlenNotZero));
        }
        if rec.kflag() {
            return Err(self.type_err(rec, Check::KflagNotAllowed));
        }
        Ok(())
    }

    fn int(&self, rec: &TypeRecord<'_>) -> MetaResult {
        self.no_vlen_no_kflag(rec)?;
        let data = rec.int_data();
        if data & 0xf000_0000 != 0 {
            return Err(self.fail(
                Check::IntDataReservedBits { data },
                Site::Basic { id: self.id },
                rec.pos,
            ));
        }
        let bits = (data & 0xff) + ((data >> 16) & 0xff);
        if !self.profile.has(Features::INT128) && bits > 64 {
            return Err(self.type_err(rec, Check::IntBitsOver64));
        }
        if bits > 128 {
            return Err(self.type_err(rec, Check::IntBitsOver128));
        }
        if roundup_bytes(bits) > rec.common.size() {
            return Err(self.type_err(rec, Check::IntBitsOverSize));
        }
        let encoding = (data >> 24) & 0xf;
        if !matches!(encoding, 0 | 1 | 2 | 4) {
            return Err(self.type_err(rec, Check::IntEncodingUnsupported));
        }
        Ok(())
    }

    /// PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG
    /// (`btf_ref_type_check_meta`).
    fn reference(&self, rec: &TypeRecord<'_>) -> MetaResult {
        let kind = rec.kind();
        if rec.vlen() != 0 {
            return Err(self.type_err(rec, Check::VlenNotZero));
        }
        let kflag_ok = kind == Kind::TYPE_TAG && self.profile.has(Features::TAG_KFLAG);
        if rec.kflag() && !kflag_ok {
            return Err(self.type_err(rec, Check::KflagNotAllowed));
        }
        if !self.id_in_range(rec.common.type_id()) {
            return Err(self.type_err(rec, Check::TypeIdInvalid));
        }
        let name_ok = !self.names_checked()
            || match kind {
                Kind::TYPEDEF => rec.name_off() != 0 && self.name_is_identifier(rec.name_off()),
                Kind::TYPE_TAG => self.name_is_nonempty(rec.name_off()),
                _ => rec.name_off() == 0,
            };
        if !name_ok {
            return Err(self.type_err(rec, Check::NameInvalid));
        }
        Ok(())
    }

    fn array(&self, rec: &TypeRecord<'_>) -> MetaResult {
        if rec.name_off() != 0 && self.names_checked() {
            return Err(self.type_err(rec, Check::NameInvalid));
        }
        self.no_vlen_no_kflag(rec)?;
        if rec.common.size() != 0 {
            return Err(self.type_err(rec, Check::ArraySizeNotZero));
        }
        let a = rec.array();
        if a.elem_type == 0 || !self.id_in_range(a.elem_type) {
            return Err(self.type_err(rec, Check::ArrayElemInvalid));
        }
        if a.index_type == 0 || !self.id_in_range(a.index_type) {
            return Err(self.type_err(rec, Check::ArrayIndexInvalid));
        }
        Ok(())
    }

    fn composite(&self, rec: &TypeRecord<'_>) -> MetaResult {
        let is_union = rec.kind() == Kind::UNION;
        let names = self.names_checked();
        if names && rec.name_off() != 0 && !self.name_is_identifier(rec.name_off()) {
            return Err(self.type_err(rec, Check::NameInvalid));
        }
        let size = rec.common.size();
        let mut last_offset = 0u32;
        for i in 0..rec.vlen() as usize {
            let m = rec.member(i);
            let index = i as u32;
            let member_err = |check| {
                self.fail(
                    check,
                    Site::Member {
                        id: self.id,
                        index,
                        shown_type: m.type_id,
                    },
                    rec.pos + rec.element_pos(i),
                )
            };
            if !self.btf.strings.offset_valid(m.name_off) {
                return Err(member_err(Check::MemberNameOffsetInvalid { off: m.name_off }));
            }
            if names && m.name_off != 0 && !self.name_is_identifier(m.name_off) {
                return Err(member_err(Check::MemberNameInvalid));
            }
            if m.type_id == 0 || !self.id_in_range(m.type_id) {
                return Err(member_err(Check::MemberTypeIdInvalid));
            }
            let offset = member_bit_offset(rec.kflag(), m.offset);
            if is_union && offset != 0 {
                return Err(member_err(Check::MemberBitsOffsetInvalid));
            }
            // ">" rather than ">=": a trailing flexible array shares its offset.
            if last_offset > offset {
                return Err(member_err(Check::MemberBitsOffsetInvalid));
            }
            if roundup_bytes(offset) > size {
                return Err(member_err(Check::MemberBitsOffsetBeyondSize));
            }
            last_offset = offset;
        }
        Ok(())
    }

    fn enumeration(&self, rec: &TypeRecord<'_>) -> MetaResult {
        let size = rec.common.size();
        // kind_flag (signedness) came with ENUM64 (6.0); before, it was
        // rejected ahead of the size check.
        if rec.kflag() && !self.profile.has(Features::ENUM64) {
            return Err(self.type_err(rec, Check::KflagNotAllowed));
        }
        if !self.profile.has(Features::ENUM_SIZES) {
            if size != 4 {
                return Err(self.type_err(rec, Check::EnumSizeNot4));
            }
        } else if size > 8 || !size.is_power_of_two() {
            return Err(self.type_err(rec, Check::EnumSizeUnexpected));
        }
        let names = self.names_checked();
        if names && rec.name_off() != 0 && !self.name_is_identifier(rec.name_off()) {
            return Err(self.type_err(rec, Check::NameInvalid));
        }
        for i in 0..rec.vlen() as usize {
            let e = rec.enumerator(i);
            let site = Site::Enumerator {
                id: self.id,
                index: i as u32,
            };
            let pos = rec.pos + rec.element_pos(i);
            if !self.btf.strings.offset_valid(e.name_off) {
                return Err(self.fail(Check::EnumeratorNameOffsetInvalid { off: e.name_off }, site, pos));
            }
            if names && (e.name_off == 0 || !self.name_is_identifier(e.name_off)) {
                return Err(self.fail(Check::EnumeratorNameInvalid, site, pos));
            }
        }
        Ok(())
    }

    fn fwd(&self, rec: &TypeRecord<'_>) -> MetaResult {
        if rec.vlen() != 0 {
            return Err(self.type_err(rec, Check::VlenNotZero));
        }
        if rec.common.type_id() != 0 {
            return Err(self.type_err(rec, Check::FwdTypeNotZero));
        }
        if self.names_checked() && (rec.name_off() == 0 || !self.name_is_identifier(rec.name_off())) {
            return Err(self.type_err(rec, Check::NameInvalid));
        }
        Ok(())
    }

    fn func(&self, rec: &TypeRecord<'_>) -> MetaResult {
        if rec.name_off() == 0 || !self.name_is_identifier(rec.name_off()) {
            return Err(self.type_err(rec, Check::NameInvalid));
        }
        // vlen holds the linkage (5.6): static (0) and global (1); extern
        // (2) only with the extern-func proposal. Before 5.6 it must be 0.
        if !self.profile.has(Features::FUNC_LINKAGE) {
            if rec.vlen() != 0 {
                return Err(self.type_err(rec, Check::VlenNotZero));
            }
        } else {
            let max = if self.profile.has(Features::EXTERN_FUNC) {
                2
            } else {
                1
            };
            if rec.vlen() > max {
                return Err(self.type_err(rec, Check::FuncLinkageInvalid));
            }
        }
        if rec.kflag() {
            return Err(self.type_err(rec, Check::KflagNotAllowed));
        }
        Ok(())
    }

    /// func-addr (P4): `name_off` names the function (the kernel's
    /// identifier rule, which allows `.isra.0`-style suffixes), `type` is
    /// checked at resolve like a FUNC's; the tail holds a non-zero address
    /// and the defined flag bits only.
    fn func_addr(&self, rec: &TypeRecord<'_>) -> MetaResult {
        self.no_vlen_no_kflag(rec)?;
        if rec.name_off() == 0 || !self.name_is_identifier(rec.name_off()) {
            return Err(self.type_err(rec, Check::NameInvalid));
        }
        let fa = rec.func_addr();
        if fa.flags & !FuncAddr::DEFINED != 0 {
            return Err(self.type_err(rec, Check::FuncAddrFlagsReserved { flags: fa.flags }));
        }
        if fa.addr == 0 {
            return Err(self.type_err(rec, Check::FuncAddrZero));
        }
        Ok(())
    }

    fn func_proto(&self, rec: &TypeRecord<'_>) -> MetaResult {
        if rec.name_off() != 0 {
            return Err(self.type_err(rec, Check::NameInvalid));
        }
        if rec.kflag() {
            return Err(self.type_err(rec, Check::KflagNotAllowed));
        }
        Ok(())
    }

    fn var(&self, rec: &TypeRecord<'_>) -> MetaResult {
        self.no_vlen_no_kflag(rec)?;
        let off = rec.name_off();
        if off == 0 || !(self.btf.strings.offset_valid(off) && self.btf.is_dotted_identifier(off)) {
            return Err(self.type_err(rec, Check::NameInvalid));
        }
        let t = rec.common.type_id();
        if t == 0 || !self.id_in_range(t) {
            return Err(self.type_err(rec, Check::TypeIdInvalid));
        }
        // Static (0) and global allocated (1); extern (2) only with the
        // extern-var proposal.
        let max = if self.profile.has(Features::EXTERN_VAR) {
            2
        } else {
            1
        };
        if rec.var_linkage() > max {
            return Err(self.type_err(rec, Check::VarLinkageUnsupported));
        }
        Ok(())
    }

    fn datasec(&self, rec: &TypeRecord<'_>) -> MetaResult {
        let size = rec.common.size();
        if rec.vlen() == 0 && !self.profile.has(Features::DATASEC_EMPTY) {
            return Err(self.type_err(rec, Check::DatasecVlenZero));
        }
        // With extern entries possible, sizes and offsets depend on each
        // entry's kind, which only the resolve pass knows.
        let layout_here = !datasec_layout_at_resolve(self.profile.features);
        if size == 0 && layout_here {
            return Err(self.type_err(rec, Check::DatasecSizeZero));
        }
        if rec.kflag() {
            return Err(self.type_err(rec, Check::KflagNotAllowed));
        }
        let name_ok = rec.name_off() != 0 && self.section_name_ok(rec.name_off());
        if !name_ok {
            return Err(self.type_err(rec, Check::NameInvalid));
        }
        let mut last_end: u64 = 0;
        let mut sum: u64 = 0;
        for i in 0..rec.vlen() as usize {
            let v = rec.secinfo(i);
            let entry_err = |check| {
                self.fail(
                    check,
                    Site::SecInfo {
                        id: self.id,
                        index: i as u32,
                    },
                    rec.pos + rec.element_pos(i),
                )
            };
            if v.type_id == 0 || !self.id_in_range(v.type_id) {
                return Err(entry_err(Check::SecInfoTypeIdInvalid));
            }
            if !layout_here {
                continue;
            }
            if (v.offset as u64) < last_end || v.offset >= size {
                return Err(entry_err(Check::SecInfoOffsetInvalid));
            }
            if v.size == 0 || v.size > size {
                return Err(entry_err(Check::SecInfoSizeInvalid));
            }
            last_end = v.offset as u64 + v.size as u64;
            if last_end > size as u64 {
                return Err(entry_err(Check::SecInfoEndBeyondSize));
            }
            sum += v.size as u64;
        }
        if (size as u64) < sum {
            return Err(self.type_err(rec, Check::DatasecSumExceedsSize));
        }
        Ok(())
    }

    /// `btf_name_valid_section`: printable bytes (6.11); before, printable
    /// after an unchecked first byte (6.9); before that, a dotted identifier.
    fn section_name_ok(&self, off: u32) -> bool {
        let Some(name) = self.btf.strings.get(off) else {
            return false;
        };
        if self.profile.has(Features::PRINTABLE_SEC_NAMES) {
            is_section_name(name)
        } else if self.profile.has(Features::SEC_NAMES_PRINTABLE) {
            name.len() <= self.profile.limits.name_len && name.get(1..).is_none_or(is_printable)
        } else {
            self.btf.is_dotted_identifier(off)
        }
    }

    fn float(&self, rec: &TypeRecord<'_>) -> MetaResult {
        self.no_vlen_no_kflag(rec)?;
        if !matches!(rec.common.size(), 2 | 4 | 8 | 12 | 16) {
            return Err(self.type_err(rec, Check::FloatSizeInvalid));
        }
        Ok(())
    }

    fn decl_tag(&self, rec: &TypeRecord<'_>) -> MetaResult {
        if !self.name_is_nonempty(rec.name_off()) {
            return Err(self.type_err(rec, Check::TagValueEmpty));
        }
        if rec.vlen() != 0 {
            return Err(self.type_err(rec, Check::VlenNotZero));
        }
        if rec.kflag() && !self.profile.has(Features::TAG_KFLAG) {
            return Err(self.type_err(rec, Check::KflagNotAllowed));
        }
        if rec.component_idx() < -1 {
            return Err(self.type_err(rec, Check::ComponentIdxInvalid));
        }
        if self.profile.has(Features::DECL_TAG_VALUE) {
            let value = self.btf.strings.get(rec.name_off()).unwrap_or_default();
            if value.len() > MAX_TAG_VALUE || !value.iter().all(|b| (0x20..=0x7e).contains(b)) {
                return Err(self.type_err(rec, Check::DeclTagValueNotPrintable));
            }
        }
        Ok(())
    }
}

/// decl-tag-value: the longest accepted value (`KSYM_NAME_LEN`).
const MAX_TAG_VALUE: usize = 512;

/// Whether DATASEC entry sizes and offsets are checked by the resolve pass
/// (the extern proposals) instead of the meta pass (every kernel).
pub fn datasec_layout_at_resolve(f: Features) -> bool {
    f.intersects(Features::EXTERN_FUNC | Features::EXTERN_VAR)
}

/// The bit offset of a member: the whole word, or its low 24 bits when the
/// owner has kind_flag set (`__btf_member_bit_offset`).
#[inline]
pub fn member_bit_offset(kflag: bool, raw: u32) -> u32 {
    if kflag {
        raw & 0x00ff_ffff
    } else {
        raw
    }
}

/// The bitfield size of a kind_flag member (`__btf_member_bitfield_size`).
#[inline]
pub fn member_bitfield_size(kflag: bool, raw: u32) -> u32 {
    if kflag {
        raw >> 24
    } else {
        0
    }
}

/// Walks the type section: generic record checks, then the kind's own, then
/// adds the type to the table (silently dropping it past the table cap, as
/// the kernel does).
///
/// A record's checks and slot depend only on the record and the string
/// section, not on its id (which only names it in a failure). So with two
/// lanes a second thread checks the records from a guessed record start
/// past the middle on, numbering them from 0 in a table of its own, while
/// the first checks those before it. Once the first lane arrives exactly
/// there, the guess is confirmed and the second lane's entries follow the
/// first's (moved in by whichever lane is free first: `Table::take_second`,
/// `Table::place_second_early`); if it steps over the guess, or the second
/// lane found a failure, the first lane carries on alone from where it is,
/// so the answer is the one record order gives either way.
pub fn check_all_metas(btf: &mut Btf<'_>, profile: &Profile, lanes: Lanes) -> Result<(), Failure> {
    let cap = profile.limits.max_type_table;
    // Resolved ids are stored in 20 bits.
    assert!(cap <= MAX_SLOT_ID + 1, "type table cap too large");
    let len = btf.types.len() as u32;
    // Every record takes at least 12 bytes, so no id exceeds len / 12:
    // past that bound only the cap keeps a type out, and pages are touched
    // only where written.
    let size = (len / 12 + 1).min(cap) as usize;
    // On two lanes the main table, which both lanes read in every
    // verification, alternates between two storages (see
    // `Storage::Alternating`); the second lane's own table is mostly its
    // alone.
    let table = Table::for_ids(
        size,
        if lanes.two() {
            Storage::Alternating
        } else {
            Storage::Fitting
        },
    );
    table.slots.set(0, Slot::VOID);
    table.positions.set(0, VOID_POS);
    let shared = &*btf;
    let second_start = if lanes.two() {
        let split = (len as u64 * SECOND_LANE_FROM.0 / SECOND_LANE_FROM.1) as u32;
        let info_mask = profile.info_mask();
        let names = &shared.strings;
        shared
            .cursor()
            .guess_record_start(split, GUESS_WINDOW, GUESS_CHAIN, info_mask, |off| {
                names.offset_valid(off)
            })
    } else {
        None
    };
    let handoff = Handoff::new();
    let first_run = |stop: u32, progress: Option<&AtomicU64>| {
        let mut run = Run {
            next_pos: 0,
            next_id: 1,
        };
        let r = run.check_telling(shared, profile, stop, &table, progress);
        (run, r)
    };
    let (end, result) = match second_start {
        None => first_run(len, None),
        Some(start) => {
            let rest = Table::for_ids(((len - start) / 12 + 1) as usize, Storage::Fitting);
            let ((mut first, first_result), (second, second_result)) = lanes.join(
                || {
                    let (run, r) = first_run(start, Some(&handoff.first));
                    // Arrived at the guess: the second lane's entries follow
                    // from here.
                    if r.is_ok() && run.next_pos == start {
                        #[cfg(test)]
                        tests::dawdle();
                        table.take_second(run.next_id, &rest, &handoff);
                    }
                    (run, r)
                },
                || {
                    let mut run = Run {
                        next_pos: start,
                        next_id: 0,
                    };
                    let finish = handoff.finish_on_drop();
                    let r = run.check_telling(shared, profile, len, &rest, Some(&handoff.second));
                    handoff.second.store(pack(run.next_pos, run.next_id), Release);
                    drop(finish);
                    // Done first (in a fresh process the first lane's page
                    // faults make it the later one): place the entries
                    // while the first lane finishes.
                    if r.is_ok() {
                        table.place_second_early(shared, start, &rest, run.next_id, &handoff);
                    }
                    (run, r)
                },
            );
            match first_result {
                Err(f) => (first, Err(f)),
                Ok(()) if first.next_pos == start && second_result.is_ok() => {
                    first.next_id += second.next_id;
                    first.next_pos = second.next_pos;
                    (first, Ok(()))
                }
                Ok(()) => {
                    let r = first.check_telling(shared, profile, len, &table, None);
                    (first, r)
                }
            }
        }
    };
    // The table holds the types before the first failure (or all), below
    // the cap.
    let kept = (end.next_id as usize).min(size);
    let Table {
        mut slots,
        mut positions,
    } = table;
    slots.truncate(kept);
    positions.truncate(kept);
    btf.slots = slots;
    btf.positions = positions;
    btf.records_walked = end.next_id - 1;
    result
}

/// Where the second meta lane starts: the first record start guessed at or
/// past this fraction of the type section (the lanes then take about as
/// long on vmlinux).
const SECOND_LANE_FROM: (u64, u64) = (11, 20);
/// How far past that point to look for a record start, and how many
/// records in a row must look right. A bad guess costs time, never the
/// answer.
const GUESS_WINDOW: u32 = 4096;
const GUESS_CHAIN: u32 = 16;

/// The type table the meta lanes fill.
struct Table {
    slots: SlotTable,
    positions: PositionTable,
}

impl Table {
    /// A table for ids below `size`, every entry to be written before it
    /// is read (recycled storage may hold an earlier table's).
    fn for_ids(size: usize, storage: Storage) -> Table {
        Table {
            slots: SlotTable::for_ids(size, storage),
            positions: PositionTable::for_ids(size, storage),
        }
    }

    /// The first lane, arrived at the second lane's start with `base` as
    /// its next id: the second lane's entries go from `base` on. Whichever
    /// lane is free first moves them; this waits until they are in.
    fn take_second(&self, base: u32, rest: &Table, handoff: &Handoff) {
        match handoff
            .mover
            .compare_exchange(NOBODY, FIRST_LANE, Acquire, Acquire)
        {
            Ok(_) => self.follow(base, rest, handoff),
            Err(_) => {
                wait_until(|| handoff.mover.load(Acquire) == SECOND_LANE_DONE);
                // The second lane counted the same records to find the base
                // (none if it panicked).
                let placed = handoff.base.load(Acquire) == base;
                #[cfg(test)]
                tests::PLACED_BY_SECOND.with(|p| p.set(Some(placed)));
                if !placed {
                    self.follow(base, rest, handoff);
                }
            }
        }
    }

    /// The second lane, done with its `n` records while the first is still
    /// on its way: finds the base from the first lane's last checkpoint
    /// (sizing the records from there to `start`) and moves the entries,
    /// unless the first lane got there first. Gives up where the sizing does
    /// not land exactly on `start` (the first lane will step over the guess,
    /// or fail before it).
    fn place_second_early(&self, btf: &Btf<'_>, start: u32, rest: &Table, n: u32, handoff: &Handoff) {
        let (pos, id) = unpack(handoff.first.load(Acquire));
        let mut cursor = btf.cursor().starting_at(pos);
        let Some(between) = cursor.skip_until(start) else {
            return;
        };
        if cursor.pos() != start {
            return;
        }
        if handoff
            .mover
            .compare_exchange(NOBODY, SECOND_LANE, Acquire, Acquire)
            .is_err()
        {
            return;
        }
        // Tells the first lane where the entries went however this ends (a
        // panic included: no base, so it moves them itself).
        struct Done<'h>(&'h Handoff, u32);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.base.store(self.1, Release);
                self.0.mover.store(SECOND_LANE_DONE, Release);
            }
        }
        let mut done = Done(handoff, u32::MAX);
        let base = id + between;
        self.copy_from(base, rest, 0, n);
        done.1 = base;
    }

    /// Copies entries `from..to` of `rest` to `base + from` on (those that fit).
    fn copy_from(&self, base: u32, rest: &Table, from: u32, to: u32) {
        let fits = (self.slots.len() as u32).saturating_sub(base);
        for j in from..to.min(fits) {
            self.slots.set(base + j, rest.slots.at(j));
            self.positions.set(base + j, rest.positions.at(j));
        }
    }

    /// Copies the entries of `rest` to `base` on (those that fit) as the
    /// second lane enters them, until it has finished.
    fn follow(&self, base: u32, rest: &Table, handoff: &Handoff) {
        let mut copied = 0u32;
        loop {
            // `finished` first: once it is seen, the count is final.
            let finished = handoff.finished.load(Acquire);
            let entered = unpack(handoff.second.load(Acquire)).1;
            self.copy_from(base, rest, copied, entered);
            copied = entered;
            if finished {
                return;
            }
            wait_until(|| handoff.finished.load(Acquire) || unpack(handoff.second.load(Acquire)).1 != copied);
        }
    }
}

/// A lane's progress as one word: the next record's position and id.
fn pack(pos: u32, id: u32) -> u64 {
    (pos as u64) << 32 | id as u64
}

fn unpack(w: u64) -> (u32, u32) {
    ((w >> 32) as u32, w as u32)
}

/// Where the two meta lanes are, and who moves the second lane's entries
/// into the table.
struct Handoff {
    /// The first lane's last checkpoint ([`pack`]ed position and id).
    first: AtomicU64,
    /// The second lane's: its position and how many entries it made
    /// (stored with Release after them).
    second: AtomicU64,
    /// The second lane has stopped, however: `second` no longer changes.
    finished: AtomicBool,
    /// [`NOBODY`], [`FIRST_LANE`], [`SECOND_LANE`], [`SECOND_LANE_DONE`].
    mover: AtomicU8,
    /// Where the second lane put its entries, once done.
    base: AtomicU32,
}

const NOBODY: u8 = 0;
const FIRST_LANE: u8 = 1;
const SECOND_LANE: u8 = 2;
const SECOND_LANE_DONE: u8 = 3;

impl Handoff {
    /// Each lane tells the other how far it got every this many records.
    const EVERY: u32 = 1024;

    fn new() -> Handoff {
        Handoff {
            first: AtomicU64::new(pack(0, 1)),
            second: AtomicU64::new(0),
            finished: AtomicBool::new(false),
            mover: AtomicU8::new(NOBODY),
            base: AtomicU32::new(0),
        }
    }

    /// Sets `finished` when dropped, a panic included (the first lane would
    /// wait for ever otherwise).
    fn finish_on_drop(&self) -> impl Drop + '_ {
        struct Finish<'h>(&'h Handoff);
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                self.0.finished.store(true, Release);
            }
        }
        Finish(self)
    }
}

/// Where a run of records is: the next record to check and its id.
struct Run {
    next_pos: u32,
    next_id: u32,
}

impl Run {
    /// Checks records from `next_pos` until the first that starts at or past
    /// `stop` (or the end of the section), entering each in `table` and
    /// telling `progress` (when given) where it is every
    /// [`Handoff::EVERY`] records ([`pack`]ed position and next id).
    fn check_telling(
        &mut self,
        btf: &Btf<'_>,
        profile: &Profile,
        stop: u32,
        table: &Table,
        progress: Option<&AtomicU64>,
    ) -> Result<(), Failure> {
        let mut cursor = btf.cursor().starting_at(self.next_pos);
        // Locals in the loop; the fields are brought up to date once.
        let mut id = self.next_id;
        let info_mask = profile.info_mask();
        let result = loop {
            if cursor.at_end() || cursor.pos() >= stop {
                break Ok(());
            }
            let pos = cursor.pos();
            let left = cursor.left();
            let meta = Meta {
                btf,
                profile,
                id,
                info_mask,
            };
            let Some(common) = cursor.peek_common() else {
                let plain = Site::Plain { id: Some(id) };
                break Err(meta.fail(Check::RecordTruncated { left }, plain, pos));
            };
            if let Err(f) = check_common(&meta, &common, pos) {
                break Err(f);
            }
            // Every known kind's tail: the length check comes first.
            let tail_len = common.tail_len_in(&btf.shapes).unwrap_or(0);
            let meta_left = left - COMMON_LEN;
            if meta_left < tail_len {
                break Err(meta.fail(
                    Check::TailTruncated {
                        left: meta_left,
                        needed: tail_len,
                    },
                    Site::Basic { id },
                    pos,
                ));
            }
            let rec = cursor.take(common, tail_len);
            if let Err(f) = meta.check_kind(&rec) {
                break Err(f);
            }
            // Ids at or past the cap are dropped (the table is sized so that
            // this is the only way an id can miss it).
            if (id as usize) < table.slots.len() {
                table.slots.set(id, meta.slot_of(&rec));
                table.positions.set(id, rec.pos);
            }
            id = id.wrapping_add(1);
            if id.is_multiple_of(Handoff::EVERY) {
                if let Some(p) = progress {
                    p.store(pack(cursor.pos(), id), Release);
                }
            }
        };
        self.next_pos = cursor.pos();
        self.next_id = id;
        result.map_err(|f| *f)
    }
}

/// The generic checks of `btf_check_meta()`, before the kind's own.
fn check_common(meta: &Meta<'_, '_>, common: &CommonType, pos: u32) -> MetaResult {
    let plain = Site::Plain { id: Some(meta.id) };
    if common.info & !meta.info_mask != 0 {
        return Err(meta.fail(Check::InfoReservedBits { info: common.info }, plain, pos));
    }
    let kind = common.kind();
    if !meta.btf.shapes.knows(kind) {
        return Err(meta.fail(Check::UnknownKind { kind: kind.0 }, plain, pos));
    }
    if !meta.btf.strings.offset_valid(common.name_off) {
        return Err(meta.fail(Check::NameOffsetInvalid { off: common.name_off }, plain, pos));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::BtfBuilder;
    use crate::verify::{verify, Options, Threads, Verification};
    use std::cell::Cell;

    thread_local! {
        /// The first meta lane (the calling thread) waits this long once
        /// at the second lane's start, so that the second lane is done
        /// first and moves its entries itself.
        static DAWDLE: Cell<u64> = const { Cell::new(0) };
        /// Whether the second lane had placed its entries where the first
        /// lane found it had moved them (`None`: the first lane moved them).
        pub(super) static PLACED_BY_SECOND: Cell<Option<bool>> = const { Cell::new(None) };
    }

    pub(super) fn dawdle() {
        let ms = DAWDLE.with(Cell::get);
        if ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
    }

    #[test]
    fn the_second_lane_places_its_entries_when_it_is_done_first() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, 1);
        for i in 0..3000 {
            let p = b.ptr(int);
            b.typedef(&format!("t{i}"), p);
        }
        let blob = b.build();
        DAWDLE.with(|d| d.set(20));
        let v = assert_same_on_two_lanes(&blob, Profile::LINUX_6_18);
        DAWDLE.with(|d| d.set(0));
        assert!(v.accepted(), "{:?}", v.failure);
        assert_eq!(PLACED_BY_SECOND.with(Cell::get), Some(true));
    }

    fn on(blob: &[u8], profile: Profile, threads: Threads) -> Verification<'_> {
        verify(
            blob,
            &Options {
                profile,
                threads,
                ..Options::default()
            },
        )
    }

    /// Two lanes give what one gives: failure, notes and the type table.
    fn assert_same_on_two_lanes(blob: &[u8], profile: Profile) -> Verification<'_> {
        let (one, two) = (on(blob, profile, Threads::One), on(blob, profile, Threads::Two));
        assert_eq!(one.failure, two.failure);
        assert_eq!(one.notes, two.notes);
        let (b1, b2) = (
            one.btf.as_ref().expect("sections"),
            two.btf.as_ref().expect("sections"),
        );
        assert!(b1.slots.iter().eq(b2.slots.iter()), "type tables differ");
        assert!(b1.positions.iter().eq(b2.positions.iter()), "positions differ");
        assert_eq!(b1.records_walked, b2.records_walked);
        one
    }

    /// Where the second lane starts on `blob`, and every record start.
    fn guess_and_starts(blob: &[u8], profile: &Profile) -> (Option<u32>, Vec<u32>) {
        let v = on(blob, *profile, Threads::One);
        let btf = v.btf.as_ref().expect("sections");
        let len = btf.types.len() as u32;
        let split = (len as u64 * SECOND_LANE_FROM.0 / SECOND_LANE_FROM.1) as u32;
        let guess =
            btf.cursor()
                .guess_record_start(split, GUESS_WINDOW, GUESS_CHAIN, profile.info_mask(), |off| {
                    btf.strings.offset_valid(off)
                });
        let mut cursor = btf.cursor();
        let mut starts = Vec::new();
        while let Some(rec) = cursor.next_whole() {
            starts.push(rec.pos);
        }
        (guess, starts)
    }

    /// An ENUM64 whose enumerators read as FUNC records (name, then a low
    /// word that is a FUNC's `info`, then a high word as its `type`),
    /// across the split.
    fn enum64_looking_like_funcs(b: &mut BtfBuilder) {
        let int = b.int("int", 4, 32, 1);
        let names: Vec<String> = (0..40).map(|i| format!("e{i}")).collect();
        let values: Vec<(&str, i64)> = names.iter().map(|n| (n.as_str(), 0x0c00_0000)).collect();
        b.enum64("looks_like_funcs", 8, false, &values);
        for _ in 0..10 {
            b.ptr(int);
        }
    }

    #[test]
    fn a_guess_inside_a_record_leaves_the_first_lane_to_carry_on() {
        let mut b = BtfBuilder::new();
        enum64_looking_like_funcs(&mut b);
        let blob = b.build();
        let profile = Profile::LINUX_6_18;
        let (guess, starts) = guess_and_starts(&blob, &profile);
        let guess = guess.expect("the enumerators look like records");
        assert!(
            !starts.contains(&guess),
            "the guess {guess} should be inside the ENUM64"
        );
        let v = assert_same_on_two_lanes(&blob, profile);
        assert!(v.accepted(), "{:?}", v.failure);
    }

    #[test]
    fn a_failure_past_the_guess_is_reported_with_its_id() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, 1);
        for i in 0..60 {
            b.typedef(&format!("t{i}"), int);
        }
        // A FWD with a type: rejected by meta, well past the split.
        let late = b.string("late");
        b.record(late, crate::builder::info(Kind::FWD, 0, false), 1, &[]);
        for i in 60..70 {
            b.typedef(&format!("t{i}"), int);
        }
        let blob = b.build();
        let (guess, starts) = guess_and_starts(&blob, &Profile::LINUX_6_18);
        assert!(
            guess.is_some_and(|g| starts.contains(&g)),
            "the guess is a record start"
        );
        let v = assert_same_on_two_lanes(&blob, Profile::LINUX_6_18);
        let failure = v.failure.expect("rejected");
        assert_eq!(failure.check, Check::FwdTypeNotZero);
        assert_eq!(failure.site, Site::Type { id: 62 });
    }

    #[test]
    fn recycled_table_storage_is_written_before_it_is_read() {
        let mut b = BtfBuilder::new();
        enum64_looking_like_funcs(&mut b);
        let int = b.int("long", 8, 64, 1);
        let void_ptr = b.ptr(0);
        b.func_proto(0, &[("p", void_ptr)]);
        for i in 0..6000 {
            let name = format!("s{i}");
            let s = b.struct_(&name, 8, &[crate::builder::m("x", int, 0)]);
            let p = b.ptr(s);
            b.typedef(&format!("t{i}"), p);
        }
        let blob = b.build();
        let words = blob.len() / 12 + 1;
        let outcome = |bit, threads| {
            crate::verify::btf::pool_spares(words, bit);
            let v = on(&blob, Profile::LINUX_6_18, threads);
            let btf = v.btf.as_ref().expect("sections");
            let table: Vec<_> = (btf.slots.iter().zip(btf.positions.iter()))
                .zip(btf.resolution.iter())
                .collect();
            (v.failure, crate::diag::kernel_log::render(&v), table)
        };
        let clean = outcome(false, Threads::One);
        assert!(clean.0.is_none(), "{:?}", clean.0);
        for threads in [Threads::One, Threads::Two] {
            assert!(outcome(true, threads) == clean, "stale words changed the outcome");
        }
    }

    #[test]
    fn types_past_the_table_cap_are_dropped_alike_on_two_lanes() {
        // 4.19's table holds 0xffff types; these 0x10100 PTRs straddle
        // that, with the cap in the second lane's half.
        let profile = Profile::by_name("linux-4.19").expect("profile");
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, 1);
        for _ in 0..0x10100 {
            b.ptr(int);
        }
        let blob = b.build();
        let v = assert_same_on_two_lanes(&blob, profile);
        assert!(v
            .notes
            .iter()
            .any(|n| matches!(n, crate::verify::Note::TypesDropped { .. })));
    }
}
