//! The kernel's rejection messages as patterns, for counting which ones a
//! campaign reached. `%` stands for a number (digits or a leading `-`).
//! The list is the reachable part of the spec's catalogue
//! (`kernel-btf-verifier.md` §11); `tests/conformance` checks that the
//! recorded kernel logs reach every entry.

/// Messages user BTF can reach on Linux 6.18, as they appear in the log.
pub const REACHABLE: &[&str] = &[
    "hdr_len not found",
    "btf_header not found",
    "Unsupported btf_header",
    "Invalid magic",
    "Unsupported version",
    "Unsupported flags",
    "No data",
    "Invalid section offset",
    "Unsupported section found",
    "Section overlap found",
    "Total section length too long",
    "String section is not at the end",
    "Invalid string section",
    "Unaligned type_off",
    "No type found",
    "Exceeded max num of types",
    "Type tags don't precede modifiers",
    "Max chain length or cycle detected",
    "] meta_left:% meta_needed:12",
    "] Invalid btf_info:",
    "] Invalid kind:%",
    "] Invalid name_offset:%",
    "\tInvalid name_offset:%",
    " meta_left:% meta_needed:%\n",
    " Invalid int_data:",
    " vlen != 0\n",
    " Invalid btf_info kind_flag\n",
    " Invalid type_id\n",
    " Invalid name\n",
    " nr_bits exceeds 128\n",
    " nr_bits exceeds type_size\n",
    " Unsupported encoding\n",
    " type != 0\n",
    " size != 0\n",
    " Invalid elem\n",
    " Invalid index\n",
    " Invalid array of int\n",
    " Array size overflows U32_MAX\n",
    " Unexpected size\n",
    " Invalid func linkage\n",
    " Linkage not supported\n",
    " size == 0\n",
    " Invalid type_size\n",
    " Invalid value\n",
    " Invalid component_idx\n",
    " Invalid return type\n",
    " Invalid arg#%\n",
    " Exceeded max resolving depth:32\n",
    " Loop detected\n",
    " Invalid member name_offset:%\n",
    " Invalid member bits_offset\n",
    " Member bits_offset exceeds its struct size\n",
    " Invalid member\n",
    " Invalid member bitfield_size\n",
    " bits_offset exceeds U32_MAX\n",
    " nr_copy_bits exceeds 128\n",
    " Member exceeds struct_size\n",
    " Invalid member base type\n",
    " Invalid member offset\n",
    " Member is not byte aligned\n",
    " Member is not properly aligned\n",
    " Invalid offset\n",
    " Invalid size\n",
    " Invalid offset+size\n",
    " Not a VAR kind member\n",
];

/// Messages the kernel has but user BTF cannot reach (docs/conformance.md).
pub const UNREACHABLE: &[&str] = &[
    " Invalid btf_info size\n",
    " Invalid resolve state\n",
    " Invalid type\n",
    " Unsupported check_member\n",
    " Unsupported check_kflag_member\n",
    " Unsupported resolve\n",
];

/// Whether `pattern` occurs in `log`.
pub fn occurs(pattern: &str, log: &[u8]) -> bool {
    fn at(p: &[u8], l: &[u8]) -> bool {
        match p.split_first() {
            None => true,
            Some((b'%', rest)) => {
                let n = l.iter().take_while(|c| c.is_ascii_digit() || **c == b'-').count();
                n > 0 && at(rest, &l[n..])
            }
            Some((c, rest)) => l.first() == Some(c) && at(rest, &l[1..]),
        }
    }
    let first = pattern.as_bytes()[0];
    memchr::memchr_iter(first, log).any(|i| at(pattern.as_bytes(), &log[i..]))
}

/// The rejection message at the end of a kernel log: the catalogue entry
/// found in its last 1 KiB, preferring the one that ends latest.
pub fn final_message(log: &[u8]) -> Option<&'static str> {
    let tail = &log[log.len().saturating_sub(1024)..];
    let body = tail.strip_suffix(b"\n").unwrap_or(tail);
    let last_line = match body.iter().rposition(|&b| b == b'\n') {
        Some(nl) => &tail[nl + 1..],
        None => tail,
    };
    REACHABLE
        .iter()
        .chain(UNREACHABLE)
        .copied()
        .filter(|p| *p != "Exceeded max num of types")
        .find(|p| occurs(p, last_line))
}
