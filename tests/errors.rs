//! Errors: panics returned to the resumer as `Error::Panic`, Lua's messages,
//! payloads kept unchanged, and `Error` as an ordinary `std` error.

mod common;

use std::cell::Cell;
use std::error::Error as StdError;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::Tracker;
use coro::{Coroutine, Error, PanicPayload, Resumed, Status, Yielder};

/// Resumes `co` and expects the body to have panicked.
#[track_caller]
fn expect_panic<I, Y: std::fmt::Debug, R: std::fmt::Debug>(
    co: &mut Coroutine<I, Y, R>,
    input: I,
) -> PanicPayload {
    match co.resume(input) {
        Err(Error::Panic(payload)) => payload,
        other => panic!("expected Error::Panic, got {other:?}"),
    }
}

// A panic in the body comes back as `Err(Error::Panic)` with its message; the
// panic does not unwind into the resumer, and the coroutine is dead.
#[test]
fn panic_is_returned_with_its_message_and_the_coroutine_dies() {
    let mut co = Coroutine::new(|y: &Yielder<(), i32>, ()| {
        y.suspend(1);
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
    let mut co = Coroutine::<u32, (), ()>::new(|_, n| panic!("bad input {n}"));
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
    let mut co = Coroutine::<i32, (), ()>::new(|_, n| panic::panic_any(n));
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
    let mut co = Coroutine::<(), (), ()>::new(|_, ()| panic::panic_any(Custom(vec![1, 2, 3])));
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
    let mut co = Coroutine::<[u64; 64], (), ()>::new(move |_, _| {
        let a = Rc::new(Cell::new(10));
        s.set(Some(Box::new(move || {
            a.set(a.get() + 1);
            a.get()
        })));
        panic!("x");
    });
    assert_eq!(expect_panic(&mut co, [0; 64]).message(), "x");
    // Overwrite whatever the dead body's stack held.
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
    let mut co = Coroutine::<common::Tracked, (), ()>::new(|_, _t| {});
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
    let mut co = Coroutine::<(), (), ()>::new(move |y, ()| {
        let _a = t.make();
        let _b = t.make();
        y.suspend(());
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

// Every error with a Lua counterpart prints Lua's message verbatim.
#[test]
fn lua_messages_verbatim() {
    assert_eq!(Error::Dead.to_string(), "cannot resume dead coroutine");
    assert_eq!(
        Error::NotSuspended.to_string(),
        "cannot resume non-suspended coroutine"
    );
    assert_eq!(Error::TooDeep.to_string(), "C stack overflow");
    assert_eq!(
        Error::OutsideCoroutine.to_string(),
        "attempt to yield from outside a coroutine"
    );
    assert_eq!(
        Error::AcrossBoundary.to_string(),
        "attempt to yield across a C-call boundary"
    );
}

// The errors without a Lua counterpart have messages that say what happened.
#[test]
fn other_messages_are_clear() {
    let mismatch = Error::TypeMismatch {
        expected: ("u8", "u16"),
        found: ("u32", "u64"),
    };
    let text = mismatch.to_string();
    for name in ["u8", "u16", "u32", "u64"] {
        assert!(text.contains(&format!("`{name}`")), "{text}");
    }

    let alloc = Error::StackAllocation {
        size: 64 * 1024,
        source: io::Error::from_raw_os_error(libc::ENOMEM),
    };
    let text = alloc.to_string();
    assert!(text.contains("64 KiB"), "{text}");
    assert!(text.contains("stack"), "{text}");
    let source = alloc.source().expect("the OS error is the source");
    assert_eq!(
        source.to_string(),
        io::Error::from_raw_os_error(libc::ENOMEM).to_string()
    );
    assert!(Error::Dead.source().is_none());
}

// `Error` is `Send + Sync + 'static`, and so is `PanicPayload`.
#[test]
fn error_is_send_sync_static() {
    fn assert_traits<T: Send + Sync + 'static + StdError>() {}
    fn assert_payload<T: Send + Sync + 'static + std::fmt::Debug + std::fmt::Display>() {}
    assert_traits::<Error>();
    assert_payload::<PanicPayload>();
}

// Through `?` into `Box<dyn Error + Send + Sync>`, panic message included,
// and across a thread boundary.
#[test]
fn error_travels_through_question_mark_and_threads() {
    fn run(fail: bool) -> Result<i32, Box<dyn StdError + Send + Sync>> {
        let mut co = Coroutine::<bool, (), i32>::new(|_, fail| {
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
        let mut co = Coroutine::<(), (), ()>::new(|_, ()| panic::panic_any(vec![1u8, 2]));
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
    let mut co = Coroutine::<(), (), ()>::new(|_, ()| panic!("visible"));
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
    let mut outer = Coroutine::new(|y: &Yielder<(), String>, ()| {
        let mut inner = Coroutine::<(), (), ()>::new(|_, ()| panic!("inner failure"));
        let err = inner.resume(()).unwrap_err();
        assert_eq!(inner.status(), Status::Dead);
        assert_eq!(coro::running().unwrap().status(), Status::Running);
        y.suspend(err.to_string());
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
