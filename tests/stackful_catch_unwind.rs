//! Suspending inside `std::panic::catch_unwind`: Lua 5.2's yieldable
//! `pcall`. A body can suspend inside a `catch_unwind`, later panic there and
//! catch it, and carry on suspending; a body can even catch the forced unwind
//! with which `close` destroys its stack.
//!
//! Stackful only: `catch_unwind` takes a plain closure, so a stackless body
//! cannot suspend inside one (an `.await` is only allowed in async code), and
//! a stackless `close` drops the frame without unwinding it, so there is
//! nothing to catch. What both backends share about panics in flight is in
//! the conformance suite (tests/conformance/during_unwind.rs).

// Only where coro builds its stackful backend (x86_64 and aarch64 Unix).
#![cfg(coro_stackful)]

mod common;

use std::panic::{self, AssertUnwindSafe};

use common::{Log, Tracker};
use coro::{Coroutine, Error, Resumed, Status, Yielder};

/// Records, when dropped, whether a panic was unwinding through it.
struct SeesPanic(Log, &'static str);

impl Drop for SeesPanic {
    fn drop(&mut self) {
        self.0
            .push(format!("{} panicking={}", self.1, std::thread::panicking()));
    }
}

// Lua scenario 13: a panic after a suspension, inside `catch_unwind` in the
// body, is caught there; a destructor between sees the panic; the body goes
// on and yields more, then returns.
#[test]
fn panic_after_suspension_is_caught_inside_the_body() {
    let log = Log::new();
    let l = log.clone();
    let mut co = Coroutine::new(move |y: &Yielder<i32, String>, first: i32| {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let _guard = SeesPanic(l.clone(), "guard");
            let n = y.suspend(format!("inside {first}"));
            if n > 0 {
                panic!("failed with {n}");
            }
            n
        }));
        let message = match caught {
            Ok(n) => format!("no panic {n}"),
            Err(payload) => payload.downcast::<String>().map(|s| *s).unwrap(),
        };
        let again = y.suspend(message);
        y.suspend(format!("after {again}"));
        "end".to_string()
    });
    assert_eq!(
        co.resume(1).unwrap(),
        Resumed::Yield("inside 1".to_string())
    );
    assert!(log.is_empty());
    assert_eq!(
        co.resume(5).unwrap(),
        Resumed::Yield("failed with 5".to_string())
    );
    assert_eq!(log.entries(), ["guard panicking=true"]);
    assert!(!std::thread::panicking());
    assert_eq!(co.resume(6).unwrap(), Resumed::Yield("after 6".to_string()));
    assert_eq!(co.resume(7).unwrap(), Resumed::Return("end".to_string()));
}

// Lua scenario 15: yields from inside `catch_unwind` reach the resumer, which
// sums them: 55.
#[test]
fn yields_from_inside_catch_unwind_sum_to_55() {
    let co = Coroutine::new(|y: &Yielder<(), u32>, ()| {
        panic::catch_unwind(AssertUnwindSafe(|| {
            for i in 1..=10 {
                y.suspend(i);
            }
        }))
        .is_ok()
    });
    let sum: u32 = co.into_iter().sum();
    assert_eq!(sum, 55);
}

// Lua scenario 15, the other way round: a body sums a generator inside
// `catch_unwind`, suspending between items, and gets 55.
#[test]
fn generator_summed_inside_catch_unwind() {
    let mut co = Coroutine::new(|y: &Yielder<(), u32>, ()| {
        panic::catch_unwind(AssertUnwindSafe(|| {
            let numbers = Coroutine::new(|g: &Yielder<(), u32>, ()| {
                for i in 1..=10 {
                    g.suspend(i);
                }
            });
            let mut sum = 0;
            for n in numbers {
                sum += n;
                y.suspend(sum);
            }
            sum
        }))
        .unwrap()
    });
    let mut partial = Vec::new();
    let total = loop {
        match co.resume(()).unwrap() {
            Resumed::Yield(s) => partial.push(s),
            Resumed::Return(total) => break total,
        }
    };
    assert_eq!(total, 55);
    assert_eq!(partial, [1, 3, 6, 10, 15, 21, 28, 36, 45, 55]);
}

