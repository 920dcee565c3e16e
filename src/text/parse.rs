//! `btfcheck asm`: text (exact form or bpftool's raw format) to a blob.
//!
//! Parsing keeps names symbolic; the string section is either given
//! (`strings` block: names are looked up in it) or built in first-use
//! order. The header is given field by field or computed from the layout.

use super::escape::{quoted_len, unquote};
use crate::builder::info;
use crate::raw::header::{Header, HEADER_LEN, MAGIC};
use crate::raw::Kind;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// An Fx-style hasher (eight bytes a step): names are ours and short, so
/// SipHash's DoS resistance buys nothing and costs a fifth of assembling
/// vmlinux.
#[derive(Default)]
struct FastHash(u64);

impl Hasher for FastHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ b as u64).wrapping_mul(K);
        }
        self.0 = h;
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHash>>;
use thiserror::Error;

/// A text error with its position (1-based line and column).
#[derive(Debug, Error, PartialEq, Eq)]
#[error("line {line}, column {column}: {message}")]
pub struct AsmError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Name<'t> {
    Offset(u32),
    Text(std::borrow::Cow<'t, [u8]>),
}

/// One value of a `key=value` pair, with where it stands.
#[derive(Clone, Copy, Debug)]
struct Value<'t> {
    text: &'t str,
    col: usize,
}

/// Most lines have a handful of keys: kept inline, no allocation per line.
type KeyValues<'t> = smallvec::SmallVec<[(&'t str, Value<'t>); 4]>;
type Tokens<'t> = smallvec::SmallVec<[(&'t str, usize); 10]>;

/// Element lines have at most three keys (a kind_flag member's).
type ElementKeys<'t> = smallvec::SmallVec<[(&'t str, Value<'t>); 3]>;

#[derive(Debug)]
struct Element<'t> {
    line: usize,
    name: Option<(Name<'t>, usize)>,
    keys: ElementKeys<'t>,
}

#[derive(Debug)]
struct Record<'t> {
    line: usize,
    kind: Kind,
    name: Name<'t>,
    keys: KeyValues<'t>,
    elements: Vec<Element<'t>>,
}

#[derive(Debug)]
enum Item {
    Bytes(Vec<u8>),
    /// Encoded as parsed.
    Types(Vec<u8>),
    /// Where the string section goes (its contents come from
    /// `prescan_strings`, or are built in first-use order).
    Strings,
}

struct Line<'a> {
    no: usize,
    text: &'a str,
}

impl Line<'_> {
    fn err(&self, col: usize, message: impl Into<String>) -> AsmError {
        AsmError {
            line: self.no,
            column: col + 1,
            message: message.into(),
        }
    }
}

