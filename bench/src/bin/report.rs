//! A benchmark report without criterion, in about a minute and a half:
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
//! samples, for a run of about 15 seconds. Progress goes to stderr.
//!
//! To add a peer: give it a module in the `bench` library, then entries in
//! [`ROUND_TRIPS`], [`CREATES`] and [`FOOTPRINTS`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::env;
use std::fs;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use bench::{
    coro_peer, coro_stackless_peer, corosensei_peer, future_peer, genawaiter_peer, generator_peer,
    lua_peer, plain_call, thread_peer,
};
use corosensei::stack::DefaultStack;

// ---- settings -------------------------------------------------------------

/// How much sampling a run does.
#[derive(Clone, Copy, Debug)]
struct Settings {
    /// Samples taken of each operation; the median is reported.
    samples: usize,
    /// The target duration of one sample.
    sample_time: Duration,
    /// How long each operation runs before it is sampled.
    warm_up: Duration,
}

/// The normal run: about a minute and a half on a 2-core VM.
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
const FOOTPRINT_FLAG: &str = "--footprint";
/// Selects [`QUICK`].
const QUICK_FLAG: &str = "--quick";
/// Names the SVG chart's file.
const SVG_FLAG: &str = "--svg";
/// Where the chart goes without `--svg`.
const DEFAULT_SVG: &str = "target/coro-bench.svg";
/// The page size of x86_64 Linux, the only target coro supports, in which
/// `/proc/self/statm` counts.
const PAGE_SIZE: usize = 4096;

// ---- the counting allocator -----------------------------------------------

/// The system allocator, which also keeps the balance of heap bytes
/// allocated minus freed once [`COUNTING`] is on (only in a footprint child,
/// so the timed runs pay one relaxed load per allocation and nothing else).
struct Counting;

/// Whether [`Counting`] keeps its balance.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Heap bytes allocated minus bytes freed while [`COUNTING`] was on.
static LIVE: AtomicIsize = AtomicIsize::new(0);

/// Adds `delta` to [`LIVE`] if counting is on.
#[inline]
fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_add(delta, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; the bookkeeping touches
// only two atomics and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller's contract for `alloc` is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: `ptr` came from `System` with `layout`, as every block
        // of this allocator does.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        // SAFETY: as for `dealloc`, and `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---- what is measured -----------------------------------------------------

/// Runs an operation a given number of times, on state set up beforehand,
/// and returns how long the runs took.
type Run = Box<dyn FnMut(u64) -> Duration>;

/// What a peer is, for the tables and the chart's colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Own stack per coroutine.
    Stackful,
    /// Compiler-built state machine on the heap.
    Stackless,
    /// Lua's interpreter.
    Lua,
    /// OS threads.
    Threads,
}

impl Kind {
    /// The table's word for it.
    fn label(self) -> &'static str {
        match self {
            Kind::Stackful => "stackful",
            Kind::Stackless => "stackless",
            Kind::Lua => "Lua VM",
            Kind::Threads => "OS threads",
        }
    }

    /// The chart's colour for it.
    fn colour(self) -> &'static str {
        match self {
            Kind::Stackful => "#4c6ef5",
            Kind::Stackless => "#12b886",
            Kind::Lua => "#ae3ec9",
            Kind::Threads => "#868e96",
        }
    }
}

/// One peer's way of doing one operation.
struct Peer {
    /// The row of the table.
    name: &'static str,
    /// What it is.
    kind: Kind,
    /// The row it is compared with; empty for a reference row.
    against: &'static str,
    /// Sets up the state and returns the timed loop.
    make: fn() -> Run,
}

/// coro's stackful row in the round-trip table.
const CORO: &str = "coro";
/// coro's stackless row in both timing tables.
const CORO_STACKLESS: &str = "coro stackless";
/// coro's stackful row in the create table.
const CORO_CREATE: &str = "coro (pooled stack)";

