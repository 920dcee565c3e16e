//! The staged verifier: Linux 6.18 `btf_parse()` for BTF loaded with
//! `BPF_BTF_LOAD`, one module per kernel pass, run in kernel order.
//!
//! ```text
//! size ─► hdr (header, sections) ─► strings ─► meta ─► resolve ─► type_tags ─► struct_metas
//!                                                       (─► func_addrs, under func-addr)
//! ```
//!
//! Each pass stops at the first error, as the kernel does, and reports a
//! [`Failure`]: the rule, where its message goes in the log, the errno and the
//! byte offset. The passes never format text; see [`crate::diag`].
//!
//! On a large blob ([`lanes`]) work that does not depend on each other runs
//! on two threads, and the answer is the one the kernel order gives:
//!
//! ```text
//! lane 1:  identifiers, 1st half ─► meta, records before the split ─► resolve
//! lane 2:  identifiers, 2nd half ─► meta, records from the split   ─► type_tags, struct_metas,
//!                                                                     backward FUNC_PROTO checks
//! ```
//!
//! The first failure in record order wins inside meta; in resolve, the
//! first by id of lane 1's and the FUNC_PROTO checks lane 2 makes behind
//! it; a resolve failure wins over the passes beside it, which only read
//! kinds and targets.

pub mod btf;
pub mod error;
pub mod func_addrs;
pub mod hdr;
pub mod lanes;
pub mod meta;
pub mod names;
pub mod resolve;
pub mod struct_metas;
pub mod type_tags;

pub use btf::Btf;
pub use error::{errno, Check, Failure, Site, Stage};
pub use lanes::Threads;

use crate::profile::{Features, Profile};
use crate::raw::header::{LayoutFields, HEADER_LEN, HEADER_LEN_LAYOUT};
use crate::raw::{Header, Strings};
use std::time::Duration;

/// What verification may consult beyond the blob.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'k> {
    pub profile: Profile,
    /// The kernel's own BTF, for rules whose answer depends on it (kptrs).
    pub vmlinux: Option<&'k struct_metas::KernelBtf>,
    /// func-addr: added to every FUNC_ADDR address (the KASLR load base).
    pub kaslr_offset: u64,
    /// func-addr: text symbols every FUNC_ADDR must match.
    pub kallsyms: Option<&'k crate::kallsyms::Kallsyms>,
    /// How many threads to use (the verdict never depends on it).
    pub threads: Threads,
}

/// A note about the verdict that the kernel itself would not print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// Types past the table cap were dropped (the kernel logs and carries on).
    TypesDropped { count: u32 },
    /// A rule needed the kernel's BTF, which was not available; the verdict
    /// assumes what is written in the text.
    VmlinuxNeeded { what: String },
}

/// The outcome of verifying one blob.
#[derive(Clone, Debug)]
pub struct Verification<'a> {
    pub blob: &'a [u8],
    pub profile: Profile,
    /// The header as dumped to the log, once the pre-dump checks passed.
    pub header: Option<Header>,
    /// `layout_off`/`layout_len` under kind-layout with a 32-byte header
    /// (dumped after `str_len`).
    pub layout: Option<LayoutFields>,
    /// The blob's sections, once the header and strings were accepted.
    pub btf: Option<Btf<'a>>,
    pub failure: Option<Failure>,
    pub notes: Vec<Note>,
    pub elapsed: Duration,
}

impl Verification<'_> {
    pub fn accepted(&self) -> bool {
        self.failure.is_none()
    }
    /// A kind's name as these rules know it: FUNC_ADDR under func-addr,
    /// otherwise the kernel's name or `Kind(n)` for numbers it does not know.
    pub fn kind_label(&self, kind: crate::raw::Kind) -> String {
        match &self.btf {
            Some(btf) if kind.name().is_none() && btf.shapes.knows(kind) => btf.shapes.name(kind).to_string(),
            _ => kind.to_string(),
        }
    }

    /// The errno `BPF_BTF_LOAD` returns (0 when accepted), before any log
    /// buffer effects.
    pub fn errno(&self) -> i32 {
        self.failure.map_or(0, |f| f.errno)
    }
}

