//! coro against peers of other kinds: the `generator` crate (stackful), Lua
//! 5.4's coroutines through mlua, and two OS threads over channels; and the
//! tokenizer over 1 MiB of text on every peer that runs it.
//!
//! ```text
//! cargo bench -p bench --bench peers -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use bench::tokenizer;
use bench::{coro_peer, generator_peer, lua_peer, thread_peer};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// One resume + one suspend (or one message each way) per iteration.
fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("peers_round_trip");
    let mut co = coro_peer::counter();
    group.bench_function("coro", |b| {
        b.iter(|| coro_peer::step(black_box(&mut co), black_box(7)))
    });
    let mut co = generator_peer::counter();
    group.bench_function("generator", |b| {
        b.iter(|| generator_peer::step(black_box(&mut co), black_box(7)))
    });
    let co = lua_peer::Counter::new();
    group.bench_function("Lua 5.4 from Rust", |b| b.iter(|| co.step(black_box(7))));
    let lua = lua_peer::Loop::round_trips();
    group.bench_function("Lua 5.4 in Lua", |b| {
        b.iter_custom(|iters| {
            let start = std::time::Instant::now();
            black_box(lua.run(iters));
            start.elapsed()
        })
    });
    let threads = thread_peer::PingPong::new();
    group.bench_function("2 OS threads", |b| b.iter(|| threads.step(black_box(7))));
    group.finish();
}

/// Create and run to completion (spawn and join, for threads).
fn create_finish(c: &mut Criterion) {
    let mut group = c.benchmark_group("peers_create_finish");
    group.bench_function("coro (pooled stack)", |b| {
        b.iter(|| coro_peer::create_finish(black_box(7)))
    });
    group.bench_function("generator (new stack)", |b| {
        b.iter(|| generator_peer::create_finish(black_box(7)))
    });
    let lua = lua_peer::Factory::new();
    group.bench_function("Lua 5.4 from Rust", |b| {
        b.iter(|| lua.create_finish(black_box(7)))
    });
    let lua = lua_peer::Loop::create_finish();
    group.bench_function("Lua 5.4 in Lua", |b| {
        b.iter_custom(|iters| {
            let start = std::time::Instant::now();
            black_box(lua.run(iters));
            start.elapsed()
        })
    });
    group.bench_function("OS thread spawn + join", |b| {
        b.iter(|| thread_peer::create_finish(black_box(7)))
    });
    group.finish();
}

/// One pass of the tokenizer over its 1 MiB text per iteration, in tokens
/// per second.
fn tokenize(c: &mut Criterion) {
    let text = tokenizer::text();
    let (tokens, _) = tokenizer::count_tokens_direct(text);
    let mut group = c.benchmark_group("peers_tokenizer");
    group.throughput(Throughput::Elements(tokens));
    group.bench_function("coro", |b| {
        b.iter(|| tokenizer::count_tokens_coro(black_box(text)))
    });
    group.bench_function("corosensei", |b| {
        b.iter(|| tokenizer::count_tokens_corosensei(black_box(text)))
    });
    group.bench_function("coro stackless", |b| {
        b.iter(|| tokenizer::count_tokens_coro_stackless(black_box(text)))
    });
    group.bench_function("coro stackless, typed", |b| {
        b.iter(|| tokenizer::count_tokens_coro_typed(black_box(text)))
    });
    group.bench_function("genawaiter (rc)", |b| {
        b.iter(|| tokenizer::count_tokens_genawaiter(black_box(text)))
    });
    group.bench_function("hand-written Iterator", |b| {
        b.iter(|| tokenizer::count_tokens_iterator(black_box(text)))
    });
    group.bench_function("plain calls", |b| {
        b.iter(|| tokenizer::count_tokens_direct(black_box(text)))
    });
    group.finish();
}

criterion_group!(benches, round_trip, create_finish, tokenize);
criterion_main!(benches);
