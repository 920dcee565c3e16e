//! The kernel's own BTF, the largest blob btfcheck meets: accepted, with the
//! same verification on one thread and on two, and (where the live kernel
//! can be asked) the kernel's level-1 log byte for byte.
//!
//! Skips with a printed reason where `/sys/kernel/btf/vmlinux` is
//! unreadable; the kernel comparison also needs root, BPF and Linux 6.18.

use btfcheck::diag::kernel_log;
use btfcheck::verify::{self, Options, Threads};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn vmlinux_blob() -> Option<Vec<u8>> {
    match std::fs::read(VMLINUX) {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!("vmlinux: skipped: cannot read {VMLINUX}: {e}");
            None
        }
    }
}

#[test]
fn vmlinux_is_the_same_on_one_and_two_threads() {
    let Some(blob) = vmlinux_blob() else { return };
    let on = |threads| {
        verify::verify(
            &blob,
            &Options {
                threads,
                ..Options::default()
            },
        )
    };
    let (one, two) = (on(Threads::One), on(Threads::Two));
    assert!(
        one.accepted(),
        "vmlinux rejected on one thread: {:?}",
        one.failure
    );
    assert!(
        two.accepted(),
        "vmlinux rejected on two threads: {:?}",
        two.failure
    );
    assert_eq!(one.notes, two.notes);
    let (b1, b2) = (one.btf.as_ref().unwrap(), two.btf.as_ref().unwrap());
    assert_eq!(b1.nr_types(), b2.nr_types());
    assert!(
        b1.positions.iter().eq(b2.positions.iter()),
        "record positions differ"
    );
    // Kinds, targets and resolve results, type by type.
    assert!(b1.slots.iter().eq(b2.slots.iter()), "type tables differ");
    assert!(
        kernel_log::render(&one) == kernel_log::render(&two),
        "logs differ"
    );
}

#[test]
fn vmlinux_log_matches_the_live_kernel() {
    let Some(blob) = vmlinux_blob() else { return };
    if let Err(e) = btfcheck::oracle::available() {
        eprintln!("vmlinux_log_matches_the_live_kernel: skipped: {e}");
        return;
    }
    let release = btfcheck::oracle::kernel_release();
    if !release.starts_with("6.18") {
        eprintln!("vmlinux_log_matches_the_live_kernel: skipped: running {release}, the rules are 6.18's");
        return;
    }
    let k = btfcheck::oracle::btf_load(&blob, 1, 16 << 20).expect("BPF_BTF_LOAD");
    assert!(k.accepted, "the kernel rejected its own BTF: errno {}", k.errno);
    let v = verify::verify(&blob, &Options::default());
    assert!(v.accepted());
    let ours = kernel_log::render(&v);
    assert_eq!(ours.len(), k.log.len(), "log lengths differ");
    if let Some(at) = ours.iter().zip(&k.log).position(|(a, b)| a != b) {
        panic!("logs differ at byte {at}");
    }
    eprintln!("vmlinux: {} log bytes identical to the kernel's", ours.len());
}
