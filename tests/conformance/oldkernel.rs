//! Verdicts of real older kernels (Debian's 5.10, 6.1, 6.12), booted under
//! QEMU by `btfcheck::oracle::qemu` (the engine of `kernel-load --qemu`),
//! for every conformance case and for generated blobs. The fixtures live in
//! `tests/oldkernel/<profile>/`:
//!
//! - `conformance.jsonl`: one line per case, as `recorded.jsonl` (the
//!   6.18 recording) has them; `log_true_size` is null on kernels without
//!   the field (before 6.4).
//! - `generated.jsonl.gz`: cases `first..first+count` of a `fuzz-kernel`
//!   campaign plan (a pure function of seed and index, so only the seed,
//!   the index and the blob's fingerprint are kept), each with the kernel's
//!   errno, `log_true_size` and log (in full up to 4 KiB, else its
//!   fingerprint, length and last line).
//!
//! The first line of each file says which package, version and `uname -r`
//! it came from and the one command that re-records it:
//!
//! ```text
//! BTFCHECK_RECORD_QEMU=/path/to/linux-image-....deb cargo test --release --test conformance old_kernel
//! ```
//!
//! `BTFCHECK_QEMU_KERNEL=<the same image>` instead re-asks that kernel and
//! fails if it answers differently from its recording.

use super::{all_cases, escape, fingerprint, log_matches, root, unescape, Case, BIG_LOG, TAIL};
use btfcheck::campaign::Plan;
use btfcheck::oracle::qemu::{self, Outcome, Run};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The generated cases: seed, first index, count. 6 is the issue that
/// asked for them.
const GEN_SEED: u64 = 6;
const GEN_FIRST: u64 = 0;
const GEN_COUNT: u64 = 5000;
/// `fuzz-kernel`'s default.
const GEN_MAX_TYPES: u32 = 2000;
/// Logs of generated cases longer than this are kept as fingerprint,
/// length and last line.
const GEN_FULL_LOG: usize = 4096;
const GEN_LOG_SIZE: u32 = 16 << 20;

fn fixtures_dir() -> PathBuf {
    root().join("tests/oldkernel")
}

/// `linux-MAJOR.MINOR` from a `uname -r`.
fn profile_of(release: &str) -> Option<String> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    let (a, b) = (it.next()?, it.next()?);
    (!a.is_empty() && !b.is_empty()).then(|| format!("linux-{a}.{b}"))
}

/// The toolchain blobs `fuzz-kernel` mutates (corpus/ without corpus/fuzz).
fn campaign_corpus() -> Vec<Vec<u8>> {
    let skip = |p: &Path| p.file_name().is_some_and(|n| n == "fuzz");
    btfcheck::input::files_under(&root().join("corpus"), &skip)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "btf"))
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

fn plan() -> Plan {
    Plan {
        seed: GEN_SEED,
        profile: btfcheck::Profile::LINUX_6_18,
        corpus: campaign_corpus(),
        max_types: GEN_MAX_TYPES,
    }
}

fn last_line(log: &[u8]) -> String {
    let body = log.strip_suffix(b"\n").unwrap_or(log);
    let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    escape(&body[start..])
}

/// The fields of one kernel answer, in the recorded.jsonl style.
fn answer_fields(line: &mut Value, o: &Outcome, has_true_size: bool, full_up_to: usize, big: &str) {
    match o {
        Outcome::Loaded { verdict: k, .. } => {
            line["errno"] = k.errno.into();
            line["log_true_size"] = if has_true_size {
                k.true_size.into()
            } else {
                Value::Null
            };
            if k.log.len() <= full_up_to {
                line["log"] = escape(&k.log).into();
            } else if big == "tail" {
                line["log_fingerprint"] = fingerprint(&k.log).into();
                line["log_tail"] = escape(&k.log[k.log.len() - TAIL..]).into();
            } else {
                line["log_fingerprint"] = fingerprint(&k.log).into();
                line["log_len"] = k.log.len().into();
                line["log_last_line"] = last_line(&k.log).into();
            }
        }
        Outcome::Crashed { hung, console } => {
            line["crashed"] = true.into();
            line["hung"] = (*hung).into();
            line["console"] = console.as_str().into();
        }
    }
}

