//! `dump`: BTF printed the way bpftool prints it.
//!
//! Three layouts, each byte-identical to Debian's `bpftool` v7.1.0 (libbpf
//! v1.1) on every blob it accepts:
//!
//! | function | [`Format`] | bpftool command |
//! |---|---|---|
//! | [`render_raw`] | `Raw` | `bpftool btf dump file FILE format raw` |
//! | [`render_json`] | `Json` | `bpftool -j btf dump file FILE` |
//! | [`render_json_pretty`] | `JsonPretty` | `bpftool -p btf dump file FILE` |
//!
//! [`render`] takes the [`Format`] as an argument; [`write()`] streams the
//! same bytes to an `io::Write` in bounded memory (what a CLI should use).
//!
//! With `base = Some(..)` they print split BTF the way
//! `bpftool --base-btf BASE btf dump file SPLIT` does: only the split's own
//! types, numbered after the base's, with string offsets at or past the
//! base's `str_len` indexing the split's strings. (bpftool also takes
//! `/sys/kernel/btf/vmlinux` as the base of any other file under
//! `/sys/kernel/btf/` by itself: see [`implied_base`].)
//!
//! ```
//! use btfcheck::{builder::BtfBuilder, dump};
//! let mut b = BtfBuilder::new();
//! let int = b.int("int", 4, 32, btfcheck::builder::INT_SIGNED);
//! b.ptr(int);
//! let text = dump::render_raw(&b.build(), None).unwrap();
//! assert_eq!(
//!     text,
//!     b"[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n\
//!       [2] PTR '(anon)' type_id=1\n"
//! );
//! ```
//!
//! # What is accepted
//!
//! Exactly what libbpf's `btf__new()` accepts, which is much more than the
//! kernel does (no name, size, reference or layout checks): a 24-byte
//! header with the magic in either byte order (the other order only with
//! `hdr_len == 24`), sections inside the blob with the types before the
//! strings, a string section that ends in NUL (and starts with one unless
//! the BTF is split), and a type section made of whole records of known
//! kinds (1 to 19). Anything else is a [`DumpError`], never partial output;
//! [`DumpError::bpftool_failure`] gives bpftool's messages and exit status
//! for it. The blob is the BTF itself: callers extract `.BTF` from ELF
//! objects first ([`crate::input::load`]), as libbpf does; errors about the
//! file itself (unreadable, neither BTF nor ELF, no `.BTF`) are theirs.
//!
//! # bpftool quirks kept on purpose
//!
//! Names are printed as their raw bytes. In JSON, bpftool's string escaper
//! writes `\` as `\n` and lets control bytes other than `\t \n \r \f \b`
//! through unescaped; the JSON renderers do the same so the bytes match,
//! which means a name holding such a byte (or invalid UTF-8) yields JSON
//! that strict parsers reject (C identifiers never do; tag values and
//! section names could). An unsigned ENUM's negative `val` is sign-extended
//! to 64 bits in JSON (`18446744073709551615` for -1) but printed as a
//! 32-bit unsigned number in the raw text (`4294967295`), as bpftool does.

mod bpftool;
mod bpftool_json;

use crate::raw::{header::MAGIC, CommonType, Kind, RecordCursor, TypeRecord};
use std::borrow::Cow;
use thiserror::Error;

