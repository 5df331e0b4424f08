//! The memory table: what a suspended coroutine of each peer costs, measured
//! in a fresh child process per peer, with the counting allocator that gives
//! the heap's share.

use std::alloc::{GlobalAlloc, Layout, System};
use std::env;
use std::fs;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

use bench::{
    coro_peer, coro_stackless_peer, corosensei_peer, future_peer, genawaiter_peer, generator_peer,
    lua_peer,
};

use crate::FOOTPRINT_FLAG;
use crate::output::{format_bytes, group_digits, print_table, ratio};
use crate::peer::{CORO, CORO_STACKLESS, Kind};

/// The page size of x86_64 Linux, the only target coro supports, in which
/// `/proc/self/statm` counts.
const PAGE_SIZE: usize = 4096;

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

/// The memory taken by a suspended coroutine of one peer.
pub(crate) struct Footprint {
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
pub(crate) const FOOTPRINTS: &[Footprint] = &[
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

/// Measures every peer's memory, each in a fresh child process, and prints
/// the table.
pub(crate) fn footprints() {
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
pub(crate) fn footprint_child(peer: &str) {
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
