//! `btfcheck kernel-load --qemu` end to end: boots the kernel image named by
//! `BTFCHECK_QEMU_KERNEL` (a Debian linux-image .deb, a bzImage or a PVH
//! vmlinux) and checks verdicts, the JSON and kernel formats, and the crash
//! recovery. Skips, saying why, when the variable is not set.

use btfcheck::builder::{BtfBuilder, INT_SIGNED};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn kernel() -> Option<PathBuf> {
    match std::env::var_os("BTFCHECK_QEMU_KERNEL") {
        Some(k) => Some(PathBuf::from(k)),
        None => {
            eprintln!(
                "qemu: skipped: set BTFCHECK_QEMU_KERNEL to a kernel image (a Debian linux-image .deb, \
                 a bzImage or a vmlinux with a PVH note) to boot it under QEMU"
            );
            None
        }
    }
}

/// Three blobs: a valid INT, the same INT with 40 bits in 4 bytes, and a
/// valid INT + PTR.
fn blobs(dir: &Path) -> Vec<String> {
    let mut ok = BtfBuilder::new();
    ok.int("int", 4, 32, INT_SIGNED);
    let mut bad = BtfBuilder::new();
    bad.int("int", 4, 40, INT_SIGNED);
    let mut ptr = BtfBuilder::new();
    let i = ptr.int("int", 4, 32, INT_SIGNED);
    ptr.ptr(i);
    let mut out = Vec::new();
    for (name, b) in [("ok.btf", ok), ("bad.btf", bad), ("ptr.btf", ptr)] {
        let p = dir.join(name);
        std::fs::write(&p, b.build()).expect("write blob");
        out.push(p.display().to_string());
    }
    out
}

fn btfcheck(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_btfcheck"))
        .args(args)
        .output()
        .expect("run btfcheck");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn kernel_load_under_qemu() {
    let Some(kernel) = kernel() else { return };
    let dir = std::env::temp_dir().join(format!("btfcheck-qemu-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = blobs(&dir);
    let k = kernel.display().to_string();

    // One boot, three verdicts, compared with btfcheck (default profile).
    let mut args = vec!["kernel-load", "--qemu", &k, "--format", "json", "--compare"];
    args.extend(files.iter().map(String::as_str));
    let (code, out, err) = btfcheck(&args);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    assert!(err.contains("1 boot(s)"), "one boot expected: {err}");
    let rows: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 3, "{out}");
    let release = rows[0]["kernel"].as_str().unwrap().to_string();
    assert!(
        release.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "uname -r: {release}"
    );
    assert_eq!(
        (rows[0]["accepted"].as_bool(), rows[0]["errno"].as_i64()),
        (Some(true), Some(0))
    );
    assert!(rows[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("[1] INT int size=4"));
    assert_eq!(
        (rows[1]["accepted"].as_bool(), rows[1]["errno"].as_i64()),
        (Some(false), Some(22))
    );
    assert!(rows[1]["message"].as_str().unwrap().starts_with("[1] INT int"));
    assert_eq!(rows[2]["accepted"].as_bool(), Some(true));
    for r in &rows {
        assert_eq!(r["oracle"], "qemu");
        assert!(r["agree"].is_boolean(), "--compare adds agreement: {r}");
    }

    // The kernel format: the log buffer's bytes.
    let (_, log, err) = btfcheck(&["kernel-load", "--qemu", &k, "--format", "kernel", &files[0]]);
    assert!(log.starts_with("magic: 0xeb9f\nversion: 1\n"), "{log}\n{err}");

    // A blob that kills the guest is reported, and the run goes on after it.
    let mut args = vec![
        "kernel-load",
        "--qemu",
        &k,
        "--format",
        "json",
        "--qemu-fault",
        "crash:1",
    ];
    args.extend(files.iter().map(String::as_str));
    let (code, out, err) = btfcheck(&args);
    assert_eq!(code, 1, "a crash makes the run fail: {err}");
    assert!(err.contains("2 boot(s)"), "{err}");
    let rows: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows[0]["accepted"].as_bool(), Some(true));
    assert_eq!(
        (rows[1]["crashed"].as_bool(), rows[1]["hung"].as_bool()),
        (Some(true), Some(false))
    );
    assert!(
        rows[1]["console"].as_str().unwrap().contains("Kernel panic"),
        "{}",
        rows[1]
    );
    assert_eq!(
        rows[2]["accepted"].as_bool(),
        Some(true),
        "the blob after the crash still gets its verdict"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `fuzz-kernel --qemu`: generated cases in one boot, each compared with
/// btfcheck; the report ends with the usual count line.
#[test]
fn fuzz_kernel_under_qemu() {
    let Some(kernel) = kernel() else { return };
    let out = std::env::temp_dir().join(format!("btfcheck-qemu-fuzz-{}", std::process::id()));
    let k = kernel.display().to_string();
    let o = out.display().to_string();
    let (code, stdout, err) = btfcheck(&[
        "fuzz-kernel",
        "--qemu",
        &k,
        "--count",
        "40",
        "--seed",
        "3",
        "--max-types",
        "50",
        "--out",
        &o,
    ]);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    assert!(err.contains("40 blobs in 1 boot(s)"), "{err}");
    let last = stdout.lines().last().unwrap_or_default();
    let (n, rest) = last.split_once(" executed, ").expect("count line");
    assert_eq!(n, "40", "{stdout}");
    assert!(rest.ends_with(" disagreements"), "{last}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn qemu_errors_are_clear() {
    let dir = std::env::temp_dir().join(format!("btfcheck-qemu-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = blobs(&dir);
    // Not a kernel image: a clear error and exit 2, before QEMU is needed.
    let (code, _, err) = btfcheck(&["kernel-load", "--qemu", &files[0], &files[0]]);
    assert_eq!(code, 2);
    assert!(err.contains("not a kernel image"), "{err}");
    let (code, _, err) = btfcheck(&["kernel-load", "--qemu", "/nonexistent/vmlinuz", &files[0]]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/vmlinuz"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
