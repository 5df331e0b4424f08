//! The two backends nest in each other freely.
//!
//! A stackful coroutine can resume a stackless one and the reverse, to any
//! depth: they share one chain of active coroutines per thread, so
//! `running()`, the `Normal` status of every resumer up the chain and the
//! nesting limit see both kinds alike. What each kind can do stays its own:
//! a stackless body's synchronous code cannot suspend anything, not even a
//! stackful coroutine that is resuming it.

// Only where coro builds its stackful backend (x86_64 and aarch64 Unix).
#![cfg(coro_stackful)]

use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

use coro::stackless;
use coro::{Error, Handle, MAX_NESTING, Resume, Resumed, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Stackful,
    Stackless,
}

use Kind::{Stackful, Stackless};

/// The handles of a chain's coroutines, outermost first, each pushed by its
/// coroutine when it starts.
type Chain = Rc<RefCell<Vec<Handle>>>;

/// One level of a chain of either kind.
type Level<R> = Box<dyn Resume<(), Yield = String, Return = R>>;

/// Checks, from inside level `me`, the statuses of the whole chain: every
/// level above is `Normal`, this one `Running`, every level below in
/// `below`; `running()` is this level and `is_yieldable()` holds exactly
/// for a stackful one.
#[track_caller]
fn check(chain: &Chain, kinds: &[Kind], me: usize, below: Status) {
    let chain = chain.borrow();
    let got: Vec<Status> = chain.iter().map(Handle::status).collect();
    let want: Vec<Status> = (0..chain.len())
        .map(|i| match i.cmp(&me) {
            Ordering::Less => Status::Normal,
            Ordering::Equal => Status::Running,
            Ordering::Greater => below,
        })
        .collect();
    assert_eq!(got, want, "statuses seen from level {me} of {kinds:?}");
    assert_eq!(
        coro::running().as_ref(),
        Some(&chain[me]),
        "running() at {me}"
    );
    assert_eq!(
        coro::is_yieldable(),
        kinds[me] == Stackful,
        "is_yieldable() at {me}"
    );
}

/// Level `me` of a chain of `kinds`: the innermost suspends once and
/// returns; every other resumes the next, forwards its suspension by
/// suspending itself, then resumes it to completion and returns its value.
/// Every level checks the chain after each step.
fn level(kinds: &'static [Kind], me: usize, chain: Chain) -> Level<String> {
    let innermost = me + 1 == kinds.len();
    match kinds[me] {
        Stackful => Box::new(coro::Coroutine::new(
            move |y: &coro::Yielder<(), String>, ()| {
                chain.borrow_mut().push(coro::running().unwrap());
                if innermost {
                    check(&chain, kinds, me, Status::Dead);
                    y.suspend(format!("suspended at {me}"));
                    check(&chain, kinds, me, Status::Dead);
                    return format!("returned at {me}");
                }
                let mut next = level(kinds, me + 1, chain.clone());
                let value = next.resume(()).unwrap().yielded().unwrap();
                check(&chain, kinds, me, Status::Suspended);
                y.suspend(format!("{value}, via {me}"));
                check(&chain, kinds, me, Status::Suspended);
                let value = next.resume(()).unwrap().returned().unwrap();
                check(&chain, kinds, me, Status::Dead);
                format!("{value}, via {me}")
            },
        )),
        Stackless => Box::new(stackless::Coroutine::new(
            move |y: stackless::Yielder<(), String>, ()| async move {
                chain.borrow_mut().push(coro::running().unwrap());
                if innermost {
                    check(&chain, kinds, me, Status::Dead);
                    y.suspend(format!("suspended at {me}")).await;
                    check(&chain, kinds, me, Status::Dead);
                    return format!("returned at {me}");
                }
                let mut next = level(kinds, me + 1, chain.clone());
                let value = next.resume(()).unwrap().yielded().unwrap();
                check(&chain, kinds, me, Status::Suspended);
                y.suspend(format!("{value}, via {me}")).await;
                check(&chain, kinds, me, Status::Suspended);
                let value = next.resume(()).unwrap().returned().unwrap();
                check(&chain, kinds, me, Status::Dead);
                format!("{value}, via {me}")
            },
        )),
    }
}