/// The sysfs path bpftool reads the kernel's BTF from.
pub const SYSFS_VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Why a blob cannot be dumped: the check of libbpf's `btf__new()` that
/// refuses it (bpftool then prints `Error: failed to load BTF from FILE:
/// <strerror(errno)>` and exits with status 256 - errno; see
/// [`DumpError::bpftool_failure`]). Messages follow libbpf's own
/// debug/warning texts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DumpError {
    #[error("BTF header not found ({size} bytes, need 24)")]
    HeaderNotFound { size: usize },
    #[error("Invalid BTF magic: {magic:x}")]
    BadMagic { magic: u16 },
    #[error("Can't load BTF with non-native endianness due to unsupported header length {hdr_len}")]
    SwappedHeaderLen { hdr_len: u32 },
    #[error("BTF header len {hdr_len} larger than data size {size}")]
    HeaderTooLong { hdr_len: u32, size: u32 },
    #[error("Invalid BTF total size: {size}")]
    TotalSize { size: u32 },
    #[error(
        "Invalid BTF data sections layout: type data at {type_off} + {type_len}, strings data at {str_off} + {str_len}"
    )]
    Layout {
        type_off: u32,
        type_len: u32,
        str_off: u32,
        str_len: u32,
    },
    #[error("BTF type section is not aligned to 4 bytes")]
    UnalignedTypes,
    #[error("Invalid BTF string section")]
    Strings,
    #[error("Unsupported BTF_KIND:{kind} (type [{id}])")]
    UnsupportedKind { id: u32, kind: u8 },
    #[error("BTF type [{id}] is malformed")]
    MalformedType { id: u32 },
    #[error("BTF types data is malformed")]
    TrailingTypeData,
    #[error("BTF blob larger than 4 GiB")]
    TooLarge,
    #[error("base BTF: {0}")]
    Base(Box<DumpError>),
}

impl DumpError {
    /// The errno libbpf sets (`EINVAL`, or `ENOTSUP` for a foreign-endian
    /// header of another length); bpftool prints its `strerror`.
    pub fn errno(&self) -> i32 {
        match self {
            DumpError::SwappedHeaderLen { .. } => libc::ENOTSUP,
            DumpError::Base(inner) => inner.errno(),
            _ => libc::EINVAL,
        }
    }

    /// The line libbpf itself prints on stderr (`libbpf: ...\n`) for the
    /// failures it reports at warning level; `None` for those it only logs
    /// at debug level (which bpftool does not show without `-d`).
    fn libbpf_warning(&self) -> Option<String> {
        match self {
            DumpError::SwappedHeaderLen { .. }
            | DumpError::MalformedType { .. }
            | DumpError::TrailingTypeData => Some(format!("libbpf: {self}\n")),
            DumpError::Base(inner) => inner.libbpf_warning(),
            _ => None,
        }
    }

    /// Everything bpftool does when it cannot load the BTF, for
    /// `bpftool [-j|-p] [-B BASE] btf dump file FILE`: `file` and `base` are
    /// the paths as given on its command line (`-j`/`-p` before `-B`, else
    /// a bad base is reported as text).
    pub fn bpftool_failure(&self, file: &str, base: Option<&str>, format: Format) -> BpftoolFailure {
        let (message, exit_code) = match self {
            // `-B` is parsed first; its failure returns -1 from main.
            DumpError::Base(inner) => (
                format!(
                    "failed to parse base BTF at '{}': -{}\n",
                    base.unwrap_or(""),
                    inner.errno()
                ),
                255,
            ),
            _ => (
                format!("failed to load BTF from {file}: {}", strerror(self.errno())),
                256 - self.errno(),
            ),
        };
        let mut stderr = self.libbpf_warning().unwrap_or_default();
        // p_err(): to stderr, or as `{"error":"..."}` on stdout (the message
        // is not escaped) in JSON mode.
        let mut stdout = match format {
            Format::Raw => {
                stderr.push_str(&format!("Error: {message}\n"));
                Vec::new()
            }
            Format::Json => format!("{{\"error\":\"{message}\"}}\n").into_bytes(),
            Format::JsonPretty => format!("{{\n    \"error\": \"{message}\"\n}}\n").into_bytes(),
        };
        // A bad base ends bpftool before its JSON writer adds the last newline.
        if matches!(self, DumpError::Base(_)) {
            stdout.pop();
        }
        BpftoolFailure {
            stdout,
            stderr,
            exit_code,
        }
    }
}

fn strerror(errno: i32) -> &'static str {
    match errno {
        libc::ENOTSUP => "Operation not supported",
        _ => "Invalid argument",
    }
}

/// What bpftool prints and returns when it refuses a blob
/// ([`DumpError::bpftool_failure`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpftoolFailure {
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// 234 (-EINVAL), 161 (-ENOTSUP), or 255 for a bad base.
    pub exit_code: i32,
}

