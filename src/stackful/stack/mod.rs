//! Coroutine stacks: `mmap`'d memory with a guard page below, and a
//! per-thread pool of freed stacks so that creating a coroutine costs no
//! system call in the common case.
//!
//! Pages are reserved, not committed: a fresh stack costs resident memory
//! only for the pages the coroutine touches.
//!
//! A mapping is laid out, from low addresses up, as
//!
//! ```text
//! [guard page][close reserve][usable bytes ........................][top]
//!  PROT_NONE   PROT_NONE      read-write
//! ```
//!
//! The close reserve ([`CLOSE_RESERVE`] bytes) is as inaccessible as the
//! guard page, and the kernel keeps the two as one mapping, so a stack costs
//! two kernel mappings as it would without the reserve. Closing a coroutine
//! unwinds its stack below its suspension point; when less than the reserve
//! is free there, `close` makes the reserve writable for the unwind
//! ([`Stack::open_reserve`]) and inaccessible again before the stack is
//! reused, so a coroutine suspended with its stack nearly full can still be
//! closed.

mod arena;
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
use crate::header::Header;

/// The stack size a coroutine gets unless its builder says otherwise: 1 MiB.
///
/// Enough for recursion about as deep as Rust users expect of a thread
/// (a recursive-descent parser of 64-byte frames goes about 16,000 levels
/// deep), and still cheap: the memory is reserved, not committed, so a
/// coroutine costs the pages it touches (one, for a shallow body) whatever
/// its size. What the size does cost is address space and the kernel's page
/// tables: the pages a stack touches are at its top, and a 4 KiB page table
/// maps 2 MiB, so each live coroutine costs about `4 KiB × size / 2 MiB` of
/// page tables besides its touched pages — about 2 KiB at this default,
/// 540 B at 256 KiB, 150 B at 64 KiB, and 4 KiB at any size from 2 MiB up
/// (which is why the default is not a thread's 2 MiB). For a hundred
/// thousand coroutines and more, whose bodies stay shallow, pick a smaller
/// size with [`Builder::stack_size`](crate::Builder::stack_size).
pub const DEFAULT_STACK_SIZE: usize = 1024 * 1024;

/// The smallest stack a builder hands out: 16 KiB. Smaller requests are
/// raised to it.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// How many bytes `close` may use below a stack's usable part: 8 KiB (or one
/// page, if pages are bigger). The unwind of `close` needs about 4 KiB.
pub(crate) fn close_reserve() -> usize {
    CLOSE_RESERVE.max(page_size())
}

/// How much of a free stack keeps its pages in the pool: the top 64 KiB
/// (or one page, if pages are bigger). See [`Stack::trim`].
fn kept() -> usize {
    (64 * 1024).max(page_size())
}

/// The close reserve's size on systems with pages of 8 KiB or less.
pub(crate) const CLOSE_RESERVE: usize = 8 * 1024;

/// A mapped stack: `size` usable bytes ending at `top`, above the close
/// reserve and one guard page.
///
/// One pointer: what the stack is described by lives on the heap, so that
/// a coroutine, which holds its stack, stays small (a ring of a million
/// suspended coroutines is walked through their structs on every turn), and
/// the pool moves a word, not the description.
pub(crate) struct Stack {
    inner: Box<Mapped>,
}

/// What describes a [`Stack`].
struct Mapped {
    /// One past the highest usable byte; page-aligned.
    top: NonNull<u8>,
    /// Usable bytes, a multiple of the page size (the guard page not counted).
    size: usize,
    /// The id Valgrind gave the stack (0 when not running under Valgrind).
    valgrind_id: usize,
    /// The stack's entry in this thread's list, for the overflow handler.
    record: NonNull<registry::Record>,
    /// The slot of a chunk the stack was carved from (see `arena`), or
    /// `None` for a stack with a mapping of its own.
    slot: Option<arena::Slot>,
}

impl Stack {
    /// Maps a new stack of `size` usable bytes (already rounded to pages).
    fn map(size: usize) -> Result<Stack, Error> {
        Self::map_with(size, true)
    }

