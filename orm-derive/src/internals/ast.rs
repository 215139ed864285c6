//! The validated description of one model: resolved names, keys and
//! associations, with the user's syn nodes kept for spans.

use proc_macro2::Span;
use syn::{Ident, LitStr, Path, Type, Visibility};

/// One `#[derive(Model)]` struct.
pub struct Model {
    pub ident: Ident,
    pub vis: Visibility,
    /// Path to orm-core (`::orm_core` unless `#[model(crate = "...")]`).
    pub krate: Path,
    pub table: Table,
    pub fields: Vec<Field>,
    /// Indexes of the primary-key fields in `fields` (several for a
    /// composite key).
    pub pk: Vec<usize>,
    pub assocs: Vec<Assoc>,
    /// `#[polymorphic(..)]`: each a type column and a key column pointing
    /// at one of several models.
    pub polymorphic: Vec<Polymorphic>,
    /// `#[model(timestamps)]`: `created_at`/`updated_at` are set by `create`
    /// and `save`.
    pub timestamps: bool,
    /// `#[model(new = NewBookRow)]`: the insertable struct's name, when
    /// `New<Model>` is taken (a project's own `NewBook<'a>`).
    pub new_name: Option<Ident>,
    /// Whether everything but the associations parsed without error; then
    /// the model can still be emitted next to association errors.
    pub core_ok: bool,
}

/// Where the model's diesel table comes from.
pub enum Table {
    /// The derive emits `pub mod NAME` with diesel's `table!` expansion.
    Generated { name: String },
    /// `#[model(table = path::to::table_module)]`: an existing diesel table.
    Existing { path: Path, name: String },
}

impl Table {
    /// The SQL name of the table.
    pub fn name(&self) -> &str {
        match self {
            Table::Generated { name } | Table::Existing { name, .. } => name,
        }
    }
}

/// One field, which is one column.
pub struct Field {
    pub ident: Ident,
    /// The field's own `///` docs, copied to `New*`.
    pub docs: Vec<syn::Attribute>,
    pub ty: Type,
    pub column: String,
    /// The diesel SQL type of the column (`Integer`, `Nullable<Text>`); `None`
    /// when the table already exists and has its own.
    pub sql_type: Option<Type>,
    /// Where a problem with the SQL type is reported: the `sql_type` the
    /// user wrote, or else the field's type.
    pub sql_type_span: Span,
    /// Whether the database assigns the value (an integer primary key).
    pub auto: bool,
    /// `created_at`/`updated_at` of a model with timestamps: not in `New*`,
    /// set to the current time by `create` (both) and `save` (`updated_at`).
    pub managed: bool,
    /// `#[model(default)]`: the column has a database default; `New*` holds
    /// an `Option`, and `None` leaves the column to the default.
    pub db_default: bool,
    /// `#[model(default = "..")]`: the default's SQL expression, for DDL.
    pub default_sql: Option<String>,
    /// `#[model(read_only)]`: the database maintains the column (a trigger,
    /// a generated column): read, never inserted or saved.
    pub read_only: bool,
}

impl Model {
    /// The key columns an association through this model links, when it is
    /// a join model: both of a two-column key; of a wider one, those its
    /// `belongs_to`s name (its other key columns travel in the payload).
    /// Fewer than two: not a join model.
    pub fn join_links(&self) -> Vec<usize> {
        if self.pk.len() == 2 {
            return self.pk.clone();
        }
        // A `belongs_to`'s key, or a polymorphic one's (`taggable_id` of
        // a `Tagging` whose type column is in the key too).
        let belongs_to = self.assocs.iter().filter(|a| a.kind == Kind::BelongsTo);
        let polymorphic = self.polymorphic.iter().filter(|p| p.arc.is_none());
        let foreign_keys: Vec<&str> = belongs_to
            .map(|a| a.foreign_key.value.as_str())
            .chain(polymorphic.map(|p| p.foreign_key.value.as_str()))
            .collect();
        let links: Vec<usize> = self
            .pk
            .iter()
            .copied()
            .filter(|&i| foreign_keys.contains(&self.fields[i].column.as_str()))
            .collect();
        if links.len() >= 2 {
            links
        } else {
            Vec::new()
        }
    }
}

