//! BTF as text, both ways: `dump --exact` writes any blob, valid or not, in a
//! line format that [`assemble`] turns back into the same bytes.
//!
//! The type lines are bpftool's raw format (`bpftool btf dump file F format
//! raw`), so a plain dump assembles too; the exact form adds what bpftool
//! leaves out: the header, the string section as it is, names as raw
//! offsets where text would be ambiguous, kind_flag/vlen/reserved bits where
//! bpftool does not show them, and raw words for records that cannot be
//! decoded. The grammar is in `docs/text-format.md`.

mod escape;
mod parse;
mod write;

pub use parse::{assemble, AsmError};
pub use write::{write_exact, write_exact_in, write_readable, write_readable_in};

#[cfg(test)]
mod tests;
