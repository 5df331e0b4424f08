//! The stackless backend: no separate stack at all.
//!
//! The body is an `async` block or `async fn`. The compiler turns it into a
//! state machine — a heap frame holding exactly the locals that live across
//! a suspension, as C++20 does — and every `.await` of
//! [`Yielder::suspend`] is a continuation point, Lua 5.2's `lua_callk`
//! written by the compiler instead of by hand. `resume` polls the frame once;
//! nothing else ever does.
//!
//! Only async frames can suspend: a plain function called from the body
//! cannot, so the free [`suspend`](crate::suspend) there returns
//! [`Error::AcrossBoundary`] ("attempt to yield across a C-call boundary")
//! and [`is_yieldable`](crate::is_yieldable) is false. In exchange a
//! coroutine costs a small heap frame instead of a stack.
//!
//! ```
//! use coro::Resumed;
//! use coro::stackless::{Coroutine, Yielder};
//!
//! // A nested async callee suspends on behalf of the body.
//! async fn countdown(y: &Yielder<(), u32>, from: u32) {
//!     for n in (1..=from).rev() {
//!         y.suspend(n).await;
//!     }
//! }
//!
//! let mut co = Coroutine::new(|y: Yielder<(), u32>, ()| async move {
//!     countdown(&y, 3).await;
//!     "liftoff"
//! });
//! assert_eq!(co.resume(()).unwrap(), Resumed::Yield(3));
//! assert_eq!(co.resume(()).unwrap(), Resumed::Yield(2));
//! assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
//! assert_eq!(co.resume(()).unwrap(), Resumed::Return("liftoff"));
//! ```
//!
//! A closure handed to a plain iterator adapter is not async, so it cannot
//! suspend — the stackful backend's trade-off runs the other way:
//!
//! ```compile_fail
//! use coro::stackless::{Coroutine, Yielder};
//!
//! let co = Coroutine::new(|y: Yielder<(), u32>, ()| async move {
//!     // error: `await` is only allowed inside `async` functions and blocks
//!     [1, 2, 3].iter().for_each(|n| y.suspend(*n).await);
//! });
//! ```
#![deny(unsafe_code)]

mod exchange;
mod frame;
mod poll;

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ptr;

use crate::chain::{self, Entered};
use crate::header::{Closing, Header};
use crate::shared::Shared;
use crate::thread_bound::ThreadBound;
use crate::{Error, Handle, IntoIter, PanicPayload, Resume, Resumed, Status, Wrap};
pub use exchange::Suspend;
pub use frame::Body;
use frame::{Ending, Frame, Stage, Step};

/// A coroutine whose body's type is erased but for how long it may borrow:
/// what `Coroutine::new` and `Builder::build` return.
type Erased<'a, I, Y, R> = Coroutine<I, Y, R, dyn Body<I, Y, R> + 'a>;

/// A coroutine whose body is an `async` block: its frame lives on the heap,
/// and it needs no stack of its own.
///
/// `I` is the type of every resume's input (the first one becomes the body's
/// argument), `Y` the type it suspends with, `R` the type it returns. It
/// behaves exactly like the stackful [`Coroutine`](crate::Coroutine): same
/// statuses, errors, nesting limit and close.
///
/// ```
/// use coro::Resumed;
/// use coro::stackless::{Coroutine, Yielder};
///
/// let mut adder = Coroutine::new(|y: Yielder<i32, i32>, mut n: i32| async move {
///     let mut sum = 0;
///     while n != 0 {
///         sum += n;
///         n = y.suspend(sum).await;
///     }
///     sum
/// });
/// assert_eq!(adder.resume(5).unwrap(), Resumed::Yield(5));
/// assert_eq!(adder.resume(7).unwrap(), Resumed::Yield(12));
/// assert_eq!(adder.resume(0).unwrap(), Resumed::Return(12));
/// ```
///
/// It stays on its thread:
///
/// ```compile_fail
/// use coro::stackless::{Coroutine, Yielder};
/// let co = Coroutine::new(|_: Yielder<(), ()>, ()| async {});
/// std::thread::spawn(move || drop(co));
/// ```
pub struct Coroutine<I = (), Y = (), R = (), B: ?Sized + Body<I, Y, R> = dyn Body<I, Y, R>> {
    /// Keeps it on its thread (its frame may hold anything, `Rc`s
    /// included); first, so that a `!Send` error names it first.
    _thread: ThreadBound,
    /// Shared with handles and the body's `Yielder`.
    header: Shared,
    /// The body's frame; empty once the coroutine is dead.
    frame: Frame<B>,
    /// Takes `I`, produces `Y` and `R`.
    _types: PhantomData<fn(I) -> (Y, R)>,
}

