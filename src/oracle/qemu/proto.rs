//! What goes into the guest (`/jobs.bin`) and what comes back over the
//! debugcon port. The layout of both is described at the top of
//! `loader.c`; this is its host half.

use std::collections::BTreeMap;
use std::io::Read;

/// One `BPF_BTF_LOAD` to make in the guest.
#[derive(Clone, Copy, Debug)]
pub struct Job<'a> {
    pub blob: &'a [u8],
    pub log_level: u32,
    /// Log buffer bytes; 0 passes no buffer (a size query when the level is
    /// non-zero), as the live oracle does.
    pub log_size: u32,
}

const JOBS_MAGIC: &[u8; 8] = b"BTFJOBS1";
const PREAMBLE: &[u8; 5] = b"BTFQ1";

/// `/jobs.bin` for `jobs`; `Err` names a blob too large for the format.
pub fn encode_jobs(jobs: &[Job<'_>]) -> Result<Vec<u8>, String> {
    let total: usize = jobs.iter().map(|j| 12 + j.blob.len()).sum();
    let mut out = Vec::with_capacity(12 + total);
    out.extend_from_slice(JOBS_MAGIC);
    let count = u32::try_from(jobs.len()).map_err(|_| "too many blobs for one run".to_string())?;
    out.extend_from_slice(&count.to_le_bytes());
    for (i, j) in jobs.iter().enumerate() {
        let len = u32::try_from(j.blob.len()).map_err(|_| format!("blob {i} is larger than 4 GiB"))?;
        out.extend_from_slice(&j.log_level.to_le_bytes());
        out.extend_from_slice(&j.log_size.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(j.blob);
    }
    Ok(out)
}

/// The guest's answer for one blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestResult {
    /// The syscall's return: a file descriptor, or -1.
    pub ret: i32,
    pub errno: i32,
    /// `btf_log_true_size` as the kernel left it (0 where the field does
    /// not exist, before 6.4).
    pub true_size: u32,
    /// Guest-side time of the syscall.
    pub usec: u32,
    pub log: Vec<u8>,
}

/// Everything one boot's stream said, as far as it got.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// `uname`: release (`uname -r`), version (`uname -v`), machine.
    pub uname: Option<(String, String, String)>,
    pub results: BTreeMap<u32, GuestResult>,
    /// The last blob announced before loading (the culprit when the
    /// stream ends without a result for it).
    pub last_begun: Option<u32>,
    /// `(loaded, guest ms)` once the guest finished its list.
    pub finished: Option<(u32, u32)>,
    pub warnings: Vec<String>,
    /// Whether the stream was compressed.
    pub zlib: bool,
    /// Why decoding stopped early, if it did (a guest that died mid-frame).
    pub torn: Option<String>,
}

/// Decodes a whole boot's output. Never fails: a stream cut off by a crash
/// yields what was complete, and `torn` says where it broke.
pub fn decode(raw: &[u8]) -> Report {
    let mut r = Report::default();
    if raw.is_empty() {
        return r;
    }
    if raw.len() < 6 || &raw[..5] != PREAMBLE {
        r.torn = Some(format!(
            "no btfcheck preamble in the guest output (starts {:?})",
            String::from_utf8_lossy(&raw[..raw.len().min(16)])
        ));
        return r;
    }
    let body = &raw[6..];
    let inflated;
    let frames: &[u8] = match raw[5] {
        b'r' => body,
        b'z' => {
            r.zlib = true;
            let mut out = Vec::new();
            // A stream cut short still yields everything up to its last
            // sync flush; the error then only says where it stopped.
            if let Err(e) = flate2::read::ZlibDecoder::new(body).read_to_end(&mut out) {
                r.torn = Some(format!("compressed stream: {e}"));
            }
            inflated = out;
            &inflated
        }
        other => {
            r.torn = Some(format!("unknown stream encoding {:?}", other as char));
            return r;
        }
    };
    let mut pos = 0;
    while pos < frames.len() {
        let Some(head) = frames.get(pos..pos + 5) else {
            r.torn
                .get_or_insert_with(|| "stream ends inside a frame header".into());
            break;
        };
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let Some(p) = frames.get(pos + 5..(pos + 5).saturating_add(len)) else {
            r.torn.get_or_insert_with(|| "stream ends inside a frame".into());
            break;
        };
        pos += 5 + len;
        if let Err(e) = frame(&mut r, head[0], p) {
            r.torn.get_or_insert(e);
            break;
        }
    }
    r
}

