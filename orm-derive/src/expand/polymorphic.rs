//! `#[polymorphic(Commentable, Post = "post", Video = "video")]`: the enum
//! of the variants, and the reads of the row the two columns point at,
//! which orm-core's `assoc::poly` runs.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use crate::internals::ast::{Field, Model, Named, Polymorphic};
use crate::internals::inflect;

/// The enums, at module level.
pub fn items(model: &Model) -> TokenStream {
    model
        .polymorphic
        .iter()
        .map(|p| {
            let (vis, name, derives) = (&model.vis, &p.name, &p.derives);
            let variants = p.variants.iter().map(|(path, d)| {
                let ident = variant_ident(path);
                let doc = match p.arc {
                    Some(_) => format!("A `{}`: the row's `{}` is set.", quote!(#path), d.value()),
                    None => format!("A `{}` whose type column holds {:?}.", quote!(#path), d.value()),
                };
                quote!(#[doc = #doc] #ident(#path))
            });
            let doc = format!(
                "What `{}`'s `{}` and `{}` point at: one variant per model the `#[polymorphic]` attribute declares.",
                model.ident, p.type_column.value, p.foreign_key.value
            );
            // `Debug` unless the attribute derives it: whenever every
            // variant's model is `Debug` (a higher-ranked bound, so that a
            // model without it is no error until the enum is printed).
            let listed = derives
                .iter()
                .any(|d| d.segments.last().is_some_and(|s| s.ident == "Debug"));
            let debug = (!listed).then(|| {
                let paths = p.variants.iter().map(|(path, _)| path);
                let arms = p.variants.iter().map(|(path, _)| {
                    let ident = variant_ident(path);
                    let label = ident.to_string();
                    quote!(#name::#ident(v) => f.debug_tuple(#label).field(v).finish())
                });
                quote! {
                    #[automatically_derived]
                    impl ::core::fmt::Debug for #name where #(for<'__orm> #paths: ::core::fmt::Debug,)* {
                        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                            match self { #(#arms,)* }
                        }
                    }
                }
            });
            quote! {
                #[doc = #doc]
                #[derive(#(#derives),*)]
                #vis enum #name {
                    #(#variants,)*
                }
                #debug
            }
        })
        .collect()
}

fn variant_ident(path: &syn::Path) -> syn::Ident {
    path.segments
        .last()
        .map_or_else(|| format_ident!("Variant"), |s| s.ident.clone())
}

/// The `Variant` impls and the methods, inside the derive's `const _`.
pub fn impls(model: &Model) -> TokenStream {
    model.polymorphic.iter().map(|p| one(model, p)).collect()
}

fn one(model: &Model, p: &Polymorphic) -> TokenStream {
    let ident = &model.ident;
    let field =
        |column: &Named, what: &str| match model.fields.iter().find(|f| f.column == column.value) {
            Some(f) => Ok(f),
            None => Err(syn::Error::new(
                column.span,
                format!(
                "`{ident}` has no field `{}`, the {what} column of this polymorphic association{}",
                column.value,
                match what {
                    "key" => "; name it with `foreign_key = \"..\"`",
                    "type" => "; name it with `type_column = \"..\"`",
                    _ => "",
                },
            ),
            )
            .to_compile_error()),
        };
    let (paths, discriminators): (Vec<_>, Vec<_>) = p.variants.iter().cloned().unzip();
    // Each variant's key field; of the classic form, the one key field and
    // the type field.
    let (keys, kind) = if p.arc.is_some() {
        let keys: Vec<_> = discriminators
            .iter()
            .map(|column| field(&Named::from_lit(column), "arc's key"))
            .collect();
        (keys, None)
    } else {
        let key = field(&p.foreign_key, "key");
        (vec![key; paths.len()], Some(field(&p.type_column, "type")))
    };
    let errors: TokenStream = keys
        .iter()
        .chain(kind.iter())
        .filter_map(|f| f.as_ref().err())
        .take(if p.arc.is_some() { usize::MAX } else { 2 })
        .cloned()
        .collect();
    if !errors.is_empty() {
        return errors;
    }
    let keys: Vec<&Field> = keys.into_iter().flatten().collect();
    let kind = kind.and_then(Result::ok);
    let name = &p.name;
    let snake = inflect::snake(&name.to_string());
    let (get, load) = (
        crate::internals::ident(&snake, p.span),
        crate::internals::ident(&format!("load_{}", inflect::plural(&snake)), p.span),
    );
    let variants: Vec<_> = paths.iter().map(variant_ident).collect();
    let (key_fields, key_tys): (Vec<_>, Vec<_>) = keys.iter().map(|f| (&f.ident, &f.ty)).unzip();
    let model_name = ident.to_string();
    let poly = quote!(_orm::__private::poly);
    // What selects the variant of a row: the type column, or the arc's
    // column that is set.
    let arc_kind = |row: TokenStream| quote!(#poly::arc_kind(&[#((_orm::ForeignKey::<<#paths as _orm::Model>::Id>::get(&#row.#key_fields).is_some(), #discriminators)),*], #model_name));
    let (kind_self, kind_row, check, what) = match kind {
        Some(kind) => {
            let (kind, column) = (&kind.ident, &p.type_column.value);
            (
                quote!(::core::convert::AsRef::<str>::as_ref(&self.#kind)),
                quote!(::core::result::Result::Ok(::core::convert::AsRef::<str>::as_ref(&c.#kind))),
                quote!(#poly::check(&kinds, &[#(#discriminators),*], #model_name, #column)?;),
                format!("`{column}` and `{}`", p.foreign_key.value),
            )
        }
        None => (
            {
                let kind = arc_kind(quote!(self));
                quote!(#kind?)
            },
            arc_kind(quote!(c)),
            TokenStream::new(),
            format!(
                "exclusive arc ({})",
                discriminators
                    .iter()
                    .map(|d| format!("`{}`", d.value()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    };
    let unknown = if p.arc.is_some() {
        quote!(::core::result::Result::Ok(::core::option::Option::None))
    } else {
        let column = &p.type_column.value;
        quote!(::core::result::Result::Err(#poly::unknown(#model_name, #column, kind, &[#(#discriminators),*])))
    };
    let d_get = format!(
        "The row this `{ident}`'s {what} point at, as a [`{name}`]: `None` for no key, an `Err` for a row that selects no variant or several (checked before any statement) and `Err(NotFound)` for a key pointing at no row. One statement."
    );
    let d_load = format!(
        "[`{ident}::{snake}`] of each of `children`, aligned with them: one statement per variant present (per chunk of keys), none for a variant no child points at."
    );
    // Each key field holds its variant's key: said once, on its type; the
    // methods' bound is checked where they are called (`for<'__orm>`).
    let key_checks = paths.iter().zip(&key_tys).map(|(path, key_ty)| {
        let span = syn::spanned::Spanned::span(key_ty);
        quote_spanned!(span=> const _: fn() = #poly::holds::<#key_ty, #path>;)
    });
    let holds = quote!(#(for<'__orm> #key_tys: _orm::ForeignKey<<#paths as _orm::Model>::Id>,)*);
    let impls = quote! {
        #(#key_checks)*
        #(
            #[automatically_derived]
            impl #poly::Variant<#name> for #paths {
                const DISCRIMINATOR: &'static str = #discriminators;
                fn wrap(self) -> #name {
                    #name::#variants(self)
                }
            }
        )*
        impl #ident {
            #[doc = #d_get]
            pub fn #get<'c, C, K: _orm::Kind>(&'c self, conn: &'c mut C) -> <K as _orm::Kind>::Out<'c, ::core::option::Option<#name>>
            where
                C: ::core::marker::Send,
                #holds
                #(#paths: _orm::Crud<C, K>,)*
            {
                <K as _orm::Kind>::run(async move {
                    let kind: &str = #kind_self;
                    #(
                        if kind == #discriminators {
                            return #poly::find::<#name, #paths, #key_tys, C, K>(&self.#key_fields, conn).await;
                        }
                    )*
                    #unknown
                })
            }
            #[doc = #d_load]
            pub fn #load<'c, C, K: _orm::Kind>(children: &'c [Self], conn: &'c mut C) -> <K as _orm::Kind>::Out<'c, _orm::__private::Vec<::core::option::Option<#name>>>
            where
                C: _orm::exec::OnBackend<K>,
                #holds
                #(
                    // Not a trivial bound: a variant that is not `Clone` is an error where
                    // this is called, not at the derive.
                    for<'__orm> #paths: _orm::KeysQuery + ::core::clone::Clone,
                    <#paths as _orm::KeysQuery>::ByIds: _orm::exec::Fetch<C, K, #paths>,
                )*
            {
                <K as _orm::Kind>::run(async move {
                    let kinds = children
                        .iter()
                        .map(|c| #kind_row)
                        .collect::<_orm::__private::diesel::result::QueryResult<_orm::__private::Vec<&str>>>()?;
                    #check
                    let mut out: _orm::__private::Vec<::core::option::Option<#name>> = children.iter().map(|_| ::core::option::Option::None).collect();
                    #(
                        let keys: _orm::__private::Vec<&#key_tys> = children.iter().map(|c| &c.#key_fields).collect();
                        #poly::load::<#name, #paths, #key_tys, C, K>(&kinds, &keys, &mut out, conn).await?;
                    )*
                    ::core::result::Result::Ok(out)
                })
            }
        }
    };
    let needs: Vec<super::Needs> = paths.iter().map(super::Needs::model).collect();
    let checks = super::checks(&needs, ident);
    let gated = super::if_models(&needs, ident, impls);
    quote!(#checks #gated)
}

/// An exclusive arc's foreign keys (their actions are the arc's defaults,
/// see orm-core's `schema::Fk`) and the CHECK.
pub fn relations(model: &Model) -> Vec<TokenStream> {
    let rel = quote!(_orm::__private::Relation);
    model
        .polymorphic
        .iter()
        .filter(|p| p.arc.is_some())
        .flat_map(|p| {
            let columns: Vec<String> = p.variants.iter().map(|(_, c)| c.value()).collect();
            let fks = p.variants.iter().map(|(path, column)| {
                let fk = quote! {
                    #rel::ForeignKey {
                        table: <Self as _orm::Model>::TABLE,
                        columns: &[#column],
                        references: <#path as _orm::Model>::TABLE,
                        constraint: _orm::__private::Constraint {
                            on_delete: _orm::__private::Option::None,
                            on_update: _orm::__private::Option::None,
                            enforced: true,
                        },
                        unique: false,
                    }
                };
                let needs = [super::Needs::model(path)];
                super::if_models_expr(&needs, &model.ident, fk, &super::model::no_relation())
            });
            let arc = quote!(#rel::ExclusiveArc { table: <Self as _orm::Model>::TABLE, columns: &[#(#columns),*] });
            fks.chain(std::iter::once(arc)).collect::<Vec<_>>()
        })
        .collect()
}
