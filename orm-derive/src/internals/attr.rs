//! Reads the derive input and its attributes into the [`ast`](super::ast)
//! description. Simple rules are checked here; rules that need the whole
//! model are in [`check`](super::check).

use heck::ToUpperCamelCase;
use proc_macro2::Span;
use quote::format_ident;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{
    Data, DeriveInput, Fields, GenericArgument, Ident, LitStr, Path, PathArguments, Token, Type,
};

use super::ast::{Assoc, Field, Kind, Model, Named, Polymorphic, Scope, Table, Through};
use super::ctxt::Ctxt;
use super::inflect;
use super::symbol::*;

/// Builds the model description, recording every problem in `cx`. Returns
/// `None` when the input is not something a model can be made of.
pub fn model(cx: &mut Ctxt, input: &DeriveInput) -> Option<Model> {
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => &named.named,
            _ => {
                cx.error_spanned_by(&input.ident, "`Model` needs a struct with named fields");
                return None;
            }
        },
        _ => {
            cx.error_spanned_by(&input.ident, "`Model` can only be derived for structs");
            return None;
        }
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "`Model` cannot be derived for generic structs",
        );
        // Its fields' types are the parameters: nothing more to say.
        return None;
    }

    let name = input.ident.to_string();
    // diesel derives of what `Model` implements itself. rustc shows a derive
    // only the `#[derive]` attributes after its own, so a derive listed
    // before `Model` is left to rustc's "conflicting implementations".
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = attr.parse_nested_meta(|meta| {
            let last = meta.path.segments.last().map(|s| s.ident.to_string());
            if let Some(derived @ ("Queryable" | "Selectable" | "AsChangeset")) = last.as_deref() {
                cx.error_spanned_by(&meta.path, format_args!(
                    "`Model` implements `{derived}` for `{name}` itself (reading and writing fields by name)\nhelp: remove `{derived}` from this derive; `Identifiable` can stay"
                ));
            }
            Ok(())
        });
    }
    let mut krate: Path = syn::parse_quote!(::orm_core);
    let mut table = None;
    let mut struct_pk: Vec<Ident> = Vec::new();
    let mut timestamps: Option<Span> = None;
    let mut new_name: Option<Ident> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident(MODEL)) {
        let result = attr.parse_nested_meta(|meta| {
            let option = (|| if meta.path.is_ident(TABLE) {
                let value = meta.value()?;
                if value.peek(LitStr) {
                    let lit: LitStr = value.parse()?;
                    if !is_identifier(&lit.value()) {
                        cx.error_spanned_by(
                            &lit,
                            "the table name must be a plain identifier, e.g. `table = \"events\"`",
                        );
                    }
                    table = Some(Table::Generated { name: lit.value() });
                } else {
                    let path: Path = value.parse().map_err(|e| {
                        syn::Error::new(e.span(), "`table` takes the table's name, `table = \"events\"`, or the path of your `table!`, `table = crate::schema::events`")
                    })?;
                    let name = path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default();
                    table = Some(Table::Existing { path, name });
                }
                Ok(())
            } else if meta.path.is_ident(PRIMARY_KEY) {
                meta.parse_nested_meta(|column| {
                    match column.path.get_ident() {
                        Some(ident) => struct_pk.push(ident.clone()),
                        None => return Err(column.error("expected a field name")),
                    }
                    Ok(())
                })
            } else if meta.path.is_ident(TIMESTAMPS) {
                timestamps = Some(meta.path.span());
                Ok(())
            } else if meta.path.is_ident(NEW) {
                new_name = Some(meta.value()?.parse::<Ident>()?);
                Ok(())
            } else if meta.path.is_ident(CRATE) {
                let lit: LitStr = meta.value()?.parse()?;
                krate = lit.parse()?;
                Ok(())
            } else {
                Err(meta.error(format_args!(
                    "unknown `model` option `{}`; expected one of {STRUCT_OPTIONS}",
                    path_name(&meta.path)
                )))
            })();
            go_on(cx, meta.input, option)
        });
        if let Err(e) = result {
            cx.push(e);
        }
    }
    let table = table.unwrap_or_else(|| Table::Generated {
        name: inflect::table_name(&name),
    });
    let existing_table = matches!(table, Table::Existing { .. });

    let mut parsed = Vec::new();
    let mut field_pk: Vec<usize> = Vec::new();
    let mut not_auto: Vec<(usize, Span)> = Vec::new();
    for field in fields {
        let Some(ident) = field.ident.clone() else {
            continue;
        };
        let mut explicit_sql = None;
        let mut is_pk = false;
        let (mut db_default, mut read_only) = (None, None);
        let mut default_sql = None;
        for attr in field.attrs.iter().filter(|a| a.path().is_ident(MODEL)) {
            let result = attr.parse_nested_meta(|meta| {
                let option = (|| if meta.path.is_ident(PRIMARY_KEY) {
                    is_pk = true;
                    Ok(())
                } else if meta.path.is_ident(DEFAULT) {
                    db_default = Some(meta.path.span());
                    if meta.input.peek(syn::Token![=]) {
                        let sql: syn::LitStr = meta.value()?.parse()?;
                        if sql.value().trim().is_empty() {
                            return Err(syn::Error::new(sql.span(), "`default = \"..\"` takes the default's SQL expression, such as `default = \"0\"` or `default = \"CURRENT_TIMESTAMP\"`; write plain `default` for a default the migrations set"));
                        }
                        default_sql = Some(sql.value());
                    }
                    Ok(())
                } else if meta.path.is_ident(READ_ONLY) {
                    read_only = Some(meta.path.span());
                    Ok(())
                } else if meta.path.is_ident(AUTO) {
                    let value: syn::LitBool = meta.value()?.parse()?;
                    if value.value {
                        return Err(syn::Error::new(value.span(), "`auto = true` is the default for a single integer primary key; only `auto = false` (the application assigns the key) can be given"));
                    }
                    not_auto.push((parsed.len(), meta.path.span()));
                    Ok(())
                } else if meta.path.is_ident(SQL_TYPE) {
                    let value = meta.value()?;
                    if value.peek(LitStr) {
                        let lit: LitStr = value.parse()?;
                        return Err(syn::Error::new(lit.span(), format_args!("`sql_type` takes a diesel SQL type, not a string: `sql_type = orm_core::diesel::sql_types::Text`, not `sql_type = {:?}`", lit.value())));
                    }
                    let ty = value.parse::<Type>()?;
                    // The column's type in the `table!` the derive writes: a
                    // path (with generics), as `Nullable<Text>`.
                    if !matches!(&ty, Type::Path(p) if p.qself.is_none()) {
                        return Err(syn::Error::new_spanned(&ty, "`sql_type` takes one diesel SQL type, by its path: `orm_core::diesel::sql_types::Text`, `Nullable<Integer>`, or a `#[derive(SqlType)]` type of yours"));
                    }
                    explicit_sql = Some(ty);
                    Ok(())
                } else {
                    Err(meta.error(format_args!(
                        "unknown field option `{}`; expected one of {FIELD_OPTIONS}",
                        path_name(&meta.path)
                    )))
                })();
                go_on(cx, meta.input, option)
            });
            if let Err(e) = result {
                cx.push(e);
            }
        }
        if is_pk {
            field_pk.push(parsed.len());
        }
        if let (Some(_), Some(span)) = (db_default, read_only) {
            cx.error_at(span, "a field is either `default` (inserted unless `None`) or `read_only` (never written), not both");
        }
        let sql_type_span = explicit_sql
            .as_ref()
            .map_or_else(|| field.ty.span(), |ty: &Type| ty.span());
        let sql_type = match explicit_sql {
            Some(ty) if existing_table => {
                cx.error_spanned_by(&ty, "`sql_type` has no effect with `#[model(table = path)]`: the column's SQL type is the one its `table!` declares\nhelp: change the type in the `table!`, or leave `sql_type` out");
                None
            }
            Some(ty) => Some(ty),
            None if existing_table => None,
            None => match sql_type_of(&field.ty) {
                Some(ty) => Some(ty),
                None => {
                    cx.error_spanned_by(&field.ty, format_args!(
                        "cannot infer the SQL type of `{}`; supported are i16, i32, i64, f32, f64, bool, String, Vec<u8>, NaiveDateTime, NaiveDate, NaiveTime, DateTime<Utc>, BigDecimal, with feature `postgres` Uuid and Vec<T>, and Option of them\n\
                         help: name its diesel SQL type with `#[model(sql_type = orm_core::diesel::sql_types::Text)]`",
                        type_name(&field.ty)
                    ));
                    None
                }
            },
        };
        if parsed.len() == super::MAX_COLUMNS {
            cx.error_spanned_by(
                &ident,
                format_args!(
                "a model has at most {} columns, diesel's limit for a table; this is column {}\n\
                 help: enable orm-core's feature `64-column-tables` (or `128-column-tables`)",
                super::MAX_COLUMNS,
                super::MAX_COLUMNS + 1
            ),
            );
        }
        parsed.push(Field {
            docs: field
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .cloned()
                .collect(),
            column: ident.unraw().to_string(),
            ident,
            ty: field.ty.clone(),
            sql_type,
            sql_type_span,
            auto: false,
            managed: false,
            db_default: db_default.is_some(),
            default_sql,
            read_only: read_only.is_some(),
        });
    }
    let mut pk = field_pk;
    if !struct_pk.is_empty() {
        if !pk.is_empty() {
            cx.error_spanned_by(&struct_pk[0], "give the primary key either as `#[model(primary_key(..))]` on the struct or as `#[model(primary_key)]` on fields, not both");
        }
        pk.clear();
        for column in &struct_pk {
            match parsed.iter().position(|f| f.ident == *column) {
                Some(index) if !pk.contains(&index) => pk.push(index),
                Some(_) => cx.error_spanned_by(
                    column,
                    format_args!("`{column}` is named twice in the primary key"),
                ),
                None => cx.error_spanned_by(
                    column,
                    format_args!("`{name}` has no field `{column}` for its primary key"),
                ),
            }
        }
    }
    if pk.is_empty() {
        match parsed.iter().position(|f| f.ident == "id") {
            Some(index) => pk.push(index),
            None => {
                cx.error_spanned_by(&input.ident, format_args!(
                    "`{name}` has no primary key\nhelp: add an `id` field, mark key fields `#[model(primary_key)]`, or write `#[model(primary_key(a, b))]`"
                ));
                return None;
            }
        }
    }
    if let Some(span) = timestamps {
        for column in [CREATED_AT, UPDATED_AT] {
            match parsed.iter_mut().find(|f| f.ident == column) {
                Some(field) => field.managed = true,
                None => cx.error_at(span, format_args!(
                    "`timestamps` needs a field `{column}` on `{name}`\nhelp: add `pub {column}: NaiveDateTime` (from `orm_core::prelude`)"
                )),
            }
        }
    }
    // Only a single integer key is assigned by the database, unless
    // `auto = false` says the application assigns it.
    if let [single] = pk[..] {
        parsed[single].auto =
            is_integer(&parsed[single].ty) && !not_auto.iter().any(|&(i, _)| i == single);
    }
    for &(index, span) in &not_auto {
        if pk != [index] || !is_integer(&parsed[index].ty) {
            cx.error_at(span, "`auto = false` is for a single integer primary key, which the database would otherwise assign");
        }
    }
    for (i, field) in parsed.iter().enumerate() {
        if field.db_default && pk.contains(&i) {
            cx.error_spanned_by(&field.ident, "a primary-key field cannot be `default`: `find` and the association methods need its value");
        }
    }
    let core_ok = cx.only_recoverable();

    let mut assocs = Vec::new();
    let mut polymorphic = Vec::new();
    for attr in &input.attrs {
        if attr.path().is_ident(POLYMORPHIC) {
            match attr
                .parse_args_with(|input: ParseStream| parse_polymorphic(input, attr.path().span()))
            {
                Ok(p) => polymorphic.push(p),
                Err(e) => cx.push(e),
            }
            continue;
        }
        let kind = match attr.path().get_ident().map(Ident::to_string).as_deref() {
            Some(BELONGS_TO) => Kind::BelongsTo,
            Some(HAS_ONE) => Kind::HasOne,
            Some(HAS_MANY) => Kind::HasMany,
            Some(BELONGS_TO_MANY) => Kind::BelongsToMany,
            _ => continue,
        };
        match attr
            .parse_args_with(|input: ParseStream| parse_assoc(input, kind, attr.path().span()))
        {
            Ok(raw) => assocs.push(resolve(&name, raw)),
            Err(e) => cx.push(e),
        }
    }

    Some(Model {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        krate,
        table,
        fields: parsed,
        pk,
        assocs,
        polymorphic,
        timestamps: timestamps.is_some(),
        new_name,
        core_ok,
    })
}

