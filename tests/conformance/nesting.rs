// `MAX_NESTING`, Lua's `LUAI_MAXCCALLS`: the 200th nested coroutine runs,
// the 201st resume fails with `TooDeep` and leaves its target suspended.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use common::Tracker;
use coro::{Error, Handle, MAX_NESTING, Resumed, Status};

/// Small stacks for the stackful backend: 200 of them are alive at once in
/// these tests.
const STACK: usize = 64 * 1024;

/// What the deepest coroutine of a chain saw.
#[derive(Debug)]
struct Deepest {
    /// Its own depth (1 for a coroutine resumed from the main stack).
    depth: usize,
    /// The statuses of every coroutine of the chain, outermost first.
    chain: Vec<Status>,
    /// What resuming one more coroutine gave.
    refused: Result<Resumed<(), &'static str>, Error>,
    /// The target's status after the refusal.
    target_status: Status,
}

type Target = Coroutine<(), (), &'static str>;

/// A coroutine at `depth` that resumes the next one until `MAX_NESTING`; the
/// deepest one tries to resume `target` and reports.
fn level(
    depth: usize,
    chain: Rc<RefCell<Vec<Handle>>>,
    target: Rc<RefCell<Target>>,
) -> Coroutine<(), (), Deepest> {
    coroutine!(stack: STACK; (), (), Deepest; |_, ()| {
        chain.borrow_mut().push(coro::running().unwrap());
        if depth < MAX_NESTING {
            let mut next = level(depth + 1, chain, target);
            return next.resume(()).unwrap().returned().unwrap();
        }
        let mut target = target.borrow_mut();
        let refused = target.resume(());
        Deepest {
            depth,
            chain: chain.borrow().iter().map(Handle::status).collect(),
            refused,
            target_status: target.status(),
        }
    })
}

// The 200th nested coroutine runs; from it, resuming a 201st fails with
// "C stack overflow" and the target stays suspended, to be resumed later from
// a shallower place.
#[test]
fn two_hundred_nested_run_and_the_next_is_refused() {
    assert_eq!(MAX_NESTING, 200);
    let started = Rc::new(RefCell::new(false));
    let s = started.clone();
    let target: Rc<RefCell<Target>> = Rc::new(RefCell::new(
        coroutine!(stack: STACK; (), (), &'static str; |_, ()| {
            *s.borrow_mut() = true;
            "target ran"
        }),
    ));
    let chain: Rc<RefCell<Vec<Handle>>> = Rc::default();
    let mut first = level(1, chain.clone(), target.clone());
    let deepest = first.resume(()).unwrap().returned().unwrap();

    assert_eq!(deepest.depth, MAX_NESTING);
    assert_eq!(deepest.chain.len(), MAX_NESTING);
    assert!(
        deepest.chain[..MAX_NESTING - 1]
            .iter()
            .all(|s| *s == Status::Normal)
    );
    assert_eq!(deepest.chain[MAX_NESTING - 1], Status::Running);
    let err = deepest.refused.unwrap_err();
    assert!(matches!(err, Error::TooDeep), "{err:?}");
    assert_eq!(err.to_string(), "C stack overflow");
    assert_eq!(deepest.target_status, Status::Suspended);
    assert!(!*started.borrow(), "the refused target must not have run");

    // The whole chain has finished; the target is untouched and runs now.
    assert!(chain.borrow().iter().all(|h| h.status() == Status::Dead));
    let mut target = target.borrow_mut();
    assert_eq!(target.status(), Status::Suspended);
    assert_eq!(target.resume(()).unwrap(), Resumed::Return("target ran"));
    assert!(*started.borrow());
}

/// Resumes a chain of `n` coroutines, the innermost one resuming `target`
/// and returning the result.
fn resume_at_depth(
    n: usize,
    target: Rc<RefCell<Target>>,
) -> Result<Resumed<(), &'static str>, Error> {
    if n == 0 {
        return target.borrow_mut().resume(());
    }
    let mut co = coroutine!(stack: STACK; (), (), _; |_, ()| resume_at_depth(n - 1, target));
    co.resume(()).unwrap().returned().unwrap()
}

