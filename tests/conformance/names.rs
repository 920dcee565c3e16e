//! Name rules over the kernel's Latin-1 ctype table: every byte value as an
//! identifier's first and later byte, and in a section name.

use super::suite::Suite;
use btfcheck::builder::{m, INT_SIGNED};

pub fn names(s: &mut Suite) {
    s.group("names");
    // Bytes 0x01..0xff as the first byte of a struct name, and as the second.
    for byte in 1u8..=255 {
        s.b(format!("ident_first_{byte:02x}"), "identifier first byte", |b| {
            let n = b.raw_string(&[byte, b'x', 0]);
            b.record(
                n,
                btfcheck::builder::info(btfcheck::raw::Kind::STRUCT, 0, false),
                0,
                &[],
            );
        });
    }
    for byte in 1u8..=255 {
        s.b(
            format!("ident_later_{byte:02x}"),
            "identifier later byte (in a member name)",
            |b| {
                let i = b.int("int", 4, 32, INT_SIGNED);
                let n = b.raw_string(&[b'm', byte, 0]);
                let sn = b.string("s");
                b.record(
                    sn,
                    btfcheck::builder::info(btfcheck::raw::Kind::STRUCT, 1, false),
                    4,
                    &[n, i, 0],
                );
            },
        );
    }
    for byte in [
        0x01u8, 0x09, 0x1f, 0x20, 0x21, 0x2e, 0x7e, 0x7f, 0x80, 0x9f, 0xa0, 0xa1, 0xbf, 0xd7, 0xf7, 0xff,
    ] {
        s.b(
            format!("section_byte_{byte:02x}"),
            "a byte inside a section name",
            |b| {
                let i = b.int("int", 4, 32, INT_SIGNED);
                let v = b.var("v", i, 1);
                let n = b.raw_string(&[b'.', b'd', byte, 0]);
                b.record(
                    n,
                    btfcheck::builder::info(btfcheck::raw::Kind::DATASEC, 1, false),
                    4,
                    &[v, 0, 4],
                );
            },
        );
    }
    for (len, what) in [(511usize, "511"), (512, "512"), (513, "513")] {
        s.b(
            format!("ident_len_{what}"),
            "identifier length limit (KSYM_NAME_LEN)",
            |b| {
                b.struct_(&"a".repeat(len), 0, &[]);
            },
        );
        s.b(format!("section_len_{what}"), "section name length limit", |b| {
            let i = b.int("int", 4, 32, INT_SIGNED);
            let v = b.var("v", i, 1);
            b.datasec(&format!(".{}", "d".repeat(len - 1)), 4, &[(v, 0, 4)]);
        });
        s.b(format!("member_len_{what}"), "member name length limit", |b| {
            let i = b.int("int", 4, 32, INT_SIGNED);
            b.struct_("s", 4, &[m(&"m".repeat(len), i, 0)]);
        });
    }
    s.b("utf8_name", "UTF-8 is not an identifier", |b| {
        b.struct_("\u{e9}", 0, &[]);
    });
    s.b("latin1_name", "raw Latin-1 letters are", |b| {
        let n = b.raw_string(b"\xe9t\xe9\0");
        b.record(
            n,
            btfcheck::builder::info(btfcheck::raw::Kind::STRUCT, 0, false),
            0,
            &[],
        );
    });
    s.b("typedef_name_dot", "typedef name with a leading dot", |b| {
        let i = b.int("int", 4, 32, INT_SIGNED);
        b.typedef(".t", i);
    });
    s.b("func_name_long_513", "FUNC name of 513 bytes", |b| {
        let p = b.func_proto(0, &[]);
        b.func(&"f".repeat(513), p, 0);
    });
    s.b("var_name_latin1", "VAR name in Latin-1", |b| {
        let i = b.int("int", 4, 32, INT_SIGNED);
        let n = b.raw_string(b"v\xf8\0");
        b.record(
            n,
            btfcheck::builder::info(btfcheck::raw::Kind::VAR, 0, false),
            i,
            &[1],
        );
    });
}