impl<'a, I: 'a, Y: 'a, R: 'a> Coroutine<I, Y, R, dyn Body<I, Y, R> + 'a> {
    /// Creates a coroutine that will run the future `body` returns (Lua's
    /// `coroutine.create`). Nothing runs until the first
    /// [`resume`](Self::resume), whose input becomes the body's argument.
    ///
    /// The body, its inputs, yields and return value may borrow from the
    /// caller for a lifetime `'a`, and the coroutine's type names `'a`
    /// (`dyn Body<I, Y, R> + 'a`; with nothing borrowed it is the default
    /// `Coroutine<I, Y, R>`, whose `dyn Body` is `'static`): it cannot
    /// outlive what it borrows. See [Borrowing](crate#borrowing).
    ///
    /// ```
    /// use coro::stackless::{Coroutine, Yielder};
    ///
    /// let text = String::from("to be or not");
    /// let line: &str = &text; // the body borrows the caller's text
    /// let words = Coroutine::new(|y: Yielder<(), &str>, ()| async move {
    ///     for word in line.split(' ') {
    ///         y.suspend(word).await; // yields slices of it
    ///     }
    /// });
    /// assert_eq!(words.into_iter().collect::<Vec<_>>(), ["to", "be", "or", "not"]);
    /// ```
    ///
    /// # The types
    ///
    /// As in the stackful [`Coroutine::new`](crate::Coroutine::new), `I`,
    /// `Y` and `R` come from the body: a body that suspends needs no
    /// annotation.
    ///
    /// ```
    /// let mut co = coro::stackless::Coroutine::new(|y, ()| async move {
    ///     y.suspend(1u32).await;
    ///     "done"
    /// });
    /// assert_eq!(co.resume(()).unwrap().yielded(), Some(1));
    /// ```
    ///
    /// One that never suspends, or only through an async callee, says
    /// nothing of `Y` (error E0282, "type annotations needed for
    /// `Yielder<(), _>`"): name it on the yielder parameter,
    /// `|y: Yielder<I, Y>, input| async move { .. }`, as most examples here
    /// do, which keeps the body free to borrow. A turbofish,
    /// `Coroutine::<I, Y, R>::new`, works for a body that borrows nothing,
    /// but also fixes the fourth type parameter to its `'static` default:
    /// add `_` for it (`Coroutine::<I, Y, R, _>::new`) if the body borrows.
    ///
    /// Costs two allocations: the shared header and the frame. The body's
    /// type is erased (each resume makes one virtual call into the frame),
    /// so that every coroutine of the same `I`, `Y` and `R` has the same
    /// type; [`typed`](Self::typed) keeps it instead.
    pub fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Yielder<I, Y>, I) -> Fut + 'a,
        Fut: Future<Output = R> + 'a,
    {
        Self::named(None, body)
    }

    /// As [`new`](Self::new), keeping the body's own type in the
    /// coroutine's: the fourth type parameter is the body's frame, not
    /// `dyn Body`. A resume is then one poll of the body, inlined into the
    /// caller, with no virtual call: the fastest stackless coroutine, for a
    /// generator in a hot loop.
    ///
    /// The type cannot be written out (it contains the closure's and the
    /// async block's); keep the coroutine in a local, return it as
    /// `impl Resume<I>`, or take it as a generic parameter.
    ///
    /// ```
    /// use coro::{Resume, Resumed};
    /// use coro::stackless::{Coroutine, Yielder};
    ///
    /// fn evens() -> impl Resume<(), Yield = u64, Return = ()> {
    ///     Coroutine::typed(|y: Yielder<(), u64>, ()| async move {
    ///         for n in (0..6).step_by(2) {
    ///             y.suspend(n).await;
    ///         }
    ///     })
    /// }
    ///
    /// let mut co = evens();
    /// assert_eq!(co.resume(()).unwrap(), Resumed::Yield(0));
    /// assert_eq!(co.resume(()).unwrap(), Resumed::Yield(2));
    /// assert_eq!(co.resume(()).unwrap(), Resumed::Yield(4));
    /// assert_eq!(co.resume(()).unwrap(), Resumed::Return(()));
    /// ```
    pub fn typed<F, Fut>(body: F) -> Coroutine<I, Y, R, impl Body<I, Y, R> + 'a>
    where
        F: FnOnce(Yielder<I, Y>, I) -> Fut + 'a,
        Fut: Future<Output = R> + 'a,
    {
        Self::typed_named(None, body)
    }

    /// [`typed`](Self::typed), with a name.
    fn typed_named<F, Fut>(
        name: Option<Box<str>>,
        body: F,
    ) -> Coroutine<I, Y, R, impl Body<I, Y, R> + 'a>
    where
        F: FnOnce(Yielder<I, Y>, I) -> Fut + 'a,
        Fut: Future<Output = R> + 'a,
    {
        let (header, frame) = Self::parts(name, body);
        Coroutine {
            _thread: PhantomData,
            header,
            frame,
            _types: PhantomData,
        }
    }

    /// [`new`](Self::new), with a name.
    fn named<F, Fut>(name: Option<Box<str>>, body: F) -> Self
    where
        F: FnOnce(Yielder<I, Y>, I) -> Fut + 'a,
        Fut: Future<Output = R> + 'a,
    {
        let (header, frame) = Self::parts(name, body);
        Coroutine {
            _thread: PhantomData,
            header,
            frame: frame.erase(),
            _types: PhantomData,
        }
    }

    /// A new coroutine's header, with its name, and the typed frame of its
    /// `body`.
    fn parts<F, Fut>(name: Option<Box<str>>, body: F) -> (Shared, Frame<Stage<F, Fut, I, Y>>)
    where
        F: FnOnce(Yielder<I, Y>, I) -> Fut + 'a,
        Fut: Future<Output = R> + 'a,
    {
        // No types recorded: the free `suspend` refuses a stackless
        // coroutine before it would look at them.
        let header = Header::shared(name, ptr::null_mut(), None);
        let yielder = Yielder {
            _thread: PhantomData,
            header: header.clone(),
            _types: PhantomData,
        };
        (header, Frame::new(body, yielder))
    }
}

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> Coroutine<I, Y, R, B> {
    /// Runs the body until it suspends or returns (Lua's `coroutine.resume`).
    ///
    /// # Errors
    /// As [`Coroutine::resume`](crate::Coroutine::resume), and:
    /// - [`Error::NeedsExecutor`] if the body awaited a future other than its
    ///   own suspension (a timer, a channel): nothing would ever wake it;
    /// - [`Error::SuspendClash`] if it awaited two suspensions at once.
    ///
    /// After either, the frame has been dropped and the coroutine is dead.
    #[inline(always)]
    pub fn resume(&mut self, input: I) -> Result<Resumed<Y, R>, Error> {
        let entered = chain::enter(&self.header, true)?;
        match self.frame.resume(&self.header, input) {
            Step::Yield(value) => {
                chain::leave(&self.header, Status::Suspended, entered);
                Ok(Resumed::Yield(value))
            }
            // Rebuilt here rather than returned whole by `ended`: a result
            // returned through memory would make the yielded one go through
            // memory too.
            Step::Ended(ending) => self.ended(ending, entered).map(Resumed::Return),
        }
    }

    /// The rest of a resume that did not end in a suspension, while the
    /// coroutine is still entered: it dies. Kept out of line so the
    /// suspension path stays small.
    ///
    /// Nothing here may unwind into the resumer: the frame, with every value
    /// the resume will not hand out (an input no suspension took, the value
    /// of a clashing or abandoned suspension), is dropped under
    /// `catch_unwind`, while the coroutine still counts as running. A second
    /// panic, beside the one reported, is discarded only once the chain is
    /// restored, as its payload's own destructor is user code too.
    #[cold]
    #[inline(never)]
    fn ended(&mut self, ending: Ending<I, R>, entered: Entered) -> Result<R, Error> {
        // From here on no suspension can park: destructors run next. The
        // unwind of a panic already dropped the frame's live locals; the
        // body may still be a hand-written future with a `Drop` of its own.
        exchange::close(&self.header);
        let (result, unreported) = match ending {
            Ending::Return(value) => match self.drop_frame() {
                Ok(()) => (Ok(value), None),
                Err(payload) => (
                    Err(Error::Panic(payload)),
                    PanicPayload::drop_caught(value).err(),
                ),
            },
            Ending::Panic(payload) => self.failed(Error::Panic(PanicPayload::new(payload))),
            Ending::Pending => self.failed(Error::NeedsExecutor),
            Ending::Clash => self.failed(Error::SuspendClash),
            // The input came after the frame: it goes first.
            Ending::Vanished(input) => self.failed(match PanicPayload::drop_caught(input) {
                Ok(()) => Error::NeedsExecutor,
                Err(payload) => Error::Panic(payload),
            }),
        };
        chain::leave(&self.header, Status::Dead, entered);
        if let Some(payload) = unreported {
            payload.discard();
        }
        result
    }

    /// The end of a body that failed with `error`: drops the frame. Beside
    /// the error, a destructor's panic then is not reported, only handed
    /// back to be discarded.
    fn failed(&mut self, error: Error) -> (Result<R, Error>, Option<PanicPayload>) {
        (Err(error), self.drop_frame().err())
    }

    /// Drops the frame, catching a panicking destructor.
    fn drop_frame(&mut self) -> Result<(), PanicPayload> {
        PanicPayload::catch(|| self.frame.clear::<I, Y, R>())
    }

    /// The coroutine's current state (Lua's `coroutine.status`).
    #[inline]
    pub fn status(&self) -> Status {
        self.header.status()
    }

    /// Destroys the coroutine (Lua's `coroutine.close`): a suspended frame
    /// is dropped with every live local, newest first; a never-started body
    /// is dropped without running; a dead coroutine is left alone.
    ///
    /// # Errors
    /// [`Error::Panic`] if a destructor panicked; the coroutine is dead all
    /// the same.
    pub fn close(&mut self) -> Result<(), Error> {
        if !self.header.needs_closing()? {
            return Ok(());
        }
        let entered = chain::enter(&self.header, false)?;
        self.header.set_closing(Closing::Unwind);
        exchange::close(&self.header);
        let dropped = self.drop_frame();
        self.header.set_closing(Closing::No);
        chain::leave(&self.header, Status::Dead, entered);
        dropped.map_err(Error::Panic)
    }

    /// A handle that observes this coroutine without owning it.
    pub fn handle(&self) -> Handle {
        self.header.handle()
    }

    /// The coroutine as a function that resumes it (Lua's
    /// `coroutine.wrap` with arguments): each [`Wrap::call`] resumes it with
    /// its input and gives what it suspended with, raising its panics in
    /// the caller. See [`Wrap`]; a generator that takes `()` is also an
    /// iterator ([`IntoIter`]).
    ///
    /// ```
    /// use coro::stackless::{Coroutine, Yielder};
    ///
    /// let mut echo = Coroutine::new(|y: Yielder<&str, usize>, mut word| async move {
    ///     while word != "bye" {
    ///         word = y.suspend(word.len()).await;
    ///     }
    /// })
    /// .wrap();
    /// assert_eq!(echo.call("hello"), Some(5));
    /// assert_eq!(echo.call("hi"), Some(2));
    /// assert_eq!(echo.call("bye"), None);
    /// assert_eq!(echo.returned(), Some(&()));
    /// ```
    pub fn wrap(self) -> Wrap<Self, I> {
        Wrap::new(self)
    }
}

