//! Stackless backend: the C-call boundary.
//!
//! Only async frames can suspend. In a stackless body's synchronous code —
//! the body itself between awaits, a plain function it calls, a closure
//! handed to an iterator adapter — the free `coro::suspend` returns
//! `Error::AcrossBoundary` ("attempt to yield across a C-call boundary"),
//! exactly like Lua's `coroutine.yield` under a C function; nothing is
//! suspended, and the coroutine carries on.

// The free `coro::suspend` is the stackful backend's: only where it is built.
#![cfg(coro_stackful)]

use std::cell::Cell;
use std::rc::Rc;

use coro::stackless::{Coroutine, Yielder};
use coro::{Error, Handle, Resumed, Status};

const MESSAGE: &str = "attempt to yield across a C-call boundary";

/// What synchronous code inside a stackless body observed.
#[derive(Debug)]
struct Seen {
    /// The free `suspend`'s error, as a `Display` string and a flag.
    message: String,
    across: bool,
    yieldable: bool,
    running: Option<Handle>,
    running_status: Option<Status>,
}

/// Plain code: looks around and tries the free `suspend`.
fn look_around(value: u32) -> Seen {
    let err = coro::suspend::<u32, ()>(value).expect_err("cannot suspend here");
    let running = coro::running();
    Seen {
        message: err.to_string(),
        across: matches!(err, Error::AcrossBoundary),
        yieldable: coro::is_yieldable(),
        running_status: running.as_ref().map(Handle::status),
        running,
    }
}

/// Plain code two calls further down.
fn deeper(value: u32) -> Seen {
    fn deepest(value: u32) -> Seen {
        look_around(value)
    }
    deepest(value)
}

#[track_caller]
fn assert_boundary(seen: &Seen, me: &Handle) {
    assert!(seen.across, "expected AcrossBoundary: {seen:?}");
    assert_eq!(seen.message, MESSAGE);
    assert!(!seen.yieldable, "is_yieldable() in synchronous code");
    assert_eq!(
        seen.running.as_ref(),
        Some(me),
        "running() is the coroutine"
    );
    assert_eq!(seen.running_status, Some(Status::Running));
}

// The free `suspend` called straight from the body's synchronous code fails
// with AcrossBoundary; the body then suspends through its Yielder, is
// resumed, and fails the same way again before returning normally.
#[test]
fn free_suspend_in_the_body_is_across_the_boundary() {
    let mut co = Coroutine::new(|y: Yielder<(), u32>, ()| async move {
        let first = coro::suspend::<u32, ()>(1);
        let yieldable_before = coro::is_yieldable();
        y.suspend(2).await;
        let second = coro::suspend::<u32, ()>(3);
        let yieldable_after = coro::is_yieldable();
        (first, second, yieldable_before, yieldable_after)
    });
    assert_eq!(co.resume(()).unwrap().yielded(), Some(2));
    assert_eq!(co.status(), Status::Suspended);
    let Resumed::Return((first, second, before, after)) = co.resume(()).unwrap() else {
        panic!("the body returns");
    };
    for err in [first.unwrap_err(), second.unwrap_err()] {
        assert!(matches!(err, Error::AcrossBoundary), "{err:?}");
        assert_eq!(err.to_string(), MESSAGE);
    }
    assert!(!before);
    assert!(!after);
    assert_eq!(co.status(), Status::Dead);
}

// From plain functions the body calls, one or three calls deep: the same
// error, `is_yieldable()` false, `running()` the stackless coroutine itself
// (equal to its handle, and Running).
#[test]
fn free_suspend_from_plain_functions_the_body_calls() {
    let mut co = Coroutine::new(|y: Yielder<(), u32>, ()| async move {
        let near = look_around(10);
        y.suspend(11).await;
        let far = deeper(20);
        y.suspend(21).await;
        (near, far)
    });
    let me = co.handle();
    assert_eq!(co.resume(()).unwrap().yielded(), Some(11));
    assert_eq!(co.resume(()).unwrap().yielded(), Some(21));
    let (near, far) = co.resume(()).unwrap().returned().unwrap();
    assert_boundary(&near, &me);
    assert_boundary(&far, &me);
    assert_eq!(me.status(), Status::Dead);
}

