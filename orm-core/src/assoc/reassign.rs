//! The statements of a has_many `set_*`.
//!
//! On PostgreSQL, after the parent's row lock, one statement
//! ([`SetChildren`]): an UPDATE that attaches the wanted rows not yet
//! attached and detaches the children not wanted, returning what it did,
//! with the wanted rows that exist, read from the same snapshot.
//!
//! On SQLite (and on PostgreSQL when the keys would not fit one statement),
//! the children read (on SQLite with the parent, in one statement), then
//! every change written in one UPDATE ([`Reassign`]) that, on PostgreSQL,
//! returns row by row whether it detached or attached (on SQLite, whose write
//! lock keeps every other writer out, its count is exact and it returns
//! nothing).
//!
//! ```sql
//! SELECT t."id" FROM "users" AS s LEFT JOIN "posts" AS t ON t."author_id" = s."id"
//!   WHERE s."id" = ?
//! UPDATE "posts" SET "author_id" = CASE WHEN "id" IN (?, ?) THEN ? ELSE NULL END
//!   WHERE "id" IN (?, ?) OR ("id" IN (?) AND "author_id" = ?)
//!   RETURNING "author_id" IS NULL
//! ```
//!
//! No row from the read: the parent is gone. One row with a NULL key: it has
//! no children. (On PostgreSQL the parent's row lock comes first, in a
//! statement of its own: a read that waited for it would see the children of
//! its older snapshot. A one-row `remove_*` takes no lock and may still
//! detach a child between the read and the UPDATE, so the UPDATE detaches
//! only rows that still point at the parent, and what it returns is what
//! happened: fewer detached rows is that serial order, fewer attached rows is
//! a target that does not exist.)

use diesel::expression::Expression;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType, Nullable, SingleValue};
use diesel::{Column, RunQueryDsl};

use super::has::OneToMany;
use crate::backend::OrmBackend;
use crate::model::{ForeignKey, IdOf, Model, PkOf, SingleKey};

/// The parent's key is bound as the foreign key's value (`Option<i32>` for
/// a nullable `author_id`), the type the association already knows.
type KeySql<A> = <<A as OneToMany>::ForeignKey as Expression>::SqlType;
type TargetSql<A> = <PkOf<<A as OneToMany>::Target> as Expression>::SqlType;
type Kv<A> = <A as OneToMany>::KeyValue;

/// The parent row and its children's keys, in one statement: no row when
/// the parent is gone, one `None` when it has no children.
pub struct ParentAndChildIds<A: OneToMany> {
    key: Kv<A>,
}

impl<A: OneToMany> ParentAndChildIds<A> {
    /// The statement for parent `id`.
    pub fn new(id: IdOf<A::Source>) -> Self {
        ParentAndChildIds {
            key: ForeignKey::from_id(id),
        }
    }
}

impl<A, DB> QueryFragment<DB> for ParentAndChildIds<A>
where
    A: OneToMany<ForeignKey: Column, Target: SingleKey>,
    DB: OrmBackend + HasSqlType<KeySql<A>>,
    Kv<A>: ToSql<KeySql<A>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let (source, target) = (A::Source::TABLE, A::Target::TABLE);
        out.push_sql("SELECT t.");
        out.push_identifier(target.primary_key[0])?;
        out.push_sql(" FROM ");
        out.push_identifier(source.name)?;
        out.push_sql(" AS s LEFT JOIN ");
        out.push_identifier(target.name)?;
        out.push_sql(" AS t ON t.");
        out.push_identifier(A::ForeignKey::NAME)?;
        out.push_sql(" = s.");
        out.push_identifier(source.primary_key[0])?;
        out.push_sql(" WHERE s.");
        out.push_identifier(source.primary_key[0])?;
        out.push_sql(" = ");
        out.push_bind_param::<KeySql<A>, _>(&self.key)
    }
}

