//! Coroutine stacks: `mmap`'d memory with a guard page below, and a
//! per-thread pool of freed stacks so that creating a coroutine costs no
//! system call in the common case.
//!
//! Pages are reserved, not committed: a fresh stack costs resident memory
//! only for the pages the coroutine touches.

mod pool;
mod valgrind;

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use pool::{DEFAULT_POOL_CAPACITY, set_stack_pool_capacity, stack_pool_capacity};
pub(crate) use pool::{give, take};

use crate::Error;

/// The stack size a coroutine gets unless its builder says otherwise: 256 KiB.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// The smallest stack a builder hands out: 16 KiB. Smaller requests are
/// raised to it.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// A mapped stack: `size` usable bytes ending at `top`, above one guard page.
pub(crate) struct Stack {
    /// One past the highest usable byte; page-aligned.
    top: NonNull<u8>,
    /// Usable bytes, a multiple of the page size (the guard page not counted).
    size: usize,
    /// The id Valgrind gave the stack (0 when not running under Valgrind).
    valgrind_id: usize,
}

impl Stack {
    /// Maps a new stack of `size` usable bytes (already rounded to pages).
    fn map(size: usize) -> Result<Stack, Error> {
        super::overflow::install();
        super::overflow::ensure_signal_stack();
        let page = page_size();
        let fail = |source| Error::StackAllocation { size, source };
        let len = size.checked_add(page).ok_or_else(|| {
            fail(io::Error::new(
                io::ErrorKind::InvalidInput,
                "stack size overflows the address space",
            ))
        })?;
        #[cfg(target_os = "linux")]
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK;
        #[cfg(not(target_os = "linux"))]
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        // SAFETY: an anonymous private mapping at an address the kernel picks
        // touches no existing memory.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(fail(io::Error::last_os_error()));
        }
        // SAFETY: the lowest page of the mapping we just made becomes the
        // guard: nothing else refers to it.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } != 0 {
            let source = io::Error::last_os_error();
            // SAFETY: unmapping exactly what we mapped above.
            unsafe { libc::munmap(base, len) };
            return Err(fail(source));
        }
        // SAFETY: `base + len` is one past the end of the mapping, not null.
        let top = unsafe { NonNull::new_unchecked(base.cast::<u8>().add(len)) };
        // SAFETY: `top - size` is the bottom of the usable part we mapped.
        let bottom = unsafe { top.as_ptr().sub(size) };
        let valgrind_id = valgrind::register(bottom, top.as_ptr());
        Ok(Stack {
            top,
            size,
            valgrind_id,
        })
    }

    /// One past the highest usable byte.
    pub(crate) fn top(&self) -> *mut u8 {
        self.top.as_ptr()
    }

    /// Usable bytes.
    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        valgrind::deregister(self.valgrind_id);
        let len = self.size + page_size();
        // SAFETY: the mapping made in `map` starts `len` bytes below `top`,
        // and no coroutine uses this stack any more (it is being dropped).
        unsafe { libc::munmap(self.top.as_ptr().sub(len).cast(), len) };
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("top", &self.top)
            .field("size", &self.size)
            .finish()
    }
}

/// The system's page size, read once.
pub(crate) fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    match PAGE.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let page = if page > 0 { page as usize } else { 4096 };
            PAGE.store(page, Ordering::Relaxed);
            page
        }
        page => page,
    }
}

/// The usable size a request for `bytes` gets: at least [`MIN_STACK_SIZE`],
/// rounded up to whole pages.
pub(crate) fn usable_size(bytes: usize) -> usize {
    let page = page_size();
    bytes.max(MIN_STACK_SIZE).saturating_add(page - 1) & !(page - 1)
}
