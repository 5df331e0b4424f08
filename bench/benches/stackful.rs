//! Stackful coroutines, `coro` against `corosensei`, side by side in one run.
//!
//! ```text
//! cargo bench -p bench --bench stackful -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use bench::{coro_peer, corosensei_peer, plain_call};
use corosensei::stack::DefaultStack;
use criterion::{Criterion, criterion_group, criterion_main};

/// One resume + one suspend of a coroutine that is already running.
fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("round_trip");
    let mut co = coro_peer::counter();
    group.bench_function("coro", |b| {
        b.iter(|| coro_peer::step(black_box(&mut co), black_box(7)))
    });
    let mut co = corosensei_peer::counter();
    group.bench_function("corosensei", |b| {
        b.iter(|| corosensei_peer::step(black_box(&mut co), black_box(7)))
    });
    group.finish();
}

/// Create a coroutine with a trivial body and resume it to completion.
fn create_finish(c: &mut Criterion) {
    let mut group = c.benchmark_group("create_finish");
    group.bench_function("coro (pooled stack)", |b| {
        b.iter(|| coro_peer::create_finish(black_box(7)))
    });
    group.bench_function("corosensei (new stack)", |b| {
        b.iter(|| corosensei_peer::create_finish(black_box(7)))
    });
    let mut spare = Some(DefaultStack::default());
    group.bench_function("corosensei (reused stack)", |b| {
        b.iter(|| {
            let stack = spare.take().expect("the stack comes back after each run");
            let (r, stack) = corosensei_peer::create_finish_on(stack, black_box(7));
            spare = Some(stack);
            r
        })
    });
    group.finish();
}

/// A plain call through an opaque function pointer, for scale.
fn baseline(c: &mut Criterion) {
    let mut group = c.benchmark_group("baseline");
    group.bench_function("plain_call", |b| b.iter(|| plain_call(black_box(7))));
    group.finish();
}

criterion_group!(benches, round_trip, create_finish, baseline);
criterion_main!(benches);
