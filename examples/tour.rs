//! A guided tour of `coro`: Lua 5.4's coroutines for Rust.
//!
//! ```text
//! cargo run --release --example tour
//! ```
//!
//! Each chapter shows one feature, prints what happens and says why, in the
//! order a newcomer meets them: generators, values flowing both ways, the
//! four statuses, errors, closing, suspending from plain code, the nesting
//! limit, suspending through C code, the stackless backend, a first timing
//! of both backends, and coroutines under an async executor (an echo server
//! in straight-line code). The code is meant to be read alongside its
//! output.

use std::cmp::Ordering;
use std::ffi::{c_int, c_void};
use std::future::IntoFuture;
use std::hint::black_box;
use std::panic;
use std::time::Instant;

use coro::stackless::{self, Yielder};
use coro::{Builder, Coroutine, Error, MAX_NESTING, MIN_STACK_SIZE, Resumed, Status};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("coro: a guided tour of Lua 5.4's coroutines for Rust");
    generators();
    values_both_ways()?;
    statuses()?;
    errors()?;
    closing()?;
    suspending_from_plain_code()?;
    nesting_limit()?;
    sorting_through_c()?;
    stackless()?;
    first_timing()?;
    async_echo()?;
    println!();
    println!("End of the tour. Next: `cargo test --workspace`, and the crate's");
    println!("documentation (`cargo doc --open`) with the full Lua-to-coro table.");
    Ok(())
}

/// Prints a chapter's title and its introduction, one line per source line.
fn chapter(number: u32, title: &str, intro: &str) {
    println!();
    let heading = format!("== {number}. {title} ");
    println!("{heading:=<78}");
    for line in intro.trim().lines() {
        println!("{}", line.trim());
    }
    println!();
}

// 1 ---------------------------------------------------------------------------

fn generators() {
    chapter(
        1,
        "Generators: Lua's coroutine.wrap",
        "A coroutine is a function that can stop in the middle: it suspends, handing
         a value to whoever resumed it, and later continues from that very point.
         The simplest use is a generator: `into_iter()` turns a coroutine into an
         iterator whose every `next()` resumes it, like Lua's coroutine.wrap.",
    );

    // A tokenizer over a borrowed text: the body borrows `source`, and every
    // token it hands out is a slice of it, not a copy.
    let source = String::from("sum = 6 * 7");
    let tokens = Coroutine::borrowing(|yielder, ()| {
        for token in source.split_whitespace() {
            println!("    body: suspending with {token:?}");
            yielder.suspend(token);
            println!("    body: resumed where it left off");
        }
        println!("    body: returning");
        "end of text"
    });
    for token in tokens {
        println!("    loop: got {token:?}");
    }
    println!("The loop and the body take turns. The body's return value ends the");
    println!("iteration, and the iterator keeps it: see returned() below.");
    println!("The coroutine borrows `source`, and its tokens are slices of it: the borrow");
    println!("checker keeps both from outliving the text. `Coroutine::borrowing` lets the");
    println!("values it yields (and takes) borrow; `Coroutine::new` keeps those 'static,");
    println!("as the free suspend of chapter 6 needs, and lets only the body borrow.");
    println!();

    let text = source.as_str();
    let stackless_tokens = stackless::Coroutine::new(|yielder, ()| async move {
        for token in text.split_whitespace() {
            yielder.suspend(token).await;
        }
    });
    let found: Vec<&str> = stackless_tokens.into_iter().collect();
    println!("    the same tokenizer on the stackless backend (chapter 9): {found:?}");
    println!();

    let fibonacci = Coroutine::new(|yielder, ()| {
        let (mut a, mut b) = (0u64, 1u64);
        loop {
            yielder.suspend(a);
            (a, b) = (b, a + b);
        }
    });
    let first: Vec<u64> = fibonacci.into_iter().take(12).collect();
    println!("    an endless generator, take(12): {first:?}");

    let mut words = Coroutine::new(|yielder, ()| {
        let mut long = 0;
        for word in ["a", "generator", "returns", "too"] {
            long += usize::from(word.len() > 3);
            yielder.suspend(word);
        }
        long
    })
    .into_iter();
    let all: Vec<&str> = words.by_ref().collect();
    println!(
        "    a generator that returns: {all:?}, then returned() = {:?}",
        words.returned()
    );
    println!("A generator may run forever: take what you need. Dropping the iterator");
    println!("closes the suspended coroutine (chapter 5).");
}

