//! `btfcheck fuzz-kernel`: a differential campaign against the live kernel,
//! or (`--qemu`) against a kernel booted under QEMU, in batches of one boot
//! each. The work is in [`btfcheck::campaign`]; this file runs it on
//! several threads (live) and reports.

use super::{EXIT_ERROR, EXIT_OK, EXIT_REJECTED};
use btfcheck::campaign::{self, Case, Plan, Source};
use btfcheck::oracle;
use btfcheck::oracle::qemu::{self, Outcome};
use btfcheck::smith::{props, Faulted};
use btfcheck::verify::struct_metas::KernelBtf;
use btfcheck::verify::{errno, Options};
use btfcheck::{diag::catalogue, text};
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args)]
pub struct FuzzKernelArgs {
    /// Number of blobs to generate and load.
    #[arg(long, value_name = "N")]
    count: u64,
    /// Campaign seed; case I of seed S is always the same blob.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Index of the first case (to re-run one case: --start I --count 1).
    #[arg(long, value_name = "I", default_value_t = 0)]
    start: u64,
    /// Worker threads (default: one per CPU).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Directory of .btf blobs to mutate (recursive).
    #[arg(long, value_name = "DIR", default_value = "corpus")]
    corpus: PathBuf,
    /// Where reproducers of disagreements go.
    #[arg(long, value_name = "DIR", default_value = "fuzz-kernel-out")]
    out: PathBuf,
    /// The rules btfcheck verifies with (default: the live kernel's
    /// profile; add +FEATURE to check a patched kernel against its
    /// prototype).
    #[command(flatten)]
    rules: super::RulesArgs,
    /// Most types in one generated blob.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    max_types: u32,
    /// Write the cases as DIR/S-I.btf instead of loading them, for another
    /// oracle: `btfcheck kernel-load --qemu KERNEL --compare DIR` boots an
    /// older kernel and judges them all in one boot.
    #[arg(long, value_name = "DIR")]
    export: Option<PathBuf>,
    /// Run the campaign against a kernel booted under QEMU (a Debian
    /// linux-image .deb, a bzImage or a PVH vmlinux; see
    /// docs/qemu-oracle.md) instead of the running one. Blobs go in batches
    /// of one boot each; reproducers are written whole (not minimized).
    #[arg(long, value_name = "KERNEL", conflicts_with = "export")]
    qemu: Option<PathBuf>,
    /// Under --qemu: seconds a blob may keep the guest silent before it
    /// counts as hung.
    #[arg(long, value_name = "SECS", default_value_t = 120, requires = "qemu")]
    qemu_timeout: u64,
}

/// Under --qemu: blob bytes per boot (the guest holds them twice).
const QEMU_BATCH_BYTES: usize = 256 << 20;
/// Under --qemu: the log buffer, as `kernel-load --qemu` and the recordings.
const QEMU_LOG_SIZE: u32 = 16 << 20;

const TYPE_CAP_MESSAGE: &str = "Exceeded max num of types";

/// What one worker saw.
#[derive(Default)]
struct Tally {
    executed: u64,
    accepted: u64,
    /// Kernel rejections by catalogue message (`None`: no log text).
    messages: BTreeMap<Option<&'static str>, u64>,
    disagreements: Vec<String>,
    /// Faulted blobs btfcheck did not reject where btf-smith said.
    expectation_misses: Vec<String>,
    /// Blobs that crashed or hung a QEMU guest.
    crashes: Vec<String>,
    oracle_errors: u64,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.executed += o.executed;
        self.accepted += o.accepted;
        for (k, v) in o.messages {
            *self.messages.entry(k).or_default() += v;
        }
        self.disagreements.extend(o.disagreements);
        self.expectation_misses.extend(o.expectation_misses);
        self.crashes.extend(o.crashes);
        self.oracle_errors += o.oracle_errors;
    }
}

/// The `.btf` blobs under `dir`. corpus/fuzz holds fuzzer seeds, not
/// toolchain blobs; leaving it out keeps a seed's cases independent of
/// fuzzing runs.
fn corpus_blobs(dir: &Path) -> Vec<Vec<u8>> {
    let skip_fuzz = |p: &Path| p.file_name().is_some_and(|n| n == "fuzz");
    let paths = btfcheck::input::files_under(dir, &skip_fuzz).unwrap_or_default();
    paths
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "btf"))
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// Writes `blob` as `<stem>.btf` and its exact text as `<stem>.btf.txt`.
fn write_reproducer(dir: &Path, stem: &str, blob: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{stem}.btf"));
    std::fs::write(&path, blob)?;
    std::fs::write(dir.join(format!("{stem}.btf.txt")), text::write_exact(blob))?;
    Ok(path)
}

fn one_case(plan: &Plan, index: u64, opts: &Options<'_>, out: &Path, t: &mut Tally) {
    let case = plan.case(index);
    match campaign::compare(&case.blob, opts) {
        Ok(c) => judge(plan, index, case, &c, Some(opts), out, t),
        Err(_) => t.oracle_errors += 1,
    }
}

