//! The bridge to async executors, shared by both backends: the future of a
//! coroutine run to its end ([`CoroutineFuture`]), the future of one resume
//! ([`ResumeFuture`]) and a generator as a `Stream` ([`IntoStream`]).
//!
//! Each backend gives its coroutines one primitive, a resume made by an
//! executor's poll ([`Polled::poll_resume`]): it resumes with the poll's
//! `Context` at hand, and when the body waits on a future (`coro::wait` in
//! a stackful one, a foreign `.await` in a stackless one) it comes back
//! `Pending`, leaving the coroutine *waiting* (see `header::WAITING`): only
//! the same poller goes on with it, by polling again without an input. The
//! rules of what to do with each outcome live here, once for both; the
//! backends write out the trait impls on their own types
//! (`stackful/wait.rs`, `stackless/poll.rs`), as they do for `Resume`.
//!
//! Nothing here may touch a coroutine except through that primitive,
//! `close` and `is_waiting`.

use std::fmt;
use std::task::{Context, Poll};

use crate::{Error, Resumed, Status};

/// What a resume made by an executor's poll comes to.
pub(crate) type Polling<Y, R> = Poll<Result<Resumed<Y, R>, Error>>;

/// A coroutine that an executor's poll can resume: what each backend gives
/// the adapters of this module.
pub(crate) trait Polled<I> {
    /// What the body suspends with.
    type Yield;
    /// What the body returns.
    type Return;

    /// Resumes the coroutine from a poll with `cx`: with `Some(input)` as
    /// `resume` does, or with `None` to go on with the wait the body is in.
    /// `Pending` if the body waits on a future; the coroutine is then
    /// waiting, and `cx`'s waker will be woken by that future.
    ///
    /// With `or_go_on`, a coroutine found waiting when given an input goes
    /// on with its wait (the input is dropped) instead of refusing it: what
    /// the future and the stream want, checked only when the resume is
    /// refused, off the path of every item.
    fn poll_resume(
        &mut self,
        cx: &mut Context<'_>,
        input: Option<I>,
        or_go_on: bool,
    ) -> Polling<Self::Yield, Self::Return>;

    /// True if the body waits on a future: the next poll goes on with it.
    fn is_waiting(&self) -> bool;

    /// The coroutine's status.
    #[cfg_attr(not(feature = "futures"), allow(dead_code))]
    fn status(&self) -> Status;

    /// Destroys the coroutine, as `close` does.
    fn close(&mut self) -> Result<(), Error>;
}

/// Resumes a coroutine with `()`, or polls it again if it waits.
#[inline(always)]
fn step<C: Polled<()>>(coroutine: &mut C, cx: &mut Context<'_>) -> Polling<C::Yield, C::Return> {
    coroutine.poll_resume(cx, Some(()), true)
}

// ---- the coroutine as a future --------------------------------------------

/// A coroutine that takes and suspends with `()`, run to its end by an
/// executor: what `.await` on a coroutine of either backend makes of it
/// (`IntoFuture`). Its output is the body's return value, or the error a
/// `resume` would give (a panic in the body is `Err(Error::Panic)`).
///
/// Each poll resumes the coroutine. It comes back when the body waits on a
/// future that is not ready (the stackful [`wait`](crate::wait), a stackless
/// body's `.await` of a timer, a socket, a channel), whose waker is the
/// poll's, or when the body suspends: a suspension with `()` is a yield to
/// the executor, which polls the coroutine again after the other tasks
/// ready to run (as `tokio::task::yield_now` does).
///
/// Dropping it destroys the coroutine as `close` does: the future the body
/// waits on is dropped first, then every live local. Polled again after it
/// has completed, it gives `Err(Error::Dead)`.
///
/// Coroutines are not `Send`, so neither is this future: spawn it on a
/// current-thread runtime or a `LocalSet` (`tokio::task::spawn_local`).
///
/// ```
/// # #[cfg(coro_stackful)] {
/// use std::time::Duration;
///
/// // Plain code, no async in sight, that waits for a timer.
/// fn pause(ms: u64) -> u64 {
///     coro::wait(tokio::time::sleep(Duration::from_millis(ms))).unwrap();
///     ms
/// }
///
/// let co = coro::Coroutine::new(|_, ()| pause(1) + pause(2));
/// let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// assert_eq!(rt.block_on(co.into_future()).unwrap(), 3);
/// # }
/// ```
///
/// It cannot be spawned on a multi-threaded runtime:
///
/// ```compile_fail
/// # #[cfg(coro_stackful)] {
/// let co = coro::Coroutine::new(|_, ()| 7);
/// tokio::task::spawn(co.into_future());
/// # }
/// # #[cfg(not(coro_stackful))] { compile_error!("stackless build") }
/// ```
///
/// ```compile_fail
/// use coro::stackless::{Coroutine, Yielder};
/// let co = Coroutine::new(|_: Yielder<(), ()>, ()| async { 7 });
/// tokio::task::spawn(std::future::IntoFuture::into_future(co));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct CoroutineFuture<C> {
    /// The coroutine; dropping it closes it.
    coroutine: C,
}

