//! The initramfs: a `newc` cpio archive (the format the kernel unpacks into
//! its rootfs; `Documentation/driver-api/early-userspace/buffer-format.rst`).
//!
//! Each entry is a 110-byte ASCII header (`070701` and thirteen 8-digit hex
//! fields), the NUL-terminated name padded to 4 bytes, then the data padded
//! to 4 bytes. The archive ends with an entry named `TRAILER!!!`.

use std::io::{self, Write};

/// File type bits of `st_mode`.
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;

/// Writes a newc archive entry by entry.
pub struct Newc<W: Write> {
    out: W,
    next_ino: u32,
    written: u64,
}

struct Entry<'a> {
    name: &'a str,
    mode: u32,
    nlink: u32,
    rdev: (u32, u32),
    data: &'a [u8],
}

impl<W: Write> Newc<W> {
    pub fn new(out: W) -> Self {
        Newc {
            out,
            next_ino: 1,
            written: 0,
        }
    }

    /// A directory (`perm` like `0o755`).
    pub fn dir(&mut self, name: &str, perm: u32) -> io::Result<()> {
        self.entry(Entry {
            name,
            mode: S_IFDIR | perm,
            nlink: 2,
            rdev: (0, 0),
            data: &[],
        })
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) -> io::Result<()> {
        self.entry(Entry {
            name,
            mode: S_IFREG | perm,
            nlink: 1,
            rdev: (0, 0),
            data,
        })
    }

    /// A character device node.
    pub fn char_dev(&mut self, name: &str, perm: u32, major: u32, minor: u32) -> io::Result<()> {
        self.entry(Entry {
            name,
            mode: S_IFCHR | perm,
            nlink: 1,
            rdev: (major, minor),
            data: &[],
        })
    }

    /// Writes the trailer and returns the writer and the archive's size.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.next_ino = 0;
        self.entry(Entry {
            name: "TRAILER!!!",
            mode: 0,
            nlink: 1,
            rdev: (0, 0),
            data: &[],
        })?;
        self.out.flush()?;
        Ok((self.out, self.written))
    }

    fn entry(&mut self, e: Entry<'_>) -> io::Result<()> {
        let too_big =
            |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("cpio: {what} too large"));
        let size = u32::try_from(e.data.len()).map_err(|_| too_big(e.name))?;
        let namesize = u32::try_from(e.name.len() + 1).map_err(|_| too_big("name"))?;
        if e.name.contains('\0') {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cpio: NUL in a name"));
        }
        let ino = self.next_ino;
        self.next_ino = self.next_ino.wrapping_add(1);
        let fields = [
            ino, e.mode, 0, 0, e.nlink, 0, size, 0, 0, e.rdev.0, e.rdev.1, namesize, 0,
        ];
        let mut head = String::with_capacity(110);
        head.push_str("070701");
        for f in fields {
            head.push_str(&format!("{f:08x}"));
        }
        self.put(head.as_bytes())?;
        self.put(e.name.as_bytes())?;
        self.put(&[0])?;
        self.pad()?;
        self.put(e.data)?;
        self.pad()
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.out.write_all(b)?;
        self.written += b.len() as u64;
        Ok(())
    }

    fn pad(&mut self) -> io::Result<()> {
        let n = (4 - (self.written % 4) as usize) % 4;
        self.put(&[0u8; 3][..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// name, mode, (rdev major, minor), data
    type Read = (String, u32, (u32, u32), Vec<u8>);

    /// Reads an archive back, checking the magic, the alignment and the
    /// trailer on the way.
    fn read_back(mut b: &[u8]) -> Vec<Read> {
        let total = b.len();
        let mut out = Vec::new();
        loop {
            assert_eq!((total - b.len()) % 4, 0, "entry not 4-aligned");
            assert_eq!(&b[..6], b"070701");
            let field = |i: usize| {
                u32::from_str_radix(std::str::from_utf8(&b[6 + 8 * i..14 + 8 * i]).unwrap(), 16).unwrap()
            };
            let (mode, size, rmaj, rmin, namesize) = (field(1), field(6), field(9), field(10), field(11));
            let name_end = 110 + namesize as usize;
            let name = std::str::from_utf8(&b[110..name_end - 1]).unwrap().to_string();
            assert_eq!(b[name_end - 1], 0);
            let data_start = name_end.div_ceil(4) * 4;
            let data = b[data_start..data_start + size as usize].to_vec();
            b = &b[(data_start + size as usize).div_ceil(4) * 4..];
            if name == "TRAILER!!!" {
                assert!(b.is_empty(), "bytes after the trailer");
                return out;
            }
            out.push((name, mode, (rmaj, rmin), data));
        }
    }

    #[test]
    fn entries_round_trip_with_alignment() {
        let mut w = Newc::new(Vec::new());
        w.dir("dev", 0o755).unwrap();
        w.char_dev("dev/console", 0o600, 5, 1).unwrap();
        w.file("init", 0o755, b"\x7fELF.").unwrap();
        w.file("a", 0o644, b"").unwrap();
        w.file("jobs.bin", 0o644, &[7u8; 13]).unwrap();
        let (bytes, n) = w.finish().unwrap();
        assert_eq!(n as usize, bytes.len());
        let entries = read_back(&bytes);
        let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names, ["dev", "dev/console", "init", "a", "jobs.bin"]);
        assert_eq!(entries[0].1, 0o040755);
        assert_eq!((entries[1].1, entries[1].2), (0o020600, (5, 1)));
        assert_eq!(entries[2].1, 0o100755);
        assert_eq!(entries[2].3, b"\x7fELF.");
        assert_eq!(entries[4].3, vec![7u8; 13]);
    }

    #[test]
    fn header_is_110_ascii_bytes() {
        let mut w = Newc::new(Vec::new());
        w.file("x", 0o644, b"hi").unwrap();
        let (bytes, _) = w.finish().unwrap();
        // 110 header + "x\0" = 112 (aligned), "hi" padded to 4.
        assert_eq!(&bytes[..14], b"07070100000001");
        assert_eq!(&bytes[110..112], b"x\0");
        assert_eq!(&bytes[112..116], b"hi\0\0");
        assert_eq!(&bytes[116..122], b"070701");
    }

    #[test]
    fn nul_in_name_is_an_error() {
        let mut w = Newc::new(Vec::new());
        assert!(w.file("a\0b", 0o644, b"").is_err());
    }
}