impl<A: OneToMany> QueryId for ParentAndChildIds<A> {
    type QueryId = Self;
    // The SQL depends on the types alone: prepared once, cached.
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<A> Query for ParentAndChildIds<A>
where
    A: OneToMany<ForeignKey: Column, Target: SingleKey>,
    TargetSql<A>: SingleValue,
{
    type SqlType = Nullable<TargetSql<A>>;
}

impl<A: OneToMany, C> RunQueryDsl<C> for ParentAndChildIds<A> {}

/// Every change of a `set_*` in one UPDATE: `add` pointed at the parent,
/// `remove` detached (NULL) if it still points at the parent. Each changed
/// row returns `true` when it was detached.
pub struct Reassign<A: OneToMany> {
    key: Kv<A>,
    add: Vec<IdOf<A::Target>>,
    remove: Vec<IdOf<A::Target>>,
    returning: bool,
}

impl<A: OneToMany> Reassign<A> {
    /// The UPDATE pointing `add` at `id` and detaching `remove`.
    pub fn new(
        id: IdOf<A::Source>,
        add: Vec<IdOf<A::Target>>,
        remove: Vec<IdOf<A::Target>>,
    ) -> Self {
        Reassign {
            key: ForeignKey::from_id(id),
            add,
            remove,
            returning: true,
        }
    }
}

fn keys<'b, A, DB>(out: &mut AstPass<'_, 'b, DB>, keys: &'b [IdOf<A::Target>]) -> QueryResult<()>
where
    A: OneToMany<ForeignKey: Column, Target: SingleKey>,
    DB: OrmBackend + HasSqlType<TargetSql<A>>,
    IdOf<A::Target>: ToSql<TargetSql<A>, DB>,
{
    out.push_identifier(A::Target::TABLE.primary_key[0])?;
    out.push_sql(" IN (");
    for (i, key) in keys.iter().enumerate() {
        out.push_sql(if i == 0 { "" } else { ", " });
        out.push_bind_param::<TargetSql<A>, _>(key)?;
    }
    out.push_sql(")");
    Ok(())
}

/// `UPDATE "posts" SET "author_id"`: the head both UPDATEs share.
fn update_key<A, DB>(out: &mut AstPass<'_, '_, DB>) -> QueryResult<()>
where
    A: OneToMany<ForeignKey: Column, Target: SingleKey>,
    DB: OrmBackend,
{
    out.push_sql("UPDATE ");
    out.push_identifier(A::Target::TABLE.name)?;
    out.push_sql(" SET ");
    out.push_identifier(A::ForeignKey::NAME)
}

/// ` = CASE WHEN "id" IN (..) THEN ? ELSE NULL END`: `attach` pointed at
/// the parent, every other row the UPDATE reaches detached.
fn attach_else_detach<'b, A, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    attach: &'b [IdOf<A::Target>],
    key: &'b Kv<A>,
) -> QueryResult<()>
where
    A: OneToMany<ForeignKey: Column, Target: SingleKey>,
    DB: OrmBackend + HasSqlType<KeySql<A>> + HasSqlType<TargetSql<A>>,
    Kv<A>: ToSql<KeySql<A>, DB>,
    IdOf<A::Target>: ToSql<TargetSql<A>, DB>,
{
    out.push_sql(" = CASE WHEN ");
    keys::<A, DB>(out, attach)?;
    out.push_sql(" THEN ");
    out.push_bind_param::<KeySql<A>, _>(key)?;
    out.push_sql(" ELSE NULL END");
    Ok(())
}

impl<A, DB> QueryFragment<DB> for Reassign<A>
where
    A: OneToMany<ForeignKey: Column, Target: SingleKey>,
    DB: OrmBackend + HasSqlType<KeySql<A>> + HasSqlType<TargetSql<A>>,
    Kv<A>: ToSql<KeySql<A>, DB>,
    IdOf<A::Target>: ToSql<TargetSql<A>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        update_key::<A, DB>(&mut out)?;
        match (self.add.is_empty(), self.remove.is_empty()) {
            (false, false) => {
                attach_else_detach::<A, DB>(&mut out, &self.add, &self.key)?;
                out.push_sql(" WHERE ");
                keys::<A, DB>(&mut out, &self.add)?;
                out.push_sql(" OR (");
                self.still_pointing(&mut out)?;
                out.push_sql(")");
            }
            (false, true) => {
                out.push_sql(" = ");
                out.push_bind_param::<KeySql<A>, _>(&self.key)?;
                out.push_sql(" WHERE ");
                keys::<A, DB>(&mut out, &self.add)?;
            }
            (true, _) => {
                out.push_sql(" = NULL WHERE ");
                self.still_pointing(&mut out)?;
            }
        }
        if !self.returning {
            return Ok(());
        }
        out.push_sql(" RETURNING ");
        out.push_identifier(A::ForeignKey::NAME)?;
        out.push_sql(" IS NULL");
        Ok(())
    }
}

impl<A: OneToMany> Reassign<A> {
    /// Without `RETURNING`.
    pub fn counted(mut self) -> Self {
        self.returning = false;
        self
    }
}

impl<A: OneToMany<ForeignKey: Column, Target: SingleKey>> Reassign<A> {
    /// `"id" IN (..) AND "author_id" = ?`: the rows to detach that still
    /// point at the parent.
    fn still_pointing<'b, DB>(&'b self, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>
    where
        DB: OrmBackend + HasSqlType<KeySql<A>> + HasSqlType<TargetSql<A>>,
        Kv<A>: ToSql<KeySql<A>, DB>,
        IdOf<A::Target>: ToSql<TargetSql<A>, DB>,
    {
        keys::<A, DB>(out, &self.remove)?;
        out.push_sql(" AND ");
        out.push_identifier(A::ForeignKey::NAME)?;
        out.push_sql(" = ");
        out.push_bind_param::<KeySql<A>, _>(&self.key)
    }
}

