//! Every attribute name and option the derive accepts.

pub const MODEL: &str = "model";
pub const BELONGS_TO: &str = "belongs_to";
pub const HAS_ONE: &str = "has_one";
pub const HAS_MANY: &str = "has_many";
pub const BELONGS_TO_MANY: &str = "belongs_to_many";
pub const POLYMORPHIC: &str = "polymorphic";
pub const TYPE_COLUMN: &str = "type_column";
pub const DERIVE: &str = "derive";
pub const ARC: &str = "arc";

// #[model(...)] on the struct
pub const TABLE: &str = "table";
pub const CRATE: &str = "crate";
pub const TIMESTAMPS: &str = "timestamps";
pub const NEW: &str = "new";
pub const CREATED_AT: &str = "created_at";
pub const UPDATED_AT: &str = "updated_at";
// #[model(...)] on a field
pub const PRIMARY_KEY: &str = "primary_key";
pub const SQL_TYPE: &str = "sql_type";
pub const DEFAULT: &str = "default";
pub const READ_ONLY: &str = "read_only";
pub const AUTO: &str = "auto";

// association options
pub const AS: &str = "as";
pub const FOREIGN_KEY: &str = "foreign_key";
pub const OTHER_KEY: &str = "other_key";
pub const THROUGH: &str = "through";
pub const SINGULAR: &str = "singular";
pub const SYMMETRIC: &str = "symmetric";
pub const ON_DELETE: &str = "on_delete";
pub const ON_UPDATE: &str = "on_update";
pub const CONSTRAINTS: &str = "constraints";
pub const SCOPE: &str = "scope";
pub const THROUGH_SCOPE: &str = "through_scope";
/// The referential actions `on_delete`/`on_update` accept, with their
/// `orm_core::schema::Action` variants.
pub const ACTIONS: [(&str, &str); 5] = [
    ("cascade", "Cascade"),
    ("set_null", "SetNull"),
    ("restrict", "Restrict"),
    ("no_action", "NoAction"),
    ("set_default", "SetDefault"),
];

pub const STRUCT_OPTIONS: &str = "`table`, `primary_key(..)`, `timestamps`, `new`, `crate`";
pub const FIELD_OPTIONS: &str = "`primary_key`, `auto = false`, `sql_type`, `default`, `read_only`";
