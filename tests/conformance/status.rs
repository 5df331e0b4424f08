// The four statuses, `running()`, `is_yieldable()` and handles.
//
// Lua scenario 1 (the thread's own stack) involves no coroutine: model.rs.

use std::cell::RefCell;
use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use coro::{Error, Handle, Resumed, Status};

// Lua scenario 1, on another thread: a spawned thread's own stack has no
// running coroutine, even while the spawning thread has one running, and the
// free suspend fails there with OutsideCoroutine.
#[test]
fn outside_coroutine_on_another_thread() {
    let mut co = coroutine!((), (), bool; |_, ()| {
        std::thread::spawn(|| {
            coro::running().is_none()
                && !coro::is_yieldable()
                && matches!(coro::suspend::<(), ()>(()), Err(Error::OutsideCoroutine))
        })
        .join()
        .unwrap()
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(true));
}

// Lua scenario 2: inside a coroutine, `running()` is that coroutine, its
// status is Running, and it is yieldable (where the backend can suspend
// from plain code: see `BODY_IS_YIELDABLE`).
#[test]
fn inside_a_coroutine_running_is_itself() {
    let mut co = coroutine!((), (), _; |_, ()| {
        let me = coro::running().expect("a coroutine is running");
        (me.clone(), me.status(), coro::is_yieldable())
    });
    let handle = co.handle();
    let Resumed::Return((me, status, yieldable)) = co.resume(()).unwrap() else {
        panic!("expected a return");
    };
    assert_eq!(me, handle);
    assert_eq!(me.id(), handle.id());
    assert_eq!(status, Status::Running);
    assert_eq!(yieldable, BODY_IS_YIELDABLE);
    // Back on the main stack.
    assert!(coro::running().is_none());
    assert!(!coro::is_yieldable());
    assert_eq!(me.status(), Status::Dead);
}

// Lua scenario 3: a new coroutine is suspended; once started it is yieldable
// (see `BODY_IS_YIELDABLE`) and can suspend.
#[test]
fn new_coroutine_is_suspended() {
    let mut co = coroutine!((), bool, (); |y, ()| {
        suspend!(y, coro::is_yieldable());
    });
    assert_eq!(co.status(), Status::Suspended);
    assert_eq!(co.handle().status(), Status::Suspended);
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(BODY_IS_YIELDABLE));
    assert_eq!(co.status(), Status::Suspended);
}

// The whole life cycle as seen from outside and from inside.
#[test]
fn life_cycle() {
    let seen: Rc<RefCell<Vec<Status>>> = Rc::default();
    let s = seen.clone();
    let mut co = coroutine!((), (), (); |y, ()| {
        s.borrow_mut().push(coro::running().unwrap().status());
        suspend!(y, ());
        s.borrow_mut().push(coro::running().unwrap().status());
    });
    let handle = co.handle();
    assert_eq!(handle.status(), Status::Suspended);
    co.resume(()).unwrap();
    assert_eq!(handle.status(), Status::Suspended);
    co.resume(()).unwrap();
    assert_eq!(handle.status(), Status::Dead);
    assert_eq!(*seen.borrow(), [Status::Running, Status::Running]);
}

// Lua scenario 22: co1 resumes co2; inside co2, co1 is Normal; co2 yields 3,
// and co1 returns what it got, so resuming co1 gives 3 and co1 is dead.
// (Resuming co1 from co2, which Lua refuses at run time, is impossible here:
// co2 cannot reach co1, which its resumer holds borrowed.)
#[test]
fn resumer_is_normal_while_the_coroutine_it_resumed_runs() {
    let co1_handle: Rc<RefCell<Option<Handle>>> = Rc::default();
    let seen = co1_handle.clone();
    let co2 = coroutine!((), (i32, Status, Status), (); |y, ()| {
        let co1 = seen.borrow().clone().unwrap();
        let me = coro::running().unwrap();
        suspend!(y, (3, co1.status(), me.status()));
    });
    let mut co1 = coroutine!((), (), _; |_, ()| {
        let mut co2 = co2.into_iter();
        co2.next()
    });
    *co1_handle.borrow_mut() = Some(co1.handle());
    let result = co1.resume(()).unwrap();
    assert_eq!(
        result,
        Resumed::Return(Some((3, Status::Normal, Status::Running)))
    );
    assert_eq!(co1.status(), Status::Dead);
}

