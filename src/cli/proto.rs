//! `btfcheck proto`: blobs for proposals, built from real data.

use super::{parse_hex_u64, EXIT_ERROR, EXIT_OK};
use btfcheck::kallsyms::Kallsyms;
use btfcheck::proto::{self, FuncAddrOptions};
use clap::{Args, Subcommand};

#[derive(Args)]
pub struct ProtoArgs {
    #[command(subcommand)]
    kind: ProtoKind,
}

#[derive(Subcommand)]
enum ProtoKind {
    /// vmlinux BTF plus one FUNC_ADDR record (func-addr, P4) per kallsyms
    /// text symbol that has a FUNC of that name, with a layout section
    /// (kind-layout); prints coverage statistics. Verify the result with
    /// `--profile linux-6.18+kind-layout+func-addr --kallsyms FILE`.
    FuncAddr(FuncAddrArgs),
}

#[derive(Args)]
struct FuncAddrArgs {
    /// Base BTF (raw or ELF with .BTF).
    #[arg(value_name = "VMLINUX", default_value = super::verify::VMLINUX)]
    vmlinux: String,
    /// Symbols in /proc/kallsyms format (read /proc/kallsyms as root: as a
    /// user every address reads 0).
    #[arg(long, value_name = "FILE")]
    kallsyms: String,
    /// Where to write the blob.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: String,
    /// Subtract this KASLR base (hex) from every address, so the blob holds
    /// link-time addresses; verify with the same --kaslr-offset.
    #[arg(long, value_name = "HEX", value_parser = parse_hex_u64)]
    kaslr_offset: Option<u64>,
    /// Also emit records for compiler clones (`foo.isra.0`, ...) with
    /// `foo`'s prototype.
    #[arg(long)]
    clones: bool,
    /// Traceable functions (available_filter_functions format) get flag
    /// bit 1; default: /sys/kernel/tracing/available_filter_functions when
    /// readable.
    #[arg(long, value_name = "FILE")]
    traceable: Option<String>,
}

const TRACEABLE: &str = "/sys/kernel/tracing/available_filter_functions";

pub fn run(args: ProtoArgs) -> i32 {
    match args.kind {
        ProtoKind::FuncAddr(a) => func_addr(a),
    }
}

fn func_addr(a: FuncAddrArgs) -> i32 {
    let fail = |m: String| {
        eprintln!("btfcheck: {m}");
        EXIT_ERROR
    };
    let base = match btfcheck::input::load(&a.vmlinux) {
        Ok(b) => b,
        Err(e) => return fail(e.to_string()),
    };
    let kallsyms = match std::fs::read_to_string(&a.kallsyms) {
        Ok(t) => match Kallsyms::parse(&t) {
            Ok(k) => k,
            Err(e) => return fail(format!("--kallsyms {}: {e}", a.kallsyms)),
        },
        Err(e) => return fail(format!("--kallsyms {}: {e}", a.kallsyms)),
    };
    let traceable_path = a.traceable.clone().or_else(|| {
        std::fs::File::open(TRACEABLE)
            .is_ok()
            .then(|| TRACEABLE.to_string())
    });
    let traceable = match &traceable_path {
        None => None,
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(proto::parse_traceable(&t)),
            Err(e) => return fail(format!("--traceable {p}: {e}")),
        },
    };
    let opts = FuncAddrOptions {
        kaslr_offset: a.kaslr_offset.unwrap_or(0),
        clones: a.clones,
        traceable,
    };
    let (blob, stats) = match proto::func_addr(base.btf(), &kallsyms, &opts) {
        Ok(r) => r,
        Err(e) => return fail(format!("{}: {e}", a.vmlinux)),
    };
    if let Err(e) = std::fs::write(&a.output, &blob) {
        return fail(format!("{}: {e}", a.output));
    }
    println!(
        "wrote {} ({} bytes) from {} and {}",
        a.output,
        blob.len(),
        a.vmlinux,
        a.kallsyms
    );
    match &traceable_path {
        Some(p) => println!("traceable flags from {p}"),
        None => println!("traceable flags: none (no --traceable, {TRACEABLE} not readable)"),
    }
    print!("{}", stats.report());
    let offset = a
        .kaslr_offset
        .map_or(String::new(), |o| format!(" --kaslr-offset 0x{o:x}"));
    println!(
        "check it: btfcheck verify --profile linux-6.18+kind-layout+func-addr --kallsyms {}{offset} {}",
        a.kallsyms, a.output
    );
    EXIT_OK
}