impl<A: OneToMany> QueryId for Reassign<A> {
    type QueryId = ();
    // The SQL depends on the list lengths: cached by its text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<A: OneToMany> Query for Reassign<A> {
    type SqlType = Bool;
}

impl<A: OneToMany, C> RunQueryDsl<C> for Reassign<A> {}

/// A has_many `set_*` on PostgreSQL in one statement (after the parent's
/// lock): no read of the children first.
///
/// ```sql
/// WITH u AS (UPDATE "posts" SET "author_id" = CASE WHEN "id" IN ($1, $2) THEN $3 ELSE NULL END
///     WHERE ("id" IN ($1, $2) AND "author_id" IS DISTINCT FROM $3)
///        OR ("author_id" = $3 AND NOT "id" IN ($1, $2))
///     RETURNING "author_id" IS NULL AS d)
/// SELECT d FROM u UNION ALL SELECT NULL FROM "posts" WHERE "id" IN ($1, $2)
/// ```
///
/// Rows: `Some(true)` for each child detached, `Some(false)` for each row
/// attached, `None` for each wanted row that exists. Kept children are not
/// written. Both parts read one snapshot, taken after the lock; a row that a
/// lock-free one-row `add_*`/`remove_*` changed after it is re-checked by
/// the UPDATE and left alone if it already is as wanted, so what comes back
/// is what this call did.
pub struct SetChildren<A: OneToMany> {
    key: Kv<A>,
    wanted: Vec<IdOf<A::Target>>,
}

impl<A: OneToMany> SetChildren<A> {
    /// Makes `wanted` (no duplicates) exactly the children of `id`.
    pub fn new(id: IdOf<A::Source>, wanted: Vec<IdOf<A::Target>>) -> Self {
        SetChildren {
            key: ForeignKey::from_id(id),
            wanted,
        }
    }

    /// Bind parameters the statement takes for `wanted` keys.
    pub fn binds(wanted: usize) -> usize {
        4 * wanted + 3
    }
}

impl<A, DB> QueryFragment<DB> for SetChildren<A>
where
    A: OneToMany<ForeignKey: Column, Target: SingleKey>,
    DB: OrmBackend + HasSqlType<KeySql<A>> + HasSqlType<TargetSql<A>>,
    Kv<A>: ToSql<KeySql<A>, DB>,
    IdOf<A::Target>: ToSql<TargetSql<A>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let (table, fk) = (A::Target::TABLE.name, A::ForeignKey::NAME);
        out.push_sql("WITH u AS (");
        update_key::<A, DB>(&mut out)?;
        if self.wanted.is_empty() {
            out.push_sql(" = NULL WHERE ");
            out.push_identifier(fk)?;
            out.push_sql(" = ");
            out.push_bind_param::<KeySql<A>, _>(&self.key)?;
        } else {
            attach_else_detach::<A, DB>(&mut out, &self.wanted, &self.key)?;
            out.push_sql(" WHERE (");
            keys::<A, DB>(&mut out, &self.wanted)?;
            out.push_sql(" AND ");
            out.push_identifier(fk)?;
            out.push_sql(" IS DISTINCT FROM ");
            out.push_bind_param::<KeySql<A>, _>(&self.key)?;
            out.push_sql(") OR (");
            out.push_identifier(fk)?;
            out.push_sql(" = ");
            out.push_bind_param::<KeySql<A>, _>(&self.key)?;
            out.push_sql(" AND NOT ");
            keys::<A, DB>(&mut out, &self.wanted)?;
            out.push_sql(")");
        }
        out.push_sql(" RETURNING ");
        out.push_identifier(fk)?;
        out.push_sql(" IS NULL AS d) SELECT d FROM u");
        if !self.wanted.is_empty() {
            out.push_sql(" UNION ALL SELECT NULL FROM ");
            out.push_identifier(table)?;
            out.push_sql(" WHERE ");
            keys::<A, DB>(&mut out, &self.wanted)?;
        }
        Ok(())
    }
}

impl<A: OneToMany> QueryId for SetChildren<A> {
    type QueryId = ();
    // The SQL depends on the list's length: cached by its text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<A: OneToMany> Query for SetChildren<A> {
    type SqlType = Nullable<Bool>;
}

impl<A: OneToMany, C> RunQueryDsl<C> for SetChildren<A> {}
