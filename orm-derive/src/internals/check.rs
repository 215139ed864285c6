//! Rules that need the whole model, and the join tables derived from it.

use std::collections::HashMap;

use syn::Path;

use super::ast::{JoinTable, Kind, Model, Named};
use super::attr::option_inner;
use super::ctxt::Ctxt;

/// Checks cross-cutting rules and returns the join tables the model's
/// `belongs_to_many` associations use, one per table name.
/// What the checks found: the join tables, and the associations that failed
/// (by index), which the derive leaves out so that the others still work.
pub struct Checked {
    pub joins: Vec<JoinTable>,
    pub failed: Vec<usize>,
}

/// The type parameters of the generated methods (`guests<C>`, `load_guests_where<C, W, O>`,
/// `query<'a, DB>`, ..).
const GENERIC_PARAMS: &[&str] = &["C", "DB", "O", "Q", "W"];

pub fn check(cx: &mut Ctxt, model: &Model) -> Checked {
    let name = model.ident.to_string();
    let links = model.join_links();
    for (i, field) in model.fields.iter().enumerate() {
        if field.db_default && !links.is_empty() && !links.contains(&i) {
            cx.error_spanned_by(&field.ident, "`default` is not supported on a join model's payload, which `add_*_with` always writes");
        }
    }
    let mut seen: HashMap<&str, &str> = HashMap::new();
    let mut failed = Vec::new();
    for (index, assoc) in model.assocs.iter().enumerate() {
        let errors = cx.count();
        if assoc.kind.is_many() && assoc.plural == assoc.singular {
            cx.error_at(assoc.span, format_args!(
                "`{}` is both the singular and the plural of this association's name, so its methods would collide\nhelp: give the singular with `singular = \"...\"`",
                assoc.plural
            ));
        }
        // The generated methods are generic over `C` (the connection) and
        // a few more; a model of one of those names would be hidden there.
        for path in std::iter::once(&assoc.target).chain(assoc.join_model()) {
            if let Some(param) = GENERIC_PARAMS.iter().find(|p| path.is_ident(p)) {
                cx.error_spanned_by(path, format_args!(
                    "a model named `{param}` can't be named here: the generated methods have a type parameter `{param}`, which would hide it\nhelp: import it under another name (`use crate::{param} as Cell;`) and name that"
                ));
            }
        }
        // (A name that is its own plural is reported above, once.)
        let names: &[&String] = if assoc.kind.is_many() && assoc.plural != assoc.singular {
            &[&assoc.plural, &assoc.singular]
        } else if assoc.kind.is_many() {
            &[&assoc.plural]
        } else {
            &[&assoc.singular]
        };
        // The reader, `crates()` or `author()`, is the only method named by
        // the bare word; the others put one before it (`add_crate`).
        let reader = names[0];
        if let Some(keyword) = Some(reader).filter(|n| super::NOT_RAW.contains(&n.as_str())) {
            let span = assoc
                .target
                .segments
                .last()
                .map_or(assoc.span, |s| s.ident.span());
            cx.error_at(span, format_args!(
                "this association's reader would be a method named `{keyword}`, a keyword no method can be named\nhelp: name the association with `as = \"...\"`, e.g. `as = \"Krate\"` for `krate()`"
            ));
        }
        for name in names {
            if let Some(previous) = seen.insert(name, assoc.kind.attr_name()) {
                cx.error_at(assoc.name_span, format_args!(
                    "another association (`{previous}`) already generates methods named after `{name}`\nhelp: rename one with `as = \"...\"`"
                ));
                break;
            }
        }
        let set_null = [&assoc.on_delete, &assoc.on_update]
            .into_iter()
            .flatten()
            .find(|action| action.value == "set_null");
        match (assoc.kind, set_null) {
            (Kind::BelongsTo, Some(action)) => {
                let fk = &assoc.foreign_key.value;
                if let Some(field) = model.fields.iter().find(|f| f.column == *fk) {
                    if option_inner(&field.ty).is_none() {
                        cx.error_at(action.span, format_args!(
                            "`set_null` needs a nullable foreign key, and `{name}.{fk}` is NOT NULL\nhelp: make the field an `Option<_>`, or choose another action"
                        ));
                    }
                }
            }
            (Kind::BelongsToMany, Some(action)) => cx.error_at(
                action.span,
                "`set_null` cannot apply to a join table's keys, which are its primary key and NOT NULL",
            ),
            // has_one/has_many: the key is the target's field; checked by type.
            _ => {}
        }
        match assoc.kind {
            Kind::BelongsTo => {
                let composite = !assoc.more_keys.is_empty();
                let mut positions = Vec::new();
                for column in assoc.key_columns() {
                    let fk = &column.value;
                    match model.fields.iter().position(|f| f.column == *fk) {
                        None => cx.error_at(column.span, format_args!(
                            "`{name}` has no field `{fk}` for this `belongs_to`; its foreign key is a field of `{name}`\nhelp: add `pub {fk}: i32` (or `Option<i32>`) or name the field with `foreign_key = \"...\"`"
                        )),
                        Some(i) if composite && option_inner(&model.fields[i].ty).is_some() => cx.error_at(column.span, format_args!(
                            "a multi-column foreign key is NOT NULL, and `{name}.{fk}` is an `Option`\nhelp: make the field a plain value"
                        )),
                        Some(i) => positions.push(i),
                    }
                }
                if positions == model.pk {
                    let other = if composite {
                        "other fields with `foreign_key(..)`"
                    } else {
                        "another field with `foreign_key = \"...\"`"
                    };
                    cx.error_at(
                        assoc.foreign_key.span,
                        format_args!(
                            "the foreign key `{}` is `{name}`'s primary key; name {other}",
                            assoc.key_label()
                        ),
                    );
                }
            }
            Kind::HasMany | Kind::HasOne if assoc.key_columns().count() != model.pk.len() => {
                let key: Vec<&str> = model
                    .pk
                    .iter()
                    .map(|&i| model.fields[i].column.as_str())
                    .collect();
                let (n, attr) = (assoc.key_columns().count(), assoc.kind.attr_name());
                let (key, target) = (key.join("`, `"), &assoc.target_name);
                let help = if model.pk.len() > 1 {
                    format!("write `foreign_key(..)` with the columns of `{target}` that hold `{key}`, in that order")
                } else {
                    format!(
                        "name the one column of `{target}` that holds it: `foreign_key = \"...\"`"
                    )
                };
                cx.error_at(assoc.foreign_key.span, format_args!(
                    "`{name}`'s primary key is `{key}`, and this `{attr}` names {n} key column{} of `{target}` for it\nhelp: {help}",
                    if n == 1 { "" } else { "s" }
                ));
            }
            Kind::BelongsToMany => {
                if let (Some(span), false) = (assoc.symmetric, assoc.self_ref) {
                    cx.error_at(span, format_args!(
                        "`symmetric` is for an association of `{name}` with itself (such as Friends); this one points at `{}`",
                        assoc.target_name
                    ));
                }
                if let (Some(span), Some(_)) = (assoc.timestamps, assoc.join_model()) {
                    cx.error_at(span, "`timestamps` here is for a join table the derive generates; give a join model `#[model(timestamps)]` instead");
                }
                if let (Some(span), Some(_)) = (assoc.timestamps, assoc.existing_table()) {
                    cx.error_at(span, "`timestamps` here is for a join table the derive generates; your `table!` already says which columns the table has (give them database defaults)");
                }
                if let Some(scope) = &assoc.scope {
                    if assoc.join_model().is_none() {
                        cx.error_at(scope.span, "`through_scope` filters the rows of a join model: declare the join table as a model (`through = Tagging`) with the columns the scope names");
                    } else if assoc.symmetric.is_some() {
                        cx.error_at(scope.span, "`through_scope` and `symmetric` do not go together: a mirrored row would need the scope's values on both sides");
                    }
                }
                if assoc.through.is_none() {
                    cx.error_at(assoc.span, "`belongs_to_many` needs `through`: the name of a join table (`through = \"rsvps\"`) or a join model (`through = Rsvp`)\nhelp: e.g. `#[belongs_to_many(User, through = \"rsvps\")]`");
                }
                if let Some(other) = &assoc.other_key {
                    if other.value == assoc.foreign_key.value {
                        cx.error_at(other.span, format_args!(
                            "both key columns of the join table are named `{}`\nhelp: on a self-reference, give `as = \"...\"` (the other key is named after its singular) or `other_key = \"...\"`",
                            other.value
                        ));
                    }
                }
            }
            Kind::HasOne | Kind::HasMany => {}
        }
        if cx.count() > errors {
            failed.push(index);
        }
    }
    let joins = join_tables(cx, model, &mut failed);
    Checked { joins, failed }
}

