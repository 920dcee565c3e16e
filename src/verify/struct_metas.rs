//! Special fields in user structs ("struct metas").
//!
//! Mirrors `btf_parse_struct_metas()`, `btf_parse_fields()` and
//! `btf_check_and_fixup_fields()` in kernel/bpf/btf.c (v6.18): structs that
//! hold a BPF special type (spin lock, list/rb roots and nodes, refcount) or a
//! kptr are parsed for their special fields, and every failure rejects the
//! blob without a word in the log. Whether a kptr's target is a kernel type
//! with a destructor depends on the running kernel; that answer comes from
//! the kernel's BTF ([`KernelBtf`]) and a per-kernel destructor table.

use super::btf::{Btf, RecordExt, Slot};
use super::error::{errno, Check, Failure, Site, SpecialFieldError as E, Stage};
use super::meta::member_bit_offset;
use super::Note;
use crate::profile::Features;
use crate::raw::{Kind, TypeRecord};
use std::collections::HashMap;
use std::sync::OnceLock;

/// `BTF_FIELDS_MAX`.
const FIELDS_MAX: usize = 11;
/// `MAX_RESOLVE_DEPTH`, reused by the kernel for array and nesting depth.
const MAX_DEPTH: u32 = 32;

/// Structs that, in 6.18, have a destructor kfunc registered for referenced
/// kptrs (`register_btf_id_dtor_kfuncs` in kernel/bpf/helpers.c, cpumask.c,
/// crypto.c). Module-registered types are not known here.
/// `prog_test_*` come from net/bpf/test_run.c; `sk_buff` is left out because
/// its destructor needs bpf_qdisc, which the reference kernel does not build.
pub const DTOR_STRUCTS_6_18: &[&str] = &[
    "task_struct",
    "cgroup",
    "bpf_cpumask",
    "bpf_crypto_ctx",
    "prog_test_ref_kfunc",
    "prog_test_member",
];

/// The kernel's own BTF, read and indexed by (name, kind) on first use, so
/// verifications that never need it never pay for it.
#[derive(Debug)]
pub struct KernelBtf {
    pub path: String,
    bytes: OnceLock<Option<Vec<u8>>>,
    index: OnceLock<HashMap<(Vec<u8>, u8), u32>>,
}

impl KernelBtf {
    /// Kernel BTF already in memory.
    pub fn new(path: impl Into<String>, bytes: Vec<u8>) -> Self {
        KernelBtf {
            path: path.into(),
            bytes: OnceLock::from(Some(bytes)),
            index: OnceLock::new(),
        }
    }

    /// Kernel BTF read from `path` (raw BTF or ELF) when first needed.
    pub fn from_path(path: impl Into<String>) -> Self {
        KernelBtf {
            path: path.into(),
            bytes: OnceLock::new(),
            index: OnceLock::new(),
        }
    }

    /// Whether the BTF could be read.
    pub fn available(&self) -> bool {
        self.bytes().is_some()
    }

    fn bytes(&self) -> Option<&[u8]> {
        self.bytes
            .get_or_init(|| crate::input::load(&self.path).ok().map(|i| i.btf().to_vec()))
            .as_deref()
    }

    /// `bpf_find_btf_id` on vmlinux: the first type with this name and kind.
    pub fn find(&self, name: &[u8], kind: Kind) -> Option<u32> {
        let index = self
            .index
            .get_or_init(|| self.bytes().map(build_index).unwrap_or_default());
        index.get(&(name.to_vec(), kind.0)).copied()
    }
}

fn build_index(bytes: &[u8]) -> HashMap<(Vec<u8>, u8), u32> {
    let mut map = HashMap::new();
    let Ok(h) = super::hdr::read_header(bytes, crate::raw::header::HEADER_LEN) else {
        return map;
    };
    let types_start = h.hdr_len as usize + h.type_off as usize;
    let strings_start = h.hdr_len as usize + h.str_off as usize;
    let (Some(types), Some(strs)) = (
        bytes.get(types_start..types_start.saturating_add(h.type_len as usize)),
        bytes.get(strings_start..strings_start.saturating_add(h.str_len as usize)),
    ) else {
        return map;
    };
    let strings = crate::raw::Strings::new(strs);
    let mut cursor = crate::raw::RecordCursor::new(types);
    let mut id = 1u32;
    while let Some(rec) = cursor.next_whole() {
        if let Some(name) = strings.get(rec.name_off()).filter(|n| !n.is_empty()) {
            map.entry((name.to_vec(), rec.kind().0)).or_insert(id);
        }
        id += 1;
    }
    map
}

