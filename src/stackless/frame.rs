//! The body's frame: one heap allocation holding the body closure until the
//! first resume, then the future it returned, polled in place.
//!
//! The frame is owned through a raw pointer rather than a `Box`: a parked
//! suspension's address (see `exchange`) points into it between polls, and
//! moving a `Box` asserts that nothing else points into its allocation.
#![allow(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::Yielder;

/// What the frame of a coroutine of types `I`, `Y` and `R` can do, whatever
/// its body.
trait Body<I, Y, R> {
    /// Starts the body with its first input and polls it once; gives the
    /// input back if it had started already.
    fn start(self: Pin<&mut Self>, input: I, cx: &mut Context<'_>) -> Result<Poll<R>, I>;

    /// Polls the started body.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R>;
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

impl<F, Fut, I, Y, R> Body<I, Y, R> for Stage<F, Fut, I, Y>
where
    F: FnOnce(Yielder<I, Y>, I) -> Fut,
    Fut: Future<Output = R>,
{
    fn start(self: Pin<&mut Self>, input: I, cx: &mut Context<'_>) -> Result<Poll<R>, I> {
        // SAFETY: only the `Started` future is ever pinned; it is written in
        // place here and from then on only polled in place and dropped there.
        // What is moved out is the unpinned `Unstarted` data.
        let this = unsafe { self.get_unchecked_mut() };
        if !matches!(this, Stage::Unstarted(..)) {
            return Err(input);
        }
        let Stage::Unstarted(body, yielder) = mem::replace(this, Stage::Moving) else {
            unreachable!("matched above")
        };
        // If the closure panics, the stage stays `Moving`, with nothing to drop.
        *this = Stage::Started(body(yielder, input));
        // SAFETY: re-pinning what was pinned a moment ago.
        Ok(unsafe { Pin::new_unchecked(this) }.poll(cx))
    }

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        // SAFETY: a projection to the pinned future, which never moves.
        match unsafe { self.get_unchecked_mut() } {
            // SAFETY: as above.
            Stage::Started(future) => unsafe { Pin::new_unchecked(future) }.poll(cx),
            _ => unreachable!("polled before its start"),
        }
    }
}

/// The frame of a dead coroutine: nothing, and no allocation.
struct Gone;

impl<I, Y, R> Body<I, Y, R> for Gone {
    fn start(self: Pin<&mut Self>, input: I, _: &mut Context<'_>) -> Result<Poll<R>, I> {
        Err(input)
    }

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<R> {
        unreachable!("a dead coroutine is never polled")
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

    /// Starts the body with `input` and polls it once (see `Body::start`).
    pub(super) fn start(&mut self, input: I, cx: &mut Context<'_>) -> Result<Poll<R>, I> {
        self.pinned().start(input, cx)
    }

    /// Polls the started body.
    #[inline(always)]
    pub(super) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<R> {
        self.pinned().poll(cx)
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
