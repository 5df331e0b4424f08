//! What the stackful backend needs from the operating system beyond POSIX:
//! one file per system, chosen by one gate. Everything else in the backend
//! (`mmap`, `mprotect`, `sigaction`, `sigaltstack`) is the same everywhere.
//!
//! Every system file provides:
//!
//! - `STACK_MAP_FLAGS`, the `mmap` flags of a coroutine stack;
//! - `FAULT_SIGNALS`, the signals a touch of a guard page raises;
//! - `fault_address`, the faulting address in a fault handler's `siginfo_t`;
//! - `GUARD_INSTALL` and `GUARD_REMOVE`, the `madvise` advice for guard
//!   regions that split no mapping, where the system has them.
//!
//! Linux is tested; macOS and the BSDs compile, and are not run.

#[cfg(any(target_os = "linux", target_os = "android"))]
#[path = "linux.rs"]
mod imp;

#[cfg(target_vendor = "apple")]
#[path = "apple.rs"]
mod imp;

#[cfg(any(
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
#[path = "bsd.rs"]
mod imp;

pub(crate) use imp::*;