// What both backends implement word for word on top of the inherent
// methods: the `Resume` trait, `Drop` (Lua's close with the result ignored)
// and `IntoIterator` for generators (Lua's `wrap`, see `IntoIter`). The
// stackful backend's, in `src/stackful/mod.rs`, are the same.

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> Resume<I> for Coroutine<I, Y, R, B> {
    type Yield = Y;
    type Return = R;

    #[inline]
    fn resume(&mut self, input: I) -> Result<Resumed<Y, R>, Error> {
        Coroutine::resume(self, input)
    }

    fn status(&self) -> Status {
        Coroutine::status(self)
    }

    fn close(&mut self) -> Result<(), Error> {
        Coroutine::close(self)
    }

    fn handle(&self) -> Handle {
        Coroutine::handle(self)
    }
}

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> Drop for Coroutine<I, Y, R, B> {
    fn drop(&mut self) {
        // Whatever a destructor panicked with was reported by the panic hook;
        // a drop has nowhere to return it, and dropping the payload must not
        // panic out of this drop.
        if let Err(error) = self.close() {
            error.discard();
        }
    }
}

impl<Y, R, B: ?Sized + Body<(), Y, R>> IntoIterator for Coroutine<(), Y, R, B> {
    type Item = Y;
    type IntoIter = IntoIter<Self>;

