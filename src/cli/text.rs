//! `btfcheck dump` and `btfcheck asm`: BTF as text, both ways.

use super::{load_input, EXIT_ERROR, EXIT_OK};
use btfcheck::{dump, text};
use clap::{Args, ValueEnum};
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DumpFormat {
    /// bpftool's raw format (`bpftool btf dump file F format raw`).
    Raw,
    /// bpftool's JSON (`bpftool -j btf dump file F`).
    Json,
}

#[derive(Args)]
pub struct DumpArgs {
    /// Inputs: raw BTF, ELF objects with .BTF, or - for stdin.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<String>,
    /// Output format (ignored with --exact).
    #[arg(long, value_enum, default_value = "raw")]
    format: DumpFormat,
    /// Pretty-printed JSON (bpftool -p).
    #[arg(long)]
    pretty: bool,
    /// Lossless text of any blob, valid or not, that `btfcheck asm` turns
    /// back into the same bytes (see docs/text-format.md).
    #[arg(long)]
    exact: bool,
    /// Base BTF for split BTF (module BTF); default: vmlinux for
    /// /sys/kernel/btf/<module>.
    #[arg(long, value_name = "FILE")]
    base: Option<String>,
    /// Treat inputs as raw BTF even without the BTF magic.
    #[arg(long)]
    raw: bool,
    /// With --exact: also decode the kinds these proposed features add
    /// (`func-addr`: FUNC_ADDR records), instead of leaving them raw words.
    #[arg(
        long,
        value_name = "NAME[,NAME...]",
        value_delimiter = ',',
        requires = "exact"
    )]
    feature: Vec<String>,
}

pub fn dump(args: DumpArgs) -> i32 {
    if args.pretty && args.format != DumpFormat::Json {
        eprintln!("btfcheck: --pretty goes with --format json");
        return EXIT_ERROR;
    }
    if args.exact && (args.pretty || args.base.is_some() || args.format != DumpFormat::Raw) {
        eprintln!("btfcheck: --exact takes no --format, --pretty or --base (it writes the blob as it is)");
        return EXIT_ERROR;
    }
    let mut rules = btfcheck::Profile::LINUX_6_18;
    for f in &args.feature {
        match rules.with_feature(f) {
            Ok(r) => rules = r,
            Err(e) => {
                eprintln!("btfcheck: {e}");
                return EXIT_ERROR;
            }
        }
    }
    let shapes = rules.shapes();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut status = EXIT_OK;
    for path in &args.files {
        // --exact writes any bytes: a file that is neither BTF nor ELF is
        // taken as it is.
        let loaded = match load_input(path, args.raw) {
            Err(btfcheck::input::InputError::NotBtf { .. }) if args.exact => load_input(path, true),
            other => other,
        };
        let input = match loaded {
            Ok(i) => i,
            Err(e) => {
                eprintln!("btfcheck: {e}");
                status = EXIT_ERROR;
                continue;
            }
        };
        if args.exact {
            if out
                .write_all(text::write_exact_in(input.btf(), &shapes).as_bytes())
                .is_err()
            {
                return EXIT_ERROR;
            }
            continue;
        }
        let base_path = args
            .base
            .clone()
            .or_else(|| dump::implied_base(path).map(str::to_string));
        let base = match base_path.as_deref().map(btfcheck::input::load) {
            None => None,
            Some(Ok(b)) => Some(b),
            Some(Err(e)) => {
                eprintln!("btfcheck: --base: {e}");
                return EXIT_ERROR;
            }
        };
        let format = match (args.format, args.pretty) {
            (DumpFormat::Raw, _) => dump::Format::Raw,
            (DumpFormat::Json, false) => dump::Format::Json,
            (DumpFormat::Json, true) => dump::Format::JsonPretty,
        };
        // Streamed: a hostile blob can ask for far more text than memory.
        match dump::write(&mut out, input.btf(), base.as_ref().map(|b| b.btf()), format) {
            Ok(()) => {}
            Err(dump::WriteError::Io(_)) => return EXIT_ERROR,
            Err(dump::WriteError::Dump(e)) => {
                let _ = out.flush();
                eprintln!("btfcheck: {path}: cannot dump: {e} (try --exact, which writes any blob)");
                status = EXIT_ERROR;
            }
        }
    }
    let _ = out.flush();
    status
}

#[derive(Args)]
pub struct AsmArgs {
    /// Text to assemble (exact form or bpftool raw format), or - for stdin.
    #[arg(value_name = "FILE")]
    file: String,
    /// Where to write the blob (- for stdout).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: String,
}

pub fn asm(args: AsmArgs) -> i32 {
    let bytes = match btfcheck::input::read_path(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("btfcheck: {e}");
            return EXIT_ERROR;
        }
    };
    let Ok(source) = String::from_utf8(bytes) else {
        eprintln!(
            "btfcheck: {}: not UTF-8 text (non-ASCII bytes are written \\xNN inside quotes)",
            args.file
        );
        return EXIT_ERROR;
    };
    let blob = match text::assemble(&source) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("btfcheck: {}:{}:{}: {}", args.file, e.line, e.column, e.message);
            return EXIT_ERROR;
        }
    };
    let written = if args.output == "-" {
        std::io::stdout().write_all(&blob)
    } else {
        std::fs::write(&args.output, &blob)
    };
    match written {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("btfcheck: {}: {e}", args.output);
            EXIT_ERROR
        }
    }
}
