//! Blobs for proposals, built from real data.
//!
//! [`func_addr`]: vmlinux BTF plus one FUNC_ADDR record (the `func-addr`
//! proposal, P4) per kallsyms text symbol that has a FUNC of that name,
//! written self-describing (32-byte header and a layout section, P5) so that
//! a layout-aware verifier that does not know FUNC_ADDR can skip them.

use crate::builder::{assemble_with_layout, layout_entries};
use crate::kallsyms::Kallsyms;
use crate::profile::{Features, Profile};
use crate::raw::{FuncAddr, Kind};
use crate::verify::{self, Options};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ProtoError {
    #[error("the base BTF is rejected by linux-6.18 ({0}); func-addr records need a valid vmlinux")]
    BaseRejected(String),
    #[error("the base BTF must have the standard 24-byte header and types before strings")]
    BaseLayout,
    #[error("symbol {name} at 0x{addr:x} lies below the KASLR offset 0x{offset:x}")]
    BelowOffset { name: String, addr: u64, offset: u64 },
    #[error("no kallsyms text symbol has a FUNC of the same name: is this the kallsyms of this vmlinux?")]
    NothingCovered,
}

/// How to build the blob.
#[derive(Clone, Debug, Default)]
pub struct FuncAddrOptions {
    /// Subtracted from every kallsyms address, so the blob holds link-time
    /// addresses (verify with the same `--kaslr-offset`).
    pub kaslr_offset: u64,
    /// Also emit records for compiler clones (`foo.isra.0`, `foo.constprop.0`,
    /// ...) under their own names with the FUNC `foo`'s prototype. Off by
    /// default: a clone's calling convention may differ from `foo`'s.
    pub clones: bool,
    /// Names of traceable functions (`available_filter_functions`), which
    /// get the traceable flag.
    pub traceable: Option<HashSet<String>>,
}

/// What the generator did, in numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FuncAddrStats {
    pub funcs: u32,
    /// FUNCs with at least one record.
    pub funcs_covered: u32,
    pub records: u32,
    pub kfunc_records: u32,
    pub traceable_records: u32,
    /// Names with more than one record, and how many records each.
    pub multi_address_names: BTreeMap<String, u32>,
    /// kallsyms text symbol names with more than one address, and how many
    /// of them have a FUNC in the base (pahole leaves such names out when
    /// their prototypes disagree, which is the proposal's point).
    pub multi_address_symbols: u32,
    pub multi_address_symbols_with_func: u32,
    /// Clone symbols (`base.suffix...`) whose base has a FUNC, by suffix.
    pub clones_by_suffix: BTreeMap<String, u32>,
    pub clones_included: bool,
    /// Text symbols with no FUNC of that name (nor of their base name).
    pub symbols_without_func: u32,
    /// Text symbols skipped because an earlier one had the same address
    /// (aliases); addresses must be unique.
    pub aliases_skipped: u32,
    /// FUNC names that occur more than once in the base (the first is used).
    pub ambiguous_func_names: u32,
    pub base_bytes: u64,
    pub out_bytes: u64,
}

impl FuncAddrStats {
    pub fn clones(&self) -> u32 {
        self.clones_by_suffix.values().sum()
    }

    /// The report `btfcheck proto func-addr` prints.
    pub fn report(&self) -> String {
        let mut s = String::new();
        let pct = |a: u64, b: u64| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
        let _ = writeln!(
            s,
            "functions covered: {} of {} FUNCs ({:.1}%)",
            self.funcs_covered,
            self.funcs,
            pct(self.funcs_covered as u64, self.funcs as u64)
        );
        let _ = writeln!(
            s,
            "records: {} ({} kfunc, {} traceable)",
            self.records, self.kfunc_records, self.traceable_records
        );
        let mut multi: Vec<(&String, &u32)> = self.multi_address_names.iter().collect();
        multi.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let examples: Vec<String> = multi.iter().take(5).map(|(n, c)| format!("{n} x{c}")).collect();
        let _ = writeln!(
            s,
            "names with several addresses: {}{}",
            multi.len(),
            if examples.is_empty() {
                String::new()
            } else {
                format!(" (e.g. {})", examples.join(", "))
            }
        );
        let _ = writeln!(
            s,
            "kallsyms names with several addresses: {} ({} with a FUNC in the base)",
            self.multi_address_symbols, self.multi_address_symbols_with_func
        );
        let by_suffix: Vec<String> = self
            .clones_by_suffix
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            s,
            "clones of a FUNC: {} ({}), {}",
            self.clones(),
            by_suffix.join(", "),
            if self.clones_included {
                "included"
            } else {
                "not included (--clones)"
            }
        );
        let _ = writeln!(s, "text symbols without a FUNC: {}", self.symbols_without_func);
        let _ = writeln!(
            s,
            "aliases skipped (address already used): {}",
            self.aliases_skipped
        );
        if self.ambiguous_func_names > 0 {
            let _ = writeln!(
                s,
                "FUNC names defined more than once (first prototype used): {}",
                self.ambiguous_func_names
            );
        }
        let added = self.out_bytes.saturating_sub(self.base_bytes);
        let _ = writeln!(
            s,
            "bytes: {} -> {} (+{}, +{:.1}%)",
            self.base_bytes,
            self.out_bytes,
            added,
            pct(added, self.base_bytes)
        );
        s
    }
}

