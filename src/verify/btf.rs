//! The verifier's view of a blob once its header and sections are known: the
//! type table the meta pass builds, and id lookups the later passes share.

use crate::raw::types::{u32_at, COMMON_LEN};
use crate::raw::{CommonType, Header, Kind, Shapes, Strings, TypeRecord};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// Record position used for VOID (id 0), which has no bytes.
pub const VOID_POS: u32 = u32::MAX;

/// Where the resolve pass is with a type (`env->visit_states`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum VisitState {
    NotVisited = 0,
    Visited = 1,
    Resolved = 2,
}

/// A kept type as the passes after meta look it up by id: its kind, its
/// `size`/`type` word and the facts the meta pass noted, in 8 bytes so that
/// vmlinux's whole table (126k types, 1 MB) stays in the L2 cache while the
/// resolver jumps from id to id. The record itself is read from the blob
/// only when its tail is needed. What resolving finds goes to a
/// [`ResolveTable`] of its own, except an ARRAY's total size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// `size` for sized kinds, `type` for referring kinds. An ARRAY's own
    /// word must be 0 (meta checks it), so the resolved array size goes here.
    size_type: u32,
    /// Kind (bits 0-4), [`Slot::FLAG`] (7), [`Slot::NAMES_OK`] (8), and in
    /// bits 12-31 what later checks would otherwise read the record for:
    /// an INT's bit count (bits 12-19) and bit offset (20-27), a
    /// FUNC_PROTO's highest type id ([`Slot::refers_past`]).
    bits: u32,
}

const KIND_MASK: u32 = 0x1f;
const DATA_SHIFT: u32 = 12;
/// Largest id a slot's data field holds (the 6.18 table cap is 0xfffff).
pub const MAX_SLOT_ID: u32 = (1 << (32 - DATA_SHIFT)) - 1;

impl Slot {
    pub const VOID: Slot = Slot {
        size_type: 0,
        bits: 0,
    };
    /// A fact the meta pass records while it has the tail at hand: a
    /// regular INT ([`is_regular_int_data`]), or a FUNC_PROTO with a
    /// typed parameter that has no name (which its FUNCs reject).
    pub const FLAG: u32 = 1 << 7;
    /// A FUNC_PROTO whose parameter names are all empty or identifiers (the
    /// meta pass reads them anyway), so its resolve-time check can skip
    /// the name lookups.
    pub const NAMES_OK: u32 = 1 << 8;

    /// The slot as one word (`size_type` low, `bits` high).
    #[inline]
    fn pack(self) -> u64 {
        self.size_type as u64 | (self.bits as u64) << 32
    }
    #[inline]
    fn unpack(w: u64) -> Slot {
        Slot {
            size_type: w as u32,
            bits: (w >> 32) as u32,
        }
    }

    pub fn new(kind: Kind, size_type: u32, flag: bool) -> Slot {
        Slot {
            size_type,
            bits: kind.0 as u32 & KIND_MASK | if flag { Slot::FLAG } else { 0 },
        }
    }

    /// An INT's slot, from its `int_data` word.
    pub fn int(size: u32, int_data: u32) -> Slot {
        let bits = int_data & 0xff;
        let offset = (int_data >> 16) & 0xff;
        let mut slot = Slot::new(Kind::INT, size, is_regular_int_data(int_data));
        slot.bits |= (bits | offset << 8) << DATA_SHIFT;
        slot
    }

    /// A FUNC_PROTO's slot: `unnamed_arg` is [`Slot::FLAG`], `names_ok`
    /// [`Slot::NAMES_OK`]; `highest_ref` is the highest id among its return
    /// and parameter types.
    pub fn proto(return_type: u32, unnamed_arg: bool, names_ok: bool, highest_ref: u32) -> Slot {
        let mut slot = Slot::new(Kind::FUNC_PROTO, return_type, unnamed_arg);
        if names_ok {
            slot.bits |= Slot::NAMES_OK;
        }
        // Saturated: an id past the field reads as past every table id.
        slot.bits |= highest_ref.min(MAX_SLOT_ID) << DATA_SHIFT;
        slot
    }

