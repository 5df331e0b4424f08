//! `Builder`: names, stack sizes, big captures, and the `Debug` output of
//! named coroutines.
//!
//! Stackful only: names and stack sizes are what `Builder` configures, and a
//! stackless coroutine has neither (its frame is a heap allocation of exactly
//! the size the compiler computed). The `Debug` output both backends share is
//! checked in the conformance suite (tests/conformance/status.rs).

// Only where coro builds its stackful backend (x86_64 and aarch64 Unix).
#![cfg(coro_stackful)]

mod common;

use std::error::Error as _;
use std::hint::black_box;

use coro::{Builder, Coroutine, DEFAULT_STACK_SIZE, Error, MIN_STACK_SIZE, Resumed, Yielder};

/// Recurses `depth` times with a kilobyte of live data in each frame, and
/// returns a value that depends on all of them.
#[inline(never)]
fn use_stack(depth: usize) -> u64 {
    let frame = black_box([depth as u8; 1024]);
    if depth == 0 {
        return 0;
    }
    let below = use_stack(depth - 1);
    below + u64::from(black_box(&frame)[1023])
}

fn expected(depth: usize) -> u64 {
    (1..=depth as u64).map(|d| d % 256).sum()
}

#[test]
fn size_constants() {
    assert_eq!(DEFAULT_STACK_SIZE, 1024 * 1024);
    assert_eq!(MIN_STACK_SIZE, 16 * 1024);
}

// A name shows in the handle, in `running()` inside the body, and in
// `Debug`.
#[test]
fn names() {
    let mut co = Builder::new()
        .name("lexer")
        .build(|_: &Yielder<(), ()>, ()| coro::running().unwrap().name().map(str::to_owned))
        .unwrap();
    assert_eq!(co.handle().name(), Some("lexer"));
    let debug = format!("{co:?}");
    assert!(debug.contains("Coroutine"), "{debug}");
    assert!(debug.contains("lexer"), "{debug}");
    assert!(debug.contains("Suspended"), "{debug}");
    assert!(debug.contains(&co.handle().id().to_string()), "{debug}");
    assert_eq!(
        co.resume(()).unwrap(),
        Resumed::Return(Some("lexer".to_string()))
    );
    assert!(format!("{co:?}").contains("Dead"));

    // A `String` name, and no name.
    let owned = Builder::new()
        .name(format!("worker-{}", 7))
        .build(|_: &Yielder<(), ()>, ()| {})
        .unwrap();
    assert_eq!(owned.handle().name(), Some("worker-7"));
    let unnamed = Coroutine::<(), (), ()>::new(|_, ()| {});
    assert_eq!(unnamed.handle().name(), None);
    assert!(!format!("{unnamed:?}").contains("name"));
}

// A stack size below the minimum is raised to it: a body that needs several
// KiB of stack (4 to 9 KiB, release to debug) runs in a coroutine asked for
// 1 byte.
#[test]
fn tiny_stack_size_is_raised_to_the_minimum() {
    let mut co = Builder::new()
        .stack_size(1)
        .build(|_: &Yielder<(), ()>, ()| use_stack(3))
        .unwrap();
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(expected(3)));
}

// The default stack holds a recursion using 60 to 130 KiB (release to debug).
#[test]
fn default_stack_holds_moderate_recursion() {
    let mut co = Coroutine::<(), (), u64>::new(|_, ()| use_stack(60));
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(expected(60)));
}

