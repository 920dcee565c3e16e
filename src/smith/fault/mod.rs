//! The fault catalogue: one targeted defect per entry, each recording where
//! the kernel must report it (stage, check, errno, type id).
//!
//! A type fault is a small construct inserted at a random point of an
//! otherwise valid blob: valid helper types, then the faulty record. The
//! construct stays out of the generator's pools, so no later type refers to
//! it and nothing before it can fail, which pins the reported type id.
//! Faults on the header or the string section edit the finished blob.

mod blob;
mod meta;
mod resolve;

use super::{Config, Gen};
use crate::profile::{Features, Profile};
use crate::verify::error::{Check, Stage};
use arbitrary::{Result, Unstructured};

/// Where the kernel must report a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expect {
    pub stage: Stage,
    pub check: Check,
    pub errno: i32,
    /// The type the failure is reported at (for the type-tag pass, which
    /// prints no id, the type whose chain failed).
    pub type_id: Option<u32>,
}

/// A blob with one fault and where it must be reported.
#[derive(Clone, Debug)]
pub struct Faulted {
    pub blob: Vec<u8>,
    pub fault: Fault,
    pub expect: Expect,
}

/// Where a fault goes.
enum Placement {
    /// Edits the finished blob (header, string section).
    Blob,
    /// Must be the last record (it leaves the type section short).
    End,
    /// Anywhere among the valid types.
    Anywhere,
}

macro_rules! catalogue {
    ($( $variant:ident = $name:literal, $stage:ident, $place:ident, $needs:expr, $what:literal; )*) => {
        /// One entry of the catalogue.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Fault { $( $variant, )* }

        impl Fault {
            /// Every fault, in catalogue order.
            pub const ALL: &'static [Fault] = &[ $( Fault::$variant, )* ];

            /// Kebab-case name, for reports and `--fault`.
            pub fn name(self) -> &'static str {
                match self { $( Fault::$variant => $name, )* }
            }

            /// One line: what is wrong with the blob.
            pub fn description(self) -> &'static str {
                match self { $( Fault::$variant => $what, )* }
            }

            /// The pass that must reject it.
            pub fn stage(self) -> Stage {
                match self { $( Fault::$variant => Stage::$stage, )* }
            }

            fn placement(self) -> Placement {
                match self { $( Fault::$variant => Placement::$place, )* }
            }

            /// Kernel features the construct uses.
            pub fn needs(self) -> Features {
                match self { $( Fault::$variant => $needs, )* }
            }
        }
    };
}

const NONE: Features = Features::empty();
const VD: Features = Features::VAR_DATASEC;
const TT: Features = Features::TYPE_TAG;
/// A DATASEC built with no entries needs 5.12's empty DATASECs.
const VDE: Features = Features::VAR_DATASEC.union(Features::DATASEC_EMPTY);
/// The type-tag placement pass (5.19).
const TTO: Features = Features::TYPE_TAG_ORDER;
/// The special-fields pass (6.2).
const SM: Features = Features::STRUCT_METAS;
/// kptr fields at BTF load (6.12).
const KPTR: Features = Features::TYPE_TAG
    .union(Features::STRUCT_METAS)
    .union(Features::METAS_KPTR);
const DT: Features = Features::DECL_TAG;

