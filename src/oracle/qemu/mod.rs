//! A real kernel booted under QEMU as the oracle (`kernel-load --qemu`).
//!
//! Every blob of a run travels in one initramfs whose `/init` (the static C
//! program in `loader.c`) makes `BPF_BTF_LOAD` on each with the blob's own
//! log level and buffer size, and streams the answers out through QEMU's
//! debugcon port. One boot serves the whole list; a blob that crashes or
//! hangs the guest is reported as such and the next boot resumes after it.
//!
//! ```text
//! kernel (.deb / bzImage / vmlinux) ─► image: vmlinux for a PVH boot (cached)
//! loader.c ─► guest: static /init (cached)        blobs ─► proto: /jobs.bin
//!                              └──► cpio: initramfs ◄──┘
//! machine: qemu-system-x86_64 ─► debugcon ─► ringbuf ─► QMP ─► proto::decode
//! ```
//!
//! Nothing here needs `unsafe`; the guest does the syscalls.
#![forbid(unsafe_code)]

pub mod cpio;
pub mod guest;
pub mod image;
mod machine;
pub mod proto;
pub mod unpack;

pub use image::{BootMode, Image, Package};
pub use proto::Job;

use super::KernelVerdict;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum QemuError {
    #[error("{0}")]
    NoQemu(String),
    #[error(
        "cannot build the guest loader with a static C compiler (Debian: apt-get install gcc libc6-dev; \
         zlib1g-dev for compressed output):\n{0}"
    )]
    Compiler(String),
    #[error("kernel image {0}")]
    Image(String),
    #[error("{0}")]
    Io(String),
    #[error("QEMU: {0}")]
    Qemu(String),
    #[error("the guest never reported (wrong kernel, missing CONFIG_BPF_SYSCALL / CONFIG_X86_IOPL_IOPERM / initrd support?); console:\n{console}")]
    NoOutput { console: String },
    #[error("the guest stopped without progress after blob {after}; console:\n{console}")]
    NoProgress { after: usize, console: String },
    #[error("{0}")]
    Jobs(String),
}

/// How to run QEMU.
#[derive(Clone, Debug)]
pub struct Options {
    /// The QEMU binary (`$BTFCHECK_QEMU`, else `qemu-system-x86_64`).
    pub qemu: String,
    /// Guest memory; `None` sizes it from the blobs (1 GiB at least).
    pub mem_mib: Option<u32>,
    /// Longest wait for the guest's first output.
    pub boot_timeout: Duration,
    /// Longest silence while loading one blob before the guest counts as hung.
    pub blob_timeout: Duration,
    /// Extra kernel command line (a patched kernel's switches).
    pub append: String,
    /// Test hook for the recovery path: `crash:N` or `hang:N` makes the
    /// guest die or stall at blob N.
    pub fault: Option<String>,
    /// Where extracted kernels and the built loader are kept.
    pub cache: PathBuf,
    /// Use KVM; `None`: when `/dev/kvm` is usable.
    pub kvm: Option<bool>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            qemu: std::env::var("BTFCHECK_QEMU").unwrap_or_else(|_| "qemu-system-x86_64".into()),
            mem_mib: None,
            boot_timeout: Duration::from_secs(120),
            blob_timeout: Duration::from_secs(120),
            append: String::new(),
            fault: None,
            cache: cache_dir(),
            kvm: None,
        }
    }
}

/// `$BTFCHECK_CACHE`, else `$XDG_CACHE_HOME/btfcheck`, else
/// `~/.cache/btfcheck`, else a directory under the system's temp dir.
pub fn cache_dir() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(p) = env("BTFCHECK_CACHE") {
        return p;
    }
    if let Some(p) = env("XDG_CACHE_HOME") {
        return p.join("btfcheck");
    }
    if let Some(p) = env("HOME") {
        return p.join(".cache/btfcheck");
    }
    std::env::temp_dir().join("btfcheck-cache")
}

/// What became of one blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The kernel answered; `usec` is the guest's time in the syscall.
    Loaded { verdict: KernelVerdict, usec: u32 },
    /// The guest died (`hung`: went silent and was killed) while loading it.
    Crashed { hung: bool, console: String },
}

