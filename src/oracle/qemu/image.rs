//! Turning what the user has (a Debian `linux-image-*.deb`, a bzImage /
//! vmlinuz, or an uncompressed vmlinux ELF) into something QEMU boots fast.
//!
//! QEMU boots an x86 vmlinux ELF directly through its PVH entry note
//! (`CONFIG_PVH`), which skips the kernel's own decompressor: under TCG that
//! decompressor costs seconds per boot for xz images. So the payload of a
//! bzImage is decompressed once on the host and cached; a kernel without
//! the note (or a compression no tool here reads) boots as a bzImage.

use super::unpack::{ar_members, decompress_payload, decompress_reader, tar_entries, TarStep, AR_MAGIC};
use super::QemuError;
use std::io::Read;
use std::path::{Path, PathBuf};

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