impl Field {
    /// Whether `New*` has this field: the database assigns an integer key,
    /// `create` sets timestamps, and read-only columns are never written.
    pub fn in_new(&self) -> bool {
        !self.auto && !self.managed && !self.read_only
    }

    /// The field's type in `New*`: `Option<T>` for a column with a database
    /// default.
    pub fn new_ty(&self) -> proc_macro2::TokenStream {
        let ty = &self.ty;
        if self.db_default {
            quote::quote!(::core::option::Option<#ty>)
        } else {
            quote::quote!(#ty)
        }
    }
}

/// The four association kinds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BelongsTo,
    HasOne,
    HasMany,
    BelongsToMany,
}

impl Kind {
    pub fn attr_name(self) -> &'static str {
        match self {
            Kind::BelongsTo => super::symbol::BELONGS_TO,
            Kind::HasOne => super::symbol::HAS_ONE,
            Kind::HasMany => super::symbol::HAS_MANY,
            Kind::BelongsToMany => super::symbol::BELONGS_TO_MANY,
        }
    }

    /// Whether the association reaches many rows (plural method names).
    pub fn is_many(self) -> bool {
        matches!(self, Kind::HasMany | Kind::BelongsToMany)
    }
}

/// A string option with the literal it came from, for spans.
#[derive(Clone)]
pub struct Named {
    pub value: String,
    pub span: Span,
}

impl Named {
    pub fn from_lit(lit: &LitStr) -> Self {
        Named {
            value: lit.value(),
            span: lit.span(),
        }
    }
}

/// One association attribute, resolved.
pub struct Assoc {
    pub kind: Kind,
    /// The attribute's name token, for spans.
    pub span: Span,
    pub target: Path,
    /// The target's struct name (last path segment).
    pub target_name: String,
    pub self_ref: bool,
    /// What the methods are named after: `guests` / `guest`, or `author`.
    pub plural: String,
    pub singular: String,
    /// The association's name for docs (`Guests`, `Author`, `Users`).
    pub label: String,
    /// belongs_to: own column; has_*: target's column; belongs_to_many:
    /// the join-table column holding this model's key.
    pub foreign_key: Named,
    /// belongs_to, has_one, has_many with `foreign_key(a, b)`: the key's
    /// columns after the first (`foreign_key`).
    pub more_keys: Vec<Named>,
    /// belongs_to_many: the join-table column holding the target's key.
    pub other_key: Option<Named>,
    pub through: Option<Through>,
    /// belongs_to_many on a self-reference: store both directions; the span
    /// of the `symmetric` flag.
    pub symmetric: Option<Span>,
    /// belongs_to_many through a generated join table: give it
    /// `created_at`/`updated_at`; the span of the `timestamps` flag.
    pub timestamps: Option<Span>,
    /// `on_delete = ".."`: one of [`ACTIONS`](super::symbol::ACTIONS).
    pub on_delete: Option<Named>,
    /// `on_update = ".."`.
    pub on_update: Option<Named>,
    /// `constraints = false`: the span of the `false`.
    pub unenforced: Option<Span>,
    /// `scope = posts::published.eq(true)` (`has_many`, `has_one`).
    pub scope: Option<Scope>,
    /// Where the association's name was written: its `as`, or else the
    /// attribute.
    pub name_span: Span,
    /// The type the association is described on, which its methods' bounds
    /// name: `event_associations::Guests`.
    pub marker: Path,
}

/// What a `belongs_to_many` goes through.
pub enum Through {
    /// `through = "rsvps"`: a join table the derive generates.
    Table(Named),
    /// `through = Rsvp`: a join model, itself a `#[derive(Model)]`.
    Model(Path),
    /// `through = schema::rsvps`: a join table the project's `table!`
    /// already declares (a path whose last segment is snake_case).
    Existing(Path),
}

impl Assoc {
    /// The foreign key's columns: one, or those of `foreign_key(a, b)`.
    pub fn key_columns(&self) -> impl Iterator<Item = &Named> {
        std::iter::once(&self.foreign_key).chain(&self.more_keys)
    }