    /// Maps a new stack of `size` usable bytes, carved from a chunk if
    /// `carve` and guard regions are supported, else with a mapping of its
    /// own.
    fn map_with(size: usize, carve: bool) -> Result<Stack, Error> {
        super::overflow::install();
        super::overflow::ensure_signal_stack();
        let page = page_size();
        let fail = |source| Error::StackAllocation { size, source };
        let below = page + close_reserve();
        let len = arena::slot_len(size).ok_or_else(|| {
            fail(io::Error::new(
                io::ErrorKind::InvalidInput,
                "stack size overflows the address space",
            ))
        })?;
        let slot = if carve {
            arena::carve(len, below)
        } else {
            None
        };
        let base = match &slot {
            Some(slot) => slot.base().cast(),
            None => Self::map_own(len, below).map_err(fail)?,
        };
        // SAFETY: `base + len` is one past the end of the stack, not null.
        let top = unsafe { NonNull::new_unchecked(base.cast::<u8>().add(len)) };
        // SAFETY: `top - size` is the bottom of the usable part.
        let bottom = unsafe { top.as_ptr().sub(size) };
        // The reserve is part of the stack for Valgrind: `close` may run on it.
        // SAFETY: the reserve lies just below the usable part.
        let valgrind_id = valgrind::register(unsafe { bottom.sub(close_reserve()) }, top.as_ptr());
        let record = registry::register(base as usize, bottom as usize, size);
        Ok(Stack {
            inner: Box::new(Mapped {
                top,
                size,
                valgrind_id,
                record,
                slot,
            }),
        })
    }

    /// Maps `len` bytes of a stack of its own, whose lowest `below` bytes
    /// (the guard page and the close reserve) are inaccessible; returns the
    /// mapping's address.
    fn map_own(len: usize, below: usize) -> Result<*mut libc::c_void, io::Error> {
        // SAFETY: an anonymous private mapping at an address the kernel picks
        // touches no existing memory.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                super::os::STACK_MAP_FLAGS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the lowest pages of the mapping we just made become the
        // guard and the reserve: nothing else refers to them.
        if unsafe { libc::mprotect(base, below, libc::PROT_NONE) } != 0 {
            let source = io::Error::last_os_error();
            // SAFETY: unmapping exactly what we mapped above.
            unsafe { libc::munmap(base, len) };
            return Err(source);
        }
        Ok(base)
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
        unsafe { registry::set_owner(self.inner.record, owner) }
    }

    /// One past the highest usable byte.
    pub(crate) fn top(&self) -> *mut u8 {
        self.inner.top.as_ptr()
    }

    /// Usable bytes.
    pub(crate) fn size(&self) -> usize {
        self.inner.size
    }

    /// Gives the pages of this free stack below its top [`kept`] bytes back
    /// to the kernel if its last coroutine went that deep, so that a stack
    /// kept in the pool after deep use does not keep its deep pages resident
    /// while it waits. Costs a load when it did not (the word just below the
    /// line is still zero), one `madvise` when it did; a later coroutine
    /// that goes as deep faults the pages in again.
    ///
    /// A coroutine that went deep without leaving anything but zeros in
    /// that word leaves its pages until [`release_deep_pages`](Self::release_deep_pages)
    /// runs on the pool (see `pool::give`), or the stack leaves the pool,
    /// which gives everything back.
    pub(crate) fn trim(&self) {
        let kept = kept();
        if self.inner.size <= kept {
            return;
        }
        // SAFETY: `kept` bytes below the top are inside the stack, which no
        // coroutine uses: its last word below the line is readable memory.
        let deep = unsafe {
            let line = self.inner.top.as_ptr().sub(kept);
            let word = line.sub(size_of::<usize>());
            valgrind::make_readable(word, line);
            word.cast::<usize>().read_volatile() != 0
        };
        if deep {
            self.release_deep_pages();
        }
    }

    /// Gives the pages of this free stack below its top [`kept`] bytes back
    /// to the kernel, whether or not they are resident.
    pub(crate) fn release_deep_pages(&self) {
        let kept = kept();
        if self.inner.size <= kept {
            return;
        }
        let bottom = self.bottom();
        // SAFETY: the range lies inside the stack, which no coroutine uses.
        unsafe {
            libc::madvise(bottom.cast(), self.inner.size - kept, libc::MADV_DONTNEED);
        }
    }

