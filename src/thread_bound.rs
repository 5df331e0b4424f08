//! [`StaysOnThread`], the marker that keeps coro's types on their thread.

use std::fmt;
use std::marker::PhantomData;

/// The marker that keeps a coroutine, its [`Yielder`](crate::Yielder) and
/// its [`Handle`](crate::Handle) (of either backend) on the thread that made
/// them: it is neither `Send` nor `Sync`, and so is every type that holds
/// one.
///
/// Every such type of coro holds a `PhantomData<*mut StaysOnThread>` as its
/// first field, so that the first compile error for moving one to another
/// thread names this marker: "`*mut StaysOnThread` cannot be sent between
/// threads safely", "required because it appears within the type
/// `Coroutine<..>`". The errors that follow it name private fields of the
/// same type (its header, its stack), for the same reason: a coroutine's stack or frame may hold
/// anything, `Rc`s included, and its header is shared with its handles
/// without atomics. Keep the coroutine on its thread; to run coroutines on
/// several threads, create them on each.
///
/// It is zero-sized, and nothing but coro could make one (nothing does:
/// only its name is used).
///
/// ```compile_fail
/// fn needs_send<T: Send>() {}
/// needs_send::<coro::StaysOnThread>();
/// ```
///
/// ```compile_fail
/// fn needs_sync<T: Sync>() {}
/// needs_sync::<coro::StaysOnThread>();
/// ```
pub struct StaysOnThread(PhantomData<*mut StaysOnThread>);

/// The field that keeps a type of coro on its thread: a zero-sized pointer
/// to [`StaysOnThread`], which is what a `!Send` error names. Every type
/// that holds one declares it first, and keeps its other fields' own
/// `!Send` parts at least one type deeper (see `Handle`, the stackful
/// `Coroutine` and `Yielder`): rustc reports the unmet `Send` bounds of a
/// type breadth first, then in field order.
pub(crate) type ThreadBound = PhantomData<*mut StaysOnThread>;

impl fmt::Debug for StaysOnThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaysOnThread")
    }
}
