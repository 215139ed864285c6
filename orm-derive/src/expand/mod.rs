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
    let models_of = |j: &JoinTable| j.keys.clone().map(|(_, path)| path);
    let join_items = joins
        .iter()
        .map(|j| if_models(&models_of(j), &model.ident, join_table::items(model, j)));
    let join_impls = joins
        .iter()
        .map(|j| if_models(&models_of(j), &model.ident, join_table::impls(model, j)));
    let markers = associations::markers(model);
    let assoc_impls = associations::impls(model, joins);
    let gate = model_macro(model);
    quote! {
        #items
        #gate
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

/// `tokens`, emitted only where each of `models` is a model.
///
/// `#[derive(Model)]` on `Tag` imports orm-core's pass-through macro as
/// `Tag` (see [`model_macro`]), so `Tag! { .. }` expands to its contents when
/// `Tag` derives `Model` and is a single "cannot find macro `Tag`" on the
/// user's token when it does not: name resolution drops the items, where
/// each of them would otherwise fail to type-check on its own. The model's
/// own name and names that would shadow a standard derive pass ungated.
pub fn if_models<'a>(
    models: impl IntoIterator<Item = &'a Path>,
    own: &Ident,
    tokens: TokenStream,
) -> TokenStream {
    models.into_iter().fold(tokens, |tokens, path| {
        let Some(last) = path.segments.last() else {
            return tokens;
        };
        if path.is_ident(own) || path.is_ident("Self") || !gated_name(&last.ident) {
            return tokens;
        }
        quote!(#path! { #tokens })
    })
}

/// The macro `#[derive(Model)]` imports under the model's name, so that
/// [`if_models`] can name it by the path users write for the model (and
/// `use` them by, which carries it along).
pub fn model_macro(model: &crate::internals::ast::Model) -> TokenStream {
    if !gated_name(&model.ident) {
        return TokenStream::new();
    }
    let (vis, ident, krate) = (&model.vis, &model.ident, &model.krate);
    quote! {
        #[doc(hidden)]
        #[allow(unused_imports)]
        #vis use #krate::__private::model as #ident;
    }
}

/// Whether a model of this name gets the gate macro: not when the name
/// would shadow a derive macro users name in the same module.
fn gated_name(ident: &Ident) -> bool {
    const DERIVES: &[&str] = &[
        "Clone",
        "Copy",
        "Debug",
        "Default",
        "Eq",
        "Hash",
        "Model",
        "Ord",
        "PartialEq",
        "PartialOrd",
    ];
    !DERIVES.iter().any(|d| ident == d)
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
