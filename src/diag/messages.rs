//! Kernel log wording, in one place, keyed by [`Check`]. Hold this file next
//! to kernel/bpf/btf.c (v6.18) to compare: every string here is an
//! interface and must match byte for byte.

use crate::verify::error::Check;
use std::borrow::Cow;

/// The text the kernel logs for a failed check (without the site's prefix,
/// details or newline). `None` for checks that log nothing.
pub fn message(check: &Check) -> Option<Cow<'static, str>> {
    use Check::*;
    let s: &'static str = match *check {
        TooBig => return None,
        HdrLenNotFound => "hdr_len not found",
        HeaderNotFound => "btf_header not found",
        HeaderTailNotZero => "Unsupported btf_header",
        BadMagic => "Invalid magic",
        BadVersion => "Unsupported version",
        BadFlags => "Unsupported flags",
        NoData => "No data",
        SectionOffsetBeyondData => "Invalid section offset",
        SectionGap | TrailingData => "Unsupported section found",
        SectionOverlap => "Section overlap found",
        SectionTooLong => "Total section length too long",
        StringsNotAtEnd => "String section is not at the end",
        StringsInvalid => "Invalid string section",
        UnalignedTypeOff => "Unaligned type_off",
        NoTypes => "No type found",
        RecordTruncated { left } => return Some(format!("meta_left:{left} meta_needed:12").into()),
        InfoReservedBits { info } => return Some(format!("Invalid btf_info:{info:x}").into()),
        UnknownKind { kind } => return Some(format!("Invalid kind:{kind}").into()),
        NameOffsetInvalid { off } => return Some(format!("Invalid name_offset:{off}").into()),
        TailTruncated { left, needed } => {
            return Some(format!("meta_left:{left} meta_needed:{needed}").into())
        }
        IntDataReservedBits { data } => return Some(format!("Invalid int_data:{data:x}").into()),
        VlenNotZero => "vlen != 0",
        KflagNotAllowed => "Invalid btf_info kind_flag",
        TypeIdInvalid | MemberTypeIdInvalid | SecInfoTypeIdInvalid => "Invalid type_id",
        NameInvalid | MemberNameInvalid | EnumeratorNameInvalid => "Invalid name",
        IntBitsOver128 => "nr_bits exceeds 128",
        IntBitsOverSize => "nr_bits exceeds type_size",
        IntEncodingUnsupported => "Unsupported encoding",
        FwdTypeNotZero => "type != 0",
        ArraySizeNotZero => "size != 0",
        ArrayElemInvalid => "Invalid elem",
        ArrayIndexInvalid => "Invalid index",
        ArrayOfIrregularInt => "Invalid array of int",
        ArraySizeOverflow => "Array size overflows U32_MAX",
        EnumSizeUnexpected => "Unexpected size",
        FuncLinkageInvalid => "Invalid func linkage",
        VarLinkageUnsupported => "Linkage not supported",
        DatasecSizeZero => "size == 0",
        DatasecSumExceedsSize => "Invalid btf_info size",
        FloatSizeInvalid => "Invalid type_size",
        TagValueEmpty => "Invalid value",
        ComponentIdxInvalid => "Invalid component_idx",
        ReturnTypeInvalid => "Invalid return type",
        ArgInvalid { arg } => return Some(format!("Invalid arg#{arg}").into()),
        ResolveTooDeep => "Exceeded max resolving depth:32",
        ResolveLoop => "Loop detected",
        ResolveStateInvalid => "Invalid resolve state",
        MemberNameOffsetInvalid { off } => return Some(format!("Invalid member name_offset:{off}").into()),
        MemberBitsOffsetInvalid => "Invalid member bits_offset",
        MemberBitsOffsetBeyondSize => "Member bits_offset exceeds its struct size",
        MemberTypeInvalid => "Invalid member",
        MemberBitfieldSizeInvalid => "Invalid member bitfield_size",
        MemberBitsOffsetOverflow => "bits_offset exceeds U32_MAX",
        MemberCopyBitsOver128 => "nr_copy_bits exceeds 128",
        MemberExceedsSize => "Member exceeds struct_size",
        MemberBaseTypeInvalid => "Invalid member base type",
        MemberOffsetInvalid => "Invalid member offset",
        MemberNotByteAligned => "Member is not byte aligned",
        MemberMisaligned => "Member is not properly aligned",
        EnumeratorNameOffsetInvalid { off } => return Some(format!("\tInvalid name_offset:{off}").into()),
        SecInfoOffsetInvalid => "Invalid offset",
        SecInfoSizeInvalid => "Invalid size",
        SecInfoEndBeyondSize => "Invalid offset+size",
        SecInfoNotVar => "Not a VAR kind member",
        SecInfoTypeInvalid => "Invalid type",
        TypeTagAfterModifier => "Type tags don't precede modifiers",
        ModifierChainTooLong => "Max chain length or cycle detected",
        SpecialField(_) => return None,
        // Older kernels.
        EnumSizeNot4 => "Expected size:4",
        DatasecVlenZero => "vlen == 0",
        IntBitsOver64 => "nr_bits exceeds 64",
        // Proposal text, in the kernel's style (see is_proposal).
        SecInfoFuncSizeNotZero => "FUNC entry size != 0",
        SecInfoExternOffset => "Extern entry offset != 0",
        DatasecExternMixed => "Mixed extern and non-extern entries",
        DeclTagValueNotPrintable => "Value is not printable",
        // Linux 7.1 wording (btf_parse_layout_sec), under kind-layout.
        LayoutOffUnaligned => "Unaligned layout_off",
        LayoutTooSmall => "Layout section is too small",
        LayoutLenNotMultiple => "layout_len is not multiple of 4",
        LayoutTooBig => "Layout section is too big",
        // Proposal text (skip-unknown-kinds, func-addr).
        LayoutKindMismatch { kind } => return Some(format!("Invalid layout for kind:{kind}").into()),
        FuncAddrFlagsReserved { flags } => return Some(format!("Invalid func_addr flags:{flags:x}").into()),
        FuncAddrZero => "Invalid func_addr address",
        FuncAddrRelocOverflow => "func_addr address overflows after relocation",
        FuncAddrDuplicate { first } => {
            return Some(format!("func_addr address already used by type_id={first}").into())
        }
        FuncAddrNotInKallsyms => "func_addr name not in kallsyms",
        FuncAddrMismatch { addr } => {
            return Some(format!("func_addr address 0x{addr:x} does not match kallsyms").into())
        }
    };
    Some(Cow::Borrowed(s))
}