fn join_tables(cx: &mut Ctxt, model: &Model, failed: &mut Vec<usize>) -> Vec<JoinTable> {
    let name = model.ident.to_string();
    let self_path: Path = syn::parse_quote!(Self);
    let mut tables: Vec<JoinTable> = Vec::new();
    for (index, assoc) in model
        .assocs
        .iter()
        .enumerate()
        .filter(|(_, a)| a.kind == Kind::BelongsToMany)
    {
        let errors = cx.count();
        'body: {
            let (Some(through), Some(other)) = (assoc.through_table(), &assoc.other_key) else {
                break 'body;
            };
            if through.value == model.table.name() {
                cx.error_at(
                    through.span,
                    "the join table cannot be the model's own table",
                );
                break 'body;
            }
            let target: Path = if assoc.self_ref {
                self_path.clone()
            } else {
                assoc.target.clone()
            };
            let mut keys = [
                (
                    name.clone(),
                    assoc.foreign_key.value.clone(),
                    self_path.clone(),
                ),
                (assoc.target_name.clone(), other.value.clone(), target),
            ];
            keys.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            let keys = keys.map(|(_, column, path)| (column, path));
            if let Some(existing) = tables.iter().find(|t| t.name.value == through.value) {
                let columns = |k: &[(String, Path); 2]| [k[0].0.clone(), k[1].0.clone()];
                if existing.timestamps != assoc.timestamps.is_some() {
                    cx.error_at(
                        through.span,
                        format_args!(
                        "join table `{}` is declared twice, once with `timestamps` and once without",
                        through.value
                    ),
                    );
                }
                if columns(&existing.keys) != columns(&keys) {
                    cx.error_at(through.span, format_args!(
                        "join table `{}` is declared twice with different key columns (`{}`, `{}` and `{}`, `{}`)",
                        through.value, existing.keys[0].0, existing.keys[1].0, keys[0].0, keys[1].0
                    ));
                }
                break 'body;
            }
            tables.push(JoinTable {
                name: Named {
                    value: through.value.clone(),
                    span: through.span,
                },
                keys,
                canonical: name <= assoc.target_name,
                timestamps: assoc.timestamps.is_some(),
            });
        }
        if cx.count() > errors {
            failed.push(index);
        }
    }
    tables
}
