//! The one error type of both backends, with Lua's messages.

use std::any::{Any, TypeId};
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};

/// Why a coroutine operation failed.
///
/// Where Lua 5.4 has a message for the same failure, `Display` prints it
/// verbatim. `Error` is `Send + Sync + 'static`, so it travels through `?` into
/// `Box<dyn std::error::Error + Send + Sync>` or `anyhow`.
///
/// ```
/// use coro::{Coroutine, Error};
///
/// let mut co: Coroutine = Coroutine::new(|_, ()| {});
/// co.resume(()).unwrap();
/// let err = co.resume(()).unwrap_err();
/// assert!(matches!(err, Error::Dead));
/// assert_eq!(err.to_string(), "cannot resume dead coroutine");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The coroutine returned, panicked or was closed: it cannot run again.
    Dead,
    /// The coroutine is running or normal (it is active somewhere up this
    /// thread's chain of resumes).
    NotSuspended,
    /// The resume would make this thread's chain of active coroutines longer
    /// than [`MAX_NESTING`](crate::MAX_NESTING). The target was not touched.
    TooDeep,
    /// The free [`suspend`](crate::suspend) was called with no coroutine running.
    OutsideCoroutine,
    /// The free [`suspend`](crate::suspend) was called where suspension is
    /// impossible: in a stackless coroutine's synchronous code, while a
    /// coroutine is being closed, or while a panic unwinds its stack.
    AcrossBoundary,
    /// The body panicked. The coroutine is dead; the payload is returned here
    /// instead of unwinding into the resumer (Lua's `false, err`).
    Panic(PanicPayload),
    /// The free [`suspend`](crate::suspend) was called with types other than
    /// those of the running coroutine.
    TypeMismatch {
        /// `(input, yield)` type names the running coroutine was created with.
        expected: (&'static str, &'static str),
        /// `(input, yield)` type names of the failed call.
        found: (&'static str, &'static str),
    },
    /// The free [`suspend`](crate::suspend) was called in a borrowing
    /// stackful coroutine (made by `Coroutine::borrowing` or
    /// `Builder::build_borrowing`), whose input and yield types may borrow:
    /// a `TypeId` ignores lifetimes, so such types cannot be checked.
    /// Suspend it with its `Yielder` instead.
    UncheckedTypes,
    /// A stackless body awaited a future other than its own suspension (a
    /// timer, a channel) in a plain `resume`: only `resume` polls the frame,
    /// with a waker that does nothing, so nothing would ever wake it. The
    /// coroutine is dead. Such a body needs an executor: await its
    /// `resume_async` (or the coroutine itself, or its stream), and it may
    /// await any future.
    ///
    /// (Formerly `ForeignAwait`: `foreign` names C frames only, in
    /// `coro::foreign`.)
    NeedsExecutor,
    /// A stackless body awaited two of its suspensions at once (`join`): a
    /// coroutine suspends with one value at a time. The coroutine is dead.
    SuspendClash,
    /// [`wait`](crate::wait) was called in a stackful coroutine that no
    /// executor polls: one resumed by a plain `resume` (even by a coroutine
    /// that an executor polls, as Lua's `yield` suspends only the coroutine
    /// it is called in). Await the coroutine, poll its stream, or resume it
    /// with `resume_async`. The future was dropped without being polled.
    NotPolled,
    /// A plain `resume`, or a new `resume_async`, of a coroutine that is
    /// suspended waiting on a future for the executor that polled it last:
    /// only that poller goes on with it. (Reached only after the future of a
    /// `resume_async` was leaked with `mem::forget`: dropping it closes the
    /// coroutine.) The coroutine was not touched; `close` destroys it.
    Waiting,
    /// The future of a `resume_async` was polled again after it had
    /// completed. The coroutine was not touched.
    PolledAfterCompletion,
    /// A coroutine stack could not be mapped.
    StackAllocation {
        /// The usable size requested, in bytes.
        size: usize,
        /// What the operating system said.
        source: io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Dead => f.write_str("cannot resume dead coroutine"),
            Error::NotSuspended => f.write_str("cannot resume non-suspended coroutine"),
            Error::TooDeep => f.write_str("C stack overflow"),
            Error::OutsideCoroutine => f.write_str("attempt to yield from outside a coroutine"),
            Error::AcrossBoundary => f.write_str("attempt to yield across a C-call boundary"),
            Error::Panic(payload) => f.write_str(payload.message()),
            Error::TypeMismatch { expected, found } => write!(
                f,
                "attempt to yield `{}` and receive `{}` in a coroutine that yields `{}` and receives `{}`",
                found.1, found.0, expected.1, expected.0
            ),
            Error::UncheckedTypes => f.write_str(
                "attempt to yield with the free suspend in a borrowing coroutine, whose types \
                 cannot be checked: suspend it with its Yielder",
            ),
            Error::NeedsExecutor => f.write_str(
                "attempt to await another future in a stackless coroutine that no executor polls: await its resume_async instead",
            ),
            Error::SuspendClash => f.write_str(
                "attempt to await two suspensions at once in a stackless coroutine",
            ),
            Error::NotPolled => f.write_str("attempt to wait in a coroutine that no executor polls"),
            Error::Waiting => f.write_str("cannot resume a coroutine that waits on a future"),
            Error::PolledAfterCompletion => {
                f.write_str("attempt to poll a resume that has already completed")
            }
            Error::StackAllocation { size, source } => write!(
                f,
                "cannot map a coroutine stack of {} KiB ({source}): the process is out of memory \
                 or address space, or past the kernel's vm.max_map_count (each guarded stack \
                 costs two mappings); drop unused coroutines, choose a smaller \
                 Builder::stack_size, or raise vm.max_map_count",
                size / 1024
            ),
        }
    }
}