/// [`message`] as a given kernel words it: before 5.0 one message had a
/// typo the kernel log kept.
pub fn message_in(check: &Check, profile: &crate::profile::Profile) -> Option<Cow<'static, str>> {
    match check {
        Check::MemberBitsOffsetBeyondSize if !profile.has(crate::profile::Features::KFLAG) => {
            Some(Cow::Borrowed("Memmber bits_offset exceeds its struct size"))
        }
        _ => message(check),
    }
}

/// Whether a check exists only under a proposed feature: its message is
/// btfcheck's wording for a rule no kernel has, and says so in `--format
/// human`.
pub fn is_proposal(check: &Check) -> bool {
    use Check::*;
    matches!(
        check,
        SecInfoFuncSizeNotZero
            | SecInfoExternOffset
            | DatasecExternMixed
            | DeclTagValueNotPrintable
            | LayoutOffUnaligned
            | LayoutTooSmall
            | LayoutLenNotMultiple
            | LayoutTooBig
            | LayoutKindMismatch { .. }
            | FuncAddrFlagsReserved { .. }
            | FuncAddrZero
            | FuncAddrRelocOverflow
            | FuncAddrDuplicate { .. }
            | FuncAddrNotInKallsyms
            | FuncAddrMismatch { .. }
    )
}

/// Where a proposal message comes from, for the human diagnostic.
pub fn proposal_note(check: &Check) -> &'static str {
    use Check::*;
    match check {
        LayoutOffUnaligned | LayoutTooSmall | LayoutLenNotMultiple | LayoutTooBig => {
            "Linux 7.1 text (kind-layout); Linux 6.18 has no such rule"
        }
        _ => "proposal text: no kernel has this rule; see `btfcheck features`",
    }
}

