//! Parse → describe → check. Nothing here emits code.

pub mod ast;
pub mod attr;
pub mod check;
pub mod ctxt;
pub mod inflect;
pub mod symbol;

use proc_macro2::Span;
use syn::Ident;

/// Rust's keywords (strict and reserved, every edition) that a raw
/// identifier can spell: a column named `type` becomes `r#type`.
const RAW_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Keywords no identifier can spell, not even a raw one.
pub const NOT_RAW: &[&str] = &["crate", "self", "super", "Self"];

/// The identifier `name`, raw (`r#type`) when it is a keyword.
pub fn ident(name: &str, span: Span) -> Ident {
    if RAW_KEYWORDS.contains(&name) {
        Ident::new_raw(name, span)
    } else {
        Ident::new(name, span)
    }
}

/// The module holding a model's association types (`event_associations`
/// for `Event`).
pub fn markers_module(model: &impl std::fmt::Display) -> Ident {
    quote::format_ident!("{}_associations", inflect::snake(&model.to_string()))
}

/// The most columns a diesel table may have, as orm-core's features
/// `64-column-tables` and `128-column-tables` set it.
pub const MAX_COLUMNS: usize = if cfg!(feature = "128-column-tables") {
    128
} else if cfg!(feature = "64-column-tables") {
    64
} else {
    32
};
