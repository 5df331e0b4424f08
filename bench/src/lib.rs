//! The workloads that the criterion benches (`benches/`) and the `report`
//! binary both measure, one module per peer, so that the two always time the
//! same code.
//!
//! Every peer offers the same shapes of work:
//! - a *counter*: a coroutine that loops forever, suspending with its
//!   input plus one, and a `step` that resumes it once with a `u64` and
//!   returns the `u64` it suspends with (one round trip, a value each way, as
//!   users resume);
//! - `create_finish`: make a coroutine with a trivial body and resume it
//!   until it returns;
//! - `suspended`: a coroutine that has run once and is parked inside its
//!   body, for memory measurements.
//!
//! Every workload is `#[inline(always)]`, so each library's operations are
//! timed inlined into the same loop; with a plain `#[inline]`, the optimizer
//! kept some peers' wrappers out of line and not others, which added a call
//! to some rows only.
//!
//! Stackful peers: [`coro_peer`], [`corosensei_peer`], [`generator_peer`].
//! Stackless peers: [`coro_stackless_peer`], [`genawaiter_peer`] and
//! [`future_peer`], the floor. Others: [`lua_peer`] (Lua 5.4's own
//! coroutines, through mlua) and [`thread_peer`] (two OS threads).

use std::hint::black_box;

pub mod echo;
pub mod streams;
pub mod tokenizer;

/// A plain call through an opaque function pointer: the scale against which
/// a context switch is judged.
#[inline]
pub fn plain_call(x: u64) -> u64 {
    let add_one: fn(u64) -> u64 = black_box(|x| x.wrapping_add(1));
    add_one(black_box(x))
}

/// `n` coroutines made by `make`, each resumed once with `step`, for the
/// round trip with many live coroutines.
pub fn started<C>(n: usize, make: impl Fn() -> C, step: impl Fn(&mut C, u64) -> u64) -> Vec<C> {
    (0..n)
        .map(|_| {
            let mut co = make();
            step(&mut co, 0);
            co
        })
        .collect()
}

/// The state of the window bodies (`coro_peer::window` and its stackless
/// twin): the last four inputs, five words with the position.
#[derive(Default)]
pub struct Window {
    last: [u64; 4],
    at: usize,
}

impl Window {
    /// Takes `input` in place of the oldest and returns the sum of the four.
    #[inline(always)]
    pub fn push(&mut self, input: u64) -> u64 {
        self.last[self.at] = input;
        self.at = (self.at + 1) % self.last.len();
        self.last.iter().fold(0u64, |sum, &x| sum.wrapping_add(x))
    }
}

/// `coro`: this crate's stackful coroutines, with stacks from its per-thread
/// pool.
pub mod coro_peer {
    use coro::{Coroutine, Resumed};

    /// A coroutine that suspends with its input plus one, forever.
    pub type Counter = Coroutine<u64, u64, ()>;

    /// A fresh counter on the smallest stack coro hands out
    /// (`MIN_STACK_SIZE`, 16 KiB): what a program with a hundred thousand
    /// shallow coroutines would pick.
    pub fn small_counter() -> Counter {
        coro::Builder::new()
            .stack_size(coro::MIN_STACK_SIZE)
            .build(|yielder, mut input: u64| {
                loop {
                    input = yielder.suspend(input.wrapping_add(1));
                }
            })
            .expect("a stack")
    }

    /// A fresh counter, not yet started.
    pub fn counter() -> Counter {
        Coroutine::new(|yielder, mut input: u64| {
            loop {
                input = yielder.suspend(input.wrapping_add(1));
            }
        })
    }

    /// A coroutine that suspends with the sum of its last four inputs,
    /// forever: a body with state of its own across each suspension (five
    /// words, more than the switch keeps in registers), which it keeps in
    /// its frame on its stack.
    pub fn window() -> Counter {
        Coroutine::new(|yielder, mut input: u64| {
            let mut window = crate::Window::default();
            loop {
                input = yielder.suspend(window.push(input));
            }
        })
    }

