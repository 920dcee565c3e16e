//! Reading inputs: raw BTF files (`/sys/kernel/btf/*`), ELF objects through
//! their `.BTF` section, or standard input.

use object::{Object, ObjectSection};
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: ELF file has no .BTF section")]
    NoBtfSection { path: String },
    #[error("{path}: not an ELF file we can read: {reason}")]
    BadElf { path: String, reason: String },
    #[error("{path}: .BTF section is compressed or unreadable: {reason}")]
    BadSection { path: String, reason: String },
    #[error("{path}: not BTF (expected magic 9f eb or an ELF object, found {found})")]
    NotBtf { path: String, found: String },
}

/// Where a blob came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Raw,
    Elf,
}

/// The bytes of an input: read into memory, or the kernel's own BTF mapped
/// from `/sys/kernel/btf/` (see [`crate::oracle::KernelBtfMap`]).
#[derive(Debug)]
pub enum Bytes {
    Owned(Vec<u8>),
    Mapped(crate::oracle::KernelBtfMap),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

impl PartialEq<&[u8]> for Bytes {
    fn eq(&self, other: &&[u8]) -> bool {
        **self == **other
    }
}

impl PartialEq<Vec<u8>> for Bytes {
    fn eq(&self, other: &Vec<u8>) -> bool {
        **self == **other
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        Bytes::Owned(v)
    }
}

/// A loaded input: the bytes of the file and where the BTF lies in them.
#[derive(Debug)]
pub struct Input {
    pub path: String,
    pub bytes: Bytes,
    pub container: Container,
    /// Range of the BTF blob inside `bytes`.
    pub range: std::ops::Range<usize>,
}

impl Input {
    pub fn btf(&self) -> &[u8] {
        &self.bytes[self.range.clone()]
    }
}

/// Reads a file (`-` for stdin).
/// Regular files at `path`: itself if it is not a directory, else every
/// file below it (recursively, sorted), skipping directories `skip` rejects.
pub fn files_under(path: &Path, skip: &dyn Fn(&Path) -> bool) -> std::io::Result<Vec<std::path::PathBuf>> {
    fn walk(
        p: &Path,
        skip: &dyn Fn(&Path) -> bool,
        out: &mut Vec<std::path::PathBuf>,
    ) -> std::io::Result<()> {
        if !p.is_dir() {
            out.push(p.to_path_buf());
            return Ok(());
        }
        let mut entries: Vec<_> = std::fs::read_dir(p)?.flatten().map(|e| e.path()).collect();
        entries.sort();
        for e in entries.iter().filter(|e| !(e.is_dir() && skip(e))) {
            walk(e, skip, out)?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(path, skip, &mut out)?;
    Ok(out)
}

pub fn read_path(path: &str) -> Result<Vec<u8>, InputError> {
    let io = |source| InputError::Io {
        path: path.to_string(),
        source,
    };
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(io)?;
        Ok(buf)
    } else {
        std::fs::read(Path::new(path)).map_err(io)
    }
}

/// Where the kernel serves its BTF (vmlinux and modules).
const KERNEL_BTF_DIR: &str = "/sys/kernel/btf/";

/// Reads an input file like [`read_path`], but maps the kernel's own BTF
/// files when the kernel allows it (Linux 6.16 and later), as sysfs serves
/// them 4 KiB per `read(2)`.
pub fn read_input(path: &str) -> Result<Bytes, InputError> {
    if path.starts_with(KERNEL_BTF_DIR) {
        let mapped = std::fs::File::open(path).and_then(|f| {
            let len = usize::try_from(f.metadata()?.len()).map_err(|_| std::io::ErrorKind::InvalidData)?;
            crate::oracle::KernelBtfMap::map(&f, len)
        });
        if let Ok(m) = mapped {
            return Ok(Bytes::Mapped(m));
        }
    }
    read_path(path).map(Bytes::Owned)
}

/// Loads a BTF input. Raw BTF is taken as it is, even when malformed (that
/// is what the verifier is for), as long as it starts with the BTF magic in
/// either byte order; ELF objects are searched for `.BTF`.
pub fn load(path: &str) -> Result<Input, InputError> {
    let bytes = read_input(path)?;
    from_bytes(path, bytes)
}

pub fn from_bytes(path: &str, bytes: impl Into<Bytes>) -> Result<Input, InputError> {
    let bytes = bytes.into();
    if bytes.starts_with(b"\x7fELF") {
        let range = elf_btf_range(path, &bytes)?;
        return Ok(Input {
            path: path.to_string(),
            bytes,
            container: Container::Elf,
            range,
        });
    }
    let looks_like_btf = bytes.starts_with(&[0x9f, 0xeb]) || bytes.starts_with(&[0xeb, 0x9f]);
    if !looks_like_btf && bytes.len() >= 2 {
        let found: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return Err(InputError::NotBtf {
            path: path.to_string(),
            found: found.join(" "),
        });
    }
    let len = bytes.len();
    Ok(Input {
        path: path.to_string(),
        bytes,
        container: Container::Raw,
        range: 0..len,
    })
}

fn elf_btf_range(path: &str, bytes: &[u8]) -> Result<std::ops::Range<usize>, InputError> {
    let file = object::File::parse(bytes).map_err(|e| InputError::BadElf {
        path: path.to_string(),
        reason: e.to_string(),
    })?;
    let section = file
        .section_by_name(".BTF")
        .ok_or_else(|| InputError::NoBtfSection {
            path: path.to_string(),
        })?;
    let bad = |reason: String| InputError::BadSection {
        path: path.to_string(),
        reason,
    };
    let (start, size) = section.file_range().ok_or_else(|| bad("no file data".into()))?;
    let data = section.uncompressed_data().map_err(|e| bad(e.to_string()))?;
    if let Cow::Owned(_) = data {
        return Err(bad("compressed sections are not supported".into()));
    }
    let start = usize::try_from(start).map_err(|e| bad(e.to_string()))?;
    let end = start
        .checked_add(usize::try_from(size).map_err(|e| bad(e.to_string()))?)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| bad("section lies outside the file".into()))?;
    Ok(start..end)
}
