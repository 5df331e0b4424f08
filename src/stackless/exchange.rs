//! The unsafe core of the stackless backend: how a suspension and the
//! `resume` polling its coroutine hand values to each other.
//!
//! A suspension keeps its values in itself, inside the body's frame. On its
//! first poll it *parks*: it records the address of its state in the
//! coroutine's header (`Header::waiting`) and returns `Pending`. The resume
//! that polled the frame then moves the suspended value out through that
//! address; the next resume writes its input there and polls again, and the
//! suspension, polled, finds the input in itself and completes. Each round
//! trip so costs a test of the header when parking, a few pointer loads and
//! no allocation or reference counting.
//!
//! Why the address stays valid: [`Suspend`] is `!Unpin`, so once polled it is
//! pinned, and its memory is not reused before its destructor runs — which
//! takes the address back out of the header if it is still there. Who may
//! park: only a suspension polled while its own coroutine is the running one
//! (so inside that coroutine's resume), and only one per poll; a second one is
//! a clash. Types: a suspension parks in the header its `Yielder` shares, and
//! that `Yielder` was made by the coroutine with the same `I` and `Y`.
//!
//! The header's `waiting` says who may park without further checks: it is
//! null only while the coroutine's own resume polls the frame and nothing has
//! parked yet (a suspended coroutine has its suspension parked there; a dead
//! or closing one has `CLOSED`), a nested resume turns null into `NESTED`
//! (see `chain::enter`), and so does a parked suspension's destructor. So a suspension that finds null parks at
//! once, and every other case takes the cold path, which asks the thread's
//! chain whether its coroutine is the running one.
//!
//! The values stay in the frame, so a panic that unwinds the frame drops them
//! there. A value whose destructor panics during such an unwind would abort
//! the process, so the suspension's destructor catches that second panic
//! (Rust's hook has already reported it) and lets the first one go on.
#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::mem;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};

use super::Yielder;
use crate::PanicPayload;
use crate::chain::{self, NESTED};
use crate::header::Header;

/// `Header::waiting` after a poll in which two suspensions tried to park.
const CLASH: *mut () = ptr::without_provenance_mut(1);
/// `Header::waiting` of a coroutine that is dead or being closed: no resume
/// will take a value, so nothing may park.
const CLOSED: *mut () = ptr::without_provenance_mut(2);

/// True if `waiting` is the address of a parked suspension, not null or a
/// marker.
#[inline(always)]
fn is_parked(waiting: *mut ()) -> bool {
    waiting.addr() > NESTED.addr()
}

/// Where a suspension is.
enum State<I, Y> {
    /// Holds the value to suspend with, until the resume takes it: made and
    /// not yet polled, or parked in the header, or clashed with another
    /// suspension.
    Held(Y),
    /// The resume took the value; waiting for the next resume's input.
    Taken,
    /// The next resume's input, until the suspension is polled.
    Input(I),
    /// Completed: the input was handed to the body.
    Done,
}

/// The future of one suspension, made by [`Yielder::suspend`].
///
/// It is `!Unpin`: `.await` pins it for you; to poll one by hand, pin it
/// first (`std::pin::pin!` or `Box::pin`). While parked, its coroutine's
/// header holds its address, so it must not move:
///
/// ```compile_fail
/// use std::pin::Pin;
/// use coro::stackless::{Coroutine, Yielder};
///
/// let _ = Coroutine::new(|y: Yielder<(), u8>, ()| async move {
///     let mut suspension = y.suspend(1);
///     let _ = Pin::new(&mut suspension); // error: `PhantomPinned` cannot be unpinned
/// });
/// ```
#[must_use = "a suspension does nothing unless awaited"]
#[repr(C)]
pub struct Suspend<'a, I, Y> {
    /// Where the suspension is. In a cell, and reached only through the
    /// cell's pointer: while parked, the header holds that address and the
    /// resume writes through it, so no `&mut` to the state may be made, nor
    /// may a `&Suspend` (its `Debug`, say) assert that the state is frozen.
    ///
    /// First, so that the state's address is the suspension's own: one
    /// pointer fewer to keep in a register across the poll (`repr(C)` keeps
    /// it there; the compiler put the cell after the reference otherwise).
    state: UnsafeCell<State<I, Y>>,
    yielder: &'a Yielder<I, Y>,
    /// The header holds the address of `state` while parked.
    _pinned: PhantomPinned,
}