/// One boot of a run.
#[derive(Clone, Debug)]
pub struct BootStat {
    /// The first blob of this boot.
    pub first: usize,
    pub results: usize,
    /// Launch to the guest's first output (kernel boot plus init start).
    pub first_output: Option<Duration>,
    pub wall: Duration,
    pub hung: bool,
    pub finished: bool,
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct Run {
    /// `uname -r`, `uname -v`, `uname -m` of the guest.
    pub release: String,
    pub version: String,
    pub machine: String,
    pub outcomes: Vec<Outcome>,
    pub boots: Vec<BootStat>,
    pub image: Image,
    pub kvm: bool,
    /// Problems the guest reported (unreadable job list, ...).
    pub warnings: Vec<String>,
}

impl Run {
    /// Whether the guest kernel has `btf_log_true_size` (Linux 6.4+); before
    /// it, the field reads back as 0 and means nothing.
    pub fn has_true_size(&self) -> bool {
        release_at_least(&self.release, 6, 4)
    }

    /// Wall time of all boots.
    pub fn wall(&self) -> Duration {
        self.boots.iter().map(|b| b.wall).sum()
    }

    /// One line for the user: kernel, boot, speed.
    pub fn summary(&self) -> String {
        let loaded: Vec<u32> = self
            .outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Loaded { usec, .. } => Some(*usec),
                Outcome::Crashed { .. } => None,
            })
            .collect();
        let crashed = self.outcomes.len() - loaded.len();
        let first = self.boots.first().and_then(|b| b.first_output);
        let pkg = self
            .image
            .package
            .as_ref()
            .map(|p| format!(" ({} {})", p.name, p.version))
            .unwrap_or_default();
        format!(
            "qemu: Linux {}{pkg}, {} boot under {}: guest up in {}; {} blobs in {} boot(s), {:.2} s wall, {:.1} ms of syscalls{}",
            self.release,
            match self.image.mode {
                BootMode::Pvh => "PVH",
                BootMode::BzImage => "bzImage",
            },
            if self.kvm { "KVM" } else { "TCG" },
            first.map_or("?".into(), |d| format!("{:.2} s", d.as_secs_f64())),
            self.outcomes.len(),
            self.boots.len(),
            self.wall().as_secs_f64(),
            loaded.iter().map(|&u| u as f64).sum::<f64>() / 1000.0,
            if crashed > 0 {
                format!(", {crashed} crashed or hung the guest")
            } else {
                String::new()
            }
        )
    }
}

/// Whether a `uname -r` string is at least `major.minor`.
pub fn release_at_least(release: &str, major: u32, minor: u32) -> bool {
    let mut it = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|s| s.parse::<u32>().ok());
    match (it.next().flatten(), it.next().flatten()) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        _ => false,
    }
}

/// FNV-1a 64, for cache keys.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn kvm_usable() -> bool {
    let dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    dev && cpu
        .lines()
        .any(|l| l.starts_with("flags") && l.split_whitespace().any(|f| f == "vmx" || f == "svm"))
}

/// A scratch directory removed when dropped.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new() -> Result<WorkDir, QemuError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let p = std::env::temp_dir().join(format!("btfcheck-qemu-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).map_err(|e| QemuError::Io(format!("{}: {e}", p.display())))?;
        Ok(WorkDir(p))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the initramfs: `/init`, `/jobs.bin` and the mount points.
fn write_initrd(path: &Path, init: &[u8], jobs: &[u8]) -> std::io::Result<u64> {
    let f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut w = cpio::Newc::new(f);
    for d in ["dev", "proc", "sys"] {
        w.dir(d, 0o755)?;
    }
    w.char_dev("dev/console", 0o600, 5, 1)?;
    w.file("init", 0o755, init)?;
    w.file("jobs.bin", 0o644, jobs)?;
    Ok(w.finish()?.1)
}

/// The part of the guest console that explains a crash: from the first
/// oops or panic marker of its last 64 KiB (else its tail), 2,000 bytes.
pub fn console_excerpt(console: &[u8]) -> String {
    const MARKERS: [&[u8]; 7] = [
        b"BUG:",
        b"Oops",
        b"general protection",
        b"Kernel panic",
        b"WARNING:",
        b"watchdog:",
        b"INFO: task",
    ];
    let tail = &console[console.len().saturating_sub(64 << 10)..];
    let start = MARKERS.iter().filter_map(|m| memchr::memmem::find(tail, m)).min();
    let part = match start {
        Some(s) => &tail[s..tail.len().min(s + 2000)],
        None => &tail[tail.len().saturating_sub(2000)..],
    };
    let text = String::from_utf8_lossy(part).replace("\r\n", "\n");
    match text.trim() {
        "" => "(nothing on the guest console)".into(),
        t => t.to_string(),
    }
}

