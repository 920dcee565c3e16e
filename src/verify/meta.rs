//! The structural pass: every record, in order, checked on its own.
//!
//! Mirrors `btf_check_all_metas()` / `btf_check_meta()` and the per-kind
//! `*_check_meta()` callbacks in kernel/bpf/btf.c (v6.18). Records are pulled
//! one at a time so the `meta_left` arithmetic and check order match.

use super::btf::{Btf, PositionTable, Slot, SlotTable, Storage, MAX_SLOT_ID, VOID_POS};
use super::error::{errno, Check, Failure, Site, Stage};
use super::lanes::Lanes;
use super::names::{is_printable, is_section_name};
use crate::profile::{Features, Profile};
use crate::raw::types::COMMON_LEN;
use crate::raw::{CommonType, FuncAddr, Kind, RecordCursor, Shapes, TypeRecord};

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

    /// The slot of an accepted FUNC_PROTO. [`Slot::FLAG`] marks one whose
    /// FUNCs will be rejected for a parameter with a type but no name;
    /// [`Slot::NAMES_OK`] one whose parameter names need no second look
    /// when the resolve pass checks it.
    fn proto_slot(&self, rec: &TypeRecord<'_>) -> Slot {
        let size_type = rec.common.size_type;
        let (mut unnamed_arg, mut names_ok) = (false, true);
        let mut highest_ref = size_type;
        for p in rec.params() {
            unnamed_arg |= p.name_off == 0 && p.type_id != 0;
            names_ok &= p.name_off == 0 || self.name_is_identifier(p.name_off);
            highest_ref = highest_ref.max(p.type_id);
        }
        Slot::proto(size_type, unnamed_arg, names_ok, highest_ref)
    }

    /// Dispatches on the kind (`rec` carries the full tail, checked
    /// present) and gives the accepted record's table slot, in the same
    /// dispatch: kinds follow each other in no order a branch predictor
    /// learns. A slot never depends on the record's id.
    fn check_kind(&self, rec: &TypeRecord<'_>) -> Result<Slot, Box<Failure>> {
        let plain =
            |checked: MetaResult| checked.map(|()| Slot::new(rec.kind(), rec.common.size_type, false));
        match rec.kind() {
            Kind::INT => self
                .int(rec)
                .map(|()| Slot::int(rec.common.size_type, rec.int_data())),
            Kind::PTR | Kind::TYPEDEF | Kind::VOLATILE | Kind::CONST | Kind::RESTRICT | Kind::TYPE_TAG => {
                plain(self.reference(rec))
            }
            Kind::ARRAY => plain(self.array(rec)),
            Kind::STRUCT | Kind::UNION => plain(self.composite(rec)),
            Kind::ENUM | Kind::ENUM64 => plain(self.enumeration(rec)),
            Kind::FWD => plain(self.fwd(rec)),
            Kind::FUNC => plain(self.func(rec)),
            Kind::FUNC_PROTO => self.func_proto(rec).map(|()| self.proto_slot(rec)),
            Kind::VAR => plain(self.var(rec)),
            Kind::DATASEC => plain(self.datasec(rec)),
            Kind::FLOAT => plain(self.float(rec)),
            Kind::DECL_TAG => plain(self.decl_tag(rec)),
            Kind::FUNC_ADDR if self.btf.shapes.is_checked(Kind::FUNC_ADDR) => plain(self.func_addr(rec)),
            // skip-unknown-kinds: sized by the layout section, not checked.
            k if self.btf.shapes.is_described(k) => plain(Ok(())),
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

/// Where the second meta lane starts: a record start, and how many records
/// come before it (so the id of its first record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondLane {
    pub pos: u32,
    pub records_before: u32,
}

/// Finds where the second meta lane starts: the first record at or past
/// [`SECOND_LANE_FROM`] of the type section, by sizing the records before it
/// (headers only). Each record's size waits on the load of the one before
/// (~5 ns a record: 0.25 ms for vmlinux's first 50,000 on their own), so it
/// goes a few records at a time beside other work, which fills that time.
pub struct SecondLaneFinder<'a> {
    cursor: RecordCursor<'a>,
    split: u32,
    counted: u32,
    /// A record before the split cannot be sized whole.
    stuck: bool,
}

impl<'a> SecondLaneFinder<'a> {
    pub fn new(types: &'a [u8], shapes: Shapes) -> Self {
        SecondLaneFinder {
            cursor: RecordCursor::with_shapes(types, shapes),
            split: (types.len() as u64 * SECOND_LANE_FROM.0 / SECOND_LANE_FROM.1) as u32,
            counted: 0,
            stuck: false,
        }
    }

