//! btf-smith: BTF that a given kernel profile accepts by construction, and
//! the same with one recorded fault, drawn from a fuzzer's bytes.
//!
//! Modelled on wasm-smith: [`Config`] is itself [`Arbitrary`], the generator
//! ([`gen::Gen`]) consumes an [`Unstructured`] and never a thread RNG, so
//! every blob is reproducible from its input bytes. Types are emitted in
//! dependency order (targets first) with sizes and offsets computed, except
//! for the legal pointer cycles (`struct s { struct s *next; }` and mutually
//! recursive pairs), whose pointers are emitted just before their structs.
//!
//! ```text
//! bytes ─► Config ─► Gen (valid types, in order) ─┬─► valid blob            (accepted)
//!                                                 └─► fault::Fault::apply ─► faulted blob + Expect
//! ```
//!
//! [`props`] holds the properties the fuzz targets and the smoke tests check.

pub mod fault;
pub mod gen;
pub mod names;
pub mod props;

pub use fault::{Expect, Fault, Faulted};
pub use gen::Gen;

use crate::profile::Profile;
use arbitrary::{Arbitrary, Result, Unstructured};

/// Knobs for one generated blob. Arbitrary, so a fuzzer explores
/// configurations too; every field is clamped to what the generator handles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Fewest and most types to generate (VOID not counted).
    pub min_types: u32,
    pub max_types: u32,
    /// Most members per struct/union, params per proto, values per enum,
    /// entries per DATASEC.
    pub max_members: u16,
    pub max_params: u16,
    pub max_enumerators: u16,
    pub max_datasec_entries: u16,
    /// Most elements in an array that may be a member.
    pub max_array_len: u32,
    /// Usual longest name; [`Config::long_names`] adds 512-byte names.
    pub max_name_len: usize,
    pub long_names: bool,
    pub latin1_names: bool,
    pub dot_names: bool,
    /// Self-referencing structs and mutually recursive pairs.
    pub pointer_cycles: bool,
    /// kind_flag structs and unions (bitfield sizes in the member offset).
    pub kflag_composites: bool,
    /// Kinds to generate, as a bit per kind number (1 << kind). Kinds the
    /// profile lacks are dropped whatever this says.
    pub kinds: u32,
    /// DATASEC names as identifiers (kernels before 6.9 check them so);
    /// set by [`Config::for_profile`], never drawn from the input.
    pub section_identifiers: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            min_types: 1,
            max_types: 200,
            max_members: 12,
            max_params: 6,
            max_enumerators: 8,
            max_datasec_entries: 8,
            max_array_len: 16,
            max_name_len: 16,
            long_names: true,
            latin1_names: true,
            dot_names: true,
            pointer_cycles: true,
            kflag_composites: true,
            kinds: u32::MAX,
            section_identifiers: false,
        }
    }
}

impl Config {
    /// The most types any configuration asks for: tens of thousands, well
    /// under the kernel's 16 MiB and 1,048,574-type limits.
    pub const TYPES_CAP: u32 = 50_000;

    /// A configuration for large blobs (thousands to tens of thousands of
    /// types), as vmlinux-sized inputs need.
    pub fn large() -> Self {
        Config {
            min_types: 5_000,
            max_types: Self::TYPES_CAP,
            max_members: 64,
            ..Config::default()
        }
    }

    /// This configuration cut to what `profile` accepts as valid: no dots
    /// or long names where the kernel refuses them, no kind_flag members
    /// before 5.0, identifier section names before 6.9. `None` when nothing
    /// changes (every linux-6.18 configuration).
    pub fn for_profile(&self, profile: &Profile) -> Option<Config> {
        use crate::profile::Features as F;
        let mut c = self.clone();
        if !profile.has(F::DOTTED_NAMES) {
            c.dot_names = false;
        }
        if profile.limits.name_len < names::MAX_NAME_LEN {
            c.long_names = false;
            c.max_name_len = c.max_name_len.min(profile.limits.name_len);
        }
        if !profile.has(F::KFLAG) {
            c.kflag_composites = false;
        }
        if !profile.has(F::SEC_NAMES_PRINTABLE) {
            c.section_identifiers = true;
        }
        (c != *self).then_some(c)
    }

    /// Whether the generator may emit `kind` under `profile`.
    pub fn allows(&self, profile: &Profile, kind: crate::raw::Kind) -> bool {
        use crate::profile::Features as F;
        use crate::raw::Kind as K;
        let needed = match kind {
            K::VAR | K::DATASEC => F::VAR_DATASEC,
            K::FLOAT => F::FLOAT,
            K::DECL_TAG => F::DECL_TAG,
            K::TYPE_TAG => F::TYPE_TAG,
            K::ENUM64 => F::ENUM64,
            _ => F::empty(),
        };
        kind.0 < 32
            && kind.0 <= profile.limits.max_kind
            && self.kinds & (1 << kind.0) != 0
            && profile.has(needed)
    }
}

impl<'a> Arbitrary<'a> for Config {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let large = u.ratio(1, 32)?;
        let max_types = if large {
            u.int_in_range(1_000..=Config::TYPES_CAP)?
        } else {
            u.int_in_range(1..=400)?
        };
        let member_cap = if u.ratio(1, 16)? { 2_000 } else { 24 };
        let enumerator_cap = if u.ratio(1, 16)? { 2_000 } else { 16 };
        Ok(Config {
            min_types: u.int_in_range(1..=max_types)?,
            max_types,
            max_members: u.int_in_range(0..=member_cap)?,
            max_params: u.int_in_range(0..=12)?,
            max_enumerators: u.int_in_range(0..=enumerator_cap)?,
            max_datasec_entries: u.int_in_range(0..=32)?,
            max_array_len: u.int_in_range(0..=4096)?,
            max_name_len: u.int_in_range(1..=64)?,
            long_names: u.arbitrary()?,
            latin1_names: u.arbitrary()?,
            dot_names: u.arbitrary()?,
            pointer_cycles: u.arbitrary()?,
            kflag_composites: u.arbitrary()?,
            // Mostly everything; sometimes a subset, to reach small shapes.
            kinds: if u.ratio(3, 4)? { u32::MAX } else { u.arbitrary()? },
            section_identifiers: false,
        })
    }
}

/// A valid blob for `profile`, from `u`'s bytes.
pub fn valid(u: &mut Unstructured<'_>, cfg: &Config, profile: Profile) -> Result<Vec<u8>> {
    let mut gen = Gen::new(cfg, profile);
    gen.generate(u, None)?;
    Ok(gen.finish())
}

/// A blob with exactly one fault from the catalogue, and where the kernel
/// must report it.
pub fn faulted(u: &mut Unstructured<'_>, cfg: &Config, profile: Profile) -> Result<Faulted> {
    let fault = Fault::choose(u, &profile)?;
    fault.build(u, cfg, profile)
}
