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

mod mailbox;

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::current::{self, Closing, Entered, Header, SuspendTypes};
use crate::{Error, Handle, PanicPayload, Resumed, Status};
use mailbox::Slot;

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
pub struct Coroutine<I = (), Y = (), R = ()> {
    /// Shared with handles and the body's `Yielder`.
    header: Rc<Header>,
    /// The body's frame; `None` once the coroutine is dead.
    frame: Option<Pin<Box<dyn Future<Output = R>>>>,
    /// Takes `I`, produces `Y`; the `Rc` already makes it `!Send`.
    _types: PhantomData<fn(I) -> Y>,
}

impl<I: 'static, Y: 'static, R: 'static> Coroutine<I, Y, R> {
    /// Creates a coroutine that will run the future `body` returns (Lua's
    /// `coroutine.create`). Nothing runs until the first
    /// [`resume`](Self::resume), whose input becomes the body's argument.
    ///
    /// Costs two allocations: the shared header and the frame.
    pub fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Yielder<I, Y>, I) -> Fut + 'static,
        Fut: Future<Output = R> + 'static,
    {
        let header = Header::new(None, ptr::null_mut(), 0, SuspendTypes::of::<I, Y>);
        let yielder = Yielder {
            header: header.clone(),
            _types: PhantomData,
        };
        let frame = Box::pin(async move {
            let input =
                mailbox::with_slot(&yielder.header, |slot: &mut Slot<I, Y>| slot.input.take())
                    .expect("the first resume brings an input");
            body(yielder, input).await
        });
        Coroutine {
            header,
            frame: Some(frame),
            _types: PhantomData,
        }
    }
}

impl<I, Y, R> Coroutine<I, Y, R> {
    /// Runs the body until it suspends or returns (Lua's `coroutine.resume`).
    ///
    /// # Errors
    /// As [`Coroutine::resume`](crate::Coroutine::resume), and:
    /// - [`Error::ForeignAwait`] if the body awaited a future other than its
    ///   own suspension (a timer, a channel): nothing would ever wake it;
    /// - [`Error::SuspendClash`] if it awaited two suspensions at once.
    ///
    /// After either, the frame has been dropped and the coroutine is dead.
    #[inline]
    pub fn resume(&mut self, input: I) -> Result<Resumed<Y, R>, Error> {
        let entered = current::enter(&self.header, true)?;
        let Some(frame) = self.frame.as_mut() else {
            unreachable!("a suspended coroutine has a frame");
        };
        let mut slot = Slot::<I, Y>::new(input);
        let polled = mailbox::lend(&self.header, &mut slot, || {
            panic::catch_unwind(AssertUnwindSafe(|| {
                frame.as_mut().poll(&mut Context::from_waker(Waker::noop()))
            }))
        });
        match polled {
            Ok(Poll::Pending) if slot.suspended() => {
                current::leave(&self.header, Status::Suspended, entered);
                Ok(Resumed::Yield(slot.yielded.take().expect("checked above")))
            }
            polled => self.ended(polled, slot, entered),
        }
    }

    /// The rest of a resume that did not end in a plain suspension, while the
    /// coroutine is still entered. Kept out of line so the suspension path
    /// stays small.
    ///
    /// Nothing here may unwind into the resumer: every value the resume will
    /// not hand out (an input no suspension took, a value suspended with in a
    /// clash or abandoned, the frame) is dropped under `catch_unwind`, while
    /// the coroutine still counts as running.
    #[cold]
    #[inline(never)]
    fn ended(
        &mut self,
        polled: std::thread::Result<Poll<R>>,
        slot: Slot<I, Y>,
        entered: Entered,
    ) -> Result<Resumed<Y, R>, Error> {
        let Slot {
            input,
            yielded,
            clash,
        } = slot;
        // An input no suspension took: the body abandoned the suspension it
        // was meant for (a `select`). A panic dropping it kills the
        // coroutine like any panic during a resume.
        let input_panic = discard(input);
        if let (Ok(Poll::Pending), Some(_), false, None) = (&polled, &yielded, clash, &input_panic)
        {
            current::leave(&self.header, Status::Suspended, entered);
            return Ok(Resumed::Yield(yielded.expect("matched above")));
        }
        // The coroutine dies. Its first error wins; a panic while dropping
        // what it leaves behind is its error only if it has no other.
        let suspended = yielded.is_some();
        let yielded_panic = discard(yielded);
        let result = match polled {
            // The unwind already dropped the frame's live locals; the body
            // may still be a hand-written future with a `Drop` of its own.
            Err(payload) => {
                let _ = self.drop_frame();
                Err(Error::Panic(PanicPayload::new(payload)))
            }
            Ok(Poll::Ready(value)) => {
                let frame_panic = self.drop_frame().err();
                match input_panic.or(yielded_panic) {
                    Some(payload) => {
                        discard(value);
                        Err(Error::Panic(payload))
                    }
                    None => match frame_panic {
                        Some(err) => {
                            discard(value);
                            Err(err)
                        }
                        None => Ok(Resumed::Return(value)),
                    },
                }
            }
            Ok(Poll::Pending) => {
                let _ = self.drop_frame();
                Err(match input_panic {
                    _ if clash => Error::SuspendClash,
                    // It suspended, but dropping the input it abandoned
                    // panicked.
                    Some(payload) if suspended => Error::Panic(payload),
                    _ => Error::ForeignAwait,
                })
            }
        };
        current::leave(&self.header, Status::Dead, entered);
        result
    }

