//! Per-kind structural (meta) checks, in each kind's check order.

use super::suite::Suite;
use btfcheck::builder::{
    info, int_data, m, mb, BtfBuilder, FUNC_EXTERN, FUNC_GLOBAL, FUNC_STATIC, INT_BOOL, INT_CHAR, INT_SIGNED,
    VAR_EXTERN, VAR_GLOBAL, VAR_STATIC,
};
use btfcheck::raw::Kind;

fn int(b: &mut BtfBuilder) -> u32 {
    b.int("int", 4, 32, INT_SIGNED)
}

pub fn int_kind(s: &mut Suite) {
    s.group("int");
    s.b("tail_missing", "INT without int_data", |b| {
        let n = b.string("int");
        b.record(n, info(Kind::INT, 0, false), 4, &[]);
    });
    s.b("vlen", "INT with vlen 1", |b| {
        let n = b.string("int");
        b.record(n, info(Kind::INT, 1, false), 4, &[0x20]);
    });
    s.b("kflag", "INT with kind_flag", |b| {
        let n = b.string("int");
        b.record(n, info(Kind::INT, 0, true), 4, &[0x20]);
    });
    for d in [0x1000_0020u32, 0x8000_0020, 0xf000_0000] {
        s.b(format!("data_top_{d:08x}"), "int_data top nibble set", |b| {
            b.int_raw("int", 4, d);
        });
    }
    s.b("data_mid_bits", "int_data bits 8-15 are not checked", |b| {
        b.int_raw("int", 4, 0x0000_0120);
    });
    for (bits, off, size) in [
        (128u8, 0u8, 16u32),
        (129, 0, 17),
        (64, 65, 16),
        (64, 64, 16),
        (1, 127, 16),
        (255, 0, 32),
        (0, 255, 32),
    ] {
        s.b(
            format!("bits_{bits}_off_{off}_size_{size}"),
            "nr_bits + offset against 128 and the size",
            |b| {
                b.int_raw("int", size, int_data(0, off, bits));
            },
        );
    }
    for (bits, off, size) in [
        (9u8, 0u8, 1u32),
        (8, 1, 1),
        (32, 0, 3),
        (33, 0, 4),
        (1, 0, 0),
        (0, 0, 0),
        (7, 1, 1),
        (64, 0, 8),
    ] {
        s.b(
            format!("size_bits_{bits}_off_{off}_size_{size}"),
            "rounded-up bits against the type size",
            |b| {
                b.int_raw("int", size, int_data(0, off, bits));
            },
        );
    }
    for enc in [0u8, INT_SIGNED, INT_CHAR, 3, INT_BOOL, 5, 8, 15] {
        s.b(
            format!("encoding_{enc}"),
            "only one encoding bit may be set",
            |b| {
                b.int_raw("int", 4, int_data(enc, 0, 32));
            },
        );
    }
    s.b("name_with_space", "INT names are not checked", |b| {
        b.int("unsigned int", 4, 32, 0);
    });
    s.b("anonymous_bool", "an anonymous BOOL", |b| {
        b.int("", 1, 1, INT_BOOL);
    });
    s.b("int128", "a 128-bit INT", |b| {
        b.int("__int128", 16, 128, INT_SIGNED);
    });
    s.b(
        "long_name_1200",
        "a 1200-byte INT name: the log line is cut at 1023 bytes",
        |b| {
            b.int(&"a".repeat(1200), 4, 32, 0);
        },
    );
    s.b(
        "long_name_1015",
        "a name that fills the first log chunk exactly",
        |b| {
            b.int(&"a".repeat(1015), 4, 32, 0);
        },
    );
}

