//! One boot of `qemu-system-x86_64`: start it, collect what the guest
//! writes to the debugcon port, and stop it when the guest powers off, dies
//! or goes quiet for too long.
//!
//! The port's bytes land in an in-memory `ringbuf` character device that
//! the host empties over QMP (`ringbuf-read`) every few milliseconds. A
//! file chardev would cost QEMU one `write(2)` per guest byte.

use super::QemuError;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The ringbuf's size: far more than the guest writes between two drains.
const RINGBUF: u32 = 64 << 20;
/// How often the ringbuf is emptied.
const POLL: Duration = Duration::from_millis(20);

pub struct Boot<'a> {
    pub qemu: &'a str,
    pub kernel: &'a Path,
    pub initrd: &'a Path,
    /// Kernel command line words after btfcheck's own.
    pub append: &'a str,
    pub mem_mib: u32,
    pub kvm: bool,
    /// Longest wait for the guest's first byte.
    pub boot_timeout: Duration,
    /// Longest silence once it has started talking.
    pub quiet_timeout: Duration,
    /// Where the guest console (ttyS0) goes.
    pub console: &'a Path,
    pub workdir: &'a Path,
}

pub struct Booted {
    pub output: Vec<u8>,
    /// Killed by the watchdog.
    pub hung: bool,
    /// Time to the first byte of guest output.
    pub first_output: Option<Duration>,
    pub wall: Duration,
    /// QEMU's own messages.
    pub qemu_log: String,
}

/// Kills QEMU when the run is abandoned halfway (an error, a panic).
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

