//! The proposed rules (`btfcheck features`, docs/proposals.md): each is off
//! under the kernel profile (which the conformance suite holds to the live
//! kernel) and does what its proposal says when switched on.

use btfcheck::builder::{BtfBuilder, FUNC_EXTERN, FUNC_GLOBAL, INT_SIGNED, VAR_EXTERN, VAR_GLOBAL};
use btfcheck::diag::human;
use btfcheck::verify::{verify, Check, Options, Stage};
use btfcheck::Profile;

fn rules(r: &str) -> Profile {
    Profile::parse_rules(r).unwrap()
}

/// The check a blob fails with under `r` (None: accepted).
fn check(blob: &[u8], r: &str) -> Option<(Stage, Check)> {
    let opts = Options {
        profile: rules(r),
        vmlinux: None,
    };
    verify(blob, &opts).failure.map(|f| (f.stage, f.check))
}

const KERNEL: &str = "linux-6.18";
const EXTERNS: &str = "linux-6.18+extern-func+extern-var";

/// A `.ksyms` section as clang emits it: extern kfuncs (size 0, one with an
/// unnamed parameter) and extern variables at offset 0 with their sizes,
/// one typeless (`extern const void x __ksym`).
fn ksyms(func_entry_size: u32, var_offset: u32) -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, 32, INT_SIGNED);
    let proto = b.func_proto(int, &[("", int)]);
    let kfunc = b.func("bpf_kfunc", proto, FUNC_EXTERN);
    let void = b.const_(0);
    let typeless = b.var("bpf_prog_active", void, VAR_EXTERN);
    let typed = b.var("runqueues", int, VAR_EXTERN);
    b.datasec(
        ".ksyms",
        0,
        &[
            (kfunc, 0, func_entry_size),
            (typeless, var_offset, 1),
            (typed, 0, 4),
        ],
    );
    b.build()
}

#[test]
fn extern_rules_are_off_under_the_kernel_profile() {
    let blob = ksyms(0, 0);
    assert_eq!(
        check(&blob, KERNEL),
        Some((Stage::Meta, Check::FuncLinkageInvalid))
    );
    assert_eq!(
        check(&blob, "linux-6.18+extern-func"),
        Some((Stage::Meta, Check::VarLinkageUnsupported))
    );
    assert_eq!(check(&blob, EXTERNS), None);
}

#[test]
fn extern_entries_keep_their_own_layout_rules() {
    assert_eq!(
        check(&ksyms(8, 0), EXTERNS),
        Some((Stage::Resolve, Check::SecInfoFuncSizeNotZero))
    );
    assert_eq!(
        check(&ksyms(0, 4), EXTERNS),
        Some((Stage::Resolve, Check::SecInfoExternOffset))
    );
}

#[test]
fn allocated_variables_keep_the_kernel_rules() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, 32, INT_SIGNED);
    let x = b.var("x", int, VAR_GLOBAL);
    // Raw clang output: sizes and offsets are left for libbpf to fill in.
    b.datasec(".bss", 0, &[(x, 0, 4)]);
    let blob = b.build();
    assert_eq!(check(&blob, KERNEL), Some((Stage::Meta, Check::DatasecSizeZero)));
    assert_eq!(
        check(&blob, EXTERNS),
        Some((Stage::Resolve, Check::DatasecSizeZero))
    );

    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, 32, INT_SIGNED);
    let x = b.var("x", int, VAR_GLOBAL);
    let y = b.var("y", int, VAR_GLOBAL);
    b.datasec(".data", 8, &[(x, 4, 4), (y, 0, 4)]);
    let blob = b.build();
    assert_eq!(
        check(&blob, KERNEL),
        Some((Stage::Meta, Check::SecInfoOffsetInvalid))
    );
    assert_eq!(
        check(&blob, EXTERNS),
        Some((Stage::Resolve, Check::SecInfoOffsetInvalid))
    );
}

#[test]
fn datasec_extern_uniform_rejects_mixed_sections() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, 32, INT_SIGNED);
    let x = b.var("x", int, VAR_GLOBAL);
    let e = b.var("CONFIG_HZ", int, VAR_EXTERN);
    b.datasec(".data", 4, &[(x, 0, 4), (e, 0, 4)]);
    let blob = b.build();
    assert_eq!(check(&blob, EXTERNS), None);
    assert_eq!(
        check(&blob, &format!("{EXTERNS}+datasec-extern-uniform")),
        Some((Stage::Resolve, Check::DatasecExternMixed))
    );
}