fn u32_at(p: &[u8], i: usize) -> Option<u32> {
    p.get(i..i + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn frame(r: &mut Report, tag: u8, p: &[u8]) -> Result<(), String> {
    let short = || format!("short {:?} frame ({} bytes)", tag as char, p.len());
    match tag {
        b'U' => {
            let mut parts = p
                .split(|&b| b == 0)
                .map(|s| String::from_utf8_lossy(s).into_owned());
            let (a, b, c) = (parts.next(), parts.next(), parts.next());
            r.uname = Some((
                a.unwrap_or_default(),
                b.unwrap_or_default(),
                c.unwrap_or_default(),
            ));
        }
        b'B' => r.last_begun = Some(u32_at(p, 0).ok_or_else(short)?),
        b'R' => {
            let f = |i| u32_at(p, i).ok_or_else(short);
            let index = f(0)?;
            r.results.insert(
                index,
                GuestResult {
                    ret: f(4)? as i32,
                    errno: f(8)? as i32,
                    true_size: f(12)?,
                    usec: f(16)?,
                    log: p[20..].to_vec(),
                },
            );
        }
        b'W' => r.warnings.push(String::from_utf8_lossy(p).into_owned()),
        b'F' => r.finished = Some((u32_at(p, 0).ok_or_else(short)?, u32_at(p, 4).ok_or_else(short)?)),
        other => return Err(format!("unknown frame tag {other:#04x}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A frame as the guest writes it.
    pub fn frame(tag: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![tag];
        f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        f.extend_from_slice(payload);
        f
    }

    pub fn result_frame(index: u32, ret: i32, errno: i32, true_size: u32, log: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        for v in [index, ret as u32, errno as u32, true_size, 123] {
            p.extend_from_slice(&v.to_le_bytes());
        }
        p.extend_from_slice(log);
        frame(b'R', &p)
    }

    pub fn sample_frames() -> Vec<u8> {
        let mut s = frame(b'U', b"6.1.0-56-amd64\0#1 SMP Debian\0x86_64\0");
        s.extend(frame(b'B', &0u32.to_le_bytes()));
        s.extend(result_frame(0, 3, 0, 0, b"magic: 0xeb9f\n"));
        s.extend(frame(b'B', &1u32.to_le_bytes()));
        s.extend(result_frame(1, -1, 22, 0, b"\xff binary \0 log"));
        s
    }

    /// The stream compressed the way the guest does it: sync flush per frame.
    pub fn zlib_stream(frames: &[u8], finish: bool) -> Vec<u8> {
        let mut out = b"BTFQ1z".to_vec();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(frames).unwrap();
        z.flush().unwrap();
        let body = if finish {
            z.finish().unwrap()
        } else {
            z.get_ref().clone()
        };
        out.extend(body);
        out
    }

    #[test]
    fn jobs_file_layout() {
        let jobs = [
            Job {
                blob: b"abc",
                log_level: 1,
                log_size: 16 << 20,
            },
            Job {
                blob: b"",
                log_level: 0,
                log_size: 0,
            },
        ];
        let b = encode_jobs(&jobs).unwrap();
        assert_eq!(&b[..8], b"BTFJOBS1");
        assert_eq!(u32_at(&b, 8), Some(2));
        assert_eq!(
            (u32_at(&b, 12), u32_at(&b, 16), u32_at(&b, 20)),
            (Some(1), Some(16 << 20), Some(3))
        );
        assert_eq!(&b[24..27], b"abc");
        assert_eq!(
            (u32_at(&b, 27), u32_at(&b, 31), u32_at(&b, 35)),
            (Some(0), Some(0), Some(0))
        );
        assert_eq!(b.len(), 39);
    }

    #[test]
    fn raw_stream_decodes() {
        let mut raw = b"BTFQ1r".to_vec();
        raw.extend(sample_frames());
        raw.extend(frame(b'F', &[2, 0, 0, 0, 9, 0, 0, 0]));
        let r = decode(&raw);
        assert_eq!(r.torn, None);
        assert!(!r.zlib);
        assert_eq!(r.uname.as_ref().unwrap().0, "6.1.0-56-amd64");
        assert_eq!(r.finished, Some((2, 9)));
        assert_eq!(r.last_begun, Some(1));
        let ok = &r.results[&0];
        assert_eq!((ok.ret, ok.errno, ok.usec), (3, 0, 123));
        assert_eq!(ok.log, b"magic: 0xeb9f\n");
        let bad = &r.results[&1];
        assert_eq!((bad.ret, bad.errno), (-1, 22));
        assert_eq!(bad.log, b"\xff binary \0 log");
    }

    #[test]
    fn zlib_stream_decodes_and_matches_raw() {
        let z = decode(&zlib_stream(&sample_frames(), true));
        let mut raw = b"BTFQ1r".to_vec();
        raw.extend(sample_frames());
        let r = decode(&raw);
        assert!(z.zlib);
        assert_eq!(z.torn, None);
        assert_eq!(z.results, r.results);
        assert_eq!(z.uname, r.uname);
    }

    #[test]
    fn a_crash_mid_stream_keeps_what_was_flushed() {
        // The guest announced blob 2 and died: no result, no finish, and
        // the zlib stream is not closed.
        let mut frames = sample_frames();
        frames.extend(frame(b'B', &2u32.to_le_bytes()));
        let r = decode(&zlib_stream(&frames, false));
        assert_eq!(r.results.len(), 2);
        assert_eq!(r.last_begun, Some(2));
        assert_eq!(r.finished, None);
        // Cut inside a frame: the complete frames before it survive.
        let mut raw = b"BTFQ1r".to_vec();
        raw.extend(sample_frames());
        raw.extend(&result_frame(2, -1, 22, 0, b"long log")[..12]);
        let r = decode(&raw);
        assert_eq!(r.results.len(), 2);
        assert!(r.torn.unwrap().contains("inside a frame"));
    }

    #[test]
    fn garbage_is_reported_not_panicked_on() {
        assert_eq!(decode(b""), Report::default());
        assert!(decode(b"Linux version")
            .torn
            .unwrap()
            .contains("no btfcheck preamble"));
        assert!(decode(b"BTFQ1x...").torn.unwrap().contains("encoding"));
        let mut raw = b"BTFQ1r".to_vec();
        raw.extend(frame(b'?', b""));
        assert!(decode(&raw).torn.unwrap().contains("unknown frame tag"));
        let mut raw = b"BTFQ1r".to_vec();
        raw.extend(frame(b'R', b"\x01\x00"));
        assert!(decode(&raw).torn.unwrap().contains("short"));
        // A corrupt zlib body: an error, no results, no panic.
        let r = decode(b"BTFQ1z\x78\x01\xff\xff\xff");
        assert!(r.results.is_empty());
        assert!(r.torn.is_some());
    }
}
