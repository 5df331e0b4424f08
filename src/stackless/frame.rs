//! The body's frame: one heap allocation holding the body closure until the
//! first resume, then the future it returned, polled in place.
//!
//! A resume makes one virtual call into the frame ([`Frame::resume`]), which
//! hands the input over, polls and takes what the body suspended with, all in
//! code compiled for this one body. So the compiler sees the suspension park
//! its value and the resume take it in the same function, and the `Context`
//! is built where the body's own code can see that nothing reads it.
//!
//! The frame is owned through a raw pointer rather than a `Box`: a parked
//! suspension's address (see `exchange`) points into it between polls, and
//! moving a `Box` asserts that nothing else points into its allocation.
#![allow(unsafe_code)]

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use super::Yielder;
use super::exchange::{self, Parked};
use crate::header::Header;

/// What one resume of the frame came to. (`pub`, as `Header` is: for the
/// hidden methods of `Body`, unnameable outside coro.)
#[allow(missing_debug_implementations)]
pub enum Step<I, Y, R> {
    /// The body suspended with this value.
    Yield(Y),
    /// The body is done with, one way or another: the coroutine dies.
    Ended(Ending<I, R>),
}

/// How a body ended.
#[allow(missing_debug_implementations)]
pub enum Ending<I, R> {
    /// It returned.
    Return(R),
    /// It panicked, with this payload.
    Panic(Box<dyn Any + Send>),
    /// It waited on a future other than its own suspension: pending, and
    /// nothing parked.
    Pending,
    /// Two of its suspensions tried to park in one poll.
    Clash,
    /// It had started, but the suspension it was parked at is gone (dropped
    /// by code outside the body): nothing was waiting for this input.
    Vanished(I),
}

/// The frame of a stackless coroutine's body, as a
/// [`Coroutine`](super::Coroutine)'s fourth type parameter names it.
///
/// [`Coroutine::new`](super::Coroutine::new) erases the body behind
/// `dyn Body<I, Y, R> + 'a`, so that every coroutine of the same `I`, `Y`
/// and `R` that borrows for `'a` has one type (with nothing borrowed, the
/// default `dyn Body<I, Y, R>`, which is `'static`);
/// [`Coroutine::typed`](super::Coroutine::typed) keeps the body's own type,
/// which implements `Body<I, Y, R>`. Only coro implements it: its methods
/// take types of coro's own.
pub trait Body<I, Y, R> {
    /// Starts the body with `input`, or hands `input` to the suspension it is
    /// parked at, and polls it once. `header` is its coroutine's, which must
    /// be running.
    #[doc(hidden)]
    fn resume(self: Pin<&mut Self>, header: &Header, input: I) -> Step<I, Y, R>;

    /// As `resume`, for an executor's poll: polls with `cx`, and with no
    /// input goes on with a body that waits on another future (see
    /// `stackless::poll`).
    #[doc(hidden)]
    fn poll_resume(
        self: Pin<&mut Self>,
        header: &Header,
        input: Option<I>,
        cx: &mut Context<'_>,
    ) -> Step<I, Y, R>;

    /// Drops the body in place, newest local first; from then on the frame
    /// is gone, even if a destructor panicked.
    #[doc(hidden)]
    fn clear(self: Pin<&mut Self>);
}

/// A body before and after its start.
pub(super) enum Stage<F, Fut, I, Y> {
    /// The closure and the `Yielder` it will be given. Never pinned: both
    /// are moved out by `start`.
    Unstarted(F, Yielder<I, Y>),
    /// The future the closure returned, pinned from here on.
    Started(Fut),
    /// Nothing: for the length of the move from one to the other, after a
    /// closure that panicked, and once the body is dropped (the coroutine is
    /// dead and never resumed again).
    Empty,
}

/// Polls `future` once, catching a panic; the waker does nothing, as nothing
/// but the coroutine's resume ever polls a body.
#[inline(always)]
fn poll_once<Fut: Future>(future: Pin<&mut Fut>) -> std::thread::Result<Poll<Fut::Output>> {
    panic::catch_unwind(AssertUnwindSafe(|| {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }))
}

