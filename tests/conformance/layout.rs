//! Header, section layout, string section and generic record checks.

use super::suite::{cat, hdr, int_sections, words, Suite};
use btfcheck::builder::{info, BtfBuilder, INT_SIGNED};
use btfcheck::raw::Kind;

const MAGIC: u16 = 0xeb9f;

pub fn header(s: &mut Suite) {
    s.group("header");
    let (t, st) = int_sections();
    let tl = t.len() as u32;
    let sl = st.len() as u32;
    let body = cat(&[&t, &st]);
    let std = |h: Vec<u8>| cat(&[&h, &body]);

    s.add(
        "ok_int",
        "a single INT, the smallest valid blob",
        std(hdr(MAGIC, 1, 0, 24, 0, tl, tl, sl)),
    );
    for n in 0..8usize {
        let full = std(hdr(MAGIC, 1, 0, 24, 0, tl, tl, sl));
        s.add(
            format!("short_{n}"),
            format!("blob of {n} bytes: hdr_len cannot be read"),
            full[..n].to_vec(),
        );
    }
    s.add(
        "hdr_len_beyond_blob",
        "hdr_len larger than the blob",
        hdr(MAGIC, 1, 0, 64, 0, 0, 0, 0),
    );
    s.add("hdr_len_eq_blob_plus1", "hdr_len one past the blob end", {
        let mut h = hdr(MAGIC, 1, 0, 25, 0, 0, 0, 0);
        h.truncate(24);
        h
    });
    for (bad, off) in [(1u8, 24usize), (0x80, 31), (1, 28)] {
        let mut h = hdr(MAGIC, 1, 0, 32, 0, tl, tl, sl);
        h.extend_from_slice(&[0u8; 8]);
        h[off] = bad;
        s.add(
            format!("tail_nonzero_{off}_{bad:x}"),
            "hdr_len 32 with a non-zero byte in the extension",
            cat(&[&h, &body]),
        );
    }
    for hl in [25u32, 26, 28, 32, 40, 64] {
        let mut h = hdr(MAGIC, 1, 0, hl, 0, tl, tl, sl);
        h.resize(hl as usize, 0);
        s.add(
            format!("hdr_len_{hl}_zero_tail"),
            "longer header with a zero tail is accepted",
            cat(&[&h, &body]),
        );
    }
    for hl in [0u32, 4, 8, 12, 16, 20, 23] {
        let mut h = hdr(MAGIC, 1, 0, hl, 0, tl, tl, sl);
        h.truncate(hl.max(8) as usize);
        s.add(
            format!("hdr_len_{hl}"),
            "short header: missing fields read as zero",
            cat(&[&h, &body]),
        );
    }
    for (name, magic) in [
        ("magic_be", 0x9febu16),
        ("magic_zero", 0),
        ("magic_off_by_one", 0xeb9e),
    ] {
        s.add(name, "wrong magic", std(hdr(magic, 1, 0, 24, 0, tl, tl, sl)));
    }
    for v in [0u8, 2, 255] {
        s.add(
            format!("version_{v}"),
            "unsupported version (ENOTSUPP)",
            std(hdr(MAGIC, v, 0, 24, 0, tl, tl, sl)),
        );
    }
    for f in [1u8, 0x80] {
        s.add(
            format!("flags_{f:x}"),
            "unsupported flags (ENOTSUPP)",
            std(hdr(MAGIC, 1, f, 24, 0, tl, tl, sl)),
        );
    }
    s.add(
        "version_and_magic",
        "magic is checked before version",
        std(hdr(0, 2, 1, 24, 0, tl, tl, sl)),
    );
    s.add("no_data", "header only", hdr(MAGIC, 1, 0, 24, 0, 0, 0, 0));
    s.add("no_data_32", "32-byte header only", {
        let mut h = hdr(MAGIC, 1, 0, 32, 0, 0, 0, 0);
        h.resize(32, 0);
        h
    });
}

