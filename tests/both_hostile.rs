//! Attacks from safe code, each on a promise of the docs: every one must end
//! in a clear `Error`, a documented panic or abort (in a child process), or
//! a compile error, never in undefined behaviour. They run under Valgrind
//! (`scripts/valgrind both_hostile`) and AddressSanitizer (`scripts/asan
//! both_hostile`) too.
//!
//! The attacks of the reliability issue, and where each is made:
//!
//! | attack | where |
//! | --- | --- |
//! | values leaked out of a dead coroutine | `values_leaked_out_of_a_dead_coroutine_stay_whole`, `a_panic_payload_outlives_its_coroutine`; closures: conformance `generators::yielded_closure_outlives_its_coroutine`, `errors::dead_coroutine_leaves_closures_it_made_intact` |
//! | a stackful `Yielder` kept past the body's end | a compile error: the `compile_fail` doctests of `coro::Yielder` (not `'static`, not `Send`) |
//! | a stackless `Yielder` kept past the body's end, used by another coroutine | `a_dead_coroutines_yielder_used_by_another` (both kinds of thief), `a_suspended_coroutines_yielder_used_by_another` |
//! | ... or on the thread's own stack | tests/stackless_other_futures.rs `suspension_polled_by_hand_outside_any_coroutine_panics` (suspended and dead) |
//! | a parked suspension kept outside the frame | tests/stackless_parked_outside.rs (looked at); `a_parked_suspension_dropped_from_outside_between_resumes` (dropped) |
//! | cycles of resumes through shared cells | `a_cycle_of_resumes_is_refused`; a destructor reaching its own coroutine: `a_destructor_cannot_reach_its_own_coroutine` |
//! | `mem::forget` of suspended coroutines and iterators, then thread exit | `forgotten_suspended_coroutines_at_thread_exit`, `many_threads_forget_coroutines_at_once` |
//! | destructors that suspend during `close` | conformance `close::suspend_refused_during_close` (free suspend), tests/stackful_close.rs (`Yielder::suspend`: abort), tests/stackless_close.rs `suspension_polled_by_a_destructor_during_close`; the refusal caught: `a_destructor_catches_its_refused_suspension` |
//! | ... during a caught panic | conformance `during_unwind::no_suspension_from_a_destructor_during_a_panic`; the refusal caught: `a_destructor_catches_its_refused_suspension` |
//! | destructors that resume another coroutine during `close` or a caught panic | conformance `close::destructor_during_close_can_drive_another_coroutine`, `during_unwind::generator_driven_from_a_destructor_during_a_caught_panic`; its free suspend: `the_free_suspend_in_a_coroutine_resumed_while_another_closes` |
//! | destructors that resume *this* coroutine | `a_destructor_cannot_reach_its_own_coroutine` |
//! | destructors that panic during `close` | tests/stackful_close.rs (abort), tests/stackless_close.rs (`Error::Panic`), tests/both_panicking_payloads.rs |
//! | ... during a caught panic | `a_panicking_destructor_during_a_caught_panic_aborts` |
//! | zero-sized and uninhabited values | `zero_sized_values_with_destructors_are_dropped_once`, `uninhabited_types`; conformance `values::unit_types` |
//! | huge values | `huge_values_cross_both_ways`; 4 KiB: conformance `values::large_values_keep_every_byte`; huge captures: tests/stackful_builder.rs |
//! | types with padding | `values_with_padding_and_niches_cross_bit_exact`; conformance `values::values_around_a_word_keep_every_byte` |
//! | the free suspend on a thread's stack | conformance `model::outside_coroutine_on_the_main_stack`, tests/stackless_boundary.rs; in a thread-local's destructor: `the_free_suspend_at_thread_exit` |
//! | ... in a stackless body | tests/stackless_boundary.rs, tests/both_mixed.rs |
//! | ... with the wrong types | tests/stackful_free_suspend.rs |
//! | ... during `close`, from a destructor run by it | conformance `close::suspend_refused_during_close`, `close::suspend_refused_during_drop`, `close::destructor_of_a_never_started_body_cannot_suspend_the_closer`; values dropped on the closer's side: `the_free_suspend_from_values_a_closing_body_leaves` |
//! | ... during a panic's unwind | conformance `during_unwind`; from the panic hook: `the_free_suspend_from_a_panic_hook_is_refused` |
//! | coroutines created and dropped across many threads at once | `many_threads_create_resume_and_drop_coroutines_at_once`, `many_threads_forget_coroutines_at_once`; conformance `many` |

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use common::{Log, SendCounter, Tracked, Tracker};
use coro::stackless::{self, Yielder};
use coro::{Error, Resume, Resumed, Status};

/// A stackless coroutine of `()` types.
type Plain = stackless::Coroutine<(), (), ()>;

/// A shared slot for a value one body hands to another.
type Shared<T> = Rc<RefCell<Option<T>>>;

/// The documented panic of a suspension awaited outside its own coroutine's
/// body, as the resume of the body that did it reports it.
fn is_outside_its_resume(err: &Error) -> bool {
    matches!(err, Error::Panic(payload)
        if payload.message() == "a stackless coroutine's suspension was awaited outside its own resume")
}

// A stackless body hands its `Yielder` out and finishes; another coroutine
// then awaits a suspension of that dead coroutine's yielder. That panics,
// as documented, and the other coroutine's resume returns the panic: the
// dead coroutine stays dead, nothing parks anywhere.
#[test]
fn a_dead_coroutines_yielder_used_by_another() {
    let stash: Shared<Yielder<(), ()>> = Rc::default();
    let s = stash.clone();
    let mut first = Plain::new(move |y, ()| async move {
        *s.borrow_mut() = Some(y);
    });
    assert_eq!(first.resume(()).unwrap(), Resumed::Return(()));
    assert_eq!(first.status(), Status::Dead);
    let s = stash.clone();
    let mut second = Plain::new(move |_, ()| async move {
        let stolen = s.borrow_mut().take().expect("the first body left it");
        stolen.suspend(()).await;
    });
    let err = second.resume(()).unwrap_err();
    assert!(is_outside_its_resume(&err), "{err:?}");
    assert_eq!(second.status(), Status::Dead);
    assert!(coro::running().is_none());

    // A stackful thief polls the dead coroutine's suspension by hand: the
    // same panic, returned by the thief's resume.
    #[cfg(coro_stackful)]
    {
        let s = stash.clone();
        let mut first = Plain::new(move |y, ()| async move {
            *s.borrow_mut() = Some(y);
        });
        first.resume(()).unwrap();
        let s = stash.clone();
        let mut thief = coro::Coroutine::<(), (), ()>::new(move |_, ()| {
            let stolen = s.borrow_mut().take().expect("the first body left it");
            let mut suspension = Box::pin(stolen.suspend(()));
            let _ = std::future::Future::poll(
                suspension.as_mut(),
                &mut std::task::Context::from_waker(std::task::Waker::noop()),
            );
        });
        let err = thief.resume(()).unwrap_err();
        assert!(is_outside_its_resume(&err), "{err:?}");
        assert_eq!(thief.status(), Status::Dead);
        assert_eq!(first.status(), Status::Dead);
    }
}

// The same while the yielder's coroutine is still suspended: the thief's
// resume returns the panic; the owner is untouched and still resumable.
#[test]
fn a_suspended_coroutines_yielder_used_by_another() {
    let stash: Shared<Rc<Yielder<u32, u32>>> = Rc::default();
    let s = stash.clone();
    let mut owner = stackless::Coroutine::<u32, u32, u32>::new(move |y, first| async move {
        let y = Rc::new(y);
        *s.borrow_mut() = Some(y.clone());
        let second = y.suspend(first + 1).await;
        second * 10
    });
    assert_eq!(owner.resume(1).unwrap(), Resumed::Yield(2));
    let s = stash.clone();
    let mut thief = Plain::new(move |_, ()| async move {
        let stolen = s.borrow_mut().take().expect("the owner left it");
        let _ = stolen.suspend(99).await;
    });
    let err = thief.resume(()).unwrap_err();
    assert!(is_outside_its_resume(&err), "{err:?}");
    assert_eq!(owner.status(), Status::Suspended);
    assert_eq!(owner.resume(4).unwrap(), Resumed::Return(40));
}

