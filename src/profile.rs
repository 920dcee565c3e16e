//! Rule sets: which kernel a verification mimics.
//!
//! A profile is feature bits + limits, built like wasmparser's spec versions:
//! each kernel's set is the previous one plus what it added. Checks ask
//! [`Profile::has`] in one place per rule instead of comparing versions.

use crate::raw::{Kind, Shapes};
use bitflags::bitflags;

bitflags! {
    /// Rules and kinds a kernel knows. Names follow the kernel change that
    /// introduced them; `docs/profiles.md` gives the release and source of each.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Features: u64 {
        /// FUNC linkage (vlen) 0/1 accepted; > 1 is `Invalid func linkage`
        /// (5.6; before, any vlen is `vlen != 0`).
        const FUNC_LINKAGE        = 1 << 0;
        /// VAR and DATASEC kinds (5.2).
        const VAR_DATASEC         = 1 << 1;
        /// FLOAT kind, and the 5-bit kind field (5.13).
        const FLOAT               = 1 << 2;
        /// DECL_TAG kind (5.16).
        const DECL_TAG            = 1 << 3;
        /// TYPE_TAG kind (5.17).
        const TYPE_TAG            = 1 << 4;
        /// Type tags must head their modifier chain (`btf_check_type_tags`, 5.19).
        const TYPE_TAG_ORDER      = 1 << 5;
        /// ENUM64 kind; kind_flag on ENUM/ENUM64 means signed (6.0).
        const ENUM64              = 1 << 6;
        /// kind_flag allowed on TYPE_TAG and DECL_TAG (attribute tags, 6.15).
        const TAG_KFLAG           = 1 << 7;
        /// Special-field ("struct metas") pass over user BTF: bpf_spin_lock,
        /// bpf_list_head/node (6.2).
        const STRUCT_METAS        = 1 << 8;
        /// DATASEC names: every byte printable, the first included (6.11).
        const PRINTABLE_SEC_NAMES = 1 << 9;
        /// The kind_flag bit (bit 31) exists: bitfield members, FWD union (5.0).
        const KFLAG               = 1 << 10;
        /// Names are checked at all (4.20).
        const NAME_CHECKS         = 1 << 11;
        /// 128-bit INTs (5.1).
        const INT128              = 1 << 12;
        /// ENUM sizes 1/2/4/8 (`Unexpected size`; before: `Expected size:4`) (5.4).
        const ENUM_SIZES          = 1 << 13;
        /// A DATASEC may have no entries (5.12).
        const DATASEC_EMPTY       = 1 << 14;
        /// FUNC is resolved like other referring kinds (5.19; before, it
        /// is checked after the resolve step of its own id).
        const FUNC_RESOLVE        = 1 << 15;
        /// FUNC_PROTO parameters may not be VAR/DATASEC/DECL_TAG (6.1;
        /// backported to 5.4.y, 5.10.y, 5.15.y).
        const SOURCE_ONLY_ARGS    = 1 << 16;
        /// A FUNC_PROTO may not return VAR/DATASEC/DECL_TAG (6.1).
        const SOURCE_ONLY_RETURN  = 1 << 17;
        /// `.` allowed in every identifier (6.4; backported to 5.10.y,
        /// 5.15.y, 6.1.y). Before, only VAR and DATASEC names take dots.
        const DOTTED_NAMES        = 1 << 18;
        /// DATASEC names: bytes after the first printable, the first
        /// unchecked (6.9).
        const SEC_NAMES_PRINTABLE = 1 << 19;
        /// The 6.4 log: rotating, `BPF_LOG_FIXED`, `log_true_size`, ENOSPC
        /// on failure too, no 128-byte minimum.
        const LOG_ROTATE          = 1 << 20;
        /// Struct metas: bpf_rb_root/bpf_rb_node (6.3).
        const METAS_RBTREE        = 1 << 21;
        /// Struct metas: bpf_refcount (6.4).
        const METAS_REFCOUNT      = 1 << 22;
        /// Struct metas: kptrs (6.12).
        const METAS_KPTR          = 1 << 23;
        /// Struct metas: bpf_res_spin_lock (6.15).
        const METAS_RES_SPIN_LOCK = 1 << 24;
        /// Struct metas: a `uptr` type tag is known, and ignored (6.13;
        /// before, it is an unknown kptr tag).
        const METAS_UPTR          = 1 << 25;
        /// `info` widened (7.2): vlen in bits 0-23, kind in bits 24-30, no
        /// reserved bits. The same bytes parse differently.
        const WIDE_INFO           = 1 << 26;

        // Proposed rules (../shared/spec/proposals.md): never in a kernel
        // profile; switched on with `--feature` or `PROFILE+FEATURE`.

        /// P1: extern FUNC linkage, FUNC entries in DATASEC.
        const EXTERN_FUNC            = 1 << 32;
        /// P2: extern VAR linkage and their DATASEC entries.
        const EXTERN_VAR             = 1 << 33;
        /// P2 (open choice): a DATASEC holds only externs or none.
        const DATASEC_EXTERN_UNIFORM = 1 << 34;
        /// P3: DECL_TAG values are printable ASCII, at most 512 bytes.
        const DECL_TAG_VALUE         = 1 << 35;
        /// P5 (merged in Linux 7.1): 32-byte header with a layout section.
        const KIND_LAYOUT            = 1 << 36;
        /// P4: the FUNC_ADDR kind (a kernel function's address).
        const FUNC_ADDR              = 1 << 37;
        /// P5 as first proposed: kinds the verifier does not know are sized
        /// from their layout entry and skipped.
        const SKIP_UNKNOWN_KINDS     = 1 << 38;
    }
}

