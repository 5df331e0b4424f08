//! Suspending inside `std::panic::catch_unwind`: Lua 5.2's yieldable
//! `pcall`. A body can suspend inside a `catch_unwind`, later panic there and
//! catch it, and carry on suspending.

mod common;

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use common::Log;
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

// Lua scenario 14, in a stackful coroutine's terms: where suspension is
// impossible (a destructor running during a caught panic on the coroutine's
// own stack) the free suspend fails with AcrossBoundary and `is_yieldable`
// is false; the coroutine is still usable afterwards.
#[test]
fn no_suspension_from_a_destructor_during_a_panic() {
    struct TryToSuspend(Rc<RefCell<Vec<String>>>);
    impl Drop for TryToSuspend {
        fn drop(&mut self) {
            let mut log = self.0.borrow_mut();
            log.push(format!("yieldable={}", coro::is_yieldable()));
            match coro::suspend::<(), &'static str>("from a destructor") {
                Ok(()) => log.push("suspended".into()),
                Err(e) => log.push(e.to_string()),
            }
        }
    }
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let l = log.clone();
    let mut co = Coroutine::new(move |y: &Yielder<(), &'static str>, ()| {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let _t = TryToSuspend(l);
            panic!("unwinding");
        }));
        assert!(caught.is_err());
        assert!(coro::is_yieldable());
        y.suspend("still usable");
        "done"
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield("still usable"));
    assert_eq!(
        *log.borrow(),
        [
            "yieldable=false",
            "attempt to yield across a C-call boundary"
        ]
    );
    assert_eq!(co.resume(()).unwrap(), Resumed::Return("done"));
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

// A coroutine resumed by a destructor while a panic unwinds the *resumer's*
// stack is not itself unwinding: it can suspend (DESIGN: suspension is refused
// only while a panic is in flight on the coroutine's own stack, and
// `is_yieldable` is true in any running coroutine that is not unwinding).
#[test]
fn coroutine_resumed_from_a_destructor_during_a_panic_can_suspend() {
    struct Drive(Rc<RefCell<Vec<String>>>);
    impl Drop for Drive {
        fn drop(&mut self) {
            let mut co = Coroutine::<(), u8, u8>::new(|y, ()| {
                y.suspend(u8::from(coro::is_yieldable()));
                y.suspend(2);
                3
            });
            let mut log = self.0.borrow_mut();
            for _ in 0..3 {
                log.push(match co.resume(()) {
                    Ok(r) => format!("{r:?}"),
                    Err(e) => format!("error: {e}"),
                });
            }
        }
    }
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let l = log.clone();
    let caught = panic::catch_unwind(AssertUnwindSafe(move || {
        let _d = Drive(l);
        panic!("the resumer's own panic");
    }));
    assert!(caught.is_err());
    assert_eq!(*log.borrow(), ["Yield(1)", "Yield(2)", "Return(3)"]);
}

// The same from inside a coroutine: its destructor, run by a panic it
// catches, drives a generator to the end.
#[test]
fn generator_driven_from_a_destructor_during_a_caught_panic() {
    type Outcome = Rc<RefCell<Option<Result<Vec<u8>, Error>>>>;
    struct Collect(Outcome);
    impl Drop for Collect {
        fn drop(&mut self) {
            let mut co = Coroutine::<(), u8, ()>::new(|y, ()| {
                for i in 0..3 {
                    y.suspend(i);
                }
            });
            let mut items = Vec::new();
            let result = loop {
                match co.resume(()) {
                    Ok(Resumed::Yield(v)) => items.push(v),
                    Ok(Resumed::Return(())) => break Ok(items),
                    Err(e) => break Err(e),
                }
            };
            *self.0.borrow_mut() = Some(result);
        }
    }
    let slot: Outcome = Rc::default();
    let s = slot.clone();
    let mut co = Coroutine::<(), (), bool>::new(move |_, ()| {
        panic::catch_unwind(AssertUnwindSafe(|| {
            let _c = Collect(s);
            panic!("caught in the body");
        }))
        .is_err()
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(true));
    match slot.borrow_mut().take() {
        Some(Ok(items)) => assert_eq!(items, [0, 1, 2]),
        other => panic!("the generator did not run to its end: {other:?}"),
    }
}

// The practical consequence, in a child process because it can abort: an
// iterator over a generator, used in a destructor while a panic unwinds,
// must work like any other iterator there.
#[test]
fn generator_iterated_in_a_destructor_during_unwinding_does_not_abort() {
    const NAME: &str = "generator_iterated_in_a_destructor_during_unwinding_does_not_abort";
    if common::is_child(NAME) {
        struct SumOnDrop;
        impl Drop for SumOnDrop {
            fn drop(&mut self) {
                let g = Coroutine::<(), u32, ()>::new(|y, ()| {
                    for i in 1..=10 {
                        y.suspend(i);
                    }
                });
                let sum: u32 = g.into_iter().sum();
                println!("sum={sum}");
            }
        }
        let caught = panic::catch_unwind(|| {
            let _s = SumOnDrop;
            panic!("unwinding past the generator");
        });
        assert!(caught.is_err());
        return;
    }
    let output = common::run_child(NAME);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("sum=55"),
        "child failed: {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
