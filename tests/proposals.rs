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
        ..Options::default()
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
        ..Options::default()
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
        ..Options::default()
    };
    let log = btfcheck::diag::kernel_log::render(&verify(&blob, &opts));
    let log = String::from_utf8(log).unwrap();
    assert!(
        log.contains("str_len: 5\nlayout_off: 28\nlayout_len: 80\nbtf_total_size: "),
        "{log}"
    );
}

const FUNC_ADDR: &str = "linux-6.18+kind-layout+func-addr";

/// Two functions that share a name (static functions in different files,
/// as `bpf_iter_detach_map`), one kfunc, as a self-describing blob.
fn func_addrs(edit: impl FnOnce(&mut BtfBuilder, u32, u32)) -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, 32, INT_SIGNED);
    let proto = b.func_proto(int, &[("map", int)]);
    b.func("bpf_iter_detach_map", proto, FUNC_GLOBAL);
    b.func_addr("bpf_iter_detach_map", proto, 0xffff_ffff_8123_4560, 0);
    b.func_addr("bpf_iter_detach_map", proto, 0xffff_ffff_8134_5670, 0);
    b.func_addr("bpf_iter_detach_map.isra.0", proto, 0xffff_ffff_8134_9000, 2);
    edit(&mut b, int, proto);
    b.build_self_describing(&rules(FUNC_ADDR).shapes(), 23)
}

/// Where the functions of [`func_addrs`] are, relocated by 0x1e000000.
const KALLSYMS: &str = "ffffffff9f234560 t bpf_iter_detach_map\n\
                        ffffffff9f345670 t bpf_iter_detach_map\n\
                        ffffffff9f349000 t bpf_iter_detach_map.isra.0\n";

fn kallsyms() -> btfcheck::kallsyms::Kallsyms {
    btfcheck::kallsyms::Kallsyms::parse(KALLSYMS).unwrap()
}

fn check_with(
    blob: &[u8],
    r: &str,
    kaslr_offset: u64,
    k: Option<&btfcheck::kallsyms::Kallsyms>,
) -> Option<Check> {
    let opts = Options {
        profile: rules(r),
        kaslr_offset,
        kallsyms: k,
        ..Options::default()
    };
    verify(blob, &opts).failure.map(|f| f.check)
}

#[test]
fn func_addr_records_are_checked_when_the_kind_is_known() {
    let ok = func_addrs(|_, _, _| {});
    assert_eq!(check(&ok, FUNC_ADDR), None);
    // Without the feature kind 23 is unknown, as in every kernel; 6.18 does
    // not even read the 32-byte header.
    assert_eq!(
        check(&ok, "linux-6.18+kind-layout"),
        Some((Stage::Meta, Check::UnknownKind { kind: 23 }))
    );
    assert_eq!(
        check(&ok, KERNEL),
        Some((Stage::Header, Check::HeaderTailNotZero))
    );

    let bad = |edit: fn(&mut BtfBuilder, u32, u32)| check(&func_addrs(edit), FUNC_ADDR);
    assert_eq!(
        bad(|b, _, p| {
            b.func_addr("f", p, 0, 0);
        }),
        Some((Stage::Meta, Check::FuncAddrZero))
    );
    assert_eq!(
        bad(|b, _, p| {
            b.func_addr("f", p, 1, 4);
        }),
        Some((Stage::Meta, Check::FuncAddrFlagsReserved { flags: 4 }))
    );
    assert_eq!(
        bad(|b, _, p| {
            b.func_addr("1f", p, 1, 0);
        }),
        Some((Stage::Meta, Check::NameInvalid))
    );
    // The type must be a FUNC_PROTO ...
    assert_eq!(
        bad(|b, int, _| {
            b.func_addr("f", int, 1, 0);
        }),
        Some((Stage::Resolve, Check::TypeIdInvalid))
    );
    // ... whose parameters are named.
    assert_eq!(
        bad(|b, int, _| {
            let unnamed = b.func_proto(int, &[("", int)]);
            b.func_addr("f", unnamed, 1, 0);
        }),
        Some((Stage::Resolve, Check::ArgInvalid { arg: 1 }))
    );
    // Nothing may refer to a FUNC_ADDR.
    assert_eq!(
        bad(|b, _, _| {
            b.ptr(5);
        }),
        Some((Stage::Resolve, Check::TypeIdInvalid))
    );
    assert_eq!(
        bad(|b, _, p| {
            b.func_addr("other", p, 0xffff_ffff_8123_4560, 0);
        }),
        Some((Stage::FuncAddrs, Check::FuncAddrDuplicate { first: 4 }))
    );
}