pub fn sections(s: &mut Suite) {
    s.group("sections");
    let (t, st) = int_sections();
    let tl = t.len() as u32;
    let sl = st.len() as u32;
    let body = cat(&[&t, &st]);
    let mk = |h: Vec<u8>, b: &[u8]| cat(&[&h, b]);

    s.add(
        "gap",
        "gap between types and strings",
        mk(hdr(MAGIC, 1, 0, 24, 0, tl, tl + 4, sl), &cat(&[&t, &[0; 4], &st])),
    );
    s.add(
        "overlap",
        "string section starts inside the types",
        mk(hdr(MAGIC, 1, 0, 24, 0, tl, tl - 4, sl + 4), &body),
    );
    s.add(
        "str_too_long",
        "string length runs past the end",
        mk(hdr(MAGIC, 1, 0, 24, 0, tl, tl, sl + 1), &body),
    );
    s.add(
        "type_too_long",
        "type length runs past the end",
        mk(hdr(MAGIC, 1, 0, 24, 0, tl + sl + 1, tl, sl), &body),
    );
    s.add(
        "str_off_beyond",
        "string offset beyond the data",
        mk(hdr(MAGIC, 1, 0, 24, 0, tl, tl + sl + 1, 0), &body),
    );
    s.add(
        "type_off_beyond",
        "type offset beyond the data",
        mk(hdr(MAGIC, 1, 0, 24, 1000, tl, 0, sl), &body),
    );
    s.add(
        "signed_sort_f0",
        "offsets 2^31 apart sort backwards (str_off 0xF0000000)",
        mk(hdr(MAGIC, 1, 0, 24, 4, tl, 0xF000_0000, sl), &body),
    );
    s.add(
        "signed_sort_10",
        "control: str_off 0x10000000",
        mk(hdr(MAGIC, 1, 0, 24, 4, tl, 0x1000_0000, sl), &body),
    );
    s.add(
        "signed_sort_80",
        "str_off 0x80000000",
        mk(hdr(MAGIC, 1, 0, 24, 4, tl, 0x8000_0000, sl), &body),
    );
    s.add(
        "trailing",
        "bytes after the string section",
        mk(hdr(MAGIC, 1, 0, 24, 0, tl, tl, sl), &cat(&[&body, &[0; 3]])),
    );
    s.add(
        "str_first",
        "strings before types",
        mk(hdr(MAGIC, 1, 0, 24, sl, tl, 0, sl), &cat(&[&st, &t])),
    );
    s.add("str_first_padded", "strings first, padded to 8", {
        let mut sp = st.clone();
        sp.resize(8, 0);
        mk(hdr(MAGIC, 1, 0, 24, 8, tl, 0, 8), &cat(&[&sp, &t]))
    });
    s.add(
        "same_offset_both_zero_len",
        "both sections empty at offset 0",
        mk(hdr(MAGIC, 1, 0, 24, 0, 0, 0, 0), &[0u8; 4]),
    );
    s.add(
        "type_len_zero",
        "no types",
        mk(hdr(MAGIC, 1, 0, 24, 0, 0, 0, sl), &st),
    );
    s.add(
        "unaligned_type_off",
        "type_off 2 with empty types (the only way to reach the alignment check)",
        mk(hdr(MAGIC, 1, 0, 24, 2, 0, 0, 2), &[0, 0]),
    );
    s.add(
        "unaligned_type_off_real",
        "misaligned type_off with real types (a gap fires first)",
        mk(hdr(MAGIC, 1, 0, 24, 2, tl, tl + 2, sl), &cat(&[&[0, 0], &t, &st])),
    );
    s.add(
        "sections_swapped_equal_off",
        "two sections at the same offset",
        mk(hdr(MAGIC, 1, 0, 24, 0, tl, 0, sl), &body),
    );
    s.add(
        "huge_type_len",
        "type_len 0xffffffff",
        mk(hdr(MAGIC, 1, 0, 24, 0, u32::MAX, tl, sl), &body),
    );
    s.add(
        "huge_offsets",
        "both offsets huge",
        mk(hdr(MAGIC, 1, 0, 24, u32::MAX, tl, u32::MAX - 4, sl), &body),
    );
}

