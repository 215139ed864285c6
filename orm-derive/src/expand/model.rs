//! The model's own items: its table, `New*` struct, diesel impls, CRUD.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::diesel_table::{table_input, table_module, Column};
use crate::docs;
use crate::internals::ast::{Assoc, JoinTable, Kind, Model, Table};
use crate::internals::symbol::ACTIONS;

/// The tokens naming the model's table module (`events` or the user's path).
pub fn table_path(model: &Model) -> TokenStream {
    match &model.table {
        Table::Generated { name } => {
            let ident = crate::internals::ident(name, proc_macro2::Span::call_site());
            quote!(#ident)
        }
        Table::Existing { path, .. } => quote!(#path),
    }
}

pub fn new_ident(model: &Model) -> syn::Ident {
    match &model.new_name {
        Some(name) => name.clone(),
        None => format_ident!("New{}", model.ident),
    }
}

/// Items at the user's module level: the table module and `New*`.
pub fn items(model: &Model) -> TokenStream {
    let table = match &model.table {
        Table::Generated { name } => {
            let name = crate::internals::ident(name, proc_macro2::Span::call_site());
            let pk: Vec<&syn::Ident> = model.pk.iter().map(|&i| &model.fields[i].ident).collect();
            let columns: Vec<Column> = model
                .fields
                .iter()
                .map(|f| {
                    let ty = &f.sql_type;
                    Column {
                        name: &f.ident,
                        sql_type: quote!(#ty),
                    }
                })
                .collect();
            let mut own = Vec::new();
            for ty in model.fields.iter().filter_map(|f| f.sql_type.as_ref()) {
                own_sql_types(ty, &mut own);
            }
            let imports = (!own.is_empty()).then(|| quote!(use super::{#(#own),*};));
            let input = table_input(
                &model.krate,
                imports.unwrap_or_default(),
                &docs::table_module(model),
                &name,
                &pk,
                &columns,
            );
            table_module(&model.krate, input)
        }
        Table::Existing { .. } => TokenStream::new(),
    };
    let vis = &model.vis;
    let new = new_ident(model);
    let doc = docs::new_struct(model);
    let fields = model.fields.iter().filter(|f| f.in_new()).map(|f| {
        let (ident, ty) = (&f.ident, f.new_ty());
        let docs = &f.docs;
        if docs.is_empty() {
            let doc = format!("The `{}` column.", f.column);
            quote!(#[doc = #doc] pub #ident: #ty)
        } else {
            quote!(#(#docs)* pub #ident: #ty)
        }
    });
    quote! {
        #table
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        #vis struct #new { #(#fields,)* }
    }
}

/// diesel's SQL type names, which the table module imports (`use
/// diesel::sql_types::*`).
pub const DIESEL_SQL_TYPES: &[&str] = &[
    "Array",
    "BigInt",
    "Binary",
    "Bit",
    "Blob",
    "Bool",
    "Bytea",
    "CChar",
    "Char",
    "Cidr",
    "Citext",
    "Date",
    "Datetime",
    "Decimal",
    "Double",
    "Float",
    "Float4",
    "Float8",
    "Inet",
    "Int2",
    "Int4",
    "Int8",
    "Integer",
    "Interval",
    "Json",
    "Jsonb",
    "Longblob",
    "Longtext",
    "MacAddr",
    "MacAddr8",
    "Mediumblob",
    "Mediumtext",
    "Money",
    "Multirange",
    "Nullable",
    "Numeric",
    "Oid",
    "Range",
    "Record",
    "SmallInt",
    "Text",
    "Time",
    "Timestamp",
    "Timestamptz",
    "TimestamptzSqlite",
    "Tinyblob",
    "Tinytext",
    "TsQuery",
    "TsVector",
    "Unsigned",
    "Uuid",
    "VarChar",
    "Varbinary",
    "Varchar",
];

/// The SQL type of the model's single key column when it is one of diesel's
/// (`Integer`, `Text`, ..), which names the same type in any module: a join
/// table's key column can then be declared with it rather than through the
/// model (`SqlTypeOf<<User as Model>::PrimaryKey>`), which a `pub` column of a
/// model that isn't `pub` would leak (E0446).
pub fn key_sql_type(model: &Model) -> Option<&syn::Type> {
    let [pk] = model.pk[..] else { return None };
    let ty = model.fields[pk].sql_type.as_ref()?;
    let syn::Type::Path(p) = ty else { return None };
    let ident = p.path.get_ident()?;
    (p.qself.is_none() && DIESEL_SQL_TYPES.contains(&ident.to_string().as_str())).then_some(ty)
}

/// The names of the user's own SQL types among `ty` and its generic
/// arguments (`MoodType` in `Nullable<MoodType>`): single identifiers that
/// are not diesel's, which the table module imports from its parent. Longer
/// paths resolve as they do anywhere (`crate::schema::sql_types::Mood`).
fn own_sql_types<'a>(ty: &'a syn::Type, out: &mut Vec<&'a syn::Ident>) {
    let syn::Type::Path(p) = ty else { return };
    if p.qself.is_some() {
        return;
    }
    if let Some(ident) = p.path.get_ident() {
        if !DIESEL_SQL_TYPES.contains(&ident.to_string().as_str()) && !out.contains(&ident) {
            out.push(ident);
        }
        return;
    }
    for seg in &p.path.segments {
        if let syn::PathArguments::AngleBracketed(args) = &seg.arguments {
            for arg in &args.args {
                if let syn::GenericArgument::Type(inner) = arg {
                    own_sql_types(inner, out);
                }
            }
        }
    }
}

/// Trait impls and inherent methods, emitted inside `const _: () = { .. }`.
pub fn impls(model: &Model, joins: &[JoinTable]) -> TokenStream {
    let ident = &model.ident;
    let table = table_path(model);
    let new = new_ident(model);
    let d = quote!(_orm::__private::diesel);
    let all: Vec<_> = model.fields.iter().collect();
    let idents: Vec<_> = all.iter().map(|f| &f.ident).collect();
    let tys: Vec<_> = all.iter().map(|f| &f.ty).collect();
    let settable: Vec<_> = model.fields.iter().filter(|f| f.in_new()).collect();
    let managed: Vec<_> = model
        .fields
        .iter()
        .filter(|f| f.managed)
        .map(|f| (&f.ident, &f.ty))
        .collect();
    let set_idents: Vec<_> = settable.iter().map(|f| &f.ident).collect();
    let set_tys: Vec<_> = settable.iter().map(|f| &f.ty).collect();
    let set_optional: Vec<_> = settable.iter().map(|f| f.db_default).collect();
    // `save` writes every column but the key; a model with nothing else
    // writes its key to itself, which still checks that the row exists.
    let mut changed: Vec<_> = model
        .fields
        .iter()
        .enumerate()
        .filter(|(i, f)| !model.pk.contains(i) && !f.read_only)
        .map(|(_, f)| f)
        .collect();
    if changed.is_empty() {
        changed.push(&model.fields[model.pk[0]]);
    }
    let ch_idents: Vec<_> = changed.iter().map(|f| &f.ident).collect();
    let ch_tys: Vec<_> = changed.iter().map(|f| &f.ty).collect();
    let (pk_columns, pk_ty, pk_value) = key_parts(model, &table);

    let name = ident.to_string();
    let table_name = model.table.name();
    let inserted_id = inserted_id(model, &new, &pk_ty);
    let column_defs = model.fields.iter().map(|f| {
        let (col, auto) = (&f.column, f.auto);
        let default = match (&f.default_sql, f.db_default) {
            _ if f.managed => quote!(Now),
            _ if f.read_only => quote!(Unchecked),
            (Some(sql), _) => quote!(Expr(#sql)),
            (None, true) => quote!(Exists),
            (None, false) => quote!(None),
        };
        let field = &f.ident;
        // Spanned at the field's `sql_type` (or its type), so that a column
        // type orm-core has no DDL for is reported there.
        let ddl = super::respan(
            quote!(<#d::dsl::SqlTypeOf<#table::#field> as _orm::__private::DdlType>),
            f.sql_type_span,
        );
        quote! {
            _orm::__private::ColumnDef {
                name: #col, ty: #ddl::TYPE, nullable: #ddl::NULLABLE, auto_increment: #auto,
                default: _orm::__private::ColumnDefault::#default,
            }
        }
    });
    let pk_cols = model.pk.iter().map(|&i| &model.fields[i].column);
    let relations = model.assocs.iter().flat_map(|a| {
        relations(a, joins).into_iter().map(move |r| {
            let models = std::iter::once(&a.target).chain(a.join_model());
            let needs: Vec<_> = models.map(super::Needs::model).collect();
            super::if_models_expr(&needs, &model.ident, r, &no_relation())
        })
    });
    let relations = relations.chain(super::polymorphic::relations(model));
    let fields = model.fields.iter().map(|f| {
        let hash = Literal::u64_suffixed(field_hash(&f.column));
        let (field, ty) = (&f.ident, &f.ty);
        let set = if !f.in_new() {
            quote!(let _ = (new, value);)
        } else if f.db_default {
            quote!(new.#field = _orm::__private::Option::Some(value);)
        } else {
            quote!(new.#field = value;)
        };
        quote! {
            // How orm-core reaches a column by name; nothing for the docs.
            #[doc(hidden)]
            #[automatically_derived]
            impl _orm::Field<#hash> for #ident {
                type Column = #table::#field;
                type Value = #ty;
                fn set_on_new(new: &mut #new, value: #ty) { #set }
                fn get(row: &Self) -> &#ty { &row.#field }
            }
        }
    });
    let crud = crud(model, &table);
    let insertable = if settable.is_empty() && managed.is_empty() {
        // Nothing to insert but a database-assigned key: `DEFAULT VALUES`.
        quote! {
            #[automatically_derived]
            impl #d::Insertable<#table::table> for #new {
                type Values = #d::query_builder::DefaultValues;
                fn values(self) -> Self::Values { #d::query_builder::DefaultValues }
            }
        }
    } else {
        insertable(
            &quote!(#new),
            &table,
            &set_idents,
            &set_tys,
            &set_optional,
            &managed,
        )
    };
    let row = row_impls(&quote!(#ident), &table, &idents, &tys);
    // diesel implements `AsChangeset` for one assignment and for tuples of
    // two or more, not for 1-tuples.
    let (ch_ty, ch_value) = if changed.len() == 1 {
        let (col, ty) = (&ch_idents[0], &ch_tys[0]);
        (
            quote!(#d::dsl::Eq<#table::#col, &'__a #ty>),
            quote!(#d::ExpressionMethods::eq(#table::#col, &self.#col)),
        )
    } else {
        (
            quote!((#(#d::dsl::Eq<#table::#ch_idents, &'__a #ch_tys>,)*)),
            quote!((#(#d::ExpressionMethods::eq(#table::#ch_idents, &self.#ch_idents),)*)),
        )
    };
    let changeset = quote! {
        #[automatically_derived]
        impl<'__a> #d::AsChangeset for &'__a #ident {
            type Target = #table::table;
            type Changeset = <#ch_ty as #d::AsChangeset>::Changeset;
            fn as_changeset(self) -> Self::Changeset { #d::AsChangeset::as_changeset(#ch_value) }
        }
    };
    let with_key = quote! {
        #[doc(hidden)]
        #[automatically_derived]
        impl<__K> _orm::NewWithKey<#new, __K> for #new {
            fn with_key(mut self, key: __K, set: fn(&mut #new, __K)) -> #new {
                set(&mut self, key);
                self
            }
        }
    };
    quote! {
        #insertable
        #with_key
        #row
        #changeset
        #[automatically_derived]
        impl _orm::Model for #ident {
            type Table = #table::table;
            type PrimaryKey = #pk_columns;
            type Id = #pk_ty;
            type Columns = (#(#table::#idents,)*);
            type New = #new;
            const COLUMNS: Self::Columns = (#(#table::#idents,)*);
            const NAME: &'static str = #name;
            // The column types carry the fields' spans (see `ddl` above), so
            // that lints read them as the user's code.
            #[allow(unused_qualifications)]
            const TABLE: &'static _orm::__private::TableDef = &_orm::__private::TableDef {
                name: #table_name,
                columns: &[#(#column_defs,)*],
                primary_key: &[#(#pk_cols),*],
            };
            const RELATIONS: &'static [_orm::__private::Relation] = &[#(#relations,)*];
            fn id(&self) -> #pk_ty { #pk_value }
            #inserted_id
        }
        #(#fields)*
        #crud
        #[automatically_derived]
        impl<__O> _orm::__private::ParentOf<#table::table, __O> for #ident {}
    }
}

fn crud(model: &Model, table: &TokenStream) -> TokenStream {
    let ident = &model.ident;
    let new = new_ident(model);
    let d = quote!(_orm::__private::diesel);
    let (_, pk_ty, _) = key_parts(model, table);
    let doc = |m: &str| docs::crud(model, m);
    let key = doc("key");
    let create_many = doc("create_many");
    let (create, find, all, count, query, save, delete) = (
        doc("create"),
        doc("find"),
        doc("all"),
        doc("count"),
        doc("query"),
        doc("save"),
        doc("delete"),
    );
    // Each method runs its body on a blocking connection and returns its
    // result, or returns it as a future on an async one (`_orm::Out`).
    let out = |t: TokenStream| quote!(<K as _orm::Kind>::Out<'c, #t>);
    let unit = out(quote!(()));
    let save_fn = if model.timestamps {
        let save = docs::crud(model, "save_timestamps");
        quote! {
            #[doc = #save]
            pub fn save<'c, C: ::core::marker::Send, K: _orm::Kind>(&'c mut self, conn: &'c mut C) -> #unit where Self: _orm::Crud<C, K> {
                <K as _orm::Kind>::run(async move {
                    let previous = ::core::mem::replace(
                        &mut self.updated_at,
                        ::core::convert::From::from(_orm::__private::now()),
                    );
                    let saved = <Self as _orm::Crud<C, K>>::save(self, conn).await;
                    if saved.is_err() {
                        self.updated_at = previous;
                    }
                    saved
                })
            }
        }
    } else {
        quote! {
            #[doc = #save]
            pub fn save<'c, C, K: _orm::Kind>(&'c self, conn: &'c mut C) -> #unit where Self: _orm::Crud<C, K> {
                <K as _orm::Kind>::run(<Self as _orm::Crud<C, K>>::save(self, conn))
            }
        }
    };
    let this = out(quote!(Self));
    let all_rows = out(quote!(_orm::__private::Vec<Self>));
    let count_ty = out(quote!(i64));
    quote! {
        impl #ident {
            #[doc = #create]
            pub fn create<'c, C, K: _orm::Kind>(new: #new, conn: &'c mut C) -> #this where Self: _orm::Crud<C, K> {
                <K as _orm::Kind>::run(<Self as _orm::Crud<C, K>>::create(new, conn))
            }
            #[doc = #create_many]
            pub fn create_many<'c, C, K: _orm::Kind>(news: _orm::__private::Vec<#new>, conn: &'c mut C) -> #all_rows
            where Self: _orm::CreateMany<C, K> {
                <K as _orm::Kind>::run(<Self as _orm::CreateMany<C, K>>::create_many(news, conn))
            }
            #[doc = #key]
            pub fn key(id: #pk_ty) -> _orm::Key<Self> {
                _orm::Key::new(id)
            }
            #[doc = #find]
            pub fn find<'c, C, K: _orm::Kind>(id: #pk_ty, conn: &'c mut C) -> #this where Self: _orm::Crud<C, K> {
                <K as _orm::Kind>::run(<Self as _orm::Crud<C, K>>::find(id, conn))
            }
            #[doc = #all]
            pub fn all<'c, C, K: _orm::Kind>(conn: &'c mut C) -> #all_rows where Self: _orm::Crud<C, K> {
                <K as _orm::Kind>::run(<Self as _orm::Crud<C, K>>::all(conn))
            }
            #[doc = #count]
            pub fn count<'c, C, K: _orm::Kind>(conn: &'c mut C) -> #count_ty where Self: _orm::Crud<C, K> {
                <K as _orm::Kind>::run(<Self as _orm::Crud<C, K>>::count(conn))
            }
            #[doc = #query]
            pub fn query<'a, DB>() -> _orm::BoxedQuery<'a, Self, DB>
            where
                DB: #d::backend::Backend,
                _orm::Rows<Self>: #d::query_dsl::methods::BoxedDsl<'a, DB>,
            {
                #d::QueryDsl::into_boxed(_orm::rows::<Self>())
            }
            #save_fn
            #[doc = #delete]
            pub fn delete<'c, C, K: _orm::Kind>(&'c self, conn: &'c mut C) -> #unit where Self: _orm::Crud<C, K> {
                <K as _orm::Kind>::run(<Self as _orm::Crud<C, K>>::delete(self, conn))
            }
        }
    }
}

/// The foreign keys and join tables an association declares, for DDL.
fn relations(assoc: &Assoc, joins: &[JoinTable]) -> Vec<TokenStream> {
    let target = &assoc.target;
    let rel = quote!(_orm::__private::Relation);
    let fk = &assoc.foreign_key.value;
    let declared = constraint(assoc);
    let default = quote!(_orm::__private::Constraint::DEFAULT);
    // A scoped `has_one` is one row among those its scope keeps: the key
    // column is not unique.
    let unique = assoc.kind == Kind::HasOne && assoc.scope.is_none();
    let columns: Vec<&str> = assoc.key_columns().map(|c| c.value.as_str()).collect();
    let foreign_key =
        |table: TokenStream, columns: &[&str], references: TokenStream, c: &TokenStream| {
            quote! {
                #rel::ForeignKey {
                    table: <#table as _orm::Model>::TABLE,
                    columns: &[#(#columns),*],
                    references: <#references as _orm::Model>::TABLE,
                    constraint: #c,
                    unique: #unique,
                }
            }
        };
    match assoc.kind {
        Kind::BelongsTo => vec![foreign_key(
            quote!(Self),
            &columns,
            quote!(#target),
            &declared,
        )],
        Kind::HasOne | Kind::HasMany => {
            vec![foreign_key(
                quote!(#target),
                &columns,
                quote!(Self),
                &declared,
            )]
        }
        Kind::BelongsToMany => {
            if let (Some(join), Some(other)) = (assoc.join_model(), &assoc.other_key) {
                return vec![
                    foreign_key(quote!(#join), &[fk], quote!(Self), &declared),
                    foreign_key(quote!(#join), &[&other.value], quote!(#target), &default),
                ];
            }
            if let (Some(path), Some(other)) = (assoc.existing_table(), &assoc.other_key) {
                let name = path.segments.last().map(|s| s.ident.to_string());
                let keys = [
                    (fk, quote!(Self), &declared),
                    (&other.value, quote!(#target), &default),
                ]
                .map(|(column, model, c)| quote!((#column, <#model as _orm::Model>::TABLE, #c)));
                return vec![quote! {
                    #rel::JoinTable(&_orm::__private::JoinTableDef { name: #name, keys: [#(#keys),*], timestamps: false, existing: true })
                }];
            }
            let Some(join) = super::join_table::of(assoc, joins) else {
                return Vec::new();
            };
            let through = &join.name.value;
            // This side constrains its own key column; the other side, if it
            // declares the table too, constrains the other.
            let keys = join.keys.iter().map(|(column, path)| {
                let c = if column == fk { &declared } else { &default };
                quote!((#column, <#path as _orm::Model>::TABLE, #c))
            });
            let timestamps = join.timestamps;
            vec![quote! {
                #rel::JoinTable(&_orm::__private::JoinTableDef { name: #through, keys: [#(#keys),*], timestamps: #timestamps, existing: false })
            }]
        }
    }
}

/// The association's `on_delete`, `on_update` and `constraints` options.
fn constraint(assoc: &Assoc) -> TokenStream {
    let action = |named: &Option<crate::internals::ast::Named>| match named {
        Some(named) => {
            let variant = ACTIONS
                .iter()
                .find(|(name, _)| *name == named.value)
                .map_or("Cascade", |(_, variant)| variant);
            let variant = format_ident!("{}", variant);
            quote!(_orm::__private::Option::Some(_orm::__private::Action::#variant))
        }
        None => quote!(_orm::__private::Option::None),
    };
    let (on_delete, on_update) = (action(&assoc.on_delete), action(&assoc.on_update));
    let enforced = assoc.unenforced.is_none();
    quote! {
        _orm::__private::Constraint { on_delete: #on_delete, on_update: #on_update, enforced: #enforced }
    }
}

/// 64-bit FNV-1a, the same as `orm_core::field_hash`.
pub fn field_hash(name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// `Insertable` for a struct whose fields `idents` are columns of `table`,
/// by value and by reference (as diesel's derive: `values(&new)`,
/// `values(&rows)`); an `optional` field is an `Option` whose `None` leaves
/// the column to its default; the `managed` columns (timestamps) are
/// inserted with the current time.
pub fn insertable<T: quote::ToTokens>(
    ty: &TokenStream,
    table: &TokenStream,
    idents: &[&syn::Ident],
    tys: &[T],
    optional: &[bool],
    managed: &[(&syn::Ident, &syn::Type)],
) -> TokenStream {
    let d = quote!(_orm::__private::diesel);
    let (now_idents, now_tys): (Vec<_>, Vec<_>) = managed.iter().copied().unzip();
    let now = (!managed.is_empty()).then(|| quote!(let now = _orm::__private::now();));
    let values = |generics: TokenStream,
                  self_ty: TokenStream,
                  tys: &[TokenStream],
                  by_ref: bool| {
        let (types, values): (Vec<_>, Vec<_>) = idents
            .iter()
            .zip(tys)
            .zip(optional)
            .map(|((ident, ty), &optional)| {
                let eq = quote!(#d::dsl::Eq<#table::#ident, #ty>);
                let field = if by_ref { quote!(&self.#ident) } else { quote!(self.#ident) };
                if optional {
                    let option = if by_ref {
                        quote!(_orm::__private::Option::as_ref(#field))
                    } else {
                        field
                    };
                    (
                        quote!(_orm::__private::Option<#eq>),
                        quote!(_orm::__private::Option::map(#option, |v| #d::ExpressionMethods::eq(#table::#ident, v))),
                    )
                } else {
                    (eq, quote!(#d::ExpressionMethods::eq(#table::#ident, #field)))
                }
            })
            .unzip();
        quote! {
            #[automatically_derived]
            impl #generics #d::Insertable<#table::table> for #self_ty {
                type Values = <(
                    #(#types,)*
                    #(#d::dsl::Eq<#table::#now_idents, #now_tys>,)*
                ) as #d::Insertable<#table::table>>::Values;
                fn values(self) -> Self::Values {
                    #now
                    #d::Insertable::values((
                        #(#values,)*
                        #(#d::ExpressionMethods::eq(#table::#now_idents, <#now_tys as ::core::convert::From<_>>::from(now)),)*
                    ))
                }
            }
        }
    };
    let owned: Vec<TokenStream> = tys.iter().map(|t| quote!(#t)).collect();
    let borrowed: Vec<TokenStream> = tys.iter().map(|t| quote!(&'__a #t)).collect();
    let by_value = values(TokenStream::new(), ty.clone(), &owned, false);
    let by_ref = values(quote!(<'__a>), quote!(&'__a #ty), &borrowed, true);
    quote! {
        #by_value
        #by_ref
        // Lets a `Vec` of these (or a slice of references) be inserted in
        // one statement; diesel covers `&T` itself.
        #[automatically_derived]
        impl #d::internal::derives::insertable::UndecoratedInsertRecord<#table::table> for #ty {}
    }
}

/// `Queryable` and `Selectable` for a struct whose fields are columns of
/// `table`, read by name in the fields' order.
pub fn row_impls<T: quote::ToTokens>(
    ty: &TokenStream,
    table: &TokenStream,
    idents: &[&syn::Ident],
    tys: &[T],
) -> TokenStream {
    let d = quote!(_orm::__private::diesel);
    // The fields' columns in the fields' order: every read selects them by
    // name (see `Model::Columns`).
    let all_sql = quote!(#d::dsl::SqlTypeOf<(#(#table::#idents,)*)>);
    let index = (0..idents.len()).map(syn::Index::from);
    // `i16`/`i32` fields are read checked (see orm-core's `Checked`).
    let (row_tys, values): (Vec<_>, Vec<_>) = tys
        .iter()
        .zip(index)
        .map(
            |(ty, i)| match checked_read(&syn::parse2(ty.to_token_stream()).ok()) {
                Some(row_ty) => (
                    row_ty,
                    quote!(_orm::__private::Unchecked::unchecked(row.#i)),
                ),
                None => (ty.to_token_stream(), quote!(row.#i)),
            },
        )
        .unzip();
    quote! {
        #[automatically_derived]
        impl<__DB: #d::backend::Backend> #d::deserialize::Queryable<#all_sql, __DB> for #ty
        where
            (#(#row_tys,)*): #d::deserialize::FromStaticSqlRow<#all_sql, __DB>,
        {
            type Row = (#(#row_tys,)*);
            fn build(row: Self::Row) -> #d::deserialize::Result<Self> {
                _orm::__private::Result::Ok(Self { #(#idents: #values,)* })
            }
        }
        #[automatically_derived]
        impl<__DB: #d::backend::Backend> #d::Selectable<__DB> for #ty {
            type SelectExpression = (#(#table::#idents,)*);
            fn construct_selection() -> Self::SelectExpression { (#(#table::#idents,)*) }
        }
    }
}

/// The row type that reads a field of type `ty` checked: `Checked<i32>` for
/// `i32` (and `i16`), `Option<Checked<i32>>` for `Option<i32>`; `None` for
/// every other type.
fn checked_read(ty: &Option<syn::Type>) -> Option<TokenStream> {
    let ty = ty.as_ref()?;
    let small_int = |ty: &syn::Type| match ty {
        syn::Type::Path(p)
            if p.qself.is_none() && (p.path.is_ident("i32") || p.path.is_ident("i16")) =>
        {
            Some(quote!(_orm::__private::Checked<#ty>))
        }
        _ => None,
    };
    match crate::internals::attr::option_inner(ty) {
        Some(inner) => small_int(inner).map(|c| quote!(_orm::__private::Option<#c>)),
        None => small_int(ty),
    }
}

/// `Model::new_id` when `New*` carries the key, `Model::auto_id` when the
/// database assigns it: how a backend without RETURNING finds the new row.
fn inserted_id(model: &Model, new: &syn::Ident, pk_ty: &TokenStream) -> TokenStream {
    let fields: Vec<_> = model.pk.iter().map(|&i| &model.fields[i]).collect();
    if fields.iter().all(|f| f.in_new()) {
        let idents = fields.iter().map(|f| &f.ident);
        let value = if let [f] = fields[..] {
            let ident = &f.ident;
            quote!(::core::clone::Clone::clone(&new.#ident))
        } else {
            quote!((#(::core::clone::Clone::clone(&new.#idents)),*))
        };
        quote! {
            fn new_id(new: &#new) -> _orm::__private::Option<#pk_ty> {
                _orm::__private::Option::Some(#value)
            }
        }
    } else {
        quote! {
            fn auto_id(last_insert_id: u64) -> _orm::__private::Option<#pk_ty> {
                <#pk_ty as ::core::convert::TryFrom<u64>>::try_from(last_insert_id).ok()
            }
        }
    }
}

/// The primary key's columns, Rust type, and value on `self`: one field, or
/// tuples of them for a composite key.
fn key_parts(model: &Model, table: &TokenStream) -> (TokenStream, TokenStream, TokenStream) {
    let fields: Vec<_> = model.pk.iter().map(|&i| &model.fields[i]).collect();
    let idents: Vec<_> = fields.iter().map(|f| &f.ident).collect();
    let tys: Vec<_> = fields.iter().map(|f| &f.ty).collect();
    if let [ident] = idents[..] {
        let ty = tys[0];
        (
            quote!(#table::#ident),
            quote!(#ty),
            quote!(::core::clone::Clone::clone(&self.#ident)),
        )
    } else {
        (
            quote!(_orm::Cols<(#(#table::#idents),*)>),
            quote!((#(#tys),*)),
            quote!((#(::core::clone::Clone::clone(&self.#idents)),*)),
        )
    }
}

/// What stands in a model's `RELATIONS` for an association whose target is
/// not a model (its check fails the build, so it is never read): an
/// exclusive arc over no columns.
pub fn no_relation() -> TokenStream {
    quote!(_orm::__private::Relation::ExclusiveArc {
        table: <Self as _orm::Model>::TABLE,
        columns: &[],
    })
}
