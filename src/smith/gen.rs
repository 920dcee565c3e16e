//! The valid-by-construction generator.
//!
//! Every emitted type records a [`Fact`]: what the kernel's resolve pass will
//! conclude about it (its size lookup and the kind it resolves to). Later
//! types pick targets by those facts, so each choice satisfies the rule that
//! will check it (`btf_type_id_size`, the member checks, the array and
//! FUNC_PROTO checks, the type-tag placement pass) — see the per-kind notes.

use super::names;
use super::Config;
use crate::builder::{info, int_data, BtfBuilder};
use crate::profile::{Features, Profile};
use crate::raw::Kind;
use arbitrary::{Result, Unstructured};

/// What a type id resolves to, for the rules that look through modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Void,
    Int {
        bits: u8,
        offset: u8,
        regular: bool,
    },
    Enum {
        size: u32,
    },
    Ptr,
    Array,
    Composite {
        members: u16,
    },
    Float {
        size: u32,
    },
    Fwd,
    /// A FUNC_PROTO (or a modifier that ends on one, or on a FUNC).
    Proto {
        params: u16,
        all_named: bool,
    },
    Func {
        params: u16,
    },
    Var {
        size: u32,
    },
    Datasec,
    DeclTag,
}

/// The facts the generator keeps about one type id.
#[derive(Clone, Copy, Debug)]
pub struct Fact {
    pub kind: Kind,
    /// What it resolves to through modifiers.
    pub shape: Shape,
    /// `btf_type_id_size()`: `None` for VOID, FWD, FUNC, FUNC_PROTO (and
    /// modifiers ending on them).
    pub size: Option<u32>,
    /// The modifier chain starting here holds a TYPE_TAG, so no non-tag
    /// modifier may point here (`btf_check_type_tags`).
    pub tagged: bool,
}

impl Fact {
    const VOID: Fact = Fact {
        kind: Kind(0),
        shape: Shape::Void,
        size: None,
        tagged: false,
    };

    /// May be a struct member, a VAR's type, an array element, a param.
    fn is_sized_value(&self) -> bool {
        self.size.is_some() && !self.kind.is_source_only()
    }
}

/// Sizes above this never go into aggregates, so member bit offsets stay far
/// below the 24-bit kind_flag limit and every sum fits in u32.
const AGGREGATE_CAP: u32 = 1 << 16;

/// A construct [`Gen::generate`] inserts once among the valid types.
pub type Insert<'f, 'c> = &'f mut dyn FnMut(&mut Gen<'c>, &mut Unstructured<'_>) -> Result<()>;

/// The generator: a builder plus the facts of every type emitted so far.
pub struct Gen<'c> {
    /// The configuration, cut to what the profile accepts.
    pub cfg: std::borrow::Cow<'c, Config>,
    pub profile: Profile,
    pub b: BtfBuilder,
    facts: Vec<Fact>,
    /// Ids usable as values (sized, not source-only).
    sized: Vec<u32>,
    /// Ids usable as a PTR or modifier target.
    targets: Vec<u32>,
    /// Regular INTs (or modifiers to them): array indexes.
    regular_ints: Vec<u32>,
    protos: Vec<u32>,
    vars: Vec<u32>,
    decl_targets: Vec<u32>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    Int,
    Ptr,
    Array,
    Struct,
    Union,
    Enum,
    Fwd,
    Typedef,
    Volatile,
    Const,
    Restrict,
    Func,
    FuncProto,
    Var,
    Datasec,
    Float,
    DeclTag,
    TypeTag,
    Enum64,
    Cycle,
}

impl Step {
    const ALL: [Step; 20] = [
        Step::Int,
        Step::Ptr,
        Step::Array,
        Step::Struct,
        Step::Union,
        Step::Enum,
        Step::Fwd,
        Step::Typedef,
        Step::Volatile,
        Step::Const,
        Step::Restrict,
        Step::Func,
        Step::FuncProto,
        Step::Var,
        Step::Datasec,
        Step::Float,
        Step::DeclTag,
        Step::TypeTag,
        Step::Enum64,
        Step::Cycle,
    ];

    /// The kind the step emits (a cycle emits pointers and structs).
    fn kind(self) -> Kind {
        match self {
            Step::Cycle => Kind::STRUCT,
            s => Kind(s as u8 + 1),
        }
    }
}

