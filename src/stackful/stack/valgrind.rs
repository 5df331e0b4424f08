//! Tells Valgrind where coroutine stacks are, so that memcheck follows the
//! switches between them instead of reporting every one as a wild stack
//! pointer change.
//!
//! Valgrind's client requests are a no-op instruction sequence that its JIT
//! recognises, one per architecture (`arch::valgrind_request`); on a real
//! CPU they change nothing, so they are always executed. The request numbers
//! are those of Valgrind's `valgrind.h`.

use crate::stackful::arch;

const STACK_REGISTER: usize = 0x1501;
const STACK_DEREGISTER: usize = 0x1502;
/// Memcheck's own requests start at `'M' << 24 | 'C' << 16`; this is the
/// second, `MAKE_MEM_UNDEFINED`.
const MAKE_MEM_UNDEFINED: usize = 0x4d43_0001;
/// The third, `MAKE_MEM_DEFINED`.
const MAKE_MEM_DEFINED: usize = 0x4d43_0002;

/// Issues one client request; returns Valgrind's answer, or 0 natively.
fn request(code: usize, a1: usize, a2: usize) -> usize {
    let args: [usize; 6] = [code, a1, a2, 0, 0, 0];
    arch::valgrind_request(&args)
}

/// Declares `[low, high)` a stack; returns an id for `deregister`.
pub(crate) fn register(low: *mut u8, high: *mut u8) -> usize {
    request(STACK_REGISTER, low as usize, high as usize)
}

/// Forgets a stack declared by `register`.
pub(crate) fn deregister(id: usize) {
    request(STACK_DEREGISTER, id, 0);
}

/// Tells memcheck that `[low, high)`, part of a stack, may be written.
///
/// When a coroutine's frames return, memcheck marks what lay below them as
/// inaccessible, and it stays so on a stack that goes back to the pool; the
/// next coroutine to take the stack may place its body lower than the last
/// one's frames went.
pub(crate) fn make_writable(low: *mut u8, high: *mut u8) {
    request(
        MAKE_MEM_UNDEFINED,
        low as usize,
        high as usize - low as usize,
    );
}

/// Tells memcheck that `[low, high)`, part of a free stack, may be read as it
/// is (whatever the last coroutine left there).
pub(crate) fn make_readable(low: *mut u8, high: *mut u8) {
    request(MAKE_MEM_DEFINED, low as usize, high as usize - low as usize);
}
