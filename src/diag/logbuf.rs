//! The user log buffer of `BPF_BTF_LOAD`. Since 6.4 (kernel/bpf/log.c):
//! rotating by default (the tail survives), `BPF_LOG_FIXED` keeps the head,
//! and a log that did not fit turns the result into ENOSPC. Before 6.4: the
//! head is kept, a buffer needs at least 128 bytes, there is no size query
//! or `log_true_size`, and ENOSPC replaces only a success.

use crate::verify::errno;

/// `BPF_LOG_FIXED`.
pub const LOG_FIXED: u32 = 8;
/// The largest log buffer the kernel takes (`UINT_MAX >> 2`).
pub const MAX_LOG_SIZE: u32 = u32::MAX >> 2;

/// How the caller asked for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogRequest {
    pub level: u32,
    /// Buffer size in bytes; 0 with a non-zero level is a size query.
    pub size: u32,
}

/// What the caller gets back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogOutcome {
    /// The buffer's text, without its terminating NUL.
    pub text: Vec<u8>,
    /// `btf_log_true_size`: bytes the whole log needs, NUL included.
    pub true_size: u32,
    /// The errno after finalisation (ENOSPC replaces the verdict on overflow).
    pub errno: i32,
}

/// The buffer of kernels before 6.4: the head of the log, at most
/// `size - 1` bytes; a log that reaches `size - 1` bytes turns an accepted
/// load into ENOSPC, while a rejection keeps its errno.
pub fn finalize_kept_legacy(kept: Vec<u8>, total: u64, req: LogRequest, verdict_errno: i32) -> LogOutcome {
    if req.level == 0 {
        return LogOutcome {
            text: Vec::new(),
            true_size: 0,
            errno: verdict_errno,
        };
    }
    let full = total >= (req.size as u64).saturating_sub(1);
    LogOutcome {
        text: kept,
        true_size: 0,
        errno: if verdict_errno == 0 && full {
            errno::ENOSPC
        } else {
            verdict_errno
        },
    }
}

/// The attribute checks of kernels before 6.4 (5.10.y and later stable
/// branches): a buffer of 128 bytes to `UINT_MAX >> 2`, a level within 0x7.
pub fn request_valid_legacy(req: LogRequest) -> bool {
    if req.level == 0 && req.size == 0 {
        return true;
    }
    req.level != 0 && req.level & !0x7 == 0 && (128..=MAX_LOG_SIZE).contains(&req.size)
}

/// [`request_valid`] (6.4 on, `rotating`) or [`request_valid_legacy`].
pub fn request_valid_for(req: LogRequest, rotating: bool) -> bool {
    if rotating {
        request_valid(req)
    } else {
        request_valid_legacy(req)
    }
}

/// Applies the buffer rules to a complete log. `verdict_errno` is 0 for an
/// accepted blob.
pub fn finalize(full: &[u8], req: LogRequest, verdict_errno: i32) -> LogOutcome {
    let keep = (req.size as usize).saturating_sub(1).min(full.len());
    let kept = if req.level & LOG_FIXED != 0 {
        &full[..keep]
    } else {
        &full[full.len() - keep..]
    };
    finalize_kept(kept.to_vec(), full.len() as u64, req, verdict_errno)
}

/// Like [`finalize`], for a log rendered with only the kept part in memory:
/// `kept` is the head or tail the buffer holds, `total` the whole length.
pub fn finalize_kept(kept: Vec<u8>, total: u64, req: LogRequest, verdict_errno: i32) -> LogOutcome {
    if req.level == 0 {
        return LogOutcome {
            text: Vec::new(),
            true_size: 0,
            errno: verdict_errno,
        };
    }
    let true_size = u32::try_from(total + 1).unwrap_or(u32::MAX);
    if req.size == 0 {
        return LogOutcome {
            text: Vec::new(),
            true_size,
            errno: verdict_errno,
        };
    }
    let fits = total < req.size as u64;
    LogOutcome {
        text: kept,
        true_size,
        errno: if fits { verdict_errno } else { errno::ENOSPC },
    }
}

/// The attribute checks done before any verification (EINVAL, no log):
/// known level bits only, a buffer needs a non-zero level, and the size
/// limit.
pub fn request_valid(req: LogRequest) -> bool {
    req.level & !0xf == 0 && !(req.level == 0 && req.size != 0) && req.size <= MAX_LOG_SIZE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotating_keeps_tail_fixed_keeps_head() {
        let log = b"0123456789";
        let rot = finalize(log, LogRequest { level: 1, size: 5 }, 0);
        assert_eq!(
            (rot.text.as_slice(), rot.true_size, rot.errno),
            (&b"6789"[..], 11, errno::ENOSPC)
        );
        let fixed = finalize(log, LogRequest { level: 9, size: 5 }, 0);
        assert_eq!(fixed.text, b"0123");
        let exact = finalize(log, LogRequest { level: 1, size: 11 }, errno::EINVAL);
        assert_eq!((exact.text.len(), exact.errno), (10, errno::EINVAL));
        let query = finalize(log, LogRequest { level: 1, size: 0 }, 0);
        assert_eq!((query.text.len(), query.true_size, query.errno), (0, 11, 0));
    }
}
