//! [`Handle`], the public observer of a coroutine of either backend: an
//! `Rc` of its [`Header`], made from the coroutine's own
//! [`Shared`](crate::shared::Shared) (by its
//! [`handle`](crate::shared::Shared::handle)) or from the thread's chain
//! (by [`running`](crate::running)).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use crate::Status;
use crate::header::Header;

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

    /// The name given with the stackful [`Builder::name`](crate::Builder::name)
    /// or the stackless [`stackless::Builder::name`](crate::stackless::Builder::name),
    /// if any.
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
