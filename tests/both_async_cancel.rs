//! Cancellation: a coroutine driven by an executor is dropped after every
//! possible number of polls (so at every suspension point and every wait),
//! through each of its futures (`IntoFuture`, `resume_async`,
//! `into_stream`), in both backends. Every value made is dropped exactly
//! once, and those alive when the future goes are dropped newest first:
//! the future the body waits on, then the locals.

mod common;

use std::future::IntoFuture;
use std::task::Waker;

use common::{CountingWaker, Log, Noisy, PendingFor, poll_with};
use coro::{Resume, Resumed};

/// A value that logs `+name` when made and `name` when dropped.
fn probe(log: &Log, name: &str) -> Noisy {
    log.push(format!("+{name}"));
    log.noisy(name)
}

/// Checks that the values alive after the first `before` entries of the
/// log are exactly those dropped after them, newest first, and that nothing
/// was dropped twice or never.
#[track_caller]
fn check(log: &Log, before: usize, what: &str) {
    let entries = log.entries();
    let mut live: Vec<&str> = Vec::new();
    for entry in &entries[..before] {
        match entry.strip_prefix('+') {
            Some(made) => live.push(made),
            None => {
                let at = live.iter().position(|l| l == entry);
                let at = at.unwrap_or_else(|| panic!("{what}: {entry} dropped twice: {entries:?}"));
                live.remove(at);
            }
        }
    }
    live.reverse();
    let dropped: Vec<&str> = entries[before..].iter().map(String::as_str).collect();
    assert_eq!(dropped, live, "{what}: {entries:?}");
}

/// Polls a future up to `budget` times; true if it completed.
fn drive<F: std::future::Future + Unpin>(
    future: &mut F,
    budget: &mut usize,
    waker: &Waker,
) -> bool {
    while *budget > 0 {
        *budget -= 1;
        if poll_with(future, waker).is_ready() {
            return true;
        }
    }
    false
}

/// Runs `make`'s coroutine to completion through `IntoFuture`, dropping it
/// after `polls` polls; true if it had completed by then.
fn cancel_future<C>(make: &dyn Fn(&Log) -> C, polls: usize, what: &str) -> bool
where
    C: IntoFuture,
    C::IntoFuture: Unpin,
{
    let log = Log::new();
    let (_, waker) = CountingWaker::new();
    let mut future = make(&log).into_future();
    let mut budget = polls;
    let done = drive(&mut future, &mut budget, &waker);
    let before = log.len();
    drop(future);
    check(&log, before, &format!("{what}, IntoFuture, {polls} polls"));
    done
}

/// The future of one `resume_async` of a generator of either backend.
type Resuming<'a> =
    Box<dyn std::future::Future<Output = Result<Resumed<u32, ()>, coro::Error>> + Unpin + 'a>;

/// The same through `resume_async`, one resume after another: the drop
/// comes either inside a resume (which closes the coroutine) or between two.
fn cancel_resumes<C>(
    make: &dyn Fn(&Log) -> C,
    resume: for<'a> fn(&'a mut C) -> Resuming<'a>,
    polls: usize,
    what: &str,
) -> bool
where
    C: Resume<(), Yield = u32, Return = ()>,
{
    let log = Log::new();
    let (_, waker) = CountingWaker::new();
    let mut co = make(&log);
    let mut budget = polls;
    let mut done = false;
    let mut before = None;
    while !done {
        let mut future = resume(&mut co);
        if !drive(&mut future, &mut budget, &waker) {
            before = Some(log.len());
            drop(future);
            break;
        }
        drop(future);
        done = co.status() == coro::Status::Dead;
        if budget == 0 {
            break;
        }
    }
    let before = before.unwrap_or(log.len());
    drop(co);
    check(
        &log,
        before,
        &format!("{what}, resume_async, {polls} polls"),
    );
    done
}

/// The same through `into_stream`.
#[cfg(feature = "futures")]
fn cancel_stream<S: futures_core::Stream<Item = u32> + Unpin>(
    make: &dyn Fn(&Log) -> S,
    polls: usize,
    what: &str,
) -> bool {
    let log = Log::new();
    let (_, waker) = CountingWaker::new();
    let mut stream = make(&log);
    let mut done = false;
    for _ in 0..polls {
        let polled =
            std::pin::Pin::new(&mut stream).poll_next(&mut std::task::Context::from_waker(&waker));
        if let std::task::Poll::Ready(None) = polled {
            done = true;
            break;
        }
    }
    let before = log.len();
    drop(stream);
    check(&log, before, &format!("{what}, into_stream, {polls} polls"));
    done
}

/// Calls `cancel` with 0, 1, 2... polls until the coroutine completes
/// within them; returns how many polls that took.
fn every_point(mut cancel: impl FnMut(usize) -> bool) -> usize {
    (0..100).find(|&polls| cancel(polls)).expect("completes")
}

#[cfg(coro_stackful)]
mod stackful {
    use super::*;
    use coro::Coroutine;

    fn wait_holding(log: &Log, name: &str, pending: usize) {
        coro::wait(PendingFor {
            n: pending,
            held: probe(log, name),
        })
        .unwrap();
    }

