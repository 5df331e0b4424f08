//! Attacks from safe code, each on a promise of the docs: every one must end
//! in a clear `Error`, a documented panic, or a compile error, never in
//! undefined behaviour (these run under Valgrind in CI too).

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use coro::stackless::{self, Yielder};
use coro::{Error, Resumed, Status};

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
