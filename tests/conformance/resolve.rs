//! The resolve pass: every referring kind against every target kind, in both
//! id orders, then member layout, prototypes, DECL_TAG targets, loops and
//! depth.

use super::suite::Suite;
use btfcheck::builder::{int_data, m, mb, BtfBuilder, INT_SIGNED};

type Maker = fn(&mut BtfBuilder) -> u32;

fn int(b: &mut BtfBuilder) -> u32 {
    b.int("int", 4, 32, INT_SIGNED)
}

const TARGETS: &[(&str, Maker)] = &[
    ("void", |_| 0),
    ("missing", |_| 999),
    ("int", int),
    ("int3", |b| b.int("i3", 1, 3, 0)),
    ("ptr", |b| {
        let i = int(b);
        b.ptr(i)
    }),
    ("array", |b| {
        let i = int(b);
        b.array(i, i, 2)
    }),
    ("struct", |b| {
        let i = int(b);
        b.struct_("s", 4, &[m("x", i, 0)])
    }),
    ("union", |b| {
        let i = int(b);
        b.union_("u", 4, &[m("x", i, 0)])
    }),
    ("enum", |b| b.enum_("e", 4, false, &[("A", 1)])),
    ("enum64", |b| b.enum64("e64", 8, false, &[("B", 1)])),
    ("fwd", |b| b.fwd("fw", false)),
    ("typedef_int", |b| {
        let i = int(b);
        b.typedef("td", i)
    }),
    ("typedef_void", |b| b.typedef("vd", 0)),
    ("volatile_int", |b| {
        let i = int(b);
        b.volatile(i)
    }),
    ("const_int", |b| {
        let i = int(b);
        b.const_(i)
    }),
    ("restrict_ptr", |b| {
        let i = int(b);
        let p = b.ptr(i);
        b.restrict(p)
    }),
    ("type_tag_int", |b| {
        let i = int(b);
        b.type_tag("tg", i)
    }),
    ("func", |b| {
        let p = b.func_proto(0, &[]);
        b.func("fn", p, 0)
    }),
    ("func_proto", |b| b.func_proto(0, &[])),
    ("var", |b| {
        let i = int(b);
        b.var("vr", i, 1)
    }),
    ("datasec", |b| {
        let i = int(b);
        let v = b.var("dv", i, 1);
        b.datasec(".ds", 4, &[(v, 0, 4)])
    }),
    ("float", |b| b.float("double", 8)),
    ("decl_tag", |b| {
        let i = int(b);
        let s = b.struct_("ts", 4, &[m("x", i, 0)]);
        b.decl_tag("dt", s, -1)
    }),
];

type Referrer = fn(&mut BtfBuilder, u32);

const REFERRERS: &[(&str, Referrer, bool)] = &[
    (
        "ptr",
        |b, t| {
            b.ptr(t);
        },
        true,
    ),
    (
        "typedef",
        |b, t| {
            b.typedef("r", t);
        },
        true,
    ),
    (
        "const",
        |b, t| {
            b.const_(t);
        },
        true,
    ),
    (
        "volatile",
        |b, t| {
            b.volatile(t);
        },
        false,
    ),
    (
        "restrict",
        |b, t| {
            b.restrict(t);
        },
        false,
    ),
    (
        "type_tag",
        |b, t| {
            b.type_tag("r", t);
        },
        false,
    ),
    (
        "var",
        |b, t| {
            b.var("r", t, 1);
        },
        true,
    ),
    (
        "array_elem",
        |b, t| {
            let idx = b.int("idx", 4, 32, 0);
            b.array(t, idx, 2);
        },
        true,
    ),
    (
        "array_index",
        |b, t| {
            let el = b.int("el", 1, 8, 0);
            b.array(el, t, 2);
        },
        false,
    ),
    (
        "member",
        |b, t| {
            b.struct_("r", 32, &[m("a", t, 0)]);
        },
        true,
    ),
    (
        "union_member",
        |b, t| {
            b.union_("r", 32, &[m("a", t, 0)]);
        },
        false,
    ),
    (
        "kflag_member",
        |b, t| {
            b.struct_kflag("r", 32, &[mb("a", t, 0, 0)]);
        },
        false,
    ),
    (
        "proto_return",
        |b, t| {
            b.func_proto(t, &[]);
        },
        false,
    ),
    (
        "proto_arg",
        |b, t| {
            b.func_proto(0, &[("a", t)]);
        },
        true,
    ),
    (
        "func",
        |b, t| {
            b.func("r", t, 0);
        },
        false,
    ),
    (
        "decl_tag",
        |b, t| {
            b.decl_tag("r", t, -1);
        },
        true,
    ),
    (
        "datasec_entry",
        |b, t| {
            b.datasec(".r", 32, &[(t, 0, 32)]);
        },
        false,
    ),
];

