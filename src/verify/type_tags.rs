//! Type-tag placement: a TYPE_TAG may only open a chain of modifiers.
//!
//! Mirrors `btf_check_type_tags()` in kernel/bpf/btf.c (v6.18). Chains whose
//! tail was already walked (ids up to `good`) are not walked again, so the
//! 32-step budget only bites on chains the resolver never saw whole.

use super::btf::Btf;
use super::error::{errno, Check, Failure, Site, Stage};
use crate::raw::Kind;

const CHAIN_LIMIT: u32 = 32;

pub fn check_type_tags(btf: &Btf<'_>) -> Result<(), Failure> {
    let mut good: u32 = 0;
    for (i, slot) in btf.slots.iter().enumerate().skip(1) {
        let i = i as u32;
        let mut t = slot;
        if !t.kind().is_modifier() {
            continue;
        }
        let mut in_tags = t.kind() == Kind::TYPE_TAG;
        let mut budget = CHAIN_LIMIT;
        let mut cur = i;
        while t.kind().is_modifier() {
            if budget == 0 {
                return Err(plain(btf, i, Check::ModifierChainTooLong, errno::ELOOP));
            }
            budget -= 1;
            if t.kind() == Kind::TYPE_TAG {
                if !in_tags {
                    return Err(plain(btf, i, Check::TypeTagAfterModifier, errno::EINVAL));
                }
            } else {
                in_tags = false;
            }
            if cur <= good {
                break;
            }
            cur = t.type_id();
            match btf.slot(cur) {
                Some(next) => t = next,
                None => return Err(silent(btf, i)),
            }
        }
        good = i;
    }
    Ok(())
}

fn plain(btf: &Btf<'_>, id: u32, check: Check, errno: i32) -> Failure {
    Failure {
        stage: Stage::TypeTags,
        check,
        site: Site::Plain { id: None },
        errno,
        offset: btf.by_id(id).map(|r| btf.abs(r.pos)),
    }
}

/// A dangling chain cannot survive the resolve pass; the kernel would fail
/// with EINVAL and no text.
fn silent(btf: &Btf<'_>, id: u32) -> Failure {
    Failure {
        stage: Stage::TypeTags,
        check: Check::TypeIdInvalid,
        site: Site::Silent { id: None },
        errno: errno::EINVAL,
        offset: btf.by_id(id).map(|r| btf.abs(r.pos)),
    }
}