// A coroutine can be resumed from different places over its life: each
// time, its resumer of the moment is the `Normal` one, and the others are
// whatever they are then (Lua resumes a coroutine from anywhere).
#[test]
fn resumed_by_different_resumers() {
    type Statuses = Vec<Status>;
    // The handles of the two resuming coroutines, a and b.
    let resumers: Rc<RefCell<Vec<Handle>>> = Rc::default();
    let r = resumers.clone();
    // x reports the statuses of a, b and itself each time it runs.
    let x: Rc<RefCell<Coroutine<(), Statuses, ()>>> =
        Rc::new(RefCell::new(coroutine!((), Statuses, (); |y, ()| {
            loop {
                let mut seen: Statuses = r.borrow().iter().map(Handle::status).collect();
                seen.push(coro::running().unwrap().status());
                suspend!(y, seen);
            }
        })));
    // A resumer passes on what x saw, and its own status once x suspended.
    let resumer = |x: Rc<RefCell<Coroutine<(), Statuses, ()>>>| {
        coroutine!((), Statuses, (); |y, ()| {
            loop {
                let mut seen = x.borrow_mut().resume(()).unwrap().yielded().unwrap();
                seen.push(coro::running().unwrap().status());
                suspend!(y, seen);
            }
        })
    };
    let mut a = resumer(x.clone());
    let mut b = resumer(x.clone());
    resumers.borrow_mut().extend([a.handle(), b.handle()]);

    use Status::*;
    // [a, b, x as seen by x, the resumer as seen after x suspended]
    assert_eq!(
        a.resume(()).unwrap().yielded().unwrap(),
        [Normal, Suspended, Running, Running]
    );
    // From the thread's own stack, neither a nor b is involved.
    assert_eq!(
        x.borrow_mut().resume(()).unwrap().yielded().unwrap(),
        [Suspended, Suspended, Running]
    );
    assert_eq!(
        b.resume(()).unwrap().yielded().unwrap(),
        [Suspended, Normal, Running, Running]
    );
    assert_eq!(
        a.resume(()).unwrap().yielded().unwrap(),
        [Normal, Suspended, Running, Running]
    );
    for status in [a.status(), b.status(), x.borrow().status()] {
        assert_eq!(status, Suspended);
    }
    assert!(coro::running().is_none());
}

// A chain of three: the statuses of all of them, seen from the innermost,
// and restored as each one suspends.
#[test]
fn statuses_along_a_chain() {
    type Statuses = Vec<Status>;
    let handles: Rc<RefCell<Vec<Handle>>> = Rc::default();
    let h = handles.clone();
    let mut a = coroutine!((), Statuses, _; |ya, ()| {
        h.borrow_mut().push(coro::running().unwrap());
        let h2 = h.clone();
        let mut b = coroutine!((), Statuses, _; |yb, ()| {
            h2.borrow_mut().push(coro::running().unwrap());
            let h3 = h2.clone();
            let mut c = coroutine!((), Statuses, _; |yc, ()| {
                h3.borrow_mut().push(coro::running().unwrap());
                let all = || h3.borrow().iter().map(Handle::status).collect::<Vec<_>>();
                suspend!(yc, all());
                all()
            });
            let from_c = c.resume(()).unwrap().yielded().unwrap();
            // c suspended: b runs again, c is suspended.
            let after: Statuses = h2.borrow().iter().map(Handle::status).collect();
            suspend!(yb, from_c);
            suspend!(yb, after);
            c.resume(()).unwrap().returned().unwrap()
        });
        let first = b.resume(()).unwrap().yielded().unwrap();
        suspend!(ya, first);
        let second = b.resume(()).unwrap().yielded().unwrap();
        suspend!(ya, second);
        b.resume(()).unwrap().returned().unwrap()
    });
    use Status::*;
    assert_eq!(
        a.resume(()).unwrap().yielded().unwrap(),
        [Normal, Normal, Running]
    );
    // Everything is suspended now, seen from the main stack.
    let now: Vec<Status> = handles.borrow().iter().map(Handle::status).collect();
    assert_eq!(now, [Suspended, Suspended, Suspended]);
    assert_eq!(
        a.resume(()).unwrap().yielded().unwrap(),
        [Normal, Running, Suspended]
    );
    // c finishing: when it reports, it runs, while its resumers are normal.
    assert_eq!(
        a.resume(()).unwrap().returned().unwrap(),
        [Normal, Normal, Running]
    );
    let now: Vec<Status> = handles.borrow().iter().map(Handle::status).collect();
    assert_eq!(now, [Dead, Dead, Dead]);
}

