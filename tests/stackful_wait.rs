//! `coro::wait` in stackful coroutines under a real executor (tokio, on a
//! current-thread runtime): timers and channels awaited from plain
//! functions, values both ways through `resume_async`, the errors where no
//! executor polls, panics, polls after completion, and what a hostile user
//! can do with the futures (move them, leak them, change the waker).

#![cfg(coro_stackful)]

mod common;

use std::cell::{Cell, RefCell};
use std::future::{IntoFuture, poll_fn};
use std::mem;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{CountingWaker, Log, PendingFor, Tracker, poll_with, run_local};
use coro::{Coroutine, Error, Resumed, Status};
#[cfg(feature = "futures")]
use futures_core::Stream;
use tokio::sync::{mpsc, oneshot};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---- waiting from plain code ----------------------------------------------

/// Plain recursion, no async: every level waits for a timer.
fn sleepy_sum(depth: u32) -> u32 {
    if depth == 0 {
        return 0;
    }
    coro::wait(tokio::time::sleep(ms(1))).unwrap();
    depth + sleepy_sum(depth - 1)
}

#[test]
fn timers_awaited_from_plain_recursive_functions() {
    let co = Coroutine::new(|_, ()| sleepy_sum(20));
    let started = Instant::now();
    let sum = run_local(co.into_future()).unwrap();
    assert_eq!(sum, 210);
    assert!(started.elapsed() >= ms(20), "each level slept");
}

/// Receives from a channel, from a plain function.
fn receive(rx: &mut mpsc::Receiver<u32>) -> Option<u32> {
    coro::wait(rx.recv()).unwrap()
}

#[test]
fn channels_awaited_from_plain_functions_while_other_tasks_run() {
    run_local(async {
        let (tx, mut rx) = mpsc::channel(1);
        let (done_tx, mut done_rx) = mpsc::channel(1);
        let consumer = tokio::task::spawn_local(
            Coroutine::new(move |_, ()| {
                let mut got = Vec::new();
                while let Some(n) = receive(&mut rx) {
                    got.push(n);
                }
                coro::wait(done_tx.send(got.len())).unwrap().unwrap();
                got
            })
            .into_future(),
        );
        // A native task feeds it, slowly, so the coroutine really waits.
        for n in 0..10 {
            tx.send(n).await.unwrap();
            tokio::time::sleep(ms(1)).await;
        }
        drop(tx);
        assert_eq!(
            consumer.await.unwrap().unwrap(),
            (0..10).collect::<Vec<_>>()
        );
        assert_eq!(done_rx.recv().await, Some(10));
    });
}

#[test]
fn the_output_of_a_ready_future_comes_back_without_suspending() {
    let mut co = Coroutine::<(), (), _>::new(|_, ()| coro::wait(async { 41 }).unwrap() + 1);
    let (_, waker) = CountingWaker::new();
    let mut future = co.resume_async(());
    assert!(matches!(
        poll_with(&mut future, &waker),
        Poll::Ready(Ok(Resumed::Return(42)))
    ));
}

// Every word a suspension may pass, zero and all ones included, is told
// apart from a wait: a wait tells the poll through the coroutine's header,
// not through the switch's value word, which carries small values
// themselves. Waits between the suspensions, under a real executor.
#[test]
fn yields_of_every_word_are_not_taken_for_waits() {
    run_local(async {
        let words = [0u64, 1, 2, 3, 4, u64::MAX, 1 << 63];
        let mut co = Coroutine::new(move |y, mut input: u64| {
            for word in words {
                coro::wait(PendingFor { n: 2, held: () }).unwrap();
                input = y.suspend(word ^ input);
            }
            input
        });
        for (i, word) in words.into_iter().enumerate() {
            let input = i as u64 * 0x0101;
            assert_eq!(
                co.resume_async(input).await.unwrap(),
                Resumed::Yield(word ^ input)
            );
        }
        assert_eq!(co.resume_async(77).await.unwrap(), Resumed::Return(77));
    });
}

