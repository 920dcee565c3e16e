//! `btfcheck kernel-load`: a kernel's verdict, from the running kernel or
//! from one booted under QEMU (`--qemu`), optionally compared with
//! btfcheck's.

use super::{load_input, Format, OutputArgs, EXIT_ERROR, EXIT_OK, EXIT_REJECTED};
use btfcheck::diag::{kernel_log, logbuf};
use btfcheck::oracle::qemu::{self, Outcome};
use btfcheck::oracle::{self, KernelVerdict};
use btfcheck::verify::struct_metas::KernelBtf;
use btfcheck::verify::{self, errno, Options};
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args)]
pub struct KernelLoadArgs {
    /// Inputs: raw BTF, ELF objects with .BTF, - for stdin, or directories
    /// (every such file below them).
    #[arg(value_name = "FILE", required = true)]
    files: Vec<String>,
    #[command(flatten)]
    out: OutputArgs,
    /// Also verify with btfcheck and report agreement (verdict, errno and the
    /// full log); exit 1 on any disagreement.
    #[arg(long)]
    compare: bool,
    /// The rules btfcheck compares with (a patched kernel is compared with
    /// its prototype: `--profile linux-6.18+FEATURE`).
    #[command(flatten)]
    rules: super::RulesArgs,
    /// The kernel BTF for rules that depend on it (referenced kptrs), with
    /// --compare. Default: the running kernel's; under --qemu, the guest
    /// kernel's (from its vmlinux, when the image yields one).
    #[arg(long, value_name = "PATH")]
    vmlinux: Option<String>,
    // For btfcheck's side of --compare.
    #[command(flatten)]
    threads: super::ThreadsArgs,
    /// Ask a kernel booted under QEMU instead of the running one: a Debian
    /// linux-image-*.deb, a bzImage (vmlinuz), or a vmlinux ELF with a PVH
    /// note. All FILEs are loaded in one boot; the log buffer defaults to
    /// 16 MiB.
    #[arg(long, value_name = "KERNEL")]
    qemu: Option<PathBuf>,
    /// Guest memory in MiB (default: sized from the blobs, at least 1024).
    #[arg(long, value_name = "MIB", requires = "qemu")]
    qemu_mem: Option<u32>,
    /// Seconds a blob may keep the guest silent before it counts as hung
    /// (the guest is then restarted after that blob).
    #[arg(long, value_name = "SECS", default_value_t = 120, requires = "qemu")]
    qemu_timeout: u64,
    /// Extra guest kernel command line (e.g. a patched kernel's switches).
    #[arg(long, value_name = "ARGS", requires = "qemu")]
    qemu_append: Option<String>,
    /// Test hook for the crash recovery: crash:N or hang:N makes the guest
    /// die or stall at the N-th blob (0-based).
    #[arg(long, value_name = "crash:N|hang:N", hide = true, requires = "qemu")]
    qemu_fault: Option<String>,
}

/// The log buffer under --qemu: the size the recorded verdicts use, which
/// every kernel since 5.2 takes (the live path's 64 MiB is too big for
/// kernels before 6.4).
const QEMU_LOG_SIZE: u32 = 16 << 20;

/// What the kernel did with one input.
enum Answer {
    /// The verdict, and under QEMU the guest's time in the syscall.
    Verdict(KernelVerdict, Option<u32>),
    /// The guest died or hung while loading it.
    Crashed { hung: bool, console: String },
}

/// Which kernel answered.
struct Oracle {
    release: String,
    /// "the live kernel" or "Linux R under QEMU".
    label: String,
    qemu: bool,
    /// Whether log_true_size means anything on this kernel.
    true_size: bool,
}

