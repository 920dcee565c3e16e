//! The log `BPF_BTF_LOAD` writes at any non-zero level, rebuilt from the
//! blob and the [`Failure`](crate::verify::Failure) alone.
//!
//! The kernel prints as it checks: the header dump, then every type's line
//! (and member/value/entry lines) as the meta pass accepts it, then the first
//! error. Since a dump depends only on the record, the log is a pure function
//! of the blob and where verification stopped; rendering it is a separate,
//! optional pass, so verification itself never formats text.
//! Mirrors `btf_verifier_log_*()` and the `*_log()` callbacks in
//! kernel/bpf/btf.c (v6.18).

use super::klog::{Keep, KernelLogWriter};
use super::messages::message_in;
use crate::profile::Features;
use crate::raw::{Kind, Shapes, Strings, TypeRecord};
use crate::verify::error::{Check, Site, Stage};
use crate::verify::meta::{member_bit_offset, member_bitfield_size};
use crate::verify::Verification;

struct Renderer<'a> {
    w: KernelLogWriter,
    strings: Strings<'a>,
    shapes: Shapes,
    features: Features,
}

impl<'a> Renderer<'a> {
    /// `[id] KIND name` plus a space when details follow (one call).
    fn type_head(&mut self, id: u32, rec: &TypeRecord<'_>, details: bool) {
        let strings = self.strings;
        let kind = self.shapes.name(rec.kind());
        self.w.call(|w| {
            w.b(b"[");
            w.u(id as u64);
            w.b(b"] ");
            w.b(kind.as_bytes());
            w.b(b" ");
            w.b(strings.log_name(rec.name_off()));
            if details {
                w.b(b" ");
            }
        });
    }

    /// The kind's `log_details` callback.
    fn details(&mut self, rec: &TypeRecord<'_>) {
        let c = rec.common;
        match rec.kind() {
            Kind::INT => {
                let d = rec.int_data();
                self.w.call(|w| {
                    w.b(b"size=");
                    w.u(c.size() as u64);
                    w.b(b" bits_offset=");
                    w.u(((d >> 16) & 0xff) as u64);
                    w.b(b" nr_bits=");
                    w.u((d & 0xff) as u64);
                    w.b(b" encoding=");
                    w.b(match (d >> 24) & 0xf {
                        0 => b"(none)".as_slice(),
                        1 => b"SIGNED",
                        2 => b"CHAR",
                        4 => b"BOOL",
                        _ => b"UNKN",
                    });
                });
            }
            Kind::PTR
            | Kind::TYPEDEF
            | Kind::VOLATILE
            | Kind::CONST
            | Kind::RESTRICT
            | Kind::TYPE_TAG
            | Kind::FUNC => self.w.call(|w| {
                w.b(b"type_id=");
                w.u(c.type_id() as u64);
            }),
            Kind::ARRAY => {
                let a = rec.array();
                self.w.call(|w| {
                    w.b(b"type_id=");
                    w.u(a.elem_type as u64);
                    w.b(b" index_type_id=");
                    w.u(a.index_type as u64);
                    w.b(b" nr_elems=");
                    w.u(a.nelems as u64);
                });
            }
            Kind::STRUCT | Kind::UNION | Kind::ENUM | Kind::ENUM64 | Kind::DATASEC => self.w.call(|w| {
                w.b(b"size=");
                w.u(c.size() as u64);
                w.b(b" vlen=");
                w.u(rec.vlen() as u64);
            }),
            // Before kind_flag (5.0) a FWD logged like a reference type.
            Kind::FWD if !self.features.contains(Features::KFLAG) => self.w.call(|w| {
                w.b(b"type_id=");
                w.u(c.type_id() as u64);
            }),
            Kind::FWD => self.w.lit(if rec.kflag() { b"union" } else { b"struct" }),
            Kind::VAR => self.w.call(|w| {
                w.b(b"type_id=");
                w.u(c.type_id() as u64);
                w.b(b" linkage=");
                w.u(rec.var_linkage() as u64);
            }),
            Kind::FLOAT => self.w.call(|w| {
                w.b(b"size=");
                w.u(c.size() as u64);
            }),
            Kind::DECL_TAG => self.w.call(|w| {
                w.b(b"type=");
                w.u(c.type_id() as u64);
                w.b(b" component_idx=");
                w.i(rec.component_idx() as i64);
            }),
            Kind::FUNC_PROTO => self.proto_details(rec),
            // func-addr: in the style of FUNC's line, plus the tail.
            Kind::FUNC_ADDR if self.shapes.is_checked(Kind::FUNC_ADDR) => {
                let fa = rec.func_addr();
                self.w.call(|w| {
                    w.b(b"type_id=");
                    w.u(c.type_id() as u64);
                    w.b(b" addr=0x");
                    w.x(fa.addr);
                    w.b(b" flags=0x");
                    w.x(fa.flags);
                });
            }
            _ => {}
        }
    }