// A cycle of resumes through shared cells: the outer coroutine lives in a
// `RefCell`, and the inner one, which it resumes, tries to resume it back.
// Resuming takes `&mut`, which the outer resume holds for as long as it
// runs: the cell refuses the second borrow, so from safe code a cycle ends
// at the borrow, never in a coroutine resumed twice. Both backends.
#[test]
fn a_cycle_of_resumes_is_refused() {
    let cell: Shared<stackless::Coroutine<(), (), bool>> = Rc::default();
    let c = cell.clone();
    *cell.borrow_mut() = Some(stackless::Coroutine::new(move |_, ()| async move {
        let c2 = c.clone();
        let mut inner = stackless::Coroutine::<(), (), bool>::new(move |_, ()| async move {
            // Resuming the outer coroutine back needs the cell.
            c2.try_borrow_mut().is_err()
        });
        inner.resume(()).unwrap().returned().unwrap()
    }));
    let refused = cell.borrow_mut().as_mut().unwrap().resume(()).unwrap();
    assert_eq!(refused, Resumed::Return(true));

    #[cfg(coro_stackful)]
    {
        let cell: Shared<coro::Coroutine<(), (), (bool, Status)>> = Rc::default();
        let c = cell.clone();
        *cell.borrow_mut() = Some(coro::Coroutine::new(move |_, ()| {
            let me = coro::running().expect("inside");
            let c2 = c.clone();
            let mut inner = coro::Coroutine::<(), (), (bool, Status)>::new(move |_, ()| {
                (c2.try_borrow_mut().is_err(), me.status())
            });
            inner.resume(()).unwrap().returned().unwrap()
        }));
        let seen = cell.borrow_mut().as_mut().unwrap().resume(()).unwrap();
        // Refused, and the outer coroutine reads normal from inside the inner.
        assert_eq!(seen, Resumed::Return((true, Status::Normal)));
    }
}

// A handle outlives its coroutine, whose stack (stackful) or frame
// (stackless) is then reused by a new coroutine: the handle still tells the
// old one is dead, and the new one has a different id.
#[test]
fn a_handle_outlives_its_coroutine_and_its_memory() {
    let mut old = Plain::new(|_, ()| async {});
    let handle = old.handle();
    old.resume(()).unwrap();
    drop(old);
    let new = Plain::new(|_, ()| async {});
    assert_eq!(handle.status(), Status::Dead);
    assert_ne!(handle.id(), new.handle().id());
    assert_ne!(handle, new.handle());

    #[cfg(coro_stackful)]
    {
        let mut old = coro::Coroutine::<(), (), ()>::new(|_, ()| {});
        let handle = old.handle();
        old.resume(()).unwrap();
        drop(old);
        // Takes the stack the old one gave back to the pool.
        let mut new = coro::Coroutine::<(), (), ()>::new(|y, ()| y.suspend(()));
        new.resume(()).unwrap();
        assert_eq!(handle.status(), Status::Dead);
        assert_eq!(new.status(), Status::Suspended);
        assert_ne!(handle, new.handle());
    }
}

// `mem::forget` of suspended coroutines and of iterators over them, then the
// thread exits: nothing runs, nothing crashes, the process goes on. In a
// child process: forgetting leaks by design, which a leak checker reports.
#[test]
fn forgotten_suspended_coroutines_at_thread_exit() {
    const NAME: &str = "forgotten_suspended_coroutines_at_thread_exit";
    if common::is_child(NAME) {
        std::thread::spawn(|| {
            let dropped = Rc::new(RefCell::new(0));
            struct Counts(Rc<RefCell<u32>>);
            impl Drop for Counts {
                fn drop(&mut self) {
                    *self.0.borrow_mut() += 1;
                }
            }
            let d = dropped.clone();
            let mut co = Plain::new(move |y, ()| async move {
                let _c = Counts(d);
                y.suspend(()).await;
            });
            co.resume(()).unwrap();
            std::mem::forget(co);
            let d = dropped.clone();
            let mut iter = stackless::Coroutine::<(), u8, ()>::new(move |y, ()| async move {
                let _c = Counts(d);
                loop {
                    y.suspend(1).await;
                }
            })
            .into_iter();
            assert_eq!(iter.next(), Some(1));
            std::mem::forget(iter);
            #[cfg(coro_stackful)]
            {
                let d = dropped.clone();
                let mut co = coro::Coroutine::<(), (), ()>::new(move |y, ()| {
                    let _c = Counts(d);
                    y.suspend(());
                });
                co.resume(()).unwrap();
                std::mem::forget(co);
                let d = dropped.clone();
                let mut iter = coro::Coroutine::<(), u8, ()>::new(move |y, ()| {
                    let _c = Counts(d);
                    loop {
                        y.suspend(1);
                    }
                })
                .into_iter();
                assert_eq!(iter.next(), Some(1));
                std::mem::forget(iter);
            }
            // Forgotten: their locals are never dropped.
            assert_eq!(*dropped.borrow(), 0);
        })
        .join()
        .unwrap();
        let mut after = Plain::new(|_, ()| async {});
        println!("after={:?}", after.resume(()));
        // Forgetting leaks by design: leave without the exit handlers, where
        // a leak checker (LeakSanitizer) would report it.
        use std::io::Write;
        std::io::stdout().flush().unwrap();
        // SAFETY: ends this child process at once; nothing else runs.
        unsafe { libc::_exit(0) };
    }
    let output = common::run_child(NAME);
    assert!(output.status.success(), "{}", common::describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("after=Ok(Return(()))"), "{stdout}");
}

// ---- values leaked out of a dead coroutine --------------------------------

/// What a body hands out before it dies.
enum Loot {
    Value(Tracked),
    Closure(Box<dyn Fn() -> String>),
}

/// A coroutine of either backend that hands out loot.
type Looter = Box<dyn Resume<(), Yield = Loot, Return = (Tracked, String)>>;

/// Takes everything `co` hands out, lets it die, has its memory reused by
/// `scribble`, and checks that the loot, and what the body left in `stash`,
/// is whole and is dropped exactly once.
fn plunder(mut co: Looter, tracker: &Tracker, stash: &Rc<RefCell<Vec<Tracked>>>, scribble: fn()) {
    let Resumed::Yield(Loot::Value(first)) = co.resume(()).unwrap() else {
        panic!("a value first");
    };
    let Resumed::Yield(Loot::Closure(speak)) = co.resume(()).unwrap() else {
        panic!("a closure next");
    };
    let Resumed::Return((last, words)) = co.resume(()).unwrap() else {
        panic!("then the end");
    };
    assert_eq!(co.status(), Status::Dead);
    assert!(matches!(co.resume(()), Err(Error::Dead)));
    drop(co);
    // New coroutines take the dead one's stack or heap blocks and fill them.
    scribble();
    assert_eq!(
        stash.borrow().iter().map(Tracked::id).collect::<Vec<_>>(),
        [0]
    );
    assert_eq!(first.id(), 1);
    assert_eq!(speak(), "said by 2, still 2");
    assert_eq!(last.id(), 3);
    assert_eq!(words, "the last word ".repeat(20));
    assert_eq!(tracker.made(), 4);
    assert_eq!(tracker.alive(), 4);
    drop((first, speak, last));
    stash.borrow_mut().clear();
    tracker.assert_all_dropped_once();
}

/// The closure a looting body yields: it owns a tracked value and a text
/// made from it.
fn speech(captured: Tracked) -> Box<dyn Fn() -> String> {
    let words = format!("said by {}", captured.id());
    Box::new(move || format!("{words}, still {}", captured.id()))
}

