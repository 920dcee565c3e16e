//! The properties btf-smith output must have, as library code shared by the
//! fuzz targets and the seeded smoke tests (`tests/smith.rs`). Each returns
//! `Err(explanation)` instead of panicking, so callers decide how to report.

use super::Faulted;
use crate::diag::logbuf::{self, LogRequest};
use crate::diag::{human, json, kernel_log};
use crate::dump;
use crate::profile::Profile;
use crate::text;
use crate::verify::{verify, Options, Threads, Verification};

fn options(profile: Profile) -> Options<'static> {
    Options {
        profile,
        vmlinux: None,
        ..Options::default()
    }
}

/// The type a failure points at: its id, or for messages that print none
/// (the type-tag pass) the record at the failure's byte offset.
pub fn reported_type(v: &Verification<'_>) -> Option<u32> {
    let f = v.failure?;
    if let Some(id) = f.type_id() {
        return Some(id);
    }
    let (btf, offset) = (v.btf.as_ref()?, f.offset?);
    btf.ids()
        .find(|&id| btf.by_id(id).is_some_and(|r| btf.abs(r.pos) == offset))
}

fn explain(v: &Verification<'_>) -> String {
    human::render("generated.btf", v, false)
}

/// Splitting the passes over two threads changes nothing: the same
/// failure (rule, place, errno, offset), notes and level-1 log.
pub fn same_on_two_threads(blob: &[u8], profile: Profile) -> Result<(), String> {
    let on = |threads| {
        verify(
            blob,
            &Options {
                threads,
                ..options(profile)
            },
        )
    };
    let (one, two) = (on(Threads::One), on(Threads::Two));
    if one.failure != two.failure {
        return Err(format!(
            "one thread: {:?}\ntwo threads: {:?}",
            one.failure, two.failure
        ));
    }
    if one.notes != two.notes {
        return Err(format!("notes differ: {:?} vs {:?}", one.notes, two.notes));
    }
    if kernel_log::render(&one) != kernel_log::render(&two) {
        return Err("the level-1 logs differ".to_string());
    }
    Ok(())
}

/// Valid ⇒ accepted.
pub fn accepted(blob: &[u8], profile: Profile) -> Result<(), String> {
    let v = verify(blob, &options(profile));
    if v.accepted() {
        Ok(())
    } else {
        Err(format!("valid blob rejected:\n{}", explain(&v)))
    }
}

/// Faulted ⇒ rejected at the recorded stage, check, errno and type.
pub fn rejected_as_expected(f: &Faulted, profile: Profile) -> Result<(), String> {
    let v = verify(&f.blob, &options(profile));
    let Some(failure) = v.failure else {
        return Err(format!("fault {} was accepted", f.fault.name()));
    };
    let e = &f.expect;
    let got = (failure.stage, failure.check, failure.errno, reported_type(&v));
    if got == (e.stage, e.check, e.errno, e.type_id) {
        Ok(())
    } else {
        Err(format!(
            "fault {}: expected {:?} {:?} errno {} at type {:?}, got {:?} {:?} errno {} at type {:?}\n{}",
            f.fault.name(),
            e.stage,
            e.check,
            e.errno,
            e.type_id,
            got.0,
            got.1,
            got.2,
            got.3,
            explain(&v)
        ))
    }
}

/// `asm(dump --exact(b)) == b` for every blob, and `asm(dump(b)) == b` for
/// accepted blobs with a canonical string section (all smith output).
pub fn round_trips(blob: &[u8], profile: Profile) -> Result<(), String> {
    let exact = text::write_exact(blob);
    match text::assemble(&exact) {
        Ok(back) if back == blob => {}
        Ok(_) => return Err("asm(dump --exact) differs from the blob".into()),
        Err(e) => return Err(format!("asm of dump --exact failed: {e}")),
    }
    if verify(blob, &options(profile)).accepted() {
        let readable = text::write_readable(blob);
        match text::assemble(&readable) {
            Ok(back) if back == blob => {}
            Ok(_) => return Err("asm(dump) differs from the accepted blob".into()),
            Err(e) => return Err(format!("asm of dump failed: {e}")),
        }
    }
    Ok(())
}

/// Every renderer is total on every input and keeps its promises: the kernel
/// log's last line is what `last_line` says, a sized log buffer is never
/// overrun, the verdict and the errno agree.
pub fn renderers_total(blob: &[u8], profile: Profile) -> Result<(), String> {
    let v = verify(blob, &options(profile));
    if v.accepted() != (v.errno() == 0) {
        return Err("verdict and errno disagree".into());
    }
    let log = kernel_log::render(&v);
    let expected_last = if log.is_empty() {
        None
    } else {
        let body = log.strip_suffix(b"\n").unwrap_or(&log);
        Some(match body.iter().rposition(|&b| b == b'\n') {
            Some(nl) => body[nl + 1..].to_vec(),
            None => body.to_vec(),
        })
    };
    if kernel_log::last_line(&v) != expected_last {
        return Err("last_line() is not the last line of render()".into());
    }
    let _ = human::render("fuzz.btf", &v, true);
    let _ = json::render("fuzz.btf", &v).to_string();
    for (level, size) in [
        (1, 1),
        (1, 17),
        (9, 17),
        (1, 4096),
        (9, 4096),
        (1, 0),
        (1, u32::MAX >> 2),
    ] {
        let out = logbuf::finalize(&log, LogRequest { level, size }, v.errno());
        if size > 0 && out.text.len() >= size as usize {
            return Err(format!(
                "log of {} bytes overruns a {size}-byte buffer",
                out.text.len()
            ));
        }
    }
    // bpftool-style dumps may refuse malformed input, but never panic.
    let _ = dump::render_raw(blob, None);
    let _ = dump::render_json(blob, None);
    Ok(())
}
