//! The async bridge's tables: a TCP echo server over loopback, its
//! connections served by stackful coroutines in straight-line code with
//! `coro::wait` against native tokio tasks; and a generator of a million
//! items consumed as a `Stream`, against async-stream and genawaiter.
//!
//! Both take their samples in turn from every row, like the other tables,
//! so that a noisy moment of the machine hits every row alike.

use std::hint::black_box;
use std::time::Instant;

use bench::echo::{self, Server};
use bench::streams;

use crate::Settings;
use crate::output::{format_ns, group_digits, print_table, ratio};

/// Connections of the echo table.
const CONNECTIONS: usize = 100;
/// Messages per connection: the normal run's, and `--quick`'s.
const MESSAGES: usize = 10_000;
const QUICK_MESSAGES: usize = 1_000;
/// Rounds of the echo table (each runs every server once).
const ECHO_ROUNDS: usize = 5;
const QUICK_ECHO_ROUNDS: usize = 3;

/// Items of each generator in the stream table.
const ITEMS: u64 = 1_000_000;

/// The median of `samples`.
fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Half the distance between the quartiles, relative to the median.
fn spread(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    (at(0.75) - at(0.25)) / 2.0 / at(0.5)
}

/// The TCP echo table.
pub(crate) fn echo_table(quick: bool) {
    let (messages, rounds) = if quick {
        (QUICK_MESSAGES, QUICK_ECHO_ROUNDS)
    } else {
        (MESSAGES, ECHO_ROUNDS)
    };
    let servers = [
        ("native tokio tasks", Server::Native),
        ("coro stackful, coro::wait", Server::Stackful),
        ("coro stackless, .await", Server::Stackless),
    ];
    // A short warm-up of every server: the first run pays for the
    // runtime's and the kernel's first allocations.
    for (name, server) in servers {
        eprintln!("warming up echo: {name}");
        echo::run(server, CONNECTIONS, messages / 10);
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); servers.len()];
    for round in 0..rounds {
        for ((name, server), taken) in servers.iter().zip(&mut times) {
            eprintln!("echo round {}/{rounds}: {name}", round + 1);
            taken.push(echo::run(*server, CONNECTIONS, messages).as_secs_f64());
        }
    }
    let total = (CONNECTIONS * messages) as f64;
    let native = total / median(times[0].clone());
    let header = [
        "server",
        "messages per second",
        "per round trip",
        "vs native",
    ]
    .map(String::from);
    let rows = servers.iter().zip(&times).map(|((name, _), taken)| {
        let seconds = median(taken.clone());
        let throughput = total / seconds;
        vec![
            name.to_string(),
            format!(
                "{} ±{:.0}%",
                group_digits(throughput as usize),
                spread(taken) * 100.0
            ),
            format_ns(seconds * 1e9 / total),
            format!("{} ×", ratio(throughput / native)),
        ]
    });
    print_table(&header, rows);
    println!(
        "\n{CONNECTIONS} connections × {} messages of {} bytes, each echoed before \
         the next is sent; the server on a current-thread tokio runtime, the \
         clients (the same for every server) on a second thread with their own. \
         Median of {rounds} rounds. async-wormhole, the one peer that waits from \
         plain code, does not build with today's stable Rust: its switcheroo \
         0.2.9 needs `#![feature(asm, naked_functions)]` (error E0554 on a \
         stable compiler) and the pre-stable `asm!`/`#[naked]` syntax.",
        group_digits(messages),
        echo::MESSAGE
    );
}

/// One way of making the stream table's generator.
type Drain = fn(u64) -> u64;

/// The stream table.
pub(crate) fn stream_table(settings: Settings) {
    let peers: [(&str, &str, Drain); 5] = [
        ("coro stackful", "stackful", |n| {
            streams::drain(streams::coro_stackful(n))
        }),
        ("coro stackless", "stackless", |n| {
            streams::drain(streams::coro_stackless(n))
        }),
        ("coro stackless, typed", "stackless", |n| {
            streams::drain(streams::coro_typed(n))
        }),
        ("async-stream (stream!)", "stackless", |n| {
            streams::drain(streams::async_stream(n))
        }),
        ("genawaiter (rc) Stream", "stackless", |n| {
            streams::drain(streams::genawaiter(n))
        }),
    ];
    for (name, _, drain) in peers {
        eprintln!("warming up stream: {name}");
        let until = Instant::now() + settings.warm_up;
        while Instant::now() < until {
            black_box(drain(black_box(ITEMS / 10)));
        }
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); peers.len()];
    for _ in 0..settings.samples {
        for ((_, _, drain), taken) in peers.iter().zip(&mut times) {
            let started = Instant::now();
            black_box(drain(black_box(ITEMS)));
            taken.push(started.elapsed().as_secs_f64());
        }
    }
    let medians: Vec<f64> = times.iter().map(|t| median(t.clone())).collect();
    let header = [
        "peer",
        "kind",
        "1,000,000 items",
        "per item",
        "vs coro stackful",
        "vs coro stackless",
    ]
    .map(String::from);
    let rows = peers
        .iter()
        .zip(&times)
        .zip(&medians)
        .map(|(((name, kind, _), taken), &m)| {
            vec![
                name.to_string(),
                kind.to_string(),
                format!("{:.2} ms ±{:.0}%", m * 1e3, spread(taken) * 100.0),
                format_ns(m * 1e9 / ITEMS as f64),
                format!("{} ×", ratio(m / medians[0])),
                format!("{} ×", ratio(m / medians[1])),
            ]
        });
    print_table(&header, rows);
    println!(
        "\nEach generator yields 0, 1, 2, … to a consumer that polls it with a \
         no-op waker until it ends; the time includes making it. Median of {} \
         samples. A ratio above 1 means coro is faster.",
        settings.samples
    );
}
