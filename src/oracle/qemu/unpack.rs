//! Archives and compressed data: the `ar` container of a Debian package,
//! the tar stream inside it, and the compressions kernels and packages use
//! (gzip in process, the others through their command-line tools).

use std::io::{Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

/// The magic of an `ar` archive (a Debian package).
pub const AR_MAGIC: &[u8] = b"!<arch>\n";

/// A compression format, recognised by its magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Xz,
    Zstd,
    Bzip2,
    Lzma,
    Lz4,
    Lzo,
}

pub fn sniff(data: &[u8]) -> Compression {
    match data {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Compression::Xz,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        [b'B', b'Z', b'h', ..] => Compression::Bzip2,
        [0x5d, 0, 0, ..] => Compression::Lzma,
        [0x02, 0x21, 0x4c, 0x18, ..] => Compression::Lz4,
        [0x89, b'L', b'Z', b'O', ..] => Compression::Lzo,
        _ => Compression::None,
    }
}

/// The command that decompresses `c` to stdout, with its Debian package.
fn tool(c: Compression) -> Option<(&'static str, &'static [&'static str], &'static str)> {
    Some(match c {
        // --single-stream: the kernel build appends the size after the data.
        Compression::Xz => ("xz", &["-dc", "--single-stream"], "xz-utils"),
        Compression::Zstd => ("zstd", &["-dcq"], "zstd"),
        Compression::Bzip2 => ("bzip2", &["-dc"], "bzip2"),
        Compression::Lzma => ("xz", &["-dc", "--format=lzma"], "xz-utils"),
        Compression::Lz4 => ("lz4", &["-dc"], "lz4"),
        Compression::Lzo => ("lzop", &["-dc"], "lzop"),
        Compression::None | Compression::Gzip => return None,
    })
}

/// Decompresses a kernel payload. The kernel build appends the payload's
/// uncompressed size (4 bytes) after the compressed data; xz and gzip stop
/// at the end of their stream, but zstd would read it as a cut-off frame.
pub fn decompress_payload(data: &[u8]) -> Result<Vec<u8>, String> {
    let data = match sniff(data) {
        Compression::Zstd => &data[..data.len().saturating_sub(4)],
        _ => data,
    };
    let mut out = Vec::new();
    decompress_reader(data.to_vec())?
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// A reader of the decompressed bytes of `data`: gzip in process, the
/// other formats through their command-line tool (a clear error names the
/// package when the tool is missing).
pub fn decompress_reader(data: Vec<u8>) -> Result<Box<dyn Read + Send>, String> {
    let kind = sniff(&data);
    match kind {
        Compression::None => Ok(Box::new(std::io::Cursor::new(data))),
        Compression::Gzip => Ok(Box::new(flate2::read::GzDecoder::new(std::io::Cursor::new(data)))),
        _ => {
            let (cmd, args, pkg) = tool(kind).ok_or("no decompressor")?;
            let mut child = Command::new(cmd)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("{kind:?} data needs `{cmd}` (Debian package {pkg}): {e}"))?;
            let mut stdin = child.stdin.take().ok_or("no stdin pipe")?;
            let stdout = child.stdout.take().ok_or("no stdout pipe")?;
            // A reader that stops early closes the pipe: the feeder's write
            // error is expected then.
            std::thread::spawn(move || {
                let _ = stdin.write_all(&data);
            });
            Ok(Box::new(ToolReader { child, stdout }))
        }
    }
}

/// The output of a decompressor process; dropping it ends the process.
struct ToolReader {
    child: Child,
    stdout: ChildStdout,
}

impl Read for ToolReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.stdout.read(buf)?;
        if n == 0 && !buf.is_empty() {
            // The end: only a tool that succeeded gave the whole output.
            let status = self.child.wait()?;
            if !status.success() {
                return Err(std::io::Error::other(format!(
                    "the decompressor failed ({status})"
                )));
            }
        }
        Ok(n)
    }
}

impl Drop for ToolReader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The members of an `ar` archive (a .deb): name and data.
pub fn ar_members(data: &[u8]) -> Result<Vec<(String, &[u8])>, String> {
    if !data.starts_with(AR_MAGIC) {
        return Err("not an ar archive".into());
    }
    let mut out = Vec::new();
    let mut pos = AR_MAGIC.len();
    while pos + 60 <= data.len() {
        let h = &data[pos..pos + 60];
        if &h[58..60] != b"`\n" {
            return Err(format!("bad ar member header at byte {pos}"));
        }
        let name = String::from_utf8_lossy(&h[..16])
            .trim_end()
            .trim_end_matches('/')
            .to_string();
        let size: usize = std::str::from_utf8(&h[48..58])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| format!("bad ar member size at byte {pos}"))?;
        let body = data
            .get(pos + 60..pos + 60 + size)
            .ok_or_else(|| format!("ar member {name} runs past the end"))?;
        out.push((name, body));
        pos += 60 + size + size % 2;
    }
    Ok(out)
}

/// What to do with a tar entry.
pub enum TarStep {
    Keep,
    Skip,
    Stop,
}

