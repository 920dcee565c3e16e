//! Rule sets: which kernel a verification mimics.
//!
//! A profile is feature bits + limits, built like wasmparser's spec versions:
//! each kernel's set is the previous one plus what it added. Checks ask
//! [`Profile::has`] in one place per rule instead of comparing versions.

use crate::raw::{Kind, Shapes};
use bitflags::bitflags;

bitflags! {
    /// Rules and kinds a kernel knows. Names follow the kernel change that
    /// introduced them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Features: u64 {
        /// FUNC linkage (vlen) 0/1 accepted; > 1 is `Invalid func linkage`.
        const FUNC_LINKAGE        = 1 << 0;
        /// VAR and DATASEC kinds.
        const VAR_DATASEC         = 1 << 1;
        /// FLOAT kind.
        const FLOAT               = 1 << 2;
        /// DECL_TAG kind.
        const DECL_TAG            = 1 << 3;
        /// TYPE_TAG kind.
        const TYPE_TAG            = 1 << 4;
        /// Type tags must head their modifier chain (`btf_check_type_tags`).
        const TYPE_TAG_ORDER      = 1 << 5;
        /// ENUM64 kind; kind_flag on ENUM/ENUM64 means signed.
        const ENUM64              = 1 << 6;
        /// kind_flag allowed on TYPE_TAG and DECL_TAG (attribute tags).
        const TAG_KFLAG           = 1 << 7;
        /// Special-field ("struct metas") pass over user BTF.
        const STRUCT_METAS        = 1 << 8;
        /// DATASEC names may hold any printable byte.
        const PRINTABLE_SEC_NAMES = 1 << 9;

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
    /// What Linux 6.18 knows: every kernel rule, no proposal.
    pub const KERNEL_6_18: Features = Features::FUNC_LINKAGE
        .union(Features::VAR_DATASEC)
        .union(Features::FLOAT)
        .union(Features::DECL_TAG)
        .union(Features::TYPE_TAG)
        .union(Features::TYPE_TAG_ORDER)
        .union(Features::ENUM64)
        .union(Features::TAG_KFLAG)
        .union(Features::STRUCT_METAS)
        .union(Features::PRINTABLE_SEC_NAMES);
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
    /// `BTF_MAX_TYPE`: entries in the type table, VOID included.
    pub max_type_table: u32,
    /// `MAX_RESOLVE_DEPTH`.
    pub resolve_depth: usize,
    /// Longest identifier / section name (`KSYM_NAME_LEN`).
    pub name_len: usize,
    /// Highest kind number known.
    pub max_kind: u8,
}

/// A named kernel rule set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    pub name: &'static str,
    pub features: Features,
    pub limits: Limits,
}

impl Profile {
    /// Linux 6.18 `BPF_BTF_LOAD`, as checked against the live kernel.
    pub const LINUX_6_18: Profile = Profile {
        name: "linux-6.18",
        features: Features::KERNEL_6_18,
        limits: Limits {
            max_blob_size: 16 * 1024 * 1024,
            max_type_table: 0xfffff,
            resolve_depth: 32,
            name_len: 512,
            max_kind: 19,
        },
    };

    /// Every profile this build knows.
    pub const ALL: &'static [Profile] = &[Profile::LINUX_6_18];

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
        PROPOSALS.iter().filter(|f| self.features.contains(f.features))
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

    /// The kinds these rules know and how each record is sized (before any
    /// layout section is read).
    pub fn shapes(&self) -> Shapes {
        let kernel = Shapes::kernel_up_to(self.limits.max_kind);
        if self.has(Features::FUNC_ADDR) {
            kernel.with(Kind::FUNC_ADDR, Kind::FUNC_ADDR_TAIL)
        } else {
            kernel
        }
    }
}

impl Default for Profile {
    fn default() -> Self {
        Profile::LINUX_6_18
    }
}