/// Adds the variant `model` with its discriminator (or, in an arc, its
/// key column) `value`, which no other variant may have.
fn add_variant(
    variants: &mut Vec<(Path, LitStr)>,
    model: Path,
    value: LitStr,
    what: &str,
) -> syn::Result<()> {
    if variants.iter().any(|(_, v)| v.value() == value.value()) {
        return Err(syn::Error::new(
            value.span(),
            format_args!("the {what} {:?} is given to two variants", value.value()),
        ));
    }
    variants.push((model, value));
    Ok(())
}

/// `#[polymorphic(Commentable, Post = "post", Video = "video", ..)]`.
fn parse_polymorphic(input: ParseStream, span: Span) -> syn::Result<Polymorphic> {
    const ACCEPTED: &str = "variants as `Model = \"discriminator\"`, `foreign_key`, `type_column`, `arc(Model = \"key_column\", ..)`, `derive(..)`";
    let name: Ident = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected the name of the enum to generate first, e.g. `#[polymorphic(Commentable, Post = \"post\", Video = \"video\")]`",
        )
    })?;
    let snake = inflect::snake(&name.to_string());
    let mut p = Polymorphic {
        span,
        foreign_key: Named {
            value: format!("{snake}_id"),
            span: name.span(),
        },
        type_column: Named {
            value: format!("{snake}_type"),
            span: name.span(),
        },
        name,
        variants: Vec::new(),
        arc: None,
        derives: Vec::new(),
    };
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    while !input.is_empty() {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        let option = (|| -> syn::Result<()> {
            let path: Path = input.parse()?;
            if path.is_ident(ARC) && input.peek(syn::token::Paren) {
                if p.arc.is_some() || !p.variants.is_empty() {
                    return Err(syn::Error::new(
                        path.span(),
                        "an exclusive arc is the association's only list of variants: `arc(Post = \"post_id\", Video = \"video_id\")`",
                    ));
                }
                p.arc = Some(path.span());
                let list;
                syn::parenthesized!(list in input);
                while !list.is_empty() {
                    let model: Path = list.parse()?;
                    list.parse::<Token![=]>()?;
                    let column: LitStr = list.parse()?;
                    if !is_identifier(&column.value()) {
                        return Err(syn::Error::new(
                            column.span(),
                            "expected the variant's key column, e.g. `Post = \"post_id\"`",
                        ));
                    }
                    add_variant(&mut p.variants, model, column, "column")?;
                    if !list.is_empty() {
                        list.parse::<Token![,]>()?;
                    }
                }
                return Ok(());
            }
            if path.is_ident(DERIVE) && input.peek(syn::token::Paren) {
                let list;
                syn::parenthesized!(list in input);
                let derives = list.parse_terminated(Path::parse_mod_style, Token![,])?;
                p.derives.extend(derives);
                return Ok(());
            }
            input
                .parse::<Token![=]>()
                .map_err(|e| syn::Error::new(e.span(), format_args!("expected {ACCEPTED}")))?;
            let lit: LitStr = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected a string literal, e.g. `Post = \"post\"`",
                )
            })?;
            let column = |slot: &mut Named| {
                if !is_identifier(&lit.value()) {
                    return Err(syn::Error::new(
                        lit.span(),
                        "expected a column name such as \"commentable_id\"",
                    ));
                }
                *slot = Named::from_lit(&lit);
                Ok(())
            };
            if path.is_ident(FOREIGN_KEY) {
                return column(&mut p.foreign_key);
            }
            if path.is_ident(TYPE_COLUMN) {
                return column(&mut p.type_column);
            }
            if lit.value().is_empty() {
                return Err(syn::Error::new(
                    lit.span(),
                    "a discriminator is a non-empty string, stored in the type column",
                ));
            }
            if p.arc.is_some() {
                return Err(syn::Error::new(
                    path.span(),
                    "an exclusive arc's variants are all in its `arc(..)`",
                ));
            }
            add_variant(&mut p.variants, path, lit, "discriminator")
        })();
        if let Err(e) = option {
            push(e);
            skip_option(input)?;
        }
    }
    if p.variants.is_empty() && errors.is_none() {
        errors = Some(syn::Error::new(span, "a polymorphic association needs its variants, e.g. `Post = \"post\", Video = \"video\"`"));
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(p),
    }
}

