//! `struct btf_header` (uapi `linux/btf.h`), little-endian:
//!
//! ```text
//! u16 magic; u8 version; u8 flags; u32 hdr_len;
//! u32 type_off; u32 type_len; u32 str_off; u32 str_len;   /* from end of header */
//! ```

use nom::number::complete::{le_u16, le_u32, u8 as byte};
use nom::{IResult, Parser};

/// `BTF_MAGIC`.
pub const MAGIC: u16 = 0xeb9f;
/// Size of the header the 6.18 kernel knows.
pub const HEADER_LEN: u32 = 24;
/// Bytes needed before `hdr_len` can be read (`offsetofend(hdr_len)`).
pub const HDR_LEN_END: usize = 8;

/// The header fields, as the kernel copies them: exactly the first
/// `min(hdr_len, 24)` bytes of the blob, the rest zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub magic: u16,
    pub version: u8,
    pub flags: u8,
    pub hdr_len: u32,
    pub type_off: u32,
    pub type_len: u32,
    pub str_off: u32,
    pub str_len: u32,
}

fn header_fields(i: &[u8]) -> IResult<&[u8], Header> {
    (le_u16, byte, byte, le_u32, le_u32, le_u32, le_u32, le_u32)
        .map(
            |(magic, version, flags, hdr_len, type_off, type_len, str_off, str_len)| Header {
                magic,
                version,
                flags,
                hdr_len,
                type_off,
                type_len,
                str_off,
                str_len,
            },
        )
        .parse(i)
}

/// The header of Linux 7.1 (self-describing BTF, `kind-layout`): 24 bytes
/// plus `u32 layout_off; u32 layout_len;`.
pub const HEADER_LEN_LAYOUT: u32 = 32;

/// `layout_off` and `layout_len` (bytes 24..32), as a 7.1 kernel copies them:
/// only the bytes `hdr_len` covers, the rest zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayoutFields {
    pub off: u32,
    pub len: u32,
}

impl LayoutFields {
    pub fn copied_from(blob: &[u8], hdr_len: u32) -> LayoutFields {
        let mut b = [0u8; 8];
        let end = (hdr_len.min(HEADER_LEN_LAYOUT) as usize).min(blob.len());
        if end > HEADER_LEN as usize {
            b[..end - HEADER_LEN as usize].copy_from_slice(&blob[HEADER_LEN as usize..end]);
        }
        LayoutFields {
            off: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            len: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

/// Reads `hdr_len` (bytes 4..8); `None` when the blob is shorter than 8 bytes.
pub fn read_hdr_len(blob: &[u8]) -> Option<u32> {
    let b = blob.get(4..8)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

impl Header {
    /// The header as the kernel sees it: `copy_len` bytes from `blob`
    /// (clamped to 24 and to the blob), zero-filled.
    pub fn copied_from(blob: &[u8], copy_len: u32) -> Header {
        let n = (copy_len.min(HEADER_LEN) as usize).min(blob.len());
        let mut buf = [0u8; HEADER_LEN as usize];
        buf[..n].copy_from_slice(&blob[..n]);
        // A 24-byte buffer always parses.
        header_fields(&buf).map(|(_, h)| h).unwrap_or_default()
    }

    /// Encodes the 24 known bytes (for builders and `asm`).
    pub fn to_bytes(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0..2].copy_from_slice(&self.magic.to_le_bytes());
        b[2] = self.version;
        b[3] = self.flags;
        b[4..8].copy_from_slice(&self.hdr_len.to_le_bytes());
        b[8..12].copy_from_slice(&self.type_off.to_le_bytes());
        b[12..16].copy_from_slice(&self.type_len.to_le_bytes());
        b[16..20].copy_from_slice(&self.str_off.to_le_bytes());
        b[20..24].copy_from_slice(&self.str_len.to_le_bytes());
        b
    }
}