/// Splits `s` (from byte `base` of the line) into tokens: words, quoted
/// strings and `@N` names; returns (token, column).
fn tokens<'t>(line: &Line<'_>, s: &'t str, base: usize) -> Result<Tokens<'t>, AsmError> {
    let b = s.as_bytes();
    let blank = |c: u8| c == b' ' || c == b'\t' || c == b'\r';
    let quoted =
        |i: usize| quoted_len(&b[i..]).ok_or_else(|| line.err(base + i, "unterminated quoted string"));
    let mut out = Tokens::new();
    let mut i = 0;
    while i < b.len() {
        if blank(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        if b[i] == b'\'' {
            // A quoted token ends at its closing quote.
            i += quoted(i)?;
        } else {
            while i < b.len() && !blank(b[i]) {
                i += if b[i] == b'\'' { quoted(i)? } else { 1 };
            }
        }
        out.push((&s[start..i], base + start));
    }
    Ok(out)
}

fn parse_name<'t>(line: &Line<'_>, tok: &'t str, col: usize) -> Result<Name<'t>, AsmError> {
    if let Some(num) = tok.strip_prefix('@') {
        return num
            .parse::<u32>()
            .map(Name::Offset)
            .map_err(|_| line.err(col, format!("expected a name offset after '@', found {tok:?}")));
    }
    if tok.starts_with('\'') {
        // Without escapes the text is the token itself.
        let inner = &tok[1..tok.len().saturating_sub(1)];
        let bytes: std::borrow::Cow<'t, [u8]> =
            if tok.len() >= 2 && tok.ends_with('\'') && !inner.bytes().any(|b| b == b'\\' || b == b'\'') {
                inner.as_bytes().into()
            } else {
                unquote(tok).map_err(|(m, at)| line.err(col + at, m))?.0.into()
            };
        if *bytes == *b"(anon)" || bytes.is_empty() {
            return Ok(Name::Offset(0));
        }
        return Ok(Name::Text(bytes));
    }
    Err(line.err(col, format!("expected a name ('text' or @offset), found {tok:?}")))
}

fn key_values<'t>(line: &Line<'_>, toks: &[(&'t str, usize)]) -> Result<KeyValues<'t>, AsmError> {
    let mut out = KeyValues::new();
    let mut in_comment = false;
    for (tok, col) in toks {
        // bpftool writes DATASEC entries with a "(VAR 'name')" comment.
        if in_comment || tok.starts_with('(') {
            in_comment = !tok.ends_with(')');
            continue;
        }
        let Some(eq) = tok.bytes().position(|b| b == b'=') else {
            return Err(line.err(*col, format!("expected key=value, found {tok:?}")));
        };
        let (k, v) = (&tok[..eq], &tok[eq + 1..]);
        // bpftool writes "type_id=5, linkage=global" for VARs.
        let v = v.strip_suffix(',').unwrap_or(v);
        out.push((
            k,
            Value {
                text: v,
                col: col + k.len() + 1,
            },
        ));
    }
    if in_comment {
        return Err(line.err(line.text.len(), "a '(' comment is not closed with ')'"));
    }
    Ok(out)
}

fn kind_by_name(name: &str) -> Option<Kind> {
    if name == "FUNC_ADDR" {
        return Some(Kind::FUNC_ADDR);
    }
    Kind::ALL.iter().copied().find(|k| k.display_name() == name)
}

fn hex_bytes(line: &Line<'_>, toks: &[(&str, usize)]) -> Result<Vec<u8>, AsmError> {
    toks.iter()
        .map(|(t, c)| {
            u8::from_str_radix(t, 16)
                .ok()
                .filter(|_| t.len() == 2)
                .ok_or_else(|| line.err(*c, format!("expected a hex byte like 0a, found {t:?}")))
        })
        .collect()
}

struct Parsed<'t> {
    /// `noheader`: the body bytes alone (blobs shorter than a header).
    noheader: bool,
    header: Vec<(&'t str, Value<'t>, usize)>,
    header_tail: Vec<u8>,
    items: Vec<Item>,
}

/// Which region new lines go to.
#[derive(PartialEq)]
enum In {
    Body,
    Types,
    Strings,
}

/// A keyword line must have nothing after the keyword.
fn no_more(line: &Line<'_>, toks: &[(&str, usize)]) -> Result<(), AsmError> {
    match toks.get(1) {
        Some((t, c)) => Err(line.err(*c, format!("unexpected {t:?} after {:?}", toks[0].0))),
        None => Ok(()),
    }
}

/// A record or raw word outside a type section opens one (there is only one).
fn open_types(line: &Line<'_>, col: usize, region: &mut In, items: &mut Vec<Item>) -> Result<(), AsmError> {
    if *region == In::Types {
        return Ok(());
    }
    if items.iter().any(|i| matches!(i, Item::Types(_))) {
        return Err(line.err(col, "only one type section: this record is outside it"));
    }
    *region = In::Types;
    items.push(Item::Types(Vec::new()));
    Ok(())
}

/// Parses `text`, encoding each record as soon as its last element line is
/// read (names resolve through `strings`), so no tree of the whole text is
/// ever built.
fn parse<'t>(text: &'t str, strings: &mut StringTable<'t>) -> Result<Parsed<'t>, AsmError> {
    let mut pending: Option<Record<'t>> = None;
    let mut spare: Vec<Element<'t>> = Vec::new();
    let mut p = Parsed {
        noheader: false,
        header: Vec::new(),
        header_tail: Vec::new(),
        items: Vec::new(),
    };
    let mut region = In::Body;
    for (no, raw_line) in text.lines().enumerate() {
        let line = Line {
            no: no + 1,
            text: raw_line,
        };
        let trimmed = raw_line.trim_start();
        let indent = raw_line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let toks = tokens(&line, trimmed, indent)?;
        let (first, first_col) = (toks[0].0, toks[0].1);
        if indent > 0 {
            // An element of the previous record, or a string.
            match region {
                // Read before the types by `prescan_strings`.
                In::Strings => {}
                _ => {
                    let Some(rec) = pending.as_mut() else {
                        return Err(line.err(indent, "an indented line must follow a type record"));
                    };
                    let (name, rest) = if first.starts_with('\'') || first.starts_with('@') {
                        (
                            Some((parse_name(&line, first, first_col)?, first_col)),
                            &toks[1..],
                        )
                    } else {
                        (None, &toks[..])
                    };
                    rec.elements.push(Element {
                        line: line.no,
                        name,
                        keys: key_values(&line, rest)?.into_iter().collect(),
                    });
                }
            }
            continue;
        }
        flush(&mut pending, &mut spare, &mut p.items, strings)?;
        match first {
            "header" => {
                if !p.items.is_empty() {
                    return Err(line.err(first_col, "the header must come before the body"));
                }
                for (k, v) in key_values(&line, &toks[1..])? {
                    p.header.push((k, v, line.no));
                }
            }
            "header_tail" => p.header_tail.extend(hex_bytes(&line, &toks[1..])?),
            "noheader" => {
                no_more(&line, &toks)?;
                p.noheader = true;
            }
            "bytes" => {
                let bytes = hex_bytes(&line, &toks[1..])?;
                match (&region, p.items.last_mut()) {
                    (In::Types, Some(Item::Types(t))) => t.extend_from_slice(&bytes),
                    _ => {
                        region = In::Body;
                        match p.items.last_mut() {
                            Some(Item::Bytes(b)) => b.extend(bytes),
                            _ => p.items.push(Item::Bytes(bytes)),
                        }
                    }
                }
            }
            "raw" => {
                let words = toks[1..]
                    .iter()
                    .map(|(t, c)| {
                        t.strip_prefix("0x")
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .ok_or_else(|| line.err(*c, format!("expected a 32-bit word like 0x0100000f, found {t:?}")))
                    })
                    .collect::<Result<Vec<u32>, _>>()?;
                open_types(&line, first_col, &mut region, &mut p.items)?;
                let Some(Item::Types(t)) = p.items.last_mut() else { unreachable!() };
                words.iter().for_each(|w| t.extend_from_slice(&w.to_le_bytes()));
            }
            "types" => {
                no_more(&line, &toks)?;
                if p.items.iter().any(|i| matches!(i, Item::Types(_))) {
                    return Err(line.err(first_col, "only one type section"));
                }
                region = In::Types;
                p.items.push(Item::Types(Vec::new()));
            }
            "strings" => {
                no_more(&line, &toks)?;
                if p.items.iter().any(|i| matches!(i, Item::Strings)) {
                    return Err(line.err(first_col, "only one strings block"));
                }
                region = In::Strings;
                p.items.push(Item::Strings);
            }
            t if t.starts_with('[') => {
                let close = t
                    .bytes()
                    .position(|b| b == b']')
                    .filter(|&c| c + 1 == t.len())
                    .ok_or_else(|| line.err(first_col, format!("expected [id], found {t:?}")))?;
                let _id: u32 = t[1..close]
                    .parse()
                    .map_err(|_| line.err(first_col + 1, format!("expected a type id in brackets, found {t:?}")))?;
                let (kt, kc) = toks.get(1).ok_or_else(|| line.err(raw_line.len(), "expected a kind after [id]"))?;
                let kind = kind_by_name(kt).ok_or_else(|| {
                    line.err(*kc, format!("unknown kind {kt:?} (use raw words for kinds btfcheck does not know)"))
                })?;
                let (nt, nc) = toks.get(2).ok_or_else(|| line.err(raw_line.len(), "expected a name after the kind"))?;
                let name = parse_name(&line, nt, *nc)?;
                let keys = key_values(&line, &toks[3..])?;
                open_types(&line, first_col, &mut region, &mut p.items)?;
                pending = Some(Record {
                    line: line.no,
                    kind,
                    name,
                    keys,
                    elements: std::mem::take(&mut spare),
                });
            }
            _ => {
                return Err(line.err(
                    first_col,
                    format!("expected header, header_tail, types, strings, bytes, raw or a [id] record, found {first:?}"),
                ))
            }
        }
    }
    flush(&mut pending, &mut spare, &mut p.items, strings)?;
    Ok(p)
}

/// Encodes the record being read into the type section it belongs to.
/// The element vector of the last record is kept in `spare` for the next.
fn flush<'t>(
    pending: &mut Option<Record<'t>>,
    spare: &mut Vec<Element<'t>>,
    items: &mut [Item],
    strings: &mut StringTable<'t>,
) -> Result<(), AsmError> {
    if let Some(rec) = pending.take() {
        let Some(Item::Types(t)) = items.last_mut() else {
            unreachable!("a record opens a type section")
        };
        encode(&rec, strings, t)?;
        *spare = rec.elements;
        spare.clear();
    }
    Ok(())
}

/// A string section as written: each string's offset, bytes, and whether a
/// NUL ends it.
type Chunks = Vec<(u32, Vec<u8>, bool)>;

/// One `@offset 'text' [noterm]` line of a strings block.
fn string_line(
    line: &Line<'_>,
    toks: &[(&str, usize)],
    chunks: &mut Vec<(u32, Vec<u8>, bool)>,
) -> Result<(), AsmError> {
    let (first, first_col) = (toks[0].0, toks[0].1);
    let off = first
        .strip_prefix('@')
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(|| line.err(first_col, "expected @offset at the start of a string line"))?;
    let (qt, qc) = toks
        .get(1)
        .ok_or_else(|| line.err(line.text.len(), "expected a quoted string"))?;
    if !qt.starts_with('\'') {
        return Err(line.err(*qc, "expected a quoted string"));
    }
    let (bytes, _) = unquote(qt).map_err(|(m, at)| line.err(qc + at, m))?;
    let noterm = match toks.get(2) {
        None => false,
        Some((t, _)) if *t == "noterm" => true,
        Some((t, c)) => {
            return Err(line.err(
                *c,
                format!("expected 'noterm' or the end of the line, found {t:?}"),
            ))
        }
    };
    let expected = chunks
        .last()
        .map_or(0, |(o, b, t)| o + b.len() as u32 + u32::from(*t));
    if off != expected {
        return Err(line.err(
            first_col,
            format!("this string starts at offset {expected}, not {off}"),
        ));
    }
    if chunks.last().is_some_and(|c| !c.2) {
        return Err(line.err(first_col, "no string may follow one marked noterm"));
    }
    chunks.push((off, bytes, !noterm));
    Ok(())
}

/// The explicit `strings` block, read first so names resolve while the
/// types are encoded line by line.
fn prescan_strings(text: &str) -> Result<Option<Chunks>, AsmError> {
    // Most texts (plain dumps) have no strings block: skip the walk.
    if !text.starts_with("strings") && memchr::memmem::find(text.as_bytes(), b"\nstrings").is_none() {
        return Ok(None);
    }
    let mut chunks: Option<Chunks> = None;
    let mut inside = false;
    for (no, raw_line) in text.lines().enumerate() {
        let trimmed = raw_line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = raw_line.len() - trimmed.len();
        if indent == 0 {
            inside = trimmed.trim_end() == "strings";
            if inside {
                if chunks.is_some() {
                    return Err(AsmError {
                        line: no + 1,
                        column: 1,
                        message: "only one strings block".into(),
                    });
                }
                chunks = Some(Vec::new());
            }
            continue;
        }
        if inside {
            let line = Line {
                no: no + 1,
                text: raw_line,
            };
            let toks = tokens(&line, trimmed, indent)?;
            string_line(&line, &toks, chunks.as_mut().expect("inside a block"))?;
        }
    }
    Ok(chunks)
}

/// Looks names up in the given string section, or builds one.
struct StringTable<'t> {
    explicit: bool,
    bytes: Vec<u8>,
    /// Names borrow the text when they have no escapes.
    index: FastMap<std::borrow::Cow<'t, [u8]>, u32>,
}

