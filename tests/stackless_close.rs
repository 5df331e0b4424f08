//! Stackless backend: what `close` and `Drop` can promise that the stackful
//! backend cannot.
//!
//! Dropping a stackless frame is an ordinary drop, not an unwind, so a
//! destructor that panics while `close` destroys a suspended frame is
//! caught: `close` returns `Err(Error::Panic)` with the message, every other
//! live local is still dropped, and the coroutine is dead. `Drop` of such a
//! coroutine ignores the error and never aborts, even while its owner is
//! itself unwinding.

use std::cell::RefCell;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::process::Command;
use std::rc::Rc;
use std::task::{Context, Waker};

use coro::stackless::{Coroutine, Yielder};
use coro::{Error, Resumed, Status};

/// A shared, ordered record of drops and other events.
#[derive(Clone, Default)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }

    fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }

    /// A local that logs its drop.
    fn quiet(&self, name: &'static str) -> Local {
        Local {
            name,
            log: self.clone(),
            panics: false,
        }
    }

    /// A local that logs its drop, then panics with "`name` exploded".
    fn bomb(&self, name: &'static str) -> Local {
        Local {
            name,
            log: self.clone(),
            panics: true,
        }
    }
}

struct Local {
    name: &'static str,
    log: Log,
    panics: bool,
}

impl Drop for Local {
    fn drop(&mut self) {
        self.log.push(self.name);
        if self.panics {
            panic!("{} exploded", self.name);
        }
    }
}

/// A coroutine suspended with three locals, the middle one a bomb.
fn armed(log: &Log) -> Coroutine<(), u32, ()> {
    let l = log.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), u32>, ()| async move {
        let _first = l.quiet("first");
        y.suspend(1).await;
        let _bomb = l.bomb("bomb");
        let _last = l.quiet("last");
        y.suspend(2).await;
        unreachable!("destroyed while suspended");
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(2));
    co
}

// A destructor that panics while `close` drops the frame: close returns the
// panic with its message; the locals on both sides of it were dropped, newest
// first; the coroutine is dead; the thread is back on its own stack, with no
// panic left in flight.
#[test]
fn panicking_destructor_makes_close_return_the_panic() {
    let log = Log::default();
    let mut co = armed(&log);
    match co.close() {
        Err(Error::Panic(payload)) => assert_eq!(payload.message(), "bomb exploded"),
        other => panic!("expected the destructor's panic, got {other:?}"),
    }
    assert_eq!(log.entries(), ["last", "bomb", "first"]);
    assert_eq!(co.status(), Status::Dead);
    assert!(matches!(co.resume(()), Err(Error::Dead)));
    assert!(co.close().is_ok(), "a second close does nothing");
    drop(co);
    assert_eq!(log.entries().len(), 3, "nothing dropped twice");
    assert!(coro::running().is_none());
    assert!(!std::thread::panicking());
}

/// Suspends with a bomb alive, one callee deep.
async fn callee_with_bomb(y: &Yielder<(), u32>, log: &Log) {
    let _callee_before = log.quiet("callee before");
    let _bomb = log.bomb("callee bomb");
    let _callee_after = log.quiet("callee after");
    y.suspend(1).await;
}

// The bomb in a callee's frame: the callee's other locals and the body's are
// dropped as well, and close reports the panic.
#[test]
fn panicking_destructor_in_a_callee_frame() {
    let log = Log::default();
    let l = log.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), u32>, ()| async move {
        let _body = l.quiet("body");
        callee_with_bomb(&y, &l).await;
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    let err = co.close().unwrap_err();
    assert!(matches!(err, Error::Panic(_)));
    assert_eq!(err.to_string(), "callee bomb exploded");
    assert_eq!(
        log.entries(),
        ["callee after", "callee bomb", "callee before", "body"]
    );
    assert_eq!(co.status(), Status::Dead);
}

/// Panics with a non-string payload when dropped.
struct PanicsWith42;

impl Drop for PanicsWith42 {
    fn drop(&mut self) {
        panic::panic_any(42_i32);
    }
}

// Any payload comes back whole: a destructor's `panic_any(42)` is downcast
// from the error close returns.
#[test]
fn close_returns_a_non_string_payload_whole() {
    let mut co = Coroutine::new(|y: Yielder<(), ()>, ()| async move {
        let _bomb = PanicsWith42;
        y.suspend(()).await;
    });
    co.resume(()).unwrap();
    match co.close() {
        Err(Error::Panic(payload)) => {
            assert_eq!(payload.message(), "Box<dyn Any>");
            assert_eq!(*payload.downcast::<i32>().unwrap(), 42);
        }
        other => panic!("expected the destructor's panic, got {other:?}"),
    }
    assert_eq!(co.status(), Status::Dead);
}

