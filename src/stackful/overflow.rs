//! Guard-page faults: a coroutine that overflows its stack is reported by
//! name, and the process aborts, as Rust does when a thread overflows.
//!
//! One handler for `SIGSEGV` and `SIGBUS` is installed, process-wide, when
//! the first coroutine stack is mapped. It looks the faulting address up
//! among the stacks of the faulting thread ([`stack::with_guard_at`]),
//! whichever coroutine is current: a stackful coroutine's stack also runs
//! the stackless coroutines it resumes or closes, the destructors of the
//! coroutines it drops, and the start of every switch it makes. If the
//! fault hit a guard page, it prints
//! `coroutine '<name>' has overflowed its stack of <N> KiB`, names the
//! remedy (`Builder::stack_size`), and aborts. Every other fault goes to the
//! handler that was installed before ours — usually Rust's own, which
//! reports the overflow of a thread's main stack the same way — or, if there
//! was none, gets the default action.
//!
//! The handler runs on the thread's alternate signal stack (it could not run
//! on the stack that overflowed). Rust gives one to the threads it starts,
//! for the length of their main function; a thread started some other way
//! gets one from [`ensure_signal_stack`] when it maps a coroutine stack, and
//! a coroutine closed during thread exit gets one from
//! [`signal_stack_for_close`].
//!
//! Everything the handler does is async-signal-safe: a walk over the
//! thread's list of stacks (a thread-local without destructor and plain
//! loads), a few loads from the owning coroutine's header, `write` and
//! `abort`.

use std::cell::Cell;
use std::mem::{self, MaybeUninit};
use std::ptr;
use std::sync::{Once, OnceLock};

use super::{os, stack};

/// The actions for `SIGSEGV` and `SIGBUS` found before ours was installed.
struct Previous([libc::sigaction; 2]);

// SAFETY: a `sigaction` is plain data (a handler address, flags, a mask).
unsafe impl Sync for Previous {}
// SAFETY: as above.
unsafe impl Send for Previous {}

static PREVIOUS: OnceLock<Previous> = OnceLock::new();

const SIGNALS: [libc::c_int; 2] = os::FAULT_SIGNALS;

/// Installs the handler, once per process.
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let mut previous = [empty_action(); 2];
        for (signal, old) in SIGNALS.iter().zip(previous.iter_mut()) {
            // SAFETY: reads the current action into a valid struct.
            unsafe { libc::sigaction(*signal, ptr::null(), old) };
        }
        // Recorded before ours is installed, so a fault on another thread
        // in between finds it.
        let _ = PREVIOUS.set(Previous(previous));
        let mut action = empty_action();
        action.sa_sigaction = handler as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        for signal in SIGNALS {
            // SAFETY: `handler` has the signature SA_SIGINFO asks for and
            // does only async-signal-safe work.
            unsafe { libc::sigaction(signal, &action, ptr::null_mut()) };
        }
    });
}

fn empty_action() -> libc::sigaction {
    // SAFETY: all-zero is a valid `sigaction` (default action, no flags),
    // and `sigemptyset` initialises the mask.
    unsafe {
        let mut action: libc::sigaction = mem::zeroed();
        libc::sigemptyset(&mut action.sa_mask);
        action
    }
}

/// The signal handler. Never returns for a coroutine's overflow.
extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid `siginfo_t` to an SA_SIGINFO handler.
    let address = unsafe { os::fault_address(info) };
    // By the address, not by the current coroutine: code also runs on a
    // coroutine's stack while another is current.
    stack::with_guard_at(address, |name, size| report(name, size));
    chain(signal, info, context);
}

/// Writes the report to standard error and aborts.
fn report(name: Option<&str>, size: usize) -> ! {
    let mut message = Message::new();
    message.push("\ncoroutine '");
    message.push(name.unwrap_or("<unnamed>"));
    message.push("' has overflowed its stack of ");
    message.push_number(size / 1024);
    message.push(" KiB\nhelp: give it a bigger stack with coro::Builder::stack_size");
    message.push("\nfatal runtime error: stack overflow, aborting\n");
    message.write();
    // SAFETY: abort is async-signal-safe and ends the process.
    unsafe { libc::abort() }
}

/// Passes a fault that is not ours to the previous handler, or restores
/// the default action so that returning re-raises it.
fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let index = SIGNALS.iter().position(|s| *s == signal).unwrap_or(0);
    let previous = PREVIOUS.get().map(|p| p.0[index]);
    match previous {
        Some(action)
            if action.sa_sigaction != libc::SIG_DFL && action.sa_sigaction != libc::SIG_IGN =>
        {
            if action.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: an SA_SIGINFO handler has this signature.
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { mem::transmute(action.sa_sigaction) };
                f(signal, info, context);
            } else {
                // SAFETY: a plain handler takes the signal number.
                let f: extern "C" fn(libc::c_int) = unsafe { mem::transmute(action.sa_sigaction) };
                f(signal);
            }
        }
        _ => {
            let default = empty_action();
            // SAFETY: restores the default action; returning from the
            // handler re-executes the faulting instruction, which then
            // takes it.
            unsafe { libc::sigaction(signal, &default, ptr::null_mut()) };
        }
    }
}

/// A message built without allocating, for use in a signal handler.
struct Message {
    buffer: [u8; 512],
    len: usize,
}

impl Message {
    fn new() -> Self {
        Message {
            buffer: [0; 512],
            len: 0,
        }
    }

