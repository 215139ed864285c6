//! Nested includes: a tree of associations loaded for many parents in one
//! call, with a fixed number of statements (one per association and level,
//! and one more per chunk of keys under the backend's parameter limit), into
//! a nested typed result aligned with the parents.
//!
//! An association is named by its marker, the unit struct the derive
//! declares in `<model>_associations` (`event_associations::Guests`):
//!
//! ```ignore
//! use models::{event_associations::Guests, post_associations::Author, user_associations::{Posts, Profile}};
//! // Each event's guests, each guest's 3 latest posts with their author, and the guest's profile.
//! let tree: Vec<Vec<(User, (Vec<(Post, Option<User>)>, Option<Profile>))>> = orm_core::include(
//!     &events,
//!     Guests.with((Posts.top(3, posts::id.desc()).with(Author), Profile)),
//!     conn,
//! )?;
//! ```
//!
//! An association loads as its eager loader does (`Vec<T>` for `has_many`
//! and `belongs_to_many`, `Option<T>` for `has_one`, `T` or `Option<T>` for
//! `belongs_to`); `a.with(b)` pairs each of `a`'s rows with what `b` loads for
//! it; a tuple of includes loads each for the same parents. `.refine(|q| ..)`
//! and `.top(n, order)` are `load_*_where` and `load_*_top`. A row shared by
//! several parents (a guest of two events) is loaded once, and its own
//! includes once.

use std::future::Future;

use diesel::expression::{AppearsOnTable, Expression};
use diesel::result::QueryResult;

use crate::assoc::belongs_to::BelongsTo;
use crate::assoc::belongs_to_many::ManyToManyDef;
use crate::assoc::eager::{BelongsToEager, ChildrenOf, ManyToManyEager, OneToManyEager};
use crate::assoc::has::OneToMany;
use crate::assoc::{Ranked, RankedTargets};
use crate::backend::CountBinds;
use crate::exec::{ConnKind, Fetch, Kind};
use crate::model::{IdOf, KeysQuery, Model, TableOf};

/// The association kinds, as [`Association::Via`].
pub mod via {
    /// `has_many`: a `Vec` per parent.
    #[derive(Debug)]
    pub enum HasMany {}
    /// `has_one`: an `Option` per parent.
    #[derive(Debug)]
    pub enum HasOne {}
    /// `belongs_to`: the parent, or an `Option` of it for a nullable key.
    #[derive(Debug)]
    pub enum BelongsTo {}
    /// `belongs_to_many`: a `Vec` per parent.
    #[derive(Debug)]
    pub enum BelongsToMany {}
}

/// An association's marker, as the derive describes it for includes.
pub trait Association: Send + Sized + 'static {
    /// Its kind: one of [`via`]'s.
    type Via;
    /// The query `.refine(..)` refines: its eager loader's (`()` for a
    /// `has_one` or `belongs_to`, which have no refinement).
    type Query;
}

/// What one include loads for each of `parents`, aligned with them, on a
/// connection `C` of kind `K`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be included for `{P}` rows",
    label = "an association of `{P}` (its marker, such as `event_associations::Guests`), or `.with(..)`, `.refine(..)`, `.top(..)` or a tuple of them",
    note = "each level's associations must be declared on the rows of the level above, the target models must be `Clone`, and `conn` a connection of a backend orm-core supports"
)]
pub trait Load<P, C, K>: Sized + Send {
    /// What each parent gets: `Vec<Post>`, `Option<Profile>`, ..
    type Out: Send;
    /// Loads it for every one of `parents`.
    fn load<'c>(
        self,
        parents: &'c [P],
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<Vec<Self::Out>>> + Send + 'c
    where
        Self: 'c;
}

/// [`Load`] for an association of kind `Via`, dispatched on its
/// [`Association::Via`].
pub trait LoadVia<Via, P, C, K>: Sized + Send {
    /// [`Load::Out`].
    type Out: Send;
    /// [`Load::load`].
    fn load<'c>(
        self,
        parents: &'c [P],
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<Vec<Self::Out>>> + Send + 'c
    where
        Self: 'c;
}

/// The `load` method of [`Load`] and [`LoadVia`]: `self`, the parents and
/// the connection, to a future of one result per parent.
macro_rules! load {
    ($self:ident, $parents:ident, $conn:ident => $body:expr) => {
        fn load<'c>(
            $self,
            $parents: &'c [P],
            $conn: &'c mut C,
        ) -> impl Future<Output = QueryResult<Vec<Self::Out>>> + Send + 'c
        where
            Self: 'c,
        {
            $body
        }
    };
}