// A never-started body whose capture panics when dropped: close returns the
// panic, the other captures are dropped, the body never ran.
#[test]
fn never_started_body_with_a_panicking_capture() {
    let log = Log::default();
    let (before, bomb, after) = (log.quiet("before"), log.bomb("capture"), log.quiet("after"));
    let l = log.clone();
    let mut co = Coroutine::new(move |_: Yielder<(), ()>, ()| async move {
        let _held = (before, bomb, after);
        l.push("body ran");
    });
    let err = co.close().unwrap_err();
    assert_eq!(err.to_string(), "capture exploded");
    let mut entries = log.entries();
    entries.sort();
    assert_eq!(entries, ["after", "before", "capture"]);
    assert_eq!(co.status(), Status::Dead);
    assert!(matches!(co.resume(()), Err(Error::Dead)));
}

// What a destructor sees while `close` drops the frame: its own coroutine
// running, nothing yieldable, the free `suspend` refused.
#[test]
fn destructors_run_inside_the_closing_coroutine() {
    /// Records what it sees when dropped.
    struct Observer(Log);

    impl Drop for Observer {
        fn drop(&mut self) {
            let running = coro::running().map(|h| (h.id(), h.status()));
            self.0.push(format!("running {running:?}"));
            self.0.push(format!("yieldable {}", coro::is_yieldable()));
            // The free suspend is the stackful backend's.
            #[cfg(coro_stackful)]
            match coro::suspend::<u32, ()>(5) {
                Err(err @ Error::AcrossBoundary) => self.0.push(err.to_string()),
                other => self.0.push(format!("suspend gave {other:?}")),
            }
        }
    }

    let log = Log::default();
    let l = log.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), u32>, ()| async move {
        let _observer = Observer(l);
        y.suspend(1).await;
    });
    co.resume(()).unwrap();
    let id = co.handle().id();
    co.close().unwrap();
    let mut expected = vec![
        format!("running Some(({id}, Running))"),
        "yieldable false".to_string(),
    ];
    if cfg!(coro_stackful) {
        expected.push("attempt to yield across a C-call boundary".to_string());
    }
    assert_eq!(log.entries(), expected);
    assert_eq!(co.status(), Status::Dead);
}

// A destructor that polls its own coroutine's suspension by hand while the
// frame is being dropped: there is no resume to receive it, so it panics,
// and close reports that panic.
#[test]
fn suspension_polled_by_a_destructor_during_close() {
    /// Polls a suspension of the yielder it holds when dropped.
    struct SneakySuspend(Rc<Yielder<(), u32>>);

    impl Drop for SneakySuspend {
        fn drop(&mut self) {
            let mut suspension = Box::pin(self.0.suspend(9));
            let _ = suspension
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()));
        }
    }

    let mut co = Coroutine::new(|y: Yielder<(), u32>, ()| async move {
        let y = Rc::new(y);
        let _sneaky = SneakySuspend(y.clone());
        y.suspend(1).await;
    });
    co.resume(()).unwrap();
    let err = co.close().unwrap_err();
    assert_eq!(
        err.to_string(),
        "a stackless coroutine's suspension was awaited outside its own resume"
    );
    assert_eq!(co.status(), Status::Dead);
}

// A destructor may resume another coroutine while `close` drops the frame:
// it nests under the closing one, which reads Normal meanwhile.
#[test]
fn destructor_resumes_another_coroutine_during_close() {
    /// Runs `other` to completion when dropped, logging what it saw.
    struct Runner {
        other: Coroutine<(), (), String>,
        log: Log,
    }

    impl Drop for Runner {
        fn drop(&mut self) {
            let result = self.other.resume(());
            self.log.push(format!("{result:?}"));
        }
    }

    let log = Log::default();
    let closing: Rc<RefCell<Option<coro::Handle>>> = Rc::default();
    let c = closing.clone();
    let other = Coroutine::new(move |_: Yielder<(), ()>, ()| async move {
        let status = c.borrow().as_ref().map(coro::Handle::status);
        format!("closing one is {status:?}")
    });
    let l = log.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), ()>, ()| async move {
        let _runner = Runner { other, log: l };
        y.suspend(()).await;
    });
    *closing.borrow_mut() = Some(co.handle());
    co.resume(()).unwrap();
    co.close().unwrap();
    assert_eq!(
        log.entries(),
        ["Ok(Return(\"closing one is Some(Normal)\"))"]
    );
}