pub fn strings(s: &mut Suite) {
    s.group("strings");
    let (t, _) = int_sections();
    let tl = t.len() as u32;
    let with = |st: &[u8]| cat(&[&hdr(MAGIC, 1, 0, 24, 0, tl, tl, st.len() as u32), &t, st]);
    s.add("len0", "empty string section", with(b""));
    s.add("no_nul", "last byte not NUL", with(b"\0int"));
    s.add("first_not_nul", "first byte not NUL", with(b"xint\0"));
    s.add(
        "only_nul",
        "a single NUL; the INT's name offset 1 is then out of range",
        with(b"\0"),
    );
    s.add(
        "junk_after",
        "unreferenced junk and non-UTF-8 bytes are fine",
        with(b"\0int\0\xff\xfe\x01junk\0"),
    );
    s.add("many_nuls", "runs of NULs", with(b"\0int\0\0\0\0"));
    let mut b = BtfBuilder::new();
    b.record(0, info(Kind::PTR, 0, false), 0, &[]);
    let (pt, _) = b.sections();
    let pt = pt.to_vec();
    // The 16 MiB blob limit comes before any string check, so the
    // "str_len - 1 > 0xffffff" rule cannot be reached from user space.
    let max = 16usize << 20;
    let exact = vec![0u8; max - 24 - pt.len()];
    s.add(
        "blob_16mib_exact",
        "a blob of exactly 16 MiB (mostly string bytes)",
        cat(&[&hdr(MAGIC, 1, 0, 24, 0, 12, 12, exact.len() as u32), &pt, &exact]),
    );
    let over = vec![0u8; max - 24 - pt.len() + 1];
    s.add(
        "blob_16mib_plus1",
        "one byte over 16 MiB: E2BIG before any log",
        cat(&[&hdr(MAGIC, 1, 0, 24, 0, 12, 12, over.len() as u32), &pt, &over]),
    );
}

pub fn records(s: &mut Suite) {
    s.group("record");
    let with_types = |types: &[u8], st: &[u8]| {
        cat(&[
            &hdr(
                MAGIC,
                1,
                0,
                24,
                0,
                types.len() as u32,
                types.len() as u32,
                st.len() as u32,
            ),
            types,
            st,
        ])
    };
    let st = b"\0int\0".to_vec();
    let int = words(&[1, info(Kind::INT, 0, false), 4, 0x0100_0020]);
    for n in [1usize, 4, 8, 11] {
        s.add(
            format!("truncated_{n}"),
            format!("{n} bytes: not even a type header"),
            with_types(&int[..n], &st),
        );
    }
    s.add(
        "truncated_after_int",
        "a good INT then 8 stray bytes",
        with_types(&cat(&[&int, &[0u8; 8]]), &st),
    );
    for bit in [16u32, 17, 20, 23, 29, 30] {
        let inf = info(Kind::INT, 0, false) | (1 << bit);
        s.add(
            format!("info_bit_{bit}"),
            "reserved info bit set",
            with_types(&words(&[1, inf, 4, 0x20]), &st),
        );
    }
    for k in [0u8, 20, 21, 23, 31] {
        s.add(
            format!("kind_{k}"),
            "unknown kind",
            with_types(&words(&[0, (k as u32) << 24, 0]), &st),
        );
    }
    s.add(
        "kind_20_after_int",
        "unknown kind after a good type",
        with_types(&cat(&[&int, &words(&[0, 20 << 24, 0])]), &st),
    );
    for (name, off) in [
        ("name_off_eq_len", 5u32),
        ("name_off_big", 100),
        ("name_off_24bit", 0x100_0000),
        ("name_off_max", u32::MAX),
    ] {
        s.add(
            name,
            "name offset out of range",
            with_types(&words(&[off, info(Kind::INT, 0, false), 4, 0x20]), &st),
        );
    }
    s.add(
        "name_off_mid_string",
        "a name may start inside another string",
        with_types(&words(&[2, info(Kind::INT, 0, false), 4, 0x20]), &st),
    );
    s.add(
        "name_off_last_nul",
        "a name at the final NUL is the empty string",
        with_types(&words(&[4, info(Kind::INT, 0, false), 4, 0x20]), &st),
    );
    s.add("first_error_only", "two bad types: only the first is reported", {
        let mut b = BtfBuilder::new();
        let n = b.string("int");
        b.record(n, info(Kind::INT, 1, false), 4, &[0x20]);
        b.record(7, info(Kind::PTR, 0, false), 1, &[]);
        b.build()
    });
    let mut b = BtfBuilder::new();
    b.int("int", 4, 32, INT_SIGNED);
    b.raw_words(&[0, info(Kind::STRUCT, 3, false), 8]);
    s.add(
        "struct_tail_truncated",
        "STRUCT vlen 3 with no member data",
        b.build(),
    );
}