    /// One round trip: resumes the counter with `input` and returns what it
    /// suspended with.
    ///
    /// Every arm moves its payload out, so no drop of the `Result` is left on
    /// the hot path: with `other => panic!(..)`, rustc can leave an
    /// out-of-line `drop_in_place::<Result<Resumed<_, _>, Error>>` call in
    /// the loop, which costs several nanoseconds per round trip.
    #[inline(always)]
    pub fn step(counter: &mut Counter, input: u64) -> u64 {
        match counter.resume(input) {
            Ok(Resumed::Yield(i)) => i,
            Ok(Resumed::Return(())) => unreachable!("the counter never returns"),
            Err(err) => panic!("the counter failed: {err}"),
        }
    }

    /// Creates a coroutine returning `x + 1` and runs it to completion.
    #[inline(always)]
    pub fn create_finish(x: u64) -> u64 {
        let mut co = Coroutine::<(), (), u64>::new(move |_, ()| x.wrapping_add(1));
        match co.resume(()) {
            Ok(Resumed::Return(r)) => r,
            Ok(Resumed::Yield(())) => unreachable!("the body never suspends"),
            Err(err) => panic!("the coroutine failed: {err}"),
        }
    }

    /// A coroutine resumed once, now suspended inside its body.
    pub fn suspended() -> Coroutine<(), (), ()> {
        let mut co = Coroutine::new(|yielder, ()| yielder.suspend(()));
        assert!(matches!(co.resume(()), Ok(Resumed::Yield(()))));
        co
    }
}

/// `corosensei`: stackful coroutines with one `mmap`'d stack each (1 MiB by
/// default), or a stack the caller hands back for reuse.
pub mod corosensei_peer {
    use corosensei::stack::DefaultStack;
    use corosensei::{Coroutine, CoroutineResult};

    /// A coroutine that suspends with its input plus one, forever.
    pub type Counter = Coroutine<u64, u64, ()>;

    /// A fresh counter, not yet started.
    pub fn counter() -> Counter {
        Coroutine::new(|yielder, mut input: u64| {
            loop {
                input = yielder.suspend(input.wrapping_add(1));
            }
        })
    }

    /// One round trip: resumes the counter with `input` and returns what it
    /// suspended with.
    #[inline(always)]
    pub fn step(counter: &mut Counter, input: u64) -> u64 {
        match counter.resume(input) {
            CoroutineResult::Yield(i) => i,
            CoroutineResult::Return(()) => unreachable!("the counter never returns"),
        }
    }

    /// Creates a coroutine returning `x + 1` on a fresh default stack (one
    /// `mmap` and one `munmap`) and runs it to completion.
    #[inline(always)]
    pub fn create_finish(x: u64) -> u64 {
        let mut co = Coroutine::<(), (), u64>::new(move |_, ()| x.wrapping_add(1));
        finish(co.resume(()))
    }

    /// As [`create_finish`], on `stack`, which is handed back for the next
    /// coroutine.
    #[inline(always)]
    pub fn create_finish_on(stack: DefaultStack, x: u64) -> (u64, DefaultStack) {
        let mut co = Coroutine::<(), (), u64, _>::with_stack(stack, move |_, ()| x.wrapping_add(1));
        let r = finish(co.resume(()));
        (r, co.into_stack())
    }

    /// The return value of a coroutine that was expected to finish.
    #[inline(always)]
    fn finish(result: CoroutineResult<(), u64>) -> u64 {
        match result {
            CoroutineResult::Return(r) => r,
            CoroutineResult::Yield(()) => unreachable!("the body never suspends"),
        }
    }

    /// A coroutine resumed once, now suspended inside its body.
    pub fn suspended() -> Coroutine<(), (), ()> {
        let mut co = Coroutine::new(|yielder, ()| yielder.suspend(()));
        assert!(matches!(co.resume(()), CoroutineResult::Yield(())));
        co
    }
}

/// `coro::stackless`: this crate's stackless coroutines, whose body is an
/// `async` block kept in one heap frame.
pub mod coro_stackless_peer {
    use coro::Resumed;
    use coro::stackless::{Coroutine, Yielder};

    /// A coroutine that suspends with 1, 2, 3, … forever.
    pub type Counter = Coroutine<u64, u64, ()>;

    /// A fresh counter, not yet started.
    pub fn counter() -> Counter {
        Coroutine::new(|y: Yielder<u64, u64>, mut input: u64| async move {
            loop {
                input = y.suspend(input.wrapping_add(1)).await;
            }
        })
    }

