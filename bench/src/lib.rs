//! The workloads that the criterion benches (`benches/`) and the `report`
//! binary both measure, one module per peer, so that the two always time the
//! same code.
//!
//! Every peer offers the same shapes of work:
//! - a *counter*: a coroutine that loops forever, suspending with 1, 2, 3, …,
//!   and a `step` that resumes it once (one round trip);
//! - `create_finish`: make a coroutine with a trivial body and resume it
//!   until it returns;
//! - `suspended`: a coroutine that has run once and is parked inside its
//!   body, for memory measurements.

use std::hint::black_box;

/// A plain call through an opaque function pointer: the scale against which
/// a context switch is judged.
#[inline]
pub fn plain_call(x: u64) -> u64 {
    let add_one: fn(u64) -> u64 = black_box(|x| x.wrapping_add(1));
    add_one(black_box(x))
}

/// `coro`: this crate's stackful coroutines, with stacks from its per-thread
/// pool.
pub mod coro_peer {
    use coro::{Coroutine, Resumed};

    /// A coroutine that suspends with 1, 2, 3, … forever.
    pub type Counter = Coroutine<(), u64, ()>;

    /// A fresh counter, not yet started.
    pub fn counter() -> Counter {
        Coroutine::new(|yielder, ()| {
            let mut i = 0u64;
            loop {
                i = i.wrapping_add(1);
                yielder.suspend(i);
            }
        })
    }

    /// One round trip: resumes the counter and returns what it suspended with.
    ///
    /// Every arm moves its payload out, so no drop of the `Result` is left on
    /// the hot path: with `other => panic!(..)`, rustc can leave an
    /// out-of-line `drop_in_place::<Result<Resumed<_, _>, Error>>` call in
    /// the loop, which costs several nanoseconds per round trip.
    #[inline]
    pub fn step(counter: &mut Counter) -> u64 {
        match counter.resume(()) {
            Ok(Resumed::Yield(i)) => i,
            Ok(Resumed::Return(())) => unreachable!("the counter never returns"),
            Err(err) => panic!("the counter failed: {err}"),
        }
    }

    /// Creates a coroutine returning `x + 1` and runs it to completion.
    #[inline]
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

    /// A coroutine that suspends with 1, 2, 3, … forever.
    pub type Counter = Coroutine<(), u64, ()>;

    /// A fresh counter, not yet started.
    pub fn counter() -> Counter {
        Coroutine::new(|yielder, ()| {
            let mut i = 0u64;
            loop {
                i = i.wrapping_add(1);
                yielder.suspend(i);
            }
        })
    }

    /// One round trip: resumes the counter and returns what it suspended with.
    #[inline]
    pub fn step(counter: &mut Counter) -> u64 {
        match counter.resume(()) {
            CoroutineResult::Yield(i) => i,
            CoroutineResult::Return(()) => unreachable!("the counter never returns"),
        }
    }

    /// Creates a coroutine returning `x + 1` on a fresh default stack (one
    /// `mmap` and one `munmap`) and runs it to completion.
    #[inline]
    pub fn create_finish(x: u64) -> u64 {
        let mut co = Coroutine::<(), (), u64>::new(move |_, ()| x.wrapping_add(1));
        finish(co.resume(()))
    }

    /// As [`create_finish`], on `stack`, which is handed back for the next
    /// coroutine.
    #[inline]
    pub fn create_finish_on(stack: DefaultStack, x: u64) -> (u64, DefaultStack) {
        let mut co = Coroutine::<(), (), u64, _>::with_stack(stack, move |_, ()| x.wrapping_add(1));
        let r = finish(co.resume(()));
        (r, co.into_stack())
    }

    /// The return value of a coroutine that was expected to finish.
    #[inline]
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