// Values a body yields, returns, captures into closures or leaves in a
// shared cell outlive the coroutine whole, even once its stack or frame
// serves a new coroutine, and each is dropped exactly once.
#[test]
fn values_leaked_out_of_a_dead_coroutine_stay_whole() {
    let tracker = Tracker::new();
    let stash: Rc<RefCell<Vec<Tracked>>> = Rc::default();
    let (t, s) = (tracker.clone(), stash.clone());
    let co = stackless::Coroutine::new(move |y: Yielder<(), Loot>, ()| async move {
        s.borrow_mut().push(t.make());
        y.suspend(Loot::Value(t.make())).await;
        y.suspend(Loot::Closure(speech(t.make()))).await;
        (t.make(), "the last word ".repeat(20))
    });
    plunder(Box::new(co), &tracker, &stash, || {
        let filled: Vec<_> = (0..8)
            .map(|_| {
                let mut co = Plain::new(|y, ()| async move {
                    let junk = [0xa5_u8; 512];
                    y.suspend(()).await;
                    assert!(junk.iter().all(|&b| b == 0xa5));
                });
                co.resume(()).unwrap();
                co
            })
            .collect();
        drop(filled);
    });

    #[cfg(coro_stackful)]
    {
        let tracker = Tracker::new();
        let stash: Rc<RefCell<Vec<Tracked>>> = Rc::default();
        let (t, s) = (tracker.clone(), stash.clone());
        let co = coro::Coroutine::new(move |y: &coro::Yielder<(), Loot>, ()| {
            s.borrow_mut().push(t.make());
            y.suspend(Loot::Value(t.make()));
            y.suspend(Loot::Closure(speech(t.make())));
            (t.make(), "the last word ".repeat(20))
        });
        plunder(Box::new(co), &tracker, &stash, || {
            // The pool hands the dead coroutine's stack to the next one.
            let mut co = coro::Coroutine::<(), (), ()>::new(|y, ()| {
                let junk = std::hint::black_box([0xa5_u8; 64 * 1024]);
                y.suspend(());
                assert!(junk.iter().all(|&b| b == 0xa5));
            });
            co.resume(()).unwrap();
            co.resume(()).unwrap();
        });
    }
}

// A panic's payload is the last thing a dying body hands out: it comes back
// whole inside `Error::Panic` after the coroutine and its memory are gone,
// and is dropped once, when the error is.
#[test]
fn a_panic_payload_outlives_its_coroutine() {
    fn check(err: Error, counter: &SendCounter) {
        let Error::Panic(payload) = err else {
            panic!("expected a panic, got {err:?}");
        };
        assert_eq!(counter.drops(), 0);
        let (token, text) = *payload
            .downcast::<(common::SendToken, String)>()
            .expect("the payload's own type");
        assert_eq!(text, "carried out ".repeat(10));
        assert_eq!(counter.drops(), 0);
        drop(token);
        assert_eq!(counter.drops(), 1);
    }
    let counter = SendCounter::new();
    let c = counter.clone();
    let mut co = Plain::new(move |y, ()| async move {
        y.suspend(()).await;
        panic::panic_any((c.token(), "carried out ".repeat(10)));
    });
    co.resume(()).unwrap();
    let err = co.resume(()).unwrap_err();
    drop(co);
    let mut reuse = Plain::new(|_, ()| async {
        std::hint::black_box([0x5a_u8; 256]);
    });
    reuse.resume(()).unwrap();
    check(err, &counter);

    #[cfg(coro_stackful)]
    {
        let counter = SendCounter::new();
        let c = counter.clone();
        let mut co = coro::Coroutine::<(), (), ()>::new(move |y, ()| {
            y.suspend(());
            panic::panic_any((c.token(), "carried out ".repeat(10)));
        });
        co.resume(()).unwrap();
        let err = co.resume(()).unwrap_err();
        drop(co);
        let mut reuse = coro::Coroutine::<(), (), ()>::new(|_, ()| {
            std::hint::black_box([0x5a_u8; 64 * 1024]);
        });
        reuse.resume(()).unwrap();
        check(err, &counter);
    }
}

// ---- destructors against their own coroutine ------------------------------

/// A coroutine of either backend, of `()` types.
type AnyPlain = Box<dyn Resume<(), Yield = (), Return = ()>>;

/// A coroutine of either backend, of `()` types, behind a cell.
type Slot = Rc<RefCell<Option<AnyPlain>>>;

/// Tries, when dropped, to resume (or else close) the coroutine in `slot`,
/// the one whose body owns it, and logs how far it got and what
/// `coro::running()` said.
struct Reach {
    slot: Slot,
    log: Log,
}

impl Drop for Reach {
    fn drop(&mut self) {
        let reached = match self.slot.try_borrow_mut() {
            Err(_) => "borrowed".to_string(),
            Ok(mut slot) => match slot.as_mut() {
                None => "empty".to_string(),
                Some(co) => format!("reached it: {:?} {:?}", co.resume(()), co.close()),
            },
        };
        let running = coro::running().map(|me| (me.id(), me.status()));
        self.log.push(format!("{reached}, running {running:?}"));
    }
}

/// Runs the attacks of `a_destructor_cannot_reach_its_own_coroutine` on the
/// coroutines `make` makes: one whose body holds the `Reach` it is given
/// across a suspension, and then, resumed again, catches a panic that
/// drops a second one.
fn reach_own(make: fn(Reach, Reach) -> AnyPlain) {
    let slot: Slot = Rc::default();
    // Closed through the cell, dropped in place in it, taken out of it and
    // then dropped, and resumed through it into a caught panic.
    for how in ["close", "drop in place", "take and drop", "caught panic"] {
        let log = Log::new();
        let reach = || Reach {
            slot: slot.clone(),
            log: log.clone(),
        };
        let co = make(reach(), reach());
        let id = co.handle().id();
        *slot.borrow_mut() = Some(co);
        slot.borrow_mut().as_mut().unwrap().resume(()).unwrap();
        let handle = slot.borrow().as_ref().unwrap().handle();
        let reached = match how {
            "close" => {
                slot.borrow_mut().as_mut().unwrap().close().unwrap();
                "borrowed"
            }
            "drop in place" => {
                *slot.borrow_mut() = None;
                "borrowed"
            }
            "take and drop" => {
                let co = slot.borrow_mut().take();
                drop(co);
                "empty"
            }
            _ => {
                let resumed = slot.borrow_mut().as_mut().unwrap().resume(());
                assert_eq!(resumed.unwrap(), Resumed::Yield(()), "{how}");
                assert_eq!(handle.status(), Status::Suspended);
                let co = slot.borrow_mut().take();
                drop(co);
                "borrowed"
            }
        };
        // The body's own `Reach` and the one still in its closure (which
        // the caught panic drops instead, then the test's emptying of the
        // cell the other).
        let running = Some((id, Status::Running));
        let mut expected = vec![format!("{reached}, running {running:?}"); 2];
        if how == "caught panic" {
            expected[1] = format!("empty, running {running:?}");
        }
        assert_eq!(log.entries(), expected, "{how}");
        assert_eq!(handle.status(), Status::Dead, "{how}");
    }
    assert!(coro::running().is_none());
}

// A destructor run by `close`, by a drop, or by a panic the body catches
// tries to resume the very coroutine whose body owns it, through the cell
// the coroutine is kept in: the cell is borrowed by the close, drop or
// resume under way, or already empty, so safe code never reaches a
// coroutine that is running (it reads Running from `coro::running()`).
#[test]
fn a_destructor_cannot_reach_its_own_coroutine() {
    reach_own(|first, second| {
        Box::new(Plain::new(move |y, ()| async move {
            let _first = first;
            y.suspend(()).await;
            let caught = panic::catch_unwind(AssertUnwindSafe(|| {
                let _second = second;
                panic!("caught in the body");
            }));
            assert!(caught.is_err());
            y.suspend(()).await;
        }))
    });
    #[cfg(coro_stackful)]
    reach_own(|first, second| {
        Box::new(coro::Coroutine::new(
            move |y: &coro::Yielder<(), ()>, ()| {
                let _first = first;
                y.suspend(());
                let caught = panic::catch_unwind(AssertUnwindSafe(|| {
                    let _second = second;
                    panic!("caught in the body");
                }));
                assert!(caught.is_err());
                y.suspend(());
            },
        ))
    });
}

