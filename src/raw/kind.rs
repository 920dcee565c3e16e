//! BTF kinds: an open newtype plus the one table that says, per kind, its
//! name and how many trailing bytes its record carries.

use std::fmt;

/// A BTF kind number, as stored in bits 24..28 of `btf_type.info`.
///
/// Open: values the table does not know (0, 20..31) stay representable, so
/// `Invalid kind:%u` can be reported exactly.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Kind(pub u8);

/// How a kind's record continues after the common 12-byte `struct btf_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tail {
    /// Fixed bytes right after the common header (e.g. 4 for INT's `int_data`).
    pub fixed: u32,
    /// Bytes per `vlen` element (e.g. 12 per `struct btf_member`).
    pub per_vlen: u32,
}

macro_rules! kinds {
    ($( $konst:ident = $num:literal, $name:literal, fixed $fixed:literal, per_vlen $per:literal; )*) => {
        impl Kind {
            $( pub const $konst: Kind = Kind($num); )*
            /// Highest kind number the 6.18 verifier knows (`BTF_KIND_MAX`).
            pub const MAX_KNOWN: u8 = 19;

            /// The kernel's name of this kind (`btf_kind_str[]`), `UNKN` for 0,
            /// `None` for numbers the table does not know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    0 => Some("UNKN"),
                    $( $num => Some($name), )*
                    _ => None,
                }
            }

            /// Trailing-data shape of a known kind.
            pub fn tail(self) -> Option<Tail> {
                match self.0 {
                    $( $num => Some(Tail { fixed: $fixed, per_vlen: $per }), )*
                    _ => None,
                }
            }

            /// Every known kind, in number order.
            pub const ALL: &'static [Kind] = &[$( Kind::$konst, )*];

            /// `(fixed, per_vlen)` tail sizes indexed by kind number; zero for
            /// unknown kinds. The branch-free form of [`Kind::tail`].
            pub const TAIL_TABLE: [(u32, u32); 32] = {
                let mut t = [(0u32, 0u32); 32];
                $( t[$num] = ($fixed, $per); )*
                t
            };
        }
    };
}

kinds! {
    INT = 1, "INT", fixed 4, per_vlen 0;
    PTR = 2, "PTR", fixed 0, per_vlen 0;
    ARRAY = 3, "ARRAY", fixed 12, per_vlen 0;
    STRUCT = 4, "STRUCT", fixed 0, per_vlen 12;
    UNION = 5, "UNION", fixed 0, per_vlen 12;
    ENUM = 6, "ENUM", fixed 0, per_vlen 8;
    FWD = 7, "FWD", fixed 0, per_vlen 0;
    TYPEDEF = 8, "TYPEDEF", fixed 0, per_vlen 0;
    VOLATILE = 9, "VOLATILE", fixed 0, per_vlen 0;
    CONST = 10, "CONST", fixed 0, per_vlen 0;
    RESTRICT = 11, "RESTRICT", fixed 0, per_vlen 0;
    FUNC = 12, "FUNC", fixed 0, per_vlen 0;
    FUNC_PROTO = 13, "FUNC_PROTO", fixed 0, per_vlen 8;
    VAR = 14, "VAR", fixed 4, per_vlen 0;
    DATASEC = 15, "DATASEC", fixed 0, per_vlen 12;
    FLOAT = 16, "FLOAT", fixed 0, per_vlen 0;
    DECL_TAG = 17, "DECL_TAG", fixed 4, per_vlen 0;
    TYPE_TAG = 18, "TYPE_TAG", fixed 0, per_vlen 0;
    ENUM64 = 19, "ENUM64", fixed 0, per_vlen 12;
}

impl Kind {
    /// The `func-addr` proposal's kind (P4): a kernel function's address.
    /// Not a kernel kind; known only where a [`Shapes`] table adds it. 20-22
    /// are taken by the 2025 location-kinds RFC, so the prototype uses 23.
    pub const FUNC_ADDR: Kind = Kind(23);
    /// Tail of a FUNC_ADDR record: `u32 addr_lo, u32 addr_hi, u32 flags`.
    pub const FUNC_ADDR_TAIL: Tail = Tail {
        fixed: 12,
        per_vlen: 0,
    };