catalogue! {
    // size, header, sections
    TooBig = "too-big", Size, Blob, NONE, "blob larger than 16 MiB";
    BadMagic = "bad-magic", Header, Blob, NONE, "magic is not 0xeb9f";
    BadVersion = "bad-version", Header, Blob, NONE, "version is not 1";
    BadFlags = "bad-flags", Header, Blob, NONE, "flags are not 0";
    HeaderNotFound = "header-not-found", Header, Blob, NONE, "hdr_len beyond the end of the blob";
    HeaderTailNotZero = "header-tail-not-zero", Header, Blob, NONE, "hdr_len > 24 with non-zero bytes after the known header";
    SectionBeyondData = "section-beyond-data", Header, Blob, NONE, "str_off beyond the data";
    SectionGap = "section-gap", Header, Blob, NONE, "unused bytes before the type section";
    SectionOverlap = "section-overlap", Header, Blob, NONE, "string section starts inside the type section";
    SectionTooLong = "section-too-long", Header, Blob, NONE, "str_len runs past the end of the blob";
    TrailingData = "trailing-data", Header, Blob, NONE, "bytes after the last section";
    StringsNotAtEnd = "strings-not-at-end", Strings, Blob, NONE, "string section placed before the type section";
    StringsUnterminated = "strings-unterminated", Strings, Blob, NONE, "string section does not end with NUL";
    StringsFirstNotNul = "strings-first-not-nul", Strings, Blob, NONE, "string section does not start with NUL";
    NoData = "no-data", Header, Blob, NONE, "a header and nothing else";
    NoTypes = "no-types", Meta, Blob, NONE, "an empty type section";
    UnalignedTypeOff = "unaligned-type-off", Meta, Blob, NONE, "an empty type section at an odd offset after the strings";
    // generic record checks
    RecordTruncated = "record-truncated", Meta, End, NONE, "fewer than 12 bytes left for a record";
    InfoReservedBits = "info-reserved-bits", Meta, Anywhere, NONE, "info has reserved bits set";
    UnknownKind = "unknown-kind", Meta, Anywhere, NONE, "kind 0 or above the last known kind";
    NameOffsetInvalid = "name-offset-invalid", Meta, Anywhere, NONE, "name_off beyond the string section";
    TailTruncated = "tail-truncated", Meta, End, NONE, "vlen promises more members than the section holds";
    // per-kind meta checks
    IntVlen = "int-vlen", Meta, Anywhere, NONE, "INT with vlen";
    IntKflag = "int-kflag", Meta, Anywhere, NONE, "INT with kind_flag";
    IntDataReserved = "int-data-reserved", Meta, Anywhere, NONE, "INT int_data with reserved top bits";
    IntBitsOver128 = "int-bits-over-128", Meta, Anywhere, NONE, "INT bits + offset above 128";
    IntBitsOverSize = "int-bits-over-size", Meta, Anywhere, NONE, "INT bits wider than its size";
    IntEncoding = "int-encoding", Meta, Anywhere, NONE, "INT with an unknown encoding";
    PtrNamed = "ptr-named", Meta, Anywhere, NONE, "named PTR";
    PtrKflag = "ptr-kflag", Meta, Anywhere, NONE, "PTR with kind_flag";
    RefTypeIdRange = "ref-type-id-range", Meta, Anywhere, NONE, "PTR/modifier type id above 0xfffff";
    ModifierNamed = "modifier-named", Meta, Anywhere, NONE, "named CONST/VOLATILE/RESTRICT";
    TypedefNameInvalid = "typedef-name-invalid", Meta, Anywhere, NONE, "TYPEDEF without an identifier name";
    ArrayNamed = "array-named", Meta, Anywhere, NONE, "named ARRAY";
    ArraySizeNotZero = "array-size-not-zero", Meta, Anywhere, NONE, "ARRAY with a size field";
    ArrayElemZero = "array-elem-zero", Meta, Anywhere, NONE, "ARRAY of VOID";
    ArrayIndexZero = "array-index-zero", Meta, Anywhere, NONE, "ARRAY indexed by VOID";
    CompositeNameInvalid = "composite-name-invalid", Meta, Anywhere, NONE, "STRUCT/UNION name not an identifier";
    MemberNameOffset = "member-name-offset", Meta, Anywhere, NONE, "member name_off beyond the strings";
    MemberNameInvalid = "member-name-invalid", Meta, Anywhere, NONE, "member name not an identifier";
    MemberTypeZero = "member-type-zero", Meta, Anywhere, NONE, "member of type VOID";
    UnionMemberOffset = "union-member-offset", Meta, Anywhere, NONE, "UNION member at a non-zero offset";
    MemberOffsetBackwards = "member-offset-backwards", Meta, Anywhere, NONE, "STRUCT member before the previous one";
    MemberBeyondSize = "member-beyond-size", Meta, Anywhere, NONE, "member offset past the struct size";
    EnumSize = "enum-size", Meta, Anywhere, NONE, "ENUM size not 1, 2, 4 or 8";
    EnumeratorNameEmpty = "enumerator-name-empty", Meta, Anywhere, NONE, "unnamed enumerator";
    EnumeratorNameOffset = "enumerator-name-offset", Meta, Anywhere, NONE, "enumerator name_off beyond the strings";
    FwdTypeNotZero = "fwd-type-not-zero", Meta, Anywhere, NONE, "FWD with a type";
    FwdNameEmpty = "fwd-name-empty", Meta, Anywhere, NONE, "anonymous FWD";
    FuncLinkage = "func-linkage", Meta, Anywhere, NONE, "FUNC with extern (or unknown) linkage";
    FuncNameInvalid = "func-name-invalid", Meta, Anywhere, NONE, "FUNC name not an identifier";
    ProtoNamed = "proto-named", Meta, Anywhere, NONE, "named FUNC_PROTO";
    VarLinkage = "var-linkage", Meta, Anywhere, VD, "VAR with extern (or unknown) linkage";
    VarTypeZero = "var-type-zero", Meta, Anywhere, VD, "VAR of type VOID";
    DatasecSizeZero = "datasec-size-zero", Meta, Anywhere, VDE, "DATASEC of size 0";
    DatasecNameInvalid = "datasec-name-invalid", Meta, Anywhere, VDE, "DATASEC name with a control byte";
    SecInfoOverlap = "secinfo-overlap", Meta, Anywhere, VD, "DATASEC entries overlap";
    SecInfoSizeZero = "secinfo-size-zero", Meta, Anywhere, VD, "DATASEC entry of size 0";
    SecInfoPastEnd = "secinfo-past-end", Meta, Anywhere, VD, "DATASEC entry ends past the section";
    FloatSize = "float-size", Meta, Anywhere, Features::FLOAT, "FLOAT of a size other than 2, 4, 8, 12, 16";
    DeclTagValueEmpty = "decl-tag-value-empty", Meta, Anywhere, DT, "DECL_TAG with an empty value";
    DeclTagIndexBelow = "decl-tag-index-below", Meta, Anywhere, DT, "DECL_TAG component_idx below -1";
    TypeTagValueEmpty = "type-tag-value-empty", Meta, Anywhere, TT, "TYPE_TAG with an empty value";
    // resolve
    RefToSourceOnly = "ref-to-source-only", Resolve, Anywhere, VD, "PTR/modifier pointing at a VAR";
    RefTargetMissing = "ref-target-missing", Resolve, Anywhere, NONE, "PTR/modifier pointing past the last type";
    ArrayIndexIrregular = "array-index-irregular", Resolve, Anywhere, NONE, "ARRAY indexed by a 31-bit INT";
    ArrayElemFwd = "array-elem-fwd", Resolve, Anywhere, NONE, "ARRAY of a FWD";
    ArrayOfIrregularInt = "array-of-irregular-int", Resolve, Anywhere, NONE, "ARRAY of a 12-bit INT";
    ArrayOverflow = "array-overflow", Resolve, Anywhere, NONE, "ARRAY size above U32_MAX";
    MemberFwd = "member-fwd", Resolve, Anywhere, NONE, "STRUCT member of a FWD";
    MemberBitsOverflow = "member-bits-overflow", Resolve, Anywhere, NONE, "member bit offset plus INT offset above U32_MAX";
    MemberCopyBitsOver128 = "member-copy-bits-over-128", Resolve, Anywhere, NONE, "128-bit INT member off a byte boundary";
    MemberExceedsSize = "member-exceeds-size", Resolve, Anywhere, NONE, "member runs past the struct end";
    MemberNotByteAligned = "member-not-byte-aligned", Resolve, Anywhere, NONE, "PTR member at a bit offset";
    FloatMemberMisaligned = "float-member-misaligned", Resolve, Anywhere, Features::FLOAT, "FLOAT member not aligned";
    BitfieldTooWide = "bitfield-too-wide", Resolve, Anywhere, NONE, "kind_flag bitfield wider than its INT";
    BitfieldIrregularBase = "bitfield-irregular-base", Resolve, Anywhere, NONE, "kind_flag member of an irregular INT";
    BitfieldOnPtr = "bitfield-on-ptr", Resolve, Anywhere, NONE, "kind_flag bitfield size on a PTR member";
    BitfieldZeroUnaligned = "bitfield-zero-unaligned", Resolve, Anywhere, NONE, "kind_flag whole INT member off a byte boundary";
    VarOfNoSize = "var-of-no-size", Resolve, Anywhere, VD, "VAR of a FWD or FUNC_PROTO";
    SecInfoNotVar = "secinfo-not-var", Resolve, Anywhere, VD, "DATASEC entry that is not a VAR";
    SecInfoTooSmall = "secinfo-too-small", Resolve, Anywhere, VD, "DATASEC entry smaller than its VAR";
    FuncNotProto = "func-not-proto", Resolve, Anywhere, NONE, "FUNC whose type is not a FUNC_PROTO";
    FuncArgUnnamed = "func-arg-unnamed", Resolve, Anywhere, NONE, "FUNC whose prototype has an unnamed parameter";
    ProtoReturnFwd = "proto-return-fwd", Resolve, Anywhere, NONE, "FUNC_PROTO returning a FWD";
    ProtoArgFwd = "proto-arg-fwd", Resolve, Anywhere, NONE, "FUNC_PROTO parameter of a FWD";
    ProtoVarargNamed = "proto-vararg-named", Resolve, Anywhere, NONE, "named vararg slot";
    ProtoVoidArg = "proto-void-arg", Resolve, Anywhere, NONE, "VOID parameter before the last";
    DeclTagOnInt = "decl-tag-on-int", Resolve, Anywhere, DT, "DECL_TAG on an INT";
    DeclTagIndexPast = "decl-tag-index-past", Resolve, Anywhere, DT, "DECL_TAG component_idx past the members";
    DeclTagIndexOnTypedef = "decl-tag-index-on-typedef", Resolve, Anywhere, DT, "DECL_TAG component_idx on a TYPEDEF";
    TypedefLoop = "typedef-loop", Resolve, Anywhere, NONE, "two TYPEDEFs naming each other";
    PtrModifierLoop = "ptr-modifier-loop", Resolve, Anywhere, NONE, "PTR -> CONST -> PTR -> CONST cycle";
    ResolveTooDeep = "resolve-too-deep", Resolve, Anywhere, NONE, "33 unresolved TYPEDEFs in one chain";
    // type tags
    TagAfterModifier = "tag-after-modifier", TypeTags, Anywhere, TT.union(TTO), "TYPE_TAG after a CONST/VOLATILE/RESTRICT/TYPEDEF";
    ModifierChainTooLong = "modifier-chain-too-long", TypeTags, Anywhere, TTO, "39 modifiers walked at once";
    // special fields
    KptrToNonStruct = "kptr-to-non-struct", StructMetas, Anywhere, KPTR, "kptr to an INT, beside a bpf_spin_lock";
    KptrChainedTag = "kptr-chained-tag", StructMetas, Anywhere, KPTR, "kptr tag followed by another tag, beside a bpf_spin_lock";
    ListHeadNoContains = "list-head-no-contains", StructMetas, Anywhere, SM, "bpf_list_head without a contains: tag";
}

