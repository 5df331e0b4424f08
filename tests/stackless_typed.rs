//! The typed stackless form, `stackless::Coroutine::typed`: the body's own
//! type in the coroutine's, no virtual call. It must behave exactly as the
//! erased form made by `new` (the differential test runs both against Lua);
//! these check the parts of its life the frame's own code handles: the
//! first resume, drops in place at the end and at `close`, a panic, and the
//! frame's memory kept until the coroutine is dropped.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::Tracker;
use coro::stackless::{Body, Coroutine, Yielder};
use coro::{Error, Resume, Resumed, Status};

/// A typed adder: suspends with the running sum of its inputs until 0.
fn adder() -> Coroutine<u32, u32, u32, impl Body<u32, u32, u32>> {
    Coroutine::typed(|y: Yielder<u32, u32>, mut n: u32| async move {
        let mut sum = 0;
        while n != 0 {
            sum += n;
            n = y.suspend(sum).await;
        }
        sum
    })
}

#[test]
fn values_both_ways_and_statuses() {
    let mut co = adder();
    assert_eq!(co.status(), Status::Suspended);
    assert_eq!(co.resume(5).unwrap(), Resumed::Yield(5));
    assert_eq!(co.resume(7).unwrap(), Resumed::Yield(12));
    assert_eq!(co.status(), Status::Suspended);
    assert_eq!(co.resume(0).unwrap(), Resumed::Return(12));
    assert_eq!(co.status(), Status::Dead);
    assert!(matches!(co.resume(1), Err(Error::Dead)));
    assert!(format!("{co:?}").starts_with("stackless::Coroutine"));
}

// Works through the `Resume` trait, as generic code uses it.
#[test]
fn through_the_resume_trait() {
    fn drain<C: Resume<u32, Yield = u32, Return = u32>>(mut co: C, inputs: &[u32]) -> Vec<u32> {
        let mut seen = Vec::new();
        for &input in inputs {
            match co.resume(input).unwrap() {
                Resumed::Yield(v) => seen.push(v),
                Resumed::Return(v) => {
                    seen.push(v + 1000);
                    break;
                }
            }
        }
        seen
    }
    assert_eq!(drain(adder(), &[1, 2, 3, 0]), [1, 3, 6, 1006]);
}

#[test]
fn a_generator_iterates() {
    let evens = Coroutine::typed(|y: Yielder<(), u64>, ()| async move {
        for n in 0..5 {
            y.suspend(n * 2).await;
        }
    });
    assert_eq!(evens.into_iter().collect::<Vec<_>>(), [0, 2, 4, 6, 8]);
}

// The locals of a suspended typed body are dropped once each, newest first,
// by `close`, and by a drop of a coroutine never closed; a body never
// started drops its captures without running.
#[test]
fn close_and_drop_drop_every_local_once() {
    let tracker = Tracker::new();
    let order = Rc::new(Cell::new(0u32));
    let make = |tracker: &Tracker| {
        let captured = tracker.make();
        let order = order.clone();
        Coroutine::typed(move |y: Yielder<(), ()>, ()| async move {
            let _captured = captured;
            let _first = Noted(order.clone(), 1);
            let _second = Noted(order.clone(), 2);
            y.suspend(()).await;
            unreachable!("never resumed a second time");
        })
    };

    let mut closed = make(&tracker);
    assert_eq!(closed.resume(()).unwrap(), Resumed::Yield(()));
    assert_eq!(tracker.alive(), 1);
    closed.close().unwrap();
    assert_eq!(closed.status(), Status::Dead);
    assert_eq!(tracker.alive(), 0);
    // `_second` (2) went before `_first` (1): the order recorded is 2 then 1.
    assert_eq!(order.get(), 21);
    closed.close().unwrap();

    order.set(0);
    let mut dropped = make(&tracker);
    dropped.resume(()).unwrap();
    drop(dropped);
    assert_eq!(order.get(), 21);

    let never = make(&tracker);
    drop(never);
    tracker.assert_all_dropped_once();
}

/// Records its number into the shared order when dropped.
struct Noted(Rc<Cell<u32>>, u32);

impl Drop for Noted {
    fn drop(&mut self) {
        self.0.set(self.0.get() * 10 + self.1);
    }
}

// A panic in a typed body comes back as `Error::Panic`, its locals dropped
// once; the coroutine is dead, and its frame's memory waits for its drop.
#[test]
fn a_panicking_body_dies_cleanly() {
    let tracker = Tracker::new();
    let local = tracker.make();
    let mut co = Coroutine::typed(move |y: Yielder<u8, u8>, n: u8| async move {
        let _local = local;
        let n = y.suspend(n).await;
        if n == 2 {
            panic!("two");
        }
        n
    });
    assert_eq!(co.resume(1).unwrap(), Resumed::Yield(1));
    match co.resume(2) {
        Err(Error::Panic(payload)) => assert_eq!(payload.message(), "two"),
        other => panic!("expected the body's panic, got {other:?}"),
    }
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(tracker.alive(), 0);
    assert!(matches!(co.resume(3), Err(Error::Dead)));
    drop(co);
    tracker.assert_all_dropped_once();
}

// A destructor that panics while `close` drops the typed frame: `close`
// reports it, the other locals are dropped all the same, and the coroutine
// is dead.
#[test]
fn a_panicking_destructor_in_close() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("bomb");
        }
    }
    let tracker = Tracker::new();
    let local = tracker.make();
    let mut co = Coroutine::typed(move |y: Yielder<(), ()>, ()| async move {
        let _local = local;
        let _bomb = Bomb;
        y.suspend(()).await;
    });
    co.resume(()).unwrap();
    match co.close() {
        Err(Error::Panic(payload)) => assert_eq!(payload.message(), "bomb"),
        other => panic!("expected the destructor's panic, got {other:?}"),
    }
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(tracker.alive(), 0);
    assert!(co.close().is_ok());
    drop(co);
    tracker.assert_all_dropped_once();
}

// Awaiting a future that is not its own suspension, under a plain resume.
#[test]
fn a_foreign_await_kills_it() {
    let mut co = Coroutine::typed(|_: Yielder<(), ()>, ()| async move {
        std::future::pending::<()>().await;
    });
    assert!(matches!(co.resume(()), Err(Error::NeedsExecutor)));
    assert_eq!(co.status(), Status::Dead);
}

// The typed and the erased form of the same body interleave and nest.
#[test]
fn typed_and_erased_nest() {
    let mut inner = adder();
    let mut outer = Coroutine::new(move |y: Yielder<u32, u32>, n: u32| async move {
        let mut n = n;
        loop {
            let Resumed::Yield(sum) = inner.resume(n).unwrap() else {
                return;
            };
            n = y.suspend(sum * 10).await;
        }
    });
    assert_eq!(outer.resume(1).unwrap(), Resumed::Yield(10));
    assert_eq!(outer.resume(2).unwrap(), Resumed::Yield(30));
    assert_eq!(outer.resume(0).unwrap(), Resumed::Return(()));
}
