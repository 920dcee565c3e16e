//! The kernel's own BTF, the largest blob btfcheck meets: accepted, with the
//! same verification on one thread and on two, and (where the live kernel
//! can be asked) the kernel's level-1 log byte for byte.
//!
//! Skips with a printed reason where `/sys/kernel/btf/vmlinux` is
//! unreadable; the kernel comparison also needs root, BPF and Linux 6.18.

use btfcheck::diag::kernel_log;
use btfcheck::verify::{self, Btf, Options, Threads};

mod common;

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

/// Two verifications of one blob built the same tables: record positions,
/// and (`accepted`) kinds, targets and resolve results, type by type.
fn assert_same_tables(b1: &Btf<'_>, b2: &Btf<'_>, what: &str, accepted: bool) {
    assert!(
        b1.positions.iter().eq(b2.positions.iter()),
        "{what}: record positions differ"
    );
    if accepted {
        assert!(b1.slots.iter().eq(b2.slots.iter()), "{what}: type tables differ");
        assert!(
            b1.resolution.iter().eq(b2.resolution.iter()),
            "{what}: resolve results differ"
        );
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
    assert_same_tables(b1, b2, "vmlinux", true);
    assert!(
        kernel_log::render(&one) == kernel_log::render(&two),
        "logs differ"
    );
}

/// vmlinux with a few bits flipped, mostly in the second half of its type
/// section (the second meta lane's, and the prototypes the second resolve
/// lane checks): one thread and two give the same failure, notes, level-1
/// log (every tenth blob; the last line always), record positions and,
/// where accepted, type table.
#[test]
fn mutated_vmlinux_is_the_same_on_one_and_two_threads() {
    let Some(blob) = vmlinux_blob() else { return };
    let word = |at: usize| u32::from_le_bytes(blob[at..at + 4].try_into().expect("header"));
    let (hdr_len, type_off, type_len) = (word(4) as usize, word(8) as usize, word(12) as usize);
    let mut rng = common::Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move || rng.next();
    let mut rejected = 0;
    for i in 0..60 {
        let mut b = blob.clone();
        for _ in 0..1 + next() % 3 {
            let permille = if next() % 4 == 0 {
                next() % 1000
            } else {
                500 + next() % 500
            };
            let at = hdr_len + type_off + (type_len as u64 * permille / 1000) as usize;
            b[at] ^= 1 << (next() % 8);
        }
        let on = |threads| {
            verify::verify(
                &b,
                &Options {
                    threads,
                    ..Options::default()
                },
            )
        };
        let (one, two) = (on(Threads::One), on(Threads::Two));
        rejected += usize::from(!one.accepted());
        assert_eq!(one.failure, two.failure, "blob {i}");
        assert_eq!(one.notes, two.notes, "blob {i}");
        assert_eq!(
            kernel_log::last_line(&one),
            kernel_log::last_line(&two),
            "blob {i}"
        );
        if i % 10 == 0 {
            assert!(
                kernel_log::render(&one) == kernel_log::render(&two),
                "blob {i}: logs differ"
            );
        }
        let (b1, b2) = (
            one.btf.as_ref().expect("sections"),
            two.btf.as_ref().expect("sections"),
        );
        assert_same_tables(b1, b2, &format!("blob {i}"), one.accepted());
    }
    // Most flips break something; the comparison covers both outcomes.
    assert!(rejected > 10 && rejected < 60, "{rejected} of 60 rejected");
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
