//! Each thread's chain of active coroutines: `running()`, `is_yieldable()`,
//! the `Running`/`Normal` bookkeeping and the nesting limit.
//!
//! Every coroutine's [`Header`] keeps its status, and while the coroutine is
//! active its place in the chain (see [`header`](crate::header)). This
//! module owns the rules of the status machine; the backends call [`enter`]
//! before they switch into a coroutine and [`leave`] when control comes
//! back, and never set a status themselves except through [`leave`].
//!
//! The chain is intrusive: the thread-local [`CHAIN`] points at the running
//! coroutine's header, each active header knows its place in the chain, and
//! each resume keeps the coroutine it displaced in a local ([`Entered`]) until
//! it gives the thread back. No list is allocated, and a resume from the
//! thread's own stack costs a few loads and stores. `Normal` is never stored:
//! an active coroutine that is not the running one is normal.

use std::cell::Cell;
use std::ptr;
use std::rc::Rc;

use crate::header::{DEAD, Header, SUSPENDED, WAITING};
use crate::shared::Shared;
use crate::{Error, Handle, Status};

/// The longest chain of coroutines a thread may have active at once (Lua's
/// `LUAI_MAXCCALLS`).
///
/// The 200th nested coroutine runs; resuming a 201st fails with
/// [`Error::TooDeep`] ("C stack overflow") and leaves it suspended. The
/// thread's own stack is not counted.
pub const MAX_NESTING: usize = 200;

/// A thread's chain of active coroutines.
struct Chain {
    /// The header of the running coroutine; null on the thread's own stack.
    current: Cell<*const Header>,
}

thread_local! {
    static CHAIN: Chain = const {
        Chain {
            current: Cell::new(ptr::null()),
        }
    };
}

/// What [`enter`] displaced, for [`leave`] to put back: the thread's running
/// coroutine before the resume.
///
/// The resume keeps it in a local (a register or its own stack frame) rather
/// than in the header, so giving the thread back reads nothing that the
/// switch into the coroutine has just written.
#[derive(Clone, Copy)]
#[must_use = "the chain must be restored with `leave`"]
pub(crate) struct Entered {
    resumer: *const Header,
}

#[cfg_attr(not(coro_stackful), allow(dead_code))]
impl Entered {
    /// For a backend that finds the resumer through the header instead (see
    /// [`leave_switched`]): nothing left to keep across its switch.
    #[inline(always)]
    pub(crate) fn switching(self) -> Switching {
        Switching(())
    }
}

/// What [`Entered::switching`] leaves: proof of the `enter`, for
/// [`leave_switched`], with nothing in it.
#[cfg_attr(not(coro_stackful), allow(dead_code))]
#[must_use = "the chain must be restored with `leave_switched`"]
pub(crate) struct Switching(());

/// Makes `header` this thread's running coroutine, after checking that it may
/// run: it must be suspended, and (when `limited`) the chain must stay within
/// [`MAX_NESTING`]. The resumer, if a coroutine, now reads `Normal`.
///
/// On error nothing has changed.
///
/// Takes the coroutine's own `Shared` rather than a `&Header`: the chain
/// keeps its pointer, whose provenance covers the whole `Rc` allocation, so
/// that [`running`] may reach the counts in front of the header through it.
#[inline(always)]
pub(crate) fn enter(shared: &Shared, limited: bool) -> Result<Entered, Error> {
    let raw = shared.as_ptr();
    // SAFETY: the header lives as long as the count `shared` owns.
    let header = unsafe { &*raw };
    if header.state.get() != SUSPENDED {
        return Err(refusal(header));
    }
    CHAIN.with(|chain| {
        let resumer = chain.current.get();
        // Resumed from the thread's own stack, the coroutine is the chain's
        // only member, and its state word stays `SUSPENDED`: being the
        // current one is what makes it read `Running` (see
        // `Header::status`), and no store is needed either way. Only a
        // nested resume has a length to check and depths to write.
        if !resumer.is_null() {
            if ptr::eq(resumer, raw) {
                // Unreachable through the safe API (a running coroutine is
                // borrowed by its resumer), and cheap to refuse.
                return Err(Error::NotSuspended);
            }
            header.state.set(nested_depth(resumer, limited)?);
            header.resumer.set(resumer);
        }
        chain.current.set(raw);
        Ok(Entered { resumer })
    })
}