// 2 ---------------------------------------------------------------------------

fn values_both_ways() -> Result<(), Error> {
    chapter(
        2,
        "Values flow both ways: resume(input) and suspend(value)",
        "resume(input) runs the body until it suspends or returns. The first input
         becomes the body's argument; each later one becomes what the pending
         suspend returns. suspend(y) makes resume return Ok(Resumed::Yield(y)), and
         the body's return value r comes out as Ok(Resumed::Return(r)).
         Here a coroutine keeps the running average of the numbers it is given,
         and `None` asks it to finish:",
    );

    let mut averager = Coroutine::new(|yielder, first: Option<f64>| {
        let (mut sum, mut count) = (0.0, 0);
        let mut next = first;
        while let Some(x) = next {
            sum += x;
            count += 1;
            next = yielder.suspend(sum / f64::from(count));
        }
        format!("{count} numbers, total {sum}")
    });
    for input in [Some(10.0), Some(20.0), Some(60.0), None] {
        let output = averager.resume(input)?;
        println!("    resume({input:?}) -> {output:?}");
    }
    println!("Its type is Coroutine<Option<f64>, f64, String>: input, yield, return.");

    println!("wrap() makes a coroutine a function that resumes it, as Lua's");
    println!("coroutine.wrap does: call(input) gives Some(yielded), or None once the");
    println!("body has returned, whose value it keeps; a panic in the body is re-raised.");
    let mut averager = Coroutine::new(|yielder, mut x: f64| {
        let (mut sum, mut count) = (0.0, 0.0);
        while !x.is_nan() {
            sum += x;
            count += 1.0;
            x = yielder.suspend(sum / count);
        }
        format!("{count} numbers")
    })
    .wrap();
    for input in [10.0, 20.0, 60.0, f64::NAN] {
        println!("    call({input}) -> {:?}", averager.call(input));
    }
    println!("    returned() -> {:?}", averager.returned());
    Ok(())
}

// 3 ---------------------------------------------------------------------------

fn statuses() -> Result<(), Error> {
    chapter(
        3,
        "The four statuses, and coro::running()",
        "As in Lua, a coroutine is `suspended` (not started yet, or stopped in
         suspend), `running` (executing now), `normal` (it resumed another coroutine
         that has not suspended or returned yet) or `dead` (returned, panicked or
         closed). coro::running() returns a Handle to the running coroutine, or
         None on the thread's own stack; a Handle observes without owning.",
    );

    println!(
        "    main: running() = {:?}, is_yieldable() = {}",
        coro::running(),
        coro::is_yieldable()
    );

    let mut outer = Coroutine::new(|yielder, ()| {
        let me = coro::running().expect("the body runs in a coroutine");
        println!("    outer: my status is {}", me.status());
        let mut inner = Coroutine::new(move |yielder, ()| {
            let inner_status = coro::running().expect("in a coroutine").status();
            println!(
                "    inner: my status is {inner_status}, outer's is {}",
                me.status()
            );
            yielder.suspend(());
        });
        inner
            .resume(())
            .expect("inner is suspended and not too deep");
        println!(
            "    outer: inner suspended; its status is {}",
            inner.status()
        );
        yielder.suspend(());
        println!("    outer: finishing (dropping inner, which closes it)");
    });
    let watch = outer.handle();
    println!("    main: outer created, its status is {}", watch.status());
    outer.resume(())?;
    println!(
        "    main: outer suspended, its status is {}",
        watch.status()
    );
    outer.resume(())?;
    println!("    main: outer returned, its status is {}", watch.status());
    let err = outer.resume(()).unwrap_err();
    println!("    main: resuming it again: Err({err:?}): \"{err}\"");
    drop(outer);
    println!(
        "    main: outer dropped; the handle still says {}",
        watch.status()
    );
    println!("Lua's \"cannot resume non-suspended coroutine\" (resuming yourself, or a");
    println!("coroutine up the chain) is ruled out by the borrow checker: a resumer");
    println!("holds the coroutine it resumes mutably borrowed.");
    Ok(())
}

