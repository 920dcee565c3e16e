//! The bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs` are
//! one-line shims), so the seed corpora under `corpus/fuzz/<target>/` replay
//! in `cargo test` (`tests/fuzz_corpus.rs`) and a finding reproduces without
//! cargo-fuzz. Each panics when a property fails: that is the finding.

use super::{compare, Source};
use crate::input;
use crate::profile::Profile;
use crate::smith::{self, props, Config};
use crate::verify::struct_metas::KernelBtf;
use crate::verify::Options;
use arbitrary::{Arbitrary, Unstructured};

const PROFILE: Profile = Profile::LINUX_6_18;

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target, by name, as `fuzz/fuzz_targets/` names them.
pub const ALL: &[(&str, Target)] = &[
    ("verify_raw", verify_raw),
    ("verify_valid", verify_valid),
    ("verify_faulted", verify_faulted),
    ("roundtrip", roundtrip),
    ("kernel_diff", kernel_diff),
];

fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// Small configurations: fuzzing wants many executions per second; the
/// campaign and the smoke tests cover the large shapes.
fn small_config(u: &mut Unstructured<'_>) -> Config {
    let mut cfg = Config::arbitrary(u).unwrap_or_default();
    cfg.max_types = cfg.max_types.min(64);
    cfg.min_types = cfg.min_types.min(cfg.max_types);
    cfg
}

/// One blob in eight (by length) also runs split over two threads and must
/// give the same verification: a thread start costs more than a small
/// verification, so not every one.
fn sometimes_on_two_threads(blob: &[u8]) {
    if blob.len().is_multiple_of(8) {
        ok(props::same_on_two_threads(blob, PROFILE));
    }
}

/// Any bytes: verify and every renderer; ELF input too. Under linux-6.18
/// and one other kernel profile, picked by the input's length, so every
/// profile's paths are fuzzed.
pub fn verify_raw(data: &[u8]) {
    ok(props::renderers_total(data, PROFILE));
    sometimes_on_two_threads(data);
    let other = Profile::ALL[data.len() % Profile::ALL.len()];
    if other != PROFILE {
        ok(props::renderers_total(data, other));
    }
    if let Ok(inp) = input::from_bytes("fuzz.o", data.to_vec()) {
        assert!(inp.range.end <= inp.bytes.len());
        if inp.container == input::Container::Elf {
            ok(props::renderers_total(inp.btf(), PROFILE));
        }
    }
}

/// btf-smith valid blobs are accepted and every renderer is total on them.
pub fn verify_valid(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let cfg = small_config(&mut u);
    let Ok(blob) = smith::valid(&mut u, &cfg, PROFILE) else {
        return;
    };
    ok(props::accepted(&blob, PROFILE));
    ok(props::renderers_total(&blob, PROFILE));
    sometimes_on_two_threads(&blob);
}

/// btf-smith faulted blobs are rejected exactly where the fault says.
pub fn verify_faulted(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let cfg = small_config(&mut u);
    let Ok(f) = smith::faulted(&mut u, &cfg, PROFILE) else {
        return;
    };
    ok(props::rejected_as_expected(&f, PROFILE));
    ok(props::renderers_total(&f.blob, PROFILE));
    sometimes_on_two_threads(&f.blob);
}

/// Both text forms round-trip: the input bytes themselves (exact form), and
/// a btf-smith blob made from them (both forms).
pub fn roundtrip(data: &[u8]) {
    ok(props::round_trips(data, PROFILE));
    let mut u = Unstructured::new(data);
    let cfg = small_config(&mut u);
    if let Ok(blob) = smith::valid(&mut u, &cfg, PROFILE) {
        ok(props::round_trips(&blob, PROFILE));
    }
}

/// btfcheck and the live kernel agree on a blob made from the input (valid,
/// faulted or the raw bytes, by the first byte). Does nothing where the
/// kernel oracle is unusable (not root, no BPF).
pub fn kernel_diff(data: &[u8]) {
    static USABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*USABLE.get_or_init(|| crate::oracle::available().is_ok()) {
        return;
    }
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut u = Unstructured::new(rest);
    let cfg = small_config(&mut u);
    let (blob, source) = match pick % 3 {
        0 => (
            smith::valid(&mut u, &cfg, PROFILE).unwrap_or_default(),
            Source::Valid,
        ),
        1 => match smith::faulted(&mut u, &cfg, PROFILE) {
            Ok(f) => (f.blob, Source::Faulted(f.fault)),
            Err(_) => return,
        },
        _ => (rest.to_vec(), Source::Raw),
    };
    static VMLINUX: std::sync::OnceLock<KernelBtf> = std::sync::OnceLock::new();
    let opts = Options {
        profile: PROFILE,
        vmlinux: Some(VMLINUX.get_or_init(|| KernelBtf::from_path("/sys/kernel/btf/vmlinux"))),
        ..Options::default()
    };
    if let Ok(c) = compare(&blob, &opts) {
        assert!(
            c.agree(),
            "{}: kernel errno {} vs btfcheck {}",
            source.label(),
            c.kernel.errno,
            c.ours.errno
        );
    }
}
