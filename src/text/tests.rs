use super::*;
use crate::builder::{m, BtfBuilder, INT_SIGNED};

fn sample() -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let i = b.int("int", 4, 32, INT_SIGNED);
    let p = b.ptr(i);
    let s = b.struct_("s", 16, &[m("a", i, 0), m("p", p, 64)]);
    b.enum_("e", 4, true, &[("A", -1), ("B", 2)]);
    b.enum64("e64", 8, false, &[("C", u64::MAX as i64)]);
    let fp = b.func_proto(i, &[("x", i), ("", 0)]);
    b.func("f", fp, 1);
    let v = b.var("v", s, 1);
    b.datasec(".data", 16, &[(v, 0, 16)]);
    b.float("double", 8);
    b.decl_tag("tag", s, 1);
    b.type_tag("user", i);
    b.fwd("fw", true);
    b.build()
}

#[test]
fn exact_round_trip_of_a_valid_blob() {
    let blob = sample();
    let text = write_exact(&blob);
    assert_eq!(assemble(&text).unwrap(), blob, "{text}");
}

#[test]
fn plain_records_assemble_with_auto_header_and_strings() {
    let text = "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n[2] PTR '(anon)' type_id=1\n";
    let mut b = BtfBuilder::new();
    let i = b.int("int", 4, 32, INT_SIGNED);
    b.ptr(i);
    assert_eq!(assemble(text).unwrap(), b.build());
}

#[test]
fn header_fields_override_one_by_one() {
    let blob = assemble("header flags=1\n[1] INT 'int' size=4 nr_bits=32\n").unwrap();
    assert_eq!(blob[3], 1);
    assert_eq!(&blob[0..2], &[0x9f, 0xeb]);
}

#[test]
fn malformed_blobs_round_trip() {
    let blob = sample();
    for cut in [0, 3, 23, 24, 30, 40, 50, blob.len() - 1] {
        let b = &blob[..cut];
        assert_eq!(assemble(&write_exact(b)).unwrap(), b, "cut at {cut}");
    }
    let mut odd = blob.clone();
    odd[24 + 4] = 0x17; // unknown kind in the first record's info
    assert_eq!(assemble(&write_exact(&odd)).unwrap(), odd);
    let mut bits = blob.clone();
    bits[24 + 6] = 0x01; // reserved info bits
    assert_eq!(assemble(&write_exact(&bits)).unwrap(), bits);
}

#[test]
fn errors_say_where() {
    let e = assemble("[1] INT 'int' size=4 nr_bits=x\n").unwrap_err();
    assert_eq!((e.line, e.column), (1, 30), "{e}");
    let e = assemble("[1] INTEGER 'int'\n").unwrap_err();
    assert_eq!((e.line, e.column), (1, 5));
    assert!(e.message.contains("unknown kind"));
    let e = assemble("[1] STRUCT 's' size=4 vlen=2\n\t'a' type_id=1 bits_offset=0\n").unwrap_err();
    assert!(e.message.contains("vlen=2 but 1"), "{e}");
    let e = assemble("strings\n\t@0 ''\n\t@2 'x'\n").unwrap_err();
    assert_eq!(e.line, 3);
    let e = assemble("[1] INT 'in\\qt' size=4 nr_bits=8\n").unwrap_err();
    assert!(e.message.contains("escape"), "{e}");
}

#[test]
fn values_that_do_not_fit_are_errors() {
    for (text, needle) in [
        (
            "header magic=0x1eb9f\n[1] INT 'int' size=4 nr_bits=32\n",
            "does not fit",
        ),
        (
            "header version=256\n[1] INT 'int' size=4 nr_bits=32\n",
            "does not fit",
        ),
        (
            "[1] ENUM 'e' size=4 vlen=1\n\t'A' val=0x100000005\n",
            "32-bit ENUM",
        ),
        (
            "[1] INT 'int' size=4 nr_bits=32\n[2] DECL_TAG 't' type_id=1 component_idx=0x1ffffffff\n",
            "32 bits",
        ),
        (
            "[1] FUNC_PROTO '(anon)' ret_type_id=0 vlen=0\n[2] FUNC 'f' type_id=1 vlen=3\n",
            "linkage",
        ),
    ] {
        let e = assemble(text).unwrap_err();
        assert!(e.message.contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn stray_words_are_errors() {
    for text in [
        "strings foo\n\t@0 ''\n",
        "types extra\n",
        "[1] INT 'int' size=4 nr_bits=32\ntypes\n[2] PTR '(anon)' type_id=1\n",
        "[7]junk INT 'int' size=4 nr_bits=32\n",
        "[1] INT @5'junk' size=4 nr_bits=32\n",
        "[1] INT 'int' (VAR size=4 nr_bits=32\n",
    ] {
        assert!(assemble(text).is_err(), "{text:?} was accepted");
    }
}