    fn generator(log: &Log) -> Coroutine<(), u32, ()> {
        let log = log.clone();
        Coroutine::new(move |y, ()| {
            let _a = probe(&log, "a");
            wait_holding(&log, "f1", 1);
            let _b = probe(&log, "b");
            y.suspend(1);
            let _c = probe(&log, "c");
            wait_holding(&log, "f2", 2);
            y.suspend(2);
            let _d = probe(&log, "d");
            wait_holding(&log, "f3", 1);
        })
    }

    fn task(log: &Log) -> Coroutine<(), (), ()> {
        let log = log.clone();
        Coroutine::new(move |y, ()| {
            let _a = probe(&log, "a");
            wait_holding(&log, "f1", 1);
            let _b = probe(&log, "b");
            y.suspend(()); // a yield to the executor
            wait_holding(&log, "f2", 3);
            let _c = probe(&log, "c");
        })
    }

    #[test]
    fn dropping_the_future_at_every_point() {
        let polls = every_point(|polls| cancel_future(&task, polls, "stackful"));
        assert_eq!(polls, 6, "five pending polls, then the end");
    }

    #[test]
    fn dropping_a_resume_future_or_the_coroutine_at_every_point() {
        let polls = every_point(|polls| {
            cancel_resumes(
                &generator,
                |co| Box::new(co.resume_async(())),
                polls,
                "stackful",
            )
        });
        assert_eq!(polls, 7);
    }

    #[cfg(feature = "futures")]
    #[test]
    fn dropping_the_stream_at_every_point() {
        let polls = every_point(|polls| {
            cancel_stream(&|log| generator(log).into_stream(), polls, "stackful")
        });
        assert_eq!(polls, 7);
    }
}

mod stackless {
    use super::*;
    use coro::stackless::{Coroutine, Yielder};

    async fn wait_holding(log: &Log, name: &str, pending: usize) {
        PendingFor {
            n: pending,
            held: probe(log, name),
        }
        .await;
    }

    fn generator(log: &Log) -> Coroutine<(), u32, ()> {
        let log = log.clone();
        Coroutine::new(move |y: Yielder<(), u32>, ()| async move {
            let _a = probe(&log, "a");
            wait_holding(&log, "f1", 1).await;
            let _b = probe(&log, "b");
            y.suspend(1).await;
            let _c = probe(&log, "c");
            wait_holding(&log, "f2", 2).await;
            y.suspend(2).await;
            let _d = probe(&log, "d");
            wait_holding(&log, "f3", 1).await;
        })
    }

    fn task(log: &Log) -> Coroutine<(), (), ()> {
        let log = log.clone();
        Coroutine::new(move |y: Yielder<(), ()>, ()| async move {
            let _a = probe(&log, "a");
            wait_holding(&log, "f1", 1).await;
            let _b = probe(&log, "b");
            y.suspend(()).await;
            wait_holding(&log, "f2", 3).await;
            let _c = probe(&log, "c");
        })
    }

    #[test]
    fn dropping_the_future_at_every_point() {
        let polls = every_point(|polls| cancel_future(&task, polls, "stackless"));
        assert_eq!(polls, 6);
    }

    #[test]
    fn dropping_a_resume_future_or_the_coroutine_at_every_point() {
        let polls = every_point(|polls| {
            cancel_resumes(
                &generator,
                |co| Box::new(co.resume_async(())),
                polls,
                "stackless",
            )
        });
        assert_eq!(polls, 7);
    }

    #[cfg(feature = "futures")]
    #[test]
    fn dropping_the_stream_at_every_point() {
        let polls = every_point(|polls| {
            cancel_stream(&|log| generator(log).into_stream(), polls, "stackless")
        });
        assert_eq!(polls, 7);
    }
}

/// One case spelled out: dropped in its first wait, the body drops the
/// awaited future, then its first local.
#[test]
fn one_case_spelled_out() {
    let log = Log::new();
    let (_, waker) = CountingWaker::new();
    let mut future = stackless_task_for_the_record(&log).into_future();
    assert!(poll_with(&mut future, &waker).is_pending());
    drop(future);
    assert_eq!(log.entries(), ["+a", "+f1", "f1", "a"]);
    #[cfg(coro_stackful)]
    {
        let log = Log::new();
        let mut future = coro::Coroutine::<(), (), ()>::new({
            let log = log.clone();
            move |_, ()| {
                let _a = probe(&log, "a");
                coro::wait(PendingFor {
                    n: 1,
                    held: probe(&log, "f1"),
                })
                .unwrap();
            }
        })
        .into_future();
        assert!(poll_with(&mut future, &waker).is_pending());
        drop(future);
        assert_eq!(log.entries(), ["+a", "+f1", "f1", "a"]);
    }
}

fn stackless_task_for_the_record(log: &Log) -> coro::stackless::Coroutine<(), (), ()> {
    let log = log.clone();
    coro::stackless::Coroutine::new(move |_: coro::stackless::Yielder<(), ()>, ()| async move {
        let _a = probe(&log, "a");
        PendingFor {
            n: 1,
            held: probe(&log, "f1"),
        }
        .await;
    })
}