fn header(run: &Run, what: Value, command: &str) -> Value {
    let mut h = json!({
        "kernel": run.release,
        "kernel_version": run.version,
        "package": run.image.package.as_ref().map(|p| p.name.clone()),
        "package_version": run.image.package.as_ref().map(|p| p.version.clone()),
        "source": format!("bpf(BPF_BTF_LOAD) in Linux {} booted under QEMU ({}), btfcheck kernel-load --qemu", run.release, if run.kvm { "KVM" } else { "TCG" }),
        "log_true_size": if run.has_true_size() { "recorded" } else { "null: the kernel has no such field (before 6.4)" },
        "recorded_with": command,
    });
    if let (Value::Object(h), Value::Object(w)) = (&mut h, what) {
        h.extend(w);
    }
    h
}

fn write_gz(path: &Path, text: &str) {
    let mut z = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    z.write_all(text.as_bytes()).expect("compress fixture");
    write_atomic(path, &z.finish().expect("compress fixture"));
}

/// Through a temporary name: a reader sees the old file or the new one.
fn write_atomic(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).expect("write fixture");
    std::fs::rename(&tmp, path).expect("rename fixture");
}

fn read_lines(path: &Path) -> Option<Vec<Value>> {
    let f = std::fs::File::open(path).ok()?;
    let r: Box<dyn BufRead> = if path.extension().is_some_and(|x| x == "gz") {
        Box::new(std::io::BufReader::new(flate2::read::GzDecoder::new(f)))
    } else {
        Box::new(std::io::BufReader::new(f))
    };
    Some(
        r.lines()
            .map(|l| serde_json::from_str(&l.expect("read fixture")).expect("fixture line is JSON"))
            .collect(),
    )
}

/// The conformance cases and the generated blobs, as one job list.
fn jobs<'a>(cases: &'a [Case], generated: &'a [Vec<u8>]) -> Vec<qemu::Job<'a>> {
    let mut jobs: Vec<qemu::Job<'a>> = cases
        .iter()
        .map(|c| qemu::Job {
            blob: &c.blob,
            log_level: c.log_level,
            log_size: c.log_size,
        })
        .collect();
    jobs.extend(generated.iter().map(|b| qemu::Job {
        blob: b,
        log_level: 1,
        log_size: GEN_LOG_SIZE,
    }));
    jobs
}

fn boot(kernel: &Path, cases: &[Case], generated: &[Vec<u8>]) -> Run {
    let opts = qemu::Options::default();
    let run = qemu::run(kernel, &jobs(cases, generated), &opts, &mut |m| {
        eprintln!("old_kernel: {m}")
    })
    .unwrap_or_else(|e| panic!("booting {}: {e}", kernel.display()));
    eprintln!("old_kernel: {}", run.summary());
    run
}

fn record(kernel: &Path) {
    let cases = all_cases();
    let plan = plan();
    let gen: Vec<_> = (GEN_FIRST..GEN_FIRST + GEN_COUNT).map(|i| plan.case(i)).collect();
    let blobs: Vec<Vec<u8>> = gen.iter().map(|c| c.blob.clone()).collect();
    let run = boot(kernel, &cases, &blobs);
    let profile = profile_of(&run.release).expect("a uname -r with a version");
    let dir = fixtures_dir().join(&profile);
    std::fs::create_dir_all(&dir).expect("fixture dir");
    let command = format!(
        "BTFCHECK_RECORD_QEMU={} cargo test --release --test conformance old_kernel",
        run.image
            .package
            .as_ref()
            .map_or("<kernel image>".to_string(), |p| format!(
                "<{}_{}_amd64.deb>",
                p.name, p.version
            ))
    );
    let has_true = run.has_true_size();
    let mut out = header(&run, json!({"cases": cases.len()}), &command).to_string();
    out.push('\n');
    for (c, o) in cases.iter().zip(&run.outcomes) {
        let mut line = json!({
            "name": c.name,
            "blob": fingerprint(&c.blob),
            "log_level": c.log_level,
            "log_size": c.log_size,
        });
        answer_fields(&mut line, o, has_true, BIG_LOG, "tail");
        out.push_str(&line.to_string());
        out.push('\n');
    }
    write_atomic(&dir.join("conformance.jsonl"), out.as_bytes());
    let what = json!({
        "generator": "btfcheck::campaign::Plan (fuzz-kernel): case i is a pure function of (seed, i)",
        "seed": GEN_SEED,
        "first": GEN_FIRST,
        "count": GEN_COUNT,
        "plan_profile": "linux-6.18",
        "max_types": GEN_MAX_TYPES,
        "corpus": format!("corpus/ without corpus/fuzz: {} blobs", plan.corpus.len()),
        "log_level": 1,
        "log_size": GEN_LOG_SIZE,
    });
    let mut out = header(&run, what, &command).to_string();
    out.push('\n');
    for ((i, c), o) in (GEN_FIRST..).zip(&gen).zip(&run.outcomes[cases.len()..]) {
        let mut line = json!({"i": i, "source": c.source.label(), "blob": fingerprint(&c.blob)});
        answer_fields(&mut line, o, has_true, GEN_FULL_LOG, "summary");
        out.push_str(&line.to_string());
        out.push('\n');
    }
    write_gz(&dir.join("generated.jsonl.gz"), &out);
    eprintln!(
        "old_kernel: recorded {} conformance cases and {} generated blobs from Linux {} into {}",
        cases.len(),
        gen.len(),
        run.release,
        dir.display()
    );
}