    /// Whether a FUNC_PROTO at `id` names a type with a higher id, so that
    /// its check may be the first to resolve that type (true, to be safe,
    /// for ids too high for the slot to tell).
    #[inline]
    pub fn refers_past(self, id: u32) -> bool {
        let highest = self.bits >> DATA_SHIFT;
        highest > id || highest == MAX_SLOT_ID
    }

    /// An INT's bit count (`BTF_INT_BITS`).
    #[inline]
    pub fn int_bits(self) -> u32 {
        (self.bits >> DATA_SHIFT) & 0xff
    }

    /// An INT's bit offset (`BTF_INT_OFFSET`).
    #[inline]
    pub fn int_offset(self) -> u32 {
        (self.bits >> (DATA_SHIFT + 8)) & 0xff
    }

    #[inline]
    pub fn kind(self) -> Kind {
        Kind((self.bits & KIND_MASK) as u8)
    }
    #[inline]
    pub fn size(self) -> u32 {
        self.size_type
    }
    #[inline]
    pub fn type_id(self) -> u32 {
        self.size_type
    }
    #[inline]
    pub fn flag(self) -> bool {
        self.bits & Slot::FLAG != 0
    }
    #[inline]
    pub fn names_ok(self) -> bool {
        self.bits & Slot::NAMES_OK != 0
    }
    /// The resolved size: an array's total, 0 for every other kind.
    #[inline]
    pub fn resolved_size(self) -> u32 {
        if self.kind() == Kind::ARRAY {
            self.size_type
        } else {
            0
        }
    }
    /// VOID, FWD, FUNC, FUNC_PROTO (`btf_type_nosize`); VOID is the only
    /// kind-0 slot.
    #[inline]
    pub fn is_nosize(self) -> bool {
        matches!(self.kind(), Kind(0) | Kind::FWD | Kind::FUNC | Kind::FUNC_PROTO)
    }

    /// An ARRAY's slot once resolved: its total size where the record's
    /// (zero) `size` word was.
    #[inline]
    pub fn with_array_size(self, size: u32) -> Slot {
        debug_assert_eq!(self.kind(), Kind::ARRAY);
        Slot {
            size_type: size,
            bits: self.bits,
        }
    }
}

/// What the resolve pass knows of one type: its visit state
/// (`env->visit_states`, bits 0-1) and, once resolved, its resolved id
/// (`btf->resolved_ids`, bits 2-31). A fresh table holds `NotVisited`
/// with resolved id 0 for every id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolution(u32);

impl Resolution {
    #[inline]
    pub fn state(self) -> VisitState {
        match self.0 & 3 {
            0 => VisitState::NotVisited,
            1 => VisitState::Visited,
            _ => VisitState::Resolved,
        }
    }
    #[inline]
    pub fn is_resolved(self) -> bool {
        self.state() == VisitState::Resolved
    }
    #[inline]
    pub fn resolved_id(self) -> u32 {
        self.0 >> 2
    }
}

/// The resolve pass's findings by id, apart from the [`SlotTable`]. On two
/// lanes the second reads slots all through the resolve pass; while the
/// first wrote its findings into the slots, each of its writes took back a
/// cache line the other core had read. When the VM's two vCPUs sit far
/// apart (a core-to-core round trip of 330-380 ns instead of 60-70), that
/// cost the first lane 1.15 ms of resolve time on vmlinux.
#[derive(Clone, Debug, Default)]
pub struct ResolveTable(IdWords<AtomicU32>);