impl Features {
    /// Every proposal bit.
    pub const PROPOSALS: Features = Features::from_bits_truncate(0xffff_ffff_0000_0000);

    // Each kernel's rules: the previous release's plus what it added.
    pub const KERNEL_4_18: Features = Features::empty();
    pub const KERNEL_4_20: Features = Features::KERNEL_4_18.union(Features::NAME_CHECKS);
    pub const KERNEL_5_0: Features = Features::KERNEL_4_20.union(Features::KFLAG);
    pub const KERNEL_5_2: Features = Features::KERNEL_5_0
        .union(Features::INT128)
        .union(Features::VAR_DATASEC);
    pub const KERNEL_5_4: Features = Features::KERNEL_5_2.union(Features::ENUM_SIZES);
    pub const KERNEL_5_6: Features = Features::KERNEL_5_4.union(Features::FUNC_LINKAGE);
    /// 5.10 as its stable branch ends (Debian bullseye): 5.6's rules plus
    /// the backported dotted names and source-only parameter check.
    pub const KERNEL_5_10: Features = Features::KERNEL_5_6
        .union(Features::DOTTED_NAMES)
        .union(Features::SOURCE_ONLY_ARGS);
    /// Mainline releases after 5.10 did not have the 5.10.y backports.
    pub const KERNEL_5_13: Features = Features::KERNEL_5_6
        .union(Features::DATASEC_EMPTY)
        .union(Features::FLOAT);
    pub const KERNEL_5_15: Features = Features::KERNEL_5_13
        .union(Features::DOTTED_NAMES)
        .union(Features::SOURCE_ONLY_ARGS);
    pub const KERNEL_5_16: Features = Features::KERNEL_5_13.union(Features::DECL_TAG);
    pub const KERNEL_5_17: Features = Features::KERNEL_5_16.union(Features::TYPE_TAG);
    pub const KERNEL_5_19: Features = Features::KERNEL_5_17
        .union(Features::FUNC_RESOLVE)
        .union(Features::TYPE_TAG_ORDER);
    pub const KERNEL_6_0: Features = Features::KERNEL_5_19.union(Features::ENUM64);
    /// 6.1 as its stable branch stands (Debian bookworm): with dotted names.
    pub const KERNEL_6_1: Features = Features::KERNEL_6_0
        .union(Features::SOURCE_ONLY_ARGS)
        .union(Features::SOURCE_ONLY_RETURN)
        .union(Features::DOTTED_NAMES);
    pub const KERNEL_6_2: Features = Features::KERNEL_6_1.union(Features::STRUCT_METAS);
    pub const KERNEL_6_4: Features = Features::KERNEL_6_2
        .union(Features::METAS_RBTREE)
        .union(Features::METAS_REFCOUNT)
        .union(Features::LOG_ROTATE);
    pub const KERNEL_6_6: Features = Features::KERNEL_6_4;
    pub const KERNEL_6_11: Features = Features::KERNEL_6_6
        .union(Features::SEC_NAMES_PRINTABLE)
        .union(Features::PRINTABLE_SEC_NAMES);
    pub const KERNEL_6_12: Features = Features::KERNEL_6_11.union(Features::METAS_KPTR);
    pub const KERNEL_6_13: Features = Features::KERNEL_6_12.union(Features::METAS_UPTR);
    pub const KERNEL_6_15: Features = Features::KERNEL_6_13
        .union(Features::TAG_KFLAG)
        .union(Features::METAS_RES_SPIN_LOCK);
    /// What Linux 6.18 knows: every kernel rule, no proposal.
    pub const KERNEL_6_18: Features = Features::KERNEL_6_15;
    /// Linux 7.1: the layout section (the kind-layout rules, merged).
    pub const KERNEL_7_1: Features = Features::KERNEL_6_18.union(Features::KIND_LAYOUT);
    /// Linux 7.2: the wider `info` word.
    pub const KERNEL_7_2: Features = Features::KERNEL_7_1.union(Features::WIDE_INFO);
}