#[test]
fn func_addr_relocation_and_kallsyms_cross_check() {
    let blob = func_addrs(|_, _, _| {});
    let k = kallsyms();
    let offset = 0x1e00_0000;
    assert_eq!(check_with(&blob, FUNC_ADDR, offset, Some(&k)), None);
    assert_eq!(
        check_with(&blob, FUNC_ADDR, 0, Some(&k)),
        Some(Check::FuncAddrMismatch {
            addr: 0xffff_ffff_8123_4560
        }),
        "link-time addresses without the KASLR base do not match"
    );
    assert_eq!(
        check_with(&blob, FUNC_ADDR, u64::MAX - 1, None),
        Some(Check::FuncAddrRelocOverflow)
    );
    let tampered = func_addrs(|b, _, p| {
        b.func_addr("bpf_iter_detach_map", p, 0xffff_ffff_8134_5678, 0);
    });
    assert_eq!(
        check_with(&tampered, FUNC_ADDR, offset, Some(&k)),
        Some(Check::FuncAddrMismatch {
            addr: 0xffff_ffff_9f34_5678
        })
    );
    let unknown = func_addrs(|b, _, p| {
        b.func_addr("no_such_function", p, 0xffff_ffff_8100_0000, 0);
    });
    assert_eq!(
        check_with(&unknown, FUNC_ADDR, offset, Some(&k)),
        Some(Check::FuncAddrNotInKallsyms)
    );
}

