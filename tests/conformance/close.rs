// `close()` and `Drop`, Lua's `coroutine.close`: a suspended body's live
// locals are dropped newest first, a never-started body is dropped without
// running, a dead coroutine is left alone.
//
// Not here, because the backends differ by design (see `Coroutine::close`): a
// destructor that panics while a suspended frame is destroyed (Lua scenario
// 12). Destroying a stackful stack is an unwind, so that panic aborts the
// process (tests/stackful_close.rs); a stackless frame is dropped without
// unwinding, so `close` returns `Error::Panic` (the stackless tests). Nor a
// body that catches the close's unwind (tests/stackful_catch_unwind.rs): a
// stackless close has no unwind to catch.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use common::{Log, Tracker};
use coro::{Error, Handle, Resumed, Status};

// Lua scenario 8: closing a dead coroutine succeeds, and again.
#[test]
fn close_dead_twice() {
    let mut co = coroutine!((), (), u8; |_, ()| 1);
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(1));
    assert_eq!(co.status(), Status::Dead);
    assert!(co.close().is_ok());
    assert!(co.close().is_ok());
    assert_eq!(co.status(), Status::Dead);
    assert!(matches!(co.resume(()), Err(Error::Dead)));
}

// Lua scenario 11: closing a suspended coroutine runs its pending destructors,
// newest first, and leaves it dead; resuming it then fails.
#[test]
fn close_suspended_drops_locals_newest_first() {
    let log = Log::new();
    let l = log.clone();
    let mut co = coroutine!((), u32, (); |y, ()| {
        let _first = l.noisy("first");
        suspend!(y, 1);
        let _second = l.noisy("second");
        let _third = l.noisy("third");
        suspend!(y, 2);
        l.push("not reached");
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(2));
    assert!(log.is_empty());
    assert_eq!(co.status(), Status::Suspended);

    co.close().unwrap();
    assert_eq!(log.entries(), ["third", "second", "first"]);
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(co.handle().status(), Status::Dead);
    let err = co.resume(()).unwrap_err();
    assert_eq!(err.to_string(), "cannot resume dead coroutine");
    // A second close does nothing more.
    co.close().unwrap();
    assert_eq!(log.len(), 3);
}

// A never-started body is dropped without running, with everything it
// captured; the coroutine is dead.
#[test]
fn close_never_started_drops_body_without_running() {
    let ran = Rc::new(Cell::new(false));
    let tracker = Tracker::new();
    let captured = (tracker.make(), tracker.make());
    let r = ran.clone();
    let mut co = coroutine!((), (), (); |_, ()| {
        r.set(true);
        drop(captured);
    });
    assert_eq!(co.status(), Status::Suspended);
    assert_eq!(tracker.alive(), 2);
    co.close().unwrap();
    assert!(!ran.get(), "the body must not run");
    assert_eq!(Rc::strong_count(&ran), 1, "the body's captures are dropped");
    tracker.assert_all_dropped_once();
    assert_eq!(co.status(), Status::Dead);
    assert!(matches!(co.resume(()), Err(Error::Dead)));
    co.close().unwrap();
}

// Dropping a never-started coroutine drops its body without running it.
#[test]
fn drop_never_started_drops_body_without_running() {
    let tracker = Tracker::new();
    let t = tracker.make();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let co = coroutine!((), (), (); |_, ()| {
        r.set(true);
        drop(t);
    });
    let handle = co.handle();
    drop(co);
    assert!(!ran.get());
    tracker.assert_all_dropped_once();
    assert_eq!(handle.status(), Status::Dead);
}

/// Panics when dropped.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

// A never-started body whose captured value panics when dropped: close
// returns that panic as `Error::Panic`, and the coroutine is dead. The other
// captures are still dropped.
#[test]
fn close_never_started_with_panicking_capture_returns_the_panic() {
    let tracker = Tracker::new();
    let other = tracker.make();
    let bomb = PanicOnDrop("capture refused to drop");
    let mut co = coroutine!((), (), (); |_, ()| {
        let _keep = (&bomb, &other);
    });
    match co.close() {
        Err(Error::Panic(payload)) => assert_eq!(payload.message(), "capture refused to drop"),
        other => panic!("expected Error::Panic, got {other:?}"),
    }
    assert_eq!(co.status(), Status::Dead);
    tracker.assert_all_dropped_once();
    assert!(co.close().is_ok(), "nothing left to close");
}

// `Drop` of such a coroutine swallows the panic (close with the result
// ignored): dropping it does not unwind into the owner.
#[test]
fn drop_never_started_with_panicking_capture_does_not_unwind() {
    let bomb = PanicOnDrop("swallowed by drop");
    let co = coroutine!((), (), (); |_, ()| {
        let _keep = &bomb;
    });
    let handle = co.handle();
    let dropped = panic::catch_unwind(AssertUnwindSafe(|| drop(co)));
    assert!(dropped.is_ok(), "the panic must not reach the owner");
    assert_eq!(handle.status(), Status::Dead);
}

// Dropping a suspended coroutine runs its destructors, like close.
#[test]
fn drop_suspended_runs_destructors() {
    let log = Log::new();
    let l = log.clone();
    let co_log = log.clone();
    let mut co = coroutine!((), (), (); |y, ()| {
        let _a = l.noisy("a");
        let _b = l.noisy("b");
        suspend!(y, ());
        l.push("not reached");
    });
    co.resume(()).unwrap();
    let handle = co.handle();
    drop(co);
    assert_eq!(co_log.entries(), ["b", "a"]);
    assert_eq!(handle.status(), Status::Dead);
}

/// A local that, when dropped, records what suspension looks like from there,
/// and the status of the coroutine it watches, if any.
struct Probe {
    log: Log,
    watched: Option<Handle>,
}

impl Drop for Probe {
    // Never panics: a panic in a destructor during an unwind would abort.
    fn drop(&mut self) {
        self.log
            .push(format!("is_yieldable={}", coro::is_yieldable()));
        match coro::suspend::<(), ()>(()) {
            Ok(()) => self.log.push("suspend succeeded"),
            Err(err) => {
                self.log.push(format!("suspend={err}"));
                self.log.push(format!(
                    "across_boundary={}",
                    matches!(err, Error::AcrossBoundary)
                ));
            }
        }
        if let Some(handle) = &self.watched {
            self.log.push(format!("watched={}", handle.status()));
        }
    }
}

// While a coroutine is closed, code on its stack cannot suspend: the free
// `suspend` fails with AcrossBoundary and `is_yieldable()` is false. The
// destructors run with the coroutine entered: it is the running one.
#[test]
fn suspend_refused_during_close() {
    let log = Log::new();
    let l = log.clone();
    let mut co = coroutine!((), (), (); |y, ()| {
        assert_eq!(coro::is_yieldable(), BODY_IS_YIELDABLE);
        let _probe = Probe {
            log: l,
            watched: coro::running(),
        };
        suspend!(y, ());
    });
    co.resume(()).unwrap();
    co.close().unwrap();
    assert_eq!(
        log.entries(),
        [
            "is_yieldable=false",
            "suspend=attempt to yield across a C-call boundary",
            "across_boundary=true",
            // The probe watches the coroutine being closed: it is entered.
            "watched=running",
        ]
    );
    assert_eq!(co.status(), Status::Dead);
}

// The same through `Drop` of the suspended coroutine.
#[test]
fn suspend_refused_during_drop() {
    let log = Log::new();
    let l = log.clone();
    let mut co = coroutine!((), (), (); |y, ()| {
        let _probe = Probe {
            log: l,
            watched: None,
        };
        suspend!(y, ());
    });
    co.resume(()).unwrap();
    drop(co);
    assert_eq!(log.entries()[0], "is_yieldable=false");
    assert_eq!(log.entries()[2], "across_boundary=true");
}

suspending! {
    fn level3(y: &Yielder<(), u32>, log: &Log) {
        let _c = log.noisy("level3");
        suspend!(y, 3);
        log.push("level3 not reached");
    }
}

suspending! {
    fn level2(y: &Yielder<(), u32>, log: &Log) -> u32 {
        let _b1 = log.noisy("level2.1");
        let boxed = Box::new(log.noisy("level2.boxed"));
        let _b2 = log.noisy("level2.2");
        call!(level3(y, log));
        drop(boxed);
        log.push("level2 not reached");
        2
    }
}

suspending! {
    fn level1(y: &Yielder<(), u32>, log: &Log) {
        // On the heap, dropped in order by the Vec.
        let v: Vec<_> = ["level1.vec0", "level1.vec1"]
            .map(|name| log.noisy(name))
            .into_iter()
            .collect();
        let n = call!(level2(y, log));
        log.push(format!("level1 not reached {n} {}", v.len()));
    }
}

// Destructors in several frames of nested calls all run, innermost frame
// first, each frame's locals newest first.
#[test]
fn close_runs_destructors_in_every_frame() {
    let log = Log::new();
    let l = log.clone();
    let mut co = coroutine!((), u32, (); |y, ()| {
        let _root = l.noisy("root");
        call!(level1(y, &l));
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(3));
    co.close().unwrap();
    assert_eq!(
        log.entries(),
        [
            "level3",
            "level2.2",
            "level2.boxed",
            "level2.1",
            "level1.vec0",
            "level1.vec1",
            "root",
        ]
    );
}

// A coroutine closed from inside another one: the closer is `Normal` while
// the closed coroutine's destructors run, and `Running` again afterwards.
#[test]
fn closer_is_normal_during_close() {
    let log = Log::new();
    let l = log.clone();
    let mut outer = coroutine!((), (), (); |_, ()| {
        let me = coro::running().unwrap();
        let l2 = l.clone();
        let me2 = me.clone();
        let mut inner = coroutine!((), (), (); |y, ()| {
            let _probe = Probe {
                log: l2,
                watched: Some(me2),
            };
            suspend!(y, ());
        });
        inner.resume(()).unwrap();
        assert_eq!(inner.status(), Status::Suspended);
        inner.close().unwrap();
        l.push(format!("after={}", me.status()));
        assert_eq!(coro::running(), Some(me));
    });
    outer.resume(()).unwrap();
    assert_eq!(outer.status(), Status::Dead);
    assert_eq!(
        log.entries(),
        [
            "is_yieldable=false",
            "suspend=attempt to yield across a C-call boundary",
            "across_boundary=true",
            // The probe watches the closer.
            "watched=normal",
            "after=running",
        ]
    );
}

// Closing a coroutine whose locals include other suspended coroutines closes
// those too, each one's destructors in order.
#[test]
fn close_cascades_into_owned_coroutines() {
    let log = Log::new();
    let make_inner = |name: &'static str, log: Log| {
        let mut inner = coroutine!((), (), (); |y, ()| {
            let _x = log.noisy(format!("{name}.x"));
            let _y = log.noisy(format!("{name}.y"));
            suspend!(y, ());
        });
        inner.resume(()).unwrap();
        inner
    };
    let l = log.clone();
    let mut outer = coroutine!((), (), (); |y, ()| {
        let _a = l.noisy("outer.a");
        let _first = make_inner("first", l.clone());
        let _b = l.noisy("outer.b");
        let _second = make_inner("second", l.clone());
        suspend!(y, ());
    });
    outer.resume(()).unwrap();
    assert!(log.is_empty());
    outer.close().unwrap();
    assert_eq!(
        log.entries(),
        [
            "second.y", "second.x", "outer.b", "first.y", "first.x", "outer.a"
        ]
    );
}

// Lua scenario 26: a chain of 1000 coroutines, each holding the previous one
// suspended; closing the last closes all of them, each from a destructor of
// the next, in order. Lua stops this chain with "C stack overflow"; closing
// is not a resume, so coro completes it, and the thread's chain of active
// coroutines is back to empty afterwards.
//
// The closes nest a thousand deep on the closer's stack (under 2 KiB each in
// a debug build on x86_64, 2 to 3 KiB on aarch64), more than a test thread's
// default 2 MiB holds everywhere: the chain runs on a thread of its own.
#[test]
fn chain_of_a_thousand_closes() {
    std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(close_a_chain_of_a_thousand)
        .unwrap()
        .join()
        .unwrap();
}

fn close_a_chain_of_a_thousand() {
    const N: usize = 1000;
    // `coro::MIN_STACK_SIZE`, which exists only where the stackful backend
    // does.
    const SMALLEST_STACK: usize = 16 * 1024;
    let log = Log::new();
    let mut previous: Option<Coroutine> = None;
    for k in 0..N {
        let l = log.clone();
        let held = previous.take();
        let mut co = coroutine!(stack: SMALLEST_STACK; (), (), (); |y, ()| {
            let _held = held;
            let _me = l.noisy(k.to_string());
            suspend!(y, ());
        });
        co.resume(()).unwrap();
        previous = Some(co);
    }
    let mut last = previous.unwrap();
    last.close().unwrap();
    let expected: Vec<String> = (0..N).rev().map(|k| k.to_string()).collect();
    assert_eq!(log.entries(), expected);
    assert!(coro::running().is_none());

    // Nesting still works from the top: the depth bookkeeping is intact.
    let mut a = coroutine!((), (), bool; |_, ()| {
        let mut b = coroutine!((), (), bool; |_, ()| {
            coro::running().is_some() && coro::is_yieldable() == BODY_IS_YIELDABLE
        });
        b.resume(()).unwrap().returned().unwrap()
    });
    assert_eq!(a.resume(()).unwrap(), Resumed::Return(true));
}

// Lua lets a `__close` handler resume another coroutine, which may yield to
// it. A destructor run by `close` resumes a second coroutine that is neither
// being closed nor unwinding: that one can suspend normally.
#[test]
fn destructor_during_close_can_drive_another_coroutine() {
    struct Driver {
        other: Rc<RefCell<Coroutine<(), u32, u32>>>,
        got: Rc<RefCell<Vec<String>>>,
    }
    impl Drop for Driver {
        fn drop(&mut self) {
            let mut other = self.other.borrow_mut();
            for _ in 0..3 {
                let text = match other.resume(()) {
                    Ok(r) => format!("{r:?}"),
                    Err(e) => format!("error: {e}"),
                };
                self.got.borrow_mut().push(text);
            }
        }
    }
    let other = Rc::new(RefCell::new(coroutine!((), u32, u32; |y, ()| {
        suspend!(y, 1);
        suspend!(y, 2);
        3
    })));
    let got = Rc::new(RefCell::new(Vec::new()));
    let (o, g) = (other.clone(), got.clone());
    let mut co = coroutine!((), (), (); |y, ()| {
        let _driver = Driver { other: o, got: g };
        suspend!(y, ());
    });
    co.resume(()).unwrap();
    co.close().unwrap();
    assert_eq!(*got.borrow(), ["Yield(1)", "Yield(2)", "Return(3)"]);
}

// Lua scenario 25: coroutines left suspended until their thread ends are
// fine: the one in a local and the one in a thread-local are both destroyed,
// their destructors run, before `join` returns.
#[test]
fn coroutines_left_suspended_at_thread_exit() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct CountDrop(Arc<AtomicUsize>);
    impl Drop for CountDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    thread_local! {
        static KEPT: RefCell<Option<Coroutine>> = const { RefCell::new(None) };
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    std::thread::spawn(move || {
        let suspended = |counter: Arc<AtomicUsize>| {
            let mut co = coroutine!((), (), (); |y, ()| {
                let _c = CountDrop(counter);
                suspend!(y, ());
            });
            co.resume(()).unwrap();
            co
        };
        let _local = suspended(d.clone());
        KEPT.with(|k| *k.borrow_mut() = Some(suspended(d)));
    })
    .join()
    .unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

// A suspended coroutine dropped by a panic unwinding its owner's stack (the
// most common way a coroutine is dropped on an error path): its destructors
// run, the owner's panic goes on to its `catch_unwind`, and nothing aborts.
// In a child process, since a failure here could abort.
#[test]
fn suspended_coroutine_dropped_during_a_panic() {
    let name = test_path(module_path!(), "suspended_coroutine_dropped_during_a_panic");
    if common::is_child(&name) {
        let log = Log::new();
        let l = log.clone();
        let caught = panic::catch_unwind(AssertUnwindSafe(move || {
            let mut co = coroutine!((), (), (); |y, ()| {
                let _a = l.noisy("a");
                let _b = l.noisy("b");
                suspend!(y, ());
            });
            co.resume(()).unwrap();
            panic!("owner fails");
        }));
        let message = caught.unwrap_err().downcast::<&str>().map(|s| *s);
        println!("caught={message:?} log={:?}", log.entries());
        return;
    }
    let output = common::run_child(&name);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(r#"caught=Ok("owner fails") log=["b", "a"]"#),
        "{}",
        common::describe(&output)
    );
}

// The same inside a coroutine: the body owns a suspended coroutine and
// panics; the inner one is closed during that unwind, and the outer
// resumer gets the outer panic.
#[test]
fn owned_coroutine_closed_while_the_owner_panics() {
    let name = test_path(
        module_path!(),
        "owned_coroutine_closed_while_the_owner_panics",
    );
    if common::is_child(&name) {
        let log = Log::new();
        let l = log.clone();
        let mut outer = coroutine!((), (), (); |_, ()| {
            let l2 = l.clone();
            let mut inner = coroutine!((), (), (); |y, ()| {
                let _x = l2.noisy("inner");
                suspend!(y, ());
            });
            inner.resume(()).unwrap();
            let _o = l.noisy("outer");
            panic!("outer fails");
        });
        let err = outer.resume(()).unwrap_err();
        println!("err={err} log={:?}", log.entries());
        return;
    }
    let output = common::run_child(&name);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(r#"err=outer fails log=["outer", "inner"]"#),
        "{}",
        common::describe(&output)
    );
}

// Lua: a `__close` run by `coroutine.close` cannot yield. Here: the
// destructors of a never-started body run with that body's coroutine
// entered and closing, so they cannot suspend the coroutine that called
// `close` either: the free suspend fails with AcrossBoundary there, and the
// closer runs on to its end instead of being suspended in the middle of the
// close. During the close, the never-started coroutine is the running one
// and the closer is `Normal`.
#[test]
fn destructor_of_a_never_started_body_cannot_suspend_the_closer() {
    let log = Log::new();
    let l = log.clone();
    let mut closer = coroutine!((), (), (); |_, ()| {
        let probe = Probe {
            log: l.clone(),
            watched: coro::running(),
        };
        let mut never_started = coroutine!((), (), (); |_, ()| {
            let _keep = &probe;
        });
        let closed = never_started.close();
        l.push(format!("close ok={}", closed.is_ok()));
    });
    let result = closer.resume(());
    assert!(
        matches!(result, Ok(Resumed::Return(()))),
        "the closer must run to its end, got {result:?}; log: {:?}",
        log.entries()
    );
    assert_eq!(
        log.entries(),
        [
            "is_yieldable=false",
            "suspend=attempt to yield across a C-call boundary",
            "across_boundary=true",
            // The probe watches the closer.
            "watched=normal",
            "close ok=true",
        ]
    );
}

// A never-started coroutine being closed is entered like a started one:
// its body's destructors see it `Running` as `coro::running()`.
#[test]
fn never_started_body_is_running_while_closed() {
    /// What the body's destructor saw: `running()` and its status.
    type Seen = Rc<RefCell<Option<(Option<Handle>, Status)>>>;
    struct Observe(Seen);
    impl Drop for Observe {
        fn drop(&mut self) {
            let me = coro::running();
            let status = me.as_ref().map_or(Status::Dead, Handle::status);
            *self.0.borrow_mut() = Some((me, status));
        }
    }
    let seen: Seen = Rc::default();
    let observe = Observe(seen.clone());
    let mut co = coroutine!((), (), (); |_, ()| {
        let _keep = &observe;
    });
    let handle = co.handle();
    co.close().unwrap();
    let (me, status) = seen.borrow_mut().take().expect("the capture was dropped");
    assert_eq!(me, Some(handle));
    assert_eq!(status, Status::Running);
    assert!(coro::running().is_none());
}
