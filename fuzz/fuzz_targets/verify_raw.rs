//! Feeds the fuzzer's bytes to `verify` and to every renderer, and to the
//! input reader (raw BTF or ELF). A panic, a hang or an out-of-memory is a
//! finding; the few assertions are the invariants the renderers promise.

#![no_main]

use btfcheck::diag::logbuf::{self, LogRequest};
use btfcheck::diag::{human, json, kernel_log};
use btfcheck::input;
use btfcheck::verify::{verify, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check(data);
    // ELF input: verify the .BTF section it holds as well.
    if let Ok(inp) = input::from_bytes("fuzz.o", data.to_vec()) {
        assert!(inp.range.end <= inp.bytes.len());
        if inp.container == input::Container::Elf {
            check(inp.btf());
        }
    }
});

fn check(blob: &[u8]) {
    let v = verify(blob, &Options::default());
    assert_eq!(v.accepted(), v.errno() == 0);

    let log = kernel_log::render(&v);
    let last = kernel_log::last_line(&v);
    let expected = if log.is_empty() {
        None
    } else {
        let body = log.strip_suffix(b"\n").unwrap_or(&log);
        Some(match body.iter().rposition(|&b| b == b'\n') {
            Some(nl) => body[nl + 1..].to_vec(),
            None => body.to_vec(),
        })
    };
    assert_eq!(last, expected, "last_line() is not the last line of render()");

    let _ = human::render("fuzz.btf", &v, true);
    let j = json::render("fuzz.btf", &v);
    let _ = j.to_string();

    for (level, size) in [
        (1, 1),
        (1, 17),
        (9, 17),
        (1, 4096),
        (9, 4096),
        (1, 0),
        (1, u32::MAX >> 2),
    ] {
        let out = logbuf::finalize(&log, LogRequest { level, size }, v.errno());
        if size > 0 {
            assert!(out.text.len() < size as usize);
        }
    }
}