/// The message of a caught panic.
fn message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("not a string")
}

/// Polls a stackless suspension once by hand, inside `catch_unwind`: what
/// came of it.
fn poll_by_hand(yielder: &Yielder<(), u8>, value: u8) -> String {
    let mut suspension = Box::pin(yielder.suspend(value));
    let polled = panic::catch_unwind(AssertUnwindSafe(|| {
        std::future::Future::poll(
            suspension.as_mut(),
            &mut std::task::Context::from_waker(std::task::Waker::noop()),
        )
    }));
    match polled {
        Ok(poll) => format!("{poll:?}"),
        Err(payload) => format!("panicked: {}", message(&*payload)),
    }
}

// A destructor that suspends where no suspension is possible — while
// `close` unwinds or drops the body, or while a panic the body catches
// unwinds it — and catches the refusal itself: the refusal is a panic it
// can catch (a stackful `Yielder::suspend` panics before switching), the
// close or the body then carries on as if nothing happened, and every
// local is dropped once.
#[test]
fn a_destructor_catches_its_refused_suspension() {
    /// Suspends through a shared stackless yielder when dropped.
    struct Sneaky(Rc<Yielder<(), u8>>, Log, #[allow(dead_code)] Tracked);
    impl Drop for Sneaky {
        fn drop(&mut self) {
            self.1.push(poll_by_hand(&self.0, 9));
            self.1
                .push(format!("free: {:?}", coro::suspend::<u8, ()>(8)));
        }
    }
    let (log, tracker) = (Log::new(), Tracker::new());
    let (l, t) = (log.clone(), tracker.clone());
    let mut co = stackless::Coroutine::new(move |y: Yielder<(), u8>, ()| async move {
        let y = Rc::new(y);
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let _sneaky = Sneaky(y.clone(), l.clone(), t.make());
            panic!("caught in the body");
        }));
        assert!(caught.is_err());
        let _sneaky = Sneaky(y.clone(), l, t.make());
        y.suspend(1).await;
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    // In the caught panic the body is still its resume's: the suspension
    // parks (and unparks when dropped); the free suspend is refused.
    assert_eq!(
        log.entries(),
        ["Pending", "free: Err(AcrossBoundary)"],
        "during the caught panic"
    );
    co.close().unwrap();
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(
        log.entries()[2..],
        [
            "panicked: a stackless coroutine's suspension was awaited outside its own resume",
            "free: Err(AcrossBoundary)"
        ]
    );
    tracker.assert_all_dropped_once();

    #[cfg(coro_stackful)]
    {
        /// Suspends through the stackful yielder it borrows when dropped.
        struct Suspends<'a>(&'a coro::Yielder<(), u8>, Log, #[allow(dead_code)] Tracked);
        impl Drop for Suspends<'_> {
            fn drop(&mut self) {
                let caught = panic::catch_unwind(AssertUnwindSafe(|| self.0.suspend(9)));
                self.1.push(match caught {
                    Ok(()) => "suspended".to_string(),
                    Err(payload) => format!("panicked: {}", message(&*payload)),
                });
                self.1
                    .push(format!("free: {:?}", coro::suspend::<u8, ()>(8)));
            }
        }
        let (log, tracker) = (Log::new(), Tracker::new());
        let (l, t) = (log.clone(), tracker.clone());
        let mut co = coro::Coroutine::new(move |y: &coro::Yielder<(), u8>, ()| {
            let caught = panic::catch_unwind(AssertUnwindSafe(|| {
                let _suspends = Suspends(y, l.clone(), t.make());
                panic!("caught in the body");
            }));
            assert!(caught.is_err());
            let _suspends = Suspends(y, l, t.make());
            y.suspend(1);
        });
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
        co.close().unwrap();
        assert_eq!(co.status(), Status::Dead);
        let refused = [
            "panicked: attempt to yield across a C-call boundary",
            "free: Err(AcrossBoundary)",
        ];
        assert_eq!(log.entries(), [refused, refused].concat());
        tracker.assert_all_dropped_once();
    }
}

/// Panics when dropped.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

// A destructor that panics while a panic the body caught is unwinding it:
// a panic during an unwind, which aborts the process in Rust (as the crate
// docs say), on a coroutine's stack or in a frame as anywhere else. Checked
// in a child process, once per backend; the child prints the destructor's
// message and Rust's.
#[test]
fn a_panicking_destructor_during_a_caught_panic_aborts() {
    const NAME: &str = "a_panicking_destructor_during_a_caught_panic_aborts";
    if common::is_child(NAME) {
        let body = || {
            let _ = panic::catch_unwind(|| {
                let _bomb = PanicOnDrop("the destructor's own panic");
                panic!("the caught panic");
            });
        };
        match common::child_arg().as_str() {
            "stackless" => {
                let mut co = Plain::new(move |_, ()| async move { body() });
                let _ = co.resume(());
            }
            #[cfg(coro_stackful)]
            "stackful" => {
                let mut co = coro::Coroutine::<(), (), ()>::new(move |_, ()| body());
                let _ = co.resume(());
            }
            other => panic!("no backend {other}"),
        }
        unreachable!("the unwind must abort");
    }
    let mut backends = vec!["stackless"];
    if cfg!(coro_stackful) {
        backends.push("stackful");
    }
    for backend in backends {
        let output = common::run_child_with(NAME, backend);
        let stderr = common::assert_aborted(&output);
        for said in [
            "the caught panic",
            "the destructor's own panic",
            "panic in a destructor during cleanup",
        ] {
            assert!(stderr.contains(said), "{backend}: {stderr}");
        }
    }
}

// ---- the free suspend from wrong places ------------------------------------