/// The association an include loads: a marker itself, or the one a
/// [`Refined`] or [`Top`] refines or limits. Its kind picks the [`LoadVia`].
pub trait OfAssociation {
    /// The association.
    type Association: Association;
}

impl<A: Association> OfAssociation for A {
    type Association = A;
}

impl<A: Association, F> OfAssociation for Refined<A, F> {
    type Association = A;
}

impl<A: Association, O> OfAssociation for Top<A, O> {
    type Association = A;
}

/// The kind of the association `I` loads.
type ViaOf<I> = <<I as OfAssociation>::Association as Association>::Via;

#[diagnostic::do_not_recommend]
impl<I, P, C, K> Load<P, C, K> for I
where
    I: OfAssociation + LoadVia<ViaOf<I>, P, C, K>,
{
    type Out = <I as LoadVia<ViaOf<I>, P, C, K>>::Out;
    load!(self, parents, conn => LoadVia::<ViaOf<I>, P, C, K>::load(self, parents, conn));
}

/// `P` rows as the rows of an association's source, which they are when
/// `Self` is `P`: a bound that fails for another model's association with
/// [`Load`]'s message, where `Source = P` would fail with a type mismatch.
#[diagnostic::on_unimplemented(
    message = "an association of `{Self}` is included for `{P}` rows",
    label = "included for `{P}` rows",
    note = "each level of an include holds associations of the rows of the level above: a `{P}` association here, or `.with(..)` under the association that loads `{Self}` rows"
)]
pub trait Rows<P>: Sized {
    /// `parents`, as `Self`s.
    fn of(parents: &[P]) -> &[Self];
}

impl<P> Rows<P> for P {
    fn of(parents: &[P]) -> &[P] {
        parents
    }
}

/// The keys of `parents`, as rows of `S`, an association's source.
fn keys<S: Model + Rows<P>, P>(parents: &[P]) -> Vec<S::Id> {
    crate::__private::ids(S::of(parents))
}

impl<A, P, C, K> LoadVia<via::HasMany, P, C, K> for A
where
    A: OneToManyEager<C, K> + OneToMany<Source: Rows<P>> + Send,
    A::Target: Send,
    C: Send,
    K: Kind,
{
    type Out = Vec<A::Target>;
    load!(self, parents, conn => A::load_many(keys::<A::Source, P>(parents), conn));
}

impl<A, P, C, K> LoadVia<via::HasOne, P, C, K> for A
where
    A: OneToManyEager<C, K> + OneToMany<Source: Rows<P>> + Send,
    A::Target: Send,
    C: Send,
    K: Kind,
{
    type Out = Option<A::Target>;
    load!(self, parents, conn => A::load_first(keys::<A::Source, P>(parents), conn));
}

impl<A, P, C, K> LoadVia<via::BelongsTo, P, C, K> for A
where
    A: BelongsToEager<C, K, Parent: Send> + BelongsTo<Source: Rows<P>> + Send,
    C: Send,
    K: Kind,
{
    type Out = A::Parent;
    load!(self, parents, conn => A::load_many(<A::Source as Rows<P>>::of(parents), conn));
}

impl<A, P, C, K> LoadVia<via::BelongsToMany, P, C, K> for A
where
    A: ManyToManyEager<C, K> + ManyToManyDef<Source: Rows<P>> + Send,
    A::Target: Send,
    C: Send,
    K: Kind,
{
    type Out = Vec<A::Target>;
    load!(self, parents, conn => A::load_many(keys::<A::Source, P>(parents), conn));
}

/// An association's rows refined by a query (`.refine(|q| ..)`): its
/// `load_*_where`.
#[derive(Debug, Clone, Copy)]
pub struct Refined<A, F>(A, F);

/// At most `limit` rows per parent by `order` (`.top(limit, order)`): its
/// `load_*_top`.
#[derive(Debug, Clone, Copy)]
pub struct Top<A, O>(A, i64, O);

/// Each row `L` loads, with what `S` loads for it (`.with(..)`).
#[derive(Debug, Clone, Copy)]
pub struct With<L, S>(L, S);

