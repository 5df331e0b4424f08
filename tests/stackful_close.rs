//! Closing a suspended stackful coroutine is a forced unwind of its stack,
//! and a panic during an unwind aborts the process, as everywhere in Rust
//! (see `Coroutine::close`). Each test checks that abort in a child process.
//!
//! Stackful only: a stackless `close` drops the frame without unwinding, so
//! a panicking destructor there makes `close` return `Error::Panic` instead
//! (see the stackless tests, tests/stackless_*.rs), and a destructor cannot
//! await a suspension at all (`Drop::drop` is not async). What both backends
//! share about `close` is in the conformance suite
//! (tests/conformance/close.rs).

// Only where coro builds its stackful backend (x86_64 and aarch64 Unix).
#![cfg(coro_stackful)]

mod common;

use coro::{Coroutine, Yielder};

/// Panics when dropped.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

// Lua scenario 12 differs: a destructor that panics while a suspended stack
// unwinds aborts the process (a panic during an unwind, as everywhere in
// Rust), as documented for `close`. Checked in a child process.
#[test]
fn panicking_destructor_during_close_aborts() {
    const NAME: &str = "panicking_destructor_during_close_aborts";
    if common::is_child(NAME) {
        let mut co = Coroutine::<(), (), ()>::new(|y, ()| {
            let _bomb = PanicOnDrop("destructor panicked during close");
            y.suspend(());
        });
        co.resume(()).unwrap();
        let _ = co.close();
        unreachable!("the close must abort");
    }
    let output = common::run_child(NAME);
    let stderr = common::assert_aborted(&output);
    assert!(
        stderr.contains("destructor panicked during close"),
        "{stderr}"
    );
}

// `Yielder::suspend` in a destructor run by close panics, and since that
// panic happens during the unwind, the process aborts (documented).
#[test]
fn yielder_suspend_in_destructor_during_close_aborts() {
    const NAME: &str = "yielder_suspend_in_destructor_during_close_aborts";
    if common::is_child(NAME) {
        struct SuspendOnDrop<'a>(&'a Yielder<(), ()>);
        impl Drop for SuspendOnDrop<'_> {
            fn drop(&mut self) {
                self.0.suspend(());
            }
        }
        let mut co = Coroutine::<(), (), ()>::new(|y, ()| {
            let _guard = SuspendOnDrop(y);
            y.suspend(());
        });
        co.resume(()).unwrap();
        let _ = co.close();
        unreachable!("the close must abort");
    }
    let output = common::run_child(NAME);
    let stderr = common::assert_aborted(&output);
    assert!(
        stderr.contains("attempt to yield across a C-call boundary"),
        "{stderr}"
    );
}
