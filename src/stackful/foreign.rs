//! Foreign code between a coroutine's frames: callbacks that suspend or
//! panic under a C library.
//!
//! A stackful coroutine can suspend from a callback that C code calls (a
//! `qsort` comparator asking the resumer for each comparison): the C frames
//! simply wait on the coroutine's stack. Two things cannot cross those frames
//! as an unwind, though: a panic in the callback, and the unwind with which
//! `close` (or `Drop`) destroys a suspended coroutine. Rust aborts on an
//! unwind out of an `extern "C"` function, and C code has no destructors to
//! run and often no unwind tables.
//!
//! These two functions carry an unwind around the C frames instead of through
//! them:
//!
//! - [`callback`] runs the body of an `extern "C"` callback. If it unwinds,
//!   the unwind is caught and parked, and the callback returns `fallback` to
//!   the C code. While an unwind is parked, further callbacks return
//!   `fallback` at once without running their body, so the C code runs to its
//!   end without user code.
//! - [`call`] calls the C code. When it returns, a parked unwind is resumed,
//!   in Rust frames again, where every destructor runs.
//!
//! With both in place, closing a coroutine suspended in such a callback
//! works like closing any other: the locals of the frames above and below the
//! C code are dropped, and `close` returns `Ok(())`. A panic in a callback
//! reaches the body's caller as a panic from `call`. Without them, closing a
//! coroutine suspended under C frames aborts the process with coro's message,
//! which names the coroutine, the library the C frames belong to and this
//! module (resuming it to completion is always fine). coro finds those frames
//! by the loaded object they belong to: C code linked into the program itself
//! is not told apart from Rust code, and closing under it ends in Rust's own
//! abort ("panic in a function that cannot unwind").
//!
//! The fallback must keep the C code safe: for a comparator, `0` ("equal")
//! for every pair is a consistent order.
//!
//! ```
//! use std::cmp::Ordering;
//! use std::ffi::{c_int, c_void};
//!
//! // The comparator asks the resumer how two numbers compare.
//! extern "C" fn ask(a: *const c_void, b: *const c_void) -> c_int {
//!     coro::foreign::callback(0, || {
//!         // SAFETY: qsort passes pointers to two elements of the array.
//!         let pair = unsafe { (*a.cast::<i32>(), *b.cast::<i32>()) };
//!         coro::suspend::<_, Ordering>(pair).unwrap() as c_int
//!     })
//! }
//!
//! let mut sorter = coro::Coroutine::<Ordering, (i32, i32), Vec<i32>>::new(|_, _| {
//!     let mut numbers = vec![3, 1, 2];
//!     coro::foreign::call(|| unsafe {
//!         // SAFETY: a valid array of `c_int`s and a comparator for them.
//!         libc::qsort(numbers.as_mut_ptr().cast(), numbers.len(), 4, Some(ask))
//!     });
//!     numbers
//! });
//! // Answer the first question, then change our mind and close: the C
//! // frames finish with "equal", and the body's locals are dropped.
//! let (a, b) = sorter.resume(Ordering::Equal).unwrap().yielded().unwrap();
//! sorter.resume(a.cmp(&b)).unwrap();
//! assert!(sorter.close().is_ok());
//! assert_eq!(sorter.status(), coro::Status::Dead);
//! ```

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};

use crate::chain;
use crate::header::Header;

thread_local! {
    /// The parked unwind of foreign code called from a thread's own stack.
    static MAIN_PENDING: Cell<Option<Box<dyn Any + Send>>> = const { Cell::new(None) };
}

/// Replaces the parked unwind of the running coroutine (or of the thread's
/// own stack) with `payload`, returning the one there was.
fn swap_pending(payload: Option<Box<dyn Any + Send>>) -> Option<Box<dyn Any + Send>> {
    chain::with_current(|header| match header {
        Some(header) => header.swap_pending_unwind(payload),
        None => MAIN_PENDING.with(|pending| pending.replace(payload)),
    })
}

/// Runs the body of a callback that foreign code calls, so that no unwind
/// leaves it: a panic, or the unwind of a `close`, is parked for the
/// enclosing [`call`], and `fallback` is returned to the foreign code.
///
/// While an unwind is parked, `body` is not run at all.
pub fn callback<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    let parked = swap_pending(None);
    if parked.is_some() {
        swap_pending(parked);
        return fallback;
    }
    tell_current(Header::foreign_callback_started);
    let outcome = panic::catch_unwind(AssertUnwindSafe(body));
    tell_current(Header::foreign_callback_ended);
    match outcome {
        Ok(value) => value,
        Err(payload) => {
            swap_pending(Some(payload));
            fallback
        }
    }
}

/// Tells the running coroutine, if any, that a callback starts or ends in
/// it: a close of a coroutine suspended inside one unwinds only to it.
fn tell_current(count: fn(&Header)) {
    chain::with_current(|header| header.map(count));
}

/// Calls foreign code whose callbacks use [`callback`]; once it returns,
/// resumes the unwind a callback parked, if any.
///
/// Its value is dropped first in that case.
pub fn call<T>(foreign: impl FnOnce() -> T) -> T {
    let outer = swap_pending(None);
    let value = foreign();
    let parked = swap_pending(outer);
    match parked {
        Some(payload) => {
            drop(value);
            panic::resume_unwind(payload)
        }
        None => value,
    }
}
