//! The trait both backends implement, and what one resume produces.

use std::fmt;
use std::iter::FusedIterator;
use std::marker::PhantomData;
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

    /// The coroutine as a function that resumes it (Lua's
    /// `coroutine.wrap`): see [`Wrap`].
    fn wrap(self) -> Wrap<Self, I>
    where
        Self: Sized,
    {
        Wrap::new(self)
    }
}

/// A generator over a coroutine's yields, made by `into_iter()` on a
/// coroutine of either backend that takes `()`: Lua's `coroutine.wrap` for a
/// body that takes no arguments. ([`Wrap`] is the one that takes them.)
///
/// Each `next` resumes the coroutine and gives what it suspended with. The
/// body's return ends the iteration, and the returned value is kept:
/// [`returned`](Self::returned) and [`into_returned`](Self::into_returned)
/// give it once the iteration is over (iterate with `by_ref()` to keep the
/// iterator). After the end, `next` keeps returning `None`, as a
/// [`FusedIterator`] does.
///
/// Errors are raised in the caller, as Lua's `wrap` raises them: a panic in
/// the body is re-raised with [`std::panic::resume_unwind`] (its payload
/// unchanged; the coroutine is dead, and nothing was returned); any other
/// error (the nesting limit, a stackless body that needs an executor,
/// [`Error::NeedsExecutor`]) panics with its message. A coroutine that was
/// already dead when the iteration began gives an empty iteration. To get
/// the errors as values, call [`Resume::resume`] in a loop instead.
///
/// ```
/// // Yields the lines of a text, and returns how many were blank.
/// let text = "one\n\ntwo\n\n\nthree";
/// let mut lines = coro::Coroutine::new(move |y, ()| {
///     let mut blank = 0;
///     for line in text.lines() {
///         match line {
///             "" => blank += 1,
///             line => y.suspend(line),
///         }
///     }
///     blank
/// })
/// .into_iter();
/// let found: Vec<&str> = lines.by_ref().collect();
/// assert_eq!(found, ["one", "two", "three"]);
/// assert_eq!(lines.returned(), Some(&3));
/// assert_eq!(lines.next(), None); // over for good
/// assert_eq!(lines.into_returned(), Some(3));
/// ```
///
/// An endless generator, never run to its end, returns nothing:
///
/// ```
/// let fib = coro::Coroutine::new(|y, ()| {
///     let (mut a, mut b) = (0u64, 1);
///     loop {
///         y.suspend(a);
///         (a, b) = (b, a + b);
///     }
/// });
/// let mut fib = fib.into_iter();
/// let first: Vec<u64> = fib.by_ref().take(10).collect();
/// assert_eq!(first, [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]);
/// assert_eq!(fib.returned(), None);
/// ```
pub struct IntoIter<C: Resume<()>> {
    coroutine: C,
    /// What the body returned, once it has.
    returned: Option<C::Return>,
}

impl<C: Resume<()>> IntoIter<C> {
    pub(crate) fn new(coroutine: C) -> Self {
        IntoIter {
            coroutine,
            returned: None,
        }
    }

    /// What the body returned, once the iteration has reached its end;
    /// `None` before, and after an iteration that ended otherwise.
    pub fn returned(&self) -> Option<&C::Return> {
        self.returned.as_ref()
    }

    /// The value the body returned, if the iteration reached its end (see
    /// [`returned`](Self::returned)). The coroutine, dead by then, is
    /// dropped.
    pub fn into_returned(self) -> Option<C::Return> {
        self.returned
    }

    /// The coroutine behind the iterator.
    pub fn coroutine(&self) -> &C {
        &self.coroutine
    }

    /// The coroutine behind the iterator, for example to close it. What it
    /// returned, if anything, is dropped: take it first with
    /// [`into_returned`](Self::into_returned) if needed.
    pub fn into_coroutine(self) -> C {
        self.coroutine
    }
}

/// The iterator of any generator, for code generic over [`Resume`]: the
/// same as its `into_iter()`.
impl<C: Resume<()>> From<C> for IntoIter<C> {
    fn from(coroutine: C) -> Self {
        IntoIter::new(coroutine)
    }
}

impl<C: Resume<()>> Iterator for IntoIter<C> {
    type Item = C::Yield;

    #[inline]
    #[track_caller]
    fn next(&mut self) -> Option<C::Yield> {
        match self.coroutine.resume(()) {
            Ok(Resumed::Yield(value)) => Some(value),
            Ok(Resumed::Return(value)) => {
                self.returned = Some(value);
                None
            }
            Err(Error::Dead) => None,
            Err(err) => raise(err),
        }
    }
}

impl<C: Resume<()>> FusedIterator for IntoIter<C> {}