/// The three layouts bpftool prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `bpftool btf dump file FILE format raw`
    Raw,
    /// `bpftool -j btf dump file FILE`
    Json,
    /// `bpftool -p btf dump file FILE`
    JsonPretty,
}

/// Renders `blob` (split on `base`, if given) in `format`.
///
/// The whole output is built in memory. It is usually about 4 (raw), 6
/// (JSON) or 13 (pretty) times the type section, but a hostile blob can ask
/// for far more (every name may be as long as the string section and be
/// printed once per member, parameter or DATASEC entry): to print a blob of
/// unknown origin, stream it with [`write()`].
pub fn render(blob: &[u8], base: Option<&[u8]>, format: Format) -> Result<Vec<u8>, DumpError> {
    with_loaded(blob, base, |btf| {
        let per_type_byte = match format {
            Format::Raw => 4,
            Format::Json => 6,
            Format::JsonPretty => 14,
        };
        let mut out = Out::with_capacity(btf.types.len() * per_type_byte + 4096);
        emit(btf, &mut out, format);
        out.finish()
    })
}

/// Like [`render`], but streams the output to `w` in 1 MiB writes (what
/// bpftool itself does with stdout), so memory stays bounded whatever the
/// blob. Nothing is written unless the whole blob loads: a [`DumpError`]
/// never comes with partial output. Stops at the first I/O error.
pub fn write(
    w: &mut dyn std::io::Write,
    blob: &[u8],
    base: Option<&[u8]>,
    format: Format,
) -> Result<(), WriteError> {
    with_loaded(blob, base, |btf| {
        let mut out = Out::streaming(w, 1 << 20);
        emit(btf, &mut out, format);
        out.flush()
    })?
    .map_err(WriteError::Io)
}

/// What [`write()`] can fail with.
#[derive(Debug, Error)]
pub enum WriteError {
    #[error(transparent)]
    Dump(#[from] DumpError),
    #[error("writing the dump: {0}")]
    Io(std::io::Error),
}

fn emit(btf: &Loaded<'_>, out: &mut Out<'_>, format: Format) {
    match format {
        Format::Raw => bpftool::write_raw(btf, out),
        Format::Json => bpftool_json::write_json(btf, out, false),
        Format::JsonPretty => bpftool_json::write_json(btf, out, true),
    }
}

/// The raw text of `bpftool btf dump file FILE format raw` (or, with a
/// base, `bpftool --base-btf BASE btf dump file FILE format raw`).
pub fn render_raw(blob: &[u8], base: Option<&[u8]>) -> Result<Vec<u8>, DumpError> {
    render(blob, base, Format::Raw)
}

/// The JSON of `bpftool -j btf dump file FILE` (one line, then `\n`).
pub fn render_json(blob: &[u8], base: Option<&[u8]>) -> Result<Vec<u8>, DumpError> {
    render(blob, base, Format::Json)
}

/// The JSON of `bpftool -p btf dump file FILE` (bpftool's pretty layout).
pub fn render_json_pretty(blob: &[u8], base: Option<&[u8]>) -> Result<Vec<u8>, DumpError> {
    render(blob, base, Format::JsonPretty)
}

/// The base BTF bpftool loads on its own for `btf dump file PATH` when no
/// `--base-btf` is given: `/sys/kernel/btf/vmlinux` for any other file
/// under `/sys/kernel/btf/` (kernel modules' split BTF), else `None`.
pub fn implied_base(path: &str) -> Option<&'static str> {
    (path.starts_with("/sys/kernel/btf/") && path != SYSFS_VMLINUX).then_some(SYSFS_VMLINUX)
}