pub fn matrix(s: &mut Suite) {
    s.group("resolve_matrix");
    for &(rn, referrer, both_orders) in REFERRERS {
        for &(tn, target) in TARGETS {
            s.b(
                format!("{rn}_to_{tn}"),
                format!("{rn} referring to an earlier {tn}"),
                |b| {
                    let t = target(b);
                    referrer(b, t);
                },
            );
            if both_orders && !matches!(tn, "void" | "missing") {
                // Learn the target's id when it is built after the referrer.
                let mut dry = BtfBuilder::new();
                referrer(&mut dry, 0);
                let tid = target(&mut dry);
                s.b(
                    format!("{rn}_before_{tn}"),
                    format!("{rn} referring to a later {tn}"),
                    |b| {
                        referrer(b, tid);
                        let got = target(b);
                        assert_eq!(got, tid, "dry run predicted the target id");
                    },
                );
            }
        }
    }
}

pub fn members(s: &mut Suite) {
    s.group("member");
    let cases: &[(&str, u32, u32, u8, bool)] = &[
        // (name, struct size, bit offset, bitfield size, kflag) for an int member
        ("int_fits", 4, 0, 0, false),
        ("int_exceeds", 4, 8, 0, false),
        ("int_bit3", 8, 3, 0, false),
        ("int_copybits", 16, 100, 0, false),
        ("kf_int_bitfield", 4, 0, 5, true),
        ("kf_int_bitfield_33", 8, 0, 33, true),
        ("kf_int_unaligned_plain", 8, 3, 0, true),
        ("kf_int_bitfield_end", 4, 27, 5, true),
        ("kf_int_bitfield_over", 4, 28, 5, true),
        ("kf_int_high_offset", 4, 0xfffff8, 8, true),
    ];
    for &(name, size, bits, bf, kflag) in cases {
        s.b(name, "INT member layout", |b| {
            let i = int(b);
            if kflag {
                b.struct_kflag("s", size, &[mb("a", i, bits, bf)]);
            } else {
                b.struct_("s", size, &[m("a", i, bits)]);
            }
        });
    }
    s.b(
        "int_bits_offset_overflow",
        "member offset plus the int's bit offset overflows u32",
        |b| {
            let o = b.int_raw("o", 8, int_data(0, 8, 32));
            b.struct_("s", 4, &[m("a", o, u32::MAX - 4)]);
        },
    );
    s.b(
        "int_bits_offset_u32_overflow",
        "a 512 MiB struct whose int member's offset plus the int's own offset overflows u32",
        |b| {
            let o = b.int_raw("o", 8, int_data(0, 8, 32));
            b.struct_("s", 0x2000_0000, &[m("a", o, 0xffff_fff9)]);
        },
    );
    s.b(
        "int128_copy_bits",
        "a 128-bit int member at bit 4 needs 132 copy bits",
        |b| {
            let w = b.int("w", 16, 128, 0);
            b.struct_("s", 32, &[m("a", w, 4)]);
        },
    );
    s.b(
        "kf_int128_copy_bits",
        "kind_flag: a 128-bit bitfield at bit 4",
        |b| {
            let w = b.int("w", 16, 128, 0);
            b.struct_kflag("s", 32, &[mb("a", w, 4, 128)]);
        },
    );
    s.b("int_with_offset_fits", "an int with its own bit offset", |b| {
        let o = b.int_raw("o", 8, int_data(0, 8, 32));
        b.struct_("s", 8, &[m("a", o, 0)]);
    });
    s.b("kf_irregular_base", "kind_flag bitfield on a 31-bit int", |b| {
        let i = b.int("i31", 4, 31, 0);
        b.struct_kflag("s", 4, &[mb("a", i, 0, 2)]);
    });
    s.b(
        "kf_typedef_bitfield",
        "kind_flag bitfield through a typedef",
        |b| {
            let i = int(b);
            let t = b.typedef("u32", i);
            b.struct_kflag("s", 4, &[mb("m", t, 3, 5)]);
        },
    );
    s.b(
        "kf_typedef_bitfield_too_big",
        "kind_flag bitfield through a typedef, 40 bits",
        |b| {
            let i = int(b);
            let t = b.typedef("u32", i);
            b.struct_kflag("s", 8, &[mb("m", t, 0, 40)]);
        },
    );
    s.b(
        "typedef_member_exceeds",
        "a typedef member is re-checked as its target and printed with the target id",
        |b| {
            let i = int(b);
            let t = b.typedef("u32", i);
            b.struct_("s", 4, &[m("m", t, 8)]);
        },
    );
    s.b(
        "const_struct_member_exceeds",
        "const struct member too big",
        |b| {
            let i = int(b);
            let inner = b.struct_("in", 8, &[m("x", i, 0), m("y", i, 32)]);
            let c = b.const_(inner);
            b.struct_("s", 4, &[m("m", c, 0)]);
        },
    );
    s.b("ptr_unaligned", "pointer member not byte aligned", |b| {
        let i = int(b);
        let p = b.ptr(i);
        b.struct_("s", 16, &[m("p", p, 4)]);
    });
    s.b("ptr_exceeds", "pointer member past the end", |b| {
        let i = int(b);
        let p = b.ptr(i);
        b.struct_("s", 12, &[m("p", p, 64)]);
    });
    s.b(
        "kf_ptr_bitfield",
        "kind_flag pointer member with a bitfield size",
        |b| {
            let i = int(b);
            let p = b.ptr(i);
            b.struct_kflag("s", 16, &[mb("p", p, 0, 8)]);
        },
    );
    s.b("array_unaligned", "array member not byte aligned", |b| {
        let i = int(b);
        let a = b.array(i, i, 2);
        b.struct_("s", 16, &[m("a", a, 4)]);
    });
    s.b("array_exceeds", "array member past the end", |b| {
        let i = int(b);
        let a = b.array(i, i, 4);
        b.struct_("s", 8, &[m("a", a, 0)]);
    });
    s.b("struct_unaligned", "struct member not byte aligned", |b| {
        let i = int(b);
        let t = b.struct_("t", 4, &[m("x", i, 0)]);
        b.struct_("s", 8, &[m("t", t, 1)]);
    });
    s.b("struct_exceeds", "struct member past the end", |b| {
        let i = int(b);
        let t = b.struct_("t", 8, &[m("x", i, 0)]);
        b.struct_("s", 8, &[m("t", t, 32)]);
    });
    s.b("enum_unaligned", "enum member not byte aligned", |b| {
        let e = b.enum_("e", 4, false, &[("A", 0)]);
        b.struct_("s", 8, &[m("e", e, 2)]);
    });
    s.b("enum_exceeds", "enum member past the end", |b| {
        let e = b.enum_("e", 4, false, &[("A", 0)]);
        b.struct_("s", 4, &[m("e", e, 8)]);
    });
    s.b(
        "kf_enum64_in_4",
        "kind_flag: an 8-byte ENUM64 fits a 4-byte struct (sized as 32 bits)",
        |b| {
            let e = b.enum64("e", 8, false, &[("A", 0)]);
            b.struct_kflag("s", 4, &[mb("e", e, 0, 0)]);
        },
    );
    s.b("kf_enum64_40", "kind_flag: ENUM64 bitfield of 40 bits", |b| {
        let e = b.enum64("e", 8, false, &[("A", 0)]);
        b.struct_kflag("s", 8, &[mb("e", e, 0, 40)]);
    });
    s.b(
        "kf_enum_unaligned",
        "kind_flag: enum without bitfield size at bit 3",
        |b| {
            let e = b.enum_("e", 4, false, &[("A", 0)]);
            b.struct_kflag("s", 8, &[mb("e", e, 3, 0)]);
        },
    );
    s.b("kf_enum_exceeds", "kind_flag: enum bitfield past the end", |b| {
        let e = b.enum_("e", 1, false, &[("A", 0)]);
        b.struct_kflag("s", 1, &[mb("e", e, 4, 8)]);
    });
    s.b("float_misaligned", "float member misaligned", |b| {
        let f = b.float("double", 8);
        b.struct_("s", 16, &[m("d", f, 32)]);
    });
    s.b("float_exceeds", "float member past the end", |b| {
        let f = b.float("double", 8);
        b.struct_("s", 8, &[m("d", f, 0), m("e", f, 64)]);
    });
    s.b("float12_align", "a 12-byte float aligns to 8", |b| {
        let f = b.float("ld", 12);
        b.struct_("s", 24, &[m("d", f, 64)]);
    });
    s.b(
        "kf_float_bitfield",
        "kind_flag float member with a bitfield size",
        |b| {
            let f = b.float("double", 8);
            b.struct_kflag("s", 8, &[mb("d", f, 0, 8)]);
        },
    );
    s.b(
        "nested_error",
        "an error inside a struct reached through a typedef names the struct",
        |b| {
            let s2 = b.next_id() + 1;
            b.typedef("t", s2);
            let i = b.next_id() + 1;
            b.struct_("s", 4, &[m("a", i, 8)]);
            int(b);
        },
    );
    s.b(
        "second_member_bad",
        "the member check runs after a pushed member resolves",
        |b| {
            let i = int(b);
            let inner = b.next_id() + 1;
            b.struct_("s", 8, &[m("in", inner, 0), m("bad", i, 64)]);
            b.struct_("t", 4, &[m("x", i, 0)]);
        },
    );
    s.b("self_embed", "a struct embedding itself", |b| {
        b.struct_("s", 8, &[m("s", 1, 0)]);
    });
    s.b("mutual_embed", "two structs embedding each other", |b| {
        b.struct_("s", 8, &[m("t", 2, 0)]);
        b.struct_("t", 8, &[m("s", 1, 0)]);
    });
    s.b("self_pointer", "a struct pointing to itself", |b| {
        let p = b.next_id() + 1;
        b.struct_("s", 8, &[m("next", p, 0)]);
        b.ptr(1);
    });
    s.b("self_array", "a struct with an array of itself", |b| {
        let i = int(b);
        let a = b.next_id() + 1;
        b.struct_("s", 8, &[m("a", a, 0)]);
        b.array(2, i, 1);
    });
}

