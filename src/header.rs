//! The header every coroutine has, of either backend: its status, how far a
//! `close` has got, the words its backend's switch goes through, and what
//! the free `suspend` and handles need to know (the types it was created
//! with, its id and name).
//!
//! Every coroutine, of either backend, has one [`Header`] behind an `Rc`,
//! shared with its [`Handle`](crate::Handle)s: the coroutine holds it as a
//! [`Shared`], a handle as a plain `Rc`. The status lives here, but the rules
//! of the status machine are the chain's (see [`chain`](crate::chain)): only
//! [`enter`](crate::chain::enter) and [`leave`](crate::chain::leave) change
//! it.
//!
//! Coroutine ids are made here too, one for each new header.

use std::any::{Any, TypeId};
use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Waker;

use crate::chain::is_current;
use crate::shared::Shared;
use crate::{Error, Status};

/// Source of coroutine ids: unique in the process, never reused. Threads
/// take them in blocks of [`ID_BLOCK`], so that creating a coroutine costs
/// no atomic operation but once per block.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How many ids a thread takes from [`NEXT_ID`] at a time.
const ID_BLOCK: u64 = 1024;

/// How many words a header keeps for a stackful coroutine's switch record
/// (see `link`): as many as the largest architecture's `RECORD_WORDS`.
pub(crate) const RECORD_WORDS: usize = 4;

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
/// (Read only by the stackful backend's free `suspend`.) Only coroutines
/// whose input and yield types are `'static` record them: a `TypeId`
/// ignores lifetimes, so it cannot check a type that borrows.
#[cfg_attr(not(coro_stackful), allow(dead_code))]
pub(crate) struct SuspendTypes {
    pub(crate) input: TypeId,
    pub(crate) input_name: &'static str,
    pub(crate) yield_: TypeId,
    pub(crate) yield_name: &'static str,
}

#[cfg_attr(not(coro_stackful), allow(dead_code))]
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
    /// that suspension must fail. (Stackful only.)
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    Refuse,
}

