//! Stack overflows of stackful coroutines: reported by the name of the
//! coroutine whose stack overflowed and its size, then an abort, as Rust
//! reports a thread's — never a bare SIGSEGV.
//!
//! The stack is found by the faulting address, not by the current coroutine,
//! since code runs on a stackful coroutine's stack while another coroutine is
//! current: a stackless coroutine it resumes or closes, a never-started
//! coroutine it drops, a value `close` drops for it. And a coroutine closed
//! by a thread-local's destructor, after Rust removed the thread's signal
//! stack, is reported too.
//!
//! Every test here that overflows does so in a child process (the overflow
//! ends it); the parent checks how it ended.

// Only where coro builds its stackful backend (x86_64 and aarch64 Unix).
#![cfg(coro_stackful)]

mod common;

use std::cell::RefCell;
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};

use coro::{Builder, Coroutine, MIN_STACK_SIZE, Yielder, stackless};

/// Recurses until the stack runs out.
#[allow(unconditional_recursion)]
#[inline(never)]
fn forever(n: u64) -> u64 {
    let frame = black_box([n; 64]);
    forever(n + 1) + black_box(frame)[0]
}

/// Recurses until the stack runs out when dropped.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        black_box(forever(0));
    }
}

/// Runs `body` on a stackful coroutine named "host" with the smallest
/// stack; `body` must overflow it.
fn on_host(body: impl FnOnce() + 'static) -> ! {
    let mut host = Builder::new()
        .name("host")
        .stack_size(MIN_STACK_SIZE)
        .build(move |_: &Yielder<(), ()>, ()| body())
        .unwrap();
    let _ = host.resume(());
    unreachable!("the overflow must end the process");
}

/// Runs the test `name` in a child, and asserts that it aborted with the
/// report of an overflow of coroutine `who`'s stack of `kib` KiB.
#[track_caller]
fn assert_reported(name: &str, who: &str, kib: usize) {
    let output = common::run_child(name);
    let stderr = common::assert_aborted(&output);
    let report = format!(
        "coroutine '{who}' has overflowed its stack of {kib} KiB\n\
         help: give it a bigger stack with coro::Builder::stack_size\n\
         fatal runtime error: stack overflow, aborting\n"
    );
    assert!(stderr.contains(&report), "{report:?} missing in:\n{stderr}");
}

// Overflowing a coroutine's stack is reported by name and aborts, like
// Rust's own "thread '<name>' has overflowed its stack".
#[test]
fn stack_overflow_is_reported_by_name() {
    const NAME: &str = "stack_overflow_is_reported_by_name";
    if common::is_child(NAME) {
        // Coroutines made before it move its stack's top a few cache lines
        // down (the stacks' coloring): the guard page is found all the same.
        for _ in 0..7 {
            drop(Coroutine::<(), (), ()>::new(|_, ()| {}));
        }
        let mut co = Builder::new()
            .name("deep-diver")
            .stack_size(MIN_STACK_SIZE)
            .build(|_: &Yielder<(), ()>, ()| forever(0))
            .unwrap();
        let _ = co.resume(());
        unreachable!("the overflow must end the process");
    }
    assert_reported(NAME, "deep-diver", 16);
}

// Without a name, the report says so.
#[test]
fn an_unnamed_coroutine_is_reported_as_such() {
    const NAME: &str = "an_unnamed_coroutine_is_reported_as_such";
    if common::is_child(NAME) {
        let mut co = Builder::new()
            .stack_size(32 * 1024)
            .build(|_: &Yielder<(), ()>, ()| forever(0))
            .unwrap();
        let _ = co.resume(());
        unreachable!("the overflow must end the process");
    }
    assert_reported(NAME, "<unnamed>", 32);
}

