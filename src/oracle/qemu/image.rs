//! Turning what the user has (a Debian `linux-image-*.deb`, a bzImage /
//! vmlinuz, or an uncompressed vmlinux ELF) into something QEMU boots fast.
//!
//! QEMU boots an x86 vmlinux ELF directly through its PVH entry note
//! (`CONFIG_PVH`), which skips the kernel's own decompressor: under TCG that
//! decompressor costs seconds per boot for xz images. So the payload of a
//! bzImage is decompressed once on the host and cached; a kernel without
//! the note (or a compression no tool here reads) boots as a bzImage.

use super::QemuError;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

/// How QEMU is handed the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootMode {
    /// An uncompressed vmlinux ELF with a PVH entry note.
    Pvh,
    /// A bzImage through the Linux boot protocol.
    BzImage,
}

/// The Debian package a kernel came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
}

/// A kernel ready to boot.
#[derive(Clone, Debug)]
pub struct Image {
    /// The file given to `-kernel`.
    pub boot: PathBuf,
    pub mode: BootMode,
    /// An ELF vmlinux whose `.BTF` section is the guest kernel's BTF, when
    /// one was made or given.
    pub vmlinux: Option<PathBuf>,
    pub package: Option<Package>,
    /// What happened on the way, for the user (fallbacks, cache hits).
    pub notes: Vec<String>,
}

const AR_MAGIC: &[u8] = b"!<arch>\n";
const ELF_MAGIC: &[u8] = b"\x7fELF";

/// Prepares `path` for booting; extracted files go under `cache`.
pub fn prepare(path: &Path, cache: &Path) -> Result<Image, QemuError> {
    let img = |m: String| QemuError::Image(format!("{}: {m}", path.display()));
    let mut head = [0u8; 8];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| img(e.to_string()))?;
    let head = &head[..n];
    if head.starts_with(AR_MAGIC) {
        let dir = cache.join(format!("kernel-{}", file_key(path)?));
        let (vmlinuz, package) = unpack_deb(path, &dir).map_err(img)?;
        let mut image = from_bzimage(&vmlinuz, &dir)?;
        image.package = Some(package);
        return Ok(image);
    }
    if head.starts_with(ELF_MAGIC) {
        let elf = std::fs::read(path).map_err(|e| img(e.to_string()))?;
        if !has_pvh_note(&elf) {
            return Err(img(
                "an ELF kernel without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, CONFIG_PVH=y); \
                 give its bzImage instead"
                    .into(),
            ));
        }
        return Ok(Image {
            boot: path.to_path_buf(),
            mode: BootMode::Pvh,
            vmlinux: Some(path.to_path_buf()),
            package: None,
            notes: Vec::new(),
        });
    }
    let dir = cache.join(format!("kernel-{}", file_key(path)?));
    from_bzimage(path, &dir)
}

/// A bzImage: boot its decompressed vmlinux through PVH when possible.
fn from_bzimage(path: &Path, dir: &Path) -> Result<Image, QemuError> {
    let img = |m: String| QemuError::Image(format!("{}: {m}", path.display()));
    let cached = dir.join("vmlinux");
    let mut image = Image {
        boot: path.to_path_buf(),
        mode: BootMode::BzImage,
        vmlinux: None,
        package: None,
        notes: Vec::new(),
    };
    if cached.is_file() {
        image.boot = cached.clone();
        image.mode = BootMode::Pvh;
        image.vmlinux = Some(cached);
        return Ok(image);
    }
    let bz = std::fs::read(path).map_err(|e| img(e.to_string()))?;
    let payload = bzimage_payload(&bz).map_err(img)?;
    match decompress_payload(payload).and_then(|elf| {
        if has_pvh_note(&elf) {
            Ok(elf)
        } else {
            Err("the decompressed kernel has no PVH entry note".into())
        }
    }) {
        Ok(elf) => {
            write_atomic(&cached, &elf).map_err(|e| img(format!("writing {}: {e}", cached.display())))?;
            image
                .notes
                .push(format!("decompressed the kernel once into {}", cached.display()));
            image.boot = cached.clone();
            image.mode = BootMode::Pvh;
            image.vmlinux = Some(cached);
        }
        Err(why) => image.notes.push(format!(
            "booting the bzImage (the kernel decompresses itself, slower under TCG): {why}"
        )),
    }
    Ok(image)
}