/// Polls `future` once with an executor's `cx`, catching a panic.
#[inline(always)]
fn poll_with<Fut: Future>(
    future: Pin<&mut Fut>,
    cx: &mut Context<'_>,
) -> std::thread::Result<Poll<Fut::Output>> {
    panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
}

/// What a poll of the body of `header`'s coroutine came to.
#[inline(always)]
fn outcome<I, Y, R>(header: &Header, polled: std::thread::Result<Poll<R>>) -> Step<I, Y, R> {
    match polled {
        Ok(Poll::Pending) => match exchange::take::<I, Y>(header) {
            Parked::Value(value) => Step::Yield(value),
            Parked::Clash => Step::Ended(Ending::Clash),
            Parked::Nothing => Step::Ended(Ending::Pending),
        },
        Ok(Poll::Ready(value)) => Step::Ended(Ending::Return(value)),
        Err(payload) => Step::Ended(Ending::Panic(payload)),
    }
}

impl<F, Fut, I, Y, R> Body<I, Y, R> for Stage<F, Fut, I, Y>
where
    F: FnOnce(Yielder<I, Y>, I) -> Fut,
    Fut: Future<Output = R>,
{
    #[inline]
    fn resume(self: Pin<&mut Self>, header: &Header, input: I) -> Step<I, Y, R> {
        // SAFETY: only the `Started` future is ever pinned; it is written in
        // place by `start` and from then on only polled in place and dropped
        // there.
        let this = unsafe { self.get_unchecked_mut() };
        let Stage::Started(future) = this else {
            return this.start(header, input);
        };
        if let Err(input) = exchange::deliver::<I, Y>(header, input) {
            return Step::Ended(Ending::Vanished(input));
        }
        // SAFETY: a projection to the pinned future, which never moves.
        let polled = poll_once(unsafe { Pin::new_unchecked(future) });
        outcome::<I, Y, R>(header, polled)
    }

    #[inline]
    fn poll_resume(
        self: Pin<&mut Self>,
        header: &Header,
        input: Option<I>,
        cx: &mut Context<'_>,
    ) -> Step<I, Y, R> {
        // SAFETY: as in `resume`.
        let this = unsafe { self.get_unchecked_mut() };
        let Stage::Started(future) = this else {
            return match input {
                Some(input) => this.start_polled(header, input, cx),
                None => unreachable!("only a started body waits on a future"),
            };
        };
        if let Some(input) = input
            && let Err(input) = exchange::deliver::<I, Y>(header, input)
        {
            return Step::Ended(Ending::Vanished(input));
        }
        // SAFETY: as in `resume`.
        let polled = poll_with(unsafe { Pin::new_unchecked(future) }, cx);
        outcome::<I, Y, R>(header, polled)
    }

    fn clear(self: Pin<&mut Self>) {
        /// Leaves the stage `Empty` once its old contents are dropped, even
        /// if a destructor panics (the drop goes on with the other fields
        /// during the unwind, then this runs).
        struct Refill<F, Fut, I, Y>(*mut Stage<F, Fut, I, Y>);
        impl<F, Fut, I, Y> Drop for Refill<F, Fut, I, Y> {
            fn drop(&mut self) {
                // SAFETY: the stage's contents were dropped: it is
                // uninitialized memory of the right type.
                unsafe { self.0.write(Stage::Empty) }
            }
        }
        // SAFETY: the future is dropped where it was pinned, as `Pin`
        // requires, and never used again: the stage is `Empty` from here on.
        unsafe {
            let stage = std::ptr::from_mut(self.get_unchecked_mut());
            let _refill = Refill(stage);
            std::ptr::drop_in_place(stage);
        }
    }
}

