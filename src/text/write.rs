//! `dump --exact`: any blob as text that assembles back to the same bytes.

use super::escape::quote;
use crate::raw::header::{Header, HEADER_LEN};
use crate::raw::types::{CommonType, INFO_MASK};
use crate::raw::{Kind, RecordCursor, Shapes, TypeRecord};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Hex bytes, 16 per line, each line prefixed with `keyword`.
fn hex_lines(out: &mut String, keyword: &str, indent: &str, bytes: &[u8]) {
    for chunk in bytes.chunks(16) {
        let _ = write!(out, "{indent}{keyword}");
        for b in chunk {
            let _ = write!(out, " {b:02x}");
        }
        out.push('\n');
    }
}

/// How names are written: as text when that text finds the same offset
/// again (the first string with those bytes), else as `@offset`.
struct Names<'a> {
    /// The string section and the first offset of each string in it.
    section: Option<(&'a [u8], FirstOffsets<'a>)>,
    /// Write every valid name as text (for the plain form, whose string
    /// section `asm` rebuilds).
    always_text: bool,
}

type FirstOffsets<'a> = HashMap<&'a [u8], u32>;

impl<'a> Names<'a> {
    fn new(section: Option<&'a [u8]>) -> Self {
        let section = section.map(|s| {
            let mut first = HashMap::new();
            let mut off = 0usize;
            while off < s.len() {
                let end = s[off..].iter().position(|&b| b == 0).map_or(s.len(), |p| off + p);
                first.entry(&s[off..end]).or_insert(off as u32);
                off = end + 1;
            }
            (s, first)
        });
        Names {
            section,
            always_text: false,
        }
    }

    fn write(&self, out: &mut String, off: u32) {
        if off == 0 {
            out.push_str("'(anon)'");
            return;
        }
        if let Some((s, first)) = &self.section {
            if let Some(rest) = s.get(off as usize..) {
                let text = &rest[..rest.iter().position(|&b| b == 0).unwrap_or(rest.len())];
                let unambiguous = first.get(text) == Some(&off) || self.always_text;
                if text != b"(anon)" && unambiguous && rest.contains(&0) {
                    quote(out, text);
                    return;
                }
            }
        }
        let _ = write!(out, "@{off}");
    }
}

const LINKAGE_FUNC: [&str; 3] = ["static", "global", "extern"];

fn linkage(out: &mut String, v: u32) {
    match LINKAGE_FUNC.get(v as usize) {
        Some(name) => out.push_str(name),
        None => {
            let _ = write!(out, "{v}");
        }
    }
}

/// The most readable text that assembles back to exactly `blob`: the plain
/// records alone (standard header and string section rebuilt by `asm`) when
/// that reproduces the bytes, else the exact form.
pub fn write_readable(blob: &[u8]) -> String {
    write_readable_in(blob, &Shapes::KERNEL)
}

/// [`write_readable`], decoding the kinds `shapes` knows (e.g. FUNC_ADDR
/// under func-addr); others stay raw words.
pub fn write_readable_in(blob: &[u8], shapes: &Shapes) -> String {
    if let Some(plain) = write_plain(blob, shapes) {
        if super::assemble(&plain).is_ok_and(|b| b == blob) {
            return plain;
        }
    }
    write_exact_in(blob, shapes)
}

/// Records only, names as text; `None` when the layout is not the standard one.
fn write_plain(blob: &[u8], shapes: &Shapes) -> Option<String> {
    let h = Header::copied_from(blob, HEADER_LEN);
    if blob.len() < HEADER_LEN as usize
        || h.hdr_len != HEADER_LEN
        || h.type_off != 0
        || h.str_off != h.type_len
    {
        return None;
    }
    let types = blob.get(24..24 + h.type_len as usize)?;
    let strings = blob.get(24 + h.str_off as usize..24 + h.str_off as usize + h.str_len as usize)?;
    let mut names = Names::new(Some(strings));
    names.always_text = true;
    let mut out = String::new();
    write_types(&mut out, types, &names, shapes);
    Some(out)
}