// The default stack fits a plain recursive-descent parser 4,000 levels
// deep (where a 256 KiB stack overflowed), suspending a token from every
// level, in debug builds too.
#[test]
fn default_stack_fits_a_recursive_parser() {
    /// Parses `(...)` nesting from `text[at..]`, yielding each depth as it
    /// opens; returns where the group ends.
    fn group(y: &Yielder<(), usize>, text: &[u8], at: usize, depth: usize) -> usize {
        assert_eq!(text[at], b'(');
        y.suspend(depth);
        let mut at = at + 1;
        while text[at] == b'(' {
            at = group(y, text, at, depth + 1);
        }
        assert_eq!(text[at], b')');
        at + 1
    }
    const DEPTH: usize = 4_000;
    let text: Vec<u8> = std::iter::repeat_n(b'(', DEPTH)
        .chain(std::iter::repeat_n(b')', DEPTH))
        .collect();
    let co = Coroutine::<(), usize, usize>::new(move |y, ()| group(y, &text, 0, 1));
    let mut depths = co.into_iter();
    assert!(depths.by_ref().eq(1..=DEPTH));
}

// A big stack lets deep recursion run: 4 to 9 MiB of frames (release to
// debug) in a 16 MiB stack, suspending at the bottom.
#[test]
fn big_stack_allows_deep_recursion() {
    #[inline(never)]
    fn deep(depth: usize) -> u64 {
        let frame = black_box([depth as u8; 1024]);
        if depth == 0 {
            coro::suspend::<(), ()>(()).unwrap();
            return 0;
        }
        deep(depth - 1) + u64::from(black_box(&frame)[0])
    }
    let mut co = Builder::new()
        .stack_size(16 * 1024 * 1024)
        .build(|_: &Yielder<(), ()>, ()| deep(4000))
        .unwrap();
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(()));
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(expected(4000)));
}

// A closure capturing 200 KiB of data, with the smallest stack: it does not
// fit on the stack and goes to the heap, and the body sees every byte.
#[test]
fn large_capture_with_a_small_stack() {
    let mut data = vec![0u8; 200 * 1024];
    for (i, b) in data.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let array: Box<[u8; 200 * 1024]> = data.into_boxed_slice().try_into().unwrap();
    let array: [u8; 200 * 1024] = *array;
    let expected_sum: u64 = array.iter().map(|&b| u64::from(b)).sum();
    let mut co = Builder::new()
        .stack_size(MIN_STACK_SIZE)
        .build(move |y: &Yielder<(), u64>, ()| {
            y.suspend(u64::from(array[200 * 1024 - 1]));
            array.iter().map(|&b| u64::from(b)).sum::<u64>()
        })
        .unwrap();
    assert_eq!(
        co.resume(()).unwrap(),
        Resumed::Yield(((200 * 1024 - 1) % 251) as u64)
    );
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(expected_sum));
}

/// Runs a body capturing `N` bytes in a coroutine with `stack` bytes of stack.
fn run_capture<const N: usize>(stack: usize) {
    let mut array = [0u8; N];
    for (i, b) in array.iter_mut().enumerate() {
        *b = (i * 7 % 256) as u8;
    }
    let expected: u64 = array.iter().map(|&b| u64::from(b)).sum();
    let mut co = Builder::new()
        .stack_size(stack)
        .build(move |_: &Yielder<(), ()>, ()| array.iter().map(|&b| u64::from(b)).sum())
        .unwrap();
    assert_eq!(
        co.resume(()).unwrap(),
        Resumed::Return(expected),
        "{N} bytes"
    );
}

