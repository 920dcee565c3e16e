//! Seeded smoke tests for btf-smith (src/smith): the properties the fuzz
//! targets check, over deterministic inputs, so they run in `cargo test`.
//!
//! - every generated valid blob is accepted, round-trips through both text
//!   forms, and every renderer is total on it;
//! - every catalogue fault, on several seeds, is rejected at exactly the
//!   stage, check, errno and type id it recorded.

#![cfg(feature = "arbitrary")]

use arbitrary::{Arbitrary, Unstructured};
use btfcheck::smith::{self, props, Config, Fault};
use btfcheck::Profile;

/// Deterministic fuzzer-like bytes (the campaign's generator).
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    btfcheck::campaign::case_bytes(seed, 0, len)
}

const PROFILE: Profile = Profile::LINUX_6_18;

#[test]
fn valid_blobs_are_accepted_round_trip_and_render() {
    let mut kinds_seen = std::collections::BTreeSet::new();
    for seed in 0..600 {
        let data = bytes(seed, 16 << 10);
        let mut u = Unstructured::new(&data);
        let cfg = Config::arbitrary(&mut u).unwrap();
        let blob = smith::valid(&mut u, &cfg, PROFILE).unwrap();
        let fail = |what: String| panic!("seed {seed}: {what}");
        props::accepted(&blob, PROFILE).unwrap_or_else(fail);
        props::round_trips(&blob, PROFILE).unwrap_or_else(fail);
        props::renderers_total(&blob, PROFILE).unwrap_or_else(fail);
        props::same_on_two_threads(&blob, PROFILE).unwrap_or_else(fail);
        let v = btfcheck::verify(&blob, &Default::default());
        for (kind, n) in btfcheck::diag::human::kind_counts(&v) {
            if n > 0 {
                kinds_seen.insert(kind.0);
            }
        }
    }
    // All 19 kinds come out of 600 seeds.
    assert_eq!(kinds_seen, (1..=19).collect(), "kinds generated");
}

#[test]
fn default_and_large_configs_are_accepted() {
    for (seed, cfg) in [(1, Config::default()), (2, Config::large())] {
        let data = bytes(seed, 1 << 20);
        let mut u = Unstructured::new(&data);
        let blob = smith::valid(&mut u, &cfg, PROFILE).unwrap();
        props::accepted(&blob, PROFILE).unwrap();
        props::round_trips(&blob, PROFILE).unwrap();
        props::same_on_two_threads(&blob, PROFILE).unwrap();
    }
}

#[test]
fn every_fault_is_rejected_where_it_says() {
    assert!(
        Fault::ALL.len() >= 50,
        "the catalogue has {} faults",
        Fault::ALL.len()
    );
    for &fault in Fault::ALL {
        for seed in 0..12 {
            let data = bytes(seed * 1000 + fault as u64, 4096);
            let mut u = Unstructured::new(&data);
            let cfg = Config::arbitrary(&mut u).unwrap();
            let f = fault.build(&mut u, &cfg, PROFILE).unwrap();
            if let Err(e) = props::rejected_as_expected(&f, PROFILE) {
                panic!("seed {seed}: {e}");
            }
            props::round_trips(&f.blob, PROFILE).unwrap_or_else(|e| panic!("{}: {e}", fault.name()));
            props::renderers_total(&f.blob, PROFILE).unwrap();
            props::same_on_two_threads(&f.blob, PROFILE).unwrap_or_else(|e| panic!("{}: {e}", fault.name()));
        }
    }
}

#[test]
fn fault_names_are_unique_and_stages_cover_every_pass() {
    let names: std::collections::BTreeSet<_> = Fault::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(names.len(), Fault::ALL.len());
    let stages: std::collections::BTreeSet<_> = Fault::ALL.iter().map(|f| f.stage().as_str()).collect();
    assert_eq!(
        stages.into_iter().collect::<Vec<_>>(),
        [
            "header",
            "meta",
            "resolve",
            "size",
            "strings",
            "struct_metas",
            "type_tags"
        ]
    );
    for &f in Fault::ALL {
        assert_eq!(Fault::by_name(f.name()), Some(f));
    }
}

#[test]
fn docs_list_every_fault() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/fuzzing.md")).unwrap();
    for f in Fault::ALL {
        let row = format!(
            "| `{}` | {} | {} |",
            f.name(),
            f.stage().as_str(),
            f.description()
        );
        assert!(doc.contains(&row), "docs/fuzzing.md lacks the row {row}");
    }
}

/// Each fault's recorded errno is the live kernel's, and btfcheck's whole
/// level-1 log matches the kernel's (skips without root or BPF).
#[test]
fn every_fault_agrees_with_the_live_kernel() {
    if let Err(e) = btfcheck::oracle::available() {
        println!("skipped: the live kernel oracle is unusable here: {e}");
        return;
    }
    let opts = btfcheck::verify::Options::default();
    for &fault in Fault::ALL {
        for seed in 0..3 {
            let data = bytes(seed * 7919 + fault as u64, 4096);
            let mut u = Unstructured::new(&data);
            let cfg = Config::arbitrary(&mut u).unwrap();
            let f = fault.build(&mut u, &cfg, PROFILE).unwrap();
            let c = btfcheck::campaign::compare(&f.blob, &opts).unwrap();
            assert_eq!(c.kernel.errno, f.expect.errno, "{}: kernel errno", fault.name());
            assert!(c.agree(), "{}: btfcheck and the kernel disagree", fault.name());
        }
    }
}

/// For every kernel profile, btf-smith's valid blobs are accepted: the
/// generator cuts its configuration to what each kernel takes.
#[test]
fn valid_blobs_are_accepted_under_every_profile() {
    let mut failures = Vec::new();
    for (n, &profile) in Profile::ALL.iter().enumerate() {
        for seed in 0..60 {
            let data = bytes(10_000 + 100 * n as u64 + seed, 16 << 10);
            let mut u = Unstructured::new(&data);
            let cfg = Config::arbitrary(&mut u).unwrap();
            let Ok(blob) = smith::valid(&mut u, &cfg, profile) else {
                continue;
            };
            if let Err(e) = props::accepted(&blob, profile) {
                failures.push(format!(
                    "{} seed {seed}: {}",
                    profile.name,
                    e.lines().find(|l| l.contains("rule:")).unwrap_or("")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} rejections:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Under every kernel profile, each fault that profile can express is
/// rejected exactly where it says (the generator and the catalogue follow
/// the profile's rules).
#[test]
fn faults_are_rejected_where_they_say_under_every_profile() {
    let mut failures = Vec::new();
    for &profile in Profile::ALL {
        for fault in Fault::applicable(&profile) {
            for seed in 0..3 {
                let data = bytes(77_000 + seed * 1000 + fault as u64, 4096);
                let mut u = Unstructured::new(&data);
                let cfg = Config::arbitrary(&mut u).unwrap();
                let Ok(f) = fault.build(&mut u, &cfg, profile) else {
                    continue;
                };
                if let Err(e) = props::rejected_as_expected(&f, profile) {
                    failures.push(format!(
                        "{} {}: {}",
                        profile.name,
                        fault.name(),
                        e.lines().next().unwrap_or("")
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
