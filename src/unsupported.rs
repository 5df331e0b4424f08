//! The stackful backend's items on a target it does not support, with the
//! `stackful` feature on (it is by default): each resolves through a trait
//! no type implements, so that naming one fails to compile with a message
//! that names the target and the supported ones, instead of an unresolved
//! import. The stackless backend and the shared model are unaffected.

#![allow(missing_docs)]

use std::marker::PhantomData;

include!(concat!(env!("OUT_DIR"), "/unsupported.rs"));

/// This target, which has no stackful backend.
#[derive(Debug)]
pub enum ThisTarget {}

/// The stackful coroutine: not on this target.
pub type Coroutine<I = (), Y = (), R = (), B = ()> =
    <ThisTarget as StackfulBackend<fn(I, PhantomData<B>) -> (Y, R)>>::Item;

/// The stackful coroutine's body: not on this target (nothing can name a
/// coroutine to use it with).
pub trait Body<I, Y, R> {}

/// The stackful builder: not on this target.
pub type Builder = <ThisTarget as StackfulBackend<Builder_>>::Item;

/// The stackful yielder: not on this target.
pub type Yielder<I = (), Y = ()> = <ThisTarget as StackfulBackend<fn(I) -> Y>>::Item;

#[doc(hidden)]
#[derive(Debug)]
pub enum Builder_ {}

/// Calling foreign code around coroutines: not on this target.
pub mod foreign {
    use super::{StackfulBackend, ThisTarget};

    /// Not on this target.
    pub fn call<F, R>(_f: F) -> R
    where
        ThisTarget: StackfulBackend<fn(F) -> R>,
    {
        unreachable!("no type implements StackfulBackend")
    }

    /// Not on this target.
    pub fn callback<F, R>(_fallback: R, _f: F) -> R
    where
        ThisTarget: StackfulBackend<fn(F) -> R>,
    {
        unreachable!("no type implements StackfulBackend")
    }
}