pub fn refs(s: &mut Suite) {
    s.group("ref");
    let kinds = [
        ("ptr", Kind::PTR),
        ("typedef", Kind::TYPEDEF),
        ("volatile", Kind::VOLATILE),
        ("const", Kind::CONST),
        ("restrict", Kind::RESTRICT),
        ("type_tag", Kind::TYPE_TAG),
    ];
    for (kn, k) in kinds {
        let good_name = matches!(k, Kind::TYPEDEF | Kind::TYPE_TAG);
        s.b(format!("{kn}_vlen"), "vlen must be 0", |b| {
            int(b);
            let n = if good_name { b.string("t") } else { 0 };
            b.record(n, info(k, 1, false), 1, &[]);
        });
        s.b(
            format!("{kn}_kflag"),
            "kind_flag is only allowed on TYPE_TAG",
            |b| {
                int(b);
                let n = if good_name { b.string("t") } else { 0 };
                b.record(n, info(k, 0, true), 1, &[]);
            },
        );
        s.b(format!("{kn}_type_max"), "type id above BTF_MAX_TYPE", |b| {
            int(b);
            let n = if good_name { b.string("t") } else { 0 };
            b.record(n, info(k, 0, false), 0x10_0000, &[]);
        });
        s.b(
            format!("{kn}_type_0xfffff"),
            "type id 0xfffff passes meta, fails resolve",
            |b| {
                int(b);
                let n = if good_name { b.string("t") } else { 0 };
                b.record(n, info(k, 0, false), 0xfffff, &[]);
            },
        );
        s.b(
            format!("{kn}_named"),
            "a name: required for TYPEDEF/TYPE_TAG, forbidden otherwise",
            |b| {
                int(b);
                let n = b.string("p");
                b.record(n, info(k, 0, false), 1, &[]);
            },
        );
        s.b(format!("{kn}_anon"), "no name", |b| {
            int(b);
            b.record(0, info(k, 0, false), 1, &[]);
        });
        s.b(
            format!("{kn}_bad_ident"),
            "a name that is not an identifier",
            |b| {
                int(b);
                let n = b.string("a-b");
                b.record(n, info(k, 0, false), 1, &[]);
            },
        );
        s.b(format!("{kn}_to_void"), "target 0 (void)", |b| {
            int(b);
            let n = if good_name { b.string("t") } else { 0 };
            b.record(n, info(k, 0, false), 0, &[]);
        });
    }
    s.b(
        "type_tag_kflag_ok",
        "TYPE_TAG with kind_flag (attribute) is accepted",
        |b| {
            let i = int(b);
            let t = b.type_tag_attr("attr", i);
            b.ptr(t);
        },
    );
    s.b(
        "type_tag_any_bytes",
        "TYPE_TAG values are any non-empty bytes",
        |b| {
            let i = int(b);
            let t = b.type_tag("\u{1}x y", i);
            b.ptr(t);
        },
    );
}

pub fn array(s: &mut Suite) {
    s.group("array");
    s.b("tail_missing", "ARRAY without btf_array", |b| {
        int(b);
        b.record(0, info(Kind::ARRAY, 0, false), 0, &[1, 1]);
    });
    s.b("named", "arrays are anonymous", |b| {
        int(b);
        let n = b.string("a");
        b.record(n, info(Kind::ARRAY, 0, false), 0, &[1, 1, 4]);
    });
    s.b("vlen", "vlen must be 0", |b| {
        int(b);
        b.record(0, info(Kind::ARRAY, 2, false), 0, &[1, 1, 4]);
    });
    s.b("kflag", "no kind_flag", |b| {
        int(b);
        b.record(0, info(Kind::ARRAY, 0, true), 0, &[1, 1, 4]);
    });
    s.b("size", "size must be 0", |b| {
        int(b);
        b.record(0, info(Kind::ARRAY, 0, false), 16, &[1, 1, 4]);
    });
    for (name, elem, index) in [
        ("elem0", 0u32, 1u32),
        ("index0", 1, 0),
        ("elem_max", 0x10_0000, 1),
        ("index_max", 1, 0x10_0000),
        ("both0", 0, 0),
    ] {
        s.b(name, "element and index must be non-zero ids in range", |b| {
            int(b);
            b.array(elem, index, 4);
        });
    }
    s.b("zero_elems", "zero elements", |b| {
        let i = int(b);
        b.array(i, i, 0);
    });
    s.b("overflow", "element size times count overflows u32", |b| {
        let i = int(b);
        b.array(i, i, 0x4000_0000);
    });
    s.b("no_overflow_edge", "exactly u32::MAX / 4 elements of int", |b| {
        let i = int(b);
        b.array(i, i, u32::MAX / 4);
    });
    s.b("nested_overflow", "array of arrays overflowing", |b| {
        let i = int(b);
        let a = b.array(i, i, 0x10000);
        b.array(a, i, 0x10000);
    });
    s.b("elem_irregular", "array of a 3-bit int", |b| {
        let i = int(b);
        let bits3 = b.int("b3", 1, 3, 0);
        b.array(bits3, i, 4);
    });
    s.b("index_irregular", "index is a 31-bit int", |b| {
        let i = int(b);
        let i31 = b.int("i31", 4, 31, 0);
        b.array(i, i31, 4);
    });
    s.b("index_enum", "index is an ENUM", |b| {
        let i = int(b);
        let e = b.enum_("e", 4, false, &[("A", 0)]);
        b.array(i, e, 4);
    });
    s.b("index_typedef", "index through a typedef to u32", |b| {
        let i = int(b);
        let u = b.typedef("u32", i);
        b.array(i, u, 3);
    });
    s.b("index_int128", "a 128-bit index is regular", |b| {
        let i = int(b);
        let w = b.int("w", 16, 128, 0);
        b.array(i, w, 3);
    });
    s.b("index_int8", "an 8-bit index", |b| {
        let i = int(b);
        let c = b.int("char", 1, 8, INT_SIGNED);
        b.array(i, c, 3);
    });
    s.b("index_int24", "a 24-bit index is not a power of two", |b| {
        let i = int(b);
        let c = b.int("u24", 4, 24, 0);
        b.array(i, c, 3);
    });
    s.b("index_bits_offset", "an index int with a bit offset", |b| {
        let i = int(b);
        let c = b.int_raw("o", 8, int_data(0, 8, 32));
        b.array(i, c, 3);
    });
    s.b("elem_fwd", "element is a FWD", |b| {
        let i = int(b);
        let f = b.fwd("f", false);
        b.array(f, i, 2);
    });
}