/// The chain's length once a coroutine resumed by `resumer`, the running
/// one, has joined it; tells the resumer it is no longer the running one.
#[inline(always)]
fn nested_depth(resumer: *const Header, limited: bool) -> Result<u32, Error> {
    // SAFETY: the chain's current header is alive while its coroutine runs.
    let resumer = unsafe { &*resumer };
    let depth = match resumer.state.get() {
        // The chain's first coroutine, resumed from the thread's own stack
        // (see `enter`): from now on it is marked with its depth, so that it
        // reads `Normal` while the new one runs.
        SUSPENDED => {
            resumer.state.set(1);
            resumer.resumer.set(ptr::null());
            1
        }
        depth => depth,
    };
    if limited && depth as usize >= MAX_NESTING {
        return Err(Error::TooDeep);
    }
    // A stackless resumer being polled, with no suspension parked yet,
    // stops counting on being the running one (see `stackless::exchange`).
    if resumer.waiting.get().is_null() {
        resumer.waiting.set(NESTED);
    }
    Ok(depth + 1)
}

/// `Header::waiting` of a coroutine that resumed another while its frame was
/// being polled and before any suspension parked: a suspension that tries to
/// park must first check that its coroutine is the running one again. (Also
/// left, unread, in the header of a stackful coroutine that nests others.)
pub(crate) const NESTED: *mut () = ptr::without_provenance_mut(3);

/// Why a coroutine that is not suspended cannot be resumed.
#[cold]
fn refusal(header: &Header) -> Error {
    match header.state.get() {
        DEAD => Error::Dead,
        WAITING => Error::Waiting,
        _ => Error::NotSuspended,
    }
}

/// Gives the thread back to the coroutine's resumer after it suspended
/// (`status` is `Suspended`) or finished (`Dead`), with what [`enter`]
/// returned.
#[inline(always)]
pub(crate) fn leave(header: &Header, status: Status, entered: Entered) {
    match status {
        // Still `SUSPENDED` unless it was part of a longer chain (see
        // `enter`): a round trip from the thread's own stack stores nothing.
        Status::Suspended => {
            if header.state.get() != SUSPENDED {
                header.state.set(SUSPENDED);
            }
        }
        Status::Dead => header.state.set(DEAD),
        Status::Running | Status::Normal => unreachable!("a coroutine leaves suspended or dead"),
    }
    CHAIN.with(|chain| chain.current.set(entered.resumer));
}

/// [`leave`], [`leave_waiting`] for a coroutine that made a switch of its
/// own (stackful), leaving it in `state` (`SUSPENDED`, `DEAD` or
/// `WAITING`) and finding its resumer without `entered`: the thread's own
/// stack if the coroutine is still `SUSPENDED` (the chain's only one, see
/// `enter`), else the one its header records. The stackful round trip then
/// keeps nothing across its switch; the stackless one, which makes no
/// switch, keeps `entered` in a register.
#[cfg_attr(not(coro_stackful), allow(dead_code))]
#[inline(always)]
pub(crate) fn leave_switched(header: &Header, state: u32, _: Switching) {
    debug_assert!(matches!(state, SUSPENDED | DEAD | WAITING));
    let was = header.state.get();
    let resumer = if was == SUSPENDED {
        ptr::null()
    } else {
        header.resumer.get()
    };
    if was != state {
        header.state.set(state);
    }
    CHAIN.with(|chain| chain.current.set(resumer));
}

/// Gives the thread back to the resumer of a coroutine that suspended
/// because it waits on a future, for the executor whose poll resumed it:
/// the coroutine is left [`WAITING`], which only [`enter_waiting`] (that
/// executor's next poll) and `close` ([`end_wait`]) accept.
pub(crate) fn leave_waiting(header: &Header, entered: Entered) {
    header.state.set(WAITING);
    CHAIN.with(|chain| chain.current.set(entered.resumer));
}

/// [`enter`] for the poll that goes on with a coroutine left waiting by
/// [`leave_waiting`], within the nesting limit. Fails without changing
/// anything, as `enter` does.
pub(crate) fn enter_waiting(shared: &Shared) -> Result<Entered, Error> {
    if shared.state.get() != WAITING {
        return Err(refusal(shared));
    }
    shared.state.set(SUSPENDED);
    enter(shared, true).inspect_err(|_| shared.state.set(WAITING))
}

