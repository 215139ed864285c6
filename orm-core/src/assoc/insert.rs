//! The INSERTs of join rows, with their conflict handling.
//!
//! diesel's `on_conflict(..)` statement types are not nameable outside
//! diesel, and generic code has to name them in where-clauses, so orm-core
//! renders these statements itself:
//!
//! - [`InsertPairs`], for join tables the derive generates:
//!   `INSERT INTO "rsvps" ("event_id", "guest_id") VALUES ($1, $2), .. ON CONFLICT DO NOTHING`
//! - [`InsertPair`], the same for one row, with a static query id: the
//!   statement `add_guest` runs in a loop is prepared once per connection and
//!   found again without being rendered.
//! - [`Upsert`], for join models (`through = Rsvp`): the model's insertable
//!   rows, and `ON CONFLICT ("event_id", "guest_id") DO UPDATE SET "status" = excluded."status"`
//!   when the payload is to be written, `DO NOTHING` otherwise.
//!
//! Only uniqueness conflicts on the key pair are handled; foreign-key
//! violations still fail.

use std::marker::PhantomData;

use diesel::insertable::InsertValues;
use diesel::query_builder::{AstPass, QueryFragment, QueryId, ValuesClause};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::{Column, Expression, Insertable, QuerySource, RunQueryDsl};

use super::belongs_to_many::{ManyToMany, ManyToManyDef, Row, SourceOf, TargetOf};
use super::through::JoinModel;
use crate::backend::{Dialect, OrmBackend};
use crate::model::{IdOf, Model};
use crate::schema::TableDef;

/// What adding a pair that is already associated does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Leave the existing join row as it is.
    Keep,
    /// Write the new payload to the existing join row.
    Update,
}

/// An INSERT of join rows that, on PostgreSQL, checks or locks the rows it
/// references itself, in the same statement (see `write.rs`).
pub trait LockingInsert<S: Model, T: Model> {
    /// Makes the statement lock the row of source `id` before it inserts,
    /// and insert nothing if that row is gone.
    fn lock_source(&mut self, id: IdOf<S>);
    /// Makes the statement insert nothing, rather than fail, when the row of
    /// `source` or of `target` is gone: `WHERE EXISTS (.. FOR KEY SHARE)` on
    /// each, the lock a foreign-key check takes, so neither can go before
    /// the INSERT's own check. A one-row add then cannot fail on a missing
    /// row, and needs no savepoint inside the caller's transaction.
    fn guard(&mut self, source: IdOf<S>, target: IdOf<T>);
}

/// Join rows of a generated join table, in one statement (`ON CONFLICT DO
/// NOTHING`).
pub struct InsertPairs<A: ManyToMany> {
    table: <A::Through as QuerySource>::FromClause,
    rows: Vec<Pair<A>>,
    lock: Option<IdOf<SourceOf<A>>>,
    guard: Option<Pair<A>>,
}

impl<A: ManyToMany> InsertPairs<A> {
    /// The INSERT of `rows`; their payloads are `()`.
    pub fn new(rows: Vec<Row<A>>) -> Self {
        InsertPairs {
            table: A::Through::default().from_clause(),
            rows: rows.into_iter().map(|(s, t, _)| (s, t)).collect(),
            lock: None,
            guard: None,
        }
    }
}

/// On PostgreSQL, `INSERT INTO rsvps (..) SELECT * FROM (VALUES ..) AS v
/// WHERE EXISTS (SELECT .. FROM events WHERE id = ? FOR NO KEY UPDATE) ON
/// CONFLICT DO NOTHING`: the lock is an InitPlan, taken before any row is
/// inserted. Elsewhere the statement is left as it is.
impl<A: ManyToMany> LockingInsert<SourceOf<A>, TargetOf<A>> for InsertPairs<A> {
    fn lock_source(&mut self, id: IdOf<SourceOf<A>>) {
        self.lock = Some(id);
    }
    fn guard(&mut self, source: IdOf<SourceOf<A>>, target: IdOf<TargetOf<A>>) {
        self.guard = Some((source, target));
    }
}

impl<M: Model, A: ManyToManyDef> LockingInsert<SourceOf<A>, TargetOf<A>> for Upsert<M, A> {
    fn lock_source(&mut self, id: IdOf<SourceOf<A>>) {
        self.lock = Some(id);
    }
    fn guard(&mut self, source: IdOf<SourceOf<A>>, target: IdOf<TargetOf<A>>) {
        self.guard = Some((source, target));
    }
}