pub fn composite(s: &mut Suite) {
    s.group("struct");
    s.b("tail_short", "vlen larger than the data", |b| {
        int(b);
        let n = b.string("s");
        b.record(n, info(Kind::STRUCT, 3, false), 4, &[0, 1, 0]);
    });
    s.b("bad_name", "struct name not an identifier", |b| {
        let i = int(b);
        b.struct_("s-1", 4, &[m("a", i, 0)]);
    });
    s.b(
        "empty_name_nonzero_off",
        "a name offset that points at an empty string",
        |b| {
            let i = int(b);
            let n = b.raw_string(b"\0");
            b.record(n, info(Kind::STRUCT, 1, false), 4, &[0, i, 0]);
        },
    );
    s.b("member_name_off", "member name offset out of range", |b| {
        let i = int(b);
        let n = b.string("s");
        b.record(n, info(Kind::STRUCT, 1, false), 4, &[500, i, 0]);
    });
    s.b("member_bad_name", "member name not an identifier", |b| {
        let i = int(b);
        b.struct_("s", 4, &[m("1m", i, 0)]);
    });
    s.b("member_type0", "member of type void", |b| {
        int(b);
        b.struct_("s", 4, &[m("m", 0, 0)]);
    });
    s.b("member_type_max", "member type above BTF_MAX_TYPE", |b| {
        int(b);
        b.struct_("s", 4, &[m("m", 0x10_0000, 0)]);
    });
    s.b("member_order", "members out of order", |b| {
        let i = int(b);
        b.struct_("s", 8, &[m("a", i, 32), m("b", i, 0)]);
    });
    s.b(
        "member_same_offset",
        "two members at the same offset are fine",
        |b| {
            let i = int(b);
            b.struct_("s", 4, &[m("a", i, 0), m("b", i, 0)]);
        },
    );
    s.b("member_beyond_size", "member offset beyond the struct", |b| {
        let i = int(b);
        b.struct_("s", 4, &[m("a", i, 40)]);
    });
    s.b(
        "member_at_end",
        "member offset equal to the size (flexible array)",
        |b| {
            let i = int(b);
            let a = b.array(i, i, 0);
            b.struct_("s", 4, &[m("n", i, 0), m("f", a, 32)]);
        },
    );
    s.b("member_bit_33_of_4", "bit offset 33 in a 4-byte struct", |b| {
        let i = int(b);
        b.struct_("s", 4, &[m("a", i, 33)]);
    });
    s.b("union_offset", "union member at a non-zero offset", |b| {
        let i = int(b);
        b.union_("u", 8, &[m("a", i, 0), m("b", i, 32)]);
    });
    s.b(
        "union_kflag_bitfield",
        "kind_flag union bitfield at offset 0",
        |b| {
            let i = int(b);
            b.union_kflag("u", 4, &[mb("a", i, 0, 3), mb("b", i, 0, 0)]);
        },
    );
    s.b(
        "union_kflag_high_bits",
        "kind_flag union: only the low 24 bits are the offset",
        |b| {
            let i = int(b);
            b.union_kflag("u", 4, &[mb("a", i, 0, 5)]);
        },
    );
    s.b("empty_struct", "a struct with no members", |b| {
        b.struct_("e", 0, &[]);
    });
    s.b("anon_struct", "an anonymous struct", |b| {
        let i = int(b);
        b.struct_("", 4, &[m("a", i, 0)]);
    });
    s.b("anon_member", "an anonymous member", |b| {
        let i = int(b);
        b.struct_("s", 4, &[m("", i, 0)]);
    });
    s.b(
        "kflag_meta_offset",
        "kind_flag member offsets use the low 24 bits in meta",
        |b| {
            let i = int(b);
            b.struct_kflag("s", 4, &[mb("a", i, 0, 8), mb("b", i, 8, 8)]);
        },
    );
    s.b("kflag_order", "kind_flag members out of order", |b| {
        let i = int(b);
        b.struct_kflag("s", 4, &[mb("a", i, 8, 8), mb("b", i, 0, 8)]);
    });
    s.b("member_name_dot", "member names may contain dots", |b| {
        let i = int(b);
        b.struct_("s", 4, &[m(".a.b", i, 0)]);
    });
}