    fn into_iter(self) -> IntoIter<Self> {
        IntoIter::new(self)
    }
}

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> fmt::Debug for Coroutine<I, Y, R, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("stackless::Coroutine");
        s.field("id", &self.header.handle().id());
        if let Some(name) = self.header.name() {
            s.field("name", &name);
        }
        s.field("status", &self.header.status()).finish()
    }
}

/// The body's way to suspend its coroutine (Lua's `coroutine.yield`):
/// `yielder.suspend(value).await`.
///
/// The body receives it by value and may lend `&Yielder` to async functions
/// it calls. By value, unlike the stackful body's `&Yielder`: the body
/// returns an `async` block, which runs after the closure has returned, at
/// each resume, and must own whatever it uses across its `.await`s (a
/// borrow of the closure's argument would end when the closure returns).
/// It is neither `Send` nor `Sync`.
pub struct Yielder<I, Y> {
    /// Keeps it on its coroutine's thread; first, so that a `!Send` error
    /// names it first.
    _thread: ThreadBound,
    /// The coroutine's header, through which the suspension finds the
    /// values of the resume polling it.
    header: Shared,
    /// Takes `Y`, gives `I`.
    _types: PhantomData<fn(Y) -> I>,
}

impl<I, Y> Yielder<I, Y> {
    /// Suspends the coroutine with `value` once awaited; the await returns
    /// the next resume's input.
    ///
    /// Awaiting it anywhere but in this coroutine's own body panics. The
    /// future is `!Unpin` (see [`Suspend`]).
    #[inline]
    pub fn suspend(&self, value: Y) -> Suspend<'_, I, Y> {
        Suspend::new(self, value)
    }

    /// The coroutine's header.
    #[inline(always)]
    fn header(&self) -> &Header {
        &self.header
    }
}

