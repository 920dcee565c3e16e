//! Conformance suite: btfcheck against verdicts, errnos and full level-1 logs
//! recorded from the live Linux 6.18 kernel.
//!
//! Every case is a small builder program (see the group modules). The
//! kernel's answers live in `tests/conformance/recorded.jsonl`, one line per
//! case, with a header line saying where and when they were recorded.
//! Re-record them, as root on the reference kernel, with:
//!
//! ```text
//! BTFCHECK_RECORD=1 cargo test --release --test conformance
//! ```

mod layout;
mod names;
mod oldkernel;
mod resolve;
mod suite;

use btfcheck::diag::{human, kernel_log, logbuf};
use btfcheck::verify::struct_metas::KernelBtf;
use btfcheck::verify::{self, Options, Threads};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use suite::{Case, Suite};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn recorded_path() -> PathBuf {
    root().join("tests/conformance/recorded.jsonl")
}

/// All cases: the builder groups, log-buffer variants, and the real
/// toolchain blobs under corpus/.
fn all_cases() -> Vec<Case> {
    let mut s = Suite::default();
    text_cases(&mut s);
    layout::big_blobs(&mut s);
    resolve::matrix(&mut s);
    names::names(&mut s);
    log_buffer(&mut s);
    type_cap(&mut s);
    corpus(&mut s);
    s.cases
}

/// The hand-written cases: one `.btf.txt` per case under
/// `tests/conformance/cases/<group>/`, its first line a `# ` description
/// (format: docs/text-format.md).
fn text_cases(s: &mut Suite) {
    let dir = root().join("tests/conformance/cases");
    let mut groups: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/conformance/cases")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    groups.sort();
    for g in groups {
        let group = g.file_name().expect("dir name").to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&g)
            .expect("group dir")
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            let Some(name) = f
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".btf.txt"))
            else {
                continue;
            };
            let text = std::fs::read_to_string(&f).expect("read case");
            let what = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# "))
                .unwrap_or_default()
                .to_string();
            let blob = btfcheck::text::assemble(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            s.add_in(&group, name, what, blob);
        }
    }
}

/// The log buffer rules: sizes around the true size, fixed mode, levels.
fn log_buffer(s: &mut Suite) {
    s.group("logbuf");
    let mut b = btfcheck::builder::BtfBuilder::new();
    b.int("int", 4, 32, 1);
    let ok = b.build();
    let mut b = btfcheck::builder::BtfBuilder::new();
    let n = b.string("int");
    b.record(
        n,
        btfcheck::builder::info(btfcheck::raw::Kind::INT, 1, false),
        4,
        &[0x20],
    );
    let bad = b.build();
    for (name, blob) in [("ok", &ok), ("bad", &bad)] {
        for (size, level) in [
            (1u32, 1u32),
            (16, 1),
            (32, 1),
            (32, 9),
            (175, 1),
            (176, 1),
            (177, 1),
            (185, 1),
            (186, 1),
            (186, 9),
            (100, 8),
            (64, 2),
            (64, 4),
            (64, 15),
        ] {
            s.add_log(
                format!("{name}_size{size}_level{level}"),
                "a log buffer of this size and level",
                blob.clone(),
                level,
                size,
            );
        }
        s.add_log(
            format!("{name}_size_query"),
            "level 1 with no buffer: a size query",
            blob.clone(),
            1,
            0,
        );
        s.add_log(format!("{name}_level0"), "no log at all", blob.clone(), 0, 0);
    }
}

/// More types than the kernel's table holds: the extra ones are dropped
/// with a log line, and the load still succeeds.
fn type_cap(s: &mut Suite) {
    s.group("type_cap");
    let mut b = btfcheck::builder::BtfBuilder::new();
    for _ in 0..1_048_578 {
        b.ptr(0);
    }
    s.add_log(
        "ptrs_1048578",
        "1,048,578 PTR types: four past the type-table cap",
        b.build(),
        1,
        64 << 20,
    );
}

