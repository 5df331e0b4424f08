//! Panic payloads whose own destructor panics. A payload is user code too:
//! coro drops the ones nobody will see (a second panic beside the one
//! reported, the error of the `close` that `Drop` runs) only once the
//! thread's chain of coroutines is restored, and never lets their panic
//! unwind out of `resume`, `close` or `Drop`.
//!
//! Before this was so, such a payload left `resume` or `close` with the
//! coroutine still entered: `coro::running()` then pointed at a header that
//! was freed once the coroutine was dropped. Each test checks the chain
//! afterwards, and runs under Valgrind in CI.

mod common;

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

#[cfg(coro_stackful)]
use coro::Coroutine;
use coro::stackless::{self, Yielder};
use coro::{Error, Resumed, Status};

/// A panic payload whose destructor panics (with an ordinary `&str`).
struct Nasty(&'static str);

impl Drop for Nasty {
    fn drop(&mut self) {
        panic!("the payload {:?} panicked when dropped", self.0);
    }
}

/// A value whose destructor panics with a [`Nasty`] payload.
#[derive(Debug)]
struct DropsNasty(&'static str);

impl Drop for DropsNasty {
    fn drop(&mut self) {
        panic::panic_any(Nasty(self.0));
    }
}

/// The payload of `error`, which must be a panic with a [`Nasty`] payload,
/// taken apart without dropping a `Nasty`.
#[track_caller]
fn nasty_name(error: Error) -> &'static str {
    let Error::Panic(payload) = error else {
        panic!("expected a panic, got {error:?}");
    };
    // Moved out of its box, which is freed; the `Nasty` owns nothing else.
    let nasty = *payload.downcast::<Nasty>().expect("a Nasty payload");
    let name = nasty.0;
    std::mem::forget(nasty);
    name
}

/// The thread's chain is empty again and works: nothing is running on the
/// thread's own stack, and a new coroutine sees itself running.
#[track_caller]
fn assert_chain_restored() {
    assert!(
        coro::running().is_none(),
        "the chain still names a coroutine"
    );
    #[cfg(coro_stackful)]
    {
        let mut probe = Coroutine::<(), (), bool>::new(|_, ()| {
            coro::running().is_some_and(|me| me.status() == Status::Running)
        });
        assert_eq!(probe.resume(()).unwrap(), Resumed::Return(true));
    }
    let mut probe = stackless::Coroutine::new(|_: Yielder<(), ()>, ()| async {
        coro::running().is_some_and(|me| me.status() == Status::Running)
    });
    assert_eq!(probe.resume(()).unwrap(), Resumed::Return(true));
    assert!(coro::running().is_none());
}

/// A hand-written body: the first poll panics with "boom" or returns a
/// value that panics when dropped; dropping the body panics with a `Nasty`.
struct Body {
    panics: bool,
    _on_drop: DropsNasty,
}

impl Future for Body {
    type Output = DropsNasty;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<DropsNasty> {
        if self.panics {
            panic!("boom");
        }
        Poll::Ready(DropsNasty("returned value"))
    }
}

fn body(panics: bool) -> Body {
    Body {
        panics,
        _on_drop: DropsNasty("frame"),
    }
}

// The body panics, then dropping its frame panics with a payload that panics
// when dropped: the first panic is reported, and the second payload goes
// without leaving `resume`.
#[test]
fn stackless_panic_then_a_frame_whose_drop_panics() {
    let mut co = stackless::Coroutine::new(|_: Yielder<(), ()>, ()| body(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| co.resume(())));
    let error = result.expect("no panic leaves resume").unwrap_err();
    assert_eq!(error.to_string(), "boom");
    assert_eq!(co.status(), Status::Dead);
    assert_chain_restored();
    drop(co);
    assert_chain_restored();
}

// The body returns a value, dropping its frame panics (reported), and the
// value, which will not be handed out, panics too when dropped: that second
// payload goes without leaving `resume`.
#[test]
fn stackless_return_then_a_frame_and_a_value_whose_drops_panic() {
    let mut co = stackless::Coroutine::new(|_: Yielder<(), ()>, ()| body(false));
    let result = panic::catch_unwind(AssertUnwindSafe(|| co.resume(())));
    let error = result.expect("no panic leaves resume").unwrap_err();
    assert_eq!(nasty_name(error), "frame");
    assert_eq!(co.status(), Status::Dead);
    assert_chain_restored();
    drop(co);
    assert_chain_restored();
}

// While closing, a stackful body catches the unwind and suspends twice more
// with values whose drops panic: close reports the first, and the second
// payload goes without leaving `close` while the coroutine is entered.
#[cfg(coro_stackful)]
#[test]
fn stackful_close_with_two_late_panics() {
    let mut co = Coroutine::<(), DropsNasty, ()>::new(|y, ()| {
        let _ = panic::catch_unwind(AssertUnwindSafe(|| y.suspend(DropsNasty("first"))));
        let _ = panic::catch_unwind(AssertUnwindSafe(|| y.suspend(DropsNasty("second"))));
        let _ = panic::catch_unwind(AssertUnwindSafe(|| y.suspend(DropsNasty("third"))));
    });
    let first = co.resume(()).unwrap().yielded().unwrap();
    std::mem::forget(first);
    let result = panic::catch_unwind(AssertUnwindSafe(|| co.close()));
    let error = result.expect("no panic leaves close").unwrap_err();
    assert_eq!(nasty_name(error), "second");
    assert_eq!(co.status(), Status::Dead);
    assert_chain_restored();
    drop(co);
    assert_chain_restored();
}

// The body's own panic while closing is reported before a late one, which
// goes once the chain is restored.
#[cfg(coro_stackful)]
#[test]
fn stackful_close_reports_the_bodys_panic_before_a_late_one() {
    let mut co = Coroutine::<(), DropsNasty, ()>::new(|y, ()| {
        let _ = panic::catch_unwind(AssertUnwindSafe(|| y.suspend(DropsNasty("first"))));
        let _ = panic::catch_unwind(AssertUnwindSafe(|| y.suspend(DropsNasty("late"))));
        panic::panic_any(Nasty("body"));
    });
    std::mem::forget(co.resume(()).unwrap().yielded().unwrap());
    let result = panic::catch_unwind(AssertUnwindSafe(|| co.close()));
    let error = result.expect("no panic leaves close").unwrap_err();
    assert_eq!(nasty_name(error), "body");
    assert_chain_restored();
}

// `Drop` runs `close` and has nowhere to return its error: a payload that
// panics when dropped does not make the drop panic. Never-started bodies,
// on both backends.
#[test]
fn dropping_a_never_started_coroutine_discards_a_nasty_payload() {
    #[cfg(coro_stackful)]
    {
        let capture = DropsNasty("stackful capture");
        let co = Coroutine::<(), (), ()>::new(move |_, ()| drop(capture));
        let result = panic::catch_unwind(AssertUnwindSafe(|| drop(co)));
        assert!(result.is_ok(), "the drop panicked");
        assert_chain_restored();
    }

    let capture = DropsNasty("stackless capture");
    let co = stackless::Coroutine::new(move |_: Yielder<(), ()>, ()| async move { drop(capture) });
    let result = panic::catch_unwind(AssertUnwindSafe(|| drop(co)));
    assert!(result.is_ok(), "the drop panicked");
    assert_chain_restored();
}

// The same for a suspended stackless coroutine, whose close drops a frame
// with such a local.
#[test]
fn dropping_a_suspended_stackless_coroutine_discards_a_nasty_payload() {
    let mut co = stackless::Coroutine::new(|y: Yielder<(), ()>, ()| async move {
        let _local = DropsNasty("local");
        y.suspend(()).await;
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(()));
    let result = panic::catch_unwind(AssertUnwindSafe(|| drop(co)));
    assert!(result.is_ok(), "the drop panicked");
    assert_chain_restored();
}

/// A payload whose destructor panics with another of its kind, forever.
struct Hydra;

impl Drop for Hydra {
    fn drop(&mut self) {
        panic::panic_any(Hydra);
    }
}

// A payload that can never be dropped (each drop panics with a new one)
// makes the process abort with coro's message, as Rust's runtime does with a
// payload whose drop panics; it never unwinds out of `Drop`.
#[test]
fn a_payload_that_panics_forever_aborts() {
    const NAME: &str = "a_payload_that_panics_forever_aborts";
    if common::is_child(NAME) {
        struct DropsHydra;
        impl Drop for DropsHydra {
            fn drop(&mut self) {
                panic::panic_any(Hydra);
            }
        }
        let capture = DropsHydra;
        let co =
            stackless::Coroutine::new(move |_: Yielder<(), ()>, ()| async move { drop(capture) });
        let _ = panic::catch_unwind(AssertUnwindSafe(|| drop(co)));
        unreachable!("the drop must abort");
    }
    let output = common::run_child(NAME);
    let stderr = common::assert_aborted(&output);
    assert!(
        stderr.contains("coro: the payload of a panic panicked when dropped"),
        "{stderr}"
    );
}
