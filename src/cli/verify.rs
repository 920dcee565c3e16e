//! `btfcheck verify`.

use super::{load_input, Format, OutputArgs, EXIT_ERROR, EXIT_OK, EXIT_REJECTED};
use btfcheck::diag::{human, json, kernel_log, logbuf};
use btfcheck::verify::struct_metas::KernelBtf;
use btfcheck::verify::{self, Options};
use clap::Args;
use std::io::Write;

/// The kernel's own BTF, used when no FILE is given and as --vmlinux default.
pub const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
/// Sample verified when no FILE is given and the kernel's BTF is unreadable.
pub const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/pahole/netstack.gcc.btf");

#[derive(Args)]
pub struct VerifyArgs {
    /// Inputs: raw BTF, ELF objects (.o, .ko, vmlinux) or - for stdin.
    /// Default: /sys/kernel/btf/vmlinux when readable, else a corpus sample.
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    rules: super::RulesArgs,
    /// The kernel's BTF, for rules that depend on it (referenced kptrs).
    /// Default: /sys/kernel/btf/vmlinux when readable.
    #[arg(long, value_name = "PATH")]
    vmlinux: Option<String>,
    /// Do not read any kernel BTF (kptr checks then say they assumed).
    #[arg(long, conflicts_with = "vmlinux")]
    no_vmlinux: bool,
    #[command(flatten)]
    threads: super::ThreadsArgs,
}

fn readable(path: &str) -> bool {
    std::fs::File::open(path).is_ok()
}

pub fn run(args: VerifyArgs) -> i32 {
    let profile = match args.rules.profile() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("btfcheck: {e}");
            return EXIT_ERROR;
        }
    };
    if let Some(size) = args.out.log_size {
        let req = logbuf::LogRequest {
            level: args.out.log_level,
            size,
        };
        if !logbuf::request_valid_for(req, profile.has(btfcheck::profile::Features::LOG_ROTATE)) {
            eprintln!(
                "btfcheck: --log-level {} with --log-size {size}: the kernel rejects these log attributes (EINVAL)",
                args.out.log_level
            );
            return EXIT_ERROR;
        }
    } else if args.out.log_level & !0xf != 0 {
        eprintln!(
            "btfcheck: --log-level {}: only bits 0-3 exist (the kernel answers EINVAL)",
            args.out.log_level
        );
        return EXIT_ERROR;
    }
    let mut files = args.files.clone();
    if files.is_empty() {
        let default = if readable(VMLINUX) { VMLINUX } else { SAMPLE };
        eprintln!("btfcheck: no FILE given, verifying {default}");
        files.push(default.to_string());
    }
    let vmlinux = if args.no_vmlinux {
        None
    } else if let Some(path) = &args.vmlinux {
        // An explicit --vmlinux must be readable now; the default is read
        // only if a rule needs it.
        if let Err(e) = btfcheck::input::load(path) {
            eprintln!("btfcheck: --vmlinux: {e}");
            return EXIT_ERROR;
        }
        Some(KernelBtf::from_path(path.clone()))
    } else {
        readable(VMLINUX).then(|| KernelBtf::from_path(VMLINUX))
    };
    let func_addr = match args.rules.func_addr_inputs(&profile) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("btfcheck: {e}");
            return EXIT_ERROR;
        }
    };
    let opts = Options {
        profile,
        vmlinux: vmlinux.as_ref(),
        kaslr_offset: func_addr.kaslr_offset,
        kallsyms: func_addr.kallsyms.as_ref(),
        threads: args.threads.threads,
    };

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut rejected, mut errors) = (false, false);
    for path in &files {
        let input = match load_input(path, args.out.raw) {
            Ok(i) => i,
            Err(e) => {
                let _ = out.flush();
                eprintln!("btfcheck: {e}");
                errors = true;
                continue;
            }
        };
        let v = verify::verify(input.btf(), &opts);
        let mut errno = v.errno();
        let wants_log = args.out.format == Format::Kernel || args.out.log_size.is_some();
        let log = wants_log.then(|| {
            let req = logbuf::LogRequest {
                level: args.out.log_level,
                size: args.out.log_size.unwrap_or(logbuf::MAX_LOG_SIZE),
            };
            kernel_log::render_for(&v, req)
        });
        if let Some(l) = &log {
            errno = l.errno;
        }
        rejected |= errno != 0;
        let written = match args.out.format {
            Format::Kernel => out.write_all(&log.expect("rendered").text),
            Format::Json => {
                let mut obj = json::render(path, &v);
                obj["errno"] = errno.into();
                obj["errno_name"] = verify::errno::name(errno).into();
                obj["accepted"] = (errno == 0).into();
                writeln!(out, "{obj}")
            }
            Format::Human => {
                let mut text = human::render(path, &v, true);
                if errno != v.errno() {
                    text.push_str(&format!(
                        "  log:     the log ({} bytes) did not fit in {} bytes: {}\n",
                        log.as_ref().map_or(0, |l| l.true_size),
                        args.out.log_size.unwrap_or(0),
                        verify::errno::name(errno)
                    ));
                }
                out.write_all(text.as_bytes())
            }
        };
        if let Err(e) = written {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return EXIT_ERROR;
            }
            eprintln!("btfcheck: writing output: {e}");
            return EXIT_ERROR;
        }
    }
    let _ = out.flush();
    if errors {
        EXIT_ERROR
    } else if rejected {
        EXIT_REJECTED
    } else {
        EXIT_OK
    }
}
