//! The human diagnostic: the verdict, the kernel's message, and what the
//! kernel does not say (rule, stage, type, member, byte offset, the bytes).

use super::kernel_log;
use super::messages::{is_proposal, message, proposal_note, rule, special_field_explanation};
use crate::raw::{Kind, TypeRecord};
use crate::verify::error::{errno, Check, Site, Stage};
use crate::verify::{Note, Verification};
use std::fmt::Write as _;

/// The record a failure is reported at, read from the blob even when the
/// meta pass never added it to the table.
pub fn failing_record<'a>(v: &Verification<'a>) -> Option<(u32, TypeRecord<'a>)> {
    let f = v.failure?;
    let id = f.type_id()?;
    let btf = v.btf.as_ref()?;
    if f.stage != Stage::Meta {
        return btf.by_id(id).map(|r| (id, r));
    }
    // Records before the failing one were whole; the failing one may not be.
    let mut cursor = btf.cursor();
    for _ in 1..id {
        cursor.next_whole()?;
    }
    cursor.peek_partial().map(|r| (id, r))
}

/// Counts of kept types per kind.
pub fn kind_counts(v: &Verification<'_>) -> Vec<(Kind, u32)> {
    let Some(btf) = v.btf.as_ref() else {
        return Vec::new();
    };
    let mut counts = [0u32; 32];
    for slot in btf.slots.iter().skip(1) {
        counts[slot.kind().0 as usize & 31] += 1;
    }
    (0..32u8)
        .map(Kind)
        .filter(|k| counts[k.0 as usize] > 0)
        .map(|k| (k, counts[k.0 as usize]))
        .collect()
}

fn printable(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes.iter().take(200) {
        match b {
            0x20..=0x7e => s.push(b as char),
            b'\t' => s.push_str("\\t"),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    if bytes.len() > 200 {
        s.push_str("...");
    }
    s
}

/// A hex excerpt of 16-byte rows around `offset`.
pub fn hex_excerpt(blob: &[u8], offset: u64) -> String {
    let mut out = String::new();
    let start = (offset as usize).min(blob.len()) & !15;
    let end = (start + 32).min(blob.len());
    let mut row = start;
    while row < end {
        let _ = write!(out, "    {row:08x}:");
        for (i, byte) in blob.iter().enumerate().take((row + 16).min(end)).skip(row) {
            let mark = if i as u64 == offset { '>' } else { ' ' };
            let _ = write!(out, "{mark}{byte:02x}");
        }
        out.push('\n');
        row += 16;
    }
    out
}

/// What the human diagnostic includes beyond the verdict.
#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    /// Wall time of the verification (leave out for reproducible output).
    pub timing: bool,
    /// Types per kind.
    pub kinds: bool,
}

/// Renders the diagnostic for one file, with timing.
pub fn render(file: &str, v: &Verification<'_>, kinds: bool) -> String {
    render_with(file, v, &HumanOptions { timing: true, kinds })
}

/// Renders the diagnostic for one file.
pub fn render_with(file: &str, v: &Verification<'_>, opts: &HumanOptions) -> String {
    let kinds = opts.kinds;
    let mut out = String::new();
    let ms = if opts.timing {
        format!(", {:.2} ms", v.elapsed.as_secs_f64() * 1e3)
    } else {
        String::new()
    };
    let types = v.btf.as_ref().map_or(0, |b| b.nr_types().saturating_sub(1));
    match v.failure {
        None => {
            let _ = writeln!(
                out,
                "{file}: accepted by {} ({types} types, {} bytes{ms})",
                v.profile.rules(),
                v.blob.len()
            );
        }
        Some(f) => {
            let _ = writeln!(
                out,
                "{file}: rejected by {}: {} ({})",
                v.profile.rules(),
                errno::name(f.errno),
                f.errno
            );
            match message(&f.check) {
                Some(_) if is_proposal(&f.check) => {
                    let line = kernel_log::last_line(v).unwrap_or_default();
                    let _ = writeln!(out, "  log:     {}", printable(&line));
                    let _ = writeln!(out, "           ({})", proposal_note(&f.check));
                }
                Some(_) => {
                    let line = kernel_log::last_line(v).unwrap_or_default();
                    let _ = writeln!(out, "  kernel:  {}", printable(&line));
                }
                None if f.stage == Stage::Size => {
                    let _ = writeln!(out, "  kernel:  (no log: the blob is over the 16 MiB limit)");
                }
                None => {
                    let _ = writeln!(out, "  kernel:  (logs nothing for this check)");
                }
            }
            if let Check::SpecialField(e) = f.check {
                let _ = writeln!(out, "  why:     {}", special_field_explanation(e));
            }
            let _ = writeln!(out, "  rule:    {} (stage: {})", rule(&f.check), f.stage.as_str());
            if let Some((id, rec)) = failing_record(v) {
                let name = match rec.name_off() {
                    0 => "(anon)".to_string(),
                    off => v
                        .btf
                        .as_ref()
                        .and_then(|b| b.strings.get(off))
                        .map_or("(invalid-name-offset)".to_string(), |n| {
                            format!("'{}'", printable(n))
                        }),
                };
                let _ = writeln!(out, "  type:    [{id}] {} {name}", v.kind_label(rec.kind()));
                let element = match f.site {
                    Site::Member { index, .. } => Some(("member", index)),
                    Site::Enumerator { index, .. } => Some(("enumerator", index)),
                    Site::SecInfo { index, .. } => Some(("entry", index)),
                    _ => None,
                };
                if let Some((what, index)) = element {
                    let name_off = match rec.kind() {
                        k if k.is_composite() && (index as usize) < rec.tail.len() / 12 => {
                            Some(rec.member(index as usize).name_off)
                        }
                        k if k.is_any_enum() => Some(rec.enumerator(index as usize).name_off),
                        _ => None,
                    };
                    let label = name_off
                        .and_then(|o| v.btf.as_ref().and_then(|b| b.strings.get(o)))
                        .map(|n| format!(" '{}'", printable(n)))
                        .unwrap_or_default();
                    let _ = writeln!(out, "  {what}:  #{index}{label}");
                }
            }
            if let Some(off) = f.offset {
                let _ = writeln!(out, "  offset:  {off} (0x{off:x})");
                out.push_str(&hex_excerpt(v.blob, off));
            }
        }
    }
    for note in &v.notes {
        match note {
            Note::TypesDropped { count } => {
                let _ = writeln!(
                    out,
                    "  note:    {count} types past the kernel's type-table cap were dropped"
                );
            }
            Note::VmlinuxNeeded { what } => {
                let _ = writeln!(out, "  note:    {what}");
            }
        }
    }
    // A meta failure stops the walk: counts would cover only part of the blob.
    let walked_all = !v.failure.is_some_and(|f| {
        matches!(
            f.stage,
            Stage::Meta | Stage::Header | Stage::Strings | Stage::Size
        )
    });
    if kinds && walked_all {
        let counts = kind_counts(v);
        if !counts.is_empty() {
            let list: Vec<String> = counts
                .iter()
                .map(|(k, n)| format!("{} {n}", v.kind_label(*k)))
                .collect();
            let _ = writeln!(out, "  kinds:   {}", list.join(", "));
        }
    }
    out
}