/// A proposed rule change that can be switched on by name.
#[derive(Clone, Copy, Debug)]
pub struct Proposal {
    /// The name used in `--feature` and `PROFILE+FEATURE`.
    pub name: &'static str,
    pub features: Features,
    /// Which proposal in `proposals.md` it implements.
    pub source: &'static str,
    pub summary: &'static str,
}

/// Every feature that can be switched on, in `btfcheck features` order.
pub const PROPOSALS: &[Proposal] = &[
    Proposal {
        name: "extern-func",
        features: Features::EXTERN_FUNC,
        source: "P1, 2021 kfunc thread (not merged)",
        summary: "extern FUNC linkage; unnamed params for extern FUNCs; FUNC entries (size 0) in DATASEC; \
                  entry sizes checked at resolve; a DATASEC of only externs may have size 0",
    },
    Proposal {
        name: "extern-var",
        features: Features::EXTERN_VAR,
        source: "P2, 2021 kfunc thread (not merged)",
        summary: "extern VAR linkage; extern VAR entries at offset 0 (size 0 or the VAR's size, as clang \
                  emits them) exempt from DATASEC layout rules; a DATASEC of only externs may have size 0",
    },
    Proposal {
        name: "datasec-extern-uniform",
        features: Features::DATASEC_EXTERN_UNIFORM,
        source: "P2 open choice",
        summary: "a DATASEC holds only extern entries or none (needs extern-func or extern-var to matter)",
    },
    Proposal {
        name: "decl-tag-value",
        features: Features::DECL_TAG_VALUE,
        source: "P3, 2023 thread",
        summary: "DECL_TAG values must be printable ASCII (0x20-0x7e), non-empty, at most 512 bytes",
    },
    Proposal {
        name: "kind-layout",
        features: Features::KIND_LAYOUT,
        source: "P5, merged in Linux 7.1",
        summary: "32-byte header with layout_off/layout_len; the layout section (4-byte entries) is checked \
                  and takes part in the section tiling; the header dump gains two lines",
    },
    Proposal {
        name: "func-addr",
        features: Features::FUNC_ADDR,
        source: "P4, 2023 thread (not merged)",
        summary: "kind 23 FUNC_ADDR: a FUNC_PROTO with named params, a non-zero address unique in the \
                  blob, flags kfunc/traceable; --kaslr-offset relocates, --kallsyms cross-checks",
    },
    Proposal {
        name: "skip-unknown-kinds",
        features: Features::KIND_LAYOUT.union(Features::SKIP_UNKNOWN_KINDS),
        source: "P5 as first proposed (7.1 does not skip)",
        summary: "implies kind-layout; kinds the rules do not know are sized from their layout entry and \
                  skipped (never valid targets); layout entries for known kinds must match",
    },
];

