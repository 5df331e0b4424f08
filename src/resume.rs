//! The trait both backends implement, and what one resume produces.

use std::fmt;
use std::iter::FusedIterator;
use std::panic;

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
/// [`stackless::Coroutine`](crate::stackless::Coroutine) — so schedulers and
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

/// A generator over a coroutine's yields (Lua's `coroutine.wrap`), made by
/// `into_iter()` on a coroutine of either backend that takes `()`.
///
/// Each `next` resumes the coroutine; the return value ends the iteration
/// and is dropped. A panic in the body is re-raised in the caller, as Lua's
/// `wrap` re-raises errors; any other error (the nesting limit, a stackless
/// body awaiting another future) panics with its message.
///
/// ```
/// let fib = coro::Coroutine::new(|y, ()| {
///     let (mut a, mut b) = (0u64, 1);
///     loop {
///         y.suspend(a);
///         (a, b) = (b, a + b);
///     }
/// });
/// let first: Vec<u64> = fib.into_iter().take(10).collect();
/// assert_eq!(first, [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]);
/// ```
pub struct IntoIter<C> {
    coroutine: C,
}

impl<C> IntoIter<C> {
    pub(crate) fn new(coroutine: C) -> Self {
        IntoIter { coroutine }
    }

    /// The coroutine behind the iterator.
    pub fn coroutine(&self) -> &C {
        &self.coroutine
    }

    /// The coroutine behind the iterator, for example to close it.
    pub fn into_coroutine(self) -> C {
        self.coroutine
    }
}

impl<C: Resume<()>> Iterator for IntoIter<C> {
    type Item = C::Yield;

    #[inline]
    fn next(&mut self) -> Option<C::Yield> {
        match self.coroutine.resume(()) {
            Ok(Resumed::Yield(value)) => Some(value),
            Ok(Resumed::Return(_)) | Err(Error::Dead) => None,
            Err(Error::Panic(payload)) => panic::resume_unwind(payload.into_inner()),
            Err(err) => panic!("{err}"),
        }
    }
}

impl<C: Resume<()>> FusedIterator for IntoIter<C> {}

impl<C: fmt::Debug> fmt::Debug for IntoIter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("coroutine", &self.coroutine)
            .finish()
    }
}