/// Runs a chain of `kinds` from the thread's own stack and checks what comes
/// out, and the statuses seen from outside, at each step.
fn run_chain(kinds: &'static [Kind]) {
    let chain: Chain = Rc::default();
    let mut top = level(kinds, 0, chain.clone());
    let statuses = || {
        chain
            .borrow()
            .iter()
            .map(Handle::status)
            .collect::<Vec<_>>()
    };
    let via: String = (0..kinds.len() - 1)
        .rev()
        .map(|i| format!(", via {i}"))
        .collect();

    let suspended = top.resume(()).unwrap();
    assert_eq!(
        suspended,
        Resumed::Yield(format!("suspended at {}{via}", kinds.len() - 1))
    );
    assert_eq!(statuses(), vec![Status::Suspended; kinds.len()]);
    assert!(coro::running().is_none());
    assert!(!coro::is_yieldable());

    let returned = top.resume(()).unwrap();
    assert_eq!(
        returned,
        Resumed::Return(format!("returned at {}{via}", kinds.len() - 1))
    );
    assert_eq!(statuses(), vec![Status::Dead; kinds.len()]);
    assert_eq!(top.status(), Status::Dead);
}

#[test]
fn stackful_resumes_stackless() {
    run_chain(&[Stackful, Stackless]);
}

#[test]
fn stackless_resumes_stackful() {
    run_chain(&[Stackless, Stackful]);
}

// Three levels alternating, both ways round: inside the innermost the two
// outer ones are Normal and `running()` is the innermost.
#[test]
fn three_levels_alternating_from_stackful() {
    run_chain(&[Stackful, Stackless, Stackful]);
}

#[test]
fn three_levels_alternating_from_stackless() {
    run_chain(&[Stackless, Stackful, Stackless]);
}

#[test]
fn eight_levels_in_mixed_runs() {
    run_chain(&[
        Stackless, Stackless, Stackful, Stackful, Stackless, Stackful, Stackless, Stackless,
    ]);
}

/// What the deepest level of a nesting chain saw.
#[derive(Debug)]
struct Deepest {
    depth: usize,
    statuses: Vec<Status>,
    refused: Result<Resumed<String, String>, Error>,
    target_status: Status,
}

type Target = Rc<RefCell<Level<String>>>;

/// Level `depth` (1-based) of a chain alternating kinds from `first`; the
/// deepest, at `length`, resumes `target` and reports.
fn nested(
    depth: usize,
    length: usize,
    first: Kind,
    chain: Chain,
    target: Target,
) -> Level<Deepest> {
    let kind = if depth % 2 == 1 {
        first
    } else if first == Stackful {
        Stackless
    } else {
        Stackful
    };
    // The body of every level; `None` once it went one level further.
    let step = move |chain: &Chain, target: &Target| -> Option<Deepest> {
        chain.borrow_mut().push(coro::running().unwrap());
        if depth < length {
            return None;
        }
        let mut target = target.borrow_mut();
        let refused = target.resume(());
        Some(Deepest {
            depth,
            statuses: chain.borrow().iter().map(Handle::status).collect(),
            refused,
            target_status: target.status(),
        })
    };
    match kind {
        Stackful => Box::new(coro::Coroutine::new(
            move |_: &coro::Yielder<(), String>, ()| {
                step(&chain, &target).unwrap_or_else(|| {
                    let mut next = nested(depth + 1, length, first, chain, target);
                    next.resume(()).unwrap().returned().unwrap()
                })
            },
        )),
        Stackless => Box::new(stackless::Coroutine::new(
            move |_: stackless::Yielder<(), String>, ()| async move {
                step(&chain, &target).unwrap_or_else(|| {
                    let mut next = nested(depth + 1, length, first, chain, target);
                    next.resume(()).unwrap().returned().unwrap()
                })
            },
        )),
    }
}