/// Field types, as the kernel's `enum btf_field_type` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldType {
    SpinLock,
    ResSpinLock,
    ListHead,
    ListNode,
    RbRoot,
    RbNode,
    Refcount,
    KptrUnref,
    KptrRef,
    KptrPercpu,
}

impl FieldType {
    /// (size, align) of the uapi struct or pointer.
    fn size_align(self) -> (u32, u32) {
        match self {
            FieldType::SpinLock | FieldType::ResSpinLock | FieldType::Refcount => (4, 4),
            FieldType::ListHead | FieldType::RbRoot => (16, 8),
            FieldType::ListNode => (24, 8),
            FieldType::RbNode => (32, 8),
            FieldType::KptrUnref | FieldType::KptrRef | FieldType::KptrPercpu => (8, 8),
        }
    }
    fn is_unique(self) -> bool {
        matches!(self, FieldType::SpinLock | FieldType::ResSpinLock)
    }
    fn is_graph_root(self) -> bool {
        matches!(self, FieldType::ListHead | FieldType::RbRoot)
    }
    fn is_graph_node(self) -> bool {
        matches!(self, FieldType::ListNode | FieldType::RbNode)
    }
    fn is_kptr(self) -> bool {
        matches!(
            self,
            FieldType::KptrUnref | FieldType::KptrRef | FieldType::KptrPercpu
        )
    }
    /// Fields that may be repeated by arrays (`btf_repeat_fields`).
    fn repeatable(self) -> bool {
        self.is_kptr() || self.is_graph_root()
    }
}

/// Named special structs, in the kernel's matching order.
const NAMED: &[(&[u8], FieldType)] = &[
    (b"bpf_spin_lock", FieldType::SpinLock),
    (b"bpf_res_spin_lock", FieldType::ResSpinLock),
    (b"bpf_list_head", FieldType::ListHead),
    (b"bpf_list_node", FieldType::ListNode),
    (b"bpf_rb_root", FieldType::RbRoot),
    (b"bpf_rb_node", FieldType::RbNode),
    (b"bpf_refcount", FieldType::Refcount),
];

/// The names whose STRUCT ids mark a struct for parsing.
const ALLOC_OBJ_FIELDS: &[&[u8]] = &[
    b"bpf_spin_lock",
    b"bpf_list_head",
    b"bpf_list_node",
    b"bpf_rb_root",
    b"bpf_rb_node",
    b"bpf_refcount",
];

#[derive(Clone, Copy, Debug)]
struct FieldInfo {
    ty: FieldType,
    off: u32,
    /// kptr: the pointee struct id; graph root: the value struct id.
    target: u32,
    /// graph root: string offset of the node field name inside the tag.
    node_name: Option<(u32, usize)>,
}

type R<T> = Result<T, (E, i32)>;

struct Parser<'b, 'a> {
    btf: &'b Btf<'a>,
    /// Nested structs already walked without finding a field, with how many
    /// levels deep their walk went. The kernel rewalks shared nested structs
    /// every time (exponential in the nesting); the answer is the same as
    /// long as the depth limit is not reached, so btfcheck walks them once.
    empty: std::cell::RefCell<HashMap<u32, u32>>,
    /// Deepest nesting level reached by the walk in progress.
    deepest: std::cell::Cell<u32>,
    /// `contains:` decl tags by (target id, component index), in id order.
    contains_tags: OnceLock<HashMap<(u32, i32), Vec<u32>>>,
    /// First STRUCT of each name.
    structs_by_name: OnceLock<HashMap<&'a [u8], u32>>,
    /// Which special fields the kernel knows (they came one by one, 6.2-6.15).
    features: Features,
}

