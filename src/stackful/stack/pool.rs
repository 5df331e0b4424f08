//! Each thread keeps up to [`POOL_CAPACITY`] freed stacks for reuse, so that
//! creating a coroutine costs no `mmap` in the common case. The pool is
//! bounded: a stack freed when it is full is unmapped at once, and the pool
//! unmaps its stacks when the thread exits.

use std::cell::RefCell;

use super::{Stack, usable_size};
use crate::Error;

/// Stacks kept per thread. Each holds only the pages its last coroutine
/// touched, usually one or two.
const POOL_CAPACITY: usize = 64;

thread_local! {
    static POOL: RefCell<Vec<Stack>> = const { RefCell::new(Vec::new()) };
}

/// A stack with `bytes` usable bytes (see `usable_size`): from the pool if it
/// holds one of that size, else freshly mapped.
pub(crate) fn take(bytes: usize) -> Result<Stack, Error> {
    let size = usable_size(bytes);
    let pooled = POOL
        .try_with(|pool| {
            let mut pool = pool.borrow_mut();
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

/// Returns a stack no coroutine uses any more, for reuse on this thread.
pub(crate) fn give(stack: Stack) {
    // During thread exit the pool may be gone: the stack is then unmapped.
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOL_CAPACITY {
            pool.push(stack);
        }
    });
}