pub fn loops_depth(s: &mut Suite) {
    s.group("loop_depth");
    s.b("ptr_self", "a pointer to itself", |b| {
        b.ptr(1);
    });
    s.b(
        "ptr_const_loop",
        "ptr -> const -> ptr -> const -> first ptr",
        |b| {
            b.ptr(2);
            b.const_(3);
            b.ptr(4);
            b.const_(1);
        },
    );
    s.b("typedef_self", "a typedef of itself", |b| {
        b.typedef("t", 1);
    });
    s.b("const_volatile_loop", "const -> volatile -> const", |b| {
        b.const_(2);
        b.volatile(1);
    });
    s.b("array_self", "an array of itself", |b| {
        int(b);
        b.array(2, 1, 2);
    });
    for n in [31u32, 32, 33, 34] {
        s.b(
            format!("typedef_chain_{n}"),
            "a chain of typedefs, ids ascending along it",
            |b| {
                for k in 0..n {
                    b.typedef(&format!("t{k}"), k + 2);
                }
                int(b);
            },
        );
    }
    for n in [32u32, 33] {
        s.b(
            format!("typedef_chain_desc_{n}"),
            "a chain of typedefs, ids descending along it (each already resolved)",
            |b| {
                int(b);
                for k in 0..n {
                    b.typedef(&format!("t{k}"), k + 1);
                }
            },
        );
    }
    s.b(
        "ptr_chain_33",
        "33 pointers in a row (PTR mode pushes pointers)",
        |b| {
            for k in 0..33 {
                b.ptr(k + 2);
            }
            int(b);
        },
    );
    s.b("struct_chain_33", "33 nested structs", |b| {
        for k in 0..33u32 {
            b.struct_(&format!("s{k}"), 4, &[m("x", k + 2, 0)]);
        }
        int(b);
    });
    s.b("array_chain_33", "33 nested arrays", |b| {
        for k in 0..33u32 {
            b.array(k + 2, 34, 1);
        }
        int(b);
    });
    s.b(
        "datasec_mode_reset",
        "DATASEC resets the walk mode for each entry",
        |b| {
            let i = int(b);
            let st = b.next_id() + 3;
            let p = b.ptr(st);
            let v1 = b.var("v1", p, 1);
            let v2 = b.var("v2", st, 1);
            b.struct_("s", 4, &[m("x", i, 8)]);
            b.datasec(".d", 16, &[(v1, 0, 8), (v2, 8, 4)]);
        },
    );
    s.b(
        "datasec_order_later_error",
        "an error in a later struct found through a DATASEC",
        |b| {
            let i = int(b);
            let v = b.next_id() + 2;
            b.datasec(".d", 8, &[(v, 0, 8)]);
            b.struct_("bad", 4, &[m("x", i, 8)]);
            b.var("v", v - 1, 1);
        },
    );
}

