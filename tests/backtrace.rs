//! The trampoline's CFI lets unwinders walk from a coroutine's frames into
//! the frames of whoever resumed it, so a backtrace taken inside a body names
//! the resumer's functions too. (Stackful only: a stackless body runs on its
//! resumer's stack anyway.)

use std::backtrace::Backtrace;

use coro::Coroutine;

#[inline(never)]
fn a_resumer_with_a_distinctive_name(co: &mut Coroutine<(), String, ()>) -> String {
    co.resume(()).unwrap().yielded().unwrap()
}

#[inline(never)]
fn a_frame_inside_the_body(y: &coro::Yielder<(), String>) {
    y.suspend(Backtrace::force_capture().to_string());
}

#[test]
fn a_backtrace_inside_a_body_reaches_the_resumer() {
    let mut co = Coroutine::<(), String, ()>::new(|y, ()| a_frame_inside_the_body(y));
    let trace = a_resumer_with_a_distinctive_name(&mut co);
    let inside = trace
        .find("a_frame_inside_the_body")
        .unwrap_or_else(|| panic!("no body frame in:\n{trace}"));
    let outside = trace
        .find("a_resumer_with_a_distinctive_name")
        .unwrap_or_else(|| panic!("the walk stopped at the coroutine's root:\n{trace}"));
    assert!(inside < outside, "frames out of order:\n{trace}");
    assert!(
        trace.contains("a_backtrace_inside_a_body_reaches_the_resumer"),
        "the walk did not reach the test function:\n{trace}"
    );
}

// A panic's backtrace is taken the same way, and must not crash the unwinder
// when it walks through the switch.
#[test]
fn panicking_with_backtraces_on_is_caught() {
    let mut co = Coroutine::<(), (), ()>::new(|_, ()| {
        let trace = Backtrace::force_capture().to_string();
        assert!(trace.contains("panicking_with_backtraces_on_is_caught"));
        panic!("boom");
    });
    let err = co.resume(()).unwrap_err();
    assert_eq!(err.to_string(), "boom");
}
