//! Shim: the target's body is `btfcheck::campaign::targets::verify_valid`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| btfcheck::campaign::targets::verify_valid(data));