    fn push(&mut self, text: &str) {
        for &byte in text.as_bytes() {
            if self.len < self.buffer.len() {
                self.buffer[self.len] = byte;
                self.len += 1;
            }
        }
    }

    fn push_number(&mut self, mut n: usize) {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for &digit in digits[..count].iter().rev() {
            if self.len < self.buffer.len() {
                self.buffer[self.len] = digit;
                self.len += 1;
            }
        }
    }

    fn write(&self) {
        // SAFETY: writes initialised bytes of our own buffer to stderr.
        unsafe { libc::write(libc::STDERR_FILENO, self.buffer.as_ptr().cast(), self.len) };
    }
}

/// Bytes of the alternate signal stack given to threads that have none.
const SIGNAL_STACK_SIZE: usize = 64 * 1024;

/// An alternate signal stack this module mapped and installed; dropping it
/// removes it (if it is still the thread's) and unmaps it.
pub(crate) struct SignalStack(*mut libc::c_void);

impl Drop for SignalStack {
    fn drop(&mut self) {
        // Removed only if it is still the one installed: a newer one may have
        // replaced it (see `own`).
        if current_signal_stack().is_some_and(|stack| stack.ss_sp == self.0) {
            let disable = libc::stack_t {
                ss_sp: ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: SIGNAL_STACK_SIZE,
            };
            // SAFETY: disables the alternate stack before the memory it uses
            // is unmapped; no handler runs on it now (this is not one).
            unsafe { libc::sigaltstack(&disable, ptr::null_mut()) };
        }
        // SAFETY: the mapping this struct owns, no longer installed.
        unsafe { libc::munmap(self.0, SIGNAL_STACK_SIZE) };
    }
}

thread_local! {
    /// The signal stack installed for this thread, kept until the thread
    /// exits. The slot is destroyed with the thread's other thread-locals,
    /// in an order nobody controls; see `own`.
    static OWN_SIGNAL_STACK: Cell<Option<SignalStack>> = const { Cell::new(None) };
}

/// The thread's alternate signal stack as the kernel reports it, `None` if
/// the query fails.
fn current_signal_stack() -> Option<libc::stack_t> {
    let mut old = MaybeUninit::<libc::stack_t>::uninit();
    // SAFETY: only reads the current setting into `old`.
    if unsafe { libc::sigaltstack(ptr::null(), old.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: initialised by the successful call above.
    Some(unsafe { old.assume_init() })
}

/// Maps and installs a signal stack if the thread has none (or the query
/// fails, or the memory cannot be had); `None` if it already has one.
fn install_if_missing() -> Option<SignalStack> {
    let old = current_signal_stack()?;
    if old.ss_flags & libc::SS_DISABLE == 0 {
        return None;
    }
    // SAFETY: a fresh anonymous mapping.
    let memory = unsafe {
        libc::mmap(
            ptr::null_mut(),
            SIGNAL_STACK_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if memory == libc::MAP_FAILED {
        return None;
    }
    let stack = libc::stack_t {
        ss_sp: memory,
        ss_flags: 0,
        ss_size: SIGNAL_STACK_SIZE,
    };
    // SAFETY: the memory is ours and stays mapped until the `SignalStack`
    // made of it drops.
    if unsafe { libc::sigaltstack(&stack, ptr::null_mut()) } != 0 {
        // SAFETY: unmapping what we just mapped.
        unsafe { libc::munmap(memory, SIGNAL_STACK_SIZE) };
        return None;
    }
    Some(SignalStack(memory))
}

/// Hands `stack` to the thread's slot, to be kept until the thread exits;
/// gives it back if the slot is already destroyed (during thread exit).
fn own(stack: SignalStack) -> Option<SignalStack> {
    let mut stack = Some(stack);
    // A stack already in the slot was removed by someone else, or the thread
    // would not have needed a new one: dropping it only unmaps it.
    let _ = OWN_SIGNAL_STACK.try_with(|own| drop(own.replace(stack.take())));
    stack
}

/// Makes sure this thread has an alternate signal stack, so the handler can
/// run when a coroutine overflows; called when a stack is mapped.
///
/// Rust gives the threads it starts one, but only while their main function
/// runs; this covers the threads started some other way. If the thread is
/// exiting and its slot is gone, there is nothing to own a new one, and none
/// is installed (closing a coroutine installs one for its own length, see
/// [`signal_stack_for_close`]).
pub(crate) fn ensure_signal_stack() {
    if let Some(stack) = install_if_missing() {
        drop(own(stack));
    }
}

/// Makes sure this thread has an alternate signal stack while a coroutine
/// is closed, which runs its destructors: the caller keeps what this returns
/// until the close is over.
///
/// Closing is where thread exit runs coroutine code: a coroutine held in a
/// thread-local is closed by the thread-local's destructor, and Rust has
/// removed the thread's signal stack by then (at the end of a thread's main
/// function, and for the main thread before `exit`). So this asks the kernel
/// every time (one system call, on a path that unwinds a stack anyway), and
/// when there is none, installs one owned by the thread's slot; if that slot
/// has already been destroyed, the returned value owns it instead, and it is
/// removed and unmapped when the close is over (so a thread that closes many
/// coroutines that late maps one per close, and leaks none).
#[must_use]
pub(crate) fn signal_stack_for_close() -> Option<SignalStack> {
    own(install_if_missing()?)
}
