//! `/proc/kallsyms`-format symbol tables: `ADDRESS TYPE NAME [MODULE]` per
//! line, address in hex. Only text symbols (`t`/`T`) are kept: they are the
//! functions a FUNC_ADDR record can point at.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum KallsymsError {
    #[error("line {line}: expected `ADDRESS TYPE NAME [MODULE]`, found {found:?}")]
    Malformed { line: usize, found: String },
    #[error("line {line}: address {found:?} is not hexadecimal")]
    BadAddress { line: usize, found: String },
    #[error(
        "every text symbol has address 0: the file was read without the right to see addresses \
         (read /proc/kallsyms as root, or set kernel.kptr_restrict=0)"
    )]
    AddressesHidden,
    #[error("no text symbols (t/T) found")]
    NoTextSymbols,
}

/// Text symbols; a name may have several addresses (static functions of
/// the same name in different files) and an address several names
/// (aliases).
#[derive(Clone, Debug, Default)]
pub struct Kallsyms {
    /// Text symbols in file order (name, address), module symbols excluded.
    pub symbols: Vec<(String, u64)>,
    /// Indexes into `symbols`, by address.
    by_addr: Vec<(u64, u32)>,
}

impl Kallsyms {
    /// Parses the vmlinux text symbols of a kallsyms-format file (module
    /// symbols, `[name]` suffixed, are skipped: FUNC_ADDR describes vmlinux).
    pub fn parse(text: &str) -> Result<Kallsyms, KallsymsError> {
        let mut k = Kallsyms::default();
        let mut nonzero = false;
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(addr), Some(ty), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(KallsymsError::Malformed {
                    line: line_no,
                    found: line.to_string(),
                });
            };
            let module = parts.next();
            if parts.next().is_some() || ty.len() != 1 {
                return Err(KallsymsError::Malformed {
                    line: line_no,
                    found: line.to_string(),
                });
            }
            let addr = u64::from_str_radix(addr, 16).map_err(|_| KallsymsError::BadAddress {
                line: line_no,
                found: addr.to_string(),
            })?;
            if module.is_some() || !matches!(ty, "t" | "T") {
                continue;
            }
            nonzero |= addr != 0;
            k.by_addr.push((addr, k.symbols.len() as u32));
            k.symbols.push((name.to_string(), addr));
        }
        if k.symbols.is_empty() {
            return Err(KallsymsError::NoTextSymbols);
        }
        if !nonzero {
            return Err(KallsymsError::AddressesHidden);
        }
        k.by_addr.sort_unstable();
        Ok(k)
    }

    /// Whether a text symbol `name` lies at `addr` (a binary search).
    pub fn confirms(&self, name: &[u8], addr: u64) -> bool {
        let start = self.by_addr.partition_point(|&(a, _)| a < addr);
        self.by_addr[start..]
            .iter()
            .take_while(|&&(a, _)| a == addr)
            .any(|&(_, i)| self.symbols[i as usize].0.as_bytes() == name)
    }

    /// Addresses of the text symbols called `name`, in file order (a scan:
    /// for reports, not for every record).
    pub fn addresses(&self, name: &[u8]) -> Vec<u64> {
        self.symbols
            .iter()
            .filter(|(n, _)| n.as_bytes() == name)
            .map(|&(_, a)| a)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "ffffffff81000000 T _text\n\
                          ffffffff81234560 t bpf_iter_detach_map\n\
                          ffffffff81345670 t bpf_iter_detach_map\n\
                          ffffffff81400000 D some_data\n\
                          ffffffffc0001000 t mod_fn\t[some_mod]\n";

    #[test]
    fn keeps_vmlinux_text_symbols_with_every_address() {
        let k = Kallsyms::parse(SAMPLE).unwrap();
        assert_eq!(
            k.addresses(b"bpf_iter_detach_map"),
            [0xffffffff81234560, 0xffffffff81345670]
        );
        assert!(k.confirms(b"_text", 0xffffffff81000000));
        assert!(k.confirms(b"bpf_iter_detach_map", 0xffffffff81345670));
        assert!(!k.confirms(b"_text", 0xffffffff81345670));
        assert!(
            k.addresses(b"some_data").is_empty(),
            "data symbols are not functions"
        );
        assert!(k.addresses(b"mod_fn").is_empty(), "module symbols are skipped");
        assert_eq!(k.symbols.len(), 3);
    }

    #[test]
    fn hidden_addresses_and_garbage_are_errors() {
        let hidden = "0000000000000000 T _text\n0000000000000000 t f\n";
        assert_eq!(
            Kallsyms::parse(hidden).unwrap_err(),
            KallsymsError::AddressesHidden
        );
        assert!(matches!(
            Kallsyms::parse("zz T f\n"),
            Err(KallsymsError::BadAddress { line: 1, .. })
        ));
        assert!(matches!(
            Kallsyms::parse("ffff T\n"),
            Err(KallsymsError::Malformed { line: 1, .. })
        ));
        assert_eq!(Kallsyms::parse("").unwrap_err(), KallsymsError::NoTextSymbols);
    }
}
