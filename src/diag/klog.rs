//! A byte writer with the kernel's per-call cap: every `bpf_verifier_log`
//! call formats into a 1024-byte scratch buffer, so each call contributes at
//! most 1023 bytes (see kernel/bpf/log.c).

/// Bytes one log call can contribute (`BPF_VERIFIER_TMP_LOG_SIZE - 1`).
pub const CALL_CAP: usize = 1023;

#[derive(Default, Debug)]
pub struct KernelLogWriter {
    pub buf: Vec<u8>,
    start: usize,
}

impl KernelLogWriter {
    pub fn with_capacity(n: usize) -> Self {
        KernelLogWriter {
            buf: Vec::with_capacity(n),
            start: 0,
        }
    }

    /// One log call: whatever `f` writes is cut to [`CALL_CAP`] bytes.
    #[inline]
    pub fn call(&mut self, f: impl FnOnce(&mut Self)) {
        self.start = self.buf.len();
        f(self);
        if self.buf.len() - self.start > CALL_CAP {
            self.buf.truncate(self.start + CALL_CAP);
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

    /// `%x`: lowercase hex, no prefix.
    pub fn x(&mut self, v: u32) {
        let s = format!("{v:x}");
        self.b(s.as_bytes());
    }
}
