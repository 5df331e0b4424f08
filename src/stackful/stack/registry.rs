//! Which of this thread's stacks a faulting address belongs to, for the
//! overflow handler.
//!
//! Code runs on a stackful coroutine's stack while another coroutine is the
//! thread's current one: a stackless coroutine it resumes or closes, a
//! never-started coroutine whose capture it drops, the switch into the next
//! coroutine. So the handler cannot ask the current coroutine; it asks
//! [`with_guard_at`] which stack's guard page the address is in.
//!
//! Every stack mapped by this thread has a [`Record`] on the heap, linked
//! into the thread's list from the mapping to the unmapping, so pooled stacks
//! stay in it. A stack is only ever used by the thread that mapped it
//! (coroutines are `!Send` and the pool is per thread), so a per-thread list
//! finds every stack code of this thread can run on.
//!
//! The handler may interrupt the thread anywhere, also halfway through a
//! change to the list. Every change is a single store that the handler reads
//! (a record is complete before it becomes reachable, and is freed only once
//! it is not), so the handler always walks a consistent list; it allocates
//! nothing, takes no lock, and reads only a thread-local without destructor
//! (usable during thread exit) and the records.
//!
//! Creating a coroutine stores its header in the record, finishing it clears
//! it: the resume and suspend paths never touch the list.

use std::cell::Cell;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::header::Header;

/// One mapped stack of this thread.
pub(super) struct Record {
    /// Lowest address of the guard page.
    guard_low: usize,
    /// One past the guard page and the close reserve above it: the stack's
    /// lowest usable byte. An open reserve never faults, so a fault anywhere
    /// in between is an overflow.
    guard_high: usize,
    /// Usable bytes.
    size: usize,
    /// The coroutine that owns the stack, null while it is pooled. Its header
    /// lives at least as long as it owns the stack.
    owner: AtomicPtr<Header>,
    /// The next record of the list; the handler walks these.
    next: AtomicPtr<Record>,
    /// The previous record, for unlinking; the handler does not read it.
    prev: Cell<*mut Record>,
}

thread_local! {
    /// The thread's newest record. No destructor, so it is readable until
    /// the thread is gone.
    static HEAD: AtomicPtr<Record> = const { AtomicPtr::new(ptr::null_mut()) };
}

/// Adds a stack whose guard page is `[guard_low, guard_high)` and whose
/// usable bytes, `size` of them, lie just above, to this thread's list.
pub(super) fn register(guard_low: usize, guard_high: usize, size: usize) -> NonNull<Record> {
    let record = Box::into_raw(Box::new(Record {
        guard_low,
        guard_high,
        size,
        owner: AtomicPtr::new(ptr::null_mut()),
        next: AtomicPtr::new(ptr::null_mut()),
        prev: Cell::new(ptr::null_mut()),
    }));
    HEAD.with(|head| {
        let first = head.load(Ordering::Relaxed);
        // SAFETY: `record` is the fresh allocation above; `first`, if not
        // null, is a linked record, alive until it is unregistered.
        unsafe {
            (*record).next.store(first, Ordering::Relaxed);
            if let Some(first) = first.as_ref() {
                first.prev.set(record);
            }
        }
        // The record is complete before it becomes reachable.
        head.store(record, Ordering::Release);
    });
    // SAFETY: `Box::into_raw` never returns null.
    unsafe { NonNull::new_unchecked(record) }
}

/// Removes a record from this thread's list and frees it.
///
/// # Safety
/// `record` must come from [`register`] on this thread, and not have been
/// unregistered yet.
pub(super) unsafe fn unregister(record: NonNull<Record>) {
    let record = record.as_ptr();
    // SAFETY: promised by the caller: the record and its neighbours are
    // linked, hence alive.
    unsafe {
        let next = (*record).next.load(Ordering::Relaxed);
        let prev = (*record).prev.get();
        if let Some(next) = next.as_ref() {
            next.prev.set(prev);
        }
        // The one store that makes the record unreachable.
        match prev.as_ref() {
            Some(prev) => prev.next.store(next, Ordering::Release),
            None => HEAD.with(|head| head.store(next, Ordering::Release)),
        }
        drop(Box::from_raw(record));
    }
}

/// Records `owner` (null: none) as the coroutine whose stack it is.
///
/// # Safety
/// `record` must be linked; a non-null `owner` must stay alive until it is
/// replaced.
pub(super) unsafe fn set_owner(record: NonNull<Record>, owner: *const Header) {
    // SAFETY: promised by the caller.
    unsafe { record.as_ref() }
        .owner
        .store(owner.cast_mut(), Ordering::Release);
}

/// Calls `found` with the name of the coroutine that owns the stack whose
/// guard page holds `address` (`None` for an unnamed coroutine, or a stack
/// no coroutine owns) and that stack's usable size. `None` if the address is
/// in no guard page of this thread's stacks.
///
/// Async-signal-safe: for the fault handler. The only function that knows
/// how stacks are found, so that a different layout changes only this one.
pub(crate) fn with_guard_at<T>(
    address: usize,
    found: impl FnOnce(Option<&str>, usize) -> T,
) -> Option<T> {
    let mut record = HEAD.with(|head| head.load(Ordering::Acquire));
    // SAFETY: every record reachable from the head is linked, hence alive:
    // records are freed only after the store that unlinks them, and the code
    // that changes the list cannot run while this handler interrupts it.
    while let Some(current) = unsafe { record.as_ref() } {
        if (current.guard_low..current.guard_high).contains(&address) {
            let owner = current.owner.load(Ordering::Acquire);
            // SAFETY: an owner stays alive while it owns the stack.
            let name = unsafe { owner.as_ref() }.and_then(Header::name);
            return Some(found(name, current.size));
        }
        record = current.next.load(Ordering::Acquire);
    }
    None
}
