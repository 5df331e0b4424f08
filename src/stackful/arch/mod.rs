//! The context switch: one file per architecture, chosen by one gate.
//!
//! Every architecture file provides the same small set of items:
//!
//! - `RECORD_WORDS`, the size of the switch record;
//! - `EntryFn`, the signature of the function a new coroutine starts in;
//! - `init_stack`, which lays out a fresh stack so the first switch into it
//!   calls the entry function, and `INIT_BYTES`, how far below the given top
//!   it writes;
//! - `switch_in` (resumer to coroutine), `switch_out` (coroutine back to its
//!   resumer, to be resumed later) and `switch_final` (coroutine back to its
//!   resumer for the last time);
//! - `is_root_frame` and `is_fresh`, which recognise a coroutine's first
//!   frame and a stack that never ran;
//! - `valgrind_request`, Valgrind's client request (or 0 where not written).
//!
//! Each switch goes through the coroutine's switch record, [`RECORD_WORDS`]
//! words that the backend keeps in the coroutine's header: the link, which
//! holds the resumer's stack pointer while the coroutine runs, then what a
//! suspended coroutine needs to continue (where, and the registers saved by
//! hand), kept there rather than on its stack so that a resume reads one
//! cache line, not two on two pages. It passes one machine word each way in
//! registers, and jumps both ways rather than calling and returning, so
//! that the processor's return-address predictor stays right for the code
//! on either side.

#[cfg(target_arch = "x86_64")]
#[path = "x86_64.rs"]
mod imp;

#[cfg(target_arch = "aarch64")]
#[path = "aarch64.rs"]
mod imp;

pub(crate) use imp::*;
