//! Stacks carved out of large mappings, each with guard pages that split
//! nothing.
//!
//! A stack of its own mapping costs two kernel mappings (the usable part,
//! and the inaccessible guard below it), so a process stops at about 32,700
//! live stacks under Linux's default `vm.max_map_count` of 65,530. Where the
//! kernel has guard regions (`madvise(MADV_GUARD_INSTALL)`, Linux 6.13), a
//! thread instead reserves address space in chunks of about 1 GiB, one
//! mapping each, and cuts them into slots of one stack size; each slot's
//! guard page and close reserve (see the parent module) are made to fault
//! by a guard region, which leaves the mapping whole. A million stacks then
//! cost a few hundred mappings.
//!
//! Whether the kernel has guard regions is found out once per process:
//! [`supported`] installs one on a scratch page and checks that the kernel
//! refuses to read it (an emulator such as qemu-user accepts the `madvise`
//! and ignores it). Where it does not, or where `CORO_GUARD_REGIONS=0` is in
//! the environment, every stack gets its own mapping, as before.
//!
//! # Who owns a slot
//!
//! A slot is, at any moment, exactly one of:
//! - *untouched*: at or above its chunk's `untouched` index, never handed out;
//! - *held*: inside a [`Stack`](super::Stack), which is owned by a coroutine
//!   or lies in the thread's pool of freed stacks (`pool.rs`), and keeps its
//!   pages;
//! - *free*: in its chunk's free list, its pages given back to the kernel
//!   (`MADV_DONTNEED`, which keeps guard regions), its guard in place.
//!
//! A chunk whose slots are all untouched or free again is unmapped; one that
//! still holds a stack stays, however many of its slots are free, so memory
//! goes back to the kernel page by page at once and address space chunk by
//! chunk. A `Stack` leaves the pool (and gives its slot back) when the pool
//! is full or trimmed, or when the thread exits.
//!
//! The chunks of a thread are linked from a thread-local without destructor,
//! readable until the thread is gone, since stacks are dropped by other
//! thread-locals' destructors too. Only the thread that carved a slot ever
//! touches its chunk (stacks never leave their thread).

use std::cell::Cell;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU8, Ordering};

use super::{close_reserve, page_size};
use crate::stackful::os;

/// How much address space a chunk reserves at least: 1 GiB.
const CHUNK_BYTES: usize = 1 << 30;

/// One mapping cut into slots of one size.
struct Chunk {
    /// The mapping's lowest address.
    base: *mut u8,
    /// Bytes per slot: guard page, close reserve, usable bytes.
    slot_len: usize,
    /// How many slots the mapping holds.
    slots: usize,
    /// Slots at and above this index were never handed out.
    untouched: usize,
    /// Indices of free slots, the last freed last.
    free: Vec<usize>,
    /// How many slots are held by stacks.
    held: usize,
    /// The thread's next chunk.
    next: *mut Chunk,
}

thread_local! {
    /// The thread's newest chunk. No destructor: stacks dropped by other
    /// thread-locals' destructors still find their chunks.
    static CHUNKS: Cell<*mut Chunk> = const { Cell::new(ptr::null_mut()) };
}

/// A slot held by a stack: the chunk it belongs to and its index there.
#[derive(Debug)]
pub(super) struct Slot {
    chunk: NonNull<Chunk>,
    index: usize,
}

impl Slot {
    /// The slot's lowest address: its guard page.
    pub(super) fn base(&self) -> *mut u8 {
        // SAFETY: a held slot's chunk is alive (it is unmapped only once no
        // slot is held), and the slot lies inside its mapping.
        unsafe {
            let chunk = self.chunk.as_ref();
            chunk.base.add(self.index * chunk.slot_len)
        }
    }
}

/// True if this process's stacks can have guard regions: found out once.
pub(super) fn supported() -> bool {
    /// 0: not found out yet; 1: yes; 2: no.
    static SUPPORTED: AtomicU8 = AtomicU8::new(0);
    match SUPPORTED.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let wanted = std::env::var_os("CORO_GUARD_REGIONS").is_none_or(|value| value != "0");
            let yes = wanted && guard_regions_work();
            SUPPORTED.store(if yes { 1 } else { 2 }, Ordering::Relaxed);
            yes
        }
    }
}