pub fn boot(b: &Boot<'_>) -> Result<Booted, QemuError> {
    let qmp_path = b.workdir.join("qmp.sock");
    let qemu_log_path = b.workdir.join("qemu.log");
    let _ = std::fs::remove_file(&qmp_path);
    let append = format!(
        "console=ttyS0 panic=-1 oops=panic quiet loglevel=4 mitigations=off rdinit=/init {}",
        b.append
    );
    let mut cmd = Command::new(b.qemu);
    cmd.args([
        "-machine",
        "pc",
        "-nodefaults",
        "-display",
        "none",
        "-monitor",
        "none",
    ])
    .args(["-no-reboot", "-no-shutdown", "-smp", "1"])
    .args(if b.kvm {
        ["-accel", "kvm", "-cpu", "host"]
    } else {
        ["-accel", "tcg", "-cpu", "max"]
    })
    .arg("-m")
    .arg(b.mem_mib.to_string())
    .arg("-serial")
    .arg(format!("file:{}", b.console.display()))
    .arg("-chardev")
    .arg(format!("ringbuf,id=bq,size={RINGBUF}"))
    .args(["-device", "isa-debugcon,iobase=0xe9,chardev=bq"])
    .arg("-qmp")
    .arg(format!("unix:{},server=on,wait=off", qmp_path.display()))
    .arg("-kernel")
    .arg(b.kernel)
    .arg("-initrd")
    .arg(b.initrd)
    .arg("-append")
    .arg(append.trim());
    let log = std::fs::File::create(&qemu_log_path).map_err(|e| QemuError::Io(e.to_string()))?;
    let log2 = log.try_clone().map_err(|e| QemuError::Io(e.to_string()))?;
    let started = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| {
            QemuError::NoQemu(format!(
                "cannot run `{}`: {e} (Debian: apt-get install qemu-system-x86)",
                b.qemu
            ))
        })?;
    let mut guard = Guard(child);
    let qemu_log = |p: &PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    let mut qmp = match Qmp::connect(&qmp_path, started + Duration::from_secs(30), &mut guard.0) {
        Ok(q) => q,
        Err(e) => {
            drop(guard);
            return Err(QemuError::Qemu(format!(
                "{e}\n{}",
                qemu_log(&qemu_log_path).trim()
            )));
        }
    };
    let mut output = Vec::new();
    let (mut hung, mut first_output) = (false, None);
    let mut last_growth = Instant::now();
    loop {
        std::thread::sleep(POLL);
        if matches!(guard.0.try_wait(), Ok(Some(_))) {
            // QEMU itself went away (it stays up after a guest power-off).
            break;
        }
        // Status first: whatever is read after a stop is all there is.
        let stopped = match qmp.cmd("query-status", json!({})) {
            Ok(v) => matches!(
                v["status"].as_str(),
                Some("shutdown" | "guest-panicked" | "internal-error")
            ),
            Err(_) => break,
        };
        let before = output.len();
        if qmp.drain(&mut output).is_err() {
            break;
        }
        let now = Instant::now();
        if output.len() > before {
            last_growth = now;
            first_output.get_or_insert_with(|| started.elapsed());
        }
        if stopped {
            let _ = qmp.cmd("quit", json!({}));
            break;
        }
        let limit = if first_output.is_some() {
            b.quiet_timeout
        } else {
            b.boot_timeout
        };
        if now - last_growth > limit {
            hung = true;
            break;
        }
    }
    drop(qmp);
    if hung {
        let _ = guard.0.kill();
    } else {
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(guard.0.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    drop(guard);
    Ok(Booted {
        output,
        hung,
        first_output,
        wall: started.elapsed(),
        qemu_log: qemu_log(&qemu_log_path),
    })
}

/// A QMP connection (JSON lines over a unix socket).
struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    fn connect(path: &Path, deadline: Instant, child: &mut Child) -> Result<Qmp, String> {
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(s) => break s,
                Err(e) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        return Err(format!("QEMU exited at start ({status})"));
                    }
                    if Instant::now() > deadline {
                        return Err(format!("no QMP socket from QEMU: {e}"));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        let mut q = Qmp {
            reader: BufReader::new(stream),
            writer,
        };
        let mut greeting = String::new();
        q.reader
            .read_line(&mut greeting)
            .map_err(|e| format!("QMP greeting: {e}"))?;
        q.cmd("qmp_capabilities", json!({}))?;
        Ok(q)
    }

    fn cmd(&mut self, name: &str, args: Value) -> Result<Value, String> {
        let msg = json!({"execute": name, "arguments": args});
        writeln!(self.writer, "{msg}").map_err(|e| format!("QMP {name}: {e}"))?;
        loop {
            let mut line = String::new();
            let n = self
                .reader
                .read_line(&mut line)
                .map_err(|e| format!("QMP {name}: {e}"))?;
            if n == 0 {
                return Err(format!("QMP {name}: connection closed"));
            }
            let v: Value = serde_json::from_str(&line).map_err(|e| format!("QMP {name}: {e}"))?;
            if v.get("event").is_some() {
                continue;
            }
            if let Some(err) = v.get("error") {
                return Err(format!("QMP {name}: {err}"));
            }
            return Ok(v.get("return").cloned().unwrap_or(Value::Null));
        }
    }

    /// Empties the ringbuf into `out`.
    fn drain(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        const CHUNK: u32 = 4 << 20;
        loop {
            let v = self.cmd(
                "ringbuf-read",
                json!({"device": "bq", "size": CHUNK, "format": "base64"}),
            )?;
            let text = v.as_str().unwrap_or_default();
            let before = out.len();
            base64_decode(text.as_bytes(), out).map_err(|e| format!("ringbuf-read: {e}"))?;
            if out.len() - before < (CHUNK / 2) as usize {
                return Ok(());
            }
        }
    }
}

/// Standard base64 (with padding), as QMP returns binary data.
pub fn base64_decode(text: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let val = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("bad base64 byte {c:#04x}")),
        } as u32)
    };
    if !text.len().is_multiple_of(4) {
        return Err("base64 length not a multiple of 4".into());
    }
    for quad in text.chunks(4) {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return Err("too much base64 padding".into());
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = n << 6 | val(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_known_vectors() {
        for (text, bytes) in [
            ("", &b""[..]),
            ("Zg==", b"f"),
            ("Zm8=", b"fo"),
            ("Zm9v", b"foo"),
            ("Zm9vYmFy", b"foobar"),
            ("AP8Q", b"\x00\xff\x10"),
            ("+/8=", b"\xfb\xff"),
        ] {
            let mut out = Vec::new();
            base64_decode(text.as_bytes(), &mut out).unwrap();
            assert_eq!(out, bytes, "{text}");
        }
        let mut out = Vec::new();
        assert!(base64_decode(b"Zm9", &mut out).is_err());
        assert!(base64_decode(b"Z!==", &mut out).is_err());
        assert!(base64_decode(b"Z===", &mut out).is_err());
    }
}