impl<C: Resume<()> + fmt::Debug> fmt::Debug for IntoIter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("coroutine", &self.coroutine)
            .field("returned", &self.returned.is_some())
            .finish()
    }
}

/// A coroutine as a function that resumes it (Lua's `coroutine.wrap`), made
/// by `wrap()` on a coroutine of either backend: each
/// [`call`](Self::call) resumes it with its input and gives back what the
/// body suspended with.
///
/// As in Lua, the errors of a resume are raised in the caller rather than
/// returned: a panic in the body is re-raised with
/// [`std::panic::resume_unwind`], its payload unchanged (the coroutine is
/// dead); any other error panics with its message. A call after the body
/// returned is such an error: it panics with "cannot resume dead coroutine",
/// Lua's message for the same call.
///
/// Lua's wrapped function returns the body's return values from the call
/// that ran the body to its end; here `Y` and `R` are two types, so that
/// call returns `None` and keeps the value, for
/// [`returned`](Self::returned) and [`into_returned`](Self::into_returned).
///
/// A `Wrap` is not itself a closure (the `Fn*` traits cannot be implemented
/// on stable Rust); where one is wanted, write `|input| wrap.call(input)`.
///
/// ```
/// use coro::Coroutine;
///
/// // A running average: each call hands in a number, gets the mean so far.
/// let mut mean = Coroutine::new(|y, mut x: f64| {
///     let (mut sum, mut n) = (0.0, 0.0);
///     while !x.is_nan() {
///         sum += x;
///         n += 1.0;
///         x = y.suspend(sum / n);
///     }
///     n as u32 // how many numbers it saw
/// })
/// .wrap();
/// assert_eq!(mean.call(2.0), Some(2.0));
/// assert_eq!(mean.call(4.0), Some(3.0));
/// assert_eq!(mean.call(9.0), Some(5.0));
/// assert_eq!(mean.call(f64::NAN), None); // the body returned
/// assert_eq!(mean.returned(), Some(&3));
/// ```
///
/// ```should_panic
/// let mut once = coro::Coroutine::new(|_: &coro::Yielder<u8, u8>, x: u8| x).wrap();
/// assert_eq!(once.call(1), None);
/// once.call(2); // panics, as Lua's wrapped function raises an error
/// ```
pub struct Wrap<C: Resume<I>, I> {
    coroutine: C,
    /// What the body returned, once it has.
    returned: Option<C::Return>,
    /// Takes `I`.
    _input: PhantomData<fn(I)>,
}

impl<C: Resume<I>, I> Wrap<C, I> {
    pub(crate) fn new(coroutine: C) -> Self {
        Wrap {
            coroutine,
            returned: None,
            _input: PhantomData,
        }
    }

    /// Resumes the coroutine with `input` (the body's argument the first
    /// time, the pending suspension's result afterwards): `Some` of what
    /// the body suspended with, or `None` if it returned (the value is then
    /// kept for [`returned`](Self::returned)).
    ///
    /// # Panics
    /// With the body's own panic, re-raised by
    /// [`std::panic::resume_unwind`]; with "cannot resume dead coroutine"
    /// once the body has returned, panicked or been closed, or with the
    /// message of any other error of [`Resume::resume`].
    #[inline]
    #[track_caller]
    pub fn call(&mut self, input: I) -> Option<C::Yield> {
        match self.coroutine.resume(input) {
            Ok(Resumed::Yield(value)) => Some(value),
            Ok(Resumed::Return(value)) => {
                self.returned = Some(value);
                None
            }
            Err(err) => raise(err),
        }
    }

    /// What the body returned, once a call has run it to its end.
    pub fn returned(&self) -> Option<&C::Return> {
        self.returned.as_ref()
    }

    /// The value the body returned, if a call ran it to its end. The
    /// coroutine is dropped (closed, if it was still suspended).
    pub fn into_returned(self) -> Option<C::Return> {
        self.returned
    }

    /// The coroutine behind the function.
    pub fn coroutine(&self) -> &C {
        &self.coroutine
    }

    /// The coroutine behind the function; what it returned, if anything, is
    /// dropped.
    pub fn into_coroutine(self) -> C {
        self.coroutine
    }
}

impl<C: Resume<I> + fmt::Debug, I> fmt::Debug for Wrap<C, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wrap")
            .field("coroutine", &self.coroutine)
            .field("returned", &self.returned.is_some())
            .finish()
    }
}

/// Raises the error of a resume in the caller, as Lua's `wrap` does: a
/// panic of the body goes on unwinding with its own payload; any other
/// error panics with its message.
#[cold]
#[track_caller]
fn raise(err: Error) -> ! {
    match err {
        Error::Panic(payload) => panic::resume_unwind(payload.into_inner()),
        err => panic!("{err}"),
    }
}