/// An async callee's synchronous part: the boundary is about plain code, not
/// about which frame runs it.
async fn callee(y: &Yielder<(), u32>) -> Seen {
    y.suspend(30).await;
    look_around(31)
}

// Synchronous code inside an async callee, and inside a closure handed to
// an iterator adapter, is on the boundary's far side too.
#[test]
fn free_suspend_in_callees_and_closures() {
    let mut co = Coroutine::new(|y: Yielder<(), u32>, ()| async move {
        let in_callee = callee(&y).await;
        let in_closure: Vec<Result<(), Error>> =
            (40..43).map(|n| coro::suspend::<u32, ()>(n * 2)).collect();
        y.suspend(44).await;
        (in_callee, in_closure)
    });
    let me = co.handle();
    assert_eq!(co.resume(()).unwrap().yielded(), Some(30));
    assert_eq!(co.resume(()).unwrap().yielded(), Some(44));
    let (in_callee, in_closure) = co.resume(()).unwrap().returned().unwrap();
    assert_boundary(&in_callee, &me);
    assert_eq!(in_closure.len(), 3);
    for result in in_closure {
        assert!(matches!(result, Err(Error::AcrossBoundary)), "{result:?}");
    }
}

// The boundary comes first: even with types that are not the coroutine's,
// the free `suspend` says AcrossBoundary (there is nothing it could suspend),
// not a type mismatch.
#[test]
fn boundary_is_reported_before_types() {
    let mut co = Coroutine::new(|_: Yielder<u8, u8>, _: u8| async move {
        let wrong = coro::suspend::<Vec<u8>, String>(vec![1]);
        let right = coro::suspend::<u8, u8>(1);
        (wrong, right)
    });
    let (wrong, right) = co.resume(0).unwrap().returned().unwrap();
    assert!(matches!(wrong, Err(Error::AcrossBoundary)), "{wrong:?}");
    assert!(matches!(right, Err(Error::AcrossBoundary)), "{right:?}");
}

/// Counts its drops.
struct Counted(Rc<Cell<u32>>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

// The value handed to a failing free `suspend` is dropped right there,
// exactly once: not yielded, not kept, not leaked.
#[test]
fn refused_value_is_dropped_once_on_the_spot() {
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), Counted>, ()| async move {
        let refused = coro::suspend::<Counted, ()>(Counted(d.clone()));
        let dropped_by_then = d.get();
        y.suspend(Counted(d.clone())).await;
        (refused.is_err(), dropped_by_then)
    });
    let Resumed::Yield(yielded) = co.resume(()).unwrap() else {
        panic!("the body suspends");
    };
    assert_eq!(drops.get(), 1, "only the refused value is dropped so far");
    drop(yielded);
    assert_eq!(drops.get(), 2);
    assert_eq!(co.resume(()).unwrap().returned(), Some((true, 1)));
    assert_eq!(drops.get(), 2);
}

// Outside any coroutine the free `suspend` reports OutsideCoroutine, and
// after a stackless coroutine suspended or returned the thread is back on its
// own stack: nothing of the coroutine lingers in `running()`.
#[test]
fn thread_stack_is_outside_before_between_and_after() {
    let check = || {
        assert!(matches!(
            coro::suspend::<u32, ()>(0),
            Err(Error::OutsideCoroutine)
        ));
        assert!(coro::running().is_none());
        assert!(!coro::is_yieldable());
    };
    check();
    let mut co = Coroutine::new(|y: Yielder<(), u32>, ()| async move {
        y.suspend(1).await;
    });
    assert_eq!(co.resume(()).unwrap().yielded(), Some(1));
    check();
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(()));
    check();
}
