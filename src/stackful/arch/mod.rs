//! The context switch: one file per architecture, chosen by one gate.
//!
//! Every architecture file provides the same small set of items:
//!
//! - `RECORD_WORDS`, the size of the switch record;
//! - `EntryFn`, the signature of the function a new coroutine starts in;
//! - `trampoline`, the first code a coroutine runs, which reads the entry
//!   function and its data from the two words at the fresh stack pointer
//!   and calls it;
//! - `switch_in` (resumer to coroutine), `switch_out` (coroutine back to its
//!   resumer, to be resumed later) and `switch_final` (coroutine back to its
//!   resumer for the last time);
//! - `is_root_frame`, which recognises a coroutine's first frame;
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

pub(crate) use imp::{
    EntryFn, RECORD_WORDS, is_root_frame, switch_final, switch_in, switch_out, valgrind_request,
};

/// How far below its `top` `init_stack` may write: the two words it puts
/// 32 bytes below `top` rounded down to 16.
pub(crate) const INIT_BYTES: usize = 48;

/// Prepares a fresh stack whose usable part ends at `top` (below any data the
/// backend placed there), and the switch record at `link`, so that the first
/// `switch_in` continues at the trampoline, which calls `entry` with `data`.
/// Returns the stack pointer to give `switch_in`. The same on every
/// architecture: the entry function and its data at the stack pointer,
/// 16-byte aligned, and the trampoline as the record's continuation (its
/// second word).
///
/// # Safety
/// `top` must be the bottom of the data area of a mapped stack, with at
/// least [`INIT_BYTES`] writable bytes below it; `link` the address of the
/// coroutine's switch record, of [`RECORD_WORDS`] writable words.
pub(crate) unsafe fn init_stack(
    top: *mut u8,
    entry: EntryFn,
    data: *mut u8,
    link: *mut usize,
) -> *mut u8 {
    let sp = ((top as usize & !15) - 32) as *mut usize;
    // SAFETY: the caller promises these two words are writable stack, and
    // the record ours to write.
    unsafe {
        sp.write(entry as *const () as usize);
        sp.add(1).write(data as usize);
        link.add(1).write(imp::trampoline as *const () as usize);
    }
    sp.cast()
}

/// True if the suspended coroutine whose switch record is at `link` never
/// ran since `init_stack`: its data is still in place.
///
/// # Safety
/// `link` must be the switch record of a suspended coroutine.
pub(crate) unsafe fn is_fresh(link: *mut usize) -> bool {
    // SAFETY: a suspended coroutine's record holds its continuation.
    unsafe { link.add(1).read() == imp::trampoline as *const () as usize }
}
