//! A benchmark report without criterion, in a few seconds:
//!
//! ```text
//! cargo run --release -p bench --bin report
//! ```
//!
//! Times each operation of every peer with its own loops (a warm-up, then
//! [`SAMPLES`] samples of about [`SAMPLE_TIME`] each, reporting the median),
//! measures the resident memory of a suspended coroutine, and prints both as
//! markdown tables, with the machine they ran on. Progress goes to stderr.
//!
//! To add a peer: give it a module in the `bench` library, then entries in
//! [`TIMINGS`] and [`FOOTPRINTS`]: the timing table grows a column (and a
//! ratio column) per peer, the memory table a row.

use std::env;
use std::fs;
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use bench::{coro_peer, corosensei_peer, plain_call};
use corosensei::stack::DefaultStack;

/// Samples taken of each operation; the median is reported.
const SAMPLES: usize = 15;
/// The target duration of one sample.
const SAMPLE_TIME: Duration = Duration::from_millis(40);
/// How long each operation runs before it is sampled.
const WARM_UP: Duration = Duration::from_millis(300);
/// How many suspended coroutines the memory measurement keeps alive at once.
const SUSPENDED: usize = 10_000;
/// The page size of x86_64 Linux, the only target coro supports, in which
/// `/proc/self/statm` counts.
const PAGE_SIZE: usize = 4096;
/// Makes the report a child that measures the memory of one peer.
const FOOTPRINT_FLAG: &str = "--footprint";
/// The peer every other one is compared with.
const REFERENCE: &str = "coro";

/// Runs an operation `iters` times, after any setup of its own, and returns
/// how long the runs took (setup excluded).
type Routine = fn(iters: u64) -> Duration;

/// One operation, timed for one peer.
struct Timing {
    /// The row of the table.
    operation: &'static str,
    /// The column of the table.
    peer: &'static str,
    /// What is timed.
    routine: Routine,
}

/// The resident memory of a suspended coroutine of one peer.
struct Footprint {
    /// The row of the table.
    peer: &'static str,
    /// Bytes per suspended coroutine.
    measure: fn() -> f64,
}

/// One resume plus one suspend of a coroutine already inside its loop.
const ROUND_TRIP: &str = "resume + suspend round trip";
/// Create a trivial coroutine the peer's usual way and run it to the end.
const CREATE_DEFAULT: &str = "create + finish, peer's default stack";
/// The same, with a stack the peer gets back from the previous coroutine.
const CREATE_REUSED: &str = "create + finish, stack reused";

/// Everything timed, in table order. coro's stacks always come from its
/// pool, so it has the same routine in both create rows.
const TIMINGS: &[Timing] = &[
    Timing {
        operation: ROUND_TRIP,
        peer: "coro",
        routine: coro_round_trip,
    },
    Timing {
        operation: ROUND_TRIP,
        peer: "corosensei",
        routine: corosensei_round_trip,
    },
    Timing {
        operation: CREATE_DEFAULT,
        peer: "coro",
        routine: coro_create_finish,
    },
    Timing {
        operation: CREATE_DEFAULT,
        peer: "corosensei",
        routine: corosensei_create_finish,
    },
    Timing {
        operation: CREATE_REUSED,
        peer: "coro",
        routine: coro_create_finish,
    },
    Timing {
        operation: CREATE_REUSED,
        peer: "corosensei",
        routine: corosensei_create_finish_reused,
    },
];

