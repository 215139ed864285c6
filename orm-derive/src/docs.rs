//! Doc comments for generated items, in the user's terms.

use crate::internals::ast::{Assoc, Kind, Model, Through};

pub fn new_struct(model: &Model) -> String {
    let mut doc = format!("A new `{}` row to insert with [`{0}::create`]", model.ident);
    if model.fields.iter().any(|f| f.auto) {
        doc.push_str("; the database assigns the primary key");
    }
    if model.timestamps {
        doc.push_str("; `create` sets `created_at` and `updated_at`");
    }
    doc.push('.');
    doc
}

pub fn table_module(model: &Model) -> String {
    format!(
        "The diesel schema of table `{}`, which stores [`{}`] rows.",
        model.table.name(),
        model.ident
    )
}

pub fn crud(model: &Model, method: &str) -> String {
    let m = &model.ident;
    let t = model.table.name();
    match method {
        "create" => format!("Inserts a new `{m}` into `{t}` and returns it with its database-assigned key."),
        "create_many" => format!("Inserts every one of `news` into `{t}` and returns the stored rows, in order: one `INSERT .. RETURNING` per chunk of rows under the parameter limit on PostgreSQL, one per row on SQLite (cached, in process), an INSERT and a read per row on MySQL. All or none: several statements run in one transaction."),
        "key" => format!("The typed key `id` of a `{m}`. Association methods take it wherever they take a `&{m}`; `row.key()` (from `Model`) gives a row's own."),
        "find" => format!("The `{m}` with primary key `id`.\n\n# Errors\n`NotFound` if `{t}` has no such row."),
        "all" => format!("Every `{m}` in `{t}`."),
        "count" => format!("How many rows `{t}` holds."),
        "query" => format!(
            "A boxed diesel query over `{t}`, to refine with `.filter`, `.order`, `.limit` and load."
        ),
        "save" => format!("Writes every field of this `{m}` to its row.\n\n# Errors\n`NotFound` if the row is gone."),
        "save_timestamps" => format!("Sets `updated_at` to now and writes every field of this `{m}` to its row (`updated_at` is restored if the write fails).\n\n# Errors\n`NotFound` if the row is gone."),
        "delete" => format!("Deletes this `{m}`'s row.\n\n# Errors\n`NotFound` if the row was already gone."),
        _ => String::new(),
    }
}

