//! Stackful coroutines under an executor: [`wait`], which suspends a
//! coroutine's whole stack while a future is pending, and the resume made
//! by an executor's poll that it needs.
//!
//! A poll that resumes a coroutine ([`Coroutine::poll_resume`]) records the
//! waker of its `Context` in the coroutine's header for as long as the
//! coroutine runs (`Header::poll_waker`). `wait` in that coroutine (the
//! chain's running one) polls its future with a clone of that waker; while
//! the future is pending it switches out as a suspension does, but with a
//! null value word, which no suspension passes (it passes the address of its
//! value). The poll sees it, leaves the coroutine waiting (see
//! `header::WAITING`) and returns `Pending`; its next poll switches back in
//! with no input, and `wait` polls the future again with that poll's waker.
//!
//! Why a clone of the waker, in `wait`'s own frame: the future's `poll` may
//! itself suspend the coroutine (a `Yielder` reached from a `poll_fn`, a
//! nested `wait`), and its `&mut Context` must still point at something alive
//! when it is resumed, by another poll, maybe much later, or unwound by
//! `close`. The executor's `Context` is gone by then; `wait`'s frame is not.
//!
//! Who may wait: only code on the stack of the coroutine that the latest
//! poll resumed, while it runs. A coroutine resumed by a plain `resume` has
//! no executor to return `Pending` to, even when its resumer has one: like
//! Lua's `yield`, a wait suspends the running coroutine only, and its
//! resumer's `resume` cannot take a `Pending` (`Error::NotPolled`). To wait
//! in a nested coroutine, resume it with `resume_async` under `wait`.
//!
//! This module owns `Header::poll_waker`; it may not touch a suspension's
//! own values, which stay `mod.rs`'s.

use std::future::{Future, IntoFuture};
use std::mem::ManuallyDrop;
use std::pin::{Pin, pin};
use std::ptr;
use std::task::{Context, Poll, Waker};

use super::{Body, Coroutine, RESUMING, arch, asan, interrupted, word};
use crate::chain;
use crate::future::{self, CoroutineFuture, Polled, Polling, ResumeFuture};
use crate::header::{Header, SUSPENDED, WAITING};
use crate::{Error, Resumed, Status};

/// `Header::waiting` of a stackful coroutine while its `wait` has switched
/// out to the poll (the field is a stackless coroutine's otherwise): the
/// switch's value word says nothing, as a suspension may pass any word.
const WAITED: *mut () = ptr::without_provenance_mut(4);

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> Coroutine<I, Y, R, B> {
    /// A resume made by an executor's poll with `cx`: with `Some(input)`, as
    /// [`resume`](Self::resume); with `None`, goes on with the `wait` the body
    /// is in. `Pending` when the body waits: the coroutine is left waiting.
    #[inline(always)]
    fn poll_resume(
        &mut self,
        cx: &mut Context<'_>,
        input: Option<I>,
        or_go_on: bool,
    ) -> Polling<Y, R> {
        let entered = match input {
            Some(_) => chain::enter(&self.header, true),
            None => chain::enter_waiting(&self.header),
        };
        let (entered, input) = match entered {
            Ok(entered) => (entered.switching(), input),
            // Not told by returning the whole result from out of line, which
            // would make the suspension's result go through memory too.
            Err(err) => match chain::go_on_waiting(&self.header, err, or_go_on) {
                Ok(entered) => (entered.switching(), None),
                Err(err) => return Poll::Ready(Err(err)),
            },
        };
        // As in `resume`: a panic already in flight is not the
        // coroutine's own.
        if std::thread::panicking() {
            self.resumed_panicking();
        }
        let input = input.map(ManuallyDrop::new);
        // A wait takes no input: its word is never read.
        let word = input.as_ref().map_or(0, word::send);
        self.header.set_poll_waker(cx.waker());
        // SAFETY: the coroutine is suspended (checked by `enter`, or waiting,
        // checked by `enter_waiting`), so its record holds its continuation; the
        // other side reads the input, if any, exactly once.
        let (mut value, mut sp) = unsafe { self.switch_in(word, RESUMING) };
        // As in `resume`: a suspension or a wait while a panic unwinds the
        // coroutine's own stack is refused (see `Coroutine::refuse`).
        if !sp.is_null() && std::thread::panicking() {
            (value, sp) = self.refuse(value, sp);
        }
        self.header.set_poll_waker(ptr::null());
        if sp.is_null() {
            // SAFETY: a finishing coroutine passes the address of its completion.
            return Poll::Ready(unsafe { self.finished(value, entered) }.map(Resumed::Return));
        }
        self.saved.sp = sp;
        if self.header.waiting() == WAITED {
            self.header.set_waiting(ptr::null_mut());
            chain::leave_switched(&self.header, WAITING, entered);
            return Poll::Pending;
        }
        chain::leave_switched(&self.header, SUSPENDED, entered);
        // SAFETY: a suspension passes its value's word (see `word`), and
        // never reads the value again.
        Poll::Ready(Ok(Resumed::Yield(unsafe { word::read::<Y>(value) })))
    }

    /// Resumes the coroutine from async code (Lua's `coroutine.resume` for
    /// an executor): the same as [`resume`](Self::resume), with the same
    /// statuses and errors, except that the body may [`wait`] on futures
    /// while it runs. See [`ResumeFuture`] for what dropping it does.
    ///
    /// ```
    /// use coro::{Coroutine, Resumed};
    ///
    /// let mut doubler = Coroutine::new(|y, mut n: u32| loop {
    ///     coro::wait(tokio::task::yield_now()).unwrap();
    ///     n = y.suspend(n * 2);
    /// });
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     assert_eq!(doubler.resume_async(4).await.unwrap(), Resumed::Yield(8));
    ///     assert_eq!(doubler.resume_async(5).await.unwrap(), Resumed::Yield(10));
    /// });
    /// ```
    pub fn resume_async(&mut self, input: I) -> ResumeFuture<'_, Self, I> {
        future::resume_future(self, input)
    }
}