/// `btfcheck compare` hands --kaslr-offset and --kallsyms to the rule sets
/// with func-addr: the cross-check then separates them from rules that
/// only skip the kind.
#[test]
fn compare_cross_checks_func_addrs_under_the_rules_that_have_them() {
    let dir = std::env::temp_dir().join(format!("btfcheck-compare-kallsyms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let blob = dir.join("fa.btf");
    std::fs::write(&blob, func_addrs(|_, _, _| {})).unwrap();
    let good = dir.join("kallsyms");
    let bad = dir.join("kallsyms.moved");
    std::fs::write(&good, KALLSYMS).unwrap();
    // The .isra.0 body has moved: its record no longer matches.
    std::fs::write(&bad, KALLSYMS.replace("ffffffff9f349000", "ffffffff9f34a000")).unwrap();
    let compare = |kallsyms: &std::path::Path, to: &str, threads: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_btfcheck"))
            .args(["compare", "--from", "linux-6.18+skip-unknown-kinds", "--to", to])
            .args(["--threads", threads, "--kaslr-offset", "0x1e000000", "--kallsyms"])
            .arg(kallsyms)
            .arg(&blob)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The same on one lane and on two (the split paths, forced on a small blob).
    for threads in ["1", "2"] {
        let (code, stdout, _) = compare(&good, FUNC_ADDR, threads);
        assert_eq!(code, Some(0), "{stdout}");
        assert!(
            stdout.ends_with("1 blobs: 0 newly accepted, 0 newly rejected, 0 message changed\n"),
            "{stdout}"
        );
        let (code, stdout, _) = compare(&bad, FUNC_ADDR, threads);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(
            stdout.ends_with("1 blobs: 0 newly accepted, 1 newly rejected, 0 message changed\n"),
            "{stdout}"
        );
    }
    // Neither rule set reads them: a usage error, not a silent no-op.
    let (code, _, stderr) = compare(&good, "linux-6.18+kind-layout", "auto");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("add the func-addr feature"), "{stderr}");
    let (code, _, stderr) = compare(&good, FUNC_ADDR, "3");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("expected auto, 1 or 2"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn skip_unknown_kinds_sizes_kinds_from_the_layout() {
    let blob = func_addrs(|_, _, _| {});
    // A layout-aware verifier that does not know FUNC_ADDR skips it ...
    assert_eq!(check(&blob, "linux-6.18+skip-unknown-kinds"), None);
    // ... but a reference to a skipped type is still invalid.
    let referring = func_addrs(|b, _, _| {
        b.ptr(5);
    });
    assert_eq!(
        check(&referring, "linux-6.18+skip-unknown-kinds"),
        Some((Stage::Resolve, Check::TypeIdInvalid))
    );
    // A layout entry that sizes a known kind wrongly is rejected: INT
    // (kind 1) described with no int_data.
    let mut lying = blob.clone();
    let layout_off = 32 + u32::from_le_bytes(lying[24..28].try_into().unwrap()) as usize;
    lying[layout_off + 4] = 0;
    assert_eq!(
        check(&lying, "linux-6.18+skip-unknown-kinds"),
        Some((Stage::Header, Check::LayoutKindMismatch { kind: 1 }))
    );
    // Plain kind-layout (what 7.1 merged) does not skip.
    assert_eq!(
        check(&blob, "linux-6.18+kind-layout"),
        Some((Stage::Meta, Check::UnknownKind { kind: 23 }))
    );
}

/// Snapshot: the kernel log and human diagnostic of an accepted and a
/// rejected func-addr blob.
#[test]
fn func_addr_snapshots() {
    let opts = Options {
        profile: rules(FUNC_ADDR),
        ..Options::default()
    };
    let show = |blob: &[u8]| {
        let v = verify(blob, &opts);
        let log = String::from_utf8(btfcheck::diag::kernel_log::render(&v)).unwrap();
        let human = human::render_with(
            "func_addr.btf",
            &v,
            &human::HumanOptions {
                timing: false,
                kinds: true,
            },
        );
        format!("--- kernel log ---\n{log}\n--- human ---\n{human}\n")
    };
    let accepted = show(&func_addrs(|_, _, _| {}));
    let duplicate = show(&func_addrs(|b, _, p| {
        b.func_addr("other", p, 0xffff_ffff_8123_4560, 1);
    }));
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("proposals_func_addr_accepted", accepted);
        insta::assert_snapshot!("proposals_func_addr_duplicate", duplicate);
    });
}

/// The type section offset and the FUNC_ADDR record positions of a
/// self-describing blob.
fn func_addr_positions(blob: &[u8]) -> Vec<usize> {
    let shapes = rules(FUNC_ADDR).shapes();
    let types_len = u32::from_le_bytes(blob[12..16].try_into().unwrap()) as usize;
    let mut cursor = btfcheck::raw::RecordCursor::with_shapes(&blob[32..32 + types_len], shapes);
    let mut out = Vec::new();
    while let Some(rec) = cursor.next_whole() {
        if rec.kind() == btfcheck::raw::Kind::FUNC_ADDR {
            out.push(32 + rec.pos as usize);
        }
    }
    out
}

/// `proto func-addr` on the live vmlinux and /proc/kallsyms: accepted with
/// every address confirmed; a tampered address, a duplicate address and a
/// non-FUNC_PROTO type are rejected; plain linux-6.18 rejects the blob as
/// the live kernel does.
#[test]
fn proto_func_addr_on_the_live_kernel() {
    let (Ok(vmlinux), Ok(syms)) = (
        std::fs::read("/sys/kernel/btf/vmlinux"),
        std::fs::read_to_string("/proc/kallsyms"),
    ) else {
        eprintln!("skipped: /sys/kernel/btf/vmlinux or /proc/kallsyms not readable");
        return;
    };
    let k = match btfcheck::kallsyms::Kallsyms::parse(&syms) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("skipped: /proc/kallsyms: {e}");
            return;
        }
    };
    // A made-up KASLR base: the blob holds "link-time" addresses.
    let offset = 0x1000;
    let opts = btfcheck::proto::FuncAddrOptions {
        kaslr_offset: offset,
        ..Default::default()
    };
    let (blob, stats) = btfcheck::proto::func_addr(&vmlinux, &k, &opts).unwrap();
    assert!(stats.funcs_covered * 10 > stats.funcs * 9, "{}", stats.report());
    let positions = func_addr_positions(&blob);
    assert_eq!(positions.len() as u32, stats.records);
    assert_eq!(check_with(&blob, FUNC_ADDR, offset, Some(&k)), None);
    assert_eq!(
        check_with(&blob, FUNC_ADDR, 0, Some(&k)).map(|c| std::mem::discriminant(&c)),
        Some(std::mem::discriminant(&Check::FuncAddrMismatch { addr: 0 })),
        "without the offset no address matches"
    );

    let (a, b) = (positions[100], positions[200]);
    let mut tampered = blob.clone();
    tampered[a + 12] ^= 0x10;
    assert!(matches!(
        check_with(&tampered, FUNC_ADDR, offset, Some(&k)),
        Some(Check::FuncAddrMismatch { .. })
    ));
    let mut duplicate = blob.clone();
    duplicate.copy_within(a + 12..a + 20, b + 12);
    let first = check_with(&duplicate, FUNC_ADDR, offset, None);
    assert!(
        matches!(first, Some(Check::FuncAddrDuplicate { .. })),
        "{first:?}"
    );
    let mut not_proto = blob.clone();
    not_proto[b + 8..b + 12].copy_from_slice(&1u32.to_le_bytes());
    assert_eq!(
        check_with(&not_proto, FUNC_ADDR, offset, Some(&k)),
        Some(Check::TypeIdInvalid)
    );

    // Plain 6.18 reads a 24-byte header: the layout fields are non-zero.
    let plain = Options::default();
    let v = verify(&blob, &plain);
    assert_eq!(v.failure.map(|f| f.check), Some(Check::HeaderTailNotZero));
    match btfcheck::oracle::btf_load(&blob, 1, 1 << 20) {
        Ok(kernel) => {
            assert_eq!(kernel.errno, v.errno());
            assert_eq!(kernel.log, btfcheck::diag::kernel_log::render(&v));
        }
        Err(e) => eprintln!("live-kernel comparison skipped: {e}"),
    }
}

