// `into_iter()`, Lua's `coroutine.wrap`: a coroutine as a generator.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use common::Tracker;
use coro::{Error, Resumed, Status};

type Numbers = Box<dyn Iterator<Item = u32>>;

/// The numbers 2..=n.
fn gen_numbers(n: u32) -> Numbers {
    Box::new(
        coroutine!((), u32, (); |y, ()| {
            for i in 2..=n {
                suspend!(y, i);
            }
        })
        .into_iter(),
    )
}

/// The numbers of `source` that `p` does not divide.
fn filter(p: u32, mut source: Numbers) -> Numbers {
    Box::new(
        coroutine!((), u32, (); |y, ()| {
            for n in source.by_ref() {
                if n % p != 0 {
                    suspend!(y, n);
                }
            }
        })
        .into_iter(),
    )
}

// Lua scenario 7: the sieve of Eratosthenes as a chain of generators, each
// filter resuming the one before it: 22 primes up to 80, the last one 79.
#[test]
fn prime_sieve_of_chained_generators() {
    let mut primes = Vec::new();
    let mut numbers = gen_numbers(80);
    while let Some(p) = numbers.next() {
        primes.push(p);
        numbers = filter(p, numbers);
    }
    assert_eq!(primes.len(), 22);
    assert_eq!(primes.last(), Some(&79));
    assert_eq!(
        primes,
        [
            2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79
        ]
    );
}

suspending! {
    /// Yields every way to fill `slots[..k]` with 1..=n (Lua's `all`).
    fn all(y: &Yielder<(), Vec<u8>>, slots: &mut Vec<u8>, n: u8, k: usize) {
        if k == 0 {
            suspend!(y, slots.clone());
        } else {
            for i in 1..=n {
                slots[k - 1] = i;
                recurse!(all(y, slots, n, k - 1));
            }
        }
    }
}

// Lua scenario 18: a recursive generator drives a `for` loop through
// 5^4 = 625 tuples, all distinct.
#[test]
fn recursive_generator_enumerates_625_tuples() {
    let generator = coroutine!((), Vec<u8>, (); |y, ()| {
        let mut slots = vec![0; 4];
        call!(all(y, &mut slots, 5, 4));
    });
    let mut count = 0;
    let mut seen = std::collections::HashSet::new();
    for tuple in generator {
        assert_eq!(tuple.len(), 4);
        assert!(tuple.iter().all(|&d| (1..=5).contains(&d)), "{tuple:?}");
        assert!(seen.insert(tuple));
        count += 1;
    }
    assert_eq!(count, 625);
    assert_eq!(count, 5usize.pow(4));
}

// Lua scenario 19: a closure that a coroutine yields keeps its captured
// state, shared with the body, after the coroutine is gone.
#[test]
fn yielded_closure_outlives_its_coroutine() {
    type Counter = Rc<dyn Fn() -> i32>;
    let mut x = coroutine!((), Counter, (); |y, ()| {
        let a = Rc::new(Cell::new(10));
        let inner = a.clone();
        let f: Counter = Rc::new(move || {
            inner.set(inner.get() + 10);
            inner.get()
        });
        loop {
            a.set(a.get() + 1);
            suspend!(y, f.clone());
        }
    })
    .into_iter();
    let handle = x.coroutine().handle();

    let f = x.next().unwrap();
    assert_eq!(f(), 21);
    assert_eq!(x.next().unwrap()(), 32);
    assert!(Rc::ptr_eq(&x.next().unwrap(), &f));
    assert_eq!(handle.status(), Status::Suspended);

    drop(x);
    assert_eq!(handle.status(), Status::Dead);
    assert_eq!(f(), 43);
    assert_eq!(f(), 53);
    // The coroutine's locals are gone: the closure holds the last reference.
    assert_eq!(Rc::strong_count(&f), 1);
}

#[derive(Debug, PartialEq)]
struct Failure {
    code: i32,
}

// Lua scenario 17: a panic in a generator's body is re-raised in the caller
// with its payload unchanged (here not a string); afterwards the generator
// is exhausted.
#[test]
fn panic_in_generator_is_reraised_with_the_same_payload() {
    let mut generator = coroutine!((), i32, (); |y, ()| {
        suspend!(y, 1);
        panic::panic_any(Failure { code: 20 });
    })
    .into_iter();
    let handle = generator.coroutine().handle();
    assert_eq!(generator.next(), Some(1));

    let payload = panic::catch_unwind(AssertUnwindSafe(|| generator.next())).unwrap_err();
    assert_eq!(
        *payload.downcast::<Failure>().unwrap(),
        Failure { code: 20 }
    );
    assert_eq!(handle.status(), Status::Dead);
    assert_eq!(generator.coroutine().status(), Status::Dead);

    // Dead: the iteration is over, and stays over.
    assert_eq!(generator.next(), None);
    assert_eq!(generator.next(), None);
}