// Our fault handler passes faults that are not a coroutine's overflow to the
// one that was there before: a thread's own overflow is still reported by
// Rust's handler.
#[test]
#[cfg_attr(
    coro_asan,
    ignore = "under AddressSanitizer its own handler reports a thread overflow"
)]
fn a_thread_overflow_is_still_reported_by_rust() {
    const NAME: &str = "a_thread_overflow_is_still_reported_by_rust";
    if common::is_child(NAME) {
        // Installs coro's handler.
        let mut co = Coroutine::<(), (), ()>::new(|_, ()| {});
        co.resume(()).unwrap();
        forever(0);
        unreachable!("the overflow must end the process");
    }
    let output = common::run_child(NAME);
    let stderr = common::assert_aborted(&output);
    assert!(stderr.contains("has overflowed its stack"), "{stderr}");
    assert!(!stderr.contains("coroutine '"), "{stderr}");
}

// The stack that overflows is found among several live ones, and is not the
// first one the thread mapped: the middle one of five suspended coroutines,
// with its own size.
#[test]
fn the_middle_one_of_several_live_stacks_is_found() {
    const NAME: &str = "the_middle_one_of_several_live_stacks_is_found";
    if common::is_child(NAME) {
        let mut live: Vec<Coroutine<bool, (), ()>> = (0..5)
            .map(|i| {
                let size = if i == 2 { 48 * 1024 } else { MIN_STACK_SIZE };
                Builder::new()
                    .name(format!("live-{i}"))
                    .stack_size(size)
                    .build(|y: &Yielder<bool, ()>, _: bool| {
                        if y.suspend(()) {
                            forever(0);
                        }
                    })
                    .unwrap()
            })
            .collect();
        for co in &mut live {
            assert!(co.resume(false).unwrap().is_yield());
        }
        let _ = live[2].resume(true);
        unreachable!("the overflow must end the process");
    }
    assert_reported(NAME, "live-2", 48);
}

// (a) A stackless coroutine runs on the stack of whoever resumes it: its
// recursion overflows the host's stack, while the stackless one is current.
#[test]
fn a_stackless_coroutine_overflows_its_host() {
    const NAME: &str = "a_stackless_coroutine_overflows_its_host";
    if common::is_child(NAME) {
        on_host(|| {
            let mut inner =
                stackless::Coroutine::<(), (), u64>::new(|_, ()| async move { forever(0) });
            let _ = inner.resume(());
        });
    }
    assert_reported(NAME, "host", 16);
}

// (b) Closing a suspended stackless coroutine drops its frame on the closer's
// stack, with the stackless one current.
#[test]
fn closing_a_stackless_coroutine_overflows_its_host() {
    const NAME: &str = "closing_a_stackless_coroutine_overflows_its_host";
    if common::is_child(NAME) {
        on_host(|| {
            let mut inner = stackless::Coroutine::<(), (), ()>::new(
                |y: stackless::Yielder<(), ()>, ()| async move {
                    let _bomb = Bomb;
                    y.suspend(()).await;
                },
            );
            assert!(inner.resume(()).unwrap().is_yield());
            let _ = inner.close();
        });
    }
    assert_reported(NAME, "host", 16);
}

// (c) Dropping a never-started stackful coroutine drops its capture on the
// dropper's stack, with the never-started one current.
#[test]
fn dropping_an_unstarted_coroutine_overflows_its_host() {
    const NAME: &str = "dropping_an_unstarted_coroutine_overflows_its_host";
    if common::is_child(NAME) {
        on_host(|| {
            let bomb = Bomb;
            let inner = Builder::new()
                .name("unstarted")
                .build(move |_: &Yielder<(), ()>, ()| drop(bomb))
                .unwrap();
            drop(inner);
        });
    }
    assert_reported(NAME, "host", 16);
}

// (d) A body that catches the forced unwind of `close` and returns anyway
// has its value dropped by `close`, on the closer's stack, with the closed
// coroutine current.
#[test]
fn a_value_returned_while_closing_overflows_its_host() {
    const NAME: &str = "a_value_returned_while_closing_overflows_its_host";
    if common::is_child(NAME) {
        on_host(|| {
            let mut inner = Builder::new()
                .name("returner")
                .build(|y: &Yielder<(), ()>, ()| {
                    let _ = catch_unwind(AssertUnwindSafe(|| y.suspend(())));
                    Bomb
                })
                .unwrap();
            assert!(inner.resume(()).unwrap().is_yield());
            let _ = inner.close();
        });
    }
    assert_reported(NAME, "host", 16);
}

