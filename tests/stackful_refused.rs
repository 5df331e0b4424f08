//! A suspension attempted while a panic unwinds the coroutine's own stack
//! (from a destructor) is refused: it panics with "attempt to yield across
//! a C-call boundary", its value is dropped once and never reaches the
//! resumer, and the resumer sees nothing of it. The resumer tells it when
//! the coroutine comes back (the suspension itself does not test the panic
//! count), so these check that path: a value by address and one in the
//! register, refusals repeated, then a suspension that is allowed again
//! once the unwind is over, and the same under an executor's poll.

#![cfg(coro_stackful)]

mod common;

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use common::{Tracked, Tracker, run_local};
use coro::{Coroutine, Resumed, Status, Yielder};

/// What the destructors saw, in order.
type Seen = Rc<RefCell<Vec<String>>>;

/// The message of a caught panic.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// When dropped, tries `tries` suspensions with values it makes, each in a
/// `catch_unwind`, and records how each ended.
struct Suspends<'a, Y: 'static> {
    yielder: &'a Yielder<u32, Y>,
    make: Box<dyn Fn() -> Y + 'a>,
    tries: usize,
    seen: Seen,
}

impl<Y: 'static> Drop for Suspends<'_, Y> {
    fn drop(&mut self) {
        for _ in 0..self.tries {
            let value = (self.make)();
            let caught = panic::catch_unwind(AssertUnwindSafe(|| self.yielder.suspend(value)));
            self.seen.borrow_mut().push(match caught {
                Ok(input) => format!("resumed with {input}"),
                Err(payload) => format!("refused: {}", message(&*payload)),
            });
        }
    }
}

const REFUSED: &str = "refused: attempt to yield across a C-call boundary";

// A value that goes by address (it has a destructor): refused three times
// inside the unwind, each value dropped once there; after the body caught
// the panic, the same kind of suspension reaches the resumer.
#[test]
fn refused_values_are_dropped_and_never_delivered() {
    let (tracker, seen) = (Tracker::new(), Seen::default());
    let (t, s) = (tracker.clone(), seen.clone());
    let mut co = Coroutine::new(move |y: &Yielder<u32, Tracked>, first: u32| {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let _suspends = Suspends {
                yielder: y,
                make: Box::new(|| t.make()),
                tries: 3,
                seen: s.clone(),
            };
            panic!("unwinding");
        }));
        assert_eq!(message(&*caught.unwrap_err()), "unwinding");
        let input = y.suspend(t.make());
        first + input
    });
    let Resumed::Yield(delivered) = co.resume(1).unwrap() else {
        panic!("expected the suspension after the caught panic");
    };
    assert_eq!(seen.borrow().as_slice(), [REFUSED; 3]);
    // Three refused values, made and dropped in the destructor; the fourth
    // is the one delivered.
    assert_eq!(tracker.made(), 4);
    assert_eq!(tracker.alive(), 1);
    assert_eq!(delivered.id(), 3);
    drop(delivered);
    assert_eq!(co.resume(41).unwrap().returned(), Some(42));
    tracker.assert_all_dropped_once();
}

// A value that crosses in the register: the refusal is the same, and the
// panic the destructor was run for comes back to the resumer.
#[test]
fn refused_words_never_reach_the_resumer() {
    let seen = Seen::default();
    let s = seen.clone();
    let mut co = Coroutine::new(move |y: &Yielder<u32, u64>, _: u32| {
        let _suspends = Suspends {
            yielder: y,
            make: Box::new(|| 0xdead_beef),
            tries: 2,
            seen: s.clone(),
        };
        y.suspend(7);
        panic!("the body's own");
    });
    assert_eq!(co.resume(0).unwrap(), Resumed::Yield(7));
    match co.resume(0) {
        Err(coro::Error::Panic(payload)) => assert_eq!(payload.message(), "the body's own"),
        other => panic!("expected the body's panic, got {other:?}"),
    }
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(seen.borrow().as_slice(), [REFUSED; 2]);
}

// A coroutine resumed by a destructor while the resumer's own panic
// unwinds is not refused: the panic in flight is not its own.
#[test]
fn a_coroutine_resumed_during_anothers_unwind_suspends() {
    struct Drives(Rc<RefCell<Coroutine<u32, u32, ()>>>, Seen);
    impl Drop for Drives {
        fn drop(&mut self) {
            let got = self.0.borrow_mut().resume(5);
            self.1.borrow_mut().push(format!("{got:?}"));
        }
    }
    let co = Rc::new(RefCell::new(Coroutine::new(|y: &Yielder<u32, u32>, n| {
        let mut n = n;
        loop {
            n = y.suspend(n * 2);
        }
    })));
    let seen = Seen::default();
    let (c, s) = (co.clone(), seen.clone());
    let caught = panic::catch_unwind(AssertUnwindSafe(move || {
        let _drives = Drives(c, s);
        panic!("the resumer's");
    }));
    assert!(caught.is_err());
    assert_eq!(seen.borrow().as_slice(), ["Ok(Yield(10))"]);
    assert_eq!(co.borrow_mut().resume(6).unwrap(), Resumed::Yield(12));
}

// Under an executor's poll (`resume_async`), the refusal is the same.
#[test]
fn refused_under_a_poll() {
    let (tracker, seen) = (Tracker::new(), Seen::default());
    let (t, s) = (tracker.clone(), seen.clone());
    let mut co = Coroutine::new(move |y: &Yielder<u32, Tracked>, _: u32| {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let _suspends = Suspends {
                yielder: y,
                make: Box::new(|| t.make()),
                tries: 2,
                seen: s.clone(),
            };
            panic!("unwinding");
        }));
        assert!(caught.is_err());
        y.suspend(t.make());
    });
    let delivered = run_local(async { co.resume_async(0).await.unwrap() });
    let Resumed::Yield(value) = delivered else {
        panic!("expected a yield");
    };
    assert_eq!(value.id(), 2);
    assert_eq!(seen.borrow().as_slice(), [REFUSED; 2]);
    drop(value);
    drop(co);
    tracker.assert_all_dropped_once();
}
