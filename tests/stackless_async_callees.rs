//! Stackless backend: `async fn` callees suspend on behalf of the body.
//!
//! The body lends `&Yielder` to async functions it awaits, however deep;
//! every `.await` of a suspension in any of them suspends the whole
//! coroutine, values flow both ways through them, and each callee's own
//! locals live in the one heap frame.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use coro::stackless::{Coroutine, Yielder};
use coro::{Error, Resumed, Status};

/// Records the order in which named values are dropped.
#[derive(Clone, Default)]
struct DropLog(Rc<RefCell<Vec<String>>>);

impl DropLog {
    fn guard(&self, name: impl Into<String>) -> Guard {
        Guard {
            name: name.into(),
            log: self.clone(),
        }
    }

    fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

/// Pushes its name to a [`DropLog`] when dropped.
struct Guard {
    name: String,
    log: DropLog,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.log.0.borrow_mut().push(self.name.clone());
    }
}

type Y = Yielder<i64, i64>;

/// Third level: suspends twice and returns what it was told, combined.
async fn level3(y: &Y, base: i64) -> i64 {
    let a = y.suspend(base * 1000).await;
    let b = y.suspend(base * 1000 + a).await;
    a * b
}

/// Second level: suspends, calls the third level, suspends with its result.
async fn level2(y: &Y, base: i64) -> i64 {
    let a = y.suspend(base * 100).await;
    let deep = level3(y, base + a).await;
    let b = y.suspend(deep).await;
    deep + b
}

/// First level: wraps the second between two suspensions of its own.
async fn level1(y: &Y, base: i64) -> i64 {
    let a = y.suspend(base * 10).await;
    let middle = level2(y, a).await;
    y.suspend(-middle).await + middle
}

// Three levels of async callees below the body, each suspending before and
// after calling the next: every value yielded comes out of the right level,
// every input reaches the suspension that was pending, and each callee's
// return value reaches its caller after the callee suspended.
#[test]
fn values_flow_both_ways_through_three_levels() {
    let mut co = Coroutine::new(|y: Y, start: i64| async move {
        let top = level1(&y, start).await;
        format!("top {top}")
    });
    // body(start = 1) -> level1 suspends 10, gets a = 2
    assert_eq!(co.resume(1).unwrap(), Resumed::Yield(10));
    // level2(base = 2) suspends 200, gets a = 3
    assert_eq!(co.resume(2).unwrap(), Resumed::Yield(200));
    // level3(base = 5) suspends 5000, gets a = 4; suspends 5004, gets b = 6
    assert_eq!(co.resume(3).unwrap(), Resumed::Yield(5000));
    assert_eq!(co.status(), Status::Suspended);
    assert_eq!(co.resume(4).unwrap(), Resumed::Yield(5004));
    // level3 returns 4 * 6 = 24; level2 suspends with it, gets b = 7
    assert_eq!(co.resume(6).unwrap(), Resumed::Yield(24));
    // level2 returns 31; level1 suspends -31, gets 9, returns 40
    assert_eq!(co.resume(7).unwrap(), Resumed::Yield(-31));
    assert_eq!(co.resume(9).unwrap(), Resumed::Return("top 40".to_string()));
    assert_eq!(co.status(), Status::Dead);
    assert!(matches!(co.resume(0), Err(Error::Dead)));
}

/// Asks the resumer a question and returns the answer, reworded.
async fn ask(y: &Yielder<String, String>, question: &str) -> String {
    let answer = y.suspend(format!("{question}?")).await;
    format!("{question}: {answer}")
}

// A callee returns a value after suspending; owned values (Strings) travel
// both ways and the callee's result is used by the body.
#[test]
fn callee_returns_a_value_after_suspending() {
    let mut co = Coroutine::new(|y: Yielder<String, String>, greeting: String| async move {
        let name = ask(&y, "name").await;
        let colour = ask(&y, "colour").await;
        vec![greeting, name, colour]
    });
    assert_eq!(
        co.resume("hello".into()).unwrap(),
        Resumed::Yield("name?".to_string())
    );
    assert_eq!(
        co.resume("Ada".into()).unwrap(),
        Resumed::Yield("colour?".to_string())
    );
    assert_eq!(
        co.resume("green".into()).unwrap(),
        Resumed::Return(vec![
            "hello".to_string(),
            "name: Ada".to_string(),
            "colour: green".to_string()
        ])
    );
}

/// Recurses `depth` levels through boxed futures, suspending on the way
/// down and on the way up; returns the sum of every input it received.
fn descend(y: &Yielder<u64, u64>, depth: u64) -> Pin<Box<dyn Future<Output = u64> + '_>> {
    Box::pin(async move {
        if depth == 0 {
            return 0;
        }
        let down = y.suspend(depth).await;
        let below = descend(y, depth - 1).await;
        let up = y.suspend(1000 + depth).await;
        down + below + up
    })
}

// Deep recursion of async callees (boxed, since an async fn cannot contain
// itself): 100 levels, each suspending twice; the order of the suspensions
// and the sum of the inputs show that every level kept its own state.
#[test]
fn recursive_callees_suspend_at_every_level() {
    const DEPTH: u64 = 100;
    let mut co = Coroutine::new(|y: Yielder<u64, u64>, first: u64| async move {
        let sum = descend(&y, DEPTH).await;
        first + sum
    });
    let mut yielded = Vec::new();
    let mut input = 7;
    let total = loop {
        match co.resume(input).unwrap() {
            Resumed::Yield(v) => {
                yielded.push(v);
                input = v * 2;
            }
            Resumed::Return(sum) => break sum,
        }
    };
    let down: Vec<u64> = (1..=DEPTH).rev().collect();
    let up: Vec<u64> = (1..=DEPTH).map(|d| 1000 + d).collect();
    assert_eq!(yielded[..DEPTH as usize], down[..]);
    assert_eq!(yielded[DEPTH as usize..], up[..]);
    let expected: u64 = 7 + yielded.iter().map(|v| v * 2).sum::<u64>();
    assert_eq!(total, expected);
}