/// Whether a kernel with `f` looks for field type `ty` at BTF load.
fn field_known(ty: FieldType, f: Features) -> bool {
    match ty {
        FieldType::ResSpinLock => f.contains(Features::METAS_RES_SPIN_LOCK),
        FieldType::RbRoot | FieldType::RbNode => f.contains(Features::METAS_RBTREE),
        FieldType::Refcount => f.contains(Features::METAS_REFCOUNT),
        t if t.is_kptr() => f.contains(Features::METAS_KPTR),
        _ => true,
    }
}

impl<'a> Parser<'_, 'a> {
    fn name(&self, rec: &TypeRecord<'_>) -> &'a [u8] {
        match rec.name_off() {
            0 => b"",
            off => self.btf.strings.get(off).unwrap_or(b""),
        }
    }

    /// `btf_find_by_name_kind` for STRUCT.
    fn find_struct(&self, name: &[u8]) -> Option<u32> {
        let index = self.structs_by_name.get_or_init(|| {
            let mut map = HashMap::new();
            for id in self.btf.ids() {
                if self.btf.kind(id) == Kind::STRUCT {
                    map.entry(self.name_at(self.btf.name_off(id))).or_insert(id);
                }
            }
            map
        });
        index.get(name).copied()
    }

    fn name_at(&self, off: u32) -> &'a [u8] {
        match off {
            0 => b"",
            off => self.btf.strings.get(off).unwrap_or(b""),
        }
    }

    /// `btf_find_kptr`: a (volatile) pointer to a kflag-0 type tag.
    /// `Ok(None)` = not a kptr here.
    fn find_kptr(&self, t: &TypeRecord<'a>, off: u32) -> R<Option<FieldInfo>> {
        let mut t = *t;
        if t.kind() == Kind::VOLATILE {
            match self.btf.by_id(t.common.type_id()) {
                Some(n) => t = n,
                None => return Ok(None),
            }
        }
        if t.kind() != Kind::PTR {
            return Ok(None);
        }
        let Some(tag) = self.btf.by_id(t.common.type_id()) else {
            return Ok(None);
        };
        if tag.kind() != Kind::TYPE_TAG || tag.kflag() {
            return Ok(None);
        }
        if self
            .btf
            .by_id(tag.common.type_id())
            .is_some_and(|n| n.kind() == Kind::TYPE_TAG)
        {
            return Err((E::KptrChainedTag, errno::EINVAL));
        }
        let ty = match self.name(&tag) {
            b"kptr_untrusted" => FieldType::KptrUnref,
            b"kptr" => FieldType::KptrRef,
            b"percpu_kptr" => FieldType::KptrPercpu,
            // uptr (6.13) is a kptr kind the struct-metas mask leaves out.
            b"uptr" if self.features.contains(Features::METAS_UPTR) => return Ok(None),
            _ => return Err((E::KptrTagUnknown, errno::EINVAL)),
        };
        let (res_id, target) = self.skip_modifiers(tag.common.type_id());
        if target.is_none_or(|r| r.kind() != Kind::STRUCT) {
            return Err((E::KptrNotStruct, errno::EINVAL));
        }
        Ok(Some(FieldInfo {
            ty,
            off,
            target: res_id,
            node_name: None,
        }))
    }

    fn skip_modifiers(&self, mut id: u32) -> (u32, Option<TypeRecord<'a>>) {
        let mut t = self.btf.by_id(id);
        while let Some(r) = t.filter(|r| r.kind().is_modifier()) {
            id = r.common.type_id();
            t = self.btf.by_id(id);
        }
        (id, t)
    }

    /// `btf_get_field_type` for the struct-metas mask.
    fn field_type(&self, t: &TypeRecord<'_>, seen: &mut u32) -> R<Option<FieldType>> {
        let name = self.name(t);
        let known = NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .filter(|(_, ty)| field_known(*ty, self.features));
        if let Some(&(_, ty)) = known {
            if ty.is_unique() {
                let bit = 1 << (ty as u32);
                if *seen & bit != 0 {
                    return Err((E::DuplicateUnique, errno::E2BIG));
                }
                *seen |= bit;
            }
            return Ok(Some(ty));
        }
        // Anything that is not a struct may be a kptr.
        if t.kind() != Kind::STRUCT && self.features.contains(Features::METAS_KPTR) {
            return Ok(Some(FieldType::KptrRef));
        }
        Ok(None)
    }

    /// `btf_find_struct_field`: every member of `t`, at nesting `level`.
    fn struct_fields(&self, t: &TypeRecord<'a>, t_id: u32, info: &mut Vec<FieldInfo>, level: u32) -> R<()> {
        let mut seen = 0u32;
        for i in 0..t.vlen() as usize {
            let m = t.member(i);
            let off = member_bit_offset(t.kflag(), m.offset);
            if !off.is_multiple_of(8) {
                return Err((E::NotByteAligned, errno::EINVAL));
            }
            self.field_one(t_id, i as i32, m.type_id, off / 8, &mut seen, info, level)?;
        }
        Ok(())
    }

    /// `btf_find_field_one`.
    #[allow(clippy::too_many_arguments)]
    fn field_one(
        &self,
        owner: u32,
        comp_idx: i32,
        ty_id: u32,
        off: u32,
        seen: &mut u32,
        info: &mut Vec<FieldInfo>,
        level: u32,
    ) -> R<()> {
        let (mut id, mut t) = match self.btf.by_id(ty_id) {
            Some(t) => (ty_id, t),
            None => return Ok(()),
        };
        let mut nelems: u32 = 1;
        let mut depth = 0;
        while depth < MAX_DEPTH && t.kind() == Kind::ARRAY {
            let a = t.array();
            nelems = nelems.wrapping_mul(a.nelems);
            id = a.elem_type;
            match self.btf.by_id(id) {
                Some(n) => t = n,
                None => return Ok(()),
            }
            depth += 1;
        }
        if depth == MAX_DEPTH {
            return Err((E::TooDeep, errno::E2BIG));
        }
        if nelems == 0 {
            return Ok(());
        }
        let ft = self.field_type(&t, seen)?;
        let Some(ft) = ft else {
            if t.kind() == Kind::STRUCT {
                return self.nested(&t, id, off, nelems, info, level);
            }
            return Ok(());
        };
        let (sz, align) = ft.size_align();
        if !off.is_multiple_of(align) {
            return Ok(());
        }
        let found = if ft.is_kptr() {
            self.find_kptr(&t, off)?
        } else if ft.is_graph_root() {
            self.find_graph_root(owner, comp_idx, &t, off, sz, ft)?
        } else if t.kind() == Kind::STRUCT && t.common.size() == sz {
            Some(FieldInfo {
                ty: ft,
                off,
                target: 0,
                node_name: None,
            })
        } else {
            None
        };
        let Some(f) = found else { return Ok(()) };
        if info.len() >= FIELDS_MAX {
            return Err((E::TooManyFields, errno::E2BIG));
        }
        let base = info.len();
        info.push(f);
        if nelems > 1 {
            repeat(info, base, nelems - 1, sz)?;
        }
        Ok(())
    }

    /// `btf_find_nested_struct`.
    fn nested(
        &self,
        t: &TypeRecord<'a>,
        id: u32,
        off: u32,
        nelems: u32,
        info: &mut Vec<FieldInfo>,
        level: u32,
    ) -> R<()> {
        let level = level + 1;
        if level >= MAX_DEPTH {
            return Err((E::TooDeep, errno::E2BIG));
        }
        if let Some(&depth) = self.empty.borrow().get(&id) {
            if level + depth < MAX_DEPTH {
                self.deepest.set(self.deepest.get().max(level + depth));
                return Ok(());
            }
        }
        let outer = self.deepest.replace(level);
        let base = info.len();
        self.struct_fields(t, id, info, level)?;
        let reached = self.deepest.get();
        self.deepest.set(outer.max(reached));
        if info.len() == base {
            self.empty.borrow_mut().insert(id, reached - level);
            return Ok(());
        }
        for f in &mut info[base..] {
            f.off = f.off.wrapping_add(off);
        }
        if nelems > 1 {
            repeat(info, base, nelems - 1, t.common.size())?;
        }
        Ok(())
    }

    /// `btf_find_graph_root`: needs exactly one `contains:<struct>:<field>`
    /// decl tag on the member.
    fn find_graph_root(
        &self,
        owner: u32,
        comp_idx: i32,
        t: &TypeRecord<'_>,
        off: u32,
        sz: u32,
        ft: FieldType,
    ) -> R<Option<FieldInfo>> {
        if t.kind() != Kind::STRUCT || t.common.size() != sz {
            return Ok(None);
        }
        const KEY: &[u8] = b"contains:";
        let index = self.contains_tags.get_or_init(|| {
            let mut map: HashMap<(u32, i32), Vec<u32>> = HashMap::new();
            for id in self.btf.ids() {
                if self.btf.kind(id) == Kind::DECL_TAG && self.name_at(self.btf.name_off(id)).starts_with(KEY)
                {
                    let r = self.btf.record_at(self.btf.pos(id));
                    map.entry((r.common.type_id(), r.component_idx()))
                        .or_default()
                        .push(id);
                }
            }
            map
        });
        let mut tags = index
            .get(&(owner, comp_idx))
            .into_iter()
            .flatten()
            .filter_map(|&id| self.btf.by_id(id));
        let Some(tag) = tags.next() else {
            return Err((E::GraphRootNoContains, errno::EINVAL));
        };
        if tags.next().is_some() {
            return Err((E::GraphRootNoContains, errno::EINVAL));
        }
        let value = &self.name(&tag)[KEY.len()..];
        let Some(colon) = value.iter().position(|&b| b == b':') else {
            return Err((E::GraphRootBadContains, errno::EINVAL));
        };
        let Some(value_id) = self.find_struct(&value[..colon]) else {
            return Err((E::GraphValueMissing, errno::ENOENT));
        };
        let node = &value[colon + 1..];
        if node.is_empty() {
            return Err((E::GraphRootBadContains, errno::EINVAL));
        }
        Ok(Some(FieldInfo {
            ty: ft,
            off,
            target: value_id,
            node_name: Some((tag.name_off() + (KEY.len() + colon + 1) as u32, node.len())),
        }))
    }

    /// `btf_parse_graph_root`: the value struct's node member.
    fn check_graph_root(&self, f: &FieldInfo) -> R<()> {
        let (node_type, node_align): (&[u8], u32) = match f.ty {
            FieldType::ListHead => (b"bpf_list_node", 8),
            _ => (b"bpf_rb_node", 8),
        };
        let Some((name_off, len)) = f.node_name else {
            return Err((E::Other, errno::EFAULT));
        };
        let wanted = &self.btf.strings.get(name_off).unwrap_or(b"")[..len];
        let Some(value) = self.btf.by_id(f.target) else {
            return Err((E::GraphValueMissing, errno::ENOENT));
        };
        let mut found = false;
        for m in value.members() {
            let mname = match m.name_off {
                0 => &b"(anon)"[..],
                off => self.btf.strings.get(off).unwrap_or(b"(invalid-name-offset)"),
            };
            if mname != wanted {
                continue;
            }
            if found {
                return Err((E::GraphNodeMismatch, errno::EINVAL));
            }
            found = true;
            let Some(n) = self.btf.by_id(m.type_id) else {
                return Err((E::GraphNodeMismatch, errno::EINVAL));
            };
            if n.kind() != Kind::STRUCT || self.name(&n) != node_type {
                return Err((E::GraphNodeMismatch, errno::EINVAL));
            }
            // The kernel reads the offset with the node type's kind_flag.
            let bits = member_bit_offset(n.kflag(), m.offset);
            if !bits.is_multiple_of(8) || !(bits / 8).is_multiple_of(node_align) {
                return Err((E::GraphNodeMismatch, errno::EINVAL));
            }
        }
        if !found {
            return Err((E::GraphNodeMissing, errno::ENOENT));
        }
        Ok(())
    }
}

