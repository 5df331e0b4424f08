//! The free `coro::suspend`, Lua's global `coroutine.yield`: suspending the
//! running coroutine from any depth of plain calls, without a `Yielder`.
//!
//! Stackful only: a stackless body can only suspend from async frames, by
//! awaiting its `Yielder`; the free `suspend` in its synchronous code
//! returns `Error::AcrossBoundary` (see the stackless tests,
//! tests/stackless_*.rs). Where no coroutine runs at all, the free `suspend`
//! fails the same way for both (tests/conformance/model.rs and status.rs).

// Only where coro builds its stackful backend (x86_64 and aarch64 Unix).
#![cfg(coro_stackful)]

mod common;

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;

use common::Tracker;
use coro::{Builder, Coroutine, Error, Resumed, Status, Yielder};

/// Recurses `n` levels with a little data in each frame; the deepest level
/// suspends twice. Returns a sum that depends on every frame and on what the
/// resumer answered.
#[inline(never)]
fn descend(n: u64) -> u64 {
    let frame = black_box([n; 4]);
    if n == 0 {
        let a: u64 = coro::suspend(1_u64).unwrap();
        let b: u64 = coro::suspend(a + 1).unwrap();
        return a * b;
    }
    let below = descend(n - 1);
    black_box(frame)[3] + below
}

// Suspending from 10,000 levels of plain recursion, and coming back up with
// every frame intact.
#[test]
fn suspend_from_ten_thousand_levels_deep() {
    const LEVELS: u64 = 10_000;
    let mut co = Builder::new()
        .stack_size(16 * 1024 * 1024)
        .build(|_: &Yielder<u64, u64>, _: u64| descend(LEVELS))
        .unwrap();
    assert_eq!(co.resume(0).unwrap(), Resumed::Yield(1));
    assert_eq!(co.resume(20).unwrap(), Resumed::Yield(21));
    let expected = 20 * 30 + LEVELS * (LEVELS + 1) / 2;
    assert_eq!(co.resume(30).unwrap(), Resumed::Return(expected));
}

// A coroutine closed while suspended 10,000 levels deep drops the locals of
// every level.
#[test]
fn close_from_ten_thousand_levels_deep() {
    fn hold(n: usize, tracker: &Tracker) {
        let _t = tracker.make();
        if n == 0 {
            coro::suspend::<(), ()>(()).unwrap();
            unreachable!("closed");
        }
        hold(n - 1, tracker);
    }
    let tracker = Tracker::new();
    let t = tracker.clone();
    let mut co = Builder::new()
        .stack_size(16 * 1024 * 1024)
        .build(move |_: &Yielder<(), ()>, ()| hold(9_999, &t))
        .unwrap();
    co.resume(()).unwrap();
    assert_eq!(tracker.alive(), 10_000);
    co.close().unwrap();
    assert_eq!(tracker.made(), 10_000);
    tracker.assert_all_dropped_once();
}

// The free suspend and the yielder are interchangeable within one body.
#[test]
fn free_suspend_and_yielder_mix() {
    fn helper(v: i32) -> i32 {
        coro::suspend::<i32, i32>(v).unwrap()
    }
    let mut co = Coroutine::new(|y: &Yielder<i32, i32>, a: i32| {
        let b = y.suspend(a + 1);
        let c = helper(b + 1);
        let d = y.suspend(c + 1);
        helper(d + 1) + 1000
    });
    assert_eq!(co.resume(0).unwrap(), Resumed::Yield(1));
    assert_eq!(co.resume(10).unwrap(), Resumed::Yield(11));
    assert_eq!(co.resume(20).unwrap(), Resumed::Yield(21));
    assert_eq!(co.resume(30).unwrap(), Resumed::Yield(31));
    assert_eq!(co.resume(40).unwrap(), Resumed::Return(1040));
}

// The free suspend's type parameters come in the order of use, `<Y, I>`:
// the value goes out, the input comes back. `Y` is inferred from the
// argument and `I` from the use of the result; a turbofish names the yield
// type first.
#[test]
fn free_suspend_takes_yield_then_input() {
    let mut co = Coroutine::new(|_: &Yielder<bool, &'static str>, first: bool| {
        let second = coro::suspend::<&'static str, bool>("ready?").unwrap();
        let third: bool = coro::suspend("sure?").unwrap();
        [first, second, third]
    });
    assert_eq!(co.resume(true).unwrap(), Resumed::Yield("ready?"));
    assert_eq!(co.resume(false).unwrap(), Resumed::Yield("sure?"));
    assert_eq!(
        co.resume(true).unwrap(),
        Resumed::Return([true, false, true])
    );
}

