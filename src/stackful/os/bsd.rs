//! FreeBSD, NetBSD, OpenBSD and DragonFly. Compiles; not run.

/// Private anonymous memory, marked as a stack (OpenBSD requires it of any
/// memory the stack pointer moves into).
pub(crate) const STACK_MAP_FLAGS: libc::c_int =
    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK;

/// A touch of a `PROT_NONE` page raises `SIGSEGV` (or `SIGBUS` on some).
pub(crate) const FAULT_SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

/// The faulting address of a `SIGSEGV` or `SIGBUS`.
///
/// # Safety
/// `info` must be the `siginfo_t` the kernel passed to an `SA_SIGINFO`
/// handler.
pub(crate) unsafe fn fault_address(info: *const libc::siginfo_t) -> usize {
    // SAFETY: promised by the caller.
    unsafe { (*info).si_addr as usize }
}

/// No guard regions without splitting a mapping here: every stack has a
/// mapping of its own.
pub(crate) const GUARD_INSTALL: Option<libc::c_int> = None;

/// See [`GUARD_INSTALL`].
pub(crate) const GUARD_REMOVE: Option<libc::c_int> = None;