/// What every coroutine shares with its handles.
///
/// Invariants: `state` is the coroutine's place in the thread's chain (at
/// least 1) while it is active in a chain of two or more (it reads
/// `Running`, or `Normal` when it is not also the chain's current one); the
/// chain's only coroutine, resumed from the thread's own stack, keeps
/// `SUSPENDED` and reads `Running` as the current one. It changes only
/// through [`enter`](crate::chain::enter) and [`leave`](crate::chain::leave).
///
/// The fields every resume reads come first, in the order given, so that
/// they share a cache line: with thousands of coroutines resumed in turn,
/// each one's header is a cache miss.
///
/// The chain reads and writes `state`, `waiting` and `stack_top` directly,
/// and handles compare `id`: those fields are visible to the crate. The
/// backends go through the methods.
// `pub` only so that the stackless `Body` trait's hidden methods may take
// it; it is in a private module, so nothing outside coro can name it.
#[allow(missing_debug_implementations)]
#[repr(C)]
pub struct Header {
    /// The status and, while active in a longer chain, the depth in one
    /// word: [`SUSPENDED`], [`DEAD`], [`WAITING`], or how many coroutines are
    /// active in the thread's chain up to and including this one. A resume
    /// from the thread's own stack checks it with one load and stores
    /// nothing (see `chain::enter`).
    pub(crate) state: Cell<u32>,
    /// How far `close` has got; suspension is refused while it runs.
    closing: Cell<Closing>,
    /// Whether a panic was already unwinding the thread when this coroutine
    /// was resumed: then `thread::panicking()` says nothing about the
    /// coroutine's own stack. Set only for the length of such a resume, so
    /// the ordinary resume never stores it.
    resumed_panicking: Cell<bool>,
    /// A stackful coroutine's switch record: its link (the resumer's stack
    /// pointer while the coroutine runs), then, while it is suspended, where
    /// it continues and the registers the context switch saves by hand;
    /// written and read by the switch alone (see `stackful::arch`). Here
    /// rather than on the coroutine's stack, so that a resume touches one
    /// cache line fewer: the stack's, on a page of its own.
    link: Cell<[usize; RECORD_WORDS]>,
    /// A stackless coroutine's parked suspension, through which its resume
    /// takes the value suspended with and hands over the next input; null or
    /// a marker otherwise (see `stackless::exchange`).
    pub(crate) waiting: Cell<*mut ()>,
    /// Top of the stack of a stackful coroutine (the mapping's; its body
    /// starts a little lower, see `stack::colored_top`); null for a
    /// stackless one, where the free `suspend` cannot work.
    pub(crate) stack_top: *mut u8,
    /// Process-unique id, for `Handle::id` and equality.
    pub(crate) id: u64,
    /// The name given to the builder, for debugging and overflow reports.
    name: Option<Box<str>>,
    /// The input and yield types, for the free `suspend`'s check; `None` in
    /// a borrowing coroutine (its types may borrow, and cannot be checked)
    /// and in a stackless one (the free `suspend` never gets that far).
    types: Option<fn() -> SuspendTypes>,
    /// While the coroutine is active in a chain of two or more, the header
    /// of its resumer, or null for the chain's first (see `chain::enter`).
    /// Stale otherwise, and never read then.
    pub(crate) resumer: Cell<*const Header>,
    /// An unwind caught by `foreign::callback`, to be continued by the
    /// enclosing `foreign::call` once the foreign code has returned.
    pending_unwind: Cell<Option<Box<dyn Any + Send>>>,
    /// How many `foreign::callback`s are running in this coroutine: while
    /// one is, an unwind from a suspension stops at it, before any foreign
    /// frame (see `stackful::unwind`).
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    foreign_callbacks: Cell<u32>,
    /// The waker of the executor's poll that resumed this (stackful)
    /// coroutine, for `coro::wait`, while that poll runs; null otherwise,
    /// and always in a stackless one (see `stackful::wait`). Not with the
    /// hot fields: a plain resume never reads it.
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    poll_waker: Cell<*const Waker>,
    /// Under AddressSanitizer, the bounds of the stack of the coroutine's
    /// resumer, for the announcement of the switch back (see
    /// `stackful::asan`).
    #[cfg(coro_asan)]
    asan_resumer: Cell<(*const u8, usize)>,
}

#[cfg(coro_asan)]
impl Header {
    /// Records the bounds of the resumer's stack (AddressSanitizer only).
    pub(crate) fn set_asan_resumer(&self, bottom: *const u8, size: usize) {
        self.asan_resumer.set((bottom, size));
    }

    /// The bounds recorded by [`set_asan_resumer`](Self::set_asan_resumer).
    pub(crate) fn asan_resumer(&self) -> (*const u8, usize) {
        self.asan_resumer.get()
    }
}

impl Header {
    /// A fresh header, suspended, owned by the `Shared` returned.
    pub(crate) fn shared(
        name: Option<Box<str>>,
        stack_top: *mut u8,
        types: Option<fn() -> SuspendTypes>,
    ) -> Shared {
        Shared::new(Header {
            id: next_id(),
            name,
            state: Cell::new(SUSPENDED),
            closing: Cell::new(Closing::No),
            resumed_panicking: Cell::new(false),
            link: Cell::new([0; RECORD_WORDS]),
            stack_top,
            types,
            waiting: Cell::new(ptr::null_mut()),
            resumer: Cell::new(ptr::null()),
            pending_unwind: Cell::new(None),
            foreign_callbacks: Cell::new(0),
            poll_waker: Cell::new(ptr::null()),
            #[cfg(coro_asan)]
            asan_resumer: Cell::new((std::ptr::null(), 0)),
        })
    }

    #[inline]
    pub(crate) fn status(&self) -> Status {
        match self.state.get() {
            // The chain's only coroutine keeps `SUSPENDED` while it runs
            // (see `chain::enter`).
            SUSPENDED if is_current(self) => Status::Running,
            SUSPENDED | WAITING => Status::Suspended,
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
            // Closing ends the wait: the pending wait is closed like any
            // other suspension.
            WAITING => {
                crate::chain::end_wait(self);
                Ok(true)
            }
            DEAD => Ok(false),
            // Unreachable through the safe API: an active coroutine is
            // borrowed by its resumer.
            _ => Err(Error::NotSuspended),
        }
    }

