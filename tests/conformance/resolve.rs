//! The resolve pass, swept: every referring kind against every target kind,
//! in both id orders. (Single resolve rules are text cases under cases/.)

use super::suite::Suite;
use btfcheck::builder::{m, mb, BtfBuilder, INT_SIGNED};

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