impl ResolveTable {
    /// A table for ids below `n`, every id `NotVisited`.
    pub fn for_ids(n: usize) -> ResolveTable {
        ResolveTable(IdWords::zeroed_for_ids(n))
    }
    /// The finding for `id`, `None` past the table.
    #[inline]
    pub fn get(&self, id: u32) -> Option<Resolution> {
        self.0.get(id).map(|w| Resolution(w.load(Relaxed)))
    }
    /// The finding for an id in the table.
    #[inline]
    pub fn at(&self, id: u32) -> Resolution {
        Resolution(self.0.at(id).load(Relaxed))
    }
    /// Every id's finding in id order, VOID's first.
    pub fn iter(&self) -> impl Iterator<Item = Resolution> + '_ {
        self.0.iter().map(|w| Resolution(w.load(Relaxed)))
    }
    /// Marks an id in the table as on the walk's stack.
    #[inline]
    pub fn set_visited(&self, id: u32) {
        self.0.at(id).store(VisitState::Visited as u32, Relaxed)
    }
    /// Records that an id in the table resolved to `resolved_id`.
    #[inline]
    pub fn set_resolved(&self, id: u32, resolved_id: u32) {
        debug_assert!(resolved_id < 1 << 30);
        self.0
            .at(id)
            .store(resolved_id << 2 | VisitState::Resolved as u32, Relaxed)
    }
}

/// The type table by id. Each slot is one atomic word so that the resolve
/// pass can record its results while the type-tag and struct-metas passes
/// read kinds and targets (which it never changes) on another thread. A
/// relaxed load or store is a plain move on x86-64 and AArch64.
#[derive(Clone, Debug, Default)]
pub struct SlotTable(IdWords<AtomicU64>);

impl SlotTable {
    /// A table for ids below `n`; see `IdWords::for_ids` for what it
    /// holds before it is written.
    pub fn for_ids(n: usize, storage: Storage) -> SlotTable {
        SlotTable(IdWords::for_ids(n, storage))
    }
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len
    }
    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }
    /// The slot of `id`, `None` past the table.
    #[inline]
    pub fn get(&self, id: u32) -> Option<Slot> {
        self.0.get(id).map(|w| Slot::unpack(w.load(Relaxed)))
    }
    /// The slot of an id in the table.
    #[inline]
    pub fn at(&self, id: u32) -> Slot {
        Slot::unpack(self.0.at(id).load(Relaxed))
    }
    /// Replaces the slot of an id in the table.
    #[inline]
    pub fn set(&self, id: u32, slot: Slot) {
        self.0.at(id).store(slot.pack(), Relaxed)
    }
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len)
    }
    /// Every slot in id order, VOID first.
    pub fn iter(&self) -> impl Iterator<Item = Slot> + '_ {
        self.0.iter().map(|w| Slot::unpack(w.load(Relaxed)))
    }
}

/// Where each type's record starts in the type section, by id: written by
/// both meta lanes at once, so atomics like [`SlotTable`].
#[derive(Clone, Debug, Default)]
pub struct PositionTable(IdWords<AtomicU32>);

impl PositionTable {
    /// A table for ids below `n` (see [`SlotTable::for_ids`]).
    pub fn for_ids(n: usize, storage: Storage) -> PositionTable {
        PositionTable(IdWords::for_ids(n, storage))
    }
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len
    }
    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }
    #[inline]
    pub fn get(&self, id: u32) -> Option<u32> {
        self.0.get(id).map(|p| p.load(Relaxed))
    }
    #[inline]
    pub fn at(&self, id: u32) -> u32 {
        self.0.at(id).load(Relaxed)
    }
    #[inline]
    pub fn set(&self, id: u32, pos: u32) {
        self.0.at(id).store(pos, Relaxed)
    }
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len)
    }
    /// Every position in id order, VOID's first.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().map(|p| p.load(Relaxed))
    }
}