/// Whether a PTR (or a VOLATILE over a PTR) points at a TYPE_TAG: the only
/// pointers [`Parser::find_kptr`] can take for a kptr.
fn points_at_type_tag(btf: &Btf<'_>, mut slot: Slot, is_type_tag: impl Fn(u32) -> bool) -> bool {
    if slot.kind() == Kind::VOLATILE {
        match btf.slot(slot.type_id()) {
            Some(s) => slot = s,
            None => return false,
        }
    }
    slot.kind() == Kind::PTR && is_type_tag(slot.type_id())
}

/// The ids the pass starts from, by kind, in id order.
struct KindIds {
    structs: Vec<u32>,
    /// PTRs and VOLATILEs.
    pointers: Vec<u32>,
    type_tags: Vec<u32>,
}

impl KindIds {
    /// One pass over the slots. Kinds follow each other in no order a
    /// branch predictor learns, so every id is written to each list's
    /// buffer and only the buffer of its kind moves on: no branch on the
    /// kind (branching on it cost ~0.2 ms on vmlinux).
    fn of(btf: &Btf<'_>) -> KindIds {
        const CHUNK: usize = 256;
        let mut lists: [Vec<u32>; 3] = Default::default();
        let mut buf = [[0u32; CHUNK]; 3];
        let mut filled = [0usize; 3];
        let slots = btf.slots.iter().enumerate().skip(1);
        for (id, slot) in slots {
            let k = slot.kind();
            let hits = [
                k == Kind::STRUCT,
                k == Kind::PTR || k == Kind::VOLATILE,
                k == Kind::TYPE_TAG,
            ];
            for i in 0..3 {
                // Below CHUNK whenever written: the `%` never wraps and
                // only spares a bounds check.
                buf[i][filled[i] % CHUNK] = id as u32;
                filled[i] += usize::from(hits[i]);
            }
            // Flushed every CHUNK slots, so no buffer takes more than CHUNK.
            if id % CHUNK == CHUNK - 1 {
                for i in 0..3 {
                    lists[i].extend_from_slice(&buf[i][..filled[i]]);
                    filled[i] = 0;
                }
            }
        }
        for i in 0..3 {
            lists[i].extend_from_slice(&buf[i][..filled[i]]);
        }
        let [structs, pointers, type_tags] = lists;
        KindIds {
            structs,
            pointers,
            type_tags,
        }
    }
}