/// `dump --exact --feature func-addr` writes FUNC_ADDR records as records,
/// and `asm` turns the text back into the same bytes.
#[test]
fn func_addr_text_round_trips() {
    let blob = func_addrs(|b, _, p| {
        b.func_addr("kflagged", p, u64::MAX, 3);
    });
    let text = btfcheck::text::write_exact_in(&blob, &rules(FUNC_ADDR).shapes());
    assert!(
        text.contains("[7] FUNC_ADDR 'kflagged' type_id=2 addr=0xffffffffffffffff flags=0x3\n"),
        "{text}"
    );
    assert_eq!(btfcheck::text::assemble(&text).unwrap(), blob);
    // Without the feature the records stay raw words, still exact.
    let raw = btfcheck::text::write_exact(&blob);
    assert!(!raw.contains("FUNC_ADDR"));
    assert_eq!(btfcheck::text::assemble(&raw).unwrap(), blob);
}

/// Kernel log and human diagnostic of `blob` under `r`, for snapshots.
fn shown(name: &str, blob: &[u8], r: &str) -> String {
    let opts = Options {
        profile: rules(r),
        ..Options::default()
    };
    let v = verify(blob, &opts);
    let log = String::from_utf8(btfcheck::diag::kernel_log::render(&v)).unwrap();
    let human = human::render_with(
        name,
        &v,
        &human::HumanOptions {
            timing: false,
            kinds: false,
        },
    );
    format!("=== {name} under {r}\n--- kernel log ---\n{log}\n--- human ---\n{human}")
}