/// Which pooled storage a new table takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The smallest that fits.
    Fitting,
    /// The one that came back to the pool first of those that fit, when
    /// two do (else a fresh one): the main table on two lanes, whose
    /// storage then alternates between verifications. Each verification
    /// has both lanes read the whole table, and a line one read has to be
    /// taken back from its cache before the other writes it again; two
    /// verifications back, it has left that cache. Verifying vmlinux in a
    /// loop, paired (session 8, when only the first lane wrote it):
    /// 0.16-0.21 ms faster while the VM's vCPUs are far apart, 0.04-0.07
    /// ms while they are near; since each lane writes its part (session
    /// 9), no difference in near phases.
    Alternating,
}

/// The words of a table by id: the first `len` are the table; the rest
/// were allocated for ids a verification might have reached.
///
/// Storage is recycled: a dropped table's words go to a small pool, and the
/// next table that fits takes them as they are, stale (which of the spares
/// that fit: [`Storage`]). A zeroed allocation
/// is a memset of megabytes once the allocator reuses memory; verifying
/// vmlinux in a loop, the pool saves 0.16-0.2 ms at the minimum and 0.4-0.6
/// ms at the median (paired runs). Stale words are never read: the meta
/// pass writes every id below the length it truncates the table to before
/// anything reads it (VOID's entry included).
#[derive(Debug)]
struct IdWords<A: Pooled> {
    words: Vec<A>,
    len: usize,
}

impl<A: Pooled> IdWords<A> {
    /// `n` words: a pooled allocation that fits, or a fresh zeroed one
    /// (pages are touched only where words are written).
    fn for_ids(n: usize, storage: Storage) -> IdWords<A> {
        IdWords {
            words: IdWords::reused(n, storage).unwrap_or_else(|| bytemuck::allocation::zeroed_vec(n)),
            len: n,
        }
    }
    /// `n` zero words, written as zeros even when fresh: a fresh page first
    /// read (a walk looks ahead) and then written takes a second fault and
    /// a TLB flush on both CPUs. Left untouched, a fresh resolve table made
    /// the whole `btfcheck verify` process 1.5 ms slower on vmlinux.
    fn zeroed_for_ids(n: usize) -> IdWords<A> {
        let words = match IdWords::reused(n, Storage::Fitting) {
            Some(mut words) => {
                words[..n].fill_with(A::zeroed);
                words
            }
            None => {
                let mut words = Vec::with_capacity(n);
                words.resize_with(n, A::zeroed);
                words
            }
        };
        IdWords { words, len: n }
    }
    /// A pooled allocation of at least `n` words as `storage` says, or
    /// `None` for a fresh one.
    fn reused(n: usize, storage: Storage) -> Option<Vec<A>> {
        let mut spares = A::spares().lock().ok()?;
        let mut fits = (0..spares.len()).filter(|&i| spares[i].len() >= n);
        let take = match storage {
            Storage::Fitting => fits.min_by_key(|&i| spares[i].len())?,
            // Spares are kept in the order they came back, so the first
            // that fits is the oldest; with one only, a second is made.
            Storage::Alternating => {
                let oldest = fits.next()?;
                fits.next()?;
                oldest
            }
        };
        Some(spares.remove(take))
    }
    #[inline]
    fn get(&self, id: u32) -> Option<&A> {
        if (id as usize) < self.len {
            self.words.get(id as usize)
        } else {
            None
        }
    }
    #[inline]
    fn at(&self, id: u32) -> &A {
        debug_assert!((id as usize) < self.len, "id {id} past the table");
        &self.words[id as usize]
    }
    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
    fn iter(&self) -> std::slice::Iter<'_, A> {
        self.words[..self.len].iter()
    }
}

impl<A: Pooled> Default for IdWords<A> {
    fn default() -> Self {
        IdWords {
            words: Vec::new(),
            len: 0,
        }
    }
}

impl<A: Pooled> Clone for IdWords<A> {
    fn clone(&self) -> Self {
        IdWords {
            words: self.iter().map(A::copy).collect(),
            len: self.len,
        }
    }
}

