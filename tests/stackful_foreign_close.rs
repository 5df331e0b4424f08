//! Closing a stackful coroutine suspended under C frames, and panics in C
//! callbacks, through `coro::foreign`. (Stackful only: a stackless body
//! cannot suspend from a C callback at all.)

// Only where coro builds its stackful backend (x86_64 and aarch64 Unix).
#![cfg(coro_stackful)]

mod common;

use std::cmp::Ordering;
use std::ffi::{c_int, c_void};

use common::{Log, Tracker};
use coro::{Coroutine, Error, Resumed, Status};

/// A comparator that asks the resumer, wrapped so no unwind leaves it.
extern "C" fn ask(a: *const c_void, b: *const c_void) -> c_int {
    coro::foreign::callback(0, || {
        // SAFETY: qsort passes pointers to two elements of our `i32` array.
        let pair = unsafe { (*a.cast::<i32>(), *b.cast::<i32>()) };
        coro::suspend::<(i32, i32), Ordering>(pair).unwrap() as c_int
    })
}

/// The same comparator without the wrapper.
extern "C" fn ask_bare(a: *const c_void, b: *const c_void) -> c_int {
    // SAFETY: as above.
    let pair = unsafe { (*a.cast::<i32>(), *b.cast::<i32>()) };
    coro::suspend::<(i32, i32), Ordering>(pair).unwrap() as c_int
}

/// A comparator that panics on its third call.
extern "C" fn explode(a: *const c_void, b: *const c_void) -> c_int {
    coro::foreign::callback(0, || {
        thread_local!(static CALLS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
        if CALLS.with(|c| c.replace(c.get() + 1)) == 2 {
            panic!("comparator exploded");
        }
        // SAFETY: as above.
        let (a, b) = unsafe { (*a.cast::<i32>(), *b.cast::<i32>()) };
        a.cmp(&b) as c_int
    })
}

fn qsort(numbers: &mut [i32], compare: extern "C" fn(*const c_void, *const c_void) -> c_int) {
    // SAFETY: a valid, exclusively borrowed array of `i32` and a comparator
    // for `i32`s.
    unsafe {
        libc::qsort(
            numbers.as_mut_ptr().cast(),
            numbers.len(),
            size_of::<i32>(),
            Some(compare),
        )
    }
}

/// A sorter that holds tracked values above and below the C frames.
fn sorter(log: &Log, tracker: &Tracker) -> Coroutine<Ordering, (i32, i32), Vec<i32>> {
    let (log, tracker) = (log.clone(), tracker.clone());
    Coroutine::new(move |_, _| {
        let _before = log.noisy("local of the body");
        let _value = tracker.make();
        let mut numbers = vec![5, 3, 9, 1, 7, 2];
        coro::foreign::call(|| qsort(&mut numbers, ask));
        log.push("after qsort");
        numbers
    })
}

#[test]
fn close_under_c_frames_drops_every_local() {
    let (log, tracker) = (Log::new(), Tracker::new());
    let mut co = sorter(&log, &tracker);
    let (a, b) = co.resume(Ordering::Equal).unwrap().yielded().unwrap();
    assert!(co.resume(a.cmp(&b)).unwrap().is_yield());
    assert!(co.close().is_ok());
    assert_eq!(co.status(), Status::Dead);
    // The code after qsort never ran; the body's local was dropped by the
    // resumed unwind.
    assert_eq!(log.entries(), ["local of the body"]);
    tracker.assert_all_dropped_once();
}

#[test]
fn drop_under_c_frames_drops_every_local() {
    let (log, tracker) = (Log::new(), Tracker::new());
    let mut co = sorter(&log, &tracker);
    assert!(co.resume(Ordering::Equal).unwrap().is_yield());
    let handle = co.handle();
    drop(co);
    assert_eq!(handle.status(), Status::Dead);
    assert_eq!(log.entries(), ["local of the body"]);
    tracker.assert_all_dropped_once();
}

#[test]
fn answered_to_the_end_the_wrapped_sort_is_right() {
    let (log, tracker) = (Log::new(), Tracker::new());
    let mut co = sorter(&log, &tracker);
    let mut answer = Ordering::Equal;
    let sorted = loop {
        match co.resume(answer).unwrap() {
            Resumed::Yield((a, b)) => answer = a.cmp(&b),
            Resumed::Return(sorted) => break sorted,
        }
    };
    assert_eq!(sorted, [1, 2, 3, 5, 7, 9]);
    assert_eq!(log.entries(), ["after qsort", "local of the body"]);
    tracker.assert_all_dropped_once();
}

#[test]
fn a_panicking_callback_panics_out_of_call() {
    let log = Log::new();
    let inner = log.clone();
    let mut co = Coroutine::<(), (), Vec<i32>>::new(move |_, ()| {
        let _guard = inner.noisy("guard");
        let mut numbers = vec![4, 2, 8, 6, 1];
        coro::foreign::call(|| qsort(&mut numbers, explode));
        inner.push("not reached");
        numbers
    });
    match co.resume(()) {
        Err(Error::Panic(payload)) => assert_eq!(payload.message(), "comparator exploded"),
        other => panic!("expected the callback's panic, got {other:?}"),
    }
    assert_eq!(log.entries(), ["guard"]);
    assert_eq!(co.status(), Status::Dead);
}

#[test]
fn on_the_main_stack_a_panicking_callback_panics_out_of_call() {
    let caught = std::panic::catch_unwind(|| {
        let mut numbers = vec![3, 2, 1, 0];
        coro::foreign::call(|| qsort(&mut numbers, explode));
    });
    let payload = caught.expect_err("the panic crosses the C frames");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"comparator exploded"));
    // Nothing stays parked: the next call is clean.
    assert_eq!(coro::foreign::call(|| 5), 5);
}

// Without `foreign::call`, closing a coroutine suspended under C frames
// cannot unwind them: the process aborts, saying why and what to do.
#[test]
fn close_under_bare_c_frames_aborts_with_a_reason() {
    const NAME: &str = "close_under_bare_c_frames_aborts_with_a_reason";
    if common::is_child(NAME) {
        let mut co = coro::Builder::new()
            .name("bare sorter")
            .build(|_: &coro::Yielder<Ordering, (i32, i32)>, _| {
                let mut numbers = vec![2, 1, 3];
                qsort(&mut numbers, ask_bare);
            })
            .unwrap();
        co.resume(Ordering::Equal).unwrap();
        let _ = co.close();
        unreachable!("closing under bare C frames must abort");
    }
    let output = common::run_child(NAME);
    let stderr = common::assert_aborted(&output);
    // Under AddressSanitizer, `qsort` is its interceptor, which sorts by
    // itself and is linked into the test binary: no frame of another object
    // is on the stack, and the abort is Rust's own (as documented for C code
    // linked into the program).
    if cfg!(coro_asan) {
        assert!(stderr.contains("cannot unwind"), "{stderr}");
        return;
    }
    // coro's own message, before Rust's generic "panic in a function that
    // cannot unwind" could be printed: the coroutine, the C code's object,
    // and the remedy.
    assert!(
        stderr.contains("coro: cannot close coroutine 'bare sorter'"),
        "{stderr}"
    );
    assert!(stderr.contains("libc"), "{stderr}");
    assert!(stderr.contains("coro::foreign::callback"), "{stderr}");
    assert!(!stderr.contains("cannot unwind"), "{stderr}");
}
