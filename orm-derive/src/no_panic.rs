//! The derive never panics: it is fed every malformed attribute form built
//! from the options it knows, values of every shape, and seeded random
//! combinations of several, on structs of several shapes, and must return
//! tokens (errors or code) for each.

use std::panic;

use proc_macro2::TokenStream;

use crate::derive_model_inner;
use crate::internals::symbol::*;

const ATTRS: [&str; 5] = [MODEL, BELONGS_TO, HAS_ONE, HAS_MANY, BELONGS_TO_MANY];

const KEYS: [&str; 25] = [
    TABLE,
    CRATE,
    TIMESTAMPS,
    NEW,
    CREATED_AT,
    UPDATED_AT,
    PRIMARY_KEY,
    SQL_TYPE,
    DEFAULT,
    READ_ONLY,
    AUTO,
    AS,
    FOREIGN_KEY,
    OTHER_KEY,
    THROUGH,
    SINGULAR,
    SYMMETRIC,
    ON_DELETE,
    ON_UPDATE,
    CONSTRAINTS,
    "unknown",
    "r#type",
    "self",
    "Self",
    "_",
];

/// Values of every shape an option might be given.
const VALUES: [&str; 32] = [
    "\"x\"",
    "\"\"",
    "\"_\"",
    "\"__\"",
    "\"1\"",
    "\"1abc\"",
    "\"a b\"",
    "\"é\"",
    "\"Guests\"",
    "\"guests\"",
    "\"self\"",
    "\"crate\"",
    "\"foo::bar\"",
    "\"::\"",
    "\"rsvps\"",
    "\"set_null\"",
    "\"now()\"",
    "\"TEXT\"",
    "\"(Integer, Text)\"",
    "5",
    "-1",
    "0",
    "true",
    "1.5",
    "'c'",
    "(a, b)",
    "[1, 2]",
    "Foo",
    "foo::bar",
    "schema::rsvps",
    "|x| x",
    "Vec<i32>",
];

const STRUCTS: [&str; 6] = [
    "pub struct Event { pub id: i32, pub title: String, pub user_id: i32 }",
    "pub struct Event { pub id: i32 }",
    "pub struct Event;",
    "pub struct Event(i32, String);",
    "pub enum Event { A, B }",
    "pub struct Event<T> { pub id: i32, pub t: T }",
];

/// `#[attr]`, `#[attr()]`, `#[attr = v]`, `#[attr(v)]`, `#[attr(k)]`,
/// `#[attr(k = v)]`, `#[attr(User, k = v)]`, `#[attr(User, k = v, k = v)]`,
/// `#[attr(k = )]`, `#[attr(k(v))]`.
fn forms(attr: &str) -> Vec<String> {
    let mut out = vec![
        format!("#[{attr}]"),
        format!("#[{attr}()]"),
        format!("#[{attr}(,)]"),
        format!("#[{attr}(User,,)]"),
    ];
    for v in VALUES {
        out.push(format!("#[{attr} = {v}]"));
        out.push(format!("#[{attr}({v})]"));
    }
    for k in KEYS {
        out.push(format!("#[{attr}({k})]"));
        out.push(format!("#[{attr}({k} = )]"));
        out.push(format!("#[{attr}(User, {k})]"));
        for v in VALUES {
            // A model's options stand alone; an association's follow its
            // target.
            out.push(if attr == MODEL {
                format!("#[{attr}({k} = {v})]")
            } else {
                format!("#[{attr}(User, {k} = {v})]")
            });
        }
        out.push(format!("#[{attr}({k}(\"x\"))]"));
        out.push(format!("#[{attr}(User, {k} = \"x\", {k} = \"y\")]"));
    }
    out
}

/// Runs the derive on `input`; `Err` with the input if it panicked.
fn derive(input: &str) -> Result<(), String> {
    let tokens: TokenStream = match input.parse() {
        Ok(tokens) => tokens,
        // Not Rust tokens at all: rustc would not call the derive.
        Err(_) => return Ok(()),
    };
    panic::catch_unwind(|| derive_model_inner(tokens))
        .map(drop)
        .map_err(|_| input.to_string())
}

fn with_field_attr(attr: &str) -> String {
    format!("pub struct Event {{ {attr} pub id: i32, pub user_id: i32, pub title: String }}")
}

/// One test, so that no other test's panic message is silenced while the
/// quiet hook is set.
#[test]
fn no_attribute_form_and_no_combination_panics() {
    panic::set_hook(Box::new(|_| {}));
    let mut panicked = every_form();
    panicked.extend(combinations());
    let _ = panic::take_hook();
    assert!(
        panicked.is_empty(),
        "the derive panicked on:\n{}",
        panicked.join("\n")
    );
}

/// Each form of each attribute alone; the inputs it panicked on.
fn every_form() -> Vec<String> {
    let mut panicked = Vec::new();
    let mut runs = 0;
    for attr in ATTRS {
        for form in forms(attr) {
            runs += 1;
            panicked.extend(derive(&format!("{form} {}", STRUCTS[0])).err());
            if attr == MODEL {
                // On a field as well.
                runs += 1;
                panicked.extend(derive(&with_field_attr(&form)).err());
            }
        }
    }
    for shape in STRUCTS {
        for form in ["", "#[has_many(User)]", "#[model(table = \"x\")]"] {
            runs += 1;
            panicked.extend(derive(&format!("{form} {shape}")).err());
        }
    }
    assert!(runs > 4_000, "{runs}");
    panicked
}

/// Seeded random combinations of several forms; the inputs it panicked on.
fn combinations() -> Vec<String> {
    // A fixed-seed generator: the same cases on every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let all: Vec<String> = ATTRS.iter().flat_map(|a| forms(a)).collect();
    let mut panicked = Vec::new();
    for _ in 0..1_000 {
        let struct_attrs: Vec<&str> = (0..1 + next(3))
            .map(|_| all[next(all.len())].as_str())
            .collect();
        let field_attr = &all[next(all.len())];
        let input =
            format!(
            "{} pub struct Event {{ {} pub id: i32, pub user_id: Option<i32>, pub title: String }}",
            struct_attrs.join(" "),
            if next(2) == 0 { field_attr.as_str() } else { "" },
        );
        panicked.extend(derive(&input).err());
    }
    panicked
}