#[diagnostic::do_not_recommend]
impl<A, F, Q, P, C, K> LoadVia<via::HasMany, P, C, K> for Refined<A, F>
where
    A: OneToManyEager<C, K> + OneToMany<Source: Rows<P>> + Send,
    A::Target: Send,
    F: Fn(ChildrenOf<A>) -> Q + Send,
    Q: Fetch<C, K, A::Target> + CountBinds<C, K>,
    C: Send,
    K: Kind,
{
    type Out = Vec<A::Target>;
    load!(self, parents, conn => A::load_many_where(keys::<A::Source, P>(parents), self.1, conn));
}

#[diagnostic::do_not_recommend]
impl<A, F, Q, P, C, K> LoadVia<via::BelongsToMany, P, C, K> for Refined<A, F>
where
    A: ManyToManyEager<C, K> + ManyToManyDef<Source: Rows<P>> + Send,
    A::Target: KeysQuery + Send,
    F: Fn(<A::Target as KeysQuery>::ByIds) -> Q + Send,
    Q: Fetch<C, K, A::Target> + CountBinds<C, K>,
    C: Send,
    K: Kind,
{
    type Out = Vec<A::Target>;
    load!(self, parents, conn => A::load_many_where(keys::<A::Source, P>(parents), self.1, conn));
}

#[diagnostic::do_not_recommend]
impl<A, O, P, C, K> LoadVia<via::HasMany, P, C, K> for Top<A, O>
where
    A: OneToManyEager<C, K> + OneToMany<Source: Rows<P>> + Send,
    A::Target: Send,
    O: Expression + AppearsOnTable<TableOf<A::Target>> + Clone + Send,
    Ranked<A, O>: Fetch<C, K, A::Target>,
    C: Send,
    K: Kind,
{
    type Out = Vec<A::Target>;
    load!(self, parents, conn => A::load_top(
        keys::<A::Source, P>(parents),
        self.1,
        self.2,
        conn,
    ));
}

#[diagnostic::do_not_recommend]
impl<A, O, P, C, K> LoadVia<via::BelongsToMany, P, C, K> for Top<A, O>
where
    A: ManyToManyEager<C, K> + ManyToManyDef<Source: Rows<P>> + Send,
    A::Target: Send,
    O: Expression + AppearsOnTable<TableOf<A::Target>> + Clone + Send,
    RankedTargets<A, O>: Fetch<C, K, (A::Target, IdOf<A::Source>)>,
    C: Send,
    K: Kind,
{
    type Out = Vec<A::Target>;
    load!(self, parents, conn => A::load_top(
        keys::<A::Source, P>(parents),
        self.1,
        self.2,
        conn,
    ));
}

/// What one parent gets from an include, as [`With`] takes it apart (its
/// rows, to load their own includes for all parents at once) and puts it
/// back together (each row with what was loaded for it).
pub trait Shape: Sized {
    /// A row: `Post` of `Vec<Post>`.
    type Item;
    /// How many rows it held, to put them back.
    type Layout: Send;
    /// Each row paired with `U`: `Vec<(Post, U)>`.
    type With<U: Send>: Send;
    /// Moves its rows to the end of `rows`.
    fn take(self, rows: &mut Vec<Self::Item>) -> Self::Layout;
    /// The rows `layout` counts, from `pairs`; `None` if they ran out.
    fn put<U: Send>(
        layout: Self::Layout,
        pairs: &mut impl Iterator<Item = (Self::Item, U)>,
    ) -> Option<Self::With<U>>;
}

impl<T: Send> Shape for Vec<T> {
    type Item = T;
    type Layout = usize;
    type With<U: Send> = Vec<(T, U)>;
    fn take(self, rows: &mut Vec<T>) -> usize {
        let n = self.len();
        rows.extend(self);
        n
    }
    fn put<U: Send>(n: usize, pairs: &mut impl Iterator<Item = (T, U)>) -> Option<Vec<(T, U)>> {
        let rows: Vec<(T, U)> = pairs.take(n).collect();
        (rows.len() == n).then_some(rows)
    }
}

impl<T: Send> Shape for Option<T> {
    type Item = T;
    type Layout = bool;
    type With<U: Send> = Option<(T, U)>;
    fn take(self, rows: &mut Vec<T>) -> bool {
        let some = self.is_some();
        rows.extend(self);
        some
    }
    fn put<U: Send>(
        some: bool,
        pairs: &mut impl Iterator<Item = (T, U)>,
    ) -> Option<Option<(T, U)>> {
        if some {
            pairs.next().map(Some)
        } else {
            Some(None)
        }
    }
}