/// Installs a guard region on a scratch page, and checks that the kernel
/// then refuses to read it: a `write` from it to a pipe must fail with
/// `EFAULT` (a read by the kernel raises no signal).
fn guard_regions_work() -> bool {
    let Some(install) = os::GUARD_INSTALL else {
        return false;
    };
    let page = page_size();
    // SAFETY: a fresh anonymous mapping, unmapped below; the pipe's ends are
    // closed below.
    unsafe {
        let scratch = libc::mmap(
            ptr::null_mut(),
            page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if scratch == libc::MAP_FAILED {
            return false;
        }
        let mut works = false;
        if libc::madvise(scratch, page, install) == 0 {
            let mut ends = [0; 2];
            if libc::pipe(ends.as_mut_ptr()) == 0 {
                let written = libc::write(ends[1], scratch, 1);
                works = written < 0
                    && std::io::Error::last_os_error().raw_os_error() == Some(libc::EFAULT);
                libc::close(ends[0]);
                libc::close(ends[1]);
            }
        }
        libc::munmap(scratch, page);
        works
    }
}

/// A slot of `slot_len` bytes (a multiple of the page size) whose lowest
/// `guarded` bytes fault: from a chunk of this thread with one free, else
/// from a new chunk. `None` if guard regions are not supported, or the
/// address space or the kernel refuse; the caller then maps the stack on its
/// own.
pub(super) fn carve(slot_len: usize, guarded: usize) -> Option<Slot> {
    if !supported() {
        return None;
    }
    let install = os::GUARD_INSTALL?;
    let chunk = find_or_map(slot_len)?;
    // SAFETY: the chunk is linked, hence mapped, and only this thread
    // touches it.
    let c = unsafe { &mut *chunk.as_ptr() };
    let index = match c.free.pop() {
        // A freed slot keeps its guard region.
        Some(index) => index,
        None => {
            let index = c.untouched;
            // SAFETY: the slot is inside the mapping, and nothing uses it.
            let base = unsafe { c.base.add(index * slot_len) };
            // SAFETY: as above.
            if unsafe { libc::madvise(base.cast(), guarded, install) } != 0 {
                release_if_empty(chunk);
                return None;
            }
            c.untouched += 1;
            index
        }
    };
    c.held += 1;
    Some(Slot { chunk, index })
}

/// The thread's chunk of `slot_len`-byte slots with one to spare, or a new
/// one linked first.
fn find_or_map(slot_len: usize) -> Option<NonNull<Chunk>> {
    let mut current = CHUNKS.with(Cell::get);
    // SAFETY: every linked chunk is alive; only this thread touches them.
    while let Some(chunk) = unsafe { current.as_ref() } {
        if chunk.slot_len == slot_len && (!chunk.free.is_empty() || chunk.untouched < chunk.slots) {
            return NonNull::new(current);
        }
        current = chunk.next;
    }
    let slots = (CHUNK_BYTES / slot_len).max(1);
    let len = slots.checked_mul(slot_len)?;
    // SAFETY: an anonymous private mapping at an address the kernel picks
    // touches no existing memory.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            os::STACK_MAP_FLAGS,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return None;
    }
    let chunk = Box::into_raw(Box::new(Chunk {
        base: base.cast(),
        slot_len,
        slots,
        untouched: 0,
        free: Vec::new(),
        held: 0,
        next: CHUNKS.with(Cell::get),
    }));
    CHUNKS.with(|head| head.set(chunk));
    NonNull::new(chunk)
}

/// Gives a slot back: its pages below `top` go back to the kernel (its
/// guard region stays), and its chunk is unmapped if no slot is held any
/// more.
///
/// # Safety
/// `slot` must come from [`carve`] on this thread, and nothing may use its
/// memory any more.
pub(super) unsafe fn release(slot: Slot) {
    let chunk = slot.chunk;
    // SAFETY: promised by the caller: the chunk is alive, and the slot's
    // memory is no one's.
    unsafe {
        let c = &mut *chunk.as_ptr();
        let base = c.base.add(slot.index * c.slot_len);
        libc::madvise(base.cast(), c.slot_len, libc::MADV_DONTNEED);
        c.held -= 1;
        c.free.push(slot.index);
    }
    release_if_empty(chunk);
}

/// Unlinks and unmaps `chunk` if it holds no stack.
fn release_if_empty(chunk: NonNull<Chunk>) {
    // SAFETY: the chunk is linked, and only this thread touches the list.
    if unsafe { chunk.as_ref() }.held != 0 {
        return;
    }
    let target = chunk.as_ptr();
    CHUNKS.with(|head| {
        // SAFETY: every linked chunk is alive; the target is unlinked before
        // it is freed.
        unsafe {
            let mut previous: *mut Chunk = ptr::null_mut();
            let mut current = head.get();
            while !current.is_null() && current != target {
                previous = current;
                current = (*current).next;
            }
            if current.is_null() {
                return;
            }
            let next = (*target).next;
            match previous.as_mut() {
                Some(previous) => previous.next = next,
                None => head.set(next),
            }
            let chunk = Box::from_raw(target);
            libc::munmap(chunk.base.cast(), chunk.slots * chunk.slot_len);
        }
    });
}

/// Makes `[low, low + len)`, a slot's close reserve, writable: its guard
/// region is removed. False if the kernel refuses.
pub(super) fn open_reserve(low: *mut u8, len: usize) -> bool {
    match os::GUARD_REMOVE {
        // SAFETY: the reserve is the caller's slot's, and nothing refers to
        // it while it faults.
        Some(remove) => unsafe { libc::madvise(low.cast(), len, remove) == 0 },
        None => false,
    }
}

/// Makes a slot's close reserve fault again; its pages go back to the
/// kernel with it.
pub(super) fn shut_reserve(low: *mut u8, len: usize) {
    if let Some(install) = os::GUARD_INSTALL {
        // SAFETY: the reserve is the caller's slot's, and no frame lives
        // there any more. Should the kernel refuse, the reserve stays
        // writable above the guard page, which still faults.
        unsafe { libc::madvise(low.cast(), len, install) };
    }
}

/// A slot's length for `size` usable bytes: guard page, close reserve, the
/// bytes; `None` if that overflows.
pub(super) fn slot_len(size: usize) -> Option<usize> {
    size.checked_add(page_size() + close_reserve())
}

/// How many chunks this thread has mapped, for tests.
#[cfg(test)]
pub(super) fn chunk_count() -> usize {
    let mut count = 0;
    let mut current = CHUNKS.with(Cell::get);
    // SAFETY: as in `find_or_map`.
    while let Some(chunk) = unsafe { current.as_ref() } {
        count += 1;
        current = chunk.next;
    }
    count
}