    /// Drops the frame, catching a panicking destructor.
    fn drop_frame(&mut self) -> Result<(), Error> {
        PanicPayload::drop_caught(self.frame.take()).map_err(Error::Panic)
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
        let entered = current::enter(&self.header, false)?;
        self.header.set_closing(Closing::Unwind);
        let dropped = self.drop_frame();
        self.header.set_closing(Closing::No);
        current::leave(&self.header, Status::Dead, entered);
        dropped
    }

    /// A handle that observes this coroutine without owning it.
    pub fn handle(&self) -> Handle {
        Handle(self.header.clone())
    }
}

crate::resume::impl_shared_traits!(Coroutine);

impl<I, Y, R> fmt::Debug for Coroutine<I, Y, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("stackless::Coroutine")
            .field("id", &self.handle().id())
            .field("status", &self.header.status())
            .finish()
    }
}

/// Drops `value`, catching a panic of its destructor. The panic hook has
/// already reported such a panic; the payload is returned for the caller to
/// report as an error when it has none more telling.
fn discard<T>(value: T) -> Option<PanicPayload> {
    PanicPayload::drop_caught(value).err()
}

/// The body's way to suspend its coroutine (Lua's `coroutine.yield`):
/// `yielder.suspend(value).await`.
///
/// The body receives it by value and may lend `&Yielder` to async functions
/// it calls. It is neither `Send` nor `Sync`.
pub struct Yielder<I, Y> {
    /// The coroutine's header, through which the suspension finds the
    /// values of the resume polling it.
    header: Rc<Header>,
    /// Takes `Y`, gives `I`.
    _types: PhantomData<fn(Y) -> I>,
}

impl<I, Y> Yielder<I, Y> {
    /// Suspends the coroutine with `value` once awaited; the await returns
    /// the next resume's input.
    ///
    /// Awaiting it anywhere but in this coroutine's own body panics.
    pub fn suspend(&self, value: Y) -> Suspend<'_, I, Y> {
        Suspend {
            yielder: self,
            state: SuspendState::Start(value),
        }
    }
}

impl<I, Y> fmt::Debug for Yielder<I, Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("stackless::Yielder")
            .field("coroutine", &Handle(self.header.clone()))
            .finish()
    }
}

/// The future of one suspension, made by [`Yielder::suspend`].
#[must_use = "a suspension does nothing unless awaited"]
pub struct Suspend<'a, I, Y> {
    yielder: &'a Yielder<I, Y>,
    state: SuspendState<Y>,
}

/// Where a suspension is: not yet polled (holding its value), waiting for
/// the next resume, or finished.
enum SuspendState<Y> {
    Start(Y),
    Waiting,
    Done,
}

// No field is ever pinned: the value is moved out on the first poll.
impl<I, Y> Unpin for Suspend<'_, I, Y> {}

impl<I, Y> Future for Suspend<'_, I, Y> {
    type Output = I;

    #[inline]
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<I> {
        let this = self.get_mut();
        let header = &*this.yielder.header;
        match this.state {
            SuspendState::Start(_) => {
                let SuspendState::Start(value) =
                    std::mem::replace(&mut this.state, SuspendState::Waiting)
                else {
                    unreachable!("matched above")
                };
                // Hand the value to the resume; a second suspension in the
                // same poll is a clash, and its value is dropped here.
                let rejected = mailbox::with_slot(header, |slot: &mut Slot<I, Y>| {
                    if slot.yielded.is_some() {
                        slot.clash = true;
                        Some(value)
                    } else {
                        slot.yielded = Some(value);
                        None
                    }
                });
                drop(rejected);
                Poll::Pending
            }
            SuspendState::Waiting => {
                match mailbox::with_slot(header, |slot: &mut Slot<I, Y>| slot.input.take()) {
                    Some(input) => {
                        this.state = SuspendState::Done;
                        Poll::Ready(input)
                    }
                    None => Poll::Pending,
                }
            }
            SuspendState::Done => panic!("a suspension was polled after it completed"),
        }
    }
}

impl<I, Y> fmt::Debug for Suspend<'_, I, Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            SuspendState::Start(_) => "start",
            SuspendState::Waiting => "waiting",
            SuspendState::Done => "done",
        };
        f.debug_struct("Suspend").field("state", &state).finish()
    }
}
