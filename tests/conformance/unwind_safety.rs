// Nothing leaked, nothing dropped twice: every value that goes into, through
// or out of a coroutine is dropped exactly once, however the coroutine ends.

use std::panic::{self, AssertUnwindSafe};

use common::{SendCounter, Tracked, Tracker};
use coro::{Error, Resumed, Status};

type Co = Coroutine<Tracked, Tracked, Tracked>;

// Inputs, yields and the return value: each one moved, never copied.
#[test]
fn values_through_yield_and_return() {
    let tracker = Tracker::new();
    let t = tracker.clone();
    let mut co: Co = coroutine!(Tracked, Tracked, Tracked; |y, first| {
        let mut held = vec![first];
        for _ in 0..3 {
            let input = suspend!(y, t.make());
            held.push(input);
        }
        assert_eq!(t.alive(), 4 + 1, "four inputs held, one yield kept outside");
        drop(held);
        t.make()
    });
    let mut kept = None;
    for _ in 0..3 {
        let out = co.resume(tracker.make()).unwrap().yielded().unwrap();
        kept = Some(out); // the previous one is dropped here
    }
    let ret = co.resume(tracker.make()).unwrap().returned().unwrap();
    assert_eq!(tracker.made(), 4 + 3 + 1);
    assert_eq!(tracker.alive(), 2, "the last yield and the return value");
    drop((kept, ret));
    tracker.assert_all_dropped_once();
}

// A panic: every local, the captures, and the input are dropped once; the
// payload lives until the error is dropped, then is dropped once.
#[test]
fn values_through_a_panic() {
    let tracker = Tracker::new();
    let payload_drops = SendCounter::new();
    let t = tracker.clone();
    let captured = tracker.make();
    let token = payload_drops.token();
    let mut co: Co = coroutine!(Tracked, Tracked, Tracked; |y, first| {
        let _captured = captured;
        let _first = first;
        let second = suspend!(y, t.make());
        let _moved_on = Box::new([second, t.make()]);
        panic::panic_any(token);
    });
    drop(co.resume(tracker.make()).unwrap());
    assert_eq!(tracker.alive(), 2); // captured, first
    let err = co.resume(tracker.make()).unwrap_err();
    assert_eq!(tracker.made(), 5);
    tracker.assert_all_dropped_once();
    assert_eq!(payload_drops.drops(), 0);
    drop(err);
    assert_eq!(payload_drops.drops(), 1);
    assert_eq!(co.status(), Status::Dead);
}

// An immediate panic on the first resume drops the first input once.
#[test]
fn immediate_panic_drops_the_first_input() {
    let tracker = Tracker::new();
    let mut co: Co = coroutine!(Tracked, Tracked, Tracked; |_, _first| panic!("at once"));
    assert!(matches!(co.resume(tracker.make()), Err(Error::Panic(_))));
    tracker.assert_all_dropped_once();
}

// Close of a suspended coroutine: locals, captures still held by the body,
// and the values moved into it are all dropped once; nothing is dropped
// again when the coroutine itself is dropped.
#[test]
fn values_through_close() {
    let tracker = Tracker::new();
    let t = tracker.clone();
    let captured = (tracker.make(), tracker.make());
    let mut co: Co = coroutine!(Tracked, Tracked, Tracked; |y, first| {
        let (a, _b) = captured;
        drop(a); // one capture dropped by the body itself
        let boxed = Box::new(first);
        let second = suspend!(y, t.make());
        let _all = (boxed, second, t.make());
        suspend!(y, t.make());
        unreachable!("closed while suspended");
    });
    drop(co.resume(tracker.make()).unwrap());
    drop(co.resume(tracker.make()).unwrap());
    assert_eq!(tracker.made(), 7);
    assert_eq!(tracker.alive(), 4); // _b, boxed first, second, the extra
    co.close().unwrap();
    tracker.assert_all_dropped_once();
    drop(co);
    tracker.assert_all_dropped_once();
}

