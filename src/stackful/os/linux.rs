//! Linux (and Android).

/// Private anonymous memory, without swap reserved for it (a stack costs
/// only the pages it touches), marked as a stack for the kernel's
/// bookkeeping.
pub(crate) const STACK_MAP_FLAGS: libc::c_int =
    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK;

/// A touch of a `PROT_NONE` page raises `SIGSEGV`; `SIGBUS` is handled too,
/// in case a kernel reports it.
pub(crate) const FAULT_SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

/// The faulting address of a `SIGSEGV` or `SIGBUS`.
///
/// # Safety
/// `info` must be the `siginfo_t` the kernel passed to an `SA_SIGINFO`
/// handler.
pub(crate) unsafe fn fault_address(info: *const libc::siginfo_t) -> usize {
    // SAFETY: promised by the caller; for these signals the union holds the
    // address.
    unsafe { (*info).si_addr() as usize }
}

/// `madvise` advice that makes pages fault like a guard page without
/// splitting their mapping (`MADV_GUARD_INSTALL`, Linux 6.13; older kernels
/// refuse it with `EINVAL`).
pub(crate) const GUARD_INSTALL: Option<libc::c_int> = Some(102);

/// `madvise` advice that removes such guard regions (`MADV_GUARD_REMOVE`).
pub(crate) const GUARD_REMOVE: Option<libc::c_int> = Some(103);
