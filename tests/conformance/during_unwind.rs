// Coroutines and panics in flight: no suspension from a destructor that a
// panic runs on the coroutine's own stack, but a coroutine resumed by such a
// destructor is an ordinary coroutine and can suspend.
//
// Suspending *inside* `std::panic::catch_unwind` (Lua's yieldable `pcall`)
// is stackful-only: tests/stackful_catch_unwind.rs.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use coro::{Error, Resumed};

/// Tries, when dropped, to suspend its coroutine with the free `suspend`,
/// and records what happened.
struct TryToSuspend(Rc<RefCell<Vec<String>>>);

impl Drop for TryToSuspend {
    fn drop(&mut self) {
        let mut log = self.0.borrow_mut();
        log.push(format!("yieldable={}", coro::is_yieldable()));
        match coro::suspend::<&'static str, ()>("from a destructor") {
            Ok(()) => log.push("suspended".into()),
            Err(e) => log.push(e.to_string()),
        }
    }
}

/// Records, when dropped, whether a panic was unwinding through it.
struct SeesPanic(Rc<RefCell<Vec<String>>>);

impl Drop for SeesPanic {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        self.0.borrow_mut().push(format!("panicking={panicking}"));
    }
}

// Lua scenario 13, without suspending inside the `pcall`: a panic caught by
// `catch_unwind` inside the body stays there; a destructor between sees the
// panic; the body goes on, suspends and returns. (Suspending inside the
// `catch_unwind` is stackful-only: tests/stackful_catch_unwind.rs.)
#[test]
fn panic_caught_inside_the_body() {
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let l = log.clone();
    let mut co = coroutine!(i32, String, _; |y, first| {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let _guard = SeesPanic(l.clone());
            if first > 0 {
                panic!("failed with {first}");
            }
            first
        }));
        let message = match caught {
            Ok(n) => format!("no panic {n}"),
            Err(payload) => payload.downcast::<String>().map(|s| *s).unwrap(),
        };
        assert_eq!(coro::running().unwrap().status(), coro::Status::Running);
        let again = suspend!(y, message);
        format!("after {again}")
    });
    assert_eq!(
        co.resume(5).unwrap(),
        Resumed::Yield("failed with 5".to_string())
    );
    assert_eq!(*log.borrow(), ["panicking=true"]);
    assert!(!std::thread::panicking());
    assert_eq!(
        co.resume(6).unwrap(),
        Resumed::Return("after 6".to_string())
    );
}

// Lua scenario 14, in coro's terms: where suspension is impossible (a
// destructor running during a caught panic on the coroutine's own stack)
// the free suspend fails with AcrossBoundary and `is_yieldable` is false;
// the coroutine is still usable afterwards.
#[test]
fn no_suspension_from_a_destructor_during_a_panic() {
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let l = log.clone();
    let mut co = coroutine!((), &'static str, _; |y, ()| {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let _t = TryToSuspend(l);
            panic!("unwinding");
        }));
        assert!(caught.is_err());
        assert_eq!(coro::is_yieldable(), BODY_IS_YIELDABLE);
        suspend!(y, "still usable");
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

// The same in a body that the panic kills: its destructors cannot suspend
// either, and the resumer gets the panic.
#[test]
fn no_suspension_from_a_destructor_of_a_dying_body() {
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let l = log.clone();
    let mut co = coroutine!((), &'static str, (); |_, ()| {
        let _t = TryToSuspend(l);
        panic!("dying");
    });
    let err = co.resume(()).unwrap_err();
    assert!(matches!(err, Error::Panic(_)), "{err:?}");
    assert_eq!(err.to_string(), "dying");
    assert_eq!(
        *log.borrow(),
        [
            "yieldable=false",
            "attempt to yield across a C-call boundary"
        ]
    );
    assert_eq!(co.status(), coro::Status::Dead);
}

// A coroutine resumed by a destructor while a panic unwinds the *resumer's*
// stack is not itself unwinding: it can suspend (the crate docs: suspension is refused
// only while a panic is in flight on the coroutine's own stack, and
// `is_yieldable` is true in any running stackful coroutine that is not
// unwinding).
#[test]
fn coroutine_resumed_from_a_destructor_during_a_panic_can_suspend() {
    struct Drive(Rc<RefCell<Vec<String>>>);
    impl Drop for Drive {
        fn drop(&mut self) {
            let mut co = coroutine!((), u8, u8; |y, ()| {
                suspend!(y, u8::from(coro::is_yieldable()));
                suspend!(y, 2);
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
    let first = format!("Yield({})", u8::from(BODY_IS_YIELDABLE));
    assert_eq!(*log.borrow(), [first.as_str(), "Yield(2)", "Return(3)"]);
}

// The same from inside a coroutine: its destructor, run by a panic it
// catches, drives a generator to the end.
#[test]
fn generator_driven_from_a_destructor_during_a_caught_panic() {
    type Outcome = Rc<RefCell<Option<Result<Vec<u8>, Error>>>>;
    struct Collect(Outcome);
    impl Drop for Collect {
        fn drop(&mut self) {
            let mut co = coroutine!((), u8, (); |y, ()| {
                for i in 0..3 {
                    suspend!(y, i);
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
    let mut co = coroutine!((), (), bool; |_, ()| {
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
    let name = test_path(
        module_path!(),
        "generator_iterated_in_a_destructor_during_unwinding_does_not_abort",
    );
    if common::is_child(&name) {
        struct SumOnDrop;
        impl Drop for SumOnDrop {
            fn drop(&mut self) {
                let g = coroutine!((), u32, (); |y, ()| {
                    for i in 1..=10 {
                        suspend!(y, i);
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
    let output = common::run_child(&name);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("sum=55"),
        "child failed: {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