    /// The lowest usable byte.
    fn bottom(&self) -> *mut u8 {
        // SAFETY: `size` bytes below `top` are mapped.
        unsafe { self.inner.top.as_ptr().sub(self.inner.size) }
    }

    /// Makes the close reserve writable if fewer than [`close_reserve`] bytes
    /// are free below `sp`, a suspended coroutine's stack pointer on this
    /// stack; `None` if enough are free (or the kernel refuses, in which
    /// case the reserve stays inaccessible and an unwind that needs it is
    /// reported as an overflow, as it would be without a reserve).
    ///
    /// The reserve is made inaccessible again when the returned value is
    /// dropped, which must happen before the stack is used by another
    /// coroutine: while it is open an overflow runs into it instead of
    /// faulting at once (it still faults at the guard page below).
    pub(crate) fn open_reserve(&self, sp: *mut u8) -> Option<OpenReserve> {
        let bottom = self.bottom();
        let reserve = close_reserve();
        if (sp as usize).saturating_sub(bottom as usize) >= reserve {
            return None;
        }
        // SAFETY: the reserve lies just below the usable part.
        let low = unsafe { bottom.sub(reserve) };
        let carved = self.inner.slot.is_some();
        let opened = if carved {
            arena::open_reserve(low, reserve)
        } else {
            // SAFETY: the reserve is ours, and nothing refers to it while it
            // is inaccessible.
            unsafe { libc::mprotect(low.cast(), reserve, libc::PROT_READ | libc::PROT_WRITE) == 0 }
        };
        opened.then_some(OpenReserve {
            low,
            len: reserve,
            carved,
        })
    }
}

/// The close reserve of a stack, writable until this is dropped.
pub(crate) struct OpenReserve {
    low: *mut u8,
    len: usize,
    /// The stack is a chunk's slot: the reserve faults by a guard region,
    /// not by its protection.
    carved: bool,
}

impl Drop for OpenReserve {
    fn drop(&mut self) {
        if self.carved {
            // Installing the guard region again also frees the pages.
            arena::shut_reserve(self.low, self.len);
            return;
        }
        // SAFETY: the coroutine that ran on the reserve has finished, so no
        // frame lives there any more. Its pages are given back to the system
        // and made inaccessible again; should the kernel refuse the second,
        // the reserve merely stays writable above the guard page, which is
        // still there.
        unsafe {
            libc::madvise(self.low.cast(), self.len, libc::MADV_DONTNEED);
            libc::mprotect(self.low.cast(), self.len, libc::PROT_NONE);
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the record was registered by `map` on this thread (a stack
        // never leaves it), and is unregistered only here.
        unsafe { registry::unregister(self.inner.record) };
        valgrind::deregister(self.inner.valgrind_id);
        if let Some(slot) = self.inner.slot.take() {
            // SAFETY: the slot was carved on this thread, and no coroutine
            // uses this stack any more (it is being dropped).
            unsafe { arena::release(slot) };
            return;
        }
        let len = self.inner.size + page_size() + close_reserve();
        // SAFETY: the mapping made in `map` starts `len` bytes below `top`,
        // and no coroutine uses this stack any more (it is being dropped).
        unsafe { libc::munmap(self.inner.top.as_ptr().sub(len).cast(), len) };
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("top", &self.inner.top)
            .field("size", &self.inner.size)
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

    /// The kernel mappings that overlap `[low, high)`, as `(low, high, perms)`.
    #[cfg(target_os = "linux")]
    fn mappings(low: usize, high: usize) -> Vec<(usize, usize, String)> {
        std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let (start, end) = fields.next()?.split_once('-')?;
                let start = usize::from_str_radix(start, 16).ok()?;
                let end = usize::from_str_radix(end, 16).ok()?;
                let perms = fields.next()?.to_owned();
                (start < high && end > low).then_some((start, end, perms))
            })
            .collect()
    }

    // The close reserve opens only below a stack that is nearly full, can be
    // written while open, and costs no kernel mapping open or closed: the
    // kernel merges it with its neighbour of the same protection.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_close_reserve_opens_below_a_full_stack_and_costs_no_mapping() {
        let stack = Stack::map_with(usable_size(MIN_STACK_SIZE), false).unwrap();
        let top = stack.top() as usize;
        let low = top - stack.size() - close_reserve() - page_size();
        let closed = mappings(low, top);
        assert_eq!(closed.len(), 2, "{closed:x?}");
        assert_eq!(closed[0].2, "---p", "{closed:x?}");
        assert_eq!(
            closed[0].1,
            low + page_size() + close_reserve(),
            "{closed:x?}"
        );

        // SAFETY: `close_reserve()` bytes below the bottom are inside the stack.
        let roomy = unsafe { stack.bottom().add(close_reserve()) };
        assert!(
            stack.open_reserve(roomy).is_none(),
            "room enough without it"
        );
        let reserve = stack
            .open_reserve(stack.bottom())
            .expect("the reserve opens");
        // SAFETY: the reserve is writable while open.
        unsafe { reserve.low.write_bytes(0xa5, reserve.len) };
        let open = mappings(low, top);
        assert_eq!(open.len(), 2, "{open:x?}");
        assert_eq!(
            open[0].1,
            low + page_size(),
            "only the guard page: {open:x?}"
        );
        drop(reserve);
        assert_eq!(mappings(low, top), closed);
    }