impl<'t> StringTable<'t> {
    fn explicit(chunks: &Chunks) -> Self {
        let mut t = StringTable {
            explicit: true,
            bytes: Vec::new(),
            index: FastMap::default(),
        };
        for (off, b, term) in chunks {
            t.index.entry(b.clone().into()).or_insert(*off);
            t.bytes.extend_from_slice(b);
            if *term {
                t.bytes.push(0);
            }
        }
        t
    }

    fn auto(expected_names: usize) -> Self {
        let mut index = FastMap::with_capacity_and_hasher(expected_names, Default::default());
        index.insert(std::borrow::Cow::Borrowed(&[][..]), 0);
        StringTable {
            explicit: false,
            bytes: vec![0],
            index,
        }
    }

    fn resolve(&mut self, name: &Name<'t>) -> Result<u32, String> {
        match name {
            Name::Offset(o) => Ok(*o),
            Name::Text(t) => {
                use std::collections::hash_map::Entry;
                match self.index.entry(t.clone()) {
                    Entry::Occupied(e) => Ok(*e.get()),
                    Entry::Vacant(_) if self.explicit => Err(format!(
                        "name {:?} is not in the strings block (add it, or write @offset)",
                        String::from_utf8_lossy(t)
                    )),
                    Entry::Vacant(v) => {
                        let o = self.bytes.len() as u32;
                        self.bytes.extend_from_slice(t);
                        self.bytes.push(0);
                        v.insert(o);
                        Ok(o)
                    }
                }
            }
        }
    }
}

