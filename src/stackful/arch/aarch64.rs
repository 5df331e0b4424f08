//! The context switch for AArch64 under the AAPCS64 (Linux, the BSDs, and
//! Apple's variant of it, which differs in nothing used here).
//!
//! The design is the x86_64 one, with the link register in place of the
//! return address on the stack. Every switch goes through the coroutine's
//! switch record: four words outside the stack (in the coroutine's header;
//! see [`RECORD_WORDS`]). Each switch gets the record's address in `x1`.
//!
//! ```text
//!   record + 24   the suspended coroutine's x29 (frame pointer)
//!   record + 16   the suspended coroutine's x19
//!   record + 8    where the suspended coroutine continues
//!   record + 0    link: the resumer's stack pointer, while the coroutine runs
//! ```
//!
//! A coroutine's stack, highest address first (`top` is 16-byte aligned, as
//! `sp` always is on AArch64):
//!
//! ```text
//!  top ->  +--------------------------------+
//!          | data the backend put here      |  (the body, before it starts)
//!          +--------------------------------+
//!          | (padding)                      |  sp + 16
//!          | data pointer                   |  sp + 8
//!   sp ->  | entry function                 |  read by `trampoline`
//!          +--------------------------------+
//!          |   ... frames of the body ...   |
//!          +--------------------------------+
//!          | close reserve, guard page      |
//! ```
//!
//! A fresh coroutine's record says to continue at `trampoline`. A suspended
//! one's saved stack pointer is just where its frames end: what the switch
//! itself saves is in the record, so a resume reads nothing from the
//! coroutine's stack but what its body reads (see the x86_64 module for why
//! that matters with many coroutines).
//!
//! A resumer inside `switch_in` leaves a 32-byte save area on its own stack,
//! `sp` pointing at its lowest word:
//!
//! ```text
//!   sp + 24   (unused: keeps sp 16-byte aligned)
//!   sp + 16   where to continue
//!   sp + 8    x29 (frame pointer)
//!   sp + 0    x19
//! ```
//!
//! made by one pre-indexed `stp` and freed by one post-indexed `ldp`;
//! `link` points at it.
//!
//! Only `x19` and `x29` are saved by hand: Rust does not let inline assembly
//! name them as clobbers (LLVM may use `x19` as a base pointer, `x29` is the
//! frame pointer). The other callee-saved registers, `x20`–`x28` and the low
//! halves of `v8`–`v15` (`d8`–`d15`), are declared clobbered, so the compiler
//! saves just the ones live across the switch. `x18`, the platform register
//! on some systems, is never touched.
//!
//! Both ways are plain branches (`br`), never `blr` and `ret`: the switch
//! leaves the processor's return-address stack as it found it, so each
//! side's own returns stay predicted (see the x86_64 module for why a
//! `blr` in and a `ret` out would cost two mispredictions a round trip).
//! The resumer writes where it continues into its save area and branches
//! to the coroutine's continuation, read from the record, which, still on
//! the resumer's stack, records the resumer's stack pointer in `link` and
//! moves onto its own.
//!
//! The trampoline's CFI describes the resumer's frame as its caller, using the
//! `link` word, so debuggers, `std::backtrace` and the unwinder walk from a
//! coroutine's frames into the frames of whoever resumed it.

use std::arch::{asm, naked_asm};

/// Signature of the function a coroutine starts in: the word passed by the
/// first `switch_in`, the address of the coroutine's switch record (whose
/// first word is the link), and the data
/// pointer given to `init_stack`. It must never return: it ends with
/// `switch_final`.
pub(crate) type EntryFn = unsafe extern "C" fn(usize, *mut usize, *mut u8) -> !;

/// How many words a coroutine's switch record holds (see the module docs).
pub(crate) const RECORD_WORDS: usize = 4;