    fn proto_details(&mut self, rec: &TypeRecord<'_>) {
        let strings = self.strings;
        self.w.call(|w| {
            w.b(b"return=");
            w.u(rec.common.type_id() as u64);
            w.b(b" args=(");
        });
        let n = rec.vlen() as usize;
        if n == 0 {
            self.w.lit(b"void");
        } else if n == 1 && rec.param(0).type_id == 0 {
            self.w.lit(b"vararg");
        } else {
            let first = rec.param(0);
            self.w.call(|w| {
                w.u(first.type_id as u64);
                w.b(b" ");
                w.b(strings.log_name(first.name_off));
            });
            for i in 1..n.saturating_sub(1) {
                let p = rec.param(i);
                self.w.call(|w| {
                    w.b(b", ");
                    w.u(p.type_id as u64);
                    w.b(b" ");
                    w.b(strings.log_name(p.name_off));
                });
            }
            if n > 1 {
                let last = rec.param(n - 1);
                if last.type_id != 0 {
                    self.w.call(|w| {
                        w.b(b", ");
                        w.u(last.type_id as u64);
                        w.b(b" ");
                        w.b(strings.log_name(last.name_off));
                    });
                } else {
                    self.w.lit(b", vararg");
                }
            }
        }
        self.w.lit(b")");
    }