#[cfg(feature = "futures")]
impl<Y, R, B: ?Sized + Body<(), Y, R>> Coroutine<(), Y, R, B> {
    /// The generator as a `futures_core::Stream` over its yields (Lua's
    /// `coroutine.wrap` for an executor): see [`IntoStream`](crate::IntoStream).
    /// Between two suspensions the body may [`wait`] on futures.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::pin::Pin;
    /// use futures_core::Stream;
    ///
    /// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<&str>();
    /// let words = coro::Coroutine::new(move |y, ()| {
    ///     while let Some(line) = coro::wait(rx.recv()).unwrap() {
    ///         line.split(' ').for_each(|word| y.suspend(word));
    ///     }
    /// });
    /// let mut words = words.into_stream();
    /// tx.send("to be").unwrap();
    /// tx.send("or not").unwrap();
    /// drop(tx);
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let got = rt.block_on(async {
    ///     let mut got = Vec::new();
    ///     while let Some(w) = poll_fn(|cx| Pin::new(&mut words).poll_next(cx)).await {
    ///         got.push(w);
    ///     }
    ///     got
    /// });
    /// assert_eq!(got, ["to", "be", "or", "not"]);
    /// ```
    pub fn into_stream(self) -> crate::IntoStream<Self> {
        crate::IntoStream::new(self)
    }
}

/// Waits for `future` from any depth of plain calls in a stackful coroutine
/// that an executor is polling, and returns its output.
///
/// The coroutine is polled when it is awaited ([`IntoFuture`]), when its
/// stream is polled (`into_stream`), or by
/// [`resume_async`](Coroutine::resume_async). `wait` polls `future` with the
/// waker of that poll; while it is pending the coroutine's whole stack
/// suspends, the poll returns `Pending`, and the executor polls again once
/// the future wakes it. Other tasks run meanwhile. A suspension inside the
/// coroutine is a suspension as usual: `wait` is for the executor what
/// [`suspend`](crate::suspend) is for the resumer.
///
/// # Errors
/// Returned at once, with `future` dropped unpolled:
/// - [`Error::OutsideCoroutine`] on a thread's own stack;
/// - [`Error::AcrossBoundary`] in a stackless coroutine's synchronous code
///   (its body `.await`s instead), while the coroutine is being closed, or
///   while a panic unwinds it;
/// - [`Error::NotPolled`] in a coroutine resumed by a plain `resume`, even
///   one whose resumer an executor polls: as Lua's `yield` suspends only the
///   running coroutine, not the one that resumed it, a plain `resume` has no
///   way to take a `Pending`. Resume such a nested coroutine with
///   `coro::wait(inner.resume_async(input))` instead.
///
/// A panic in `future`'s `poll` unwinds the coroutine as any other panic.
/// If the coroutine is closed (its future or stream dropped) while it waits,
/// `future` is dropped first, then the rest of the stack unwinds.
///
/// ```
/// use std::time::Duration;
///
/// // A plain recursive function: no async, no executor in sight.
/// fn countdown(n: u32, log: &mut Vec<u32>) {
///     if n > 0 {
///         coro::wait(tokio::time::sleep(Duration::from_millis(1))).unwrap();
///         log.push(n);
///         countdown(n - 1, log);
///     }
/// }
///
/// let co = coro::Coroutine::new(|_, ()| {
///     let mut log = Vec::new();
///     countdown(3, &mut log);
///     log
/// });
/// let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// assert_eq!(rt.block_on(co.into_future()).unwrap(), [3, 2, 1]);
///
/// // Where no executor polls: an error, never a hang.
/// assert!(matches!(coro::wait(async {}), Err(coro::Error::OutsideCoroutine)));
/// let mut plain = coro::Coroutine::<(), (), _>::new(|_, ()| coro::wait(async {}).map_err(|e| e.to_string()));
/// assert_eq!(
///     plain.resume(()).unwrap().returned().unwrap().unwrap_err(),
///     "attempt to wait in a coroutine that no executor polls"
/// );
/// ```
pub fn wait<F: Future>(future: F) -> Result<F::Output, Error> {
    let (header, waker) = polled_coroutine()?;
    // SAFETY: the header outlives every run of its coroutine, and `wait`
    // runs on its stack.
    let header = unsafe { &*header };
    let mut future = pin!(future);
    // SAFETY: the poll that recorded the waker is running this coroutine.
    let mut waker = unsafe { &*waker }.clone();
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            return Ok(output);
        }
        // SAFETY: we are on the running coroutine's stack (checked by
        // `polled_coroutine`; the future's poll, on the same stack, came
        // back), and pass no value, which the poll knows not to read.
        let leaving = asan::suspend(header);
        // The poll learns from the header that this is a wait.
        header.set_waiting(WAITED);
        // SAFETY: as above.
        let (_, flag) = unsafe { arch::switch_out(0, header.link()) };
        asan::arrived(header, Some(leaving));
        if flag != RESUMING {
            interrupted(header, flag, ManuallyDrop::new(()));
        }
        // Only a poll goes on with a waiting coroutine (see
        // `chain::enter_waiting`), and it recorded its waker: take it if the
        // task's has changed.
        let current = header.poll_waker();
        // SAFETY: non-null, it is the waker of the poll running us.
        if let Some(current) = unsafe { current.as_ref() }
            && !waker.will_wake(current)
        {
            waker = current.clone();
        }
    }
}

