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

/// What one resume of the frame came to.
pub(super) enum Step<I, Y, R> {
    /// The body suspended with this value.
    Yield(Y),
    /// The body is done with, one way or another: the coroutine dies.
    Ended(Ending<I, R>),
}

/// How a body ended.
pub(super) enum Ending<I, R> {
    /// It returned.
    Return(R),
    /// It panicked, with this payload.
    Panic(Box<dyn Any + Send>),
    /// It waited on a future other than its own suspension.
    Foreign,
    /// Two of its suspensions tried to park in one poll.
    Clash,
    /// It had started, but the suspension it was parked at is gone (dropped
    /// by code outside the body): nothing was waiting for this input.
    Vanished(I),
}

/// What the frame of a coroutine of types `I`, `Y` and `R` can do, whatever
/// its body.
trait Body<I, Y, R> {
    /// Starts the body with `input`, or hands `input` to the suspension it is
    /// parked at, and polls it once. `header` is its coroutine's, which must
    /// be running.
    fn resume(self: Pin<&mut Self>, header: &Header, input: I) -> Step<I, Y, R>;

    /// As `resume`, for an executor's poll: polls with `cx`, and with no
    /// input goes on with a body that waits on a foreign future (see
    /// `stackless::poll`).
    fn poll_resume(
        self: Pin<&mut Self>,
        header: &Header,
        input: Option<I>,
        cx: &mut Context<'_>,
    ) -> Step<I, Y, R>;
}

/// A body before and after its start.
enum Stage<F, Fut, I, Y> {
    /// The closure and the `Yielder` it will be given. Never pinned: both
    /// are moved out by `start`.
    Unstarted(F, Yielder<I, Y>),
    /// The future the closure returned, pinned from here on.
    Started(Fut),
    /// Between the two, for the length of a move.
    Moving,
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
            Parked::Nothing => Step::Ended(Ending::Foreign),
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
            // Only `Moving`, left by a closure that panicked: the coroutine
            // died then, and is never resumed again.
            return Step::Ended(Ending::Vanished(input));
        }
        let Stage::Unstarted(body, yielder) = mem::replace(self, Stage::Moving) else {
            unreachable!("matched above")
        };
        // If the closure panics, the stage stays `Moving`, with nothing to
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

/// The frame of a dead coroutine: nothing, and no allocation.
struct Gone;

impl<I, Y, R> Body<I, Y, R> for Gone {
    fn resume(self: Pin<&mut Self>, _: &Header, input: I) -> Step<I, Y, R> {
        // A dead coroutine is never resumed; were it, nothing would wait.
        Step::Ended(Ending::Vanished(input))
    }

    fn poll_resume(
        self: Pin<&mut Self>,
        _: &Header,
        input: Option<I>,
        _: &mut Context<'_>,
    ) -> Step<I, Y, R> {
        match input {
            Some(input) => Step::Ended(Ending::Vanished(input)),
            None => unreachable!("a dead coroutine waits on nothing"),
        }
    }
}

/// Owns a body's frame; once the body is dropped, the zero-sized `Gone`,
/// so that a live frame needs no check.
pub(super) struct Frame<I, Y, R> {
    body: NonNull<dyn Body<I, Y, R>>,
}

/// A `Gone` frame, which owns no memory.
fn gone<I, Y, R>() -> NonNull<dyn Body<I, Y, R>> {
    NonNull::<Gone>::dangling()
}

impl<I: 'static, Y: 'static, R: 'static> Frame<I, Y, R> {
    /// Allocates the frame of `body`, which `yielder` will be handed to.
    pub(super) fn new<F, Fut>(body: F, yielder: Yielder<I, Y>) -> Self
    where
        F: FnOnce(Yielder<I, Y>, I) -> Fut + 'static,
        Fut: Future<Output = R> + 'static,
    {
        let stage: Box<dyn Body<I, Y, R>> =
            Box::new(Stage::<F, Fut, I, Y>::Unstarted(body, yielder));
        Frame {
            body: NonNull::from(Box::leak(stage)),
        }
    }
}

impl<I, Y, R> Frame<I, Y, R> {
    /// The pinned body. Its allocation never moves; only this frame owns it.
    #[inline(always)]
    fn pinned(&mut self) -> Pin<&mut dyn Body<I, Y, R>> {
        // SAFETY: the allocation is live until `drop` and is reached only
        // through `&mut self`; its contents are never moved out.
        unsafe { Pin::new_unchecked(self.body.as_mut()) }
    }

    /// Resumes the body with `input` (see `Body::resume`); `header` is its
    /// coroutine's, which must be running.
    #[inline(always)]
    pub(super) fn resume(&mut self, header: &Header, input: I) -> Step<I, Y, R> {
        self.pinned().resume(header, input)
    }

    /// Resumes the body for an executor's poll (see `Body::poll_resume`).
    #[inline]
    pub(super) fn poll_resume(
        &mut self,
        header: &Header,
        input: Option<I>,
        cx: &mut Context<'_>,
    ) -> Step<I, Y, R> {
        self.pinned().poll_resume(header, input, cx)
    }

    /// Drops the body and frees its memory; the frame is `Gone` from here
    /// on, even if a destructor panics.
    pub(super) fn clear(&mut self) {
        let body = mem::replace(&mut self.body, gone());
        // SAFETY: `body` was made by `Box::leak` in `new` (or is a dangling
        // `Gone`, which a box of a zero-sized type never frees), and is
        // dropped once: the frame no longer holds it. The box frees the
        // allocation even if a destructor inside panics.
        drop(unsafe { Box::from_raw(body.as_ptr()) });
    }
}

impl<I, Y, R> Drop for Frame<I, Y, R> {
    fn drop(&mut self) {
        self.clear();
    }
}

impl<I, Y, R> fmt::Debug for Frame<I, Y, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame").finish_non_exhaustive()
    }
}
