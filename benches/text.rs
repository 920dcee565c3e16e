//! BTF as text: `btfcheck dump` (bpftool raw format) and `btfcheck asm` on
//! the kernel's BTF. Targets: dumping vmlinux ≤ 40 ms for the whole process
//! (bpftool: ~155 ms); assembling the vmlinux dump ≤ 150 ms.
//!
//! Measured (2-core VM, shared): `dump_vmlinux` 15–18 ms, `asm_vmlinux_dump`
//! 130–147 ms, `asm_vmlinux_exact` ~205 ms, `process_dump_vmlinux` 15 ms.
//!
//! `cargo bench --bench text`; medians in target/criterion/<name>/new/estimates.json.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::process::{Command, Stdio};
use std::time::Duration;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn bench_text(c: &mut Criterion) {
    let Ok(blob) = std::fs::read(VMLINUX) else {
        eprintln!("bench: skipping text benchmarks: {VMLINUX} is not readable");
        return;
    };
    let dump = btfcheck::dump::render_raw(&blob, None).expect("vmlinux dumps");
    let text = String::from_utf8(dump).expect("text");
    eprintln!("bench: vmlinux dump is {} bytes", text.len());
    c.bench_function("dump_vmlinux", |b| {
        b.iter(|| btfcheck::dump::render_raw(black_box(&blob), None))
    });
    c.bench_function("asm_vmlinux_dump", |b| {
        b.iter(|| btfcheck::text::assemble(black_box(&text)))
    });
    let exact = btfcheck::text::write_exact(&blob);
    c.bench_function("asm_vmlinux_exact", |b| {
        b.iter(|| btfcheck::text::assemble(black_box(&exact)))
    });

    let exe = env!("CARGO_BIN_EXE_btfcheck");
    let run = || {
        Command::new(exe)
            .args(["dump", VMLINUX])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
    };
    if run().is_ok_and(|s| s.success()) {
        c.bench_function("process_dump_vmlinux", |b| {
            b.iter(|| run().expect("spawn btfcheck"))
        });
    } else {
        eprintln!("bench: skipping process_dump_vmlinux: `{exe} dump {VMLINUX}` failed");
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_text
}
criterion_main!(benches);