    /// The stackful `window` as a stackless body: its state lives in the
    /// body's frame on the heap.
    pub fn window() -> Counter {
        Coroutine::new(|y: Yielder<u64, u64>, mut input: u64| async move {
            let mut window = crate::Window::default();
            loop {
                input = y.suspend(window.push(input)).await;
            }
        })
    }

    /// One round trip: resumes the counter and returns what it suspended with.
    #[inline(always)]
    pub fn step(counter: &mut Counter, input: u64) -> u64 {
        match counter.resume(input) {
            Ok(Resumed::Yield(i)) => i,
            Ok(Resumed::Return(())) => unreachable!("the counter never returns"),
            Err(err) => panic!("the counter failed: {err}"),
        }
    }

    /// Creates a coroutine returning `x + 1` and runs it to completion.
    #[inline(always)]
    pub fn create_finish(x: u64) -> u64 {
        let mut co = Coroutine::new(move |_: Yielder<(), ()>, ()| async move { x.wrapping_add(1) });
        match co.resume(()) {
            Ok(Resumed::Return(r)) => r,
            Ok(Resumed::Yield(())) => unreachable!("the body never suspends"),
            Err(err) => panic!("the coroutine failed: {err}"),
        }
    }

    /// A coroutine resumed once, now suspended inside its body.
    pub fn suspended() -> Coroutine<(), (), ()> {
        let mut co = Coroutine::new(|y: Yielder<(), ()>, ()| async move { y.suspend(()).await });
        assert!(matches!(co.resume(()), Ok(Resumed::Yield(()))));
        co
    }
}

/// `coro::stackless`, the typed form (`Coroutine::typed`): the body's type
/// kept in the coroutine's, so a resume makes no virtual call.
pub mod coro_typed_peer {
    use coro::stackless::{Body, Coroutine, Yielder};
    use coro::{Resume, Resumed};

    /// A coroutine that suspends with its input plus one, forever.
    pub fn counter() -> Coroutine<u64, u64, (), impl Body<u64, u64, ()>> {
        Coroutine::typed(|y: Yielder<u64, u64>, mut input: u64| async move {
            loop {
                input = y.suspend(input.wrapping_add(1)).await;
            }
        })
    }

    /// One round trip: resumes the counter and returns what it suspended with.
    #[inline(always)]
    pub fn step<C: Resume<u64, Yield = u64, Return = ()>>(counter: &mut C, input: u64) -> u64 {
        match counter.resume(input) {
            Ok(Resumed::Yield(i)) => i,
            Ok(Resumed::Return(())) => unreachable!("the counter never returns"),
            Err(err) => panic!("the counter failed: {err}"),
        }
    }

    /// Creates a coroutine returning `x + 1` and runs it to completion.
    #[inline(always)]
    pub fn create_finish(x: u64) -> u64 {
        let mut co =
            Coroutine::typed(move |_: Yielder<(), ()>, ()| async move { x.wrapping_add(1) });
        match co.resume(()) {
            Ok(Resumed::Return(r)) => r,
            Ok(Resumed::Yield(())) => unreachable!("the body never suspends"),
            Err(err) => panic!("the coroutine failed: {err}"),
        }
    }
}

/// `genawaiter`'s `rc` flavour: a generator whose `async` body is boxed, with
/// its exchange slot in an `Rc`.
pub mod genawaiter_peer {
    use std::future::Future;

    use genawaiter::GeneratorState;
    use genawaiter::rc::{Co, Gen};

    /// A fresh generator that yields 1, 2, 3, … forever.
    pub fn counter() -> Gen<u64, u64, impl Future<Output = ()>> {
        Gen::new(|co: Co<u64, u64>| async move {
            // genawaiter drops the first resume's argument: the body starts
            // from 0.
            let mut input = 0u64;
            loop {
                input = co.yield_(input.wrapping_add(1)).await;
            }
        })
    }

    /// One round trip: resumes the counter and returns what it yielded.
    #[inline(always)]
    pub fn step<F: Future<Output = ()>>(counter: &mut Gen<u64, u64, F>, input: u64) -> u64 {
        match counter.resume_with(input) {
            GeneratorState::Yielded(i) => i,
            GeneratorState::Complete(()) => unreachable!("the counter never returns"),
        }
    }

    /// Creates a generator returning `x + 1` and runs it to completion.
    #[inline(always)]
    pub fn create_finish(x: u64) -> u64 {
        let mut generator = Gen::new(move |_: Co<()>| async move { x.wrapping_add(1) });
        match generator.resume() {
            GeneratorState::Complete(r) => r,
            GeneratorState::Yielded(()) => unreachable!("the body never yields"),
        }
    }

