//! A soak: a long randomized run of both backends mixed — coroutines made,
//! resumed with values, nested in each other, closed, dropped, left
//! suspended — with the process's resident memory sampled after a warm-up
//! and at the end: nothing may grow. A few seconds by default;
//! `CORO_SOAK_SECONDS=600 cargo test --release --test both_soak -- --nocapture`
//! (or `scripts/soak`) runs it for minutes.

// Mixes the backends: only where coro builds its stackful one.
#![cfg(coro_stackful)]

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use coro::{Resumed, Status, stackless};

/// splitmix64, seeded: the run is the same every time for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A value that counts how many of its kind are alive.
struct Alive(Rc<Cell<i64>>);

impl Alive {
    fn new(count: &Rc<Cell<i64>>) -> Alive {
        count.set(count.get() + 1);
        Alive(count.clone())
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// A coroutine of either backend, behind the shared trait.
type Any = Box<dyn coro::Resume<u64, Yield = u64, Return = u64>>;

/// A coroutine that suspends with its input plus `step` for `rounds`
/// rounds, holding a counted local, sometimes resuming a nested coroutine
/// of the other backend from inside.
fn make(rng: &mut Rng, alive: &Rc<Cell<i64>>) -> Any {
    let rounds = rng.below(6);
    let step = rng.below(100);
    let nested = rng.below(4) == 0;
    let local = Alive::new(alive);
    if rng.below(2) == 0 {
        let alive = alive.clone();
        Box::new(coro::Coroutine::<u64, u64, u64>::new(move |y, mut x| {
            let _local = local;
            for _ in 0..rounds {
                if nested {
                    let inner_local = Alive::new(&alive);
                    let mut inner =
                        stackless::Coroutine::<u64, u64, u64>::new(move |y, x| async move {
                            let _l = inner_local;
                            let again = y.suspend(x + 1).await;
                            again + 1
                        });
                    assert_eq!(inner.resume(x).unwrap(), Resumed::Yield(x + 1));
                    // Dropped suspended every other time: closed by `Drop`.
                    if x % 2 == 0 {
                        assert_eq!(inner.resume(x).unwrap(), Resumed::Return(x + 1));
                    }
                }
                x = y.suspend(x.wrapping_add(step));
            }
            x
        }))
    } else {
        let alive = alive.clone();
        Box::new(stackless::Coroutine::<u64, u64, u64>::new(
            move |y, mut x| async move {
                let _local = local;
                for _ in 0..rounds {
                    if nested {
                        let inner_local = Alive::new(&alive);
                        let mut inner = coro::Coroutine::<u64, u64, u64>::new(move |y, x| {
                            let _l = inner_local;
                            y.suspend(x + 1) + 1
                        });
                        assert_eq!(inner.resume(x).unwrap(), Resumed::Yield(x + 1));
                        if x % 2 == 0 {
                            assert_eq!(inner.resume(x).unwrap(), Resumed::Return(x + 1));
                        }
                    }
                    x = y.suspend(x.wrapping_add(step)).await;
                }
                x
            },
        ))
    }
}

/// `ops` random operations on a pool of up to 256 coroutines, then all
/// dropped; checks every result and that every counted value is gone.
fn run(rng: &mut Rng, ops: u64, alive: &Rc<Cell<i64>>) {
    let mut pool: Vec<Any> = Vec::new();
    for _ in 0..ops {
        match rng.below(10) {
            0..=2 if pool.len() < 256 => pool.push(make(rng, alive)),
            0..=5 if !pool.is_empty() => {
                let i = rng.below(pool.len() as u64) as usize;
                let input = rng.below(1000);
                match pool[i].resume(input) {
                    Ok(Resumed::Yield(_)) | Ok(Resumed::Return(_)) => {}
                    Err(coro::Error::Dead) => assert_eq!(pool[i].status(), Status::Dead),
                    Err(other) => panic!("unexpected {other}"),
                }
            }
            6 if !pool.is_empty() => {
                let i = rng.below(pool.len() as u64) as usize;
                pool[i].close().unwrap();
                assert_eq!(pool[i].status(), Status::Dead);
            }
            _ if !pool.is_empty() => {
                let i = rng.below(pool.len() as u64) as usize;
                pool.swap_remove(i);
            }
            _ => {}
        }
    }
    drop(pool);
    assert_eq!(alive.get(), 0, "counted values outlived their coroutines");
    assert!(coro::running().is_none());
}

// The soak itself. Memory is sampled after a warm-up (allocator arenas, the
// stack pool, page tables settle) and at the end; it may not grow by more
// than a little noise.
#[test]
#[cfg_attr(
    coro_asan,
    ignore = "counts resident memory, which AddressSanitizer's quarantine grows"
)]
fn a_mixed_randomized_run_grows_nothing() {
    let seconds: u64 = std::env::var("CORO_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let alive = Rc::new(Cell::new(0));
    let mut rng = Rng(0x5eed);
    run(&mut rng, 50_000, &alive);
    let before = common::resident();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut total = 0u64;
    while Instant::now() < deadline {
        run(&mut rng, 20_000, &alive);
        total += 20_000;
    }
    let after = common::resident();
    let growth = after as i64 - before as i64;
    println!(
        "soak: {total} operations in {seconds} s; resident {} KiB before, {} KiB after ({growth:+} B)",
        before / 1024,
        after / 1024
    );
    if common::under_valgrind() {
        // Valgrind's shadow memory grows with every page the program ever
        // touched: the run's checks above hold, the count does not.
        return;
    }
    assert!(growth < 4 << 20, "resident memory grew by {growth} bytes");
}
