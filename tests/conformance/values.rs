// Values flowing through resume and suspend: the first input becomes the
// body's argument, later inputs become `suspend`'s result, suspended values
// and the return value come out of `resume`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use coro::{Error, Resume, Resumed, Status};

// Lua scenario 4: a body yields, one after another, the lists it was given
// at the start, records what each resume hands back, and finally returns its
// first argument. Afterwards it is dead and resuming fails with Lua's message.
#[test]
fn body_yields_its_lists_and_records_each_resume_value() {
    let received: Rc<RefCell<Vec<Vec<i32>>>> = Rc::default();
    let rows = vec![vec![], vec![1], vec![7, 8, 9]];
    let seen = received.clone();
    let mut co = coroutine!(Vec<i32>, Vec<i32>, _; |y, first| {
        assert_eq!(coro::running().unwrap().status(), Status::Running);
        assert_eq!(coro::is_yieldable(), BODY_IS_YIELDABLE);
        for row in rows {
            let back = suspend!(y, row);
            seen.borrow_mut().push(back);
        }
        first
    });
    assert_eq!(co.status(), Status::Suspended);

    assert_eq!(co.resume(vec![1, 2, 3]).unwrap(), Resumed::Yield(vec![]));
    assert_eq!(co.status(), Status::Suspended);
    assert!(received.borrow().is_empty());

    assert_eq!(co.resume(vec![]).unwrap(), Resumed::Yield(vec![1]));
    assert_eq!(*received.borrow(), [vec![]]);

    assert_eq!(
        co.resume(vec![1, 2, 3]).unwrap(),
        Resumed::Yield(vec![7, 8, 9])
    );
    assert_eq!(*received.borrow(), [vec![], vec![1, 2, 3]]);

    assert_eq!(co.resume(vec![42]).unwrap(), Resumed::Return(vec![1, 2, 3]));
    assert_eq!(*received.borrow(), [vec![], vec![1, 2, 3], vec![42]]);
    assert_eq!(co.status(), Status::Dead);

    let err = co.resume(vec![0]).unwrap_err();
    assert!(matches!(err, Error::Dead), "{err:?}");
    assert_eq!(err.to_string(), "cannot resume dead coroutine");
    assert_eq!(co.status(), Status::Dead);
}

suspending! {
    fn pass_through(y: &Yielder<i32, i32>, i: i32) -> i32 {
        suspend!(y, i)
    }
}

// Lua scenario 5: `return coroutine.yield(i)` from a helper in tail position;
// each resume's value comes back out of the helper.
#[test]
fn suspend_in_tail_position_returns_each_resume_value() {
    let expected = Rc::new(Cell::new(0));
    let exp = expected.clone();
    let mut co = coroutine!(i32, i32, _; |y, _first| {
        for i in 1..=10 {
            let got = call!(pass_through(y, i));
            assert_eq!(got, exp.get());
        }
        "a"
    });
    for i in 1..=10 {
        expected.set(i);
        // The first resume starts the body; the later ones answer the yields.
        assert_eq!(co.resume(i).unwrap(), Resumed::Yield(i));
    }
    expected.set(-5);
    assert_eq!(co.resume(-5).unwrap(), Resumed::Return("a"));
    assert_eq!(co.status(), Status::Dead);
}

suspending! {
    /// Yields `n`, then recurses with `n * i`, until that overflows a `u64`
    /// (after 20!).
    fn factorials(y: &Yielder<(), u64>, n: u64, i: u64) {
        suspend!(y, n);
        if let Some(next) = n.checked_mul(i) {
            recurse!(factorials(y, next, i + 1));
        }
    }
}

// Lua scenario 6: a recursive body yields 0!, 1!, 2!, ... from ever deeper
// frames, and is dropped while suspended deep in its recursion.
#[test]
fn recursive_body_yields_factorials() {
    let mut co = coroutine!((), u64, (); |y, ()| call!(factorials(y, 1, 1)));
    let mut expected = 1u64;
    for i in 1..=20u64 {
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield(expected));
        expected *= i;
    }
    assert_eq!(expected, 2_432_902_008_176_640_000); // 20!
    assert_eq!(co.status(), Status::Suspended);
    co.close().unwrap();
    assert_eq!(co.status(), Status::Dead);
}