/// Every memory measurement, in table order.
const FOOTPRINTS: &[Footprint] = &[
    Footprint {
        peer: "coro",
        measure: || resident_per_coroutine(coro_peer::suspended),
    },
    Footprint {
        peer: "corosensei",
        measure: || resident_per_coroutine(corosensei_peer::suspended),
    },
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, peer] = args.as_slice()
        && flag == FOOTPRINT_FLAG
    {
        return footprint_child(peer);
    }
    println!("# Benchmark report\n");
    println!("Machine: {}\n", machine());

    eprintln!("timing the baseline");
    let baseline = median_ns(plain_call_routine);
    let timed: Vec<(&Timing, f64)> = TIMINGS
        .iter()
        .map(|timing| {
            eprintln!("timing {}: {}", timing.peer, timing.operation);
            (timing, median_ns(timing.routine))
        })
        .collect();
    println!(
        "Median time per operation, {SAMPLES} samples of about {SAMPLE_TIME:?} each \
         (a ratio above 1 means coro is faster):\n"
    );
    print_timings(&timed);
    println!(
        "\nBaseline: a plain call through a function pointer takes {}.\n",
        format_ns(baseline)
    );

    let measured: Vec<(&str, f64)> = FOOTPRINTS
        .iter()
        .map(|footprint| {
            eprintln!("measuring the memory of {}", footprint.peer);
            (footprint.peer, footprint_in_child(footprint.peer))
        })
        .collect();
    println!(
        "Resident memory per suspended coroutine: the growth of RSS while \
         {SUSPENDED} coroutines, each resumed once, are alive, divided by \
         {SUSPENDED}; handles included, each peer in a fresh process:\n"
    );
    print_footprints(&measured);
}

// ---- routines -------------------------------------------------------------

/// Runs `op` `iters` times and returns how long that took.
#[inline]
fn time<T>(iters: u64, mut op: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(op());
    }
    start.elapsed()
}

/// The baseline: a call through an opaque function pointer.
fn plain_call_routine(iters: u64) -> Duration {
    time(iters, || plain_call(black_box(7)))
}

/// coro: one resume + suspend of a running counter.
fn coro_round_trip(iters: u64) -> Duration {
    let mut co = coro_peer::counter();
    time(iters, || coro_peer::step(black_box(&mut co)))
}

/// corosensei: one resume + suspend of a running counter.
fn corosensei_round_trip(iters: u64) -> Duration {
    let mut co = corosensei_peer::counter();
    time(iters, || corosensei_peer::step(black_box(&mut co)))
}

/// coro: create and finish a trivial coroutine (stack from the pool).
fn coro_create_finish(iters: u64) -> Duration {
    time(iters, || coro_peer::create_finish(black_box(7)))
}

/// corosensei: create and finish a trivial coroutine on a new stack.
fn corosensei_create_finish(iters: u64) -> Duration {
    time(iters, || corosensei_peer::create_finish(black_box(7)))
}

/// corosensei: create and finish a trivial coroutine on one reused stack.
fn corosensei_create_finish_reused(iters: u64) -> Duration {
    let mut spare = Some(DefaultStack::default());
    time(iters, || {
        let stack = spare.take().expect("the stack comes back after each run");
        let (r, stack) = corosensei_peer::create_finish_on(stack, black_box(7));
        spare = Some(stack);
        r
    })
}

// ---- sampling -------------------------------------------------------------

/// The median nanoseconds per iteration of `routine`, after a warm-up.
fn median_ns(routine: Routine) -> f64 {
    let iters = calibrate(routine);
    let mut samples: Vec<f64> = (0..SAMPLES)
        .map(|_| routine(iters).as_nanos() as f64 / iters as f64)
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[SAMPLES / 2]
}

/// Runs `routine` for at least [`WARM_UP`], doubling its iterations until one
/// run is long enough to time, and returns how many fill a [`SAMPLE_TIME`].
fn calibrate(routine: Routine) -> u64 {
    let start = Instant::now();
    let mut iters = 1;
    loop {
        let took = routine(iters);
        if took < SAMPLE_TIME / 10 {
            iters *= 2;
        } else if start.elapsed() >= WARM_UP {
            let per_iter = took.as_secs_f64() / iters as f64;
            return ((SAMPLE_TIME.as_secs_f64() / per_iter) as u64).max(1);
        }
    }
}

// ---- memory ---------------------------------------------------------------