/// One resume plus one suspend of a coroutine already inside its loop.
const ROUND_TRIPS: &[Peer] = &[
    Peer {
        name: CORO,
        kind: Kind::Stackful,
        against: "",
        make: || {
            let mut co = coro_peer::counter();
            Box::new(move |n| time(n, || coro_peer::step(black_box(&mut co))))
        },
    },
    Peer {
        name: "corosensei",
        kind: Kind::Stackful,
        against: CORO,
        make: || {
            let mut co = corosensei_peer::counter();
            Box::new(move |n| time(n, || corosensei_peer::step(black_box(&mut co))))
        },
    },
    Peer {
        name: "generator",
        kind: Kind::Stackful,
        against: CORO,
        make: || {
            let mut co = generator_peer::counter();
            Box::new(move |n| time(n, || generator_peer::step(black_box(&mut co))))
        },
    },
    Peer {
        name: CORO_STACKLESS,
        kind: Kind::Stackless,
        against: "",
        make: || {
            let mut co = coro_stackless_peer::counter();
            Box::new(move |n| time(n, || coro_stackless_peer::step(black_box(&mut co))))
        },
    },
    Peer {
        name: "genawaiter (rc)",
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        make: || {
            let mut co = genawaiter_peer::counter();
            Box::new(move |n| time(n, || genawaiter_peer::step(black_box(&mut co))))
        },
    },
    Peer {
        name: "hand-written Future, no-op waker",
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        make: || {
            let mut co = future_peer::counter();
            Box::new(move |n| time(n, || future_peer::step(black_box(&mut co))))
        },
    },
    Peer {
        name: "Lua 5.4, resumed from Rust (mlua)",
        kind: Kind::Lua,
        against: CORO,
        make: || {
            let co = lua_peer::Counter::new();
            Box::new(move |n| time(n, || co.step()))
        },
    },
    Peer {
        name: "Lua 5.4, resumed in a Lua loop",
        kind: Kind::Lua,
        against: CORO,
        make: || {
            let lua = lua_peer::Loop::round_trips();
            Box::new(move |n| time_loop(|| lua.run(black_box(n))))
        },
    },
    Peer {
        name: "2 OS threads, mpsc ping-pong",
        kind: Kind::Threads,
        against: CORO,
        make: || {
            let threads = thread_peer::PingPong::new();
            Box::new(move |n| time(n, || threads.step(black_box(7))))
        },
    },
];

