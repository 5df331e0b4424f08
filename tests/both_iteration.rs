//! Iteration and Lua's `coroutine.wrap`, on both backends: a generator's
//! iterator (`into_iter()`, `IntoIter`) keeps the body's return value
//! reachable once the iteration is over, and `wrap()` (`Wrap`) makes a
//! coroutine of any input type a function that resumes it with its argument.
//!
//! Both raise errors in the caller as Lua's `wrap` does: the body's panic is
//! re-raised with its own payload, and a call after the end panics with
//! "cannot resume dead coroutine"; the iterator instead stays ended, as a
//! fused iterator does.
//!
//! The checks are written once, over the `Resume` trait, and each backend
//! builds the same coroutines for them.

mod common;

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};

use coro::{Resume, Status};

/// Runs `f`, which must panic, with the panic hook silenced; returns its
/// payload.
fn panic_of(f: impl FnOnce()) -> Box<dyn std::any::Any + Send> {
    // One at a time: the hook is the process's, and tests run in parallel.
    static HOOK: Mutex<()> = Mutex::new(());
    let _one = HOOK.lock().unwrap_or_else(PoisonError::into_inner);
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let caught = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(hook);
    caught.expect_err("expected a panic")
}

/// The text of a `&str` or `String` payload.
fn message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .expect("a text payload")
}

/// The payload the panicking bodies below panic with: not text, so that a
/// re-raise that rewrapped it as a message would show.
#[derive(Debug, PartialEq)]
struct Boom(u32);

// ---- the checks, over `Resume` ---------------------------------------------

/// `counted` yields 1, 2, 3 and returns "three".
fn iteration_keeps_the_return_value<C>(counted: C)
where
    C: Resume<(), Yield = u32, Return = &'static str>,
{
    let mut iter = coro::IntoIter::from(counted);
    assert_eq!(iter.returned(), None);
    let yielded: Vec<u32> = iter.by_ref().collect();
    assert_eq!(yielded, [1, 2, 3]);
    assert_eq!(iter.returned(), Some(&"three"));
    assert_eq!(iter.coroutine().status(), Status::Dead);
    // Fused: the end stays the end, and the value stays.
    assert_eq!(iter.next(), None);
    assert_eq!(iter.next(), None);
    assert_eq!(iter.returned(), Some(&"three"));
    assert_eq!(iter.into_returned(), Some("three"));
}

