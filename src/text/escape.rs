//! Quoted strings: `'...'` with `\\`, `\'`, `\t`, `\n` and `\xNN`; every other
//! byte outside printable ASCII is written as `\xNN`, so any bytes survive.

/// Appends `bytes` quoted.
pub fn quote(out: &mut String, bytes: &[u8]) {
    out.push('\'');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                out.push_str("\\x");
                out.push(hex_digit(b >> 4));
                out.push(hex_digit(b & 15));
            }
        }
    }
    out.push('\'');
}

fn hex_digit(n: u8) -> char {
    char::from_digit(n as u32, 16).unwrap_or('0')
}

/// Reads a quoted string at the start of `s` (which begins with `'`).
/// Returns the bytes and how many input bytes it took, or an error message
/// and the offset it refers to.
pub fn unquote(s: &str) -> Result<(Vec<u8>, usize), (String, usize)> {
    let b = s.as_bytes();
    debug_assert_eq!(b.first(), Some(&b'\''));
    let mut out = Vec::new();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\'' => return Ok((out, i + 1)),
            b'\\' => {
                let esc = b.get(i + 1).copied();
                match esc {
                    Some(b'\\') => out.push(b'\\'),
                    Some(b'\'') => out.push(b'\''),
                    Some(b't') => out.push(b'\t'),
                    Some(b'n') => out.push(b'\n'),
                    Some(b'x') => {
                        let hex = s
                            .get(i + 2..i + 4)
                            .ok_or(("\\x needs two hex digits".to_string(), i))?;
                        let v = u8::from_str_radix(hex, 16)
                            .map_err(|_| (format!("\\x{hex}: not two hex digits"), i))?;
                        out.push(v);
                        i += 4;
                        continue;
                    }
                    _ => {
                        return Err((
                            "unknown escape (expected \\\\ \\' \\t \\n or \\xNN)".to_string(),
                            i,
                        ))
                    }
                }
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(("unterminated quoted string".to_string(), 0))
}

/// Length of the quoted string at the start of `s` (which begins with `'`),
/// closing quote included, without decoding it; `None` if unterminated.
pub fn quoted_len(s: &[u8]) -> Option<usize> {
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'\'' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}