/// `btf_repeat_fields`: copies the fields from `base` on `repeat` more times,
/// `elem_size` bytes apart.
fn repeat(info: &mut Vec<FieldInfo>, base: usize, repeat: u32, elem_size: u32) -> R<()> {
    let cnt = info.len() - base;
    if info[base..].iter().any(|f| !f.ty.repeatable()) {
        return Err((E::NotRepeatable, errno::EINVAL));
    }
    let room = FIELDS_MAX - base;
    if (cnt as u64) * (repeat as u64 + 1) > room as u64 {
        return Err((E::TooManyFields, errno::E2BIG));
    }
    for i in 0..repeat {
        for j in 0..cnt {
            let mut f = info[base + j];
            f.off = f.off.wrapping_add((i + 1).wrapping_mul(elem_size));
            info.push(f);
        }
    }
    Ok(())
}

/// A parsed struct: its fields and which kinds it holds.
struct Record {
    fields: Vec<FieldInfo>,
}

impl Record {
    fn has(&self, p: impl Fn(FieldType) -> bool) -> bool {
        self.fields.iter().any(|f| p(f.ty))
    }
}

/// Runs the pass. `notes` says when the kernel's BTF was needed but absent.
pub fn check(
    btf: &Btf<'_>,
    features: Features,
    vmlinux: Option<&KernelBtf>,
    notes: &mut Vec<Note>,
) -> Result<(), Failure> {
    let p = Parser {
        features,
        btf,
        empty: Default::default(),
        deepest: Default::default(),
        contains_tags: OnceLock::new(),
        structs_by_name: OnceLock::new(),
    };
    let fail = |e: E, errno: i32, id: u32| Failure {
        stage: Stage::StructMetas,
        check: Check::SpecialField(e),
        site: Site::Silent { id: Some(id) },
        errno,
        offset: btf.by_id(id).filter(|r| !r.is_void()).map(|r| btf.abs(r.pos)),
    };

    // Ids that mark a struct for parsing: the first STRUCT of each special
    // name, and the kptr pointers. Only candidates read their names and
    // records.
    let ids = KindIds::of(btf);
    let mut special: [Option<u32>; ALLOC_OBJ_FIELDS.len()] = [None; ALLOC_OBJ_FIELDS.len()];
    let mut marks: Vec<u32> = Vec::new();
    let strings = btf.strings.bytes();
    for &id in &ids.structs {
        let off = btf.name_off(id) as usize;
        if strings.get(off..).is_some_and(|s| s.starts_with(b"bpf_")) {
            let name = p.name_at(off as u32);
            let known = |n: &&[u8]| {
                NAMED
                    .iter()
                    .find(|(named, _)| named == n)
                    .is_none_or(|(_, ty)| field_known(*ty, features))
            };
            if let Some(i) = ALLOC_OBJ_FIELDS.iter().position(|n| *n == name && known(n)) {
                special[i].get_or_insert(id);
            }
        }
    }
    // A kptr is a pointer to a TYPE_TAG: none without TYPE_TAGs.
    if features.contains(Features::METAS_KPTR) && !ids.type_tags.is_empty() {
        let is_type_tag = |id: u32| ids.type_tags.binary_search(&id).is_ok();
        for &id in &ids.pointers {
            if points_at_type_tag(btf, btf.slots.at(id), is_type_tag) {
                let t = btf.record_at(btf.pos(id));
                if matches!(p.find_kptr(&t, 0), Ok(Some(f)) if f.ty.is_kptr()) {
                    marks.push(id);
                }
            }
        }
    }
    marks.extend(special.iter().flatten());
    if marks.is_empty() {
        return Ok(());
    }
    let mut marked = vec![0u64; btf.nr_types().div_ceil(64) as usize];
    for &id in &marks {
        marked[id as usize / 64] |= 1 << (id % 64);
    }
    let is_marked = |id: u32| {
        marked
            .get(id as usize / 64)
            .is_some_and(|w| w >> (id % 64) & 1 != 0)
    };

    let mut records: Vec<(u32, Record)> = Vec::new();
    for &id in &ids.structs {
        let t = btf.record_at(btf.pos(id));
        if !t.members().any(|m| is_marked(m.type_id)) {
            continue;
        }
        let mut info = Vec::new();
        p.struct_fields(&t, id, &mut info, 0)
            .map_err(|(e, n)| fail(e, n, id))?;
        if info.is_empty() {
            // The kernel treats a missing record as a bug: EFAULT.
            return Err(fail(E::NoFields, errno::EFAULT, id));
        }
        let rec = parse_fields(&p, &t, info, vmlinux, notes).map_err(|(e, n)| fail(e, n, id))?;
        records.push((id, rec));
    }

    // Ownership must be acyclic: a root that is also a node may not own
    // another root type.
    for (id, rec) in &records {
        if !rec.has(FieldType::is_graph_root) {
            continue;
        }
        for f in rec.fields.iter().filter(|f| f.ty.is_graph_root()) {
            let Some((_, value)) = records.iter().find(|(vid, _)| *vid == f.target) else {
                return Err(fail(E::ValueNotParsed, errno::EFAULT, *id));
            };
            if rec.has(FieldType::is_graph_node) && value.has(FieldType::is_graph_root) {
                return Err(fail(E::OwnershipCycle, errno::ELOOP, *id));
            }
        }
    }
    Ok(())
}