// A panic hook that calls the free `suspend`: the hook runs on the
// panicking coroutine's stack before the unwind, with the thread already
// panicking, so the suspension is refused (a suspension there would carry
// the panic count into the resumer); on the thread's own stack it is
// outside a coroutine. In a child process: the hook is the process's.
#[test]
fn the_free_suspend_from_a_panic_hook_is_refused() {
    const NAME: &str = "the_free_suspend_from_a_panic_hook_is_refused";
    if common::is_child(NAME) {
        panic::set_hook(Box::new(|info| {
            let said = info.payload().downcast_ref::<&str>().copied();
            println!(
                "hook for {said:?}: yieldable={} suspend={:?}",
                coro::is_yieldable(),
                coro::suspend::<u8, ()>(1)
            );
        }));
        let mut co = stackless::Coroutine::<(), u8, ()>::new(|y, ()| async move {
            y.suspend(0).await;
            panic!("stackless");
        });
        co.resume(()).unwrap();
        println!("resumed: {}", co.resume(()).unwrap_err());
        #[cfg(coro_stackful)]
        {
            let mut co = coro::Coroutine::<(), u8, ()>::new(|y, ()| {
                y.suspend(0);
                panic!("stackful");
            });
            co.resume(()).unwrap();
            println!("resumed: {}", co.resume(()).unwrap_err());
        }
        assert!(panic::catch_unwind(|| panic!("thread")).is_err());
        return;
    }
    let output = common::run_child(NAME);
    assert!(output.status.success(), "{}", common::describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut expected = vec![
        "hook for Some(\"stackless\"): yieldable=false suspend=Err(AcrossBoundary)",
        "resumed: stackless",
    ];
    if cfg!(coro_stackful) {
        expected.extend([
            "hook for Some(\"stackful\"): yieldable=false suspend=Err(AcrossBoundary)",
            "resumed: stackful",
        ]);
    }
    expected.push("hook for Some(\"thread\"): yieldable=false suspend=Err(OutsideCoroutine)");
    // (The first line the child prints follows libtest's "test ... ".)
    let said: Vec<&str> = stdout
        .lines()
        .filter_map(|line| {
            let at = line.find("hook for").or_else(|| line.find("resumed: "))?;
            Some(&line[at..])
        })
        .collect();
    assert_eq!(said, expected, "{stdout}");
}

/// What the free suspend said, in a destructor, on one thread.
type Heard = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Calls the free suspend when dropped and records what it said.
struct SuspendAtDrop(&'static str, Heard);

impl Drop for SuspendAtDrop {
    fn drop(&mut self) {
        let said = format!(
            "{}: running={} yieldable={} suspend={:?}",
            self.0,
            coro::running().is_some(),
            coro::is_yieldable(),
            coro::suspend::<(), ()>(())
        );
        self.1.lock().unwrap().push(said);
    }
}

thread_local! {
    static AT_EXIT: RefCell<Option<SuspendAtDrop>> = const { RefCell::new(None) };
    static KEPT_TILL_EXIT: RefCell<Vec<AnyPlain>> =
        const { RefCell::new(Vec::new()) };
}

// At thread exit, thread-local destructors run on the thread's own stack:
// there the free suspend is outside a coroutine; in the destructors of the
// bodies of coroutines kept in a thread-local, which its destructor closes,
// it is refused as in any close.
#[test]
fn the_free_suspend_at_thread_exit() {
    let heard: Heard = Default::default();
    let h = heard.clone();
    std::thread::spawn(move || {
        AT_EXIT.with(|at| *at.borrow_mut() = Some(SuspendAtDrop("thread-local", h.clone())));
        let watch = SuspendAtDrop("stackless body", h.clone());
        let mut co = Plain::new(move |y, ()| async move {
            let _watch = watch;
            y.suspend(()).await;
        });
        co.resume(()).unwrap();
        KEPT_TILL_EXIT.with(|kept| kept.borrow_mut().push(Box::new(co)));
        #[cfg(coro_stackful)]
        {
            let watch = SuspendAtDrop("stackful body", h);
            let mut co = coro::Coroutine::<(), (), ()>::new(move |y, ()| {
                let _watch = watch;
                y.suspend(());
            });
            co.resume(()).unwrap();
            KEPT_TILL_EXIT.with(|kept| kept.borrow_mut().push(Box::new(co)));
        }
    })
    .join()
    .unwrap();
    let mut heard = heard.lock().unwrap().clone();
    heard.sort();
    let mut expected = vec![
        "stackless body: running=true yieldable=false suspend=Err(AcrossBoundary)",
        "thread-local: running=false yieldable=false suspend=Err(OutsideCoroutine)",
    ];
    if cfg!(coro_stackful) {
        expected.insert(
            0,
            "stackful body: running=true yieldable=false suspend=Err(AcrossBoundary)",
        );
    }
    assert_eq!(heard, expected);
}

/// Calls the free suspend with its coroutine's types when dropped.
#[cfg(coro_stackful)]
struct TryOnDrop(&'static str, Log);

#[cfg(coro_stackful)]
impl Drop for TryOnDrop {
    fn drop(&mut self) {
        let said = coro::suspend::<Option<TryOnDrop>, ()>(None);
        let running = coro::running().map(|me| me.status());
        self.1
            .push(format!("{}: {said:?}, running {running:?}", self.0));
    }
}

// A stackful body catches the unwind of its close and then yields, or
// returns, a value whose destructor calls the free suspend with the
// coroutine's own types. `close` drops that value on the closer's stack
// while the coroutine still counts as closing: the suspension is refused
// (had it switched, it would have left from the closer's stack).
#[cfg(coro_stackful)]
#[test]
fn the_free_suspend_from_values_a_closing_body_leaves() {
    let log = Log::new();
    let l = log.clone();
    let mut co = coro::Coroutine::<(), Option<TryOnDrop>, ()>::new(move |y, ()| {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| y.suspend(None)));
        assert!(caught.is_err());
        y.suspend(Some(TryOnDrop("yielded", l)));
    });
    assert!(matches!(co.resume(()), Ok(Resumed::Yield(None))));
    let err = co.close().unwrap_err();
    assert_eq!(err.to_string(), "attempt to yield across a C-call boundary");
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(
        log.entries(),
        ["yielded: Err(AcrossBoundary), running Some(Running)"]
    );

    let log = Log::new();
    let l = log.clone();
    let mut co = coro::Coroutine::<(), Option<TryOnDrop>, TryOnDrop>::new(move |y, ()| {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| y.suspend(None)));
        assert!(caught.is_err());
        TryOnDrop("returned", l)
    });
    assert!(matches!(co.resume(()), Ok(Resumed::Yield(None))));
    co.close().unwrap();
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(
        log.entries(),
        ["returned: Err(AcrossBoundary), running Some(Running)"]
    );
}

/// While dropped, calls the free suspend with the types of the coroutine
/// being closed, then runs a stackful coroutine that calls it with the
/// closing one's types and with its own.
#[cfg(coro_stackful)]
struct DriveAtDrop(Log);

#[cfg(coro_stackful)]
impl Drop for DriveAtDrop {
    fn drop(&mut self) {
        self.0
            .push(format!("closing: {:?}", coro::suspend::<u32, ()>(1)));
        let mut inner = coro::Coroutine::<(), u8, String>::new(|_, ()| {
            let wrong = coro::suspend::<u32, ()>(2);
            let right = coro::suspend::<u8, ()>(3);
            let wrong = matches!(wrong, Err(Error::TypeMismatch { .. }));
            format!("mismatch {wrong}, then {right:?}")
        });
        for _ in 0..2 {
            self.0.push(format!("inner: {:?}", inner.resume(())));
        }
    }
}

// A destructor run by `close` resumes a stackful coroutine, which is not
// closing: there the free suspend works with that coroutine's own types,
// and with the closing one's it is a type mismatch (it suspends only the
// running coroutine); in the destructor itself, it is refused.
#[cfg(coro_stackful)]
#[test]
fn the_free_suspend_in_a_coroutine_resumed_while_another_closes() {
    let expected = [
        "closing: Err(AcrossBoundary)",
        "inner: Ok(Yield(3))",
        "inner: Ok(Return(\"mismatch true, then Ok(())\"))",
    ];
    let log = Log::new();
    let l = log.clone();
    let mut co = stackless::Coroutine::<(), u32, ()>::new(move |y, ()| async move {
        let _drive = DriveAtDrop(l);
        y.suspend(0).await;
    });
    co.resume(()).unwrap();
    co.close().unwrap();
    assert_eq!(log.entries(), expected, "stackless");

    let log = Log::new();
    let l = log.clone();
    let mut co = coro::Coroutine::<(), u32, ()>::new(move |y, ()| {
        let _drive = DriveAtDrop(l);
        y.suspend(0);
    });
    co.resume(()).unwrap();
    co.close().unwrap();
    assert_eq!(log.entries(), expected, "stackful");
}

// ---- a parked suspension kept outside the frame -----------------------------

type KeptSuspension = std::pin::Pin<Box<stackless::Suspend<'static, Tracked, u32>>>;

thread_local! {
    static KEPT: RefCell<Option<KeptSuspension>> = const { RefCell::new(None) };
}

// A body leaks its `Yielder` (safe `Box::leak`) to make a suspension that
// lives outside its frame, in a thread-local, and parks on it; between two
// resumes the code outside drops that suspension. The next resume has
// nobody to hand its input to: it fails with `NeedsExecutor`, the coroutine
// is dead, and its input and locals are dropped once.
#[test]
fn a_parked_suspension_dropped_from_outside_between_resumes() {
    let tracker = Tracker::new();
    let t = tracker.clone();
    let leaked: Rc<Cell<*const Yielder<Tracked, u32>>> = Rc::default();
    let l = leaked.clone();
    let mut co =
        stackless::Coroutine::new(move |y: Yielder<Tracked, u32>, first: Tracked| async move {
            let y: &'static Yielder<Tracked, u32> = Box::leak(Box::new(y));
            l.set(y);
            let _local = t.make();
            let parked = Box::pin(y.suspend(first.id() as u32 + 10));
            KEPT.with(|kept| *kept.borrow_mut() = Some(parked));
            let input = std::future::poll_fn(|cx| {
                KEPT.with(|kept| match kept.borrow_mut().as_mut() {
                    Some(parked) => parked.as_mut().poll(cx),
                    None => std::task::Poll::Pending,
                })
            })
            .await;
            input.id() as u32
        });
    assert_eq!(co.resume(tracker.make()).unwrap(), Resumed::Yield(10));
    assert_eq!(tracker.alive(), 2);
    KEPT.with(|kept| kept.borrow_mut().take());
    assert!(matches!(
        co.resume(tracker.make()),
        Err(Error::NeedsExecutor)
    ));
    assert_eq!(co.status(), Status::Dead);
    tracker.assert_all_dropped_once();
    drop(co);
    // SAFETY: made by `Box::leak` in the body, whose frame is gone; no
    // suspension borrows it any more. Freed only to keep leak checkers
    // quiet.
    drop(unsafe { Box::from_raw(leaked.get().cast_mut()) });
}