impl Error {
    /// Drops an error that has nowhere to go, such as the result of the
    /// `close` that a coroutine's `Drop` runs: a panic payload in it is
    /// dropped without unwinding (see [`PanicPayload::discard`]).
    pub(crate) fn discard(self) {
        if let Error::Panic(payload) = self {
            payload.discard();
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::StackAllocation { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The value a coroutine's body panicked with.
///
/// It owns the panic's `Box<dyn Any + Send>` and gives it back only by value
/// ([`downcast`](Self::downcast), [`into_inner`](Self::into_inner)), so it can
/// be shared between threads (`Sync`) although the payload itself need not be.
/// The message is taken when the panic is caught.
///
/// ```
/// let mut co: coro::Coroutine = coro::Coroutine::new(|_, ()| std::panic::panic_any(42_i32));
/// # std::panic::set_hook(Box::new(|_| {}));
/// match co.resume(()) {
///     Err(coro::Error::Panic(payload)) => {
///         assert!(payload.is::<i32>());
///         assert_eq!(*payload.downcast::<i32>().unwrap(), 42);
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
pub struct PanicPayload {
    /// Never borrowed: only moved out whole, which is what makes `Sync` sound.
    payload: Box<dyn Any + Send>,
    /// The payload's type, read when caught, so `is` needs no borrow.
    type_id: TypeId,
    /// The text of a `&str` or `String` payload, or `Box<dyn Any>` as Rust's
    /// own panic message says for other payloads.
    message: String,
}

// SAFETY: a `&PanicPayload` gives access only to `message` and `type_id`, which
// are `Sync`; the payload itself is reachable only through `self` by value, and
// moving a `Send` value between threads is what `Send` allows.
unsafe impl Sync for PanicPayload {}

impl PanicPayload {
    /// Wraps a payload caught by `catch_unwind`.
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Self {
        let message = if let Some(text) = payload.downcast_ref::<&'static str>() {
            (*text).to_owned()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "Box<dyn Any>".to_owned()
        };
        let type_id = (*payload).type_id();
        PanicPayload {
            payload,
            type_id,
            message,
        }
    }

    /// Runs `f`, returning what it panics with instead of unwinding.
    pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, PanicPayload> {
        panic::catch_unwind(AssertUnwindSafe(f)).map_err(PanicPayload::new)
    }

    /// Drops `value`, returning what its destructor panics with instead of
    /// unwinding.
    pub(crate) fn drop_caught<T>(value: T) -> Result<(), PanicPayload> {
        PanicPayload::catch(|| drop(value))
    }

    /// Drops a payload that nobody will see (a panic beside the one
    /// reported, or an error that `Drop` has nowhere to return), without
    /// letting its destructor unwind into the caller.
    ///
    /// A payload's destructor is user code, and may panic too: that second
    /// payload is dropped the same way. One whose destructor panics in turn
    /// would do so forever; as Rust's runtime does with a payload whose drop
    /// panics, the process then aborts, with a message.
    pub(crate) fn discard(self) {
        let Err(second) = PanicPayload::drop_caught(self.payload) else {
            return;
        };
        if let Err(third) = PanicPayload::drop_caught(second.payload) {
            std::mem::forget(third);
            eprintln!(
                "coro: the payload of a panic panicked when dropped, and so did the payload \
                 of that panic; aborting"
            );
            std::process::abort();
        }
    }

    /// The panic message: the text of a `&str` or `String` payload, otherwise
    /// `Box<dyn Any>` (what Rust's panic hook prints for such payloads).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True if the payload is of type `T`.
    pub fn is<T: Any>(&self) -> bool {
        self.type_id == TypeId::of::<T>()
    }

    /// The payload as a `T`, or `self` back unchanged if it is of another type.
    pub fn downcast<T: Any>(self) -> Result<Box<T>, Self> {
        if self.is::<T>() {
            Ok(self.payload.downcast::<T>().expect("type checked above"))
        } else {
            Err(self)
        }
    }

    /// The payload itself, for example to continue the panic with
    /// [`std::panic::resume_unwind`].
    pub fn into_inner(self) -> Box<dyn Any + Send> {
        self.payload
    }
}

impl fmt::Debug for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PanicPayload")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
