//! `btfcheck min-kernel`: the oldest kernel profile that loads each blob,
//! and why each older one does not.

use super::{load_input, EXIT_ERROR, EXIT_OK, EXIT_REJECTED};
use btfcheck::min_kernel::{judge, MinKernel};
use btfcheck::verify::struct_metas::KernelBtf;
use btfcheck::verify::{errno, Options};
use btfcheck::Profile;
use clap::{Args, ValueEnum};
use serde_json::json;
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MinFormat {
    Human,
    Json,
}

#[derive(Args)]
pub struct MinKernelArgs {
    /// Inputs: raw BTF, ELF objects with .BTF, or - for stdin.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<String>,
    /// `human`: the answer and one line per rejecting profile; `json`: one
    /// object per file.
    #[arg(long, value_enum, default_value = "human")]
    format: MinFormat,
    /// CI gate: exit 1 unless every blob loads on this profile and every
    /// newer one (e.g. the oldest kernel of a fleet).
    #[arg(long, value_name = "PROFILE")]
    require: Option<String>,
    /// The kernel's BTF for kptr rules (default /sys/kernel/btf/vmlinux
    /// when readable).
    #[arg(long, value_name = "PATH")]
    vmlinux: Option<String>,
}

pub fn run(args: MinKernelArgs) -> i32 {
    let required = match &args.require {
        None => None,
        Some(name) => match Profile::ALL.iter().position(|p| p.name == name) {
            Some(i) => Some(i),
            None => {
                let known: Vec<&str> = Profile::ALL.iter().map(|p| p.name).collect();
                eprintln!(
                    "btfcheck: --require: unknown profile '{name}' (known: {})",
                    known.join(", ")
                );
                return EXIT_ERROR;
            }
        },
    };
    let vmlinux = KernelBtf::from_path(
        args.vmlinux
            .clone()
            .unwrap_or_else(|| super::verify::VMLINUX.to_string()),
    );
    let base = Options {
        vmlinux: Some(&vmlinux),
        ..Options::default()
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut failed_gate, mut errors) = (false, false);
    for path in &args.files {
        let input = match load_input(path, false) {
            Ok(i) => i,
            Err(e) => {
                let _ = out.flush();
                eprintln!("btfcheck: {e}");
                errors = true;
                continue;
            }
        };
        let m = judge(input.btf(), &base);
        if let Some(i) = required {
            failed_gate |= m.verdicts[i..].iter().any(|v| !v.accepted());
        } else {
            failed_gate |= m.oldest().is_none();
        }
        let written = match args.format {
            MinFormat::Human => out.write_all(human(path, &m).as_bytes()),
            MinFormat::Json => writeln!(out, "{}", to_json(path, &m)),
        };
        if written.is_err() {
            return EXIT_ERROR;
        }
    }
    let _ = out.flush();
    if errors {
        EXIT_ERROR
    } else if failed_gate {
        EXIT_REJECTED
    } else {
        EXIT_OK
    }
}

fn human(path: &str, m: &MinKernel) -> String {
    let mut s = match (m.oldest(), m.from_on()) {
        (None, _) => format!("{path}: loads on no kernel profile\n"),
        (Some(o), Some(f)) if o == f => format!("{path}: loads on {o} and every newer profile\n"),
        (Some(o), Some(f)) => format!("{path}: loads on {o}; on every profile from {f} on\n"),
        (Some(o), None) => format!("{path}: loads on {o}, but not on the newest profile\n"),
    };
    // Neighbouring profiles that reject with the same words share a line.
    let mut i = 0;
    while i < m.verdicts.len() {
        let v = &m.verdicts[i];
        let same = |w: &&btfcheck::min_kernel::ProfileVerdict| {
            w.errno == v.errno && w.message == v.message && w.reason == v.reason
        };
        let run = m.verdicts[i..].iter().take_while(same).count();
        if !v.accepted() {
            let last = &m.verdicts[i + run - 1];
            let range = if run == 1 {
                v.profile.to_string()
            } else {
                format!("{}..{}", v.profile, last.profile)
            };
            let what = v
                .message
                .clone()
                .unwrap_or_else(|| format!("(no log text: {})", v.rule.as_deref().unwrap_or("?")));
            s.push_str(&format!("  {range:<23} {}: {what}\n", errno::name(v.errno)));
            if let Some(r) = &v.reason {
                s.push_str(&format!("  {:<23} -> {r}\n", ""));
            }
        }
        i += run;
    }
    s
}

fn to_json(path: &str, m: &MinKernel) -> serde_json::Value {
    let rejected: Vec<serde_json::Value> = m
        .verdicts
        .iter()
        .filter(|v| !v.accepted())
        .map(|v| {
            json!({
                "profile": v.profile,
                "errno": v.errno,
                "errno_name": errno::name(v.errno),
                "message": v.message,
                "rule": v.rule,
                "reason": v.reason,
            })
        })
        .collect();
    let accepted: Vec<&str> = m
        .verdicts
        .iter()
        .filter(|v| v.accepted())
        .map(|v| v.profile)
        .collect();
    json!({
        "file": path,
        "oldest": m.oldest(),
        "from_on": m.from_on(),
        "accepted_by": accepted,
        "rejected_by": rejected,
    })
}
