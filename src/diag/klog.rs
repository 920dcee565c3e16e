//! A byte writer with the kernel's per-call cap: every `bpf_verifier_log`
//! call formats into a 1024-byte scratch buffer, so each call contributes at
//! most 1023 bytes (see kernel/bpf/log.c).

/// Bytes one log call can contribute (`BPF_VERIFIER_TMP_LOG_SIZE - 1`).
pub const CALL_CAP: usize = 1023;

/// Which part of the log is kept, like the kernel's user buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The last `n` bytes (rotating mode).
    Tail(usize),
    /// The first `n` bytes (`BPF_LOG_FIXED`).
    Head(usize),
}

#[derive(Debug)]
pub struct KernelLogWriter {
    pub buf: Vec<u8>,
    start: usize,
    keep: Keep,
    /// Bytes produced so far, kept or not.
    total: u64,
}

/// Slack before a tail-keeping writer drops its oldest bytes.
const SLACK: usize = 1 << 20;

impl KernelLogWriter {
    /// A writer that keeps everything up to the kernel's largest buffer.
    pub fn with_capacity(n: usize) -> Self {
        Self::keeping(Keep::Tail(crate::diag::logbuf::MAX_LOG_SIZE as usize), n)
    }

    pub fn keeping(keep: Keep, capacity: usize) -> Self {
        let bound = match keep {
            Keep::Tail(n) | Keep::Head(n) => n,
        };
        KernelLogWriter {
            buf: Vec::with_capacity(capacity.min(bound.saturating_add(SLACK))),
            start: 0,
            keep,
            total: 0,
        }
    }

    /// Bytes the whole log has (what `log_true_size` counts, minus the NUL).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The kept bytes.
    pub fn into_kept(mut self) -> Vec<u8> {
        if let Keep::Tail(n) = self.keep {
            if self.buf.len() > n {
                self.buf.drain(..self.buf.len() - n);
            }
        }
        self.buf
    }

    /// One log call: whatever `f` writes is cut to [`CALL_CAP`] bytes.
    #[inline]
    pub fn call(&mut self, f: impl FnOnce(&mut Self)) {
        self.start = self.buf.len();
        f(self);
        if self.buf.len() - self.start > CALL_CAP {
            self.buf.truncate(self.start + CALL_CAP);
        }
        self.total += (self.buf.len() - self.start) as u64;
        match self.keep {
            Keep::Tail(n) if self.buf.len() > n.saturating_add(SLACK) => {
                self.buf.drain(..self.buf.len() - n);
            }
            Keep::Head(n) if self.buf.len() > n => self.buf.truncate(n),
            _ => {}
        }
    }

    /// A whole call made of one literal.
    #[inline]
    pub fn lit(&mut self, s: &[u8]) {
        self.call(|w| w.b(s));
    }

    #[inline]
    pub fn b(&mut self, s: &[u8]) {
        // Never write far past the cap inside one call: long names are cut
        // anyway, and this bounds memory for hostile inputs.
        let room = (self.start + CALL_CAP + 1).saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&s[..s.len().min(room)]);
    }

    #[inline]
    pub fn u(&mut self, v: u64) {
        let mut f = itoa::Buffer::new();
        let s = f.format(v);
        self.b(s.as_bytes());
    }

    #[inline]
    pub fn i(&mut self, v: i64) {
        let mut f = itoa::Buffer::new();
        let s = f.format(v);
        self.b(s.as_bytes());
    }

    /// `%x` / `%llx`: lowercase hex, no prefix.
    pub fn x(&mut self, v: impl std::fmt::LowerHex) {
        let s = format!("{v:x}");
        self.b(s.as_bytes());
    }
}
