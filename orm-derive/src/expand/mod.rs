//! Code generation. Reads only the checked description and cannot fail.

pub mod associations;
pub mod diesel_table;
pub mod join_model;
pub mod join_table;
pub mod model;
#[rustfmt::skip]
mod table;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, Path};

use crate::internals::ast::{JoinTable, Model};

/// Everything `#[derive(Model)]` emits for a valid model.
pub fn model(model: &Model, joins: &[JoinTable]) -> TokenStream {
    let krate = &model.krate;
    let items = model::items(model);
    let impls = model::impls(model, joins);
    let join_model = join_model::items(model);
    let join_model_impls = join_model::impls(model);
    let join_items = joins.iter().map(|j| join_table::items(model, j));
    let join_impls = joins.iter().map(|j| join_table::impls(model, j));
    let markers = associations::markers(model);
    let assoc_impls = associations::impls(model, joins);
    quote! {
        #items
        #join_model
        #(#join_items)*
        #markers
        const _: () = {
            use #krate as _orm;
            #impls
            #join_model_impls
            #(#join_impls)*
            #assoc_impls
        };
    }
}

/// `path` as seen from a module `depth` levels below the model's module.
pub fn from_child_module(path: &Path, depth: usize, model: &Ident) -> TokenStream {
    let supers = std::iter::repeat_n(quote!(super::), depth);
    if path.is_ident("Self") {
        return quote!(#(#supers)* #model);
    }
    let absolute =
        path.leading_colon.is_some() || path.segments.first().is_some_and(|s| s.ident == "crate");
    if absolute {
        return quote!(#path);
    }
    match path.segments.first() {
        Some(first) if first.ident == "self" => {
            let rest = path.segments.iter().skip(1);
            quote!(#(#supers)* #(#rest)::*)
        }
        _ => quote!(#(#supers)* #path),
    }
}

/// `tokens` with every token's span set to `span`, so that an error about
/// the whole expression points at the user's token.
pub fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(g) = &token {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                token = proc_macro2::TokenTree::Group(group);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}
