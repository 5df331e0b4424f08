//! Lua 5.4's coroutines for Rust — create, resume, suspend, status, wrap,
//! close — with Rust's safety and a context switch in hand-written assembly.
//!
//! A coroutine is a function that can stop in the middle (*suspend*), hand a
//! value to whoever started it, and later continue from that point with a
//! value handed back (*resume*). `coro` gives them the exact semantics of
//! Lua's `coroutine` library: four states, values flowing both ways, errors
//! returned to the resumer rather than unwinding into it, and a nesting limit.
//!
//! ```
//! use coro::{Coroutine, Resumed, Status};
//!
//! let mut co = Coroutine::new(|yielder, a: i32| {
//!     let b = yielder.suspend(a + 1); // hand out a + 1, wait for b
//!     let c = yielder.suspend(a + b);
//!     format!("done with {c}")
//! });
//! assert_eq!(co.status(), Status::Suspended);
//! assert_eq!(co.resume(1).unwrap(), Resumed::Yield(2)); // a = 1
//! assert_eq!(co.resume(10).unwrap(), Resumed::Yield(11)); // b = 10
//! assert_eq!(co.resume(7).unwrap(), Resumed::Return("done with 7".to_string()));
//! assert_eq!(co.status(), Status::Dead);
//! assert_eq!(co.resume(0).unwrap_err().to_string(), "cannot resume dead coroutine");
//! ```
//!
//! # Two backends
//!
//! Both share one model — [`Status`], [`Error`], [`Handle`], [`running`],
//! [`MAX_NESTING`], the [`Resume`] trait, [`IntoIter`] and [`Wrap`] — and one
//! conformance suite runs unchanged against both.
//!
//! | | stackful [`Coroutine`] | stackless [`stackless::Coroutine`] |
//! | --- | --- | --- |
//! | the body | a closure | a closure returning an `async` block |
//! | can suspend from | any frame: plain functions, closures handed to other crates, C callbacks | async frames only (`yielder.suspend(v).await`, async callees) |
//! | memory per suspended coroutine | one touched stack page plus a header (about 4.3 KiB resident) | its frame plus a header (184 bytes for a trivial body) |
//! | how many | a million and more where the kernel has guard regions (Linux 6.13+); elsewhere up to what `vm.max_map_count` allows (two mappings per stack, about 32,700 by default), then [`Error::StackAllocation`] | a million is an ordinary case |
//! | the free [`suspend`], [`is_yieldable`] | work from any depth | [`Error::AcrossBoundary`], `false` |
//! | close | unwinds the stack; a destructor that panics aborts, as in any Rust unwind | drops the frame; a destructor that panics makes `close` return [`Error::Panic`] |
//!
//! Choose stackful to suspend from code you cannot make async (parsers
//! written as plain recursive functions, callbacks of other libraries, C);
//! choose stackless for very many small coroutines, or where every
//! suspension point is yours to write as an `.await`. A stackless
//! coroutine comes in two forms: [`stackless::Coroutine::new`] erases the
//! body's type (every coroutine of the same `I`, `Y`, `R` has one type), and
//! [`stackless::Coroutine::typed`] keeps it, so that a resume is one inlined
//! poll with no virtual call — the faster one in a hot loop. The README's
//! Performance section has the measured costs of both backends, side by
//! side with other libraries.
//!
//! # From Lua to coro
//!
//! | Lua 5.4 | coro |
//! | --- | --- |
//! | `coroutine.create(f)` | [`Coroutine::new`]`(f)`, or [`Builder`] for a stack size or a name ([`stackless::Builder`] for a stackless one's name); [`Coroutine::borrowing`]`(f)` for inputs and yields that borrow ([Borrowing](#borrowing)) |
//! | `coroutine.resume(co, ...)` | [`co.resume(input)`](Coroutine::resume) → `Ok(`[`Resumed::Yield`]`)` / `Ok(`[`Resumed::Return`]`)` / `Err(`[`Error`]`)` |
//! | `coroutine.yield(...)` | [`yielder.suspend(value)`](Yielder::suspend), or the free [`suspend`] from any depth |
//! | `coroutine.status(co)` | [`co.status()`](Coroutine::status), [`Handle::status`] |
//! | `coroutine.wrap(f)` | [`Coroutine::new`]`(f).`[`wrap()`](Coroutine::wrap): [`call(input)`](Wrap::call) resumes and gives what was yielded, raising a panic in the caller; a generator that takes `()` is also an iterator, [`into_iter()`](IntoIter), and both keep the return value |
//! | `coroutine.close(co)` | [`co.close()`](Coroutine::close), and `Drop` |
//! | `coroutine.running()` | [`running()`]: `None` on a thread's own stack |
//! | `coroutine.isyieldable()` | [`is_yieldable()`] |
//! | `error(e)` in the body | a panic: `Err(`[`Error::Panic`]`)`, the coroutine is dead |
//! | `LUAI_MAXCCALLS` (200) | [`MAX_NESTING`], [`Error::TooDeep`] |
//!
//! Every Lua behaviour, and whether coro matches it, rules it out at compile
//! time or (rarely, with a reason) differs: [`differences`].
//!
//! # Values
//!
//! The first `resume(input)` passes `input` as the body's argument; every later
//! one makes the pending `suspend` return it, so all inputs share one type `I`.
//! `suspend(y)` makes `resume` return `Ok(Resumed::Yield(y))`; returning `r`
//! makes it return `Ok(Resumed::Return(r))`. Other starting data is captured
//! by the closure, which may borrow it (see [Borrowing](#borrowing)).
//!
//! # Borrowing
//!
//! A coroutine may borrow from the code that creates it, for a lifetime
//! `'a`, as a closure does: its type names `'a`, and the borrow checker keeps
//! it from outliving what it borrows. A tokenizer over a borrowed `&str`
//! that yields `&str` slices of it:
//!
//! ```
//! use coro::{Body, Coroutine};
//!
//! fn tokens(text: &str) -> Coroutine<(), &str, (), dyn Body<(), &str, ()> + '_> {
//!     Coroutine::borrowing(move |y, ()| {
//!         for token in text.split_whitespace() {
//!             y.suspend(token);
//!         }
//!     })
//! }
//!
//! let source = String::from("let x = 42 ;");
//! let found: Vec<&str> = tokens(&source).into_iter().collect();
//! assert_eq!(found, ["let", "x", "=", "42", ";"]);
//! ```
//!
//! What may borrow:
//!
//! | made by | the body and its return value | inputs and yields | the free [`suspend`] in it |
//! | --- | --- | --- | --- |
//! | [`Coroutine::new`], [`Builder::build`] | may borrow | `'static` | checks the types, and works |
//! | [`Coroutine::borrowing`], [`Builder::build_borrowing`] | may borrow | may borrow | [`Error::UncheckedTypes`] |
//! | [`stackless::Coroutine::new`], [`stackless::Coroutine::typed`] | may borrow | may borrow | [`Error::AcrossBoundary`], as in every stackless coroutine |
//!
//! The type: the fourth type parameter of either backend's coroutine is
//! `dyn Body<I, Y, R> + 'a` ([`Body`], [`stackless::Body`]) for one that
//! borrows for `'a`. Its default, `dyn Body<I, Y, R>`, is `'static`, so
//! `Coroutine<I, Y, R>` is exactly the coroutine that borrows nothing, as
//! before. A turbofish that leaves the fourth parameter out gets that
//! default too: write `Coroutine::<(), &str, (), _>::borrowing(..)` to let
//! it borrow.
//!
//! Why the free [`suspend`] needs `'static` types: it finds the running
//! coroutine through the thread, not through its types, and checks those
//! by `TypeId`. A `TypeId` ignores lifetimes: `&'a str` and `&'static str`
//! have the same one, so in a coroutine whose input is `&'a str` a
//! `suspend::<_, &'static str>` that passed the check would hand a borrow
//! of `'a` out as one that lasts for ever. Nothing at run time can tell
//! whether a type borrows (lifetimes are gone by then), so the constructor
//! decides: [`Coroutine::new`] keeps its input and yield types `'static`
//! and records them for the check; [`Coroutine::borrowing`] records none,
//! and the free suspend refuses it. Its [`Yielder`] has the types in its own
//! type, and works as in any coroutine; [`wait`] and [`is_yieldable`] work
//! too.
//!
//! What stays `'static`: a [`Handle`] (it may outlive the coroutine, and
//! observes only its status, id and name, never a value), [`running`], and
//! [`Error`] (a panic's payload is `'static`, as `panic_any` requires).
//!
//! `mem::forget` of a suspended borrowing coroutine (or of its iterator,
//! stream or future) is safe, as forgetting always is in Rust: its stack or
//! frame and its header leak, none of the body's destructors run, and
//! nothing ever resumes or closes it again. The coroutine is the only owner
//! of its stack or frame; a handle can only read its status; the thread's
//! pool of stacks and its overflow handler know a stack's address range,
//! never what is on it; the thread's exit visits no coroutine. So the
//! leaked borrows are never used after they end, as with a leaked
//! `Box<dyn Fn() + 'a>`: coro never counts on a destructor running for its
//! soundness.
//!
//! The borrow checker's side of it:
//!
//! ```compile_fail,E0597
//! // A borrowing coroutine cannot outlive the text it borrows.
//! let co;
//! {
//!     let text = String::from("a b");
//!     co = coro::Coroutine::borrowing(|y, ()| text.split(' ').for_each(|w| y.suspend(w)));
//! }
//! drop(co);
//! ```
//!
//! ```compile_fail,E0597
//! // Dropping a suspended coroutine unwinds its stack, which runs the body's
//! // destructors: the text must still be alive then, so it may not be
//! // dropped first (here by being declared after the coroutine).
//! let mut co;
//! let text = String::from("a b");
//! co = coro::Coroutine::borrowing(|y, ()| text.split(' ').for_each(|w| y.suspend(w)));
//! co.resume(()).unwrap();
//! ```
//!
//! ```compile_fail,E0597
//! // Nor can what it yields.
//! let first;
//! {
//!     let text = String::from("a b");
//!     let mut co = coro::Coroutine::borrowing(|y, ()| text.split(' ').for_each(|w| y.suspend(w)));
//!     first = co.resume(()).unwrap().yielded();
//! }
//! assert_eq!(first, Some("a"));
//! ```
//!
//! ```compile_fail,E0499
//! // A body that borrows a `Vec` mutably holds the borrow while the
//! // coroutine lives, suspended or not.
//! let mut log = Vec::new();
//! let mut co = coro::Coroutine::new(|y, ()| {
//!     log.push(1);
//!     y.suspend(());
//!     log.push(2);
//! });
//! co.resume(()).unwrap();
//! log.push(3);
//! co.resume(()).unwrap();
//! ```
//!
//! ```compile_fail,E0597
//! // `new` keeps its input and yield types `'static`, for the free
//! // `suspend`: yielding borrowed slices needs `borrowing`.
//! let text = String::from("a b");
//! let co = coro::Coroutine::new(|y, ()| text.split(' ').for_each(|w| y.suspend(w)));
//! # drop(co);
//! ```
//!
//! ```compile_fail,E0597
//! // `Coroutine<I, Y, R>` borrows nothing: a borrowing one does not fit.
//! struct Task {
//!     co: coro::Coroutine<(), u32, ()>,
//! }
//! let n = 5;
//! let n = &n;
//! let task = Task { co: coro::Coroutine::new(move |y, ()| y.suspend(*n)) };
//! # drop(task);
//! ```
//!
//! The same on the stackless backend:
//!
//! ```compile_fail,E0597
//! use coro::stackless::{Coroutine, Yielder};
//!
//! let co;
//! {
//!     let text = String::from("a b");
//!     let line = text.as_str();
//!     co = Coroutine::new(|y: Yielder<(), &str>, ()| async move {
//!         for word in line.split(' ') {
//!             y.suspend(word).await;
//!         }
//!     });
//! }
//! drop(co);
//! ```
//!
//! ```compile_fail,E0597
//! use coro::stackless::{Coroutine, Yielder};
//!
//! // Dropped after the text it borrows: its frame's destructors could see
//! // the text gone.
//! let mut co;
//! let text = String::from("a b");
//! let line = text.as_str();
//! co = Coroutine::new(|y: Yielder<(), &str>, ()| async move {
//!     for word in line.split(' ') {
//!         y.suspend(word).await;
//!     }
//! });
//! co.resume(()).unwrap();
//! ```
//!
//! ```compile_fail,E0597
//! use coro::stackless::{Coroutine, Yielder};
//!
//! let first;
//! {
//!     let text = String::from("a b");
//!     let line = text.as_str();
//!     let mut co = Coroutine::typed(|y: Yielder<(), &str>, ()| async move {
//!         for word in line.split(' ') {
//!             y.suspend(word).await;
//!         }
//!     });
//!     first = co.resume(()).unwrap().yielded();
//! }
//! assert_eq!(first, Some("a"));
//! ```
//!
//! ```compile_fail,E0499
//! use coro::stackless::{Coroutine, Yielder};
//!
//! let mut log = Vec::new();
//! let log_ref = &mut log;
//! let mut co = Coroutine::new(|y: Yielder<(), ()>, ()| async move {
//!     log_ref.push(1);
//!     y.suspend(()).await;
//!     log_ref.push(2);
//! });
//! co.resume(()).unwrap();
//! log.push(3);
//! co.resume(()).unwrap();
//! ```
//!
//! # Destroying a coroutine
//!
//! [`close`](Coroutine::close) and `Drop` of a suspended coroutine unwind its
//! stack: every live local is dropped, newest first, exactly as if the pending
//! `suspend` had panicked, except that nothing is printed and the unwind stops
//! at the coroutine's root. A body that never started is dropped without
//! running. While a coroutine unwinds it cannot suspend: the free [`suspend`]
//! returns [`Error::AcrossBoundary`] and [`Yielder::suspend`] panics (inside a
//! destructor that panic aborts the process, as every panic during an unwind
//! does in Rust).
//!
//! If the body catches the unwind with `catch_unwind`, it should resume it
//! with `resume_unwind`; if it returns instead, the coroutine is still dead
//! and the returned value is dropped.
//!
//! The unwind of a stackful `close` is a panic's unwind as far as the rest of
//! the program can tell: a `std::sync::MutexGuard` held across the pending
//! suspension is dropped during it, and std then marks the mutex poisoned.
//! Release such guards before suspending, recover the data with
//! `lock().unwrap_or_else(PoisonError::into_inner)` (or
//! `Mutex::clear_poison`), or use a lock that does not poison. A stackless
//! `close` drops the frame without unwinding, so it poisons nothing.
//!
//! Unwinding needs stack: closing a suspended stackful coroutine needs about
//! 4 KiB free below its deepest suspended frame (3.2 KiB measured in release
//! builds on x86_64 Linux, 5 KiB in debug builds), as much as a panic there
//! would. So that a coroutine suspended with its stack nearly full can still
//! be closed, every stack keeps a close reserve of 8 KiB below its usable
//! part, as inaccessible as the guard page beneath it until `close` finds
//! less than 8 KiB free at the suspension point; then the reserve is opened
//! for the unwind and shut again before the stack is reused. It costs
//! address space only: no resident memory, no extra kernel mapping. A
//! destructor that needs more than that still overflows, and is reported by
//! name like any other overflow; give the coroutine a bigger
//! [`Builder::stack_size`].
//!
//! # Suspending through foreign code
//!
//! A stackful coroutine's frames are ordinary frames on its own stack, so it
//! can suspend from anywhere below its body: deep recursion, closures handed
//! to other crates, even a C library's callback (a `qsort` comparator that
//! asks the resumer for each comparison) — Lua 5.1 with Coco, or Lua 5.2's
//! continuations without writing any. An unwind cannot cross C frames, so to
//! close such a coroutine (or let a callback panic), call the C code through
//! [`foreign::call`] and wrap its callbacks in [`foreign::callback`]; without
//! them, resume it to completion.
//!
//! # Panics
//!
//! A panic in the body is caught at the coroutine's root and returned to the
//! resumer as [`Error::Panic`]; the coroutine is dead. Rust's panic hook still
//! runs, so the message is printed as for any panic unless a hook says
//! otherwise. Suspending inside `std::panic::catch_unwind` works (Lua 5.2's
//! yieldable `pcall`).
//!
//! # Stacks
//!
//! Each coroutine has a stack of [`DEFAULT_STACK_SIZE`] bytes (1 MiB), at
//! least [`MIN_STACK_SIZE`] (16 KiB), with the close reserve (8 KiB) and a
//! guard page below it; a thread
//! keeps up to [`DEFAULT_POOL_CAPACITY`] (64) freed stacks for reuse
//! ([`set_stack_pool_capacity`] tunes it), so creating a coroutine costs no
//! system call in the common case. The memory is reserved, not committed: a
//! suspended trivial coroutine costs one touched page.
//!
//! Where the kernel has guard regions (`MADV_GUARD_INSTALL`, Linux 6.13 and
//! later), a thread carves its stacks out of chunks of about 1 GiB of address
//! space, one kernel mapping each, and each stack's guard page and close
//! reserve fault by a guard region: a million live coroutines cost a few
//! mappings and about 4.3 KiB resident each. Elsewhere, or with
//! `CORO_GUARD_REGIONS=0` in the environment, each stack has a mapping of its
//! own (two kernel mappings with its guard), so the kernel's
//! `vm.max_map_count` (65,530 by default) bounds the number alive at about
//! 32,700, past which creating one is a clear [`Error::StackAllocation`]. A
//! stack that leaves the thread's pool gives its pages back to the kernel at
//! once. One kept in the pool keeps the pages of its top 64 KiB for the next
//! coroutine; deeper pages go back when the stack comes back from a
//! coroutine that visibly went that deep, and in any case at the pool's next
//! sweep, every 4,096 stacks given back.
//!
//! Overflowing the stack hits the guard page: the process prints
//! `coroutine '<name>' has overflowed its stack of <size> KiB`, points at
//! [`Builder::stack_size`], and aborts, as Rust does when a thread overflows
//! its stack.
//!
//! # Threads
//!
//! Coroutines stay on the thread that created them (`Coroutine`, `Yielder`
//! and [`Handle`] of both backends are neither `Send` nor `Sync`: the
//! compile error for sending one names [`StaysOnThread`] first); every
//! thread has its own chain of active coroutines.
//!
//! **Thread-locals and thread exit.** A coroutine kept in a thread-local is
//! closed by that thread-local's destructor when the thread exits, and the
//! live locals of its body are dropped then. By that time other
//! thread-locals of the thread may be destroyed already: Rust runs their
//! destructors in an order that no library can see or change (on Linux, the
//! reverse of their first use on the thread), and offers no way to ask
//! whether the thread's teardown has begun. So a stackful body must not keep
//! a reference into a thread-local across a suspension — that is, must not
//! suspend inside `LocalKey::with`'s closure, or hold what it lent out:
//!
//! ```no_run
//! # use std::cell::RefCell;
//! thread_local!(static NAMES: RefCell<Vec<String>> = RefCell::new(Vec::new()));
//! let mut co = coro::Coroutine::new(|y, ()| {
//!     // Wrong: `names` would outlive NAMES if a thread-local destructor
//!     // resumed or dropped this coroutine after NAMES's own:
//!     // NAMES.with(|names| { y.suspend(()); names.borrow_mut().push(..) });
//!     //
//!     // Right: reach the thread-local again after each suspension.
//!     loop {
//!         y.suspend(());
//!         NAMES.with(|names| names.borrow_mut().push("again".into()));
//!     }
//! });
//! # co.resume(()).unwrap();
//! ```
//!
//! A suspended stack may hold a reference into any thread-local and nothing
//! in its types says which, so no stackful coroutine library can detect this
//! misuse; the same holds for the borrow of any other value that the thread's
//! exit destroys first. Destructors that run while a coroutine is closed
//! should reach thread-locals with `LocalKey::try_with`, which reports one
//! that is gone. (A stackless body cannot hold such a reference across a
//! suspension at all: `with`'s closure returns before the frame is polled
//! again.)
//!
//! # Async executors
//!
//! [`wait`] waits for a future from any depth of plain calls inside a
//! stackful coroutine that an executor is polling: the coroutine's whole
//! stack suspends while the future is pending, and the executor runs other
//! tasks meanwhile. A coroutine of either backend that takes and suspends
//! with `()` is a future ([`CoroutineFuture`], through `IntoFuture`); any
//! coroutine can be resumed from async code with `resume_async`
//! ([`ResumeFuture`]); a generator is a `futures_core::Stream` with
//! `into_stream()` ([`IntoStream`], feature `futures`). A stackless body
//! polled by an executor may `.await` any future.
//!
//! ```
//! # #[cfg(coro_stackful)] {
//! use std::future::IntoFuture;
//! use std::time::Duration;
//!
//! // Plain code that needs a timer, called from deep inside a parser, say.
//! fn throttle() {
//!     coro::wait(tokio::time::sleep(Duration::from_millis(1))).unwrap();
//! }
//!
//! let co = coro::Coroutine::new(|_, ()| {
//!     (0..3).map(|n| { throttle(); n }).sum::<u32>()
//! });
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! assert_eq!(runtime.block_on(co.into_future()).unwrap(), 3);
//! # }
//! ```
//!
//! Where no executor polls the running coroutine, [`wait`] returns an error
//! at once ([`Error::NotPolled`], [`Error::OutsideCoroutine`],
//! [`Error::AcrossBoundary`]). Like Lua's `yield`, a wait suspends the
//! running coroutine only: one resumed by a plain `resume` cannot wait, even
//! if its resumer is polled; resume it with
//! `coro::wait(inner.resume_async(input))` instead, and both wait together.
//! Coroutines are not `Send`, so neither are these futures: run them on a
//! current-thread runtime or a `LocalSet` (`tokio::task::spawn_local`).
//! Dropping a coroutine's future or stream destroys it as `close` does, the
//! future it waits on first.
//!
//! # Supported targets
//!
//! | backend | where |
//! | --- | --- |
//! | stackful | x86_64 and aarch64, under Linux (tested, aarch64 under emulation), macOS and the BSDs (compiled, not run) |
//! | stackless | every target with `std` |
//!
//! Both backends are Cargo features, on by default: `stackful` and
//! `stackless`; so is `futures`, for `into_stream()` (it adds the one
//! dependency `futures-core`). Where the stackful backend is missing, the
//! crate still builds, and naming one of its items fails to compile with a
//! message that names the target.

