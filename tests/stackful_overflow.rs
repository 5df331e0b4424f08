//! Stack overflows of stackful coroutines: reported by the name of the
//! coroutine whose stack overflowed and its size, then an abort, as Rust
//! reports a thread's — never a bare SIGSEGV.
//!
//! Every test here that overflows does so in a child process (the overflow
//! ends it); the parent checks how it ended.

mod common;

use std::hint::black_box;

use coro::{Builder, Coroutine, MIN_STACK_SIZE, Yielder};

/// Recurses until the stack runs out.
#[allow(unconditional_recursion)]
#[inline(never)]
fn forever(n: u64) -> u64 {
    let frame = black_box([n; 64]);
    forever(n + 1) + black_box(frame)[0]
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
    let output = common::run_child(NAME);
    let stderr = common::assert_aborted(&output);
    assert!(
        stderr.contains("coroutine 'deep-diver' has overflowed its stack of 16 KiB"),
        "{stderr}"
    );
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