/// An association attribute as written.
struct RawAssoc {
    kind: Kind,
    span: Span,
    target: Path,
    as_: Option<Named>,
    foreign_key: Option<Named>,
    more_keys: Vec<Named>,
    other_key: Option<Named>,
    through: Option<Through>,
    singular: Option<Named>,
    symmetric: Option<Span>,
    timestamps: Option<Span>,
    on_delete: Option<Named>,
    on_update: Option<Named>,
    unenforced: Option<Span>,
    scope: Option<(Span, syn::Expr)>,
}

fn parse_assoc(input: ParseStream, kind: Kind, span: Span) -> syn::Result<RawAssoc> {
    let attr = kind.attr_name();
    if input.is_empty() {
        return Err(syn::Error::new(
            span,
            format_args!("`{attr}` needs the associated model first, e.g. `#[{attr}(User)]`"),
        ));
    }
    let target: Path = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format_args!("expected the associated model's type, e.g. `#[{attr}(User)]`"),
        )
    })?;
    let mut raw = RawAssoc {
        kind,
        span,
        target,
        as_: None,
        foreign_key: None,
        more_keys: Vec::new(),
        other_key: None,
        through: None,
        singular: None,
        symmetric: None,
        timestamps: None,
        on_delete: None,
        on_update: None,
        unenforced: None,
        scope: None,
    };
    let accepted = match kind {
        Kind::BelongsToMany => "`as`, `foreign_key`, `other_key`, `singular`, `symmetric`, `through`, `through_scope`, `timestamps`, `on_delete`, `on_update`, `constraints`",
        Kind::BelongsTo => "`as`, `foreign_key` (or `foreign_key(a, b)`), `singular`, `on_delete`, `on_update`, `constraints`",
        Kind::HasMany | Kind::HasOne => "`as`, `foreign_key` (or `foreign_key(a, b)`), `singular`, `on_delete`, `on_update`, `constraints`, `scope`",
    };
    let mut errors: Option<syn::Error> = None;
    while !input.is_empty() {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        // A wrong option is reported, and the ones after it still parsed.
        if let Err(e) = parse_option(input, kind, &mut raw, accepted) {
            match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            }
            skip_option(input)?;
        }
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(raw),
    }
}

