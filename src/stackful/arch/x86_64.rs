//! The context switch for x86_64 under the System V ABI.
//!
//! Every switch goes through the coroutine's switch record: four words
//! outside the stack (the backend keeps them in the coroutine's header, whose
//! cache line every resume reads anyway; see [`RECORD_WORDS`]). Each switch
//! gets the record's address in `rsi`.
//!
//! ```text
//!   record + 24   the suspended coroutine's rbp
//!   record + 16   the suspended coroutine's rbx
//!   record + 8    where the suspended coroutine continues
//!   record + 0    link: the resumer's stack pointer, while the coroutine runs
//! ```
//!
//! A coroutine's stack, highest address first (`top` is 16-byte aligned):
//!
//! ```text
//!  top ->  +--------------------------------+
//!          | data the backend put here      |  (the body, before it starts)
//!          +--------------------------------+
//!          | (padding)                      |
//!          | data pointer                   |  sp + 8
//!   sp ->  | entry function                 |  read by `trampoline`
//!          +--------------------------------+
//!          |   ... frames of the body ...   |
//!          +--------------------------------+
//!          | guard page                     |
//! ```
//!
//! A fresh coroutine's record says to continue at `trampoline`. A suspended
//! one's saved stack pointer is just where its frames end: what the switch
//! itself saves is in the record, not on the stack. So resuming a body whose
//! live values all sit in the two registers the switch saves (a counter, a
//! state machine's state) reads nothing from its stack but what the body
//! itself reads: with thousands of coroutines resumed in turn, each resume
//! misses on the header's line alone, not on a line of a stack on a page of
//! its own as well. A resumer inside `switch_in` pushes, on its own stack,
//! where it continues, then `rbx` and `rbp`; `link` points at that.
//!
//! Only `rbx` and `rbp` are saved by hand: they cannot be named as clobbers.
//! Every other register is declared clobbered, so the compiler saves just the
//! ones that are live across the switch.
//!
//! Both ways are plain jumps, never `call` and `ret`. The processor predicts
//! each `ret` from a stack of the return addresses its `call`s pushed; a
//! switch that entered with `call` and left with `ret` would pop, at the
//! suspension, the entry of the call that led the body to its suspension
//! point, and push, at the resume, one that the body's next `ret` (out of
//! the function that suspended) then pops instead of its own: two
//! mispredicted returns a round trip, each a pipeline flush. With jumps the
//! return stack is left as each side expects, and the jumps themselves are
//! predicted from their history. The resumer pushes where it continues and
//! jumps to the coroutine's continuation, which, still on the resumer's
//! stack, stores the resumer's stack pointer in `link` and moves onto its
//! own; the coroutine comes back by popping that address and jumping to it.
//! The continuation is read from the record, next to the link the resumer's
//! side writes anyway, so the jump costs no load from another line.
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
/// `switch_in`), with `rdx` the stack pointer `init_stack` returned; calls
/// the entry function on an aligned stack.
#[unsafe(naked)]
pub(super) unsafe extern "C" fn trampoline() {
    naked_asm!(
        ".cfi_startproc",
        // The caller's frame is the resumer's, found through `link`:
        // CFA = [rbx] + 24, with rbx = the link's address (set below and
        // preserved by every callee). DW_CFA_def_cfa_expression (0x0f), 5
        // bytes: DW_OP_breg3 (rbx) 0, DW_OP_deref, DW_OP_plus_uconst 24.
        ".cfi_escape 0x0f, 5, 0x73, 0x00, 0x06, 0x23, 0x18",
        // What switch_in pushed: rbp, then rbx, then the return address.
        ".cfi_offset rbp, -8",
        ".cfi_offset rbx, -16",
        ".cfi_offset rip, -24",
        // link = the resumer's stack pointer, at its return address.
        "mov [rsi], rsp",
        // Onto our stack.
        "mov rsp, rdx",
        // Keep the link's address in a callee-saved register for the CFA
        // expression.
        "mov rbx, rsi",
        // Third argument: the data pointer.
        "mov rdx, [rsp + 8]",
        // The entry function.
        "mov rax, [rsp]",
        // The ABI wants rsp 16-byte aligned at a call.
        "and rsp, -16",
        "call rax",
        // The entry function never returns.
        "ud2",
        ".cfi_endproc",
    )
}

