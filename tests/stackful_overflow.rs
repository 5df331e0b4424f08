//! Stack overflows of stackful coroutines: reported by the name of the
//! coroutine whose stack overflowed and its size, then an abort, as Rust
//! reports a thread's — never a bare SIGSEGV.
//!
//! The stack is found by the faulting address, not by the current coroutine,
//! since code runs on a stackful coroutine's stack while another coroutine is
//! current: a stackless coroutine it resumes or closes, a never-started
//! coroutine it drops, a value `close` drops for it. And a coroutine closed
//! by a thread-local's destructor, after Rust removed the thread's signal
//! stack, is reported too.
//!
//! Every test here that overflows does so in a child process (the overflow
//! ends it); the parent checks how it ended.

mod common;

use std::cell::RefCell;
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};

use coro::{Builder, Coroutine, MIN_STACK_SIZE, Yielder, stackless};

/// Recurses until the stack runs out.
#[allow(unconditional_recursion)]
#[inline(never)]
fn forever(n: u64) -> u64 {
    let frame = black_box([n; 64]);
    forever(n + 1) + black_box(frame)[0]
}

/// Recurses until the stack runs out when dropped.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        black_box(forever(0));
    }
}

/// Runs `body` on a stackful coroutine named "host" with the smallest
/// stack; `body` must overflow it.
fn on_host(body: impl FnOnce() + 'static) -> ! {
    let mut host = Builder::new()
        .name("host")
        .stack_size(MIN_STACK_SIZE)
        .build(move |_: &Yielder<(), ()>, ()| body())
        .unwrap();
    let _ = host.resume(());
    unreachable!("the overflow must end the process");
}

/// Runs the test `name` in a child, and asserts that it aborted with the
/// report of an overflow of coroutine `who`'s stack of `kib` KiB.
#[track_caller]
fn assert_reported(name: &str, who: &str, kib: usize) {
    let output = common::run_child(name);
    let stderr = common::assert_aborted(&output);
    let report = format!(
        "coroutine '{who}' has overflowed its stack of {kib} KiB\n\
         help: give it a bigger stack with coro::Builder::stack_size\n\
         fatal runtime error: stack overflow, aborting\n"
    );
    assert!(stderr.contains(&report), "{report:?} missing in:\n{stderr}");
}

// Overflowing a coroutine's stack is reported by name and aborts, like
// Rust's own "thread '<name>' has overflowed its stack".
#[test]
fn stack_overflow_is_reported_by_name() {
    const NAME: &str = "stack_overflow_is_reported_by_name";
    if common::is_child(NAME) {
        // Coroutines made before it move its stack's top a few cache lines
        // down (the stacks' coloring): the guard page is found all the same.
        for _ in 0..7 {
            drop(Coroutine::<(), (), ()>::new(|_, ()| {}));
        }
        let mut co = Builder::new()
            .name("deep-diver")
            .stack_size(MIN_STACK_SIZE)
            .build(|_: &Yielder<(), ()>, ()| forever(0))
            .unwrap();
        let _ = co.resume(());
        unreachable!("the overflow must end the process");
    }
    assert_reported(NAME, "deep-diver", 16);
}

// Without a name, the report says so.
#[test]
fn an_unnamed_coroutine_is_reported_as_such() {
    const NAME: &str = "an_unnamed_coroutine_is_reported_as_such";
    if common::is_child(NAME) {
        let mut co = Builder::new()
            .stack_size(32 * 1024)
            .build(|_: &Yielder<(), ()>, ()| forever(0))
            .unwrap();
        let _ = co.resume(());
        unreachable!("the overflow must end the process");
    }
    assert_reported(NAME, "<unnamed>", 32);
}

// Our fault handler passes faults that are not a coroutine's overflow to the
// one that was there before: a thread's own overflow is still reported by
// Rust's handler.
#[test]
fn a_thread_overflow_is_still_reported_by_rust() {
    const NAME: &str = "a_thread_overflow_is_still_reported_by_rust";
    if common::is_child(NAME) {
        // Installs coro's handler.
        let mut co = Coroutine::<(), (), ()>::new(|_, ()| {});
        co.resume(()).unwrap();
        forever(0);
        unreachable!("the overflow must end the process");
    }
    let output = common::run_child(NAME);
    let stderr = common::assert_aborted(&output);
    assert!(stderr.contains("has overflowed its stack"), "{stderr}");
    assert!(!stderr.contains("coroutine '"), "{stderr}");
}

