// Many coroutines at once: interleaved on one thread, and on several
// threads, each with its own chain of active coroutines.

use std::sync::{Arc, Barrier};

use coro::{Handle, Resumed, Status};

// A thousand coroutines resumed round-robin, each yielding several values
// that depend on its own state; every value comes back in the right order.
#[test]
fn a_thousand_coroutines_round_robin() {
    const N: usize = 1000;
    const STEPS: usize = 5;
    let mut coroutines: Vec<Coroutine<u64, (usize, u64), usize>> = (0..N)
        .map(|id| {
            coroutine!(u64, (usize, u64), usize; |y, mut input| {
                let mut acc = id as u64;
                for _ in 0..STEPS {
                    acc = acc * 31 + input;
                    input = suspend!(y, (id, acc));
                }
                id * 2
            })
        })
        .collect();

    let mut expected_acc: Vec<u64> = (0..N as u64).collect();
    for round in 0..STEPS as u64 {
        for (id, co) in coroutines.iter_mut().enumerate() {
            let input = round * 1000 + id as u64;
            expected_acc[id] = expected_acc[id] * 31 + input;
            assert_eq!(
                co.resume(input).unwrap(),
                Resumed::Yield((id, expected_acc[id]))
            );
        }
        assert!(coroutines.iter().all(|c| c.status() == Status::Suspended));
    }
    for (id, co) in coroutines.iter_mut().enumerate() {
        assert_eq!(co.resume(0).unwrap(), Resumed::Return(id * 2));
    }
    assert!(coroutines.iter().all(|c| c.status() == Status::Dead));
}

// A thousand coroutines created and dropped while suspended, in waves (for
// the stackful backend, the stack pool hands stacks back and forth): every
// body sees fresh state.
#[test]
fn waves_of_coroutines_start_fresh() {
    for wave in 0..5u32 {
        let mut coroutines: Vec<Coroutine<(), u32, ()>> = (0..200u32)
            .map(|i| {
                coroutine!((), u32, (); |y, ()| {
                    // A fresh local, on a possibly reused stack.
                    let local = [wave * 1000 + i; 16];
                    suspend!(y, local.iter().sum());
                    suspend!(y, local[15]);
                })
            })
            .collect();
        for (i, co) in coroutines.iter_mut().enumerate() {
            let v = wave * 1000 + i as u32;
            assert_eq!(co.resume(()).unwrap(), Resumed::Yield(v * 16));
        }
        for (i, co) in coroutines.iter_mut().enumerate().step_by(2) {
            let v = wave * 1000 + i as u32;
            assert_eq!(co.resume(()).unwrap(), Resumed::Yield(v));
        }
        // Dropped: half suspended at the first yield, half at the second.
    }
}

// Coroutines on several threads at once: each thread's `running()` is its
// own coroutine, even while the others are inside theirs, and each thread's
// own stack sees `None`.
#[test]
fn each_thread_has_its_own_chain() {
    const THREADS: usize = 4;
    // Shared with the coroutine bodies, which must be 'static.
    let inside = Arc::new(Barrier::new(THREADS));
    let outside = Arc::new(Barrier::new(THREADS));
    let results: Vec<(u64, u64, u64, bool)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (inside, outside) = (inside.clone(), outside.clone());
                s.spawn(move || {
                    assert!(coro::running().is_none());
                    let mut co = coroutine!((), Handle, Handle; |y, ()| {
                        // Every thread is inside its coroutine now.
                        inside.wait();
                        let me = coro::running().unwrap();
                        let mut nested =
                            coroutine!((), (), Handle; |_, ()| coro::running().unwrap());
                        let nested_handle = nested.resume(()).unwrap().returned().unwrap();
                        assert_eq!(me.status(), Status::Running);
                        suspend!(y, nested_handle);
                        me
                    });
                    let own = co.handle();
                    let nested = co.resume(()).unwrap().yielded().unwrap();
                    // Every thread is back on its own stack, coroutine suspended.
                    outside.wait();
                    let main_is_none = coro::running().is_none();
                    let me = co.resume(()).unwrap().returned().unwrap();
                    assert_eq!(me, own);
                    assert_ne!(nested, own);
                    (own.id(), me.id(), nested.id(), main_is_none)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut ids = std::collections::HashSet::new();
    for (own, me, nested, main_is_none) in results {
        assert_eq!(own, me, "running() inside is the thread's own coroutine");
        assert!(main_is_none);
        assert!(ids.insert(own));
        assert!(ids.insert(nested));
    }
    assert_eq!(ids.len(), 2 * THREADS);
}

// Each thread can nest up to the limit independently, at the same time.
#[test]
fn nesting_limit_is_per_thread() {
    fn chain(n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let mut co = coroutine!(stack: 32 * 1024; (), (), usize; |_, ()| 1 + chain(n - 1));
        co.resume(()).unwrap().returned().unwrap()
    }
    let barrier = Barrier::new(3);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    chain(coro::MAX_NESTING)
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), coro::MAX_NESTING);
        }
    });
}

// Many threads each running many coroutines to completion, with generators.
#[test]
fn generators_on_many_threads() {
    let sums: Vec<u64> = std::thread::scope(|s| {
        (0..8u64)
            .map(|t| {
                s.spawn(move || {
                    (0..50u64)
                        .map(|k| {
                            coroutine!((), u64, (); |y, ()| {
                                for i in 0..10 {
                                    suspend!(y, t * 1000 + k * 10 + i);
                                }
                            })
                            .into_iter()
                            .sum::<u64>()
                        })
                        .sum()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect()
    });
    for (t, sum) in sums.into_iter().enumerate() {
        let t = t as u64;
        let expected: u64 = (0..50u64)
            .flat_map(|k| (0..10u64).map(move |i| t * 1000 + k * 10 + i))
            .sum();
        assert_eq!(sum, expected);
    }
}
