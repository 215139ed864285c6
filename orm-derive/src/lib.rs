//! `#[derive(Model)]` for orm-core. Use it through `orm_core::Model`; the
//! attribute reference is in orm-core's README.
//!
//! The example is not compiled here (a proc-macro crate's tests run on the
//! host, and depending on orm-core from them would build diesel twice with
//! different features); orm-core's crate docs run the same kind of example.
//!
//! ```ignore
//! use orm_core::prelude::*;
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! #[has_many(Task)]
//! pub struct Project { pub id: i32, pub name: String }
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! #[belongs_to(Project)]
//! pub struct Task { pub id: i32, pub project_id: Option<i32>, pub title: String }
//!
//! # fn main() -> QueryResult<()> {
//! let mut conn = orm_core::sqlite::memory().unwrap();
//! Schema::new().model::<Project>().model::<Task>().create_all(&mut conn)?;
//! let orm = Project::create(NewProject { name: "orm".into() }, &mut conn)?;
//! let task = orm.create_task(NewTask { project_id: None, title: "derive".into() }, &mut conn)?;
//! assert_eq!(task.project(&mut conn)?, Some(orm.clone()));
//! assert_eq!(orm.tasks(&mut conn)?, vec![task]);
//! # Ok(())
//! # }
//! ```
//!
//! The pipeline follows serde_derive: `internals::attr` parses the input
//! into the description in `internals::ast`, `internals::check` applies the
//! rules that need the whole model, and `expand` emits code from the
//! description alone. Errors are collected so one build shows them all.

use proc_macro::TokenStream;
use syn::DeriveInput;

mod docs;
mod expand;
mod internals;
#[cfg(test)]
mod no_panic;
#[cfg(test)]
mod snapshot_tests;

use internals::ctxt::Ctxt;

/// Derives `orm_core::Model`: the table schema, a `New*` struct, CRUD, and
/// the methods of every `belongs_to`, `has_one`, `has_many`,
/// `belongs_to_many` and `polymorphic` attribute. See orm-core's README for the reference.
#[proc_macro_derive(
    Model,
    attributes(model, belongs_to, has_one, has_many, belongs_to_many, polymorphic)
)]
pub fn derive_model(input: TokenStream) -> TokenStream {
    derive_model_inner(input.into()).into()
}

/// The derive on `proc_macro2` tokens: what [`derive_model`] runs, callable
/// outside a macro (the no-panic test feeds it malformed attributes).
fn derive_model_inner(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let model = internals::attr::model(&mut cx, &input);
    let checked = model.as_ref().map(|m| internals::check::check(&mut cx, m));
    match (cx.check(), model, checked) {
        (Ok(()), Some(model), Some(checked)) => expand::model(&model, &checked.joins),
        // Only associations are wrong: still emit the model (table, `New*`,
        // CRUD) and its sound associations, so that code using them does not
        // drown the real errors. (An association whose attribute did not
        // parse is not in `assocs`.)
        (Err(errors), Some(mut model), Some(checked)) if model.core_ok => {
            let mut index = 0;
            model.assocs.retain(|_| {
                index += 1;
                !checked.failed.contains(&(index - 1))
            });
            let joins: Vec<_> = checked
                .joins
                .into_iter()
                .filter(|j| {
                    model
                        .assocs
                        .iter()
                        .any(|a| a.through_table().is_some_and(|t| t.value == j.name.value))
                })
                .collect();
            let mut out = errors.to_compile_error();
            out.extend(expand::model(&model, &joins));
            out
        }
        (Err(errors), model, _) => {
            let mut out = errors.to_compile_error();
            out.extend(expand::stand_in(&input, model.as_ref().map(|m| &m.krate)));
            out
        }
        (Ok(()), ..) => proc_macro2::TokenStream::new(),
    }
}

/// The table module of a model, as the derive emits it:
/// `__table_in! { <orm-core's path>; <table! input> }`, so a model's
/// expansion is a call, not diesel's ~700 lines. Not public API.
#[doc(hidden)]
#[proc_macro]
pub fn __table_in(input: TokenStream) -> TokenStream {
    let parse = |input: syn::parse::ParseStream| {
        let krate: syn::Path = input.parse()?;
        input.parse::<syn::Token![;]>()?;
        Ok((krate, input.parse::<proc_macro2::TokenStream>()?))
    };
    match syn::parse::Parser::parse(parse, input) {
        Ok((krate, decl)) => expand::diesel_table::from_tokens(decl, &krate).into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// diesel's `table!`, for tables from `diesel print-schema`, in crates that
/// depend on orm-core and not on diesel itself. Used as `orm_core::table!`.
#[proc_macro]
pub fn table(input: TokenStream) -> TokenStream {
    let krate: syn::Path = syn::parse_quote!(::orm_core);
    expand::diesel_table::from_tokens(input.into(), &krate).into()
}