    /// A generator resumed once, now suspended inside its body.
    pub fn suspended() -> Gen<(), (), impl Future<Output = ()>> {
        let mut generator = Gen::new(|co: Co<()>| async move { co.yield_(()).await });
        assert!(matches!(generator.resume(), GeneratorState::Yielded(())));
        generator
    }
}

/// A hand-written `Future` polled with a no-op waker: the least a stackless
/// round trip can cost (one virtual call that bumps a counter).
pub mod future_peer {
    use std::future::Future;
    use std::hint::black_box;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    /// A future that counts its polls and never completes.
    #[derive(Debug)]
    struct Ticker {
        /// How many times it was polled.
        polls: u64,
    }

    impl Future for Ticker {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.polls = self.polls.wrapping_add(1);
            Poll::Pending
        }
    }

    /// A type-erased future, as a stackless coroutine keeps its frame.
    pub type Counter = Pin<Box<dyn Future<Output = ()>>>;

    /// A fresh ticker, behind `black_box` so that its polls stay virtual
    /// calls.
    pub fn counter() -> Counter {
        black_box(Box::pin(Ticker { polls: 0 }))
    }

    /// One round trip: polls the ticker once; true as it stays pending.
    #[inline(always)]
    pub fn step(counter: &mut Counter) -> bool {
        counter
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending()
    }

    /// Boxes a future returning `x + 1` and polls it to completion.
    #[inline(always)]
    pub fn create_finish(x: u64) -> u64 {
        let mut future: Pin<Box<dyn Future<Output = u64>>> =
            black_box(Box::pin(async move { x.wrapping_add(1) }));
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(r) => r,
            Poll::Pending => unreachable!("the future is ready at once"),
        }
    }

    /// A ticker polled once.
    pub fn suspended() -> Counter {
        let mut ticker = counter();
        assert!(step(&mut ticker));
        ticker
    }
}

/// The `generator` crate: stackful generators with one `mmap`'d stack each
/// (32 KiB by default, plus a guard page).
pub mod generator_peer {
    use generator::{Gn, LocalGenerator};

    /// A generator that yields 1, 2, 3, … forever.
    pub type Counter = LocalGenerator<'static, u64, u64>;

    /// A fresh counter, not yet started.
    pub fn counter() -> Counter {
        Gn::<u64>::new_scoped_local(|mut scope| {
            // The first `send`'s argument is not given to the body: it
            // starts from 0.
            let mut input = 0u64;
            loop {
                scope.yield_with(input.wrapping_add(1));
                input = scope
                    .get_yield()
                    .expect("the counter is only resumed with send");
            }
        })
    }

    /// One round trip: sends `input` to the counter and returns what it
    /// yielded.
    #[inline(always)]
    pub fn step(counter: &mut Counter, input: u64) -> u64 {
        counter.send(input)
    }

    /// Creates a generator returning `x + 1` on a fresh stack and runs it to
    /// completion.
    #[inline(always)]
    pub fn create_finish(x: u64) -> u64 {
        let mut generator = Gn::<()>::new_scoped_local(move |_| x.wrapping_add(1));
        let r = generator.resume().expect("the body returns a value");
        debug_assert!(generator.is_done());
        r
    }

    /// A generator resumed once, now suspended inside its body.
    pub fn suspended() -> LocalGenerator<'static, (), ()> {
        let mut generator = Gn::<()>::new_scoped_local(|mut scope| {
            scope.yield_with(());
        });
        assert_eq!(generator.resume(), Some(()));
        generator
    }
}

/// Lua 5.4's own coroutines, in a Lua state built from the vendored sources
/// by mlua: resumed from Rust through `mlua::Thread`, or from a loop in Lua.
pub mod lua_peer {
    use mlua::{Function, Lua, Thread};

    /// A Lua coroutine that yields its input plus one, forever, resumed from
    /// Rust.
    #[derive(Debug)]
    pub struct Counter {
        /// Keeps the state alive.
        _lua: Lua,
        /// The coroutine.
        thread: Thread,
    }