impl<'a, I, Y> Suspend<'a, I, Y> {
    pub(super) fn new(yielder: &'a Yielder<I, Y>, value: Y) -> Self {
        Suspend {
            yielder,
            state: UnsafeCell::new(State::Held(value)),
            _pinned: PhantomPinned,
        }
    }

    /// The address the header holds while this suspension is parked.
    #[inline(always)]
    fn address(&self) -> *mut () {
        self.state.get().cast()
    }

    /// A look at the state.
    #[inline(always)]
    fn state(&self) -> &State<I, Y> {
        // SAFETY: the state is written only by this suspension's own poll
        // and drop and by the resume of its coroutine between polls, all on
        // this thread and none while this short borrow lives.
        unsafe { &*self.state.get() }
    }

    /// Replaces the state, returning the old one.
    #[inline(always)]
    fn replace(&self, state: State<I, Y>) -> State<I, Y> {
        // SAFETY: as in `state`; no borrow of the state is alive here.
        unsafe { ptr::replace(self.state.get(), state) }
    }

    /// A poll while holding the value: park, unless this is not the
    /// coroutine's own resume or another suspension parked already.
    #[inline(always)]
    fn park(&self) -> Poll<I> {
        let header = self.yielder.header();
        let waiting = header.waiting();
        if waiting.is_null() {
            // Only the coroutine's own resume, with nothing nested since it
            // started polling, leaves null here (see the module's docs).
            header.set_waiting(self.address());
        } else {
            self.not_parked(waiting);
        }
        Poll::Pending
    }

    /// `park` when the header is not free, or it is not this coroutine's
    /// resume.
    #[cold]
    #[inline(never)]
    fn not_parked(&self, waiting: *mut ()) {
        let header = self.yielder.header();
        if waiting == self.address() {
            // Parked already: polled again in the same poll.
            return;
        }
        if waiting == CLOSED || !chain::is_current(header) {
            outside();
        }
        if waiting == NESTED {
            // The coroutine runs again after resuming another: free to park.
            header.set_waiting(self.address());
        } else {
            // A second suspension in this poll: the resume will fail with
            // `SuspendClash`, and this value goes with the frame.
            header.set_waiting(CLASH);
        }
    }

    /// The destructor's work outside the common case (a completed
    /// suspension): unpark, and drop a value held without letting a panic
    /// escape during an unwind.
    #[cold]
    #[inline(never)]
    fn release(&self) {
        let header = self.yielder.header();
        if header.waiting() == self.address() {
            // Not null: whoever parks next must check that its coroutine is
            // the running one (this may run outside its resume).
            header.set_waiting(NESTED);
        }
        let state = self.replace(State::Done);
        if std::thread::panicking() {
            // A second panic now would abort; the hook has reported it.
            if let Err(payload) = PanicPayload::drop_caught(state) {
                payload.discard();
            }
        } else {
            drop(state);
        }
    }
}

/// A suspension polled where no resume of its coroutine can receive it.
#[cold]
#[inline(never)]
#[track_caller]
fn outside() -> ! {
    panic!("a stackless coroutine's suspension was awaited outside its own resume")
}

impl<I, Y> Future for Suspend<'_, I, Y> {
    type Output = I;

    #[inline]
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<I> {
        // Only shared access: the state is reached through its cell (see
        // `Suspend::state`), and stays in place, as its parked address
        // requires.
        let this = self.into_ref().get_ref();
        if let State::Input(_) = this.state() {
            let State::Input(input) = this.replace(State::Done) else {
                unreachable!("matched above")
            };
            return Poll::Ready(input);
        }
        if let State::Held(_) = this.state() {
            return this.park();
        }
        this.no_input();
        Poll::Pending
    }
}