/// The FUNC of each name in the base: (name offset, prototype id).
struct Funcs {
    by_name: HashMap<Vec<u8>, (u32, u32, u32)>,
    kfuncs: HashSet<u32>,
    count: u32,
    ambiguous: u32,
}

fn base_funcs(btf: &verify::Btf<'_>) -> Funcs {
    let mut f = Funcs {
        by_name: HashMap::new(),
        kfuncs: HashSet::new(),
        count: 0,
        ambiguous: 0,
    };
    for id in btf.ids() {
        let rec = btf.record_at(btf.pos(id));
        match rec.kind() {
            Kind::FUNC => {
                f.count += 1;
                let name = btf.name(&rec).unwrap_or_default().to_vec();
                match f.by_name.entry(name) {
                    std::collections::hash_map::Entry::Occupied(_) => f.ambiguous += 1,
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert((id, rec.name_off(), rec.common.type_id()));
                    }
                }
            }
            // `__bpf_kfunc` functions carry a `bpf_kfunc` DECL_TAG.
            Kind::DECL_TAG
                if rec.component_idx() == -1 && btf.name(&rec) == Some(b"bpf_kfunc".as_slice()) =>
            {
                f.kfuncs.insert(rec.common.type_id());
            }
            _ => {}
        }
    }
    f
}

/// Builds the func-addr blob from `base` (vmlinux BTF) and `kallsyms`.
pub fn func_addr(
    base: &[u8],
    kallsyms: &Kallsyms,
    opts: &FuncAddrOptions,
) -> Result<(Vec<u8>, FuncAddrStats), ProtoError> {
    let v = verify::verify(base, &Options::default());
    if let Some(f) = v.failure {
        return Err(ProtoError::BaseRejected(crate::diag::messages::rule(&f.check)));
    }
    let btf = v.btf.as_ref().expect("accepted blobs have sections");
    let h = btf.header;
    if h.hdr_len != 24 || h.type_off != 0 || h.str_off != h.type_len {
        return Err(ProtoError::BaseLayout);
    }
    let funcs = base_funcs(btf);
    let mut types = btf.types.to_vec();
    let mut strings = btf.strings.bytes().to_vec();
    let mut new_names: HashMap<String, u32> = HashMap::new();
    let mut stats = FuncAddrStats {
        funcs: funcs.count,
        clones_included: opts.clones,
        ambiguous_func_names: funcs.ambiguous,
        base_bytes: base.len() as u64,
        ..FuncAddrStats::default()
    };
    let mut used_addrs: HashSet<u64> = HashSet::new();
    let mut covered: HashSet<u32> = HashSet::new();
    let mut per_name: HashMap<&str, u32> = HashMap::new();
    for (name, addr) in &kallsyms.symbols {
        let exact = funcs.by_name.get(name.as_bytes());
        let (func, is_clone) = match exact {
            Some(f) => (*f, false),
            None => {
                let base_name = name.split('.').next().unwrap_or_default();
                match funcs
                    .by_name
                    .get(base_name.as_bytes())
                    .filter(|_| base_name != name)
                {
                    Some(f) => {
                        let suffix = name[base_name.len() + 1..].split('.').next().unwrap_or_default();
                        *stats.clones_by_suffix.entry(suffix.to_string()).or_default() += 1;
                        if !opts.clones {
                            continue;
                        }
                        (*f, true)
                    }
                    None => {
                        stats.symbols_without_func += 1;
                        continue;
                    }
                }
            }
        };
        if !used_addrs.insert(*addr) {
            stats.aliases_skipped += 1;
            continue;
        }
        let link_addr = addr
            .checked_sub(opts.kaslr_offset)
            .ok_or_else(|| ProtoError::BelowOffset {
                name: name.clone(),
                addr: *addr,
                offset: opts.kaslr_offset,
            })?;
        let (func_id, func_name_off, proto) = func;
        let name_off = if is_clone {
            *new_names.entry(name.clone()).or_insert_with(|| {
                let off = strings.len() as u32;
                strings.extend_from_slice(name.as_bytes());
                strings.push(0);
                off
            })
        } else {
            func_name_off
        };
        let mut flags = 0;
        if funcs.kfuncs.contains(&func_id) && !is_clone {
            flags |= FuncAddr::KFUNC;
            stats.kfunc_records += 1;
        }
        if opts.traceable.as_ref().is_some_and(|t| t.contains(name)) {
            flags |= FuncAddr::TRACEABLE;
            stats.traceable_records += 1;
        }
        let info = crate::builder::info(Kind::FUNC_ADDR, 0, false);
        for w in [
            name_off,
            info,
            proto,
            link_addr as u32,
            (link_addr >> 32) as u32,
            flags,
        ] {
            types.extend_from_slice(&w.to_le_bytes());
        }
        stats.records += 1;
        covered.insert(func_id);
        *per_name.entry(name.as_str()).or_default() += 1;
    }
    if stats.records == 0 {
        return Err(ProtoError::NothingCovered);
    }
    let mut addrs_per_symbol: HashMap<&str, u32> = HashMap::new();
    for (name, _) in &kallsyms.symbols {
        *addrs_per_symbol.entry(name.as_str()).or_default() += 1;
    }
    for (name, n) in addrs_per_symbol {
        if n > 1 {
            stats.multi_address_symbols += 1;
            if funcs.by_name.contains_key(name.as_bytes()) {
                stats.multi_address_symbols_with_func += 1;
            }
        }
    }
    stats.funcs_covered = covered.len() as u32;
    stats.multi_address_names = per_name
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    let shapes = Profile::LINUX_6_18.with_features(Features::FUNC_ADDR).shapes();
    let blob = assemble_with_layout(&types, &layout_entries(&shapes, Kind::FUNC_ADDR.0), &strings);
    stats.out_bytes = blob.len() as u64;
    Ok((blob, stats))
}

