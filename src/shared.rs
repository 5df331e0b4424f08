//! [`Shared`], a coroutine's own reference to its [`Header`]: a hand-rolled
//! `Rc` that keeps the pointer to the header itself.
//!
//! Each backend's coroutine holds its header as a `Shared` (a stackless
//! `Yielder` holds another), hands the chain its pointer on every resume
//! ([`enter`](crate::chain::enter)), and makes [`Handle`]s from it: they
//! own counts of the same `Rc` allocation, as plain `Rc<Header>`s.

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
    /// Puts `header` in a new `Rc`, whose one strong count it owns; called
    /// by [`Header::shared`] only.
    pub(crate) fn new(header: Header) -> Shared {
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
