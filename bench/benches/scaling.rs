//! How a round trip changes with the number of live coroutines, resumed in
//! turn: each resume then finds its coroutine's memory further out in the
//! caches. Stackful rings stop at 10,000 (each stack takes two of the
//! process's `vm.max_map_count` mappings); stackless ones go to a million.
//!
//! ```text
//! cargo bench -p bench --bench scaling -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use bench::{coro_peer, coro_stackless_peer, corosensei_peer};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// `n` coroutines made by `make`, each resumed once, and a step that resumes
/// them in turn (`step` a function item, so that it is inlined as in the
/// other benches).
fn ring<C>(
    n: usize,
    make: impl Fn() -> C,
    step: impl Fn(&mut C, u64) -> u64,
) -> impl FnMut() -> u64 {
    let mut ring = bench::started(n, make, &step);
    let mut next = 0;
    move || {
        let value = step(black_box(&mut ring[next]), black_box(7));
        next += 1;
        if next == ring.len() {
            next = 0;
        }
        value
    }
}

/// Stackful: coro against corosensei.
fn stackful(c: &mut Criterion) {
    let mut group = c.benchmark_group("stackful_live_round_trip");
    for n in [1, 1_000, 10_000] {
        let mut step = ring(n, coro_peer::counter, coro_peer::step);
        group.bench_function(BenchmarkId::new("coro", n), |b| b.iter(&mut step));
        drop(step);
        let mut step = ring(n, corosensei_peer::counter, corosensei_peer::step);
        group.bench_function(BenchmarkId::new("corosensei", n), |b| b.iter(&mut step));
    }
    group.finish();
}

/// Stackless: coro's, up to a million at once.
fn stackless(c: &mut Criterion) {
    let mut group = c.benchmark_group("stackless_live_round_trip");
    for n in [1, 1_000, 100_000, 1_000_000] {
        let mut step = ring(n, coro_stackless_peer::counter, coro_stackless_peer::step);
        group.bench_function(BenchmarkId::new("coro stackless", n), |b| b.iter(&mut step));
    }
    group.finish();
}

criterion_group!(benches, stackful, stackless);
criterion_main!(benches);
