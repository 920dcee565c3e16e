//! Command-line interface: argument parsing and the exit-code contract
//! (0 all accepted, 1 any rejected, 2 usage or I/O error).

mod compare;
#[cfg(feature = "arbitrary")]
mod fuzz_kernel;
mod kernel_load;
mod min_kernel;
mod proto;
mod text;
mod verify;

use btfcheck::profile::Profile;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit status: every input accepted (or every comparison agreed).
pub const EXIT_OK: i32 = 0;
/// Exit status: some input rejected (or some comparison disagreed).
pub const EXIT_REJECTED: i32 = 1;
/// Exit status: usage error, unreadable input, or the oracle unavailable.
pub const EXIT_ERROR: i32 = 2;

#[derive(Parser)]
#[command(
    name = "btfcheck",
    version,
    about = "A kernel-compatible BTF verifier that runs in userspace",
    long_about = "btfcheck runs the checks Linux's BTF verifier (kernel/bpf/btf.c) makes at \
BPF_BTF_LOAD, without a kernel: same verdict, same errno, and the same verifier log, \
byte for byte, plus what the kernel leaves out (type, rule, byte offset).\n\n\
Exit status: 0 all accepted, 1 any rejected, 2 usage or I/O error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify BTF blobs (raw BTF, ELF objects with .BTF, or - for stdin).
    Verify(verify::VerifyArgs),
    /// Load blobs into the running kernel with BPF_BTF_LOAD (needs root or
    /// CAP_BPF) and print its verdict; --compare also runs btfcheck.
    KernelLoad(kernel_load::KernelLoadArgs),
    /// Print BTF as text: bpftool's raw format or JSON, or --exact (lossless).
    Dump(text::DumpArgs),
    /// Assemble text (exact form or bpftool raw format) into a blob.
    Asm(text::AsmArgs),
    /// List the kernel profiles this build knows, oldest first, and how each
    /// was verified.
    Profiles,
    /// List the proposed rule changes that can be switched on with
    /// --feature NAME or PROFILE+NAME.
    Features,
    /// Verify every blob under two rule sets and list the blobs whose
    /// verdict or message changed, then "N blobs: A newly accepted,
    /// R newly rejected, M message changed".
    Compare(compare::CompareArgs),
    /// The oldest kernel profile that loads each blob, and for each older
    /// profile the first reason it does not (exit 1 when a blob loads
    /// nowhere, or, with --require P, not on P and every newer profile).
    MinKernel(min_kernel::MinKernelArgs),
    /// Build blobs for proposals from real data (`proto func-addr`).
    Proto(proto::ProtoArgs),
    /// Differential campaign: generate blobs (btf-smith valid and faulted,
    /// mutated corpus blobs), load each into the live kernel (or, with
    /// --qemu, a kernel booted under QEMU) and verify it with btfcheck;
    /// report every disagreement in verdict, errno or log.
    /// The last line is "N executed, D disagreements"; exit 1 when D > 0.
    #[cfg(feature = "arbitrary")]
    FuzzKernel(fuzz_kernel::FuzzKernelArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Verdict and diagnostic for people.
    Human,
    /// Exactly the bytes the kernel puts in its log buffer.
    Kernel,
    /// One JSON object per input, one per line.
    Json,
}

/// Options shared by every command that produces a verdict.
#[derive(Args, Clone, Debug)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Log level for --format kernel (0 = no log; 1-15 all print the same).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub log_level: u32,
    /// Emulate a log buffer of this many bytes: the kernel keeps the tail
    /// (the head when the level has BPF_LOG_FIXED, value 8) and returns ENOSPC when the
    /// log did not fit.
    #[arg(long, value_name = "BYTES")]
    pub log_size: Option<u32>,
    /// Treat inputs as raw BTF even if they do not start with the BTF magic.
    #[arg(long)]
    pub raw: bool,
}