    /// The foreign key's columns as docs name them: `author_id`, or
    /// `tenant_id`, `order_number`.
    pub fn key_label(&self) -> String {
        let columns: Vec<&str> = self.key_columns().map(|c| c.value.as_str()).collect();
        columns.join("`, `")
    }

    /// The generated join table's name, for `through = "table"`.
    pub fn through_table(&self) -> Option<&Named> {
        match &self.through {
            Some(Through::Table(name)) => Some(name),
            _ => None,
        }
    }

    /// The project's join table, for `through = schema::table`.
    pub fn existing_table(&self) -> Option<&Path> {
        match &self.through {
            Some(Through::Existing(path)) => Some(path),
            _ => None,
        }
    }

    /// The join model, for `through = Model`.
    pub fn join_model(&self) -> Option<&Path> {
        match &self.through {
            Some(Through::Model(path)) => Some(path),
            _ => None,
        }
    }
}

/// A join table this model's `belongs_to_many` associations use.
pub struct JoinTable {
    pub name: Named,
    /// The two key columns with the model each references, ordered by
    /// (model name, column) so both sides agree on the order.
    pub keys: [(String, Path); 2],
    /// Whether this side emits the public items (the side whose model name
    /// sorts first); the other side emits them privately and re-exports them,
    /// so both sides in one module do not collide.
    pub canonical: bool,
    /// Whether rows carry `created_at`/`updated_at`.
    pub timestamps: bool,
}

/// An association's `scope` (a condition on the target's table) or a
/// `belongs_to_many`'s `through_scope` (on its join model's).
pub struct Scope {
    /// The option's name (`scope`, `through_scope`).
    pub span: proc_macro2::Span,
    pub expr: syn::Expr,
    /// Where it is a simple equality (`posts::published.eq(true)`, several
    /// joined by `.and(..)`), the columns and values its writers set.
    pub sets: Option<Vec<(Named, syn::Expr)>>,
}

impl Scope {
    pub fn new(span: proc_macro2::Span, expr: syn::Expr) -> Self {
        let mut sets = Vec::new();
        let simple = equalities(&expr, &mut sets);
        Scope {
            span,
            expr,
            sets: simple.then_some(sets),
        }
    }
}

/// Collects `column = value` of `expr` into `sets`; false if `expr` is not
/// only equalities joined by `.and(..)`.
fn equalities(expr: &syn::Expr, sets: &mut Vec<(Named, syn::Expr)>) -> bool {
    match expr {
        syn::Expr::Paren(p) => equalities(&p.expr, sets),
        syn::Expr::Group(g) => equalities(&g.expr, sets),
        syn::Expr::MethodCall(call) if call.args.len() == 1 && call.turbofish.is_none() => {
            let arg = &call.args[0];
            if call.method == "and" {
                return equalities(&call.receiver, sets) && equalities(arg, sets);
            }
            let syn::Expr::Path(column) = &*call.receiver else {
                return false;
            };
            match column.path.segments.last() {
                Some(last) if call.method == "eq" && column.qself.is_none() => {
                    let column = Named {
                        value: last.ident.to_string().trim_start_matches("r#").to_owned(),
                        span: last.ident.span(),
                    };
                    sets.push((column, arg.clone()));
                    true
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// `#[polymorphic(Commentable, Post = "post", Video = "video")]`: the
/// enum to generate, its variants with their discriminators, and the two
/// columns.
pub struct Polymorphic {
    /// The attribute's name token.
    pub span: Span,
    /// The enum (`Commentable`), which names the methods (`commentable`).
    pub name: Ident,
    /// Each variant's model with its discriminator, or with its own key
    /// column for an exclusive arc.
    pub variants: Vec<(Path, LitStr)>,
    /// `arc(Post = "post_id", ..)`: one key column per variant, exactly one
    /// of them set (a CHECK); the span of `arc`.
    pub arc: Option<Span>,
    /// The key column (`commentable_id` unless `foreign_key = ".."`).
    pub foreign_key: Named,
    /// The type column (`commentable_type` unless `type_column = ".."`).
    pub type_column: Named,
    /// `derive(Debug, Clone, PartialEq)`: the enum's derives.
    pub derives: Vec<Path>,
}