    /// True if the coroutine is suspended waiting on a future, for the
    /// executor polling it (see [`WAITING`]).
    #[inline]
    pub(crate) fn is_waiting(&self) -> bool {
        self.state.get() == WAITING
    }

    /// Records whether the thread was panicking when the coroutine was
    /// resumed (see [`unwinding`](Self::unwinding)). False except during such
    /// a resume.
    #[inline]
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    pub(crate) fn set_resumed_panicking(&self, panicking: bool) {
        self.resumed_panicking.set(panicking);
    }

    /// Whether the thread was already panicking when it last resumed this
    /// coroutine (see `set_resumed_panicking`).
    #[inline]
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    pub(crate) fn resumed_panicking(&self) -> bool {
        self.resumed_panicking.get()
    }

    /// Drops what the header owns (its name, a parked unwind), as freeing
    /// it would, before it is kept for another coroutine (see `shared`).
    pub(crate) fn release(&mut self) {
        self.name = None;
        self.pending_unwind = Cell::new(None);
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The address of the switch record, whose first word is the link, for
    /// the context switch.
    #[inline(always)]
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    pub(crate) fn link(&self) -> *mut usize {
        self.link.as_ptr().cast()
    }

    #[inline]
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    pub(crate) fn stack_top(&self) -> *mut u8 {
        self.stack_top
    }

    /// The types the coroutine was created with, if it recorded them (see
    /// [`SuspendTypes`]).
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    pub(crate) fn types(&self) -> Option<SuspendTypes> {
        self.types.map(|types| types())
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

    /// The waker of the poll running this coroutine, or null.
    #[inline]
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    pub(crate) fn poll_waker(&self) -> *const Waker {
        self.poll_waker.get()
    }

    /// Records the waker of the poll about to run this coroutine (null once
    /// it is back).
    #[inline]
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    pub(crate) fn set_poll_waker(&self, waker: *const Waker) {
        self.poll_waker.set(waker);
    }

    /// Takes or replaces the unwind waiting for `foreign::call`.
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    pub(crate) fn swap_pending_unwind(
        &self,
        payload: Option<Box<dyn Any + Send>>,
    ) -> Option<Box<dyn Any + Send>> {
        self.pending_unwind.replace(payload)
    }

    /// Counts a `foreign::callback` starting in this coroutine.
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    pub(crate) fn foreign_callback_started(&self) {
        self.foreign_callbacks.set(self.foreign_callbacks.get() + 1);
    }

    /// Counts a `foreign::callback` of this coroutine ending.
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    pub(crate) fn foreign_callback_ended(&self) {
        self.foreign_callbacks.set(self.foreign_callbacks.get() - 1);
    }

    /// True if a `foreign::callback` is running in this coroutine.
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
    pub(crate) fn in_foreign_callback(&self) -> bool {
        self.foreign_callbacks.get() > 0
    }

    /// How far `close` has got with this coroutine.
    #[inline]
    #[cfg_attr(not(coro_stackful), allow(dead_code))]
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

/// `Header::state` of a suspended coroutine.
pub(crate) const SUSPENDED: u32 = 0;
/// `Header::state` of a dead coroutine.
pub(crate) const DEAD: u32 = u32::MAX;
/// `Header::state` of a coroutine suspended because it waits on a future
/// (`coro::wait` in a stackful one, a foreign `.await` in a stackless one)
/// while an executor polls it: it reads `Suspended`, but only the poll that
/// left it so goes on with it (`chain::enter_waiting`); a plain resume is
/// refused with `Error::Waiting`, and `close` ends the wait (`chain::end_wait`).
/// Set only by `chain::leave_waiting`.
pub(crate) const WAITING: u32 = u32::MAX - 1;
