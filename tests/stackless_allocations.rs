//! Stackless backend: "no heap allocation per resume or suspend; at most one
//! or two per coroutine", and at most 256 bytes per live trivial coroutine.
//!
//! A global allocator counts the allocations made on the current thread
//! (each test runs on its own thread, so tests do not see each other's).
//! Nothing is printed inside a measured window: printing allocates.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use coro::Resumed;
use coro::stackless::{Coroutine, Yielder};

/// Wraps the system allocator, counting this thread's allocations.
struct Counting;

thread_local! {
    /// Allocations made by this thread (alloc, alloc_zeroed and realloc).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    /// Bytes requested by those allocations.
    static BYTES: Cell<usize> = const { Cell::new(0) };
    /// Deallocations made by this thread.
    static DEALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn record_allocation(size: usize) {
    // `try_with`: the allocator may run while the thread's locals are torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    let _ = BYTES.try_with(|n| n.set(n.get() + size));
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters are const-initialised thread-locals
// of `Cell<usize>`, which never allocate or register destructors.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record_allocation(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record_allocation(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record_allocation(new_size);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = DEALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What a stretch of code allocated on this thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Usage {
    allocations: usize,
    bytes: usize,
    deallocations: usize,
}

/// Runs `f`, returning its result and what it allocated and freed.
fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let read = || Usage {
        allocations: ALLOCATIONS.with(Cell::get),
        bytes: BYTES.with(Cell::get),
        deallocations: DEALLOCATIONS.with(Cell::get),
    };
    let before = read();
    let value = f();
    let after = read();
    (
        value,
        Usage {
            allocations: after.allocations - before.allocations,
            bytes: after.bytes - before.bytes,
            deallocations: after.deallocations - before.deallocations,
        },
    )
}

type Counter = Coroutine<u64, u64, u64>;

/// Suspends `rounds` times with a running sum of its inputs, then returns it.
fn counter() -> Counter {
    Coroutine::new(|y: Yielder<u64, u64>, first: u64| async move {
        let mut sum = first;
        loop {
            let input = y.suspend(sum).await;
            if input == 0 {
                return sum;
            }
            sum += input;
        }
    })
}

// Sanity check of the instrument itself: a Box is one allocation of its size.
#[test]
fn counting_allocator_counts() {
    let (b, usage) = measure(|| black_box(Box::new([0u8; 40])));
    assert_eq!(usage.allocations, 1);
    assert_eq!(usage.bytes, 40);
    let ((), usage) = measure(|| drop(b));
    assert_eq!(usage.deallocations, 1);
}

// Creating costs at most two allocations (the header and the frame); a
// thousand resume/suspend round trips with `Copy` values cost none;
// finishing costs none, and frees everything creating allocated but the
// header, which the thread keeps for its next coroutine: that one then
// allocates its frame only.
#[test]
fn create_resume_suspend_finish() {
    let (mut co, created) = measure(counter);
    assert!(
        created.allocations <= 2,
        "creating a stackless coroutine: {created:?}"
    );
    assert_eq!(created.deallocations, 0);

    let (first, first_resume) = measure(|| co.resume(1).unwrap());
    assert_eq!(first, Resumed::Yield(1));
    assert_eq!(
        first_resume.allocations, 0,
        "first resume: {first_resume:?}"
    );

    let (sum, round_trips) = measure(|| {
        let mut last = 0;
        for i in 1..=1000 {
            last = co.resume(black_box(i)).unwrap().yielded().unwrap();
        }
        last
    });
    assert_eq!(sum, 1 + 1000 * 1001 / 2);
    assert_eq!(
        round_trips.allocations, 0,
        "1000 round trips: {round_trips:?}"
    );
    assert_eq!(round_trips.deallocations, 0);

    let (last, finish) = measure(|| co.resume(0).unwrap());
    assert_eq!(last, Resumed::Return(sum));
    assert_eq!(finish.allocations, 0, "finishing: {finish:?}");

    let ((), dropped) = measure(|| drop(co));
    assert_eq!(dropped.allocations, 0);
    assert_eq!(
        finish.deallocations + dropped.deallocations + 1,
        created.allocations,
        "everything allocated at creation is freed by the end, but the header"
    );
    let (next, recreated) = measure(counter);
    assert_eq!(
        recreated.allocations,
        created.allocations - 1,
        "the next coroutine takes the spare header: {recreated:?}"
    );
    drop(next);
}

