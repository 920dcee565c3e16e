//! `btfcheck min-kernel`: which kernel profiles load a blob, and why the
//! others do not, in terms of the release that brought what is missing.

use crate::diag::{kernel_log, messages};
use crate::profile::{Features, Profile};
use crate::raw::{CommonType, Kind};
use crate::verify::{self, Check, Options, Verification};

/// One profile's verdict on a blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileVerdict {
    pub profile: &'static str,
    pub errno: i32,
    /// The last line of the level-1 log (None when accepted or silent).
    pub message: Option<String>,
    pub rule: Option<String>,
    /// What the blob uses that this kernel lacks, when known
    /// (e.g. "DECL_TAG (kind 17) needs linux-5.16").
    pub reason: Option<String>,
}

impl ProfileVerdict {
    pub fn accepted(&self) -> bool {
        self.errno == 0
    }
}

/// Every kernel profile's verdict, oldest first.
#[derive(Clone, Debug)]
pub struct MinKernel {
    pub verdicts: Vec<ProfileVerdict>,
}

impl MinKernel {
    /// The oldest profile that loads the blob.
    pub fn oldest(&self) -> Option<&'static str> {
        self.verdicts.iter().find(|v| v.accepted()).map(|v| v.profile)
    }

    /// The oldest profile from which on every newer profile loads the blob
    /// (stable backports make a few older releases stricter than their
    /// neighbours, so this can be newer than [`oldest`](Self::oldest)).
    pub fn from_on(&self) -> Option<&'static str> {
        let last_rejecting = self.verdicts.iter().rposition(|v| !v.accepted());
        match last_rejecting {
            None => self.verdicts.first().map(|v| v.profile),
            Some(i) => self.verdicts.get(i + 1).map(|v| v.profile),
        }
    }
}

/// Verifies `blob` under every kernel profile.
pub fn judge(blob: &[u8], base: &Options<'_>) -> MinKernel {
    let verdicts = Profile::ALL
        .iter()
        .map(|&profile| {
            let opts = Options { profile, ..*base };
            let v = verify::verify(blob, &opts);
            verdict(&v)
        })
        .collect();
    MinKernel { verdicts }
}

fn verdict(v: &Verification<'_>) -> ProfileVerdict {
    let message = v
        .failure
        .and_then(|_| kernel_log::last_line(v))
        .map(|l| String::from_utf8_lossy(&l).into_owned());
    ProfileVerdict {
        profile: v.profile.name,
        errno: v.errno(),
        message,
        rule: v.failure.map(|f| messages::rule(&f.check)),
        reason: v.failure.and_then(|f| reason(v, &f.check)),
    }
}

/// The first profile (oldest first) whose features include `f`.
fn first_with(f: Features) -> Option<&'static str> {
    Profile::ALL.iter().find(|p| p.has(f)).map(|p| p.name)
}

/// The first profile that knows kind `k`.
fn first_knowing(k: Kind) -> Option<&'static str> {
    Profile::ALL
        .iter()
        .find(|p| p.limits.max_kind >= k.0)
        .map(|p| p.name)
}

fn needs(what: String, profile: Option<&'static str>) -> Option<String> {
    profile.map(|p| format!("{what} needs {p}"))
}

/// The header of the record the failure is reported at.
fn failing_common(v: &Verification<'_>) -> Option<CommonType> {
    crate::diag::human::failing_record(v).map(|(_, rec)| rec.common)
}

/// Explains a rejection by the release that lifted it, where one rule of
/// the profile table accounts for it.
fn reason(v: &Verification<'_>, check: &Check) -> Option<String> {
    let p = &v.profile;
    match check {
        Check::UnknownKind { kind } => {
            let k = Kind(*kind);
            let name = k
                .name()
                .map_or(format!("kind {kind}"), |n| format!("{n} (kind {kind})"));
            needs(name, first_knowing(k)).or_else(|| Some(format!("kind {kind} is known to no kernel")))
        }
        Check::InfoReservedBits { info } => {
            let c = failing_common(v)?;
            let extra = info & !p.info_mask();
            if extra & 0x1000_0000 != 0 && extra & !0x9000_0000 == 0 {
                let k = c.kind();
                let name = k
                    .name()
                    .map_or(format!("kind {}", k.0), |n| format!("{n} (kind {})", k.0));
                return needs(name, first_knowing(k));
            }
            if extra == 0x8000_0000 {
                return needs(format!("kind_flag on {}", c.kind()), first_with(Features::KFLAG));
            }
            None
        }
        Check::KflagNotAllowed => {
            let c = failing_common(v)?;
            match c.kind() {
                Kind::ENUM => needs("kind_flag (signed) on ENUM".into(), first_with(Features::ENUM64)),
                Kind::TYPE_TAG | Kind::DECL_TAG => needs(
                    format!("kind_flag on {}", c.kind()),
                    first_with(Features::TAG_KFLAG),
                ),
                _ => None,
            }
        }
        Check::DatasecVlenZero => needs(
            "a DATASEC without entries".into(),
            first_with(Features::DATASEC_EMPTY),
        ),
        Check::EnumSizeNot4 => needs(
            "an ENUM of size other than 4".into(),
            first_with(Features::ENUM_SIZES),
        ),
        Check::IntBitsOver64 => needs("an INT wider than 64 bits".into(), first_with(Features::INT128)),
        Check::VlenNotZero if !p.has(Features::FUNC_LINKAGE) => {
            let c = failing_common(v)?;
            (c.kind() == Kind::FUNC).then_some(())?;
            needs("FUNC linkage".into(), first_with(Features::FUNC_LINKAGE))
        }
        Check::NameInvalid | Check::MemberNameInvalid | Check::EnumeratorNameInvalid
            if !p.has(Features::DOTTED_NAMES) || p.limits.name_len < 512 =>
        {
            Some(format!(
                "names: dots need {} (5.10.y, 5.15.y and 6.1.y backports), 512-byte names need {}",
                first_with(Features::DOTTED_NAMES).unwrap_or("?"),
                Profile::ALL
                    .iter()
                    .find(|q| q.limits.name_len >= 512)
                    .map_or("?", |q| q.name)
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{BtfBuilder, INT_SIGNED};

    #[test]
    fn a_decl_tag_needs_5_16() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, 32, INT_SIGNED);
        let t = b.typedef("t", int);
        b.decl_tag("user", t, -1);
        let m = judge(&b.build(), &Options::default());
        assert_eq!(m.oldest(), Some("linux-5.16"));
        let v510 = m.verdicts.iter().find(|v| v.profile == "linux-5.10").unwrap();
        assert_eq!(
            v510.reason.as_deref(),
            Some("DECL_TAG (kind 17) needs linux-5.16")
        );
        assert_eq!(v510.message.as_deref(), Some("[3] Invalid btf_info:11000000"));
    }

    #[test]
    fn plain_ints_load_everywhere() {
        let mut b = BtfBuilder::new();
        b.int("int", 4, 32, INT_SIGNED);
        let m = judge(&b.build(), &Options::default());
        assert_eq!(m.oldest(), Some(Profile::ALL[0].name));
        assert_eq!(m.from_on(), Some(Profile::ALL[0].name));
    }
}