/// The first code a coroutine runs, entered like every continuation (see
/// `switch_in`): `x0` the word passed, `x1` the link's address, `x2` the
/// fresh stack pointer, `sp` the resumer's save area (where it continues
/// already in its third word). Calls the entry function on the coroutine's stack.
#[unsafe(naked)]
pub(super) unsafe extern "C" fn trampoline() {
    naked_asm!(
        ".cfi_startproc",
        // The caller's frame is the resumer's, found through `link`:
        // CFA = [x19] + 32, with x19 = the link's address (set below and
        // preserved by every callee). DW_CFA_def_cfa_expression (0x0f), 5
        // bytes: DW_OP_breg19 (0x83) 0, DW_OP_deref, DW_OP_plus_uconst 32.
        ".cfi_escape 0x0f, 5, 0x83, 0x00, 0x06, 0x23, 0x20",
        // The resumer's save area: x19, x29, then its return address.
        ".cfi_offset x19, -32",
        ".cfi_offset x29, -24",
        ".cfi_offset x30, -16",
        // link = the resumer's stack pointer, the address of that area
        // (`str` cannot store sp itself: through x9).
        "mov x9, sp",
        "str x9, [x1]",
        // Keep the link's address in a callee-saved register for the CFA
        // expression.
        "mov x19, x1",
        // x9 = the entry function, from the first word of the fresh stack.
        "ldr x9, [x2]",
        // Onto our stack, above the two words `init_stack` wrote (16-byte
        // aligned, as the ABI wants at a call).
        "add sp, x2, #32",
        // Third argument: the data pointer, from the second word. x0 and x1
        // are already the first two.
        "ldr x2, [x2, #8]",
        // Call the entry function; lr now points into the trampoline, which
        // is how the unwinder recognises a coroutine's root.
        "blr x9",
        // The entry function never returns: trap if it did.
        "brk #0x1",
        ".cfi_endproc",
    )
}

/// True if `ip`, a return address found by an unwinder's walk, lies in the
/// trampoline: the walk has reached a coroutine's root.
pub(crate) fn is_root_frame(ip: usize) -> bool {
    let start = trampoline as *const () as usize;
    // The trampoline is eight instructions; its one call returns inside.
    ip > start && ip <= start + 64
}

/// Switches from the resumer to the coroutine whose switch record is at
/// `link` and whose saved stack pointer is `sp`, passing `arg` and `flag`.
///
/// The resumer makes its save area, with where it continues in the third
/// word, and branches to the continuation address found in the record, with `x0` = `arg`, `x1` = `link`, `x2` = `sp` and `x3` = `flag`;
/// the continuation records the resumer's stack pointer and moves onto the
/// coroutine's stack.
///
/// Returns the word the coroutine passed back and its new saved stack
/// pointer, or null if it called `switch_final`.
///
/// # Safety
/// `sp` must be the value `init_stack` or the last `switch_in` returned for
/// this stack, `link` the address of this coroutine's switch record (the
/// same at every switch of the coroutine, and valid for writes until it
/// finishes), and the coroutine must not be running.
#[inline(always)]
pub(crate) unsafe fn switch_in(
    arg: usize,
    flag: usize,
    link: *mut usize,
    sp: *mut u8,
) -> (usize, *mut u8) {
    let value: usize;
    let new_sp: *mut u8;
    // SAFETY: the coroutine's record holds its continuation (see above); it
    // branches back to the address in our save area,
    // with that area where we left it, after which x19 and x29 are
    // ours again. Every other register is declared clobbered.
    unsafe {
        asm!(
            // Our save area (32 bytes, keeping sp 16-byte aligned) with x19
            // and x29 in its first two words; the continuation fills the
            // third.
            "stp x19, x29, [sp, #-32]!",
            // Where the coroutine comes back to: label 2 below, into our
            // area's third word.
            "adr x10, 2f",
            "str x10, [sp, #16]",
            // x9 = the continuation address, in the coroutine's record.
            "ldr x9, [x1, #8]",
            // Branch to it (not `blr`: see the module's docs on prediction).
            "br x9",
            // Back: the coroutine branched here. x19 and x29 back from our
            // area, which is freed.
            "2:",
            "ldp x19, x29, [sp], #32",
            inout("x0") arg => value,
            inout("x1") link => _,
            inout("x2") sp => new_sp,
            inout("x3") flag => _,
            out("x20") _, out("x21") _, out("x22") _, out("x23") _, out("x24") _,
            out("x25") _, out("x26") _, out("x27") _, out("x28") _,
            clobber_abi("C"),
        );
    }
    (value, new_sp)
}