/// Tallies one kernel answer and reports a disagreement; `minimize_with`
/// re-asks the live kernel to shrink the blob (None: keep it whole).
fn judge(
    plan: &Plan,
    index: u64,
    case: Case,
    c: &campaign::Comparison,
    minimize_with: Option<&Options<'_>>,
    out: &Path,
    t: &mut Tally,
) {
    let Case { blob, source, expect } = case;
    t.executed += 1;
    if c.kernel.accepted {
        t.accepted += 1;
        // The one message an accepted blob can carry.
        if source == Source::TypeCap && catalogue::occurs(TYPE_CAP_MESSAGE, &c.kernel.log) {
            *t.messages.entry(Some(TYPE_CAP_MESSAGE)).or_default() += 1;
        }
    } else {
        *t.messages.entry(c.kernel_message()).or_default() += 1;
    }
    if let (Source::Faulted(fault), Some(expect)) = (&source, expect) {
        let f = Faulted {
            blob: blob.clone(),
            fault: *fault,
            expect,
        };
        if let Err(e) = props::rejected_as_expected(&f, plan.profile) {
            let first = e.lines().next().unwrap_or_default().to_string();
            t.expectation_misses.push(format!("case {index}: {first}"));
        }
    }
    if c.agree() {
        return;
    }
    let small = match minimize_with {
        Some(opts) => campaign::minimize_disagreement(&blob, opts),
        None => blob.clone(),
    };
    let stem = format!("seed{}-case{index}", plan.seed);
    let written = write_reproducer(out, &stem, &small)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| format!("(not written: {e})"));
    let diff = super::kernel_load::first_difference(&c.kernel.log, &c.ours.text)
        .map(|(line, k, b)| format!("; log line {line}: kernel {k:?} vs btfcheck {b:?}"))
        .unwrap_or_default();
    t.disagreements.push(format!(
        "DISAGREE case {index} ({}): kernel {} vs btfcheck {}, log_true_size {} vs {}{diff}; reproducer {written} ({} bytes, from {})",
        source.label(),
        errno::name(c.kernel.errno),
        errno::name(c.ours.errno),
        c.kernel.true_size,
        c.ours.true_size,
        small.len(),
        blob.len()
    ));
}

/// The campaign against a kernel under QEMU: batches of cases, one boot
/// each, every answer compared with btfcheck's at level 1 and 16 MiB.
fn run_qemu(args: &FuzzKernelArgs, plan: &Plan, kernel: &Path) -> i32 {
    let opts = qemu::Options {
        blob_timeout: std::time::Duration::from_secs(args.qemu_timeout.max(1)),
        ..qemu::Options::default()
    };
    let started = Instant::now();
    let mut total = Tally::default();
    let mut vmlinux: Option<Option<KernelBtf>> = None;
    let end = args.start + args.count;
    let mut next = args.start;
    while next < end {
        let mut cases = Vec::new();
        let mut bytes = 0;
        while next < end && (cases.is_empty() || bytes < QEMU_BATCH_BYTES) {
            let c = plan.case(next);
            bytes += c.blob.len();
            cases.push((next, c));
            next += 1;
        }
        let jobs: Vec<qemu::Job<'_>> = cases
            .iter()
            .map(|(_, c)| qemu::Job {
                blob: &c.blob,
                log_level: 1,
                log_size: QEMU_LOG_SIZE,
            })
            .collect();
        let run = match qemu::run(kernel, &jobs, &opts, &mut |m| eprintln!("fuzz-kernel: {m}")) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("btfcheck: {e}");
                return EXIT_ERROR;
            }
        };
        eprintln!("fuzz-kernel: {}", run.summary());
        // The guest kernel's own BTF, for kptr rules (from its vmlinux).
        let vm = vmlinux.get_or_insert_with(|| {
            run.image
                .vmlinux
                .as_ref()
                .map(|p| KernelBtf::from_path(p.display().to_string()))
        });
        let vopts = Options {
            profile: plan.profile,
            vmlinux: vm.as_ref(),
            ..Options::default()
        };
        for ((index, case), outcome) in cases.into_iter().zip(run.outcomes) {
            match outcome {
                Outcome::Loaded { verdict, .. } => {
                    let v = btfcheck::verify::verify(&case.blob, &vopts);
                    let req = btfcheck::diag::logbuf::LogRequest {
                        level: 1,
                        size: QEMU_LOG_SIZE,
                    };
                    let c = campaign::Comparison {
                        kernel: verdict,
                        ours: btfcheck::diag::kernel_log::render_for(&v, req),
                    };
                    judge(plan, index, case, &c, None, &args.out, &mut total);
                }
                Outcome::Crashed { hung, console } => {
                    let stem = format!("seed{}-case{index}", plan.seed);
                    let written = write_reproducer(&args.out, &stem, &case.blob)
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|e| format!("(not written: {e})"));
                    let first = console.lines().next().unwrap_or_default().to_string();
                    total.crashes.push(format!(
                        "CRASH case {index} ({}): the guest kernel {} loading it ({first}); reproducer {written}",
                        case.source.label(),
                        if hung { "hung" } else { "crashed" }
                    ));
                }
            }
        }
    }
    report(&total, started.elapsed().as_secs_f64())
}