impl<F, Fut, I, Y, R> Stage<F, Fut, I, Y>
where
    F: FnOnce(Yielder<I, Y>, I) -> Fut,
    Fut: Future<Output = R>,
{
    /// The first resume: calls the closure and polls the future it returns,
    /// with a waker that does nothing (a plain `resume`).
    #[cold]
    #[inline(never)]
    fn start(&mut self, header: &Header, input: I) -> Step<I, Y, R> {
        self.start_polled(header, input, &mut Context::from_waker(Waker::noop()))
    }

    /// The first resume, polled with `cx` (an executor's, or `start`'s
    /// no-op one): calls the closure and polls the future it returns.
    #[cold]
    #[inline(never)]
    fn start_polled(&mut self, header: &Header, input: I, cx: &mut Context<'_>) -> Step<I, Y, R> {
        if !matches!(self, Stage::Unstarted(..)) {
            // Only `Empty`, left by a closure that panicked or by `clear`:
            // the coroutine died then, and is never resumed again.
            return Step::Ended(Ending::Vanished(input));
        }
        let Stage::Unstarted(body, yielder) = mem::replace(self, Stage::Empty) else {
            unreachable!("matched above")
        };
        // If the closure panics, the stage stays `Empty`, with nothing to
        // drop.
        let started = panic::catch_unwind(AssertUnwindSafe(|| body(yielder, input)));
        let polled = match started {
            Ok(future) => {
                *self = Stage::Started(future);
                let Stage::Started(future) = self else {
                    unreachable!("written above")
                };
                // SAFETY: pinned from here on, in place (see `resume`).
                poll_with(unsafe { Pin::new_unchecked(future) }, cx)
            }
            Err(payload) => Err(payload),
        };
        outcome::<I, Y, R>(header, polled)
    }
}

/// Owns a body's frame: a heap allocation, which never moves, as the body
/// is pinned in it. `B` is the body's own type, a `Stage` (the typed form),
/// or `dyn Body` (the erased one).
pub(super) struct Frame<B: ?Sized> {
    body: NonNull<B>,
}

impl<F, Fut, I, Y> Frame<Stage<F, Fut, I, Y>> {
    /// Allocates the frame of `body`, which `yielder` will be handed to.
    pub(super) fn new(body: F, yielder: Yielder<I, Y>) -> Self
    where
        F: FnOnce(Yielder<I, Y>, I) -> Fut,
    {
        let stage = Box::new(Stage::<F, Fut, I, Y>::Unstarted(body, yielder));
        Frame {
            body: NonNull::from(Box::leak(stage)),
        }
    }

    /// The same frame behind `dyn Body`: the body's type erased.
    pub(super) fn erase<'a, R>(self) -> Frame<dyn Body<I, Y, R> + 'a>
    where
        Self: 'a,
        F: FnOnce(Yielder<I, Y>, I) -> Fut,
        Fut: Future<Output = R>,
    {
        let body: NonNull<dyn Body<I, Y, R> + 'a> = self.body;
        mem::forget(self);
        Frame { body }
    }
}

impl<B: ?Sized> Frame<B> {
    /// The pinned body. Its allocation never moves; only this frame owns it.
    #[inline(always)]
    fn pinned(&mut self) -> Pin<&mut B> {
        // SAFETY: the allocation is live until `drop` and is reached only
        // through `&mut self`; its contents are never moved out.
        unsafe { Pin::new_unchecked(self.body.as_mut()) }
    }

    /// Resumes the body with `input` (see `Body::resume`); `header` is its
    /// coroutine's, which must be running.
    #[inline(always)]
    pub(super) fn resume<I, Y, R>(&mut self, header: &Header, input: I) -> Step<I, Y, R>
    where
        B: Body<I, Y, R>,
    {
        self.pinned().resume(header, input)
    }

    /// Resumes the body for an executor's poll (see `Body::poll_resume`).
    #[inline(always)]
    pub(super) fn poll_resume<I, Y, R>(
        &mut self,
        header: &Header,
        input: Option<I>,
        cx: &mut Context<'_>,
    ) -> Step<I, Y, R>
    where
        B: Body<I, Y, R>,
    {
        self.pinned().poll_resume(header, input, cx)
    }

    /// Drops the body in place (see `Body::clear`); the memory stays until
    /// the frame is dropped.
    pub(super) fn clear<I, Y, R>(&mut self)
    where
        B: Body<I, Y, R>,
    {
        self.pinned().clear();
    }
}

impl<B: ?Sized> Drop for Frame<B> {
    fn drop(&mut self) {
        // SAFETY: `body` was made by `Box::leak` in `new` and is dropped
        // once, here. A body not cleared yet is dropped in place by the box;
        // the box frees the allocation even if a destructor inside panics.
        drop(unsafe { Box::from_raw(self.body.as_ptr()) });
    }
}

impl<B: ?Sized> fmt::Debug for Frame<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame").finish_non_exhaustive()
    }
}