/// The compressed payload of an x86 bzImage (boot protocol 2.08+:
/// `payload_offset` and `payload_length` in the setup header).
pub fn bzimage_payload(bz: &[u8]) -> Result<&[u8], String> {
    if bz.get(0x202..0x206) != Some(b"HdrS") {
        return Err(
            "not a kernel image: no ELF header, no Debian package, no bzImage 'HdrS' setup header".into(),
        );
    }
    let u16_at = |o: usize| bz.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        bz.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let version = u16_at(0x206).unwrap_or(0);
    if version < 0x208 {
        return Err(format!(
            "boot protocol {version:#x} has no payload fields (needs 2.08+)"
        ));
    }
    let setup_sects = match bz[0x1f1] {
        0 => 4,
        n => n as usize,
    };
    let (Some(off), Some(len)) = (u32_at(0x248), u32_at(0x24c)) else {
        return Err("setup header cut short".into());
    };
    let start = (setup_sects + 1) * 512 + off as usize;
    bz.get(start..start.saturating_add(len as usize))
        .ok_or_else(|| "payload lies outside the file".to_string())
}

/// Whether an ELF64 image carries `XEN_ELFNOTE_PHYS32_ENTRY`, the entry
/// point QEMU's `-kernel` uses for an uncompressed vmlinux.
pub fn has_pvh_note(elf: &[u8]) -> bool {
    const PT_NOTE: u32 = 4;
    const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;
    let u16_at = |o: usize| {
        elf.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u32_at = |o: usize| {
        elf.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        elf.get(o..o + 8)
            .and_then(|b| usize::try_from(u64::from_le_bytes(b.try_into().ok()?)).ok())
    };
    if !elf.starts_with(ELF_MAGIC) || elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        return false;
    };
    for i in 0..phnum {
        let ph = phoff.saturating_add(i.saturating_mul(phentsize));
        if u32_at(ph) != Some(PT_NOTE) {
            continue;
        }
        let (Some(off), Some(size)) = (u64_at(ph + 8), u64_at(ph + 32)) else {
            continue;
        };
        let end = off.saturating_add(size);
        let mut pos = off;
        while pos.saturating_add(12) <= end {
            let (Some(namesz), Some(descsz), Some(kind)) = (u32_at(pos), u32_at(pos + 4), u32_at(pos + 8))
            else {
                break;
            };
            let (namesz, descsz) = (namesz as usize, descsz as usize);
            let name = elf.get(pos + 12..(pos + 12).saturating_add(namesz));
            if kind == XEN_ELFNOTE_PHYS32_ENTRY && name.is_some_and(|n| n.starts_with(b"Xen")) {
                return true;
            }
            pos = pos
                .saturating_add(12)
                .saturating_add(namesz.div_ceil(4) * 4)
                .saturating_add(descsz.div_ceil(4) * 4);
        }
    }
    false
}

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