/// `btf_parse_fields`: order, overlap and combination rules.
fn parse_fields(
    p: &Parser<'_, '_>,
    t: &TypeRecord<'_>,
    info: Vec<FieldInfo>,
    vmlinux: Option<&KernelBtf>,
    notes: &mut Vec<Note>,
) -> R<Record> {
    let value_size = t.common.size();
    let mut next_off: u32 = 0;
    for f in &info {
        let (sz, _) = f.ty.size_align();
        if f.off as u64 + sz as u64 > value_size as u64 {
            return Err((E::Other, errno::EFAULT));
        }
        if f.off < next_off {
            return Err((E::Overlap, errno::EEXIST));
        }
        next_off = f.off + sz;
        if f.ty.is_kptr() {
            check_kptr(p, f, vmlinux, notes)?;
        } else if f.ty.is_graph_root() {
            p.check_graph_root(f)?;
        }
    }
    let rec = Record { fields: info };
    if rec.has(|t| t == FieldType::SpinLock) && rec.has(|t| t == FieldType::ResSpinLock) {
        return Err((E::LockConflict, errno::EINVAL));
    }
    let has_lock = rec.has(|t| matches!(t, FieldType::SpinLock | FieldType::ResSpinLock));
    if rec.has(FieldType::is_graph_root) && !has_lock {
        return Err((E::GraphRootNoLock, errno::EINVAL));
    }
    if !rec.has(|t| t == FieldType::Refcount)
        && rec.has(|t| t == FieldType::ListNode)
        && rec.has(|t| t == FieldType::RbNode)
    {
        return Err((E::NodesNeedRefcount, errno::EINVAL));
    }
    Ok(rec)
}

