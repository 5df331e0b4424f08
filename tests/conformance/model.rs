//! The model both backends share, on its own: `Resumed`, `Status`, `Error`
//! and its messages, and the thread's own stack, where no coroutine runs.
//! No coroutine of either backend is involved, so these run once.

use std::error::Error as StdError;
use std::io;

use crate::common::{self, Tracker};
use coro::{Error, PanicPayload, Resumed, Status};

// The `Resumed` helpers.
#[test]
fn resumed_accessors() {
    let y: Resumed<i32, &str> = Resumed::Yield(3);
    let r: Resumed<i32, &str> = Resumed::Return("x");
    assert!(y.is_yield() && !y.is_return());
    assert!(r.is_return() && !r.is_yield());
    assert_eq!(y.yielded(), Some(3));
    assert_eq!(y.returned(), None);
    assert_eq!(r.yielded(), None);
    assert_eq!(r.returned(), Some("x"));
}

// `Display` of a status is Lua's word.
#[test]
fn status_display_is_luas_word() {
    let words = [
        (Status::Suspended, "suspended"),
        (Status::Running, "running"),
        (Status::Normal, "normal"),
        (Status::Dead, "dead"),
    ];
    for (status, word) in words {
        assert_eq!(status.to_string(), word);
        assert_eq!(status.as_str(), word);
    }
}

// Every error with a Lua counterpart prints Lua's message verbatim.
#[test]
fn lua_messages_verbatim() {
    assert_eq!(Error::Dead.to_string(), "cannot resume dead coroutine");
    assert_eq!(
        Error::NotSuspended.to_string(),
        "cannot resume non-suspended coroutine"
    );
    assert_eq!(Error::TooDeep.to_string(), "C stack overflow");
    assert_eq!(
        Error::OutsideCoroutine.to_string(),
        "attempt to yield from outside a coroutine"
    );
    assert_eq!(
        Error::AcrossBoundary.to_string(),
        "attempt to yield across a C-call boundary"
    );
}

// The errors without a Lua counterpart have messages that say what happened.
#[test]
fn other_messages_are_clear() {
    let mismatch = Error::TypeMismatch {
        expected: ("u8", "u16"),
        found: ("u32", "u64"),
    };
    let text = mismatch.to_string();
    for name in ["u8", "u16", "u32", "u64"] {
        assert!(text.contains(&format!("`{name}`")), "{text}");
    }

    let alloc = Error::StackAllocation {
        size: 64 * 1024,
        source: io::Error::from_raw_os_error(libc::ENOMEM),
    };
    let text = alloc.to_string();
    assert!(text.contains("64 KiB"), "{text}");
    assert!(text.contains("stack"), "{text}");
    let source = alloc.source().expect("the OS error is the source");
    assert_eq!(
        source.to_string(),
        io::Error::from_raw_os_error(libc::ENOMEM).to_string()
    );
    assert!(Error::Dead.source().is_none());
}

// `Error` is `Send + Sync + 'static`, and so is `PanicPayload`.
#[test]
fn error_is_send_sync_static() {
    fn assert_traits<T: Send + Sync + 'static + StdError>() {}
    fn assert_payload<T: Send + Sync + 'static + std::fmt::Debug + std::fmt::Display>() {}
    assert_traits::<Error>();
    assert_payload::<PanicPayload>();
}

// Lua scenario 1: on the thread's own stack there is no running coroutine,
// nothing is yieldable, and the free suspend fails with Lua's message.
#[test]
fn main_thread_is_not_a_coroutine() {
    assert!(coro::running().is_none());
    assert!(!coro::is_yieldable());
    let err = coro::suspend::<(), ()>(()).unwrap_err();
    assert!(matches!(err, coro::Error::OutsideCoroutine));
    assert_eq!(err.to_string(), "attempt to yield from outside a coroutine");
}

// Lua scenario 1: on the main stack the free suspend fails with Lua's
// message, and the value is dropped.
#[test]
fn outside_coroutine_on_the_main_stack() {
    let tracker = Tracker::new();
    let err = coro::suspend::<common::Tracked, ()>(tracker.make()).unwrap_err();
    assert!(matches!(err, Error::OutsideCoroutine), "{err:?}");
    assert_eq!(err.to_string(), "attempt to yield from outside a coroutine");
    tracker.assert_all_dropped_once();
}