// Captures of every size work with any stack: small ones live on the stack,
// big ones on the heap, and the body sees every byte. Each case runs in a
// child process, since a capture that overflows the stack kills the process.
#[test]
fn captures_of_many_sizes() {
    const NAME: &str = "captures_of_many_sizes";
    let cases: [(&str, fn()); 10] = [
        ("1 B, 16 KiB stack", || run_capture::<1>(MIN_STACK_SIZE)),
        ("500 B, 16 KiB stack", || run_capture::<500>(MIN_STACK_SIZE)),
        ("1500 B, 16 KiB stack", || {
            run_capture::<1500>(MIN_STACK_SIZE)
        }),
        ("3000 B, 16 KiB stack", || {
            run_capture::<3000>(MIN_STACK_SIZE)
        }),
        ("5000 B, 16 KiB stack", || {
            run_capture::<5000>(MIN_STACK_SIZE)
        }),
        ("10 KB, default stack", || {
            run_capture::<10_000>(DEFAULT_STACK_SIZE)
        }),
        ("25 KB, default stack", || {
            run_capture::<25_000>(DEFAULT_STACK_SIZE)
        }),
        ("40 KB, default stack", || {
            run_capture::<40_000>(DEFAULT_STACK_SIZE)
        }),
        ("60 KB, default stack", || {
            run_capture::<60_000>(DEFAULT_STACK_SIZE)
        }),
        ("70 KB, default stack", || {
            run_capture::<70_000>(DEFAULT_STACK_SIZE)
        }),
    ];
    if common::is_child(NAME) {
        let arg = common::child_arg();
        let (_, case) = cases.iter().find(|(name, _)| *name == arg).unwrap();
        case();
        return;
    }
    let failed: Vec<String> = cases
        .iter()
        .filter_map(|(name, _)| {
            let output = common::run_child_with(NAME, name);
            (!output.status.success()).then(|| format!("{name}: {:?}", output.status))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "captures that failed:\n{}",
        failed.join("\n")
    );
}

// A stack that cannot be mapped is an error from `build`, with the size and
// the operating system's reason.
#[test]
fn impossible_stack_is_an_error() {
    for size in [usize::MAX, usize::MAX / 2, 1 << 60] {
        let result = Builder::new()
            .stack_size(size)
            .build(|_: &Yielder<(), ()>, ()| {});
        match result {
            Err(err @ Error::StackAllocation { .. }) => {
                let text = err.to_string();
                assert!(text.contains("stack"), "{text}");
                assert!(err.source().is_some());
            }
            other => panic!("expected StackAllocation for {size}, got {other:?}"),
        }
    }
    // Nothing is left half made: ordinary coroutines still work.
    let mut co = Coroutine::<(), (), u8>::new(|_, ()| 1);
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(1));
}

// `Builder` is `Clone` and `Default`; one configuration builds many
// coroutines.
#[test]
fn builder_is_reusable() {
    let builder = Builder::default().name("same").stack_size(32 * 1024);
    let debug = format!("{builder:?}");
    assert!(debug.contains("Builder"), "{debug}");
    assert!(debug.contains("same"), "{debug}");
    assert!(debug.contains(&(32 * 1024).to_string()), "{debug}");
    let mut results = Vec::new();
    for i in 0..3u32 {
        let mut co = builder
            .clone()
            .build(move |_: &Yielder<(), ()>, ()| i * 10)
            .unwrap();
        assert_eq!(co.handle().name(), Some("same"));
        results.push(co.resume(()).unwrap().returned().unwrap());
    }
    assert_eq!(results, [0, 10, 20]);
    assert_eq!(
        format!("{:?}", Builder::new()),
        format!("{:?}", Builder::default())
    );
}

// `Debug` of a named coroutine's handle, and of a generator over one, shows
// the name along with the id and the status.
#[test]
fn debug_shows_names() {
    let mut co = Builder::new()
        .name("reader")
        .build(|y: &Yielder<(), ()>, ()| y.suspend(()))
        .unwrap();
    let handle = co.handle();
    assert_eq!(handle.name(), Some("reader"));
    let text = format!("{handle:?}");
    assert!(text.contains("Handle"), "{text}");
    assert!(text.contains(&handle.id().to_string()), "{text}");
    assert!(text.contains("reader"), "{text}");
    assert!(text.contains("Suspended"), "{text}");
    co.resume(()).unwrap();
    drop(co);
    let text = format!("{handle:?}");
    assert!(text.contains("Dead"), "{text}");
    assert!(text.contains("reader"), "{text}");

    let generator = Builder::new()
        .name("gen")
        .build(|y: &Yielder<(), u8>, ()| y.suspend(1))
        .unwrap()
        .into_iter();
    let text = format!("{generator:?}");
    assert!(text.contains("IntoIter"), "{text}");
    assert!(text.contains("gen"), "{text}");
}

