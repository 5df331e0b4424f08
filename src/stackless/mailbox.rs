//! The one unsafe piece of the stackless backend: how a suspension inside
//! the body reaches the values of the `resume` that is polling it.
//!
//! `resume` keeps a [`Slot`] on its own stack and lends it to the
//! coroutine's header for the length of one poll. A suspension finds it
//! through the header its `Yielder` shares, after checking that this very
//! coroutine is the one running. Passing values this way costs no
//! allocation and no reference counting per resume.
//!
//! The safe alternative — a slot behind an `Rc` that the coroutine and its
//! `Yielder` share — would cost a third allocation per coroutine (the header
//! and the frame are the other two, and the contract allows two) and
//! reference-count traffic on every suspension.
#![allow(unsafe_code)]

use std::ptr;

use crate::current::{self, Header};

/// The values exchanged by one resume: its input, and what the body
/// suspended with.
pub(super) struct Slot<I, Y> {
    /// The resume's input, until a suspension (or the body's start) takes it.
    pub(super) input: Option<I>,
    /// The value of the suspension that ended this poll.
    pub(super) yielded: Option<Y>,
    /// Set if a second suspension was awaited in the same poll.
    pub(super) clash: bool,
}

impl<I, Y> Slot<I, Y> {
    /// True if the poll ended in exactly one suspension that took the input:
    /// the plain case of a resume.
    #[inline]
    pub(super) fn suspended(&self) -> bool {
        // Non-short-circuit: one branch instead of three.
        self.yielded.is_some() & self.input.is_none() & !self.clash
    }

    pub(super) fn new(input: I) -> Self {
        Slot {
            input: Some(input),
            yielded: None,
            clash: false,
        }
    }
}

/// Clears the header's mailbox even if the poll unwinds.
struct Lent<'a>(&'a Header);

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        self.0.set_mailbox(ptr::null_mut());
    }
}

/// Runs `poll` with `slot` lent to the suspensions of `header`'s coroutine.
///
/// `I` and `Y` must be the types that coroutine was created with.
#[inline]
pub(super) fn lend<I, Y, T>(header: &Header, slot: &mut Slot<I, Y>, poll: impl FnOnce() -> T) -> T {
    header.set_mailbox((slot as *mut Slot<I, Y>).cast());
    let _lent = Lent(header);
    poll()
}

/// Calls `f` with the slot lent to `header`'s coroutine.
///
/// # Panics
/// If that coroutine is not the running one, or is not being resumed (its
/// suspension was polled by something other than its own `resume`).
#[inline]
pub(super) fn with_slot<I, Y, T>(header: &Header, f: impl FnOnce(&mut Slot<I, Y>) -> T) -> T {
    // A lent mailbox means the coroutine is inside a poll by its resume;
    // being the chain's current one means that poll is what runs now.
    let mailbox = header.mailbox();
    if mailbox.is_null() || !current::is_current(header) {
        panic!("a stackless coroutine's suspension was awaited outside its own resume");
    }
    // SAFETY: only `lend` sets a non-null mailbox, for the length of a poll
    // of this header's coroutine; a `Yielder` (the only caller's source of
    // `header`) exists only for that coroutine, so `I` and `Y` are the
    // slot's types. The slot lives on `lend`'s caller's stack, which
    // outlives the poll and does not touch it meanwhile, and `f` only moves
    // values in and out, so this is the only reference to it.
    f(unsafe { &mut *mailbox.cast::<Slot<I, Y>>() })
}
