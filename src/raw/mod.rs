//! Zero-copy views of a BTF blob: header, type records and their tails, the
//! string section. Facts only: every judgement lives in [`crate::verify`](mod@crate::verify).

pub mod header;
pub mod kind;
pub mod strings;
pub mod types;

pub use header::Header;
pub use kind::{Kind, Shapes, Tail};
pub use strings::Strings;
pub use types::{Array, CommonType, Enumerator, FuncAddr, Member, Param, RecordCursor, SecInfo, TypeRecord};