impl<'c> Gen<'c> {
    pub fn new(cfg: &'c Config, profile: Profile) -> Self {
        let cfg = match cfg.for_profile(&profile) {
            Some(cut) => std::borrow::Cow::Owned(cut),
            None => std::borrow::Cow::Borrowed(cfg),
        };
        Gen {
            cfg,
            profile,
            b: BtfBuilder::new(),
            facts: vec![Fact::VOID],
            sized: Vec::new(),
            targets: vec![0],
            regular_ints: Vec::new(),
            protos: Vec::new(),
            vars: Vec::new(),
            decl_targets: Vec::new(),
        }
    }

    /// The blob built so far.
    pub fn finish(&self) -> Vec<u8> {
        self.b.build()
    }

    pub fn fact(&self, id: u32) -> Fact {
        self.facts[id as usize]
    }

    /// Emits between `min_types` and `max_types` valid types. When `insert`
    /// is given it runs once, at a point chosen from `u`, and whatever it
    /// emits is left out of the pools, so later types never refer to it.
    pub fn generate(&mut self, u: &mut Unstructured<'_>, mut insert: Option<Insert<'_, 'c>>) -> Result<()> {
        let min = self.cfg.min_types.clamp(1, Config::TYPES_CAP);
        let max = self.cfg.max_types.clamp(min, Config::TYPES_CAP);
        let count = u.int_in_range(min..=max)?;
        let insert_at = u.int_in_range(0..=count)?;
        let steps: Vec<Step> = Step::ALL
            .into_iter()
            .filter(|s| self.cfg.allows(&self.profile, s.kind()))
            .filter(|s| *s != Step::Cycle || self.cfg.pointer_cycles)
            .collect();
        let mut emitted = 0;
        while emitted < count {
            if emitted >= insert_at {
                if let Some(f) = insert.take() {
                    f(self, u)?;
                }
            }
            let before = self.b.next_id();
            match u.choose(&steps) {
                Ok(step) => self.step(u, *step)?,
                // Only when every kind is filtered out.
                Err(_) => self.int(u)?,
            };
            emitted += self.b.next_id() - before;
            if self.too_big() {
                break;
            }
        }
        if let Some(f) = insert.take() {
            f(self, u)?;
        }
        Ok(())
    }

    /// Stop well before the kernel's 16 MiB limit.
    fn too_big(&self) -> bool {
        let (types, strings) = self.b.sections();
        types.len() + strings.len() > 12 << 20
    }

    fn step(&mut self, u: &mut Unstructured<'_>, step: Step) -> Result<u32> {
        match step {
            Step::Int => self.int(u),
            Step::Ptr => self.ptr(u),
            Step::Array => self.array(u),
            Step::Struct => self.composite(u, Kind::STRUCT, &[]),
            Step::Union => self.composite(u, Kind::UNION, &[]),
            Step::Enum => self.enumeration(u, Kind::ENUM),
            Step::Enum64 => self.enumeration(u, Kind::ENUM64),
            Step::Fwd => self.fwd(u),
            Step::Typedef => self.modifier(u, Kind::TYPEDEF),
            Step::Volatile => self.modifier(u, Kind::VOLATILE),
            Step::Const => self.modifier(u, Kind::CONST),
            Step::Restrict => self.modifier(u, Kind::RESTRICT),
            Step::TypeTag => self.modifier(u, Kind::TYPE_TAG),
            Step::Func => self.func(u),
            Step::FuncProto => self.func_proto(u, false),
            Step::Var => self.var(u),
            Step::Datasec => self.datasec(u),
            Step::Float => self.float(u),
            Step::DeclTag => self.decl_tag(u),
            Step::Cycle => self.cycle(u),
        }
    }

    /// Appends a record and its fact, and files the id in the pools.
    fn emit(&mut self, name: &[u8], info: u32, size_type: u32, tail: &[u32], fact: Fact) -> u32 {
        let name_off = self.b.string(name);
        let id = self.b.record(name_off, info, size_type, tail);
        self.file(id, fact);
        id
    }

