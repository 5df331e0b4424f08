//! The four statuses, `running()`, `is_yieldable()` and handles.

use std::cell::RefCell;
use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use coro::{Builder, Coroutine, Handle, Resumed, Status, Yielder};

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

// Lua scenario 2: inside a coroutine, `running()` is that coroutine, its
// status is Running, and it is yieldable.
#[test]
fn inside_a_coroutine_running_is_itself() {
    let mut co = Coroutine::new(|_: &Yielder<(), ()>, ()| {
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
    assert!(yieldable);
    // Back on the main stack.
    assert!(coro::running().is_none());
    assert!(!coro::is_yieldable());
    assert_eq!(me.status(), Status::Dead);
}

// Lua scenario 3: a new coroutine is suspended; once started it is yieldable.
#[test]
fn new_coroutine_is_suspended() {
    let mut co = Coroutine::<(), bool, ()>::new(|y, ()| {
        y.suspend(coro::is_yieldable());
    });
    assert_eq!(co.status(), Status::Suspended);
    assert_eq!(co.handle().status(), Status::Suspended);
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(true));
}

// The whole life cycle as seen from outside and from inside.
#[test]
fn life_cycle() {
    let seen: Rc<RefCell<Vec<Status>>> = Rc::default();
    let s = seen.clone();
    let mut co = Coroutine::<(), (), ()>::new(move |y, ()| {
        s.borrow_mut().push(coro::running().unwrap().status());
        y.suspend(());
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
    let co2 = Coroutine::new(move |y: &Yielder<(), (i32, Status, Status)>, ()| {
        let co1 = seen.borrow().clone().unwrap();
        let me = coro::running().unwrap();
        y.suspend((3, co1.status(), me.status()));
    });
    let mut co1 = Coroutine::new(move |_: &Yielder<(), ()>, ()| {
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

// A chain of three: the statuses of all of them, seen from the innermost,
// and restored as each one suspends.
#[test]
fn statuses_along_a_chain() {
    type Statuses = Vec<Status>;
    let handles: Rc<RefCell<Vec<Handle>>> = Rc::default();
    let h = handles.clone();
    let mut a = Coroutine::new(move |ya: &Yielder<(), Statuses>, ()| {
        h.borrow_mut().push(coro::running().unwrap());
        let h2 = h.clone();
        let mut b = Coroutine::new(move |yb: &Yielder<(), Statuses>, ()| {
            h2.borrow_mut().push(coro::running().unwrap());
            let h3 = h2.clone();
            let mut c = Coroutine::new(move |yc: &Yielder<(), Statuses>, ()| {
                h3.borrow_mut().push(coro::running().unwrap());
                let all = || h3.borrow().iter().map(Handle::status).collect::<Vec<_>>();
                yc.suspend(all());
                all()
            });
            let from_c = c.resume(()).unwrap().yielded().unwrap();
            // c suspended: b runs again, c is suspended.
            let after: Statuses = h2.borrow().iter().map(Handle::status).collect();
            yb.suspend(from_c);
            yb.suspend(after);
            c.resume(()).unwrap().returned().unwrap()
        });
        let first = b.resume(()).unwrap().yielded().unwrap();
        ya.suspend(first);
        let second = b.resume(()).unwrap().yielded().unwrap();
        ya.suspend(second);
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

// `is_yieldable()` is true in every coroutine of a chain, false on the main
// stack between resumes.
#[test]
fn is_yieldable_in_nested_coroutines() {
    let mut outer = Coroutine::<(), bool, bool>::new(|y, ()| {
        let mut inner = Coroutine::<(), (), bool>::new(|_, ()| coro::is_yieldable());
        let inner_yieldable = inner.resume(()).unwrap().returned().unwrap();
        y.suspend(inner_yieldable);
        coro::is_yieldable()
    });
    assert_eq!(outer.resume(()).unwrap(), Resumed::Yield(true));
    assert!(!coro::is_yieldable());
    assert_eq!(outer.resume(()).unwrap(), Resumed::Return(true));
}

// A handle outlives its coroutine, whatever way it ended, and reads Dead.
#[test]
fn handles_outlive_their_coroutine() {
    // Dropped before it started.
    let co = Coroutine::<(), (), ()>::new(|_, ()| {});
    let never_started = co.handle();
    drop(co);
    // Dropped while suspended.
    let mut co = Coroutine::<(), (), ()>::new(|y, ()| y.suspend(()));
    co.resume(()).unwrap();
    let suspended = co.handle();
    assert_eq!(suspended.status(), Status::Suspended);
    drop(co);
    // Returned, then dropped.
    let mut co = Coroutine::<(), (), ()>::new(|_, ()| {});
    co.resume(()).unwrap();
    let returned = co.handle();
    drop(co);
    // A handle taken inside, kept by the body's owner.
    let mut co = Coroutine::<(), (), Handle>::new(|_, ()| coro::running().unwrap());
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
    let mut a = Coroutine::<(), (), Handle>::new(|_, ()| coro::running().unwrap());
    let b = Coroutine::<(), (), Handle>::new(|_, ()| coro::running().unwrap());
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

    let coroutines: Vec<Coroutine> = (0..100).map(|_| Coroutine::new(|_, ()| {})).collect();
    let ids: HashSet<u64> = coroutines.iter().map(|c| c.handle().id()).collect();
    assert_eq!(ids.len(), 100);
    assert!(!ids.contains(&a1.id()));
}

// `Debug` of a handle shows the id, the name if any, and the status.
#[test]
fn handle_debug() {
    let mut co = Builder::new()
        .name("reader")
        .build(|y: &Yielder<(), ()>, ()| y.suspend(()))
        .unwrap();
    let handle = co.handle();
    assert_eq!(handle.name(), Some("reader"));
    let text = format!("{handle:?}");
    assert!(text.contains("Handle"), "{text}");
    assert!(text.contains(&handle.id().to_string()), "{text}");
    assert!(text.contains("reader"), "{text}");
    assert!(text.contains("Suspended"), "{text}");
    co.resume(()).unwrap();
    drop(co);
    assert!(format!("{handle:?}").contains("Dead"));

    let unnamed = Coroutine::<(), (), ()>::new(|_, ()| {}).handle();
    assert_eq!(unnamed.name(), None);
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
    let mut co = Coroutine::<(), (), ()>::new(move |_, ()| {
        let _o = Observe(s);
        panic!("to see the status");
    });
    assert!(co.resume(()).is_err());
    assert_eq!(*seen.borrow(), Some(Status::Running));
    assert_eq!(co.status(), Status::Dead);
}