// ---- zero-sized, uninhabited, huge and padded values -----------------------

thread_local! {
    /// Ghosts made and dropped on this thread.
    static GHOSTS: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// A zero-sized value with a destructor: its drops are counted per thread.
#[derive(Debug)]
struct Ghost;

impl Ghost {
    fn new() -> Ghost {
        GHOSTS.with(|g| g.set((g.get().0 + 1, g.get().1)));
        Ghost
    }
}

impl Drop for Ghost {
    fn drop(&mut self) {
        GHOSTS.with(|g| g.set((g.get().0, g.get().1 + 1)));
    }
}

/// Runs a coroutine made by `make` (whose body keeps what it captures and
/// its first input, suspends twice with new ghosts and returns one) to its
/// end, leaves one suspended and one unstarted, and checks that every ghost
/// made was dropped exactly once.
fn haunt<C: Resume<Ghost, Yield = Ghost, Return = Ghost>>(make: impl Fn(Ghost) -> C) {
    let (made, dropped) = GHOSTS.with(Cell::get);
    let mut co = make(Ghost::new());
    assert!(matches!(co.resume(Ghost::new()), Ok(Resumed::Yield(Ghost))));
    assert!(matches!(co.resume(Ghost::new()), Ok(Resumed::Yield(Ghost))));
    assert!(matches!(
        co.resume(Ghost::new()),
        Ok(Resumed::Return(Ghost))
    ));
    assert!(matches!(co.resume(Ghost::new()), Err(Error::Dead)));
    drop(co);
    let mut co = make(Ghost::new());
    assert!(matches!(co.resume(Ghost::new()), Ok(Resumed::Yield(Ghost))));
    drop(co);
    drop(make(Ghost::new()));
    let (now_made, now_dropped) = GHOSTS.with(Cell::get);
    // 1 captured + 4 inputs + 2 yields + 1 return; 1 + 1 + 1; 1.
    assert_eq!(now_made - made, 12);
    assert_eq!(now_dropped - dropped, 12, "every ghost dropped once");
}

// Zero-sized values with destructors, as inputs, suspended values, returns
// and captures: nothing to copy, yet each is dropped exactly once, whether
// the coroutine ends, is dropped suspended or never starts.
#[test]
fn zero_sized_values_with_destructors_are_dropped_once() {
    assert_eq!(std::mem::size_of::<Ghost>(), 0);
    haunt(|kept| {
        stackless::Coroutine::new(move |y: Yielder<Ghost, Ghost>, first: Ghost| async move {
            let _kept = kept;
            let _first = first;
            let second = y.suspend(Ghost::new()).await;
            let _third = y.suspend(Ghost::new()).await;
            drop(second);
            Ghost::new()
        })
    });
    #[cfg(coro_stackful)]
    haunt(|kept| {
        coro::Coroutine::new(move |y: &coro::Yielder<Ghost, Ghost>, first: Ghost| {
            let _kept = kept;
            let _first = first;
            let second = y.suspend(Ghost::new());
            // The free suspend with zero-sized types, too.
            let _third = coro::suspend::<Ghost, Ghost>(Ghost::new()).unwrap();
            drop(second);
            Ghost::new()
        })
    });
}

// Uninhabited types: a coroutine whose input is `Infallible` can never be
// resumed, yet is made, reads suspended and is closed (its capture dropped,
// the body never run); one that can never suspend returns; one that can
// never return suspends until closed.
#[test]
fn uninhabited_types() {
    use std::convert::Infallible;

    let tracker = Tracker::new();
    let held = tracker.make();
    let mut co = stackless::Coroutine::<Infallible, u8, u8>::new(move |_, never| async move {
        let _held = held;
        match never {}
    });
    assert_eq!(co.status(), Status::Suspended);
    co.close().unwrap();
    assert_eq!(co.status(), Status::Dead);
    tracker.assert_all_dropped_once();
    let mut co = stackless::Coroutine::<(), Infallible, u8>::new(|_, ()| async { 5 });
    assert!(matches!(co.resume(()), Ok(Resumed::Return(5))));
    let mut co = stackless::Coroutine::<(), u8, Infallible>::new(|y, ()| async move {
        loop {
            y.suspend(1).await;
        }
    });
    assert!(matches!(co.resume(()), Ok(Resumed::Yield(1))));
    assert!(matches!(co.resume(()), Ok(Resumed::Yield(1))));
    co.close().unwrap();
    assert_eq!(co.status(), Status::Dead);

    #[cfg(coro_stackful)]
    {
        let held = tracker.make();
        let mut co = coro::Coroutine::<Infallible, u8, u8>::new(move |_, never| {
            let _held = held;
            match never {}
        });
        assert_eq!(co.status(), Status::Suspended);
        co.close().unwrap();
        assert_eq!(co.status(), Status::Dead);
        tracker.assert_all_dropped_once();
        let mut co = coro::Coroutine::<(), Infallible, u8>::new(|_, ()| 5);
        assert!(matches!(co.resume(()), Ok(Resumed::Return(5))));
        let mut co = coro::Coroutine::<(), u8, Infallible>::new(|y, ()| {
            loop {
                y.suspend(1);
            }
        });
        assert!(matches!(co.resume(()), Ok(Resumed::Yield(1))));
        assert!(matches!(co.resume(()), Ok(Resumed::Yield(1))));
        co.close().unwrap();
        assert_eq!(co.status(), Status::Dead);
    }
}

/// A mebibyte.
const HUGE: usize = 1 << 20;

type Huge = [u8; HUGE];

/// The byte at `i` of the huge value of `seed`.
fn huge_byte(i: usize, seed: u8) -> u8 {
    (i ^ (i >> 8) ^ (i >> 16)) as u8 ^ seed
}

/// A huge value, made on the stack.
fn huge(seed: u8) -> Huge {
    let mut value = [0; HUGE];
    for (i, b) in value.iter_mut().enumerate() {
        *b = huge_byte(i, seed);
    }
    value
}

/// A huge value, made on the heap without passing through the stack.
fn boxed_huge(seed: u8) -> Box<Huge> {
    let mut value: Box<Huge> = vec![0; HUGE].into_boxed_slice().try_into().unwrap();
    for (i, b) in value.iter_mut().enumerate() {
        *b = huge_byte(i, seed);
    }
    value
}

/// True if every byte of `value` is the huge value of `seed`'s.
fn is_huge(value: &Huge, seed: u8) -> bool {
    value
        .iter()
        .enumerate()
        .all(|(i, &b)| b == huge_byte(i, seed))
}

/// Asserts that `resumed` is the suspension (or return) of the huge value
/// of `seed`.
#[track_caller]
fn assert_huge<H: std::ops::Deref<Target = Huge>>(resumed: Resumed<H, H>, yielded: bool, seed: u8) {
    let (is_yield, value) = match resumed {
        Resumed::Yield(value) => (true, value),
        Resumed::Return(value) => (false, value),
    };
    assert_eq!(is_yield, yielded);
    assert!(is_huge(&value, seed), "the value of seed {seed} changed");
}

/// `[u8; N]` as a `Deref` to itself, for `assert_huge`.
struct Bare(Box<Huge>);

impl std::ops::Deref for Bare {
    type Target = Huge;
    fn deref(&self) -> &Huge {
        &self.0
    }
}

/// A resume's value moved to the heap at once, to keep the test's frames
/// small.
fn bare(resumed: Resumed<Huge, Huge>) -> Resumed<Bare, Bare> {
    match resumed {
        Resumed::Yield(value) => Resumed::Yield(Bare(Box::new(value))),
        Resumed::Return(value) => Resumed::Return(Bare(Box::new(value))),
    }
}

// A mebibyte each way, unboxed (a stackful coroutine given a stack to hold
// it: the docs' `Builder::stack_size`) and boxed (with the default stack,
// which the value never touches): every byte arrives, through the yielder
// and the free suspend alike. On a thread with a big stack, as the values
// pass through the resumer's frames too.
#[test]
fn huge_values_cross_both_ways() {
    let big_stack = std::thread::Builder::new().stack_size(256 << 20);
    big_stack
        .spawn(|| {
            let mut co =
                stackless::Coroutine::new(|y: Yielder<Huge, Huge>, first: Huge| async move {
                    assert!(is_huge(&first, 1));
                    let second = y.suspend(huge(2)).await;
                    assert!(is_huge(&second, 3));
                    huge(4)
                });
            assert_huge(bare(co.resume(huge(1)).unwrap()), true, 2);
            assert_huge(bare(co.resume(huge(3)).unwrap()), false, 4);

            let mut co = stackless::Coroutine::new(
                |y: Yielder<Box<Huge>, Box<Huge>>, first: Box<Huge>| async move {
                    assert!(is_huge(&first, 1));
                    let second = y.suspend(boxed_huge(2)).await;
                    assert!(is_huge(&second, 3));
                    boxed_huge(4)
                },
            );
            assert_huge(co.resume(boxed_huge(1)).unwrap(), true, 2);
            assert_huge(co.resume(boxed_huge(3)).unwrap(), false, 4);

            #[cfg(coro_stackful)]
            {
                let mut co = coro::Builder::new()
                    .stack_size(32 << 20)
                    .build(|y: &coro::Yielder<Huge, Huge>, first: Huge| {
                        assert!(is_huge(&first, 1));
                        let second = y.suspend(huge(2));
                        assert!(is_huge(&second, 3));
                        let third = coro::suspend::<Huge, Huge>(huge(4)).unwrap();
                        assert!(is_huge(&third, 5));
                        huge(6)
                    })
                    .unwrap();
                assert_huge(bare(co.resume(huge(1)).unwrap()), true, 2);
                assert_huge(bare(co.resume(huge(3)).unwrap()), true, 4);
                assert_huge(bare(co.resume(huge(5)).unwrap()), false, 6);

                let mut co = coro::Coroutine::new(
                    |y: &coro::Yielder<Box<Huge>, Box<Huge>>, first: Box<Huge>| {
                        assert!(is_huge(&first, 1));
                        let second = y.suspend(boxed_huge(2));
                        assert!(is_huge(&second, 3));
                        let third = coro::suspend::<Box<Huge>, Box<Huge>>(boxed_huge(4)).unwrap();
                        assert!(is_huge(&third, 5));
                        boxed_huge(6)
                    },
                );
                assert_huge(co.resume(boxed_huge(1)).unwrap(), true, 2);
                assert_huge(co.resume(boxed_huge(3)).unwrap(), true, 4);
                assert_huge(co.resume(boxed_huge(5)).unwrap(), false, 6);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// A `repr(C)` struct with padding after `a`, `c` and `e`.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
struct Padded {
    a: u8,
    b: u32,
    c: u16,
    d: u64,
    e: u8,
}

impl Padded {
    fn bits(&self) -> Vec<u8> {
        let mut bits = vec![self.a];
        bits.extend(self.b.to_le_bytes());
        bits.extend(self.c.to_le_bytes());
        bits.extend(self.d.to_le_bytes());
        bits.push(self.e);
        bits
    }
}

/// An enum whose variants differ in size, so that most of its values leave
/// bytes unused.
#[derive(Clone, Debug)]
enum Mixed {
    Small(u8),
    Wide(u64, u8),
    Text(String),
    Empty,
}

/// Sends three values of `T` through a coroutine of each backend (the first
/// resume's input, a suspension, the second input, returned), comparing each
/// arrival bit for bit, by `bits`, with what was sent.
fn cross<T: Clone + std::fmt::Debug + 'static>(values: [T; 3], bits: fn(&T) -> Vec<u8>) {
    let [first, second, third] = values;
    let (b1, b2, b3) = (bits(&first), bits(&second), bits(&third));
    let (e1, e3) = (b1.clone(), b3.clone());
    let s = second.clone();
    let mut co = stackless::Coroutine::new(move |y: Yielder<T, T>, got: T| async move {
        assert_eq!(bits(&got), e1);
        let got = y.suspend(s).await;
        assert_eq!(bits(&got), e3);
        got
    });
    match co.resume(first.clone()).unwrap() {
        Resumed::Yield(got) => assert_eq!(bits(&got), b2, "{got:?}"),
        other => panic!("{other:?}"),
    }
    match co.resume(third.clone()).unwrap() {
        Resumed::Return(got) => assert_eq!(bits(&got), b3, "{got:?}"),
        other => panic!("{other:?}"),
    }

    #[cfg(coro_stackful)]
    {
        let (e1, e3) = (b1, b3.clone());
        let mut co = coro::Coroutine::new(move |y: &coro::Yielder<T, T>, got: T| {
            assert_eq!(bits(&got), e1);
            let got = y.suspend(second);
            assert_eq!(bits(&got), e3);
            got
        });
        match co.resume(first).unwrap() {
            Resumed::Yield(got) => assert_eq!(bits(&got), b2, "{got:?}"),
            other => panic!("{other:?}"),
        }
        match co.resume(third).unwrap() {
            Resumed::Return(got) => assert_eq!(bits(&got), b3, "{got:?}"),
            other => panic!("{other:?}"),
        }
    }
}

// Types with padding and with niches, whose unused bytes are nobody's: each
// value arrives with every meaningful bit as sent, both ways, through both
// backends; so do floats whose bits `==` does not see (negative zero, NaNs
// with payloads).
#[test]
fn values_with_padding_and_niches_cross_bit_exact() {
    use std::num::{NonZeroU8, NonZeroU64};

    fn le(n: u128) -> Vec<u8> {
        n.to_le_bytes().to_vec()
    }
    cross(
        [(1_u8, u64::MAX), (0xff, 0), (0x80, 0x0123_4567_89ab_cdef)],
        |v| [le(v.0.into()), le(v.1.into())].concat(),
    );
    cross(
        [(u64::MAX, 1_u8, 0xdead_beef_u32), (0, 0, 0), (7, 0xfe, 1)],
        |v| [le(v.0.into()), le(v.1.into()), le(v.2.into())].concat(),
    );
    let padded = |n: u8| Padded {
        a: n,
        b: u32::from(n) << 24 | 0x00ab_cdef,
        c: !u16::from(n),
        d: u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        e: n ^ 0x55,
    };
    cross([padded(1), padded(0xff), padded(0x80)], Padded::bits);
    cross(
        [
            [padded(1); 3],
            [padded(2), padded(3), padded(4)],
            [padded(0); 3],
        ],
        |v| v.iter().flat_map(Padded::bits).collect(),
    );
    cross(
        [Some(Box::new(padded(9))), None, Some(Box::new(padded(10)))],
        |v| v.as_ref().map_or(vec![0xee], |p| p.bits()),
    );
    fn mixed(v: &Mixed) -> Vec<u8> {
        match v {
            Mixed::Small(a) => vec![0, *a],
            Mixed::Wide(a, b) => [vec![1], le((*a).into()), vec![*b]].concat(),
            Mixed::Text(text) => [vec![2], text.as_bytes().to_vec()].concat(),
            Mixed::Empty => vec![3],
        }
    }
    cross(
        [Mixed::Small(7), Mixed::Wide(u64::MAX, 3), Mixed::Empty],
        mixed,
    );
    cross(
        [
            Mixed::Text("padding".repeat(9)),
            Mixed::Small(0),
            Mixed::Wide(0, 0),
        ],
        mixed,
    );
    cross([NonZeroU64::new(u64::MAX), None, NonZeroU64::new(1)], |v| {
        le(v.map_or(0, NonZeroU64::get).into())
    });
    cross([Some(NonZeroU8::MIN), NonZeroU8::new(0xff), None], |v| {
        vec![v.map_or(0, NonZeroU8::get)]
    });
    cross([Some(Some(true)), Some(None), None], |v| {
        vec![match v {
            None => 0,
            Some(None) => 1,
            Some(Some(false)) => 2,
            Some(Some(true)) => 3,
        }]
    });
    cross(
        [Ok(0xa5_u8), Err(u128::MAX - 1), Err(1 << 100)],
        |v| match v {
            Ok(a) => vec![*a],
            Err(b) => le(*b),
        },
    );
    cross([Some('\u{10ffff}'), None, Some('é')], |v| {
        le(v.map_or(u32::MAX, u32::from).into())
    });
    cross(
        [
            (-0.0_f64, f32::from_bits(0x7fc0_1234)),
            (f64::from_bits(0x7ff8_dead_beef_0001), -0.0),
            (f64::MIN_POSITIVE / 4.0, f32::from_bits(1)),
        ],
        |v| [le(v.0.to_bits().into()), le(v.1.to_bits().into())].concat(),
    );
    cross(
        [(true, 1.5_f32, 0_u8), (false, -1.5, 0xff), (true, 0.0, 1)],
        |v| {
            vec![
                u8::from(v.0),
                v.1.to_bits() as u8,
                (v.1.to_bits() >> 24) as u8,
                v.2,
            ]
        },
    );
}

// ---- many threads at once ----------------------------------------------------

/// Threads, and coroutines made on each.
const THREADS: usize = 8;
const EACH: usize = 1000;

/// A coroutine of either backend that adds up what it is given.
type Adder = Box<dyn Resume<u64, Yield = u64, Return = u64>>;

/// The `k`th adder of a thread: stackful for even `k` (where there is a
/// stackful backend), on the smallest stack; holds a value of `tracker`'s.
fn adder(k: usize, tracker: &Tracker) -> Adder {
    let held = tracker.make();
    #[cfg(coro_stackful)]
    if k.is_multiple_of(2) {
        return Box::new(
            coro::Builder::new()
                .stack_size(coro::MIN_STACK_SIZE)
                .build(move |y: &coro::Yielder<u64, u64>, mut sum: u64| {
                    let _held = held;
                    for _ in 0..3 {
                        sum += y.suspend(sum);
                    }
                    sum
                })
                .expect("a small stack"),
        );
    }
    let _ = k;
    Box::new(stackless::Coroutine::new(
        move |y: Yielder<u64, u64>, mut sum: u64| async move {
            let _held = held;
            for _ in 0..3 {
                sum += y.suspend(sum).await;
            }
            sum
        },
    ))
}

/// A generator that holds `held`: stackful if `stackful` (and there is a
/// stackful backend), else stackless.
fn generator(stackful: bool, held: Tracked) -> Box<dyn Iterator<Item = u8>> {
    #[cfg(coro_stackful)]
    if stackful {
        return Box::new(
            coro::Builder::new()
                .stack_size(coro::MIN_STACK_SIZE)
                .build(move |y: &coro::Yielder<(), u8>, ()| {
                    let _held = held;
                    loop {
                        y.suspend(1);
                    }
                })
                .expect("a small stack")
                .into_iter(),
        );
    }
    let _ = stackful;
    Box::new(
        stackless::Coroutine::<(), u8, ()>::new(move |y, ()| async move {
            let _held = held;
            loop {
                y.suspend(1).await;
            }
        })
        .into_iter(),
    )
}

/// One thread's share: `EACH` adders, each made and then run to its end,
/// dropped unstarted or suspended, closed, kept suspended or unstarted until
/// the end, or (if `forget`) forgotten, suspended or as an iterator.
/// Returns the sum of the finished ones' results and how many were
/// forgotten.
fn churn(forget: bool) -> (u64, usize) {
    let tracker = Tracker::new();
    let mut kept = Vec::new();
    let (mut sum, mut forgotten) = (0, 0);
    for k in 0..EACH {
        let mut co = adder(k, &tracker);
        match k % 6 {
            0 => drop(co),
            1 => {
                assert_eq!(co.resume(1).unwrap(), Resumed::Yield(1));
                drop(co);
            }
            2 => {
                for (input, got) in [(1, 1), (2, 3), (3, 6)] {
                    assert_eq!(co.resume(input).unwrap(), Resumed::Yield(got));
                }
                let Resumed::Return(total) = co.resume(4).unwrap() else {
                    panic!("the adder ends");
                };
                assert_eq!(total, 10);
                sum += total;
                assert!(matches!(co.resume(5), Err(Error::Dead)));
            }
            3 => {
                co.resume(k as u64).unwrap();
                co.close().unwrap();
                assert_eq!(co.status(), Status::Dead);
            }
            4 => {
                co.resume(1).unwrap();
                kept.push(co);
            }
            _ if forget && k % 12 == 5 => {
                co.resume(1).unwrap();
                std::mem::forget(co);
                forgotten += 1;
            }
            _ if forget => {
                drop(co);
                let mut iter = generator(k % 24 == 11, tracker.make());
                assert_eq!(iter.next(), Some(1));
                std::mem::forget(iter);
                forgotten += 1;
            }
            _ => kept.push(co),
        }
    }
    assert_eq!(tracker.alive(), kept.len() + forgotten);
    drop(kept);
    assert_eq!(tracker.alive(), forgotten);
    assert_eq!(tracker.double_drops(), 0);
    assert!(coro::running().is_none());
    (sum, forgotten)
}

/// Runs `churn` on `THREADS` threads at once, started together.
fn churn_everywhere(forget: bool) -> Vec<(u64, usize)> {
    let start = std::sync::Barrier::new(THREADS);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    churn(forget)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    })
}

/// How many of a thread's adders `churn` treats as the `k % 6 == case`.
fn churned(case: usize) -> usize {
    (0..EACH).filter(|k| k % 6 == case).count()
}

// Eight threads make a thousand coroutines each at once, half of either
// backend, and run, drop, close and keep them: every thread's chain and
// stack pool are its own, each finished one returns its sum, and each
// body's value is dropped exactly once.
#[test]
fn many_threads_create_resume_and_drop_coroutines_at_once() {
    for (sum, forgotten) in churn_everywhere(false) {
        assert_eq!((sum, forgotten), (10 * churned(2) as u64, 0));
    }
}

// The same with some suspended coroutines and iterators forgotten, then
// every thread exits: nothing of theirs runs again, nothing crashes, and
// the process goes on. In a child process, which leaves without its exit
// handlers: forgetting leaks by design, which a leak checker would report.
#[test]
fn many_threads_forget_coroutines_at_once() {
    const NAME: &str = "many_threads_forget_coroutines_at_once";
    if common::is_child(NAME) {
        let forgotten: usize = churn_everywhere(true)
            .into_iter()
            .map(|(sum, forgotten)| {
                assert_eq!(sum, 10 * churned(2) as u64);
                forgotten
            })
            .sum();
        let mut after = adder(0, &Tracker::new());
        println!("forgotten={forgotten} after={:?}", after.resume(5));
        use std::io::Write;
        std::io::stdout().flush().unwrap();
        // SAFETY: ends this child process at once; nothing else runs.
        unsafe { libc::_exit(0) };
    }
    let output = common::run_child(NAME);
    assert!(output.status.success(), "{}", common::describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Per thread: every `k % 6 == 5`, as a coroutine or as an iterator.
    let forgotten = common::printed(&stdout, "forgotten");
    assert_eq!(forgotten, THREADS * churned(5), "{stdout}");
    assert!(stdout.contains("after=Ok(Yield(5))"), "{stdout}");
}