    /// Records `fact` for `id` and adds it to the pools it qualifies for.
    fn file(&mut self, id: u32, fact: Fact) {
        debug_assert_eq!(self.facts.len(), id as usize);
        self.facts.push(fact);
        if fact.is_sized_value() {
            self.sized.push(id);
        }
        // Before 5.19 a FUNC is never resolved, so nothing may point at it.
        let func_target_ok = fact.kind != Kind::FUNC || self.profile.has(Features::FUNC_RESOLVE);
        if !fact.kind.is_source_only() && func_target_ok {
            self.targets.push(id);
        }
        if matches!(fact.shape, Shape::Int { regular: true, .. }) {
            self.regular_ints.push(id);
        }
        match fact.kind {
            Kind::FUNC_PROTO => self.protos.push(id),
            Kind::VAR => self.vars.push(id),
            _ => {}
        }
        if fact.kind.is_decl_tag_target() {
            self.decl_targets.push(id);
        }
    }

    /// Emits a record that stays out of the pools (a fault's construct).
    pub fn emit_hidden(&mut self, name: &[u8], info: u32, size_type: u32, tail: &[u32]) -> u32 {
        let name_off = self.b.string(name);
        self.emit_raw(name_off, info, size_type, tail)
    }

    /// Like [`emit_hidden`](Self::emit_hidden) with the name as a raw offset.
    pub fn emit_raw(&mut self, name_off: u32, info: u32, size_type: u32, tail: &[u32]) -> u32 {
        let id = self.b.record(name_off, info, size_type, tail);
        self.facts.push(Fact::VOID);
        id
    }

    /// A pool member satisfying `ok`, trying a few random picks first.
    fn pick(
        &self,
        u: &mut Unstructured<'_>,
        pool: &[u32],
        ok: impl Fn(&Fact) -> bool,
    ) -> Result<Option<u32>> {
        if pool.is_empty() {
            return Ok(None);
        }
        for _ in 0..8 {
            let id = *u.choose(pool)?;
            if ok(&self.facts[id as usize]) {
                return Ok(Some(id));
            }
        }
        Ok(pool
            .iter()
            .rev()
            .copied()
            .find(|&id| ok(&self.facts[id as usize])))
    }

    /// A regular 32-bit INT, made if none exists yet.
    pub fn regular_int(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        if let Some(id) = self.pick(u, &self.regular_ints, |_| true)? {
            return Ok(id);
        }
        Ok(self.emit_int(b"int", 4, int_data(1, 0, 32)))
    }

    /// A value type (sized) satisfying `ok`, else a fresh regular INT.
    pub fn sized_value(&mut self, u: &mut Unstructured<'_>, ok: impl Fn(&Fact) -> bool) -> Result<u32> {
        let ok = |f: &Fact| f.size.is_some_and(|s| s <= AGGREGATE_CAP) && ok(f);
        match self.pick(u, &self.sized, ok)? {
            Some(id) => Ok(id),
            None => self.regular_int(u),
        }
    }

    fn emit_int(&mut self, name: &[u8], size: u32, data: u32) -> u32 {
        let bits = (data & 0xff) as u8;
        let offset = ((data >> 16) & 0xff) as u8;
        let regular = offset == 0 && matches!(bits, 8 | 16 | 32 | 64 | 128);
        let fact = Fact {
            kind: Kind::INT,
            shape: Shape::Int {
                bits,
                offset,
                regular,
            },
            size: Some(size),
            tagged: false,
        };
        self.emit(name, info(Kind::INT, 0, false), size, &[data], fact)
    }

    /// INT: size 1-16, bits + offset within it and ≤ 128, one encoding.
    fn int(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        const C_NAMES: &[&str] = &[
            "int",
            "unsigned int",
            "char",
            "long",
            "_Bool",
            "__int128",
            "u8",
            "s64",
        ];
        let name = names::base_type_name(u, &self.cfg, C_NAMES)?;
        // 128-bit INTs came with 5.1.
        let wide = self.profile.has(Features::INT128);
        let size = *u.choose(if wide {
            &[1u32, 2, 4, 8, 16][..]
        } else {
            &[1u32, 2, 4, 8]
        })?;
        let max_bits = if wide { 128 } else { 64 };
        let encoding = *u.choose(&[0u8, 1, 2, 4])?;
        let (bits, offset) = if u.ratio(3, 4)? {
            (size * 8, 0)
        } else {
            let offset = u.int_in_range(0..=(size * 8).min(max_bits - 1))?;
            let bits = u.int_in_range(0..=(size * 8 - offset).min(max_bits - offset))?;
            (bits, offset)
        };
        let mut data = int_data(encoding, offset as u8, bits as u8);
        // Bits 8-15 of int_data are never checked (kernel quirk).
        if u.ratio(1, 32)? {
            data |= (u.arbitrary::<u8>()? as u32) << 8;
        }
        Ok(self.emit_int(&name, size, data))
    }