// The limit is exact: from 199 levels the target runs as the 200th.
#[test]
fn the_limit_is_exact() {
    let target = || {
        Rc::new(RefCell::new(
            coroutine!(stack: STACK; (), (), &'static str; |_, ()| "ran"),
        ))
    };
    let ok = resume_at_depth(MAX_NESTING - 1, target());
    assert_eq!(ok.unwrap(), Resumed::Return("ran"));
    let refused = resume_at_depth(MAX_NESTING, target());
    assert!(matches!(refused, Err(Error::TooDeep)));
}

// A refused target that already ran and is suspended in the middle of its
// body keeps its place: resumed later, it continues where it was.
#[test]
fn refused_target_keeps_its_place() {
    let target: Rc<RefCell<Coroutine<(), u32, u32>>> = Rc::new(RefCell::new(
        coroutine!(stack: STACK; (), u32, u32; |y, ()| {
            suspend!(y, 1);
            suspend!(y, 2);
            3
        }),
    ));
    assert_eq!(target.borrow_mut().resume(()).unwrap(), Resumed::Yield(1));

    fn deep(n: usize, target: Rc<RefCell<Coroutine<(), u32, u32>>>) -> bool {
        if n == 0 {
            let mut t = target.borrow_mut();
            return matches!(t.resume(()), Err(Error::TooDeep)) && t.status() == Status::Suspended;
        }
        let mut co = coroutine!(stack: STACK; (), (), bool; |_, ()| deep(n - 1, target));
        co.resume(()).unwrap().returned().unwrap()
    }
    assert!(deep(MAX_NESTING, target.clone()));
    let mut t = target.borrow_mut();
    assert_eq!(t.resume(()).unwrap(), Resumed::Yield(2));
    assert_eq!(t.resume(()).unwrap(), Resumed::Return(3));
}

// The input of a refused resume is dropped, not leaked or passed on.
#[test]
fn input_of_a_too_deep_resume_is_dropped() {
    let tracker = Tracker::new();
    type T = Coroutine<common::Tracked, (), ()>;
    let target: Rc<RefCell<T>> = Rc::new(RefCell::new(
        coroutine!(stack: STACK; common::Tracked, (), (); |_, _t| {}),
    ));
    fn deep(n: usize, target: Rc<RefCell<T>>, tracker: Tracker) -> bool {
        if n == 0 {
            let refused = target.borrow_mut().resume(tracker.make());
            return matches!(refused, Err(Error::TooDeep));
        }
        let mut co = coroutine!(stack: STACK; (), (), bool; |_, ()| deep(n - 1, target, tracker));
        co.resume(()).unwrap().returned().unwrap()
    }
    assert!(deep(MAX_NESTING, target.clone(), tracker.clone()));
    assert_eq!(tracker.made(), 1);
    tracker.assert_all_dropped_once();
    target.borrow_mut().resume(tracker.make()).unwrap();
    tracker.assert_all_dropped_once();
}

/// Lua's `a = function(a) coroutine.wrap(a)(a) end`: each call makes a
/// generator whose body calls it again, and runs it.
fn recurse_through_wrap() {
    let generator = coroutine!(stack: STACK; (), (), (); |_, ()| recurse_through_wrap());
    generator.into_iter().next();
}

// Lua scenario 23: endless recursion through `wrap` ends in
// "C stack overflow", raised through every level, not in a crash.
#[test]
fn recursive_wrap_ends_in_too_deep() {
    let payload = panic::catch_unwind(recurse_through_wrap).unwrap_err();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    assert_eq!(message, Some("C stack overflow"));
    assert!(coro::running().is_none());
    // The thread's chain is empty again: a fresh chain can reach the limit.
    let target = Rc::new(RefCell::new(
        coroutine!(stack: STACK; (), (), &'static str; |_, ()| "ran again"),
    ));
    assert_eq!(
        resume_at_depth(MAX_NESTING - 1, target).unwrap(),
        Resumed::Return("ran again")
    );
}

// The limit counts active coroutines, not how many were resumed in total: a
// coroutine that resumes 1000 others one after the other is fine, and so is a
// chain that suspends and is resumed many times.
#[test]
fn limit_counts_only_active_coroutines() {
    let mut co = coroutine!((), (), usize; |_, ()| {
        let mut done = 0;
        for _ in 0..1000 {
            let mut child = coroutine!(stack: STACK; (), (), usize; |_, ()| 1usize);
            done += child.resume(()).unwrap().returned().unwrap();
        }
        done
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(1000));

    // A suspended chain 150 deep, resumed 20 times from the top.
    fn chain(n: usize) -> Coroutine<(), usize, usize> {
        coroutine!(stack: STACK; (), usize, usize; |y, ()| {
            if n == 1 {
                for i in 0..20 {
                    suspend!(y, i);
                }
                return 20;
            }
            let mut inner = chain(n - 1);
            loop {
                match inner.resume(()).unwrap() {
                    Resumed::Yield(v) => suspend!(y, v),
                    Resumed::Return(r) => return r,
                }
            }
        })
    }
    let mut top = chain(150);
    for i in 0..20 {
        assert_eq!(top.resume(()).unwrap(), Resumed::Yield(i));
    }
    assert_eq!(top.resume(()).unwrap(), Resumed::Return(20));
}

// Closing is not a resume: a deeply nested coroutine can close (and drop)
// coroutines even at the limit.
#[test]
fn close_at_the_limit() {
    let log = common::Log::new();
    fn deep(n: usize, log: common::Log) -> bool {
        if n == 0 {
            let l = log.clone();
            let mut victim = coroutine!((), (), (); |y, ()| {
                let _n = l.noisy("victim local");
                suspend!(y, ());
            });
            // From the 200th level it cannot be resumed, but it can be closed.
            return matches!(victim.resume(()), Err(Error::TooDeep))
                && victim.close().is_ok()
                && victim.status() == Status::Dead;
        }
        let mut co = coroutine!(stack: STACK; (), (), bool; |_, ()| deep(n - 1, log));
        co.resume(()).unwrap().returned().unwrap()
    }
    assert!(deep(MAX_NESTING, log.clone()));
    // Never started: its local was never created.
    assert!(log.is_empty());

    // A started, suspended victim, closed from the 200th level.
    let started: Rc<RefCell<Option<Coroutine>>> = Rc::default();
    let l = log.clone();
    let mut victim = coroutine!((), (), (); |y, ()| {
        let _n = l.noisy("victim local");
        suspend!(y, ());
    });
    victim.resume(()).unwrap();
    *started.borrow_mut() = Some(victim);
    fn deep_close(n: usize, victim: Rc<RefCell<Option<Coroutine>>>) -> bool {
        if n == 0 {
            let mut v = victim.borrow_mut();
            let v = v.as_mut().unwrap();
            return v.close().is_ok() && v.status() == Status::Dead;
        }
        let mut co = coroutine!(stack: STACK; (), (), bool; |_, ()| deep_close(n - 1, victim));
        co.resume(()).unwrap().returned().unwrap()
    }
    assert!(deep_close(MAX_NESTING, started));
    assert_eq!(log.entries(), ["victim local"]);
}

/// Runs `f` in the innermost of `n` nested coroutines, so that `f` runs at
/// depth `n` (on the thread's own stack for 0).
fn at_depth<T: 'static>(n: usize, f: Box<dyn FnOnce() -> T>) -> T {
    if n == 0 {
        return f();
    }
    let mut co = coroutine!(stack: STACK; (), (), T; |_, ()| at_depth(n - 1, f));
    co.resume(()).unwrap().returned().unwrap()
}

// Closing enters the closed coroutine, so it counts in the chain while its
// destructors run: closed from the 200th level, a destructor that resumes
// another coroutine would make that one the 202nd, and is refused; closed
// from the 198th, the resumed one is the 200th and runs.
#[test]
fn destructor_run_by_a_close_at_the_limit_cannot_resume() {
    type Other = Rc<RefCell<Coroutine<(), u32, ()>>>;
    type Outcomes = Rc<RefCell<Vec<String>>>;
    struct ResumeOnDrop(Other, Outcomes);
    impl Drop for ResumeOnDrop {
        fn drop(&mut self) {
            let outcome = match self.0.borrow_mut().resume(()) {
                Ok(r) => format!("{r:?}"),
                Err(e) => format!("error: {e}"),
            };
            self.1.borrow_mut().push(outcome);
        }
    }
    let other: Other = Rc::new(RefCell::new(coroutine!((), u32, (); |y, ()| {
        suspend!(y, 1);
        suspend!(y, 2);
    })));
    let outcomes: Outcomes = Rc::default();
    let victim = || {
        let guard = ResumeOnDrop(other.clone(), outcomes.clone());
        let mut victim = coroutine!((), (), (); |y, ()| {
            let _guard = guard;
            suspend!(y, ());
        });
        victim.resume(()).unwrap();
        victim
    };

    let mut v = victim();
    let closed = at_depth(
        MAX_NESTING,
        Box::new(move || v.close().is_ok() && v.status() == Status::Dead),
    );
    assert!(closed);
    assert_eq!(*outcomes.borrow(), ["error: C stack overflow"]);
    assert_eq!(other.borrow().status(), Status::Suspended);

    let mut v = victim();
    let closed = at_depth(MAX_NESTING - 2, Box::new(move || v.close().is_ok()));
    assert!(closed);
    assert_eq!(*outcomes.borrow(), ["error: C stack overflow", "Yield(1)"]);
}

// A generator refused at the limit panics with "C stack overflow" where it
// is iterated, and stays as it was: iterated later from a shallower place,
// it yields everything.
#[test]
fn generator_refused_at_the_limit_stays_usable() {
    let generator = Rc::new(RefCell::new(
        coroutine!(stack: STACK; (), u32, (); |y, ()| {
            for i in 1..=3 {
                suspend!(y, i);
            }
        })
        .into_iter(),
    ));
    let g = generator.clone();
    let refused = at_depth(
        MAX_NESTING,
        Box::new(move || {
            let payload =
                panic::catch_unwind(AssertUnwindSafe(|| g.borrow_mut().next())).unwrap_err();
            payload.downcast_ref::<String>().cloned()
        }),
    );
    assert_eq!(refused.as_deref(), Some("C stack overflow"));
    let mut generator = generator.borrow_mut();
    assert_eq!(generator.coroutine().status(), Status::Suspended);
    assert_eq!(generator.by_ref().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(generator.coroutine().status(), Status::Dead);
}
