//! Stackless backend: a million live coroutines is an ordinary case.
//!
//! A suspended stackless coroutine is a small heap frame and a header, so a
//! process can hold a million of them at once. Here a million generators
//! are all created, all suspended at once, and then all run to completion,
//! each checked. The timings are printed (`--nocapture`) for the record;
//! nothing here asserts a duration.

use std::time::Instant;

use coro::stackless::{Coroutine, Yielder};
use coro::{Resumed, Status};

const COUNT: u32 = 1_000_000;

/// Resident memory of this process in bytes, from `/proc`, if available.
fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * usize::try_from(page).ok()?)
}

#[test]
fn a_million_suspended_at_once() {
    let before = resident_bytes();
    let start = Instant::now();
    let mut all: Vec<Coroutine<u32, u64, u64>> = (0..COUNT)
        .map(|i| {
            Coroutine::new(move |y: Yielder<u32, u64>, first: u32| async move {
                let second = y.suspend(u64::from(i) * 3 + u64::from(first)).await;
                u64::from(i) + u64::from(second)
            })
        })
        .collect();
    let created = start.elapsed();

    let start = Instant::now();
    for (i, co) in (0..COUNT).zip(all.iter_mut()) {
        let yielded = co.resume(i % 7).unwrap().yielded();
        assert_eq!(yielded, Some(u64::from(i) * 3 + u64::from(i % 7)));
    }
    let suspended = start.elapsed();
    let live = resident_bytes();
    assert!(all.iter().all(|co| co.status() == Status::Suspended));

    let start = Instant::now();
    for (i, co) in (0..COUNT).zip(all.iter_mut()) {
        assert_eq!(co.resume(2).unwrap(), Resumed::Return(u64::from(i) + 2));
    }
    let finished = start.elapsed();
    assert!(all.iter().all(|co| co.status() == Status::Dead));

    let start = Instant::now();
    drop(all);
    let dropped = start.elapsed();

    println!(
        "{COUNT} stackless coroutines: create {created:?}, first resume {suspended:?}, \
         finish {finished:?}, drop {dropped:?}"
    );
    if let (Some(before), Some(live)) = (before, live) {
        println!(
            "resident memory with all suspended: {} MiB more, {} bytes per coroutine",
            live.saturating_sub(before) >> 20,
            live.saturating_sub(before) / COUNT as usize
        );
    }
}

// The same million, closed while suspended instead of finished: every frame
// is destroyed (each holds an `Rc` clone, so the count shows it).
#[test]
fn a_million_suspended_then_closed() {
    let shared = std::rc::Rc::new(());
    let start = Instant::now();
    let mut all: Vec<Coroutine<(), u32, ()>> = (0..COUNT)
        .map(|i| {
            let held = shared.clone();
            Coroutine::new(move |y: Yielder<(), u32>, ()| async move {
                let _held = held;
                y.suspend(i).await;
                unreachable!("closed while suspended");
            })
        })
        .collect();
    for (i, co) in (0..COUNT).zip(all.iter_mut()) {
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield(i));
    }
    assert_eq!(std::rc::Rc::strong_count(&shared), COUNT as usize + 1);
    for co in &mut all {
        co.close().unwrap();
    }
    assert_eq!(std::rc::Rc::strong_count(&shared), 1);
    assert!(all.iter().all(|co| co.status() == Status::Dead));
    println!(
        "{COUNT} stackless coroutines created, suspended and closed in {:?}",
        start.elapsed()
    );
}
