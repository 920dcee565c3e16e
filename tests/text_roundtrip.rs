//! `dump --exact` then `asm` gives back the same bytes: on every corpus blob,
//! on the kernel's BTF, and on many randomly mutated blobs.

use btfcheck::text::{assemble, write_exact};
use std::path::{Path, PathBuf};

mod common;
use common::Rng;

fn corpus_blobs() -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "btf") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).expect("read")))
        .collect()
}

fn round_trip(what: &str, blob: &[u8]) {
    let text = write_exact(blob);
    match assemble(&text) {
        Ok(b) => assert!(b == blob, "{what}: round trip changed the blob"),
        Err(e) => panic!("{what}: {e}"),
    }
}

#[test]
fn corpus_round_trips() {
    let blobs = corpus_blobs();
    assert!(!blobs.is_empty(), "corpus/ is empty");
    for (p, b) in &blobs {
        round_trip(&p.display().to_string(), b);
    }
}

#[test]
fn vmlinux_round_trips() {
    let Ok(b) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        eprintln!("vmlinux_round_trips: skipped: /sys/kernel/btf/vmlinux is not readable");
        return;
    };
    round_trip("vmlinux", &b);
}

#[test]
fn mutated_blobs_round_trip() {
    let blobs = corpus_blobs();
    let mut rng = Rng::new(0x5eed);
    let iters = std::env::var("BTFCHECK_TEXT_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    for i in 0..iters {
        let (_, base) = &blobs[rng.usize(blobs.len())];
        let mut b = base.clone();
        for _ in 0..1 + rng.usize(4) {
            match rng.usize(5) {
                0 if !b.is_empty() => {
                    let at = rng.usize(b.len());
                    b[at] ^= 1 << rng.usize(8);
                }
                1 if b.len() >= 4 => {
                    let at = rng.usize(b.len() - 3);
                    let v = [0u32, 1, 0xffff_ffff, 0x0f00_0002, 0x1300_0005, 0x8000_0000][rng.usize(6)];
                    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
                2 => b.truncate(rng.usize(b.len() + 1)),
                3 => {
                    let at = rng.usize(b.len() + 1);
                    b.insert(at, rng.next() as u8);
                }
                _ => {
                    // Header fields.
                    if b.len() >= 24 {
                        let f = 4 + 4 * rng.usize(5);
                        let v = rng.next() as u32 % 256;
                        b[f..f + 4].copy_from_slice(&v.to_le_bytes());
                    }
                }
            }
        }
        round_trip(&format!("mutation {i}"), &b);
    }
}

/// `asm(dump(b))`: the plain (bpftool) dump assembles into a blob whose
/// dump is the same text, and into `b` itself when `b`'s string section is
/// canonical.
fn plain_round_trip(what: &str, blob: &[u8]) -> Option<bool> {
    let dump = btfcheck::dump::render_raw(blob, None).ok()?;
    let text = String::from_utf8(dump.clone()).expect("dumps are text for these blobs");
    let again = assemble(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
    let redump = btfcheck::dump::render_raw(&again, None).expect("the assembled blob dumps");
    assert!(redump == dump, "{what}: dump(asm(dump(b))) differs from dump(b)");
    Some(again == blob)
}

#[test]
fn plain_dumps_reassemble() {
    let (mut same, mut canonical) = (0, 0);
    for (p, b) in corpus_blobs() {
        match plain_round_trip(&p.display().to_string(), &b) {
            Some(true) => same += 1,
            Some(false) => canonical += 1,
            None => {}
        }
    }
    eprintln!(
        "plain round trip: {same} blobs identical, {canonical} rebuilt with a canonical string section"
    );
    assert!(same > 0);
    if let Ok(b) = std::fs::read("/sys/kernel/btf/vmlinux") {
        plain_round_trip("vmlinux", &b);
    }
}
