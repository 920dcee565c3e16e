//! Faults in the header and the string section: edits of a finished blob
//! laid out as header (24 bytes), types, strings.

use super::{Expect, Fault};
use crate::raw::Header;
use crate::verify::error::{errno, Check, Stage};
use arbitrary::{Result, Unstructured};

const HDR: usize = 24;

fn expect(stage: Stage, check: Check, errno: i32) -> Expect {
    Expect {
        stage,
        check,
        errno,
        type_id: None,
    }
}

fn header(blob: &[u8]) -> Header {
    Header::copied_from(blob, HDR as u32)
}

fn put_header(blob: &mut [u8], h: &Header) {
    blob[..HDR].copy_from_slice(&h.to_bytes());
}

pub(super) fn apply(fault: Fault, u: &mut Unstructured<'_>, blob: &mut Vec<u8>) -> Result<Expect> {
    let mut h = header(blob);
    let types = blob[HDR..HDR + h.type_len as usize].to_vec();
    let strings = blob[HDR + h.str_off as usize..].to_vec();
    let hdr_err = |check, e| Ok(expect(Stage::Header, check, e));
    match fault {
        Fault::TooBig => {
            let over = u.int_in_range(1..=4096usize)?;
            blob.resize((16 << 20) + over, 0);
            Ok(expect(Stage::Size, Check::TooBig, errno::E2BIG))
        }
        Fault::BadMagic => {
            let magic = u.int_in_range(0..=0xeb9e_u16)?;
            h.magic = if magic == 0x9feb { 0 } else { magic };
            put_header(blob, &h);
            hdr_err(Check::BadMagic, errno::EINVAL)
        }
        Fault::BadVersion => {
            h.version = u.int_in_range(2..=0xff_u8)?;
            put_header(blob, &h);
            hdr_err(Check::BadVersion, errno::ENOTSUPP)
        }
        Fault::BadFlags => {
            h.flags = u.int_in_range(1..=0xff_u8)?;
            put_header(blob, &h);
            hdr_err(Check::BadFlags, errno::ENOTSUPP)
        }
        Fault::HeaderNotFound => {
            h.hdr_len = blob.len() as u32 + u.int_in_range(1..=64u32)?;
            put_header(blob, &h);
            hdr_err(Check::HeaderNotFound, errno::EINVAL)
        }
        Fault::HeaderTailNotZero => {
            // hdr_len 32: eight more header bytes, at least one not zero.
            let mut tail: [u8; 8] = u.arbitrary()?;
            let i = u.int_in_range(0..=7usize)?;
            tail[i] |= 1;
            h.hdr_len = 32;
            let mut out = h.to_bytes().to_vec();
            out.extend_from_slice(&tail);
            out.extend_from_slice(&types);
            out.extend_from_slice(&strings);
            *blob = out;
            hdr_err(Check::HeaderTailNotZero, errno::E2BIG)
        }
        Fault::SectionBeyondData => {
            let data = (blob.len() - HDR) as u32;
            h.str_off = u.int_in_range(data + 1..=0x7fff_ffff)?;
            put_header(blob, &h);
            hdr_err(Check::SectionOffsetBeyondData, errno::EINVAL)
        }
        Fault::SectionGap => {
            let gap = 4 * u.int_in_range(1..=4u32)?;
            h.type_off = gap;
            h.str_off += gap;
            let mut out = h.to_bytes().to_vec();
            out.extend_from_slice(&vec![0u8; gap as usize]);
            out.extend_from_slice(&types);
            out.extend_from_slice(&strings);
            *blob = out;
            hdr_err(Check::SectionGap, errno::EINVAL)
        }
        Fault::SectionOverlap => {
            h.str_off -= u.int_in_range(1..=h.type_len.min(12))?;
            h.str_len = (blob.len() - HDR) as u32 - h.str_off;
            put_header(blob, &h);
            hdr_err(Check::SectionOverlap, errno::EINVAL)
        }
        Fault::SectionTooLong => {
            h.str_len += u.int_in_range(1..=4096u32)?;
            put_header(blob, &h);
            hdr_err(Check::SectionTooLong, errno::EINVAL)
        }
        Fault::TrailingData => {
            let extra = u.int_in_range(1..=64usize)?;
            for _ in 0..extra {
                blob.push(u.arbitrary()?);
            }
            hdr_err(Check::TrailingData, errno::EINVAL)
        }
        Fault::StringsNotAtEnd => {
            // strings, then types: the sections are fine, but the kernel
            // wants the string section last.
            h.str_off = 0;
            h.type_off = h.str_len;
            let mut out = h.to_bytes().to_vec();
            out.extend_from_slice(&strings);
            out.extend_from_slice(&types);
            *blob = out;
            Ok(expect(Stage::Strings, Check::StringsNotAtEnd, errno::EINVAL))
        }
        Fault::StringsUnterminated => {
            let last = blob.len() - 1;
            blob[last] = u.int_in_range(1..=0xff_u8)?;
            Ok(expect(Stage::Strings, Check::StringsInvalid, errno::EINVAL))
        }
        Fault::StringsFirstNotNul => {
            blob[HDR + h.str_off as usize] = u.int_in_range(1..=0xff_u8)?;
            Ok(expect(Stage::Strings, Check::StringsInvalid, errno::EINVAL))
        }
        Fault::NoData => {
            h.type_len = 0;
            h.str_off = 0;
            h.str_len = 0;
            *blob = h.to_bytes().to_vec();
            hdr_err(Check::NoData, errno::EINVAL)
        }
        Fault::NoTypes | Fault::UnalignedTypeOff => {
            // Only strings; for the unaligned case the (empty) type section
            // sits right after two string bytes, so no section check fires.
            let (strings, type_off, check): (&[u8], u32, Check) = if fault == Fault::NoTypes {
                (b"\0", 0, Check::NoTypes)
            } else {
                (b"\0\0", 2, Check::UnalignedTypeOff)
            };
            h.type_off = type_off;
            h.type_len = 0;
            h.str_off = 0;
            h.str_len = strings.len() as u32;
            let mut out = h.to_bytes().to_vec();
            out.extend_from_slice(strings);
            *blob = out;
            Ok(expect(Stage::Meta, check, errno::EINVAL))
        }
        other => unreachable!("{} is not a blob fault", other.name()),
    }
}