/// `btf_parse_kptr`: a kernel type needs a destructor when referenced.
fn check_kptr(
    p: &Parser<'_, '_>,
    f: &FieldInfo,
    vmlinux: Option<&KernelBtf>,
    notes: &mut Vec<Note>,
) -> R<()> {
    let Some(target) = p.btf.by_id(f.target) else {
        return Ok(());
    };
    // An anonymous struct is looked up as "(anon)", which never matches.
    let name: &[u8] = match target.name_off() {
        0 => b"(anon)",
        _ => p.name(&target),
    };
    let Some(kernel) = vmlinux.filter(|k| k.available()) else {
        notes.push(Note::VmlinuxNeeded {
            what: format!(
                "kptr to struct {} judged without the kernel's BTF (assumed a program-local type)",
                String::from_utf8_lossy(name)
            ),
        });
        return Ok(());
    };
    if kernel.find(name, target.kind()).is_none() {
        // Program-local type: a bpf_obj_new allocation, no destructor needed.
        return Ok(());
    }
    if f.ty == FieldType::KptrRef && !DTOR_STRUCTS_6_18.iter().any(|d| d.as_bytes() == name) {
        return Err((E::NoDestructor, errno::ENOENT));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::KindIds;
    use crate::builder::{m, BtfBuilder};
    use crate::raw::Kind;
    use crate::verify::{verify, Options, Threads};

    #[test]
    fn kind_ids_are_every_id_of_their_kinds_in_order() {
        // Kinds mixed over several of the pass's 256-slot chunks, with
        // runs longer than a chunk.
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, 1);
        for i in 0..700u32 {
            match i % 7 {
                0 => b.struct_(&format!("s{i}"), 4, &[m("x", int, 0)]),
                1 | 2 => b.ptr(int),
                3 => b.volatile(int),
                4 => b.type_tag("tag", int),
                _ => b.const_(int),
            };
        }
        for _ in 0..600 {
            b.ptr(int);
        }
        let blob = b.build();
        let v = verify(
            &blob,
            &Options {
                threads: Threads::One,
                ..Options::default()
            },
        );
        let btf = v.btf.as_ref().expect("sections");
        let ids = KindIds::of(btf);
        let of = |kinds: &[Kind]| -> Vec<u32> {
            (1..btf.nr_types())
                .filter(|&id| kinds.contains(&btf.kind(id)))
                .collect()
        };
        assert_eq!(ids.structs, of(&[Kind::STRUCT]));
        assert_eq!(ids.pointers, of(&[Kind::PTR, Kind::VOLATILE]));
        assert_eq!(ids.type_tags, of(&[Kind::TYPE_TAG]));
    }
}