/// A stable, kernel-independent name for the rule that fired (for JSON and
/// CI gates): `<area>.<check>`.
pub fn rule(check: &Check) -> String {
    use crate::verify::error::SpecialFieldError as S;
    use Check::*;
    let name: &str = match *check {
        TooBig => "size.too_big",
        HdrLenNotFound => "header.hdr_len_missing",
        HeaderNotFound => "header.truncated",
        HeaderTailNotZero => "header.tail_not_zero",
        BadMagic => "header.magic",
        BadVersion => "header.version",
        BadFlags => "header.flags",
        NoData => "header.no_data",
        SectionOffsetBeyondData => "sections.offset_beyond_data",
        SectionGap => "sections.gap",
        SectionOverlap => "sections.overlap",
        SectionTooLong => "sections.too_long",
        TrailingData => "sections.trailing_data",
        StringsNotAtEnd => "strings.not_at_end",
        StringsInvalid => "strings.invalid",
        UnalignedTypeOff => "types.unaligned_type_off",
        NoTypes => "types.none",
        RecordTruncated { .. } => "record.truncated",
        InfoReservedBits { .. } => "record.info_reserved_bits",
        UnknownKind { .. } => "record.unknown_kind",
        NameOffsetInvalid { .. } => "record.name_offset",
        TailTruncated { .. } => "record.tail_truncated",
        IntDataReservedBits { .. } => "int.data_reserved_bits",
        VlenNotZero => "type.vlen_not_zero",
        KflagNotAllowed => "type.kflag_not_allowed",
        TypeIdInvalid => "type.type_id",
        NameInvalid => "type.name",
        IntBitsOver128 => "int.bits_over_128",
        IntBitsOverSize => "int.bits_over_size",
        IntEncodingUnsupported => "int.encoding",
        FwdTypeNotZero => "fwd.type_not_zero",
        ArraySizeNotZero => "array.size_not_zero",
        ArrayElemInvalid => "array.elem",
        ArrayIndexInvalid => "array.index",
        ArrayOfIrregularInt => "array.irregular_int_elem",
        ArraySizeOverflow => "array.size_overflow",
        EnumSizeUnexpected => "enum.size",
        FuncLinkageInvalid => "func.linkage",
        VarLinkageUnsupported => "var.linkage",
        DatasecSizeZero => "datasec.size_zero",
        DatasecSumExceedsSize => "datasec.sum_exceeds_size",
        FloatSizeInvalid => "float.size",
        TagValueEmpty => "decl_tag.value_empty",
        ComponentIdxInvalid => "decl_tag.component_idx",
        ReturnTypeInvalid => "func_proto.return_type",
        ArgInvalid { .. } => "func_proto.arg",
        ResolveTooDeep => "resolve.too_deep",
        ResolveLoop => "resolve.loop",
        ResolveStateInvalid => "resolve.state",
        MemberNameOffsetInvalid { .. } => "member.name_offset",
        MemberNameInvalid => "member.name",
        MemberTypeIdInvalid => "member.type_id",
        MemberBitsOffsetInvalid => "member.bits_offset_order",
        MemberBitsOffsetBeyondSize => "member.bits_offset_beyond_size",
        MemberTypeInvalid => "member.type",
        MemberBitfieldSizeInvalid => "member.bitfield_size",
        MemberBitsOffsetOverflow => "member.bits_offset_overflow",
        MemberCopyBitsOver128 => "member.copy_bits_over_128",
        MemberExceedsSize => "member.exceeds_size",
        MemberBaseTypeInvalid => "member.bitfield_base_type",
        MemberOffsetInvalid => "member.offset_not_byte_aligned",
        MemberNotByteAligned => "member.not_byte_aligned",
        MemberMisaligned => "member.misaligned",
        EnumeratorNameOffsetInvalid { .. } => "enumerator.name_offset",
        EnumeratorNameInvalid => "enumerator.name",
        SecInfoTypeIdInvalid => "datasec.entry_type_id",
        SecInfoOffsetInvalid => "datasec.entry_offset",
        SecInfoSizeInvalid => "datasec.entry_size",
        SecInfoEndBeyondSize => "datasec.entry_end",
        SecInfoNotVar => "datasec.entry_not_var",
        SecInfoTypeInvalid => "datasec.entry_type",
        SecInfoFuncSizeNotZero => "proposal.extern_func.entry_size",
        SecInfoExternOffset => "proposal.extern_var.entry_offset",
        DatasecExternMixed => "proposal.datasec_extern_uniform",
        DeclTagValueNotPrintable => "proposal.decl_tag_value",
        LayoutOffUnaligned => "layout.offset_unaligned",
        LayoutTooSmall => "layout.too_small",
        LayoutLenNotMultiple => "layout.len_not_multiple",
        LayoutTooBig => "layout.too_big",
        LayoutKindMismatch { .. } => "proposal.skip_unknown_kinds.layout_mismatch",
        FuncAddrFlagsReserved { .. } => "proposal.func_addr.flags",
        FuncAddrZero => "proposal.func_addr.zero",
        FuncAddrRelocOverflow => "proposal.func_addr.reloc_overflow",
        FuncAddrDuplicate { .. } => "proposal.func_addr.duplicate",
        FuncAddrNotInKallsyms => "proposal.func_addr.kallsyms_name",
        FuncAddrMismatch { .. } => "proposal.func_addr.kallsyms_addr",
        EnumSizeNot4 => "enum.size_not_4",
        DatasecVlenZero => "datasec.vlen_zero",
        IntBitsOver64 => "int.bits_over_64",
        TypeTagAfterModifier => "type_tag.after_modifier",
        ModifierChainTooLong => "type_tag.chain_too_long",
        SpecialField(e) => match e {
            S::NotByteAligned => "special.not_byte_aligned",
            S::DuplicateUnique => "special.duplicate",
            S::TooManyFields => "special.too_many_fields",
            S::Overlap => "special.overlap",
            S::KptrChainedTag => "special.kptr_chained_tag",
            S::KptrNotStruct => "special.kptr_not_struct",
            S::KptrTagUnknown => "special.kptr_tag_unknown",
            S::GraphRootNoContains => "special.graph_root_no_contains",
            S::GraphRootBadContains => "special.graph_root_bad_contains",
            S::GraphValueMissing => "special.graph_value_missing",
            S::GraphNodeMissing => "special.graph_node_missing",
            S::GraphNodeMismatch => "special.graph_node_mismatch",
            S::GraphRootNoLock => "special.graph_root_no_lock",
            S::LockConflict => "special.lock_conflict",
            S::NodesNeedRefcount => "special.nodes_need_refcount",
            S::OwnershipCycle => "special.ownership_cycle",
            S::NoDestructor => "special.no_destructor",
            S::NoFields => "special.no_fields",
            S::ValueNotParsed => "special.value_not_parsed",
            S::TooDeep => "special.too_deep",
            S::NotRepeatable => "special.not_repeatable",
            S::Other => "special.other",
        },
    };
    name.to_string()
}