/// Verifies `blob` as user BTF.
pub fn verify<'a>(blob: &'a [u8], opts: &Options<'_>) -> Verification<'a> {
    let start = std::time::Instant::now();
    let mut v = Verification {
        blob,
        profile: opts.profile,
        header: None,
        layout: None,
        btf: None,
        failure: None,
        notes: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let lanes = lanes::Lanes::for_blob(opts.threads, blob.len());
    v.failure = lanes.run(|lanes| run(&mut v, opts, lanes)).err();
    v.elapsed = start.elapsed();
    v
}

fn run<'a>(v: &mut Verification<'a>, opts: &Options<'_>, lanes: lanes::Lanes) -> Result<(), Failure> {
    let blob = v.blob;
    let profile = &opts.profile;
    if blob.len() as u64 > profile.limits.max_blob_size as u64 {
        return Err(Failure {
            stage: Stage::Size,
            check: Check::TooBig,
            site: Site::Silent { id: None },
            errno: errno::E2BIG,
            offset: None,
        });
    }
    let blob_len = blob.len() as u32;
    let layout_aware = profile.has(Features::KIND_LAYOUT);
    let known_len = if layout_aware {
        HEADER_LEN_LAYOUT
    } else {
        HEADER_LEN
    };
    let header = hdr::read_header(blob, known_len)?;
    v.header = Some(header);
    let layout = layout_aware.then(|| LayoutFields::copied_from(blob, header.hdr_len));
    v.layout = layout.filter(|_| header.hdr_len >= HEADER_LEN_LAYOUT);
    hdr::check_header(&header, layout, blob_len)?;
    hdr::check_strings(&header, blob, profile.limits.max_name_offset, v.layout.is_some())?;
    if let Some(l) = v.layout {
        hdr::check_layout(&header, l, blob_len)?;
    }
    let shapes = match v.layout {
        Some(l) if profile.has(Features::SKIP_UNKNOWN_KINDS) => {
            hdr::layout_shapes(&header, l, blob, profile.shapes())?
        }
        _ => profile.shapes(),
    };

    let types_start = header.hdr_len as u64 + header.type_off as u64;
    let strings_start = header.hdr_len as u64 + header.str_off as u64;
    // Last in the blob, except in 7.1's self-describing layout.
    let strings = &blob[strings_start as usize..(strings_start + header.str_len as u64) as usize];
    let types = &blob[types_start as usize..(types_start + header.type_len as u64) as usize];
    // With two lanes, the first finds where the second meta lane starts
    // beside its share of the strings.
    let (idents, second_meta_lane) = if lanes.two() {
        let mut finder = meta::SecondLaneFinder::new(types, shapes);
        let idents = names::IdentCache::build_beside(strings, lanes, IDENTS_FIRST_SHARE, || {
            finder.step(RECORDS_PER_64_STRING_BYTES)
        });
        (idents, finder.finish())
    } else {
        (names::IdentCache::build(strings, lanes), None)
    };
    let mut btf = Btf {
        blob,
        header,
        types,
        types_start,
        strings: Strings::new(strings),
        strings_start,
        slots: btf::SlotTable::default(),
        positions: btf::PositionTable::default(),
        resolution: btf::ResolveTable::default(),
        records_walked: 0,
        idents,
        shapes,
        names: btf::NameRules::of(profile),
    };
    let pre = |check| Failure {
        stage: Stage::Meta,
        check,
        site: Site::Plain { id: None },
        errno: errno::EINVAL,
        offset: Some(8),
    };
    let result = if header.type_off & 3 != 0 {
        Err(pre(Check::UnalignedTypeOff))
    } else if header.type_len == 0 {
        Err(pre(Check::NoTypes))
    } else {
        meta::check_all_metas(&mut btf, profile, lanes, second_meta_lane)
    };
    let walked = btf.records_walked;
    let kept = btf.nr_types().saturating_sub(1);
    if result.is_ok() {
        btf.resolution = btf::ResolveTable::for_ids(btf.nr_types() as usize);
    }
    v.btf = Some(btf);
    result?;
    if walked > kept {
        v.notes.push(Note::TypesDropped { count: walked - kept });
    }

    // The type-tag and struct-metas passes read only kinds and targets,
    // which resolving leaves alone: they run beside it, and count only if
    // it succeeds. On two lanes the second then checks the FUNC_PROTOs that
    // refer only back, behind the first (see `check_backward_protos`); a
    // failure there comes before any of the first lane's.
    let btf = v.btf.as_ref().expect("set above");
    let mut notes = Vec::new();
    // On one lane no prototype is left over.
    let share = if lanes.two() {
        resolve::SECOND_LANE_PROTOS
    } else {
        0.0
    };
    let progress = resolve::Progress::new(btf.nr_types(), share);
    let (resolved, (later, protos)) = lanes.join(
        || {
            resolve::Resolver::new(btf, profile)
                .sharing_protos(&progress)
                .check_all_types()
        },
        || {
            let later = table_passes(btf, opts, &mut notes);
            (
                later,
                resolve::Resolver::new(btf, profile).check_backward_protos(&progress),
            )
        },
    );
    protos?;
    resolved?;
    v.notes.extend(notes);
    later?;
    if profile.has(Features::FUNC_ADDR) {
        func_addrs::check(btf, opts.kaslr_offset, opts.kallsyms)?;
    }
    Ok(())
}

/// The share of the string section whose identifiers the first lane marks
/// while it finds where the second meta lane starts, sizing this many
/// records per 64 bytes of strings (the lanes then end the join together
/// on vmlinux; session 9 in docs/performance.md).
const IDENTS_FIRST_SHARE: f64 = 0.35;
const RECORDS_PER_64_STRING_BYTES: u32 = 6;

/// The passes after resolve that read the type table but never its
/// resolve results: type-tag placement, then special fields.
fn table_passes(btf: &Btf<'_>, opts: &Options<'_>, notes: &mut Vec<Note>) -> Result<(), Failure> {
    let profile = &opts.profile;
    if profile.has(Features::TYPE_TAG_ORDER) {
        type_tags::check_type_tags(btf)?;
    }
    if profile.has(Features::STRUCT_METAS) {
        struct_metas::check(btf, profile.features, opts.vmlinux, notes)?;
    }
    Ok(())
}