/// Reads a tar stream (ustar/GNU), handing each entry's name to `pick`;
/// returns the kept entries. Stops at the end marker or when told to.
pub fn tar_entries(
    mut r: impl Read,
    mut pick: impl FnMut(&str) -> TarStep,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut long_name: Option<String> = None;
    let mut block = [0u8; 512];
    loop {
        if let Err(e) = r.read_exact(&mut block) {
            // A stream without its end marker still gave its entries.
            return if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Ok(out)
            } else {
                Err(e.to_string())
            };
        }
        if block.iter().all(|&b| b == 0) {
            return Ok(out);
        }
        let field = |a: usize, b: usize| {
            let f = &block[a..b];
            let end = f.iter().position(|&c| c == 0).unwrap_or(f.len());
            String::from_utf8_lossy(&f[..end]).into_owned()
        };
        let size = tar_size(&block[124..136]).ok_or("bad tar entry size")?;
        let kind = block[156];
        let mut name = field(0, 100);
        if &block[257..262] == b"ustar" {
            let prefix = field(345, 500);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        if let Some(l) = long_name.take() {
            name = l;
        }
        let padded = size.div_ceil(512) * 512;
        let step = if kind == b'L' { TarStep::Keep } else { pick(&name) };
        match step {
            TarStep::Stop => return Ok(out),
            TarStep::Skip => {
                std::io::copy(&mut (&mut r).take(padded), &mut std::io::sink()).map_err(|e| e.to_string())?;
            }
            TarStep::Keep => {
                let mut data = vec![0u8; padded as usize];
                r.read_exact(&mut data)
                    .map_err(|e| format!("tar entry {name}: {e}"))?;
                data.truncate(size as usize);
                if kind == b'L' {
                    let end = data.iter().position(|&c| c == 0).unwrap_or(data.len());
                    long_name = Some(String::from_utf8_lossy(&data[..end]).into_owned());
                } else {
                    out.push((name, data));
                }
            }
        }
    }
}

/// A tar size field: octal text, or base-256 when the top bit is set.
fn tar_size(f: &[u8]) -> Option<u64> {
    if f[0] & 0x80 != 0 {
        return f[1..]
            .iter()
            .try_fold(0u64, |acc, &b| acc.checked_mul(256)?.checked_add(b as u64));
    }
    let s = std::str::from_utf8(f).ok()?;
    let s = s.trim_matches(|c: char| c == '\0' || c == ' ');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_entry(name: &str, data: &[u8]) -> Vec<u8> {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        let mut out = h.to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
        out
    }

    #[test]
    fn tar_picks_and_stops() {
        let mut t = tar_entry("./boot/config-1", b"CONFIG_PVH=y\n");
        t.extend(tar_entry("./boot/vmlinuz-1", &[1u8; 700]));
        t.extend(tar_entry("./lib/x", b"never read"));
        t.extend([0u8; 1024]);
        let mut seen = Vec::new();
        let kept = tar_entries(&t[..], |n| {
            seen.push(n.to_string());
            if n.contains("vmlinuz") {
                TarStep::Keep
            } else if n.starts_with("./lib") {
                TarStep::Stop
            } else {
                TarStep::Skip
            }
        })
        .unwrap();
        assert_eq!(seen, ["./boot/config-1", "./boot/vmlinuz-1", "./lib/x"]);
        assert_eq!(kept, vec![("./boot/vmlinuz-1".to_string(), vec![1u8; 700])]);
        assert_eq!(tar_size(b"\x80\0\0\0\0\0\0\0\0\0\x01\x00"), Some(256));
        // A stream without its end marker: the complete entries survive;
        // one cut inside an entry is an error.
        let kept = tar_entries(&t[..1024], |_| TarStep::Keep).unwrap();
        assert_eq!(kept.len(), 1);
        assert!(tar_entries(&t[..600], |_| TarStep::Keep).is_err());
    }

    #[test]
    fn ar_members_and_errors() {
        let mut a = AR_MAGIC.to_vec();
        for (name, body) in [("debian-binary", &b"2.0\n"[..]), ("data.tar.gz", &b"abc"[..])] {
            a.extend(
                format!(
                    "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                    0,
                    0,
                    0,
                    100644,
                    body.len()
                )
                .bytes(),
            );
            a.extend_from_slice(body);
            if body.len() % 2 == 1 {
                a.push(b'\n');
            }
        }
        let m = ar_members(&a).unwrap();
        assert_eq!(m[0], ("debian-binary".to_string(), &b"2.0\n"[..]));
        assert_eq!(m[1], ("data.tar.gz".to_string(), &b"abc"[..]));
        assert!(ar_members(b"nope").is_err());
        let cut = &a[..a.len() - 3];
        assert!(ar_members(cut).unwrap_err().contains("past the end"));
    }

    #[test]
    fn gzip_in_process_and_sniffing() {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(b"kernel bytes").unwrap();
        let gz = z.finish().unwrap();
        assert_eq!(sniff(&gz), Compression::Gzip);
        assert_eq!(decompress_payload(&gz).unwrap(), b"kernel bytes");
        assert_eq!(sniff(b"\xfd7zXZ\0rest"), Compression::Xz);
        assert_eq!(sniff(b"\x28\xb5\x2f\xfd"), Compression::Zstd);
        assert_eq!(sniff(b"plain"), Compression::None);
    }
}