/// Suspends the running coroutine, whose switch record is at `link`, passing
/// `value` to its resumer. Returns the word and the flag passed by the next
/// `switch_in`.
///
/// # Safety
/// Must run on the coroutine's own stack, while it is the running one.
#[inline(always)]
pub(crate) unsafe fn switch_out(value: usize, link: *mut usize) -> (usize, usize) {
    let arg: usize;
    let flag: usize;
    // SAFETY: we leave x19, x29 and our continuation in our record, in the
    // shape `switch_in` expects, hand our stack pointer over in x2, and
    // branch to where the resumer continues, found through `link`.
    unsafe {
        asm!(
            // Our x19 and x29 into the record's last two words.
            "stp x19, x29, [x1, #16]",
            // Where to continue when resumed: label 2 below, into its
            // second.
            "adr x9, 2f",
            "str x9, [x1, #8]",
            // Our stack pointer, for the resumer's switch_in to return.
            "mov x2, sp",
            // x9 = the resumer's stack pointer, kept in the link.
            "ldr x9, [x1]",
            // x10 = where it continues, the third word of its save area.
            "ldr x10, [x9, #16]",
            // Onto the resumer's stack...
            "mov sp, x9",
            // ...and back into its switch_in.
            "br x10",
            // Resumed: `switch_in` branched here on the resumer's stack, with
            // x2 our saved stack pointer.
            "2:",
            // link = the resumer's stack pointer (through x9, as `str`
            // cannot store sp).
            "mov x9, sp",
            "str x9, [x1]",
            // Our x19 and x29 back from the record...
            "ldp x19, x29, [x1, #16]",
            // ...and onto our stack.
            "mov sp, x2",
            inout("x0") value => arg,
            inout("x1") link => _,
            out("x2") _,
            out("x3") flag,
            out("x20") _, out("x21") _, out("x22") _, out("x23") _, out("x24") _,
            out("x25") _, out("x26") _, out("x27") _, out("x28") _,
            clobber_abi("C"),
        );
    }
    (arg, flag)
}

/// Leaves the running coroutine for the last time, passing `value` to its
/// resumer, whose `switch_in` returns a null stack pointer.
///
/// # Safety
/// Must run on the coroutine's own stack, while it is the running one; no
/// frame on that stack may still own anything that needs dropping.
#[inline(always)]
pub(crate) unsafe fn switch_final(value: usize, link: *mut usize) -> ! {
    // SAFETY: returns to the resumer exactly as `switch_out` does, without
    // saving a continuation.
    unsafe {
        asm!(
            // x9 = the resumer's stack pointer, kept in the link.
            "ldr x9, [x1]",
            // x10 = where it continues, the third word of its save area.
            "ldr x10, [x9, #16]",
            // Onto the resumer's stack, for good.
            "mov sp, x9",
            // A null stack pointer tells switch_in the coroutine finished.
            "mov x2, xzr",
            // Back into the resumer's switch_in; x0 is the value.
            "br x10",
            in("x0") value,
            in("x1") link,
            options(noreturn),
        )
    }
}

/// Valgrind's client requests are not issued on aarch64 yet (its magic
/// sequence is not written, as it cannot be tested here): always 0, as when
/// not running under Valgrind. Valgrind, if used, then sees each switch as a
/// wild stack pointer change.
pub(crate) fn valgrind_request(_args: &[usize; 6]) -> usize {
    0
}
