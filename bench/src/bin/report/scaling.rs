//! The scaling table: coro's round trip, and corosensei's, with more and
//! more live coroutines resumed round-robin.

use std::fs;

use bench::{coro_peer, coro_stackless_peer, corosensei_peer};

use crate::Settings;
use crate::output::{cell, format_timed, group_digits, print_table, ratio};
use std::hint::black_box;

use crate::timing::{Run, sample, time};

/// How many coroutines are alive in the scaling table.
const LIVE_COUNTS: &[usize] = &[1, 1_000, 10_000, 30_000, 100_000, 1_000_000];

/// How many are alive in the table of bodies with state of their own.
const WINDOW_COUNTS: &[usize] = &[1, 1_000, 100_000, 1_000_000];

/// The most live corosensei coroutines the scaling table sets up: two
/// mappings each, so 30,000 fit under Linux's default `vm.max_map_count`.
const PEER_LIVE_MAX: usize = 30_000;

/// `n` counters made by `make`, each resumed once, then resumed round-robin
/// by `step` (a function item, so that it is inlined as in the other
/// tables).
fn ring<C, S>(n: usize, make: impl Fn() -> C, step: S) -> Run
where
    C: 'static,
    S: Fn(&mut C, u64) -> u64 + 'static,
{
    let mut ring = bench::started(n, make, &step);
    let mut next = 0;
    Box::new(move |iters| {
        time(iters, || {
            let i = step(&mut ring[next], black_box(7));
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

/// `n` started stackful counters on 16 KiB stacks, resumed round-robin.
fn small_stackful_ring(n: usize) -> Run {
    ring(n, coro_peer::small_counter, coro_peer::step)
}

/// `n` started corosensei counters, resumed round-robin.
fn corosensei_ring(n: usize) -> Run {
    ring(n, corosensei_peer::counter, corosensei_peer::step)
}

/// `n` started stackless counters, resumed round-robin.
fn stackless_ring(n: usize) -> Run {
    ring(n, coro_stackless_peer::counter, coro_stackless_peer::step)
}

/// `n` started stackful windows (state in the body's frame), resumed
/// round-robin.
fn stackful_window_ring(n: usize) -> Run {
    ring(n, coro_peer::window, coro_peer::step)
}

/// `n` started stackless windows, resumed round-robin.
fn stackless_window_ring(n: usize) -> Run {
    ring(n, coro_stackless_peer::window, coro_stackless_peer::step)
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

/// Kernel mappings of this process.
fn mapping_count() -> usize {
    fs::read_to_string("/proc/self/maps").map_or(0, |maps| maps.lines().count())
}

/// Resident bytes of this process.
fn resident() -> usize {
    let pages = fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<usize>().ok())
        .unwrap_or(0);
    pages * 4096
}

/// True if coro carves its stacks from shared mappings here (the kernel has
/// guard regions): a hundred live coroutines then add almost no mapping.
fn stacks_are_carved() -> bool {
    let before = mapping_count();
    let live: Vec<_> = (0..100).map(|_| coro_peer::counter()).collect();
    let added = mapping_count().saturating_sub(before);
    drop(live);
    added < 50
}

/// Times coro's round trip with more and more live coroutines, and prints
/// the table.
pub(crate) fn scaling(settings: Settings) {
    let (max_maps, fit) = stack_limit();
    let carved = stacks_are_carved();
    let coro_fit = if carved { usize::MAX } else { fit };
    let mut rows = Vec::new();
    for &n in LIVE_COUNTS {
        // corosensei's stacks need two mappings each, and so do coro's
        // unless they are carved.
        let with_peer = n <= PEER_LIVE_MAX && n + if carved { 0 } else { n } <= fit;
        let mut runs: Vec<(&str, Run)> = Vec::new();
        let mut per_coroutine = None;
        if n <= coro_fit {
            eprintln!("setting up {n} stackful coroutines");
            let before = resident();
            runs.push(("stackful", stackful_ring(n)));
            per_coroutine = Some(resident().saturating_sub(before) / n);
            eprintln!("setting up {n} stackful coroutines on 16 KiB stacks");
            runs.push(("stackful, 16 KiB", small_stackful_ring(n)));
        }
        if with_peer {
            eprintln!("setting up {n} corosensei coroutines");
            runs.push(("corosensei", corosensei_ring(n)));
        }
        eprintln!("setting up {n} stackless coroutines");
        runs.push(("stackless", stackless_ring(n)));
        // A create with all of them alive: no cost of a create may grow with
        // the number alive.
        runs.push((
            "create",
            Box::new(|iters| time(iters, || coro_peer::create_finish(black_box(7)))),
        ));
        let mut timed = sample(settings, &mut runs);
        let create = timed.pop().expect("the create run");
        let (stackful, small, peer, stackless) = match timed.as_slice() {
            [full, small, peer, less] => (Some(*full), Some(*small), Some(*peer), *less),
            [full, small, less] => (Some(*full), Some(*small), None, *less),
            [less] => (None, None, None, *less),
            _ => unreachable!("one, three or four runs"),
        };
        rows.push((n, stackful, small, peer, stackless, per_coroutine, create));
    }
    let first = rows[0];
    let header = [
        "live coroutines",
        "coro stackful",
        "vs 1 live",
        "resident per stackful coroutine",
        "create + finish meanwhile",
        "corosensei",
        "ratio",
        "coro stackful, 16 KiB stacks",
        "coro stackless",
        "vs 1 live",
        "stackful vs stackless",
        "16 KiB stackful vs stackless",
    ]
    .map(String::from);
    let table = rows.iter().map(
        |&(n, stackful, small, peer, stackless, per_coroutine, create)| {
            vec![
                group_digits(n),
                stackful.map_or_else(|| "— (over vm.max_map_count)".to_string(), format_timed),
                cell(
                    stackful.zip(first.1).map(|(t, one)| t.median / one.median),
                    ratio,
                ),
                // Below a thousand, the process's own pages drown the figure.
                per_coroutine
                    .filter(|_| n >= 1_000)
                    .map_or_else(|| "—".to_string(), |bytes| format!("{bytes} B")),
                format_timed(create),
                peer.map_or_else(|| "—".to_string(), format_timed),
                cell(peer.zip(stackful).map(|(p, t)| p.median / t.median), |r| {
                    format!("{} × coro", ratio(r))
                }),
                small.map_or_else(|| "—".to_string(), format_timed),
                format_timed(stackless),
                ratio(stackless.median / first.4.median),
                cell(stackful.map(|t| t.median / stackless.median), |r| {
                    format!("{} × the time", ratio(r))
                }),
                cell(small.map(|t| t.median / stackless.median), |r| {
                    format!("{} × the time", ratio(r))
                }),
            ]
        },
    );
    print_table(&header, table);
    if carved {
        println!(
            "\nThis kernel has guard regions: coro carves its stacks from chunks of \
             1 GiB, one mapping each, so the stackful column goes to a million. \
             corosensei's stacks need two mappings each; under this machine's \
             vm.max_map_count of {max_maps} its column stops at {} (past that it \
             panics with ENOMEM). The coroutines are resumed in creation order, \
             which is also address order. Resident memory is the process's growth \
             while the stackful ring was set up, divided by its size.",
            group_digits(PEER_LIVE_MAX.min(fit))
        );
    } else {
        println!(
            "\nStackful coroutines need two mappings each (stack and guard page) \
             without guard regions; this machine's vm.max_map_count of {max_maps} \
             fits about {} of them here, so the stackful column stops there. \
             corosensei's column (its default stacks, which need mappings too) \
             stops at {}. The coroutines are resumed in creation order, which is \
             also address order.",
            group_digits(fit),
            group_digits(PEER_LIVE_MAX.min(fit / 2))
        );
    }
    println!(
        "\nThe coro stackful column uses the default stack (1 MiB), the one \
         after it 16 KiB stacks (`Builder::stack_size`), corosensei its default \
         (1 MiB). The counter's state (its input) stays in registers across the \
         suspension, and what the switch itself saves is in the coroutine's \
         header, not on its stack: a resume of a cold coroutine misses on the \
         header's line, and never touches the stack, which is on a page of its \
         own. A stackless coroutine's frame is on the heap, next to the frames \
         created before and after it, so a round-robin walk over them is a \
         stream the processor prefetches. \"Create + finish meanwhile\" is a \
         stackful coroutine made, run to its end and dropped (pooled stack) \
         while all of them are alive."
    );
    window_table(settings);
}

/// Times the round-robin ring of bodies that keep state in their frame, on
/// both backends, and prints the table.
fn window_table(settings: Settings) {
    let (_, fit) = stack_limit();
    let coro_fit = if stacks_are_carved() { usize::MAX } else { fit };
    println!("\n### With state in the body\n");
    let mut rows = Vec::new();
    for &n in WINDOW_COUNTS {
        let mut runs: Vec<(&str, Run)> = Vec::new();
        if n <= coro_fit {
            eprintln!("setting up {n} stackful windows");
            runs.push(("stackful", stackful_window_ring(n)));
        }
        eprintln!("setting up {n} stackless windows");
        runs.push(("stackless", stackless_window_ring(n)));
        let timed = sample(settings, &mut runs);
        let (stackful, stackless) = match timed.as_slice() {
            [full, less] => (Some(*full), *less),
            [less] => (None, *less),
            _ => unreachable!("one or two runs"),
        };
        rows.push((n, stackful, stackless));
    }
    let header = [
        "live coroutines",
        "coro stackful",
        "coro stackless",
        "stackful vs stackless",
    ]
    .map(String::from);
    let table = rows.iter().map(|&(n, stackful, stackless)| {
        vec![
            group_digits(n),
            stackful.map_or_else(|| "— (over vm.max_map_count)".to_string(), format_timed),
            format_timed(stackless),
            cell(stackful.map(|t| t.median / stackless.median), |r| {
                format!("{} × the time", ratio(r))
            }),
        ]
    });
    print_table(&header, table);
    println!(
        "\nEach body suspends with the sum of its last four inputs: five words \
         of its own live across every suspension, more than the switch keeps \
         in registers, so the stackful body keeps them in its frame on its \
         stack (default size), and a resume of a cold one misses on a line of \
         that stack too, on a page of its own; the stackless body keeps them in \
         its frame on the heap."
    );
}