/// One `key = value` option of an association attribute, into `raw`.
fn parse_option(
    input: ParseStream,
    kind: Kind,
    raw: &mut RawAssoc,
    accepted: &str,
) -> syn::Result<()> {
    let attr = kind.attr_name();
    let key = Ident::parse_any(input)?;
    if kind == Kind::BelongsToMany && (key == SYMMETRIC || key == TIMESTAMPS) {
        let flag = if key == SYMMETRIC {
            &mut raw.symmetric
        } else {
            &mut raw.timestamps
        };
        if flag.replace(key.span()).is_some() {
            return Err(syn::Error::new(
                key.span(),
                format_args!("duplicate option `{key}`"),
            ));
        }
        return Ok(());
    }
    if key == THROUGH && kind == Kind::BelongsToMany {
        if raw.through.is_some() {
            return Err(syn::Error::new(key.span(), "duplicate option `through`"));
        }
        input.parse::<Token![=]>()?;
        raw.through = Some(if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            if !is_identifier(&lit.value()) {
                return Err(syn::Error::new(
                    lit.span(),
                    format_args!(
                        "`through` must be a table name such as \"rsvps\" or a join model such as `Rsvp`, not {:?}",
                        lit.value()
                    ),
                ));
            }
            Through::Table(Named::from_lit(&lit))
        } else {
            let path: Path = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected a join table name (`through = \"rsvps\"`), a join model (`through = Rsvp`) or a `table!` of yours (`through = schema::rsvps`)",
                )
            })?;
            // A `table!` module is snake_case; a model is a type.
            let is_table = path.segments.last().is_some_and(|s| {
                s.ident
                    .to_string()
                    .starts_with(|c: char| c.is_ascii_lowercase())
            });
            if is_table {
                Through::Existing(path)
            } else {
                Through::Model(path)
            }
        });
        return Ok(());
    }
    // A `has_*` filters its targets; a `belongs_to_many` its join rows.
    let scope_key = match kind {
        Kind::HasMany | Kind::HasOne => Some((
            SCOPE,
            "the target's table, e.g. `scope = posts::published.eq(true)`",
        )),
        Kind::BelongsToMany => Some((
            THROUGH_SCOPE,
            "the join model's table, e.g. `through_scope = taggings::taggable_type.eq(\"post\")`",
        )),
        Kind::BelongsTo => None,
    };
    if let Some((name, example)) = scope_key.filter(|(name, _)| key == *name) {
        if raw.scope.is_some() {
            return Err(syn::Error::new(
                key.span(),
                format_args!("duplicate option `{name}`"),
            ));
        }
        input.parse::<Token![=]>()?;
        let expr = input.parse().map_err(|e| {
            syn::Error::new(e.span(), format_args!("expected a condition on {example}"))
        })?;
        raw.scope = Some((key.span(), expr));
        return Ok(());
    }
    if key == CONSTRAINTS {
        if raw.unenforced.is_some() {
            return Err(syn::Error::new(
                key.span(),
                "duplicate option `constraints`",
            ));
        }
        input.parse::<Token![=]>()?;
        let lit: syn::LitBool = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `constraints = false` (no FOREIGN KEY is created)",
            )
        })?;
        if lit.value {
            return Err(syn::Error::new(
                lit.span(),
                "`constraints = true` is the default; write `constraints = false` to create no FOREIGN KEY",
            ));
        }
        raw.unenforced = Some(lit.span());
        return Ok(());
    }
    if key == ON_DELETE || key == ON_UPDATE {
        let slot = if key == ON_DELETE {
            &mut raw.on_delete
        } else {
            &mut raw.on_update
        };
        if slot.is_some() {
            return Err(syn::Error::new(
                key.span(),
                format_args!("duplicate option `{key}`"),
            ));
        }
        input.parse::<Token![=]>()?;
        let accepted = ACTIONS
            .iter()
            .map(|(name, _)| format!("\"{name}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let lit: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format_args!("expected one of {accepted}, e.g. `{key} = \"cascade\"`"),
            )
        })?;
        if !ACTIONS.iter().any(|(name, _)| *name == lit.value()) {
            return Err(syn::Error::new(
                lit.span(),
                format_args!(
                    "unknown `{key}` action {:?}; expected one of {accepted}",
                    lit.value()
                ),
            ));
        }
        *slot = Some(Named::from_lit(&lit));
        return Ok(());
    }
    if key == FOREIGN_KEY && input.peek(syn::token::Paren) {
        return parse_key_columns(input, &key, kind, raw);
    }
    let slot = match key.to_string().as_str() {
        AS => &mut raw.as_,
        FOREIGN_KEY => &mut raw.foreign_key,
        SINGULAR => &mut raw.singular,
        OTHER_KEY if kind == Kind::BelongsToMany => &mut raw.other_key,
        other => {
            return Err(syn::Error::new(
                key.span(),
                format_args!("unknown `{attr}` option `{other}`; expected one of {accepted}"),
            ))
        }
    };
    if slot.is_some() {
        return Err(syn::Error::new(
            key.span(),
            format_args!("duplicate option `{key}`"),
        ));
    }
    input.parse::<Token![=]>()?;
    let lit: LitStr = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format_args!("expected a string literal, e.g. `{key} = \"...\"`"),
        )
    })?;
    if !is_identifier(&lit.value()) {
        let value = lit.value();
        // `foreign_key = "a, b"`: the list form is meant.
        let columns: Vec<&str> = value.split(',').map(str::trim).collect();
        if key == FOREIGN_KEY
            && kind != Kind::BelongsToMany
            && columns.len() > 1
            && columns.iter().all(|c| is_identifier(c))
        {
            return Err(syn::Error::new(
                lit.span(),
                format_args!(
                    "a foreign key of several columns is written as a list: `foreign_key({})`",
                    columns.join(", ")
                ),
            ));
        }
        return Err(syn::Error::new(
            lit.span(),
            format_args!(
                "`{key}` must be a plain identifier such as `Guests` or `guest_id`, not {value:?}"
            ),
        ));
    }
    *slot = Some(Named::from_lit(&lit));
    Ok(())
}

