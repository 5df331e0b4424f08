//! 10,000 coroutines waiting at once on one `LocalSet` of a current-thread
//! tokio runtime, in each backend: all of them parked on the same gate,
//! then on timers, then reporting over a channel.

mod common;

use std::cell::Cell;
use std::future::IntoFuture;
use std::rc::Rc;
use std::time::Duration;

use common::run_local;
use tokio::sync::{mpsc, watch};

const COUNT: usize = 10_000;

/// Spawns `COUNT` tasks made by `spawn`, waits until every one is waiting
/// on the gate, opens it, and checks that every id reports back once.
async fn gather(
    spawn: impl Fn(usize, watch::Receiver<bool>, mpsc::UnboundedSender<usize>, Rc<Cell<usize>>),
) {
    let (open, gate) = watch::channel(false);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let waiting = Rc::new(Cell::new(0));
    for id in 0..COUNT {
        spawn(id, gate.clone(), tx.clone(), waiting.clone());
    }
    drop(tx);
    while waiting.get() < COUNT {
        tokio::task::yield_now().await;
    }
    open.send(true).unwrap();
    let mut seen = vec![false; COUNT];
    while let Some(id) = rx.recv().await {
        assert!(!seen[id], "{id} reported twice");
        seen[id] = true;
    }
    assert!(seen.iter().all(|&s| s), "every coroutine reported");
}

#[cfg(coro_stackful)]
#[test]
fn ten_thousand_stackful_coroutines_wait_at_once() {
    // More stacks than the per-thread pool keeps: make room for them all.
    coro::set_stack_pool_capacity(COUNT);
    run_local(gather(|id, mut gate, tx, waiting| {
        let co = coro::Builder::new()
            .stack_size(coro::MIN_STACK_SIZE)
            .build(move |_: &coro::Yielder<(), ()>, ()| {
                waiting.set(waiting.get() + 1);
                coro::wait(gate.wait_for(|open| *open)).unwrap().unwrap();
                coro::wait(tokio::time::sleep(Duration::from_millis((id % 7) as u64))).unwrap();
                tx.send(id).unwrap();
            })
            .unwrap();
        tokio::task::spawn_local(co.into_future());
    }));
    coro::set_stack_pool_capacity(coro::DEFAULT_POOL_CAPACITY);
}

#[test]
fn ten_thousand_stackless_coroutines_wait_at_once() {
    run_local(gather(|id, mut gate, tx, waiting| {
        let co = coro::stackless::Coroutine::new(
            move |_: coro::stackless::Yielder<(), ()>, ()| async move {
                waiting.set(waiting.get() + 1);
                gate.wait_for(|open| *open).await.unwrap();
                tokio::time::sleep(Duration::from_millis((id % 7) as u64)).await;
                tx.send(id).unwrap();
            },
        );
        tokio::task::spawn_local(co.into_future());
    }));
}
