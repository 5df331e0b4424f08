//! Under AddressSanitizer (`scripts/asan`), a real memory error on a
//! coroutine's stack is caught and reported in the coroutine's own frame:
//! the switches are announced to it, so it knows which stack it is on.

// Only where coro builds its stackful backend (x86_64 and aarch64 Unix).
#![cfg(coro_stackful)]

mod common;

use coro::Coroutine;

/// Writes one byte past a local array: out of bounds, caught by ASan's
/// redzone. Runs only under AddressSanitizer (the test is ignored
/// elsewhere, where this would be undefined behaviour).
#[inline(never)]
fn a_body_that_writes_past_its_local() -> u8 {
    let mut local = [0u8; 16];
    let past = std::hint::black_box(local.len());
    // SAFETY: none: the write is the error the sanitizer must catch, and
    // this function runs only in a child process built with it.
    unsafe { local.as_mut_ptr().add(past).write(1) };
    std::hint::black_box(&local)[0]
}

// The child writes past a local inside a coroutine; ASan reports a
// stack-buffer-overflow and names the body's frame.
#[test]
#[cfg_attr(not(coro_asan), ignore = "only under AddressSanitizer: scripts/asan")]
fn asan_catches_an_error_on_a_coroutine_stack() {
    const NAME: &str = "asan_catches_an_error_on_a_coroutine_stack";
    if common::is_child(NAME) {
        let mut co = Coroutine::<(), (), u8>::new(|_, ()| a_body_that_writes_past_its_local());
        let _ = co.resume(());
        return;
    }
    let output = common::run_child(NAME);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{}", common::describe(&output));
    assert!(stderr.contains("stack-buffer-overflow"), "{stderr}");
    assert!(
        stderr.contains("a_body_that_writes_past_its_local"),
        "{stderr}"
    );
}
