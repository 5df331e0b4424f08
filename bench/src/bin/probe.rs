//! Runs one workload a given number of times and nothing else, for counting
//! instructions with valgrind, which repeats to the instruction on a noisy
//! machine where wall-clock timings do not:
//!
//! ```text
//! cargo build --release -p bench --bin probe
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p \
//!     target/release/probe coro-round-trip 1000000
//! ```
//!
//! Two runs with different counts give the instructions per operation:
//! (Ir₂ − Ir₁) / (n₂ − n₁), free of start-up costs. `probe` alone lists the
//! workloads.

use std::hint::black_box;

use bench::streams;
use bench::tokenizer;
use bench::{
    coro_peer, coro_stackless_peer, coro_typed_peer, corosensei_peer, future_peer, genawaiter_peer,
    generator_peer, lua_peer, thread_peer,
};

/// A workload: its name, and a function running it `n` times.
type Workload = (&'static str, fn(u64));

/// Every workload, by name.
const WORKLOADS: &[Workload] = &[
    ("coro-round-trip", |n| {
        let mut co = coro_peer::counter();
        repeat(n, || coro_peer::step(black_box(&mut co), black_box(7)));
    }),
    ("coro-ring", |n| {
        ring(n, coro_peer::counter, coro_peer::step);
    }),
    ("coro-ring-16k", |n| {
        ring(n, coro_peer::small_counter, coro_peer::step);
    }),
    ("stackless-ring", |n| {
        ring(n, coro_stackless_peer::counter, coro_stackless_peer::step);
    }),
    ("coro-ring-window", |n| {
        ring(n, coro_peer::window, coro_peer::step);
    }),
    ("stackless-ring-window", |n| {
        ring(n, coro_stackless_peer::window, coro_stackless_peer::step);
    }),
    ("corosensei-ring", |n| {
        ring(n, corosensei_peer::counter, corosensei_peer::step);
    }),
    ("corosensei-round-trip", |n| {
        let mut co = corosensei_peer::counter();
        repeat(n, || {
            corosensei_peer::step(black_box(&mut co), black_box(7))
        });
    }),
    ("generator-round-trip", |n| {
        let mut co = generator_peer::counter();
        repeat(n, || generator_peer::step(black_box(&mut co), black_box(7)));
    }),
    ("stackless-round-trip", |n| {
        let mut co = coro_stackless_peer::counter();
        repeat(n, || {
            coro_stackless_peer::step(black_box(&mut co), black_box(7))
        });
    }),
    ("typed-round-trip", |n| {
        let mut co = coro_typed_peer::counter();
        repeat(n, || {
            coro_typed_peer::step(black_box(&mut co), black_box(7))
        });
    }),
    ("typed-create-finish", |n| {
        repeat(n, || coro_typed_peer::create_finish(black_box(7)));
    }),
    ("genawaiter-round-trip", |n| {
        let mut co = genawaiter_peer::counter();
        repeat(n, || {
            genawaiter_peer::step(black_box(&mut co), black_box(7))
        });
    }),
    ("future-round-trip", |n| {
        let mut co = future_peer::counter();
        repeat(n, || future_peer::step(black_box(&mut co)));
    }),
    ("lua-round-trip", |n| {
        let co = lua_peer::Counter::new();
        repeat(n, || co.step(black_box(7)));
    }),
    ("threads-round-trip", |n| {
        let threads = thread_peer::PingPong::new();
        repeat(n, || threads.step(black_box(7)));
    }),
    ("coro-create-finish", |n| {
        repeat(n, || coro_peer::create_finish(black_box(7)));
    }),
    ("stackless-create-finish", |n| {
        repeat(n, || coro_stackless_peer::create_finish(black_box(7)));
    }),
    ("genawaiter-create-finish", |n| {
        repeat(n, || genawaiter_peer::create_finish(black_box(7)));
    }),
    ("future-create-finish", |n| {
        repeat(n, || future_peer::create_finish(black_box(7)));
    }),
    // A generator of `n` items drained as a stream: one item per count.
    ("coro-stream", |n| {
        black_box(streams::drain(streams::coro_stackful(black_box(n))));
    }),
    ("stackless-stream", |n| {
        black_box(streams::drain(streams::coro_stackless(black_box(n))));
    }),
    // The same generators drained as iterators, for comparison.
    ("coro-iter", |n| {
        let sum: u64 = streams::coro_stackful_generator(black_box(n))
            .into_iter()
            .sum();
        black_box(sum);
    }),
    ("stackless-iter", |n| {
        let sum: u64 = streams::coro_stackless_generator(black_box(n))
            .into_iter()
            .sum();
        black_box(sum);
    }),
    ("typed-stream", |n| {
        black_box(streams::drain(streams::coro_typed(black_box(n))));
    }),
    ("async-stream-stream", |n| {
        black_box(streams::drain(streams::async_stream(black_box(n))));
    }),
    ("genawaiter-stream", |n| {
        black_box(streams::drain(streams::genawaiter(black_box(n))));
    }),
    // `n` passes of the tokenizer over its 1 MiB text: divide the
    // difference of two counts by the tokens of one pass (the `report`'s
    // tokenizer table prints it) for the instructions per token.
    ("tokenizer-coro", |n| {
        repeat(n, || {
            tokenizer::count_tokens_coro(black_box(tokenizer::text()))
        });
    }),
    ("tokenizer-corosensei", |n| {
        repeat(n, || {
            tokenizer::count_tokens_corosensei(black_box(tokenizer::text()))
        });
    }),
    ("tokenizer-stackless", |n| {
        repeat(n, || {
            tokenizer::count_tokens_coro_stackless(black_box(tokenizer::text()))
        });
    }),
    ("tokenizer-typed", |n| {
        repeat(n, || {
            tokenizer::count_tokens_coro_typed(black_box(tokenizer::text()))
        });
    }),
    ("tokenizer-genawaiter", |n| {
        repeat(n, || {
            tokenizer::count_tokens_genawaiter(black_box(tokenizer::text()))
        });
    }),
    ("tokenizer-iterator", |n| {
        repeat(n, || {
            tokenizer::count_tokens_iterator(black_box(tokenizer::text()))
        });
    }),
    ("tokenizer-direct", |n| {
        repeat(n, || {
            tokenizer::count_tokens_direct(black_box(tokenizer::text()))
        });
    }),
];

/// Runs `op` `n` times, keeping every result.
#[inline(never)]
fn repeat<T>(n: u64, mut op: impl FnMut() -> T) {
    for _ in 0..n {
        black_box(op());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `probe --time WORKLOAD N`: wall-clock nanoseconds per run, best of five.
    if let [flag, name, n] = args.as_slice()
        && flag == "--time"
    {
        let (_, run) = WORKLOADS
            .iter()
            .find(|(w, _)| w == name)
            .expect("a workload");
        let n: u64 = n.parse().expect("a count");
        let best = (0..5)
            .map(|_| {
                let start = std::time::Instant::now();
                run(n);
                start.elapsed().as_nanos() as f64 / n as f64
            })
            .fold(f64::MAX, f64::min);
        println!("{name}: {best:.2} ns");
        return;
    }
    if let [flag] = args.as_slice()
        && flag == "--tokens"
    {
        // The tokens of one tokenizer pass, to turn a count into one per token.
        println!("{}", tokenizer::count_tokens_direct(tokenizer::text()).0);
        return;
    }
    let found = match args.as_slice() {
        [name, n] => WORKLOADS
            .iter()
            .find(|(known, _)| known == name)
            .zip(n.parse::<u64>().ok()),
        _ => None,
    };
    match found {
        Some(((_, run), n)) => run(n),
        None => {
            eprintln!("usage: probe WORKLOAD COUNT, where WORKLOAD is one of:");
            eprintln!("   (or probe --tokens: the tokens of one tokenizer pass)");
            for (name, _) in WORKLOADS {
                eprintln!("  {name}");
            }
            std::process::exit(2);
        }
    }
}

/// `n` round trips over a ring of started coroutines made by `make` (1,000,
/// or `PROBE_RING` if set), resumed in turn, as the report's many-live table
/// does. With `PROBE_RING` set, prints the nanoseconds per round trip after
/// the set-up. With `PROBE_RECYCLE` set to a count, a ring of that many is
/// made and dropped first, so that the measured one reuses pooled stacks
/// and headers, as in a long-running process.
fn ring<C>(n: u64, make: fn() -> C, step: impl Fn(&mut C, u64) -> u64) {
    let size = std::env::var("PROBE_RING")
        .ok()
        .and_then(|s| s.parse().ok());
    if let Some(recycle) = std::env::var("PROBE_RECYCLE")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        // A ring of that many made and dropped first: the measured one gets
        // its stacks and headers back from coro's pools and chunks, in the
        // order they were freed.
        drop(bench::started(recycle, make, &step));
    }
    let mut ring = bench::started(size.unwrap_or(1_000), make, &step);
    let mut next = 0;
    let start = std::time::Instant::now();
    repeat(n, || {
        let i = step(&mut ring[next], black_box(7));
        next += 1;
        if next == ring.len() {
            next = 0;
        }
        i
    });
    if size.is_some() {
        let ns = start.elapsed().as_nanos() as f64 / n as f64;
        eprintln!("{} live: {ns:.2} ns per round trip", ring.len());
    }
}