// Lua scenario 16: `xpcall(f, handler, 10, 20)` where `f` yields, then fails
// with `a + b`: the first resume yields 10, the second (with 100) returns
// the handler's result.
#[test]
fn handler_gets_the_value_of_a_panic_after_a_yield() {
    fn handler(payload: Box<dyn std::any::Any + Send>) -> String {
        format!("handled {}", payload.downcast::<i32>().unwrap())
    }
    let mut co = Coroutine::new(|y: &Yielder<i32, i32>, first: i32| {
        let (a, _b) = (first, 20);
        panic::catch_unwind(AssertUnwindSafe(|| {
            let b = y.suspend(a);
            panic::panic_any(a + b);
        }))
        .map_or_else(handler, |()| "no panic".to_string())
    });
    assert_eq!(co.resume(10).unwrap().yielded(), Some(10));
    assert_eq!(
        co.resume(100).unwrap().returned().as_deref(),
        Some("handled 110")
    );
}

// A body suspended inside `catch_unwind` that passes on what it does not
// recognise (`resume_unwind`) is closed normally: its destructors run and
// close succeeds.
#[test]
fn close_through_a_catch_unwind_that_rethrows() {
    let log = Log::new();
    let l = log.clone();
    let mut co = Coroutine::<(), (), ()>::new(move |y, ()| {
        let _outer = l.noisy("outer");
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            let _inner = l.noisy("inner");
            y.suspend(());
        }));
        if let Err(payload) = result {
            l.push("caught, rethrowing");
            panic::resume_unwind(payload);
        }
        l.push("not reached");
    });
    co.resume(()).unwrap();
    co.close().unwrap();
    assert_eq!(log.entries(), ["inner", "caught, rethrowing", "outer"]);
    assert_eq!(co.status(), Status::Dead);
}

// A panic caught inside one coroutine does not disturb its resumer, which is
// itself inside `catch_unwind` in another coroutine, suspended and resumed
// in between.
#[test]
fn nested_catch_unwind_in_nested_coroutines() {
    let mut outer = Coroutine::new(|y: &Yielder<(), String>, ()| {
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut inner = Coroutine::new(|yi: &Yielder<(), String>, ()| {
                let r = panic::catch_unwind(AssertUnwindSafe(|| {
                    yi.suspend("inner before".into());
                    panic!("inner panic");
                }));
                yi.suspend(format!("inner caught: {}", r.is_err()));
                "inner end".to_string()
            });
            y.suspend(inner.resume(()).unwrap().yielded().unwrap());
            y.suspend(inner.resume(()).unwrap().yielded().unwrap());
            let end = inner.resume(()).unwrap().returned().unwrap();
            y.suspend(end);
            panic!("outer panic");
        }));
        format!("outer caught: {}", outcome.is_err())
    });
    let mut got = Vec::new();
    loop {
        match outer.resume(()).unwrap() {
            Resumed::Yield(s) => got.push(s),
            Resumed::Return(s) => {
                got.push(s);
                break;
            }
        }
    }
    assert_eq!(
        got,
        [
            "inner before",
            "inner caught: true",
            "inner end",
            "outer caught: true"
        ]
    );
    assert!(!std::thread::panicking());
}

// A body that catches the close's unwind and returns anyway: the coroutine
// is still dead, close succeeds, and the returned value is dropped.
#[test]
fn body_that_swallows_the_close_still_dies() {
    let tracker = Tracker::new();
    let t = tracker.clone();
    let mut co = Coroutine::new(move |y: &Yielder<(), ()>, ()| {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| y.suspend(())));
        assert!(caught.is_err(), "the close unwinds the pending suspend");
        // Suspending again is refused while closing.
        assert!(matches!(
            coro::suspend::<(), ()>(()),
            Err(Error::AcrossBoundary)
        ));
        assert!(!coro::is_yieldable());
        t.make()
    });
    co.resume(()).unwrap();
    co.close().unwrap();
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(tracker.made(), 1);
    tracker.assert_all_dropped_once();
}

// A body that catches the close's unwind and then suspends through its
// `Yielder`: that panics with Lua's message, and close returns the panic.
#[test]
fn yielder_suspend_during_close_panics_and_close_reports_it() {
    let mut co = Coroutine::new(|y: &Yielder<(), u8>, ()| {
        let _ = panic::catch_unwind(AssertUnwindSafe(|| y.suspend(1)));
        y.suspend(2);
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    match co.close() {
        Err(Error::Panic(payload)) => {
            assert_eq!(
                payload.message(),
                "attempt to yield across a C-call boundary"
            );
        }
        other => panic!("expected Error::Panic, got {other:?}"),
    }
    assert_eq!(co.status(), Status::Dead);
}
