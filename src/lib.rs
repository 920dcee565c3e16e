//! btfcheck: the Linux kernel's BTF verifier, in userspace.
//!
//! ```text
//! bytes ─► raw (zero-copy views) ─► verify (kernel passes, in order) ─► diag (kernel log, human, JSON)
//! ```
//!
//! ```
//! use btfcheck::{builder::BtfBuilder, verify};
//! let mut b = BtfBuilder::new();
//! let int = b.int("int", 4, 32, btfcheck::builder::INT_SIGNED);
//! b.ptr(int);
//! let blob = b.build();
//! let v = verify::verify(&blob, &verify::Options::default());
//! assert!(v.accepted());
//! ```
#![deny(unsafe_code)]

pub mod builder;
#[cfg(feature = "arbitrary")]
pub mod campaign;
pub mod diag;
pub mod dump;
pub mod input;
pub mod kallsyms;
pub mod min_kernel;
pub mod oracle;
pub mod profile;
pub mod proto;
pub mod raw;
#[cfg(feature = "arbitrary")]
pub mod smith;
pub mod text;
pub mod verify;

pub use profile::{Features, Profile};
pub use verify::{verify, Options, Verification};