/// Real clang, pahole, bpftool and libbpf output (see corpus/README.md).
fn corpus(s: &mut Suite) {
    s.group("corpus");
    let mut files = Vec::new();
    collect(&root().join("corpus"), &mut files);
    files.sort();
    for f in files {
        let rel = f
            .strip_prefix(root().join("corpus"))
            .expect("under corpus")
            .to_string_lossy()
            .into_owned();
        let blob = std::fs::read(&f).expect("read corpus blob");
        s.add(rel.replace('/', "__"), format!("corpus/{rel}"), blob);
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "fuzz") {
                collect(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "btf") {
            out.push(p);
        }
    }
}

/// FNV-1a 64: identifies the exact blob a verdict was recorded for.
fn fingerprint(blob: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in blob {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{}:{h:016x}", blob.len())
}

/// Logs hold arbitrary bytes; JSON strings hold text. Printable ASCII stays,
/// everything else becomes \xNN (and a backslash \\).
fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push('\n'),
            b'\t' => s.push('\t'),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            if b[i + 1] == b'\\' {
                out.push(b'\\');
                i += 2;
                continue;
            }
            if b[i + 1] == b'x' && i + 3 < b.len() {
                if let Ok(v) = u8::from_str_radix(&s[i + 2..i + 4], 16) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Logs longer than this are recorded as fingerprint + tail.
const BIG_LOG: usize = 64 << 10;
const TAIL: usize = 4096;

/// Whether a log matches its record (full text, or fingerprint + tail).
fn log_matches(r: &Value, log: &[u8]) -> bool {
    match r.get("log_fingerprint").and_then(Value::as_str) {
        Some(fp) => {
            fp == fingerprint(log)
                && log.len() >= TAIL
                && unescape(r["log_tail"].as_str().unwrap_or_default()) == log[log.len() - TAIL..]
        }
        None => unescape(r["log"].as_str().unwrap_or_default()) == log,
    }
}

struct Outcome {
    errno: i32,
    true_size: u32,
    log: Vec<u8>,
}

fn vmlinux() -> Option<KernelBtf> {
    let bytes = std::fs::read("/sys/kernel/btf/vmlinux").ok()?;
    Some(KernelBtf::new("/sys/kernel/btf/vmlinux", bytes))
}

fn btfcheck_outcome(c: &Case, opts: &Options<'_>) -> Outcome {
    let v = verify::verify(&c.blob, opts);
    // The profile's log buffer: attribute checks, truncation, ENOSPC.
    let l = kernel_log::render_for(
        &v,
        logbuf::LogRequest {
            level: c.log_level,
            size: c.log_size,
        },
    );
    Outcome {
        errno: l.errno,
        true_size: l.true_size,
        log: l.text,
    }
}

fn load_recorded() -> (Value, BTreeMap<String, Value>) {
    let text = std::fs::read_to_string(recorded_path()).unwrap_or_default();
    let mut lines = text.lines();
    let header = lines
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    let mut map = BTreeMap::new();
    for l in lines {
        let v: Value = serde_json::from_str(l).expect("recorded.jsonl line is JSON");
        map.insert(v["name"].as_str().expect("name").to_string(), v);
    }
    (header, map)
}

fn record(cases: &[Case]) {
    use btfcheck::oracle;
    oracle::available().expect("recording needs the live kernel oracle (root on Linux 6.18)");
    let mut out = String::new();
    let header = json!({
        "recorded_with": "BTFCHECK_RECORD=1 cargo test --release --test conformance",
        "kernel": oracle::kernel_release(),
        "source": "bpf(BPF_BTF_LOAD) on the live kernel",
        "cases": cases.len(),
    });
    out.push_str(&header.to_string());
    out.push('\n');
    for c in cases {
        let k = oracle::btf_load(&c.blob, c.log_level, c.log_size).expect("BPF_BTF_LOAD");
        let mut line = json!({
            "name": c.name,
            "what": c.what,
            "blob": fingerprint(&c.blob),
            "log_level": c.log_level,
            "log_size": c.log_size,
            "errno": k.errno,
            "log_true_size": k.true_size,
        });
        // Huge logs are kept as a fingerprint plus their tail.
        if k.log.len() > BIG_LOG {
            line["log_fingerprint"] = fingerprint(&k.log).into();
            line["log_tail"] = escape(&k.log[k.log.len() - TAIL..]).into();
        } else {
            line["log"] = escape(&k.log).into();
        }
        out.push_str(&line.to_string());
        out.push('\n');
    }
    std::fs::write(recorded_path(), out).expect("write recorded.jsonl");
    eprintln!("recorded {} cases from the live kernel", cases.len());
}

#[test]
fn escape_round_trips() {
    let all: Vec<u8> = (0u8..=255).collect();
    assert_eq!(unescape(&escape(&all)), all);
    assert_eq!(unescape(&escape(b"a\\x41")), b"a\\x41");
}

/// The main assertion: verdict, errno, log_true_size and the full log of
/// every case equal what the kernel said.
#[test]
fn conformance_matches_recorded_kernel() {
    let cases = all_cases();
    let mut seen = std::collections::HashSet::new();
    for c in &cases {
        assert!(seen.insert(c.name.clone()), "duplicate case name {}", c.name);
    }
    if std::env::var_os("BTFCHECK_RECORD").is_some() {
        record(&cases);
    }
    let (header, recorded) = load_recorded();
    eprintln!("conformance: {} cases against {}", cases.len(), header);
    let vm = vmlinux();
    let opts = Options {
        vmlinux: vm.as_ref(),
        ..Options::default()
    };
    let mut failures = Vec::new();
    for c in &cases {
        let Some(r) = recorded.get(&c.name) else {
            failures.push(format!("{}: no recorded kernel verdict (re-record: BTFCHECK_RECORD=1 cargo test --release --test conformance)", c.name));
            continue;
        };
        if r["blob"].as_str() != Some(fingerprint(&c.blob).as_str())
            || r["log_size"] != c.log_size
            || r["log_level"] != c.log_level
        {
            failures.push(format!(
                "{}: the case changed since it was recorded; re-record",
                c.name
            ));
            continue;
        }
        if c.name.starts_with("special/kernel_") && vm.is_none() {
            eprintln!(
                "{}: skipped (its verdict depends on /sys/kernel/btf/vmlinux, unreadable here)",
                c.name
            );
            continue;
        }
        let klog = unescape(r["log"].as_str().or(r["log_tail"].as_str()).unwrap_or_default());
        let kerrno = r["errno"].as_i64().unwrap_or(-1) as i32;
        let ktrue = r["log_true_size"].as_u64().unwrap_or(0) as u32;
        // Both ways of running the passes: on one thread, and split over
        // two as large blobs are (forced here on small ones).
        for threads in [Threads::One, Threads::Two] {
            let ours = btfcheck_outcome(c, &Options { threads, ..opts });
            if ours.errno != kerrno || !log_matches(r, &ours.log) || ours.true_size != ktrue {
                let diff = first_diff(&klog, &ours.log);
                failures.push(format!(
                    "{} ({threads:?} threads): kernel errno {kerrno} true_size {ktrue}, btfcheck errno {} true_size {}{diff}",
                    c.name, ours.errno, ours.true_size
                ));
            }
        }
    }
    let names: std::collections::HashSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    for stale in recorded.keys().filter(|k| !names.contains(k.as_str())) {
        failures.push(format!(
            "{stale}: recorded but no longer a case (stale; re-record)"
        ));
    }
    eprintln!(
        "conformance: {} of {} cases identical",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn first_diff(a: &[u8], b: &[u8]) -> String {
    let la: Vec<&[u8]> = a.split(|&c| c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    for i in 0..la.len().max(lb.len()) {
        if la.get(i) != lb.get(i) {
            return format!(
                "\n    line {}: kernel   {:?}\n    line {}: btfcheck {:?}",
                i + 1,
                la.get(i).map(|l| String::from_utf8_lossy(l)),
                i + 1,
                lb.get(i).map(|l| String::from_utf8_lossy(l))
            );
        }
    }
    String::new()
}

/// The recorded verdicts still hold on the running kernel (skips where it
/// cannot be asked).
#[test]
fn live_kernel_still_agrees_with_recording() {
    if std::env::var_os("BTFCHECK_RECORD").is_some() {
        eprintln!("live_kernel_still_agrees_with_recording: skipped while recording");
        return;
    }
    if let Err(e) = btfcheck::oracle::available() {
        eprintln!("live_kernel_still_agrees_with_recording: skipped: {e}");
        return;
    }
    let release = btfcheck::oracle::kernel_release();
    if !release.starts_with("6.18") {
        eprintln!(
            "live_kernel_still_agrees_with_recording: skipped: running {release}, recording is from 6.18"
        );
        return;
    }
    let (_, recorded) = load_recorded();
    let mut bad = Vec::new();
    for c in all_cases() {
        let Some(r) = recorded.get(&c.name) else { continue };
        let k = btfcheck::oracle::btf_load(&c.blob, c.log_level, c.log_size).expect("BPF_BTF_LOAD");
        if k.errno as i64 != r["errno"].as_i64().unwrap_or(-1) || !log_matches(r, &k.log) {
            bad.push(c.name.clone());
        }
    }
    assert!(
        bad.is_empty(),
        "the live kernel now disagrees with the recording on: {bad:?}"
    );
}

/// Snapshots of the human diagnostic and the kernel log for every rejection,
/// one file per group (reviewed with `cargo insta review`).
#[test]
fn rejection_snapshots() {
    let vm = vmlinux();
    let opts = Options {
        vmlinux: vm.as_ref(),
        ..Options::default()
    };
    let mut groups: BTreeMap<String, String> = BTreeMap::new();
    for c in all_cases() {
        let (group, name) = c.name.split_once('/').expect("group/name");
        if group == "corpus" || group == "logbuf" || c.blob.len() > 1 << 20 {
            continue;
        }
        if c.name.starts_with("special/kernel_") {
            continue;
        }
        let v = verify::verify(&c.blob, &opts);
        if v.accepted() {
            continue;
        }
        let text = groups.entry(group.to_string()).or_default();
        let diag = human::render_with(
            name,
            &v,
            &human::HumanOptions {
                timing: false,
                kinds: false,
            },
        );
        let log = kernel_log::render(&v);
        // The header dump is the same nine lines everywhere; keep what follows.
        let body: Vec<&[u8]> = log
            .split(|&b| b == b'\n')
            .skip(if v.header.is_some() { 9 } else { 0 })
            .collect();
        text.push_str(&format!(
            "=== {name}: {}\n{diag}--- kernel log (after the header dump)\n{}\n\n",
            c.what,
            escape(&body.join(&b'\n'))
        ));
    }
    for (group, text) in groups {
        insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(format!("conformance_{group}"), text);
        });
    }
}

/// Every message of the kernel's catalogue that user BTF can reach appears
/// in at least one recorded kernel log; the unreachable ones never do.
#[test]
fn catalogue_coverage() {
    use btfcheck::diag::catalogue::{occurs, REACHABLE, UNREACHABLE};
    let (_, recorded) = load_recorded();
    let logs: Vec<Vec<u8>> = recorded
        .values()
        .map(|r| unescape(r["log"].as_str().or(r["log_tail"].as_str()).unwrap_or_default()))
        .collect();
    let matches = |pat: &str, log: &[u8]| occurs(pat, log);
    let mut missing = Vec::new();
    for pat in REACHABLE {
        let n = logs.iter().filter(|l| matches(pat, l)).count();
        if n == 0 {
            missing.push(*pat);
        }
    }
    assert!(
        missing.is_empty(),
        "catalogue messages no recorded case reaches: {missing:?}"
    );
    for pat in UNREACHABLE {
        assert!(
            !logs.iter().any(|l| matches(pat, l)),
            "{pat:?} was believed unreachable but a case reached it"
        );
    }
}

/// `asm(dump --exact(b)) == b` for every case, valid or not.
#[test]
fn exact_text_round_trips_every_case() {
    let mut n = 0;
    for c in all_cases() {
        if c.blob.len() > 1 << 20 {
            continue;
        }
        let text = btfcheck::text::write_exact(&c.blob);
        match btfcheck::text::assemble(&text) {
            Ok(b) => assert!(b == c.blob, "{}: round trip changed the blob\n{text}", c.name),
            Err(e) => panic!("{}: {e}\n{text}", c.name),
        }
        n += 1;
    }
    eprintln!("exact text round trip: {n} cases");
}
