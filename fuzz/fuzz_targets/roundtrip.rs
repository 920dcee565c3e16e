//! Shim: the target's body is `btfcheck::campaign::targets::roundtrip`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| btfcheck::campaign::targets::roundtrip(data));