// Past what the kernel allows (vm.max_map_count: two mappings per guarded
// stack of its own), `build` fails with a clear `StackAllocation` error
// instead of crashing, and once coroutines are freed, building works again.
// In a child process, since it uses up the process's mappings, and with
// guard regions turned off (`CORO_GUARD_REGIONS=0`), which would otherwise
// carve every stack from a few large mappings and never reach the limit.
#[test]
#[cfg_attr(coro_asan, ignore = "AddressSanitizer maps memory of its own")]
fn running_out_of_mappings_is_a_clear_error() {
    const NAME: &str = "running_out_of_mappings_is_a_clear_error";
    if common::is_child(NAME) {
        // SAFETY: the child runs this one test on one thread, before any
        // coroutine (or anything else) reads the environment.
        unsafe { std::env::set_var("CORO_GUARD_REGIONS", "0") };
        let mut alive = Vec::new();
        let err = loop {
            match Builder::new()
                .stack_size(MIN_STACK_SIZE)
                .build(|_: &Yielder<(), ()>, ()| {})
            {
                Ok(co) => alive.push(co),
                Err(err) => break err,
            }
            assert!(alive.len() < 10_000_000, "no limit reached");
        };
        println!("count={}", alive.len());
        println!("message={err}");
        println!(
            "is_stack_allocation={}",
            matches!(err, Error::StackAllocation { .. })
        );
        alive.clear();
        let mut co = Coroutine::<(), (), u8>::new(|_, ()| 5);
        println!("after={:?}", co.resume(()).unwrap());
        return;
    }
    let output = common::run_child(NAME);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", common::describe(&output));
    let count: usize = stdout
        .lines()
        .find_map(|l| l.split("count=").nth(1))
        .and_then(|c| c.parse().ok())
        .expect("the child reports a count");
    assert!(count > 1000, "only {count} coroutines");
    assert!(stdout.contains("is_stack_allocation=true"), "{stdout}");
    assert!(stdout.contains("vm.max_map_count"), "{stdout}");
    assert!(stdout.contains("after=Return(5)"), "{stdout}");
}

// Under a small address-space limit (RLIMIT_AS), mapping stacks fails soon:
// `build` returns `StackAllocation` naming the cause and the remedy, and
// `Coroutine::new` panics with the same message. In a child process, since
// the limit cannot be lifted again.
//
// Skipped under an emulator: qemu-user accepts RLIMIT_AS but does not apply
// it (the limit would be qemu's own), so no mapping ever fails there.
#[test]
#[cfg_attr(
    coro_asan,
    ignore = "AddressSanitizer's shadow needs more address space than the limit"
)]
fn address_space_limit_is_a_clear_error() {
    const NAME: &str = "address_space_limit_is_a_clear_error";
    if common::emulated() {
        eprintln!("skipped under an emulator, which does not apply RLIMIT_AS");
        return;
    }
    if common::is_child(NAME) {
        let limit = libc::rlimit {
            rlim_cur: 1 << 30,
            rlim_max: 1 << 30,
        };
        // SAFETY: lowers this (child) process's own address-space limit.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) }, 0);
        let mut alive = Vec::new();
        let err = loop {
            match Builder::new()
                .stack_size(64 << 20)
                .build(|_: &Yielder<(), ()>, ()| {})
            {
                Ok(co) => alive.push(co),
                Err(err) => break err,
            }
            assert!(alive.len() < 64, "no limit reached");
        };
        println!("built={}", alive.len());
        println!(
            "is_stack_allocation={}",
            matches!(err, Error::StackAllocation { .. })
        );
        println!("message={err}");
        let panic = std::panic::catch_unwind(|| Coroutine::<(), (), ()>::new(|_, ()| {}));
        // The default stack (1 MiB) may still fit: exhaust it with more.
        let message = match panic {
            Ok(_) => {
                let mut more = Vec::new();
                loop {
                    match std::panic::catch_unwind(|| Coroutine::<(), (), ()>::new(|_, ()| {})) {
                        Ok(co) => more.push(co),
                        Err(payload) => break *payload.downcast::<String>().unwrap(),
                    }
                }
            }
            Err(payload) => *payload.downcast::<String>().unwrap(),
        };
        println!("panic={message}");
        return;
    }
    let output = common::run_child(NAME);
    assert!(output.status.success(), "{}", common::describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("is_stack_allocation=true"), "{stdout}");
    assert!(
        stdout.contains("message=cannot map a coroutine stack of 65536 KiB"),
        "{stdout}"
    );
    assert!(
        stdout.contains("out of memory or address space"),
        "{stdout}"
    );
    assert!(
        stdout.contains("panic=cannot map a coroutine stack of 1024 KiB"),
        "{stdout}"
    );
}