/// Reads `key=value` pairs of one line, checking each is used once.
struct Keys<'a, 't> {
    line: usize,
    keys: &'a [(&'t str, Value<'t>)],
    used: u64,
}

impl<'a, 't> Keys<'a, 't> {
    fn new(line: usize, keys: &'a [(&'t str, Value<'t>)]) -> Self {
        Keys { line, keys, used: 0 }
    }

    fn err(&self, col: usize, message: String) -> AsmError {
        AsmError {
            line: self.line,
            column: col + 1,
            message,
        }
    }

    fn raw(&mut self, key: &str) -> Option<Value<'t>> {
        let i = self.keys.iter().position(|(k, _)| *k == key)?;
        self.used |= 1 << i.min(63);
        Some(self.keys[i].1)
    }

    fn num(&mut self, key: &str, default: Option<i64>) -> Result<i64, AsmError> {
        match self.raw(key) {
            Some(v) => parse_int(v.text)
                .ok_or_else(|| self.err(v.col, format!("{key}: expected a number, found {:?}", v.text))),
            None => default.ok_or_else(|| AsmError {
                line: self.line,
                column: 1,
                message: format!("missing {key}=..."),
            }),
        }
    }

    fn u32(&mut self, key: &str, default: Option<u32>) -> Result<u32, AsmError> {
        let v = self.num(key, default.map(i64::from))?;
        u32::try_from(v).map_err(|_| AsmError {
            line: self.line,
            column: 1,
            message: format!("{key}={v} does not fit in 32 bits"),
        })
    }

    /// A named value (e.g. `encoding=SIGNED`) or a number.
    fn named(&mut self, key: &str, names: &[(&str, u32)], default: Option<u32>) -> Result<u32, AsmError> {
        match self.raw(key) {
            Some(v) => names
                .iter()
                .find(|(n, _)| *n == v.text)
                .map(|(_, x)| *x)
                .or_else(|| parse_int(v.text).and_then(|x| u32::try_from(x).ok()))
                .ok_or_else(|| {
                    let known: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                    self.err(
                        v.col,
                        format!("{key}: expected one of {known:?} or a number, found {:?}", v.text),
                    )
                }),
            None => default.ok_or_else(|| AsmError {
                line: self.line,
                column: 1,
                message: format!("missing {key}=..."),
            }),
        }
    }

    fn finish(&self) -> Result<(), AsmError> {
        if self.keys.len() > 63 {
            return Err(self.err(self.keys[63].1.col, "too many keys on one line".into()));
        }
        match (0..self.keys.len()).find(|&i| self.used >> i & 1 == 0) {
            Some(i) => Err(self.err(
                self.keys[i].1.col,
                format!("unexpected key {:?} here", self.keys[i].0),
            )),
            None => Ok(()),
        }
    }
}