impl<C> CoroutineFuture<C> {
    pub(crate) fn new(coroutine: C) -> Self {
        CoroutineFuture { coroutine }
    }

    /// The coroutine behind the future.
    ///
    /// ```
    /// use std::future::IntoFuture;
    /// use coro::stackless::{Coroutine, Yielder};
    ///
    /// let future = Coroutine::new(|_: Yielder<(), ()>, ()| async { 1 }).into_future();
    /// assert_eq!(future.coroutine().status(), coro::Status::Suspended);
    /// ```
    pub fn coroutine(&self) -> &C {
        &self.coroutine
    }
}

/// One poll of a [`CoroutineFuture`].
#[inline]
pub(crate) fn poll_to_end<C: Polled<(), Yield = ()>>(
    this: &mut CoroutineFuture<C>,
    cx: &mut Context<'_>,
) -> Poll<Result<C::Return, Error>> {
    match step(&mut this.coroutine, cx) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Ok(Resumed::Yield(()))) => {
            // A yield to the executor: run again once the others had a turn.
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Poll::Ready(Ok(Resumed::Return(value))) => Poll::Ready(Ok(value)),
        Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
    }
}

impl<C: fmt::Debug> fmt::Debug for CoroutineFuture<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoroutineFuture")
            .field("coroutine", &self.coroutine)
            .finish()
    }
}

// ---- one resume as a future -----------------------------------------------

/// Where a [`ResumeFuture`] is.
enum Stage<I> {
    /// Not polled yet: the input to resume with.
    Start(I),
    /// Polled, and the body waits on a future: this future's next poll goes
    /// on with it, and dropping it closes the coroutine.
    Waiting,
    /// Completed.
    Done,
}

/// One resume of a coroutine by an executor, made by `resume_async` on a
/// coroutine of either backend: the same as [`resume`](crate::Resume::resume)
/// with the same statuses and errors, except that the body may wait on
/// futures while it runs (the stackful [`wait`](crate::wait), a stackless
/// body's `.await` of any future). Its output is what `resume` returns.
///
/// Dropping it while the body waits destroys the coroutine as `close` does
/// (the future the body waits on is dropped first): the body cannot go on
/// without that future's output. Dropped before its first poll or after it
/// completed, it leaves the coroutine alone. Polled again after it completed,
/// it gives `Err(Error::PolledAfterCompletion)`.
///
/// ```
/// # #[cfg(coro_stackful)] {
/// use coro::{Coroutine, Resumed};
///
/// // Hands out each number it receives, times the factor it was given last.
/// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
/// let mut scaler = Coroutine::new(move |y, mut factor: u32| {
///     while let Some(n) = coro::wait(rx.recv()).unwrap() {
///         factor = y.suspend(n * factor);
///     }
///     "channel closed"
/// });
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     // Sent by another task while the coroutine waits in `recv`.
///     tokio::spawn(async move {
///         tx.send(2).unwrap();
///         tx.send(3).unwrap();
///     });
///     assert_eq!(scaler.resume_async(10).await.unwrap(), Resumed::Yield(20));
///     assert_eq!(scaler.resume_async(100).await.unwrap(), Resumed::Yield(300));
///     assert_eq!(scaler.resume_async(1).await.unwrap(), Resumed::Return("channel closed"));
///     assert!(matches!(scaler.resume_async(1).await, Err(coro::Error::Dead)));
/// });
/// # }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct ResumeFuture<'a, C, I> {
    /// The coroutine, borrowed for as long as the resume lasts.
    coroutine: &'a mut C,
    /// Where the resume is.
    stage: Stage<I>,
    /// Closes the coroutine if it waits, for `Drop` (whose impl cannot have
    /// the bound that `close_waiting` needs).
    cancel: fn(&mut C),
}

