//! Helpers shared by the integration tests: values that record their drops.
//!
//! Each test file uses only some of them.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

/// Makes [`Tracked`] values and records, for each, whether and how often it
/// was dropped, so a test can check that nothing leaked and nothing was
/// dropped twice.
#[derive(Clone, Default)]
pub struct Tracker(Rc<TrackerState>);

#[derive(Default)]
pub struct TrackerState {
    made: Cell<usize>,
    dropped: RefCell<HashSet<usize>>,
    double_drops: Cell<usize>,
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// A new value to follow.
    pub fn make(&self) -> Tracked {
        let id = self.0.made.get();
        self.0.made.set(id + 1);
        Tracked {
            id,
            state: self.0.clone(),
        }
    }

    /// Values made so far.
    pub fn made(&self) -> usize {
        self.0.made.get()
    }

    /// Distinct values dropped so far.
    pub fn dropped(&self) -> usize {
        self.0.dropped.borrow().len()
    }

    /// Values made and not dropped yet.
    pub fn alive(&self) -> usize {
        self.made() - self.dropped()
    }

    /// Drops of a value that had already been dropped (must stay 0).
    pub fn double_drops(&self) -> usize {
        self.0.double_drops.get()
    }

    /// Asserts that every value made was dropped exactly once.
    #[track_caller]
    pub fn assert_all_dropped_once(&self) {
        assert_eq!(self.double_drops(), 0, "values dropped twice");
        assert_eq!(self.alive(), 0, "values leaked");
    }
}

/// A value whose drop is recorded by its [`Tracker`]. Never panics in `drop`
/// (a double drop is counted, not reported by a panic, since a panic in a
/// destructor during an unwind would abort the test binary).
pub struct Tracked {
    id: usize,
    state: Rc<TrackerState>,
}

impl Tracked {
    pub fn id(&self) -> usize {
        self.id
    }
}

impl std::fmt::Debug for Tracked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tracked({})", self.id)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if !self.state.dropped.borrow_mut().insert(self.id) {
            self.state
                .double_drops
                .set(self.state.double_drops.get() + 1);
        }
    }
}

/// An ordered record of events, shared between a test and its coroutines.
#[derive(Clone, Default)]
pub struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    pub fn new() -> Log {
        Log::default()
    }

    pub fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }

    /// A value that pushes `name` to this log when dropped.
    pub fn noisy(&self, name: impl Into<String>) -> Noisy {
        Noisy {
            name: name.into(),
            log: self.clone(),
        }
    }

    pub fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }

    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }
}

/// Pushes its name to a [`Log`] when dropped.
pub struct Noisy {
    name: String,
    log: Log,
}

impl Drop for Noisy {
    fn drop(&mut self) {
        self.log.push(self.name.clone());
    }
}

/// The environment variable that tells a test binary it runs as a child of
/// [`run_child`].
const CHILD_VAR: &str = "CORO_TEST_CHILD";

/// True when this process was started by [`run_child`] for the test `name`:
/// that test should then do the thing that kills the process.
pub fn is_child(name: &str) -> bool {
    std::env::var(CHILD_VAR).is_ok_and(|v| v == name)
}

/// Runs the single test `name` of this test binary in a child process (for
/// behaviour that ends the process, such as an abort) and returns how it went.
pub fn run_child(name: &str) -> std::process::Output {
    run_child_with(name, "")
}

/// [`run_child`] with an argument for the child, read with [`child_arg`].
pub fn run_child_with(name: &str, arg: &str) -> std::process::Output {
    this_binary()
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, name)
        .env(CHILD_ARG_VAR, arg)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the test binary runs")
}

/// A command that runs this test binary again: directly, or, when the suite
/// runs under an emulator (qemu-user for another architecture), through the
/// emulator named by `CORO_TEST_RUNNER`, as the kernel cannot run the binary
/// itself.
pub fn this_binary() -> std::process::Command {
    let exe = std::env::current_exe().expect("the test binary");
    match std::env::var_os("CORO_TEST_RUNNER") {
        Some(runner) if !runner.is_empty() => {
            let mut command = std::process::Command::new(runner);
            command.arg(exe);
            command
        }
        _ => std::process::Command::new(exe),
    }
}

