//! Stackless coroutines under a real executor (tokio, current-thread): the
//! body `.await`s any future (timers, channels) when an executor polls it,
//! through `IntoFuture`, `resume_async` or `into_stream`, and keeps
//! `Error::NeedsExecutor` under the plain `resume`.

mod common;

use std::future::IntoFuture;
use std::mem;
use std::task::Poll;
use std::time::Duration;

use common::{CountingWaker, Log, PendingFor, Tracker, poll_with, run_local};
use coro::stackless::{Coroutine, Yielder};
use coro::{Error, Resumed, Status};
use tokio::sync::mpsc;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn an_awaited_body_awaits_timers_and_channels() {
    run_local(async {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let co = Coroutine::new(|_: Yielder<(), ()>, ()| async move {
            let mut sum = 0;
            while let Some(n) = rx.recv().await {
                tokio::time::sleep(ms(1)).await;
                sum += n;
            }
            sum
        });
        let summing = tokio::task::spawn_local(co.into_future());
        for n in 1..=5 {
            tx.send(n).await.unwrap();
        }
        drop(tx);
        assert_eq!(summing.await.unwrap().unwrap(), 15);
    });
}

#[test]
fn values_flow_both_ways_through_resume_async() {
    run_local(async {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let mut scaler = Coroutine::new(|y: Yielder<u32, u32>, mut factor: u32| async move {
            while let Some(n) = rx.recv().await {
                factor = y.suspend(n * factor).await;
            }
            "closed"
        });
        tokio::task::spawn_local(async move {
            for n in 1..=3 {
                tokio::time::sleep(ms(1)).await;
                tx.send(n).unwrap();
            }
        });
        assert_eq!(scaler.resume_async(10).await.unwrap(), Resumed::Yield(10));
        assert_eq!(scaler.resume_async(20).await.unwrap(), Resumed::Yield(40));
        assert_eq!(scaler.resume_async(30).await.unwrap(), Resumed::Yield(90));
        assert_eq!(
            scaler.resume_async(1).await.unwrap(),
            Resumed::Return("closed")
        );
        assert!(matches!(scaler.resume_async(1).await, Err(Error::Dead)));
    });
}

#[test]
fn the_plain_resume_keeps_foreign_await_an_error() {
    let mut co = Coroutine::new(|_: Yielder<(), ()>, ()| async {
        tokio::task::yield_now().await;
    });
    assert!(matches!(co.resume(()), Err(Error::NeedsExecutor)));
    assert_eq!(co.status(), Status::Dead);
}

#[test]
fn a_plain_resume_and_an_async_one_mix_at_suspensions() {
    let mut co = Coroutine::new(|y: Yielder<u32, u32>, n: u32| async move {
        let m = y.suspend(n + 1).await;
        tokio::task::yield_now().await;
        let k = y.suspend(m + 1).await;
        k * 2
    });
    assert_eq!(co.resume(1).unwrap(), Resumed::Yield(2));
    run_local(async {
        assert_eq!(co.resume_async(5).await.unwrap(), Resumed::Yield(6));
    });
    assert_eq!(co.resume(7).unwrap(), Resumed::Return(14));
}

#[test]
fn a_panic_after_awaiting_is_an_error_of_the_future() {
    let co = Coroutine::new(|_: Yielder<(), ()>, ()| async {
        tokio::time::sleep(ms(1)).await;
        panic!("no more");
    });
    match run_local(co.into_future()) {
        Err(Error::Panic(payload)) => assert_eq!(payload.message(), "no more"),
        other => panic!("unexpected {:?}", other.map(|_: ()| ())),
    }
}

#[test]
fn a_suspension_with_unit_in_an_awaited_coroutine_yields_to_the_executor() {
    let (counter, waker) = CountingWaker::new();
    let mut future = Coroutine::new(|y: Yielder<(), ()>, ()| async move {
        y.suspend(()).await;
        y.suspend(()).await;
        3
    })
    .into_future();
    assert!(poll_with(&mut future, &waker).is_pending());
    assert!(poll_with(&mut future, &waker).is_pending());
    assert!(matches!(poll_with(&mut future, &waker), Poll::Ready(Ok(3))));
    assert_eq!(counter.wakes(), 2, "each yield asked to be polled again");
    assert!(matches!(
        poll_with(&mut future, &waker),
        Poll::Ready(Err(Error::Dead))
    ));
}

