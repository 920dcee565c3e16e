//! Renderers: the kernel's log (byte-identical), a human diagnostic with
//! what the kernel leaves out, and JSON. All read a [`Verification`]; none
//! re-checks anything.
//!
//! [`Verification`]: crate::verify::Verification

pub mod catalogue;
pub mod human;
pub mod json;
pub mod kernel_log;
pub mod klog;
pub mod logbuf;
pub mod messages;