// Lua scenario 17, second half: the same body through resume yields, then
// returns the panic as an error, then is dead.
#[test]
fn same_panic_through_resume_is_an_error_then_dead() {
    let mut co = coroutine!((), i32, (); |y, ()| {
        suspend!(y, 1);
        panic::panic_any(Failure { code: 20 });
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    match co.resume(()) {
        Err(Error::Panic(payload)) => {
            assert!(payload.is::<Failure>());
            assert_eq!(
                *payload.downcast::<Failure>().unwrap(),
                Failure { code: 20 }
            );
        }
        other => panic!("expected a panic error, got {other:?}"),
    }
    assert_eq!(co.status(), Status::Dead);
    assert!(matches!(co.resume(()), Err(Error::Dead)));
}

// A string panic is re-raised with its message.
#[test]
fn string_panic_in_generator_keeps_its_message() {
    let generator = coroutine!((), u8, (); |y, ()| {
        suspend!(y, 7);
        // A formatted message with a run-time argument: a `String` payload.
        panic!("generator broke at {}", std::hint::black_box(2));
    });
    let mut got = Vec::new();
    let payload = panic::catch_unwind(AssertUnwindSafe(|| {
        for v in generator {
            got.push(v);
        }
    }))
    .unwrap_err();
    assert_eq!(got, [7]);
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("generator broke at 2")
    );
}

// The return value ends the iteration and is kept by the iterator, until
// taken or dropped with it; the iterator is fused.
#[test]
fn return_value_ends_iteration_and_is_kept() {
    let tracker = Tracker::new();
    let t = tracker.clone();
    let mut generator = coroutine!((), u32, _; |y, ()| {
        suspend!(y, 1);
        suspend!(y, 2);
        t.make()
    })
    .into_iter();
    assert_eq!(generator.next(), Some(1));
    assert_eq!(generator.next(), Some(2));
    assert_eq!(tracker.made(), 0);
    assert!(generator.returned().is_none());
    assert_eq!(generator.next(), None);
    assert_eq!(tracker.made(), 1);
    assert_eq!(tracker.alive(), 1);
    assert!(generator.returned().is_some());
    assert_eq!(generator.next(), None);
    assert_eq!(generator.coroutine().status(), Status::Dead);
    assert_eq!(tracker.alive(), 1);
    let returned = generator.into_returned().expect("the body returned");
    assert_eq!(tracker.alive(), 1);
    drop(returned);
    tracker.assert_all_dropped_once();

    // Dropped with the iterator if nobody takes it.
    let t = tracker.clone();
    let mut generator = coroutine!((), u32, _; |_y, ()| t.make()).into_iter();
    assert_eq!(generator.next(), None);
    assert_eq!(tracker.alive(), 1);
    drop(generator);
    tracker.assert_all_dropped_once();
}

// Iterator adapters work on a generator, and an infinite one stops being
// resumed when the consumer stops asking.
#[test]
fn adapters_and_lazy_consumption() {
    let resumes = Rc::new(Cell::new(0));
    let r = resumes.clone();
    let naturals = coroutine!((), u64, (); |y, ()| {
        let mut n = 0;
        loop {
            r.set(r.get() + 1);
            suspend!(y, n);
            n += 1;
        }
    });
    let evens_squared: Vec<u64> = naturals
        .into_iter()
        .filter(|n| n % 2 == 0)
        .map(|n| n * n)
        .take(5)
        .collect();
    assert_eq!(evens_squared, [0, 4, 16, 36, 64]);
    assert_eq!(resumes.get(), 9); // 0..=8, nothing past the fifth even
}

// A generator that was partly resumed before being turned into an iterator
// continues where it was.
#[test]
fn into_iter_after_some_resumes() {
    let mut co = coroutine!((), char, (); |y, ()| {
        for c in "abcde".chars() {
            suspend!(y, c);
        }
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield('a'));
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield('b'));
    let rest: String = co.into_iter().collect();
    assert_eq!(rest, "cde");
}

// `into_coroutine` gives the coroutine back where the iteration left it.
#[test]
fn into_coroutine_gives_the_coroutine_back() {
    let mut generator = coroutine!((), u32, &'static str; |y, ()| {
        suspend!(y, 1);
        suspend!(y, 2);
        "end"
    })
    .into_iter();
    assert_eq!(generator.next(), Some(1));
    let mut co = generator.into_coroutine();
    assert_eq!(co.status(), Status::Suspended);
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(2));
    assert_eq!(co.resume(()).unwrap(), Resumed::Return("end"));
    assert_eq!(co.status(), Status::Dead);
}

// A generator over a dead coroutine is empty.
#[test]
fn generator_over_a_dead_coroutine_is_empty() {
    let mut co = coroutine!((), u8, (); |y, ()| suspend!(y, 1));
    co.close().unwrap();
    assert_eq!(co.into_iter().count(), 0);
}

// Generators nest: one generator's body consumes another one.
#[test]
fn nested_generators() {
    let pairs = coroutine!((), (u32, u32), (); |y, ()| {
        let outer = coroutine!((), u32, (); |y2, ()| {
            for i in 0..3 {
                suspend!(y2, i);
            }
        });
        for i in outer {
            let inner = coroutine!((), u32, (); |y3, ()| {
                for j in 0..i {
                    suspend!(y3, j);
                }
            });
            for j in inner {
                suspend!(y, (i, j));
            }
        }
    });
    let got: Vec<(u32, u32)> = pairs.into_iter().collect();
    assert_eq!(got, [(1, 0), (2, 0), (2, 1)]);
}

// `Debug` of a generator says what it is and shows its coroutine.
#[test]
fn debug_of_a_generator() {
    let generator = coroutine!((), u8, (); |y, ()| suspend!(y, 1)).into_iter();
    let id = generator.coroutine().handle().id();
    let text = format!("{generator:?}");
    assert!(text.contains("IntoIter"), "{text}");
    assert!(text.contains(&id.to_string()), "{text}");
    assert!(text.contains("Suspended"), "{text}");
}
