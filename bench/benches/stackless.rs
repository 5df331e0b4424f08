//! Stackless coroutines: `coro::stackless` against `genawaiter` and a
//! hand-written `Future`, side by side in one run.
//!
//! ```text
//! cargo bench -p bench --bench stackless -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use bench::{coro_stackless_peer, future_peer, genawaiter_peer};
use criterion::{Criterion, criterion_group, criterion_main};

/// One resume + one suspend of a coroutine that is already running.
fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("stackless_round_trip");
    let mut co = coro_stackless_peer::counter();
    group.bench_function("coro stackless", |b| {
        b.iter(|| coro_stackless_peer::step(black_box(&mut co), black_box(7)))
    });
    let mut co = genawaiter_peer::counter();
    group.bench_function("genawaiter (rc)", |b| {
        b.iter(|| genawaiter_peer::step(black_box(&mut co), black_box(7)))
    });
    let mut co = future_peer::counter();
    group.bench_function("hand-written Future", |b| {
        b.iter(|| future_peer::step(black_box(&mut co)))
    });
    group.finish();
}

/// Create a coroutine with a trivial body and resume it to completion.
fn create_finish(c: &mut Criterion) {
    let mut group = c.benchmark_group("stackless_create_finish");
    group.bench_function("coro stackless", |b| {
        b.iter(|| coro_stackless_peer::create_finish(black_box(7)))
    });
    group.bench_function("genawaiter (rc)", |b| {
        b.iter(|| genawaiter_peer::create_finish(black_box(7)))
    });
    group.bench_function("boxed async block", |b| {
        b.iter(|| future_peer::create_finish(black_box(7)))
    });
    group.finish();
}

criterion_group!(benches, round_trip, create_finish);
criterion_main!(benches);
