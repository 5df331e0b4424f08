//! Each thread's chain of active coroutines: `running()`, `is_yieldable()`,
//! the `Running`/`Normal` bookkeeping and the nesting limit.
//!
//! Every coroutine, of either backend, has one [`Header`] behind an `Rc`,
//! shared with its [`Handle`]s. This module owns the rules of the status
//! machine; the backends call [`enter`] before they switch into a coroutine
//! and [`leave`] when control comes back, and never set a status themselves
//! except through [`leave`].
//!
//! The chain is intrusive: the thread-local [`CURRENT`] points at the running
//! coroutine's header, and each resume keeps the previous value on the
//! resumer's own stack, so no list is allocated and a resume costs a few
//! loads and stores.

use std::any::TypeId;
use std::cell::Cell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Status};

/// The longest chain of coroutines a thread may have active at once (Lua's
/// `LUAI_MAXCCALLS`).
///
/// The 200th nested coroutine runs; resuming a 201st fails with
/// [`Error::TooDeep`] ("C stack overflow") and leaves it suspended. The
/// thread's own stack is not counted.
pub const MAX_NESTING: usize = 200;

thread_local! {
    /// The header of the coroutine running on this thread, null on the thread's own stack.
    static CURRENT: Cell<*const Header> = const { Cell::new(ptr::null()) };
}

/// Source of coroutine ids: unique in the process, never reused.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The types a coroutine was created with, for the typed free `suspend`.
pub(crate) struct SuspendTypes {
    pub(crate) input: TypeId,
    pub(crate) input_name: &'static str,
    pub(crate) yield_: TypeId,
    pub(crate) yield_name: &'static str,
}

impl SuspendTypes {
    pub(crate) fn of<I: 'static, Y: 'static>() -> SuspendTypes {
        SuspendTypes {
            input: TypeId::of::<I>(),
            input_name: std::any::type_name::<I>(),
            yield_: TypeId::of::<Y>(),
            yield_name: std::any::type_name::<Y>(),
        }
    }
}

/// How far `close` has got with a coroutine.
///
/// `close` switches into the coroutine with no input; the pending suspension
/// reads this to learn what to do instead of returning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closing {
    /// Not being closed.
    No,
    /// Being closed: unwind the stack.
    Unwind,
    /// Being closed, and the body caught the unwind and tried to suspend:
    /// that suspension must fail.
    Refuse,
}

/// What every coroutine shares with its handles.
///
/// Invariants: `status` is `Running` exactly while the coroutine is the value
/// of [`CURRENT`], `Normal` while it is further up the chain, and changes only
/// through [`enter`] and [`leave`]. `depth` is meaningful
/// only while the coroutine is active.
pub(crate) struct Header {
    /// Process-unique id, for `Handle::id` and equality.
    id: u64,
    /// The name given to the builder, for debugging and overflow reports.
    name: Option<Box<str>>,
    status: Cell<Status>,
    /// How far `close` has got; suspension is refused while it runs.
    closing: Cell<Closing>,
    /// Whether a panic was already unwinding the thread when this coroutine
    /// was last resumed: then `thread::panicking()` says nothing about the
    /// coroutine's own stack.
    resumed_panicking: Cell<bool>,
    /// The coroutine that resumed this one, null for the thread's own stack;
    /// meaningful only while this one is active.
    resumer: Cell<*const Header>,
    /// Position in the thread's chain: 1 for a coroutine resumed from the
    /// thread's own stack.
    depth: Cell<usize>,
    /// Top of the stack of a stackful coroutine; null for a stackless one,
    /// where the free `suspend` cannot work.
    stack_top: *mut u8,
    /// Usable bytes below `stack_top` (0 for a stackless coroutine); the
    /// guard page lies just below them.
    stack_size: usize,
    /// The input and yield types, for the free `suspend`'s check.
    types: fn() -> SuspendTypes,
    /// A stackless coroutine's exchange of values with its resumer: set by
    /// `resume` for the length of one poll, null otherwise.
    mailbox: Cell<*mut ()>,
}

impl Header {
    pub(crate) fn new(
        name: Option<Box<str>>,
        stack_top: *mut u8,
        stack_size: usize,
        types: fn() -> SuspendTypes,
    ) -> Rc<Header> {
        Rc::new(Header {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            name,
            status: Cell::new(Status::Suspended),
            closing: Cell::new(Closing::No),
            resumed_panicking: Cell::new(false),
            resumer: Cell::new(ptr::null()),
            depth: Cell::new(0),
            stack_top,
            stack_size,
            types,
            mailbox: Cell::new(ptr::null_mut()),
        })
    }