/// The exact text of `blob`.
pub fn write_exact(blob: &[u8]) -> String {
    write_exact_in(blob, &Shapes::KERNEL)
}

/// [`write_exact`], decoding the kinds `shapes` knows.
pub fn write_exact_in(blob: &[u8], shapes: &Shapes) -> String {
    let mut out = String::with_capacity(blob.len() * 4 + 256);
    let _ = writeln!(
        out,
        "# btfcheck exact BTF text ({} bytes); `btfcheck asm` rebuilds it byte for byte",
        blob.len()
    );
    if blob.len() < HEADER_LEN as usize {
        out.push_str("# shorter than a BTF header\nnoheader\n");
        hex_lines(&mut out, "bytes", "", blob);
        return out;
    }
    let h = Header::copied_from(blob, HEADER_LEN);
    let _ = writeln!(
        out,
        "header magic=0x{:04x} version={} flags=0x{:x} hdr_len={} type_off={} type_len={} str_off={} str_len={}",
        h.magic, h.version, h.flags, h.hdr_len, h.type_off, h.type_len, h.str_off, h.str_len
    );
    let body_start = (h.hdr_len as usize).clamp(HEADER_LEN as usize, blob.len());
    hex_lines(
        &mut out,
        "header_tail",
        "",
        &blob[HEADER_LEN as usize..body_start],
    );

    let end = blob.len() as u64;
    let t0 = h.hdr_len as u64 + h.type_off as u64;
    let t1 = t0 + h.type_len as u64;
    let s0 = h.hdr_len as u64 + h.str_off as u64;
    let s1 = s0 + h.str_len as u64;
    let within = |a: u64, b: u64| body_start as u64 <= a && b <= end;
    let apart = t1 <= s0 || s1 <= t0 || h.type_len == 0 || h.str_len == 0;
    if !(within(t0, t1) && within(s0, s1) && apart) {
        out.push_str("# the sections do not lie apart inside the blob: body as raw bytes\n");
        hex_lines(&mut out, "bytes", "", &blob[body_start..]);
        out.push_str("strings\n");
        return out;
    }
    let strings = (h.str_len > 0).then(|| &blob[s0 as usize..s1 as usize]);
    let names = Names::new(strings);
    let mut regions = [(t0, t1, true), (s0, s1, false)];
    regions.sort_by_key(|r| (r.0, !r.2));
    let mut at = body_start as u64;
    for (a, b, is_types) in regions {
        if a == b {
            continue;
        }
        hex_lines(&mut out, "bytes", "", &blob[at as usize..a as usize]);
        if is_types {
            out.push_str("types\n");
            write_types(&mut out, &blob[a as usize..b as usize], &names, shapes);
        } else {
            out.push_str("strings\n");
            write_strings(&mut out, &blob[a as usize..b as usize]);
        }
        at = b;
    }
    hex_lines(&mut out, "bytes", "", &blob[at as usize..]);
    if h.str_len == 0 {
        // No string section: an empty block keeps asm from adding one.
        out.push_str("strings\n");
    }
    out
}

fn write_strings(out: &mut String, s: &[u8]) {
    let mut off = 0usize;
    while off < s.len() {
        let (end, term) = match s[off..].iter().position(|&b| b == 0) {
            Some(p) => (off + p, true),
            None => (s.len(), false),
        };
        let _ = write!(out, "\t@{off} ");
        quote(out, &s[off..end]);
        if !term {
            out.push_str(" noterm");
        }
        out.push('\n');
        off = end + 1;
    }
}

