//! Parse → describe → check. Nothing here emits code.

pub mod ast;
pub mod attr;
pub mod check;
pub mod ctxt;
pub mod inflect;
pub mod symbol;
