//! Each thread's chain of active coroutines: `running()`, `is_yieldable()`,
//! the `Running`/`Normal` bookkeeping and the nesting limit.
//!
//! Every coroutine, of either backend, has one [`Header`] behind an `Rc`,
//! shared with its [`Handle`]s. This module owns the rules of the status
//! machine; the backends call [`enter`] before they switch into a coroutine
//! and [`leave`] when control comes back, and never set a status themselves
//! except through [`leave`].
//!
//! The chain is intrusive: the thread-local [`CHAIN`] points at the running
//! coroutine's header, each active header knows its place in the chain, and
//! each resume keeps the coroutine it displaced in a local ([`Entered`]) until
//! it gives the thread back. No list is allocated, and a resume from the
//! thread's own stack costs a few loads and stores. `Normal` is never stored:
//! an active coroutine that is not the running one is normal.

use std::any::{Any, TypeId};
use std::cell::Cell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ptr::{self, NonNull};
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

/// Source of coroutine ids: unique in the process, never reused. Threads
/// take them in blocks of [`ID_BLOCK`], so that creating a coroutine costs
/// no atomic operation but once per block.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How many ids a thread takes from [`NEXT_ID`] at a time.
const ID_BLOCK: u64 = 1024;

thread_local! {
    /// This thread's block of ids: the next one to hand out, and the end.
    static IDS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// A fresh coroutine id.
#[inline]
fn next_id() -> u64 {
    IDS.with(|ids| {
        let (mut next, mut end) = ids.get();
        if next == end {
            next = NEXT_ID.fetch_add(ID_BLOCK, Ordering::Relaxed);
            end = next + ID_BLOCK;
        }
        ids.set((next + 1, end));
        next
    })
}

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
/// Invariants: `state` is the coroutine's place in the thread's chain (at
/// least 1) exactly while it is active (it reads `Running`, or `Normal` when
/// it is not also the chain's current one), and changes only through
/// [`enter`] and [`leave`].
///
/// The fields every resume reads come first, in the order given, so that
/// they share a cache line: with thousands of coroutines resumed in turn,
/// each one's header is a cache miss.
#[repr(C)]
pub(crate) struct Header {
    /// The status and, while active, the depth in one word, so that a resume
    /// checks and sets both with one load and one store: [`SUSPENDED`],
    /// [`DEAD`], or while the coroutine is active, how many coroutines are
    /// active in the thread's chain up to and including this one (1 when the
    /// thread's own stack resumed it).
    state: Cell<u32>,
    /// How far `close` has got; suspension is refused while it runs.
    closing: Cell<Closing>,
    /// Whether a panic was already unwinding the thread when this coroutine
    /// was resumed: then `thread::panicking()` says nothing about the
    /// coroutine's own stack. Set only for the length of such a resume, so
    /// the ordinary resume never stores it.
    resumed_panicking: Cell<bool>,
    /// A stackful coroutine's link: the resumer's stack pointer while the
    /// coroutine runs, written and read by the context switch (see
    /// `stackful::arch`). Here rather than on the coroutine's stack, so
    /// that a resume touches one cache line fewer.
    link: Cell<usize>,
    /// A stackless coroutine's parked suspension, through which its resume
    /// takes the value suspended with and hands over the next input; null or
    /// a marker otherwise (see `stackless::exchange`).
    waiting: Cell<*mut ()>,
    /// Top of the stack of a stackful coroutine (the mapping's; its body
    /// starts a little lower, see `stack::colored_top`); null for a
    /// stackless one, where the free `suspend` cannot work.
    stack_top: *mut u8,
    /// Process-unique id, for `Handle::id` and equality.
    id: u64,
    /// The name given to the builder, for debugging and overflow reports.
    name: Option<Box<str>>,
    /// The input and yield types, for the free `suspend`'s check.
    types: fn() -> SuspendTypes,
    /// An unwind caught by `foreign::callback`, to be continued by the
    /// enclosing `foreign::call` once the foreign code has returned.
    pending_unwind: Cell<Option<Box<dyn Any + Send>>>,
}

/// A coroutine's own reference to its header: an `Rc<Header>` kept as the
/// pointer to the header itself, so that the hot path reaches the fields and
/// hands the chain its pointer without adjusting for the `Rc`'s counts.
pub(crate) struct Shared {
    /// From `Rc::into_raw`; owns one strong count.
    header: NonNull<Header>,
}

impl Shared {
    fn new(header: Header) -> Shared {
        let raw = Rc::into_raw(Rc::new(header));
        Shared {
            // SAFETY: `Rc::into_raw` never returns null.
            header: unsafe { NonNull::new_unchecked(raw.cast_mut()) },
        }
    }

    /// The header's address, as the chain records it.
    #[inline(always)]
    pub(crate) fn as_ptr(&self) -> *const Header {
        self.header.as_ptr()
    }

    /// A handle sharing the header.
    pub(crate) fn handle(&self) -> Handle {
        // SAFETY: the pointer came from `Rc::into_raw` and this `Shared`
        // still owns its count; the new `Rc` owns the one added here.
        unsafe {
            Rc::increment_strong_count(self.as_ptr());
            Handle(Rc::from_raw(self.as_ptr()))
        }
    }
}

impl Clone for Shared {
    fn clone(&self) -> Shared {
        // SAFETY: as in `handle`: one more count, owned by the clone.
        unsafe { Rc::increment_strong_count(self.as_ptr()) };
        Shared {
            header: self.header,
        }
    }
}

impl std::ops::Deref for Shared {
    type Target = Header;

    #[inline(always)]
    fn deref(&self) -> &Header {
        // SAFETY: the header lives as long as the count this `Shared` owns.
        unsafe { self.header.as_ref() }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: gives back the count taken by `new`, once.
        drop(unsafe { Rc::from_raw(self.as_ptr()) });
    }
}

impl Header {
    /// A fresh header, suspended, owned by the `Shared` returned.
    pub(crate) fn shared(
        name: Option<Box<str>>,
        stack_top: *mut u8,
        types: fn() -> SuspendTypes,
    ) -> Shared {
        Shared::new(Header {
            id: next_id(),
            name,
            state: Cell::new(SUSPENDED),
            closing: Cell::new(Closing::No),
            resumed_panicking: Cell::new(false),
            link: Cell::new(0),
            stack_top,
            types,
            waiting: Cell::new(ptr::null_mut()),
            pending_unwind: Cell::new(None),
        })
    }

    #[inline]
    pub(crate) fn status(&self) -> Status {
        match self.state.get() {
            SUSPENDED => Status::Suspended,
            DEAD => Status::Dead,
            _ if is_current(self) => Status::Running,
            _ => Status::Normal,
        }
    }

    /// What `close` has to do: `Ok(true)` for a suspended coroutine, `Ok(false)`
    /// for a dead one (closing it again does nothing).
    pub(crate) fn needs_closing(&self) -> Result<bool, Error> {
        match self.state.get() {
            SUSPENDED => Ok(true),
            DEAD => Ok(false),
            // Unreachable through the safe API: an active coroutine is
            // borrowed by its resumer.
            _ => Err(Error::NotSuspended),
        }
    }

    /// Records whether the thread was panicking when the coroutine was
    /// resumed (see [`unwinding`](Self::unwinding)). False except during such
    /// a resume.
    #[inline]
    pub(crate) fn set_resumed_panicking(&self, panicking: bool) {
        self.resumed_panicking.set(panicking);
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The address of the link word, for the context switch.
    #[inline(always)]
    pub(crate) fn link(&self) -> *mut usize {
        self.link.as_ptr()
    }

    #[inline]
    pub(crate) fn stack_top(&self) -> *mut u8 {
        self.stack_top
    }

    pub(crate) fn types(&self) -> SuspendTypes {
        (self.types)()
    }

    /// A stackless coroutine's parked suspension, or null or a marker.
    #[inline]
    pub(crate) fn waiting(&self) -> *mut () {
        self.waiting.get()
    }

    #[inline]
    pub(crate) fn set_waiting(&self, waiting: *mut ()) {
        self.waiting.set(waiting);
    }

    /// Takes or replaces the unwind waiting for `foreign::call`.
    pub(crate) fn swap_pending_unwind(
        &self,
        payload: Option<Box<dyn Any + Send>>,
    ) -> Option<Box<dyn Any + Send>> {
        self.pending_unwind.replace(payload)
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
        // first; only a nested resume has a length to check.
        let depth = if resumer.is_null() {
            1
        } else {
            nested_depth(resumer, limited)?
        };
        header.state.set(depth);
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
    let depth = resumer.state.get();
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

/// `Header::state` of a suspended coroutine.
const SUSPENDED: u32 = 0;
/// `Header::state` of a dead coroutine.
const DEAD: u32 = u32::MAX;

/// Why a coroutine that is not suspended cannot be resumed.
#[cold]
fn refusal(header: &Header) -> Error {
    match header.state.get() {
        DEAD => Error::Dead,
        _ => Error::NotSuspended,
    }
}

/// Gives the thread back to the coroutine's resumer after it suspended
/// (`status` is `Suspended`) or finished (`Dead`), with what [`enter`]
/// returned.
#[inline(always)]
pub(crate) fn leave(header: &Header, status: Status, entered: Entered) {
    header.state.set(match status {
        Status::Suspended => SUSPENDED,
        Status::Dead => DEAD,
        Status::Running | Status::Normal => unreachable!("a coroutine leaves suspended or dead"),
    });
    CHAIN.with(|chain| chain.current.set(entered.resumer));
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
/// let mut co = coro::Coroutine::<(), (), bool>::new(|_, ()| {
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
/// Equality and hashing use only the id, so a `HashSet<Handle>` is sound
/// although the status inside changes (clippy's `mutable_key_type` lint does
/// not know that).
///
/// A handle stays on the thread of its coroutine:
///
/// ```compile_fail
/// let co = coro::Coroutine::<(), (), ()>::new(|_, ()| {});
/// let handle = co.handle();
/// std::thread::spawn(move || handle.status());
/// ```
#[derive(Clone)]
pub struct Handle(pub(crate) Rc<Header>);

impl Handle {
    /// The coroutine's current state.
    #[inline]
    pub fn status(&self) -> Status {
        self.0.status()
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
        s.field("status", &self.0.status()).finish()
    }
}