/// Numeric limits a kernel applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `BTF_MAX_SIZE`.
    pub max_blob_size: u32,
    /// `BTF_MAX_TYPE`: the largest type id, and the type table's size
    /// (VOID included).
    pub max_type_table: u32,
    /// `BTF_MAX_NAME_OFFSET`.
    pub max_name_offset: u32,
    /// `MAX_RESOLVE_DEPTH`.
    pub resolve_depth: usize,
    /// Longest identifier / section name (`KSYM_NAME_LEN`).
    pub name_len: usize,
    /// Highest kind number known.
    pub max_kind: u8,
}

impl Limits {
    const LINUX_6_18: Limits = Limits {
        max_blob_size: 16 * 1024 * 1024,
        max_type_table: 0xfffff,
        max_name_offset: crate::raw::strings::MAX_NAME_OFFSET,
        resolve_depth: 32,
        name_len: 512,
        max_kind: 19,
    };
    /// Before 5.4: 16-bit type ids and name offsets.
    const NARROW_IDS: Limits = Limits {
        max_type_table: 0xffff,
        max_name_offset: 0xffff,
        ..Limits::LINUX_6_18
    };
}

/// How a profile's verdicts were established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provenance {
    /// Recorded from the live kernel (`kernel-load`), every conformance case.
    LiveKernel,
    /// Recorded from a Debian kernel booted under QEMU (`kernel-load --qemu`).
    Booted { package: &'static str },
    /// From reading the release's source (no bootable kernel at hand).
    FromSource,
    /// From the merged commit's description; no source tree could be read.
    FromCommit,
}

/// A named kernel rule set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    pub name: &'static str,
    pub features: Features,
    pub limits: Limits,
    pub provenance: Provenance,
}

const fn kernel(name: &'static str, features: Features, limits: Limits, provenance: Provenance) -> Profile {
    Profile {
        name,
        features,
        limits,
        provenance,
    }
}

const fn max_kind(limits: Limits, max_kind: u8) -> Limits {
    Limits { max_kind, ..limits }
}

const fn name_len(limits: Limits, name_len: usize) -> Limits {
    Limits { name_len, ..limits }
}

impl Profile {
    /// Linux 6.18 `BPF_BTF_LOAD`, as checked against the live kernel.
    pub const LINUX_6_18: Profile = kernel(
        "linux-6.18",
        Features::KERNEL_6_18,
        Limits::LINUX_6_18,
        Provenance::LiveKernel,
    );