/// `counted` as above: taken only partly, nothing is returned.
fn a_partial_iteration_returns_nothing<C>(counted: C)
where
    C: Resume<(), Yield = u32, Return = &'static str>,
{
    let mut iter = coro::IntoIter::from(counted);
    assert_eq!(iter.by_ref().take(2).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(iter.returned(), None);
    assert_eq!(iter.coroutine().status(), Status::Suspended);
    assert_eq!(iter.next(), Some(3));
    assert_eq!(iter.next(), None);
    assert_eq!(iter.into_returned(), Some("three"));
}

/// `panicking` yields 7, then panics with `Boom(7)`.
fn iteration_re_raises_the_panic_and_returns_nothing<C>(panicking: C)
where
    C: Resume<(), Yield = u32, Return = &'static str>,
{
    let mut iter = coro::IntoIter::from(panicking);
    assert_eq!(iter.next(), Some(7));
    let payload = panic_of(|| {
        iter.next();
    });
    assert_eq!(payload.downcast_ref::<Boom>(), Some(&Boom(7)));
    assert_eq!(iter.coroutine().status(), Status::Dead);
    assert_eq!(iter.next(), None);
    assert_eq!(iter.returned(), None);
}

/// `counted` as above, run to its end before the iteration starts.
fn a_dead_coroutine_iterates_empty<C>(mut counted: C)
where
    C: Resume<(), Yield = u32, Return = &'static str>,
{
    while counted.resume(()).unwrap().is_yield() {}
    let mut iter = coro::IntoIter::from(counted);
    assert_eq!(iter.next(), None);
    assert_eq!(iter.returned(), None);
}

/// `adder` sums its inputs, yields the running sum, and returns the count
/// of inputs when handed 0.
fn wrap_resumes_with_each_argument<C>(adder: C)
where
    C: Resume<u32, Yield = u32, Return = usize>,
{
    let mut add = adder.wrap();
    assert_eq!(add.returned(), None);
    assert_eq!(add.call(5), Some(5));
    assert_eq!(add.call(7), Some(12));
    assert_eq!(add.call(30), Some(42));
    assert_eq!(add.coroutine().status(), Status::Suspended);
    assert_eq!(add.call(0), None);
    assert_eq!(add.returned(), Some(&3));
    assert_eq!(add.coroutine().status(), Status::Dead);
    // Lua: calling the wrapped function of a dead coroutine raises
    // "cannot resume dead coroutine".
    let payload = panic_of(|| {
        add.call(1);
    });
    assert_eq!(message(&*payload), "cannot resume dead coroutine");
    // The value survives the failed call.
    assert_eq!(add.into_returned(), Some(3));
}

/// `adder` as above: a `Wrap` used as a closure, and through `by_ref`-like
/// borrowing in an iterator adapter.
fn wrap_serves_as_a_closure<C>(adder: C)
where
    C: Resume<u32, Yield = u32, Return = usize>,
{
    let mut add = adder.wrap();
    let sums: Vec<u32> = [1, 2, 3, 4]
        .into_iter()
        .map_while(|n| add.call(n))
        .collect();
    assert_eq!(sums, [1, 3, 6, 10]);
    assert_eq!(add.call(0), None);
    assert_eq!(add.into_returned(), Some(4));
}

/// `panicking` takes a number, yields it, and panics with `Boom` of the
/// next one.
fn wrap_re_raises_the_panic<C>(panicking: C)
where
    C: Resume<u32, Yield = u32, Return = &'static str>,
{
    let mut f = panicking.wrap();
    assert_eq!(f.call(3), Some(3));
    let payload = panic_of(|| {
        f.call(9);
    });
    assert_eq!(payload.downcast_ref::<Boom>(), Some(&Boom(9)));
    assert_eq!(f.coroutine().status(), Status::Dead);
    assert_eq!(f.returned(), None);
    let payload = panic_of(|| {
        f.call(1);
    });
    assert_eq!(message(&*payload), "cannot resume dead coroutine");
}

/// `adder` as above, with a live local tracked by `tracker`: a `Wrap`
/// dropped while the body is suspended closes the coroutine.
fn dropping_a_wrap_closes_the_coroutine<C>(adder: C, tracker: &common::Tracker)
where
    C: Resume<u32, Yield = u32, Return = usize>,
{
    let mut add = adder.wrap();
    assert_eq!(add.call(1), Some(1));
    assert_eq!(tracker.alive(), 1);
    let handle = add.coroutine().handle();
    drop(add);
    assert_eq!(handle.status(), Status::Dead);
    tracker.assert_all_dropped_once();
}

// ---- the stackful backend --------------------------------------------------

#[cfg(coro_stackful)]
mod stackful {
    use super::*;
    use coro::{Coroutine, Yielder};

    fn counted() -> Coroutine<(), u32, &'static str> {
        Coroutine::new(|y, ()| {
            for n in 1..=3 {
                y.suspend(n);
            }
            "three"
        })
    }

    fn adder(tracker: Option<common::Tracker>) -> Coroutine<u32, u32, usize> {
        Coroutine::new(move |y, mut n: u32| {
            let _tracked = tracker.as_ref().map(common::Tracker::make);
            let (mut sum, mut count) = (0, 0);
            while n != 0 {
                sum += n;
                count += 1;
                n = y.suspend(sum);
            }
            count
        })
    }

    #[test]
    fn iteration_keeps_the_return_value() {
        super::iteration_keeps_the_return_value(counted());
        // And through `IntoIterator`, as a `for` loop uses it.
        let mut iter = counted().into_iter();
        let mut sum = 0;
        for n in &mut iter {
            sum += n;
        }
        assert_eq!((sum, iter.returned()), (6, Some(&"three")));
    }

    #[test]
    fn a_partial_iteration_returns_nothing() {
        super::a_partial_iteration_returns_nothing(counted());
    }

    #[test]
    fn iteration_re_raises_the_panic_and_returns_nothing() {
        super::iteration_re_raises_the_panic_and_returns_nothing(Coroutine::new(|y, ()| {
            y.suspend(7);
            panic::panic_any(Boom(7))
        }));
    }

    #[test]
    fn a_dead_coroutine_iterates_empty() {
        super::a_dead_coroutine_iterates_empty(counted());
    }

    #[test]
    fn wrap_resumes_with_each_argument() {
        super::wrap_resumes_with_each_argument(adder(None));
    }

    #[test]
    fn wrap_serves_as_a_closure() {
        super::wrap_serves_as_a_closure(adder(None));
    }

    #[test]
    fn wrap_re_raises_the_panic() {
        super::wrap_re_raises_the_panic(Coroutine::new(|y: &Yielder<u32, u32>, n| {
            let next = y.suspend(n);
            panic::panic_any(Boom(next))
        }));
    }

    #[test]
    fn dropping_a_wrap_closes_the_coroutine() {
        let tracker = common::Tracker::new();
        super::dropping_a_wrap_closes_the_coroutine(adder(Some(tracker.clone())), &tracker);
    }

    // The inherent `wrap` and the trait's give the same thing; `Debug` says
    // what it is.
    #[test]
    fn wrap_by_trait_and_debug() {
        let mut add = Resume::wrap(adder(None));
        assert_eq!(add.call(2), Some(2));
        let text = format!("{add:?}");
        assert!(text.starts_with("Wrap"), "{text}");
        assert!(text.contains("Suspended"), "{text}");
        let text = format!("{:?}", counted().into_iter());
        assert!(
            text.contains("IntoIter") && text.contains("returned: false"),
            "{text}"
        );
    }

    // A body that returns at once: the first call returns `None`, and the
    // value is there.
    #[test]
    fn wrap_of_a_body_that_never_suspends() {
        let mut double = Coroutine::new(|_: &Yielder<u32, ()>, n: u32| n * 2).wrap();
        assert_eq!(double.call(21), None);
        assert_eq!(double.into_returned(), Some(42));
    }
}

