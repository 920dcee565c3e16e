//! Rule sets: which kernel a verification mimics.
//!
//! A profile is feature bits + limits, built like wasmparser's spec versions:
//! each kernel's set is the previous one plus what it added. Checks ask
//! [`Profile::has`] in one place per rule instead of comparing versions.

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
    }
}

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
        features: Features::all(),
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

    /// Whether a rule or kind is on.
    #[inline]
    pub fn has(&self, f: Features) -> bool {
        self.features.contains(f)
    }
}

impl Default for Profile {
    fn default() -> Self {
        Profile::LINUX_6_18
    }
}
