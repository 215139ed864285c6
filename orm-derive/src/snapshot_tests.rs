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

/// The items the derive emits only where another model exists (`Post! {
/// .. }`, see `expand::if_models`) as `#[gated(Post)] const _: () = { .. };`
/// (`#[gated(Post, column("author_id"))]` for `Post! { @column(..) .. }`),
/// which the pretty printer lays out like the rest.
fn show_gated(items: &mut [syn::Item]) {
    for item in items {
        if let syn::Item::Const(c) = item {
            if let syn::Expr::Block(block) = &mut *c.expr {
                for stmt in &mut block.block.stmts {
                    match stmt {
                        syn::Stmt::Item(item) => show_gated(std::slice::from_mut(item)),
                        syn::Stmt::Macro(m) => {
                            let mut item = syn::Item::Macro(syn::ItemMacro {
                                attrs: std::mem::take(&mut m.attrs),
                                ident: None,
                                mac: m.mac.clone(),
                                semi_token: m.semi_token,
                            });
                            show_gated(std::slice::from_mut(&mut item));
                            *stmt = syn::Stmt::Item(item);
                        }
                        _ => {}
                    }
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
            if at.as_char() == '@' {
                let args = args.stream();
                need = quote::quote!(, #what(#args));
                tokens.drain(..3);
            }
        }
        let body: proc_macro2::TokenStream = tokens.into_iter().collect();
        let Ok(mut inner) = syn::parse2::<syn::File>(body) else {
            continue;
        };
        show_gated(&mut inner.items);
        let inner = inner.items;
        *item = syn::parse_quote! {
            #[gated(#path #need)]
            const _: () = { #(#inner)* };
        };
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