/// How many threads btfcheck's own verification of each file may use.
#[derive(Args, Clone, Copy, Debug)]
pub struct ThreadsArgs {
    /// Threads per file: auto (two for blobs of 256 KiB or more, given two
    /// CPUs), 1 or 2.
    /// The result never depends on it; use 1 when running many btfcheck
    /// processes at once.
    #[arg(long, value_name = "N", default_value = "auto")]
    pub threads: btfcheck::verify::Threads,
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Verify(args) => verify::run(args),
        Command::KernelLoad(args) => kernel_load::run(args),
        Command::Dump(args) => text::dump(args),
        Command::Asm(args) => text::asm(args),
        #[cfg(feature = "arbitrary")]
        Command::FuzzKernel(args) => fuzz_kernel::run(args),
        Command::Features => {
            for f in btfcheck::profile::PROPOSALS {
                println!("{:<24} {}", f.name, f.source);
                println!(
                    "{:<24} {}",
                    "",
                    f.summary.split_whitespace().collect::<Vec<_>>().join(" ")
                );
            }
            EXIT_OK
        }
        Command::Compare(args) => compare::run(args),
        Command::Proto(args) => proto::run(args),
        Command::MinKernel(args) => min_kernel::run(args),
        Command::Profiles => {
            use btfcheck::profile::Provenance;
            for p in Profile::ALL {
                let how = match p.provenance {
                    Provenance::LiveKernel => {
                        "verified: live kernel (Linux 6.18.44), 1,648 conformance cases".to_string()
                    }
                    Provenance::Booted { package } => format!(
                        "verified: Debian {package} under QEMU: conformance suite + 5,000 generated blobs (tests/oldkernel)"
                    ),
                    Provenance::FromSource => "from source (no bootable kernel; see docs/profiles.md)".to_string(),
                    Provenance::FromCommit => {
                        "from the merged commit's description (no source read; see docs/profiles.md)".to_string()
                    }
                };
                println!("{:<11} {how}", p.name);
            }
            EXIT_OK
        }
    }
}

/// The rule set a command verifies with: a kernel profile plus proposed
/// features.
#[derive(Args, Clone, Debug)]
pub struct RulesArgs {
    /// Rule set: a kernel profile, optionally with proposed features
    /// (`linux-6.18+extern-func+extern-var`; see `btfcheck profiles` and
    /// `btfcheck features`).
    #[arg(long, default_value = "linux-6.18", value_name = "RULES")]
    pub profile: String,
    /// Proposed features to switch on, comma-separated (same as `+NAME` on
    /// --profile).
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
    pub feature: Vec<String>,
    /// func-addr: add this base (hex, e.g. 0x1e000000) to every FUNC_ADDR
    /// address before it is checked, as the kernel relocates at boot.
    #[arg(long, value_name = "HEX", value_parser = parse_hex_u64)]
    pub kaslr_offset: Option<u64>,
    /// func-addr: confirm every FUNC_ADDR (name, relocated address) against
    /// the text symbols of a kallsyms-format file (e.g. /proc/kallsyms, as
    /// root).
    #[arg(long, value_name = "FILE")]
    pub kallsyms: Option<String>,
}

/// A hexadecimal u64, with or without `0x`.
pub fn parse_hex_u64(s: &str) -> Result<u64, String> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    u64::from_str_radix(digits, 16).map_err(|e| format!("'{s}' is not a 64-bit hex number: {e}"))
}

/// What func-addr checks consult beyond the blob.
#[derive(Default)]
pub struct FuncAddrInputs {
    pub kaslr_offset: u64,
    pub kallsyms: Option<btfcheck::kallsyms::Kallsyms>,
}

impl RulesArgs {
    pub fn profile(&self) -> Result<Profile, String> {
        let mut p = Profile::parse_rules(&self.profile)?;
        for f in &self.feature {
            p = p.with_feature(f)?;
        }
        Ok(p)
    }

    /// `--kaslr-offset` and `--kallsyms`, which only the func-addr feature
    /// reads (asking for them without it is a usage error, not a no-op).
    pub fn func_addr_inputs(&self, profile: &Profile) -> Result<FuncAddrInputs, String> {
        FuncAddrInputs::load(
            self.kaslr_offset,
            self.kallsyms.as_deref(),
            profile.has(btfcheck::profile::Features::FUNC_ADDR),
        )
    }
}

impl FuncAddrInputs {
    /// The inputs asked for; `read_by_rules` says whether any rule set in
    /// use has the func-addr feature, without which they are refused.
    pub fn load(
        kaslr_offset: Option<u64>,
        kallsyms: Option<&str>,
        read_by_rules: bool,
    ) -> Result<FuncAddrInputs, String> {
        if (kaslr_offset.is_some() || kallsyms.is_some()) && !read_by_rules {
            return Err(
                "--kaslr-offset and --kallsyms check FUNC_ADDR records: add the func-addr \
                        feature (--feature func-addr)"
                    .to_string(),
            );
        }
        let kallsyms = match kallsyms {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("--kallsyms {path}: {e}"))?;
                Some(
                    btfcheck::kallsyms::Kallsyms::parse(&text)
                        .map_err(|e| format!("--kallsyms {path}: {e}"))?,
                )
            }
        };
        Ok(FuncAddrInputs {
            kaslr_offset: kaslr_offset.unwrap_or(0),
            kallsyms,
        })
    }
}

/// Loads an input, honouring `--raw`.
pub fn load_input(path: &str, raw: bool) -> Result<btfcheck::input::Input, btfcheck::input::InputError> {
    if raw {
        let bytes = btfcheck::input::read_input(path)?;
        let len = bytes.len();
        return Ok(btfcheck::input::Input {
            path: path.to_string(),
            bytes,
            container: btfcheck::input::Container::Raw,
            range: 0..len,
        });
    }
    btfcheck::input::load(path)
}