pub fn enums(s: &mut Suite) {
    s.group("enum");
    for (kn, k) in [("enum", Kind::ENUM), ("enum64", Kind::ENUM64)] {
        let per: &[u32] = if k == Kind::ENUM { &[0] } else { &[0, 0] };
        for size in [0u32, 1, 2, 3, 4, 5, 8, 16] {
            s.b(format!("{kn}_size_{size}"), "sizes 1, 2, 4 and 8 only", |b| {
                let n = b.string("e");
                let a = b.string("A");
                let mut tail = vec![a];
                tail.extend_from_slice(per);
                b.record(n, info(k, 1, false), size, &tail);
            });
        }
        s.b(format!("{kn}_tail_short"), "vlen larger than the data", |b| {
            let n = b.string("e");
            b.record(n, info(k, 2, false), 4, &[0]);
        });
        s.b(format!("{kn}_bad_name"), "enum name not an identifier", |b| {
            let n = b.string("e e");
            let a = b.string("A");
            let mut tail = vec![a];
            tail.extend_from_slice(per);
            b.record(n, info(k, 1, false), 4, &tail);
        });
        s.b(
            format!("{kn}_value_name_off"),
            "enumerator name offset out of range",
            |b| {
                let n = b.string("e");
                let a = b.string("A");
                let mut tail = vec![a];
                tail.extend_from_slice(per);
                tail.push(900);
                tail.extend_from_slice(per);
                b.record(n, info(k, 2, false), 4, &tail);
            },
        );
        s.b(format!("{kn}_value_anon"), "anonymous enumerator", |b| {
            let n = b.string("e");
            let a = b.string("A");
            let mut tail = vec![a];
            tail.extend_from_slice(per);
            tail.push(0);
            tail.extend_from_slice(per);
            b.record(n, info(k, 2, false), 4, &tail);
        });
        s.b(
            format!("{kn}_value_bad_name"),
            "enumerator name not an identifier",
            |b| {
                let n = b.string("e");
                let a = b.string("9A");
                let mut tail = vec![a];
                tail.extend_from_slice(per);
                b.record(n, info(k, 1, false), 4, &tail);
            },
        );
        s.b(format!("{kn}_vlen0"), "no enumerators", |b| {
            let n = b.string("z");
            b.record(n, info(k, 0, false), 8, &[]);
        });
        s.b(format!("{kn}_anon"), "an anonymous enum", |b| {
            let a = b.string("A");
            let mut tail = vec![a];
            tail.extend_from_slice(per);
            b.record(0, info(k, 1, false), 4, &tail);
        });
    }
    let vals = [
        ("A", 0i64),
        ("B", -1),
        ("C", i32::MAX as i64),
        ("D", i32::MIN as i64),
        ("E", 0x7fff_ffff_ffff_ffff),
        ("F", i64::MIN),
    ];
    s.b(
        "enum_values_unsigned",
        "values print as unsigned without kind_flag",
        |b| {
            b.enum_("e", 4, false, &vals);
        },
    );
    s.b(
        "enum_values_signed",
        "values print as signed with kind_flag",
        |b| {
            b.enum_("e", 4, true, &vals);
        },
    );
    s.b("enum64_values_unsigned", "64-bit values, unsigned", |b| {
        b.enum64("e", 8, false, &vals);
    });
    s.b("enum64_values_signed", "64-bit values, signed", |b| {
        b.enum64("e", 8, true, &vals);
    });
    s.b(
        "enum_value_long_name",
        "an enumerator name over 1023 bytes loses its newline",
        |b| {
            let long = format!("x{}", "y".repeat(1100));
            b.enum_("e", 4, false, &[(&long, 1), ("B", 2)]);
        },
    );
    s.b(
        "enum_latin1_names",
        "enumerator names with dots and Latin-1 letters",
        |b| {
            b.enum_("e", 4, false, &[(".a", 1), ("\u{c0}x", 2)]);
        },
    );
}