/// Runs a chain of `length` alternating levels whose deepest resumes a
/// target of kind `target_kind`; returns what the deepest saw, after
/// checking that the target, whatever happened, can then be resumed from the
/// thread's own stack if it was refused.
fn run_nesting(length: usize, first: Kind, target_kind: Kind) -> Deepest {
    let target: Target = Rc::new(RefCell::new(match target_kind {
        Stackful => Box::new(coro::Coroutine::new(|_: &coro::Yielder<(), String>, ()| {
            "target ran".to_string()
        })),
        Stackless => Box::new(stackless::Coroutine::new(
            |_: stackless::Yielder<(), String>, ()| async { "target ran".to_string() },
        )),
    }));
    let chain: Chain = Rc::default();
    let mut top = nested(1, length, first, chain.clone(), target.clone());
    let deepest = top.resume(()).unwrap().returned().unwrap();
    assert_eq!(deepest.depth, length);
    let mut want = vec![Status::Normal; length - 1];
    want.push(Status::Running);
    assert_eq!(deepest.statuses, want);
    assert!(chain.borrow().iter().all(|h| h.status() == Status::Dead));
    if deepest.refused.is_err() {
        let mut target = target.borrow_mut();
        assert_eq!(target.status(), Status::Suspended);
        assert_eq!(
            target.resume(()).unwrap(),
            Resumed::Return("target ran".to_string())
        );
    }
    deepest
}

// MAX_NESTING counts both kinds together: in a chain alternating kinds, the
// 200th level runs, and its resume of a 201st (of either kind) fails with
// TooDeep, leaving the target suspended and untouched.
#[test]
fn nesting_limit_counts_both_kinds() {
    assert_eq!(MAX_NESTING, 200);
    for first in [Stackful, Stackless] {
        for target in [Stackful, Stackless] {
            let deepest = run_nesting(MAX_NESTING, first, target);
            match &deepest.refused {
                Err(err @ Error::TooDeep) => assert_eq!(err.to_string(), "C stack overflow"),
                other => panic!("{first:?} chain, {target:?} target: {other:?}"),
            }
            assert_eq!(deepest.target_status, Status::Suspended);
        }
    }
}

// One level shorter, the same resume is allowed: the target runs as the
// 200th, and returns.
#[test]
fn two_hundredth_level_runs_in_a_mixed_chain() {
    for first in [Stackful, Stackless] {
        for target in [Stackful, Stackless] {
            let deepest = run_nesting(MAX_NESTING - 1, first, target);
            assert_eq!(
                deepest.refused.unwrap(),
                Resumed::Return("target ran".to_string()),
                "{first:?} chain, {target:?} target"
            );
            assert_eq!(deepest.target_status, Status::Dead);
        }
    }
}

/// Plain code that tries to suspend with the types of the stackful
/// coroutine outside.
fn try_to_suspend_the_outer_one() -> Result<(), Error> {
    coro::suspend::<u32, ()>(99)
}

// A stackless body nested inside a stackful coroutine calls the free
// `suspend` with the stackful one's very types: AcrossBoundary, and the
// stackful coroutine is not suspended — its resume runs straight on to the
// return.
#[test]
fn free_suspend_in_a_stackless_body_never_suspends_the_stackful_outside() {
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let l = log.clone();
    let mut outer = coro::Coroutine::new(move |_: &coro::Yielder<(), u32>, ()| {
        let l2 = l.clone();
        let mut inner =
            stackless::Coroutine::new(move |y: stackless::Yielder<(), u8>, ()| async move {
                let direct = coro::suspend::<u32, ()>(98);
                let nested = try_to_suspend_the_outer_one();
                l2.borrow_mut()
                    .push(format!("inner: yieldable {}", coro::is_yieldable()));
                y.suspend(1).await;
                (direct, nested)
            });
        let outer_yieldable = coro::is_yieldable();
        l.borrow_mut()
            .push(format!("outer: yieldable {outer_yieldable}"));
        assert_eq!(inner.resume(()).unwrap().yielded(), Some(1));
        l.borrow_mut().push("outer: inner suspended".into());
        let (direct, nested) = inner.resume(()).unwrap().returned().unwrap();
        l.borrow_mut().push("outer: inner returned".into());
        for result in [direct, nested] {
            match result {
                Err(err @ Error::AcrossBoundary) => {
                    l.borrow_mut().push(format!("outer: inner got \"{err}\""))
                }
                other => l.borrow_mut().push(format!("outer: inner got {other:?}")),
            }
        }
        7
    });
    assert_eq!(outer.resume(()).unwrap(), Resumed::Return(7));
    let across = "outer: inner got \"attempt to yield across a C-call boundary\"";
    assert_eq!(
        *log.borrow(),
        [
            "outer: yieldable true",
            "inner: yieldable false",
            "outer: inner suspended",
            "outer: inner returned",
            across,
            across,
        ]
    );
}