/// Names in an `available_filter_functions`-format file (`name` or
/// `name [module]` per line); module functions are left out.
pub fn parse_traceable(text: &str) -> HashSet<String> {
    text.lines()
        .filter(|l| !l.contains('['))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{BtfBuilder, FUNC_GLOBAL, INT_SIGNED};

    fn base() -> Vec<u8> {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, INT_SIGNED);
        let proto = b.func_proto(int, &[("x", int)]);
        b.func("f", proto, FUNC_GLOBAL);
        let g = b.func("g", proto, FUNC_GLOBAL);
        b.decl_tag("bpf_kfunc", g, -1);
        b.build()
    }

    const SYMS: &str = "ffffffff9f000000 T _text\n\
                        ffffffff9f000100 t f\n\
                        ffffffff9f000200 t f\n\
                        ffffffff9f000200 t f_alias\n\
                        ffffffff9f000300 T g\n\
                        ffffffff9f000400 t g.isra.0\n\
                        ffffffff9f000500 t g.constprop.0\n";

    #[test]
    fn one_record_per_symbol_with_a_func() {
        let k = Kallsyms::parse(SYMS).unwrap();
        let opts = FuncAddrOptions {
            kaslr_offset: 0x1e00_0000,
            ..Default::default()
        };
        let (blob, stats) = func_addr(&base(), &k, &opts).unwrap();
        assert_eq!(stats.records, 3, "f twice, g once; clones left out");
        assert_eq!(stats.funcs_covered, 2);
        assert_eq!(stats.kfunc_records, 1);
        assert_eq!(stats.multi_address_names.get("f"), Some(&2));
        assert_eq!(
            (stats.multi_address_symbols, stats.multi_address_symbols_with_func),
            (1, 1)
        );
        assert_eq!(stats.clones(), 2);
        assert_eq!(stats.symbols_without_func, 2, "_text and f_alias");
        let rules = Profile::parse_rules("linux-6.18+kind-layout+func-addr").unwrap();
        let verify_opts = Options {
            profile: rules,
            kaslr_offset: opts.kaslr_offset,
            kallsyms: Some(&k),
            ..Options::default()
        };
        let v = verify::verify(&blob, &verify_opts);
        assert!(v.accepted(), "{:?}", v.failure);

        let with_clones = FuncAddrOptions {
            clones: true,
            ..opts.clone()
        };
        let (blob, stats) = func_addr(&base(), &k, &with_clones).unwrap();
        assert_eq!(stats.records, 5);
        assert!(verify::verify(&blob, &verify_opts).accepted());
    }

    #[test]
    fn unrelated_kallsyms_is_an_error() {
        let k = Kallsyms::parse("ffffffff81000000 T other\n").unwrap();
        assert!(matches!(
            func_addr(&base(), &k, &FuncAddrOptions::default()),
            Err(ProtoError::NothingCovered)
        ));
    }
}
