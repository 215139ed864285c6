//! The four association kinds, each a marker trait the derive implements
//! (types only) and an operations trait with the logic, implemented for
//! every marker and connection that can run it.

pub mod belongs_to;
pub mod belongs_to_many;
pub mod eager;
pub mod has;
mod in_subquery;
mod insert;
mod joined;
pub mod poly;
mod ranked;
mod reassign;
pub mod related;
pub mod scope;
pub mod staged;
pub mod through;

pub use belongs_to::{BelongsTo, BelongsToOps, BelongsToQuery, UnsetOps};
pub use belongs_to_many::{
    DefaultAdd, DefaultPayload, ManyToMany, ManyToManyAdd, ManyToManyDef, ManyToManyOps,
    ManyToManyQuery, PayloadOf, Row,
};
pub use eager::{BelongsToEager, ChildrenOf, EagerChildren, ManyToManyEager, OneToManyEager};
pub use has::{new_pointing_at, DetachOps, OneToMany, OneToManyOps, OneToManyQuery};
pub use in_subquery::InSubquery;
pub use insert::{Conflict, GuardMode, Guarded, InsertPair, InsertPairs, Plain, Upsert};
pub use joined::{JoinedTargets, SourcesAndTargets};
pub use ranked::{Ranked, RankedTargets};
pub use reassign::{ParentAndChildIds, Reassign, SetChildren};
pub use related::{ManyToManyCounts, OneToManyCounts};
pub use staged::{Changes, Pending, SaveChanges};
pub use through::{JoinKeys, JoinModel, ThroughModel, ThroughOps, ThroughQuery};

use diesel::backend::Backend;
use diesel::query_builder::AstPass;
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;

/// `?, ?, ..`: each of `items` as a bound parameter of SQL type `ST`.
pub(crate) fn push_binds<'b, ST, T, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    items: &'b [T],
) -> QueryResult<()>
where
    DB: Backend + HasSqlType<ST>,
    T: ToSql<ST, DB>,
{
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        out.push_bind_param::<ST, _>(item)?;
    }
    Ok(())
}

/// Whether every one of `targets` is associated: `targets` are
/// de-duplicated and counted in chunks of `chunk` by the statement
/// `count_in` builds for each, which counts the associated ones among them.
/// True for no targets, without a statement.
pub(crate) async fn all_associated<T, Q, C, K>(
    targets: Vec<T>,
    chunk: usize,
    count_in: impl Fn(Vec<T>) -> Q + Send,
    conn: &mut C,
) -> QueryResult<bool>
where
    T: Eq + std::hash::Hash + Clone + Send + Sync,
    Q: crate::exec::Fetch<C, K, i64>,
{
    let targets = crate::set::dedup(targets);
    let mut found = 0;
    for keys in targets.chunks(chunk) {
        found += count_in(keys.to_vec()).get_result(conn).await? as usize;
    }
    Ok(found == targets.len())
}