pub fn run(args: FuzzKernelArgs) -> i32 {
    if args.export.is_none() && args.qemu.is_none() {
        if let Err(e) = oracle::available() {
            eprintln!("btfcheck: fuzz-kernel needs the live kernel (or --qemu KERNEL): {e}");
            return EXIT_ERROR;
        }
    }
    let corpus = corpus_blobs(&args.corpus);
    if corpus.is_empty() {
        eprintln!(
            "btfcheck: no .btf blobs under {}; making no mutated cases",
            args.corpus.display()
        );
    }
    let profile = match args.rules.profile() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("btfcheck: {e}");
            return EXIT_ERROR;
        }
    };
    let plan = Plan {
        seed: args.seed,
        profile,
        corpus,
        max_types: args.max_types.max(1),
    };
    if let Some(dir) = &args.export {
        return export(&plan, args.start, args.count, dir);
    }
    if let Some(kernel) = &args.qemu {
        eprintln!(
            "fuzz-kernel: seed {}, cases {}..{}, a kernel under QEMU as the oracle ({}), profile {}",
            args.seed,
            args.start,
            args.start + args.count,
            kernel.display(),
            plan.profile.rules()
        );
        return run_qemu(&args, &plan, kernel);
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1) as u64;
    let vmlinux = KernelBtf::from_path(super::verify::VMLINUX);
    let opts = Options {
        profile: plan.profile,
        vmlinux: Some(&vmlinux),
        ..Options::default()
    };
    eprintln!(
        "fuzz-kernel: seed {}, cases {}..{}, {jobs} jobs, Linux {} as the oracle, profile {}",
        args.seed,
        args.start,
        args.start + args.count,
        oracle::kernel_release(),
        plan.profile.rules()
    );
    let started = Instant::now();
    let mut total = Tally::default();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs)
            .map(|w| {
                let (plan, opts, out) = (&plan, &opts, &args.out);
                s.spawn(move || {
                    let mut t = Tally::default();
                    let mut i = args.start + w;
                    while i < args.start + args.count {
                        one_case(plan, i, opts, out, &mut t);
                        if w == 0 && t.executed % 20_000 == 0 && t.executed > 0 {
                            eprintln!(
                                "fuzz-kernel: ~{} executed, {:.0}/s",
                                t.executed * jobs,
                                (t.executed * jobs) as f64 / started.elapsed().as_secs_f64()
                            );
                        }
                        i += jobs;
                    }
                    t
                })
            })
            .collect();
        for w in workers {
            total.merge(w.join().expect("a fuzz-kernel worker panicked"));
        }
    });
    report(&total, started.elapsed().as_secs_f64())
}

fn report(t: &Tally, secs: f64) -> i32 {
    for d in &t.disagreements {
        println!("{d}");
    }
    for m in &t.expectation_misses {
        println!("SMITH-EXPECTATION {m}");
    }
    for c in &t.crashes {
        println!("{c}");
    }
    println!("accepted by the kernel: {}", t.accepted);
    println!("rejections by kernel message:");
    let mut rows: Vec<_> = t.messages.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (m, n) in rows {
        let m = m.map_or("(no log text: special fields or size)".to_string(), |m| {
            format!("{m:?}")
        });
        println!("{n:>10}  {m}");
    }
    let missing: Vec<&str> = catalogue::REACHABLE
        .iter()
        .copied()
        .filter(|p| !t.messages.contains_key(&Some(*p)))
        .collect();
    println!(
        "catalogue: {}/{} reachable messages reached{}",
        catalogue::REACHABLE.len() - missing.len(),
        catalogue::REACHABLE.len(),
        if missing.is_empty() {
            String::new()
        } else {
            format!("; not reached: {missing:?}")
        }
    );
    if t.oracle_errors > 0 {
        println!("{} loads failed to run (oracle errors)", t.oracle_errors);
    }
    println!(
        "{:.1} s, {:.0} executions/s",
        secs,
        t.executed as f64 / secs.max(1e-9)
    );
    println!("{} executed, {} disagreements", t.executed, t.disagreements.len());
    if t.oracle_errors > 0 && t.executed == 0 {
        EXIT_ERROR
    } else if t.disagreements.is_empty() && t.crashes.is_empty() {
        EXIT_OK
    } else {
        EXIT_REJECTED
    }
}

/// `--export`: the cases as files, named by seed and index.
fn export(plan: &Plan, start: u64, count: u64, dir: &Path) -> i32 {
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("btfcheck: {}: {e}", dir.display());
        return EXIT_ERROR;
    }
    for i in start..start.saturating_add(count) {
        let path = dir.join(format!("{}-{i}.btf", plan.seed));
        if let Err(e) = std::fs::write(&path, plan.case(i).blob) {
            eprintln!("btfcheck: {}: {e}", path.display());
            return EXIT_ERROR;
        }
    }
    eprintln!("wrote {count} cases of seed {} to {}", plan.seed, dir.display());
    EXIT_OK
}
