//! [`Shared`], a coroutine's own reference to its [`Header`]: a hand-rolled
//! `Rc` that keeps the pointer to the header itself.
//!
//! Each backend's coroutine holds its header as a `Shared` (a stackless
//! `Yielder` holds another), hands the chain its pointer on every resume
//! ([`enter`](crate::chain::enter)), and makes [`Handle`]s from it: they
//! own counts of the same `Rc` allocation, as plain `Rc<Header>`s.
//!
//! A header whose last count is a `Shared` is not freed when that goes: up
//! to [`SPARES`] of them wait in a per-thread list for the next coroutine
//! made on the thread, which writes its own header over the old one. A
//! coroutine made and run to its end then costs no `malloc` and no `free`
//! for its header (about 150 instructions of the 680 of a create and finish).
//! A header that a [`Handle`] outlives the coroutine in is freed by the
//! handle, as any `Rc`.

use std::cell::Cell;
use std::ptr::NonNull;
use std::rc::Rc;

use crate::Handle;
use crate::header::Header;

/// A coroutine's own reference to its header: an `Rc<Header>` kept as the
/// pointer to the header itself, so that the hot path reaches the fields and
/// hands the chain its pointer without adjusting for the `Rc`'s counts.
pub(crate) struct Shared {
    /// From `Rc::into_raw`; owns one strong count.
    header: NonNull<Header>,
}

impl Shared {
    /// Puts `header` in an `Rc`, whose one strong count it owns: a spare
    /// one of this thread's, if it has one, else a new one. Called by
    /// [`Header::shared`] only.
    #[inline]
    pub(crate) fn new(header: Header) -> Shared {
        let rc = match take_spare() {
            Some(mut rc) => match Rc::get_mut(&mut rc) {
                // Nothing of the old header's is left to drop: `release`
                // took it when its coroutine went.
                Some(old) => {
                    *old = header;
                    rc
                }
                None => unreachable!("a spare header has no other owner"),
            },
            None => Rc::new(header),
        };
        let raw = Rc::into_raw(rc);
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
            Handle::new(Rc::from_raw(self.as_ptr()))
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
    #[inline]
    fn drop(&mut self) {
        // SAFETY: gives back the count taken by `new`, once.
        let mut rc = unsafe { Rc::from_raw(self.as_ptr()) };
        // The last owner: what the header owns goes now, as it would with
        // the header, and the header is kept for the thread's next
        // coroutine.
        if let Some(header) = Rc::get_mut(&mut rc) {
            header.release();
            keep_spare(rc);
        }
    }
}

/// How many freed headers a thread keeps for its next coroutines.
const SPARES: usize = 16;

/// A thread's spare headers (see the module's docs): `Rc`s owned by no one
/// else, kept as raw pointers from `Rc::into_raw`, each owning its count.
struct Spares {
    headers: [Cell<*const Header>; SPARES],
    len: Cell<usize>,
}

impl Drop for Spares {
    fn drop(&mut self) {
        for header in &self.headers[..self.len.get()] {
            // SAFETY: the first `len` slots own a count each (see `Spares`).
            drop(unsafe { Rc::from_raw(header.get()) });
        }
    }
}

thread_local! {
    static SPARE_HEADERS: Spares = const {
        Spares {
            headers: [const { Cell::new(std::ptr::null()) }; SPARES],
            len: Cell::new(0),
        }
    };
}

/// One of this thread's spare headers, if it has one.
#[inline]
fn take_spare() -> Option<Rc<Header>> {
    SPARE_HEADERS
        .try_with(|spares| {
            let len = spares.len.get().checked_sub(1)?;
            spares.len.set(len);
            // SAFETY: slot `len` owned a count, which the `Rc` now owns.
            Some(unsafe { Rc::from_raw(spares.headers[len].get()) })
        })
        .ok()
        .flatten()
}

/// Keeps `rc`, whose only owner was a `Shared`, for this thread's next
/// coroutine; frees it if the thread has enough spares, or is exiting.
#[inline]
fn keep_spare(rc: Rc<Header>) {
    // Where the closure does not keep `rc` (the list is full) or is not
    // called (the thread-local is gone), `rc` is dropped with it: freed.
    let _ = SPARE_HEADERS.try_with(move |spares| {
        let len = spares.len.get();
        if let Some(slot) = spares.headers.get(len) {
            slot.set(Rc::into_raw(rc));
            spares.len.set(len + 1);
        }
    });
}