/// `) VALUES ` or, when the statement locks the source's row itself (on
/// PostgreSQL), `) SELECT * FROM (VALUES `; returns the source key to lock,
/// for [`lock_clause`] after the rows.
fn values_keyword<'a, K, G, DB: OrmBackend>(
    out: &mut AstPass<'_, '_, DB>,
    lock: Option<&'a K>,
    guard: Option<&'a G>,
) -> (Option<&'a K>, Option<&'a G>) {
    let postgres = DB::DIALECT == Dialect::Postgres;
    let lock = lock.filter(|_| postgres);
    let guard = guard.filter(|_| postgres);
    out.push_sql(if lock.is_some() || guard.is_some() {
        ") SELECT * FROM (VALUES "
    } else {
        ") VALUES "
    });
    (lock, guard)
}

/// `EXISTS (SELECT 1 FROM "events" WHERE "id" = ? FOR ..)`: whether the
/// row of `key` in `table` exists, locked `lock` (`NO KEY UPDATE`, `KEY
/// SHARE`).
fn exists_locked<'b, ST, K, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    table: &TableDef,
    key: &'b K,
    lock: &str,
) -> QueryResult<()>
where
    DB: OrmBackend + HasSqlType<ST>,
    K: ToSql<ST, DB>,
{
    out.push_sql("EXISTS (SELECT 1 FROM ");
    out.push_identifier(table.name)?;
    out.push_sql(" WHERE ");
    out.push_identifier(table.primary_key[0])?;
    out.push_sql(" = ");
    out.push_bind_param::<ST, _>(key)?;
    out.push_sql(" FOR ");
    out.push_sql(lock);
    out.push_sql(")");
    Ok(())
}

/// `) AS v WHERE EXISTS (SELECT 1 FROM "events" WHERE "id" = ? FOR NO KEY
/// UPDATE)`: the source row's lock, which PostgreSQL takes (as an InitPlan)
/// before the first row is inserted; nothing is inserted if the row is gone.
fn lock_clause<'b, A, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    id: &'b IdOf<SourceOf<A>>,
) -> QueryResult<()>
where
    A: ManyToMany,
    DB: OrmBackend + HasSqlType<SourceSql<A>>,
    IdOf<SourceOf<A>>: ToSql<SourceSql<A>, DB>,
{
    out.push_sql(") AS v WHERE ");
    exists_locked::<SourceSql<A>, _, DB>(out, SourceOf::<A>::TABLE, id, "NO KEY UPDATE")
}

/// `) AS v WHERE EXISTS (SELECT 1 FROM "events" WHERE "id" = ? FOR KEY
/// SHARE) AND EXISTS (SELECT 1 FROM "users" WHERE "id" = ? FOR KEY SHARE)`:
/// nothing is inserted if either row is gone (see [`LockingInsert::guard`]).
fn guard_clause<'b, A, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    (source, target): &'b Pair<A>,
) -> QueryResult<()>
where
    A: ManyToMany,
    DB: OrmBackend + HasSqlType<SourceSql<A>> + HasSqlType<TargetSql<A>>,
    IdOf<SourceOf<A>>: ToSql<SourceSql<A>, DB>,
    IdOf<TargetOf<A>>: ToSql<TargetSql<A>, DB>,
{
    out.push_sql(") AS v WHERE ");
    exists_locked::<SourceSql<A>, _, DB>(out, SourceOf::<A>::TABLE, source, "KEY SHARE")?;
    out.push_sql(" AND ");
    exists_locked::<TargetSql<A>, _, DB>(out, TargetOf::<A>::TABLE, target, "KEY SHARE")
}

/// One join row of a generated join table: source key, target key.
type Pair<A> = (IdOf<SourceOf<A>>, IdOf<TargetOf<A>>);

type SourceSql<A> = <<A as ManyToManyDef>::SourceKey as Expression>::SqlType;
type TargetSql<A> = <<A as ManyToManyDef>::TargetKey as Expression>::SqlType;

impl<A, DB> QueryFragment<DB> for InsertPairs<A>
where
    A: ManyToMany,
    DB: OrmBackend + HasSqlType<SourceSql<A>> + HasSqlType<TargetSql<A>>,
    <A::Through as QuerySource>::FromClause: QueryFragment<DB>,
    IdOf<SourceOf<A>>: ToSql<SourceSql<A>, DB>,
    IdOf<TargetOf<A>>: ToSql<TargetSql<A>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let (lock, guard) = (self.lock.as_ref(), self.guard.as_ref());
        insert_pairs::<A, DB>(&mut out, &self.table, &self.rows, lock, guard)
    }
}