#[test]
fn values_flow_both_ways_through_resume_async() {
    run_local(async {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let mut scaler = Coroutine::new(move |y, mut factor: u32| {
            while let Some(n) = coro::wait(rx.recv()).unwrap() {
                factor = y.suspend(n * factor);
            }
            "closed"
        });
        let handle = scaler.handle();
        tokio::task::spawn_local(async move {
            for n in 1..=3 {
                tokio::time::sleep(ms(1)).await;
                // While the coroutine waits, it reads suspended.
                assert_eq!(handle.status(), Status::Suspended);
                tx.send(n).unwrap();
            }
        });
        assert_eq!(scaler.resume_async(10).await.unwrap(), Resumed::Yield(10));
        assert_eq!(scaler.resume_async(20).await.unwrap(), Resumed::Yield(40));
        // The plain resume works between async ones when the body is at a
        // suspension, and waits there are refused, not hung.
        assert_eq!(scaler.status(), Status::Suspended);
        assert_eq!(scaler.resume_async(30).await.unwrap(), Resumed::Yield(90));
        assert_eq!(
            scaler.resume_async(1).await.unwrap(),
            Resumed::Return("closed")
        );
        assert!(matches!(scaler.resume_async(1).await, Err(Error::Dead)));
        assert_eq!(scaler.status(), Status::Dead);
    });
}

#[test]
fn a_suspension_with_unit_in_an_awaited_coroutine_yields_to_the_executor() {
    let log = Log::new();
    run_local(async {
        let (log1, log2) = (log.clone(), log.clone());
        let co = tokio::task::spawn_local(
            Coroutine::new(move |y, ()| {
                for n in 0..3 {
                    log1.push(format!("co {n}"));
                    y.suspend(());
                }
            })
            .into_future(),
        );
        let other = tokio::task::spawn_local(async move {
            for n in 0..3 {
                log2.push(format!("task {n}"));
                tokio::task::yield_now().await;
            }
        });
        co.await.unwrap().unwrap();
        other.await.unwrap();
    });
    let entries = log.entries();
    let at = |entry: &str| entries.iter().position(|e| e == entry).unwrap();
    // The other task ran between the coroutine's first two turns. (Whether
    // it runs before the next one depends on the executor's queue: tokio
    // defers its own `yield_now`'s wake-up to the end of the tick.)
    assert!(
        at("co 0") < at("task 0") && at("task 0") < at("co 1"),
        "{entries:?}"
    );
    assert_eq!(entries.len(), 6);
}

// ---- where no executor polls ----------------------------------------------

#[test]
fn on_the_threads_own_stack_waiting_is_outside_a_coroutine() {
    let polled = Cell::new(false);
    let err = coro::wait(poll_fn(|_| {
        polled.set(true);
        Poll::Ready(())
    }))
    .unwrap_err();
    assert!(matches!(err, Error::OutsideCoroutine));
    assert!(!polled.get(), "the future is dropped unpolled");
    // Even inside an executor's task: no coroutine to suspend.
    run_local(async {
        assert!(matches!(coro::wait(async {}), Err(Error::OutsideCoroutine)));
    });
}

#[test]
fn under_a_plain_resume_waiting_fails_at_once() {
    let tracker = Tracker::new();
    let token = tracker.make();
    let mut co = Coroutine::<(), (), _>::new(move |_, ()| {
        let err = coro::wait(async move {
            drop(token);
            unreachable!("never polled");
        })
        .unwrap_err();
        (err.to_string(), coro::is_yieldable())
    });
    let (message, yieldable) = co.resume(()).unwrap().returned().unwrap();
    assert_eq!(
        message,
        "attempt to wait in a coroutine that no executor polls"
    );
    assert!(yieldable, "the coroutine can still suspend");
    tracker.assert_all_dropped_once();
}

