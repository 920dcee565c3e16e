//! Names at the edges of what Linux accepts (`btf_name_valid_identifier`,
//! `btf_name_valid_section`, tag values), drawn from the fuzzer's bytes.
//!
//! Identifiers may hold dots anywhere and Latin-1 letters (the kernel's
//! `ctype` table is Latin-1), up to 512 bytes; section names any printable
//! byte; tag values any non-NUL byte. Names that would switch on the
//! special-fields pass (`bpf_spin_lock`, `kptr`, ...) are never produced:
//! valid blobs must not depend on that pass.

use super::Config;
use arbitrary::{Result, Unstructured};

/// The longest name the kernel accepts (`KSYM_NAME_LEN`).
pub const MAX_NAME_LEN: usize = 512;

const ASCII_FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
const ASCII_REST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";

/// Struct names and tag values with a meaning to the special-fields pass.
const RESERVED: &[&[u8]] = &[
    b"bpf_spin_lock",
    b"bpf_res_spin_lock",
    b"bpf_list_head",
    b"bpf_list_node",
    b"bpf_rb_root",
    b"bpf_rb_node",
    b"bpf_refcount",
    b"bpf_timer",
    b"bpf_wq",
    b"bpf_task_work",
    b"kptr",
    b"kptr_untrusted",
    b"percpu_kptr",
    b"uptr",
];

fn is_latin1_letter(b: u8) -> bool {
    matches!(b, 0xc0..=0xd6 | 0xd8..=0xf6 | 0xf8..=0xff)
}

/// A length: usually short, sometimes exactly the limit.
fn length(u: &mut Unstructured<'_>, cfg: &Config) -> Result<usize> {
    if cfg.long_names && u.ratio(1, 64)? {
        return Ok(MAX_NAME_LEN);
    }
    u.int_in_range(1..=cfg.max_name_len.clamp(1, MAX_NAME_LEN))
}

fn letter(u: &mut Unstructured<'_>, cfg: &Config, first: bool) -> Result<u8> {
    if cfg.dot_names && u.ratio(1, 16)? {
        return Ok(b'.');
    }
    if cfg.latin1_names && u.ratio(1, 16)? {
        let b = u.int_in_range(0xc0u8..=0xff)?;
        return Ok(if is_latin1_letter(b) { b } else { b'_' });
    }
    Ok(*u.choose(if first { ASCII_FIRST } else { ASCII_REST })?)
}

fn avoid_reserved(mut name: Vec<u8>) -> Vec<u8> {
    if RESERVED.contains(&name.as_slice()) {
        name.push(b'_');
    }
    name
}

/// A C identifier as the kernel's verifier sees it.
pub fn identifier(u: &mut Unstructured<'_>, cfg: &Config) -> Result<Vec<u8>> {
    let len = length(u, cfg)?;
    let mut name = Vec::with_capacity(len);
    name.push(letter(u, cfg, true)?);
    while name.len() < len {
        name.push(letter(u, cfg, false)?);
    }
    Ok(avoid_reserved(name))
}

/// Empty (anonymous) or an identifier.
pub fn optional_identifier(u: &mut Unstructured<'_>, cfg: &Config) -> Result<Vec<u8>> {
    if u.ratio(1, 4)? {
        Ok(Vec::new())
    } else {
        identifier(u, cfg)
    }
}

/// A DATASEC name: non-empty, printable (0x20-0x7e, 0xa0-0xff), or an
/// identifier for kernels before 6.9.
pub fn section(u: &mut Unstructured<'_>, cfg: &Config) -> Result<Vec<u8>> {
    if u.ratio(1, 2)? {
        return Ok(u
            .choose(&[
                &b".data"[..],
                b".bss",
                b".rodata",
                b".data.rel.ro",
                b".maps",
                b"license",
            ])?
            .to_vec());
    }
    if cfg.section_identifiers {
        return identifier(u, cfg);
    }
    let len = length(u, cfg)?;
    let mut name = Vec::with_capacity(len);
    while name.len() < len {
        let b = u.int_in_range(0x20u8..=0xde)?;
        // Map 0x7f..=0x9f (not printable) onto 0xa0..=0xc0 and keep the rest.
        name.push(if b >= 0x7f { b + 0x21 } else { b });
    }
    Ok(name)
}

/// A TYPE_TAG or DECL_TAG value: any non-empty bytes without NUL, never a
/// kptr marker.
pub fn tag_value(u: &mut Unstructured<'_>, cfg: &Config) -> Result<Vec<u8>> {
    if u.ratio(1, 2)? {
        return Ok(u
            .choose(&[&b"user"[..], b"rcu", b"percpu", b"arg:ctx", b"nonnull", b"my tag"])?
            .to_vec());
    }
    let len = length(u, cfg)?;
    let mut value = Vec::with_capacity(len);
    while value.len() < len {
        value.push(u.int_in_range(1u8..=0xff)?);
    }
    Ok(avoid_reserved(value))
}

/// INT and FLOAT names are not checked at all: C spellings, empty, random.
pub fn base_type_name(u: &mut Unstructured<'_>, cfg: &Config, c_names: &[&str]) -> Result<Vec<u8>> {
    match u.int_in_range(0..=3u8)? {
        0 | 1 => Ok(u.choose(c_names)?.as_bytes().to_vec()),
        2 => Ok(Vec::new()),
        _ => tag_value(u, cfg),
    }
}
