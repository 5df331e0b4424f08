//! [`Handle`], the public observer of a coroutine of either backend: an
//! `Rc` of its [`Header`], made from the coroutine's own
//! [`Shared`](crate::shared::Shared) (by its
//! [`handle`](crate::shared::Shared::handle)) or from the thread's chain
//! (by [`running`](crate::running)).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::rc::Rc;

use crate::Status;
use crate::header::Header;
use crate::thread_bound::ThreadBound;

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
/// let co = coro::Coroutine::new(|y, ()| y.suspend(1));
/// let handle = co.handle();
/// std::thread::spawn(move || handle.status());
/// ```
#[derive(Clone)]
pub struct Handle {
    /// Keeps it on its coroutine's thread; first, so that a `!Send` error
    /// names it first.
    _thread: ThreadBound,
    /// The coroutine's header, shared without atomics.
    header: HeaderRc,
}

/// A handle's `Rc` of its header. A struct of its own, so that a `!Send`
/// error names the handle's [`ThreadBound`] before this `Rc`.
#[derive(Clone)]
struct HeaderRc(Rc<Header>);

impl Handle {
    /// A handle owning one count of `header`.
    pub(crate) fn new(header: Rc<Header>) -> Handle {
        Handle {
            _thread: PhantomData,
            header: HeaderRc(header),
        }
    }

    /// The coroutine's current state.
    #[inline]
    pub fn status(&self) -> Status {
        self.header.0.status()
    }

    /// A number that identifies the coroutine in this process; never reused.
    pub fn id(&self) -> u64 {
        self.header.0.id
    }

    /// The name given with the stackful [`Builder::name`](crate::Builder::name)
    /// or the stackless [`stackless::Builder::name`](crate::stackless::Builder::name),
    /// if any.
    pub fn name(&self) -> Option<&str> {
        self.header.0.name()
    }
}

impl PartialEq for Handle {
    fn eq(&self, other: &Handle) -> bool {
        self.header.0.id == other.header.0.id
    }
}

impl Eq for Handle {}

impl Hash for Handle {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.header.0.id.hash(state);
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Handle");
        s.field("id", &self.header.0.id);
        if let Some(name) = self.header.0.name() {
            s.field("name", &name);
        }
        s.field("status", &self.header.0.status()).finish()
    }
}