#[test]
fn in_a_stackless_bodys_synchronous_code_waiting_is_across_a_boundary() {
    fn plain() -> Result<(), Error> {
        coro::wait(async {})
    }
    let co = coro::stackless::Coroutine::new(|_: coro::stackless::Yielder<(), ()>, ()| async {
        plain().map_err(|e| e.to_string())
    });
    assert_eq!(
        run_local(co.into_future()).unwrap().unwrap_err(),
        "attempt to yield across a C-call boundary"
    );
}

/// Records what `coro::wait` said when called from a destructor.
struct WaitsWhenDropped(Rc<RefCell<Option<String>>>);

impl Drop for WaitsWhenDropped {
    fn drop(&mut self) {
        let result = coro::wait(async {}).map_err(|e| e.to_string());
        *self.0.borrow_mut() = Some(format!("{result:?}"));
    }
}

#[test]
fn waiting_from_a_destructor_while_closing_is_refused() {
    let said = Rc::new(RefCell::new(None));
    let said2 = said.clone();
    let co = Coroutine::<(), (), ()>::new(move |_, ()| {
        let _guard = WaitsWhenDropped(said2);
        coro::wait(std::future::pending::<()>()).unwrap();
    });
    let (_, waker) = CountingWaker::new();
    let mut future = co.into_future();
    assert!(poll_with(&mut future, &waker).is_pending());
    drop(future);
    assert_eq!(
        said.borrow().as_deref(),
        Some("Err(\"attempt to yield across a C-call boundary\")")
    );
}

// ---- panics ---------------------------------------------------------------

