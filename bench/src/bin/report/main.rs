//! A benchmark report without criterion, in about five minutes (two of
//! them the async tables):
//!
//! ```text
//! cargo run --release -p bench --bin report [-- --quick] [-- --svg PATH]
//! ```
//!
//! Times each operation of every peer with its own loops (a warm-up, then
//! samples of a fixed number of iterations, taken in turn from every peer of
//! a table so that a noisy moment of the machine hits them all alike, and
//! reports the median), measures the memory of a suspended coroutine of each
//! peer in a fresh child process, and prints it all as markdown tables with
//! the machine they ran on. An SVG bar chart of the timings goes to `--svg
//! PATH` (default `target/coro-bench.svg`). `--quick` takes fewer, shorter
//! samples, for a run of about 15 seconds; `--async-only` runs only the
//! async bridge's tables, `--round-trips-only` only the round trips,
//! `--tokenizer-only` only the tokenizer's. Progress goes to stderr.
//!
//! To add a peer: give it a module in the `bench` library, then entries in
//! [`ROUND_TRIPS`], [`CREATES`] and [`FOOTPRINTS`](memory::FOOTPRINTS).
//!
//! Each table has its own file: the round trips (`round_trips.rs`), the
//! creates (`creates.rs`), the scaling with many live coroutines
//! (`scaling.rs`), the memory per coroutine (`memory.rs`, with the
//! counting allocator behind it), the tokenizer over 1 MiB of text
//! (`tokenizer.rs`), and the async bridge's stream and TCP echo tables
//! (`asynchronous.rs`). What they share: the peers' kinds and the
//! reference rows' names (`peer.rs`), the timing loops and their sampling
//! (`timing.rs`), the markdown output (`output.rs`) and the SVG chart
//! (`chart.rs`).

mod asynchronous;
mod chart;
mod creates;
mod memory;
mod output;
mod peer;
mod round_trips;
mod scaling;
mod timing;
mod tokenizer;

use std::env;
use std::fs;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use bench::plain_call;

use chart::svg_chart;
use creates::CREATES;
use memory::{footprint_child, footprints};
use output::{format_ns, machine, print_timings, revision};
use round_trips::ROUND_TRIPS;
use scaling::scaling;
use timing::{Run, sample, time, time_table};
use tokenizer::tokenizer_table;

// ---- settings -------------------------------------------------------------

/// How much sampling a run does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    /// Samples taken of each operation; the median is reported.
    pub(crate) samples: usize,
    /// The target duration of one sample.
    pub(crate) sample_time: Duration,
    /// How long each operation runs before it is sampled.
    pub(crate) warm_up: Duration,
}

/// The normal run: about five minutes on a 2-core VM.
const NORMAL: Settings = Settings {
    samples: 31,
    sample_time: Duration::from_millis(80),
    warm_up: Duration::from_millis(300),
};

/// `--quick`: about 15 seconds, for a look rather than a record.
const QUICK: Settings = Settings {
    samples: 9,
    sample_time: Duration::from_millis(20),
    warm_up: Duration::from_millis(80),
};

/// Makes the report a child that measures the memory of one peer.
pub(crate) const FOOTPRINT_FLAG: &str = "--footprint";
/// Selects [`QUICK`].
const QUICK_FLAG: &str = "--quick";
/// Runs only the async bridge's tables (streams and TCP echo).
const ASYNC_FLAG: &str = "--async-only";
/// Runs only the round-trip table, for a look at one change.
const ROUND_TRIPS_FLAG: &str = "--round-trips-only";
/// Runs only the tokenizer's table.
const TOKENIZER_FLAG: &str = "--tokenizer-only";
/// Runs only the stream table.
const STREAMS_FLAG: &str = "--streams-only";
/// Runs only the create table.
const CREATES_FLAG: &str = "--creates-only";
/// Runs only the many-live table.
const SCALING_FLAG: &str = "--scaling-only";
/// Names the SVG chart's file.
const SVG_FLAG: &str = "--svg";
/// Where the chart goes without `--svg`.
const DEFAULT_SVG: &str = "target/coro-bench.svg";

