//! The guest's `/init`: `loader.c`, compiled once with the host's C
//! compiler into a static binary and cached by the hash of its source.

use super::QemuError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The loader's source, built into btfcheck so any copy of the binary can
/// make its guest.
pub const LOADER_C: &str = include_str!("loader.c");

/// A built loader.
#[derive(Clone, Debug)]
pub struct Loader {
    pub path: PathBuf,
    /// Whether it compresses its output (static zlib was found).
    pub zlib: bool,
}

/// The cached loader, building it on first use. `cc` is `$CC` or `cc`.
pub fn loader(cache: &Path) -> Result<Loader, QemuError> {
    let key = format!("{:016x}", super::fnv1a(LOADER_C.as_bytes()));
    let dir = cache.join(format!("loader-{key}"));
    for (name, zlib) in [("init-zlib", true), ("init", false)] {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(Loader { path: p, zlib });
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| QemuError::Io(format!("{}: {e}", dir.display())))?;
    let src = dir.join("loader.c");
    std::fs::write(&src, LOADER_C).map_err(|e| QemuError::Io(format!("{}: {e}", src.display())))?;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let build = |out: &Path, zlib: bool| {
        let tmp = out.with_extension(format!("tmp{}", std::process::id()));
        let mut c = Command::new(&cc);
        c.args(["-O2", "-static", "-o"]).arg(&tmp);
        if zlib {
            c.arg("-DBQ_ZLIB");
        }
        c.arg(&src);
        if zlib {
            c.arg("-lz");
        }
        let out_res = c.output();
        match out_res {
            Ok(o) if o.status.success() => std::fs::rename(&tmp, out).map_err(|e| e.to_string()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
            Err(e) => Err(format!("cannot run `{cc}`: {e}")),
        }
    };
    // Compressed output is several times faster to hand over; without a
    // static zlib the loader still works, sending raw frames.
    let with_zlib = dir.join("init-zlib");
    if build(&with_zlib, true).is_ok() {
        return Ok(Loader {
            path: with_zlib,
            zlib: true,
        });
    }
    let plain = dir.join("init");
    match build(&plain, false) {
        Ok(()) => Ok(Loader {
            path: plain,
            zlib: false,
        }),
        Err(e) => Err(QemuError::Compiler(e)),
    }
}