// `is_yieldable()` is the same in every coroutine of a chain (see
// `BODY_IS_YIELDABLE`), and false on the main stack between resumes.
#[test]
fn is_yieldable_in_nested_coroutines() {
    let mut outer = coroutine!((), bool, bool; |y, ()| {
        let mut inner = coroutine!((), (), bool; |_, ()| coro::is_yieldable());
        let inner_yieldable = inner.resume(()).unwrap().returned().unwrap();
        suspend!(y, inner_yieldable);
        coro::is_yieldable()
    });
    assert_eq!(outer.resume(()).unwrap(), Resumed::Yield(BODY_IS_YIELDABLE));
    assert!(!coro::is_yieldable());
    assert_eq!(
        outer.resume(()).unwrap(),
        Resumed::Return(BODY_IS_YIELDABLE)
    );
}

// A handle outlives its coroutine, whatever way it ended, and reads Dead.
#[test]
fn handles_outlive_their_coroutine() {
    // Dropped before it started.
    let co = coroutine!((), (), (); |_, ()| {});
    let never_started = co.handle();
    drop(co);
    // Dropped while suspended.
    let mut co = coroutine!((), (), (); |y, ()| suspend!(y, ()));
    co.resume(()).unwrap();
    let suspended = co.handle();
    assert_eq!(suspended.status(), Status::Suspended);
    drop(co);
    // Returned, then dropped.
    let mut co = coroutine!((), (), (); |_, ()| {});
    co.resume(()).unwrap();
    let returned = co.handle();
    drop(co);
    // A handle taken inside, kept by the body's owner.
    let mut co = coroutine!((), (), Handle; |_, ()| coro::running().unwrap());
    let from_inside = co.resume(()).unwrap().returned().unwrap();
    drop(co);

    for handle in [never_started, suspended, returned, from_inside] {
        assert_eq!(handle.status(), Status::Dead, "{handle:?}");
    }
}

fn hash_of(handle: &Handle) -> u64 {
    let mut hasher = DefaultHasher::new();
    handle.hash(&mut hasher);
    hasher.finish()
}

// Handles compare equal exactly when they observe the same coroutine, hash
// accordingly, and ids are unique and non-zero.
#[test]
fn handle_eq_hash_and_ids() {
    let mut a = coroutine!((), (), Handle; |_, ()| coro::running().unwrap());
    let b = coroutine!((), (), Handle; |_, ()| coro::running().unwrap());
    let a1 = a.handle();
    let a2 = a1.clone();
    let a_inside = a.resume(()).unwrap().returned().unwrap();
    assert_eq!(a1, a2);
    assert_eq!(a1, a_inside);
    assert_eq!(hash_of(&a1), hash_of(&a_inside));
    assert_ne!(a1, b.handle());
    assert_ne!(a1.id(), b.handle().id());
    assert_ne!(a1.id(), 0);

    // Clippy sees the status cell inside a handle; the hash and equality use
    // only the id, which never changes.
    #[allow(clippy::mutable_key_type)]
    let mut set = HashSet::new();
    assert!(set.insert(a1.clone()));
    assert!(!set.insert(a_inside));
    assert!(set.insert(b.handle()));
    assert_eq!(set.len(), 2);

    let coroutines: Vec<Coroutine> = (0..100)
        .map(|_| coroutine!((), (), (); |_, ()| {}))
        .collect();
    let ids: HashSet<u64> = coroutines.iter().map(|c| c.handle().id()).collect();
    assert_eq!(ids.len(), 100);
    assert!(!ids.contains(&a1.id()));
}