    #[inline]
    pub(crate) fn status(&self) -> Status {
        self.status.get()
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    #[inline]
    pub(crate) fn stack_top(&self) -> *mut u8 {
        self.stack_top
    }

    /// Usable bytes of a stackful coroutine's stack; 0 for a stackless one.
    pub(crate) fn stack_size(&self) -> usize {
        self.stack_size
    }

    pub(crate) fn types(&self) -> SuspendTypes {
        (self.types)()
    }

    /// The mailbox of a stackless coroutine being polled, or null.
    #[inline]
    pub(crate) fn mailbox(&self) -> *mut () {
        self.mailbox.get()
    }

    #[inline]
    pub(crate) fn set_mailbox(&self, mailbox: *mut ()) {
        self.mailbox.set(mailbox);
    }

    /// How far `close` has got with this coroutine.
    #[inline]
    pub(crate) fn closing(&self) -> Closing {
        self.closing.get()
    }

    #[inline]
    pub(crate) fn set_closing(&self, closing: Closing) {
        self.closing.set(closing);
    }

    /// True if code running on this coroutine may suspend now: not while it
    /// is being closed, nor while a panic unwinds its stack.
    #[inline]
    pub(crate) fn can_suspend(&self) -> bool {
        self.closing.get() == Closing::No && !self.unwinding()
    }

    /// True if a panic may be unwinding this coroutine's own stack: the
    /// thread is panicking, and was not when the coroutine was resumed.
    /// Suspending then would freeze the unwind and carry the thread's panic
    /// count into the resumer.
    ///
    /// A coroutine resumed by a destructor during an unwind cannot tell a
    /// second panic of its own from the one already under way, and is
    /// allowed to suspend.
    #[inline]
    pub(crate) fn unwinding(&self) -> bool {
        std::thread::panicking() && !self.resumed_panicking.get()
    }
}

/// Makes `header` this thread's running coroutine, after checking that it may
/// run: it must be suspended, and (when `limited`) the chain must stay within
/// [`MAX_NESTING`]. The resumer, if a coroutine, becomes `Normal`.
///
/// On error nothing has changed.
#[inline(always)]
pub(crate) fn enter(header: &Header, limited: bool) -> Result<(), Error> {
    match header.status.get() {
        Status::Suspended => {}
        Status::Dead => return Err(Error::Dead),
        Status::Running | Status::Normal => return Err(Error::NotSuspended),
    }
    CURRENT.with(|current| {
        let resumer = current.get();
        // SAFETY: a non-null CURRENT is the header of a coroutine that is
        // active on this thread; its owner is inside `resume` or `close`,
        // holding the `Rc`, so the header is alive.
        let resumer_header = unsafe { resumer.as_ref() };
        let depth = resumer_header.map_or(0, |r| r.depth.get()) + 1;
        if limited && depth > MAX_NESTING {
            return Err(Error::TooDeep);
        }
        if let Some(r) = resumer_header {
            r.status.set(Status::Normal);
        }
        header.depth.set(depth);
        header.resumer.set(resumer);
        header.resumed_panicking.set(std::thread::panicking());
        header.status.set(Status::Running);
        current.set(header);
        Ok(())
    })
}

/// Gives the thread back to the coroutine's resumer after it suspended
/// (`status` is `Suspended`) or finished (`Dead`).
#[inline(always)]
pub(crate) fn leave(header: &Header, status: Status) {
    debug_assert!(matches!(status, Status::Suspended | Status::Dead));
    header.status.set(status);
    let resumer = header.resumer.get();
    CURRENT.with(|current| current.set(resumer));
    // SAFETY: as in `enter`: the resumer is active, so its header is alive.
    if let Some(r) = unsafe { resumer.as_ref() } {
        r.status.set(Status::Running);
    }
}

/// Calls `f` with the running coroutine's header, or `None` on the thread's
/// own stack.
#[inline]
pub(crate) fn with_current<T>(f: impl FnOnce(Option<&Header>) -> T) -> T {
    // SAFETY: a non-null CURRENT is alive (see `enter`), and the reference
    // does not outlive this call, during which the coroutine stays running.
    CURRENT.with(|current| f(unsafe { current.get().as_ref() }))
}

/// A handle to the running coroutine (Lua's `coroutine.running`), or `None`
/// on a thread's own stack.
///
/// ```
/// assert!(coro::running().is_none());
/// let mut co = coro::Coroutine::<(), (), bool>::new(|_, ()| {
///     let me = coro::running().unwrap();
///     me.status() == coro::Status::Running
/// });
/// let id = co.handle().id();
/// assert_eq!(co.resume(()).unwrap(), coro::Resumed::Return(true));
/// assert_ne!(id, 0);
/// ```
pub fn running() -> Option<Handle> {
    CURRENT.with(|current| {
        let header = current.get();
        if header.is_null() {
            return None;
        }
        // SAFETY: CURRENT always points into an `Rc<Header>` allocation (the
        // backends store `&*rc`), which is alive while the coroutine runs; we
        // add the strong count that the new `Rc` will own.
        Some(Handle(unsafe {
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
/// let mut co = coro::Coroutine::<(), (), bool>::new(|_, ()| coro::is_yieldable());
/// assert_eq!(co.resume(()).unwrap().returned(), Some(true));
/// ```
#[inline]
pub fn is_yieldable() -> bool {
    with_current(|header| header.is_some_and(|h| !h.stack_top.is_null() && h.can_suspend()))
}

/// Observes a coroutine without owning it: its status, id and name.
///
/// A handle keeps working after the coroutine is gone (its status is then
/// `Dead`). Handles compare equal exactly when they observe the same coroutine.
#[derive(Clone)]
pub struct Handle(pub(crate) Rc<Header>);

impl Handle {
    /// The coroutine's current state.
    #[inline]
    pub fn status(&self) -> Status {
        self.0.status.get()
    }

    /// A number that identifies the coroutine in this process; never reused.
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// The name given with [`Builder::name`](crate::Builder::name), if any.
    pub fn name(&self) -> Option<&str> {
        self.0.name()
    }
}

impl PartialEq for Handle {
    fn eq(&self, other: &Handle) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for Handle {}

impl Hash for Handle {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Handle");
        s.field("id", &self.0.id);
        if let Some(name) = self.0.name() {
            s.field("name", &name);
        }
        s.field("status", &self.0.status.get()).finish()
    }
}