/// One snapshot per feature: an example it accepts and one it rejects,
/// each with the kernel log and the human diagnostic.
#[test]
fn feature_snapshots() {
    let mixed = {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, INT_SIGNED);
        let x = b.var("x", int, VAR_GLOBAL);
        let e = b.var("CONFIG_HZ", int, VAR_EXTERN);
        b.datasec(".data", 4, &[(x, 0, 4), (e, 0, 4)]);
        b.build()
    };
    let kconfig = {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, INT_SIGNED);
        let e = b.var("CONFIG_HZ", int, VAR_EXTERN);
        b.datasec(".kconfig", 0, &[(e, 0, 4)]);
        b.build()
    };
    let tagged = |value: &str| {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, INT_SIGNED);
        let t = b.typedef("t", int);
        b.decl_tag(value, t, -1);
        b.build()
    };
    let cases: Vec<(&str, &str, Vec<u8>, Vec<u8>)> = vec![
        (
            "extern_func",
            "linux-6.18+extern-func",
            {
                let mut b = BtfBuilder::new();
                let int = b.int("int", 4, 32, INT_SIGNED);
                let proto = b.func_proto(int, &[("", int)]);
                let f = b.func("bpf_kfunc", proto, FUNC_EXTERN);
                b.datasec(".ksyms", 0, &[(f, 0, 0)]);
                b.build()
            },
            {
                let mut b = BtfBuilder::new();
                let int = b.int("int", 4, 32, INT_SIGNED);
                let proto = b.func_proto(int, &[("", int)]);
                let f = b.func("bpf_kfunc", proto, FUNC_EXTERN);
                b.datasec(".ksyms", 0, &[(f, 0, 8)]);
                b.build()
            },
        ),
        ("extern_var", "linux-6.18+extern-var", kconfig, {
            let mut b = BtfBuilder::new();
            let int = b.int("int", 4, 32, INT_SIGNED);
            let e = b.var("CONFIG_HZ", int, VAR_EXTERN);
            b.datasec(".kconfig", 8, &[(e, 4, 4)]);
            b.build()
        }),
        (
            "datasec_extern_uniform",
            "linux-6.18+extern-func+extern-var+datasec-extern-uniform",
            ksyms(0, 0),
            mixed,
        ),
        (
            "decl_tag_value",
            "linux-6.18+decl-tag-value",
            tagged("user"),
            tagged("two\tparts"),
        ),
        (
            "kind_layout",
            "linux-6.18+kind-layout",
            with_layout(20 * 4),
            with_layout(6),
        ),
        (
            "skip_unknown_kinds",
            "linux-6.18+skip-unknown-kinds",
            func_addrs(|_, _, _| {}),
            func_addrs(|b, _, _| {
                b.ptr(5);
            }),
        ),
        (
            "func_addr",
            FUNC_ADDR,
            func_addrs(|_, _, _| {}),
            func_addrs(|b, int, _| {
                b.func_addr("f", int, 1, 0);
            }),
        ),
    ];
    for (name, r, accepted, rejected) in &cases {
        assert_eq!(check(accepted, r), None, "{name}: the accepted example");
        assert!(check(rejected, r).is_some(), "{name}: the rejected example");
        let text = format!(
            "{}\n{}",
            shown(&format!("{name}_accepted.btf"), accepted, r),
            shown(&format!("{name}_rejected.btf"), rejected, r)
        );
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(format!("feature_{name}"), text);
        });
    }
}

/// Linux 7.1 tiles a self-describing blob's sections in any order: strings
/// first loads there, while 6.18 (and a 24-byte header) wants them last.
#[test]
fn linux_7_1_takes_strings_before_types() {
    let mut b = BtfBuilder::new();
    b.int("int", 4, 32, INT_SIGNED);
    let (types, strings) = b.sections();
    // Padded with NULs so that the type section stays 4-byte aligned.
    let mut strings = strings.to_vec();
    strings.resize(strings.len().next_multiple_of(4), 0);
    let strings = strings.as_slice();
    let mut h = b.header();
    h.hdr_len = 32;
    h.str_len = strings.len() as u32;
    h.str_off = 0;
    h.type_off = strings.len() as u32;
    let mut blob = h.to_bytes().to_vec();
    blob.extend_from_slice(&[0; 8]); // no layout section
    blob.extend_from_slice(strings);
    blob.extend_from_slice(types);
    assert_eq!(check(&blob, "linux-7.1"), None);
    assert_eq!(
        check(&blob, KERNEL),
        Some((Stage::Strings, Check::StringsNotAtEnd))
    );
}