// (d) Likewise a value such a body suspends with while it is being closed.
#[test]
fn a_value_yielded_while_closing_overflows_its_host() {
    const NAME: &str = "a_value_yielded_while_closing_overflows_its_host";
    if common::is_child(NAME) {
        on_host(|| {
            let mut inner = Builder::new()
                .name("yielder")
                .build(|y: &Yielder<(), Option<Bomb>>, ()| {
                    let _ = catch_unwind(AssertUnwindSafe(|| y.suspend(None)));
                    y.suspend(Some(Bomb));
                })
                .unwrap();
            assert!(inner.resume(()).unwrap().is_yield());
            let _ = inner.close();
        });
    }
    assert_reported(NAME, "host", 16);
}

thread_local! {
    static HELD: RefCell<Option<Coroutine<(), (), ()>>> = const { RefCell::new(None) };
}

// A suspended coroutine held by a thread-local is closed by the
// thread-local's destructor when the thread exits, after Rust has removed
// the thread's signal stack; an overflow while it unwinds is still reported.
#[test]
fn an_overflow_while_closing_at_thread_exit_is_reported() {
    const NAME: &str = "an_overflow_while_closing_at_thread_exit_is_reported";
    if common::is_child(NAME) {
        let thread = std::thread::spawn(|| {
            let mut co = Builder::new()
                .name("thread-local")
                .stack_size(MIN_STACK_SIZE)
                .build(|y: &Yielder<(), ()>, ()| {
                    let _bomb = Bomb;
                    y.suspend(());
                })
                .unwrap();
            assert!(co.resume(()).unwrap().is_yield());
            HELD.with(|held| *held.borrow_mut() = Some(co));
        });
        let _ = thread.join();
        unreachable!("the overflow must end the process");
    }
    assert_reported(NAME, "thread-local", 16);
}

/// What a headroom child does once it is deep enough.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Deep {
    /// Suspends; the child then closes the coroutine.
    Close,
    /// Walks the stack with the unwinder, as `close` does first.
    Walk,
    /// Unwinds to the body with `resume_unwind`, as `close` does next.
    Unwind,
}

// The unwinder's walk, as the forced unwind uses it.
unsafe extern "C" {
    fn _Unwind_Backtrace(
        trace: unsafe extern "C" fn(*mut std::ffi::c_void, *mut std::ffi::c_void) -> i32,
        data: *mut std::ffi::c_void,
    ) -> i32;
}

/// Recurses until at most `target` bytes of the stack above `bottom` are
/// free, then does `deep`. Its frame is small, so the depth is fine-grained.
#[inline(never)]
fn descend(y: &Yielder<(), usize>, bottom: usize, target: usize, deep: Deep) -> usize {
    let mark = black_box(0u8);
    let free = black_box(&mark) as *const u8 as usize - bottom;
    if free > target {
        return descend(y, bottom, target, deep) + usize::from(black_box(mark));
    }
    at_depth(y, bottom, deep)
}

/// What `descend` does once deep enough; reports how many bytes are free
/// below its own frame, the suspension point.
#[inline(never)]
fn at_depth(y: &Yielder<(), usize>, bottom: usize, deep: Deep) -> usize {
    let mark = black_box(0u8);
    let free = black_box(&mark) as *const u8 as usize - bottom;
    match deep {
        // Reported by the resumer, so that printing costs this stack nothing.
        Deep::Close => {
            y.suspend(free);
        }
        Deep::Walk => {
            println!("free={free}");
            unsafe extern "C" fn visit(_: *mut std::ffi::c_void, _: *mut std::ffi::c_void) -> i32 {
                0
            }
            // SAFETY: `visit` matches the callback type and touches nothing.
            unsafe { _Unwind_Backtrace(visit, std::ptr::null_mut()) };
        }
        Deep::Unwind => {
            println!("free={free}");
            std::panic::resume_unwind(Box::new(()))
        }
    }
    free
}