/// True if `ip`, a return address found by an unwinder's walk, lies in the
/// trampoline: the walk has reached a coroutine's root.
pub(crate) fn is_root_frame(ip: usize) -> bool {
    let start = trampoline as *const () as usize;
    // The trampoline is a dozen instructions; its one call returns inside.
    ip > start && ip <= start + 64
}

/// Switches from the resumer to the coroutine whose switch record is at
/// `link` and whose saved stack pointer is `sp`, passing `arg` and `flag`.
///
/// The resumer pushes where it continues and jumps to the continuation
/// address found in the record with `rdi` = `arg`, `rsi` = `link`, `rdx` =
/// `sp` and `rcx` = `flag`; the continuation records the resumer's stack
/// pointer in `link` and moves onto the coroutine's stack.
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
    // comes back by jumping to the address we pushed, after which rbx and
    // rbp are ours again. Every other register is declared clobbered.
    unsafe {
        asm!(
            "push rbp",
            "push rbx",
            "lea rax, [rip + 2f]",
            "push rax",
            "jmp [rsi + 8]",
            "2:",
            "pop rbx",
            "pop rbp",
            inout("rdi") arg => value,
            inout("rsi") link => _,
            inout("rdx") sp => new_sp,
            inout("rcx") flag => _,
            out("r12") _, out("r13") _, out("r14") _, out("r15") _,
            clobber_abi("sysv64"),
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
    // SAFETY: we leave our continuation, rbx and rbp in our record, in the
    // shape `switch_in` expects, hand our stack pointer over in rdx, and
    // jump to where the resumer continues, found through `link`.
    unsafe {
        asm!(
            // Our rbx and rbp, and where to continue, into the record.
            "mov [rsi + 16], rbx",
            "mov [rsi + 24], rbp",
            "lea rax, [rip + 2f]",
            "mov [rsi + 8], rax",
            // Our stack pointer, for the resumer's switch_in to return.
            "mov rdx, rsp",
            // Onto the resumer's stack, and back to where it continues.
            "mov rsp, [rsi]",
            "pop rax",
            "jmp rax",
            // Resumed: `switch_in` jumped here on the resumer's stack, with
            // rdx our saved stack pointer.
            "2:",
            "mov [rsi], rsp",
            "mov rsp, rdx",
            "mov rbx, [rsi + 16]",
            "mov rbp, [rsi + 24]",
            inout("rdi") value => arg,
            inout("rsi") link => _,
            out("rdx") _,
            out("rcx") flag,
            out("r12") _, out("r13") _, out("r14") _, out("r15") _,
            clobber_abi("sysv64"),
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
            "mov rsp, [rsi]",
            "xor edx, edx",
            "pop rax",
            "jmp rax",
            in("rdi") value,
            in("rsi") link,
            options(noreturn),
        )
    }
}

/// Issues a Valgrind client request, `args` being the request number and its
/// arguments as `valgrind.h` lays them out; returns Valgrind's answer, or 0
/// when not running under Valgrind.
///
/// The magic sequence: four rotations of `rdi` by a total of 128 bits, then
/// `xchg rbx, rbx`. Natively it changes nothing; Valgrind's JIT recognises
/// it, reads the request through `rax` and answers in `rdx`.
pub(crate) fn valgrind_request(args: &[usize; 6]) -> usize {
    let mut result: usize = 0;
    // SAFETY: the sequence only rotates rdi back to its value and swaps rbx
    // with itself; under Valgrind it reads `args` (alive across the asm) and
    // writes rdx.
    unsafe {
        asm!(
            // rdi rotated by 3 + 13 + 61 + 51 = 128 bits: back as it was.
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            // The request marker: a no-op exchange.
            "xchg rbx, rbx",
            in("rax") args.as_ptr(),
            inout("rdx") result,
            inout("rdi") 0usize => _,
            options(nostack, preserves_flags),
        );
    }
    result
}
