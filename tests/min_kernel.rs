//! `btfcheck min-kernel` on real toolchain output (corpus/). The sets of
//! blobs each Debian kernel loads were confirmed by booting it
//! (docs/profiles.md); these answers must not drift.

use std::process::Command;

fn min_kernel(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_btfcheck"))
        .arg("min-kernel")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run btfcheck");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn oldest_profiles_of_real_blobs() {
    let cases = [
        ("corpus/pahole/kv.clang.btf", Some("linux-5.0")),
        ("corpus/pahole/shapes.gcc.noenum64.btf", Some("linux-5.4")),
        ("corpus/bpftool/linked/spinlock.linked.btf", Some("linux-5.6")),
        ("corpus/bpftool/linked/floats.linked.btf", Some("linux-5.13")),
        ("corpus/bpftool/linked/tags.linked.btf", Some("linux-5.17")),
        ("corpus/pahole/shapes.gcc.btf", Some("linux-6.0")),
        ("corpus/clang/ksym.btf", None),
    ];
    for (file, oldest) in cases {
        let (code, out) = min_kernel(&["--format", "json", file]);
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
        assert_eq!(v["oldest"].as_str(), oldest, "{file}: {out}");
        assert_eq!(code, if oldest.is_some() { 0 } else { 1 }, "{file}");
    }
}

#[test]
fn human_output_names_what_is_missing() {
    let (_, out) = min_kernel(&["corpus/bpftool/linked/tags.linked.btf"]);
    assert!(
        out.contains("loads on linux-5.17 and every newer profile"),
        "{out}"
    );
    assert!(out.contains("-> TYPE_TAG (kind 18) needs linux-5.17"), "{out}");
}

#[test]
fn require_gates_on_a_fleet_minimum() {
    let file = "corpus/bpftool/linked/tags.linked.btf";
    assert_eq!(min_kernel(&["--require", "linux-6.1", file]).0, 0);
    assert_eq!(min_kernel(&["--require", "linux-5.10", file]).0, 1);
    assert_eq!(min_kernel(&["--require", "linux-9.9", file]).0, 2);
}
