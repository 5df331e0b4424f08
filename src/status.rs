//! The four states of a coroutine, named and printed as Lua names them.

use std::fmt;

/// Where a coroutine is in its life, with Lua 5.4's four states.
///
/// `Display` prints Lua's word (`coroutine.status` returns the same strings).
///
/// ```
/// use coro::{Coroutine, Status};
///
/// let mut co = Coroutine::new(|yielder, ()| {
///     assert_eq!(coro::running().unwrap().status(), Status::Running);
///     yielder.suspend(());
/// });
/// assert_eq!(co.status(), Status::Suspended); // created, not started
/// co.resume(()).unwrap();
/// assert_eq!(co.status(), Status::Suspended); // stopped in `suspend`
/// co.resume(()).unwrap();
/// assert_eq!(co.status(), Status::Dead);
/// assert_eq!(co.status().to_string(), "dead");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Created and not started yet, or stopped in a `suspend`: it can be resumed.
    Suspended,
    /// Executing now: it is the coroutine that `coro::running()` returns.
    Running,
    /// Active but not running: it resumed another coroutine, which has not yet
    /// suspended or returned.
    Normal,
    /// Returned, panicked or closed: it can never run again.
    Dead,
}

impl Status {
    /// Lua's word for the state: `"suspended"`, `"running"`, `"normal"` or `"dead"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Suspended => "suspended",
            Status::Running => "running",
            Status::Normal => "normal",
            Status::Dead => "dead",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