    /// A PTR or modifier target: anything not source-only; non-tag
    /// modifiers never point at a chain holding a TYPE_TAG.
    fn target(&mut self, u: &mut Unstructured<'_>, allow_tagged: bool) -> Result<u32> {
        let ok = |f: &Fact| allow_tagged || !f.tagged;
        Ok(self.pick(u, &self.targets, ok)?.unwrap_or(0))
    }

    fn ptr(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        let target = self.target(u, true)?;
        Ok(self.emit_ptr(target))
    }

    fn emit_ptr(&mut self, target: u32) -> u32 {
        let fact = Fact {
            kind: Kind::PTR,
            shape: Shape::Ptr,
            size: Some(8),
            tagged: false,
        };
        self.emit(b"", info(Kind::PTR, 0, false), target, &[], fact)
    }

    /// TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG. The target may end on
    /// VOID, FWD, FUNC_PROTO or a FUNC (which resolves to its proto).
    fn modifier(&mut self, u: &mut Unstructured<'_>, kind: Kind) -> Result<u32> {
        let is_tag = kind == Kind::TYPE_TAG;
        let target = self.target(u, is_tag)?;
        let t = self.fact(target);
        let (shape, size) = match t.shape {
            Shape::Func { params } => (
                Shape::Proto {
                    params,
                    all_named: true,
                },
                None,
            ),
            s => (s, t.size),
        };
        let name = match kind {
            Kind::TYPEDEF => names::identifier(u, &self.cfg)?,
            Kind::TYPE_TAG => names::tag_value(u, &self.cfg)?,
            _ => Vec::new(),
        };
        let kflag = is_tag && self.profile.has(Features::TAG_KFLAG) && u.ratio(1, 4)?;
        let fact = Fact {
            kind,
            shape,
            size,
            tagged: is_tag || t.tagged,
        };
        Ok(self.emit(&name, info(kind, 0, kflag), target, &[], fact))
    }

    /// ARRAY: a regular INT index; an element that has a size and is not an
    /// irregular INT; `elem_size * nelems` within u32.
    fn array(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        let index = self.regular_int(u)?;
        let elem = self.sized_value(u, |f| !matches!(f.shape, Shape::Int { regular: false, .. }))?;
        let elem_size = self.fact(elem).size.unwrap_or(0);
        let nelems = if elem_size > 0 && u.ratio(1, 32)? {
            // The largest count that does not overflow; too big to nest.
            u32::MAX / elem_size
        } else {
            let cap = AGGREGATE_CAP / elem_size.max(1);
            u.int_in_range(0..=self.cfg.max_array_len.min(cap))?
        };
        let size = elem_size.wrapping_mul(nelems);
        let fact = Fact {
            kind: Kind::ARRAY,
            shape: Shape::Array,
            size: Some(size),
            tagged: false,
        };
        Ok(self.emit(b"", info(Kind::ARRAY, 0, false), 0, &[elem, index, nelems], fact))
    }