// No pinning is needed: the coroutine's stack or frame has its own
// allocation, which the future only reaches through the `&mut`.
impl<C, I> Unpin for ResumeFuture<'_, C, I> {}

/// The future of a resume of `coroutine` with `input` by an executor.
pub(crate) fn resume_future<C: Polled<I>, I>(
    coroutine: &mut C,
    input: I,
) -> ResumeFuture<'_, C, I> {
    ResumeFuture {
        coroutine,
        stage: Stage::Start(input),
        cancel: close_waiting::<C, I>,
    }
}

/// Closes a coroutine that waits, on behalf of a dropped [`ResumeFuture`]
/// that left it so.
fn close_waiting<C: Polled<I>, I>(coroutine: &mut C) {
    if coroutine.is_waiting()
        && let Err(err) = coroutine.close()
    {
        err.discard();
    }
}

impl<C, I> Drop for ResumeFuture<'_, C, I> {
    fn drop(&mut self) {
        // The body cannot go on without the output of the future it waits
        // on, which goes first as the coroutine is closed.
        if matches!(self.stage, Stage::Waiting) {
            (self.cancel)(self.coroutine);
        }
    }
}

/// One poll of a [`ResumeFuture`].
#[inline]
pub(crate) fn poll_resume_future<C: Polled<I>, I>(
    this: &mut ResumeFuture<'_, C, I>,
    cx: &mut Context<'_>,
) -> Polling<C::Yield, C::Return> {
    let (polled, went_on) = match std::mem::replace(&mut this.stage, Stage::Done) {
        Stage::Start(input) => (this.coroutine.poll_resume(cx, Some(input), false), false),
        // Nothing else can reach the coroutine while this future borrows it.
        Stage::Waiting => (this.coroutine.poll_resume(cx, None, false), true),
        Stage::Done => return Poll::Ready(Err(Error::PolledAfterCompletion)),
    };
    // Waiting now, or still waiting after going on with the wait failed
    // (the nesting limit): the next poll goes on with it. A refusal of a
    // coroutine that waits for someone else leaves it to them.
    if polled.is_pending() || (went_on && this.coroutine.is_waiting()) {
        this.stage = Stage::Waiting;
    }
    polled
}

impl<C: fmt::Debug, I> fmt::Debug for ResumeFuture<'_, C, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            Stage::Start(_) => "not polled",
            Stage::Waiting => "waiting",
            Stage::Done => "completed",
        };
        f.debug_struct("ResumeFuture")
            .field("coroutine", &self.coroutine)
            .field("stage", &stage)
            .finish()
    }
}

// ---- a generator as a stream ----------------------------------------------