/// `INSERT INTO "rsvps" ("event_id", "guest_id") VALUES (?, ?), ..`, with
/// the source's lock or the two rows' guard on PostgreSQL, `ON CONFLICT DO
/// NOTHING`: the SQL of [`InsertPairs`] and [`InsertPair`].
fn insert_pairs<'b, A, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    table: &'b <A::Through as QuerySource>::FromClause,
    rows: &'b [Pair<A>],
    lock: Option<&'b IdOf<SourceOf<A>>>,
    guard: Option<&'b Pair<A>>,
) -> QueryResult<()>
where
    A: ManyToMany,
    DB: OrmBackend + HasSqlType<SourceSql<A>> + HasSqlType<TargetSql<A>>,
    <A::Through as QuerySource>::FromClause: QueryFragment<DB>,
    IdOf<SourceOf<A>>: ToSql<SourceSql<A>, DB>,
    IdOf<TargetOf<A>>: ToSql<TargetSql<A>, DB>,
{
    out.push_sql("INSERT INTO ");
    table.walk_ast(out.reborrow())?;
    out.push_sql(" (");
    out.push_identifier(A::SourceKey::NAME)?;
    out.push_sql(", ");
    out.push_identifier(A::TargetKey::NAME)?;
    let (lock, guard) = values_keyword(out, lock, guard);
    for (i, (source, target)) in rows.iter().enumerate() {
        out.push_sql(if i == 0 { "(" } else { ", (" });
        out.push_bind_param::<SourceSql<A>, _>(source)?;
        out.push_sql(", ");
        out.push_bind_param::<TargetSql<A>, _>(target)?;
        out.push_sql(")");
    }
    if let Some(id) = lock {
        lock_clause::<A, DB>(out, id)?;
    } else if let Some(pair) = guard {
        guard_clause::<A, DB>(out, pair)?;
    }
    on_conflict::<DB>(out, &[A::SourceKey::NAME], &[])
}

/// One join row of a join table (not a join model): `INSERT INTO "rsvps"
/// ("event_id", "guest_id") VALUES (?, ?) ON CONFLICT DO NOTHING`. Its SQL
/// depends on the types alone, so it has a static query id: diesel finds
/// the prepared statement by type rather than by rendering the SQL to look
/// it up. [`Guarded`], on PostgreSQL, inserts nothing when the source or
/// the target row is gone (`WHERE EXISTS (.. FOR KEY SHARE)` on each).
pub struct InsertPair<A: ManyToMany, G> {
    table: <A::Through as QuerySource>::FromClause,
    pair: Pair<A>,
    guard: PhantomData<G>,
}

/// The plain [`InsertPair`].
pub struct Plain;
/// The [`InsertPair`] that inserts nothing when the source or the target row
/// is gone (on PostgreSQL; elsewhere the same as [`Plain`]).
pub struct Guarded;

/// Whether an [`InsertPair`] is [`Guarded`].
pub trait GuardMode: 'static {
    /// `true` for [`Guarded`].
    const GUARDED: bool;
}

impl GuardMode for Plain {
    const GUARDED: bool = false;
}

impl GuardMode for Guarded {
    const GUARDED: bool = true;
}

impl<A: ManyToMany, G> InsertPair<A, G> {
    /// The INSERT of the pair (`source`, `target`).
    pub fn new(source: IdOf<SourceOf<A>>, target: IdOf<TargetOf<A>>) -> Self {
        InsertPair {
            table: A::Through::default().from_clause(),
            pair: (source, target),
            guard: PhantomData,
        }
    }
}

impl<A, G, DB> QueryFragment<DB> for InsertPair<A, G>
where
    A: ManyToMany,
    G: GuardMode,
    DB: OrmBackend + HasSqlType<SourceSql<A>> + HasSqlType<TargetSql<A>>,
    <A::Through as QuerySource>::FromClause: QueryFragment<DB>,
    IdOf<SourceOf<A>>: ToSql<SourceSql<A>, DB>,
    IdOf<TargetOf<A>>: ToSql<TargetSql<A>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let guard = G::GUARDED.then_some(&self.pair);
        let row = std::slice::from_ref(&self.pair);
        insert_pairs::<A, DB>(&mut out, &self.table, row, None, guard)
    }
}