    // Where the kernel has guard regions, a thousand stacks are carved from
    // one chunk: one kernel mapping in all, each stack's guard and reserve
    // refusing reads (a `write` from them to a pipe fails with EFAULT), the
    // usable bytes writable, and the chunk gone once every stack is.
    #[cfg(target_os = "linux")]
    #[test]
    fn carved_stacks_share_one_mapping_and_keep_their_guards() {
        if !arena::supported() {
            eprintln!("no guard regions on this kernel: every stack has its own mapping");
            return;
        }
        let chunks = arena::chunk_count();
        let size = usable_size(MIN_STACK_SIZE);
        let stacks: Vec<Stack> = (0..1000).map(|_| Stack::map(size).unwrap()).collect();
        assert_eq!(arena::chunk_count(), chunks + 1);
        let low = stacks.iter().map(|s| s.top() as usize).min().unwrap()
            - size
            - close_reserve()
            - page_size();
        let high = stacks.iter().map(|s| s.top() as usize).max().unwrap();
        assert_eq!(mappings(low, high).len(), 1, "{:x?}", mappings(low, high));
        let mut ends = [0; 2];
        // SAFETY: a pipe of our own, closed below.
        assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
        for stack in &stacks {
            let bottom = stack.bottom();
            // SAFETY: the usable bytes are writable.
            unsafe { bottom.write(1) };
            for below in [1, close_reserve(), close_reserve() + page_size()] {
                // SAFETY: a read by the kernel, which fails instead of faulting.
                let written = unsafe { libc::write(ends[1], bottom.sub(below).cast(), 1) };
                assert_eq!(written, -1, "{below} bytes below the bottom is readable");
            }
        }
        // SAFETY: closing our own pipe.
        unsafe {
            libc::close(ends[0]);
            libc::close(ends[1]);
        }
        drop(stacks);
        assert_eq!(arena::chunk_count(), chunks);
    }

    // A carved stack's close reserve opens for writing and shuts again, its
    // guard page below staying in place throughout.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_carved_stacks_reserve_opens_and_shuts() {
        if !arena::supported() {
            return;
        }
        let stack = Stack::map(usable_size(MIN_STACK_SIZE)).unwrap();
        assert!(stack.inner.slot.is_some());
        let readable = |at: *mut u8| {
            let mut ends = [0; 2];
            // SAFETY: a pipe of our own, closed below; the kernel's read of
            // `at` fails instead of faulting.
            unsafe {
                assert_eq!(libc::pipe(ends.as_mut_ptr()), 0);
                let written = libc::write(ends[1], at.cast(), 1);
                libc::close(ends[0]);
                libc::close(ends[1]);
                written == 1
            }
        };
        // SAFETY: inside the slot.
        let (reserve, guard) = unsafe {
            (
                stack.bottom().sub(1),
                stack.bottom().sub(close_reserve() + 1),
            )
        };
        assert!(!readable(reserve) && !readable(guard));
        let open = stack
            .open_reserve(stack.bottom())
            .expect("the reserve opens");
        // SAFETY: the reserve is writable while open.
        unsafe { open.low.write_bytes(0xa5, open.len) };
        assert!(readable(reserve) && !readable(guard));
        drop(open);
        assert!(!readable(reserve) && !readable(guard));
    }

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