impl<A: Pooled> Drop for IdWords<A> {
    fn drop(&mut self) {
        // Small tables are cheap to make; the pool keeps the largest: as
        // many as one verification uses at a time, and a second main table
        // (see `Storage::Alternating`).
        if self.words.len() < A::MIN_WORDS {
            return;
        }
        if let Ok(mut spares) = A::spares().lock() {
            spares.push(std::mem::take(&mut self.words));
            if spares.len() > A::KEEP {
                let smallest = (0..spares.len())
                    .min_by_key(|&i| spares[i].len())
                    .expect("spares");
                spares.remove(smallest);
            }
        }
    }
}

/// Fills the pools with nothing but `n`-word tables whose every bit is
/// `bit`: a verification then runs on those stale words (tests: their
/// content must not matter).
#[cfg(test)]
pub(crate) fn pool_spares(n: usize, bit: bool) {
    let word = if bit { u64::MAX } else { 0 };
    let mut slots = AtomicU64::spares().lock().expect("pool");
    let mut positions = AtomicU32::spares().lock().expect("pool");
    slots.clear();
    positions.clear();
    for _ in 0..AtomicU64::KEEP {
        slots.push((0..n).map(|_| AtomicU64::new(word)).collect());
    }
    for _ in 0..AtomicU32::KEEP {
        positions.push((0..n).map(|_| AtomicU32::new(word as u32)).collect());
    }
}

/// A word type whose tables are pooled.
trait Pooled: bytemuck::Zeroable + Send + Sized + 'static {
    /// Tables smaller than this are not pooled.
    const MIN_WORDS: usize = 4096;
    /// How many the pool keeps.
    const KEEP: usize;
    fn spares() -> &'static std::sync::Mutex<Vec<Vec<Self>>>;
    fn copy(&self) -> Self;
}

impl Pooled for AtomicU64 {
    /// The slots of two tables (see `Storage::Alternating`).
    const KEEP: usize = 2;
    fn spares() -> &'static std::sync::Mutex<Vec<Vec<AtomicU64>>> {
        static SPARES: std::sync::Mutex<Vec<Vec<AtomicU64>>> = std::sync::Mutex::new(Vec::new());
        &SPARES
    }
    fn copy(&self) -> Self {
        AtomicU64::new(self.load(Relaxed))
    }
}

impl Pooled for AtomicU32 {
    /// The positions of two tables, and the resolve table.
    const KEEP: usize = 3;
    fn spares() -> &'static std::sync::Mutex<Vec<Vec<AtomicU32>>> {
        static SPARES: std::sync::Mutex<Vec<Vec<AtomicU32>>> = std::sync::Mutex::new(Vec::new());
        &SPARES
    }
    fn copy(&self) -> Self {
        AtomicU32::new(self.load(Relaxed))
    }
}

/// A blob whose header, string section and (so far) type records were read.
#[derive(Clone, Debug)]
pub struct Btf<'a> {
    pub blob: &'a [u8],
    pub header: Header,
    /// The type section bytes.
    pub types: &'a [u8],
    /// Absolute offset of the type section in the blob.
    pub types_start: u64,
    pub strings: Strings<'a>,
    /// Absolute offset of the string section in the blob.
    pub strings_start: u64,
    /// Every kept type by id; index 0 is VOID.
    pub slots: SlotTable,
    /// Where each kept type's record starts in the type section
    /// ([`VOID_POS`] for VOID), by id.
    pub positions: PositionTable,
    /// What the resolve pass found, by id (empty until it starts).
    pub resolution: ResolveTable,
    /// Records the meta pass walked, including ones dropped by the type cap.
    pub records_walked: u32,
    /// Identifier checks already made on this string section.
    pub idents: super::names::IdentCache,
    /// The kinds the rules know and their record sizes (the kernel's table,
    /// plus what proposals and a layout section add).
    pub shapes: Shapes,
    /// How these rules read identifiers.
    pub names: NameRules,
}

