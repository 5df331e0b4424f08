//! Many live stackful coroutines at once. Where the kernel has guard regions
//! (Linux 6.13 and later), stacks are carved from a few large mappings, each
//! with its own guard page, so the number alive is not bounded by the
//! kernel's mapping limit (`vm.max_map_count`, 65,530 by default, two
//! mappings per stack of its own).

// Only where coro builds its stackful backend (x86_64 and aarch64 Unix).
#![cfg(coro_stackful)]

mod common;

use coro::{Builder, Coroutine, MIN_STACK_SIZE, Resumed, Yielder};

/// True if this kernel has `MADV_GUARD_INSTALL` (Linux 6.13 and later), and
/// the suite runs on it rather than under an emulator that ignores it.
fn guard_regions_expected() -> bool {
    if common::emulated() {
        return false;
    }
    let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") else {
        return false;
    };
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    (major, minor) >= (6, 13)
}

/// `n` live suspended coroutines with `stack` bytes each, each resumed once
/// more afterwards and checked, then dropped; returns the mappings and the
/// resident bytes they added while alive.
fn live(n: usize, stack: usize) -> (usize, usize) {
    let (maps, rss) = (common::mappings(), common::resident());
    let mut all: Vec<Coroutine<u64, u64, ()>> = (0..n)
        .map(|_| {
            let mut co = Builder::new()
                .stack_size(stack)
                .build(|y: &Yielder<u64, u64>, mut x: u64| {
                    loop {
                        x = y.suspend(x * 2);
                    }
                })
                .expect("a stack");
            assert_eq!(co.resume(1).unwrap(), Resumed::Yield(2));
            co
        })
        .collect();
    let added = (
        common::mappings() - maps,
        common::resident().saturating_sub(rss),
    );
    for (i, co) in all.iter_mut().enumerate() {
        let i = i as u64;
        assert_eq!(co.resume(i).unwrap(), Resumed::Yield(i * 2));
    }
    drop(all);
    added
}

// 40,000 live coroutines: more than the default mapping limit allows with a
// mapping pair per stack, in a few mappings where stacks are carved. In a
// child process, so that no other test's mappings come and go meanwhile.
#[test]
#[cfg_attr(
    coro_asan,
    ignore = "measures resident memory, which AddressSanitizer's shadow and fake stacks multiply"
)]
fn more_live_coroutines_than_the_mapping_limit_allows() {
    const NAME: &str = "more_live_coroutines_than_the_mapping_limit_allows";
    if !guard_regions_expected() {
        eprintln!("skipped: no guard regions here (Linux 6.13 or later, natively)");
        return;
    }
    if common::is_child(NAME) {
        let (maps, rss) = live(40_000, MIN_STACK_SIZE);
        println!("mappings={maps} resident={rss}");
        return;
    }
    let output = common::run_child(NAME);
    assert!(output.status.success(), "{}", common::describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| common::printed(&stdout, name);
    let (maps, rss) = (field("mappings"), field("resident"));
    println!(
        "40,000 live: {maps} more mappings, {} bytes resident each",
        rss / 40_000
    );
    assert!(maps < 100, "{maps} mappings for 40,000 stacks");
    assert!(rss / 40_000 <= 4608, "{} bytes resident each", rss / 40_000);
}

// A million live suspended coroutines on default-sized stacks, each resumed
// once more and checked, then all dropped, at the default mapping limit.
// Needs about 5 GiB of memory: `.ci/run` runs it where the machine has it.
#[test]
#[ignore = "needs about 5 GiB of memory; .ci/run runs it where the machine has it"]
fn a_million_live_coroutines() {
    if !guard_regions_expected() {
        eprintln!("skipped: no guard regions here (Linux 6.13 or later, natively)");
        return;
    }
    let (maps, rss) = live(1_000_000, coro::DEFAULT_STACK_SIZE);
    println!(
        "1,000,000 live: {maps} more mappings, {} bytes resident each",
        rss / 1_000_000
    );
    assert!(maps < 1_000, "{maps} mappings for a million stacks");
    // The crate's docs promise about 4.3 KiB each: a touched page and a header.
    assert!(
        rss / 1_000_000 <= 4608,
        "{} bytes resident each",
        rss / 1_000_000
    );
}

// Threads that come and go, each creating, resuming and dropping coroutines
// (some left in the pool, some alive in a thread-local at exit), leave no
// chunk behind: no mapping of a chunk's size (about 1 GiB; the allocator's
// per-thread arenas and the threads' cached stacks, which do stay, are tens
// of MiB at most) is left. In a child process, so that no other test's
// mappings come and go meanwhile.
#[test]
#[cfg_attr(
    coro_asan,
    ignore = "AddressSanitizer maps large regions per thread of its own"
)]
fn threads_that_come_and_go_leave_no_mapping_behind() {
    const NAME: &str = "threads_that_come_and_go_leave_no_mapping_behind";
    if common::is_child(NAME) {
        thread_local! {
            static KEPT: std::cell::RefCell<Vec<Coroutine<u64, u64, ()>>> =
                const { std::cell::RefCell::new(Vec::new()) };
        }
        let churn = || {
            for round in 0..4 {
                let mut batch: Vec<Coroutine<u64, u64, ()>> = (0..500)
                    .map(|_| {
                        Coroutine::new(|y, mut x: u64| {
                            loop {
                                x = y.suspend(x + 1);
                            }
                        })
                    })
                    .collect();
                for (i, co) in batch.iter_mut().enumerate() {
                    assert_eq!(co.resume(i as u64).unwrap(), Resumed::Yield(i as u64 + 1));
                }
                // A few stay alive until the thread's exit.
                if round == 0 {
                    KEPT.with(|kept| kept.borrow_mut().extend(batch.drain(..10)));
                }
            }
        };
        // The first thread sets up what stays for the process (the fault
        // handler, the allocator's arenas).
        std::thread::spawn(churn).join().unwrap();
        let before = std::fs::read_to_string("/proc/self/maps").unwrap();
        for _ in 0..4 {
            let threads: Vec<_> = (0..4).map(|_| std::thread::spawn(churn)).collect();
            for thread in threads {
                thread.join().unwrap();
            }
        }
        let after = std::fs::read_to_string("/proc/self/maps").unwrap();
        let big = after
            .lines()
            .filter(|line| !before.contains(line))
            .filter(|line| {
                let range = line.split_whitespace().next().unwrap_or("0-0");
                let (low, high) = range.split_once('-').unwrap_or(("0", "0"));
                let size = usize::from_str_radix(high, 16).unwrap_or(0)
                    - usize::from_str_radix(low, 16).unwrap_or(0);
                size >= 256 << 20
            })
            .inspect(|line| println!("left: {line}"))
            .count();
        println!("big={big}");
        return;
    }
    let output = common::run_child(NAME);
    assert!(output.status.success(), "{}", common::describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("big=0"),
        "chunks stayed after the threads:\n{stdout}"
    );
}