impl<T: Model> Shape for T {
    type Item = T;
    type Layout = ();
    type With<U: Send> = (T, U);
    fn take(self, rows: &mut Vec<T>) {
        rows.push(self);
    }
    fn put<U: Send>(_: (), pairs: &mut impl Iterator<Item = (T, U)>) -> Option<(T, U)> {
        pairs.next()
    }
}

#[diagnostic::do_not_recommend]
impl<P, L, S, C, K> Load<P, C, K> for With<L, S>
where
    P: Sync,
    L: Load<P, C, K, Out: Shape>,
    S: Load<<L::Out as Shape>::Item, C, K>,
    <L::Out as Shape>::Item: Send + Sync,
    C: Send,
    K: Kind,
{
    type Out = <L::Out as Shape>::With<S::Out>;
    load!(self, parents, conn => async move {
        let With(outer, inner) = self;
        let loaded = outer.load(parents, conn).await?;
        // Every parent's rows in one list, so that the next level is
        // one load (a row two parents share is one key of its statement).
        let mut rows = Vec::new();
        let layouts: Vec<_> = loaded.into_iter().map(|out| out.take(&mut rows)).collect();
        let included = inner.load(&rows, conn).await?;
        let mut pairs = rows.into_iter().zip(included);
        layouts
            .into_iter()
            .map(|layout| <L::Out as Shape>::put(layout, &mut pairs))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                diesel::result::Error::QueryBuilderError(
                    "an include returned fewer rows than its parents".into(),
                )
            })
    });
}

#[diagnostic::do_not_recommend]
impl<P, C, K, L1, L2> Load<P, C, K> for (L1, L2)
where
    P: Sync,
    C: Send,
    K: Kind,
    L1: Load<P, C, K>,
    L2: Load<P, C, K>,
{
    type Out = (L1::Out, L2::Out);
    load!(self, parents, conn => async move {
        let a = self.0.load(parents, conn).await?;
        let b = self.1.load(parents, conn).await?;
        Ok(a.into_iter().zip(b).collect())
    });
}

#[diagnostic::do_not_recommend]
impl<P, C, K, L1, L2, L3> Load<P, C, K> for (L1, L2, L3)
where
    P: Sync,
    C: Send,
    K: Kind,
    L1: Load<P, C, K>,
    L2: Load<P, C, K>,
    L3: Load<P, C, K>,
{
    type Out = (L1::Out, L2::Out, L3::Out);
    load!(self, parents, conn => async move {
        let a = self.0.load(parents, conn).await?;
        let b = self.1.load(parents, conn).await?;
        let c = self.2.load(parents, conn).await?;
        Ok(a.into_iter()
            .zip(b)
            .zip(c)
            .map(|((a, b), c)| (a, b, c))
            .collect())
    });
}

/// `.with(..)`, on every include (in `orm_core::prelude`).
pub trait Include: Sized {
    /// Each row this loads, paired with what `sub` loads for it: `(row,
    /// sub's result)` in place of `row`.
    fn with<S>(self, sub: S) -> With<Self, S> {
        With(self, sub)
    }
}

/// `.refine(..)` and `.top(..)`, on an association's marker (in `orm_core::prelude`).
pub trait Refine: Association {
    /// The rows `refine` keeps of the association's eager query, in its
    /// order (`load_*_where`): `|q| q.filter(..).order(..)`.
    fn refine<F, Q>(self, refine: F) -> Refined<Self, F>
    where
        F: Fn(Self::Query) -> Q,
    {
        Refined(self, refine)
    }
    /// At most `limit` rows per parent, the first by `order` (an expression
    /// on the target's table, `posts::id.desc()`): `load_*_top`.
    fn top<O>(self, limit: i64, order: O) -> Top<Self, O> {
        Top(self, limit, order)
    }
}

impl<A: Association> Refine for A {}
impl<A: Association> Include for A {}
impl<A, F> Include for Refined<A, F> {}
impl<A, O> Include for Top<A, O> {}
impl<L, S> Include for With<L, S> {}

/// Loads `include` for every one of `parents`, aligned with them: each
/// association once per level for all parents (one statement, one more per
/// chunk of keys under the parameter limit; two for a refined
/// `belongs_to_many`). See [the module](self).
pub fn include<'c, P, I, C, K>(
    parents: &'c [P],
    include: I,
    conn: &'c mut C,
) -> <K as Kind>::Out<'c, Vec<I::Out>>
where
    C: ConnKind<Kind = K>,
    K: Kind,
    I: Load<P, C, K> + 'c,
{
    K::run(include.load(parents, conn))
}