/// Runs the memory measurement of `peer` in a fresh process of this program
/// and returns its result: no stack pool or freed heap of an earlier
/// measurement is there to hide the cost.
fn footprint_in_child(peer: &str) -> f64 {
    let exe = env::current_exe().expect("the report knows where it is");
    let output = Command::new(exe)
        .args([FOOTPRINT_FLAG, peer])
        .output()
        .expect("the report can run itself");
    assert!(
        output.status.success(),
        "the memory measurement of {peer} failed"
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("the child prints a number")
}

/// The child's side of [`footprint_in_child`]: prints the bytes per
/// coroutine of `peer`.
fn footprint_child(peer: &str) {
    let footprint = FOOTPRINTS
        .iter()
        .find(|footprint| footprint.peer == peer)
        .expect("a known peer");
    println!("{}", (footprint.measure)());
}

/// The growth of resident memory per coroutine while [`SUSPENDED`] coroutines
/// made by `make` are alive, in bytes.
fn resident_per_coroutine<T>(make: fn() -> T) -> f64 {
    let mut alive = Vec::with_capacity(SUSPENDED);
    let before = resident_bytes();
    alive.extend((0..SUSPENDED).map(|_| make()));
    let after = resident_bytes();
    drop(alive);
    after.saturating_sub(before) as f64 / SUSPENDED as f64
}

/// This process's resident memory in bytes, from `/proc/self/statm`.
fn resident_bytes() -> usize {
    let statm = fs::read_to_string("/proc/self/statm").expect("/proc/self/statm is readable");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's second field is the resident page count");
    pages * PAGE_SIZE
}

// ---- output ---------------------------------------------------------------

/// The CPU model and clock, logical CPU count and kernel release.
fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .filter(|line| line.starts_with(name))
            .find_map(|line| line.split_once(':'))
            .map_or("?", |(_, value)| value.trim())
    };
    let cpus = cpuinfo
        .lines()
        .filter(|line| line.starts_with("processor"))
        .count();
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{} at {} MHz, {cpus} logical CPUs, Linux {}",
        field("model name"),
        field("cpu MHz"),
        kernel.trim()
    )
}

/// One row per operation, one column per peer, then each other peer's time
/// divided by coro's.
fn print_timings(timed: &[(&Timing, f64)]) {
    let operations = unique(timed.iter().map(|(timing, _)| timing.operation));
    let peers = unique(timed.iter().map(|(timing, _)| timing.peer));
    let others: Vec<&str> = peers.iter().copied().filter(|&p| p != REFERENCE).collect();
    let lookup = |operation: &str, peer: &str| {
        timed
            .iter()
            .find(|(timing, _)| timing.operation == operation && timing.peer == peer)
            .map(|&(_, ns)| ns)
    };

    let mut header = vec!["operation".to_string()];
    header.extend(peers.iter().map(|peer| peer.to_string()));
    header.extend(others.iter().map(|peer| format!("{peer} / {REFERENCE}")));
    let rows = operations.iter().map(|&operation| {
        let reference = lookup(operation, REFERENCE);
        let mut row = vec![operation.to_string()];
        row.extend(
            peers
                .iter()
                .map(|&peer| cell(lookup(operation, peer), format_ns)),
        );
        row.extend(others.iter().map(|&peer| {
            let ratio = lookup(operation, peer).zip(reference).map(|(t, r)| t / r);
            cell(ratio, |ratio| format!("{ratio:.2}"))
        }));
        row
    });
    print_table(&header, rows);
}

/// One row per peer: bytes per suspended coroutine, and the ratio to coro.
fn print_footprints(measured: &[(&str, f64)]) {
    let reference = measured
        .iter()
        .find(|&&(peer, _)| peer == REFERENCE)
        .map(|&(_, bytes)| bytes);
    let header = ["peer", "resident per coroutine", "ratio to coro"].map(String::from);
    let rows = measured.iter().map(|&(peer, bytes)| {
        vec![
            peer.to_string(),
            format!("{bytes:.0} B ({:.2} KiB)", bytes / 1024.0),
            cell(reference.map(|r| bytes / r), |ratio| format!("{ratio:.2}")),
        ]
    });
    print_table(&header, rows);
}

/// Prints a markdown table.
fn print_table(header: &[String], rows: impl Iterator<Item = Vec<String>>) {
    println!("| {} |", header.join(" | "));
    println!("|{}", " --- |".repeat(header.len()));
    for row in rows {
        println!("| {} |", row.join(" | "));
    }
}

/// The distinct items, in order of first appearance.
fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// `value` formatted, or a dash where there is none.
fn cell(value: Option<f64>, format: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "—".to_string(), format)
}

/// A duration in nanoseconds, to about three significant digits.
fn format_ns(ns: f64) -> String {
    if ns < 100.0 {
        format!("{ns:.2} ns")
    } else if ns < 10_000.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{:.1} µs", ns / 1000.0)
    }
}