/// Create a trivial coroutine the peer's usual way and run it to the end.
const CREATES: &[Peer] = &[
    Peer {
        name: CORO_CREATE,
        kind: Kind::Stackful,
        against: "",
        make: || Box::new(|n| time(n, || coro_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: "corosensei (new stack)",
        kind: Kind::Stackful,
        against: CORO_CREATE,
        make: || Box::new(|n| time(n, || corosensei_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: "corosensei (reused stack)",
        kind: Kind::Stackful,
        against: CORO_CREATE,
        make: || {
            let mut spare = Some(DefaultStack::default());
            Box::new(move |n| {
                time(n, || {
                    let stack = spare.take().expect("the stack comes back after each run");
                    let (r, stack) = corosensei_peer::create_finish_on(stack, black_box(7));
                    spare = Some(stack);
                    r
                })
            })
        },
    },
    Peer {
        name: "generator (new stack)",
        kind: Kind::Stackful,
        against: CORO_CREATE,
        make: || Box::new(|n| time(n, || generator_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: CORO_STACKLESS,
        kind: Kind::Stackless,
        against: "",
        make: || Box::new(|n| time(n, || coro_stackless_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: "genawaiter (rc)",
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        make: || Box::new(|n| time(n, || genawaiter_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: "boxed async block, polled once",
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        make: || Box::new(|n| time(n, || future_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: "Lua 5.4, from Rust (mlua create_thread)",
        kind: Kind::Lua,
        against: CORO_CREATE,
        make: || {
            let lua = lua_peer::Factory::new();
            Box::new(move |n| time(n, || lua.create_finish(black_box(7))))
        },
    },
    Peer {
        name: "Lua 5.4, in a Lua loop (GC included)",
        kind: Kind::Lua,
        against: CORO_CREATE,
        make: || {
            let lua = lua_peer::Loop::create_finish();
            Box::new(move |n| time_loop(|| lua.run(black_box(n))))
        },
    },
    Peer {
        name: "OS thread, spawn + join",
        kind: Kind::Threads,
        against: CORO_CREATE,
        make: || Box::new(|n| time(n, || thread_peer::create_finish(black_box(7)))),
    },
];

/// How many coroutines are alive in the scaling table.
const LIVE_COUNTS: &[usize] = &[1, 1_000, 10_000, 30_000, 100_000, 1_000_000];

/// The most live corosensei coroutines the scaling table sets up.
const PEER_LIVE_MAX: usize = 10_000;

/// The memory taken by a suspended coroutine of one peer.
struct Footprint {
    /// The row of the table.
    peer: &'static str,
    /// What it is.
    kind: Kind,
    /// The row it is compared with; empty for a reference row.
    against: &'static str,
    /// How many are kept alive at once.
    count: usize,
    /// Makes and measures `count` of them.
    measure: fn(usize) -> Memory,
}

/// The growth of memory per coroutine, in bytes.
#[derive(Clone, Copy, Debug, Default)]
struct Memory {
    /// Heap bytes allocated (as requested, no allocator overhead), plus the
    /// handle.
    heap: f64,
    /// Resident set growth: stack pages, heap pages, allocator overhead,
    /// handle.
    resident: f64,
    /// The peer's own count, if it keeps one (Lua's `used_memory`).
    own: Option<f64>,
}

/// Every memory measurement, in table order.
const FOOTPRINTS: &[Footprint] = &[
    Footprint {
        peer: CORO,
        kind: Kind::Stackful,
        against: "",
        count: 10_000,
        measure: |n| per_coroutine(n, coro_peer::suspended),
    },
    Footprint {
        peer: "corosensei",
        kind: Kind::Stackful,
        against: CORO,
        count: 10_000,
        measure: |n| per_coroutine(n, corosensei_peer::suspended),
    },
    Footprint {
        peer: "generator",
        kind: Kind::Stackful,
        against: CORO,
        count: 10_000,
        measure: |n| per_coroutine(n, generator_peer::suspended),
    },
    Footprint {
        peer: CORO_STACKLESS,
        kind: Kind::Stackless,
        against: "",
        count: 100_000,
        measure: |n| per_coroutine(n, coro_stackless_peer::suspended),
    },
    Footprint {
        peer: "genawaiter (rc)",
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        count: 100_000,
        measure: |n| per_coroutine(n, genawaiter_peer::suspended),
    },
    Footprint {
        peer: "hand-written Future",
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        count: 100_000,
        measure: |n| per_coroutine(n, future_peer::suspended),
    },
    Footprint {
        peer: "Lua 5.4 (mlua Thread)",
        kind: Kind::Lua,
        against: CORO,
        count: 100_000,
        measure: lua_per_coroutine,
    },
];

// ---- the report -----------------------------------------------------------

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    if let [flag, peer] = args.as_slice()
        && flag == FOOTPRINT_FLAG
    {
        return footprint_child(peer);
    }
    let mut settings = NORMAL;
    let mut svg = DEFAULT_SVG.to_string();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            QUICK_FLAG => settings = QUICK,
            SVG_FLAG => svg = rest.next().expect("--svg takes a path").clone(),
            other => panic!("unknown argument {other:?}; known: {QUICK_FLAG}, {SVG_FLAG} PATH"),
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

    let baseline = {
        eprintln!("timing the baseline");
        let run: Run = Box::new(|n| time(n, || plain_call(black_box(7))));
        sample(settings, &mut [("baseline", run)])[0]
    };

    let round_trips = time_table(settings, ROUND_TRIPS);
    println!("## Resume + suspend round trip\n");
    print_timings(ROUND_TRIPS, &round_trips);
    println!(
        "\nThe Lua rows include Lua's own resume (a `setjmp` each); from Rust, \
         also mlua's checks and stack moves. The OS-thread row is a futex \
         wake-up each way and depends on the scheduler, the machine's load \
         and whether the partner is still spinning: take it as an order of \
         magnitude."
    );

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

// ---- timing ---------------------------------------------------------------

/// Runs `op` `iters` times and returns how long that took.
#[inline]
fn time<T>(iters: u64, mut op: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(op());
    }
    start.elapsed()
}

/// Times one call of `op`, which runs all the iterations itself (a Lua
/// loop).
#[inline]
fn time_loop<T>(op: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    black_box(op());
    start.elapsed()
}

/// The summary of one operation's samples, in nanoseconds per iteration.
#[derive(Clone, Copy, Debug)]
struct Timed {
    /// The median.
    median: f64,
    /// Half the distance between the quartiles, relative to the median.
    spread: f64,
}

/// Sets up every peer of a table, then samples them all.
fn time_table(settings: Settings, peers: &[Peer]) -> Vec<Timed> {
    let mut runs: Vec<(&str, Run)> = peers
        .iter()
        .map(|peer| {
            eprintln!("setting up {}", peer.name);
            (peer.name, (peer.make)())
        })
        .collect();
    sample(settings, &mut runs)
}

/// Warms up and calibrates each run, then takes their samples in turn,
/// one of each per round, and summarises them.
fn sample(settings: Settings, runs: &mut [(&str, Run)]) -> Vec<Timed> {
    let iters: Vec<u64> = runs
        .iter_mut()
        .map(|(name, run)| {
            eprintln!("warming up {name}");
            calibrate(settings, run)
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(settings.samples); runs.len()];
    for _ in 0..settings.samples {
        for ((run, &n), taken) in runs
            .iter_mut()
            .map(|(_, run)| run)
            .zip(&iters)
            .zip(&mut samples)
        {
            taken.push(run(n).as_nanos() as f64 / n as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut taken| {
            taken.sort_by(f64::total_cmp);
            let at = |q: f64| taken[((taken.len() - 1) as f64 * q).round() as usize];
            let median = at(0.5);
            Timed {
                median,
                spread: (at(0.75) - at(0.25)) / 2.0 / median,
            }
        })
        .collect()
}

/// Runs `run` for at least the warm-up time, doubling its iterations until
/// one run is long enough to time, and returns how many fill a sample.
fn calibrate(settings: Settings, run: &mut Run) -> u64 {
    let start = Instant::now();
    let mut iters = 1;
    loop {
        let took = run(iters);
        if took < settings.sample_time / 10 {
            iters *= 2;
        } else if start.elapsed() >= settings.warm_up {
            let per_iter = took.as_secs_f64() / iters as f64;
            return ((settings.sample_time.as_secs_f64() / per_iter) as u64).max(1);
        }
    }
}

// ---- scaling --------------------------------------------------------------

/// `n` counters made by `make`, each resumed once, then resumed round-robin
/// by `step` (a function item, so that it is inlined as in the other
/// tables).
fn ring<C, S>(n: usize, make: impl Fn() -> C, step: S) -> Run
where
    C: 'static,
    S: Fn(&mut C) -> u64 + 'static,
{
    let mut ring = bench::started(n, make, &step);
    let mut next = 0;
    Box::new(move |iters| {
        time(iters, || {
            let i = step(&mut ring[next]);
            next += 1;
            if next == ring.len() {
                next = 0;
            }
            i
        })
    })
}

/// `n` started stackful counters, resumed round-robin.
fn stackful_ring(n: usize) -> Run {
    ring(n, coro_peer::counter, coro_peer::step)
}

/// `n` started corosensei counters, resumed round-robin.
fn corosensei_ring(n: usize) -> Run {
    ring(n, corosensei_peer::counter, corosensei_peer::step)
}

/// `n` started stackless counters, resumed round-robin.
fn stackless_ring(n: usize) -> Run {
    ring(n, coro_stackless_peer::counter, coro_stackless_peer::step)
}

/// The largest number of guarded stacks that fit under `vm.max_map_count`
/// (two mappings each), leaving room for what the process already maps.
fn stack_limit() -> (usize, usize) {
    let max_maps: usize = fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(65_530);
    let mapped = fs::read_to_string("/proc/self/maps").map_or(0, |maps| maps.lines().count());
    (max_maps, max_maps.saturating_sub(mapped + 1_000) / 2)
}

/// Times coro's round trip with more and more live coroutines, and prints
/// the table.
fn scaling(settings: Settings) {
    let (max_maps, fit) = stack_limit();
    let mut rows = Vec::new();
    for &n in LIVE_COUNTS {
        // Both stackful rings are alive at once, and both need mappings.
        let with_peer = n <= PEER_LIVE_MAX && 2 * n <= fit;
        let mut runs: Vec<(&str, Run)> = Vec::new();
        if n <= fit {
            eprintln!("setting up {n} stackful coroutines");
            runs.push(("stackful", stackful_ring(n)));
        }
        if with_peer {
            eprintln!("setting up {n} corosensei coroutines");
            runs.push(("corosensei", corosensei_ring(n)));
        }
        eprintln!("setting up {n} stackless coroutines");
        runs.push(("stackless", stackless_ring(n)));
        let timed = sample(settings, &mut runs);
        let (stackful, peer, stackless) = match timed.as_slice() {
            [full, peer, less] => (Some(*full), Some(*peer), *less),
            [full, less] => (Some(*full), None, *less),
            [less] => (None, None, *less),
            _ => unreachable!("one to three runs"),
        };
        rows.push((n, stackful, peer, stackless));
    }
    let first = rows[0];
    let header = [
        "live coroutines",
        "coro stackful",
        "vs 1 live",
        "corosensei",
        "ratio",
        "coro stackless",
        "vs 1 live",
    ]
    .map(String::from);
    let table = rows.iter().map(|&(n, stackful, peer, stackless)| {
        vec![
            group_digits(n),
            stackful.map_or_else(|| "— (over vm.max_map_count)".to_string(), format_timed),
            cell(
                stackful.zip(first.1).map(|(t, one)| t.median / one.median),
                ratio,
            ),
            peer.map_or_else(|| "—".to_string(), format_timed),
            cell(peer.zip(stackful).map(|(p, t)| p.median / t.median), |r| {
                format!("{} × coro", ratio(r))
            }),
            format_timed(stackless),
            ratio(stackless.median / first.3.median),
        ]
    });
    print_table(&header, table);
    println!(
        "\nStackful coroutines need two mappings each (stack and guard page); \
         this machine's vm.max_map_count of {max_maps} fits about {} of them \
         here, so the stackful column stops there. corosensei's column (its \
         default stacks, which need mappings too) stops at {}. The coroutines \
         are resumed in creation order, which is also address order.",
        group_digits(fit),
        group_digits(PEER_LIVE_MAX.min(fit / 2))
    );
}

// ---- memory ---------------------------------------------------------------

/// Measures every peer's memory, each in a fresh child process, and prints
/// the table.
fn footprints() {
    let measured: Vec<Memory> = FOOTPRINTS
        .iter()
        .map(|footprint| {
            eprintln!("measuring the memory of {}", footprint.peer);
            footprint_in_child(footprint.peer)
        })
        .collect();
    let lookup = |name: &str| {
        FOOTPRINTS
            .iter()
            .zip(&measured)
            .find(|(footprint, _)| footprint.peer == name)
            .map(|(_, memory)| *memory)
    };
    let header = [
        "peer",
        "kind",
        "coroutines alive",
        "heap + handle",
        "resident (RSS growth)",
        "resident vs coro",
    ]
    .map(String::from);
    let rows = FOOTPRINTS.iter().zip(&measured).map(|(footprint, memory)| {
        let against = lookup(footprint.against);
        vec![
            footprint.peer.to_string(),
            footprint.kind.label().to_string(),
            group_digits(footprint.count),
            format_bytes(memory.heap),
            format_bytes(memory.resident),
            against.map_or_else(
                || "reference".to_string(),
                |r| {
                    format!(
                        "{} × {}",
                        ratio(memory.resident / r.resident),
                        footprint.against
                    )
                },
            ),
        ]
    });
    print_table(&header, rows);
    println!(
        "\nEach peer in a fresh process: a coroutine resumed once and parked \
         inside its body, times the count shown, alive at once; the growth \
         divided by the count. \"Heap\" is what the program asked the \
         allocator for (a counting global allocator), plus the handle kept \
         in a `Vec`; \"resident\" is the growth of RSS, which also holds \
         stack pages, allocator headers and the handles."
    );
    for (footprint, memory) in FOOTPRINTS.iter().zip(&measured) {
        if let Some(own) = memory.own {
            println!(
                "{}: Lua's own count (`Lua::used_memory`) grows by {} per coroutine.",
                footprint.peer,
                format_bytes(own)
            );
        }
    }
}

/// Runs the memory measurement of `peer` in a fresh process of this program
/// and returns its result: no stack pool or freed heap of an earlier
/// measurement is there to hide the cost.
fn footprint_in_child(peer: &str) -> Memory {
    let exe = env::current_exe().expect("the report knows where it is");
    let output = Command::new(exe)
        .args([FOOTPRINT_FLAG, peer])
        .output()
        .expect("the report can run itself");
    assert!(
        output.status.success(),
        "the memory measurement of {peer} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<Option<f64>> = text
        .split_whitespace()
        .map(|word| word.parse().ok())
        .collect();
    match numbers.as_slice() {
        [Some(heap), Some(resident), own] => Memory {
            heap: *heap,
            resident: *resident,
            own: *own,
        },
        _ => panic!("the child printed {text:?}"),
    }
}

/// The child's side of [`footprint_in_child`]: prints heap, resident and
/// own bytes per coroutine of `peer` ("-" for no own count).
fn footprint_child(peer: &str) {
    let footprint = FOOTPRINTS
        .iter()
        .find(|footprint| footprint.peer == peer)
        .expect("a known peer");
    let memory = (footprint.measure)(footprint.count);
    let own = memory
        .own
        .map_or_else(|| "-".to_string(), |own| own.to_string());
    println!("{} {} {own}", memory.heap, memory.resident);
}

/// The growth of heap and resident memory per coroutine while `count`
/// coroutines made by `make` are alive.
fn per_coroutine<T>(count: usize, make: impl FnMut() -> T) -> Memory {
    measure(count, make, || None)
}

/// As [`per_coroutine`], calling `settle` once the coroutines are made and
/// before the memory is read again; what `settle` returns is the peer's own
/// count.
fn measure<T>(
    count: usize,
    mut make: impl FnMut() -> T,
    settle: impl FnOnce() -> Option<f64>,
) -> Memory {
    // Reserved first, so that the measured span allocates no vector; its
    // pages are only touched as the handles go in.
    let mut alive = Vec::with_capacity(count);
    COUNTING.store(true, Ordering::Relaxed);
    let heap_before = LIVE.load(Ordering::Relaxed);
    let resident_before = resident_bytes();
    alive.extend((0..count).map(|_| make()));
    let own = settle();
    let heap_after = LIVE.load(Ordering::Relaxed);
    let resident_after = resident_bytes();
    COUNTING.store(false, Ordering::Relaxed);
    drop(alive);
    let heap = (heap_after - heap_before) as f64 + (count * size_of::<T>()) as f64;
    Memory {
        heap: heap / count as f64,
        resident: resident_after.saturating_sub(resident_before) as f64 / count as f64,
        own,
    }
}

/// [`per_coroutine`] for Lua coroutines made from Rust, with Lua's own
/// count of its memory (after a full collection on both sides).
fn lua_per_coroutine(count: usize) -> Memory {
    let factory = lua_peer::Factory::new();
    let lua = factory.lua();
    lua.gc_collect().expect("Lua collects");
    let before = lua.used_memory();
    measure(
        count,
        || factory.suspended(),
        || {
            lua.gc_collect().expect("Lua collects");
            Some(lua.used_memory().saturating_sub(before) as f64 / count as f64)
        },
    )
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

/// The commit of coro measured, and whether `src/` differs from it.
fn revision() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&root)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => match git(&["status", "--porcelain", "--", "src"]) {
            Some(changes) if !changes.is_empty() => {
                format!("commit {commit}, with uncommitted changes in src/")
            }
            _ => format!("commit {commit}"),
        },
        None => "commit unknown (no git)".to_string(),
    }
}

/// One row per peer: its kind, median, spread, and its time divided by its
/// reference's.
fn print_timings(peers: &[Peer], timed: &[Timed]) {
    let lookup = |name: &str| {
        peers
            .iter()
            .zip(timed)
            .find(|(peer, _)| peer.name == name)
            .map(|(_, t)| *t)
    };
    let header = ["peer", "kind", "median", "ratio"].map(String::from);
    let rows = peers.iter().zip(timed).map(|(peer, &t)| {
        vec![
            peer.name.to_string(),
            peer.kind.label().to_string(),
            format_timed(t),
            lookup(peer.against).map_or_else(
                || "reference".to_string(),
                |r| format!("{} × {}", ratio(t.median / r.median), peer.against),
            ),
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

/// `value` formatted, or a dash where there is none.
fn cell(value: Option<f64>, format: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "—".to_string(), format)
}

/// A ratio to two decimals, or to three significant digits when large.
fn ratio(r: f64) -> String {
    if r < 100.0 {
        format!("{r:.2}")
    } else {
        format!("{r:.0}")
    }
}

/// A median with its spread, as "12.3 ns ±2%".
fn format_timed(t: Timed) -> String {
    format!("{} ±{:.0}%", format_ns(t.median), t.spread * 100.0)
}

/// A duration in nanoseconds, to about three significant digits.
fn format_ns(ns: f64) -> String {
    if ns < 10.0 {
        format!("{ns:.2} ns")
    } else if ns < 100.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 10_000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{:.1} µs", ns / 1000.0)
    }
}

/// A size in bytes, with KiB beside it when large.
fn format_bytes(bytes: f64) -> String {
    if bytes < 1024.0 {
        format!("{bytes:.0} B")
    } else {
        format!("{bytes:.0} B ({:.2} KiB)", bytes / 1024.0)
    }
}

/// `n` with thousands separated by commas.
fn group_digits(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

// ---- the chart ------------------------------------------------------------

/// The chart's width, in pixels.
const SVG_WIDTH: f64 = 980.0;
/// Where the bars start: the labels go left of it.
const BAR_LEFT: f64 = 330.0;
/// How long the longest bar may be.
const BAR_SPAN: f64 = 520.0;
/// A bar's height.
const BAR_HEIGHT: f64 = 18.0;
/// From one bar to the next.
const BAR_PITCH: f64 = 24.0;

/// Horizontal bars on one log scale, a panel per table, as SVG text.
fn svg_chart(panels: &[(&str, &[Peer], &[Timed])]) -> String {
    let all = panels
        .iter()
        .flat_map(|(_, _, timed)| timed.iter().map(|t| t.median));
    let (low, high) = all.fold((f64::INFINITY, 0.0f64), |(lo, hi), ns| {
        (lo.min(ns), hi.max(ns))
    });
    let first = low.log10().floor();
    let last = high.log10().ceil().max(first + 1.0);
    let x = |ns: f64| BAR_LEFT + (ns.log10() - first) / (last - first) * BAR_SPAN;

    let rows: usize = panels.iter().map(|(_, peers, _)| peers.len()).sum();
    let height = 90.0 + panels.len() as f64 * 70.0 + rows as f64 * BAR_PITCH + 40.0;
    let mut svg = String::new();
    let mut put = |line: String| {
        svg.push_str(&line);
        svg.push('\n');
    };
    put(r#"<?xml version="1.0" encoding="UTF-8"?>"#.to_string());
    put(format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{height}" viewBox="0 0 {SVG_WIDTH} {height}" font-family="sans-serif" font-size="13">"#
    ));
    put(format!(
        r#"<rect width="{SVG_WIDTH}" height="{height}" fill="white"/>"#
    ));
    put(format!(
        r#"<text x="{}" y="28" font-size="17" font-weight="bold" text-anchor="middle">coro and its peers: nanoseconds per operation (median, log scale, shorter is faster)</text>"#,
        SVG_WIDTH / 2.0
    ));
    put(format!(
        r##"<text x="{}" y="48" font-size="11" fill="#555" text-anchor="middle">{}</text>"##,
        SVG_WIDTH / 2.0,
        escape(&machine())
    ));

    let mut y = 80.0;
    for (title, peers, timed) in panels {
        put(format!(
            r#"<text x="12" y="{y}" font-size="15" font-weight="bold">{}</text>"#,
            escape(title)
        ));
        y += 14.0;
        let top = y;
        let bottom = top + peers.len() as f64 * BAR_PITCH;
        // Decade grid lines and their labels.
        let mut decade = first;
        while decade <= last {
            let gx = x(10f64.powf(decade));
            put(format!(
                r##"<line x1="{gx:.1}" y1="{top}" x2="{gx:.1}" y2="{bottom}" stroke="#ddd"/>"##
            ));
            put(format!(
                r##"<text x="{gx:.1}" y="{:.1}" font-size="11" fill="#555" text-anchor="middle">{}</text>"##,
                bottom + 14.0,
                format_decade(decade)
            ));
            decade += 1.0;
        }
        for (peer, t) in peers.iter().zip(timed.iter()) {
            let is_coro = peer.against.is_empty();
            let weight = if is_coro { "bold" } else { "normal" };
            let stroke = if is_coro {
                r#" stroke="black" stroke-width="1.5""#
            } else {
                ""
            };
            let end = x(t.median);
            put(format!(
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-weight="{weight}">{}</text>"#,
                BAR_LEFT - 8.0,
                y + BAR_HEIGHT - 4.0,
                escape(peer.name)
            ));
            put(format!(
                r#"<rect x="{BAR_LEFT}" y="{y:.1}" width="{:.1}" height="{BAR_HEIGHT}" fill="{}"{stroke}/>"#,
                (end - BAR_LEFT).max(1.0),
                peer.kind.colour()
            ));
            put(format!(
                r#"<text x="{:.1}" y="{:.1}" font-weight="{weight}">{}</text>"#,
                end + 6.0,
                y + BAR_HEIGHT - 4.0,
                escape(&format_ns(t.median))
            ));
            y += BAR_PITCH;
        }
        y += 56.0;
    }
    // The legend.
    let mut lx = 150.0;
    for kind in [Kind::Stackful, Kind::Stackless, Kind::Lua, Kind::Threads] {
        put(format!(
            r#"<rect x="{lx}" y="{:.1}" width="14" height="14" fill="{}"/>"#,
            y - 28.0,
            kind.colour()
        ));
        put(format!(
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 20.0,
            y - 16.0,
            kind.label()
        ));
        lx += 120.0;
    }
    put(format!(
        r#"<text x="{lx}" y="{:.1}" font-weight="bold">bold, outlined: coro</text>"#,
        y - 16.0
    ));
    put("</svg>".to_string());
    svg
}

/// An axis label for 10^`decade` nanoseconds.
fn format_decade(decade: f64) -> String {
    let ns = 10f64.powf(decade);
    match decade as i32 {
        ..=-1 => format!("{ns} ns"),
        0..=2 => format!("{ns:.0} ns"),
        3..=5 => format!("{:.0} µs", ns / 1e3),
        _ => format!("{:.0} ms", ns / 1e6),
    }
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
