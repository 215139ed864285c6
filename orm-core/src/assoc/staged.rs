//! Staged changes to a `belongs_to_many` association: Waterline's queued
//! `add`/`remove` on an instance, applied by `save` in one transaction.

use std::collections::HashMap;

use diesel::result::QueryResult;

use super::belongs_to_many::{
    add_locked, delete_pairs, DefaultPayload, ManyToMany, ManyToManyDef, ManyToManyQuery,
};
use super::insert::Conflict;
use std::future::Future;

use crate::backend::chunk_size;
use crate::exec::{ConnKind, Execute, Fetch, Kind, Transact};
use crate::key::{AsKey, Key};
use crate::model::{Crud, IdOf, InsertMany, Model};
use crate::set::SetDiff;
use crate::write::{parent_known, with_parent_lock};

/// What a target's queued operations net out to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    Add,
    Remove,
}

/// Queued changes to one row's `belongs_to_many` association, from the
/// generated `guests_changes()`. Nothing touches the database until
/// [`save`](Changes::save).
///
/// The algebra, per target: adding twice adds once, removing twice removes
/// once, and an add and a remove of the same target cancel out (in either
/// order), leaving that target as it was. New targets queued with
/// [`add_new`](Changes::add_new) are inserted and associated by `save`.
pub struct Changes<A: ManyToManyDef> {
    source: IdOf<A::Source>,
    /// Each queued target's net operation and its place in `order`.
    net: HashMap<IdOf<A::Target>, (Net, usize)>,
    /// Targets in the order first queued; a cancelled one leaves a hole,
    /// so cancelling is O(1).
    order: Vec<Option<IdOf<A::Target>>>,
    new: Vec<<A::Target as Model>::New>,
}

/// The net effect of queued [`Changes`], as [`Changes::pending`] shows it.
#[derive(Debug, PartialEq, Eq)]
pub struct Pending<T: Model> {
    /// Existing targets to associate.
    pub add: Vec<Key<T>>,
    /// Targets to dissociate.
    pub remove: Vec<Key<T>>,
    /// How many new targets will be inserted and associated.
    pub create: usize,
}

impl<A: ManyToManyDef> Changes<A> {
    /// No changes yet to the association of source row `source`.
    pub fn new(source: IdOf<A::Source>) -> Self {
        Changes {
            source,
            net: HashMap::new(),
            order: Vec::new(),
            new: Vec::new(),
        }
    }
}

impl<A: ManyToMany> Changes<A> {
    fn queue(&mut self, target: IdOf<A::Target>, op: Net) {
        match self.net.get(&target).copied() {
            None => {
                self.net.insert(target.clone(), (op, self.order.len()));
                self.order.push(Some(target));
            }
            Some((queued, _)) if queued == op => {}
            Some((_, place)) => {
                self.net.remove(&target);
                self.order[place] = None;
            }
        }
    }

    /// Queues associating `target` (a row or its key).
    pub fn add(&mut self, target: impl AsKey<A::Target>) -> &mut Self {
        self.queue(target.key_id(), Net::Add);
        self
    }

    /// Queues inserting a new target and associating it.
    pub fn add_new(&mut self, new: <A::Target as Model>::New) -> &mut Self {
        self.new.push(new);
        self
    }

    /// Queues dissociating `target` (a row or its key); the row stays.
    pub fn remove(&mut self, target: impl AsKey<A::Target>) -> &mut Self {
        self.queue(target.key_id(), Net::Remove);
        self
    }

    /// The net effect `save` will apply.
    pub fn pending(&self) -> Pending<A::Target> {
        let keys = |op: Net| {
            self.order
                .iter()
                .flatten()
                .filter(|t| self.net.get(*t).map(|(queued, _)| *queued) == Some(op))
                .map(|t| Key::new(t.clone()))
                .collect()
        };
        Pending {
            add: keys(Net::Add),
            remove: keys(Net::Remove),
            create: self.new.len(),
        }
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.net.is_empty() && self.new.is_empty()
    }

    /// Applies everything in one transaction: new targets in one INSERT,
    /// removals in one DELETE and additions in one INSERT (one more of each
    /// per chunk under the backend's parameter limit), so the statement
    /// count does not grow with the number of changes. Any failure (a target
    /// or the source row that does not exist) rolls back everything.
    /// Returns the associations actually added and removed.
    pub fn save<'c, C, K: Kind>(self, conn: &'c mut C) -> K::Out<'c, SetDiff>
    where
        A: SaveChanges<C, K>,
    {
        K::run(A::save(self, conn))
    }
}

/// Applying [`Changes`] on a connection `C` of kind `K`.
#[diagnostic::on_unimplemented(
    message = "these staged changes cannot be saved through a `{C}`",
    note = "use a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, diesel-async's with the `async` feature, or a pooled one; only `&AsyncPgConnection` is taken by shared reference); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`)",
    note = "through a join model, saving inserts the default payload: its payload struct must implement `Default`"
)]
pub trait SaveChanges<C, K = <C as ConnKind>::Kind>: ManyToManyDef + Sized {
    /// See [`Changes::save`].
    fn save(
        changes: Changes<Self>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<SetDiff>> + Send;
}

impl<A, C, K> SaveChanges<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: ManyToManyQuery<Payload: Send + Sync> + DefaultPayload,
    C: Transact<K>,
    A::Source: Crud<C, K>,
    <A::Target as Model>::New: Send,
    A::DeleteIn: Execute<C, K>,
    A::DeleteMirrorIn: Execute<C, K>,
    A::Insert: Execute<C, K>,
    A::TargetIdsIn: Fetch<C, K, IdOf<A::Target>>,
    C::Backend: InsertMany<A::Target, C, K>,
{
    async fn save(changes: Changes<A>, conn: &mut C) -> QueryResult<SetDiff> {
        let Pending { add, remove, .. } = changes.pending();
        let Changes { source, new, .. } = changes;
        let diff = with_parent_lock!(A::Source, C, K, &source, conn, {
            let mut add: Vec<_> = add.into_iter().map(Key::into_id).collect();
            let columns = A::Target::TABLE.columns.len().max(1);
            let mut pending = new.into_iter().peekable();
            while pending.peek().is_some() {
                let chunk: Vec<_> = pending
                    .by_ref()
                    .take(chunk_size::<C::Backend>(columns, 0))
                    .collect();
                let created =
                    <C::Backend as InsertMany<A::Target, C, K>>::create_many(chunk, conn).await?;
                add.extend(created.iter().map(Model::id));
            }
            let remove = remove.into_iter().map(Key::into_id).collect();
            let removed = delete_pairs::<A, C, K>(&source, remove, conn).await?;
            let payload = A::default_payload();
            let added = add_locked::<A, C, K>(&source, add, payload, Conflict::Keep, conn).await?;
            Ok(SetDiff { added, removed })
        })?;
        parent_known::<A::Source, C, K>(&source, diff.added + diff.removed > 0, conn).await?;
        Ok(diff)
    }
}