    /// Sizes up to `n` more records; whether there is more to do.
    #[inline]
    pub fn step(&mut self, n: u32) -> bool {
        match self.cursor.skip_until(self.split, n) {
            Some(k) => {
                self.counted += k;
                self.cursor.pos() < self.split && !self.cursor.at_end()
            }
            None => {
                self.stuck = true;
                false
            }
        }
    }

    /// Where the second lane starts; `None` when a record before it cannot
    /// be sized whole (the first lane will reject it) or none starts there:
    /// meta then runs on one lane.
    pub fn finish(mut self) -> Option<SecondLane> {
        // One step without a count limit goes to the split (or stops short).
        self.step(u32::MAX);
        (!self.stuck && !self.cursor.at_end()).then(|| SecondLane {
            pos: self.cursor.pos(),
            records_before: self.counted,
        })
    }
}

#[cfg(test)]
impl SecondLane {
    /// [`SecondLaneFinder`] in one go.
    pub fn find(types: &[u8], shapes: Shapes) -> Option<SecondLane> {
        SecondLaneFinder::new(types, shapes).finish()
    }
}

/// Walks the type section: generic record checks, then the kind's own, then
/// adds the type to the table (silently dropping it past the table cap, as
/// the kernel does).
///
/// A record's checks and slot depend only on the record and the string
/// section. So with two lanes, and `second` found by sizing the records
/// before it ([`SecondLaneFinder`]), a second thread checks the records
/// from there on, with their own ids and into the same table, while the
/// first checks those before. The meta pass sizes every record it accepts
/// as that walk did, so the first lane arrives exactly at `second.pos`
/// unless it fails first; its failure then wins, and otherwise the second
/// lane's, if any, is the first in record order.
pub fn check_all_metas(
    btf: &mut Btf<'_>,
    profile: &Profile,
    lanes: Lanes,
    second: Option<SecondLane>,
) -> Result<(), Failure> {
    let cap = profile.limits.max_type_table;
    // Resolved ids are stored in 20 bits.
    assert!(cap <= MAX_SLOT_ID + 1, "type table cap too large");
    let len = btf.types.len() as u32;
    // Every record takes at least 12 bytes, so no id exceeds len / 12:
    // past that bound only the cap keeps a type out, and pages are touched
    // only where written.
    let size = (len / 12 + 1).min(cap) as usize;
    // On two lanes the table, which both lanes read in every verification,
    // alternates between two storages (see `Storage::Alternating`).
    let second = second.filter(|_| lanes.two());
    let storage = if second.is_some() {
        Storage::Alternating
    } else {
        Storage::Fitting
    };
    let table = Table::for_ids(size, storage);
    table.slots.set(0, Slot::VOID);
    table.positions.set(0, VOID_POS);
    let shared = &*btf;
    let run_from = |next_pos: u32, next_id: u32, stop: u32| {
        let mut run = Run { next_pos, next_id };
        let r = run.check(shared, profile, stop, &table);
        (run, r)
    };
    let (end, result) = match second {
        None => run_from(0, 1, len),
        Some(second) => {
            let first_id = second.records_before + 1;
            let ((first, first_result), (rest, rest_result)) = lanes.join(
                || run_from(0, 1, second.pos),
                || run_from(second.pos, first_id, len),
            );
            match first_result {
                Err(f) => (first, Err(f)),
                Ok(()) if first.next_pos == second.pos && first.next_id == first_id => (rest, rest_result),
                // Not reached: the walk and the meta pass size records
                // alike. Should they ever differ, one lane carries on.
                Ok(()) => {
                    let mut first = first;
                    let r = first.check(shared, profile, len, &table);
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

/// Where the second meta lane starts: the first record at or past this
/// fraction of the type section (the lanes then take about as long on
/// vmlinux).
const SECOND_LANE_FROM: (u64, u64) = (11, 20);

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
}

/// Where a run of records is: the next record to check and its id.
struct Run {
    next_pos: u32,
    next_id: u32,
}

impl Run {
    /// Checks records from `next_pos` until the first that starts at or past
    /// `stop` (or the end of the section), entering each in `table`.
    fn check(&mut self, btf: &Btf<'_>, profile: &Profile, stop: u32, table: &Table) -> Result<(), Failure> {
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
            let slot = match meta.check_kind(&rec) {
                Ok(slot) => slot,
                Err(f) => break Err(f),
            };
            // Ids at or past the cap are dropped (the table is sized so that
            // this is the only way an id can miss it).
            if (id as usize) < table.slots.len() {
                table.slots.set(id, slot);
                table.positions.set(id, rec.pos);
            }
            id = id.wrapping_add(1);
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
    fn second_lane_and_starts(blob: &[u8], profile: &Profile) -> (Option<SecondLane>, Vec<u32>) {
        let v = on(blob, *profile, Threads::One);
        let btf = v.btf.as_ref().expect("sections");
        let mut cursor = btf.cursor();
        let mut starts = Vec::new();
        while let Some(rec) = cursor.next_whole() {
            starts.push(rec.pos);
        }
        (SecondLane::find(btf.types, btf.shapes), starts)
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
    fn the_second_lane_starts_at_a_record_with_the_records_before_it_counted() {
        // The split falls inside the ENUM64, whose tail looks like records
        // from there: the lane starts at the next real record.
        let mut b = BtfBuilder::new();
        enum64_looking_like_funcs(&mut b);
        let blob = b.build();
        let profile = Profile::LINUX_6_18;
        let (second, starts) = second_lane_and_starts(&blob, &profile);
        let second = second.expect("records past the split");
        assert_eq!(starts.get(second.records_before as usize), Some(&second.pos));
        assert_eq!(second.records_before, 2, "VOID not counted: INT, ENUM64");
        let v = assert_same_on_two_lanes(&blob, profile);
        assert!(v.accepted(), "{:?}", v.failure);
    }

    #[test]
    fn the_second_lane_is_found_alike_in_steps_of_any_size() {
        let mut b = BtfBuilder::new();
        enum64_looking_like_funcs(&mut b);
        let int = b.int("long", 8, 64, 1);
        for i in 0..500 {
            let s = b.struct_(&format!("s{i}"), 8, &[crate::builder::m("x", int, 0)]);
            b.ptr(s);
        }
        let blob = b.build();
        let v = on(&blob, Profile::LINUX_6_18, Threads::One);
        let btf = v.btf.as_ref().expect("sections");
        let whole = SecondLane::find(btf.types, btf.shapes);
        assert!(whole.is_some());
        for n in [1, 6, 1000] {
            let mut finder = SecondLaneFinder::new(btf.types, btf.shapes);
            while finder.step(n) {}
            assert_eq!(finder.finish(), whole, "steps of {n}");
        }
    }

    /// A FWD with a type: rejected by meta.
    fn bad_fwd(b: &mut BtfBuilder, name: &str) -> u32 {
        let off = b.string(name);
        b.record(off, crate::builder::info(Kind::FWD, 0, false), 1, &[])
    }

    #[test]
    fn a_failure_on_the_second_lane_is_reported_with_its_id() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, 1);
        for i in 0..60 {
            b.typedef(&format!("t{i}"), int);
        }
        let late = bad_fwd(&mut b, "late");
        for i in 60..70 {
            b.typedef(&format!("t{i}"), int);
        }
        let blob = b.build();
        let (second, _) = second_lane_and_starts(&blob, &Profile::LINUX_6_18);
        assert!(
            second.is_some_and(|s| s.records_before < late),
            "the FWD is on the second lane"
        );
        let v = assert_same_on_two_lanes(&blob, Profile::LINUX_6_18);
        let failure = v.failure.expect("rejected");
        assert_eq!(failure.check, Check::FwdTypeNotZero);
        assert_eq!(failure.site, Site::Type { id: late });
    }

    #[test]
    fn a_failure_on_the_first_lane_wins_over_one_on_the_second() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, 1);
        let early = bad_fwd(&mut b, "early");
        for i in 0..60 {
            b.typedef(&format!("t{i}"), int);
        }
        bad_fwd(&mut b, "late");
        for i in 60..70 {
            b.typedef(&format!("t{i}"), int);
        }
        let blob = b.build();
        let v = assert_same_on_two_lanes(&blob, Profile::LINUX_6_18);
        assert_eq!(v.failure.expect("rejected").site, Site::Type { id: early });
    }

    #[test]
    fn a_record_that_cannot_be_sized_before_the_split_leaves_meta_to_one_lane() {
        // Kind 31 is unknown to 6.18: no size, so no count past it.
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, 1);
        let unknown = b.record(0, crate::builder::info(Kind(31), 0, false), 0, &[]);
        for i in 0..60 {
            b.typedef(&format!("t{i}"), int);
        }
        let blob = b.build();
        let (second, _) = second_lane_and_starts(&blob, &Profile::LINUX_6_18);
        assert_eq!(second, None);
        let v = assert_same_on_two_lanes(&blob, Profile::LINUX_6_18);
        let failure = v.failure.expect("rejected");
        assert_eq!(failure.check, Check::UnknownKind { kind: 31 });
        assert_eq!(failure.site, Site::Plain { id: Some(unknown) });
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