    impl Counter {
        /// A fresh counter in a state of its own, not yet started.
        pub fn new() -> Self {
            let lua = Lua::new();
            let body: Function = lua
                .load(
                    "return function(x)
                        while true do
                            x = coroutine.yield(x + 1)
                        end
                    end",
                )
                .eval()
                .expect("the body compiles");
            let thread = lua.create_thread(body).expect("Lua makes a coroutine");
            Counter { _lua: lua, thread }
        }

        /// One round trip: `Thread::resume` from Rust with `input`, and the
        /// body's `coroutine.yield` of its successor.
        #[inline(always)]
        pub fn step(&self, input: u64) -> u64 {
            self.thread.resume(input).expect("the counter yields")
        }
    }

    impl Default for Counter {
        fn default() -> Self {
            Self::new()
        }
    }

    /// A Lua function that runs `n` of some operation in a Lua loop, with
    /// no crossing into Rust in between.
    #[derive(Debug)]
    pub struct Loop {
        /// Keeps the state alive.
        _lua: Lua,
        /// `function(n)`: runs the loop and returns its last result.
        run: Function,
    }

    impl Loop {
        /// `n` round trips of `coroutine.resume` on a counter, in Lua.
        pub fn round_trips() -> Self {
            Self::new(
                "local resume = coroutine.resume
                local co = coroutine.create(function(x)
                    while true do
                        x = coroutine.yield(x + 1)
                    end
                end)
                return function(n)
                    local last = 0
                    for i = 1, n do
                        local _, r = resume(co, i)
                        last = r
                    end
                    return last
                end",
            )
        }

        /// `n` times `coroutine.create` and a `coroutine.resume` that runs
        /// a trivial body to its end, in Lua (garbage collection included).
        pub fn create_finish() -> Self {
            Self::new(
                "local create, resume = coroutine.create, coroutine.resume
                local function body(x) return x + 1 end
                return function(n)
                    local last = 0
                    for i = 1, n do
                        local _, r = resume(create(body), i)
                        last = r
                    end
                    return last
                end",
            )
        }

        /// A loop defined by `chunk`, which returns `function(n)`.
        fn new(chunk: &str) -> Self {
            let lua = Lua::new();
            let run = lua.load(chunk).eval().expect("the loop compiles");
            Loop { _lua: lua, run }
        }

        /// Runs the loop `n` times and returns its last result.
        #[inline(always)]
        pub fn run(&self, n: u64) -> i64 {
            self.run.call(n).expect("the loop runs")
        }
    }

    /// Makes trivial Lua coroutines from Rust, in a state of its own.
    #[derive(Debug)]
    pub struct Factory {
        /// The state the coroutines live in.
        lua: Lua,
        /// `function(x) return x + 1 end`.
        finishing: Function,
        /// `function() coroutine.yield() end`.
        suspending: Function,
    }

    impl Factory {
        /// A fresh state with the two bodies compiled.
        pub fn new() -> Self {
            let lua = Lua::new();
            let finishing = lua
                .load("return function(x) return x + 1 end")
                .eval()
                .expect("the body compiles");
            let suspending = lua
                .load("return function() coroutine.yield() end")
                .eval()
                .expect("the body compiles");
            Factory {
                lua,
                finishing,
                suspending,
            }
        }

        /// The state, for its memory count.
        pub fn lua(&self) -> &Lua {
            &self.lua
        }

        /// `Lua::create_thread` on a body returning `x + 1`, resumed to
        /// completion.
        #[inline(always)]
        pub fn create_finish(&self, x: u64) -> u64 {
            let thread = self
                .lua
                .create_thread(self.finishing.clone())
                .expect("Lua makes a coroutine");
            thread.resume(x).expect("the body returns")
        }

        /// A coroutine resumed once, now suspended inside its body.
        pub fn suspended(&self) -> Thread {
            let thread = self
                .lua
                .create_thread(self.suspending.clone())
                .expect("Lua makes a coroutine");
            thread.resume::<()>(()).expect("the body yields");
            thread
        }
    }

    impl Default for Factory {
        fn default() -> Self {
            Self::new()
        }
    }
}

/// Two OS threads handing a value back and forth over `std::sync::mpsc`
/// channels: what coroutines spare a program.
pub mod thread_peer {
    use std::sync::mpsc::{self, Receiver, Sender};
    use std::thread::{self, JoinHandle};

