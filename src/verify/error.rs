//! What a failed check reports: which rule fired, where, and the errno the
//! kernel returns. Checks never format text; wording lives in
//! [`crate::diag::messages`].

use serde::Serialize;

/// Kernel errno values returned by `BPF_BTF_LOAD`.
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const ENXIO: i32 = 6;
    pub const E2BIG: i32 = 7;
    pub const ENOMEM: i32 = 12;
    pub const EFAULT: i32 = 14;
    pub const EEXIST: i32 = 17;
    pub const EINVAL: i32 = 22;
    pub const ENOSPC: i32 = 28;
    pub const ELOOP: i32 = 40;
    /// Kernel-internal `ENOTSUPP`, which userspace really receives.
    pub const ENOTSUPP: i32 = 524;

    /// Symbolic name of an errno value.
    pub fn name(e: i32) -> &'static str {
        match e {
            0 => "OK",
            EPERM => "EPERM",
            ENOENT => "ENOENT",
            ENXIO => "ENXIO",
            E2BIG => "E2BIG",
            ENOMEM => "ENOMEM",
            EFAULT => "EFAULT",
            EEXIST => "EEXIST",
            EINVAL => "EINVAL",
            ENOSPC => "ENOSPC",
            ELOOP => "ELOOP",
            ENOTSUPP => "ENOTSUPP",
            9 => "EBADF",
            13 => "EACCES",
            38 => "ENOSYS",
            _ => "E?",
        }
    }
}

/// The verifier pass that rejected the blob, in kernel order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// `btf_parse()` entry: the 16 MiB size limit.
    Size,
    /// `btf_parse_hdr()` and `btf_check_sec_info()`.
    Header,
    /// `btf_parse_str_sec()`.
    Strings,
    /// `btf_parse_type_sec()` preconditions and `btf_check_all_metas()`.
    Meta,
    /// `btf_check_all_types()`.
    Resolve,
    /// `btf_check_type_tags()`.
    TypeTags,
    /// `btf_parse_struct_metas()` and the field checks after it.
    StructMetas,
    /// func-addr: whole-blob FUNC_ADDR rules (relocation, unique addresses,
    /// the kallsyms cross-check), after the kernel's passes.
    FuncAddrs,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Size => "size",
            Stage::Header => "header",
            Stage::Strings => "strings",
            Stage::Meta => "meta",
            Stage::Resolve => "resolve",
            Stage::TypeTags => "type_tags",
            Stage::FuncAddrs => "func_addrs",
            Stage::StructMetas => "struct_metas",
        }
    }
}

