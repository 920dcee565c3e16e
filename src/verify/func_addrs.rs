//! func-addr (P4): the rules a FUNC_ADDR record cannot check alone. Runs
//! after the kernel's passes, in id order: the address relocated by the
//! KASLR offset must not overflow, no two records may share an address, and,
//! given a kallsyms table, each (name, relocated address) must be one of its
//! text symbols.

use super::btf::Btf;
use super::error::{errno, Check, Failure, Site, Stage};
use crate::kallsyms::Kallsyms;
use crate::raw::{Kind, TypeRecord};

/// Checks every FUNC_ADDR of `btf`. `kaslr_offset` is added to each address
/// before it is compared (the kernel adds its load base at boot).
pub fn check(btf: &Btf<'_>, kaslr_offset: u64, kallsyms: Option<&Kallsyms>) -> Result<(), Failure> {
    let records: Vec<(u32, TypeRecord<'_>)> = btf
        .ids()
        .filter(|&id| btf.kind(id) == Kind::FUNC_ADDR)
        .map(|id| (id, btf.record_at(btf.pos(id))))
        .collect();
    let first_owner = first_owners(&records);
    for (&(id, rec), &first) in records.iter().zip(&first_owner) {
        let fail = |check| Failure {
            stage: Stage::FuncAddrs,
            check,
            site: Site::Type { id },
            errno: errno::EINVAL,
            // The address words of the record.
            offset: Some(btf.abs(rec.pos) + 12),
        };
        let addr = rec
            .func_addr()
            .addr
            .checked_add(kaslr_offset)
            .ok_or_else(|| fail(Check::FuncAddrRelocOverflow))?;
        // Adding the same offset without overflow keeps distinct addresses
        // distinct, so duplicates are found on the stored addresses.
        if first != id {
            return Err(fail(Check::FuncAddrDuplicate { first }));
        }
        if let Some(k) = kallsyms {
            let name = btf.name(&rec).unwrap_or_default();
            if !k.confirms(name, addr) {
                return Err(fail(if k.addresses(name).is_empty() {
                    Check::FuncAddrNotInKallsyms
                } else {
                    Check::FuncAddrMismatch { addr }
                }));
            }
        }
    }
    Ok(())
}

/// For each record (in id order), the lowest id with the same address.
fn first_owners(records: &[(u32, TypeRecord<'_>)]) -> Vec<u32> {
    let mut by_addr: Vec<(u64, u32, u32)> = records
        .iter()
        .enumerate()
        .map(|(i, (id, rec))| (rec.func_addr().addr, *id, i as u32))
        .collect();
    by_addr.sort_unstable();
    let mut owner = vec![0; records.len()];
    let mut group_first = (u64::MAX, 0);
    for (j, &(addr, id, i)) in by_addr.iter().enumerate() {
        if j == 0 || addr != group_first.0 {
            group_first = (addr, id);
        }
        owner[i as usize] = group_first.1;
    }
    owner
}