    /// This thread and an echo thread that answers every message with its
    /// successor.
    #[derive(Debug)]
    pub struct PingPong {
        /// To the echo thread; dropped first to stop it.
        to: Option<Sender<u64>>,
        /// From the echo thread.
        from: Receiver<u64>,
        /// The echo thread.
        echo: Option<JoinHandle<()>>,
    }

    impl PingPong {
        /// Starts the echo thread.
        pub fn new() -> Self {
            let (to, requests) = mpsc::channel::<u64>();
            let (replies, from) = mpsc::channel();
            let echo = thread::spawn(move || {
                for x in requests {
                    if replies.send(x.wrapping_add(1)).is_err() {
                        break;
                    }
                }
            });
            PingPong {
                to: Some(to),
                from,
                echo: Some(echo),
            }
        }

        /// One round trip: a message each way.
        #[inline(always)]
        pub fn step(&self, x: u64) -> u64 {
            let to = self.to.as_ref().expect("open until dropped");
            to.send(x).expect("the echo thread is alive");
            self.from.recv().expect("the echo thread answers")
        }
    }

    impl Default for PingPong {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Drop for PingPong {
        fn drop(&mut self) {
            drop(self.to.take());
            if let Some(echo) = self.echo.take() {
                let _ = echo.join();
            }
        }
    }

    /// Spawns a thread returning `x + 1` and joins it.
    #[inline(always)]
    pub fn create_finish(x: u64) -> u64 {
        thread::spawn(move || x.wrapping_add(1))
            .join()
            .expect("the thread returns")
    }
}

#[cfg(test)]
mod tests {
    //! Every workload does what its name says, so the timings measure it.

    use super::*;

    // Each counter suspends with its input plus one; genawaiter and the
    // generator crate do not hand the first resume's input to the body,
    // which starts from 0.
    #[test]
    fn counters_count() {
        let mut co = coro_peer::counter();
        assert_eq!(
            [10, 20, 30].map(|i| coro_peer::step(&mut co, i)),
            [11, 21, 31]
        );
        let mut co = corosensei_peer::counter();
        assert_eq!(
            [10, 20, 30].map(|i| corosensei_peer::step(&mut co, i)),
            [11, 21, 31]
        );
        let mut co = generator_peer::counter();
        assert_eq!(
            [10, 20, 30].map(|i| generator_peer::step(&mut co, i)),
            [1, 21, 31]
        );
        let mut co = coro_stackless_peer::counter();
        assert_eq!(
            [10, 20, 30].map(|i| coro_stackless_peer::step(&mut co, i)),
            [11, 21, 31]
        );
        let mut co = genawaiter_peer::counter();
        assert_eq!(
            [10, 20, 30].map(|i| genawaiter_peer::step(&mut co, i)),
            [1, 21, 31]
        );
        let mut co = future_peer::counter();
        assert!(future_peer::step(&mut co));
        let co = lua_peer::Counter::new();
        assert_eq!([10, 20, 30].map(|i| co.step(i)), [11, 21, 31]);
        // Resumed with 1, 2, 3: the last resume returns 3 + 1.
        assert_eq!(lua_peer::Loop::round_trips().run(3), 4);
        let threads = thread_peer::PingPong::new();
        assert_eq!(threads.step(41), 42);
    }

    #[test]
    fn bodies_finish() {
        assert_eq!(coro_peer::create_finish(41), 42);
        assert_eq!(corosensei_peer::create_finish(41), 42);
        assert_eq!(generator_peer::create_finish(41), 42);
        assert_eq!(coro_stackless_peer::create_finish(41), 42);
        assert_eq!(genawaiter_peer::create_finish(41), 42);
        assert_eq!(future_peer::create_finish(41), 42);
        assert_eq!(lua_peer::Factory::new().create_finish(41), 42);
        assert_eq!(lua_peer::Loop::create_finish().run(3), 4);
        assert_eq!(thread_peer::create_finish(41), 42);
    }

    #[test]
    fn suspended_ones_stay_suspended() {
        assert_eq!(coro_peer::suspended().status(), coro::Status::Suspended);
        assert_eq!(
            coro_stackless_peer::suspended().status(),
            coro::Status::Suspended
        );
        assert!(!generator_peer::suspended().is_done());
        let lua = lua_peer::Factory::new();
        assert!(lua.suspended().is_resumable());
        drop((
            corosensei_peer::suspended(),
            genawaiter_peer::suspended(),
            future_peer::suspended(),
        ));
    }
}