#[test]
fn a_panic_after_waiting_is_an_error_of_the_future() {
    let co = Coroutine::<(), (), u32>::new(|_, ()| {
        coro::wait(tokio::time::sleep(ms(1))).unwrap();
        panic!("parser gave up");
    });
    match run_local(co.into_future()) {
        Err(Error::Panic(payload)) => assert_eq!(payload.message(), "parser gave up"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_panic_in_the_awaited_futures_poll_unwinds_the_coroutine() {
    let tracker = Tracker::new();
    let local = tracker.make();
    let co = Coroutine::<(), (), ()>::new(move |_, ()| {
        let _local = local;
        coro::wait(PendingFor { n: 1, held: () }).unwrap();
        coro::wait(poll_fn(|_| -> Poll<()> { panic!("poll failed") })).unwrap();
    });
    match run_local(co.into_future()) {
        Err(Error::Panic(payload)) => assert_eq!(payload.message(), "poll failed"),
        other => panic!("unexpected {other:?}"),
    }
    tracker.assert_all_dropped_once();
}

// ---- polls after completion -----------------------------------------------

#[test]
fn polling_a_finished_coroutine_future_again_gives_dead() {
    let (_, waker) = CountingWaker::new();
    let mut future = Coroutine::<(), (), u8>::new(|_, ()| 5).into_future();
    assert!(matches!(poll_with(&mut future, &waker), Poll::Ready(Ok(5))));
    assert!(matches!(
        poll_with(&mut future, &waker),
        Poll::Ready(Err(Error::Dead))
    ));
    assert_eq!(future.coroutine().status(), Status::Dead);
}

#[test]
fn polling_a_completed_resume_again_is_an_error_and_touches_nothing() {
    let (_, waker) = CountingWaker::new();
    let mut co = Coroutine::new(|y, n: u8| y.suspend(n) + 1);
    let mut future = co.resume_async(1);
    assert!(matches!(
        poll_with(&mut future, &waker),
        Poll::Ready(Ok(Resumed::Yield(1)))
    ));
    assert!(matches!(
        poll_with(&mut future, &waker),
        Poll::Ready(Err(Error::PolledAfterCompletion))
    ));
    drop(future);
    assert_eq!(co.status(), Status::Suspended);
    assert_eq!(co.resume(4).unwrap(), Resumed::Return(5));
}

// ---- hostile use of the futures -------------------------------------------

#[test]
fn a_future_moved_between_polls_goes_on() {
    let (counter, waker) = CountingWaker::new();
    let future = Coroutine::<(), (), u32>::new(|_, ()| {
        let mut sum = 0;
        for n in 0..3 {
            coro::wait(PendingFor { n: 1, held: () }).unwrap();
            sum += n;
        }
        sum
    })
    .into_future();
    let mut boxed = Box::new(future);
    assert!(poll_with(&mut *boxed, &waker).is_pending());
    let mut moved = *boxed;
    assert!(poll_with(&mut moved, &waker).is_pending());
    let mut in_an_array = [moved];
    assert!(poll_with(&mut in_an_array[0], &waker).is_pending());
    assert!(matches!(
        poll_with(&mut in_an_array[0], &waker),
        Poll::Ready(Ok(3))
    ));
    assert_eq!(counter.wakes(), 3);
}

#[test]
fn the_latest_polls_waker_is_the_one_woken() {
    let (tx, rx) = oneshot::channel::<u8>();
    let mut future =
        Coroutine::<(), (), u8>::new(move |_, ()| coro::wait(rx).unwrap().unwrap()).into_future();
    let (first, first_waker) = CountingWaker::new();
    let (second, second_waker) = CountingWaker::new();
    assert!(poll_with(&mut future, &first_waker).is_pending());
    assert!(poll_with(&mut future, &second_waker).is_pending());
    tx.send(9).unwrap();
    assert_eq!((first.wakes(), second.wakes()), (0, 1));
    assert!(matches!(
        poll_with(&mut future, &second_waker),
        Poll::Ready(Ok(9))
    ));
}

#[test]
fn a_leaked_resume_future_leaves_a_waiting_coroutine_that_refuses_resumes_and_closes() {
    let tracker = Tracker::new();
    let (local, awaited) = (tracker.make(), tracker.make());
    let mut co = Coroutine::<u8, u8, ()>::new(move |_, _| {
        let _local = local;
        coro::wait(PendingFor {
            n: usize::MAX,
            held: awaited,
        })
        .unwrap();
    });
    let (_, waker) = CountingWaker::new();
    let mut future = co.resume_async(1);
    assert!(poll_with(&mut future, &waker).is_pending());
    mem::forget(future);
    assert_eq!(co.status(), Status::Suspended);
    let err = co.resume(2).unwrap_err();
    assert!(matches!(err, Error::Waiting));
    assert_eq!(
        err.to_string(),
        "cannot resume a coroutine that waits on a future"
    );
    let mut again = co.resume_async(3);
    assert!(matches!(
        poll_with(&mut again, &waker),
        Poll::Ready(Err(Error::Waiting))
    ));
    drop(again);
    assert_eq!(tracker.alive(), 2, "the refusals left the coroutine alone");
    co.close().unwrap();
    assert_eq!(co.status(), Status::Dead);
    tracker.assert_all_dropped_once();
}

#[test]
fn a_suspension_inside_the_awaited_futures_poll_is_a_suspension() {
    // The future's poll suspends the whole coroutine, and uses its
    // `Context` after it was resumed by a later poll: that context must
    // still be alive (it is `wait`'s own).
    let mut co = Coroutine::new(|y, first: u32| {
        let mut seen = vec![first];
        let got = coro::wait(poll_fn(|cx| {
            seen.push(y.suspend(100));
            cx.waker().wake_by_ref();
            Poll::Ready(seen.len())
        }))
        .unwrap();
        (got, seen)
    });
    let (counter, waker) = CountingWaker::new();
    let mut first = co.resume_async(1);
    assert!(matches!(
        poll_with(&mut first, &waker),
        Poll::Ready(Ok(Resumed::Yield(100)))
    ));
    drop(first);
    let mut second = co.resume_async(2);
    match poll_with(&mut second, &waker) {
        Poll::Ready(Ok(Resumed::Return((2, seen)))) => assert_eq!(seen, [1, 2]),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(counter.wakes(), 1);
}

#[test]
fn a_wait_inside_the_awaited_futures_poll_works_too() {
    let co = Coroutine::<(), (), u32>::new(|_, ()| {
        coro::wait(poll_fn(|cx| {
            coro::wait(tokio::time::sleep(ms(1))).unwrap();
            cx.waker().wake_by_ref();
            Poll::Ready(7)
        }))
        .unwrap()
    });
    assert_eq!(run_local(co.into_future()).unwrap(), 7);
}

#[test]
fn dropping_a_resume_future_while_the_body_waits_closes_the_coroutine() {
    let log = Log::new();
    let log2 = log.clone();
    let mut co = Coroutine::<(), (), ()>::new(move |_, ()| {
        let _local = log2.noisy("local");
        coro::wait(PendingFor {
            n: usize::MAX,
            held: log2.noisy("awaited future"),
        })
        .unwrap();
    });
    let (_, waker) = CountingWaker::new();
    let mut future = co.resume_async(());
    assert!(poll_with(&mut future, &waker).is_pending());
    drop(future);
    assert_eq!(log.entries(), ["awaited future", "local"]);
    assert_eq!(co.status(), Status::Dead);
    assert!(matches!(co.resume(()), Err(Error::Dead)));
}

#[test]
fn dropping_an_unpolled_resume_future_leaves_the_coroutine_alone() {
    let mut co = Coroutine::new(|y, n: u8| y.suspend(n));
    drop(co.resume_async(1));
    assert_eq!(co.status(), Status::Suspended);
    assert_eq!(co.resume(2).unwrap(), Resumed::Yield(2));
}

// ---- streams --------------------------------------------------------------

#[cfg(feature = "futures")]
mod streams {
    use super::*;
    use common::next;

    #[test]
    fn a_generator_waiting_between_suspensions_is_a_stream() {
        let got = run_local(async {
            let (tx, mut rx) = mpsc::unbounded_channel::<&str>();
            let mut words = Coroutine::new(move |y, ()| {
                while let Some(line) = receive_line(&mut rx) {
                    line.split(' ').for_each(|word| y.suspend(word));
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

    fn receive_line(rx: &mut mpsc::UnboundedReceiver<&'static str>) -> Option<&'static str> {
        coro::wait(rx.recv()).unwrap()
    }

    #[test]
    fn a_panic_in_a_stream_is_raised_in_the_poller() {
        let caught = std::panic::catch_unwind(|| {
            run_local(async {
                let mut stream = Coroutine::new(|y, ()| {
                    y.suspend(1);
                    coro::wait(tokio::task::yield_now()).unwrap();
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

    #[test]
    fn the_stream_gives_the_coroutine_back() {
        let mut stream = Coroutine::new(|y, ()| y.suspend(1)).into_stream();
        assert_eq!(stream.coroutine().status(), Status::Suspended);
        let (_, waker) = CountingWaker::new();
        assert_eq!(
            std::pin::Pin::new(&mut stream).poll_next(&mut std::task::Context::from_waker(&waker)),
            Poll::Ready(Some(1))
        );
        let mut co = stream.into_coroutine();
        assert_eq!(co.resume(()).unwrap(), Resumed::Return(()));
    }
}

#[test]
fn waiting_from_a_destructor_while_a_panic_unwinds_is_refused() {
    let said = Rc::new(RefCell::new(None));
    let said2 = said.clone();
    let co = Coroutine::<(), (), ()>::new(move |_, ()| {
        let _guard = WaitsWhenDropped(said2);
        coro::wait(PendingFor { n: 1, held: () }).unwrap();
        panic!("unwinding");
    });
    assert!(matches!(run_local(co.into_future()), Err(Error::Panic(_))));
    assert_eq!(
        said.borrow().as_deref(),
        Some("Err(\"attempt to yield across a C-call boundary\")")
    );
}