// The stack that overflows is found among several live ones, and is not the
// first one the thread mapped: the middle one of five suspended coroutines,
// with its own size.
#[test]
fn the_middle_one_of_several_live_stacks_is_found() {
    const NAME: &str = "the_middle_one_of_several_live_stacks_is_found";
    if common::is_child(NAME) {
        let mut live: Vec<Coroutine<bool, (), ()>> = (0..5)
            .map(|i| {
                let size = if i == 2 { 48 * 1024 } else { MIN_STACK_SIZE };
                Builder::new()
                    .name(format!("live-{i}"))
                    .stack_size(size)
                    .build(|y: &Yielder<bool, ()>, _: bool| {
                        if y.suspend(()) {
                            forever(0);
                        }
                    })
                    .unwrap()
            })
            .collect();
        for co in &mut live {
            assert!(co.resume(false).unwrap().is_yield());
        }
        let _ = live[2].resume(true);
        unreachable!("the overflow must end the process");
    }
    assert_reported(NAME, "live-2", 48);
}

// (a) A stackless coroutine runs on the stack of whoever resumes it: its
// recursion overflows the host's stack, while the stackless one is current.
#[test]
fn a_stackless_coroutine_overflows_its_host() {
    const NAME: &str = "a_stackless_coroutine_overflows_its_host";
    if common::is_child(NAME) {
        on_host(|| {
            let mut inner =
                stackless::Coroutine::<(), (), u64>::new(|_, ()| async move { forever(0) });
            let _ = inner.resume(());
        });
    }
    assert_reported(NAME, "host", 16);
}

// (b) Closing a suspended stackless coroutine drops its frame on the closer's
// stack, with the stackless one current.
#[test]
fn closing_a_stackless_coroutine_overflows_its_host() {
    const NAME: &str = "closing_a_stackless_coroutine_overflows_its_host";
    if common::is_child(NAME) {
        on_host(|| {
            let mut inner = stackless::Coroutine::<(), (), ()>::new(
                |y: stackless::Yielder<(), ()>, ()| async move {
                    let _bomb = Bomb;
                    y.suspend(()).await;
                },
            );
            assert!(inner.resume(()).unwrap().is_yield());
            let _ = inner.close();
        });
    }
    assert_reported(NAME, "host", 16);
}

// (c) Dropping a never-started stackful coroutine drops its capture on the
// dropper's stack, with the never-started one current.
#[test]
fn dropping_an_unstarted_coroutine_overflows_its_host() {
    const NAME: &str = "dropping_an_unstarted_coroutine_overflows_its_host";
    if common::is_child(NAME) {
        on_host(|| {
            let bomb = Bomb;
            let inner = Builder::new()
                .name("unstarted")
                .build(move |_: &Yielder<(), ()>, ()| drop(bomb))
                .unwrap();
            drop(inner);
        });
    }
    assert_reported(NAME, "host", 16);
}

// (d) A body that catches the forced unwind of `close` and returns anyway
// has its value dropped by `close`, on the closer's stack, with the closed
// coroutine current.
#[test]
fn a_value_returned_while_closing_overflows_its_host() {
    const NAME: &str = "a_value_returned_while_closing_overflows_its_host";
    if common::is_child(NAME) {
        on_host(|| {
            let mut inner = Builder::new()
                .name("returner")
                .build(|y: &Yielder<(), ()>, ()| {
                    let _ = catch_unwind(AssertUnwindSafe(|| y.suspend(())));
                    Bomb
                })
                .unwrap();
            assert!(inner.resume(()).unwrap().is_yield());
            let _ = inner.close();
        });
    }
    assert_reported(NAME, "host", 16);
}

// (d) Likewise a value such a body suspends with while it is being closed.
#[test]
fn a_value_yielded_while_closing_overflows_its_host() {
    const NAME: &str = "a_value_yielded_while_closing_overflows_its_host";
    if common::is_child(NAME) {
        on_host(|| {
            let mut inner = Builder::new()
                .name("yielder")
                .build(|y: &Yielder<(), Option<Bomb>>, ()| {
                    let _ = catch_unwind(AssertUnwindSafe(|| y.suspend(None)));
                    y.suspend(Some(Bomb));
                })
                .unwrap();
            assert!(inner.resume(()).unwrap().is_yield());
            let _ = inner.close();
        });
    }
    assert_reported(NAME, "host", 16);
}

thread_local! {
    static HELD: RefCell<Option<Coroutine<(), (), ()>>> = const { RefCell::new(None) };
}

// A suspended coroutine held by a thread-local is closed by the
// thread-local's destructor when the thread exits, after Rust has removed
// the thread's signal stack; an overflow while it unwinds is still reported.
#[test]
fn an_overflow_while_closing_at_thread_exit_is_reported() {
    const NAME: &str = "an_overflow_while_closing_at_thread_exit_is_reported";
    if common::is_child(NAME) {
        let thread = std::thread::spawn(|| {
            let mut co = Builder::new()
                .name("thread-local")
                .stack_size(MIN_STACK_SIZE)
                .build(|y: &Yielder<(), ()>, ()| {
                    let _bomb = Bomb;
                    y.suspend(());
                })
                .unwrap();
            assert!(co.resume(()).unwrap().is_yield());
            HELD.with(|held| *held.borrow_mut() = Some(co));
        });
        let _ = thread.join();
        unreachable!("the overflow must end the process");
    }
    assert_reported(NAME, "thread-local", 16);
}
