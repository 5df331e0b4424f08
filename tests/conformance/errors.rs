// Errors: panics returned to the resumer as `Error::Panic`, Lua's messages,
// payloads kept unchanged, and `Error` as an ordinary `std` error.

use std::cell::Cell;
use std::error::Error as StdError;
use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::Tracker;
use coro::{Error, PanicPayload, Resume, Resumed, Status};

/// Resumes `co` and expects the body to have panicked.
#[track_caller]
fn expect_panic<I, C>(co: &mut C, input: I) -> PanicPayload
where
    C: Resume<I, Yield: Debug, Return: Debug>,
{
    match co.resume(input) {
        Err(Error::Panic(payload)) => payload,
        other => panic!("expected Error::Panic, got {other:?}"),
    }
}

// A panic in the body comes back as `Err(Error::Panic)` with its message; the
// panic does not unwind into the resumer, and the coroutine is dead.
#[test]
fn panic_is_returned_with_its_message_and_the_coroutine_dies() {
    let mut co = coroutine!((), i32, (); |y, ()| {
        suspend!(y, 1);
        panic!("boom");
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    let payload = expect_panic(&mut co, ());
    assert_eq!(payload.message(), "boom");
    assert_eq!(payload.to_string(), "boom");
    assert!(payload.is::<&'static str>());
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(co.handle().status(), Status::Dead);

    let err = co.resume(()).unwrap_err();
    assert!(matches!(err, Error::Dead));
    assert_eq!(err.to_string(), "cannot resume dead coroutine");
}

// A formatted panic message (a `String` payload) is the error's `Display`.
#[test]
fn formatted_panic_message_is_the_display() {
    let mut co = coroutine!(u32, (), (); |_, n| panic!("bad input {n}"));
    let err = co.resume(std::hint::black_box(17)).unwrap_err();
    assert_eq!(err.to_string(), "bad input 17");
    let Error::Panic(payload) = err else {
        panic!("expected Error::Panic");
    };
    assert!(payload.is::<String>());
    assert!(!payload.is::<&'static str>());
    assert_eq!(*payload.downcast::<String>().unwrap(), "bad input 17");
}

// Lua scenario 10: a body that fails with the number it is resumed with gives
// that number back unchanged (Lua: `false, 100`). Closing it afterwards does
// nothing and succeeds, twice: coro's resume already delivered the error,
// where Lua's close would report it a second time.
#[test]
fn non_string_payload_comes_back_unchanged() {
    let mut co = coroutine!(i32, (), (); |_, n| panic::panic_any(n));
    let payload = expect_panic(&mut co, 100);
    assert!(payload.is::<i32>());
    assert!(!payload.is::<i64>());
    assert_eq!(payload.message(), "Box<dyn Any>");
    // A wrong guess gives the payload back unchanged.
    let payload = payload.downcast::<String>().unwrap_err();
    let payload = payload.downcast::<i64>().unwrap_err();
    assert_eq!(*payload.downcast::<i32>().unwrap(), 100);

    assert_eq!(co.status(), Status::Dead);
    assert!(co.close().is_ok());
    assert!(co.close().is_ok());
    assert!(matches!(co.resume(1), Err(Error::Dead)));
}

// `into_inner` hands back the original box, which can continue the panic in
// the resumer with `resume_unwind`, payload intact.
#[test]
fn into_inner_gives_back_the_box() {
    #[derive(Debug, PartialEq)]
    struct Custom(Vec<u8>);
    let mut co = coroutine!((), (), (); |_, ()| panic::panic_any(Custom(vec![1, 2, 3])));
    let payload = expect_panic(&mut co, ());
    let inner: Box<dyn std::any::Any + Send> = payload.into_inner();
    let caught = panic::catch_unwind(AssertUnwindSafe(|| panic::resume_unwind(inner))).unwrap_err();
    assert_eq!(*caught.downcast::<Custom>().unwrap(), Custom(vec![1, 2, 3]));
}

// Lua scenario 24: after a body fails, resuming it with a big input gives
// "dead", and the state a closure of that body captured is intact.
#[test]
fn dead_coroutine_leaves_closures_it_made_intact() {
    type Counter = Box<dyn Fn() -> i32>;
    let slot: Rc<Cell<Option<Counter>>> = Rc::default();
    let s = slot.clone();
    let mut co = coroutine!([u64; 64], (), (); |_, _| {
        let a = Rc::new(Cell::new(10));
        s.set(Some(Box::new(move || {
            a.set(a.get() + 1);
            a.get()
        })));
        panic!("x");
    });
    assert_eq!(expect_panic(&mut co, [0; 64]).message(), "x");
    // Overwrite whatever the dead body's frame held.
    let err = co.resume([u64::MAX; 64]).unwrap_err();
    assert_eq!(err.to_string(), "cannot resume dead coroutine");
    let f = slot.take().unwrap();
    assert_eq!(f(), 11);
    assert_eq!(f(), 12);
}

// The input of a refused resume is dropped, exactly once.
#[test]
fn input_of_a_refused_resume_is_dropped() {
    let tracker = Tracker::new();
    let mut co = coroutine!(common::Tracked, (), (); |_, _t| {});
    co.resume(tracker.make()).unwrap();
    assert_eq!(tracker.alive(), 0);
    assert!(matches!(co.resume(tracker.make()), Err(Error::Dead)));
    assert_eq!(tracker.made(), 2);
    tracker.assert_all_dropped_once();
}

// The locals of a panicking body are dropped (once) before the error comes
// back, and a value the panic carries is moved out, not copied or dropped.
#[test]
fn panicking_body_drops_its_locals() {
    /// A `Send` payload that counts its drops.
    struct Carried(Arc<AtomicUsize>);
    impl Drop for Carried {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let carried_drops = Arc::new(AtomicUsize::new(0));
    let tracker = Tracker::new();
    let t = tracker.clone();
    let c = carried_drops.clone();
    let mut co = coroutine!((), (), (); |y, ()| {
        let _a = t.make();
        let _b = t.make();
        suspend!(y, ());
        panic::panic_any(Carried(c));
    });
    co.resume(()).unwrap();
    assert_eq!(tracker.alive(), 2);
    let payload = expect_panic(&mut co, ());
    assert_eq!(tracker.made(), 2);
    tracker.assert_all_dropped_once();
    assert_eq!(
        carried_drops.load(Ordering::SeqCst),
        0,
        "the payload is alive"
    );
    let carried = payload.downcast::<Carried>().ok().unwrap();
    assert_eq!(carried_drops.load(Ordering::SeqCst), 0);
    drop(carried);
    assert_eq!(carried_drops.load(Ordering::SeqCst), 1);
}

// Through `?` into `Box<dyn Error + Send + Sync>`, panic message included,
// and across a thread boundary.
#[test]
fn error_travels_through_question_mark_and_threads() {
    fn run(fail: bool) -> Result<i32, Box<dyn StdError + Send + Sync>> {
        let mut co = coroutine!(bool, (), i32; |_, fail| {
            if fail {
                panic!("refused");
            }
            7
        });
        let value = co.resume(fail)?.returned().ok_or("no return")?;
        Ok(value)
    }
    assert_eq!(run(false).unwrap(), 7);
    let err = run(true).unwrap_err();
    assert_eq!(err.to_string(), "refused");
    let coro_err = err.downcast::<Error>().expect("a coro::Error inside");
    assert!(matches!(*coro_err, Error::Panic(_)));

    // A payload made on one thread is taken apart on another.
    let err = std::thread::spawn(|| {
        let mut co = coroutine!((), (), (); |_, ()| panic::panic_any(vec![1u8, 2]));
        co.resume(()).unwrap_err()
    })
    .join()
    .unwrap();
    let Error::Panic(payload) = err else {
        panic!("expected Error::Panic, got {err:?}");
    };
    let shared = std::sync::Arc::new(payload);
    let seen = std::thread::scope(|s| s.spawn(|| shared.message().to_owned()).join().unwrap());
    assert_eq!(seen, "Box<dyn Any>");
    let payload = std::sync::Arc::into_inner(shared).unwrap();
    assert_eq!(*payload.downcast::<Vec<u8>>().unwrap(), [1, 2]);
}

// `Debug` of an error and of a payload names what it is.
#[test]
fn debug_output() {
    let mut co = coroutine!((), (), (); |_, ()| panic!("visible"));
    let err = co.resume(()).unwrap_err();
    let text = format!("{err:?}");
    assert!(text.contains("Panic"), "{text}");
    assert!(text.contains("visible"), "{text}");
    assert_eq!(format!("{:?}", Error::TooDeep), "TooDeep");
}

// A panic in a nested coroutine is returned to its resumer (the outer body),
// which carries on; the outer coroutine is unaffected.
#[test]
fn nested_panic_stops_at_the_inner_coroutine() {
    let mut outer = coroutine!((), String, _; |y, ()| {
        let mut inner = coroutine!((), (), (); |_, ()| panic!("inner failure"));
        let err = inner.resume(()).unwrap_err();
        assert_eq!(inner.status(), Status::Dead);
        assert_eq!(coro::running().unwrap().status(), Status::Running);
        suspend!(y, err.to_string());
        "outer done".to_string()
    });
    assert_eq!(
        outer.resume(()).unwrap(),
        Resumed::Yield("inner failure".to_string())
    );
    assert_eq!(outer.status(), Status::Suspended);
    assert_eq!(
        outer.resume(()).unwrap(),
        Resumed::Return("outer done".to_string())
    );
}
