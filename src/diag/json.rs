//! One JSON object per verified file (JSON Lines).

use super::human::failing_record;
use super::kernel_log;
use super::messages::rule;
use crate::verify::{errno, Note, Verification};
use serde_json::{json, Value};

pub fn render(file: &str, v: &Verification<'_>) -> Value {
    let f = v.failure;
    let message = kernel_log::last_line(v).map(|l| String::from_utf8_lossy(&l).into_owned());
    let record = failing_record(v);
    let notes: Vec<String> = v
        .notes
        .iter()
        .map(|n| match n {
            Note::TypesDropped { count } => format!("{count} types dropped past the type-table cap"),
            Note::VmlinuxNeeded { what } => what.clone(),
        })
        .collect();
    json!({
        "file": file,
        "profile": v.profile.rules(),
        "accepted": f.is_none(),
        "errno": v.errno(),
        "errno_name": errno::name(v.errno()),
        "message": message,
        "type_id": f.and_then(|f| f.type_id()),
        "kind": record.as_ref().map(|(_, r)| v.kind_label(r.kind())),
        "offset": f.and_then(|f| f.offset),
        "stage": f.map(|f| f.stage.as_str()),
        "rule": f.map(|f| rule(&f.check)),
        "types": v.btf.as_ref().map_or(0, |b| b.nr_types().saturating_sub(1)),
        "bytes": v.blob.len(),
        "notes": notes,
        "elapsed_us": v.elapsed.as_micros() as u64,
    })
}