pub fn protos(s: &mut Suite) {
    s.group("func_proto");
    s.b("vararg_only", "a single vararg", |b| {
        b.func_proto(0, &[("", 0)]);
    });
    s.b("vararg_last", "vararg after a named argument", |b| {
        let i = int(b);
        b.func_proto(i, &[("a", i), ("", 0)]);
    });
    s.b("void_mid", "type 0 before the last argument", |b| {
        let i = int(b);
        b.func_proto(i, &[("", 0), ("a", i)]);
    });
    s.b("named_vararg", "a named vararg", |b| {
        let i = int(b);
        b.func_proto(i, &[("a", i), ("x", 0)]);
    });
    s.b("named_only_vararg", "a single named argument of type 0", |b| {
        b.func_proto(0, &[("x", 0)]);
    });
    s.b("arg_bad_name", "argument name not an identifier", |b| {
        let i = int(b);
        b.func_proto(0, &[("a b", i)]);
    });
    s.b("unnamed_args", "unnamed arguments are fine without a FUNC", |b| {
        let i = int(b);
        b.func_proto(i, &[("", i), ("", i)]);
    });
    s.b("func_unnamed_arg", "a FUNC needs named arguments", |b| {
        let i = int(b);
        let p = b.func_proto(i, &[("", i)]);
        b.func("f", p, 1);
    });
    s.b("func_unnamed_vararg", "a FUNC with a vararg prototype", |b| {
        let i = int(b);
        let p = b.func_proto(i, &[("a", i), ("", 0)]);
        b.func("f", p, 1);
    });
    s.b("ret_typedef_void", "returning typedef void", |b| {
        let t = b.typedef("V", 0);
        b.func_proto(t, &[]);
    });
    s.b("ret_const_void", "returning const void", |b| {
        let c = b.const_(0);
        b.func_proto(c, &[]);
    });
    s.b(
        "ret_resolve_error",
        "a return type whose resolution fails reports the inner error",
        |b| {
            let i = int(b);
            let st = b.next_id() + 1;
            b.func_proto(st, &[]);
            b.struct_("s", 4, &[m("x", i, 8)]);
        },
    );
    s.b(
        "arg_resolve_error",
        "an argument type whose resolution fails",
        |b| {
            let i = int(b);
            let st = b.next_id() + 1;
            b.func_proto(0, &[("a", st)]);
            b.struct_("s", 4, &[m("x", i, 8)]);
        },
    );
    s.b("many_args", "a prototype with 12 arguments", |b| {
        let i = int(b);
        let names: Vec<String> = (0..12).map(|k| format!("a{k}")).collect();
        let params: Vec<(&str, u32)> = names.iter().map(|n| (n.as_str(), i)).collect();
        b.func_proto(i, &params);
    });
    s.b(
        "proto_unused_bad_arg",
        "a prototype nobody uses is still checked",
        |b| {
            b.func_proto(0, &[("a", 77)]);
        },
    );
}

