//! Each association: a hidden marker type described to orm-core, and thin
//! methods on the model that forward to orm-core's operations.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

use super::join_table::{self, module_path};
use super::model::{field_hash, table_path};
use crate::docs;
use crate::internals::ast::{Assoc, JoinTable, Kind, Model};
use crate::internals::inflect;

/// The marker types, at module level (they appear in public where-clauses).
pub fn markers(model: &Model) -> TokenStream {
    if model.assocs.is_empty() {
        return TokenStream::new();
    }
    // As visible as the model: an impl naming a private model as `Source` or
    // `Target` can't be on a marker more public than that (E0446).
    let marker_vis = super::in_child_module(&model.vis);
    let markers = model.assocs.iter().map(|a| {
        let marker = a.marker.segments.last().map(|s| &s.ident);
        let reader = if a.kind.is_many() {
            &a.plural
        } else {
            &a.singular
        };
        let doc = format!(
            "`{}`'s {} association ({}): the methods `{}::{reader}` and the others of this \
             association name it in their bounds, which every connection of a backend orm-core \
             supports meets (`C: orm_core::Conn<Pg>`, ..).",
            model.ident,
            a.label,
            docs::via(model, a),
            model.ident,
        );
        quote! {
            #[doc = #doc]
            #marker_vis struct #marker;
        }
    });
    let module = crate::internals::markers_module(&model.ident);
    let vis = &model.vis;
    let doc = format!(
        "The associations of [`{0}`](super::{0}), one type each, as the bounds of its methods name them.",
        model.ident
    );
    quote! {
        #[doc = #doc]
        #vis mod #module {
            #(#markers)*
        }
    }
}

/// The models an association's items name besides the deriving one, with
/// the columns they read of each.
fn needs(a: &Assoc) -> Vec<super::Needs<'_>> {
    let mut target = super::Needs::model(&a.target);
    if matches!(a.kind, Kind::HasMany | Kind::HasOne) {
        let columns = a.key_columns().map(|c| (c.value.as_str(), c.span));
        target.columns.extend(columns);
    }
    // The columns a scope's writers set are fields of the target, or of
    // the join model for a `through_scope`.
    let sets = a.scope.iter().flat_map(|s| s.sets.iter().flatten());
    let sets = sets.map(|(column, _)| (column.value.as_str(), column.span));
    let mut needs = vec![target];
    if let (Some(join), Some(other)) = (a.join_model(), &a.other_key) {
        let mut columns = vec![
            (a.foreign_key.value.as_str(), a.foreign_key.span),
            (other.value.as_str(), other.span),
        ];
        columns.extend(sets);
        needs.push(super::Needs {
            model: join,
            columns,
            keys: Some([&a.foreign_key.value, &other.value]),
        });
    } else {
        needs[0].columns.extend(sets);
    }
    needs
}