/// Unpacks `/boot/vmlinuz-*` and the package's name and version from a
/// Debian package into `dir` (once; later calls reuse it).
fn unpack_deb(deb: &Path, dir: &Path) -> Result<(PathBuf, Package), String> {
    let vmlinuz = dir.join("vmlinuz");
    let meta = dir.join("package");
    if let (true, Ok(text)) = (vmlinuz.is_file(), std::fs::read_to_string(&meta)) {
        if let Some((name, version)) = text.trim().split_once(' ') {
            let package = Package {
                name: name.into(),
                version: version.into(),
            };
            return Ok((vmlinuz, package));
        }
    }
    let data = std::fs::read(deb).map_err(|e| e.to_string())?;
    let members = ar_members(&data)?;
    let member = |prefix: &str| {
        members
            .iter()
            .find(|(n, _)| n.starts_with(prefix))
            .map(|(_, d)| *d)
            .ok_or_else(|| format!("no {prefix}* in the package"))
    };
    let control = tar_entries(decompress_reader(member("control.tar")?.to_vec())?, |n| {
        if n == "./control" || n == "control" {
            TarStep::Keep
        } else {
            TarStep::Skip
        }
    })?;
    let control = control
        .first()
        .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
        .unwrap_or_default();
    let field = |k: &str| {
        control
            .lines()
            .find_map(|l| l.strip_prefix(k).and_then(|v| v.strip_prefix(':')))
            .map(|v| v.trim().to_string())
    };
    let package = Package {
        name: field("Package").ok_or("the package's control file has no Package field")?,
        version: field("Version").ok_or("the package's control file has no Version field")?,
    };
    // /boot comes first in Debian's kernel packages: stop once past it
    // rather than decompressing hundreds of MB of modules.
    let mut found = false;
    let entries = tar_entries(decompress_reader(member("data.tar")?.to_vec())?, |n| {
        let n = n.trim_start_matches("./");
        if n.starts_with("boot/vmlinuz-") || n.starts_with("boot/vmlinux-") {
            found = true;
            TarStep::Keep
        } else if found && !n.starts_with("boot/") {
            TarStep::Stop
        } else {
            TarStep::Skip
        }
    })?;
    let (_, kernel) = entries
        .into_iter()
        .next()
        .ok_or("no /boot/vmlinuz-* in the package (is it a linux-image package?)")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write_atomic(&vmlinuz, &kernel).map_err(|e| e.to_string())?;
    write_atomic(
        &meta,
        format!("{} {}\n", package.name, package.version).as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    Ok((vmlinuz, package))
}

/// A cache key for a file: its canonical path, size and modification time.
fn file_key(path: &Path) -> Result<String, QemuError> {
    let md = std::fs::metadata(path).map_err(|e| QemuError::Image(format!("{}: {e}", path.display())))?;
    let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mtime = md
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let id = format!("{}\0{}\0{mtime}", canon.display(), md.len());
    Ok(format!("{:016x}", super::fnv1a(id.as_bytes())))
}

/// Writes through a temporary name, so a reader never sees half a file.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
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

    #[test]
    fn bzimage_header_checks() {
        assert!(bzimage_payload(&[0u8; 100])
            .unwrap_err()
            .contains("not a kernel image"));
        let mut bz = vec![0u8; 0x1000];
        bz[0x202..0x206].copy_from_slice(b"HdrS");
        bz[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
        bz[0x1f1] = 1;
        bz[0x248..0x24c].copy_from_slice(&16u32.to_le_bytes());
        bz[0x24c..0x250].copy_from_slice(&4u32.to_le_bytes());
        bz[1024 + 16..1024 + 20].copy_from_slice(b"\x1f\x8bxx");
        assert_eq!(bzimage_payload(&bz).unwrap(), b"\x1f\x8bxx");
        bz[0x24c..0x250].copy_from_slice(&0x10000u32.to_le_bytes());
        assert!(bzimage_payload(&bz).unwrap_err().contains("outside"));
        bz[0x206..0x208].copy_from_slice(&0x0204u16.to_le_bytes());
        assert!(bzimage_payload(&bz).unwrap_err().contains("2.08"));
    }

    /// A minimal ELF64 with one PT_NOTE holding the given note.
    fn elf_with_note(name: &[u8], kind: u32) -> Vec<u8> {
        let mut e = vec![0u8; 64 + 56];
        e[..4].copy_from_slice(ELF_MAGIC);
        e[4] = 2;
        e[5] = 1;
        e[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        e[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        e[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        let mut note = Vec::new();
        note.extend((name.len() as u32).to_le_bytes());
        note.extend(4u32.to_le_bytes());
        note.extend(kind.to_le_bytes());
        note.extend(name);
        note.resize(note.len().div_ceil(4) * 4, 0);
        note.extend(0x0100_0000u32.to_le_bytes());
        let off = e.len() as u64;
        e[64..68].copy_from_slice(&4u32.to_le_bytes());
        e[64 + 8..64 + 16].copy_from_slice(&off.to_le_bytes());
        e[64 + 32..64 + 40].copy_from_slice(&(note.len() as u64).to_le_bytes());
        e.extend(note);
        e
    }

    #[test]
    fn pvh_note_is_found_and_bounds_are_checked() {
        assert!(has_pvh_note(&elf_with_note(b"Xen\0", 18)));
        assert!(!has_pvh_note(&elf_with_note(b"Xen\0", 17)));
        assert!(!has_pvh_note(&elf_with_note(b"GNU\0", 18)));
        let mut e = elf_with_note(b"Xen\0", 18);
        e.truncate(70);
        assert!(!has_pvh_note(&e));
        assert!(!has_pvh_note(b"\x7fELF"));
    }
}