// Ids are unique across threads too, however the threads interleave their
// creations (each takes ids in blocks), and never 0.
#[test]
fn ids_are_unique_across_threads() {
    let per_thread = 3000;
    let ids: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(move || {
                    (0..per_thread)
                        .map(|_| {
                            let co: Coroutine = coroutine!((), (), (); |_, ()| {});
                            co.handle().id()
                        })
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("the worker finishes"))
            .collect()
    });
    let distinct: HashSet<u64> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), 4 * per_thread);
    assert!(!distinct.contains(&0));
}

// `Debug` of a handle shows the id and the status (names, which only
// `coro::Builder` gives, are checked in tests/stackful_builder.rs).
#[test]
fn handle_debug() {
    let mut co = coroutine!((), (), (); |y, ()| suspend!(y, ()));
    let handle = co.handle();
    assert_eq!(handle.name(), None);
    let text = format!("{handle:?}");
    assert!(text.contains("Handle"), "{text}");
    assert!(text.contains(&handle.id().to_string()), "{text}");
    assert!(text.contains("Suspended"), "{text}");
    assert!(!text.contains("name"), "{text}");
    co.resume(()).unwrap();
    drop(co);
    assert!(format!("{handle:?}").contains("Dead"));
}

// `Debug` of a coroutine shows its id and status; that of a yielder says
// what it is.
#[test]
fn coroutine_and_yielder_debug() {
    let mut co = coroutine!((), (), String; |y, ()| format!("{y:?}"));
    let text = format!("{co:?}");
    assert!(text.contains("Coroutine"), "{text}");
    assert!(text.contains(&co.handle().id().to_string()), "{text}");
    assert!(text.contains("Suspended"), "{text}");
    let yielder = co.resume(()).unwrap().returned().unwrap();
    assert!(yielder.contains("Yielder"), "{yielder}");
    assert!(format!("{co:?}").contains("Dead"));
}

// A body's locals are dropped as it returns, while it still runs: their
// destructors see it as `running()`, with status Running; then it is dead.
#[test]
fn destructors_at_the_end_of_a_body_see_it_running() {
    struct Observe(Rc<RefCell<Option<(Handle, Status)>>>);
    impl Drop for Observe {
        fn drop(&mut self) {
            let me = coro::running().expect("dropped inside the coroutine");
            let status = me.status();
            *self.0.borrow_mut() = Some((me, status));
        }
    }
    let seen: Rc<RefCell<Option<(Handle, Status)>>> = Rc::default();
    let s = seen.clone();
    let mut co = coroutine!((), (), u8; |y, ()| {
        let _o = Observe(s);
        suspend!(y, ());
        7
    });
    co.resume(()).unwrap();
    assert!(seen.borrow().is_none());
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(7));
    let (me, status) = seen.borrow_mut().take().expect("the local was dropped");
    assert_eq!(me, co.handle());
    assert_eq!(status, Status::Running);
    assert_eq!(me.status(), Status::Dead);
}

// Status of a coroutine whose body panicked, seen from a destructor during
// that panic: still running until the panic leaves the body; dead after.
#[test]
fn status_during_and_after_a_panic() {
    struct Observe(Rc<RefCell<Option<Status>>>);
    impl Drop for Observe {
        fn drop(&mut self) {
            *self.0.borrow_mut() = coro::running().map(|h| h.status());
        }
    }
    let seen: Rc<RefCell<Option<Status>>> = Rc::default();
    let s = seen.clone();
    let mut co = coroutine!((), (), (); |_, ()| {
        let _o = Observe(s);
        panic!("to see the status");
    });
    assert!(co.resume(()).is_err());
    assert_eq!(*seen.borrow(), Some(Status::Running));
    assert_eq!(co.status(), Status::Dead);
}