pub fn fwd_func(s: &mut Suite) {
    s.group("fwd_func");
    s.b("fwd_struct", "FWD struct", |b| {
        b.fwd("f", false);
    });
    s.b("fwd_union", "FWD union (kind_flag)", |b| {
        b.fwd("u", true);
    });
    s.b("fwd_vlen", "FWD with vlen", |b| {
        let n = b.string("f");
        b.record(n, info(Kind::FWD, 1, false), 0, &[]);
    });
    s.b("fwd_type", "FWD with a type", |b| {
        let n = b.string("f");
        b.record(n, info(Kind::FWD, 0, false), 1, &[]);
    });
    s.b("fwd_anon", "anonymous FWD", |b| {
        b.record(0, info(Kind::FWD, 0, false), 0, &[]);
    });
    s.b("fwd_bad_name", "FWD name not an identifier", |b| {
        b.fwd("a b", false);
    });
    for (name, linkage) in [
        ("func_static", FUNC_STATIC),
        ("func_global", FUNC_GLOBAL),
        ("func_extern", FUNC_EXTERN),
        ("func_linkage3", 3),
        ("func_linkage_ffff", 0xffff),
    ] {
        s.b(name, "FUNC linkage: static and global only", |b| {
            let p = b.func_proto(0, &[]);
            b.func("f", p, linkage);
        });
    }
    s.b("func_anon", "anonymous FUNC", |b| {
        let p = b.func_proto(0, &[]);
        b.record(0, info(Kind::FUNC, 0, false), p, &[]);
    });
    s.b("func_bad_name", "FUNC name not an identifier", |b| {
        let p = b.func_proto(0, &[]);
        b.func("f()", p, 0);
    });
    s.b("func_kflag", "FUNC with kind_flag", |b| {
        let p = b.func_proto(0, &[]);
        let n = b.string("f");
        b.record(n, info(Kind::FUNC, 0, true), p, &[]);
    });
    s.b(
        "func_name_then_linkage",
        "a bad name is reported before a bad linkage",
        |b| {
            let p = b.func_proto(0, &[]);
            b.func("9f", p, 2);
        },
    );
    s.b("proto_named", "FUNC_PROTO must be anonymous", |b| {
        let n = b.string("fp");
        b.record(n, info(Kind::FUNC_PROTO, 0, false), 0, &[]);
    });
    s.b("proto_kflag", "FUNC_PROTO with kind_flag", |b| {
        b.record(0, info(Kind::FUNC_PROTO, 0, true), 0, &[]);
    });
    s.b("proto_tail_short", "FUNC_PROTO vlen larger than the data", |b| {
        b.record(0, info(Kind::FUNC_PROTO, 2, false), 0, &[0, 0]);
    });
    s.b(
        "proto_arg_name_off_bad",
        "an argument name offset out of range prints (invalid-name-offset)",
        |b| {
            let i = int(b);
            b.record(0, info(Kind::FUNC_PROTO, 1, false), 0, &[4000, i]);
        },
    );
}