fn parse_int(s: &str) -> Option<i64> {
    // bpftool writes ENUM64 values as C literals: 1ULL, -1LL.
    let s = match s.as_bytes().last() {
        Some(b'U' | b'L') => s.trim_end_matches(['U', 'L']).as_bytes(),
        _ => s.as_bytes(),
    };
    let (neg, digits) = match s.split_first() {
        Some((b'-', d)) => (true, d),
        _ => (false, s),
    };
    let (radix, digits) = match digits {
        [b'0', b'x', h @ ..] => (16u64, h),
        d => (10, d),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        let d = (c as char).to_digit(radix as u32)? as u64;
        v = v.checked_mul(radix)?.checked_add(d)?;
    }
    // The full u64 range is accepted too (ENUM64 values), as i64 bits.
    if neg {
        (v <= 1 << 63).then(|| (v as i64).wrapping_neg())
    } else {
        Some(v as i64)
    }
}

const ENCODINGS: &[(&str, u32)] = &[("(none)", 0), ("SIGNED", 1), ("CHAR", 2), ("BOOL", 4)];
const LINKAGES: &[(&str, u32)] = &[("static", 0), ("global", 1), ("extern", 2)];

/// The name offset of an element line (0 when it has none).
fn element_name<'t>(e: &Element<'t>, strings: &mut StringTable<'t>) -> Result<u32, AsmError> {
    match &e.name {
        Some((n, col)) => strings.resolve(n).map_err(|m| AsmError {
            line: e.line,
            column: col + 1,
            message: m,
        }),
        None => Ok(0),
    }
}