#[test]
fn dropping_the_future_while_the_body_awaits_drops_the_awaited_future_first() {
    let log = Log::new();
    let log2 = log.clone();
    let mut future = Coroutine::new(move |_: Yielder<(), ()>, ()| async move {
        let _local = log2.noisy("local");
        PendingFor {
            n: usize::MAX,
            held: log2.noisy("awaited future"),
        }
        .await;
    })
    .into_future();
    let (_, waker) = CountingWaker::new();
    assert!(poll_with(&mut future, &waker).is_pending());
    assert_eq!(future.coroutine().status(), Status::Suspended);
    drop(future);
    assert_eq!(log.entries(), ["awaited future", "local"]);
}

#[test]
fn a_leaked_resume_future_leaves_a_waiting_coroutine_that_refuses_resumes_and_closes() {
    let tracker = Tracker::new();
    let (local, awaited) = (tracker.make(), tracker.make());
    let mut co = Coroutine::new(move |_: Yielder<u8, u8>, _| async move {
        let _local = local;
        PendingFor {
            n: usize::MAX,
            held: awaited,
        }
        .await;
    });
    let (_, waker) = CountingWaker::new();
    let mut future = co.resume_async(1);
    assert!(poll_with(&mut future, &waker).is_pending());
    mem::forget(future);
    assert!(matches!(co.resume(2), Err(Error::Waiting)));
    let mut again = co.resume_async(3);
    assert!(matches!(
        poll_with(&mut again, &waker),
        Poll::Ready(Err(Error::Waiting))
    ));
    drop(again);
    assert_eq!(tracker.alive(), 2);
    co.close().unwrap();
    assert_eq!(co.status(), Status::Dead);
    tracker.assert_all_dropped_once();
}

#[test]
fn a_suspension_moved_into_another_task_cannot_park_while_its_coroutine_waits() {
    // The body hands its yielder to a task that the executor polls while
    // the coroutine itself waits: that suspension is outside its resume.
    let result = run_local(async {
        let co = Coroutine::new(|y: Yielder<(), u8>, ()| async move {
            let task = tokio::task::spawn_local(async move {
                y.suspend(1).await;
            });
            task.await
        });
        run_to_end(co).await
    });
    let err = result.unwrap().unwrap_err();
    assert!(err.is_panic(), "the moved suspension panicked in its task");
}

/// Runs a coroutine to its end with `resume_async`, dropping what it
/// yields (`IntoFuture` needs one that yields `()`).
async fn run_to_end<Y, R>(mut co: Coroutine<(), Y, R>) -> Result<R, Error> {
    loop {
        if let Resumed::Return(value) = co.resume_async(()).await? {
            return Ok(value);
        }
    }
}

#[cfg(feature = "futures")]
mod streams {
    use super::*;
    use common::next;

    #[test]
    fn a_generator_awaiting_between_suspensions_is_a_stream() {
        let got = run_local(async {
            let (tx, mut rx) = mpsc::unbounded_channel::<&str>();
            let mut words = Coroutine::new(|y: Yielder<(), &str>, ()| async move {
                while let Some(line) = rx.recv().await {
                    for word in line.split(' ') {
                        y.suspend(word).await;
                    }
                }
            })
            .into_stream();
            tokio::task::spawn_local(async move {
                for line in ["to be", "or not", "to be"] {
                    tokio::time::sleep(ms(1)).await;
                    tx.send(line).unwrap();
                }
            });
            let mut got = Vec::new();
            while let Some(word) = next(&mut words).await {
                got.push(word);
            }
            assert!(futures_core::FusedStream::is_terminated(&words));
            assert_eq!(next(&mut words).await, None, "ended for good");
            got
        });
        assert_eq!(got, ["to", "be", "or", "not", "to", "be"]);
    }

    #[test]
    fn a_typed_generator_is_a_stream_too() {
        let got = run_local(async {
            let mut evens = Coroutine::typed(|y: Yielder<(), u32>, ()| async move {
                for n in 0..3 {
                    tokio::task::yield_now().await;
                    y.suspend(n * 2).await;
                }
                "done"
            })
            .into_stream();
            let mut got = Vec::new();
            while let Some(n) = next(&mut evens).await {
                got.push(n);
            }
            assert_eq!(next(&mut evens).await, None, "ended for good");
            assert_eq!(evens.coroutine().status(), coro::Status::Dead);
            got
        });
        assert_eq!(got, [0, 2, 4]);
    }

    #[test]
    fn a_panic_in_a_stream_is_raised_in_the_poller() {
        let caught = std::panic::catch_unwind(|| {
            run_local(async {
                let mut stream = Coroutine::new(|y: Yielder<(), u8>, ()| async move {
                    y.suspend(1).await;
                    tokio::task::yield_now().await;
                    std::panic::panic_any(42_u32);
                })
                .into_stream();
                assert_eq!(next(&mut stream).await, Some(1));
                next(&mut stream).await
            })
        })
        .unwrap_err();
        assert_eq!(*caught.downcast::<u32>().unwrap(), 42);
    }
}
