//! The conformance case collector and small helpers shared by the groups.

use btfcheck::builder::BtfBuilder;
use btfcheck::raw::Header;

/// Log buffer the recorder used for every case unless a case says otherwise
/// (level 1, 16 MiB, as the spec's probes).
pub const DEFAULT_LOG_SIZE: u32 = 16 << 20;

pub struct Case {
    /// `group/name`, unique.
    pub name: String,
    /// What the case checks, in words.
    pub what: String,
    pub blob: Vec<u8>,
    pub log_level: u32,
    pub log_size: u32,
}

#[derive(Default)]
pub struct Suite {
    pub cases: Vec<Case>,
    group: &'static str,
}

impl Suite {
    pub fn group(&mut self, g: &'static str) {
        self.group = g;
    }

    /// A case in a named group (for cases read from files).
    pub fn add_in(&mut self, group: &str, name: &str, what: String, blob: Vec<u8>) {
        self.cases.push(Case {
            name: format!("{group}/{name}"),
            what,
            blob,
            log_level: 1,
            log_size: DEFAULT_LOG_SIZE,
        });
    }

    pub fn add(&mut self, name: impl AsRef<str>, what: impl Into<String>, blob: Vec<u8>) {
        self.add_log(name, what, blob, 1, DEFAULT_LOG_SIZE);
    }

    pub fn add_log(
        &mut self,
        name: impl AsRef<str>,
        what: impl Into<String>,
        blob: Vec<u8>,
        level: u32,
        size: u32,
    ) {
        self.cases.push(Case {
            name: format!("{}/{}", self.group, name.as_ref()),
            what: what.into(),
            blob,
            log_level: level,
            log_size: size,
        });
    }

    /// A case from a closure over a fresh builder; the closure may return a
    /// finished blob or `None` to use `build()`.
    pub fn b(&mut self, name: impl AsRef<str>, what: impl Into<String>, f: impl FnOnce(&mut BtfBuilder)) {
        let mut b = BtfBuilder::new();
        f(&mut b);
        self.add(name, what, b.build());
    }
}

/// A 24-byte header from its fields.
#[allow(clippy::too_many_arguments)]
pub fn hdr(
    magic: u16,
    version: u8,
    flags: u8,
    hdr_len: u32,
    type_off: u32,
    type_len: u32,
    str_off: u32,
    str_len: u32,
) -> Vec<u8> {
    Header {
        magic,
        version,
        flags,
        hdr_len,
        type_off,
        type_len,
        str_off,
        str_len,
    }
    .to_bytes()
    .to_vec()
}

pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}