/// Marker impls and the association methods.
pub fn impls(model: &Model, joins: &[JoinTable]) -> TokenStream {
    let ident = &model.ident;
    let parts = model.assocs.iter().map(|a| match a.kind {
        Kind::BelongsToMany => many_to_many(model, a, joins),
        Kind::HasMany => has_many(model, a),
        Kind::HasOne => has_one(model, a),
        Kind::BelongsTo => belongs_to(model, a),
    });
    let parts = model
        .assocs
        .iter()
        .zip(parts)
        .map(|(a, (describe, methods))| {
            let related = related_methods(model, a);
            let methods = quote!(#methods #related);
            let included = include_description(a);
            let describe = quote!(#describe #included);
            let needs = needs(a);
            let checks = super::checks(&needs, ident);
            // Checks of their own that need what the items need.
            let key_types = join_key_types(model, a);
            let gated = super::if_models(
                &needs,
                ident,
                quote! {
                    #key_types
                    #describe
                    impl #ident { #methods }
                },
            );
            quote!(#checks #gated)
        });
    quote!(#(#parts)*)
}

struct Names {
    target: TokenStream,
    marker: syn::Path,
}

/// The association as `orm_core::include` names it: its kind, and the
/// query `.refine(..)` is given.
fn include_description(a: &Assoc) -> TokenStream {
    let (marker, target) = (&a.marker, &a.target);
    let (via, query) = match a.kind {
        Kind::HasMany => (
            quote!(HasMany),
            quote!(_orm::__private::ChildrenOf<#marker>),
        ),
        Kind::BelongsToMany => (
            quote!(BelongsToMany),
            quote!(<#target as _orm::KeysQuery>::ByIds),
        ),
        Kind::HasOne => (quote!(HasOne), quote!(())),
        Kind::BelongsTo => (quote!(BelongsTo), quote!(())),
    };
    quote! {
        #[automatically_derived]
        impl _orm::nested::Association for #marker {
            type Via = _orm::nested::via::#via;
            type Query = #query;
        }
    }
}

/// The parents by their related rows: `has_*_where` (a filter of this
/// model's query), and for a collection `*_count` (an expression of it) and
/// `count_*_for(_where)` (the counts of many parents).
fn related_methods(model: &Model, a: &Assoc) -> TokenStream {
    let Names { target, marker } = names(a);
    let name = if a.kind.is_many() {
        &a.plural
    } else {
        &a.singular
    };
    let doc = |m: &str| docs::assoc(model, a, m);
    let r = quote!(_orm::assoc::related);
    let via = match a.kind {
        Kind::HasMany | Kind::HasOne => quote!(Children),
        Kind::BelongsTo => quote!(Parent),
        Kind::BelongsToMany => quote!(Targets),
    };
    let (has_where, d_has_where) = (method(&format!("has_{name}_where"), a), doc("has_where"));
    // A `has_*` refines the rows its scope keeps.
    let (rows, base) = match a.kind {
        Kind::HasMany | Kind::HasOne if a.scope.is_some() => (
            quote!(_orm::__private::Base<#marker>),
            quote!(_orm::__private::base::<#marker>()),
        ),
        _ => (
            quote!(<#target as _orm::Model>::Table),
            quote!(::core::default::Default::default()),
        ),
    };
    let refine = quote!(impl ::core::ops::FnOnce(#rows) -> Q);
    let filter = quote! {
        #[doc = #d_has_where]
        pub fn #has_where<Q>(refine: #refine) -> <Q as #r::RelatedWhere<#marker, #r::#via>>::Filter
        where
            Q: #r::Refines<<#target as _orm::Model>::Table> + #r::RelatedWhere<#marker, #r::#via>,
        {
            #r::RelatedWhere::filter(refine(#base))
        }
    };
    let (count_ty, count_fn, def, counts, q) = match a.kind {
        Kind::HasMany => (
            quote!(ChildCount),
            quote!(child_count),
            quote!(OneToMany),
            quote!(OneToManyCounts<C, K>),
            quote!(CountChildren),
        ),
        Kind::BelongsToMany => (
            quote!(TargetCount),
            quote!(target_count),
            quote!(ManyToManyDef),
            quote!(ManyToManyCounts<C, K>),
            quote!(CountTargets),
        ),
        Kind::HasOne | Kind::BelongsTo => return filter,
    };
    let counts = op(a, quote!(_orm::__private::#counts));
    let (count, d_count) = (method(&format!("{name}_count"), a), doc("count_expr"));
    let (count_for, d_count_for) = (method(&format!("count_{name}_for"), a), doc("count_for"));
    let (count_for_where, d_count_for_where) = (
        method(&format!("count_{name}_for_where"), a),
        doc("count_for_where"),
    );
    let gate = gate(&marker);
    let out = quote!(<K as _orm::Kind>::Out<'c, _orm::__private::Vec<i64>>);
    quote! {
        #filter
        #[doc = #d_count]
        pub fn #count() -> #r::#count_ty<#marker> where #gate: _orm::__private::#def {
            #r::#count_fn::<#marker>()
        }
        #[doc = #d_count_for]
        pub fn #count_for<'c, C, K: _orm::Kind>(parents: &[Self], conn: &'c mut C) -> #out
        where
            #marker: #counts,
        {
            <K as _orm::Kind>::run(<#marker as #counts>::count_many(_orm::__private::ids(parents), conn))
        }
        #[doc = #d_count_for_where]
        pub fn #count_for_where<'c, C, K: _orm::Kind, Q>(
            parents: &[Self],
            refine: impl ::core::ops::Fn(#rows) -> Q + ::core::marker::Send + 'c,
            conn: &'c mut C,
        ) -> #out
        where
            #marker: #counts,
            Q: #r::Refines<<#target as _orm::Model>::Table> + #r::#q<#marker, C, K> + 'c,
        {
            <K as _orm::Kind>::run(<#marker as #counts>::count_many_where(_orm::__private::ids(parents), refine, conn))
        }
    }
}

fn names(a: &Assoc) -> Names {
    let target = &a.target;
    Names {
        target: quote_spanned!(a.target.segments.last().map_or(a.span, |s| s.ident.span())=> #target),
        marker: a.marker.clone(),
    }
}

/// An operation trait as the bounds of an association's methods name it,
/// on the association's attribute: rustc shows a bound that fails there,
/// with the method, and not on `#[derive(Model)]`.
fn op(a: &Assoc, tokens: TokenStream) -> TokenStream {
    super::respan(tokens, a.span)
}

/// `for<'__orm> Marker`, bounded in the where clause of a method without
/// generic parameters. A bound on a concrete type is checked where it is
/// written (a "trivial bound"), so an association whose target lacks its
/// key field failed there once more for each such method; higher-ranked, it
/// is checked only where the method is called.
fn gate(marker: &syn::Path) -> TokenStream {
    quote!(for<'__orm> #marker)
}

/// A method named `name`, spanned at the association's attribute (`r#type`
/// for a keyword).
fn method(name: &str, a: &Assoc) -> syn::Ident {
    crate::internals::ident(name, a.span)
}

fn many_to_many(model: &Model, a: &Assoc, joins: &[JoinTable]) -> (TokenStream, TokenStream) {
    let reader = &a.plural;
    let Names { target, marker, .. } = names(a);
    let ident = &model.ident;
    let Some((through, through_impl)) = through(model, a, joins) else {
        return (quote!(), quote!());
    };
    // A symmetric self-reference stores both directions: the same key value
    // serves as source and as target.
    let mirror = a.symmetric.map(|_| {
        quote! {
            fn mirror_key(source: &<#ident as _orm::Model>::Id) -> _orm::__private::Option<<#ident as _orm::Model>::Id> {
                _orm::__private::Option::Some(::core::clone::Clone::clone(source))
            }
            fn mirror_target(target: &<#ident as _orm::Model>::Id) -> _orm::__private::Option<<#ident as _orm::Model>::Id> {
                _orm::__private::Option::Some(::core::clone::Clone::clone(target))
            }
        }
    });
    // Through a join model, the bounds of `Source` and `Target` name the
    // key columns' types: a key field the join model lacks is then reported
    // on the `foreign_key`/`other_key` as written, like the keys' own errors
    // (and shown once), not on the model names.
    let (source, target_ty) = match (a.join_model(), &a.other_key) {
        (Some(_), Some(other)) => (
            super::respan(quote!(#ident), a.foreign_key.span),
            super::respan(quote!(#target), other.span),
        ),
        _ => (quote!(#ident), quote!(#target)),
    };
    let describe = quote! {
        #[automatically_derived]
        impl _orm::__private::ManyToManyDef for #marker {
            const NAME: &'static str = #reader;
            type Source = #source;
            type Target = #target_ty;
            #through
            #mirror
        }
        #through_impl
    };
    let ops = quote!(_orm::__private::ManyToManyOps<C, K>);
    let add = quote!(_orm::__private::DefaultAdd<C, K>);
    let id = quote!(_orm::Model::id(self));
    let one = quote!(_orm::AsKey::key_id(target));
    let methods = collection_methods(
        model,
        a,
        Family {
            reads: ops.clone(),
            adds: add.clone(),
            removes: ops.clone(),
            sets: add.clone(),
            remove_one: quote!(<#marker as #ops>::remove(#id, #one, conn)),
            create_call: quote!(<#marker as #add>::create(#id, new, conn)),
            query_ty: quote!(_orm::__private::TargetsQuery<'q, #marker, Self>),
            query_trait: quote!(_orm::__private::TargetsAt<'q, Self>),
            query: quote!(<#marker as _orm::__private::TargetsAt<'q, Self>>::query(self)),
            eager: quote!(_orm::__private::ManyToManyEager<C, K>),
            eager_query: quote!(<#target as _orm::KeysQuery>::ByIds),
            new_ty: quote!(<#target as _orm::Model>::New),
        },
    );
    let gate = gate(&marker);
    let changes = method(&format!("{}_changes", a.plural), a);
    let unwritable = unwritable(a);
    let d_changes = docs::assoc(model, a, "changes");
    let payload_methods = a.join_model().map(|join| payload_methods(model, a, join));
    let top = top_method(
        model,
        a,
        quote!(_orm::__private::ManyToManyEager<C, K>),
        quote!(_orm::__private::RankedTargets<#marker, O>),
        quote!((#target, <#ident as _orm::Model>::Id)),
    );
    let methods = quote! {
        #methods
        #[doc = #d_changes]
        pub fn #changes(&self) -> _orm::Changes<#marker> where #gate: _orm::__private::ManyToManyDef #unwritable {
            _orm::Changes::new(#id)
        }
        #payload_methods
        #top
    };
    (describe, methods)
}

/// Through a join model, the checks that its two key fields have the types
/// of the keys they hold, each on the option naming it (where the join
/// model has both, so that a missing one is said once).
fn join_key_types(model: &Model, a: &Assoc) -> TokenStream {
    let (Some(join), Some(other)) = (a.join_model(), &a.other_key) else {
        return TokenStream::new();
    };
    let ident = &model.ident;
    let target = &a.target;
    [(quote!(#ident), &a.foreign_key), (quote!(#target), other)]
        .into_iter()
        .map(|(key_of, column)| {
            let hash = Literal::u64_suffixed(field_hash(&column.value));
            let (value, check) = key_type(join, &hash, &key_of);
            super::respan(quote!(const _: () = <#value as #check>::IS;), column.span)
        })
        .collect()
}

/// `Value` and `JoinKeyType<Id, Join, M>`: that the join model's field
/// `hash` holds `M`'s key as it is.
fn key_type(join: &syn::Path, hash: &Literal, key_of: &TokenStream) -> (TokenStream, TokenStream) {
    (
        quote!(_orm::__private::FieldOf<#join, #hash>),
        quote!(_orm::__private::JoinKeyType<_orm::__private::KeyOf<#key_of>, #join, #key_of>),
    )
}

/// The `ManyToMany` items naming the join table and its rows, and for a
/// join model its `ThroughModel` impl.
///
/// Through a join model, both impls convert the keys through what
/// [`join_key_types`] checks (the identity), on the same tokens, so that a
/// key field of another type is that check's error alone.
fn through(model: &Model, a: &Assoc, joins: &[JoinTable]) -> Option<(TokenStream, TokenStream)> {
    let p = quote!(_orm::__private);
    let rows = quote!(#p::Vec<#p::Row<Self>>);
    let Some(join) = a.join_model() else {
        let other = a.other_key.as_ref()?;
        // The project's own `table!`: a key column it lacks is reported at
        // the option (or the association) that names it.
        let (table, fk, ok) = match a.existing_table() {
            Some(path) => (
                quote!(#path),
                crate::internals::ident(&a.foreign_key.value, a.foreign_key.span),
                crate::internals::ident(&other.value, other.span),
            ),
            None => (
                module_path(model, join_table::of(a, joins)?),
                crate::internals::ident(&a.foreign_key.value, Span::call_site()),
                crate::internals::ident(&other.value, Span::call_site()),
            ),
        };
        let types = quote! {
            type Through = #table::table;
            type SourceKey = #table::#fk;
            type TargetKey = #table::#ok;
            type Scope = #p::NoScope;
            type Payload = ();
            type Insert = #p::InsertPairs<Self>;
            const KEYS_ONLY: bool = true;
            fn insert(rows: #rows, _: #p::Conflict) -> Self::Insert {
                #p::InsertPairs::new(rows)
            }
        };
        return Some((types, quote!()));
    };
    let other = a.other_key.as_ref()?;
    let ident = &model.ident;
    let marker = &a.marker;
    let (hs, ht) = (
        Literal::u64_suffixed(field_hash(&a.foreign_key.value)),
        Literal::u64_suffixed(field_hash(&other.value)),
    );
    let source = quote_spanned!(a.foreign_key.span=> <#join as _orm::Field<#hs>>);
    let target = quote_spanned!(other.span=> <#join as _orm::Field<#ht>>);
    let span = join.segments.last().map_or(a.span, |s| s.ident.span());
    let keys = quote_spanned!(span=> <#join as #p::JoinKeys<#hs, #ht>>);
    let target_model = &a.target;
    // Spanned like the checks, so that a key of another type is their error
    // alone (rustc reports one bound at one place once).
    let key = |hash: &Literal, key_of: &TokenStream| {
        let (value, check) = key_type(join, hash, key_of);
        quote!(<#value as #check>)
    };
    let (s_key, t_key) = (key(&hs, &quote!(#ident)), key(&ht, &quote!(#target_model)));
    let s_from = super::respan(quote!(#s_key::from_key(s)), a.foreign_key.span);
    let t_from = super::respan(quote!(#t_key::from_key(t)), other.span);
    let mut new_row = quote_spanned!(span=> #keys::new_row(#s_from, #t_from, p));
    let (scope_ty, scoped) = match &a.scope {
        Some(scope) => {
            // The join rows its writers add carry the scope's values.
            let set_scope = set_scope_on_new(a, join);
            new_row = quote!({ let mut row = #new_row; let new = &mut row; #set_scope row });
            (quote!(#p::Scope<Self>), scoped(a, join, scope))
        }
        None => (quote!(#p::NoScope), TokenStream::new()),
    };
    let types = quote! {
        type Through = <#join as _orm::Model>::Table;
        type SourceKey = #source::Column;
        type TargetKey = #target::Column;
        type Scope = #scope_ty;
        type Payload = <#join as #p::JoinModel>::Payload;
        type Insert = #p::Upsert<#join, Self>;
        const ROW_COLUMNS: usize = <#join as _orm::Model>::TABLE.columns.len();
        fn insert(rows: #rows, conflict: #p::Conflict) -> Self::Insert {
            #p::Upsert::new(::core::iter::IntoIterator::into_iter(rows).map(|(s, t, p)| #new_row), conflict)
        }
    };
    let source_of = super::respan(
        quote!(#s_key::as_key(#source::get(row))),
        a.foreign_key.span,
    );
    let through_impl = quote! {
        #scoped
        #[automatically_derived]
        impl #p::ThroughModel for #marker {
            type Join = #join;
            fn source_of(row: &#join) -> &<#ident as _orm::Model>::Id {
                #source_of
            }
        }
    };
    Some((types, through_impl))
}

/// The methods of an association through a join model that write or read
/// the payload: `add_guest_with`, `guests_with_through`, ...
fn payload_methods(model: &Model, a: &Assoc, join: &syn::Path) -> TokenStream {
    let Names { target, marker, .. } = names(a);
    let gate = gate(&marker);
    let p = quote!(_orm::__private);
    let (pl, s) = (&a.plural, &a.singular);
    let m = |n: String| method(&n, a);
    let doc = |m: &str| docs::assoc(model, a, m);
    let payload = quote!(<#join as #p::JoinModel>::Payload);
    let (add_op, through_op) = (
        op(a, quote!(#p::ManyToManyAdd<C, K>)),
        op(a, quote!(#p::ThroughOps<C, K>)),
    );
    let add = quote!(<#marker as #add_op>);
    let through = quote!(<#marker as #through_op>);
    let id = quote!(_orm::Model::id(self));
    let ids = quote!(_orm::IntoKeys::into_ids(targets));
    let update = quote!(#p::Conflict::Update);
    let unwritable = unwritable(a);
    let (add_with, add_all_with, set_with, create_with) = (
        m(format!("add_{s}_with")),
        m(format!("add_{pl}_with")),
        m(format!("set_{pl}_with")),
        m(format!("create_{s}_with")),
    );
    let (query, with_through, load, load_where) = (
        m(format!("{pl}_through")),
        m(format!("{pl}_with_through")),
        m(format!("load_{pl}_with_through")),
        m(format!("load_{pl}_with_through_where")),
    );
    let (d_add_with, d_add_all_with, d_set_with, d_create_with) = (
        doc("add_with"),
        doc("add_all_with"),
        doc("set_with"),
        doc("create_with"),
    );
    let (d_query, d_with_through, d_load, d_load_where) = (
        doc("through_query"),
        doc("with_through"),
        doc("load_with_through"),
        doc("load_with_through_where"),
    );
    let rows = quote!(#p::Vec<#p::Vec<(#target, #join)>>);
    quote! {
        #[doc = #d_add_with]
        pub fn #add_with<'c, C, K: _orm::Kind>(&self, target: impl _orm::AsKey<#target>, payload: #payload, conn: &'c mut C) -> <K as _orm::Kind>::Out<'c, usize>
        where #marker: #add_op #unwritable {
            <K as _orm::Kind>::run(#add::add_with(#id, #p::Vec::from([_orm::AsKey::key_id(target)]), payload, #update, conn))
        }
        #[doc = #d_add_all_with]
        pub fn #add_all_with<'c, C, K: _orm::Kind>(&self, targets: impl _orm::IntoKeys<#target>, payload: #payload, conn: &'c mut C) -> <K as _orm::Kind>::Out<'c, usize>
        where #marker: #add_op #unwritable {
            <K as _orm::Kind>::run(#add::add_with(#id, #ids, payload, #update, conn))
        }
        #[doc = #d_set_with]
        pub fn #set_with<'c, C, K: _orm::Kind>(
            &self,
            targets: impl _orm::IntoKeys<#target>,
            payload: #payload,
            overrides: &[(_orm::Key<#target>, #payload)],
            conn: &'c mut C,
        ) -> <K as _orm::Kind>::Out<'c, _orm::SetDiff>
        where #marker: #add_op #unwritable {
            <K as _orm::Kind>::run(#add::set_with(#id, #p::with_overrides(#ids, payload, overrides), #update, conn))
        }
        #[doc = #d_create_with]
        pub fn #create_with<'c, C, K: _orm::Kind>(&self, new: <#target as _orm::Model>::New, payload: #payload, conn: &'c mut C) -> <K as _orm::Kind>::Out<'c, #target>
        where #marker: #add_op #unwritable {
            <K as _orm::Kind>::run(#add::create_with(#id, new, payload, conn))
        }
        #[doc = #d_query]
        pub fn #query(&self) -> #p::ThroughQuery<#marker> where #gate: #p::ThroughModel {
            #p::ThroughQuery::new(#p::Vec::from([#id]))
        }
        #[doc = #d_with_through]
        pub fn #with_through<'c, C, K: _orm::Kind>(&self, conn: &'c mut C) -> <K as _orm::Kind>::Out<'c, #p::Vec<(#target, #join)>>
        where #marker: #through_op {
            <K as _orm::Kind>::run(#through::load_with_through(#id, conn))
        }
        #[doc = #d_load]
        pub fn #load<'c, C, K: _orm::Kind>(parents: &[Self], conn: &'c mut C) -> <K as _orm::Kind>::Out<'c, #rows>
        where #marker: #through_op {
            <K as _orm::Kind>::run(#through::load_many_with_through(#p::ids(parents), conn))
        }
        #[doc = #d_load_where]
        pub fn #load_where<'c, C, K: _orm::Kind, W, O>(
            parents: &[Self],
            refine: impl Fn(#p::ThroughQuery<#marker>) -> #p::ThroughQuery<#marker, #p::TargetAndJoin<#marker>, W, O> + ::core::marker::Send + 'c,
            conn: &'c mut C,
        ) -> <K as _orm::Kind>::Out<'c, #rows>
        where
            #marker: #p::ThroughOps<C, K>,
            #p::ThroughQuery<#marker, #p::TargetAndJoin<#marker>, W, O>:
                _orm::exec::Fetch<C, K, (#target, #join)> + #p::CountBinds<C, K>,
        {
            <K as _orm::Kind>::run(#through::load_many_with_through_where(#p::ids(parents), refine, conn))
        }
    }
}

/// The marker impl shared by `has_one` and `has_many`.
fn one_to_many(model: &Model, a: &Assoc) -> TokenStream {
    let reader = if a.kind.is_many() {
        &a.plural
    } else {
        &a.singular
    };
    let Names { target, marker, .. } = names(a);
    let ident = &model.ident;
    // `Source`'s bound names the key column's type: if the target lacks the
    // field, that error is the same as the one on `ForeignKey`, so it gets
    // the same span (the `foreign_key`) and rustc shows it once.
    let source = super::respan(quote!(#ident), a.foreign_key.span);
    let fields: Vec<TokenStream> = a
        .key_columns()
        .map(|c| {
            let hash = Literal::u64_suffixed(field_hash(&c.value));
            quote_spanned!(c.span=> <#target as _orm::Field<#hash>>)
        })
        .collect();
    let (fk_columns, key_value, set_key, key_of) = match &fields[..] {
        [field] => (
            quote!(#field::Column),
            quote_spanned!(a.foreign_key.span=> #field::Value),
            quote!(#field::set_on_new(new, key);),
            quote!(_orm::__private::Cow::Borrowed(#field::get(target))),
        ),
        fields => {
            let i = (0..fields.len()).map(syn::Index::from);
            (
                quote!(_orm::Cols<(#(#fields::Column,)*)>),
                quote!((#(#fields::Value,)*)),
                quote!(#(#fields::set_on_new(new, key.#i);)*),
                quote!(_orm::__private::Cow::Owned((#(::core::clone::Clone::clone(#fields::get(target)),)*))),
            )
        }
    };
    // `set_null` on the target's key needs it nullable, which only its type says.
    let set_null = [&a.on_delete, &a.on_update]
        .into_iter()
        .flatten()
        .find(|action| action.value == "set_null")
        .map(|action| {
            let key_value = super::respan(key_value.clone(), action.span);
            let check = quote_spanned!(action.span=> _orm::__private::set_null_needs_nullable::<#key_value>);
            quote!(const _: fn() = #check;)
        });
    let (scope_ty, scoped) = match &a.scope {
        Some(scope) => (
            quote!(_orm::__private::Scope<Self>),
            scoped(a, &a.target, scope),
        ),
        None => (quote!(_orm::__private::NoScope), TokenStream::new()),
    };
    let set_scope = set_scope_on_new(a, &a.target);
    quote! {
        #set_null
        #scoped
        #[automatically_derived]
        impl _orm::__private::OneToMany for #marker {
            const NAME: &'static str = #reader;
            type Source = #source;
            type Target = #target;
            type ForeignKey = #fk_columns;
            type KeyValue = #key_value;
            type Scope = #scope_ty;
            fn set_key_on_new(new: &mut <#target as _orm::Model>::New, key: #key_value) {
                #set_key
                #set_scope
            }
            fn key_of(target: &#target) -> _orm::__private::Cow<'_, #key_value> {
                #key_of
            }
        }
    }
}

/// `<Post as Field<..>>`: the field of `scoped` (the target, or the join
/// model) for a column a scope sets.
fn scope_field(scoped: &syn::Path, column: &crate::internals::ast::Named) -> TokenStream {
    let hash = scope_hash(column);
    quote_spanned!(column.span=> <#scoped as _orm::Field<#hash>>)
}

/// The statements setting a simple-equality scope's columns on `new`, a
/// `New` of `scoped` (the target, or the join model).
fn set_scope_on_new(a: &Assoc, scoped: &syn::Path) -> TokenStream {
    let sets = a.scope.iter().flat_map(|s| s.sets.iter().flatten());
    sets.map(|(column, value)| {
        let (field, hash) = (scope_field(scoped, column), scope_hash(column));
        quote!(#field::set_on_new(new, _orm::__private::value::<#scoped, #hash>(#value));)
    })
    .collect()
}

/// The hash naming the field of a column a scope sets, on the column.
fn scope_hash(column: &crate::internals::ast::Named) -> TokenStream {
    super::respan(
        Literal::u64_suffixed(field_hash(&column.value)).into_token_stream(),
        column.span,
    )
}

/// The `Scoped` impl of an association with a `scope` on the rows of
/// `target` (its target, or its join model): its expression, built once,
/// and the columns its writers set.
fn scoped(a: &Assoc, target: &syn::Path, scope: &crate::internals::ast::Scope) -> TokenStream {
    let marker = &a.marker;
    let p = quote!(_orm::__private);
    let table = quote!(<#target as _orm::Model>::Table);
    let (set_ty, set, build) = match &scope.sets {
        // The condition is made of what the writers set: the values are
        // converted in one place, so a wrong one is one error.
        Some(sets) => {
            let hashes: Vec<_> = sets.iter().map(|(column, _)| scope_hash(column)).collect();
            let values = sets.iter().map(|(_, value)| value);
            let all = (0..sets.len()).map(syn::Index::from).fold(None, |all, i| {
                Some(match all {
                    Some(all) => quote!(#all.and(set.#i)),
                    None => quote!(set.#i),
                })
            });
            (
                quote!((#(#p::Assign<#target, #hashes>,)*)),
                quote!((#(#p::assign::<#target, #hashes>(#p::value::<#target, #hashes>(#values)),)*)),
                quote!(SCOPE.get::<#table, _>(|| { let set = <Self as #p::Scoped>::set(); #all })),
            )
        }
        None => {
            let expr = &scope.expr;
            let span = syn::spanned::Spanned::span(expr);
            (
                quote!(#p::NoSet<#table>),
                quote!(::core::default::Default::default()),
                quote_spanned!(span=> SCOPE.get::<#table, _>(|| #expr)),
            )
        }
    };
    quote! {
        #[automatically_derived]
        impl #p::Scoped for #marker {
            type Table = #table;
            type Set = #set_ty;
            fn set() -> Self::Set {
                #set
            }
            fn scope() -> &'static dyn #p::ErasedScope {
                #[allow(unused_imports)]
                use #p::diesel::prelude::*;
                static SCOPE: #p::ScopeCell = #p::ScopeCell::new();
                #build
            }
        }
    }
}

/// The bound of a writer of an association whose scope its writers could
/// not keep (not a simple equality): never met, with a message that says so.
fn unwritable(a: &Assoc) -> Option<TokenStream> {
    let scope = a.scope.as_ref()?;
    if scope.sets.is_some() {
        return None;
    }
    let marker = &a.marker;
    Some(quote_spanned!(a.span=> , for<'__orm> #marker: _orm::__private::Writable))
}

fn has_many(model: &Model, a: &Assoc) -> (TokenStream, TokenStream) {
    let describe = one_to_many(model, a);
    let marker = &a.marker;
    let ops = quote!(_orm::__private::OneToManyOps<C, K>);
    let detach = quote!(_orm::__private::DetachOps<C, K>);
    let id = quote!(_orm::Model::id(self));
    let one = quote!(_orm::__private::Vec::from([_orm::AsKey::key_id(target)]));
    let methods = collection_methods(
        model,
        a,
        Family {
            reads: ops.clone(),
            adds: ops.clone(),
            removes: detach.clone(),
            sets: detach.clone(),
            remove_one: quote!(<#marker as #detach>::remove_all(#id, #one, conn)),
            create_call: quote!(<#marker as #ops>::create(#id, _orm::__private::new_pointing_at::<#marker>(new, #id), conn)),
            query_ty: quote!(_orm::__private::ChildrenQuery<'q, #marker, Self>),
            query_trait: quote!(_orm::__private::ChildrenAt<'q, Self>),
            query: quote!(<#marker as _orm::__private::ChildrenAt<'q, Self>>::query(self)),
            eager: quote!(_orm::__private::OneToManyEager<C, K>),
            eager_query: quote!(_orm::__private::ChildrenOf<#marker>),
            new_ty: new_with_key(&names(a).target, marker),
        },
    );
    let target = &a.target;
    let top = top_method(
        model,
        a,
        quote!(_orm::__private::OneToManyEager<C, K>),
        quote!(_orm::__private::Ranked<#marker, O>),
        quote!(#target),
    );
    (describe, quote!(#methods #top))
}

/// `load_*_top`: eager loading with a per-parent limit, through the window
/// query `ranked` that loads as `row`.
fn top_method(
    model: &Model,
    a: &Assoc,
    eager: TokenStream,
    ranked: TokenStream,
    row: TokenStream,
) -> TokenStream {
    let Names { target, marker, .. } = names(a);
    let eager = op(a, eager);
    let top = method(&format!("load_{}_top", a.plural), a);
    let d_top = docs::assoc(model, a, "load_top");
    let d = quote!(_orm::__private::diesel);
    quote! {
        #[doc = #d_top]
        pub fn #top<'c, C, K: _orm::Kind, O>(parents: &[Self], limit: i64, order: O, conn: &'c mut C) -> <K as _orm::Kind>::Out<'c, _orm::__private::Vec<_orm::__private::Vec<#target>>>
        where
            #marker: #eager,
            O: #d::Expression + #d::expression::AppearsOnTable<<#target as _orm::Model>::Table> + ::core::clone::Clone + ::core::marker::Send + 'c,
            #ranked: _orm::exec::Fetch<C, K, #row>,
        {
            <K as _orm::Kind>::run(<#marker as #eager>::load_top(_orm::__private::ids(parents), limit, order, conn))
        }
    }
}

fn has_one(model: &Model, a: &Assoc) -> (TokenStream, TokenStream) {
    let describe = one_to_many(model, a);
    let Names { target, marker, .. } = names(a);
    let ops = op(a, quote!(_orm::__private::OneToManyOps<C, K>));
    let new_ty = new_with_key(&target, &marker);
    let name = &a.singular;
    let (get, set, unset, create) = (
        method(name, a),
        method(&format!("set_{name}"), a),
        method(&format!("unset_{name}"), a),
        method(&format!("create_{name}"), a),
    );
    let (d_get, d_set, d_unset, d_create) = (
        docs::assoc(model, a, "get_one"),
        docs::assoc(model, a, "set_one"),
        docs::assoc(model, a, "unset_one"),
        docs::assoc(model, a, "create_one"),
    );
    let detach = op(a, quote!(_orm::__private::DetachOps<C, K>));
    let eager = op(a, quote!(_orm::__private::OneToManyEager<C, K>));
    let load = method(&format!("load_{}", inflect::plural(name)), a);
    let d_load = docs::assoc(model, a, "load_one");
    let id = quote!(_orm::Model::id(self));
    let (g, c) = (quote!(<'c, C, K: _orm::Kind>), quote!(&'c mut C));
    let run = quote!(<K as _orm::Kind>::run);
    let unwritable = unwritable(a);
    let methods = quote! {
        #[doc = #d_get]
        pub fn #get #g(&self, conn: #c) -> <K as _orm::Kind>::Out<'c, _orm::__private::Option<#target>> where #marker: #ops {
            #run(<#marker as #ops>::first(#id, conn))
        }
        #[doc = #d_set]
        pub fn #set #g(&self, target: impl _orm::AsKey<#target>, conn: #c) -> <K as _orm::Kind>::Out<'c, ()> where #marker: #ops #unwritable {
            #run(<#marker as #ops>::set_one(#id, _orm::AsKey::key_id(target), conn))
        }
        #[doc = #d_unset]
        pub fn #unset #g(&self, conn: #c) -> <K as _orm::Kind>::Out<'c, bool> where #marker: #detach #unwritable {
            #run(<#marker as #detach>::unset(#id, conn))
        }
        #[doc = #d_create]
        pub fn #create #g(&self, new: #new_ty, conn: #c) -> <K as _orm::Kind>::Out<'c, #target> where #marker: #ops #unwritable {
            #run(<#marker as #ops>::create_one(#id, _orm::__private::new_pointing_at::<#marker>(new, #id), conn))
        }
        #[doc = #d_load]
        pub fn #load #g(parents: &[Self], conn: #c) -> <K as _orm::Kind>::Out<'c, _orm::__private::Vec<_orm::__private::Option<#target>>>
        where #marker: #eager {
            #run(<#marker as #eager>::load_first(_orm::__private::ids(parents), conn))
        }
    };
    (describe, methods)
}

/// What a `belongs_to` getter returns for a key field of type `fk_ty`
/// (`ForeignKey::Target`): `Option<User>` for an `Option` key, `User` for
/// the key types orm-core takes as they are. Spelt out, it reads better in
/// the docs and a key of the wrong type fails only in the association's
/// impl, not once more in each getter's signature.
fn parent_ty(fk_ty: &syn::Type, target: &TokenStream) -> TokenStream {
    if let syn::Type::Path(p) = fk_ty {
        if let Some(last) = p.path.segments.last() {
            if last.ident == "Option" && p.qself.is_none() {
                return quote!(_orm::__private::Option<#target>);
            }
            if ["i16", "i32", "i64", "String"]
                .iter()
                .any(|t| p.path.is_ident(t))
            {
                return quote!(#target);
            }
        }
    }
    quote!(<#fk_ty as _orm::ForeignKey<<#target as _orm::Model>::Id>>::Target<#target>)
}

fn belongs_to(model: &Model, a: &Assoc) -> (TokenStream, TokenStream) {
    let reader = &a.singular;
    let Names { target, marker, .. } = names(a);
    let ident = &model.ident;
    let table = table_path(model);
    let fields: Option<Vec<_>> = a
        .key_columns()
        .map(|c| model.fields.iter().find(|f| f.column == c.value))
        .collect();
    let Some(fields) = fields else {
        return (quote!(), quote!());
    };
    let (fks, tys): (Vec<_>, Vec<_>) = fields.iter().map(|f| (&f.ident, &f.ty)).unzip();
    let (fk_columns, fk_ty, key, set_key) = match (&fks[..], &tys[..]) {
        ([fk], [ty]) => (
            quote!(#table::#fk),
            quote!(#ty),
            quote!(_orm::__private::Cow::Borrowed(&source.#fk)),
            quote!(source.#fk = value;),
        ),
        _ => {
            let i = (0..fks.len()).map(syn::Index::from);
            (
                quote!(_orm::Cols<(#(#table::#fks,)*)>),
                quote!((#(#tys,)*)),
                quote!(_orm::__private::Cow::Owned((#(::core::clone::Clone::clone(&source.#fks),)*))),
                quote!(#(source.#fks = value.#i;)*),
            )
        }
    };
    // An error on the key's type is on the field's type, or, for a tuple
    // of several, on the `foreign_key(..)`.
    let key_value = match &tys[..] {
        [_] => quote_spanned!(a.foreign_key.span=> #fk_ty),
        _ => super::respan(fk_ty.clone(), a.foreign_key.span),
    };
    let describe = quote! {
        #[automatically_derived]
        impl _orm::__private::BelongsTo for #marker {
            const NAME: &'static str = #reader;
            type Source = #ident;
            type Target = #target;
            type ForeignKey = #fk_columns;
            type KeyValue = #key_value;
            fn key(source: &#ident) -> _orm::__private::Cow<'_, #fk_ty> {
                #key
            }
            fn set_key(source: &mut #ident, value: #fk_ty) { #set_key }
        }
    };
    let parent = match &tys[..] {
        [ty] => parent_ty(ty, &target),
        _ => quote!(#target),
    };
    let ops = op(a, quote!(_orm::__private::BelongsToOps<C, K>));
    let name = &a.singular;
    let (get, set, create, unset) = (
        method(name, a),
        method(&format!("set_{name}"), a),
        method(&format!("create_{name}"), a),
        method(&format!("unset_{name}"), a),
    );
    let unset_ops = op(a, quote!(_orm::__private::UnsetOps<C, K>));
    let eager = op(a, quote!(_orm::__private::BelongsToEager<C, K>));
    // `#parent` keeps its own spans (on the user's tokens, `Option` would
    // read as a needless qualification of the prelude's).
    let with_parent = |t: TokenStream| {
        let (head, close) = (op(a, quote!(#t<C, K, Parent =)), op(a, quote!(>)));
        quote!(#head #parent #close)
    };
    let (parent_ops, parent_eager) = (
        with_parent(quote!(_orm::__private::BelongsToOps)),
        with_parent(quote!(_orm::__private::BelongsToEager)),
    );
    let load = method(&format!("load_{}", inflect::plural(name)), a);
    let d_load = docs::assoc(model, a, "load_parents");
    let d_unset = docs::assoc(model, a, "unset_parent");
    let (d_get, d_set, d_create) = (
        docs::assoc(model, a, "parent"),
        docs::assoc(model, a, "set_parent"),
        docs::assoc(model, a, "create_parent"),
    );
    let (g, c) = (quote!(<'c, C, K: _orm::Kind>), quote!(&'c mut C));
    let run = quote!(<K as _orm::Kind>::run);
    let methods = quote! {
        #[doc = #d_get]
        pub fn #get #g(&'c self, conn: #c) -> <K as _orm::Kind>::Out<'c, #parent>
        where #marker: #parent_ops {
            #run(<#marker as #ops>::load(self, conn))
        }
        #[doc = #d_set]
        pub fn #set #g(&'c mut self, target: impl _orm::AsKey<#target>, conn: #c) -> <K as _orm::Kind>::Out<'c, ()> where #marker: #ops {
            #run(<#marker as #ops>::set(self, _orm::AsKey::key_id(target), conn))
        }
        #[doc = #d_create]
        pub fn #create #g(&'c mut self, new: <#target as _orm::Model>::New, conn: #c) -> <K as _orm::Kind>::Out<'c, #target> where #marker: #ops {
            #run(<#marker as #ops>::create(self, new, conn))
        }
        #[doc = #d_unset]
        pub fn #unset #g(&'c mut self, conn: #c) -> <K as _orm::Kind>::Out<'c, ()> where #marker: #unset_ops {
            #run(<#marker as #unset_ops>::unset(self, conn))
        }
        #[doc = #d_load]
        pub fn #load #g(
            children: &'c [Self],
            conn: #c,
        ) -> <K as _orm::Kind>::Out<'c, _orm::__private::Vec<#parent>>
        where #marker: #parent_eager {
            #run(<#marker as #eager>::load_many(children, conn))
        }
    };
    (describe, methods)
}

/// How a collection association (`belongs_to_many`, `has_many`) reaches
/// orm-core: the method families differ only in these calls.
/// What `create_*` of a `has_many`/`has_one` takes: the target's `New*`, or
/// a closure that builds it from the key.
fn new_with_key(target: &TokenStream, marker: &syn::Path) -> TokenStream {
    quote! {
        impl _orm::NewWithKey<
            <#target as _orm::Model>::New,
            <#marker as _orm::__private::OneToMany>::KeyValue,
        >
    }
}

struct Family {
    /// What `create_*` takes.
    new_ty: TokenStream,
    /// The ops trait for reading.
    reads: TokenStream,
    /// The ops trait for adding and creating.
    adds: TokenStream,
    /// The ops trait for removing and clearing.
    removes: TokenStream,
    /// The ops trait for replacing.
    sets: TokenStream,
    remove_one: TokenStream,
    /// The call `create_*` makes.
    create_call: TokenStream,
    query_ty: TokenStream,
    /// The trait `query_ty` is a projection of.
    query_trait: TokenStream,
    query: TokenStream,
    /// The eager-loading trait.
    eager: TokenStream,
    /// The query eager loading runs, which `load_*_where` refines.
    eager_query: TokenStream,
}

/// `guests`, `guests_query`, `count_guests`, `has_guest(s)`, `add_guest(s)`,
/// `remove_guest(s)`, `set_guests`, `clear_guests`, `create_guest`.
fn collection_methods(model: &Model, a: &Assoc, f: Family) -> TokenStream {
    let Names { target, marker } = names(a);
    let Family {
        reads,
        adds,
        removes,
        sets,
        remove_one,
        create_call,
        query_ty,
        query_trait,
        query,
        eager,
        eager_query,
        new_ty,
    } = f;
    let (reads, adds, removes, sets, eager) = (
        op(a, reads),
        op(a, adds),
        op(a, removes),
        op(a, sets),
        op(a, eager),
    );
    let (p, s) = (&a.plural, &a.singular);
    let m = |n: String| method(&n, a);
    let doc = |m: &str| docs::assoc(model, a, m);
    let (load, query_fn, count, has, has_all, add, add_all) = (
        m(p.clone()),
        m(format!("{p}_query")),
        m(format!("count_{p}")),
        m(format!("has_{s}")),
        m(format!("has_{p}")),
        m(format!("add_{s}")),
        m(format!("add_{p}")),
    );
    let (remove, remove_all, set, clear, create) = (
        m(format!("remove_{s}")),
        m(format!("remove_{p}")),
        m(format!("set_{p}")),
        m(format!("clear_{p}")),
        m(format!("create_{s}")),
    );
    let (d_load, d_query, d_count, d_has, d_has_all, d_add, d_add_all) = (
        doc("load"),
        doc("query"),
        doc("count"),
        doc("has"),
        doc("has_all"),
        doc("add"),
        doc("add_all"),
    );
    let (d_remove, d_remove_all, d_set, d_clear, d_create) = (
        doc("remove"),
        doc("remove_all"),
        doc("set"),
        doc("clear"),
        doc("create"),
    );
    let (load_many, d_load_many) = (m(format!("load_{p}")), doc("load_many"));
    let (load_where, d_load_where) = (m(format!("load_{p}_where")), doc("load_where"));
    let id = quote!(_orm::Model::id(self));
    let ids = quote!(_orm::IntoKeys::into_ids(targets));
    let r = quote!(<#marker as #reads>);
    let ad = quote!(<#marker as #adds>);
    let w = quote!(<#marker as #removes>);
    let st = quote!(<#marker as #sets>);
    // On both kinds of connection: the result, or a future of it.
    let (g, c) = (quote!(<'c, C, K: _orm::Kind>), quote!(&'c mut C));
    let out = |t: TokenStream| quote!(<K as _orm::Kind>::Out<'c, #t>);
    let run = |body: TokenStream| quote!(<K as _orm::Kind>::run(#body));
    let (rows, int, count_ty, yes) = (
        out(quote!(_orm::__private::Vec<#target>)),
        out(quote!(usize)),
        out(quote!(i64)),
        out(quote!(bool)),
    );
    let (diff, created) = (out(quote!(_orm::SetDiff)), out(quote!(#target)));
    let one = quote!(_orm::__private::Vec::from([_orm::AsKey::key_id(target)]));
    let load_body = run(quote!(#r::load(#id, conn)));
    let count_body = run(quote!(#r::count(#id, conn)));
    let has_body = run(quote!(#r::has(#id, _orm::AsKey::key_id(target), conn)));
    let has_all_body = run(quote!(#r::has_all(#id, #ids, conn)));
    let add_body = run(quote!(#ad::add_all(#id, #one, conn)));
    let add_all_body = run(quote!(#ad::add_all(#id, #ids, conn)));
    let remove_body = run(remove_one);
    let remove_all_body = run(quote!(#w::remove_all(#id, #ids, conn)));
    let set_body = run(quote!(#st::set(#id, #ids, conn)));
    let clear_body = run(quote!(#w::clear(#id, conn)));
    let create_body = run(create_call);
    let unwritable = unwritable(a);
    quote! {
        #[doc = #d_load]
        pub fn #load #g(&self, conn: #c) -> #rows where #marker: #reads {
            #load_body
        }
        #[doc = #d_query]
        pub fn #query_fn<'q>(&self) -> #query_ty where #marker: #query_trait {
            #query
        }
        #[doc = #d_count]
        pub fn #count #g(&self, conn: #c) -> #count_ty where #marker: #reads {
            #count_body
        }
        #[doc = #d_has]
        pub fn #has #g(&self, target: impl _orm::AsKey<#target>, conn: #c) -> #yes where #marker: #reads {
            #has_body
        }
        #[doc = #d_has_all]
        pub fn #has_all #g(&self, targets: impl _orm::IntoKeys<#target>, conn: #c) -> #yes where #marker: #reads {
            #has_all_body
        }
        #[doc = #d_add]
        pub fn #add #g(&self, target: impl _orm::AsKey<#target>, conn: #c) -> #int where #marker: #adds #unwritable {
            #add_body
        }
        #[doc = #d_add_all]
        pub fn #add_all #g(&self, targets: impl _orm::IntoKeys<#target>, conn: #c) -> #int where #marker: #adds #unwritable {
            #add_all_body
        }
        #[doc = #d_remove]
        pub fn #remove #g(&self, target: impl _orm::AsKey<#target>, conn: #c) -> #int where #marker: #removes #unwritable {
            #remove_body
        }
        #[doc = #d_remove_all]
        pub fn #remove_all #g(&self, targets: impl _orm::IntoKeys<#target>, conn: #c) -> #int where #marker: #removes #unwritable {
            #remove_all_body
        }
        #[doc = #d_set]
        pub fn #set #g(&self, targets: impl _orm::IntoKeys<#target>, conn: #c) -> #diff where #marker: #sets #unwritable {
            #set_body
        }
        #[doc = #d_clear]
        pub fn #clear #g(&self, conn: #c) -> #int where #marker: #removes #unwritable {
            #clear_body
        }
        #[doc = #d_create]
        pub fn #create #g(&self, new: #new_ty, conn: #c) -> #created where #marker: #adds #unwritable {
            #create_body
        }
        #[doc = #d_load_many]
        pub fn #load_many<'c, C, K: _orm::Kind>(parents: &[Self], conn: &'c mut C) -> <K as _orm::Kind>::Out<'c, _orm::__private::Vec<_orm::__private::Vec<#target>>>
        where #marker: #eager {
            <K as _orm::Kind>::run(<#marker as #eager>::load_many(_orm::__private::ids(parents), conn))
        }
        #[doc = #d_load_where]
        pub fn #load_where<'c, C, K: _orm::Kind, Q>(
            parents: &[Self],
            refine: impl Fn(#eager_query) -> Q + ::core::marker::Send + 'c,
            conn: &'c mut C,
        ) -> <K as _orm::Kind>::Out<'c, _orm::__private::Vec<_orm::__private::Vec<#target>>>
        where
            #marker: #eager,
            Q: _orm::exec::Fetch<C, K, #target> + _orm::__private::CountBinds<C, K>,
        {
            <K as _orm::Kind>::run(<#marker as #eager>::load_many_where(_orm::__private::ids(parents), refine, conn))
        }
    }
}
