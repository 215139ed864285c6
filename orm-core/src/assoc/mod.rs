//! The four association kinds, each a marker trait the derive implements
//! (types only) and an operations trait with the logic, implemented for
//! every marker and connection that can run it.

pub mod belongs_to;
pub mod belongs_to_many;
pub mod eager;
pub mod has;
mod in_subquery;
mod insert;
mod ranked;
pub mod staged;
pub mod through;

pub use belongs_to::{BelongsTo, BelongsToOps, BelongsToQuery, UnsetOps};
pub use belongs_to_many::{
    DefaultAdd, DefaultPayload, ManyToMany, ManyToManyAdd, ManyToManyOps, ManyToManyQuery,
    PayloadOf, Row,
};
pub use eager::{BelongsToEager, ChildrenOf, EagerChildren, ManyToManyEager, OneToManyEager};
pub use has::{DetachOps, OneToMany, OneToManyOps, OneToManyQuery};
pub use in_subquery::InSubquery;
pub use insert::{Conflict, InsertPairs, Upsert};
pub use ranked::{Ranked, RankedTargets};
pub use staged::{Changes, Pending, SaveChanges};
pub use through::{JoinKeys, JoinModel, ThroughModel, ThroughOps, ThroughQuery};

use std::hash::Hash;

use diesel::result::QueryResult;

/// Whether every one of `targets` is associated: `targets` are de-duplicated
/// and sent to `count_associated` in chunks of `chunk`, which counts the
/// associated ones among them. True for no targets, without a statement.
pub(crate) fn all_associated<K: Eq + Hash + Clone>(
    targets: Vec<K>,
    chunk: usize,
    mut count_associated: impl FnMut(Vec<K>) -> QueryResult<i64>,
) -> QueryResult<bool> {
    let targets = crate::set::dedup(targets);
    let mut found = 0;
    for keys in targets.chunks(chunk) {
        found += count_associated(keys.to_vec())? as usize;
    }
    Ok(found == targets.len())
}