// 4 ---------------------------------------------------------------------------

fn errors() -> Result<(), Error> {
    chapter(
        4,
        "Errors: a panic comes back to the resumer",
        "A panic in the body never unwinds into the resumer: it is caught at the
         coroutine's root and returned as Err(Error::Panic(payload)), like Lua's
         `false, err`. The coroutine is dead, and the resumer carries on.
         (Rust's panic hook still runs; this chapter installs a quiet one.)",
    );

    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));

    let mut doubler = Coroutine::new(|yielder, first: &str| {
        let mut text = first;
        while !text.is_empty() {
            let n: i32 = text
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {text}"));
            text = yielder.suspend(2 * n);
        }
    });
    for input in ["21", "x7", "3"] {
        match doubler.resume(input) {
            Ok(output) => println!("    resume({input:?}) -> {output:?}"),
            Err(Error::Panic(payload)) => {
                println!(
                    "    resume({input:?}) -> Err(Panic): \"{}\"",
                    payload.message()
                );
            }
            Err(err) => println!("    resume({input:?}) -> Err({err:?}): \"{err}\""),
        }
        println!("      status afterwards: {}", doubler.status());
    }

    let sum = Coroutine::new(|yielder, ()| {
        (1..=4).for_each(|n| yielder.suspend(n));
    })
    .into_iter()
    .sum::<i32>();
    println!("    the resumer carries on: another coroutine sums 1..=4 = {sum}");

    let caught = panic::catch_unwind(|| {
        let broken = Coroutine::new(|yielder, ()| {
            yielder.suspend(1);
            panic!("the generator broke");
        });
        broken.into_iter().sum::<i32>()
    });
    let message = caught
        .err()
        .and_then(|payload| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(no panic?)");
    println!("    a generator (into_iter) re-raises the panic in its caller, as Lua's");
    println!("    wrap re-raises errors; catch_unwind caught: \"{message}\"");

    panic::set_hook(default_hook);
    println!("Error is Send + Sync + 'static, so `?` carries it into Box<dyn Error>.");
    Ok(())
}

// 5 ---------------------------------------------------------------------------