    /// Every kernel profile, oldest first.
    pub const ALL: &'static [Profile] = &[
        kernel(
            "linux-4.19",
            Features::KERNEL_4_18,
            name_len(max_kind(Limits::NARROW_IDS, 11), 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-4.20",
            Features::KERNEL_4_20,
            name_len(max_kind(Limits::NARROW_IDS, 11), 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-5.0",
            Features::KERNEL_5_0,
            name_len(max_kind(Limits::NARROW_IDS, 13), 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-5.2",
            Features::KERNEL_5_2,
            name_len(max_kind(Limits::NARROW_IDS, 15), 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-5.4",
            Features::KERNEL_5_4,
            name_len(max_kind(Limits::LINUX_6_18, 15), 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-5.6",
            Features::KERNEL_5_6,
            name_len(max_kind(Limits::LINUX_6_18, 15), 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-5.10",
            Features::KERNEL_5_10,
            name_len(max_kind(Limits::LINUX_6_18, 15), 128),
            Provenance::Booted {
                package: "linux-image-5.10.0-46-amd64-unsigned 5.10.262-1 (bullseye-security)",
            },
        ),
        kernel(
            "linux-5.13",
            Features::KERNEL_5_13,
            name_len(max_kind(Limits::LINUX_6_18, 16), 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-5.15",
            Features::KERNEL_5_15,
            name_len(max_kind(Limits::LINUX_6_18, 16), 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-5.16",
            Features::KERNEL_5_16,
            name_len(max_kind(Limits::LINUX_6_18, 17), 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-5.17",
            Features::KERNEL_5_17,
            name_len(max_kind(Limits::LINUX_6_18, 18), 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-5.19",
            Features::KERNEL_5_19,
            name_len(max_kind(Limits::LINUX_6_18, 18), 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-6.0",
            Features::KERNEL_6_0,
            name_len(Limits::LINUX_6_18, 128),
            Provenance::FromSource,
        ),
        kernel(
            "linux-6.1",
            Features::KERNEL_6_1,
            Limits::LINUX_6_18,
            Provenance::Booted {
                package: "linux-image-6.1.0-56-amd64-unsigned 6.1.192-2 (bookworm-security)",
            },
        ),
        kernel(
            "linux-6.2",
            Features::KERNEL_6_2,
            Limits::LINUX_6_18,
            Provenance::FromSource,
        ),
        kernel(
            "linux-6.6",
            Features::KERNEL_6_6,
            Limits::LINUX_6_18,
            Provenance::FromSource,
        ),
        kernel(
            "linux-6.11",
            Features::KERNEL_6_11,
            Limits::LINUX_6_18,
            Provenance::FromSource,
        ),
        kernel(
            "linux-6.12",
            Features::KERNEL_6_12,
            Limits::LINUX_6_18,
            Provenance::Booted {
                package: "linux-image-6.12.107+deb13-amd64-unsigned 6.12.107-1 (trixie)",
            },
        ),
        kernel(
            "linux-6.13",
            Features::KERNEL_6_13,
            Limits::LINUX_6_18,
            Provenance::FromSource,
        ),
        kernel(
            "linux-6.15",
            Features::KERNEL_6_15,
            Limits::LINUX_6_18,
            Provenance::FromSource,
        ),
        Profile::LINUX_6_18,
        kernel(
            "linux-7.1",
            Features::KERNEL_7_1,
            Limits::LINUX_6_18,
            Provenance::FromSource,
        ),
        kernel(
            "linux-7.2",
            Features::KERNEL_7_2,
            Limits::LINUX_6_18,
            Provenance::FromCommit,
        ),
    ];

    pub fn by_name(name: &str) -> Option<Profile> {
        Profile::ALL.iter().copied().find(|p| p.name == name)
    }

    /// Parses a rule set: `PROFILE[+FEATURE...]`, e.g.
    /// `linux-6.18+extern-func+extern-var`.
    pub fn parse_rules(rules: &str) -> Result<Profile, String> {
        let mut parts = rules.split('+');
        let base = parts.next().unwrap_or_default();
        let mut p = Profile::by_name(base).ok_or_else(|| {
            let known: Vec<&str> = Profile::ALL.iter().map(|p| p.name).collect();
            format!("unknown profile '{base}' (known: {})", known.join(", "))
        })?;
        for name in parts {
            p = p.with_feature(name)?;
        }
        Ok(p)
    }

    /// This profile plus the proposed feature `name`.
    pub fn with_feature(mut self, name: &str) -> Result<Profile, String> {
        let f = PROPOSALS.iter().find(|f| f.name == name).ok_or_else(|| {
            let known: Vec<&str> = PROPOSALS.iter().map(|f| f.name).collect();
            format!(
                "unknown feature '{name}' (known: {}; see `btfcheck features`)",
                known.join(", ")
            )
        })?;
        self.features |= f.features;
        Ok(self)
    }

    /// This profile plus feature bits (no name lookup).
    pub const fn with_features(mut self, f: Features) -> Profile {
        self.features = self.features.union(f);
        self
    }

    /// The proposed features switched on beyond the kernel's own.
    pub fn proposals(&self) -> impl Iterator<Item = &'static Proposal> + '_ {
        let base = Profile::by_name(self.name).map_or(Features::empty(), |p| p.features);
        PROPOSALS
            .iter()
            .filter(move |f| self.features.contains(f.features) && !base.contains(f.features))
    }

    /// Whether this is a kernel profile as shipped (no proposal on), so its
    /// output promises to be kernel-identical.
    pub fn is_kernel_exact(&self) -> bool {
        self.proposals().next().is_none()
    }

    /// `PROFILE[+FEATURE...]`, as [`parse_rules`](Self::parse_rules) reads it.
    pub fn rules(&self) -> String {
        let mut s = self.name.to_string();
        for f in self.proposals() {
            s.push('+');
            s.push_str(f.name);
        }
        s
    }

    /// Whether a rule or kind is on.
    #[inline]
    pub fn has(&self, f: Features) -> bool {
        self.features.contains(f)
    }

    /// `BTF_INFO_MASK`: the `info` bits in use. vlen and a 4-bit kind at
    /// first; kind_flag from 5.0; the fifth kind bit from 5.13 (FLOAT).
    pub const fn info_mask(&self) -> u32 {
        if self.features.contains(Features::WIDE_INFO) {
            return u32::MAX;
        }
        let mut mask = 0x0f00_ffff;
        if self.features.contains(Features::KFLAG) {
            mask |= 0x8000_0000;
        }
        if self.features.contains(Features::FLOAT) {
            mask |= 0x1000_0000;
        }
        mask
    }

    /// The kinds these rules know and how each record is sized (before any
    /// layout section is read).
    pub fn shapes(&self) -> Shapes {
        let mut shapes = Shapes::kernel_up_to(self.limits.max_kind);
        if self.has(Features::WIDE_INFO) {
            shapes = shapes.with_wide_info();
        }
        if self.has(Features::FUNC_ADDR) {
            shapes = shapes.with(Kind::FUNC_ADDR, Kind::FUNC_ADDR_TAIL);
        }
        shapes
    }
}

impl Default for Profile {
    fn default() -> Self {
        Profile::LINUX_6_18
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_6_18_has_every_kernel_rule_and_no_proposal() {
        let kernel_bits = Features::all()
            .difference(Features::PROPOSALS)
            .difference(Features::WIDE_INFO);
        assert_eq!(Features::KERNEL_6_18, kernel_bits);
        assert!(Profile::LINUX_6_18.is_kernel_exact());
        assert_eq!(Profile::LINUX_6_18.info_mask(), crate::raw::types::INFO_MASK);
    }

    #[test]
    fn profiles_are_oldest_first_and_named_uniquely() {
        let version = |p: &Profile| {
            let v: Vec<u32> = p.name["linux-".len()..]
                .split('.')
                .map(|x| x.parse().unwrap())
                .collect();
            (v[0], v[1])
        };
        for w in Profile::ALL.windows(2) {
            assert!(
                version(&w[0]) < version(&w[1]),
                "{} before {}",
                w[0].name,
                w[1].name
            );
            assert!(w[0].limits.max_kind <= w[1].limits.max_kind);
        }
        // Kinds only ever arrive.
        assert!(Profile::ALL.iter().all(|p| p.is_kernel_exact()));
    }

    #[test]
    fn linux_7_1_is_kernel_exact_with_its_layout() {
        let p = Profile::by_name("linux-7.1").unwrap();
        assert!(p.has(Features::KIND_LAYOUT));
        assert!(p.is_kernel_exact(), "the layout is 7.1's own rule there");
        assert_eq!(
            Profile::parse_rules("linux-7.1+func-addr").unwrap().rules(),
            "linux-7.1+func-addr"
        );
    }
}