/// Encodes one record to words.
fn encode<'t>(rec: &Record<'t>, strings: &mut StringTable<'t>, out: &mut Vec<u8>) -> Result<(), AsmError> {
    let at = |col: usize, m: String| AsmError {
        line: rec.line,
        column: col,
        message: m,
    };
    let name_off = strings.resolve(&rec.name).map_err(|m| at(1, m))?;
    let mut k = Keys::new(rec.line, &rec.keys);
    let n = rec.elements.len() as u32;
    let kind = rec.kind;
    let counts_elements = matches!(
        kind,
        Kind::STRUCT | Kind::UNION | Kind::ENUM | Kind::ENUM64 | Kind::FUNC_PROTO | Kind::DATASEC
    );
    let mut kflag = k.u32("kflag", Some(0))? != 0;
    let reserved = k.u32("reserved", Some(0))?;
    let mut tail: Vec<u32> = Vec::new();
    let mut vlen = if counts_elements {
        k.u32("vlen", Some(n))?
    } else {
        k.u32("vlen", Some(0))?
    };
    if counts_elements && vlen != n {
        return Err(at(1, format!("vlen={vlen} but {n} element lines follow")));
    }
    if !counts_elements && n != 0 {
        return Err(AsmError {
            line: rec.elements[0].line,
            column: 1,
            message: format!("{kind} records have no element lines"),
        });
    }
    let size_type: u32;
    match kind {
        Kind::INT => {
            size_type = k.u32("size", None)?;
            let bits = k.u32("nr_bits", None)?;
            let off = k.u32("bits_offset", Some(0))?;
            let enc = k.named("encoding", ENCODINGS, Some(0))?;
            let unused = k.u32("int_unused", Some(0))?;
            let reserved_nibble = k.u32("int_reserved", Some(0))?;
            if bits > 0xff || off > 0xff || enc > 0xf || unused > 0xff || reserved_nibble > 0xf {
                return Err(at(
                    1,
                    "INT fields out of range (nr_bits and bits_offset are 8-bit, encoding 4-bit)".into(),
                ));
            }
            tail.push(reserved_nibble << 28 | enc << 24 | off << 16 | unused << 8 | bits);
        }
        Kind::PTR | Kind::TYPEDEF | Kind::VOLATILE | Kind::CONST | Kind::RESTRICT | Kind::TYPE_TAG => {
            size_type = k.u32("type_id", None)?;
        }
        Kind::ARRAY => {
            size_type = k.u32("size", Some(0))?;
            tail.push(k.u32("type_id", None)?);
            tail.push(k.u32("index_type_id", None)?);
            tail.push(k.u32("nr_elems", None)?);
        }
        Kind::STRUCT | Kind::UNION => {
            size_type = k.u32("size", None)?;
            for e in &rec.elements {
                let mut ek = Keys::new(e.line, &e.keys);
                let name = element_name(e, strings)?;
                let ty = ek.u32("type_id", None)?;
                let bits = ek.u32("bits_offset", None)?;
                let bf = ek.u32("bitfield_size", Some(0))?;
                if bf != 0 {
                    kflag = true;
                }
                ek.finish()?;
                tail.extend([name, ty, bits, bf]);
            }
            // Pack offsets once kind_flag is known for the whole struct.
            let mut packed = Vec::with_capacity(tail.len() / 4 * 3);
            for m in tail.chunks(4) {
                let off = if kflag {
                    if m[2] > 0xff_ffff || m[3] > 0xff {
                        return Err(at(
                            1,
                            "with kind_flag, bits_offset is 24-bit and bitfield_size 8-bit".into(),
                        ));
                    }
                    m[3] << 24 | m[2]
                } else {
                    m[2]
                };
                packed.extend([m[0], m[1], off]);
            }
            tail = packed;
        }
        Kind::ENUM | Kind::ENUM64 => {
            size_type = k.u32("size", None)?;
            kflag = k.named(
                "encoding",
                &[("UNSIGNED", 0), ("SIGNED", 1)],
                Some(u32::from(kflag)),
            )? != 0;
            for e in &rec.elements {
                let mut ek = Keys::new(e.line, &e.keys);
                let name = element_name(e, strings)?;
                let v = ek.num("val", None)?;
                if kind == Kind::ENUM && !(i32::MIN as i64..=u32::MAX as i64).contains(&v) {
                    return Err(AsmError {
                        line: e.line,
                        column: 1,
                        message: format!("val={v} does not fit a 32-bit ENUM (use ENUM64)"),
                    });
                }
                let v = v as u64;
                ek.finish()?;
                tail.push(name);
                tail.push(v as u32);
                if kind == Kind::ENUM64 {
                    tail.push((v >> 32) as u32);
                }
            }
        }
        Kind::FWD => {
            kflag = k.named("fwd_kind", &[("struct", 0), ("union", 1)], Some(u32::from(kflag)))? != 0;
            size_type = k.u32("size_type", Some(0))?;
        }
        Kind::FUNC => {
            size_type = k.u32("type_id", None)?;
            if k.keys.iter().any(|(key, _)| *key == "vlen") {
                return Err(at(1, "a FUNC's vlen is its linkage: write linkage=N".into()));
            }
            vlen = k.named("linkage", LINKAGES, Some(0))?;
        }
        Kind::FUNC_PROTO => {
            size_type = k.u32("ret_type_id", Some(0))?;
            for e in &rec.elements {
                let mut ek = Keys::new(e.line, &e.keys);
                let name = element_name(e, strings)?;
                tail.push(name);
                tail.push(ek.u32("type_id", None)?);
                ek.finish()?;
            }
        }
        Kind::VAR => {
            size_type = k.u32("type_id", None)?;
            tail.push(k.named("linkage", LINKAGES, Some(0))?);
        }
        Kind::DATASEC => {
            size_type = k.u32("size", None)?;
            for e in &rec.elements {
                let mut ek = Keys::new(e.line, &e.keys);
                if let Some((_, col)) = &e.name {
                    return Err(AsmError {
                        line: e.line,
                        column: col + 1,
                        message: "DATASEC entries have no name: type_id=N offset=N size=N".into(),
                    });
                }
                tail.push(ek.u32("type_id", None)?);
                tail.push(ek.u32("offset", None)?);
                tail.push(ek.u32("size", None)?);
                ek.finish()?;
            }
        }
        Kind::FLOAT => size_type = k.u32("size", None)?,
        Kind::DECL_TAG => {
            size_type = k.u32("type_id", None)?;
            let idx = k.num("component_idx", Some(-1))?;
            let idx = i32::try_from(idx)
                .map_err(|_| at(1, format!("component_idx={idx} does not fit in 32 bits")))?;
            tail.push(idx as u32);
        }
        Kind::FUNC_ADDR => {
            size_type = k.u32("type_id", None)?;
            // Any 64-bit value (parse_int keeps u64 bits).
            let addr = k.num("addr", None)? as u64;
            tail.extend([addr as u32, (addr >> 32) as u32, k.u32("flags", Some(0))?]);
        }
        _ => return Err(at(1, format!("kind {kind} cannot be written as a record"))),
    }
    k.finish()?;
    if vlen > 0xffff {
        return Err(at(1, format!("vlen {vlen} does not fit in 16 bits")));
    }
    let word = info(kind, vlen as u16, kflag) | reserved;
    for w in [name_off, word, size_type].into_iter().chain(tail) {
        out.extend_from_slice(&w.to_le_bytes());
    }
    Ok(())
}