impl<A: ManyToMany, G: GuardMode> QueryId for InsertPair<A, G> {
    type QueryId = (A, G);
    // The SQL depends on the types (and the backend) alone.
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<A: ManyToMany, G, C> RunQueryDsl<C> for InsertPair<A, G> {}

/// Rows of a join model `M` of association `A`, in one statement, with the
/// conflict on its primary key (the key pair) handled as [`Conflict`] says.
pub struct Upsert<M: Model, A: ManyToManyDef> {
    table: <M::Table as QuerySource>::FromClause,
    rows: Vec<<M::New as Insertable<M::Table>>::Values>,
    conflict: Conflict,
    lock: Option<IdOf<SourceOf<A>>>,
    guard: Option<Pair<A>>,
}

impl<M: JoinModel, A: ManyToManyDef> Upsert<M, A> {
    /// The INSERT of `rows`.
    pub fn new(rows: impl IntoIterator<Item = M::New>, conflict: Conflict) -> Self {
        Upsert {
            table: M::Table::default().from_clause(),
            rows: rows.into_iter().map(Insertable::values).collect(),
            conflict,
            lock: None,
            guard: None,
        }
    }
}

impl<M, A, V, DB> QueryFragment<DB> for Upsert<M, A>
where
    M: JoinModel,
    A: ManyToMany,
    M::New: Insertable<M::Table, Values = ValuesClause<V, M::Table>>,
    V: InsertValues<DB, M::Table> + 'static,
    DB: OrmBackend + HasSqlType<SourceSql<A>> + HasSqlType<TargetSql<A>>,
    IdOf<SourceOf<A>>: ToSql<SourceSql<A>, DB>,
    IdOf<TargetOf<A>>: ToSql<TargetSql<A>, DB>,
    <M::Table as QuerySource>::FromClause: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("INSERT INTO ");
        self.table.walk_ast(out.reborrow())?;
        out.push_sql(" (");
        if let Some(first) = self.rows.first() {
            first.values.column_names(out.reborrow())?;
        }
        // The rows' values are always bound (never `DEFAULT`), so they can
        // stand in a VALUES list under SELECT.
        let (lock, guard) = values_keyword(&mut out, self.lock.as_ref(), self.guard.as_ref());
        for (i, row) in self.rows.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            row.values.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        if let Some(id) = lock {
            lock_clause::<A, DB>(&mut out, id)?;
        } else if let Some(pair) = guard {
            guard_clause::<A, DB>(&mut out, pair)?;
        }
        let update = match self.conflict {
            Conflict::Keep => &[][..],
            Conflict::Update => M::UPDATE_COLUMNS,
        };
        on_conflict::<DB>(&mut out, M::TABLE.primary_key, update)
    }
}

/// `ON CONFLICT DO NOTHING`, or `ON CONFLICT (keys) DO UPDATE SET c =
/// excluded.c, ..` when there are columns to update; on MySQL `ON DUPLICATE
/// KEY UPDATE c = VALUES(c)`, or `k = k` (the first key column) to leave the
/// row as it is (`INSERT IGNORE` would also turn foreign-key errors into
/// warnings).
fn on_conflict<DB: OrmBackend>(
    out: &mut AstPass<'_, '_, DB>,
    keys: &[&str],
    update: &[&str],
) -> QueryResult<()> {
    match (DB::DIALECT, update) {
        (Dialect::Mysql, []) => {
            out.push_sql(" ON DUPLICATE KEY UPDATE ");
            out.push_identifier(keys[0])?;
            out.push_sql(" = ");
            out.push_identifier(keys[0])?;
        }
        (Dialect::Mysql, _) => {
            out.push_sql(" ON DUPLICATE KEY UPDATE ");
            for (i, column) in update.iter().enumerate() {
                out.push_sql(if i == 0 { "" } else { ", " });
                out.push_identifier(column)?;
                out.push_sql(" = VALUES(");
                out.push_identifier(column)?;
                out.push_sql(")");
            }
        }
        (_, []) => out.push_sql(" ON CONFLICT DO NOTHING"),
        (_, _) => {
            out.push_sql(" ON CONFLICT (");
            for (i, key) in keys.iter().enumerate() {
                out.push_sql(if i == 0 { "" } else { ", " });
                out.push_identifier(key)?;
            }
            out.push_sql(") DO UPDATE SET ");
            for (i, column) in update.iter().enumerate() {
                out.push_sql(if i == 0 { "" } else { ", " });
                out.push_identifier(column)?;
                out.push_sql(" = excluded.");
                out.push_identifier(column)?;
            }
        }
    }
    Ok(())
}

// The SQL depends on the row count, so neither has a static id; diesel
// caches the prepared statement by its SQL text.
impl<A: ManyToMany> QueryId for InsertPairs<A> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<M: Model, A: ManyToManyDef> QueryId for Upsert<M, A> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}