/// First line where two logs differ, with both versions.
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<(usize, String, String)> {
    let la: Vec<&[u8]> = a.split(|&c| c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    for i in 0..la.len().max(lb.len()) {
        let x = la.get(i).copied();
        let y = lb.get(i).copied();
        if x != y {
            let show = |l: Option<&[u8]>| {
                l.map_or("(end of log)".to_string(), |l| {
                    String::from_utf8_lossy(l).into_owned()
                })
            };
            return Some((i + 1, show(x), show(y)));
        }
    }
    None
}

fn last_line(log: &[u8]) -> Option<String> {
    if log.is_empty() {
        return None;
    }
    let body = log.strip_suffix(b"\n").unwrap_or(log);
    let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    Some(String::from_utf8_lossy(&body[start..]).into_owned())
}

pub fn run(args: KernelLoadArgs) -> i32 {
    if args.qemu.is_none() {
        if let Err(e) = oracle::available() {
            eprintln!("btfcheck: {e}");
            return EXIT_ERROR;
        }
    }
    let level = args.out.log_level;
    let default_size = if args.qemu.is_some() {
        QEMU_LOG_SIZE
    } else {
        oracle::DEFAULT_LOG_SIZE
    };
    let size = if level == 0 {
        0
    } else {
        args.out.log_size.unwrap_or(default_size)
    };
    let profile = match args.rules.profile() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("btfcheck: {e}");
            return EXIT_ERROR;
        }
    };
    let func_addr = match args.rules.func_addr_inputs(&profile) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("btfcheck: {e}");
            return EXIT_ERROR;
        }
    };
    let mut errors = false;
    let mut inputs = Vec::new();
    let mut skipped = 0;
    for arg in &args.files {
        // A directory stands for the blobs under it; files there that are
        // neither BTF nor ELF are passed over.
        let is_dir = std::path::Path::new(arg).is_dir();
        let paths = match btfcheck::input::files_under(std::path::Path::new(arg), &|_| false) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("btfcheck: {arg}: {e}");
                errors = true;
                continue;
            }
        };
        for p in paths {
            match load_input(&p.display().to_string(), args.out.raw) {
                Ok(i) => inputs.push(i),
                Err(_) if is_dir => skipped += 1,
                Err(e) => {
                    eprintln!("btfcheck: {e}");
                    errors = true;
                }
            }
        }
    }
    if skipped > 0 {
        eprintln!("btfcheck: passed over {skipped} files that hold no BTF");
    }
    if inputs.is_empty() {
        return EXIT_ERROR;
    }
    let (oracle, answers, guest_vmlinux) = match &args.qemu {
        None => {
            let release = oracle::kernel_release();
            let mut answers = Vec::new();
            for input in &inputs {
                answers.push(
                    oracle::btf_load(input.btf(), level, size)
                        .map(|k| Answer::Verdict(k, None))
                        .map_err(|e| format!("{}: {e}", input.path)),
                );
            }
            let o = Oracle {
                label: format!("the live kernel ({release})"),
                true_size: true,
                release,
                qemu: false,
            };
            (o, answers, None)
        }
        Some(kernel) => match run_qemu(&args, kernel, &inputs, level, size) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("btfcheck: {e}");
                return EXIT_ERROR;
            }
        },
    };
    let vmlinux_path = args.vmlinux.clone().or(guest_vmlinux).or_else(|| {
        // A guest kernel is not the running one: its kptr destructors are
        // unknown unless its BTF was found.
        (!oracle.qemu).then(|| super::verify::VMLINUX.to_string())
    });
    let vmlinux = vmlinux_path.map(KernelBtf::from_path);
    let opts = Options {
        profile,
        vmlinux: vmlinux.as_ref(),
        kaslr_offset: func_addr.kaslr_offset,
        kallsyms: func_addr.kallsyms.as_ref(),
        threads: args.threads.threads,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut bad = false;
    // (answered, agreed, crashed), for the closing line of --compare.
    let mut tally = (0usize, 0usize, 0usize);
    for (input, answer) in inputs.iter().zip(answers) {
        let (k, usec) = match answer {
            Ok(Answer::Verdict(k, usec)) => (k, usec),
            Ok(Answer::Crashed { hung, console }) => {
                bad = true;
                tally.2 += 1;
                if write_crash(&mut out, args.out.format, &input.path, &oracle, hung, &console).is_err() {
                    return EXIT_ERROR;
                }
                continue;
            }
            Err(e) => {
                eprintln!("btfcheck: {e}");
                errors = true;
                continue;
            }
        };
        let ours = args.compare.then(|| {
            let v = verify::verify(input.btf(), &opts);
            kernel_log::render_for(&v, logbuf::LogRequest { level, size })
        });
        let agree = ours.as_ref().map(|o| o.errno == k.errno && o.text == k.log);
        tally.0 += 1;
        tally.1 += usize::from(agree == Some(true));
        bad |= match agree {
            Some(a) => !a,
            None => !k.accepted,
        };
        let path = &input.path;
        let res = match args.out.format {
            Format::Kernel => out.write_all(&k.log),
            Format::Json => {
                let mut obj = json!({
                    "file": path,
                    "kernel": oracle.release,
                    "accepted": k.accepted,
                    "errno": k.errno,
                    "errno_name": errno::name(k.errno),
                    "message": last_line(&k.log),
                    "log_true_size": oracle.true_size.then_some(k.true_size),
                });
                if oracle.qemu {
                    obj["oracle"] = "qemu".into();
                    obj["guest_usec"] = usec.into();
                }
                if let (Some(o), Some(a)) = (&ours, agree) {
                    obj["agree"] = a.into();
                    obj["btfcheck_errno"] = o.errno.into();
                    if let Some((line, kl, bl)) = first_difference(&k.log, &o.text) {
                        obj["first_difference"] = json!({"line": line, "kernel": kl, "btfcheck": bl});
                    }
                }
                writeln!(out, "{obj}")
            }
            Format::Human => {
                let verdict = if k.accepted {
                    "accepted".to_string()
                } else {
                    format!("rejected: {} ({})", errno::name(k.errno), k.errno)
                };
                let mut s = format!("{path}: {verdict} by {}\n", oracle.label);
                if let Some(l) = last_line(&k.log) {
                    s.push_str(&format!("  kernel:  {l}\n"));
                }
                if let (Some(o), Some(a)) = (&ours, agree) {
                    if a {
                        s.push_str(&format!(
                            "  btfcheck agrees (errno {}, {} log bytes identical)\n",
                            o.errno,
                            o.text.len()
                        ));
                    } else {
                        s.push_str(&format!(
                            "  btfcheck DISAGREES: errno {} vs kernel {}\n",
                            o.errno, k.errno
                        ));
                        if let Some((line, kl, bl)) = first_difference(&k.log, &o.text) {
                            s.push_str(&format!("  first difference at log line {line}:\n    kernel:   {kl}\n    btfcheck: {bl}\n"));
                        }
                    }
                }
                out.write_all(s.as_bytes())
            }
        };
        if res.is_err() {
            return EXIT_ERROR;
        }
    }
    let _ = out.flush();
    if args.compare {
        let (n, agreed, crashed) = tally;
        eprintln!(
            "btfcheck: {n} blobs answered by {}: {agreed} agree with btfcheck ({}), {} disagree{}",
            oracle.label,
            opts.profile.rules(),
            n - agreed,
            if crashed > 0 {
                format!("; {crashed} crashed or hung the guest")
            } else {
                String::new()
            }
        );
    }
    if errors {
        EXIT_ERROR
    } else if bad {
        EXIT_REJECTED
    } else {
        EXIT_OK
    }
}