pub fn via(model: &Model, assoc: &Assoc) -> String {
    match (&assoc.kind, &assoc.through) {
        (Kind::BelongsToMany, Some(Through::Table(table))) => format!("through `{}`", table.value),
        (Kind::BelongsToMany, Some(Through::Existing(path))) => format!(
            "through `{}`",
            path.segments
                .last()
                .map_or(String::new(), |s| s.ident.to_string())
        ),
        (Kind::BelongsToMany, Some(Through::Model(path))) => {
            format!(
                "through [`{}`]",
                quote::quote!(#path).to_string().replace(' ', "")
            )
        }
        (Kind::BelongsTo, _) if assoc.more_keys.is_empty() => format!(
            "through `{}.{}`",
            model.table.name(),
            assoc.foreign_key.value
        ),
        (Kind::BelongsTo, _) => format!(
            "through `{}` of `{}`",
            assoc.key_label(),
            model.table.name()
        ),
        _ => format!("through `{}` of `{}`", assoc.key_label(), assoc.target_name),
    }
}

pub fn assoc(model: &Model, assoc: &Assoc, method: &str) -> String {
    let m = &model.ident;
    let t = &assoc.target_name;
    let label = &assoc.label;
    let via = via(model, assoc);
    let missing =
        "\n\n# Errors\nAn `Err` (and no change) if this row or a target row does not exist.";
    // The signature names the payload as `<Join as JoinModel>::Payload`,
    // which resolves wherever the join model does; the prose names the type.
    let payload = assoc.join_model().map(|join| {
        let name = join
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        format!(
            " `payload` is a `{name}Payload`: the fields of [`{}`] other than its two keys.",
            quote::quote!(#join).to_string().replace(' ', "")
        )
    });
    let payload = payload.as_deref().unwrap_or_default();
    let text = match method {
        "load" => format!("Returns the `{t}`s associated with this `{m}` as {label}, {via}."),
        "query" => format!("A diesel query over the `{t}`s associated with this `{m}` as {label}; refine it with `.filter`, `.order`, `.limit`, `.select` and load it."),
        "count" => format!("Counts this `{m}`'s {label}."),
        "has" => format!("Whether the given `{t}` is one of this `{m}`'s {label}."),
        "has_all" => format!("Whether every given `{t}` is one of this `{m}`'s {label} (true for an empty slice)."),
        "add" if assoc.kind == Kind::BelongsToMany => format!("Adds the `{t}` to this `{m}`'s {label} (a row in `{}`); adding one that is already there does nothing and returns 0.{missing}", via.trim_start_matches("through ")),
        "add" => format!("Makes the `{t}` one of this `{m}`'s {label} by pointing its `{}` here.{missing}", assoc.key_label()),
        "add_all" => format!("Adds every given `{t}` to this `{m}`'s {label} in one statement; ones already there are skipped. Returns how many were added.{missing}"),
        "remove" => format!("Removes the `{t}` from this `{m}`'s {label}; the `{t}` row itself stays. Returns how many associations were removed."),
        "remove_all" => format!("Removes every given `{t}` from this `{m}`'s {label}; the rows themselves stay."),
        "set" => format!("Makes exactly the given `{t}`s this `{m}`'s {label}, in one transaction: only the difference is written, duplicates count once.{missing}"),
        "clear" => format!("Removes every `{t}` from this `{m}`'s {label}; the rows themselves stay."),
        "create" if assoc.kind == Kind::HasMany => format!("Inserts a new `{t}` pointing at this `{m}`. `new` is a closure that builds `{t}`'s insertable struct from the key value (`|key| .. {{ key, .. }}`), or that struct, whose key field is overwritten.{missing}"),
        "create" => format!("Inserts a new `{t}` and adds it to this `{m}`'s {label}, in one transaction.{missing}"),
        "load_many" => format!("Eager loading: the {label} of each of `parents`, aligned with them (an empty list where a `{m}` has none), in {} whatever their number (one more per chunk of keys under the backend's parameter limit).", if assoc.kind == Kind::BelongsToMany { "two statements" } else { "one statement" }),
        "load_where" => format!("`load_{}` with the query refined by `refine` (`|q| q.filter(..).order(..)`): rows it leaves out are left out of every `{m}`, and each `{m}`'s rows keep its order.", assoc.plural),
        "load_top" => format!("Eager loading with a per-parent limit: the first `limit` {label} of each of `parents` by `order` (an expression on the `{t}` table, such as `posts::id.desc()` for the latest), aligned with them and in that order, in one statement whatever their number (a `ROW_NUMBER()` window function; one more statement per chunk of keys under the backend's parameter limit)."),
        "load_one" => format!("Eager loading: the {label} of each of `parents`, aligned with them (`None` where a `{m}` has none), in one statement whatever their number."),
        "load_parents" => format!("Eager loading: the {label} of each of `children`, aligned with them, in one statement whatever their number (an `Option` each when the key is nullable).\n\n# Errors\n`NotFound` if a key points at a missing row."),
        "add_with" => format!("Adds the `{t}` to this `{m}`'s {label} with `payload` in its join row; if it is already there, its join row gets `payload` (an upsert). Returns the join rows written.{payload}{missing}"),
        "add_all_with" => format!("Adds every given `{t}` to this `{m}`'s {label} with `payload` in their join rows, in one statement; join rows already there get `payload`. Returns the join rows written.{payload}{missing}"),
        "set_with" => format!("Makes exactly the given `{t}`s and the keys in `overrides` this `{m}`'s {label}, in one transaction: each join row gets `payload`, or its override (Sequelize's defaults and per-instance `through` values). Rows already there get their payload written too; others are removed.{payload}{missing}"),
        "create_with" => format!("Inserts a new `{t}` and adds it to this `{m}`'s {label} with `payload` in its join row, in one transaction.{payload}{missing}"),
        "through_query" => format!("A query over this `{m}`'s {label} joined with their join rows, loaded as `(`{t}`, join row)` pairs: filter and order it on the columns of either table (`.filter(..)`, `.order(..)`), narrow the join columns with `.select_through(..)`, or `.count()` it."),
        "with_through" => format!("Returns this `{m}`'s {label} with their join rows, in one statement."),
        "load_with_through" => format!("Eager loading: the {label} of each of `parents` with their join rows, aligned with them (an empty list where a `{m}` has none), in one statement whatever their number (one more per chunk of keys under the backend's parameter limit)."),
        "load_with_through_where" => format!("`load_{}_with_through` with the query refined by `refine` (`|q| q.filter(..).order(..)`, on the columns of either table).", assoc.plural),
        "changes" => format!("Starts queueing changes to this `{m}`'s {label} (`add`, `add_new`, `remove`, by row or key); nothing is written until `save(conn)` applies them all in one transaction."),
        "has_where" => format!("A filter of `{m}` rows (`{m}::query().filter(..)`, or any query over `{m}`'s table): those {} that `refine` keeps of `{t}`'s table (`|q| q` for any; `|q| q.filter(..)`). One statement with the query (an `EXISTS` subquery); `!` negates it (`NOT EXISTS`: those with none).", if assoc.kind.is_many() { format!("with a `{t}` among their {label}") } else { format!("whose {label} is a `{t}`") }),
        "count_expr" => format!("How many {label} a `{m}` row has, as a `BIGINT` expression of a query over `{m}`'s table: select it, filter by it (`.gt(2_i64)`) or order by it (`.desc()`). A correlated subquery counting {}.", if assoc.kind == Kind::BelongsToMany { "join rows" } else { "rows" }),
        "count_for" => format!("How many {label} each of `parents` has, aligned with them (0 for none), in one `GROUP BY` statement whatever their number (one more per chunk of keys under the backend's parameter limit)."),
        "count_for_where" => format!("`count_{}_for` counting only the `{t}`s `refine` keeps of `{t}`'s table (`|q| q.filter(..)`).", assoc.plural),
        "get_one" => format!("Returns this `{m}`'s {label} (a `{t}` {via}), if it has one."),
        "unset_one" => format!("Detaches this `{m}`'s {label}, if it has one (its key set to NULL; the row stays). Returns whether there was one. Only for a nullable key."),
        "set_one" => format!("Makes the given `{t}` this `{m}`'s {label}; a previous one is detached (its key set to NULL), in one transaction.{missing}"),
        "create_one" => format!("Inserts a new `{t}` as this `{m}`'s {label}, detaching a previous one, in one transaction. `new` is a closure that builds `{t}`'s insertable struct from the key value, or that struct, whose key field is overwritten.{missing}"),
        "parent" => format!("Returns the `{t}` this `{m}` belongs to as {label}, {via} (an `Option` when the key is nullable).\n\n# Errors\n`NotFound` if the key points at a missing row."),
        "set_parent" => format!("Makes the given `{t}` this `{m}`'s {label}: updates `{}` in the table and in this struct.{missing}", assoc.key_label()),
        "unset_parent" => format!("Removes this `{m}`'s {label}: sets `{}` to NULL in the table and in this struct (Sequelize's `set{label}(null)`); only for a nullable key.\n\n# Errors\n`NotFound` if this row is gone.", assoc.foreign_key.value),
        "create_parent" => format!("Inserts a new `{t}` and makes it this `{m}`'s {label}, in one transaction.{missing}"),
        _ => String::new(),
    };
    // has_many detaches by writing NULL into the target's key, which this
    // struct cannot see: say so where the method would not compile.
    let detaches = matches!(method, "remove" | "remove_all" | "set" | "clear");
    if assoc.kind == Kind::HasMany && detaches {
        return format!(
            "{text}\n\nOnly for a nullable foreign key (`{t}.{}` an `Option<_>`): with a NOT NULL \
             key this method does not compile, since the rows it detaches would need a NULL; \
             delete them instead.",
            assoc.foreign_key.value
        );
    }
    text
}

pub fn join_row(table: &str, timestamps: bool) -> String {
    let when = if timestamps {
        ", and when the row was written"
    } else {
        ""
    };
    format!("One row of join table `{table}`: a pair of associated keys{when}.")
}

pub fn join_table(table: &str) -> String {
    format!("The diesel schema of join table `{table}`.")
}