/// A generator as a `futures_core::Stream` over its yields, made by
/// `into_stream()` on a coroutine of either backend that takes `()`: the
/// async form of [`IntoIter`](crate::IntoIter), Lua's `coroutine.wrap` for an
/// executor.
///
/// Each poll resumes the coroutine; between two suspensions the body may
/// wait on futures (the stackful [`wait`](crate::wait), a stackless body's
/// `.await` of any future), and the stream is then pending until they are
/// ready. The return value ends the stream and is dropped; a panic in the
/// body is re-raised in the poller, and any other error (the nesting limit)
/// panics with its message, as the iterator does. Once ended it stays ended.
/// Dropping it destroys the coroutine, as `close` does.
///
/// ```
/// # #[cfg(coro_stackful)] {
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_core::Stream;
///
/// let mut evens = coro::Coroutine::new(|y, ()| {
///     for n in 0..3 {
///         coro::wait(tokio::task::yield_now()).unwrap(); // let others run
///         y.suspend(n * 2);
///     }
/// })
/// .into_stream();
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let got = rt.block_on(async {
///     let mut got = Vec::new();
///     while let Some(n) = poll_fn(|cx| Pin::new(&mut evens).poll_next(cx)).await {
///         got.push(n);
///     }
///     got
/// });
/// assert_eq!(got, [0, 2, 4]);
/// # }
/// ```
#[cfg(feature = "futures")]
#[must_use = "streams do nothing unless polled"]
pub struct IntoStream<C> {
    /// The coroutine; dropping it closes it.
    coroutine: C,
}

#[cfg(feature = "futures")]
impl<C> IntoStream<C> {
    pub(crate) fn new(coroutine: C) -> Self {
        IntoStream { coroutine }
    }

    /// The coroutine behind the stream.
    ///
    /// ```
    /// use coro::stackless::{Coroutine, Yielder};
    ///
    /// let stream = Coroutine::new(|y: Yielder<(), u8>, ()| async move { y.suspend(1).await })
    ///     .into_stream();
    /// assert_eq!(stream.coroutine().status(), coro::Status::Suspended);
    /// ```
    pub fn coroutine(&self) -> &C {
        &self.coroutine
    }

    /// The coroutine behind the stream, to poll.
    #[inline(always)]
    pub(crate) fn coroutine_mut(&mut self) -> &mut C {
        &mut self.coroutine
    }

    /// The coroutine behind the stream, for example to close it or to go on
    /// with plain resumes.
    ///
    /// ```
    /// use coro::Resumed;
    /// use coro::stackless::{Coroutine, Yielder};
    ///
    /// let stream = Coroutine::new(|y: Yielder<(), u8>, ()| async move { y.suspend(1).await })
    ///     .into_stream();
    /// let mut co = stream.into_coroutine();
    /// assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    /// ```
    pub fn into_coroutine(self) -> C {
        self.coroutine
    }
}

/// One poll of an [`IntoStream`] (the stackful backend's; the stackless one
/// has its own, `poll_item`).
#[cfg(feature = "futures")]
#[cfg_attr(not(coro_stackful), allow(dead_code))]
#[inline(always)]
pub(crate) fn poll_next<C: Polled<()>>(
    this: &mut IntoStream<C>,
    cx: &mut Context<'_>,
) -> Poll<Option<C::Yield>> {
    match step(&mut this.coroutine, cx) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Ok(Resumed::Yield(value))) => Poll::Ready(Some(value)),
        Poll::Ready(Ok(Resumed::Return(_))) => Poll::Ready(None),
        Poll::Ready(Err(err)) => stream_failed(err),
    }
}

/// The end of a stream whose coroutine failed with `err`: none after the
/// end, the body's panic re-raised, any other error a panic. Out of line,
/// and taking `err` by value: a reference into the poll's result would
/// keep the whole result, the yielded item too, in memory.
#[cfg(feature = "futures")]
#[cold]
#[inline(never)]
pub(crate) fn stream_failed<T>(err: Error) -> Poll<Option<T>> {
    match err {
        Error::Dead => Poll::Ready(None),
        Error::Panic(payload) => std::panic::resume_unwind(payload.into_inner()),
        err => panic!("{err}"),
    }
}

/// True once the stream has ended.
#[cfg(feature = "futures")]
pub(crate) fn is_terminated<C: Polled<()>>(this: &IntoStream<C>) -> bool {
    this.coroutine.status() == Status::Dead
}

#[cfg(feature = "futures")]
impl<C: fmt::Debug> fmt::Debug for IntoStream<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoStream")
            .field("coroutine", &self.coroutine)
            .finish()
    }
}

// ---- without a stackful backend -------------------------------------------

/// Waits on a future from plain code inside a stackful coroutine: the
/// stackful backend's [`wait`](crate::wait). Where coro has no stackful
/// backend (a target without its context switch, or the `stackful` feature
/// off) no coroutine can wait from plain code, and this only reports why,
/// with the errors the stackful backend gives in the same places. `future`
/// is dropped without being polled.
///
/// # Errors
/// - [`Error::OutsideCoroutine`] on a thread's own stack;
/// - [`Error::AcrossBoundary`] inside a (stackless) coroutine, whose body
///   awaits futures with `.await` instead.
///
/// ```
/// let err = coro::wait(std::future::ready(1)).unwrap_err();
/// assert!(matches!(err, coro::Error::OutsideCoroutine));
/// ```
#[cfg(not(coro_stackful))]
pub fn wait<F: std::future::Future>(future: F) -> Result<F::Output, Error> {
    drop(future);
    crate::chain::with_current(|header| match header {
        None => Err(Error::OutsideCoroutine),
        Some(_) => Err(Error::AcrossBoundary),
    })
}