// ---- the stackless backend -------------------------------------------------

mod stackless {
    use super::*;
    use coro::stackless::{Coroutine, Yielder};

    fn counted() -> Coroutine<(), u32, &'static str> {
        Coroutine::new(|y: Yielder<(), u32>, ()| async move {
            for n in 1..=3 {
                y.suspend(n).await;
            }
            "three"
        })
    }

    fn adder(tracker: Option<common::Tracker>) -> Coroutine<u32, u32, usize> {
        Coroutine::new(move |y: Yielder<u32, u32>, mut n: u32| async move {
            let _tracked = tracker.as_ref().map(common::Tracker::make);
            let (mut sum, mut count) = (0, 0);
            while n != 0 {
                sum += n;
                count += 1;
                n = y.suspend(sum).await;
            }
            count
        })
    }

    #[test]
    fn iteration_keeps_the_return_value() {
        super::iteration_keeps_the_return_value(counted());
        // The typed form too.
        let typed = Coroutine::typed(|y: Yielder<(), u32>, ()| async move {
            for n in 1..=3 {
                y.suspend(n).await;
            }
            "three"
        });
        super::iteration_keeps_the_return_value(typed);
    }

    #[test]
    fn a_partial_iteration_returns_nothing() {
        super::a_partial_iteration_returns_nothing(counted());
    }

    #[test]
    fn iteration_re_raises_the_panic_and_returns_nothing() {
        super::iteration_re_raises_the_panic_and_returns_nothing(Coroutine::new(
            |y: Yielder<(), u32>, ()| async move {
                y.suspend(7).await;
                panic::panic_any(Boom(7))
            },
        ));
    }

    #[test]
    fn a_dead_coroutine_iterates_empty() {
        super::a_dead_coroutine_iterates_empty(counted());
    }

    #[test]
    fn wrap_resumes_with_each_argument() {
        super::wrap_resumes_with_each_argument(adder(None));
    }

    #[test]
    fn wrap_serves_as_a_closure() {
        super::wrap_serves_as_a_closure(adder(None));
    }

    #[test]
    fn wrap_re_raises_the_panic() {
        super::wrap_re_raises_the_panic(Coroutine::new(|y: Yielder<u32, u32>, n| async move {
            let next = y.suspend(n).await;
            panic::panic_any(Boom(next))
        }));
    }

    #[test]
    fn dropping_a_wrap_closes_the_coroutine() {
        let tracker = common::Tracker::new();
        super::dropping_a_wrap_closes_the_coroutine(adder(Some(tracker.clone())), &tracker);
    }

    // Any other error of a resume panics with its message: here a body that
    // awaits a future no executor polls.
    #[test]
    fn wrap_raises_other_errors_with_their_message() {
        let mut f = Coroutine::new(|y: Yielder<u32, u32>, n| async move {
            let n = y.suspend(n).await;
            std::future::pending::<()>().await;
            n
        })
        .wrap();
        assert_eq!(f.call(1), Some(1));
        let payload = panic_of(|| {
            f.call(2);
        });
        assert_eq!(message(&*payload), coro::Error::NeedsExecutor.to_string());
        assert_eq!(f.coroutine().status(), Status::Dead);
    }
}