    /// STRUCT or UNION. `extra` are pointer types (from a cycle) the members
    /// may also use.
    fn composite(&mut self, u: &mut Unstructured<'_>, kind: Kind, extra: &[u32]) -> Result<u32> {
        let is_union = kind == Kind::UNION;
        let kflag = self.cfg.kflag_composites && u.ratio(1, 3)?;
        let name = names::optional_identifier(u, &self.cfg)?;
        let count = u.int_in_range(0..=self.cfg.max_members)?;
        let mut layout = Layout::default();
        let mut members: Vec<(Vec<u8>, u32, u32)> = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let ty = if !extra.is_empty() && u.ratio(1, 3)? {
                *u.choose(extra)?
            } else {
                self.sized_value(u, |f| {
                    !kflag || !matches!(f.shape, Shape::Int { regular: false, .. })
                })?
            };
            let fact = self.fact(ty);
            let at = if is_union { 0 } else { layout.next_bit };
            let Some(placed) = place(u, fact, at, kflag)? else {
                continue;
            };
            // Keep bit offsets far from the 24-bit kind_flag field.
            if placed.end_bits > (1 << 23) {
                break;
            }
            let word = if kflag {
                ((placed.bitfield as u32) << 24) | placed.bit_offset
            } else {
                placed.bit_offset
            };
            layout.add(&placed);
            members.push((names::optional_identifier(u, &self.cfg)?, ty, word));
        }
        let padding = u.int_in_range(0..=8u32)?;
        let size = layout.min_bytes as u32 + padding;
        let name_off = self.b.string(&name);
        let mut tail = Vec::with_capacity(members.len() * 3);
        for (n, ty, off) in &members {
            tail.extend_from_slice(&[self.b.string(n), *ty, *off]);
        }
        let id = self
            .b
            .record(name_off, info(kind, members.len() as u16, kflag), size, &tail);
        let fact = Fact {
            kind,
            shape: Shape::Composite {
                members: members.len() as u16,
            },
            size: Some(size),
            tagged: false,
        };
        self.file(id, fact);
        Ok(id)
    }

    /// A legal pointer cycle: `n` PTRs to the `n` structs that follow them,
    /// whose members may use any of those PTRs.
    fn cycle(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        // Emit what the structs may need first, so nothing lands between.
        self.regular_int(u)?;
        let n = u.int_in_range(1..=3u32)?;
        let first_struct = self.b.next_id() + n;
        let ptrs: Vec<u32> = (0..n).map(|i| self.emit_ptr(first_struct + i)).collect();
        let mut last = 0;
        for _ in 0..n {
            let kind = if u.ratio(1, 4)? { Kind::UNION } else { Kind::STRUCT };
            last = self.composite(u, kind, &ptrs)?;
        }
        debug_assert_eq!(last, first_struct + n - 1);
        Ok(last)
    }

    /// ENUM or ENUM64: sizes 1, 2, 4, 8; kind_flag = signed (where known).
    fn enumeration(&mut self, u: &mut Unstructured<'_>, kind: Kind) -> Result<u32> {
        let name = names::optional_identifier(u, &self.cfg)?;
        // Before 5.4 an ENUM is 4 bytes.
        let size = if self.profile.has(Features::ENUM_SIZES) {
            *u.choose(&[1u32, 2, 4, 8])?
        } else {
            4
        };
        let signed = self.profile.has(Features::ENUM64) && u.arbitrary()?;
        let count = u.int_in_range(0..=self.cfg.max_enumerators)?;
        let name_off = self.b.string(&name);
        let mut tail = Vec::new();
        for _ in 0..count {
            let n = names::identifier(u, &self.cfg)?;
            let n = self.b.string(&n);
            let v: u64 = u.arbitrary()?;
            tail.push(n);
            tail.push(v as u32);
            if kind == Kind::ENUM64 {
                tail.push((v >> 32) as u32);
            }
        }
        let id = self.b.record(name_off, info(kind, count, signed), size, &tail);
        let fact = Fact {
            kind,
            shape: Shape::Enum { size },
            size: Some(size),
            tagged: false,
        };
        self.file(id, fact);
        Ok(id)
    }

    fn fwd(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        let name = names::identifier(u, &self.cfg)?;
        // A union FWD is kind_flag, which came with 5.0.
        let is_union = self.profile.has(Features::KFLAG) && u.arbitrary()?;
        let fact = Fact {
            kind: Kind::FWD,
            shape: Shape::Fwd,
            size: None,
            tagged: false,
        };
        Ok(self.emit(&name, info(Kind::FWD, 0, is_union), 0, &[], fact))
    }

    fn float(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        let name = names::base_type_name(u, &self.cfg, &["float", "double", "long double", "_Float16"])?;
        let size = *u.choose(&[2u32, 4, 8, 12, 16])?;
        let fact = Fact {
            kind: Kind::FLOAT,
            shape: Shape::Float { size },
            size: Some(size),
            tagged: false,
        };
        Ok(self.emit(&name, info(Kind::FLOAT, 0, false), size, &[], fact))
    }

    /// FUNC_PROTO: return VOID or a sized type; params sized, named or not
    /// (all named when `for_func`); maybe a trailing vararg slot.
    fn func_proto(&mut self, u: &mut Unstructured<'_>, for_func: bool) -> Result<u32> {
        let ret = if u.ratio(1, 4)? {
            0
        } else {
            self.sized_value(u, |_| true)?
        };
        let count = u.int_in_range(0..=self.cfg.max_params)?;
        let mut params = Vec::with_capacity(count as usize + 1);
        let mut all_named = true;
        for _ in 0..count {
            let ty = self.sized_value(u, |_| true)?;
            let name = if for_func {
                names::identifier(u, &self.cfg)?
            } else {
                names::optional_identifier(u, &self.cfg)?
            };
            all_named &= !name.is_empty();
            params.push((name, ty));
        }
        if u.ratio(1, 8)? {
            params.push((Vec::new(), 0));
        }
        let mut tail = Vec::with_capacity(params.len() * 2);
        for (n, ty) in &params {
            tail.extend_from_slice(&[self.b.string(n), *ty]);
        }
        let id = self
            .b
            .record(0, info(Kind::FUNC_PROTO, params.len() as u16, false), ret, &tail);
        let fact = Fact {
            kind: Kind::FUNC_PROTO,
            shape: Shape::Proto {
                params: params.len() as u16,
                all_named,
            },
            size: None,
            tagged: false,
        };
        self.file(id, fact);
        Ok(id)
    }

    /// FUNC: a proto whose params are all named; linkage static or global.
    fn func(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        let named = |f: &Fact| matches!(f.shape, Shape::Proto { all_named: true, .. });
        let proto = match self.pick(u, &self.protos, named)? {
            Some(p) => p,
            None => self.func_proto(u, true)?,
        };
        let Shape::Proto { params, .. } = self.fact(proto).shape else {
            unreachable!("protos pool holds FUNC_PROTOs only")
        };
        let name = names::identifier(u, &self.cfg)?;
        let linkage = if self.profile.has(Features::FUNC_LINKAGE) {
            u.int_in_range(0..=1u16)?
        } else {
            0
        };
        let fact = Fact {
            kind: Kind::FUNC,
            shape: Shape::Func { params },
            size: None,
            tagged: false,
        };
        Ok(self.emit(&name, info(Kind::FUNC, linkage, false), proto, &[], fact))
    }

    /// VAR: a sized type; linkage static or global-allocated.
    fn var(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        let ty = self.sized_value(u, |_| true)?;
        let size = self.fact(ty).size.unwrap_or(0);
        let name = names::identifier(u, &self.cfg)?;
        let linkage = u.int_in_range(0..=1u32)?;
        let fact = Fact {
            kind: Kind::VAR,
            shape: Shape::Var { size },
            size: Some(size),
            tagged: false,
        };
        Ok(self.emit(&name, info(Kind::VAR, 0, false), ty, &[linkage], fact))
    }

    /// DATASEC: VAR entries, sorted, not overlapping, each at least as large
    /// as its variable; a section size covering the last entry.
    fn datasec(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        if self.vars.is_empty() {
            self.var(u)?;
        }
        let name = names::section(u, &self.cfg)?;
        // Before 5.12 a DATASEC needs an entry.
        let least = u16::from(!self.profile.has(Features::DATASEC_EMPTY));
        let count = u.int_in_range(least..=self.cfg.max_datasec_entries.max(least))?;
        let mut tail = Vec::with_capacity(count as usize * 3);
        let mut end: u32 = 0;
        for _ in 0..count {
            let var = *u.choose(&self.vars)?;
            let Shape::Var { size: var_size } = self.fact(var).shape else {
                unreachable!("vars pool holds VARs only")
            };
            let offset = end + u.int_in_range(0..=8u32)?;
            let size = var_size.max(1) + u.int_in_range(0..=4u32)?;
            tail.extend_from_slice(&[var, offset, size]);
            end = offset + size;
        }
        let sec_size = end.max(1) + u.int_in_range(0..=16u32)?;
        let fact = Fact {
            kind: Kind::DATASEC,
            shape: Shape::Datasec,
            size: Some(sec_size),
            tagged: false,
        };
        Ok(self.emit(&name, info(Kind::DATASEC, count, false), sec_size, &tail, fact))
    }

    /// DECL_TAG on a FUNC, STRUCT, UNION, VAR or TYPEDEF; on a component of
    /// the first three.
    fn decl_tag(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        let target = match self.pick(u, &self.decl_targets, |_| true)? {
            Some(t) => t,
            None => self.composite(u, Kind::STRUCT, &[])?,
        };
        let components = match self.fact(target).shape {
            Shape::Composite { members } if self.fact(target).kind.is_composite() => members,
            Shape::Func { params } if self.fact(target).kind == Kind::FUNC => params,
            _ => 0,
        };
        let idx: i32 = if components > 0 && u.arbitrary()? {
            u.int_in_range(0..=components as i32 - 1)?
        } else {
            -1
        };
        let value = names::tag_value(u, &self.cfg)?;
        let kflag = self.profile.has(Features::TAG_KFLAG) && u.ratio(1, 4)?;
        let fact = Fact {
            kind: Kind::DECL_TAG,
            shape: Shape::DeclTag,
            size: None,
            tagged: false,
        };
        Ok(self.emit(
            &value,
            info(Kind::DECL_TAG, 0, kflag),
            target,
            &[idx as u32],
            fact,
        ))
    }
}

