//! Replays the committed seed corpora (`corpus/fuzz/<target>/`) through the
//! fuzz targets' bodies (`btfcheck::campaign::targets`), so every finding
//! that was minimized into a corpus stays fixed, and fails when a target's
//! corpus is missing or empty.

#![cfg(feature = "arbitrary")]

use btfcheck::campaign::targets;
use std::path::PathBuf;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/fuzz")
        .join(target)
}

#[test]
fn every_target_replays_its_seed_corpus() {
    if btfcheck::oracle::available().is_err() {
        println!(
            "kernel_diff seeds replay without the kernel: the oracle is unusable here (not root or no BPF)"
        );
    }
    for &(name, target) in targets::ALL {
        let dir = corpus_dir(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} is empty", dir.display());
        for f in &files {
            let data = std::fs::read(f).unwrap();
            let run = std::panic::catch_unwind(|| target(&data));
            assert!(run.is_ok(), "{name}: {} fails", f.display());
        }
    }
}

#[test]
fn every_fuzz_target_has_a_shim() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    for &(name, _) in targets::ALL {
        let shim = std::fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap();
        assert!(
            shim.contains(&format!("campaign::targets::{name}(")),
            "{name}.rs calls its body"
        );
    }
}