// The reverse: a stackful coroutine nested inside a stackless body suspends
// itself with the free `suspend` (it is yieldable), and only itself: the
// stackless resumer receives the value.
#[test]
fn free_suspend_in_a_stackful_body_inside_a_stackless_one() {
    let mut outer = stackless::Coroutine::new(|y: stackless::Yielder<(), String>, ()| async move {
        let mut inner = coro::Coroutine::new(|_: &coro::Yielder<u32, u32>, first: u32| {
            assert!(coro::is_yieldable());
            let second: u32 = coro::suspend(first * 2).unwrap();
            second + 1
        });
        let yielded = inner.resume(5).unwrap().yielded().unwrap();
        y.suspend(format!("inner yielded {yielded}")).await;
        let returned = inner.resume(yielded).unwrap().returned().unwrap();
        format!("inner returned {returned}")
    });
    assert_eq!(
        outer.resume(()).unwrap(),
        Resumed::Yield("inner yielded 10".to_string())
    );
    assert_eq!(
        outer.resume(()).unwrap(),
        Resumed::Return("inner returned 11".to_string())
    );
}

// A stackful generator fed by a stackless one, and a stackless generator fed
// by a stackful one: `into_iter` works across kinds, inside either kind.
#[test]
fn generators_feed_each_other_across_kinds() {
    let squares = stackless::Coroutine::new(|y: stackless::Yielder<(), u32>, ()| async move {
        for n in 1..=4 {
            y.suspend(n * n).await;
        }
    });
    let doubled = coro::Coroutine::new(move |y: &coro::Yielder<(), u32>, ()| {
        for n in squares {
            y.suspend(n * 2);
        }
    });
    let labelled =
        stackless::Coroutine::new(move |y: stackless::Yielder<(), String>, ()| async move {
            for n in doubled {
                y.suspend(format!("<{n}>")).await;
            }
        });
    let all: Vec<String> = labelled.into_iter().collect();
    assert_eq!(all, ["<2>", "<8>", "<18>", "<32>"]);
}

/// Pushes its name, and what it saw of the chain, to a log when dropped.
struct Witness {
    name: &'static str,
    log: Rc<RefCell<Vec<String>>>,
    watch: Rc<RefCell<Vec<Handle>>>,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let statuses: Vec<String> = self
            .watch
            .borrow()
            .iter()
            .map(|h| h.status().to_string())
            .collect();
        let running = coro::running();
        let me = self
            .watch
            .borrow()
            .iter()
            .position(|h| Some(h) == running.as_ref());
        self.log.borrow_mut().push(format!(
            "{} dropped: [{}], running {me:?}",
            self.name,
            statuses.join(", ")
        ));
    }
}