fn with_loaded<T>(
    blob: &[u8],
    base: Option<&[u8]>,
    f: impl FnOnce(&Loaded<'_>) -> T,
) -> Result<T, DumpError> {
    let base_sections = match base {
        Some(b) => Some(Sections::parse(b, false).map_err(|e| DumpError::Base(Box::new(e)))?),
        None => None,
    };
    let base_loaded = match &base_sections {
        Some(s) => Some(Loaded::new(s, None).map_err(|e| DumpError::Base(Box::new(e)))?),
        None => None,
    };
    let sections = Sections::parse(blob, base_loaded.is_some())?;
    let btf = Loaded::new(&sections, base_loaded.as_ref())?;
    Ok(f(&btf))
}

/// The header-checked sections of one blob (libbpf's `btf_parse_hdr` and
/// `btf_parse_str_sec`), the type section converted to native byte order.
struct Sections<'a> {
    types: Cow<'a, [u8]>,
    strs: &'a [u8],
}

/// Reads a little-endian (or, `swap`, big-endian) u32 at `off` of the
/// 24-byte header.
fn hdr_u32(h: &[u8], off: usize, swap: bool) -> u32 {
    let v = u32::from_le_bytes([h[off], h[off + 1], h[off + 2], h[off + 3]]);
    if swap {
        v.swap_bytes()
    } else {
        v
    }
}

impl<'a> Sections<'a> {
    fn parse(blob: &'a [u8], split: bool) -> Result<Sections<'a>, DumpError> {
        if blob.len() < 24 {
            return Err(DumpError::HeaderNotFound { size: blob.len() });
        }
        let raw_size = u32::try_from(blob.len()).map_err(|_| DumpError::TooLarge)?;
        let magic = u16::from_le_bytes([blob[0], blob[1]]);
        let swap = if magic == MAGIC {
            false
        } else if magic == MAGIC.swap_bytes() {
            true
        } else {
            return Err(DumpError::BadMagic { magic });
        };
        let hdr_len = hdr_u32(blob, 4, swap);
        if swap && hdr_len != 24 {
            return Err(DumpError::SwappedHeaderLen { hdr_len });
        }
        let type_off = hdr_u32(blob, 8, swap);
        let type_len = hdr_u32(blob, 12, swap);
        let str_off = hdr_u32(blob, 16, swap);
        let str_len = hdr_u32(blob, 20, swap);
        if raw_size < hdr_len {
            return Err(DumpError::HeaderTooLong {
                hdr_len,
                size: raw_size,
            });
        }
        let meta_left = u64::from(raw_size - hdr_len);
        if meta_left < u64::from(str_off) + u64::from(str_len) {
            return Err(DumpError::TotalSize { size: raw_size });
        }
        if u64::from(type_off) + u64::from(type_len) > u64::from(str_off) {
            return Err(DumpError::Layout {
                type_off,
                type_len,
                str_off,
                str_len,
            });
        }
        if !type_off.is_multiple_of(4) {
            return Err(DumpError::UnalignedTypes);
        }
        // In bounds: hdr_len + str_off + str_len <= raw_size and
        // type_off + type_len <= str_off.
        let data = &blob[hdr_len as usize..];
        let strs = &data[str_off as usize..(str_off as usize + str_len as usize)];
        let types = &data[type_off as usize..(type_off as usize + type_len as usize)];

        let strings_ok = if split && str_len == 0 {
            true
        } else {
            str_len != 0 && str_len - 1 <= 0x7fff_ffff && strs[strs.len() - 1] == 0 && (split || strs[0] == 0)
        };
        if !strings_ok {
            return Err(DumpError::Strings);
        }

        let types = if swap {
            // Every field of every record is a 32-bit word, so swapping the
            // section word by word equals libbpf's per-field swap; a trailing
            // partial word (an error below anyway) is left as it is.
            let mut v = types.to_vec();
            for w in v.chunks_exact_mut(4) {
                w.reverse();
            }
            Cow::Owned(v)
        } else {
            Cow::Borrowed(types)
        };
        Ok(Sections { types, strs })
    }
}

/// One parsed BTF as libbpf holds it: record offsets, strings, and the
/// base it extends.
pub(crate) struct Loaded<'a> {
    types: &'a [u8],
    strs: &'a [u8],
    /// Offset of each record in `types`, for ids `start_id..`.
    offs: Vec<u32>,
    start_id: u32,
    start_str_off: u32,
    base: Option<&'a Loaded<'a>>,
}