    fn msg(&mut self, text: Option<&str>) {
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            self.w.lit(b" ");
            self.w.lit(t.as_bytes());
        }
    }

    /// `btf_verifier_log_type`: head, details, optional message, newline.
    fn type_line(&mut self, id: u32, rec: &TypeRecord<'_>, text: Option<&str>) {
        self.type_head(id, rec, true);
        self.details(rec);
        self.msg(text);
        self.w.lit(b"\n");
    }

    /// `btf_verifier_log_basic`: head without details.
    fn basic_line(&mut self, id: u32, rec: &TypeRecord<'_>, text: Option<&str>) {
        self.type_head(id, rec, false);
        self.msg(text);
        self.w.lit(b"\n");
    }

    fn member_line(&mut self, owner: &TypeRecord<'_>, index: usize, shown_type: u32, text: Option<&str>) {
        let m = owner.member(index);
        let kflag = owner.kflag();
        let strings = self.strings;
        self.w.call(|w| {
            w.b(b"\t");
            w.b(strings.log_name(m.name_off));
            w.b(b" type_id=");
            w.u(shown_type as u64);
            if kflag {
                w.b(b" bitfield_size=");
                w.u(member_bitfield_size(true, m.offset) as u64);
                w.b(b" bits_offset=");
                w.u(member_bit_offset(true, m.offset) as u64);
            } else {
                w.b(b" bits_offset=");
                w.u(m.offset as u64);
            }
        });
        self.msg(text);
        self.w.lit(b"\n");
    }

    fn secinfo_line(&mut self, owner: &TypeRecord<'_>, index: usize, text: Option<&str>) {
        let v = owner.secinfo(index);
        self.w.call(|w| {
            w.b(b"\t type_id=");
            w.u(v.type_id as u64);
            w.b(b" offset=");
            w.u(v.offset as u64);
            w.b(b" size=");
            w.u(v.size as u64);
        });
        self.msg(text);
        self.w.lit(b"\n");
    }

    fn enum_value_line(&mut self, rec: &TypeRecord<'_>, index: usize) {
        let e = rec.enumerator(index);
        // Before 6.0 (no signedness flag) every ENUM value printed signed.
        let signed = rec.kflag() || !self.features.contains(Features::ENUM64);
        let is64 = rec.kind() == Kind::ENUM64;
        let strings = self.strings;
        self.w.call(|w| {
            w.b(b"\t");
            w.b(strings.log_name(e.name_off));
            w.b(b" val=");
            match (is64, signed) {
                (false, false) => w.u(e.value as u32 as u64),
                (false, true) => w.i(e.value as u32 as i32 as i64),
                (true, false) => w.u(e.value),
                (true, true) => w.i(e.value as i64),
            }
            w.b(b"\n");
        });
    }

    /// What the meta pass prints for an accepted record: its type line and
    /// the first `upto` elements (all of them when `None`).
    fn dump(&mut self, id: u32, rec: &TypeRecord<'_>, upto: Option<usize>) {
        self.type_line(id, rec, None);
        let n = upto.unwrap_or(rec.vlen() as usize);
        match rec.kind() {
            Kind::STRUCT | Kind::UNION => {
                for i in 0..n {
                    let t = rec.member(i).type_id;
                    self.member_line(rec, i, t, None);
                }
            }
            Kind::ENUM | Kind::ENUM64 => (0..n).for_each(|i| self.enum_value_line(rec, i)),
            Kind::DATASEC => (0..n).for_each(|i| self.secinfo_line(rec, i, None)),
            _ => {}
        }
    }

    fn header(&mut self, v: &Verification<'_>) {
        let Some(h) = v.header else { return };
        let total = v.blob.len() as u64;
        let lines: [(&[u8], u64, bool); 9] = [
            (b"magic: 0x", h.magic as u64, true),
            (b"version: ", h.version as u64, false),
            (b"flags: 0x", h.flags as u64, true),
            (b"hdr_len: ", h.hdr_len as u64, false),
            (b"type_off: ", h.type_off as u64, false),
            (b"type_len: ", h.type_len as u64, false),
            (b"str_off: ", h.str_off as u64, false),
            (b"str_len: ", h.str_len as u64, false),
            (b"btf_total_size: ", total, false),
        ];
        let layout = v.layout.map(|l| {
            [
                (&b"layout_off: "[..], l.off as u64, false),
                (&b"layout_len: "[..], l.len as u64, false),
            ]
        });
        // kind-layout: the layout lines follow str_len.
        let (before, after) = lines.split_at(8);
        let all = before.iter().chain(layout.iter().flatten()).chain(after);
        for &(label, value, hex) in all {
            self.w.call(|w| {
                w.b(label);
                if hex {
                    w.x(value as u32);
                } else {
                    w.u(value);
                }
                w.b(b"\n");
            });
        }
    }
}

/// Where rendering starts: the whole log, or only from a record on (for the
/// tail of a big log).
#[derive(Clone, Copy, PartialEq, Eq)]
enum From {
    Start,
    Record(u32),
}

/// The full log at level 1 (levels 1-15 print the same), as the kernel's
/// largest buffer (1 GiB) would hold it.
pub fn render(v: &Verification<'_>) -> Vec<u8> {
    render_from(
        v,
        From::Start,
        KernelLogWriter::with_capacity(initial_capacity(v)),
    )
    .into_kept()
}