impl Fault {
    pub fn by_name(name: &str) -> Option<Fault> {
        Fault::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Faults whose construct `profile` can express.
    pub fn applicable(profile: &Profile) -> impl Iterator<Item = Fault> + '_ {
        Fault::ALL.iter().copied().filter(|f| f.expressible(profile))
    }

    /// Whether this fault, with the expectation it records, exists under
    /// `profile`: the profile has what the fault needs and none of what
    /// makes it another fault. The catalogue's expectations are written for
    /// Linux 5.6 and later (FUNC linkage, kind_flag, 128-bit INTs, sized
    /// ENUMs); older profiles get valid and mutated blobs only.
    pub fn expressible(self, profile: &Profile) -> bool {
        profile.has(Features::FUNC_LINKAGE | self.needs()) && !profile.features.intersects(self.conflicts())
    }

    /// Rules under which this fault's construct means something else.
    fn conflicts(self) -> Features {
        match self {
            // 7.1 reads a non-zero header tail as the layout section's fields.
            Fault::HeaderTailNotZero => Features::KIND_LAYOUT,
            // 7.2's info word has no reserved bits left.
            Fault::InfoReservedBits => Features::WIDE_INFO,
            _ => Features::empty(),
        }
    }

    /// A fault `profile` can express, drawn from `u`.
    pub fn choose(u: &mut Unstructured<'_>, profile: &Profile) -> Result<Fault> {
        let faults: Vec<Fault> = Fault::applicable(profile).collect();
        Ok(*u.choose(&faults)?)
    }

