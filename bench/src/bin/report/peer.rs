//! What a peer is, and the names of coro's reference rows, which the tables
//! compare the other rows with.

use crate::timing::Run;

/// What a peer is, for the tables and the chart's colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Own stack per coroutine.
    Stackful,
    /// Compiler-built state machine on the heap.
    Stackless,
    /// Lua's interpreter.
    Lua,
    /// OS threads.
    Threads,
}

impl Kind {
    /// The table's word for it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Stackful => "stackful",
            Kind::Stackless => "stackless",
            Kind::Lua => "Lua VM",
            Kind::Threads => "OS threads",
        }
    }

    /// The chart's colour for it.
    pub(crate) fn colour(self) -> &'static str {
        match self {
            Kind::Stackful => "#4c6ef5",
            Kind::Stackless => "#12b886",
            Kind::Lua => "#ae3ec9",
            Kind::Threads => "#868e96",
        }
    }
}

/// One peer's way of doing one operation.
pub(crate) struct Peer {
    /// The row of the table.
    pub(crate) name: &'static str,
    /// What it is.
    pub(crate) kind: Kind,
    /// The row it is compared with; empty for a reference row.
    pub(crate) against: &'static str,
    /// Sets up the state and returns the timed loop.
    pub(crate) make: fn() -> Run,
}

/// coro's stackful row in the round-trip table.
pub(crate) const CORO: &str = "coro";
/// coro's stackless row in both timing tables.
pub(crate) const CORO_STACKLESS: &str = "coro stackless";
/// coro's typed stackless row (`Coroutine::typed`), compared with the
/// erased one.
pub(crate) const CORO_TYPED: &str = "coro stackless, typed";