/// True when the suite runs under an emulator (`CORO_TEST_RUNNER` is set),
/// for the few tests that check what an emulator does not reproduce.
pub fn emulated() -> bool {
    std::env::var_os("CORO_TEST_RUNNER").is_some_and(|runner| !runner.is_empty())
}

/// The environment variable carrying the argument of [`run_child_with`].
const CHILD_ARG_VAR: &str = "CORO_TEST_CHILD_ARG";

/// The argument a child was started with by [`run_child_with`].
pub fn child_arg() -> String {
    std::env::var(CHILD_ARG_VAR).unwrap_or_default()
}

/// How a child ended, for failure messages: status, then both outputs.
pub fn describe(output: &std::process::Output) -> String {
    format!(
        "{:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts that a child died of SIGABRT, and returns its standard error.
#[track_caller]
pub fn assert_aborted(output: &std::process::Output) -> String {
    use std::os::unix::process::ExitStatusExt;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGABRT),
        "expected an abort, got {:?}; stderr:\n{stderr}",
        output.status
    );
    stderr
}

/// A `Send` drop counter, for values that travel as panic payloads or
/// between threads.
#[derive(Clone, Default)]
pub struct SendCounter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl SendCounter {
    pub fn new() -> SendCounter {
        SendCounter::default()
    }

    /// A value that increments this counter when dropped.
    pub fn token(&self) -> SendToken {
        SendToken(self.0.clone())
    }

    pub fn drops(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Increments its [`SendCounter`] when dropped.
pub struct SendToken(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for SendToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

// ---- executors, for the async bridge's tests ------------------------------

/// Runs `future` to its end on a current-thread tokio runtime with timers
/// and I/O, inside a `LocalSet`, so that it may `spawn_local` coroutines
/// (which are not `Send`).
pub fn run_local<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

/// The next item of a stream (what `StreamExt::next` does, without a
/// dependency on `futures`).
pub async fn next<S: futures_core::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

/// A waker that counts how often it was woken, for polling by hand.
#[derive(Default)]
pub struct CountingWaker(std::sync::atomic::AtomicUsize);

impl CountingWaker {
    /// A new counter and a waker that increments it.
    pub fn new() -> (std::sync::Arc<CountingWaker>, std::task::Waker) {
        let counter = std::sync::Arc::new(CountingWaker::default());
        let waker = std::task::Waker::from(counter.clone());
        (counter, waker)
    }

    pub fn wakes(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl std::task::Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Polls `future` once with `waker`.
pub fn poll_with<F: std::future::Future + Unpin>(
    future: &mut F,
    waker: &std::task::Waker,
) -> std::task::Poll<F::Output> {
    std::pin::Pin::new(future).poll(&mut std::task::Context::from_waker(waker))
}

/// A future that is pending the first `n` times it is polled (waking its
/// waker each time, so an executor polls again) and then ready, holding
/// `held` until dropped: what a test's awaited future drops tells when it
/// went.
pub struct PendingFor<T> {
    pub n: usize,
    pub held: T,
}

// `held` is never pinned: only `n` is used.
impl<T> Unpin for PendingFor<T> {}

impl<T> std::future::Future for PendingFor<T> {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let this = self.get_mut();
        if this.n == 0 {
            return std::task::Poll::Ready(());
        }
        this.n -= 1;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// Resident bytes of this process (`/proc/self/statm`).
pub fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("statm's second field");
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize
}

/// Kernel mappings of this process (`/proc/self/maps`).
pub fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .expect("Linux")
        .lines()
        .count()
}

/// The number a child printed as `name=<number>` in `stdout`.
#[track_caller]
pub fn printed(stdout: &str, name: &str) -> usize {
    stdout
        .split(&format!("{name}="))
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {stdout}"))
}

/// True when the test runs under Valgrind, whose own memory grows with the
/// program's: tests that count resident memory say so and skip the count.
pub fn under_valgrind() -> bool {
    std::env::var("LD_PRELOAD").is_ok_and(|preload| preload.contains("vgpreload"))
}
