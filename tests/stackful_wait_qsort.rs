//! A libc `qsort` comparator that waits on a future: each comparison asks an
//! oracle task over a channel and waits for the answer with `coro::wait`,
//! below C frames, while the executor runs the oracle. And the coroutine
//! cancelled mid-sort: the C frames are carried around by `coro::foreign`,
//! and every local is dropped.

#![cfg(coro_stackful)]

mod common;

use std::cell::RefCell;
use std::ffi::{c_int, c_void};
use std::future::IntoFuture;
use std::mem::size_of;
use std::time::Duration;

use common::{Tracker, run_local};
use coro::Coroutine;
use tokio::sync::{mpsc, oneshot};

/// A question for the oracle: two numbers and where to send how they compare.
type Question = (i64, i64, oneshot::Sender<c_int>);

thread_local! {
    /// Where comparators send their questions.
    static ORACLE: RefCell<Option<mpsc::UnboundedSender<Question>>> = const { RefCell::new(None) };
    /// Makes the values that `compare_holding` keeps across its wait.
    static HELD: RefCell<Option<Tracker>> = const { RefCell::new(None) };
}

/// Asks the oracle how `a` and `b` compare, and waits for the answer.
fn ask(a: i64, b: i64) -> c_int {
    let (tx, rx) = oneshot::channel();
    ORACLE.with(|oracle| {
        let oracle = oracle.borrow();
        oracle
            .as_ref()
            .expect("an oracle")
            .send((a, b, tx))
            .unwrap();
    });
    coro::wait(rx)
        .expect("polled by the executor")
        .expect("an answer")
}

/// Called by `qsort`, below C frames; `callback` keeps unwinds out of them.
extern "C" fn compare(a: *const c_void, b: *const c_void) -> c_int {
    coro::foreign::callback(0, || {
        // SAFETY: qsort passes pointers to two elements of the `i64` array.
        let (a, b) = unsafe { (*a.cast::<i64>(), *b.cast::<i64>()) };
        ask(a, b)
    })
}

/// Sorts with libc's `qsort` and the waiting comparator.
fn sort(data: &mut [i64]) {
    coro::foreign::call(|| {
        // SAFETY: the pointer and length describe `data`, an array of `i64`,
        // which is what the comparator reads.
        unsafe {
            libc::qsort(
                data.as_mut_ptr().cast(),
                data.len(),
                size_of::<i64>(),
                Some(compare),
            )
        }
    });
}

/// Answers questions, each after a pause, so that every comparison waits.
async fn oracle(mut questions: mpsc::UnboundedReceiver<Question>) -> usize {
    let mut answered = 0;
    while let Some((a, b, answer)) = questions.recv().await {
        tokio::task::yield_now().await;
        // The asker may have been cancelled.
        let _ = answer.send(a.cmp(&b) as c_int);
        answered += 1;
    }
    answered
}

#[test]
fn a_qsort_comparator_waits_on_a_future() {
    let (sorted, answered) = run_local(async {
        let (tx, rx) = mpsc::unbounded_channel();
        ORACLE.with(|oracle| *oracle.borrow_mut() = Some(tx));
        let oracle = tokio::task::spawn_local(oracle(rx));
        let sorter = Coroutine::<(), (), Vec<i64>>::new(|_, ()| {
            let mut data: Vec<i64> = (0..64).map(|n| (n * 37) % 64 - 20).collect();
            sort(&mut data);
            data
        });
        let sorted = tokio::task::spawn_local(sorter.into_future())
            .await
            .unwrap()
            .unwrap();
        ORACLE.with(|oracle| oracle.borrow_mut().take());
        (sorted, oracle.await.unwrap())
    });
    let mut expected: Vec<i64> = (0..64).map(|n| (n * 37) % 64 - 20).collect();
    expected.sort();
    assert_eq!(sorted, expected);
    assert!(answered >= 63, "every comparison asked: {answered}");
}

#[test]
fn a_sort_cancelled_while_its_comparator_waits_drops_every_local() {
    let tracker = Tracker::new();
    let (local, in_body) = (tracker.make(), tracker.make());
    HELD.with(|held| *held.borrow_mut() = Some(tracker.clone()));
    run_local(async {
        let (tx, rx) = mpsc::unbounded_channel::<Question>();
        ORACLE.with(|oracle| *oracle.borrow_mut() = Some(tx));
        let sorter = Coroutine::<(), (), ()>::new(move |_, ()| {
            let _local = local;
            let held = in_body;
            let mut data: Vec<i64> = (0..16).rev().collect();
            coro::foreign::call(|| {
                // SAFETY: as in `sort`.
                unsafe {
                    libc::qsort(
                        data.as_mut_ptr().cast(),
                        data.len(),
                        size_of::<i64>(),
                        Some(compare_holding),
                    )
                }
            });
            drop(held);
            unreachable!("cancelled before the oracle answers");
        });
        let task = tokio::task::spawn_local(sorter.into_future());
        // Nobody answers: the comparator waits until the task is aborted.
        tokio::time::sleep(Duration::from_millis(5)).await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        ORACLE.with(|oracle| oracle.borrow_mut().take());
        drop(rx);
    });
    HELD.with(|held| held.borrow_mut().take());
    assert_eq!(tracker.made(), 3, "the comparator ran once and waited");
    tracker.assert_all_dropped_once();
}

/// A comparator whose body keeps a tracked value of its own while waiting.
extern "C" fn compare_holding(a: *const c_void, b: *const c_void) -> c_int {
    coro::foreign::callback(0, || {
        let tracked = HELD.with(|held| held.borrow().as_ref().map(Tracker::make));
        // SAFETY: qsort passes pointers to two elements of the `i64` array.
        let (a, b) = unsafe { (*a.cast::<i64>(), *b.cast::<i64>()) };
        let answer = ask(a, b);
        drop(tracked);
        answer
    })
}