impl<I, Y> Suspend<'_, I, Y> {
    /// A poll after the resume took the value and before the next one
    /// brought an input (inside a `select`, say), or after completion.
    #[cold]
    #[inline(never)]
    fn no_input(&self) {
        if let State::Done = self.state() {
            panic!("a suspension was polled after it completed");
        }
    }
}

impl<I, Y> Drop for Suspend<'_, I, Y> {
    #[inline]
    fn drop(&mut self) {
        if !matches!(self.state(), State::Done) {
            self.release();
        }
    }
}

impl<I, Y> fmt::Debug for Suspend<'_, I, Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state() {
            // Parked: its value is the resume's to take, or was taken (a
            // value with nothing to drop is copied out, see `take`).
            State::Held(_) if self.yielder.header().waiting() == self.address() => "waiting",
            State::Held(_) => "holding its value",
            State::Taken => "waiting",
            State::Input(_) => "ready",
            State::Done => "done",
        };
        f.debug_struct("Suspend").field("state", &state).finish()
    }
}

/// What the poll a resume made left parked.
pub(super) enum Parked<Y> {
    /// One suspension, with its value.
    Value(Y),
    /// None: the body waits on a future that is not its own suspension.
    Nothing,
    /// Two suspensions at once.
    Clash,
}

/// Hands `input` to the suspension parked in `header`, before the resume
/// polls the frame; gives it back if none is parked (the body has not
/// started yet).
///
/// `I` and `Y` must be the types of `header`'s coroutine, which must be
/// suspended.
#[inline(always)]
pub(super) fn deliver<I, Y>(header: &Header, input: I) -> Result<(), I> {
    let waiting = header.waiting();
    if !is_parked(waiting) {
        return Err(input);
    }
    // Whatever this poll parks is new; the one that gets the input
    // unparks by completing.
    header.set_waiting(ptr::null_mut());
    // SAFETY: a parked address is that of the state of a suspension of this
    // coroutine, of types `I` and `Y` (see the module's docs); it is alive,
    // as its destructor would have unparked it, and not borrowed, as the
    // frame is not being polled. Its value was taken by the last resume.
    let old = unsafe { ptr::replace(waiting.cast::<State<I, Y>>(), State::Input(input)) };
    // `Held` still, if the value had nothing to drop (see `take`).
    debug_assert!(matches!(old, State::Taken | State::Held(_)));
    // Nothing to drop in `Taken`; never a destructor on the resumer's side.
    mem::forget(old);
    Ok(())
}

/// After a pending poll: takes the value of the suspension that parked.
#[inline(always)]
pub(super) fn take<I, Y>(header: &Header) -> Parked<Y> {
    let waiting = header.waiting();
    if !is_parked(waiting) {
        return if waiting == CLASH {
            Parked::Clash
        } else {
            Parked::Nothing
        };
    }
    // SAFETY: as in `deliver`; the poll that parked it has returned.
    let state = unsafe { &mut *waiting.cast::<State<I, Y>>() };
    match state {
        // A value with nothing to drop is copied out and the state left as
        // it is, which saves a store on every round trip: nothing reads the
        // state before the next `deliver` overwrites it (a parked
        // suspension is polled only after one), and a drop of `Held` then
        // drops nothing.
        State::Held(value) if !mem::needs_drop::<Y>() => {
            // SAFETY: `Y` has no destructor, so the value left behind is
            // never dropped, and never read again.
            Parked::Value(unsafe { ptr::read(value) })
        }
        State::Held(_) => match mem::replace(state, State::Taken) {
            State::Held(value) => Parked::Value(value),
            _ => unreachable!("matched above"),
        },
        // A parked suspension holds its value until taken here.
        _ => Parked::Nothing,
    }
}

/// Marks `header`'s coroutine as dead or being closed: a suspension polled
/// from now on (while its frame is dropped, or by code that kept its
/// `Yielder`) finds no resume to receive it.
pub(super) fn close(header: &Header) {
    header.set_waiting(CLOSED);
}
