//! macOS and Apple's other systems. Compiles; not run.

/// Private anonymous memory. Darwin has no `MAP_STACK`, and does not reserve
/// swap for anonymous memory anyway.
pub(crate) const STACK_MAP_FLAGS: libc::c_int = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;

/// Darwin raises `SIGBUS` for a touch of a `PROT_NONE` page, `SIGSEGV` for
/// an unmapped address.
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
