//! Suspending through C frames: a coroutine sorts with libc's `qsort`, whose
//! comparator (an `extern "C"` callback called by C code) suspends to ask the
//! resumer for each comparison. Lua 5.4 refuses this ("attempt to yield
//! across a C-call boundary", scenario 14); a stackful coroutine can do it.
//!
//! Stackful only: a C callback is a plain function, and a stackless body can
//! only suspend from async frames; below C frames it gets exactly Lua's
//! "attempt to yield across a C-call boundary".

// Only where coro builds its stackful backend (x86_64 and aarch64 Unix).
#![cfg(coro_stackful)]

use std::cell::Cell;
use std::cmp::Ordering;
use std::ffi::{c_int, c_void};
use std::mem::size_of;

use coro::{Coroutine, Resumed, Yielder};

/// A question to the resumer: how do these two compare?
type Question = (i64, i64);

thread_local! {
    /// Set if a comparator could not suspend. It must not panic: unwinding
    /// out of an `extern "C"` function aborts.
    static COMPARATOR_FAILED: Cell<bool> = const { Cell::new(false) };
}

/// Called by `qsort`, on the coroutine's stack, below C frames.
extern "C" fn ask_resumer(a: *const c_void, b: *const c_void) -> c_int {
    // SAFETY: qsort passes pointers to two elements of the `i64` array it sorts.
    let (a, b) = unsafe { (*a.cast::<i64>(), *b.cast::<i64>()) };
    if !coro::is_yieldable() {
        COMPARATOR_FAILED.with(|f| f.set(true));
        return 0;
    }
    match coro::suspend::<Question, c_int>((a, b)) {
        Ok(answer) => answer,
        Err(_) => {
            COMPARATOR_FAILED.with(|f| f.set(true));
            0
        }
    }
}

/// A coroutine that sorts `data` with `qsort` and `ask_resumer`.
fn sorter(data: Vec<i64>) -> Coroutine<c_int, Question, Vec<i64>> {
    Coroutine::new(move |_: &Yielder<c_int, Question>, _first: c_int| {
        let mut data = data;
        // SAFETY: the pointer and length describe `data`, whose elements
        // are `i64`, which is what the comparator reads.
        unsafe {
            libc::qsort(
                data.as_mut_ptr().cast(),
                data.len(),
                size_of::<i64>(),
                Some(ask_resumer),
            );
        }
        data
    })
}

/// Answers every question of `co` with `order`, and returns the result and
/// the number of questions.
fn answer_all(
    co: &mut Coroutine<c_int, Question, Vec<i64>>,
    order: impl Fn(i64, i64) -> Ordering,
) -> (Vec<i64>, usize) {
    let mut questions = 0;
    let mut answer = 0;
    loop {
        match co.resume(answer).unwrap() {
            Resumed::Yield((a, b)) => {
                questions += 1;
                answer = match order(a, b) {
                    Ordering::Less => -1,
                    Ordering::Equal => 0,
                    Ordering::Greater => 1,
                };
            }
            Resumed::Return(sorted) => return (sorted, questions),
        }
    }
}

// The resumer answers each of qsort's questions; the coroutine finishes and
// the array is sorted.
#[test]
fn qsort_comparator_asks_the_resumer() {
    let data = vec![42, -7, 19, 0, 3, 3, 100, -50, 8, 1];
    let mut co = sorter(data.clone());
    let (sorted, questions) = answer_all(&mut co, |a, b| a.cmp(&b));
    let mut expected = data;
    expected.sort();
    assert_eq!(sorted, expected);
    assert!(questions >= 9, "only {questions} comparisons");
    assert!(!COMPARATOR_FAILED.with(Cell::get));
    assert_eq!(co.status(), coro::Status::Dead);
}

// The resumer decides the order: answering in reverse sorts descending.
#[test]
fn resumer_decides_the_order() {
    let mut co = sorter((0..50).collect());
    let (sorted, _) = answer_all(&mut co, |a, b| b.cmp(&a));
    assert_eq!(sorted, (0..50).rev().collect::<Vec<_>>());
    assert!(!COMPARATOR_FAILED.with(Cell::get));
}

// A bigger, pseudo-random array: many suspensions through C frames.
#[test]
fn qsort_of_a_thousand_numbers() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let data: Vec<i64> = (0..1000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 10_000) as i64
        })
        .collect();
    let mut co = sorter(data.clone());
    let (sorted, questions) = answer_all(&mut co, |a, b| a.cmp(&b));
    let mut expected = data;
    expected.sort();
    assert_eq!(sorted, expected);
    assert!(questions >= 999);
    assert!(!COMPARATOR_FAILED.with(Cell::get));
}

// Several sorting coroutines interleaved: each one's questions are about its
// own array, answered alternately.
#[test]
fn interleaved_sorters() {
    let mut a = sorter(vec![3, 1, 2, 9, 7]);
    let mut b = sorter(vec![-1, -3, -2, -9, -7]);
    let (mut answer_a, mut answer_b) = (0, 0);
    let (mut done_a, mut done_b) = (None, None);
    while done_a.is_none() || done_b.is_none() {
        if done_a.is_none() {
            match a.resume(answer_a).unwrap() {
                Resumed::Yield((x, y)) => {
                    assert!(x >= 0 && y >= 0, "a question about a's array");
                    answer_a = (x > y) as c_int - (x < y) as c_int;
                }
                Resumed::Return(v) => done_a = Some(v),
            }
        }
        if done_b.is_none() {
            match b.resume(answer_b).unwrap() {
                Resumed::Yield((x, y)) => {
                    assert!(x < 0 && y < 0, "a question about b's array");
                    answer_b = (x > y) as c_int - (x < y) as c_int;
                }
                Resumed::Return(v) => done_b = Some(v),
            }
        }
    }
    assert_eq!(done_a.unwrap(), [1, 2, 3, 7, 9]);
    assert_eq!(done_b.unwrap(), [-9, -7, -3, -2, -1]);
}

/// `bsearch`'s comparator suspends too: the key is compared by the resumer.
extern "C" fn ask_resumer_key(key: *const c_void, element: *const c_void) -> c_int {
    ask_resumer(key, element)
}

// `bsearch` through the same mechanism finds the element.
#[test]
fn bsearch_comparator_asks_the_resumer() {
    let mut co = Coroutine::new(|_: &Yielder<c_int, Question>, _: c_int| {
        let data: Vec<i64> = (0..100).map(|i| i * 3).collect();
        let key: i64 = 141;
        // SAFETY: key and data are `i64`, as the comparator expects; `data`
        // is sorted by the order the resumer answers with.
        let found = unsafe {
            libc::bsearch(
                (&key as *const i64).cast(),
                data.as_ptr().cast(),
                data.len(),
                size_of::<i64>(),
                Some(ask_resumer_key),
            )
        };
        if found.is_null() {
            return vec![];
        }
        // SAFETY: bsearch returned a pointer into `data`.
        let index = unsafe { found.cast::<i64>().offset_from(data.as_ptr()) };
        vec![index as i64]
    });
    let (result, questions) = answer_all(&mut co, |a, b| a.cmp(&b));
    assert_eq!(result, [47]);
    assert!((1..=8).contains(&questions), "{questions} questions");
    assert!(!COMPARATOR_FAILED.with(Cell::get));
}