/// For a poll that [`enter`] refused with `err`: when `or_go_on` and the
/// coroutine waits, goes on with its wait instead ([`enter_waiting`]: the
/// poll then hands over no input), else fails with `err`. Out of line, and
/// returning no more than the entry, so that the poll's own result stays in
/// registers.
#[cold]
#[inline(never)]
pub(crate) fn go_on_waiting(shared: &Shared, err: Error, or_go_on: bool) -> Result<Entered, Error> {
    if or_go_on && shared.is_waiting() {
        return enter_waiting(shared);
    }
    Err(err)
}

/// Makes a coroutine left waiting by [`leave_waiting`] an ordinarily
/// suspended one, for `close`, which then destroys it like any other.
pub(crate) fn end_wait(header: &Header) {
    if header.state.get() == WAITING {
        header.state.set(SUSPENDED);
    }
}

/// True if `header` is the running coroutine's.
#[inline]
pub(crate) fn is_current(header: &Header) -> bool {
    CHAIN.with(|chain| ptr::eq(chain.current.get(), header))
}

/// Calls `f` with the running coroutine's header, or `None` on the thread's
/// own stack.
#[inline]
pub(crate) fn with_current<T>(f: impl FnOnce(Option<&Header>) -> T) -> T {
    // SAFETY: a non-null current header is alive (see `enter`), and the reference
    // does not outlive this call, during which the coroutine stays running.
    CHAIN.with(|chain| f(unsafe { chain.current.get().as_ref() }))
}

/// A handle to the running coroutine (Lua's `coroutine.running`), or `None`
/// on a thread's own stack.
///
/// ```
/// assert!(coro::running().is_none());
/// let mut co = coro::Coroutine::new(|_: &coro::Yielder<(), ()>, ()| {
///     let me = coro::running().unwrap();
///     me.status() == coro::Status::Running
/// });
/// let id = co.handle().id();
/// assert_eq!(co.resume(()).unwrap(), coro::Resumed::Return(true));
/// assert_ne!(id, 0);
/// ```
pub fn running() -> Option<Handle> {
    CHAIN.with(|chain| {
        let header = chain.current.get();
        if header.is_null() {
            return None;
        }
        // SAFETY: the chain's current is the pointer of a coroutine's
        // `Shared` (see `enter`), from `Rc::into_raw`, and its allocation is
        // alive while the coroutine runs; we add the strong count that the
        // new `Rc` will own.
        Some(Handle::new(unsafe {
            Rc::increment_strong_count(header);
            Rc::from_raw(header)
        }))
    })
}

/// True exactly where the free [`suspend`](crate::suspend) could suspend
/// (Lua's `coroutine.isyieldable`): inside a running stackful coroutine that
/// is not being closed or unwound by a panic. False on a thread's own stack
/// and in a stackless body's synchronous code.
///
/// ```
/// assert!(!coro::is_yieldable());
/// let mut co = coro::Coroutine::new(|_: &coro::Yielder<(), ()>, ()| coro::is_yieldable());
/// assert_eq!(co.resume(()).unwrap().returned(), Some(true));
/// ```
#[inline]
pub fn is_yieldable() -> bool {
    with_current(|header| header.is_some_and(|h| !h.stack_top.is_null() && h.can_suspend()))
}

/// Suspends the running coroutine from plain code (Lua's `coroutine.yield`):
/// the stackful backend's free suspend. Where coro has no stackful backend
/// (a target without its context switch, or the `stackful` feature off) no
/// coroutine can be suspended from plain code, and this only reports why,
/// with the errors the stackful backend gives in the same places.
///
/// # Errors
/// - [`Error::OutsideCoroutine`] on a thread's own stack;
/// - [`Error::AcrossBoundary`] inside a (stackless) coroutine.
///
/// `value` is dropped.
#[cfg(not(coro_stackful))]
pub fn suspend<Y: 'static, I: 'static>(value: Y) -> Result<I, Error> {
    drop(value);
    with_current(|header| match header {
        None => Err(Error::OutsideCoroutine),
        Some(_) => Err(Error::AcrossBoundary),
    })
}