// Wrong types give `TypeMismatch` naming both sides; the value is dropped and
// nothing else happens: the coroutine goes on and suspends normally after.
#[test]
fn type_mismatch_leaves_the_coroutine_usable() {
    let tracker = Tracker::new();
    let t = tracker.clone();
    let mut co = Coroutine::new(move |y: &Yielder<u8, u16>, first: u8| {
        let wrong_input = coro::suspend::<u16, u32>(7).unwrap_err();
        let wrong_yield = coro::suspend::<common::Tracked, u8>(t.make()).unwrap_err();
        let next = y.suspend(u16::from(first) + 1);
        let again = coro::suspend::<u16, u8>(u16::from(next) + 1).unwrap();
        (wrong_input, wrong_yield, again)
    });
    assert_eq!(co.resume(1).unwrap().yielded(), Some(2));
    assert_eq!(tracker.made(), 1);
    tracker.assert_all_dropped_once();
    assert_eq!(co.resume(5).unwrap().yielded(), Some(6));
    let (wrong_input, wrong_yield, again) = co.resume(9).unwrap().returned().unwrap();
    assert_eq!(again, 9);

    match &wrong_input {
        Error::TypeMismatch { expected, found } => {
            assert_eq!(*expected, ("u8", "u16"));
            assert_eq!(*found, ("u32", "u16"));
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    let text = wrong_input.to_string();
    assert!(text.contains("`u32`") && text.contains("`u8`"), "{text}");
    match &wrong_yield {
        Error::TypeMismatch { expected, found } => {
            assert_eq!(*expected, ("u8", "u16"));
            assert_eq!(found.0, "u8");
            assert!(found.1.contains("Tracked"), "{}", found.1);
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
}

// Input and yield types swapped are a mismatch too, even when both are
// plain integers of the same size.
#[test]
fn swapped_types_are_a_mismatch() {
    let mut co = Coroutine::<i32, u32, bool>::new(|_, _| {
        matches!(
            coro::suspend::<i32, u32>(1),
            Err(Error::TypeMismatch { .. })
        )
    });
    assert_eq!(co.resume(0).unwrap(), Resumed::Return(true));
}

// In nested coroutines the free suspend suspends the innermost, running one:
// its value goes to that coroutine's resumer, not further out.
#[test]
fn suspends_the_innermost_coroutine() {
    let mut outer = Coroutine::new(|y: &Yielder<(), &'static str>, ()| {
        let mut inner = Coroutine::<(), &'static str, ()>::new(|_, ()| {
            coro::suspend::<&'static str, ()>("from inner").unwrap();
        });
        let got = inner.resume(()).unwrap().yielded().unwrap();
        assert_eq!(inner.status(), Status::Suspended);
        y.suspend(got);
        coro::suspend::<&'static str, ()>("from outer").unwrap();
        inner.resume(()).unwrap().is_return()
    });
    assert_eq!(outer.resume(()).unwrap(), Resumed::Yield("from inner"));
    assert_eq!(outer.resume(()).unwrap(), Resumed::Yield("from outer"));
    assert_eq!(outer.resume(()).unwrap(), Resumed::Return(true));
}

// A coroutine can suspend from inside a closure handed to std's sort: the
// comparator asks the resumer to compare, and the resumer answers.
#[test]
fn suspend_from_a_sort_comparator() {
    use std::cmp::Ordering;
    let questions = Rc::new(Cell::new(0));
    let mut co = Coroutine::new(|_: &Yielder<Ordering, (u32, u32)>, _: Ordering| {
        let mut v: Vec<u32> = vec![5, 3, 9, 1, 7, 2, 8, 6, 4, 0];
        v.sort_by(|a, b| coro::suspend((*a, *b)).unwrap());
        v
    });
    let mut answer = Ordering::Equal;
    let sorted = loop {
        match co.resume(answer).unwrap() {
            Resumed::Yield((a, b)) => {
                questions.set(questions.get() + 1);
                answer = a.cmp(&b);
            }
            Resumed::Return(v) => break v,
        }
    };
    assert_eq!(sorted, (0..10).collect::<Vec<u32>>());
    assert!(questions.get() >= 9, "{} comparisons", questions.get());
}

// The free suspend through a `dyn` call and an iterator adapter.
#[test]
fn suspend_through_trait_objects_and_adapters() {
    let produce: Box<dyn Fn(u32) -> u32> = Box::new(|x| coro::suspend::<u32, u32>(x).unwrap());
    let mut co = Coroutine::new(move |_: &Yielder<u32, u32>, _: u32| {
        (1..=3).map(|x| produce(x * 10)).sum::<u32>()
    });
    assert_eq!(co.resume(0).unwrap(), Resumed::Yield(10));
    assert_eq!(co.resume(1).unwrap(), Resumed::Yield(20));
    assert_eq!(co.resume(2).unwrap(), Resumed::Yield(30));
    assert_eq!(co.resume(3).unwrap(), Resumed::Return(6));
}