/// Where one member goes.
#[derive(Debug)]
struct Placed {
    bit_offset: u32,
    /// kind_flag bitfield size (0 = whole type).
    bitfield: u8,
    /// First bit after the member's storage.
    end_bits: u64,
    /// Bytes the struct must have for the kernel's member check.
    needs_bytes: u64,
}

impl Placed {
    /// `width` bits at bit `at`, with kind_flag bitfield size `bitfield`:
    /// the struct needs every byte they touch.
    fn bits(at: u32, bitfield: u8, width: u64) -> Placed {
        let end = at as u64 + width;
        Placed {
            bit_offset: at,
            bitfield,
            end_bits: end,
            needs_bytes: end.div_ceil(8),
        }
    }
}

#[derive(Default)]
struct Layout {
    next_bit: u32,
    min_bytes: u64,
}

impl Layout {
    fn add(&mut self, p: &Placed) {
        self.next_bit = self.next_bit.max(p.end_bits as u32);
        self.min_bytes = self.min_bytes.max(p.needs_bytes).max(p.end_bits.div_ceil(8));
    }
}

fn align_up(bit: u32, align_bytes: u32) -> u32 {
    let a = align_bytes.max(1) * 8;
    bit.div_ceil(a) * a
}

/// Places a member of type `t` at or after bit `at` so that it passes the
/// kernel's member check for its resolved kind (`btf_*_check_member`,
/// `btf_*_check_kflag_member`). `None`: this type cannot go here.
fn place(u: &mut Unstructured<'_>, t: Fact, at: u32, kflag: bool) -> Result<Option<Placed>> {
    let size = t.size.unwrap_or(0);
    let whole = |bit: u32, need: u64| Placed {
        bit_offset: bit,
        bitfield: 0,
        end_bits: bit as u64 + size as u64 * 8,
        needs_bytes: need,
    };
    let placed = match t.shape {
        Shape::Int {
            bits,
            offset,
            regular,
        } => {
            if kflag && !regular {
                return Ok(None);
            }
            if kflag && u.arbitrary()? {
                // A bitfield anywhere; copy bits (bitfield + bit % 8) ≤ 128.
                let bf = u.int_in_range(1..=bits)?.min(128 - (at % 8) as u8);
                Placed::bits(at, bf, bf as u64)
            } else if !kflag && bits <= 64 && u.ratio(1, 4)? {
                // A non-kflag bitfield: the int's own bits at any bit.
                Placed::bits(at, 0, offset as u64 + bits as u64)
            } else {
                let bit = align_up(at, size.min(8));
                let end = bit as u64 + offset as u64 + bits as u64;
                Placed {
                    needs_bytes: end.div_ceil(8),
                    ..whole(bit, 0)
                }
            }
        }
        Shape::Enum { size: es } => {
            if kflag && u.arbitrary()? {
                let bf = u.int_in_range(1..=32u8)?;
                Placed::bits(at, bf, bf as u64)
            } else {
                let bit = align_up(at, es.min(8));
                // kind_flag counts an enum as 32 bits whatever its size.
                let counted = if kflag { 4 } else { es as u64 };
                whole(bit, bit as u64 / 8 + counted)
            }
        }
        Shape::Float { size: fs } => {
            let bit = align_up(at, fs.min(8));
            whole(bit, bit as u64 / 8 + fs as u64)
        }
        Shape::Ptr | Shape::Array | Shape::Composite { .. } => {
            let align = if t.shape == Shape::Ptr {
                8
            } else {
                size.clamp(1, 8)
            };
            let bit = align_up(at, align);
            whole(bit, bit as u64 / 8 + size as u64)
        }
        _ => return Ok(None),
    };
    Ok(Some(placed))
}