impl<I, Y> fmt::Debug for Yielder<I, Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("stackless::Yielder")
            .field("coroutine", &self.header.handle())
            .finish()
    }
}

/// Configures a stackless coroutine before it is created: its name, shown
/// by `Debug` and [`Handle::name`].
///
/// The stackless twin of the stackful [`coro::Builder`](crate::Builder),
/// without a stack size (a stackless coroutine has no stack: its frame is
/// as big as its body needs) and without an error (nothing is mapped; as
/// for any allocation, running out of memory aborts).
///
/// ```
/// use coro::stackless::{Builder, Yielder};
///
/// let mut co = Builder::new()
///     .name("lexer")
///     .build(|y: Yielder<(), char>, ()| async move {
///         for c in "ab".chars() {
///             y.suspend(c).await;
///         }
///     });
/// assert_eq!(co.handle().name(), Some("lexer"));
/// assert!(format!("{co:?}").contains("lexer"));
/// assert_eq!(co.resume(()).unwrap().yielded(), Some('a'));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    name: Option<String>,
}

impl Builder {
    /// A builder with the defaults: no name.
    pub fn new() -> Self {
        Builder { name: None }
    }

    /// A name, shown by `Debug` and [`Handle::name`].
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Creates the coroutine: as [`Coroutine::new`], whose body, inputs,
    /// yields and return value may borrow for `'a`, and whose body's type is
    /// erased.
    pub fn build<'a, I, Y, R, F, Fut>(self, body: F) -> Erased<'a, I, Y, R>
    where
        I: 'a,
        Y: 'a,
        R: 'a,
        F: FnOnce(Yielder<I, Y>, I) -> Fut + 'a,
        Fut: Future<Output = R> + 'a,
    {
        Coroutine::named(self.name.map(String::into_boxed_str), body)
    }

    /// Creates the coroutine as [`Coroutine::typed`] does: the body's type
    /// stays in the coroutine's, for a resume with no virtual call.
    ///
    /// ```
    /// use coro::stackless::{Builder, Yielder};
    ///
    /// let mut co = Builder::new()
    ///     .name("evens")
    ///     .build_typed(|y: Yielder<(), u32>, ()| async move { y.suspend(2).await });
    /// assert_eq!(co.handle().name(), Some("evens"));
    /// assert_eq!(co.resume(()).unwrap().yielded(), Some(2));
    /// ```
    pub fn build_typed<'a, I, Y, R, F, Fut>(
        self,
        body: F,
    ) -> Coroutine<I, Y, R, impl Body<I, Y, R> + 'a>
    where
        I: 'a,
        Y: 'a,
        R: 'a,
        F: FnOnce(Yielder<I, Y>, I) -> Fut + 'a,
        Fut: Future<Output = R> + 'a,
    {
        Coroutine::typed_named(self.name.map(String::into_boxed_str), body)
    }
}
