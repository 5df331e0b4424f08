//! Each thread keeps up to [`DEFAULT_POOL_CAPACITY`] freed stacks for reuse
//! (see [`set_stack_pool_capacity`]), so that creating a coroutine costs no
//! `mmap` in the common case. The pool is bounded: a stack freed when it is
//! full is unmapped at once, and the pool unmaps its stacks when the thread
//! exits.

use std::cell::{Cell, RefCell};

use super::{Stack, usable_size};
use crate::Error;

/// How many freed stacks a thread keeps unless told otherwise: 64.
pub const DEFAULT_POOL_CAPACITY: usize = 64;

/// A thread's pool: one thread-local, so that a create and a finish each
/// reach it once.
struct Pool {
    /// The freed stacks, the last freed last.
    stacks: RefCell<Vec<Stack>>,
    /// How many it keeps at most.
    capacity: Cell<usize>,
    /// Stacks given back since the last sweep (see [`give`]).
    since_sweep: Cell<u32>,
}

thread_local! {
    static POOL: Pool = const {
        Pool {
            stacks: RefCell::new(Vec::new()),
            capacity: Cell::new(DEFAULT_POOL_CAPACITY),
            since_sweep: Cell::new(0),
        }
    };
}

/// Sets how many freed stacks this thread keeps for reuse, unmapping any
/// beyond the new capacity.
///
/// A pooled stack keeps the pages its last coroutine touched (usually one
/// or two) and two kernel mappings. Raise the capacity for workloads that
/// create and finish coroutines in bursts larger than the default — every
/// stack beyond the capacity costs an `mmap` and an `munmap` (about 10 µs
/// together) instead of a pop from the pool; lower it, to zero if you like,
/// to give memory back at once.
///
/// ```
/// coro::set_stack_pool_capacity(1000);
/// assert_eq!(coro::stack_pool_capacity(), 1000);
/// // A burst of 1000 coroutines now reuses its stacks the next time.
/// let burst: Vec<_> = (0..1000).map(|i| coro::Coroutine::<(), (), i32>::new(move |_, ()| i)).collect();
/// drop(burst);
/// coro::set_stack_pool_capacity(coro::DEFAULT_POOL_CAPACITY);
/// ```
pub fn set_stack_pool_capacity(capacity: usize) {
    // Unmapped after the borrow ends.
    let excess = POOL
        .try_with(|pool| {
            pool.capacity.set(capacity);
            let mut pool = pool.stacks.borrow_mut();
            let keep = pool.len().min(capacity);
            pool.split_off(keep)
        })
        .unwrap_or_default();
    drop(excess);
}

/// How many freed stacks this thread keeps for reuse.
pub fn stack_pool_capacity() -> usize {
    POOL.try_with(|pool| pool.capacity.get()).unwrap_or(0)
}

/// A stack with `bytes` usable bytes (see `usable_size`): from the pool if it
/// holds one of that size, else freshly mapped.
pub(crate) fn take(bytes: usize) -> Result<Stack, Error> {
    let size = usable_size(bytes);
    let pooled = POOL
        .try_with(|pool| {
            let mut pool = pool.stacks.borrow_mut();
            let index = pool.iter().rposition(|stack| stack.size() == size)?;
            Some(pool.swap_remove(index))
        })
        .ok()
        .flatten();
    match pooled {
        Some(stack) => Ok(stack),
        None => Stack::map(size),
    }
}

/// How many stacks go back to a thread's pool between two sweeps of its
/// deep pages (see [`give`]).
const SWEEP_EVERY: u32 = 4096;

/// Returns a stack no coroutine uses any more, for reuse on this thread.
///
/// A pooled stack keeps the pages of its top 64 KiB for the next coroutine.
/// Deeper pages go back to the kernel when the stack comes back, if its last
/// coroutine visibly went that deep ([`Stack::trim`]), and in any case at the
/// next sweep: every [`SWEEP_EVERY`]th stack given back, the deep pages of
/// every stack in the pool go back (one `madvise` per pooled stack, a few
/// nanoseconds per create spread over the sweep's interval).
pub(crate) fn give(stack: Stack) {
    // SAFETY: no owner is always valid.
    unsafe { stack.set_owner(std::ptr::null()) };
    // During thread exit the pool may be gone: the stack is then unmapped.
    let _ = POOL.try_with(|pool| {
        let mut stacks = pool.stacks.borrow_mut();
        if stacks.len() < pool.capacity.get() {
            // Deep pages go back to the kernel; the top ones stay for the
            // next coroutine.
            stack.trim();
            stacks.push(stack);
            let since = pool.since_sweep.get() + 1;
            pool.since_sweep.set(since);
            if since >= SWEEP_EVERY {
                pool.since_sweep.set(0);
                stacks.iter().for_each(Stack::release_deep_pages);
            }
        }
    });
}