/// Suspends from two async callees deep.
async fn two_deep(y: &Yielder<u64, u64>, n: u64) -> u64 {
    one_deep(y, n).await + 1
}

async fn one_deep(y: &Yielder<u64, u64>, n: u64) -> u64 {
    y.suspend(n).await
}

// Callee frames live inside the coroutine's one frame: suspending through
// nested async callees allocates nothing either.
#[test]
fn suspending_through_callees_allocates_nothing() {
    let (mut co, created) = measure(|| {
        Coroutine::new(|y: Yielder<u64, u64>, mut n: u64| async move {
            for _ in 0..1000 {
                n = two_deep(&y, n).await;
            }
            n
        })
    });
    assert!(created.allocations <= 2, "{created:?}");
    let (result, usage) = measure(|| {
        let mut step = co.resume(0).unwrap();
        while let Resumed::Yield(n) = step {
            step = co.resume(n).unwrap();
        }
        step
    });
    assert_eq!(result, Resumed::Return(1000));
    assert_eq!(usage.allocations, 0, "{usage:?}");
}

// Closing a suspended coroutine, and dropping a never-started one, allocate
// nothing and free everything.
#[test]
fn close_and_drop_allocate_nothing() {
    let (mut co, created) = measure(counter);
    co.resume(1).unwrap();
    let ((), closed) = measure(|| co.close().unwrap());
    assert_eq!(closed.allocations, 0, "{closed:?}");
    let ((), dropped) = measure(|| drop(co));
    // All but the header, which the thread keeps for its next coroutine.
    assert_eq!(
        closed.deallocations + dropped.deallocations + 1,
        created.allocations
    );

    let (never, created) = measure(counter);
    let ((), dropped) = measure(|| drop(never));
    assert_eq!(dropped.allocations, 0);
    assert_eq!(dropped.deallocations, created.allocations);
}

// The memory of a live (suspended) trivial coroutine: the bytes allocated
// when creating it, plus the `Coroutine` value itself: the target is at
// most 256 bytes.
#[test]
fn bytes_per_live_trivial_coroutine() {
    let (mut co, created) = measure(|| {
        Coroutine::new(|y: Yielder<(), ()>, ()| async move {
            y.suspend(()).await;
        })
    });
    let ((), suspended) = measure(|| assert_eq!(co.resume(()).unwrap(), Resumed::Yield(())));
    assert_eq!(suspended.allocations, 0);
    let handle = std::mem::size_of::<Coroutine<(), (), ()>>();
    let total = created.bytes + handle;
    let (mut counting, counter_created) = measure(counter);
    counting.resume(1).unwrap();
    let counter_total = counter_created.bytes + std::mem::size_of::<Counter>();
    println!(
        "live stackless coroutine, trivial body: {total} bytes \
         ({} allocations of {} bytes in all, plus a {handle}-byte Coroutine); \
         the u64 counter: {counter_total} bytes",
        created.allocations, created.bytes
    );
    assert!(total <= 256, "{total} bytes per live trivial coroutine");
    assert!(
        counter_total <= 256,
        "{counter_total} bytes for the counter"
    );
}

// A finished coroutine's header is kept for the thread's next coroutine,
// but what the header owns is not: a name goes when the coroutine does, as
// it did when the header itself was freed.
#[test]
fn a_kept_header_keeps_no_name() {
    let (mut co, created) = measure(|| {
        coro::stackless::Builder::new()
            .name("a name that is freed with its coroutine")
            .build(|y: Yielder<(), ()>, ()| async move { y.suspend(()).await })
    });
    co.resume(()).unwrap();
    co.resume(()).unwrap();
    let ((), dropped) = measure(|| drop(co));
    // Made: the name, the header and the frame. The name and the frame go
    // (2; with the name kept in the spare header it would be 1), the header
    // stays.
    assert_eq!(created.allocations, 3, "{created:?}");
    assert_eq!(dropped.deallocations, 2, "{dropped:?}");
    let (next, recreated) = measure(counter);
    assert_eq!(recreated.allocations, 1, "only its frame: {recreated:?}");
    assert_eq!(next.handle().name(), None);
}