impl<'a> Loaded<'a> {
    /// libbpf's `btf_parse_type_sec`: whole records of known kinds up to the
    /// end of the section.
    fn new(s: &'a Sections<'a>, base: Option<&'a Loaded<'a>>) -> Result<Loaded<'a>, DumpError> {
        let types: &'a [u8] = &s.types;
        let start_id = base.map_or(1, |b| b.type_cnt());
        let start_str_off = base.map_or(0, |b| b.start_str_off + b.strs.len() as u32);
        let mut offs = Vec::with_capacity(types.len() / 24 + 1);
        let mut cur = RecordCursor::new(types);
        while let Some(common) = cur.peek_common() {
            let id = start_id.wrapping_add(offs.len() as u32);
            let tail = common.tail_len().ok_or(DumpError::UnsupportedKind {
                id,
                kind: common.kind().0,
            })?;
            if tail > cur.left() - 12 {
                return Err(DumpError::MalformedType { id });
            }
            offs.push(cur.pos());
            cur.take(common, tail);
        }
        if !cur.at_end() {
            return Err(DumpError::TrailingTypeData);
        }
        Ok(Loaded {
            types,
            strs: s.strs,
            offs,
            start_id,
            start_str_off,
            base,
        })
    }

    /// `btf__type_cnt`: one past the last id.
    pub(crate) fn type_cnt(&self) -> u32 {
        self.start_id + self.offs.len() as u32
    }

    /// This BTF's own records, with their ids, in order.
    pub(crate) fn records(&self) -> impl Iterator<Item = (u32, TypeRecord<'a>)> + '_ {
        let mut cur = RecordCursor::new(self.types);
        let mut id = self.start_id;
        std::iter::from_fn(move || {
            let common = cur.peek_common()?;
            // Checked by `new`: known kind, whole tail.
            let tail = common.tail_len()?;
            let rec = cur.take(common, tail);
            id += 1;
            Some((id - 1, rec))
        })
    }

    /// `btf__str_by_offset`: the section's bytes from the string on (so
    /// callers may over-read) and the string's length; `None` past the end.
    fn str_at(&self, off: u32) -> Option<(&'a [u8], usize)> {
        if off < self.start_str_off {
            return self.base?.str_at(off);
        }
        let rel = (off - self.start_str_off) as usize;
        let rest = self.strs.get(rel..).filter(|r| !r.is_empty())?;
        Some((rest, strlen(rest)))
    }

    /// bpftool's `btf_str` as a [`Span`]: `(anon)` for 0, `(invalid)` past
    /// the end.
    #[inline]
    pub(crate) fn name(&self, off: u32) -> Span<'a> {
        if off == 0 {
            return ANON.span();
        }
        match self.str_at(off) {
            Some((src, len)) => Span { src, len },
            None => INVALID.span(),
        }
    }

    /// Kind and name offset of type `id` (`btf__type_by_id`; 0 is void, of
    /// kind 0 with no name); `None` at or past [`type_cnt`](Self::type_cnt).
    pub(crate) fn kind_and_name(&self, id: u32) -> Option<(Kind, u32)> {
        if id == 0 {
            return Some((Kind(0), 0));
        }
        if id < self.start_id {
            return self.base?.kind_and_name(id);
        }
        let pos = *self.offs.get((id - self.start_id) as usize)?;
        let c = CommonType::parse(&self.types[pos as usize..])?;
        Some((c.kind(), c.name_off))
    }
}

/// Length of the NUL-terminated string at the start of `s` (all of `s`
/// without a NUL), eight bytes at a time.
#[inline]
fn strlen(s: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        // The lowest set bit marks the first zero byte (bits above it may
        // be false positives, never bits below).
        let zero = w.wrapping_sub(ONES) & !w & HIGHS;
        if zero != 0 {
            return i + (zero.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    s[i..].iter().position(|&b| b == 0).map_or(s.len(), |p| i + p)
}

/// A string to print: `src[..len]`, where `src` may go on past `len` so
/// short strings can be copied in one fixed-size move.
#[derive(Clone, Copy)]
pub(crate) struct Span<'a> {
    pub(crate) src: &'a [u8],
    pub(crate) len: usize,
}

impl<'a> Span<'a> {
    pub(crate) fn bytes(&self) -> &'a [u8] {
        &self.src[..self.len]
    }
}