/// Where a boot that did not finish its list leaves the run.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// This blob was being loaded when the guest died: it is the culprit.
    Blame(usize),
    /// The guest died between blobs: go on from this one.
    Resume(usize),
    /// Nothing was loaded: booting again would do the same.
    Stuck,
}

/// Decides, after a boot from blob `first` that ended without finishing:
/// `last_begun` is the last blob the guest announced, `last_result` the
/// highest blob with an answer, `answered` says whether a blob has one.
fn after_unfinished(
    first: usize,
    last_begun: Option<u32>,
    last_result: Option<usize>,
    answered: impl Fn(usize) -> bool,
) -> Next {
    if let Some(b) = last_begun.map(|b| b as usize) {
        if b >= first && !answered(b) {
            return Next::Blame(b);
        }
    }
    match last_result {
        Some(l) if l >= first => Next::Resume(l + 1),
        _ => Next::Stuck,
    }
}

/// Boots `kernel` and loads every job, in one boot unless a blob takes the
/// guest down. `progress` hears about each boot.
pub fn run(
    kernel: &Path,
    jobs: &[Job<'_>],
    opts: &Options,
    progress: &mut dyn FnMut(&str),
) -> Result<Run, QemuError> {
    if jobs.is_empty() {
        return Err(QemuError::Jobs("no blobs to load".into()));
    }
    let image = image::prepare(kernel, &opts.cache)?;
    for n in &image.notes {
        progress(n);
    }
    let loader = guest::loader(&opts.cache)?;
    if !loader.zlib {
        progress("the guest loader was built without zlib (no static libz): answers travel uncompressed");
    }
    let init =
        std::fs::read(&loader.path).map_err(|e| QemuError::Io(format!("{}: {e}", loader.path.display())))?;
    let work = WorkDir::new()?;
    let jobs_bin = proto::encode_jobs(jobs).map_err(QemuError::Jobs)?;
    let initrd = work.0.join("initrd.cpio");
    let initrd_len =
        write_initrd(&initrd, &init, &jobs_bin).map_err(|e| QemuError::Io(format!("initramfs: {e}")))?;
    drop(jobs_bin);
    // The initramfs is held twice while the kernel unpacks it; each load
    // maps its log buffer and holds its blob once more.
    let mib = |b: u64| (b >> 20) as u32 + 1;
    let biggest = jobs
        .iter()
        .map(|j| mib(j.blob.len() as u64) + mib(j.log_size as u64))
        .max()
        .unwrap_or(0);
    let mem = opts
        .mem_mib
        .unwrap_or_else(|| (2 * mib(initrd_len) + 2 * biggest + 512).max(1024));
    let kvm = opts.kvm.unwrap_or_else(kvm_usable);
    let console = work.0.join("console");
    let mut outcomes: Vec<Option<Outcome>> = vec![None; jobs.len()];
    let mut boots = Vec::new();
    let mut warnings = Vec::new();
    let mut uname = None;
    let mut first = 0usize;
    while first < jobs.len() {
        let mut append = format!("bq_first={first}");
        if let Some(f) = &opts.fault {
            append.push_str(&format!(" bq_fault={f}"));
        }
        if !opts.append.is_empty() {
            append.push(' ');
            append.push_str(&opts.append);
        }
        let started = Instant::now();
        let booted = machine::boot(&machine::Boot {
            qemu: &opts.qemu,
            kernel: &image.boot,
            initrd: &initrd,
            append: &append,
            mem_mib: mem,
            kvm,
            boot_timeout: opts.boot_timeout,
            quiet_timeout: opts.blob_timeout,
            console: &console,
            workdir: &work.0,
        })?;
        let report = proto::decode(&booted.output);
        let console_text = std::fs::read(&console).unwrap_or_default();
        if uname.is_none() {
            uname = report.uname.clone();
        }
        warnings.extend(report.warnings.iter().cloned());
        let mut last_result = None;
        for (&i, r) in &report.results {
            let i = i as usize;
            if let Some(slot) = outcomes.get_mut(i) {
                *slot = Some(Outcome::Loaded {
                    verdict: KernelVerdict {
                        accepted: r.ret >= 0,
                        errno: r.errno,
                        log: r.log.clone(),
                        true_size: r.true_size,
                    },
                    usec: r.usec,
                });
                last_result = Some(i);
            }
        }
        boots.push(BootStat {
            first,
            results: report.results.len(),
            first_output: booted.first_output,
            wall: booted.wall,
            hung: booted.hung,
            finished: report.finished.is_some(),
        });
        progress(&format!(
            "boot {}: from blob {first}, {} results in {:.2} s{}",
            boots.len(),
            report.results.len(),
            started.elapsed().as_secs_f64(),
            if booted.hung {
                " (silent too long: killed)"
            } else if report.finished.is_none() {
                " (the guest died)"
            } else {
                ""
            }
        ));
        if report.finished.is_some() {
            break;
        }
        if report.uname.is_none() {
            let mut console = console_excerpt(&console_text);
            if let Some(t) = &report.torn {
                console.push_str(&format!("\n(guest output: {t})"));
            }
            if !booted.qemu_log.trim().is_empty() {
                console.push_str(&format!("\nQEMU: {}", booted.qemu_log.trim()));
            }
            return Err(QemuError::NoOutput { console });
        }
        match after_unfinished(first, report.last_begun, last_result, |b| {
            outcomes.get(b).is_some_and(Option::is_some)
        }) {
            Next::Blame(b) => {
                progress(&format!(
                    "blob {b} {} the guest; resuming after it",
                    if booted.hung { "hung" } else { "crashed" }
                ));
                outcomes[b] = Some(Outcome::Crashed {
                    hung: booted.hung,
                    console: console_excerpt(&console_text),
                });
                first = b + 1;
            }
            Next::Resume(next) => first = next,
            Next::Stuck => {
                return Err(QemuError::NoProgress {
                    after: first,
                    console: console_excerpt(&console_text),
                })
            }
        }
    }
    let (release, version, machine) = uname.unwrap_or_default();
    let mut missing = Vec::new();
    let outcomes = outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            o.unwrap_or_else(|| {
                missing.push(i);
                Outcome::Crashed {
                    hung: false,
                    console: "no answer for this blob although the guest finished its list".into(),
                }
            })
        })
        .collect();
    if !missing.is_empty() {
        warnings.push(format!("no answer for blobs {missing:?}"));
    }
    Ok(Run {
        release,
        version,
        machine,
        outcomes,
        boots,
        image,
        kvm,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_after_the_blob_that_killed_the_guest() {
        let answered = |upto: usize| move |b: usize| b < upto;
        // Announced blob 7, no answer for it: blame it, go on at 8.
        assert_eq!(after_unfinished(0, Some(7), Some(6), answered(7)), Next::Blame(7));
        // A resumed boot that dies on its first blob.
        assert_eq!(after_unfinished(8, Some(8), None, answered(8)), Next::Blame(8));
        // Died after answering 7 but before announcing 8.
        assert_eq!(
            after_unfinished(0, Some(7), Some(7), answered(8)),
            Next::Resume(8)
        );
        // An announcement from before this boot's start means nothing.
        assert_eq!(after_unfinished(8, Some(3), None, answered(8)), Next::Stuck);
        assert_eq!(after_unfinished(0, None, None, answered(0)), Next::Stuck);
    }

    #[test]
    fn release_comparison() {
        assert!(release_at_least("6.12.107+deb13-amd64", 6, 4));
        assert!(release_at_least("6.4.0", 6, 4));
        assert!(!release_at_least("6.1.0-56-amd64", 6, 4));
        assert!(!release_at_least("5.10.0-46-amd64", 6, 4));
        assert!(release_at_least("7.0-rc1", 6, 4));
        assert!(!release_at_least("", 6, 4));
    }

    #[test]
    fn console_excerpt_starts_at_the_oops() {
        let mut c = b"[    0.1] booting\r\n".repeat(50);
        c.extend(b"[    1.2] BUG: kernel NULL pointer dereference\r\n[    1.3] RIP: btf_parse\r\n");
        let e = console_excerpt(&c);
        assert!(e.starts_with("BUG: kernel NULL pointer"), "{e}");
        assert!(e.contains("RIP: btf_parse") && !e.contains('\r'));
        let quiet = b"line\n".repeat(1000);
        assert!(console_excerpt(&quiet).len() <= 2000);
    }

    #[test]
    fn initramfs_holds_init_and_jobs() {
        let dir = WorkDir::new().unwrap();
        let p = dir.0.join("i.cpio");
        let jobs = proto::encode_jobs(&[Job {
            blob: b"x",
            log_level: 1,
            log_size: 4096,
        }])
        .unwrap();
        let n = write_initrd(&p, b"\x7fELF", &jobs).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes.len() as u64, n);
        let find = |s: &[u8]| memchr::memmem::find(&bytes, s).is_some();
        assert!(find(b"dev/console\0") && find(b"init\0\0\x7fELF") && find(b"jobs.bin\0"));
        assert!(find(b"TRAILER!!!\0"));
    }
}
