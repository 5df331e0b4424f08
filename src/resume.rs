//! The trait both backends implement, and what one resume produces.

use crate::{Error, Handle, Status};

/// What a successful resume produced: a suspension or the body's return value.
///
/// Lua's `coroutine.resume` returns `true` followed by either the values passed
/// to `yield` or the values returned; `Resumed` keeps the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resumed<Y, R> {
    /// The body suspended with this value; the coroutine can be resumed again.
    Yield(Y),
    /// The body returned this value; the coroutine is now dead.
    Return(R),
}

impl<Y, R> Resumed<Y, R> {
    /// The suspended value, if the body suspended.
    pub fn yielded(self) -> Option<Y> {
        match self {
            Resumed::Yield(value) => Some(value),
            Resumed::Return(_) => None,
        }
    }

    /// The returned value, if the body returned.
    pub fn returned(self) -> Option<R> {
        match self {
            Resumed::Yield(_) => None,
            Resumed::Return(value) => Some(value),
        }
    }

    /// True if the body suspended.
    pub fn is_yield(&self) -> bool {
        matches!(self, Resumed::Yield(_))
    }

    /// True if the body returned.
    pub fn is_return(&self) -> bool {
        matches!(self, Resumed::Return(_))
    }
}

/// A coroutine that can be resumed with inputs of type `I`.
///
/// Both backends implement it — [`Coroutine`](crate::Coroutine) and
/// the stackless `stackless::Coroutine` — so schedulers and
/// tests can be written once for both. Each backend also has the same methods
/// inherently, so ordinary calls need no import of this trait.
///
/// ```
/// use coro::{Resume, Resumed};
///
/// // Drains any coroutine that yields numbers and returns a string.
/// fn drain(co: &mut impl Resume<(), Yield = u32, Return = &'static str>) -> (u32, &'static str) {
///     let mut sum = 0;
///     loop {
///         match co.resume(()).unwrap() {
///             Resumed::Yield(n) => sum += n,
///             Resumed::Return(s) => return (sum, s),
///         }
///     }
/// }
///
/// let mut co = coro::Coroutine::new(|y, ()| {
///     for n in 1..=4 {
///         y.suspend(n);
///     }
///     "done"
/// });
/// assert_eq!(drain(&mut co), (10, "done"));
/// ```
pub trait Resume<I> {
    /// The type of the values the body suspends with.
    type Yield;
    /// The type of the value the body returns.
    type Return;

    /// Runs the coroutine until it suspends or returns (Lua's `coroutine.resume`).
    ///
    /// The first resume passes `input` as the body's argument; every later one
    /// makes the pending `suspend` return it. Fails with [`Error::Dead`],
    /// [`Error::NotSuspended`] or [`Error::TooDeep`] without touching the
    /// coroutine, and with [`Error::Panic`] if the body panicked (the coroutine
    /// is then dead).
    fn resume(&mut self, input: I) -> Result<Resumed<Self::Yield, Self::Return>, Error>;

    /// The coroutine's current state (Lua's `coroutine.status`).
    fn status(&self) -> Status;

    /// Destroys the coroutine (Lua's `coroutine.close`): every live local of a
    /// suspended body is dropped, a body that never started is dropped without
    /// running, and the coroutine is dead. Closing a dead coroutine does nothing.
    fn close(&mut self) -> Result<(), Error>;

    /// A handle that observes this coroutine without owning it.
    fn handle(&self) -> Handle;
}
