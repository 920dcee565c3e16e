//! Differential campaigns: btfcheck beside the live kernel's `BPF_BTF_LOAD`,
//! blob by blob (`btfcheck fuzz-kernel`, the `kernel_diff` fuzz target).
//!
//! Case `i` of a campaign with seed `s` is a pure function of `(s, i)`:
//! fuzzer-like bytes from a counter-based generator feed btf-smith (a valid
//! blob, or one with a catalogue fault) or mutate a corpus blob. So every
//! reported disagreement can be re-created from its seed and index alone.

pub mod minimize;
pub mod mutate;
pub mod targets;

use crate::diag::logbuf::{LogOutcome, LogRequest};
use crate::diag::{catalogue, kernel_log};
use crate::oracle::{self, KernelVerdict, OracleError};
use crate::profile::Profile;
use crate::smith::{self, Config, Expect, Fault};
use crate::verify::{self, Options};
use arbitrary::{Arbitrary, Unstructured};

/// Where a case's blob came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Valid,
    Faulted(Fault),
    /// Byte-level mutation of corpus blob `n` (in corpus order).
    Mutated(usize),
    /// The input bytes themselves (the `kernel_diff` fuzz target).
    Raw,
    /// More types than the kernel's table holds (accepted; the extra types
    /// are dropped with `Exceeded max num of types`). One per
    /// [`TYPE_CAP_EVERY`] cases: it is a 12.6 MB blob.
    TypeCap,
}

/// How often a campaign makes a [`Source::TypeCap`] case.
pub const TYPE_CAP_EVERY: u64 = 250_000;

/// 1,048,578 PTRs to VOID: three more than the kernel's type table holds.
pub fn type_cap_blob() -> Vec<u8> {
    let mut b = crate::builder::BtfBuilder::new();
    for _ in 0..1_048_578 {
        b.ptr(0);
    }
    b.build()
}

impl Source {
    pub fn label(&self) -> String {
        match self {
            Source::Valid => "valid".into(),
            Source::Faulted(f) => format!("faulted:{}", f.name()),
            Source::Mutated(n) => format!("mutated:{n}"),
            Source::Raw => "raw".into(),
            Source::TypeCap => "type-cap".into(),
        }
    }
}

/// One generated blob.
#[derive(Clone, Debug)]
pub struct Case {
    pub blob: Vec<u8>,
    pub source: Source,
    /// What btf-smith recorded for a faulted blob.
    pub expect: Option<Expect>,
}

/// Deterministic bytes for case `index` of campaign `seed` (splitmix64).
pub fn case_bytes(seed: u64, index: u64, len: usize) -> Vec<u8> {
    let mut x = seed ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// What a campaign generates.
#[derive(Clone, Debug)]
pub struct Plan {
    pub seed: u64,
    pub profile: Profile,
    /// Blobs to mutate; without any, no mutated cases are made.
    pub corpus: Vec<Vec<u8>>,
    /// Cap on the types of one generated blob (throughput).
    pub max_types: u32,
}

impl Plan {
    /// Case `index`: 40% valid, 40% faulted, 20% mutated corpus blobs.
    pub fn case(&self, index: u64) -> Case {
        if index % TYPE_CAP_EVERY == TYPE_CAP_EVERY - 1 {
            return Case {
                blob: type_cap_blob(),
                source: Source::TypeCap,
                expect: None,
            };
        }
        let data = case_bytes(self.seed, index, 16 << 10);
        let mut u = Unstructured::new(&data);
        let pick = index % 5;
        let mut cfg = Config::arbitrary(&mut u).unwrap_or_default();
        cfg.max_types = cfg.max_types.min(self.max_types).max(1);
        cfg.min_types = cfg.min_types.min(cfg.max_types);
        // Running out of bytes only makes later choices minimal, never fails.
        match pick {
            0 | 1 => Case {
                blob: smith::valid(&mut u, &cfg, self.profile).unwrap_or_default(),
                source: Source::Valid,
                expect: None,
            },
            2 | 3 => match smith::faulted(&mut u, &cfg, self.profile) {
                Ok(f) => Case {
                    blob: f.blob,
                    source: Source::Faulted(f.fault),
                    expect: Some(f.expect),
                },
                // No fault this profile can express (before 5.6): a valid
                // blob instead.
                Err(_) => Case {
                    blob: smith::valid(&mut u, &cfg, self.profile).unwrap_or_default(),
                    source: Source::Valid,
                    expect: None,
                },
            },
            _ if self.corpus.is_empty() => Case {
                blob: data[..u.int_in_range(0..=256usize).unwrap_or(0)].to_vec(),
                source: Source::Raw,
                expect: None,
            },
            _ => {
                let n = (index / 5) as usize % self.corpus.len();
                let mut blob = self.corpus[n].clone();
                let _ = mutate::mutate(&mut u, &mut blob);
                Case {
                    blob,
                    source: Source::Mutated(n),
                    expect: None,
                }
            }
        }
    }
}

/// btfcheck's and the kernel's answers for one blob, at log level 1 with a
/// buffer large enough for the whole log.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub kernel: KernelVerdict,
    pub ours: LogOutcome,
}

impl Comparison {
    /// Same errno (hence verdict), same log bytes, same `log_true_size`.
    pub fn agree(&self) -> bool {
        self.kernel.errno == self.ours.errno
            && self.kernel.log == self.ours.text
            && self.kernel.true_size == self.ours.true_size
    }

    /// The kernel's rejection message, as a catalogue pattern; for silent
    /// rejections (special fields, size) `None`.
    pub fn kernel_message(&self) -> Option<&'static str> {
        if self.kernel.accepted {
            return None;
        }
        catalogue::final_message(&self.kernel.log)
    }
}

/// A first log buffer that holds the log of any small blob; larger logs
/// get a second load with the size the kernel reported.
const FIRST_LOG_SIZE: u32 = 1 << 20;

/// Loads `blob` into the kernel and verifies it with btfcheck.
pub fn compare(blob: &[u8], opts: &Options<'_>) -> Result<Comparison, OracleError> {
    let mut size = FIRST_LOG_SIZE;
    let mut kernel = oracle::btf_load(blob, 1, size)?;
    if kernel.true_size > size {
        size = kernel.true_size.min(oracle::DEFAULT_LOG_SIZE);
        kernel = oracle::btf_load(blob, 1, size)?;
    }
    let v = verify::verify(blob, opts);
    let ours = kernel_log::render_for(&v, LogRequest { level: 1, size });
    Ok(Comparison { kernel, ours })
}

/// Shrinks a disagreeing blob while it keeps disagreeing.
pub fn minimize_disagreement(blob: &[u8], opts: &Options<'_>) -> Vec<u8> {
    minimize::minimize(blob, 400, |b| compare(b, opts).is_ok_and(|c| !c.agree()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_reproducible_and_mixed() {
        let plan = Plan {
            seed: 7,
            profile: Profile::LINUX_6_18,
            corpus: vec![crate::builder::BtfBuilder::new().build()],
            max_types: 50,
        };
        let labels: Vec<String> = (0..10).map(|i| plan.case(i).source.label()).collect();
        assert_eq!(labels[0], "valid");
        assert!(labels[2].starts_with("faulted:"));
        assert_eq!(labels[4], "mutated:0");
        for i in 0..10 {
            assert_eq!(plan.case(i).blob, plan.case(i).blob);
        }
        assert_ne!(plan.case(0).blob, plan.case(1).blob);
    }
}