/// The running coroutine's header and the waker of the poll running it, if
/// it may wait: stackful, not closing or unwinding, and resumed by a poll.
fn polled_coroutine() -> Result<(*const Header, *const Waker), Error> {
    chain::with_current(|header| {
        let header = header.ok_or(Error::OutsideCoroutine)?;
        if header.stack_top().is_null() || !header.can_suspend() {
            return Err(Error::AcrossBoundary);
        }
        let waker = header.poll_waker();
        if waker.is_null() {
            return Err(Error::NotPolled);
        }
        Ok((header as *const Header, waker))
    })
}

// What both backends implement word for word on top of `poll_resume`: the
// adapters' trait, `IntoFuture`, and the adapters' `Future` and `Stream`.
// The stackless backend's, in `src/stackless/poll.rs`, are the same.

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> Polled<I> for Coroutine<I, Y, R, B> {
    type Yield = Y;
    type Return = R;

    #[inline(always)]
    fn poll_resume(
        &mut self,
        cx: &mut Context<'_>,
        input: Option<I>,
        or_go_on: bool,
    ) -> Polling<Y, R> {
        Coroutine::poll_resume(self, cx, input, or_go_on)
    }

    #[inline]
    fn is_waiting(&self) -> bool {
        self.header.is_waiting()
    }

    fn status(&self) -> Status {
        Coroutine::status(self)
    }

    fn close(&mut self) -> Result<(), Error> {
        Coroutine::close(self)
    }
}

impl<R, B: ?Sized + Body<(), (), R>> IntoFuture for Coroutine<(), (), R, B> {
    type Output = Result<R, Error>;
    type IntoFuture = CoroutineFuture<Self>;

    /// The coroutine run to its end by an executor: see [`CoroutineFuture`].
    fn into_future(self) -> CoroutineFuture<Self> {
        CoroutineFuture::new(self)
    }
}

impl<R, B: ?Sized + Body<(), (), R>> Future for CoroutineFuture<Coroutine<(), (), R, B>> {
    type Output = Result<R, Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        future::poll_to_end(self.get_mut(), cx)
    }
}

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> Future for ResumeFuture<'_, Coroutine<I, Y, R, B>, I> {
    type Output = Result<Resumed<Y, R>, Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        future::poll_resume_future(self.get_mut(), cx)
    }
}

#[cfg(feature = "futures")]
impl<Y, R, B: ?Sized + Body<(), Y, R>> futures_core::Stream
    for crate::IntoStream<Coroutine<(), Y, R, B>>
{
    type Item = Y;

    #[inline(always)]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Y>> {
        future::poll_next(self.get_mut(), cx)
    }
}

#[cfg(feature = "futures")]
impl<Y, R, B: ?Sized + Body<(), Y, R>> futures_core::FusedStream
    for crate::IntoStream<Coroutine<(), Y, R, B>>
{
    fn is_terminated(&self) -> bool {
        future::is_terminated(self)
    }
}
