//! `btfcheck compare`: the impact of a rule change. Every blob is verified
//! under two rule sets; blobs whose verdict or message differ are listed.

use super::{Format, EXIT_ERROR, EXIT_OK, EXIT_REJECTED};
use btfcheck::diag::kernel_log;
use btfcheck::input;
use btfcheck::profile::Features;
use btfcheck::verify::struct_metas::KernelBtf;
use btfcheck::verify::{self, errno, Options, Verification};
use btfcheck::Profile;
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::path::Path;

#[derive(Args)]
pub struct CompareArgs {
    /// Rule set before the change, e.g. linux-6.18.
    #[arg(long, value_name = "RULES", default_value = "linux-6.18")]
    from: String,
    /// Rule set after the change, e.g. linux-6.18+extern-func+extern-var.
    #[arg(long, value_name = "RULES")]
    to: String,
    /// Blobs: raw BTF or ELF objects; directories are searched recursively
    /// (files that are neither are skipped and counted).
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
    /// `human` lists changes as text; `json` prints one object per changed
    /// blob and a summary object.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// The kernel's BTF for kptr rules (default /sys/kernel/btf/vmlinux
    /// when readable).
    #[arg(long, value_name = "PATH")]
    vmlinux: Option<String>,
    /// func-addr: add this base (hex, e.g. 0x1e000000) to every FUNC_ADDR
    /// address before it is checked, under each rule set with func-addr.
    #[arg(long, value_name = "HEX", value_parser = super::parse_hex_u64)]
    kaslr_offset: Option<u64>,
    /// func-addr: confirm every FUNC_ADDR (name, relocated address) against
    /// the text symbols of a kallsyms-format file (e.g. /proc/kallsyms, as
    /// root), under each rule set with func-addr.
    #[arg(long, value_name = "FILE")]
    kallsyms: Option<String>,
    #[command(flatten)]
    threads: super::ThreadsArgs,
}

/// The outcome of one verification, as compared.
#[derive(Clone, PartialEq, Eq)]
struct Outcome {
    errno: i32,
    /// The last log line, or for silent rejections the rule name.
    message: Option<String>,
}

impl Outcome {
    fn of(v: &Verification<'_>) -> Outcome {
        let message = v.failure.map(|f| {
            kernel_log::last_line(v)
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_else(|| format!("(no log text: {})", btfcheck::diag::messages::rule(&f.check)))
        });
        Outcome {
            errno: v.errno(),
            message,
        }
    }

    fn show(&self) -> String {
        match &self.message {
            None => "accepted".into(),
            Some(m) => format!("rejected {} ({m})", errno::name(self.errno)),
        }
    }
}

pub fn run(args: CompareArgs) -> i32 {
    let (from, to) = match (Profile::parse_rules(&args.from), Profile::parse_rules(&args.to)) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("btfcheck: {e}");
            return EXIT_ERROR;
        }
    };
    let vmlinux_path = args
        .vmlinux
        .clone()
        .unwrap_or_else(|| super::verify::VMLINUX.to_string());
    let vmlinux = KernelBtf::from_path(vmlinux_path);
    let func_addr = match super::FuncAddrInputs::load(
        args.kaslr_offset,
        args.kallsyms.as_deref(),
        from.has(Features::FUNC_ADDR) || to.has(Features::FUNC_ADDR),
    ) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("btfcheck: {e}");
            return EXIT_ERROR;
        }
    };
    // A rule set without func-addr never reads them.
    let opts = |profile| Options {
        profile,
        vmlinux: Some(&vmlinux),
        kaslr_offset: func_addr.kaslr_offset,
        kallsyms: func_addr.kallsyms.as_ref(),
        threads: args.threads.threads,
    };
    let (before, after) = (opts(from), opts(to));

    let mut files = Vec::new();
    for p in &args.paths {
        match input::files_under(Path::new(p), &|_| false) {
            Ok(f) => files.extend(f),
            Err(e) => {
                eprintln!("btfcheck: {p}: {e}");
                return EXIT_ERROR;
            }
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut blobs, mut accepted, mut rejected, mut changed, mut skipped) = (0, 0, 0, 0, 0);
    for path in &files {
        let name = path.display().to_string();
        let explicit = args.paths.iter().any(|p| Path::new(p) == path);
        let inp = match input::load(&name) {
            Ok(i) => i,
            Err(e) if explicit => {
                eprintln!("btfcheck: {e}");
                return EXIT_ERROR;
            }
            Err(_) => {
                skipped += 1;
                continue;
            }
        };
        blobs += 1;
        let a = Outcome::of(&verify::verify(inp.btf(), &before));
        let b = Outcome::of(&verify::verify(inp.btf(), &after));
        if a == b {
            continue;
        }
        let change = match (a.errno, b.errno) {
            (0, _) => {
                rejected += 1;
                "newly rejected"
            }
            (_, 0) => {
                accepted += 1;
                "newly accepted"
            }
            _ => {
                changed += 1;
                "message changed"
            }
        };
        let res = match args.format {
            Format::Json => writeln!(
                out,
                "{}",
                json!({"file": name, "change": change,
                       "from": {"errno": a.errno, "message": a.message},
                       "to": {"errno": b.errno, "message": b.message}})
            ),
            _ => writeln!(
                out,
                "{name}: {change}\n  {}: {}\n  {}: {}",
                from.rules(),
                a.show(),
                to.rules(),
                b.show()
            ),
        };
        if res.is_err() {
            return EXIT_ERROR;
        }
    }
    let summary = format!(
        "{blobs} blobs: {accepted} newly accepted, {rejected} newly rejected, {changed} message changed"
    );
    let _ = match args.format {
        Format::Json => writeln!(
            out,
            "{}",
            json!({"blobs": blobs, "newly_accepted": accepted, "newly_rejected": rejected,
                   "message_changed": changed, "skipped_not_btf": skipped,
                   "from": from.rules(), "to": to.rules()})
        ),
        _ => {
            if skipped > 0 {
                let _ = writeln!(
                    out,
                    "({skipped} files under the given directories are not BTF; skipped)"
                );
            }
            writeln!(out, "{summary}")
        }
    };
    let _ = out.flush();
    if accepted + rejected + changed > 0 {
        EXIT_REJECTED
    } else {
        EXIT_OK
    }
}