/// The recorded profiles (directories under tests/oldkernel).
fn recorded_profiles() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Whether a recorded answer equals an outcome: errno, true size (where
/// the kernel has one) and log (in full or by fingerprint).
fn same_answer(r: &Value, o: &Outcome) -> bool {
    match o {
        Outcome::Crashed { .. } => r["crashed"] == true,
        Outcome::Loaded { verdict: k, .. } => agrees(r, k.errno, &k.log, k.true_size),
    }
}

/// Whether this run records (the fixtures are being rewritten: the tests
/// that read them wait for the next run).
fn recording(test: &str) -> bool {
    let r = std::env::var_os("BTFCHECK_RECORD_QEMU").is_some();
    if r {
        eprintln!("{test}: skipped while recording");
    }
    r
}

/// Records (BTFCHECK_RECORD_QEMU) or re-checks (BTFCHECK_QEMU_KERNEL) an
/// old kernel; skips, saying so, when neither is set.
#[test]
fn old_kernel_record_or_recheck() {
    if let Some(k) = std::env::var_os("BTFCHECK_RECORD_QEMU") {
        record(Path::new(&k));
        return;
    }
    let Some(kernel) = std::env::var_os("BTFCHECK_QEMU_KERNEL") else {
        eprintln!(
            "old_kernel_record_or_recheck: skipped: set BTFCHECK_QEMU_KERNEL to a kernel image \
             (e.g. a Debian linux-image .deb) to re-check its recording, or BTFCHECK_RECORD_QEMU to record one"
        );
        return;
    };
    let cases = all_cases();
    let plan = plan();
    let gen: Vec<Vec<u8>> = (GEN_FIRST..GEN_FIRST + GEN_COUNT)
        .map(|i| plan.case(i).blob)
        .collect();
    let run = boot(Path::new(&kernel), &cases, &gen);
    let profile = profile_of(&run.release).expect("a uname -r with a version");
    let dir = fixtures_dir().join(&profile);
    let Some(lines) = read_lines(&dir.join("conformance.jsonl")) else {
        panic!(
            "Linux {} booted, but there is no recording in {} to check it against",
            run.release,
            dir.display()
        );
    };
    assert_eq!(
        lines[0]["kernel"], run.release,
        "the recording is from another build of {profile}"
    );
    let by_name: std::collections::HashMap<&str, &Value> = lines[1..]
        .iter()
        .map(|v| (v["name"].as_str().unwrap_or_default(), v))
        .collect();
    let mut bad = Vec::new();
    for (c, o) in cases.iter().zip(&run.outcomes) {
        match by_name.get(c.name.as_str()) {
            Some(r) if r["blob"] == fingerprint(&c.blob) => {
                if !same_answer(r, o) {
                    bad.push(c.name.clone());
                }
            }
            _ => bad.push(format!("{} (not recorded, or recorded for another blob)", c.name)),
        }
    }
    let generated = read_lines(&dir.join("generated.jsonl.gz")).expect("generated.jsonl.gz");
    for ((r, o), fp) in generated[1..]
        .iter()
        .zip(&run.outcomes[cases.len()..])
        .zip(gen.iter().map(|b| fingerprint(b)))
    {
        if r["blob"] != fp || !same_answer(r, o) {
            bad.push(format!("generated case {}", r["i"]));
        }
    }
    assert!(
        bad.is_empty(),
        "Linux {} now answers differently from its recording in {} on {} blobs: {bad:?}",
        run.release,
        dir.display(),
        bad.len()
    );
    eprintln!(
        "old_kernel: Linux {} agrees with its recording on all {} cases and {} generated blobs",
        run.release,
        cases.len(),
        gen.len()
    );
}

/// Every fixture covers every conformance case and the generated range,
/// each for the blob it holds now: a changed case, a changed generator or
/// a changed corpus makes the recording stale, and this says so.
#[test]
fn old_kernel_fixtures_are_current() {
    if recording("old_kernel_fixtures_are_current") {
        return;
    }
    let dirs = recorded_profiles();
    assert!(
        !dirs.is_empty(),
        "no recordings under {}",
        fixtures_dir().display()
    );
    let cases = all_cases();
    let plan = plan();
    let fps: Vec<String> = (GEN_FIRST..GEN_FIRST + GEN_COUNT)
        .map(|i| fingerprint(&plan.case(i).blob))
        .collect();
    let rerecord =
        "re-record: BTFCHECK_RECORD_QEMU=<kernel .deb> cargo test --release --test conformance old_kernel";
    for dir in dirs {
        let name = dir.display();
        let conf = read_lines(&dir.join("conformance.jsonl"))
            .unwrap_or_else(|| panic!("{name}: no conformance.jsonl"));
        let head = &conf[0];
        for k in ["kernel", "package", "package_version", "recorded_with"] {
            assert!(head[k].is_string(), "{name}: header lacks {k}");
        }
        let recorded: std::collections::HashMap<&str, &Value> = conf[1..]
            .iter()
            .map(|v| (v["name"].as_str().unwrap_or_default(), v))
            .collect();
        assert_eq!(
            recorded.len(),
            cases.len(),
            "{name}: case count differs; {rerecord}"
        );
        for c in &cases {
            let r = recorded
                .get(c.name.as_str())
                .unwrap_or_else(|| panic!("{name}: {} not recorded; {rerecord}", c.name));
            assert!(
                r["blob"] == fingerprint(&c.blob)
                    && r["log_level"] == c.log_level
                    && r["log_size"] == c.log_size,
                "{name}: {} changed since it was recorded; {rerecord}",
                c.name
            );
            assert!(
                r["errno"].is_i64() || r["crashed"] == true,
                "{name}: {} has no answer",
                c.name
            );
        }
        let gen = read_lines(&dir.join("generated.jsonl.gz"))
            .unwrap_or_else(|| panic!("{name}: no generated.jsonl.gz"));
        assert_eq!(
            (
                gen[0]["seed"].as_u64(),
                gen[0]["first"].as_u64(),
                gen[0]["count"].as_u64()
            ),
            (Some(GEN_SEED), Some(GEN_FIRST), Some(GEN_COUNT)),
            "{name}: generated range differs; {rerecord}"
        );
        assert_eq!(gen.len() as u64 - 1, GEN_COUNT, "{name}: generated count");
        for (r, fp) in gen[1..].iter().zip(&fps) {
            assert!(
                r["blob"].as_str() == Some(fp.as_str()),
                "{name}: generated case {} is no longer the blob that was recorded \
                 (the generator or the corpus changed); {rerecord}",
                r["i"]
            );
        }
    }
}

#[test]
fn profile_names_from_uname() {
    assert_eq!(profile_of("5.10.0-46-amd64").as_deref(), Some("linux-5.10"));
    assert_eq!(profile_of("6.12.107+deb13-amd64").as_deref(), Some("linux-6.12"));
    assert_eq!(profile_of("garbage"), None);
}

/// btfcheck's answer for a recorded line: errno, log (in full, or by
/// fingerprint with tail or last line) and `log_true_size` where recorded.
fn agrees(r: &Value, errno: i32, log: &[u8], true_size: u32) -> bool {
    let log_ok = match (r.get("log_fingerprint"), r.get("log_tail")) {
        (Some(_), Some(_)) => log_matches(r, log),
        (Some(fp), None) => fp.as_str() == Some(fingerprint(log).as_str()),
        _ => unescape(r["log"].as_str().unwrap_or_default()) == log,
    };
    let true_ok = r["log_true_size"].is_null() || r["log_true_size"] == true_size;
    r["errno"] == errno && log_ok && true_ok
}

/// How many recorded answers of one kernel btfcheck reproduces under
/// `profile`: (conformance agreed, of, generated agreed, of, first
/// disagreements). Cases whose verdict depends on the kernel's own BTF
/// (`special/kernel_*`) are left out: the recording holds no vmlinux.
fn agreement(dir: &Path, profile: btfcheck::Profile) -> (usize, usize, usize, usize, Vec<String>) {
    let opts = btfcheck::verify::Options {
        profile,
        ..Default::default()
    };
    let conf = read_lines(&dir.join("conformance.jsonl")).expect("conformance.jsonl");
    let recorded: std::collections::HashMap<&str, &Value> = conf[1..]
        .iter()
        .map(|v| (v["name"].as_str().unwrap_or_default(), v))
        .collect();
    let mut bad = Vec::new();
    let (mut c_ok, mut c_n) = (0, 0);
    for c in all_cases() {
        let Some(r) = recorded.get(c.name.as_str()) else {
            continue;
        };
        if c.name.starts_with("special/kernel_") || r["crashed"] == true {
            continue;
        }
        // A verdict that needs the kernel's own BTF (kptr destructors) is
        // not judged here: the recording comes with no vmlinux.
        let needs_vmlinux = btfcheck::verify::verify(&c.blob, &opts)
            .notes
            .iter()
            .any(|n| matches!(n, btfcheck::verify::Note::VmlinuxNeeded { .. }));
        if needs_vmlinux {
            continue;
        }
        c_n += 1;
        let o = super::btfcheck_outcome(&c, &opts);
        if agrees(r, o.errno, &o.log, o.true_size) {
            c_ok += 1;
        } else if bad.len() < 10 {
            bad.push(format!(
                "{}: kernel errno {}, btfcheck {}",
                c.name, r["errno"], o.errno
            ));
        }
    }
    let gen = read_lines(&dir.join("generated.jsonl.gz")).expect("generated.jsonl.gz");
    let plan = plan();
    let (mut g_ok, mut g_n) = (0, 0);
    for r in &gen[1..] {
        let Some(i) = r["i"].as_u64() else { continue };
        if r["crashed"] == true {
            continue;
        }
        g_n += 1;
        let blob = plan.case(i).blob;
        let v = btfcheck::verify::verify(&blob, &opts);
        let o = btfcheck::diag::kernel_log::render_for(
            &v,
            btfcheck::diag::logbuf::LogRequest {
                level: 1,
                size: GEN_LOG_SIZE,
            },
        );
        if agrees(r, o.errno, &o.text, o.true_size) {
            g_ok += 1;
        } else if bad.len() < 20 {
            bad.push(format!(
                "generated case {i}: kernel errno {}, btfcheck {}",
                r["errno"], o.errno
            ));
        }
    }
    (c_ok, c_n, g_ok, g_n, bad)
}

/// Each recorded kernel that has a btfcheck profile of its name
/// (`linux-6.1` for tests/oldkernel/linux-6.1) is reproduced exactly:
/// verdict, errno, full log and `log_true_size`, on the conformance cases
/// and the generated blobs. A kernel without a profile yet is measured
/// against linux-6.18 and the numbers are printed.
#[test]
fn old_kernel_profiles_reproduce_recordings() {
    if recording("old_kernel_profiles_reproduce_recordings") {
        return;
    }
    for dir in recorded_profiles() {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        match btfcheck::Profile::by_name(&name) {
            Some(p) => {
                let (c_ok, c_n, g_ok, g_n, bad) = agreement(&dir, p);
                eprintln!(
                    "{name}: {c_ok} of {c_n} conformance cases and {g_ok} of {g_n} generated blobs identical"
                );
                assert!(
                    c_ok == c_n && g_ok == g_n,
                    "profile {name} disagrees with the recorded kernel:\n{}",
                    bad.join("\n")
                );
            }
            None => {
                let (c_ok, c_n, g_ok, g_n, _) = agreement(&dir, btfcheck::Profile::LINUX_6_18);
                eprintln!(
                    "{name}: no such profile yet; linux-6.18 reproduces {c_ok} of {c_n} conformance cases \
                     and {g_ok} of {g_n} generated blobs of this kernel"
                );
            }
        }
    }
}