/// A fixed word padded to 16 bytes, for [`Out::span`]'s fast path.
pub(crate) struct Word {
    bytes: [u8; 16],
    len: usize,
}

impl Word {
    const fn new(s: &str) -> Word {
        let b = s.as_bytes();
        let mut bytes = [0u8; 16];
        let mut i = 0;
        while i < b.len() {
            bytes[i] = b[i];
            i += 1;
        }
        Word { bytes, len: b.len() }
    }
    #[inline]
    pub(crate) fn span(&'static self) -> Span<'static> {
        Span {
            src: &self.bytes,
            len: self.len,
        }
    }
}

static ANON: Word = Word::new("(anon)");
static INVALID: Word = Word::new("(invalid)");

/// bpftool's `btf_kind_str[btf_kind_safe(kind)]`.
pub(crate) fn kind_str(kind: Kind) -> Span<'static> {
    static NAMES: [Word; 20] = [
        Word::new("UNKNOWN"),
        Word::new("INT"),
        Word::new("PTR"),
        Word::new("ARRAY"),
        Word::new("STRUCT"),
        Word::new("UNION"),
        Word::new("ENUM"),
        Word::new("FWD"),
        Word::new("TYPEDEF"),
        Word::new("VOLATILE"),
        Word::new("CONST"),
        Word::new("RESTRICT"),
        Word::new("FUNC"),
        Word::new("FUNC_PROTO"),
        Word::new("VAR"),
        Word::new("DATASEC"),
        Word::new("FLOAT"),
        Word::new("DECL_TAG"),
        Word::new("TYPE_TAG"),
        Word::new("ENUM64"),
    ];
    NAMES.get(kind.0 as usize).unwrap_or(&NAMES[0]).span()
}

/// bpftool's `btf_int_enc_str`.
pub(crate) fn int_encoding_str(encoding: u32) -> Span<'static> {
    static NONE: Word = Word::new("(none)");
    static SIGNED: Word = Word::new("SIGNED");
    static CHAR: Word = Word::new("CHAR");
    static BOOL: Word = Word::new("BOOL");
    static UNKN: Word = Word::new("UNKN");
    match encoding {
        0 => NONE.span(),
        1 => SIGNED.span(),
        2 => CHAR.span(),
        4 => BOOL.span(),
        _ => UNKN.span(),
    }
}

/// bpftool's `btf_var_linkage_str` / `btf_func_linkage_str`.
pub(crate) fn linkage_str(linkage: u32) -> Span<'static> {
    static STATIC: Word = Word::new("static");
    static GLOBAL: Word = Word::new("global");
    static EXTERN: Word = Word::new("extern");
    static UNKNOWN: Word = Word::new("(unknown)");
    match linkage {
        0 => STATIC.span(),
        1 => GLOBAL.span(),
        2 => EXTERN.span(),
        _ => UNKNOWN.span(),
    }
}

/// The output buffer: a zero-filled `Vec` written through a cursor, so
/// fixed-size copies (literals, short strings over-copied from their
/// section) need no call to `memcpy`. Zero-filled allocations come from the
/// OS untouched, so a generous first size costs nothing. With a sink, a
/// full buffer is written out instead of grown.
pub(crate) struct Out<'w> {
    buf: Vec<u8>,
    pos: usize,
    sink: Option<&'w mut dyn std::io::Write>,
    error: Option<std::io::Error>,
}

/// Room kept past any write for the over-copying fast paths.
const SLACK: usize = 64;

static DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