pub fn var_datasec(s: &mut Suite) {
    s.group("var_datasec");
    for (name, linkage) in [
        ("var_static", VAR_STATIC),
        ("var_global", VAR_GLOBAL),
        ("var_extern", VAR_EXTERN),
        ("var_linkage_7", 7),
    ] {
        s.b(name, "VAR linkage: static and global-allocated only", |b| {
            let i = int(b);
            b.var("v", i, linkage);
        });
    }
    s.b("var_tail_missing", "VAR without btf_var", |b| {
        let i = int(b);
        let n = b.string("v");
        b.record(n, info(Kind::VAR, 0, false), i, &[]);
    });
    s.b("var_vlen", "VAR with vlen", |b| {
        let i = int(b);
        let n = b.string("v");
        b.record(n, info(Kind::VAR, 1, false), i, &[1]);
    });
    s.b("var_kflag", "VAR with kind_flag", |b| {
        let i = int(b);
        let n = b.string("v");
        b.record(n, info(Kind::VAR, 0, true), i, &[1]);
    });
    s.b("var_anon", "anonymous VAR", |b| {
        let i = int(b);
        b.record(0, info(Kind::VAR, 0, false), i, &[1]);
    });
    s.b("var_bad_name", "VAR name with a dash", |b| {
        let i = int(b);
        b.var("a-b", i, 1);
    });
    s.b("var_void", "VAR of type void", |b| {
        b.var("v", 0, 1);
    });
    s.b("var_type_max", "VAR type above BTF_MAX_TYPE", |b| {
        b.var("v", 0x10_0000, 1);
    });
    s.b("ds_ok", "a DATASEC with one VAR", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        b.datasec(".data", 4, &[(v, 0, 4)]);
    });
    s.b("ds_size0", "DATASEC of size 0", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        b.datasec(".data", 0, &[(v, 0, 4)]);
    });
    s.b("ds_kflag", "DATASEC with kind_flag", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        let n = b.string(".data");
        b.record(n, info(Kind::DATASEC, 1, true), 4, &[v, 0, 4]);
    });
    s.b("ds_tail_short", "DATASEC vlen larger than the data", |b| {
        let n = b.string(".data");
        b.record(n, info(Kind::DATASEC, 2, false), 4, &[1, 0, 4]);
    });
    s.b("ds_anon", "DATASEC without a name", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        let _ = b.string("x");
        b.record(0, info(Kind::DATASEC, 1, false), 4, &[v, 0, 4]);
    });
    s.b(
        "ds_name_printable",
        "section names may hold spaces and punctuation",
        |b| {
            let i = int(b);
            let v = b.var("v", i, 1);
            b.datasec(".data my sec!", 4, &[(v, 0, 4)]);
        },
    );
    s.b("ds_name_tab", "a control byte in a section name", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        b.datasec(".da\tta", 4, &[(v, 0, 4)]);
    });
    s.b("ds_vlen0", "a DATASEC with no entries", |b| {
        b.datasec(".bss", 4, &[]);
    });
    s.b("ds_entry_type0", "entry of type 0", |b| {
        let i = int(b);
        b.var("v", i, 1);
        b.datasec(".data", 4, &[(0, 0, 4)]);
    });
    s.b("ds_entry_type_max", "entry type above BTF_MAX_TYPE", |b| {
        b.datasec(".data", 4, &[(0x10_0000, 0, 4)]);
    });
    s.b("ds_overlap", "entries overlap", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        let w = b.var("w", i, 1);
        b.datasec(".data", 8, &[(v, 0, 4), (w, 2, 4)]);
    });
    s.b("ds_unsorted", "entries out of order", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        let w = b.var("w", i, 1);
        b.datasec(".data", 8, &[(v, 4, 4), (w, 0, 4)]);
    });
    s.b("ds_off_eq_size", "entry offset equal to the section size", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        b.datasec(".data", 8, &[(v, 8, 4)]);
    });
    s.b("ds_entry_size0", "entry of size 0", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        b.datasec(".data", 8, &[(v, 0, 0)]);
    });
    s.b("ds_entry_size_gt", "entry larger than the section", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        b.datasec(".data", 4, &[(v, 0, 8)]);
    });
    s.b("ds_entry_end", "entry ends past the section", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        b.datasec(".data", 8, &[(v, 6, 4)]);
    });
    s.b("ds_entry_small", "entry smaller than its VAR", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        b.datasec(".data", 4, &[(v, 0, 2)]);
    });
    s.b("ds_entry_big", "entry larger than its VAR is fine", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        b.datasec(".data", 8, &[(v, 0, 8)]);
    });
    s.b("ds_entry_int", "entry that is not a VAR", |b| {
        let i = int(b);
        b.datasec(".data", 4, &[(i, 0, 4)]);
    });
    s.b(
        "ds_entry_func",
        "a FUNC in a DATASEC (6.18 never allows it)",
        |b| {
            let p = b.func_proto(0, &[]);
            let f = b.func("f", p, 0);
            b.datasec(".text", 8, &[(f, 0, 8)]);
        },
    );
    s.b("ds_entry_missing", "entry id beyond the last type", |b| {
        b.datasec(".data", 4, &[(99, 0, 4)]);
    });
    s.b("ds_two_sections_one_var", "one VAR listed in two sections", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        b.datasec(".a", 4, &[(v, 0, 4)]);
        b.datasec(".b", 4, &[(v, 0, 4)]);
    });
    s.b("var_lone_static", "a static VAR in no section", |b| {
        let i = int(b);
        b.var("v", i, 0);
    });
    s.b("var_of_struct_ptr", "VAR of a pointer", |b| {
        let i = int(b);
        let p = b.ptr(i);
        let v = b.var("v", p, 1);
        b.datasec(".data", 8, &[(v, 0, 8)]);
    });
}

