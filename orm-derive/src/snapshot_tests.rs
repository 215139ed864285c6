//! Expansion snapshots of a representative set of models, pretty-printed:
//! every change to what the derive emits shows in review as a diff of
//! `src/snapshots/*.snap`. Accept an intended change with
//! `INSTA_UPDATE=always cargo test -p orm-derive --features postgres` (or
//! `cargo insta review`)
//! and read the diff before committing it.
//!
//! The expansion depends on the crate's features (`postgres` adds
//! PostgreSQL-only query nodes to each table), so the snapshots are of the
//! build `cargo test --workspace` makes, where orm-core enables `postgres`;
//! `cargo test -p orm-derive` alone skips them, saying so.

use crate::derive_model_inner;

fn expand(input: &str) -> String {
    let tokens = derive_model_inner(input.parse().expect("a struct"));
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(mut file) => {
            show_gated(&mut file.items);
            prettyplease::unparse(&file)
        }
        Err(_) => tokens.to_string(),
    }
}

/// The items the derive emits only where another model exists (a gate, see
/// `expand::gate`: nested blocks around `__OrmGate! { @else { .. } .. }`) as
/// `#[gated(Post)] const _: () = { .. };`, and what it emits where `Post` is
/// not a model as `#[gated(Post, otherwise)] const _: () = { .. };`
/// (`#[gated(__OrmGate, column("author_id"))]` for `__OrmGate! {
/// @column(..) .. }` inside), which the pretty printer lays out like the rest.
fn show_gated(items: &mut [syn::Item]) {
    for item in items {
        if let syn::Item::Const(c) = item {
            if let syn::Expr::Block(block) = &mut *c.expr {
                let stmts = std::mem::take(&mut block.block.stmts);
                for stmt in stmts {
                    let gated = match &stmt {
                        syn::Stmt::Expr(syn::Expr::Block(b), _) => show_gate(&b.block),
                        _ => None,
                    };
                    let stmt = match stmt {
                        syn::Stmt::Macro(m) => syn::Stmt::Item(syn::Item::Macro(syn::ItemMacro {
                            attrs: m.attrs,
                            ident: None,
                            mac: m.mac,
                            semi_token: m.semi_token,
                        })),
                        stmt => stmt,
                    };
                    let mut new = match gated {
                        Some(items) => items.into_iter().map(syn::Stmt::Item).collect(),
                        None => vec![stmt],
                    };
                    for stmt in &mut new {
                        if let syn::Stmt::Item(item) = stmt {
                            show_gated(std::slice::from_mut(item));
                        }
                    }
                    block.block.stmts.extend(new);
                }
            }
            continue;
        }
        let syn::Item::Macro(m) = item else { continue };
        let path = &m.mac.path;
        if path.segments.iter().any(|s| s.ident == "table_in") {
            continue;
        }
        // `@column("author_id")` or `@keys("a", "b")`, then the items.
        let mut tokens: Vec<proc_macro2::TokenTree> = m.mac.tokens.clone().into_iter().collect();
        let mut need = proc_macro2::TokenStream::new();
        if let [proc_macro2::TokenTree::Punct(at), proc_macro2::TokenTree::Ident(what), proc_macro2::TokenTree::Group(args), ..] =
            &tokens[..]
        {
            if at.as_char() == '@' && what != "join_key" {
                let args = args.stream();
                need = quote::quote!(, #what(#args));
                tokens.drain(..3);
            }
        }
        let body: proc_macro2::TokenStream = tokens.into_iter().collect();
        let Ok(inner) = syn::parse::Parser::parse2(syn::Block::parse_within, body) else {
            continue;
        };
        *item = syn::parse_quote! {
            #[gated(#path #need)]
            const _: () = { #(#inner)* };
        };
        show_gated(std::slice::from_mut(item));
    }
}

/// A gate's block as the items `#[gated(Post)]` and `#[gated(Post,
/// otherwise)]`, or `None` for another block.
fn show_gate(block: &syn::Block) -> Option<Vec<syn::Item>> {
    let inner = block.stmts.iter().find_map(|s| match s {
        syn::Stmt::Expr(syn::Expr::Block(b), _) => Some(&b.block),
        _ => None,
    })?;
    let path = inner.stmts.iter().find_map(|s| match s {
        syn::Stmt::Item(syn::Item::Use(u)) => use_path(&u.tree, Vec::new()),
        _ => None,
    })?;
    let call = inner.stmts.iter().find_map(|s| match s {
        syn::Stmt::Expr(syn::Expr::Block(b), _) => match b.block.stmts.first() {
            Some(syn::Stmt::Macro(m)) => Some(m.mac.tokens.clone()),
            _ => None,
        },
        _ => None,
    })?;
    let tokens: Vec<proc_macro2::TokenTree> = call.into_iter().collect();
    let [proc_macro2::TokenTree::Punct(_), proc_macro2::TokenTree::Ident(_), proc_macro2::TokenTree::Group(otherwise), rest @ ..] =
        &tokens[..]
    else {
        return None;
    };
    // Statements: a gate nested in this one is a block (which `show_gated`
    // shows in turn).
    let stmts = |tokens| syn::parse::Parser::parse2(syn::Block::parse_within, tokens).ok();
    let items = stmts(rest.iter().cloned().collect())?;
    let mut out: Vec<syn::Item> = vec![syn::parse_quote! {
        #[gated(#path)]
        const _: () = { #(#items)* };
    }];
    let otherwise = stmts(otherwise.stream())?;
    if !otherwise.is_empty() {
        out.push(syn::parse_quote! {
            #[gated(#path, otherwise)]
            const _: () = { #(#otherwise)* };
        });
    }
    Some(out)
}

/// The path of `use path as __OrmGate`.
fn use_path(tree: &syn::UseTree, mut prefix: Vec<syn::Ident>) -> Option<syn::Path> {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.clone());
            use_path(&p.tree, prefix)
        }
        syn::UseTree::Rename(r) if r.rename == "__OrmGate" => {
            prefix.push(r.ident.clone());
            Some(syn::parse_quote!(#(#prefix)::*))
        }
        _ => None,
    }
}

macro_rules! snapshot {
    ($name:ident, $input:literal) => {
        #[test]
        #[cfg_attr(
            not(feature = "postgres"),
            ignore = "the snapshots are of the `postgres` build: run `cargo test --workspace`"
        )]
        fn $name() {
            let expansion = expand($input);
            insta::with_settings!({ description => $input, omit_expression => true }, {
                insta::assert_snapshot!(expansion);
            });
        }
    };
}

snapshot!(
    plain_model,
    "pub struct Tag { pub id: i32, pub name: String }"
);

snapshot!(
    has_many_and_has_one,
    "#[has_many(Post, foreign_key = \"author_id\")] #[has_one(Profile)] \
     pub struct User { pub id: i32, pub name: String }"
);

snapshot!(
    scoped_has_many,
    "#[has_many(Post, as = \"Published\", singular = \"published_post\", scope = posts::published.eq(true))] \
     #[has_many(Post, as = \"Dated\", singular = \"dated_post\", scope = posts::published_on.is_not_null())] \
     pub struct User { pub id: i32, pub name: String }"
);

snapshot!(
    polymorphic_belongs_to,
    "#[polymorphic(Commentable, Post = \"post\", Video = \"video\", derive(Debug, Clone))] \
     pub struct Comment { pub id: i32, pub commentable_type: String, pub commentable_id: Option<i32> }"
);

snapshot!(
    polymorphic_exclusive_arc,
    "#[polymorphic(Attachable, arc(Post = \"post_id\", Video = \"video_id\"))] \
     pub struct Attachment { pub id: i32, pub post_id: Option<i32>, pub video_id: Option<i32> }"
);

snapshot!(
    belongs_to_with_actions,
    "#[belongs_to(User, foreign_key = \"author_id\", as = \"Author\", on_delete = \"set_null\")] \
     pub struct Post { pub id: i32, pub author_id: Option<i32>, pub title: String }"
);

snapshot!(
    belongs_to_many_through_a_generated_table,
    "#[belongs_to_many(User, through = \"rsvps\", as = \"Guests\")] \
     pub struct Event { pub id: i32, pub title: String }"
);

snapshot!(
    belongs_to_many_through_a_join_model,
    "#[belongs_to_many(User, through = Membership, as = \"Members\")] \
     pub struct Club { pub id: i32, pub name: String }"
);

snapshot!(
    join_model,
    "#[belongs_to(Club)] #[belongs_to(User)] \
     pub struct Membership { \
        #[model(primary_key)] pub club_id: i32, \
        #[model(primary_key)] pub user_id: i32, \
        pub role: String }"
);

snapshot!(
    existing_table_and_defaults,
    "#[model(table = crate::schema::novelists, new = NovelistRow)] \
     pub struct Novelist { \
        pub id: i32, \
        pub name: String, \
        #[model(default = \"now()\")] pub joined: chrono::NaiveDateTime, \
        #[model(read_only)] pub books: i32 }"
);

snapshot!(
    a_mistake_is_one_error_and_the_rest_is_emitted,
    "#[has_many(Post, as = \"Posts\", on_delete = \"explode\")] \
     pub struct User { pub id: i32, pub name: String }"
);

snapshot!(
    polymorphic_many_to_many,
    "#[belongs_to_many(Tag, through = Tagging, foreign_key = \"taggable_id\", \
        through_scope = taggings::taggable_type.eq(\"post\"), constraints = false)] \
     pub struct Post { pub id: i32, pub title: String }"
);