fn write_types(out: &mut String, types: &[u8], names: &Names<'_>, shapes: &Shapes) {
    let mut cursor = RecordCursor::with_shapes(types, *shapes);
    // Kind and name of each record, for the DATASEC entry comments.
    let mut seen: Vec<(Kind, u32)> = vec![(Kind(0), 0)];
    let mut id = 1u32;
    while !cursor.at_end() {
        let rest = &types[cursor.pos() as usize..];
        let Some(common) = cursor.peek_common() else {
            let _ = writeln!(
                out,
                "# record [{id}]: {} bytes, not a whole type header",
                rest.len()
            );
            hex_lines(out, "bytes", "", rest);
            return;
        };
        let Some(tail) = common.tail_len_in(shapes) else {
            let _ = writeln!(
                out,
                "# record [{id}]: unknown kind {}; the rest cannot be decoded",
                common.kind().0
            );
            raw_words(out, rest);
            return;
        };
        if (cursor.left() - 12) < tail {
            let _ = writeln!(
                out,
                "# record [{id}]: {} needs {tail} more bytes, {} left",
                common.kind(),
                cursor.left() - 12
            );
            raw_words(out, rest);
            return;
        }
        let rec = cursor.take(common, tail);
        write_record(out, id, &rec, names, &seen, shapes);
        seen.push((rec.kind(), rec.name_off()));
        id += 1;
    }
}

