//! How writes run: the one locking scheme every association writer follows,
//! and the savepoint that keeps a failed write from poisoning the caller's
//! transaction on PostgreSQL.
//!
//! **Locking.** A writer that changes several rows of one parent's
//! association, or runs several statements (`set_*`, `clear_*`, `remove_*`
//! of several targets, `add_*` of several targets, staged `save`, has_many
//! and has_one writers), first locks the parent row, so two of them on one
//! parent run one after the other:
//!
//! - PostgreSQL: `SELECT .. FOR NO KEY UPDATE` on the parent, in the
//!   writer's transaction. `NO KEY UPDATE` does not conflict with the
//!   `KEY SHARE` lock a foreign-key check takes, so a one-row `add_*` never
//!   waits for it (and cannot deadlock with it); the row locks order it.
//!   A multi-row `add_*` is one statement that takes the lock itself
//!   (`INSERT .. SELECT .. WHERE EXISTS (.. FOR NO KEY UPDATE)`): an INSERT
//!   checks conflicts against the committed rows, not its snapshot, so a
//!   lock taken inside the statement is enough. A DELETE reads its
//!   snapshot, so writers that delete lock in a statement of their own.
//! - MySQL/MariaDB: `SELECT .. FOR UPDATE` on the parent. InnoDB's
//!   foreign-key check takes a shared lock on the parent before it inserts,
//!   so every `add_*` waits for a writer holding the lock.
//! - SQLite: a writing transaction already excludes every other writer;
//!   no statement is needed.
//!
//! One-row `add_*`/`remove_*` take no lock: each touches one row, which
//! the database orders against the locked writers by that row's lock.
//! Together: the result of concurrent writers on one association is always
//! the result of some serial order of them, and the counts each returns
//! are true of that order.
//!
//! **Savepoints.** On PostgreSQL a failed statement aborts the whole
//! transaction it runs in, and the caller's `COMMIT` then silently becomes
//! a `ROLLBACK`. Every generated write therefore runs in a transaction of
//! its own: when the connection is already in one, that is a savepoint,
//! so a failure (which the caller may catch and ignore) rolls back only
//! that write. Outside a transaction a one-statement write runs as it is.

use diesel::result::QueryResult;

use crate::backend::{Dialect, OrmBackend};
use crate::exec::Transact;
use crate::model::Crud;

/// The dialect of the backend of `C`, a connection of kind `K`.
pub(crate) fn dialect<C: Transact<K>, K>() -> Dialect {
    <C::Backend as OrmBackend>::DIALECT
}

/// Runs `$body` in a transaction (a savepoint inside the caller's) that
/// first locks the row of parent `$id` of model `$m` (see the module docs);
/// `Err(NotFound)` if the row is gone, where the lock reads it (not on
/// SQLite, whose writing transaction is the lock).
macro_rules! with_parent_lock {
    ($m:ty, $c:ty, $k:ty, $id:expr, $conn:ident, $body:expr) => {
        $crate::exec::transaction!($conn, {
            if $crate::write::dialect::<$c, $k>() != $crate::Dialect::Sqlite {
                <$m as $crate::Crud<$c, $k>>::lock(::core::clone::Clone::clone($id), $conn).await?;
            }
            $body
        })
    };
}
pub(crate) use with_parent_lock;

/// `Ok(())` if the parent `id` is known to exist: checked by the lock, or
/// `changed` rows prove it; otherwise one statement checks.
pub(crate) async fn parent_known<M, C, K>(
    id: &M::Id,
    changed: bool,
    conn: &mut C,
) -> QueryResult<()>
where
    M: Crud<C, K>,
    C: Transact<K>,
{
    if changed || dialect::<C, K>() != Dialect::Sqlite {
        Ok(())
    } else {
        row_exists::<M, C, K>(id, conn).await
    }
}

/// `Err(NotFound)` unless the row of `M` with key `id` exists. Used by
/// writes that act through a parent, so that a parent whose row is gone is
/// an error and not a silent no-op.
pub(crate) async fn row_exists<M, C, K>(id: &M::Id, conn: &mut C) -> QueryResult<()>
where
    M: Crud<C, K>,
{
    if M::exists(id.clone(), conn).await? {
        Ok(())
    } else {
        Err(diesel::result::Error::NotFound)
    }
}

/// `removed`, or `Err(NotFound)` when a removal through parent `id` removed
/// nothing because the parent's row is gone: removing through a missing
/// parent is an error, not a no-op. Costs a statement only when nothing was
/// removed.
pub(crate) async fn removed_or_gone<M, C, K>(
    removed: usize,
    id: &M::Id,
    conn: &mut C,
) -> QueryResult<usize>
where
    M: Crud<C, K>,
{
    if removed == 0 {
        row_exists::<M, C, K>(id, conn).await?;
    }
    Ok(removed)
}