/// Holds a guard across its suspension, then calls `inner`.
async fn outer_callee(y: &Yielder<(), u32>, log: &DropLog) {
    let _outer = log.guard("outer callee");
    y.suspend(1).await;
    inner_callee(y, log).await;
}

/// Holds a guard across two suspensions.
async fn inner_callee(y: &Yielder<(), u32>, log: &DropLog) {
    let _inner = log.guard("inner callee");
    y.suspend(2).await;
    let _late = log.guard("inner callee, late");
    y.suspend(3).await;
    unreachable!("closed while suspended");
}

// Closing while suspended two callees deep drops every level's live locals,
// innermost (newest) first, then the body's, each once.
#[test]
fn close_drops_every_callee_level_newest_first() {
    let log = DropLog::default();
    let l = log.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), u32>, ()| async move {
        let _body = l.guard("body");
        outer_callee(&y, &l).await;
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(2));
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(3));
    assert!(log.entries().is_empty());
    co.close().unwrap();
    assert_eq!(
        log.entries(),
        ["inner callee, late", "inner callee", "outer callee", "body"]
    );
    assert_eq!(co.status(), Status::Dead);
    drop(co);
    assert_eq!(log.entries().len(), 4, "nothing dropped twice");
}

/// Suspends once, then panics with its guard alive.
async fn failing_callee(y: &Yielder<(), u32>, log: &DropLog) -> u32 {
    let _deep = log.guard("deep");
    y.suspend(1).await;
    panic!("deep callee failed");
}

// A panic in a callee after it suspended is the coroutine's panic: the
// resumer gets `Error::Panic` with the message, every level's locals are
// dropped once, and the coroutine is dead.
#[test]
fn panic_in_a_callee_after_suspending() {
    let log = DropLog::default();
    let l = log.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), u32>, ()| async move {
        let _body = l.guard("body");
        let n = failing_callee(&y, &l).await;
        y.suspend(n).await;
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    match co.resume(()) {
        Err(Error::Panic(payload)) => assert_eq!(payload.message(), "deep callee failed"),
        other => panic!("expected a panic, got {other:?}"),
    }
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(log.entries(), ["deep", "body"]);
    drop(co);
    assert_eq!(log.entries(), ["deep", "body"]);
}

/// Suspends `times` times with `tag`, `tag + 1`, ...; returns the inputs.
async fn several(y: &Yielder<char, u32>, tag: u32, times: u32) -> String {
    let mut got = String::new();
    for i in 0..times {
        got.push(y.suspend(tag + i).await);
    }
    got
}

// Futures are lazy: callee futures made first and awaited later suspend only
// when awaited, in the order they are awaited; a callee that does not
// suspend on its path (`times == 0`) runs straight through.
#[test]
fn callee_futures_suspend_only_when_awaited() {
    let mut co = Coroutine::new(|y: Yielder<char, u32>, _: char| async move {
        let first = several(&y, 10, 2);
        let second = several(&y, 20, 1);
        let none = several(&y, 30, 0);
        let b = second.await;
        let n = none.await;
        let a = first.await;
        format!("{a}|{b}|{n}")
    });
    assert_eq!(co.resume('_').unwrap(), Resumed::Yield(20));
    assert_eq!(co.resume('x').unwrap(), Resumed::Yield(10));
    assert_eq!(co.resume('y').unwrap(), Resumed::Yield(11));
    assert_eq!(
        co.resume('z').unwrap(),
        Resumed::Return("yz|x|".to_string())
    );
}

/// Generic over the coroutine's types: forwards each input back out,
/// transformed, until `map` gives `None`; returns every input.
async fn echo<I, Y>(y: &Yielder<I, Y>, first: Y, map: impl Fn(&I) -> Option<Y>) -> Vec<I> {
    let mut inputs = Vec::new();
    let mut next = first;
    loop {
        let input = y.suspend(next).await;
        match map(&input) {
            Some(out) => {
                next = out;
                inputs.push(input);
            }
            None => {
                inputs.push(input);
                return inputs;
            }
        }
    }
}

// A generic callee works with any `Yielder<I, Y>`: here non-`Copy` values
// (`Vec<String>` in, `Box<usize>` out) pass through it unchanged.
#[test]
fn generic_callee_passes_owned_values() {
    let mut co = Coroutine::new(|y: Yielder<Vec<String>, Box<usize>>, start| async move {
        let inputs = echo(&y, Box::new(start.len()), |v: &Vec<String>| {
            (!v.is_empty()).then(|| Box::new(v.len()))
        })
        .await;
        inputs.concat().join(",")
    });
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        co.resume(words(&["a", "b", "c"])).unwrap(),
        Resumed::Yield(Box::new(3))
    );
    assert_eq!(
        co.resume(words(&["d", "e"])).unwrap(),
        Resumed::Yield(Box::new(2))
    );
    assert_eq!(
        co.resume(words(&["f"])).unwrap(),
        Resumed::Yield(Box::new(1))
    );
    assert_eq!(
        co.resume(Vec::new()).unwrap(),
        Resumed::Return("d,e,f".to_string())
    );
}
