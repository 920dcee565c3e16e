//! Shim: the target's body is `btfcheck::campaign::targets::verify_faulted`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| btfcheck::campaign::targets::verify_faulted(data));