// ---- the report -----------------------------------------------------------

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    if let [flag, peer] = args.as_slice()
        && flag == FOOTPRINT_FLAG
    {
        return footprint_child(peer);
    }
    let mut settings = NORMAL;
    let mut quick = false;
    let mut async_only = false;
    let mut round_trips_only = false;
    let mut tokenizer_only = false;
    let mut streams_only = false;
    let mut creates_only = false;
    let mut scaling_only = false;
    let mut svg = DEFAULT_SVG.to_string();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            QUICK_FLAG => {
                settings = QUICK;
                quick = true;
            }
            ASYNC_FLAG => async_only = true,
            ROUND_TRIPS_FLAG => round_trips_only = true,
            TOKENIZER_FLAG => tokenizer_only = true,
            STREAMS_FLAG => streams_only = true,
            CREATES_FLAG => creates_only = true,
            SCALING_FLAG => scaling_only = true,
            SVG_FLAG => svg = rest.next().expect("--svg takes a path").clone(),
            other => panic!(
                "unknown argument {other:?}; known: {QUICK_FLAG}, {ASYNC_FLAG}, \
                 {ROUND_TRIPS_FLAG}, {TOKENIZER_FLAG}, {STREAMS_FLAG}, {CREATES_FLAG}, \
                 {SCALING_FLAG}, {SVG_FLAG} PATH"
            ),
        }
    }
    let started = Instant::now();

    println!("# Benchmark report\n");
    println!("Machine: {}\n", machine());
    println!("coro: {}\n", revision());
    println!(
        "Medians of {} samples of about {:?} each, taken in turn from every \
         row of a table after a warm-up of {:?} each. Ratios are the peer's \
         time divided by coro's (stackful rows against coro, stackless rows \
         against coro stackless): above 1 means coro is faster.\n",
        settings.samples, settings.sample_time, settings.warm_up
    );

    if async_only {
        return async_tables(settings, quick);
    }
    if streams_only {
        println!("## A generator of a million items as a Stream\n");
        return asynchronous::stream_table(settings);
    }
    if tokenizer_only {
        println!("## A tokenizer over 1 MiB of text\n");
        return tokenizer_table(settings);
    }
    if creates_only {
        println!("## Create + run to completion (trivial body)\n");
        let creates = time_table(settings, CREATES);
        return print_timings(CREATES, &creates);
    }
    if scaling_only {
        println!("## Round trip with many live coroutines, resumed round-robin\n");
        return scaling(settings);
    }

    let baseline = {
        eprintln!("timing the baseline");
        let run: Run = Box::new(|n| time(n, || plain_call(black_box(7))));
        sample(settings, &mut [("baseline", run)])[0]
    };

    let round_trips = time_table(settings, ROUND_TRIPS);
    println!("## Resume + suspend round trip\n");
    println!(
        "Every round trip passes a `u64` each way: the resume's input in, the \
         suspended value out (the body suspends with its input plus one). The \
         hand-written future is polled, with no value either way: the floor.\n"
    );
    print_timings(ROUND_TRIPS, &round_trips);
    println!(
        "\nThe Lua rows include Lua's own resume (a `setjmp` each); from Rust, \
         also mlua's checks and stack moves. The OS-thread row is a futex \
         wake-up each way and depends on the scheduler, the machine's load \
         and whether the partner is still spinning: take it as an order of \
         magnitude."
    );
    if round_trips_only {
        return;
    }

    let creates = time_table(settings, CREATES);
    println!("\n## Create + run to completion (trivial body)\n");
    print_timings(CREATES, &creates);

    println!("\n## Round trip with many live coroutines, resumed round-robin\n");
    scaling(settings);

    println!(
        "\nBaseline: a plain call through a function pointer takes {}.\n",
        format_ns(baseline.median)
    );

    println!("## Memory per suspended coroutine\n");
    footprints();

    println!("\n## A tokenizer over 1 MiB of text\n");
    tokenizer_table(settings);

    println!();
    async_tables(settings, quick);

    let chart = svg_chart(&[
        ("Resume + suspend round trip", ROUND_TRIPS, &round_trips),
        ("Create + run to completion", CREATES, &creates),
    ]);
    let path = Path::new(&svg);
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        fs::create_dir_all(dir).expect("the chart's folder can be made");
    }
    fs::write(path, chart).expect("the chart can be written");
    println!(
        "\nChart: {} (log scale). Report run time: {:.1} s.",
        fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display(),
        started.elapsed().as_secs_f64()
    );
}

/// The async bridge's tables.
fn async_tables(settings: Settings, quick: bool) {
    println!("## A generator of a million items as a Stream\n");
    asynchronous::stream_table(settings);
    println!("\n## TCP echo over loopback\n");
    asynchronous::echo_table(quick);
}