// Closing a stackless coroutine that owns a suspended stackful generator
// closes that one too, nested like a resume: its locals go first, dropped
// while it is running and the stackless one is normal; then the stackless
// one's locals, while it is running.
#[test]
fn closing_a_stackless_coroutine_closes_the_stackful_one_it_owns() {
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let watch: Rc<RefCell<Vec<Handle>>> = Rc::default();
    let (l, w) = (log.clone(), watch.clone());
    let mut outer =
        stackless::Coroutine::new(move |y: stackless::Yielder<(), u32>, ()| async move {
            w.borrow_mut().push(coro::running().unwrap());
            let _outer = Witness {
                name: "stackless local",
                log: l.clone(),
                watch: w.clone(),
            };
            let (l2, w2) = (l.clone(), w.clone());
            let inner = coro::Coroutine::new(move |y: &coro::Yielder<(), u32>, ()| {
                w2.borrow_mut().push(coro::running().unwrap());
                let _inner = Witness {
                    name: "stackful local",
                    log: l2,
                    watch: w2,
                };
                for n in 0.. {
                    y.suspend(n);
                }
            });
            for n in inner {
                y.suspend(n).await;
            }
        });
    assert_eq!(outer.resume(()).unwrap(), Resumed::Yield(0));
    assert_eq!(outer.resume(()).unwrap(), Resumed::Yield(1));
    outer.close().unwrap();
    assert_eq!(
        *log.borrow(),
        [
            "stackful local dropped: [normal, running], running Some(1)",
            "stackless local dropped: [running, dead], running Some(0)",
        ]
    );
    assert!(watch.borrow().iter().all(|h| h.status() == Status::Dead));
}

// The reverse: closing a stackful coroutine that owns a suspended stackless
// one; the stackless frame is dropped during the stackful one's unwind.
#[test]
fn closing_a_stackful_coroutine_closes_the_stackless_one_it_owns() {
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let watch: Rc<RefCell<Vec<Handle>>> = Rc::default();
    let (l, w) = (log.clone(), watch.clone());
    let mut outer = coro::Coroutine::new(move |y: &coro::Yielder<(), u32>, ()| {
        w.borrow_mut().push(coro::running().unwrap());
        let _outer = Witness {
            name: "stackful local",
            log: l.clone(),
            watch: w.clone(),
        };
        let (l2, w2) = (l.clone(), w.clone());
        let inner =
            stackless::Coroutine::new(move |y: stackless::Yielder<(), u32>, ()| async move {
                w2.borrow_mut().push(coro::running().unwrap());
                let _inner = Witness {
                    name: "stackless local",
                    log: l2,
                    watch: w2,
                };
                for n in 0.. {
                    y.suspend(n).await;
                }
            });
        for n in inner {
            y.suspend(n);
        }
    });
    assert_eq!(outer.resume(()).unwrap(), Resumed::Yield(0));
    assert_eq!(outer.resume(()).unwrap(), Resumed::Yield(1));
    outer.close().unwrap();
    assert_eq!(
        *log.borrow(),
        [
            "stackless local dropped: [normal, running], running Some(1)",
            "stackful local dropped: [running, dead], running Some(0)",
        ]
    );
    assert!(watch.borrow().iter().all(|h| h.status() == Status::Dead));
}

// A stackful coroutine, resumed from a stackless body, polls that body's
// suspension by hand (the stackless coroutine is mid-poll, its values lent
// out, but it is not the running one): a panic with a clear message, caught
// as the stackful coroutine's error; the stackless one carries on.
#[test]
fn stackful_coroutine_cannot_poll_its_resumers_suspension() {
    use std::future::Future;
    use std::task::{Context, Waker};

    let mut outer =
        stackless::Coroutine::new(|y: stackless::Yielder<u32, u32>, _: u32| async move {
            let y = Rc::new(y);
            let stolen = y.clone();
            let mut inner = coro::Coroutine::new(move |_: &coro::Yielder<(), ()>, ()| {
                let mut suspension = Box::pin(stolen.suspend(1));
                let _ = suspension
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()));
            });
            let message = match inner.resume(()) {
                Err(Error::Panic(p)) => p.message().to_string(),
                other => format!("{other:?}"),
            };
            let input = y.suspend(2).await;
            (message, input)
        });
    assert_eq!(outer.resume(0).unwrap().yielded(), Some(2));
    let (message, input) = outer.resume(3).unwrap().returned().unwrap();
    assert_eq!(
        message,
        "a stackless coroutine's suspension was awaited outside its own resume"
    );
    assert_eq!(input, 3);
}
