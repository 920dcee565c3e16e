//! `btfcheck kernel-load`: the live kernel's verdict, optionally compared
//! with btfcheck's.

use super::{load_input, Format, OutputArgs, EXIT_ERROR, EXIT_OK, EXIT_REJECTED};
use btfcheck::diag::{kernel_log, logbuf};
use btfcheck::oracle::{self, KernelVerdict};
use btfcheck::verify::struct_metas::KernelBtf;
use btfcheck::verify::{self, errno, Options};
use clap::Args;
use serde_json::json;
use std::io::Write;

#[derive(Args)]
pub struct KernelLoadArgs {
    /// Inputs: raw BTF, ELF objects with .BTF, or - for stdin.
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
    if let Err(e) = oracle::available() {
        eprintln!("btfcheck: {e}");
        return EXIT_ERROR;
    }
    let release = oracle::kernel_release();
    let level = args.out.log_level;
    let size = args.out.log_size.unwrap_or(oracle::DEFAULT_LOG_SIZE);
    let vmlinux = Some(KernelBtf::from_path(super::verify::VMLINUX));
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
    let opts = Options {
        profile,
        vmlinux: vmlinux.as_ref(),
        kaslr_offset: func_addr.kaslr_offset,
        kallsyms: func_addr.kallsyms.as_ref(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut bad, mut errors) = (false, false);
    for path in &args.files {
        let input = match load_input(path, args.out.raw) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("btfcheck: {e}");
                errors = true;
                continue;
            }
        };
        let k: KernelVerdict = match oracle::btf_load(input.btf(), level, if level == 0 { 0 } else { size }) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("btfcheck: {path}: {e}");
                errors = true;
                continue;
            }
        };
        let ours = args.compare.then(|| {
            let v = verify::verify(input.btf(), &opts);
            let req = logbuf::LogRequest {
                level,
                size: if level == 0 { 0 } else { size },
            };
            kernel_log::render_for(&v, req)
        });
        let agree = ours.as_ref().map(|o| o.errno == k.errno && o.text == k.log);
        bad |= match agree {
            Some(a) => !a,
            None => !k.accepted,
        };
        let res = match args.out.format {
            Format::Kernel => out.write_all(&k.log),
            Format::Json => {
                let mut obj = json!({
                    "file": path,
                    "kernel": release,
                    "accepted": k.accepted,
                    "errno": k.errno,
                    "errno_name": errno::name(k.errno),
                    "message": last_line(&k.log),
                    "log_true_size": k.true_size,
                });
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
                let mut s = format!("{path}: {verdict} by the live kernel ({release})\n");
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
    if errors {
        EXIT_ERROR
    } else if bad {
        EXIT_REJECTED
    } else {
        EXIT_OK
    }
}
