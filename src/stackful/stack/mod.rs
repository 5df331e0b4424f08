//! Coroutine stacks: `mmap`'d memory with a guard page below, and a
//! per-thread pool of freed stacks so that creating a coroutine costs no
//! system call in the common case.
//!
//! Pages are reserved, not committed: a fresh stack costs resident memory
//! only for the pages the coroutine touches.

mod pool;
mod registry;
mod valgrind;

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use pool::{DEFAULT_POOL_CAPACITY, set_stack_pool_capacity, stack_pool_capacity};
pub(crate) use pool::{give, take};
pub(crate) use registry::with_guard_at;
pub(crate) use valgrind::make_writable;

use crate::Error;
use crate::current::Header;

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
    /// The stack's entry in this thread's list, for the overflow handler.
    record: NonNull<registry::Record>,
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
        let record = registry::register(base as usize, bottom as usize, size);
        Ok(Stack {
            top,
            size,
            valgrind_id,
            record,
        })
    }

    /// Names `owner` (null: none) as the coroutine that runs on this stack,
    /// for the overflow handler's report.
    ///
    /// # Safety
    /// A non-null `owner` must stay alive until the stack is given another
    /// owner, or none, or dropped.
    pub(crate) unsafe fn set_owner(&self, owner: *const Header) {
        // SAFETY: the record stays linked while the stack is mapped; the
        // caller promises the rest.
        unsafe { registry::set_owner(self.record, owner) }
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
        // SAFETY: the record was registered by `map` on this thread (a stack
        // never leaves it), and is unregistered only here.
        unsafe { registry::unregister(self.record) };
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

/// How many starting offsets coroutine stacks rotate through: see
/// [`colored_top`].
const COLORS: usize = 32;

/// The distance between two starting offsets: one cache line.
const COLOR_STEP: usize = 64;

/// Where a new coroutine's stack starts: `stack`'s top, lowered by one of
/// [`COLORS`] offsets a cache line apart, taken in turn.
///
/// Every stack's top has the same offset in its page, so without this the
/// hot words of every suspended coroutine (the saved registers, the frames
/// just below the body) would fall into the same few sets of
/// the processor's caches, and a few dozen coroutines resumed in turn would
/// evict each other. The offsets stay within the stack's top 2 KiB, so a
/// small body still touches one page.
pub(crate) fn colored_top(stack: &Stack) -> *mut u8 {
    thread_local! {
        static NEXT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }
    let color = NEXT.with(|next| {
        let color = next.get();
        next.set((color + 1) % COLORS);
        color
    });
    // SAFETY: at most 1,984 bytes below the top of a stack of at least
    // `MIN_STACK_SIZE` bytes: inside it.
    unsafe { stack.top().sub(color * COLOR_STEP) }
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

#[cfg(test)]
mod tests {
    use super::*;

    // The tops handed out rotate through every color, and stay aligned for
    // the switch and inside the stack's top 2 KiB.
    #[test]
    fn colored_tops_rotate_within_the_top_page() {
        let stack = Stack::map(usable_size(MIN_STACK_SIZE)).unwrap();
        let top = stack.top() as usize;
        let offsets: Vec<usize> = (0..2 * COLORS)
            .map(|_| top - colored_top(&stack) as usize)
            .collect();
        let mut distinct = offsets.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), COLORS, "{offsets:?}");
        assert_eq!(offsets[..COLORS], offsets[COLORS..], "a full turn repeats");
        for offset in offsets {
            assert!(offset < 2048, "{offset}");
            assert_eq!(offset % COLOR_STEP, 0, "{offset}");
        }
    }
}