// Drop of a never-started coroutine drops each capture once, and the body
// never runs.
#[test]
fn values_through_drop_of_never_started() {
    let tracker = Tracker::new();
    let captured = vec![tracker.make(), tracker.make(), tracker.make()];
    let t = tracker.clone();
    let co: Co = coroutine!(Tracked, Tracked, Tracked; |_, first| {
        let _c = captured;
        let _f = first;
        t.make()
    });
    assert_eq!(tracker.alive(), 3);
    drop(co);
    assert_eq!(tracker.made(), 3);
    tracker.assert_all_dropped_once();
}

// Drop of a suspended coroutine, with a body whose captures are partly
// consumed and partly still in the closure.
#[test]
fn values_through_drop_of_suspended() {
    let tracker = Tracker::new();
    let t = tracker.clone();
    let kept_in_closure = tracker.make();
    let consumed = tracker.make();
    let mut co: Co = coroutine!(Tracked, Tracked, Tracked; |y, first| {
        drop(consumed);
        let _first = first;
        let _local = t.make();
        suspend!(y, t.make());
        let _unused = &kept_in_closure;
        unreachable!("dropped while suspended");
    });
    let out = co.resume(tracker.make()).unwrap().yielded().unwrap();
    assert_eq!(tracker.alive(), 4); // kept_in_closure, first, _local, out
    drop(co);
    assert_eq!(tracker.alive(), 1);
    drop(out);
    tracker.assert_all_dropped_once();
}

// Dropping a generator midway drops the body's locals; finishing one drops
// the return value.
#[test]
fn values_through_generators() {
    let tracker = Tracker::new();
    let make_generator = |tracker: Tracker| {
        coroutine!((), Tracked, Tracked; |y, ()| {
            let _local = tracker.make();
            for _ in 0..5 {
                suspend!(y, tracker.make());
            }
            tracker.make()
        })
        .into_iter()
    };
    let mut partial = make_generator(tracker.clone());
    let first_two: Vec<Tracked> = partial.by_ref().take(2).collect();
    assert_eq!(tracker.alive(), 3);
    drop(partial);
    drop(first_two);
    tracker.assert_all_dropped_once();

    let all: Vec<Tracked> = make_generator(tracker.clone()).collect();
    assert_eq!(all.len(), 5);
    assert_eq!(tracker.alive(), 5);
    drop(all);
    tracker.assert_all_dropped_once();
    assert_eq!(tracker.made(), 3 + 7);
}

// A coroutine dropped while suspended, whose frame owns another suspended
// coroutine, which owns a third: every level's values dropped once.
#[test]
fn values_through_nested_drop() {
    let tracker = Tracker::new();
    fn level(depth: u32, tracker: Tracker) -> Coroutine<(), (), ()> {
        coroutine!((), (), (); |y, ()| {
            let _mine = tracker.make();
            let mut inner = (depth > 0).then(|| level(depth - 1, tracker.clone()));
            if let Some(inner) = inner.as_mut() {
                inner.resume(()).unwrap();
            }
            let _after = tracker.make();
            suspend!(y, ());
        })
    }
    let mut top = level(2, tracker.clone());
    top.resume(()).unwrap();
    assert_eq!(tracker.alive(), 6);
    drop(top);
    tracker.assert_all_dropped_once();
}

// A yielded value stays valid, and owned by the resumer, after the body
// panics on a later resume.
#[test]
fn yielded_value_survives_a_later_panic() {
    let tracker = Tracker::new();
    let t = tracker.clone();
    let mut co: Co = coroutine!(Tracked, Tracked, Tracked; |y, _| {
        suspend!(y, t.make());
        panic!("after the yield");
    });
    let out = co.resume(tracker.make()).unwrap().yielded().unwrap();
    assert!(co.resume(tracker.make()).is_err());
    assert_eq!(tracker.alive(), 1);
    assert_eq!(out.id(), 1);
    drop(out);
    tracker.assert_all_dropped_once();
}

