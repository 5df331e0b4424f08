//! Stackless coroutines under an executor: the body polled with the
//! executor's `Context`, so that it may `.await` any future.
//!
//! Under a plain `resume`, the frame is polled with a waker that does
//! nothing, and a poll that comes back `Pending` with no suspension parked
//! means the body awaits something that nobody will ever wake: the
//! coroutine dies with `Error::NeedsExecutor`. Under an executor's poll
//! ([`Coroutine::poll_resume`]) the frame is polled with the poll's own
//! `Context`, so the same outcome means that the body waits on a future
//! that will wake the executor's task: the coroutine is left waiting (see
//! `header::WAITING`), the poll returns `Pending`, and the next poll polls
//! the frame again without handing over an input.
//!
//! A waiting coroutine's `Header::waiting` is left `NESTED`, not null: it is
//! not running, so a suspension polled outside its resume (one whose
//! `Yielder` was moved into another task) must find that out, as the
//! exchange's cold path does (see `exchange`).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::frame::{Ending, Step};
use super::{Body, Coroutine};
use crate::chain::{self, NESTED};
use crate::future::{self, CoroutineFuture, Polled, Polling, ResumeFuture};
use crate::{Error, Resumed, Status};

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> Coroutine<I, Y, R, B> {
    /// A resume made by an executor's poll with `cx`: with `Some(input)`, as
    /// [`resume`](Self::resume); with `None`, polls again a body that waits
    /// on a future. `Pending` when the body waits: the coroutine is left
    /// waiting.
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
            Ok(entered) => (entered, input),
            // Not told by returning the whole result from out of line, which
            // would make the suspension's result go through memory too.
            Err(err) => match chain::go_on_waiting(&self.header, err, or_go_on) {
                Ok(entered) => (entered, None),
                Err(err) => return Poll::Ready(Err(err)),
            },
        };
        match self.frame.poll_resume(&self.header, input, cx) {
            Step::Yield(value) => {
                chain::leave(&self.header, Status::Suspended, entered);
                Poll::Ready(Ok(Resumed::Yield(value)))
            }
            // Pending, and no suspension parked: the body awaits a future
            // that has the poll's waker.
            Step::Ended(Ending::Pending) => {
                self.header.set_waiting(NESTED);
                chain::leave_waiting(&self.header, entered);
                Poll::Pending
            }
            // Rebuilt here, as in `resume`.
            Step::Ended(ending) => Poll::Ready(self.ended(ending, entered).map(Resumed::Return)),
        }
    }

    /// Resumes the coroutine from async code (Lua's `coroutine.resume` for
    /// an executor): the same as [`resume`](Self::resume), with the same
    /// statuses and errors, except that the body may `.await` any future
    /// (a timer, a socket, a channel), not only its own suspensions: no
    /// [`Error::NeedsExecutor`] here. See [`ResumeFuture`] for what dropping
    /// it does.
    ///
    /// ```
    /// use coro::Resumed;
    /// use coro::stackless::{Coroutine, Yielder};
    ///
    /// let mut doubler = Coroutine::new(|y: Yielder<u32, u32>, mut n: u32| async move {
    ///     loop {
    ///         tokio::task::yield_now().await; // another future
    ///         n = y.suspend(n * 2).await;
    ///     }
    /// });
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     assert_eq!(doubler.resume_async(4).await.unwrap(), Resumed::Yield(8));
    ///     assert_eq!(doubler.resume_async(5).await.unwrap(), Resumed::Yield(10));
    /// });
    /// // The plain resume has no executor to wake it:
    /// assert!(matches!(doubler.resume(6), Err(coro::Error::NeedsExecutor)));
    /// ```
    pub fn resume_async(&mut self, input: I) -> ResumeFuture<'_, Self, I> {
        future::resume_future(self, input)
    }
}

#[cfg(feature = "futures")]
impl<Y, R, B: ?Sized + Body<(), Y, R>> Coroutine<(), Y, R, B> {
    /// The generator as a `futures_core::Stream` over its yields (Lua's
    /// `coroutine.wrap` for an executor): see [`IntoStream`](crate::IntoStream).
    /// Between two suspensions the body may `.await` any future.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::pin::Pin;
    /// use std::time::Duration;
    /// use coro::stackless::{Coroutine, Yielder};
    /// use futures_core::Stream;
    ///
    /// let mut ticks = Coroutine::new(|y: Yielder<(), u32>, ()| async move {
    ///     for n in 1..=3 {
    ///         tokio::time::sleep(Duration::from_millis(1)).await;
    ///         y.suspend(n).await;
    ///     }
    /// })
    /// .into_stream();
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    /// let got = rt.block_on(async {
    ///     let mut got = Vec::new();
    ///     while let Some(n) = poll_fn(|cx| Pin::new(&mut ticks).poll_next(cx)).await {
    ///         got.push(n);
    ///     }
    ///     got
    /// });
    /// assert_eq!(got, [1, 2, 3]);
    /// ```
    pub fn into_stream(self) -> crate::IntoStream<Self> {
        crate::IntoStream::new(self)
    }
}

// What both backends implement word for word on top of `poll_resume`: the
// adapters' trait, `IntoFuture`, and the adapters' `Future` and `Stream`.
// The stackful backend's, in `src/stackful/wait.rs`, are the same.

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
        self.get_mut().coroutine_mut().poll_item(cx)
    }
}

#[cfg(feature = "futures")]
impl<Y, R, B: ?Sized + Body<(), Y, R>> Coroutine<(), Y, R, B> {
    /// One item of the stream: `poll_resume` with `()`, going on with a
    /// wait, but ending in the stream's own answer rather than in a resume's
    /// result matched again (what `future::poll_next` does for the stackful
    /// backend), so that the item goes straight from the suspension to the
    /// consumer.
    #[inline(always)]
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Y>> {
        let (entered, input) = match chain::enter(&self.header, true) {
            Ok(entered) => (entered, Some(())),
            Err(err) => match chain::go_on_waiting(&self.header, err, true) {
                Ok(entered) => (entered, None),
                Err(err) => return future::stream_failed(err),
            },
        };
        match self.frame.poll_resume(&self.header, input, cx) {
            Step::Yield(value) => {
                chain::leave(&self.header, Status::Suspended, entered);
                Poll::Ready(Some(value))
            }
            // As in `poll_resume`: the body awaits a future that has the
            // poll's waker.
            Step::Ended(Ending::Pending) => {
                self.header.set_waiting(NESTED);
                chain::leave_waiting(&self.header, entered);
                Poll::Pending
            }
            Step::Ended(ending) => match self.ended(ending, entered) {
                Ok(_) => Poll::Ready(None),
                Err(err) => future::stream_failed(err),
            },
        }
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