// The same through the generator interface, as Lua's test does with `wrap`.
// Here the recursion runs to its end, 22 frames deep, and unwinds normally.
#[test]
fn recursive_generator_of_factorials() {
    let values: Vec<u64> = coroutine!((), u64, (); |y, ()| call!(factorials(y, 1, 1)))
        .into_iter()
        .collect();
    assert_eq!(values.len(), 21); // 0! to 20!
    assert_eq!(values[..8], [1, 1, 2, 6, 24, 120, 720, 5040]);
    assert_eq!(values[20], 2_432_902_008_176_640_000);
    for (i, pair) in values.windows(2).enumerate() {
        assert_eq!(pair[1], pair[0] * (i as u64 + 1));
    }
}

// Owned, heap-holding types go in both directions and come out intact.
#[test]
fn owned_types_flow_both_ways() {
    let mut co = coroutine!(String, Vec<String>, _; |y, first| {
        let mut words = vec![first];
        loop {
            let next = suspend!(y, words.clone());
            if next.is_empty() {
                break;
            }
            words.push(next);
        }
        words
            .into_iter()
            .enumerate()
            .map(|(i, w)| (w, i))
            .collect::<HashMap<String, usize>>()
    });
    assert_eq!(
        co.resume("alpha".into()).unwrap(),
        Resumed::Yield(vec!["alpha".to_string()])
    );
    assert_eq!(
        co.resume("beta".into()).unwrap(),
        Resumed::Yield(vec!["alpha".to_string(), "beta".to_string()])
    );
    let Resumed::Return(map) = co.resume(String::new()).unwrap() else {
        panic!("expected the body to return");
    };
    assert_eq!(map.len(), 2);
    assert_eq!(map["alpha"], 0);
    assert_eq!(map["beta"], 1);
}

// Zero-sized types everywhere: the default `Coroutine<(), (), ()>`.
#[test]
fn unit_types() {
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    let mut co: Coroutine = coroutine!((), (), (); |y, ()| {
        for _ in 0..3 {
            c.set(c.get() + 1);
            suspend!(y, ());
        }
    });
    for n in 1..=3 {
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield(()));
        assert_eq!(count.get(), n);
    }
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(()));
    assert_eq!(count.get(), 3);
}

// Values bigger than a register or a cache line, each way, keep every byte.
#[test]
fn large_values_keep_every_byte() {
    type Big = [u64; 512];
    fn pattern(seed: u64) -> Big {
        let mut b = [0u64; 512];
        for (i, v) in b.iter_mut().enumerate() {
            *v = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i as u64;
        }
        b
    }
    let mut co = coroutine!(Big, Big, _; |y, first| {
        assert_eq!(first, pattern(1));
        let second = suspend!(y, pattern(2));
        assert_eq!(second, pattern(3));
        let third = suspend!(y, pattern(4));
        assert_eq!(third, pattern(5));
        pattern(6)
    });
    assert_eq!(co.resume(pattern(1)).unwrap(), Resumed::Yield(pattern(2)));
    assert_eq!(co.resume(pattern(3)).unwrap(), Resumed::Yield(pattern(4)));
    assert_eq!(co.resume(pattern(5)).unwrap(), Resumed::Return(pattern(6)));
}

// Alignment-demanding values survive the trip through the switch.
#[test]
fn over_aligned_values() {
    #[derive(Debug, Clone, Copy, PartialEq)]
    #[repr(align(64))]
    struct Aligned(u32);
    let mut co = coroutine!(Aligned, Aligned, _; |y, a| {
        assert_eq!(&a as *const Aligned as usize % 64, 0);
        let b = suspend!(y, Aligned(a.0 + 1));
        assert_eq!(&b as *const Aligned as usize % 64, 0);
        Aligned(b.0 * 2)
    });
    assert_eq!(co.resume(Aligned(1)).unwrap(), Resumed::Yield(Aligned(2)));
    assert_eq!(
        co.resume(Aligned(21)).unwrap(),
        Resumed::Return(Aligned(42))
    );
}

