//! Emits a diesel table module through the vendored `table!` expansion,
//! with its `use ::diesel;` pointed at orm-core's re-export.

use diesel_table_macro_syntax::TableDecl;
use proc_macro2::{Group, Ident, TokenStream, TokenTree};
use quote::quote;
use syn::Path;

/// One column: its name and its diesel SQL type.
pub struct Column<'a> {
    pub name: &'a Ident,
    pub sql_type: TokenStream,
}

/// `pub mod NAME { ... }` exactly as diesel's `table!` would write it, as a
/// call of `table_in!` with [`table_input`].
pub fn table_module(krate: &Path, input: TokenStream) -> TokenStream {
    // The declaration is expanded by a call of orm-derive's `__table_in!`
    // (through orm-core), rather than inlined: the same module, without
    // diesel's ~700 lines in every model's expansion.
    quote!(#krate::__private::table_in! { #input })
}

/// What [`table_module`] passes to `table_in!`: `<orm-core's path>;
/// <table! input>`. `imports` are `use` items the column types need
/// (diesel's own `sql_types::*` is always imported).
pub fn table_input(
    krate: &Path,
    imports: TokenStream,
    doc: &str,
    name: &Ident,
    keys: &[&Ident],
    columns: &[Column],
) -> TokenStream {
    let names = columns.iter().map(|c| c.name);
    let types = columns.iter().map(|c| &c.sql_type);
    let column_docs = columns
        .iter()
        .map(|c| format!("The `{}` column of `{name}`.", c.name));
    let decl = quote! {
        use diesel::sql_types::*;
        #imports
        #[doc = #doc]
        #name (#(#keys),*) {
            #(#[doc = #column_docs] #names -> #types,)*
        }
    };
    quote!(#krate; #decl)
}

/// A `table!` invocation's body, expanded as diesel would.
pub fn from_tokens(input: TokenStream, krate: &Path) -> TokenStream {
    match syn::parse2::<TableDecl>(input) {
        Ok(decl) => point_at_reexport(super::table::expand(decl), krate),
        Err(e) => e.to_compile_error(),
    }
}

/// Rewrites every `use ::diesel;` into `use #krate::__private::diesel;`.
fn point_at_reexport(tokens: TokenStream, krate: &Path) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = TokenStream::new();
    let mut i = 0;
    while i < tokens.len() {
        if is_use_diesel(&tokens[i..]) {
            out.extend(quote!(use #krate::__private::diesel;));
            i += 5;
            continue;
        }
        match &tokens[i] {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), point_at_reexport(g.stream(), krate));
                group.set_span(g.span());
                out.extend([TokenTree::Group(group)]);
            }
            other => out.extend([other.clone()]),
        }
        i += 1;
    }
    out
}

fn is_use_diesel(t: &[TokenTree]) -> bool {
    matches!(t, [TokenTree::Ident(u), TokenTree::Punct(c1), TokenTree::Punct(c2), TokenTree::Ident(d), TokenTree::Punct(semi), ..]
        if u == "use" && c1.as_char() == ':' && c2.as_char() == ':' && d == "diesel" && semi.as_char() == ';')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_nested_diesel_imports() {
        let krate: Path = syn::parse_quote!(::orm_core);
        let out = point_at_reexport(
            quote!(
                mod a {
                    use ::diesel;
                    mod b {
                        use ::diesel;
                    }
                }
            ),
            &krate,
        );
        let text = out.to_string();
        assert!(!text.contains("use :: diesel ;"), "{text}");
        assert_eq!(
            text.matches("use :: orm_core :: __private :: diesel ;")
                .count(),
            2,
            "{text}"
        );
    }
}