pub fn decl_tags(s: &mut Suite) {
    s.group("decl_tag");
    s.b("struct_member_idx", "tag on member 1 of 2", |b| {
        let i = int(b);
        let t = b.struct_("s", 8, &[m("a", i, 0), m("b", i, 32)]);
        b.decl_tag("t", t, 1);
    });
    s.b(
        "struct_idx_vlen",
        "component_idx equal to the member count",
        |b| {
            let i = int(b);
            let t = b.struct_("s", 4, &[m("a", i, 0)]);
            b.decl_tag("t", t, 1);
        },
    );
    s.b("union_member0", "tag on a union member", |b| {
        let i = int(b);
        let u = b.union_("u", 4, &[m("a", i, 0)]);
        b.decl_tag("t", u, 0);
    });
    s.b("func_param", "tag on a FUNC parameter", |b| {
        let i = int(b);
        let p = b.func_proto(i, &[("a", i), ("b", i)]);
        let f = b.func("f", p, 1);
        b.decl_tag("t", f, 1);
    });
    s.b(
        "func_param_idx_vlen",
        "tag index equal to the parameter count",
        |b| {
            let i = int(b);
            let p = b.func_proto(i, &[("a", i)]);
            let f = b.func("f", p, 1);
            b.decl_tag("t", f, 1);
        },
    );
    s.b("func_vararg_slot", "the vararg slot counts as a parameter", |b| {
        let i = int(b);
        let p = b.func_proto(i, &[("a", i), ("", 0)]);
        let f = b.func("f", p, 1);
        b.decl_tag("t", f, 1);
    });
    s.b("var_idx0", "a VAR has no components", |b| {
        let i = int(b);
        let v = b.var("v", i, 1);
        b.decl_tag("t", v, 0);
    });
    s.b("typedef_idx0", "a TYPEDEF has no components", |b| {
        let i = int(b);
        let t = b.typedef("td", i);
        b.decl_tag("t", t, 0);
    });
    s.b("typedef_whole", "tag on a typedef", |b| {
        let i = int(b);
        let t = b.typedef("td", i);
        b.decl_tag("t", t, -1);
    });
    s.b("tag_on_tag", "a tag on a tag", |b| {
        let i = int(b);
        let t = b.struct_("s", 4, &[m("a", i, 0)]);
        let d = b.decl_tag("t", t, -1);
        b.decl_tag("u", d, -1);
    });
    s.b("tag_target_later", "a tag on a later struct", |b| {
        let i = int(b);
        let st = b.next_id() + 1;
        b.decl_tag("t", st, 0);
        b.struct_("s", 4, &[m("a", i, 0)]);
    });
    s.b(
        "tag_target_later_bad_struct",
        "a tag on a later, broken struct reports the struct",
        |b| {
            let i = int(b);
            let st = b.next_id() + 1;
            b.decl_tag("t", st, 0);
            b.struct_("s", 4, &[m("a", i, 8)]);
        },
    );
    s.b("tag_big_idx", "component_idx far beyond the members", |b| {
        let i = int(b);
        let t = b.struct_("s", 4, &[m("a", i, 0)]);
        b.decl_tag("t", t, 0x7fff_ffff);
    });
}