#[test]
fn static_and_global_funcs_still_need_named_params() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, 32, INT_SIGNED);
    let proto = b.func_proto(int, &[("", int)]);
    b.func("f", proto, FUNC_GLOBAL);
    let blob = b.build();
    let expected = Some((Stage::Resolve, Check::ArgInvalid { arg: 1 }));
    assert_eq!(check(&blob, KERNEL), expected);
    assert_eq!(check(&blob, EXTERNS), expected);
}

#[test]
fn decl_tag_value_must_be_printable() {
    let tagged = |value: &[u8]| {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, INT_SIGNED);
        let t = b.typedef("t", int);
        let v = b.string(value);
        b.record(
            v,
            btfcheck::builder::info(btfcheck::raw::Kind::DECL_TAG, 0, false),
            t,
            &[u32::MAX],
        );
        b.build()
    };
    let odd = tagged(b"\x10\xf0");
    assert_eq!(check(&odd, KERNEL), None, "6.18 loads any non-empty value");
    let value_rule = "linux-6.18+decl-tag-value";
    assert_eq!(
        check(&odd, value_rule),
        Some((Stage::Meta, Check::DeclTagValueNotPrintable))
    );
    assert_eq!(
        check(&tagged(&[b'a'; 513]), value_rule),
        Some((Stage::Meta, Check::DeclTagValueNotPrintable))
    );
    assert_eq!(check(&tagged(&[b'a'; 512]), value_rule), None);
    assert_eq!(check(&tagged(b"user"), value_rule), None);
}

#[test]
fn rule_sets_parse_and_print_back() {
    let p = rules("linux-6.18+extern-var+extern-func");
    assert_eq!(p.rules(), "linux-6.18+extern-func+extern-var");
    assert!(!p.is_kernel_exact());
    assert!(rules(KERNEL).is_kernel_exact());
    let e = Profile::parse_rules("linux-6.18+no-such").unwrap_err();
    assert!(e.contains("unknown feature 'no-such'"), "{e}");
    let e = Profile::parse_rules("linux-9.9").unwrap_err();
    assert!(e.contains("unknown profile 'linux-9.9'"), "{e}");
}

#[test]
fn human_output_marks_proposal_text() {
    let opts = Options {
        profile: rules(EXTERNS),
        vmlinux: None,
    };
    let blob = ksyms(8, 0);
    let text = human::render("ksyms.btf", &verify(&blob, &opts), false);
    let text: String = text
        .lines()
        .filter(|l| !l.contains(" ms"))
        .collect::<Vec<_>>()
        .join("\n");
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("proposals_human_extern_func", text);
    });
}

/// A self-describing blob (Linux 7.1 layout): 32-byte header, types, a
/// layout section of `layout_len` bytes, strings.
fn with_layout(layout_len: u32) -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, 32, INT_SIGNED);
    b.ptr(int);
    let (types, strings) = b.sections();
    let mut h = b.header();
    h.hdr_len = 32;
    h.str_off = types.len() as u32 + layout_len;
    let mut out = h.to_bytes().to_vec();
    out.extend_from_slice(&(types.len() as u32).to_le_bytes()); // layout_off
    out.extend_from_slice(&layout_len.to_le_bytes());
    out.extend_from_slice(types);
    // One entry per kind 0..: info_sz, elem_sz, flags (u16).
    for i in 0..layout_len {
        out.push(if i % 4 == 0 { 4 } else { 0 });
    }
    out.extend_from_slice(strings);
    out
}

#[test]
fn kind_layout_reads_the_7_1_header() {
    let blob = with_layout(20 * 4);
    assert_eq!(
        check(&blob, KERNEL),
        Some((Stage::Header, Check::HeaderTailNotZero))
    );
    assert_eq!(check(&blob, "linux-6.18+kind-layout"), None);
    assert_eq!(
        check(&with_layout(6), "linux-6.18+kind-layout"),
        Some((Stage::Header, Check::LayoutLenNotMultiple))
    );
    assert_eq!(
        check(&with_layout(2), "linux-6.18+kind-layout"),
        Some((Stage::Header, Check::LayoutTooSmall))
    );
    let opts = Options {
        profile: rules("linux-6.18+kind-layout"),
        vmlinux: None,
    };
    let log = btfcheck::diag::kernel_log::render(&verify(&blob, &opts));
    let log = String::from_utf8(log).unwrap();
    assert!(
        log.contains("str_len: 5\nlayout_off: 28\nlayout_len: 80\nbtf_total_size: "),
        "{log}"
    );
}