/// A one-line explanation of a special-field failure, which the kernel
/// never logs (btfcheck's own words, for the human diagnostic).
pub fn special_field_explanation(e: crate::verify::error::SpecialFieldError) -> &'static str {
    use crate::verify::error::SpecialFieldError as S;
    match e {
        S::NotByteAligned => "a special field is not at a byte offset",
        S::DuplicateUnique => "a second bpf_spin_lock or bpf_res_spin_lock at the same nesting level",
        S::TooManyFields => "more special fields than the kernel's maximum",
        S::Overlap => "two special fields overlap",
        S::KptrChainedTag => "a kptr type tag is followed by another type tag",
        S::KptrNotStruct => "a kptr does not point to a struct",
        S::KptrTagUnknown => "a pointer carries an unknown type tag where a kptr tag was expected",
        S::GraphRootNoContains => "bpf_list_head/bpf_rb_root without exactly one \"contains:\" decl tag",
        S::GraphRootBadContains => "malformed \"contains:<struct>:<field>\" decl tag",
        S::GraphValueMissing => "the struct named by \"contains:\" does not exist",
        S::GraphNodeMissing => "the field named by \"contains:\" does not exist",
        S::GraphNodeMismatch => "the field named by \"contains:\" is not a matching node",
        S::GraphRootNoLock => "bpf_list_head/bpf_rb_root without a bpf_spin_lock in the same struct",
        S::LockConflict => "both bpf_spin_lock and bpf_res_spin_lock",
        S::NodesNeedRefcount => "bpf_list_node and bpf_rb_node together need bpf_refcount",
        S::OwnershipCycle => "list/rbtree ownership forms a cycle",
        S::NoDestructor => "the referenced kptr's kernel type has no registered destructor",
        S::NoFields => {
            "the struct has a special member but no usable special field (wrong size or misaligned), \
             which the kernel treats as an internal error"
        }
        S::ValueNotParsed => "the value struct named by \"contains:\" has no special fields of its own",
        S::TooDeep => "arrays or nested structs deeper than 32 levels",
        S::NotRepeatable => {
            "an array of more than one field that may appear only once (lock, node, refcount)"
        }
        S::Other => "a special field lies past the end of its struct",
    }
}