/// What an identifier may be under a profile. The memoised check is the
/// 6.18 rule (dots anywhere, 512 bytes); older kernels are stricter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameRules {
    /// `.` allowed in every identifier (6.4, and the 5.10.y/5.15.y/6.1.y
    /// backports); before, only VAR and DATASEC names take dots.
    pub dots: bool,
    /// `KSYM_NAME_LEN`: 128 before 6.1, then 512.
    pub max_len: usize,
    /// The memoised rule is the whole rule (6.18's: dots, 512 bytes).
    latest: bool,
}

impl NameRules {
    pub fn of(profile: &crate::profile::Profile) -> NameRules {
        let dots = profile.has(crate::profile::Features::DOTTED_NAMES);
        let max_len = profile.limits.name_len;
        NameRules {
            dots,
            max_len,
            latest: dots && max_len >= super::names::NAME_LEN_MAX,
        }
    }
}

impl<'a> Btf<'a> {
    /// Number of entries in the type table, VOID included (`btf->nr_types`).
    #[inline]
    pub fn nr_types(&self) -> u32 {
        self.slots.len() as u32
    }

    /// Ids of the kept types, 1..nr_types.
    pub fn ids(&self) -> std::ops::Range<u32> {
        1..self.nr_types()
    }

    /// The slot of `id`, `None` past the table.
    #[inline]
    pub fn slot(&self, id: u32) -> Option<Slot> {
        self.slots.get(id)
    }

    /// Kind of a kept type (`id` in the table).
    #[inline]
    pub fn kind(&self, id: u32) -> Kind {
        self.slots.at(id).kind()
    }

    /// Record position of a kept type.
    #[inline]
    pub fn pos(&self, id: u32) -> u32 {
        self.positions.at(id)
    }

    /// `btf_type_by_id`: VOID for 0, `None` past the table.
    #[inline(always)]
    pub fn by_id(&self, id: u32) -> Option<TypeRecord<'a>> {
        match self.positions.get(id)? {
            VOID_POS => Some(void_record()),
            pos => Some(self.record_at(pos)),
        }
    }

    /// The record at a position the meta pass accepted.
    #[inline(always)]
    pub fn record_at(&self, pos: u32) -> TypeRecord<'a> {
        let p = pos as usize;
        let words = self.types[p..p + COMMON_LEN as usize]
            .try_into()
            .expect("a header");
        let common = CommonType::from_words(words, self.shapes.wide_info());
        let tail_len = self.shapes.tail_len(common.kind(), common.vlen()).unwrap_or(0) as usize;
        let start = p + COMMON_LEN as usize;
        TypeRecord {
            pos,
            common,
            tail: &self.types[start..start + tail_len],
        }
    }

    /// Name offset of a kept type other than VOID.
    #[inline]
    pub fn name_off(&self, id: u32) -> u32 {
        u32_at(self.types, self.pos(id) as usize)
    }

    /// Absolute blob offset of a record position.
    pub fn abs(&self, pos: u32) -> u64 {
        self.types_start + pos as u64
    }

    /// A cursor over the type section that sizes records as the meta pass did.
    pub fn cursor(&self) -> crate::raw::RecordCursor<'a> {
        crate::raw::RecordCursor::with_shapes(self.types, self.shapes)
    }

    /// `btf_name_valid_identifier` for a valid offset (memoised).
    #[inline]
    pub fn is_identifier(&self, off: u32) -> bool {
        let ok = self.idents.is_identifier(self.strings.bytes(), off);
        if !ok || self.names.latest {
            return ok;
        }
        let s = self.strings.get(off).unwrap_or_default();
        s.len() <= self.names.max_len && (self.names.dots || !s.contains(&b'.'))
    }

    /// The identifier rule VAR and DATASEC names followed before dots were
    /// allowed everywhere: dots allowed, the profile's length limit.
    pub fn is_dotted_identifier(&self, off: u32) -> bool {
        self.idents.is_identifier(self.strings.bytes(), off)
            && self
                .strings
                .get(off)
                .is_some_and(|s| s.len() <= self.names.max_len)
    }

    /// Name bytes of a type, `None` if anonymous or the offset is invalid.
    pub fn name(&self, rec: &TypeRecord<'_>) -> Option<&'a [u8]> {
        match rec.name_off() {
            0 => None,
            off => self.strings.get(off),
        }
    }
}