    /// A valid blob for `profile` carrying this fault.
    pub fn build(self, u: &mut Unstructured<'_>, cfg: &Config, profile: Profile) -> Result<Faulted> {
        let mut g = Gen::new(cfg, profile);
        let expect = match self.placement() {
            Placement::Blob => {
                g.generate(u, None)?;
                let mut blob = g.finish();
                let expect = blob::apply(self, u, &mut blob)?;
                return Ok(Faulted {
                    blob,
                    fault: self,
                    expect,
                });
            }
            Placement::End => {
                g.generate(u, None)?;
                self.construct(&mut g, u)?
            }
            Placement::Anywhere => {
                let mut expect = None;
                let mut insert = |g: &mut Gen<'_>, u: &mut Unstructured<'_>| {
                    expect = Some(self.construct(g, u)?);
                    Ok(())
                };
                g.generate(u, Some(&mut insert))?;
                expect.expect("generate runs the insertion exactly once")
            }
        };
        Ok(Faulted {
            blob: g.finish(),
            fault: self,
            expect,
        })
    }

    fn construct(self, g: &mut Gen<'_>, u: &mut Unstructured<'_>) -> Result<Expect> {
        match self.stage() {
            Stage::Meta => meta::construct(self, g, u),
            _ => resolve::construct(self, g, u),
        }
    }
}

/// An expectation at a type id.
fn at(stage: Stage, check: Check, errno: i32, id: u32) -> Expect {
    Expect {
        stage,
        check,
        errno,
        type_id: Some(id),
    }
}
