//! A model with a composite primary key can be the join model of a
//! `belongs_to_many` (`through = Rsvp`): its payload struct (the columns
//! other than the two keys an association links) and the impls that build a
//! join row from those keys in either order.
//!
//! With two key columns, both are the links. With more (`(user_id,
//! project_id, role)`), the links are the key columns its `belongs_to`s
//! name, and the others (`role`) travel in the payload.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::model::{field_hash, new_ident};
use crate::internals::ast::{Field, Model};
use crate::internals::attr::option_inner;

pub fn payload_ident(model: &Model) -> syn::Ident {
    format_ident!("{}Payload", model.ident)
}

/// The payload: every field a join row is inserted with but the links.
fn payload_fields(model: &Model) -> Vec<&Field> {
    let links = model.join_links();
    model
        .fields
        .iter()
        .enumerate()
        .filter(|(i, f)| !links.contains(i) && f.in_new())
        .map(|(_, f)| f)
        .collect()
}

/// The payload struct, at module level. It derives `Default` when every
/// field is an `Option` or the type column of a polymorphic key (which the
/// `through_scope` of each association sets), so plain `add_*` can insert
/// it.
pub fn items(model: &Model) -> TokenStream {
    if model.join_links().is_empty() {
        return TokenStream::new();
    }
    let vis = &model.vis;
    let ident = payload_ident(model);
    let fields = payload_fields(model);
    let default = fields
        .iter()
        .all(|f| option_inner(&f.ty).is_some() || is_type_column(model, f))
        .then(|| quote!(Default,));
    let doc = format!(
        "The payload of a [`{0}`] join row: its columns other than the two keys an association links, given to the `*_with` methods of an association `through = {0}`.",
        model.ident
    );
    let fields = fields.iter().map(|f| {
        // As in `New*` (where a refused `default` would make it an Option),
        // so that the impls agree with it whatever else is reported.
        let (name, ty, docs) = (&f.ident, f.new_ty(), &f.docs);
        let fallback = format!("The `{}` column.", f.column);
        let docs = if docs.is_empty() {
            quote!(#[doc = #fallback])
        } else {
            quote!(#(#docs)*)
        };
        quote!(#docs pub #name: #ty)
    });
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, #default)]
        #vis struct #ident { #(#fields,)* }
    }
}

/// Whether `field` is the type column of one of `model`'s polymorphic keys.
fn is_type_column(model: &Model, field: &Field) -> bool {
    model
        .polymorphic
        .iter()
        .any(|p| p.arc.is_none() && p.type_column.value == field.column)
}

/// `JoinModel` and `JoinKeys` (both key orders), inside the `const _` block.
pub fn impls(model: &Model) -> TokenStream {
    let links = model.join_links();
    if links.is_empty() {
        return TokenStream::new();
    }
    let ident = &model.ident;
    let (new, payload) = (new_ident(model), payload_ident(model));
    let fields = payload_fields(model);
    let names: Vec<_> = fields.iter().map(|f| &f.ident).collect();
    // Writing a payload again is an update: `updated_at` too, not
    // `created_at`, and never a key column (the conflict is on the key).
    let update = fields
        .iter()
        .filter(|f| !model.pk.iter().any(|&i| model.fields[i].column == f.column))
        .map(|f| &f.column)
        .chain(
            model
                .fields
                .iter()
                .filter(|f| f.managed && f.column == "updated_at")
                .map(|f| &f.column),
        );
    let new_row = |source: &Field, target: &Field| {
        let (hs, ht) = (
            Literal::u64_suffixed(field_hash(&source.column)),
            Literal::u64_suffixed(field_hash(&target.column)),
        );
        let (s, t) = (&source.ident, &target.ident);
        let (s_ty, t_ty) = (&source.ty, &target.ty);
        quote! {
            #[automatically_derived]
            impl _orm::__private::JoinKeys<#hs, #ht> for #ident {
                fn new_row(source: #s_ty, target: #t_ty, payload: #payload) -> #new {
                    #new { #s: source, #t: target, #(#names: payload.#names,)* }
                }
            }
        }
    };
    // Each link with each other, in both orders.
    let pairs = links.iter().flat_map(|&a| {
        links
            .iter()
            .filter(move |&&b| b != a)
            .map(move |&b| new_row(&model.fields[a], &model.fields[b]))
    });
    quote! {
        #[automatically_derived]
        impl _orm::__private::JoinModel for #ident {
            type Payload = #payload;
            const UPDATE_COLUMNS: &'static [&'static str] = &[#(#update),*];
        }
        #(#pairs)*
    }
}
