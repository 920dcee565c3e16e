//! Profile-specific rules that the recorded kernels do not cover: Linux
//! 7.2's wider `info` word (vlen in bits 0-23, kind in bits 24-30) parses
//! the same bytes differently from 6.18.

use btfcheck::builder::{BtfBuilder, INT_SIGNED};
use btfcheck::diag::kernel_log;
use btfcheck::verify::{verify, Check, Options};
use btfcheck::Profile;

fn check(blob: &[u8], profile: &str) -> Option<Check> {
    let opts = Options {
        profile: Profile::by_name(profile).unwrap(),
        ..Options::default()
    };
    verify(blob, &opts).failure.map(|f| f.check)
}

fn last_line(blob: &[u8], profile: &str) -> String {
    let opts = Options {
        profile: Profile::by_name(profile).unwrap(),
        ..Options::default()
    };
    let v = verify(blob, &opts);
    String::from_utf8(kernel_log::last_line(&v).unwrap_or_default()).unwrap()
}

/// An INT whose `info` also has bit 16 set.
fn int_with_info_bits(bits: u32) -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let name = b.string("int");
    let info = btfcheck::builder::info(btfcheck::raw::Kind::INT, 0, false) | bits;
    b.record(name, info, 4, &[btfcheck::builder::int_data(INT_SIGNED, 0, 32)]);
    b.build()
}

#[test]
fn bit_16_is_vlen_in_7_2_and_reserved_before() {
    let blob = int_with_info_bits(1 << 16);
    assert_eq!(
        check(&blob, "linux-6.18"),
        Some(Check::InfoReservedBits { info: 0x0101_0000 })
    );
    assert_eq!(check(&blob, "linux-7.2"), Some(Check::VlenNotZero));
}

#[test]
fn bits_29_and_30_are_kind_in_7_2() {
    // Kind 0x21 = 33 in 7.2; a reserved bit before.
    let blob = int_with_info_bits(1 << 29);
    assert_eq!(
        check(&blob, "linux-6.18"),
        Some(Check::InfoReservedBits { info: 0x2100_0000 })
    );
    assert_eq!(check(&blob, "linux-7.2"), Some(Check::UnknownKind { kind: 33 }));
    assert_eq!(last_line(&blob, "linux-7.2"), "[1] Invalid kind:33");
}

/// An ENUM with 70,000 values: only 7.2 can say so.
#[test]
fn an_enum_of_70000_values_loads_on_7_2() {
    let n: u32 = 70_000;
    let mut b = BtfBuilder::new();
    let name = b.string("big");
    let mut tail = Vec::with_capacity(2 * n as usize);
    for i in 0..n {
        let v = b.string(format!("V{i}"));
        tail.extend([v, i]);
    }
    let info = (6 << 24) | n; // ENUM, vlen in bits 0-23
    b.record(name, info, 4, &tail);
    let blob = b.build();
    assert_eq!(check(&blob, "linux-7.2"), None);
    assert_eq!(check(&blob, "linux-6.18"), Some(Check::InfoReservedBits { info }));
    let opts = Options {
        profile: Profile::by_name("linux-7.2").unwrap(),
        ..Options::default()
    };
    let log = kernel_log::render(&verify(&blob, &opts));
    let log = String::from_utf8(log).unwrap();
    assert!(
        log.contains("[1] ENUM big size=4 vlen=70000\n"),
        "{}",
        &log[..400]
    );
    assert!(log.ends_with("\tV69999 val=69999\n"));

    // Cut short, the meta check asks for all 70,000 * 8 bytes.
    let mut b = BtfBuilder::new();
    let name = b.string("big");
    b.record(name, info, 4, &[]);
    let short = b.build();
    assert_eq!(
        last_line(&short, "linux-7.2"),
        "[1] ENUM big meta_left:0 meta_needed:560000"
    );
}