type QemuAnswers = (Oracle, Vec<Result<Answer, String>>, Option<String>);

/// Loads every input in one QEMU boot (more if a blob takes the guest down).
fn run_qemu(
    args: &KernelLoadArgs,
    kernel: &std::path::Path,
    inputs: &[btfcheck::input::Input],
    level: u32,
    size: u32,
) -> Result<QemuAnswers, qemu::QemuError> {
    let jobs: Vec<qemu::Job<'_>> = inputs
        .iter()
        .map(|i| qemu::Job {
            blob: i.btf(),
            log_level: level,
            log_size: size,
        })
        .collect();
    let opts = qemu::Options {
        mem_mib: args.qemu_mem,
        blob_timeout: Duration::from_secs(args.qemu_timeout.max(1)),
        append: args.qemu_append.clone().unwrap_or_default(),
        fault: args.qemu_fault.clone(),
        ..qemu::Options::default()
    };
    let run = qemu::run(kernel, &jobs, &opts, &mut |m| eprintln!("btfcheck: {m}"))?;
    for w in &run.warnings {
        eprintln!("btfcheck: guest: {w}");
    }
    eprintln!("btfcheck: {}", run.summary());
    let oracle = Oracle {
        label: format!("Linux {} under QEMU", run.release),
        true_size: run.has_true_size(),
        release: run.release.clone(),
        qemu: true,
    };
    let vmlinux = run.image.vmlinux.as_ref().map(|p| p.display().to_string());
    let answers = run
        .outcomes
        .into_iter()
        .map(|o| {
            Ok(match o {
                Outcome::Loaded { verdict, usec } => Answer::Verdict(verdict, Some(usec)),
                Outcome::Crashed { hung, console } => Answer::Crashed { hung, console },
            })
        })
        .collect();
    Ok((oracle, answers, vmlinux))
}

fn write_crash(
    out: &mut impl Write,
    format: Format,
    path: &str,
    oracle: &Oracle,
    hung: bool,
    console: &str,
) -> std::io::Result<()> {
    let what = if hung { "hung" } else { "crashed" };
    match format {
        Format::Kernel => {
            eprintln!("btfcheck: {path}: the guest kernel {what} while loading it");
            Ok(())
        }
        Format::Json => {
            let obj = json!({
                "file": path,
                "kernel": oracle.release,
                "oracle": "qemu",
                "accepted": null,
                "errno": null,
                "crashed": true,
                "hung": hung,
                "console": console,
            });
            writeln!(out, "{obj}")
        }
        Format::Human => {
            let mut s = format!(
                "{path}: the guest kernel {what} while loading it ({})\n",
                oracle.label
            );
            for l in console.lines().take(12) {
                s.push_str(&format!("  console: {l}\n"));
            }
            out.write_all(s.as_bytes())
        }
    }
}