// The pool keeps freed stacks (two mappings each, counted with guard
// regions turned off so that every stack has mappings of its own) up to its
// capacity, and unmaps the rest; lowering the capacity gives the kept ones
// back. In a child process, so no other test's mappings come and go
// meanwhile.
#[test]
#[cfg_attr(coro_asan, ignore = "AddressSanitizer maps memory of its own")]
fn the_pool_keeps_freed_stacks_up_to_its_capacity() {
    const NAME: &str = "the_pool_keeps_freed_stacks_up_to_its_capacity";
    if common::is_child(NAME) {
        // SAFETY: the child runs this one test on one thread, before any
        // coroutine (or anything else) reads the environment.
        unsafe { std::env::set_var("CORO_GUARD_REGIONS", "0") };
        let burst = |n: usize| {
            let coroutines: Vec<_> = (0..n)
                .map(|i| Coroutine::<(), (), usize>::new(move |_, ()| i))
                .collect();
            drop(coroutines);
        };
        assert_eq!(coro::stack_pool_capacity(), coro::DEFAULT_POOL_CAPACITY);
        coro::set_stack_pool_capacity(0);
        burst(1); // installs the fault handler and signal stack once
        let before = common::mappings();
        burst(10);
        println!("capacity 0 keeps {}", common::mappings() - before);
        coro::set_stack_pool_capacity(100);
        burst(10);
        println!("capacity 100 keeps {}", common::mappings() - before);
        burst(10);
        println!("a second burst keeps {}", common::mappings() - before);
        coro::set_stack_pool_capacity(4);
        println!("capacity 4 keeps {}", common::mappings() - before);
        return;
    }
    let output = common::run_child(NAME);
    assert!(output.status.success(), "{}", common::describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "capacity 0 keeps 0",
        "capacity 100 keeps 20",
        "a second burst keeps 20",
        "capacity 4 keeps 8",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing in:\n{stdout}"
        );
    }
}

/// Writes `kib` KiB of this stack, a KiB per frame, with `fill`, and calls
/// `at_bottom` from the deepest frame.
#[inline(never)]
fn touch(kib: usize, fill: u8, at_bottom: &dyn Fn()) -> u8 {
    let mut frame = [fill; 1024];
    frame[0] = kib as u8;
    std::hint::black_box(&mut frame);
    if kib == 0 {
        at_bottom();
        return frame[0];
    }
    touch(kib - 1, fill, at_bottom).wrapping_add(std::hint::black_box(&frame)[1])
}

