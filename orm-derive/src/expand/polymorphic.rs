//! `#[polymorphic(Commentable, Post = "post", Video = "video")]`: the enum
//! of the variants, and the reads of the row the two columns point at,
//! which orm-core's `assoc::poly` runs.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use crate::internals::ast::{Model, Polymorphic};
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
                let doc = format!("A `{}` whose type column holds {:?}.", quote!(#path), d.value());
                quote!(#[doc = #doc] #ident(#path))
            });
            let doc = format!(
                "What `{}`'s `{}` and `{}` point at: one variant per model the `#[polymorphic]` attribute declares.",
                model.ident, p.type_column.value, p.foreign_key.value
            );
            quote! {
                #[doc = #doc]
                #[derive(#(#derives),*)]
                #vis enum #name {
                    #(#variants,)*
                }
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
    let field = |column: &crate::internals::ast::Named, what: &str| {
        match model.fields.iter().find(|f| f.column == column.value) {
            Some(f) => Ok(f),
            None => Err(syn::Error::new(
                column.span,
                format!(
                    "`{ident}` has no field `{}`, the {what} column of this polymorphic association; name it with `{}` = \"..\"",
                    column.value,
                    if what == "key" { "foreign_key" } else { "type_column" },
                ),
            )
            .to_compile_error()),
        }
    };
    let (key, kind) = match (field(&p.foreign_key, "key"), field(&p.type_column, "type")) {
        (Ok(key), Ok(kind)) => (key, kind),
        (key, kind) => return [key.err(), kind.err()].into_iter().flatten().collect(),
    };
    let (key, key_ty, kind) = (&key.ident, &key.ty, &kind.ident);
    let name = &p.name;
    let snake = inflect::snake(&name.to_string());
    let (get, load) = (
        crate::internals::ident(&snake, p.span),
        crate::internals::ident(&format!("load_{}", inflect::plural(&snake)), p.span),
    );
    let (paths, discriminators): (Vec<_>, Vec<_>) = p.variants.iter().cloned().unzip();
    let variants: Vec<_> = paths.iter().map(variant_ident).collect();
    let (model_name, column) = (ident.to_string(), &p.type_column.value);
    let poly = quote!(_orm::__private::poly);
    let d_get = format!(
        "The row this `{ident}`'s `{column}` and `{}` point at, as a [`{name}`]: `None` for a NULL key, an `Err` for a discriminator none of the variants declares (checked before any statement) and `Err(NotFound)` for a key pointing at no row. One statement.",
        p.foreign_key.value
    );
    let d_load = format!(
        "[`{ident}::{snake}`] of each of `children`, aligned with them: one statement per variant present (per chunk of keys), none for a variant no child points at."
    );
    // The key field holds each variant's key: said once, on its type; the
    // methods' bound is checked where they are called (`for<'__orm>`).
    let key_span = syn::spanned::Spanned::span(key_ty);
    let key_checks = paths.iter().map(|path| {
        quote_spanned!(key_span=> const _: fn() = _orm::__private::poly::holds::<#key_ty, #path>;)
    });
    let holds = quote!(#(for<'__orm> #key_ty: _orm::ForeignKey<<#paths as _orm::Model>::Id>,)*);
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
                    let kind: &str = ::core::convert::AsRef::<str>::as_ref(&self.#kind);
                    #(
                        if kind == #discriminators {
                            return #poly::find::<#name, #paths, #key_ty, C, K>(&self.#key, conn).await;
                        }
                    )*
                    ::core::result::Result::Err(#poly::unknown(#model_name, #column, kind, &[#(#discriminators),*]))
                })
            }
            #[doc = #d_load]
            pub fn #load<'c, C, K: _orm::Kind>(children: &'c [Self], conn: &'c mut C) -> <K as _orm::Kind>::Out<'c, _orm::__private::Vec<::core::option::Option<#name>>>
            where
                C: _orm::exec::OnBackend<K>,
                #holds
                #(
                    #paths: _orm::KeysQuery + ::core::clone::Clone,
                    <#paths as _orm::KeysQuery>::ByIds: _orm::exec::Fetch<C, K, #paths>,
                )*
            {
                <K as _orm::Kind>::run(async move {
                    let kinds: _orm::__private::Vec<&str> = children.iter().map(|c| ::core::convert::AsRef::<str>::as_ref(&c.#kind)).collect();
                    let keys: _orm::__private::Vec<&#key_ty> = children.iter().map(|c| &c.#key).collect();
                    #poly::check(&kinds, &[#(#discriminators),*], #model_name, #column)?;
                    let mut out: _orm::__private::Vec<::core::option::Option<#name>> = children.iter().map(|_| ::core::option::Option::None).collect();
                    #(#poly::load::<#name, #paths, #key_ty, C, K>(&kinds, &keys, &mut out, conn).await?;)*
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