/// Announces its own destruction.
struct Noisy(&'static str);

impl Drop for Noisy {
    fn drop(&mut self) {
        println!("      drop({})", self.0);
    }
}

fn closing() -> Result<(), Error> {
    chapter(
        5,
        "Closing: destructors run, newest first",
        "close() destroys a suspended coroutine as Lua 5.4's coroutine.close does:
         its stack is unwound, so every live local is dropped, newest first, and
         the coroutine is dead. Dropping a suspended coroutine does the same.
         A coroutine that never started is dropped without running its body.",
    );

    let mut worker = Coroutine::new(|yielder, ()| {
        let _config = Noisy("config");
        let _socket = Noisy("socket");
        let _buffer = Noisy("buffer");
        yielder.suspend("holding config, socket and buffer");
        println!("      (never printed: the worker is closed while suspended)");
    });
    println!("    resume -> {:?}", worker.resume(())?);
    println!("    close():");
    worker.close()?;
    println!(
        "    status: {}; closing again does nothing: {:?}",
        worker.status(),
        worker.close()
    );

    let mut dropped = Coroutine::new(|yielder, ()| {
        let _guard = Noisy("guard");
        yielder.suspend(());
    });
    dropped.resume(())?;
    let handle = dropped.handle();
    println!("    drop of a suspended coroutine:");
    drop(dropped);
    println!("    its handle says: {}", handle.status());

    let captured = Noisy("captured by the closure");
    let never_started = Coroutine::<(), (), ()>::new(move |_, ()| {
        println!("      (never printed: the body never runs)");
        drop(captured);
    });
    println!("    drop of a never-started coroutine (its body does not run):");
    drop(never_started);
    Ok(())
}

// 6 ---------------------------------------------------------------------------

/// A binary tree with values in its leaves.
enum Tree {
    Leaf(i32),
    Node(Box<Tree>, Box<Tree>),
}

fn leaf(value: i32) -> Tree {
    Tree::Leaf(value)
}

fn node(left: Tree, right: Tree) -> Tree {
    Tree::Node(Box::new(left), Box::new(right))
}

/// Suspends with every leaf of `tree`, left to right, and its depth. Plain
/// recursion: no yielder in sight, just the free `coro::suspend`.
fn walk(tree: &Tree, depth: usize) {
    match tree {
        Tree::Leaf(value) => {
            let () = coro::suspend((*value, depth))
                .expect("walk runs in a coroutine that yields (i32, usize)");
        }
        Tree::Node(left, right) => {
            walk(left, depth + 1);
            walk(right, depth + 1);
        }
    }
}

/// The leaves of `tree` with their depths, lazily: a generator around `walk`.
fn leaves(tree: Tree) -> impl Iterator<Item = (i32, usize)> {
    Coroutine::<(), (i32, usize), ()>::new(move |_, ()| walk(&tree, 0)).into_iter()
}

fn suspending_from_plain_code() -> Result<(), Error> {
    chapter(
        6,
        "Suspending from plain code: the free coro::suspend",
        "Each coroutine has its own stack, so it can suspend from any depth of
         ordinary calls without handing the yielder down: coro::suspend is Lua's
         global coroutine.yield. Here a plain recursive tree walk suspends at
         every leaf it meets:",
    );

    let lopsided = node(node(node(leaf(1), leaf(2)), leaf(3)), leaf(4));
    for (value, depth) in leaves(lopsided) {
        println!("    leaf {value}, suspended at recursion depth {depth}");
    }

    let balanced = || node(node(leaf(1), leaf(2)), node(leaf(3), leaf(4)));
    let other = node(leaf(1), node(leaf(2), node(leaf(5), leaf(4))));
    let values = |tree| leaves(tree).map(|(value, _)| value);
    println!("Two walks compared leaf by leaf (\"same fringe\"): each is stopped in the");
    println!("middle of its recursion while the other runs, and the comparison stops");
    println!("at the first difference:");
    let lopsided = node(node(node(leaf(1), leaf(2)), leaf(3)), leaf(4));
    println!(
        "    lopsided vs balanced: same leaves = {}",
        values(lopsided).eq(values(balanced()))
    );
    println!(
        "    balanced vs other:    same leaves = {}",
        values(balanced()).eq(values(other))
    );

    println!("The free suspend checks at run time what the compiler cannot:");
    let outside = coro::suspend::<i32, ()>(1).unwrap_err();
    println!("    on main's own stack: Err({outside:?})");
    println!("      \"{outside}\"");
    let mut wrong_types = Coroutine::<(), i32, (bool, Error)>::new(|_, ()| {
        let err = coro::suspend::<&str, ()>("not an i32").unwrap_err();
        (coro::is_yieldable(), err)
    });
    if let Resumed::Return((yieldable, err)) = wrong_types.resume(())? {
        println!("    in a coroutine that yields i32 (is_yieldable() = {yieldable}),");
        println!("    suspending with a &str: Err({err:?})");
        println!("      \"{err}\"");
    }
    Ok(())
}

// 7 ---------------------------------------------------------------------------

/// How a dive ended: the depth of the coroutine whose resume failed, the
/// error, and the status of the coroutine it tried to resume.
type DiveEnd = (usize, Error, Status);

/// Resumes a new coroutine that does the same, one level deeper, until a
/// resume fails. Each coroutine gets the smallest stack: it needs little.
fn dive(depth: usize) -> Result<DiveEnd, Error> {
    let mut deeper: Coroutine<(), (), _> = Builder::new()
        .stack_size(MIN_STACK_SIZE)
        .build(move |_, ()| dive(depth + 1))?;
    match deeper.resume(()) {
        Ok(Resumed::Return(end)) => end,
        Ok(Resumed::Yield(())) => unreachable!("the body never suspends"),
        Err(err) => Ok((depth, err, deeper.status())),
    }
}

fn nesting_limit() -> Result<(), Error> {
    chapter(
        7,
        "The nesting limit: MAX_NESTING",
        "A coroutine may resume another, which may resume another... As in Lua
         (LUAI_MAXCCALLS), a thread allows at most MAX_NESTING coroutines active at
         once. Below, each coroutine resumes a new one, built with Builder on a
         16 KiB stack, until a resume fails.",
    );

    let (depth, err, status) = dive(0)?;
    println!("    MAX_NESTING = {MAX_NESTING}");
    println!("    coroutines active when a resume failed: {depth}");
    println!("    that resume: Err({err:?}): \"{err}\"");
    println!("    the coroutine it tried to resume: {status}, untouched");
    println!("Then each of the {depth} returns in turn, and the chain unwinds normally.");
    Ok(())
}

// 8 ---------------------------------------------------------------------------

/// qsort's comparator. It does not compare: it suspends the coroutine that
/// called qsort, asking its resumer to order the two words.
///
/// Closing that coroutine while it waits here would start an unwind that
/// cannot cross this `extern "C"` function, and the process would abort:
/// resume it to completion, or see `ask_resumer_carefully` below.
extern "C" fn ask_resumer(a: *const c_void, b: *const c_void) -> c_int {
    // SAFETY: qsort passes pointers to two elements of the array it sorts,
    // and `sorting_through_c` gives it an array of `&'static str`.
    let (a, b) = unsafe { (*a.cast::<&'static str>(), *b.cast::<&'static str>()) };
    match coro::suspend::<_, Ordering>((a, b)) {
        Ok(order) => order as c_int,
        // A panic cannot unwind out of an `extern "C"` function, and there is
        // nobody to ask: stop loudly.
        Err(err) => {
            eprintln!("ask_resumer must run in the sorting coroutine: {err}");
            std::process::abort()
        }
    }
}

fn sorting_through_c() -> Result<(), Error> {
    chapter(
        8,
        "Suspending through C: libc's qsort asks the resumer",
        "A coroutine's frames are ordinary frames on its own stack, C frames
         included. Here a coroutine calls libc's qsort with a comparator that
         suspends, asking the tour's main loop to compare two words; the loop
         answers with resume(ordering), and qsort carries on, none the wiser.",
    );

    let words = vec!["pear", "fig", "apple", "kiwi", "banana", "cherry"];
    println!("    before: {words:?}");
    // The first input only starts the body, so it answers nothing.
    let mut sorter = Coroutine::<Ordering, (&str, &str), Vec<&str>>::new(move |_, _start| {
        let mut words = words;
        // SAFETY: `words` is a live array of `words.len()` elements, each
        // `size_of::<&str>()` bytes, borrowed by nothing else; `&str` is
        // `Copy`, so qsort's bitwise moves are valid. `ask_resumer` reads the
        // elements as `&str` and never unwinds. The loop below resumes this
        // coroutine until qsort returns, so no close ever unwinds through
        // qsort's C frames.
        unsafe {
            libc::qsort(
                words.as_mut_ptr().cast(),
                words.len(),
                size_of::<&str>(),
                Some(ask_resumer),
            );
        }
        words
    });

    let mut answer = Ordering::Equal;
    let mut questions = 0;
    let sorted = loop {
        match sorter.resume(answer)? {
            Resumed::Yield((a, b)) => {
                questions += 1;
                answer = a.cmp(b);
                println!("    qsort asks: {a:>6} vs {b:<6} -> the loop answers {answer:?}");
            }
            Resumed::Return(words) => break words,
        }
    };
    println!("    after:  {sorted:?}");
    println!("qsort's C frames were suspended {questions} times, on the coroutine's stack.");

    println!();
    println!("An unwind cannot cross C frames, so closing a coroutine that waits in a");
    println!("C callback needs help: coro::foreign::call around the C call and");
    println!("coro::foreign::callback around the callback's body carry the unwind");
    println!("around qsort. The callback returns 0 (\"equal\") to qsort, which");
    println!("finishes quickly, and the unwind resumes in Rust frames.");
    let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let inner_log = log.clone();
    let mut abandoned = Coroutine::<Ordering, (&str, &str), ()>::new(move |_, _start| {
        let _guard = Logged("the sorter's guard", inner_log);
        let mut words = vec!["pear", "fig", "apple", "kiwi"];
        coro::foreign::call(|| {
            // SAFETY: as above; `ask_resumer_carefully` never unwinds.
            unsafe {
                libc::qsort(
                    words.as_mut_ptr().cast(),
                    words.len(),
                    size_of::<&str>(),
                    Some(ask_resumer_carefully),
                )
            }
        });
        unreachable!("closed before qsort returned");
    });
    if let Resumed::Yield((a, b)) = abandoned.resume(Ordering::Equal)? {
        println!("    qsort asks: {a} vs {b}; the loop closes the sorter instead");
    }
    abandoned.close()?;
    println!(
        "    close() -> Ok, status {}, dropped: {:?}",
        abandoned.status(),
        log.borrow()
    );
    Ok(())
}

/// Records its name when dropped.
struct Logged(
    &'static str,
    std::rc::Rc<std::cell::RefCell<Vec<&'static str>>>,
);

impl Drop for Logged {
    fn drop(&mut self) {
        self.1.borrow_mut().push(self.0);
    }
}

/// `ask_resumer`, wrapped so that no unwind leaves it: a close (or a panic)
/// is parked until qsort returns to `coro::foreign::call`.
extern "C" fn ask_resumer_carefully(a: *const c_void, b: *const c_void) -> c_int {
    coro::foreign::callback(0, || {
        // SAFETY: as in `ask_resumer`.
        let (a, b) = unsafe { (*a.cast::<&'static str>(), *b.cast::<&'static str>()) };
        coro::suspend::<_, Ordering>((a, b)).map_or(0, |order| order as c_int)
    })
}

// 9 ---------------------------------------------------------------------------

/// A nested async callee: it suspends on behalf of the body that awaits it.
async fn countdown(yielder: &Yielder<(), String>, from: u32) {
    for n in (1..=from).rev() {
        yielder.suspend(format!("{n}...")).await;
    }
}

/// A plain (not async) function called from a stackless body: it cannot
/// suspend, and the free `coro::suspend` says so.
fn plain_helper() -> Result<(), Error> {
    coro::suspend("from a plain fn".to_string())
}

fn stackless() -> Result<(), Error> {
    chapter(
        9,
        "No stack at all: the stackless backend",
        "coro::stackless::Coroutine has the same model — statuses, errors, close,
         the nesting limit, into_iter() — but its body is an `async` block. The
         compiler turns it into a heap frame holding only the locals that live
         across a suspension (the C++20 model), and every `.await` of
         yielder.suspend(v) is a continuation point: Lua 5.2's lua_callk,
         written by the compiler.",
    );

    let mut launch = stackless::Coroutine::new(|yielder: Yielder<(), String>, ()| async move {
        countdown(&yielder, 3).await;
        let plain = plain_helper();
        yielder
            .suspend(format!("a plain fn tried to suspend: {plain:?}"))
            .await;
        "liftoff"
    });
    loop {
        match launch.resume(())? {
            Resumed::Yield(text) => println!("    yield: {text}"),
            Resumed::Return(text) => {
                println!("    return: {text}; status {}", launch.status());
                break;
            }
        }
    }
    let message = Error::AcrossBoundary.to_string();
    println!("Only async frames can suspend. Synchronous code inside the body —");
    println!("a plain fn, or a closure handed to an iterator adapter — gets");
    println!("Err(AcrossBoundary): \"{message}\",");
    println!("Lua's words for the same rule.");

    let squares: Vec<u64> = stackless::Coroutine::new(|y, ()| async move {
        for n in 1..=5 {
            y.suspend(n * n).await;
        }
    })
    .into_iter()
    .collect();
    println!("    a stackless generator, collected: {squares:?}");

    // The same generator in the typed form: the body's type stays in the
    // coroutine's, so each resume is one inlined poll (no virtual call).
    let mut cubes = stackless::Coroutine::typed(|y: Yielder<(), u64>, ()| async move {
        for n in 1..=3 {
            y.suspend(n * n * n).await;
        }
        "done"
    });
    let mut seen = Vec::new();
    while let Resumed::Yield(cube) = cubes.resume(())? {
        seen.push(cube);
    }
    println!(
        "    Coroutine::typed (no virtual call per resume): {seen:?}, then {:?}",
        cubes.status()
    );

    println!();
    println!("Side by side:");
    println!("    stackful   any frame can suspend, C frames included; costs a stack");
    println!("               (one touched page resident, a guard page, a mapping)");
    println!("    stackless  only async frames can suspend; costs a heap frame of");
    println!(
        "               a few dozen bytes ({} bytes for the handle itself)",
        std::mem::size_of::<stackless::Coroutine<(), u64, ()>>()
    );
    Ok(())
}

// 10 --------------------------------------------------------------------------

/// The function the timings compare with: one real call, never inlined.
#[inline(never)]
fn add_one(x: u64) -> u64 {
    x + 1
}

/// Runs `op` `iterations` times (after a short warm-up) and returns the
/// nanoseconds per run.
fn time_per_op(iterations: u64, mut op: impl FnMut(u64)) -> f64 {
    for i in 0..iterations / 10 {
        op(i);
    }
    let start = Instant::now();
    for i in 0..iterations {
        op(i);
    }
    start.elapsed().as_secs_f64() * 1e9 / iterations as f64
}

fn first_timing() -> Result<(), Error> {
    chapter(
        10,
        "A first timing",
        "What does a coroutine cost? Below, a resume + suspend round trip, and the
         creation and run to completion of a coroutine (its stack reused from the
         thread's pool, or its frame allocated), for both backends, each timed
         against a plain function call. For comparisons with other libraries,
         see the README's Performance section.",
    );

    // Unoptimised builds are far slower: run less, and say so.
    let runs = if cfg!(debug_assertions) { 1 } else { 10 };
    if cfg!(debug_assertions) {
        println!("    (a debug build: rerun with --release for meaningful numbers)");
    }

    let call = time_per_op(runs * 5_000_000, |i| {
        black_box(add_one(black_box(i)));
    });

    let mut plus_one = Coroutine::new(|yielder, mut x: u64| {
        loop {
            x = yielder.suspend(x + 1);
        }
    });
    let round_trip = time_per_op(runs * 2_000_000, |i| {
        black_box(plus_one.resume(black_box(i)).is_ok());
    });
    assert_eq!(plus_one.resume(41)?, Resumed::Yield(42));

    let create_run = time_per_op(runs * 500_000, |i| {
        let mut once = Coroutine::<u64, (), u64>::new(|_, x| x + 1);
        black_box(once.resume(black_box(i)).is_ok());
    });

    let mut plus_one_stackless = stackless::Coroutine::new(|yielder, mut x: u64| async move {
        loop {
            x = yielder.suspend(x + 1).await;
        }
    });
    let round_trip_stackless = time_per_op(runs * 2_000_000, |i| {
        black_box(plus_one_stackless.resume(black_box(i)).is_ok());
    });
    assert_eq!(plus_one_stackless.resume(41)?, Resumed::Yield(42));

    let create_run_stackless = time_per_op(runs * 500_000, |i| {
        let mut once =
            stackless::Coroutine::new(|_: Yielder<u64, ()>, x: u64| async move { x + 1 });
        black_box(once.resume(black_box(i)).is_ok());
    });

    println!("    plain function call            {call:>7.1} ns");
    println!("                                   stackful             stackless");
    println!(
        "    resume + suspend round trip  {round_trip:>7.1} ns ({:>4.1}x)   {round_trip_stackless:>7.1} ns ({:>4.1}x)",
        round_trip / call,
        round_trip_stackless / call
    );
    println!(
        "    create + run to completion   {create_run:>7.1} ns ({:>4.1}x)   {create_run_stackless:>7.1} ns ({:>4.1}x)",
        create_run / call,
        create_run_stackless / call
    );
    println!("(in parentheses: multiples of a plain call)");
    println!("A stackful round trip is two stack switches plus Lua's bookkeeping");
    println!("(statuses, the chain of active coroutines, the nesting limit); a");
    println!("stackless one is one poll of the frame plus the same bookkeeping.");
    Ok(())
}

// 11 --------------------------------------------------------------------------

/// One connection of the echo server: plain code, no `async`. Each
/// `coro::wait` suspends the coroutine's whole stack until the socket is
/// ready, while the executor serves the other connections.
fn echo_lines(socket: tokio::net::TcpStream, name: String) -> std::io::Result<usize> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut socket = BufReader::new(socket);
    let mut line = String::new();
    let mut lines = 0;
    loop {
        line.clear();
        if coro::wait(socket.read_line(&mut line)).expect("polled by the executor")? == 0 {
            return Ok(lines);
        }
        let reply = format!("{name} heard: {line}");
        coro::wait(socket.get_mut().write_all(reply.as_bytes())).expect("polled")?;
        lines += 1;
    }
}

fn async_echo() -> Result<(), Box<dyn std::error::Error>> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};
    chapter(
        11,
        "Coroutines under an async executor",
        "coro::wait(future) waits for a future from plain code inside a stackful
         coroutine that an executor polls: the coroutine's stack suspends while the
         future is pending, and the executor runs other tasks. A coroutine that takes
         and yields () is itself a future (await it, or spawn it as a local task), and
         resume_async(input).await resumes any coroutine from async code. Below, a TCP
         echo server on 127.0.0.1 whose connections are plain functions, each in its
         own coroutine, on tokio's current-thread runtime (coroutines are not Send).",
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let served = tokio::task::LocalSet::new().block_on(&runtime, async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let server = tokio::task::spawn_local(async move {
            let mut connections = Vec::new();
            for n in 1..=2 {
                let (socket, _) = listener.accept().await?;
                let name = format!("connection {n}");
                let coroutine = Coroutine::new(move |_, ()| echo_lines(socket, name));
                connections.push(tokio::task::spawn_local(coroutine.into_future()));
            }
            let mut lines = Vec::new();
            for connection in connections {
                lines.push(connection.await.expect("not cancelled")??);
            }
            Ok::<_, Box<dyn std::error::Error>>(lines)
        });
        // Two clients, talking in turn, so both coroutines wait at once.
        let mut clients = [
            BufReader::new(TcpStream::connect(address).await?),
            BufReader::new(TcpStream::connect(address).await?),
        ];
        for (n, text) in [(0, "hello"), (1, "hi"), (0, "bye")] {
            let client = &mut clients[n];
            client
                .get_mut()
                .write_all(format!("{text}\n").as_bytes())
                .await?;
            let mut reply = String::new();
            client.read_line(&mut reply).await?;
            println!("    {text:>5} -> {}", reply.trim_end());
        }
        drop(clients);
        server.await?
    })?;
    println!("    lines echoed per connection: {served:?}");
    println!("Outside an executor's poll, wait refuses at once rather than hang:");
    println!(
        "    on the thread's own stack: {}",
        coro::wait(async {}).unwrap_err()
    );
    let mut plain = Coroutine::<(), (), Error>::new(|_, ()| coro::wait(async {}).unwrap_err());
    if let Resumed::Return(refusal) = plain.resume(())? {
        println!("    under a plain resume:      {refusal}");
    }
    Ok(())
}