/// `foreign_key(tenant_id, order_number)`: the columns of a multi-column
/// foreign key, in the order of the primary key they reference.
fn parse_key_columns(
    input: ParseStream,
    key: &Ident,
    kind: Kind,
    raw: &mut RawAssoc,
) -> syn::Result<()> {
    if kind == Kind::BelongsToMany {
        return Err(syn::Error::new(
            key.span(),
            "a join table holds one key column per side: write `foreign_key = \"event_id\"`; `foreign_key(a, b)` is for `belongs_to`, `has_one` and `has_many`",
        ));
    }
    if raw.foreign_key.is_some() {
        return Err(syn::Error::new(
            key.span(),
            "duplicate option `foreign_key`",
        ));
    }
    let content;
    let parens = syn::parenthesized!(content in input);
    let columns = syn::punctuated::Punctuated::<Ident, Token![,]>::parse_terminated_with(
        &content,
        Ident::parse_any,
    )
    .map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected the key's columns, e.g. `foreign_key(tenant_id, order_number)`",
        )
    })?;
    let mut columns: Vec<Named> = columns
        .iter()
        .map(|c| Named {
            value: c.unraw().to_string(),
            span: c.span(),
        })
        .collect();
    if columns.len() < 2 {
        return Err(syn::Error::new(
            parens.span.join(),
            "`foreign_key(..)` lists the columns of a multi-column key; a key of one column is `foreign_key = \"author_id\"`",
        ));
    }
    for (i, column) in columns.iter().enumerate() {
        if columns[..i].iter().any(|c| c.value == column.value) {
            return Err(syn::Error::new(
                column.span,
                format_args!(
                    "`{}` is listed twice in this `foreign_key(..)`",
                    column.value
                ),
            ));
        }
    }
    raw.foreign_key = Some(columns.remove(0));
    raw.more_keys = columns;
    Ok(())
}