    /// Name for display; unknown numbers print as `UNKNOWN(n)`-free `UNKN`,
    /// which is what the kernel's table would give for kind 0.
    pub fn display_name(self) -> &'static str {
        self.name().unwrap_or("UNKN")
    }

    /// STRUCT or UNION (`btf_type_is_struct`).
    pub fn is_composite(self) -> bool {
        self == Kind::STRUCT || self == Kind::UNION
    }

    /// TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG (`btf_type_is_modifier`).
    pub fn is_modifier(self) -> bool {
        matches!(
            self,
            Kind::TYPEDEF | Kind::VOLATILE | Kind::CONST | Kind::RESTRICT | Kind::TYPE_TAG
        )
    }

    /// What a PTR, modifier or VAR may resolve to (`btf_resolve_valid`):
    /// not another modifier, a VAR or a DATASEC.
    pub fn is_final_target(self) -> bool {
        !matches!(
            self,
            Kind::TYPEDEF
                | Kind::VOLATILE
                | Kind::CONST
                | Kind::RESTRICT
                | Kind::TYPE_TAG
                | Kind::VAR
                | Kind::DATASEC
        )
    }

    /// ENUM or ENUM64.
    pub fn is_any_enum(self) -> bool {
        self == Kind::ENUM || self == Kind::ENUM64
    }

    /// Kinds whose `size` field is authoritative (`btf_type_has_size`).
    pub fn has_size(self) -> bool {
        matches!(
            self,
            Kind::INT | Kind::STRUCT | Kind::UNION | Kind::ENUM | Kind::DATASEC | Kind::FLOAT | Kind::ENUM64
        )
    }

    /// Kinds that may never be the target of another type
    /// (`btf_type_is_resolve_source_only`).
    /// Kinds past the kernel's table (FUNC_ADDR, kinds skipped by their
    /// layout entry) are never valid targets either.
    pub fn is_source_only(self) -> bool {
        matches!(self, Kind::VAR | Kind::DECL_TAG | Kind::DATASEC) || self.0 > Kind::MAX_KNOWN
    }

    /// Kinds the resolve pass visits (`btf_type_needs_resolve`).
    pub fn needs_resolve(self) -> bool {
        self.is_modifier()
            || matches!(
                self,
                Kind::PTR
                    | Kind::STRUCT
                    | Kind::UNION
                    | Kind::ARRAY
                    | Kind::VAR
                    | Kind::FUNC
                    | Kind::DECL_TAG
                    | Kind::DATASEC
                    | Kind::FUNC_ADDR
            )
    }

    /// Kinds a DECL_TAG may point at (`btf_type_is_decl_tag_target`).
    pub fn is_decl_tag_target(self) -> bool {
        matches!(
            self,
            Kind::FUNC | Kind::STRUCT | Kind::UNION | Kind::VAR | Kind::TYPEDEF
        )
    }
}

/// How a reader sizes and names records: which kinds it knows and each
/// one's tail. The kernel's table, cut to a profile's kinds, plus whatever
/// a rule set adds: the FUNC_ADDR kind, or kinds a layout section describes
/// (`skip-unknown-kinds`), which are sized but otherwise left unchecked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shapes {
    tails: [(u32, u32); 32],
    /// Bit `k`: kind `k` is known.
    known: u32,
    /// Bit `k`: kind `k` is known only through a layout entry.
    described: u32,
    /// `info` has Linux 7.2's wider vlen and kind fields.
    wide_info: bool,
}

impl Shapes {
    /// Every kind Linux 6.18 knows (1..=19).
    pub const KERNEL: Shapes = Shapes::kernel_up_to(Kind::MAX_KNOWN);

    /// The kernel's kinds 1..=`max_kind`.
    pub const fn kernel_up_to(max_kind: u8) -> Shapes {
        let mut known = 0u32;
        let mut k = 1;
        while k <= max_kind as usize && k < 32 {
            known |= 1 << k;
            k += 1;
        }
        let mut tails = Kind::TAIL_TABLE;
        let mut k = max_kind as usize + 1;
        while k < 32 {
            tails[k] = (0, 0);
            k += 1;
        }
        Shapes {
            tails,
            known,
            described: 0,
            wide_info: false,
        }
    }

    /// This table plus `kind` with `tail`, as a first-class kind.
    pub const fn with(mut self, kind: Kind, tail: Tail) -> Shapes {
        let k = kind.0 as usize & 31;
        self.tails[k] = (tail.fixed, tail.per_vlen);
        self.known |= 1 << k;
        self
    }

    /// This table plus `kind`, sized from a layout entry but not checked.
    pub const fn with_described(mut self, kind: Kind, tail: Tail) -> Shapes {
        self = self.with(kind, tail);
        self.described |= 1 << (kind.0 as usize & 31);
        self
    }

    /// Records read with Linux 7.2's `info` layout.
    pub const fn with_wide_info(mut self) -> Shapes {
        self.wide_info = true;
        self
    }

    #[inline]
    pub fn wide_info(&self) -> bool {
        self.wide_info
    }

    #[inline]
    pub fn knows(&self, kind: Kind) -> bool {
        kind.0 < 32 && self.known & (1 << kind.0) != 0
    }

    /// Known with its own rules (not only sized from a layout entry).
    #[inline]
    pub fn is_checked(&self, kind: Kind) -> bool {
        self.knows(kind) && !self.is_described(kind)
    }

    /// Known only through the layout section.
    #[inline]
    pub fn is_described(&self, kind: Kind) -> bool {
        kind.0 < 32 && self.described & (1 << kind.0) != 0
    }

    #[inline]
    pub fn tail(&self, kind: Kind) -> Option<Tail> {
        self.knows(kind).then(|| {
            let (fixed, per_vlen) = self.tails[kind.0 as usize];
            Tail { fixed, per_vlen }
        })
    }

    /// The tail length a record of `kind` with `vlen` elements claims.
    #[inline]
    pub fn tail_len(&self, kind: Kind, vlen: u32) -> Option<u32> {
        // At most 12 * (2^24 - 1) + 12: no overflow.
        self.tail(kind).map(|t| t.fixed + t.per_vlen * vlen)
    }

    /// Display name: the kernel's, `FUNC_ADDR`, or `UNKN`.
    pub fn name(&self, kind: Kind) -> &'static str {
        if kind == Kind::FUNC_ADDR && self.is_checked(kind) {
            return "FUNC_ADDR";
        }
        kind.display_name()
    }
}

impl fmt::Debug for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "Kind({})", self.0),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
