//! The join tables of `belongs_to_many`: schema, row struct, key check.
//!
//! Both sides of a join table may declare it, in one module or two. The side
//! whose model name sorts first emits `pub mod rsvps` and `pub struct Rsvp`
//! as real items; the other side emits them in a hidden module and glob
//! re-exports it. A real item shadows a glob import, so in one module the two
//! never collide, and a table declared by one side only is still public.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use super::diesel_table::{table_input, table_module, Column};
use super::from_child_module;
use super::model::key_sql_type;
use super::model::{insertable, row_impls};
use crate::docs;
use crate::internals::ast::{Assoc, JoinTable, Model};
use crate::internals::inflect;

/// The join table a `belongs_to_many` association goes through.
pub fn of<'a>(assoc: &Assoc, joins: &'a [JoinTable]) -> Option<&'a JoinTable> {
    let through = assoc.through_table()?;
    joins.iter().find(|j| j.name.value == through.value)
}

/// The hidden module of a non-canonical side.
fn private_module(model: &Model, join: &JoinTable) -> syn::Ident {
    format_ident!(
        "__orm_{}_{}",
        inflect::snake(&model.ident.to_string()),
        join.name.value
    )
}

/// The path of the join table's module as seen from the model's module.
pub fn module_path(model: &Model, join: &JoinTable) -> TokenStream {
    let table = format_ident!("{}", join.name.value);
    if join.canonical {
        quote!(#table)
    } else {
        let private = private_module(model, join);
        quote!(#private::#table)
    }
}

fn row_ident(join: &JoinTable) -> syn::Ident {
    format_ident!("{}", inflect::row_struct(&join.name.value))
}

/// `created_at` and `updated_at`, if the join table has timestamps.
fn timestamp_idents(join: &JoinTable) -> Vec<syn::Ident> {
    if join.timestamps {
        vec![format_ident!("created_at"), format_ident!("updated_at")]
    } else {
        Vec::new()
    }
}

/// The key of a join table that points at another model named by a gated
/// path (at most one: the other key is the model's own): its index and the
/// path. Its column's SQL type goes through orm-core's `JoinKey` and its
/// field's type through `JoinKeyId`, both implemented in the model's
/// `const _` block inside that model's gate, so the module-level items never
/// name it.
fn gated_key<'a>(model: &Model, join: &'a JoinTable) -> Option<(usize, &'a syn::Path)> {
    // `gated` is false for the model's own name and `Self`.
    join.keys
        .iter()
        .enumerate()
        .find_map(|(i, (_, path))| super::gated(path, &model.ident).then_some((i, path)))
}

/// The private marker of the declaring model's module whose `JoinKeyId::Id` is
/// the Rust type of the join table's column holding the other model's key.
fn key_marker(join: &JoinTable, path: &syn::Path) -> syn::Ident {
    let target = path.segments.last().map(|s| &s.ident);
    format_ident!(
        "__Orm{}{}Key",
        inflect::row_struct(&join.name.value),
        target.map(ToString::to_string).unwrap_or_default()
    )
}

/// Module-level items: the table module and the row struct.
pub fn items(model: &Model, join: &JoinTable) -> TokenStream {
    let depth = if join.canonical { 1 } else { 2 };
    let krate = &model.krate;
    let table = format_ident!("{}", join.name.value);
    let keys: Vec<syn::Ident> = join
        .keys
        .iter()
        .map(|(c, _)| crate::internals::ident(c, proc_macro2::Span::call_site()))
        .collect();
    let gated = gated_key(model, join);
    // The column types are used in the table module and in its `columns`
    // submodule; diesel's `table!` rewrites `use super::..` imports for the
    // latter, so the referenced models are imported under private names.
    let aliases = [
        format_ident!("__OrmKeyModel0"),
        format_ident!("__OrmKeyModel1"),
    ];
    let imports = join
        .keys
        .iter()
        .zip(&aliases)
        .enumerate()
        .filter(|(i, _)| gated.is_none_or(|(g, _)| g != *i))
        .map(|(_, ((_, path), alias))| {
            let path = from_child_module(path, depth, &model.ident);
            quote!(use #path as #alias;)
        });
    let imports = quote!(#(#imports)*);
    let stamps = timestamp_idents(join);
    // A key column's SQL type: this model's own when it is one of diesel's;
    // the other model's as its macro supplies it (`JoinKey`); else through
    // the model's key.
    let columns: Vec<Column> = aliases
        .iter()
        .zip(&keys)
        .zip(&join.keys)
        .enumerate()
        .map(|(i, ((alias, name), (_, path)))| {
            let own = path.is_ident(&model.ident) || path.is_ident("Self");
            let sql_type = match key_sql_type(model) {
                Some(ty) if own => quote!(#ty),
                _ if gated.is_some_and(|(g, _)| g == i) => {
                    quote!(<#name as #krate::__private::JoinKey>::SqlType)
                }
                _ => quote!(diesel::dsl::SqlTypeOf<<#alias as #krate::Model>::PrimaryKey>),
            };
            Column { name, sql_type }
        })
        .chain(stamps.iter().map(|name| Column {
            name,
            sql_type: quote!(diesel::sql_types::Timestamp),
        }))
        .collect();
    let key_refs: Vec<&syn::Ident> = keys.iter().collect();
    let doc = docs::join_table(&join.name.value);
    let input = table_input(krate, imports, &doc, &table, &key_refs, &columns);
    let schema = table_module(krate, input);
    let row = row_ident(join);
    let row_doc = docs::join_row(&join.name.value, join.timestamps);
    // In the hidden module of a non-canonical side, as visible from the
    // model's module as the model is.
    let vis = if join.canonical {
        let vis = &model.vis;
        quote!(#vis)
    } else {
        super::in_child_module(&model.vis)
    };
    let model_vis = &model.vis;
    let field_tys = join
        .keys
        .iter()
        .enumerate()
        .map(|(i, (_, path))| match gated {
            Some((g, _)) if g == i => {
                let marker = key_marker(join, path);
                let supers = (!join.canonical).then(|| quote!(super::));
                quote!(<#supers #marker as #krate::__private::JoinKeyId>::Id)
            }
            _ => {
                let path = from_child_module(path, depth - 1, &model.ident);
                quote!(<#path as #krate::Model>::Id)
            }
        });
    let model_name = model.ident.to_string();
    let key_docs = join.keys.iter().map(|(column, path)| {
        let model = quote!(#path).to_string().replace(' ', "");
        let model = if model == "Self" {
            model_name.clone()
        } else {
            model
        };
        format!("The `{column}` key column, holding `{model}` keys (`<{model} as Model>::Id`).")
    });
    let stamp_docs = [
        "When the row was inserted.",
        "When the row was last written.",
    ];
    let stamp_docs = &stamp_docs[..stamps.len()];
    let marker = gated.map(|(_, path)| {
        let marker = key_marker(join, path);
        quote! {
            #[doc(hidden)]
            struct #marker;
        }
    });
    let row_struct = quote! {
        #[doc = #row_doc]
        #[derive(Debug, Clone, PartialEq)]
        #[allow(private_interfaces)]
        #vis struct #row {
            #(#[doc = #key_docs] pub #keys: #field_tys,)*
            #(#[doc = #stamp_docs] pub #stamps: #krate::chrono::NaiveDateTime,)*
        }
    };
    if join.canonical {
        quote! { #marker #schema #row_struct }
    } else {
        let private = private_module(model, join);
        quote! {
            #marker
            #[doc(hidden)]
            #[allow(unreachable_pub)]
            pub mod #private {
                #schema
                #row_struct
            }
            #[allow(unused_imports)]
            #model_vis use self::#private::*;
        }
    }
}

/// Impls inside the model's `const _` block, gated on the models the keys
/// point at.
pub fn impls(model: &Model, join: &JoinTable) -> TokenStream {
    let needs: Vec<super::Needs> = join
        .keys
        .iter()
        .map(|(_, path)| super::Needs::model(path))
        .collect();
    let table = module_path(model, join);
    let row = if join.canonical {
        let row = row_ident(join);
        quote!(#row)
    } else {
        let private = private_module(model, join);
        let row = row_ident(join);
        quote!(#private::#row)
    };
    let keys: Vec<syn::Ident> = join
        .keys
        .iter()
        .map(|(c, _)| crate::internals::ident(c, proc_macro2::Span::call_site()))
        .collect();
    let names: Vec<&String> = join.keys.iter().map(|(c, _)| c).collect();
    let stamps = timestamp_idents(join);
    let tys: Vec<TokenStream> = join
        .keys
        .iter()
        .map(|(_, path)| {
            let path = from_child_module(path, 0, &model.ident);
            quote!(<#path as _orm::Model>::Id)
        })
        .chain(stamps.iter().map(|_| quote!(_orm::chrono::NaiveDateTime)))
        .collect();
    let columns: Vec<&syn::Ident> = keys.iter().chain(&stamps).collect();
    let insertable = insertable(
        &row,
        &table,
        &columns,
        &tys,
        &vec![false; columns.len()],
        &[],
    );
    let row_impls = row_impls(&row, &table, &columns, &tys);
    let timestamps = join.timestamps;
    let public_table = format_ident!("{}", join.name.value);
    let check = (!join.canonical).then(|| {
        quote_spanned! {join.name.span=>
            const _: () = _orm::__private::check_join_keys::<#public_table::table>([#(#names),*], #timestamps);
        }
    });
    let impls = quote! {
        #[automatically_derived]
        impl _orm::__private::JoinTableKeys for #table::table {
            const KEYS: [&'static str; 2] = [#(#names),*];
            const TIMESTAMPS: bool = #timestamps;
        }
        #check
        #insertable
        #row_impls
    };
    let Some((i, path)) = gated_key(model, join) else {
        return super::if_models(&needs, &model.ident, impls);
    };
    // The key column's types, from the other model's macro, or stand-ins
    // where it is not a model (its check says so, and nothing else fails).
    let column = &keys[i];
    let marker = key_marker(join, path);
    let name = super::gate_name(path);
    let key = quote! {
        #name! { @join_key(#path, #table::#column) }
        #[automatically_derived]
        impl _orm::__private::JoinKeyId for #marker {
            type Id = <#path as _orm::Model>::Id;
        }
    };
    let otherwise = quote! {
        impl _orm::__private::JoinKey for #table::#column {
            type SqlType = _orm::__private::diesel::sql_types::Integer;
        }
        impl _orm::__private::JoinKeyId for #marker {
            type Id = i32;
        }
    };
    super::if_models_else(&needs, &model.ident, quote!(#key #impls), &otherwise)
}
