//! Code generation. Reads only the checked description and cannot fail.

pub mod associations;
pub mod diesel_table;
pub mod join_model;
pub mod join_table;
pub mod model;
pub mod polymorphic;
#[rustfmt::skip]
mod table;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
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
    let poly_items = polymorphic::items(model);
    let poly_impls = polymorphic::impls(model);
    let gate = model_macro(model);
    quote! {
        #items
        #poly_items
        #gate
        #join_model
        #(#join_items)*
        #markers
        // One of a gate's two imports is unused (see `gate`).
        #[allow(unused_imports)]
        const _: () = {
            use #krate as _orm;
            #impls
            #join_model_impls
            #(#join_impls)*
            #assoc_impls
            #poly_impls
        };
    }
}

/// What an association's items need of a model other than the deriving
/// one: that it is a model, and that it has the named columns (each with
/// where the user named it).
pub struct Needs<'a> {
    pub model: &'a Path,
    pub columns: Vec<(&'a str, proc_macro2::Span)>,
    /// A join model: its primary key is these two columns.
    pub keys: Option<[&'a str; 2]>,
}

impl<'a> Needs<'a> {
    pub fn model(model: &'a Path) -> Self {
        Needs {
            model,
            columns: Vec::new(),
            keys: None,
        }
    }
}

/// `tokens`, emitted only where each of `needs` holds.
///
/// `#[derive(Model)]` on `Tag` defines a hidden macro that knows `Tag`'s
/// columns and imports it as `Tag` (see [`model_macro`]), so that `Tag! {
/// @column("tag_id") .. }` expands to its contents when `Tag` is a model
/// with that column, and to nothing when the column is missing. Where the
/// name has no macro, [`gate`] falls back to orm-core's `not_a_model!`, which
/// drops the items too. Either way they go, where each of them would
/// otherwise fail to type-check on its own, and one explicit check per need
/// ([`checks`]) says what is wrong. The model's own name and names that would
/// shadow a standard derive pass ungated.
pub fn if_models(needs: &[Needs], own: &Ident, tokens: TokenStream) -> TokenStream {
    gated_by(needs, own, tokens, &TokenStream::new(), false)
}

/// [`if_models`] for an expression, with the expression `otherwise` (of the
/// same type) where a model is missing.
pub fn if_models_expr(
    needs: &[Needs],
    own: &Ident,
    tokens: TokenStream,
    otherwise: &TokenStream,
) -> TokenStream {
    gated_by(needs, own, tokens, otherwise, true)
}

/// [`if_models`] for items, with the items `otherwise` where a model is
/// missing.
pub fn if_models_else(
    needs: &[Needs],
    own: &Ident,
    tokens: TokenStream,
    otherwise: &TokenStream,
) -> TokenStream {
    gated_by(needs, own, tokens, otherwise, false)
}

fn gated_by(
    needs: &[Needs],
    own: &Ident,
    tokens: TokenStream,
    otherwise: &TokenStream,
    expr: bool,
) -> TokenStream {
    needs.iter().fold(tokens, |tokens, need| {
        let path = need.model;
        if !gated(path, own) {
            return tokens;
        }
        let name = gate_name(path);
        let tokens = match need.keys {
            Some([a, b]) => quote!(#name! { @keys(#a, #b) #tokens }),
            None => tokens,
        };
        let tokens = need.columns.iter().fold(
            tokens,
            |tokens, (column, _)| quote!(#name! { @column(#column) #tokens }),
        );
        gate(path, otherwise, tokens, expr)
    })
}

/// The name a gate binds `path`'s macro to, spanned at the user's token: an
/// import that fails says so there.
pub fn gate_name(path: &Path) -> Ident {
    Ident::new("__OrmGate", path_span(path))
}

fn path_span(path: &Path) -> proc_macro2::Span {
    path.segments
        .last()
        .map_or_else(proc_macro2::Span::call_site, |s| s.ident.span())
}

/// `__OrmGate! { @else { otherwise } tokens }`, where `__OrmGate` is
/// `path`'s macro when it has one and orm-core's `not_a_model!` when not
/// (a struct that is not a model, a type alias of one, a typo): in nested
/// blocks, the inner one's `use path as __OrmGate` shadows the outer one's
/// `use not_a_model as __OrmGate` only in the namespaces `path` has. A
/// single name that names nothing would fail that import (rustc's "no
/// external crate", beside the check's "cannot find type" with its
/// suggestion), so the block between them declares a function of that name;
/// the check is outside it. A longer path that names nothing fails the
/// import, and that error (with rustc's suggestion) is the one.
fn gate(path: &Path, otherwise: &TokenStream, tokens: TokenStream, expr: bool) -> TokenStream {
    let name = gate_name(path);
    let stand_in = path
        .get_ident()
        .map(|ident| quote!(#[allow(non_snake_case, dead_code)] fn #ident() {}));
    let import = quote_spanned!(path_span(path)=> use #path as #name;);
    // In an expression, a call in parentheses is the block's value.
    let call = if expr {
        quote!(#name!(@else { #otherwise } #tokens))
    } else {
        quote!(#name! { @else { #otherwise } #tokens })
    };
    // Unused imports are allowed on the `const _` block all gates are in.
    quote! {{
        use _orm::__private::not_a_model as #name;
        #stand_in
        {
            #import
            { #call }
        }
    }}
}

pub fn gated(path: &Path, own: &Ident) -> bool {
    match path.segments.last() {
        Some(last) => !path.is_ident(own) && !path.is_ident("Self") && gated_name(&last.ident),
        None => false,
    }
}

/// The checks [`if_models`] relies on: `<Tag as IsModel>::IS`, and for each
/// column `<Tag as HasColumn<tag_id, H>>::IS` (only where `Tag` is a model, so that
/// is said once), each on the token that names it. The first is outside
/// the gate for a single name (see [`gate`]), its `@else` for a longer path.
pub fn checks(needs: &[Needs], own: &Ident) -> TokenStream {
    needs
        .iter()
        .filter(|need| !need.model.is_ident(own) && !need.model.is_ident("Self"))
        .map(|need| {
            let path = need.model;
            let span = path_span(path);
            let is_model = quote_spanned!(span=> const _: () = <#path as _orm::__private::IsModel>::IS;);
            let hash = |column: &str| proc_macro2::Literal::u64_suffixed(model::field_hash(column));
            let columns = need.columns.iter().map(|&(column, span)| {
                let (hash, path) = (hash(column), respan(quote!(#path), span));
                let name = crate::internals::ident(column, span);
                quote_spanned! {span=>
                    const _: () = {
                        #[allow(non_camel_case_types)]
                        struct #name;
                        <#path as _orm::__private::HasColumn<#name, #hash>>::IS
                    };
                }
            });
            let keys = need.keys.map(|[a, b]| {
                let (a, b) = (hash(a), hash(b));
                quote_spanned!(span=> const _: () = <#path as _orm::__private::IsJoinModel<#a, #b>>::IS;)
            });
            if !gated(path, own) {
                return quote!(#is_model #(#columns)* #keys);
            }
            let gate_name = gate_name(path);
            // Where a model is named by what has no macro, a type alias.
            let alias = quote_spanned!(span=> _orm::__private::named_by_alias!(#gate_name););
            // Only where the key columns exist, so that a missing one is
            // said once.
            let keys = keys.map(|keys| {
                need.columns.iter().fold(keys, |keys, (column, _)| quote!(#gate_name! { @column(#column) #keys }))
            });
            let columns = quote!(#(#columns)* #keys);
            if path.get_ident().is_some() {
                let gated = gate(path, &alias, columns, false);
                quote!(#is_model #gated)
            } else {
                // Through the gate's name: a path that names nothing has
                // said so at its import.
                let is_model = quote_spanned!(span=> const _: () = <#gate_name as _orm::__private::IsModel>::IS;);
                gate(path, &quote!(#is_model #alias), columns, false)
            }
        })
        .collect()
}

/// The macro `#[derive(Model)]` defines for [`if_models`] and imports under
/// the model's name, so that other derives name it by the path users write
/// for the model (and `use` them by, which carries it along). Exported
/// (as `ambassador` does for its traits) so that a model of another crate
/// has it too, under a name unique to this struct.
pub fn model_macro(model: &crate::internals::ast::Model) -> TokenStream {
    if !gated_name(&model.ident) {
        return TokenStream::new();
    }
    let (vis, ident) = (&model.vis, &model.ident);
    let columns: Vec<&str> = model.fields.iter().map(|f| f.column.as_str()).collect();
    // The span's `Debug` (`#3 bytes(120..123)`) tells apart structs of one
    // name in two modules, or stamped out by one `macro_rules!` twice.
    let unique = format!("{ident} {:?} {columns:?}", ident.span());
    let name = quote::format_ident!("__orm_model_{}_{:016x}", ident, model::field_hash(&unique));
    // The pairs it implements `JoinKeys` for.
    let links = model.join_links();
    let pairs = links.iter().flat_map(|&a| {
        let links = &links;
        links.iter().filter(move |&&b| b != a).map(move |&b| {
            let (a, b) = (&model.fields[a].column, &model.fields[b].column);
            quote!((@keys(#a, #b) $($items:tt)*) => { $($items)* };)
        })
    });
    let keys = quote!(#(#pairs)*);
    // The SQL type of a join table's column holding this model's key,
    // declared by another model's derive (see `join_table::items`).
    let krate = &model.krate;
    let diesel = quote!(#krate::__private::diesel);
    let key_type = match model::key_sql_type(model) {
        Some(ty) => quote!(#diesel::sql_types::#ty),
        None => quote!(#diesel::dsl::SqlTypeOf<<$model as #krate::Model>::PrimaryKey>),
    };
    quote! {
        #[doc(hidden)]
        #[macro_export]
        #[allow(non_local_definitions)]
        macro_rules! #name {
            (@else { $($otherwise:tt)* } $($items:tt)*) => { $($items)* };
            (@join_key($model:ty, $column:ty)) => {
                #[automatically_derived]
                impl #krate::__private::JoinKey for $column {
                    type SqlType = #key_type;
                }
            };
            #((@column(#columns) $($items:tt)*) => { $($items)* };)*
            (@column($other:literal) $($items:tt)*) => {};
            #keys
            (@keys($a:literal, $b:literal) $($items:tt)*) => {};
            ($($items:tt)*) => { $($items)* };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        #vis use #name as #ident;
    }
}

/// What a model whose own derive failed (no key, a field it cannot map)
/// leaves beside its errors: the `IsModel` mark, and orm-core's
/// `not_a_model!` imported as its macro, so that every gate naming it
/// expands its fallback and another model's association to it adds nothing
/// to those errors (it said "`Tag` is not a model, add `#[derive(Model)]`"
/// on a struct that has it). The macro by its crate-root name:
/// `__private::not_a_model` is a struct too, which would clash with the
/// model's own.
///
/// `krate` is orm-core's path, `::orm_core` where the attributes did not
/// get as far as saying. Nothing for a generic type, which no model is.
pub fn stand_in(input: &syn::DeriveInput, krate: Option<&Path>) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let (vis, ident) = (&input.vis, &input.ident);
    let krate = krate.map_or_else(|| quote!(::orm_core), |k| quote!(#k));
    let mark = quote! {
        #[automatically_derived]
        impl #krate::__private::IsModel for #ident {}
    };
    if !gated_name(ident) {
        return mark;
    }
    quote! {
        #mark
        #[doc(hidden)]
        #[allow(unused_imports)]
        #vis use #krate::__orm_not_a_model as #ident;
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

/// `vis`, as written in a child module of the one it was written in.
pub fn in_child_module(vis: &syn::Visibility) -> TokenStream {
    match vis {
        syn::Visibility::Public(_) => quote!(pub),
        syn::Visibility::Inherited => quote!(pub(super)),
        syn::Visibility::Restricted(r) => {
            let path = &r.path;
            match path.segments.first() {
                Some(first) if first.ident == "crate" || path.leading_colon.is_some() => {
                    quote!(pub(in #path))
                }
                Some(first) if first.ident == "self" => {
                    let rest = path.segments.iter().skip(1);
                    quote!(pub(in super #(::#rest)*))
                }
                _ => quote!(pub(in super::#path)),
            }
        }
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