// Values smaller than a word, of a word, and just over one, with and without
// padding: each crosses intact both ways, owned pointers included.
#[test]
fn values_around_a_word_keep_every_byte() {
    fn round_trip<T: Clone + PartialEq + std::fmt::Debug + 'static>(first: T, second: T, third: T) {
        let (a, b, c) = (first.clone(), second.clone(), third.clone());
        let mut co = coroutine!(T, T, T; |y, got| {
            assert_eq!(got, a);
            let got = suspend!(y, b.clone());
            assert_eq!(got, c);
            got
        });
        assert_eq!(co.resume(first).unwrap(), Resumed::Yield(second));
        assert_eq!(co.resume(third.clone()).unwrap(), Resumed::Return(third));
    }
    round_trip(true, false, true);
    round_trip(0xa5_u8, 0x5a, 0xff);
    round_trip([1_u8, 2, 3], [4, 5, 6], [7, 8, 9]);
    round_trip((0xbeef_u16, 7_u8), (1, 2), (u16::MAX, u8::MAX));
    round_trip('é', '∑', '\u{10ffff}');
    round_trip(-1.5_f64, f64::MAX, f64::MIN_POSITIVE);
    round_trip(
        std::num::NonZeroU32::new(9),
        None,
        std::num::NonZeroU32::new(u32::MAX),
    );
    round_trip(u64::MAX, 0, 0x0123_4567_89ab_cdef);
    round_trip(Box::new(1_u8), Box::new(2), Box::new(3));
    round_trip(u128::MAX - 1, 1 << 100, 7);
    round_trip([0x11_u8; 9], [0x22; 9], [0x33; 9]);
    round_trip("sixteen bytes", "of a", "fat pointer");
}

// Boxed closures and trait objects can be suspended and resumed with.
#[test]
fn closures_flow_both_ways() {
    type F = Box<dyn Fn(i32) -> i32>;
    let mut co = coroutine!(F, F, _; |y, f| {
        let g = suspend!(y, Box::new(move |x| f(x) + 1));
        g(10)
    });
    let Resumed::Yield(h) = co.resume(Box::new(|x| x * 3)).unwrap() else {
        panic!("expected a yield");
    };
    assert_eq!(h(5), 16);
    let Resumed::Return(r) = co.resume(Box::new(move |x| h(x) * 100)).unwrap() else {
        panic!("expected a return");
    };
    assert_eq!(r, 3100);
}

// `Rc` values handed in and out: exact reference counts, nothing leaked.
#[test]
fn reference_counts_are_exact_across_switches() {
    let shared = Rc::new(5);
    let mut co = coroutine!(Rc<i32>, Rc<i32>, _; |y, a| {
        let b = suspend!(y, a.clone());
        assert_eq!(Rc::strong_count(&a), 4); // test's, a, the yielded clone, b
        drop(b);
        a
    });
    assert_eq!(Rc::strong_count(&shared), 1);
    let out = co.resume(shared.clone()).unwrap().yielded().unwrap();
    assert_eq!(Rc::strong_count(&shared), 3); // test's, body's `a`, `out`
    let back = co.resume(shared.clone()).unwrap().returned().unwrap();
    assert_eq!(Rc::strong_count(&shared), 3); // test's, `out`, `back`
    drop((out, back));
    drop(co);
    assert_eq!(Rc::strong_count(&shared), 1);
}

// Generic code over the `Resume` trait drives a coroutine the same way as
// the inherent methods.
#[test]
fn driven_through_the_resume_trait() {
    fn run_to_end<C: Resume<u32, Yield = u32, Return = u32>>(co: &mut C) -> (Vec<u32>, u32) {
        let mut yielded = Vec::new();
        let mut input = 1;
        loop {
            assert_eq!(co.status(), Status::Suspended);
            match co.resume(input).unwrap() {
                Resumed::Yield(v) => {
                    yielded.push(v);
                    input = v * 2;
                }
                Resumed::Return(r) => {
                    assert_eq!(co.status(), Status::Dead);
                    assert_eq!(co.handle().status(), Status::Dead);
                    assert!(co.close().is_ok());
                    return (yielded, r);
                }
            }
        }
    }
    let mut co = coroutine!(u32, u32, u32; |y, mut n| {
        while n < 100 {
            n = suspend!(y, n + 1);
        }
        n
    });
    let (yielded, last) = run_to_end(&mut co);
    assert_eq!(yielded, [2, 5, 11, 23, 47, 95]);
    assert_eq!(last, 190);
}