/// The child of `close_headroom` and `close_at_any_depth`: `<mode> <target>`
/// from its argument.
fn headroom_child() {
    let arg = common::child_arg();
    let (mode, target) = arg.split_once(' ').expect("mode and target");
    let deep = match mode {
        "close" => Deep::Close,
        "walk" => Deep::Walk,
        _ => Deep::Unwind,
    };
    let target: usize = target.parse().expect("a byte count");
    let mut co = Builder::new()
        .name("closed")
        .stack_size(MIN_STACK_SIZE)
        .build(move |y: &Yielder<(), usize>, ()| {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
            // The only coroutine of the process starts at its stack's top,
            // and the body's first frame lies within the top page.
            let here = black_box(0u8);
            let here = black_box(&here) as *const u8 as usize;
            let top = (here + page - 1) & !(page - 1);
            let bottom = top - MIN_STACK_SIZE;
            let _ = catch_unwind(AssertUnwindSafe(|| descend(y, bottom, target, deep)));
            0
        })
        .unwrap();
    if let Ok(coro::Resumed::Yield(free)) = co.resume(()) {
        println!("free={free}");
    }
    if deep == Deep::Close {
        co.close().unwrap();
    }
    println!("done");
}

/// How many bytes were free at the child's deepest point, as it printed.
fn free_of(stdout: &str) -> Option<usize> {
    let (_, after) = stdout.split_once("free=")?;
    let digits = after.split(|c: char| !c.is_ascii_digit()).next()?;
    digits.parse().ok()
}

/// The fewest free bytes, within 16, from which `mode` completes in a
/// headroom child, and the most from which it overflowed.
fn headroom(mode: &str) -> (usize, usize) {
    const NAME: &str = "close_headroom";
    let (mut low, mut high) = (0usize, MIN_STACK_SIZE - 4096);
    let (mut failed, mut done) = (0, usize::MAX);
    while high - low > 16 {
        let mid = (low + high) / 2;
        let output = common::run_child_with(NAME, &format!("{mode} {mid}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let free = free_of(&stdout);
        if output.status.success() && stdout.contains("done") {
            high = mid;
            done = free.expect("the child reports its depth");
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains("coroutine 'closed' has overflowed its stack of 16 KiB"),
                "{mode} {mid}: {}",
                common::describe(&output)
            );
            low = mid;
            failed = free.unwrap_or(0);
        }
    }
    (done, failed)
}

// How much free stack the unwind of `close` needs below the suspension point
// of a suspended coroutine (the walk to the root, then the unwind), measured
// on a 16 KiB stack by going ever deeper: reported, and bounded by the close
// reserve every stack keeps below its usable part.
#[test]
#[cfg_attr(
    coro_asan,
    ignore = "measures unsanitized frames; AddressSanitizer grows them"
)]
fn close_headroom() {
    if common::is_child("close_headroom") {
        return headroom_child();
    }
    for mode in ["walk", "unwind"] {
        let (done, failed) = headroom(mode);
        println!("{mode}: completes with {done} bytes free, overflows with {failed}");
        assert!(
            done < 8 * 1024,
            "{mode} needs {done} bytes, more than the reserve"
        );
    }
}

// A coroutine suspended with its stack nearly full is closed on the close
// reserve: at every depth it reaches, `close` runs its destructors and
// returns, however little was left.
#[test]
#[cfg_attr(
    coro_asan,
    ignore = "measures unsanitized frames; AddressSanitizer grows them"
)]
fn close_at_any_depth() {
    const NAME: &str = "close_at_any_depth";
    if common::is_child(NAME) {
        return headroom_child();
    }
    let mut deepest = usize::MAX;
    for target in (0..=6 * 1024).rev().step_by(256) {
        let output = common::run_child_with(NAME, &format!("close {target}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        match free_of(&stdout) {
            Some(free) => {
                assert!(
                    output.status.success() && stdout.contains("done"),
                    "suspended with {free} bytes free, then: {}",
                    common::describe(&output)
                );
                deepest = deepest.min(free);
            }
            // Went too deep to suspend at all: an ordinary overflow.
            None => assert!(
                String::from_utf8_lossy(&output.stderr)
                    .contains("coroutine 'closed' has overflowed its stack of 16 KiB"),
                "{target}: {}",
                common::describe(&output)
            ),
        }
    }
    println!("closed a coroutine suspended with {deepest} bytes free");
    assert!(deepest < 1024, "never got deeper than {deepest} bytes free");
}