/// Words as `raw 0x...` lines (eight a line) and any odd bytes as `bytes`.
fn raw_words(out: &mut String, rest: &[u8]) {
    let whole = rest.len() / 4 * 4;
    for chunk in rest[..whole].chunks(32) {
        out.push_str("raw");
        for w in chunk.chunks(4) {
            let _ = write!(out, " 0x{:08x}", u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        }
        out.push('\n');
    }
    hex_lines(out, "bytes", "", &rest[whole..]);
}

fn write_record(
    out: &mut String,
    id: u32,
    rec: &TypeRecord<'_>,
    names: &Names<'_>,
    seen: &[(Kind, u32)],
    shapes: &Shapes,
) {
    let c: CommonType = rec.common;
    let kind = rec.kind();
    let _ = write!(out, "[{id}] {} ", shapes.name(kind));
    names.write(out, c.name_off);
    let shows_vlen = matches!(
        kind,
        Kind::STRUCT
            | Kind::UNION
            | Kind::ENUM
            | Kind::ENUM64
            | Kind::FUNC_PROTO
            | Kind::DATASEC
            | Kind::FUNC
    );
    let shows_kflag = matches!(kind, Kind::ENUM | Kind::ENUM64 | Kind::FWD);
    match kind {
        Kind::INT => {
            let d = rec.int_data();
            let enc = (d >> 24) & 0xf;
            let _ = write!(
                out,
                " size={} bits_offset={} nr_bits={} encoding=",
                c.size(),
                (d >> 16) & 0xff,
                d & 0xff
            );
            match enc {
                0 => out.push_str("(none)"),
                1 => out.push_str("SIGNED"),
                2 => out.push_str("CHAR"),
                4 => out.push_str("BOOL"),
                n => {
                    let _ = write!(out, "{n}");
                }
            }
            if d & 0xff00 != 0 {
                let _ = write!(out, " int_unused=0x{:x}", (d >> 8) & 0xff);
            }
            if d >> 28 != 0 {
                let _ = write!(out, " int_reserved=0x{:x}", d >> 28);
            }
        }
        Kind::PTR | Kind::TYPEDEF | Kind::VOLATILE | Kind::CONST | Kind::RESTRICT | Kind::TYPE_TAG => {
            let _ = write!(out, " type_id={}", c.type_id());
        }
        Kind::ARRAY => {
            let a = rec.array();
            let _ = write!(
                out,
                " type_id={} index_type_id={} nr_elems={}",
                a.elem_type, a.index_type, a.nelems
            );
            if c.size() != 0 {
                let _ = write!(out, " size={}", c.size());
            }
        }
        Kind::STRUCT | Kind::UNION | Kind::DATASEC => {
            let _ = write!(out, " size={} vlen={}", c.size(), rec.vlen());
        }
        Kind::ENUM | Kind::ENUM64 => {
            let enc = if rec.kflag() { "SIGNED" } else { "UNSIGNED" };
            let _ = write!(out, " encoding={enc} size={} vlen={}", c.size(), rec.vlen());
        }
        Kind::FWD => {
            let _ = write!(out, " fwd_kind={}", if rec.kflag() { "union" } else { "struct" });
            if c.size_type != 0 {
                let _ = write!(out, " size_type={}", c.size_type);
            }
        }
        Kind::FUNC => {
            let _ = write!(out, " type_id={} linkage=", c.type_id());
            linkage(out, rec.vlen());
        }
        Kind::FUNC_PROTO => {
            let _ = write!(out, " ret_type_id={} vlen={}", c.type_id(), rec.vlen());
        }
        Kind::VAR => {
            let _ = write!(out, " type_id={}, linkage=", c.type_id());
            match rec.var_linkage() {
                0 => out.push_str("static"),
                1 => out.push_str("global"),
                2 => out.push_str("extern"),
                n => {
                    let _ = write!(out, "{n}");
                }
            }
        }
        Kind::FLOAT => {
            let _ = write!(out, " size={}", c.size());
        }
        Kind::DECL_TAG => {
            let _ = write!(
                out,
                " type_id={} component_idx={}",
                c.type_id(),
                rec.component_idx()
            );
        }
        Kind::FUNC_ADDR => {
            let fa = rec.func_addr();
            let _ = write!(
                out,
                " type_id={} addr=0x{:x} flags=0x{:x}",
                c.type_id(),
                fa.addr,
                fa.flags
            );
        }
        _ => {}
    }
    if !shows_vlen && rec.vlen() != 0 {
        let _ = write!(out, " vlen={}", rec.vlen());
    }
    if !shows_kflag && rec.kflag() {
        out.push_str(" kflag=1");
    }
    if c.info & !INFO_MASK != 0 {
        let _ = write!(out, " reserved=0x{:x}", c.info & !INFO_MASK);
    }
    out.push('\n');

    let n = rec.vlen() as usize;
    match kind {
        Kind::STRUCT | Kind::UNION => {
            for i in 0..n {
                let m = rec.member(i);
                out.push('\t');
                names.write(out, m.name_off);
                if rec.kflag() {
                    let _ = write!(out, " type_id={} bits_offset={}", m.type_id, m.offset & 0xff_ffff);
                    if m.offset >> 24 != 0 {
                        let _ = write!(out, " bitfield_size={}", m.offset >> 24);
                    }
                } else {
                    let _ = write!(out, " type_id={} bits_offset={}", m.type_id, m.offset);
                }
                out.push('\n');
            }
        }
        Kind::ENUM | Kind::ENUM64 => {
            for i in 0..n {
                let e = rec.enumerator(i);
                out.push('\t');
                names.write(out, e.name_off);
                match (kind == Kind::ENUM64, rec.kflag()) {
                    (false, false) => {
                        let _ = write!(out, " val={}", e.value as u32);
                    }
                    (false, true) => {
                        let _ = write!(out, " val={}", e.value as u32 as i32);
                    }
                    (true, false) => {
                        let _ = write!(out, " val={}ULL", e.value);
                    }
                    (true, true) => {
                        let _ = write!(out, " val={}LL", e.value as i64);
                    }
                }
                out.push('\n');
            }
        }
        Kind::FUNC_PROTO => {
            for i in 0..n {
                let p = rec.param(i);
                out.push('\t');
                names.write(out, p.name_off);
                let _ = writeln!(out, " type_id={}", p.type_id);
            }
        }
        Kind::DATASEC => {
            for i in 0..n {
                let v = rec.secinfo(i);
                let _ = write!(out, "\ttype_id={} offset={} size={}", v.type_id, v.offset, v.size);
                if let Some(&(k, name)) = seen.get(v.type_id as usize).filter(|_| v.type_id != 0) {
                    let _ = write!(out, " ({} ", k.display_name());
                    names.write(out, name);
                    out.push(')');
                }
                out.push('\n');
            }
        }
        _ => {}
    }
}
