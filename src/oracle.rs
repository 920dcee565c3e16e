//! The live kernel as oracle: `bpf(BPF_BTF_LOAD)` on the running kernel.
//!
//! This is the only module with `unsafe`: one `syscall(2)` with a
//! `union bpf_attr` that points at our own buffers, a `close(2)` of the
//! fd it returns, and [`KernelBtfMap`], an `mmap(2)` of the kernel's own
//! BTF files for fast reading.
#![allow(unsafe_code)]

pub mod qemu;

use thiserror::Error;

/// `BPF_BTF_LOAD`.
const BPF_BTF_LOAD: i64 = 18;

/// What the kernel said about one blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelVerdict {
    pub accepted: bool,
    /// 0 when accepted.
    pub errno: i32,
    /// The log buffer's contents, up to its NUL.
    pub log: Vec<u8>,
    /// `btf_log_true_size` as written back.
    pub true_size: u32,
}

#[derive(Debug, Error)]
pub enum OracleError {
    #[error("the kernel oracle needs Linux (this is {0})")]
    NotLinux(&'static str),
    #[error("bpf(BPF_BTF_LOAD) is not permitted here (EPERM): run as root or with CAP_BPF")]
    NotPermitted,
    #[error("the bpf() syscall is not available (ENOSYS)")]
    NoSyscall,
    #[error("blob too large for the syscall ({0} bytes)")]
    TooLarge(usize),
}

/// The BTF fields of `union bpf_attr`, in uapi order.
#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    btf_log_true_size: u32,
    btf_flags: u32,
    btf_token_fd: u32,
}

/// Default log buffer: 64 MiB holds the level-1 log of any blob up to the
/// 16 MiB size limit made of ordinary types (vmlinux needs about 10 MiB).
pub const DEFAULT_LOG_SIZE: u32 = 64 << 20;

/// Loads `blob` with the given log level and buffer size (0 = no buffer).
#[cfg(target_os = "linux")]
pub fn btf_load(blob: &[u8], log_level: u32, log_size: u32) -> Result<KernelVerdict, OracleError> {
    let size = u32::try_from(blob.len()).map_err(|_| OracleError::TooLarge(blob.len()))?;
    let mut log = vec![0u8; log_size as usize];
    let mut attr = BtfLoadAttr {
        btf: blob.as_ptr() as u64,
        btf_size: size,
        btf_log_buf: if log_size > 0 { log.as_mut_ptr() as u64 } else { 0 },
        btf_log_size: log_size,
        btf_log_level: log_level,
        ..Default::default()
    };
    // SAFETY: `attr` is a properly laid out prefix of `union bpf_attr`; the
    // kernel reads `blob` (btf_size bytes) and writes at most `log_size`
    // bytes into `log` and 4 bytes into `attr`, all of which live until the
    // call returns.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_BTF_LOAD,
            &mut attr as *mut BtfLoadAttr,
            std::mem::size_of::<BtfLoadAttr>() as u32,
        )
    };
    let errno = if ret < 0 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    } else {
        // SAFETY: a non-negative return is a new file descriptor we own.
        unsafe {
            libc::close(ret as i32);
        }
        0
    };
    match errno {
        libc::EPERM => return Err(OracleError::NotPermitted),
        libc::ENOSYS => return Err(OracleError::NoSyscall),
        _ => {}
    }
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    log.truncate(end);
    Ok(KernelVerdict {
        accepted: ret >= 0,
        errno,
        log,
        true_size: attr.btf_log_true_size,
    })
}

#[cfg(not(target_os = "linux"))]
pub fn btf_load(_blob: &[u8], _log_level: u32, _log_size: u32) -> Result<KernelVerdict, OracleError> {
    Err(OracleError::NotLinux(std::env::consts::OS))
}

/// Whether the live kernel can be asked at all; `Err` says why not.
pub fn available() -> Result<(), OracleError> {
    let mut b = crate::builder::BtfBuilder::new();
    b.int("int", 4, 32, crate::builder::INT_SIGNED);
    btf_load(&b.build(), 0, 0).map(|_| ())
}

/// `uname -r` of the running kernel, for provenance notes.
pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// A read-only, private mapping of one of the kernel's BTF files
/// (`/sys/kernel/btf/*`), which Linux 6.16 and later let userspace `mmap`.
/// Reading those files goes 4 KiB per `read(2)` (1,350 calls and a 5.5 MB
/// copy for vmlinux); the mapping shares the kernel's pages instead.
///
/// Only for those files: their contents never change while the kernel
/// runs, so the mapped bytes can be lent out as an ordinary `&[u8]`. (A
/// regular file could be truncated or rewritten under the mapping.)
pub struct KernelBtfMap {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is read-only and its pages never change, so sharing
// or moving it across threads is like sharing a `&[u8]`.
unsafe impl Send for KernelBtfMap {}
unsafe impl Sync for KernelBtfMap {}

impl KernelBtfMap {
    /// Maps the first `len` bytes of `file` (which must be a kernel BTF
    /// file, see above). `Err` when the kernel does not support it (before
    /// 6.16, or off Linux); callers fall back to `read(2)`.
    #[cfg(target_os = "linux")]
    pub fn map(file: &std::fs::File, len: usize) -> std::io::Result<KernelBtfMap> {
        use std::os::fd::AsRawFd;
        if len == 0 {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        // SAFETY: a fresh private read-only mapping of an open fd; the
        // kernel picks the address, and nothing else aliases it.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let ptr = std::ptr::NonNull::new(ptr.cast::<u8>()).ok_or(std::io::ErrorKind::Other)?;
        Ok(KernelBtfMap { ptr, len })
    }

    #[cfg(not(target_os = "linux"))]
    pub fn map(_file: &std::fs::File, _len: usize) -> std::io::Result<KernelBtfMap> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

impl std::ops::Deref for KernelBtfMap {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` readable bytes live at `ptr` until `drop` unmaps
        // them, and they never change (see the type's documentation).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for KernelBtfMap {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping `map` made; no borrow of it
        // outlives `self`.
        #[cfg(target_os = "linux")]
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

impl std::fmt::Debug for KernelBtfMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KernelBtfMap({} bytes)", self.len)
    }
}