pub fn float_tags(s: &mut Suite) {
    s.group("float_decl_tag");
    for size in [0u32, 1, 2, 3, 4, 6, 8, 10, 12, 16, 32] {
        s.b(format!("float_size_{size}"), "FLOAT sizes 2, 4, 8, 12, 16", |b| {
            b.float("f", size);
        });
    }
    s.b("float_vlen", "FLOAT with vlen", |b| {
        let n = b.string("f");
        b.record(n, info(Kind::FLOAT, 1, false), 4, &[]);
    });
    s.b("float_kflag", "FLOAT with kind_flag", |b| {
        let n = b.string("f");
        b.record(n, info(Kind::FLOAT, 0, true), 4, &[]);
    });
    s.b("float_anon", "FLOAT names are not checked", |b| {
        b.float("", 8);
    });
    s.b("dt_tail_missing", "DECL_TAG without component_idx", |b| {
        let i = int(b);
        let t = b.struct_("s", 4, &[m("a", i, 0)]);
        let n = b.string("t");
        b.record(n, info(Kind::DECL_TAG, 0, false), t, &[]);
    });
    s.b("dt_empty", "empty value", |b| {
        let i = int(b);
        let t = b.struct_("s", 4, &[m("a", i, 0)]);
        b.record(0, info(Kind::DECL_TAG, 0, false), t, &[u32::MAX]);
    });
    s.b("dt_vlen", "DECL_TAG with vlen", |b| {
        let i = int(b);
        let t = b.struct_("s", 4, &[m("a", i, 0)]);
        let n = b.string("t");
        b.record(n, info(Kind::DECL_TAG, 1, false), t, &[u32::MAX]);
    });
    s.b(
        "dt_kflag",
        "DECL_TAG with kind_flag (attribute) is accepted",
        |b| {
            let i = int(b);
            let t = b.struct_("s", 4, &[m("a", i, 0)]);
            b.decl_tag_attr("attr", t, -1);
        },
    );
    for idx in [-2i32, i32::MIN] {
        s.b(format!("dt_idx_{idx}"), "component_idx below -1", |b| {
            let i = int(b);
            let t = b.struct_("s", 4, &[m("a", i, 0)]);
            b.decl_tag("t", t, idx);
        });
    }
    s.b("dt_value_bytes", "DECL_TAG values are any non-empty bytes", |b| {
        let i = int(b);
        let t = b.struct_("s", 4, &[m("a", i, 0)]);
        b.decl_tag("\u{10}\u{7f} x", t, -1);
    });
}