/// VOID as the kernel's `btf_void`: kind 0, everything zero.
pub fn void_record() -> TypeRecord<'static> {
    TypeRecord {
        pos: VOID_POS,
        common: CommonType {
            name_off: 0,
            info: 0,
            size_type: 0,
            wide: false,
        },
        tail: &[],
    }
}

/// Kind-level predicates over records, named after the kernel helpers.
pub trait RecordExt {
    fn is_void(&self) -> bool;
    /// VOID, FWD, FUNC, FUNC_PROTO (`btf_type_nosize`).
    fn is_nosize(&self) -> bool;
    /// INT that can be used as a whole value: bits multiple of 8, no bit
    /// offset, power-of-two byte width up to 16 (`btf_type_int_is_regular`).
    fn is_regular_int(&self) -> bool;
}

impl RecordExt for TypeRecord<'_> {
    #[inline]
    fn is_void(&self) -> bool {
        self.pos == VOID_POS
    }
    #[inline]
    fn is_nosize(&self) -> bool {
        self.is_void() || matches!(self.kind(), Kind::FWD | Kind::FUNC | Kind::FUNC_PROTO)
    }
    fn is_regular_int(&self) -> bool {
        is_regular_int_data(self.int_data())
    }
}

/// [`RecordExt::is_regular_int`] on an INT's `int_data` word.
pub fn is_regular_int_data(d: u32) -> bool {
    let bits = d & 0xff;
    let offset = (d >> 16) & 0xff;
    let bytes = bits / 8;
    bits.is_multiple_of(8) && offset == 0 && bytes != 0 && bytes <= 16 && bytes.is_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU16;

    /// A word type of the tests' own, so that its pool is theirs alone
    /// (the other tables' pools are shared by tests running side by side).
    impl Pooled for AtomicU16 {
        const KEEP: usize = 3;
        fn spares() -> &'static std::sync::Mutex<Vec<Vec<AtomicU16>>> {
            static SPARES: std::sync::Mutex<Vec<Vec<AtomicU16>>> = std::sync::Mutex::new(Vec::new());
            &SPARES
        }
        fn copy(&self) -> Self {
            AtomicU16::new(self.load(Relaxed))
        }
    }

    /// One verification's tables: the main table, and a smaller one (as
    /// the resolve table is), dropped first. Returns where the main
    /// table's words were.
    fn one_verification(main: Storage) -> usize {
        let table = IdWords::<AtomicU16>::for_ids(10_000, main);
        let rest = IdWords::<AtomicU16>::for_ids(5_000, Storage::Fitting);
        drop(rest);
        table.words.as_ptr() as usize
    }

    #[test]
    fn two_lane_main_tables_alternate_between_two_storages() {
        let first = one_verification(Storage::Alternating);
        // Only one spare fits: a second is made.
        let second = one_verification(Storage::Alternating);
        assert_ne!(first, second);
        // From then on, the older of the two.
        for _ in 0..3 {
            assert_eq!(one_verification(Storage::Alternating), first);
            assert_eq!(one_verification(Storage::Alternating), second);
        }
        // The smaller table always takes the small spare, never a main one.
        let mut lens: Vec<_> = AtomicU16::spares()
            .lock()
            .expect("pool")
            .iter()
            .map(Vec::len)
            .collect();
        lens.sort();
        assert_eq!(lens, [5_000, 10_000, 10_000]);
    }
}