impl<'w> Out<'w> {
    pub(crate) fn with_capacity(n: usize) -> Out<'w> {
        Out {
            buf: vec![0; n.max(4 * SLACK)],
            pos: 0,
            sink: None,
            error: None,
        }
    }

    fn streaming(sink: &'w mut dyn std::io::Write, n: usize) -> Out<'w> {
        Out {
            sink: Some(sink),
            ..Out::with_capacity(n)
        }
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.truncate(self.pos);
        if self.buf.capacity() > 2 * self.buf.len() + 4096 {
            self.buf.shrink_to_fit();
        }
        self.buf
    }

    /// Writes what is buffered to the sink; the first I/O error, if any.
    fn flush(mut self) -> std::io::Result<()> {
        self.drain();
        match (self.error.take(), self.sink.as_mut()) {
            (Some(e), _) => Err(e),
            (None, Some(sink)) => sink.flush(),
            (None, None) => Ok(()),
        }
    }

    /// Hands the buffered bytes to the sink (dropping them after an error).
    fn drain(&mut self) {
        if let Some(sink) = self.sink.as_mut() {
            if self.error.is_none() {
                if let Err(e) = sink.write_all(&self.buf[..self.pos]) {
                    self.error = Some(e);
                }
            }
            self.pos = 0;
        }
    }

    /// True once streaming has failed: the writers stop early.
    #[inline]
    pub(crate) fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Makes sure `n` more bytes plus [`SLACK`] fit.
    #[inline(always)]
    fn room(&mut self, n: usize) {
        if self.pos + n + SLACK > self.buf.len() {
            self.grow(n);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        self.drain();
        if self.pos + n + SLACK > self.buf.len() {
            let want = (self.buf.len() * 2).max(self.pos + n + 2 * SLACK);
            self.buf.resize(want, 0);
        }
    }

    #[inline(always)]
    pub(crate) fn byte(&mut self, b: u8) {
        self.room(1);
        self.buf[self.pos] = b;
        self.pos += 1;
    }

    /// A literal: its length is known at compile time, so the copy is a
    /// few moves.
    #[inline(always)]
    pub(crate) fn lit<const N: usize>(&mut self, s: &[u8; N]) {
        self.room(N);
        self.buf[self.pos..self.pos + N].copy_from_slice(s);
        self.pos += N;
    }

    /// `s.src[..s.len]`, copying 16 or 32 bytes at once when the source
    /// has them (the bytes past `len` are overwritten by what follows).
    #[inline(always)]
    pub(crate) fn span(&mut self, s: Span<'_>) {
        let n = s.len;
        self.room(n.max(32));
        let p = self.pos;
        if n <= 16 && s.src.len() >= 16 {
            self.buf[p..p + 16].copy_from_slice(&s.src[..16]);
        } else if n <= 32 && s.src.len() >= 32 {
            self.buf[p..p + 32].copy_from_slice(&s.src[..32]);
        } else {
            self.buf[p..p + n].copy_from_slice(&s.src[..n]);
        }
        self.pos = p + n;
    }

    /// `%u`.
    #[inline]
    pub(crate) fn u32(&mut self, mut v: u32) {
        self.room(10);
        let n = v.checked_ilog10().unwrap_or(0) as usize + 1;
        let p = self.pos;
        let dst = &mut self.buf[p..p + n];
        let mut i = n;
        while v >= 100 {
            let d = (v % 100) as usize * 2;
            v /= 100;
            i -= 2;
            dst[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
        }
        if v >= 10 {
            let d = v as usize * 2;
            dst[..2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
        } else {
            dst[0] = b'0' + v as u8;
        }
        self.pos = p + n;
    }

    /// `%llu`.
    #[inline]
    pub(crate) fn u64(&mut self, v: u64) {
        match u32::try_from(v) {
            Ok(small) => self.u32(small),
            Err(_) => {
                // Rare (ENUM64 values): the two halves of 10^9.
                let high = v / 1_000_000_000;
                let low = (v % 1_000_000_000) as u32;
                self.u64(high);
                let n = low.checked_ilog10().unwrap_or(0) as usize + 1;
                for _ in n..9 {
                    self.byte(b'0');
                }
                self.u32(low);
            }
        }
    }

    /// `%lld`.
    #[inline]
    pub(crate) fn i64(&mut self, v: i64) {
        if v < 0 {
            self.byte(b'-');
        }
        self.u64(v.unsigned_abs());
    }
}