/// The child of the deep-pages tests: one coroutine 200 KiB deep into a
/// 1 MiB stack, its frames filled with `fill`, then `after` more coroutines
/// created and finished; prints what stayed resident.
fn deep_then(fill: u8, after: usize) {
    // Suspends at the bottom of `kib` KiB of frames, then returns.
    let on_a_megabyte = |kib: usize| {
        Builder::new()
            .stack_size(1 << 20)
            .build(move |y: &Yielder<(), ()>, ()| touch(kib, fill, &|| y.suspend(())))
            .unwrap()
    };
    // One coroutine first, so that the fault handler, the signal stack and
    // the pool are in place before the count.
    let mut warm = on_a_megabyte(1);
    warm.resume(()).unwrap();
    warm.resume(()).unwrap();
    drop(warm);
    let before = common::resident();
    let mut deep = on_a_megabyte(200);
    deep.resume(()).unwrap();
    let used = common::resident().saturating_sub(before);
    // Returns: the stack goes back to the pool.
    deep.resume(()).unwrap();
    drop(deep);
    for _ in 0..after {
        let mut co = on_a_megabyte(1);
        co.resume(()).unwrap();
        co.resume(()).unwrap();
    }
    let kept = common::resident().saturating_sub(before);
    println!("used={} kept={}", used / 1024, kept / 1024);
}

/// Runs `deep_then` in the child `name` and checks that the deep pages went.
fn assert_deep_pages_go(name: &str) {
    let output = common::run_child(name);
    assert!(output.status.success(), "{}", common::describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| common::printed(&stdout, name);
    let (used, kept) = (field("used"), field("kept"));
    assert!(used >= 150, "the body touched only {used} KiB");
    assert!(
        kept <= 100,
        "{kept} KiB stayed resident after the stack went back"
    );
}

// A stack that comes back to the pool after deep use gives its deep pages
// back to the kernel at once (it keeps its top 64 KiB for the next
// coroutine). In a child process, for a quiet resident count.
#[test]
#[cfg_attr(
    coro_asan,
    ignore = "counts resident memory, which AddressSanitizer's shadow and quarantine change"
)]
fn a_pooled_stack_gives_its_deep_pages_back() {
    const NAME: &str = "a_pooled_stack_gives_its_deep_pages_back";
    if common::is_child(NAME) {
        return deep_then(0xa5, 0);
    }
    assert_deep_pages_go(NAME);
}

// Deep frames that left only zeros behind go unnoticed when the stack comes
// back, and their pages go at the pool's next sweep, 4,096 stacks later.
#[test]
#[cfg_attr(
    coro_asan,
    ignore = "counts resident memory, which AddressSanitizer's shadow and quarantine change"
)]
fn a_pooled_stacks_zeroed_deep_pages_go_at_the_next_sweep() {
    const NAME: &str = "a_pooled_stacks_zeroed_deep_pages_go_at_the_next_sweep";
    if common::is_child(NAME) {
        return deep_then(0, 4096);
    }
    assert_deep_pages_go(NAME);
}

// A finished coroutine's header is kept for the thread's next coroutine
// (see `shared.rs`): the next one must not inherit its name, id or status,
// and a handle that outlived the first still tells it dead.
#[test]
fn a_reused_header_starts_afresh() {
    let mut first = Builder::new()
        .name("first")
        .build(|_: &coro::Yielder<(), ()>, ()| 1)
        .unwrap();
    let kept = first.handle();
    assert_eq!(first.resume(()).unwrap().returned(), Some(1));
    drop(first);
    // Nothing but the handle holds the first header now: it is not spare.
    let mut second = Builder::new()
        .build(|y: &coro::Yielder<(), ()>, ()| y.suspend(()))
        .unwrap();
    drop(kept);
    // The second coroutine finishes and leaves its header spare.
    second.resume(()).unwrap();
    let second_id = second.handle().id();
    drop(second);
    let third = coro::Coroutine::<(), (), ()>::new(|_, ()| {});
    let handle = third.handle();
    assert_eq!(handle.name(), None);
    assert_ne!(handle.id(), second_id);
    assert_eq!(handle.status(), coro::Status::Suspended);
    for _ in 0..100 {
        let named = Builder::new()
            .name("many")
            .build(|_: &coro::Yielder<(), ()>, ()| {})
            .unwrap();
        assert_eq!(named.handle().name(), Some("many"));
    }
    drop(third);
    let last = coro::Coroutine::<(), (), ()>::new(|_, ()| {});
    assert_eq!(last.handle().name(), None);
    assert_eq!(last.status(), coro::Status::Suspended);
}