/// `result` of one option in a `parse_nested_meta` list: an error is
/// recorded and the option's remaining tokens skipped, so the options after
/// it are still parsed and their errors shown in the same build. The option
/// is left out, and the model is still emitted.
fn go_on(cx: &mut Ctxt, input: ParseStream, result: syn::Result<()>) -> syn::Result<()> {
    if let Err(e) = result {
        cx.push_recoverable(e);
        skip_option(input)?;
    }
    Ok(())
}

/// Skips what is left of one option, up to the comma before the next.
fn skip_option(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

/// Applies Sequelize's naming defaults, in snake_case.
fn resolve(source: &str, raw: RawAssoc) -> Assoc {
    let target_name = raw
        .target
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    let self_ref = target_name == source || raw.target.is_ident("Self");
    let target_snake = inflect::snake(&target_name);
    let as_snake = raw.as_.as_ref().map(|a| inflect::snake(&a.value));
    let (plural, singular, label) = if raw.kind.is_many() {
        let plural = as_snake
            .clone()
            .unwrap_or_else(|| inflect::plural(&target_snake));
        let singular = raw
            .singular
            .as_ref()
            .map(|s| inflect::snake(&s.value))
            .unwrap_or_else(|| match &as_snake {
                Some(p) => inflect::singular(p),
                None => target_snake.clone(),
            });
        let label = raw
            .as_
            .as_ref()
            .map(|a| a.value.clone())
            .unwrap_or_else(|| plural.to_upper_camel_case());
        (plural, singular, label)
    } else {
        let name = as_snake.clone().unwrap_or_else(|| target_snake.clone());
        let label = raw
            .as_
            .as_ref()
            .map(|a| a.value.clone())
            .unwrap_or(target_name.clone());
        (name.clone(), name, label)
    };
    // A key named by default is reported at the word it was named after:
    // the target, or the `as`.
    let target_span = raw
        .target
        .segments
        .last()
        .map_or(raw.span, |s| s.ident.span());
    let as_span = raw.as_.as_ref().map_or(raw.span, |a| a.span);
    let key = |snake: &str, span| Named {
        value: format!("{snake}_id"),
        span,
    };
    let alias_key = as_snake
        .as_ref()
        .map(|a| key(&inflect::singular(a), as_span));
    // has_one/has_many: a field of the target; belongs_to_many: a column
    // of the join table.
    let source_span = if raw.kind == Kind::BelongsToMany {
        raw.span
    } else {
        target_span
    };
    let source_key = key(&inflect::snake(source), source_span);
    let foreign_key = raw.foreign_key.unwrap_or_else(|| match raw.kind {
        Kind::BelongsTo => alias_key
            .clone()
            .unwrap_or_else(|| key(&target_snake, target_span)),
        Kind::HasOne | Kind::HasMany if self_ref => alias_key.clone().unwrap_or(source_key),
        Kind::HasOne | Kind::HasMany | Kind::BelongsToMany => source_key,
    });
    let other_key = (raw.kind == Kind::BelongsToMany).then(|| {
        raw.other_key
            .unwrap_or_else(|| match (&alias_key, self_ref) {
                (Some(alias), true) => alias.clone(),
                _ => key(&target_snake, target_span),
            })
    });
    Assoc {
        kind: raw.kind,
        span: raw.span,
        name_span: as_span,
        marker: {
            let module = super::markers_module(&source);
            let name = format_ident!("{}", plural.to_upper_camel_case());
            syn::parse_quote!(#module::#name)
        },
        target: raw.target,
        target_name,
        self_ref,
        plural,
        singular,
        label,
        foreign_key,
        more_keys: raw.more_keys,
        other_key,
        through: raw.through,
        symmetric: raw.symmetric,
        timestamps: raw.timestamps,
        on_delete: raw.on_delete,
        on_update: raw.on_update,
        unenforced: raw.unenforced,
        scope: raw.scope.map(|(span, expr)| Scope::new(span, expr)),
    }
}

/// A name the derive can make items from: letters, digits and `_`, not
/// starting with a digit, and with a letter somewhere (`_` alone would make
/// an empty struct name).
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.chars().any(|c| c.is_ascii_alphabetic())
}

fn path_name(path: &Path) -> String {
    quote::quote!(#path).to_string().replace(' ', "")
}

fn type_name(ty: &Type) -> String {
    quote::quote!(#ty).to_string().replace(' ', "")
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

/// `T` of `Option<T>`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    let seg = last_segment(ty)?;
    if seg.ident != "Option" {
        return None;
    }
    match &seg.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            GenericArgument::Type(inner) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

fn is_integer(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "i16" || s.ident == "i32" || s.ident == "i64")
}

/// The diesel SQL type a Rust field type maps to.
fn sql_type_of(ty: &Type) -> Option<Type> {
    if let Some(inner) = option_inner(ty) {
        let inner = sql_type_of(inner)?;
        return Some(syn::parse_quote!(Nullable<#inner>));
    }
    let seg = last_segment(ty)?;
    let name = match seg.ident.to_string().as_str() {
        "i16" => "SmallInt",
        "i32" => "Integer",
        "i64" => "BigInt",
        "f32" => "Float",
        "f64" => "Double",
        "bool" => "Bool",
        "String" => "Text",
        "Vec" if type_name(ty).ends_with("Vec<u8>") => "Binary",
        "Vec" if cfg!(feature = "postgres") => {
            // `Vec<T>`: a PostgreSQL array of T.
            let PathArguments::AngleBracketed(args) = &seg.arguments else {
                return None;
            };
            let Some(GenericArgument::Type(inner)) = args.args.first() else {
                return None;
            };
            let inner = sql_type_of(inner)?;
            return Some(syn::parse_quote!(Array<#inner>));
        }
        "NaiveDateTime" => "Timestamp",
        // diesel has a SQL type per backend for `DateTime<Utc>`.
        "DateTime" if cfg!(feature = "postgres") => "Timestamptz",
        "DateTime" => "TimestamptzSqlite",
        "NaiveDate" => "Date",
        "NaiveTime" => "Time",
        "BigDecimal" => "Numeric",
        "Uuid" if cfg!(feature = "postgres") => "Uuid",
        _ => return None,
    };
    let ident = Ident::new(name, Span::call_site());
    Some(syn::parse_quote!(#ident))
}