/// The log as a user buffer of `req` receives it, keeping only that much in
/// memory (the tail, or the head with `BPF_LOG_FIXED`).
pub fn render_for(
    v: &Verification<'_>,
    req: crate::diag::logbuf::LogRequest,
) -> crate::diag::logbuf::LogOutcome {
    use crate::diag::logbuf::{finalize_kept, finalize_kept_legacy, LogOutcome, LOG_FIXED};
    let rotating = v.profile.has(Features::LOG_ROTATE);
    // Attributes the kernel refuses: EINVAL before anything is verified.
    if !crate::diag::logbuf::request_valid_for(req, rotating) {
        return LogOutcome {
            text: Vec::new(),
            true_size: 0,
            errno: crate::verify::errno::EINVAL,
        };
    }
    let room = req.size.saturating_sub(1) as usize;
    let keep = if req.level & LOG_FIXED != 0 || !rotating {
        Keep::Head(room)
    } else {
        Keep::Tail(room)
    };
    let w = render_from(
        v,
        From::Start,
        KernelLogWriter::keeping(keep, initial_capacity(v)),
    );
    let total = w.total();
    // The 16 MiB size check fails before the log exists.
    let no_log = v.failure.is_some_and(|f| f.stage == Stage::Size);
    let finalize = if rotating {
        finalize_kept
    } else {
        finalize_kept_legacy
    };
    let mut out = finalize(w.into_kept(), total, req, v.errno());
    if no_log {
        out.true_size = 0;
    }
    out
}

fn initial_capacity(v: &Verification<'_>) -> usize {
    v.btf.as_ref().map_or(4096, |b| b.types.len() * 3 + 512)
}

/// Longest last line reported (a pathological blob can make a line of tens
/// of megabytes; the tail of it is kept).
pub const LAST_LINE_MAX: usize = 64 << 10;

/// The last line of the level-1 log, without its newline (at most its last
/// [`LAST_LINE_MAX`] bytes); `None` when the log is empty. Renders only as
/// much of the tail as needed.
pub fn last_line(v: &Verification<'_>) -> Option<Vec<u8>> {
    let total = v.btf.as_ref().map_or(0, |b| walked_records(v, b));
    // One byte more than a reported line, for its newline.
    let window = LAST_LINE_MAX + 1;
    let mut back = 1u32;
    loop {
        let from = if total > back {
            From::Record(total - back + 1)
        } else {
            From::Start
        };
        let log = render_from(v, from, KernelLogWriter::keeping(Keep::Tail(window), 4096)).into_kept();
        let body = log.strip_suffix(b"\n").unwrap_or(&log);
        let line = match body.iter().rposition(|&b| b == b'\n') {
            Some(nl) => Some(&body[nl + 1..]),
            // A full window without a newline: the line is at least that long.
            None if log.len() == window || from == From::Start => Some(body),
            None => None,
        };
        if let Some(line) = line {
            if log.is_empty() {
                return None;
            }
            return Some(line[line.len().saturating_sub(LAST_LINE_MAX)..].to_vec());
        }
        back = back.saturating_mul(4);
    }
}

/// Records the meta pass printed fully (the failing one excluded).
fn walked_records(v: &Verification<'_>, btf: &crate::verify::Btf<'_>) -> u32 {
    match v.failure {
        Some(f) if f.stage == Stage::Meta => f.type_id().map_or(0, |id| id.saturating_sub(1)),
        Some(f) if matches!(f.stage, Stage::Header | Stage::Strings | Stage::Size) => 0,
        _ => btf.records_walked.max(btf.nr_types().saturating_sub(1)),
    }
}

