//! Forced unwinding: how `close` destroys a suspended stackful coroutine.
//!
//! `close` resumes the coroutine with a null input word. The pending
//! `suspend` sees it and starts an unwind with a private payload
//! ([`ForcedUnwind`]) through `resume_unwind`, which skips the panic hook, so
//! nothing is printed. Every frame of the body drops its live locals in order,
//! and the root of the coroutine recognises the payload and reports the
//! coroutine as closed.
//!
//! The unwind runs on the coroutine's own stack, so it never crosses into the
//! resumer, even when the resumer is itself unwinding.
//!
//! Frames of foreign code (a C library calling a callback that suspended)
//! may have no unwind tables, and the unwinder would then fail to start and
//! abort with an obscure message. Before starting, the stack is walked up to
//! the coroutine's root; if the walk cannot get there, the process aborts
//! with a message that says what happened and what to do instead
//! (`coro::foreign`).

use std::any::Any;
use std::ffi::{c_int, c_void};
use std::panic;

use super::arch;
use crate::header::Header;

/// The payload of a forced unwind. Private, so a body cannot forge one.
pub(crate) struct ForcedUnwind;

/// Starts the forced unwind of the running coroutine, whose header is
/// `header`.
pub(crate) fn start(header: &Header) -> ! {
    if !reaches_root() {
        eprintln!(
            "coro: cannot close coroutine '{}': it is suspended inside foreign frames \
             that cannot be unwound (code without unwind tables). Resume it to \
             completion first, or call that code through coro::foreign::call with its \
             callbacks wrapped in coro::foreign::callback.",
            header.name().unwrap_or("<unnamed>")
        );
        std::process::abort();
    }
    panic::resume_unwind(Box::new(ForcedUnwind))
}

// The unwinder's own walk, from the C ABI every Rust program links against.
unsafe extern "C" {
    fn _Unwind_Backtrace(
        trace: unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int,
        data: *mut c_void,
    ) -> c_int;
    fn _Unwind_GetIP(context: *mut c_void) -> usize;
}

/// `_URC_NO_REASON`: go on walking.
const CONTINUE: c_int = 0;
/// `_URC_NORMAL_STOP`: stop here.
const STOP: c_int = 4;

/// True if the unwinder can walk from here to the coroutine's root, the
/// trampoline: every frame in between has unwind information.
fn reaches_root() -> bool {
    unsafe extern "C" fn visit(context: *mut c_void, found: *mut c_void) -> c_int {
        // SAFETY: `context` is the unwinder's, valid during this call.
        let ip = unsafe { _Unwind_GetIP(context) };
        if arch::is_root_frame(ip) {
            // SAFETY: `found` is the `bool` passed below, alive for the walk.
            unsafe { *found.cast::<bool>() = true };
            STOP
        } else {
            CONTINUE
        }
    }
    let mut found = false;
    // SAFETY: `visit` matches the callback type and only writes `found`.
    unsafe { _Unwind_Backtrace(visit, (&mut found as *mut bool).cast()) };
    found
}

/// True if a caught payload is our forced unwind rather than a real panic.
pub(crate) fn is_forced(payload: &(dyn Any + Send)) -> bool {
    payload.is::<ForcedUnwind>()
}