/// Assembles text (exact form or bpftool raw format) into a blob.
pub fn assemble(text: &str) -> Result<Vec<u8>, AsmError> {
    let explicit = prescan_strings(text)?;
    let has_explicit = explicit.is_some();
    // Room for about one new name per two lines, as in pahole output.
    let mut strings = match &explicit {
        Some(chunks) => StringTable::explicit(chunks),
        None => StringTable::auto(text.len() / 64),
    };
    let mut p = parse(text, &mut strings)?;
    if p.noheader {
        let mut out = Vec::new();
        for item in &p.items {
            match item {
                Item::Bytes(b) => out.extend_from_slice(b),
                _ => {
                    return Err(AsmError {
                        line: 1,
                        column: 1,
                        message: "with noheader only bytes lines may follow".into(),
                    })
                }
            }
        }
        return Ok(out);
    }
    if !has_explicit {
        p.items.push(Item::Strings);
    }

    // Body bytes and where the sections landed (relative to the body start).
    let mut body = Vec::new();
    let mut types_at: Option<(usize, usize)> = None;
    let mut strings_at: Option<(usize, usize)> = None;
    let mut pending_strings_pos = None;
    for (i, item) in p.items.iter().enumerate() {
        match item {
            Item::Bytes(b) => body.extend_from_slice(b),
            Item::Types(types) => {
                let start = body.len();
                body.extend_from_slice(types);
                types_at = Some((start, body.len()));
            }
            Item::Strings => {
                // Auto strings are complete only after every record.
                pending_strings_pos = Some((i, body.len()));
                if has_explicit {
                    strings_at = Some((body.len(), body.len() + strings.bytes.len()));
                    body.extend_from_slice(&strings.bytes);
                }
            }
        }
    }
    if !has_explicit {
        let (_, pos) = pending_strings_pos.expect("pushed above");
        strings_at = Some((pos, pos + strings.bytes.len()));
        body.splice(pos..pos, strings.bytes.iter().copied());
    }

    let hdr_line = p.header.first().map_or(0, |h| h.2);
    let header_keys: KeyValues<'_> = p.header.iter().map(|(k, v, _)| (*k, *v)).collect();
    let mut hk = Keys::new(hdr_line, &header_keys);
    let hdr_len = hk.u32("hdr_len", Some(HEADER_LEN + p.header_tail.len() as u32))?;
    let body_start = HEADER_LEN + p.header_tail.len() as u32;
    let rel = |x: usize| (body_start as usize + x).wrapping_sub(hdr_len as usize) as u32;
    let (t0, t1) = types_at.unwrap_or((0, 0));
    let (s0, s1) = strings_at.unwrap_or((0, 0));
    let magic = hk.u32("magic", Some(MAGIC as u32))?;
    let version = hk.u32("version", Some(1))?;
    let flags = hk.u32("flags", Some(0))?;
    let narrow = |key: &str, v: u32, max: u32| {
        if v > max {
            Err(AsmError {
                line: hdr_line,
                column: 1,
                message: format!(
                    "{key}={v:#x} does not fit in {} bits",
                    if max == 0xff { 8 } else { 16 }
                ),
            })
        } else {
            Ok(v)
        }
    };
    let h = Header {
        magic: narrow("magic", magic, 0xffff)? as u16,
        version: narrow("version", version, 0xff)? as u8,
        flags: narrow("flags", flags, 0xff)? as u8,
        hdr_len,
        type_off: hk.u32("type_off", Some(if types_at.is_some() { rel(t0) } else { 0 }))?,
        type_len: hk.u32("type_len", Some((t1 - t0) as u32))?,
        str_off: hk.u32("str_off", Some(rel(s0)))?,
        str_len: hk.u32("str_len", Some((s1 - s0) as u32))?,
    };
    hk.finish()?;
    let mut out = Vec::with_capacity(body_start as usize + body.len());
    out.extend_from_slice(&h.to_bytes());
    out.extend_from_slice(&p.header_tail);
    out.extend_from_slice(&body);
    Ok(out)
}