// A stackful coroutine closes a stackless one whose destructor panics: the
// panic comes back as close's error inside the stackful body, and the
// stackful coroutine is still whole — it can suspend afterwards.
#[cfg(coro_stackful)]
#[test]
#[cfg_attr(
    miri,
    ignore = "creates a stackful coroutine, whose switch Miri cannot run"
)]
fn panicking_close_inside_a_stackful_coroutine_leaves_it_whole() {
    let log = Log::default();
    let l = log.clone();
    let mut outer = coro::Coroutine::new(move |y: &coro::Yielder<(), String>, ()| {
        let mut inner = armed(&l);
        let closed = match inner.close() {
            Err(Error::Panic(payload)) => format!("close panicked: {payload}"),
            other => format!("close gave {other:?}"),
        };
        let yieldable = coro::is_yieldable();
        y.suspend(format!("{closed}, yieldable {yieldable}"));
        "outer done".to_string()
    });
    assert_eq!(
        outer.resume(()).unwrap(),
        Resumed::Yield("close panicked: bomb exploded, yieldable true".to_string())
    );
    assert_eq!(
        outer.resume(()).unwrap(),
        Resumed::Return("outer done".to_string())
    );
    assert_eq!(log.entries(), ["last", "bomb", "first"]);
}

// When a destructor panics while awaiting another future kills the frame, the resume
// still reports that it needs an executor, and every other local is dropped.
#[test]
fn panicking_destructor_when_a_foreign_await_kills_the_frame() {
    let log = Log::default();
    let l = log.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), u32>, ()| async move {
        let _first = l.quiet("first");
        let _bomb = l.bomb("bomb");
        y.suspend(1).await;
        let _last = l.quiet("last");
        std::future::pending::<()>().await;
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    assert!(matches!(co.resume(()), Err(Error::NeedsExecutor)));
    assert_eq!(log.entries(), ["last", "bomb", "first"]);
    assert_eq!(co.status(), Status::Dead);
}

/// The environment variable that marks a child process running one scenario.
const CHILD: &str = "STACKLESS_CLOSE_CHILD";

/// Runs `scenario` in a child process of this test binary (the test must be
/// named `name`), so that an abort fails this test by name instead of killing
/// the whole binary.
fn in_child(name: &str, scenario: impl FnOnce()) {
    let done = format!("scenario {name} completed");
    if std::env::var(CHILD).is_ok_and(|v| v == name) {
        scenario();
        println!("{done}");
        return;
    }
    // Under an emulator (see `CORO_TEST_RUNNER` in tests/common) the child
    // runs through it.
    let exe = std::env::current_exe().unwrap();
    let mut command = match std::env::var_os("CORO_TEST_RUNNER") {
        Some(runner) if !runner.is_empty() => {
            let mut command = Command::new(runner);
            command.arg(exe);
            command
        }
        _ => Command::new(exe),
    };
    let output = command
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(&done),
        "child {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

// Drop of a suspended coroutine whose destructor panics: no abort, every
// other local dropped, the error ignored.
#[test]
#[cfg_attr(miri, ignore = "runs in a child process, which Miri cannot start")]
fn drop_with_a_panicking_destructor_does_not_abort() {
    in_child("drop_with_a_panicking_destructor_does_not_abort", || {
        let log = Log::default();
        let co = armed(&log);
        let handle = co.handle();
        drop(co);
        assert_eq!(log.entries(), ["last", "bomb", "first"]);
        assert_eq!(handle.status(), Status::Dead);
    });
}

// The same Drop while the owner is itself unwinding from a panic: the
// destructor's panic stays inside the coroutine's drop, the process does not
// abort, and the owner's original panic is the one caught.
#[test]
#[cfg_attr(miri, ignore = "runs in a child process, which Miri cannot start")]
fn drop_during_the_owners_unwind_does_not_abort() {
    in_child("drop_during_the_owners_unwind_does_not_abort", || {
        let log = Log::default();
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let _co = armed(&log);
            panic!("the owner failed");
        }))
        .unwrap_err();
        assert_eq!(caught.downcast_ref::<&str>(), Some(&"the owner failed"));
        assert_eq!(log.entries(), ["last", "bomb", "first"]);
        assert!(!std::thread::panicking());
    });
}

// A suspended stackless coroutine with a panicking destructor, owned by a
// suspended stackful coroutine that is closed: its frame is dropped during
// the stackful coroutine's forced unwind; no abort, the stackful close
// succeeds, and every local of both is dropped.
#[cfg(coro_stackful)]
#[test]
#[cfg_attr(miri, ignore = "runs in a child process, which Miri cannot start")]
fn drop_during_a_stackful_close_does_not_abort() {
    in_child("drop_during_a_stackful_close_does_not_abort", || {
        let log = Log::default();
        let l = log.clone();
        let mut outer = coro::Coroutine::new(move |y: &coro::Yielder<(), ()>, ()| {
            let _outer = l.quiet("stackful local");
            let _inner = armed(&l);
            y.suspend(());
            unreachable!("closed while suspended");
        });
        outer.resume(()).unwrap();
        outer.close().unwrap();
        assert_eq!(log.entries(), ["last", "bomb", "first", "stackful local"]);
        assert_eq!(outer.status(), Status::Dead);
    });
}