/// Which check fired. Variants with data carry what the kernel prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    // size, header and sections (plain messages)
    TooBig,
    HdrLenNotFound,
    HeaderNotFound,
    HeaderTailNotZero,
    BadMagic,
    BadVersion,
    BadFlags,
    NoData,
    SectionOffsetBeyondData,
    SectionGap,
    SectionOverlap,
    SectionTooLong,
    TrailingData,
    // strings
    StringsNotAtEnd,
    StringsInvalid,
    // type section preconditions
    UnalignedTypeOff,
    NoTypes,
    // generic record checks (plain, "[id] ..." prefix)
    RecordTruncated {
        left: u32,
    },
    InfoReservedBits {
        info: u32,
    },
    UnknownKind {
        kind: u8,
    },
    NameOffsetInvalid {
        off: u32,
    },
    // per-kind meta checks (type line)
    TailTruncated {
        left: u32,
        needed: u32,
    },
    IntDataReservedBits {
        data: u32,
    },
    VlenNotZero,
    KflagNotAllowed,
    TypeIdInvalid,
    NameInvalid,
    IntBitsOver128,
    IntBitsOverSize,
    IntEncodingUnsupported,
    FwdTypeNotZero,
    ArraySizeNotZero,
    ArrayElemInvalid,
    ArrayIndexInvalid,
    ArrayOfIrregularInt,
    ArraySizeOverflow,
    EnumSizeUnexpected,
    FuncLinkageInvalid,
    VarLinkageUnsupported,
    DatasecSizeZero,
    DatasecSumExceedsSize,
    FloatSizeInvalid,
    TagValueEmpty,
    ComponentIdxInvalid,
    ReturnTypeInvalid,
    ArgInvalid {
        arg: u32,
    },
    ResolveTooDeep,
    ResolveLoop,
    ResolveStateInvalid,
    // struct/union member lines
    MemberNameOffsetInvalid {
        off: u32,
    },
    MemberNameInvalid,
    MemberTypeIdInvalid,
    MemberBitsOffsetInvalid,
    MemberBitsOffsetBeyondSize,
    MemberTypeInvalid,
    MemberBitfieldSizeInvalid,
    MemberBitsOffsetOverflow,
    MemberCopyBitsOver128,
    MemberExceedsSize,
    MemberBaseTypeInvalid,
    MemberOffsetInvalid,
    MemberNotByteAligned,
    MemberMisaligned,
    // enumerators
    EnumeratorNameOffsetInvalid {
        off: u32,
    },
    EnumeratorNameInvalid,
    // datasec entries
    SecInfoTypeIdInvalid,
    SecInfoOffsetInvalid,
    SecInfoSizeInvalid,
    SecInfoEndBeyondSize,
    SecInfoNotVar,
    SecInfoTypeInvalid,
    // older kernels' wording and rules
    /// Before 5.4: an ENUM's size must be 4.
    EnumSizeNot4,
    /// Before 5.12: a DATASEC needs entries.
    DatasecVlenZero,
    /// Before 5.1: INTs have at most 64 bits.
    IntBitsOver64,
    // proposed rules (never raised under a kernel profile)
    /// extern-func: a FUNC entry of a DATASEC with a size.
    SecInfoFuncSizeNotZero,
    /// extern-var: an extern VAR entry not at offset 0.
    SecInfoExternOffset,
    /// datasec-extern-uniform: externs and allocated variables in one DATASEC.
    DatasecExternMixed,
    /// decl-tag-value: a DECL_TAG value that is not printable ASCII (or too long).
    DeclTagValueNotPrintable,
    /// kind-layout (Linux 7.1): `layout_off` not a multiple of 4.
    LayoutOffUnaligned,
    /// kind-layout: `layout_len` below one entry.
    LayoutTooSmall,
    /// kind-layout: `layout_len` not a whole number of entries.
    LayoutLenNotMultiple,
    /// kind-layout: the layout section runs past the blob.
    LayoutTooBig,
    /// skip-unknown-kinds: a layout entry sizes a known kind differently.
    LayoutKindMismatch {
        kind: u8,
    },
    /// func-addr: flag bits beyond kfunc/traceable.
    FuncAddrFlagsReserved {
        flags: u32,
    },
    /// func-addr: address 0.
    FuncAddrZero,
    /// func-addr: `--kaslr-offset` pushes the address past 2^64.
    FuncAddrRelocOverflow,
    /// func-addr: the address of an earlier FUNC_ADDR.
    FuncAddrDuplicate {
        first: u32,
    },
    /// func-addr with `--kallsyms`: no text symbol of this name.
    FuncAddrNotInKallsyms,
    /// func-addr with `--kallsyms`: text symbols of this name exist, none at
    /// this address.
    FuncAddrMismatch {
        addr: u64,
    },
    // type tags
    TypeTagAfterModifier,
    ModifierChainTooLong,
    // struct metas (no log text)
    SpecialField(SpecialFieldError),
}

/// Failures of the special-fields pass; the kernel logs nothing for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecialFieldError {
    NotByteAligned,
    DuplicateUnique,
    TooManyFields,
    Overlap,
    KptrChainedTag,
    KptrNotStruct,
    KptrTagUnknown,
    GraphRootNoContains,
    GraphRootBadContains,
    GraphValueMissing,
    GraphNodeMissing,
    GraphNodeMismatch,
    GraphRootNoLock,
    LockConflict,
    NodesNeedRefcount,
    OwnershipCycle,
    NoDestructor,
    /// A struct marked for parsing yielded no usable field (EFAULT).
    NoFields,
    /// A graph root's value struct was never parsed (EFAULT).
    ValueNotParsed,
    /// Array or nesting deeper than the kernel walks (E2BIG).
    TooDeep,
    /// An array of more than one non-repeatable field (EINVAL).
    NotRepeatable,
    /// A field past the end of its struct (EFAULT; believed unreachable).
    Other,
}

/// Where the message appears in the kernel's log, which decides what is
/// printed before it (see `diag::kernel_log`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    /// The message alone, no newline (header, sections, type tags); `id` is
    /// set for the `[id] ...` record messages.
    Plain { id: Option<u32> },
    /// `[id] KIND name msg\n` without details.
    Basic { id: u32 },
    /// `[id] KIND name details msg\n`.
    Type { id: u32 },
    /// A member line; `shown_type` is the type id the kernel prints (a
    /// modifier member is re-checked as its resolved type).
    Member { id: u32, index: u32, shown_type: u32 },
    /// During an ENUM/ENUM64 dump, after `index` value lines.
    Enumerator { id: u32, index: u32 },
    /// A DATASEC entry line.
    SecInfo { id: u32, index: u32 },
    /// No log text at all; `id` is the type that failed, when known.
    Silent { id: Option<u32> },
}

/// A rejection: the first error the kernel would report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    pub stage: Stage,
    pub check: Check,
    pub site: Site,
    pub errno: i32,
    /// Absolute byte offset in the blob of the offending record or field.
    pub offset: Option<u64>,
}

impl Failure {
    /// Type id the failure is reported at, if any.
    pub fn type_id(&self) -> Option<u32> {
        match self.site {
            Site::Basic { id }
            | Site::Type { id }
            | Site::Member { id, .. }
            | Site::Enumerator { id, .. }
            | Site::SecInfo { id, .. } => Some(id),
            Site::Plain { id } | Site::Silent { id } => id,
        }
    }
}