pub fn type_tags(s: &mut Suite) {
    s.group("type_tag");
    s.b("ptr_tag_const_int", "ptr -> tag -> const -> int", |b| {
        let i = int(b);
        let c = b.const_(i);
        let t = b.type_tag("tag", c);
        b.ptr(t);
    });
    s.b("ptr_const_tag_int", "ptr -> const -> tag -> int", |b| {
        let i = int(b);
        let t = b.type_tag("tag", i);
        let c = b.const_(t);
        b.ptr(c);
    });
    s.b("typedef_tag_int", "typedef -> tag -> int", |b| {
        let i = int(b);
        let t = b.type_tag("tag", i);
        b.typedef("td", t);
    });
    s.b("tag_tag_int", "two tags in a row", |b| {
        let i = int(b);
        let t = b.type_tag("a", i);
        let u = b.type_tag("b", t);
        b.ptr(u);
    });
    s.b("tag_typedef_int", "tag -> typedef -> int", |b| {
        let i = int(b);
        let t = b.typedef("td", i);
        let u = b.type_tag("a", t);
        b.ptr(u);
    });
    s.b(
        "tag_after_mod_later_ids",
        "the bad chain sits at higher ids than its user",
        |b| {
            let p = b.next_id() + 1;
            b.ptr(p);
            b.const_(p + 1);
            b.type_tag("tag", p + 2);
            int(b);
        },
    );
    s.b(
        "chain_39",
        "39 CONSTs that resolve in two walks exceed the 32-step budget",
        |b| {
            // [1] PTR -> [20]; CONSTs 20..40 are resolved through it first, then
            // CONSTs 2..19 chain into them.
            b.ptr(20);
            for k in 2..=19u32 {
                b.const_(k + 1);
            }
            for k in 20..=40u32 {
                b.const_(k + 1);
            }
            int(b);
        },
    );
    s.b("chain_32_ok", "32 modifiers in one chain", |b| {
        for k in 0..31u32 {
            b.const_(k + 2);
        }
        int(b);
    });
    s.b("tag_struct_member", "a tagged struct member", |b| {
        let i = int(b);
        let t = b.type_tag("user", i);
        let p = b.ptr(t);
        b.struct_("s", 8, &[m("p", p, 0)]);
    });
}
