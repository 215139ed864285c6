//! Polymorphic `belongs_to` (Rails' `belongs_to :commentable, polymorphic:
//! true`, Laravel's `morphTo`): a type column says which model the key
//! column points at, by discriminators declared on the attribute
//! (`#[polymorphic(Commentable, Post = "post", Video = "video")]`), never
//! by Rust type names. The derive generates the enum of the variants; the
//! reads here always check the discriminator.

use std::collections::HashMap;
use std::hash::Hash;

use diesel::result::{Error, QueryResult};

use crate::backend::chunk_size;
use crate::exec::{Fetch, FetchIn, OnBackend};
use crate::model::{Crud, ForeignKey, KeysQuery, Model};
use crate::set::dedup;

/// A model that is a variant of the polymorphic association whose enum is
/// `P` (the derive implements it for each variant it declares).
pub trait Variant<P>: Model {
    /// The value of the type column that points at this model.
    const DISCRIMINATOR: &'static str;
    /// The enum's variant holding `self`.
    fn wrap(self) -> P;
}

/// Checks that a key field of type `Fk` holds `V`'s key.
pub fn holds<Fk: ForeignKey<V::Id>, V: Model>() {}

/// The row of variant `V` that `key` points at, as the enum `P`: `None` for
/// a NULL key, `Err(NotFound)` for a key pointing at no row.
pub async fn find<P, V, Fk, C, K>(key: &Fk, conn: &mut C) -> QueryResult<Option<P>>
where
    V: Variant<P> + Crud<C, K>,
    Fk: ForeignKey<V::Id>,
{
    match key.get() {
        Some(id) => Ok(Some(V::find(id.clone(), conn).await?.wrap())),
        None => Ok(None),
    }
}

/// `Err` for a type column holding none of the declared discriminators.
pub fn unknown(model: &str, column: &str, value: &str, known: &[&str]) -> Error {
    Error::DeserializationError(
        format!(
            "`{model}`'s `{column}` is {value:?}, which is none of the declared discriminators {known:?}"
        )
        .into(),
    )
}

/// Of an exclusive arc, the column that is set (`set` holds whether each
/// is, with its name): `""` when none is, `Err` when several are.
pub fn arc_kind(set: &[(bool, &'static str)], model: &str) -> QueryResult<&'static str> {
    let mut columns = set.iter().filter(|(is, _)| *is).map(|(_, c)| *c);
    match (columns.next(), columns.next()) {
        (None, _) => Ok(""),
        (Some(column), None) => Ok(column),
        (Some(a), Some(b)) => Err(Error::DeserializationError(
            format!(
                "`{model}` points at two rows of its exclusive arc: `{a}` and `{b}` are both set"
            )
            .into(),
        )),
    }
}

/// Checks that every one of `pointers` (each child's type column) is one
/// of `known`, before any statement.
pub fn check(pointers: &[&str], known: &[&str], model: &str, column: &str) -> QueryResult<()> {
    match pointers.iter().find(|p| !known.contains(p)) {
        Some(value) => Err(unknown(model, column, value, known)),
        None => Ok(()),
    }
}

/// Loads the rows of variant `V` that the children (`types` and `keys`,
/// aligned) point at into `out`, aligned with them: one statement per chunk
/// of the distinct keys whose type is `V`'s, none if there are none. A
/// key pointing at no row is `Err(NotFound)`.
pub async fn load<P, V, Fk, C, K>(
    types: &[&str],
    keys: &[&Fk],
    out: &mut [Option<P>],
    conn: &mut C,
) -> QueryResult<()>
where
    V: Variant<P> + KeysQuery + Clone,
    V::Id: Eq + Hash,
    V::ByIds: Fetch<C, K, V>,
    Fk: ForeignKey<V::Id>,
    C: OnBackend<K>,
{
    let mine = |i: usize| {
        (types[i] == V::DISCRIMINATOR)
            .then(|| keys[i].get())
            .flatten()
    };
    let wanted: Vec<V::Id> = dedup(
        (0..keys.len())
            .filter_map(mine)
            .cloned()
            .collect::<Vec<_>>(),
    );
    if wanted.is_empty() {
        return Ok(());
    }
    let mut rows = HashMap::with_capacity(wanted.len());
    for chunk in wanted.chunks(chunk_size::<C::Backend>(1, 0)) {
        for row in V::by_ids(chunk.to_vec()).load(conn).await? {
            rows.insert(row.id(), row);
        }
    }
    for (i, slot) in out.iter_mut().enumerate() {
        if let Some(id) = mine(i) {
            *slot = Some(rows.get(id).cloned().ok_or(Error::NotFound)?.wrap());
        }
    }
    Ok(())
}