fn render_from(v: &Verification<'_>, from: From, w: KernelLogWriter) -> KernelLogWriter {
    let failure = v.failure;
    if let Some(f) = failure {
        if f.stage == Stage::Size {
            return w;
        }
    }
    let strings = v.btf.as_ref().map(|b| b.strings).unwrap_or_default();
    let shapes = v.btf.as_ref().map_or(Shapes::KERNEL, |b| b.shapes);
    let mut r = Renderer {
        w,
        strings,
        shapes,
        features: v.profile.features,
    };
    if from == From::Start {
        r.header(v);
    }
    let Some(btf) = v.btf.as_ref() else {
        // Header or string failure: the plain message follows the dump.
        if let Some(f) = failure {
            if let Some(text) = message_in(&f.check, &v.profile) {
                r.w.lit(text.as_bytes());
            }
        }
        return r.w;
    };

    let stop_id = match failure {
        Some(f) if f.stage == Stage::Meta => f.type_id(),
        _ => None,
    };
    let meta_failed = matches!(failure, Some(f) if f.stage == Stage::Meta);
    let first = match from {
        From::Start => 1,
        From::Record(id) => id,
    };
    let kept_last = btf.nr_types().saturating_sub(1);

    // Replay the meta pass's dumps, from the first record asked for: the
    // meta pass kept its position (walking there would cost as much as
    // the meta pass's own record walk).
    let (mut cursor, mut id) = match btf.positions.get(first) {
        Some(pos) if first > 1 => (btf.cursor().starting_at(pos), first),
        _ => (btf.cursor(), 1u32),
    };
    let mut failing: Option<TypeRecord<'_>> = None;
    if !(meta_failed && stop_id.is_none()) {
        loop {
            if Some(id) == stop_id {
                // The failing record: its tail may be missing.
                failing = cursor.peek_partial();
                break;
            }
            let Some(rec) = cursor.next_whole() else { break };
            if id >= first {
                r.dump(id, &rec, None);
                if id > kept_last {
                    r.w.lit(b"Exceeded max num of types");
                }
            }
            id += 1;
        }
    }

    let Some(f) = failure else { return r.w };
    let text = message_in(&f.check, &v.profile);
    let text = text.as_deref();
    match (f.site, f.stage) {
        (Site::Silent { .. }, _) => {}
        (Site::Plain { id: Some(id) }, _) => r.w.call(|w| {
            w.b(b"[");
            w.u(id as u64);
            w.b(b"] ");
            w.b(text.unwrap_or_default().as_bytes());
        }),
        (Site::Plain { id: None }, _) => r.w.lit(text.unwrap_or_default().as_bytes()),
        (Site::Basic { id }, Stage::Meta) => {
            if let Some(rec) = failing {
                r.basic_line(id, &rec, text);
            }
        }
        (Site::Type { id }, Stage::Meta) => {
            if let Some(rec) = failing {
                if f.check == Check::DatasecSumExceedsSize {
                    r.dump(id, &rec, None);
                }
                r.type_line(id, &rec, text);
            }
        }
        (
            Site::Member {
                id,
                index,
                shown_type,
            },
            Stage::Meta,
        ) => {
            if let Some(rec) = failing {
                r.dump(id, &rec, Some(index as usize));
                r.member_line(&rec, index as usize, shown_type, text);
            }
        }
        (Site::Enumerator { id, index }, Stage::Meta) => {
            if let Some(rec) = failing {
                r.dump(id, &rec, Some(index as usize));
                match f.check {
                    Check::EnumeratorNameOffsetInvalid { .. } => r.w.lit(text.unwrap_or_default().as_bytes()),
                    _ => r.type_line(id, &rec, text),
                }
            }
        }
        (Site::SecInfo { id, index }, Stage::Meta) => {
            if let Some(rec) = failing {
                r.dump(id, &rec, Some(index as usize));
                r.secinfo_line(&rec, index as usize, text);
            }
        }
        // After the meta pass every record is in the table.
        (Site::Basic { id }, _) => {
            if let Some(rec) = btf.by_id(id) {
                r.basic_line(id, &rec, text);
            }
        }
        (Site::Type { id }, _) => {
            if let Some(rec) = btf.by_id(id) {
                r.type_line(id, &rec, text);
            }
        }
        (
            Site::Member {
                id,
                index,
                shown_type,
            },
            _,
        ) => {
            if let Some(rec) = btf.by_id(id) {
                r.type_line(id, &rec, None);
                r.member_line(&rec, index as usize, shown_type, text);
            }
        }
        (Site::SecInfo { id, index }, _) => {
            if let Some(rec) = btf.by_id(id) {
                r.type_line(id, &rec, None);
                r.secinfo_line(&rec, index as usize, text);
            }
        }
        (Site::Enumerator { .. }, _) => {}
    }
    r.w
}