#[doc = include_str!("../docs/differences.md")]
pub mod differences {}

mod chain;
mod error;
mod future;
mod handle;
mod header;
mod resume;
mod shared;
#[cfg(coro_stackful)]
mod stackful;
#[cfg(feature = "stackless")]
pub mod stackless;
mod status;
mod thread_bound;
#[cfg(all(feature = "stackful", not(coro_stackful)))]
mod unsupported;

#[cfg(not(coro_stackful))]
pub use chain::suspend;
pub use chain::{MAX_NESTING, is_yieldable, running};
pub use error::{Error, PanicPayload};
#[cfg(feature = "futures")]
pub use future::IntoStream;
#[cfg(not(coro_stackful))]
pub use future::wait;
pub use future::{CoroutineFuture, ResumeFuture};
pub use handle::Handle;
pub use resume::{IntoIter, Resume, Resumed, Wrap};
#[cfg(coro_stackful)]
pub use stackful::foreign;
#[cfg(coro_stackful)]
pub use stackful::{
    Body, Builder, Coroutine, DEFAULT_POOL_CAPACITY, DEFAULT_STACK_SIZE, MIN_STACK_SIZE, Yielder,
    set_stack_pool_capacity, stack_pool_capacity, suspend, wait,
};
pub use status::Status;
pub use thread_bound::StaysOnThread;
#[cfg(all(feature = "stackful", not(coro_stackful)))]
pub use unsupported::{Body, Builder, Coroutine, Yielder, foreign};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
