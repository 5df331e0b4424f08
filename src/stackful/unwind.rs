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

use std::any::Any;
use std::panic;

/// The payload of a forced unwind. Private, so a body cannot forge one.
pub(crate) struct ForcedUnwind;

/// Starts the forced unwind of the running coroutine.
pub(crate) fn start() -> ! {
    panic::resume_unwind(Box::new(ForcedUnwind))
}

/// True if a caught payload is our forced unwind rather than a real panic.
pub(crate) fn is_forced(payload: &(dyn Any + Send)) -> bool {
    payload.is::<ForcedUnwind>()
}
