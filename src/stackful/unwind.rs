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
//! must not be unwound through: without unwind tables the unwinder cannot
//! even start, and with them (glibc's `qsort` has them) the unwind reaches
//! the Rust callback the C code called, an `extern "C"` function, which
//! aborts with Rust's "panic in a function that cannot unwind", naming
//! neither coro nor the coroutine. Before starting, the stack is walked up
//! to the coroutine's root. If the walk cannot get there, or if it passes a
//! frame of another loaded object than coro's (a shared library: `dladdr`
//! tells) while no `foreign::callback` runs in the coroutine to stop the
//! unwind before it, the process aborts with a message that names the
//! coroutine and the object, and says what to do instead (`coro::foreign`).
//! C code linked statically into the program is in coro's own object and
//! is not seen: its callback's abort is then Rust's own. The Rust standard
//! library, where it is a shared library of its own (`-C prefer-dynamic`),
//! is not foreign.

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
    let walk = walk_to_root();
    let name = header.name().unwrap_or("<unnamed>");
    if !walk.reached {
        eprintln!(
            "coro: cannot close coroutine '{name}': it is suspended inside foreign frames \
             that cannot be unwound (code without unwind tables). Resume it to \
             completion first, or call that code through coro::foreign::call with its \
             callbacks wrapped in coro::foreign::callback."
        );
        std::process::abort();
    }
    if let Some(object) = walk.foreign
        && !header.in_foreign_callback()
    {
        eprintln!(
            "coro: cannot close coroutine '{name}': it is suspended inside frames of \
             foreign code ({object}), which Rust must not unwind through. Resume it to \
             completion first, or call that code through coro::foreign::call with its \
             callbacks wrapped in coro::foreign::callback."
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

/// What the walk from a suspension to its coroutine's root found.
struct Walk {
    /// The walk got to the root.
    reached: bool,
    /// The file of the first frame on the way that belongs to another
    /// loaded object than coro's (and than Rust's standard library).
    foreign: Option<String>,
    /// The base address of the loaded object that holds coro's code, looked
    /// up once for the walk (null if `dladdr` does not know it).
    ours: *mut c_void,
}

/// `_URC_NO_REASON`: go on walking.
const CONTINUE: c_int = 0;
/// `_URC_NORMAL_STOP`: stop here.
const STOP: c_int = 4;

/// Walks from here to the coroutine's root, the trampoline (every frame in
/// between must have unwind information), noting the first foreign frame.
fn walk_to_root() -> Walk {
    unsafe extern "C" fn visit(context: *mut c_void, walk: *mut c_void) -> c_int {
        // SAFETY: `walk` is the `Walk` passed below, alive for the walk.
        let walk = unsafe { &mut *walk.cast::<Walk>() };
        // SAFETY: `context` is the unwinder's, valid during this call.
        let ip = unsafe { _Unwind_GetIP(context) };
        if arch::is_root_frame(ip) {
            walk.reached = true;
            return STOP;
        }
        if walk.foreign.is_none() && !walk.ours.is_null() {
            // A return address points just past its call: look up the call.
            walk.foreign = foreign_object(ip.wrapping_sub(1), walk.ours);
        }
        CONTINUE
    }
    let mut walk = Walk {
        reached: false,
        foreign: None,
        ours: object_at(walk_to_root as *const () as usize)
            .map_or(std::ptr::null_mut(), |info| info.dli_fbase),
    };
    // SAFETY: `visit` matches the callback type and only writes `walk`.
    unsafe { _Unwind_Backtrace(visit, (&mut walk as *mut Walk).cast()) };
    walk
}

/// What `dladdr` knows of the loaded object that holds `address`.
fn object_at(address: usize) -> Option<libc::Dl_info> {
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: `dladdr` only reads the address and fills `info`.
    let found = unsafe { libc::dladdr(address as *const c_void, info.as_mut_ptr()) } != 0;
    // SAFETY: zeroed, then filled by `dladdr` where it found something.
    let info = unsafe { info.assume_init() };
    (found && !info.dli_fbase.is_null()).then_some(info)
}

/// The file name of the loaded object that holds `address`, if that is
/// not `ours` (the base of coro's own object), nor Rust's standard library.
fn foreign_object(address: usize, ours: *mut c_void) -> Option<String> {
    let theirs = object_at(address)?;
    if theirs.dli_fbase == ours || theirs.dli_fname.is_null() {
        return None;
    }
    // SAFETY: `dladdr` gives a NUL-terminated file name, alive while the
    // object is loaded (it holds a frame on this stack).
    let name = unsafe { std::ffi::CStr::from_ptr(theirs.dli_fname) }.to_string_lossy();
    let file = name.rsplit('/').next().unwrap_or(&name);
    (!file.starts_with("libstd-")).then(|| name.into_owned())
}

/// True if a caught payload is our forced unwind rather than a real panic.
pub(crate) fn is_forced(payload: &(dyn Any + Send)) -> bool {
    payload.is::<ForcedUnwind>()
}
