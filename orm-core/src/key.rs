//! Typed keys: a primary-key value that knows which model it belongs to, so
//! an `Event`'s key cannot be passed where a `User`'s is expected.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::model::Model;

/// The primary key of one `M` row: `User::key(5)` or `user.key()`.
///
/// Every generated method that takes a target also takes its key, so
/// Waterline's `user.pets.add(20)` is `user.add_pet(Pet::key(20), conn)`.
pub struct Key<M: Model>(M::Id);

impl<M: Model> Key<M> {
    /// The key `id` of an `M`.
    pub fn new(id: M::Id) -> Self {
        Key(id)
    }

    /// The key value.
    pub fn id(&self) -> &M::Id {
        &self.0
    }

    /// The key value, by value.
    pub fn into_id(self) -> M::Id {
        self.0
    }
}

impl<M: Model> Clone for Key<M> {
    fn clone(&self) -> Self {
        Key(self.0.clone())
    }
}
impl<M: Model> Copy for Key<M> where M::Id: Copy {}
impl<M: Model> PartialEq for Key<M> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<M: Model> Eq for Key<M> {}
impl<M: Model> Hash for Key<M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}
impl<M: Model> PartialOrd for Key<M>
where
    M::Id: Ord,
{
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<M: Model> Ord for Key<M>
where
    M::Id: Ord,
{
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}
impl<M: Model> fmt::Debug for Key<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key<{}>({:?})", M::NAME, self.0)
    }
}

/// Something that names one `M` row: `&M`, `Key<M>` or `&Key<M>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not name a row of `{M}`",
    label = "expected a `&{M}` or a `Key<{M}>`",
    note = "keys are typed: `{M}::key(5)` or `row.key()` makes a `Key<{M}>`"
)]
pub trait AsKey<M: Model> {
    /// The key value.
    fn key_id(self) -> M::Id;
}

#[diagnostic::do_not_recommend]
impl<M: Model> AsKey<M> for &M {
    fn key_id(self) -> M::Id {
        self.id()
    }
}
#[diagnostic::do_not_recommend]
impl<M: Model> AsKey<M> for Key<M> {
    fn key_id(self) -> M::Id {
        self.0
    }
}
#[diagnostic::do_not_recommend]
impl<M: Model> AsKey<M> for &Key<M> {
    fn key_id(self) -> M::Id {
        self.0.clone()
    }
}

/// Several `M` rows: a slice, `Vec` or array of `M` or of `&M` (`[&ann,
/// &bob]`), or a slice or `Vec` of `Key<M>`. (Arrays of keys are left out so
/// that `&[]` infers as "no `M`"; write `vec![k1, k2]` or `&[k1, k2][..]`.)
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not name rows of `{M}`",
    label = "expected `&[{M}]`, `&Vec<{M}>`, `[&{M}; N]`, `&[Key<{M}>]` or `Vec<Key<{M}>>`",
    note = "rows are passed by reference (`&rows`); a bare id becomes a key with `{M}::key(id)`"
)]
pub trait IntoKeys<M: Model> {
    /// The key values.
    fn into_ids(self) -> Vec<M::Id>;
}

#[diagnostic::do_not_recommend]
impl<M: Model> IntoKeys<M> for &[M] {
    fn into_ids(self) -> Vec<M::Id> {
        self.iter().map(M::id).collect()
    }
}
#[diagnostic::do_not_recommend]
impl<M: Model, const N: usize> IntoKeys<M> for &[M; N] {
    fn into_ids(self) -> Vec<M::Id> {
        self.iter().map(M::id).collect()
    }
}
#[diagnostic::do_not_recommend]
impl<M: Model> IntoKeys<M> for &Vec<M> {
    fn into_ids(self) -> Vec<M::Id> {
        self.iter().map(M::id).collect()
    }
}
#[diagnostic::do_not_recommend]
impl<M: Model, const N: usize> IntoKeys<M> for [&M; N] {
    fn into_ids(self) -> Vec<M::Id> {
        self.iter().map(|row| row.id()).collect()
    }
}
#[diagnostic::do_not_recommend]
impl<M: Model> IntoKeys<M> for &[&M] {
    fn into_ids(self) -> Vec<M::Id> {
        self.iter().map(|row| row.id()).collect()
    }
}
#[diagnostic::do_not_recommend]
impl<M: Model> IntoKeys<M> for Vec<&M> {
    fn into_ids(self) -> Vec<M::Id> {
        self.iter().map(|row| row.id()).collect()
    }
}
#[diagnostic::do_not_recommend]
impl<M: Model> IntoKeys<M> for &[Key<M>] {
    fn into_ids(self) -> Vec<M::Id> {
        self.iter().map(|k| k.0.clone()).collect()
    }
}
#[diagnostic::do_not_recommend]
impl<M: Model> IntoKeys<M> for &Vec<Key<M>> {
    fn into_ids(self) -> Vec<M::Id> {
        self.iter().map(|k| k.0.clone()).collect()
    }
}
#[diagnostic::do_not_recommend]
impl<M: Model> IntoKeys<M> for Vec<Key<M>> {
    fn into_ids(self) -> Vec<M::Id> {
        self.into_iter().map(Key::into_id).collect()
    }
}