// A pseudo-random mix of resumes, closes, drops, returns and panics over
// many coroutines: in the end every value made was dropped exactly once.
#[test]
fn random_mix_of_endings() {
    let tracker = Tracker::new();
    let mut rng = 0x1234_5678_9abc_def1_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let make = |kind: u64, tracker: Tracker| -> Co {
        coroutine!(stack: 32 * 1024; Tracked, Tracked, Tracked; |y, first| {
            let mut held = vec![first];
            for step in 0..(kind % 5) {
                let input = suspend!(y, tracker.make());
                held.push(input);
                if kind.is_multiple_of(7) && step == 2 {
                    panic!("planned failure");
                }
            }
            held.push(tracker.make());
            tracker.make()
        })
    };
    let mut coroutines: Vec<Co> = (0..100).map(|_| make(next(), tracker.clone())).collect();
    let mut outputs = Vec::new();
    while !coroutines.is_empty() {
        let i = (next() % coroutines.len() as u64) as usize;
        match next() % 10 {
            0 => {
                coroutines.swap_remove(i);
            }
            1 => {
                let _ = coroutines[i].close();
            }
            _ => match coroutines[i].resume(tracker.make()) {
                Ok(Resumed::Yield(v)) => outputs.push(v),
                Ok(Resumed::Return(v)) => {
                    outputs.push(v);
                    coroutines.swap_remove(i);
                }
                Err(Error::Dead) => {
                    coroutines.swap_remove(i);
                }
                Err(Error::Panic(p)) => assert_eq!(p.message(), "planned failure"),
                Err(other) => panic!("unexpected {other:?}"),
            },
        }
        if outputs.len() > 20 {
            outputs.clear();
        }
    }
    drop(outputs);
    assert!(tracker.made() > 100);
    tracker.assert_all_dropped_once();
}

// A panic in a destructor of a never-started body, through `close`: the
// other captures are still dropped once, and the panic payload once.
#[test]
fn panicking_capture_does_not_leak_the_others() {
    struct Bomb {
        _token: common::SendToken,
    }
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic::panic_any(SendCounter::new().token());
        }
    }
    let tracker = Tracker::new();
    let bomb_drops = SendCounter::new();
    let before = tracker.make();
    let bomb = Bomb {
        _token: bomb_drops.token(),
    };
    let after = tracker.make();
    let mut co = coroutine!((), (), (); |_, ()| {
        let _all = (&before, &bomb, &after);
    });
    let result = panic::catch_unwind(AssertUnwindSafe(|| co.close()));
    let err = result.expect("close returns the panic, it does not unwind");
    assert!(matches!(err, Err(Error::Panic(_))));
    tracker.assert_all_dropped_once();
    assert_eq!(bomb_drops.drops(), 1);
}

/// Records, when dropped, its name and the status of the coroutine running
/// then (`None` on the thread's own stack).
struct Witness(&'static str, common::Log);

impl Drop for Witness {
    fn drop(&mut self) {
        let running = coro::running().map(|h| h.status());
        self.1.push(format!("{} {running:?}", self.0));
    }
}

// However a body ends (return, panic, close, drop), its locals are dropped
// newest first, then what it captured and never moved; all of it inside the
// coroutine, which is still running.
#[test]
fn locals_then_captures_however_the_body_ends() {
    for ending in ["return", "panic", "close", "drop"] {
        let log = common::Log::new();
        let (first, second) = (
            Witness("capture 1", log.clone()),
            Witness("capture 2", log.clone()),
        );
        let l = log.clone();
        let mut co = coroutine!((), (), (); |y, ()| {
            let _a = Witness("local a", l.clone());
            let _keep_first = &first;
            let _b = Witness("local b", l);
            let _keep_second = &second;
            suspend!(y, ());
            if ending == "panic" {
                panic!("ending");
            }
        });
        co.resume(()).unwrap();
        assert!(log.is_empty());
        match ending {
            "return" => assert_eq!(co.resume(()).unwrap(), Resumed::Return(())),
            "panic" => assert!(matches!(co.resume(()), Err(Error::Panic(_)))),
            "close" => co.close().unwrap(),
            _ => drop(co),
        }
        let mut entries = log.entries();
        assert_eq!(entries.len(), 4, "{ending}: {entries:?}");
        assert_eq!(
            entries[..2],
            ["local b Some(Running)", "local a Some(Running)"],
            "{ending}"
        );
        // The captures' order is the compiler's layout of the closure or
        // async block: not part of the contract.
        entries[2..].sort();
        assert_eq!(
            entries[2..],
            ["capture 1 Some(Running)", "capture 2 Some(Running)"],
            "{ending}"
        );
    }
}
