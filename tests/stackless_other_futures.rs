//! Stackless backend: awaiting anything but the coroutine's own suspension.
//!
//! Only `resume` ever polls a stackless frame, and with a waker that does
//! nothing. A body that awaits another future (a timer, a channel, a
//! future that is simply pending) would never be woken, so the resume that
//! sees it pending without a suspension fails with `Error::NeedsExecutor`
//! instead of hanging; awaiting two suspensions at once is
//! `Error::SuspendClash`. Either way the frame is dropped on the spot and
//! the coroutine is dead. A suspension awaited outside its own coroutine's
//! resume is a panic with a clear message.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use coro::stackless::{Coroutine, Yielder};
use coro::{Error, Resumed, Status};

const NEEDS_EXECUTOR: &str = "attempt to await another future in a stackless coroutine that no executor polls: await its resume_async instead";
const CLASH: &str = "attempt to await two suspensions at once in a stackless coroutine";
const OUTSIDE: &str = "a stackless coroutine's suspension was awaited outside its own resume";

/// Counts the drops of every value it makes, by name.
#[derive(Clone, Default)]
struct Drops(Rc<RefCell<Vec<&'static str>>>);

impl Drops {
    fn make(&self, name: &'static str) -> Dropped {
        Dropped {
            name,
            drops: self.clone(),
        }
    }

    /// How often `name` was dropped.
    fn count(&self, name: &str) -> usize {
        self.0.borrow().iter().filter(|n| **n == name).count()
    }

    fn total(&self) -> usize {
        self.0.borrow().len()
    }
}

/// Records its drop in [`Drops`].
#[derive(Debug)]
struct Dropped {
    name: &'static str,
    drops: Drops,
}

impl Drop for Dropped {
    fn drop(&mut self) {
        self.drops.0.borrow_mut().push(self.name);
    }
}

impl std::fmt::Debug for Drops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.borrow().iter()).finish()
    }
}

#[track_caller]
fn assert_foreign<Y: std::fmt::Debug, R: std::fmt::Debug>(result: Result<Resumed<Y, R>, Error>) {
    match result {
        Err(err @ Error::NeedsExecutor) => assert_eq!(err.to_string(), NEEDS_EXECUTOR),
        other => panic!("expected NeedsExecutor, got {other:?}"),
    }
}

/// After an error that killed the coroutine: it is dead and stays dead.
#[track_caller]
fn assert_dead<I, Y: std::fmt::Debug, R: std::fmt::Debug>(co: &mut Coroutine<I, Y, R>, input: I) {
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(co.handle().status(), Status::Dead);
    assert!(matches!(co.resume(input), Err(Error::Dead)));
    assert!(co.close().is_ok());
    assert_eq!(co.status(), Status::Dead);
}

async fn callee_that_waits_forever(drops: &Drops) {
    let _in_callee = drops.make("callee local");
    std::future::pending::<()>().await;
}

// `std::future::pending()` after a normal suspension, one callee deep:
// NeedsExecutor, not a hang. Every live local — the body's from before and
// after the suspension, the callee's — is dropped exactly once, by the time
// the resume returns.
#[test]
fn pending_forever_is_foreign_await() {
    let drops = Drops::default();
    let d = drops.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), u32>, ()| async move {
        let _early = d.make("early local");
        y.suspend(1).await;
        let _late = d.make("late local");
        callee_that_waits_forever(&d).await;
        "never"
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    assert_eq!(drops.total(), 0);
    assert_foreign(co.resume(()));
    for name in ["early local", "late local", "callee local"] {
        assert_eq!(drops.count(name), 1, "{name}: {drops:?}");
    }
    // The body itself (its captured `Drops` handle) is gone as well.
    assert_eq!(Rc::strong_count(&drops.0), 1);
    assert_dead(&mut co, ());
    drop(co);
    assert_eq!(drops.total(), 3, "nothing dropped twice");
}

/// Pending on its first poll, without arranging any wake-up; ready after.
struct PendingOnce {
    polls: Rc<Cell<u32>>,
    _dropped: Dropped,
}

impl Future for PendingOnce {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        self.polls.set(self.polls.get() + 1);
        if self.polls.get() == 1 {
            Poll::Pending
        } else {
            Poll::Ready(7)
        }
    }
}

// A future that is pending once without waking anyone: polled exactly once,
// never again (the resume does not spin on it), then dropped.
#[test]
fn pending_once_without_waking_is_polled_once() {
    let drops = Drops::default();
    let polls = Rc::new(Cell::new(0));
    let (d, p) = (drops.clone(), polls.clone());
    let mut co = Coroutine::new(move |_: Yielder<(), u32>, ()| async move {
        PendingOnce {
            polls: p,
            _dropped: d.make("future"),
        }
        .await
    });
    assert_foreign(co.resume(()));
    assert_eq!(polls.get(), 1);
    assert_eq!(drops.count("future"), 1);
    assert_eq!(Rc::strong_count(&polls), 1, "the future was dropped");
    assert_dead(&mut co, ());
}

/// Wakes its waker and is pending, once: a `yield_now` for executors.
struct YieldNow {
    polls: Rc<Cell<u32>>,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.set(self.polls.get() + 1);
        if self.polls.get() == 1 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

// Even a future that wakes itself at once is foreign: `resume` is not an
// executor and polls once per resume; the coroutine is dead, not suspended.
#[test]
fn self_waking_future_is_foreign_too() {
    let polls = Rc::new(Cell::new(0));
    let p = polls.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), u32>, ()| async move {
        y.suspend(1).await;
        YieldNow { polls: p }.await;
        y.suspend(2).await;
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    assert_foreign(co.resume(()));
    assert_eq!(polls.get(), 1);
    assert_dead(&mut co, ());
}

/// The receiving end of a one-value channel: pending until a value is sent.
struct Receive<T> {
    slot: Rc<RefCell<Option<T>>>,
}

impl<T> Future for Receive<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<T> {
        match self.slot.borrow_mut().take() {
            Some(value) => Poll::Ready(value),
            None => Poll::Pending,
        }
    }
}

// Waiting on a channel whose sender is the resumer: the resume fails with
// NeedsExecutor; a value sent afterwards is never received (the coroutine is
// dead and its receiver dropped) and stays in the channel.
#[test]
fn channel_receive_is_foreign_await() {
    let channel: Rc<RefCell<Option<String>>> = Rc::default();
    let receiver = channel.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), String>, ()| async move {
        y.suspend("waiting".to_string()).await;
        let message = Receive { slot: receiver }.await;
        y.suspend(message).await;
    });
    assert_eq!(
        co.resume(()).unwrap(),
        Resumed::Yield("waiting".to_string())
    );
    assert_foreign(co.resume(()));
    assert_eq!(Rc::strong_count(&channel), 1, "the receiver was dropped");
    *channel.borrow_mut() = Some("too late".to_string());
    assert_dead(&mut co, ());
    assert_eq!(channel.borrow().as_deref(), Some("too late"));
}

/// Ready once `deadline` has passed; asks a helper thread to wake the task
/// then, as a real timer would.
struct Sleep {
    deadline: Instant,
    armed: bool,
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        if !self.armed {
            self.armed = true;
            let waker: Waker = cx.waker().clone();
            let deadline = self.deadline;
            std::thread::spawn(move || {
                std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                waker.wake();
            });
        }
        Poll::Pending
    }
}

// A timer that would fire in ten seconds: the resume reports NeedsExecutor
// long before that, instead of waiting for a wake-up that cannot come.
#[test]
#[cfg_attr(
    miri,
    ignore = "leaves its timer thread running, which Miri rejects at exit"
)]
fn timer_is_foreign_await_without_waiting() {
    const DELAY: Duration = Duration::from_secs(10);
    let start = Instant::now();
    let mut co = Coroutine::new(move |_: Yielder<(), ()>, ()| async move {
        Sleep {
            deadline: start + DELAY,
            armed: false,
        }
        .await;
        "slept"
    });
    assert_foreign(co.resume(()));
    assert!(start.elapsed() < DELAY, "the resume waited for the timer");
    assert_dead(&mut co, ());
}

// Other futures that are ready when first polled are harmless: the body
// never stops in them, so nothing is lost.
#[test]
fn ready_foreign_futures_are_fine() {
    let polls = Rc::new(Cell::new(0));
    let p = polls.clone();
    let mut co = Coroutine::new(move |y: Yielder<u32, u32>, a: u32| async move {
        let b = std::future::ready(a * 2).await;
        let c = async { b + 1 }.await;
        let d = y.suspend(c).await;
        // A PendingOnce that was already polled once is ready at once.
        p.set(1);
        let e = PendingOnce {
            polls: p,
            _dropped: Drops::default().make("warm"),
        }
        .await;
        d + e
    });
    assert_eq!(co.resume(5).unwrap(), Resumed::Yield(11));
    assert_eq!(co.resume(100).unwrap(), Resumed::Return(107));
    assert_eq!(polls.get(), 2);
}

// A generator (`into_iter`) whose body awaits another future panics in the
// caller with the NeedsExecutor message, as Lua's `wrap` raises errors.
#[test]
fn generator_over_a_foreign_await_panics_with_the_message() {
    let co = Coroutine::new(|y: Yielder<(), u32>, ()| async move {
        y.suspend(1).await;
        std::future::pending::<()>().await;
    });
    let mut iter = co.into_iter();
    assert_eq!(iter.next(), Some(1));
    let payload = panic::catch_unwind(AssertUnwindSafe(|| iter.next())).unwrap_err();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    assert_eq!(message, Some(NEEDS_EXECUTOR));
    assert_eq!(iter.coroutine().status(), Status::Dead);
    assert_eq!(iter.next(), None, "a dead generator is finished");
}

/// Polls two futures side by side until both are ready (a minimal `join`).
struct Join<A: Future, B: Future> {
    a: Pin<Box<A>>,
    b: Pin<Box<B>>,
    a_out: Option<A::Output>,
    b_out: Option<B::Output>,
}

fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B> {
    Join {
        a: Box::pin(a),
        b: Box::pin(b),
        a_out: None,
        b_out: None,
    }
}

impl<A: Future, B: Future> Future for Join<A, B>
where
    A::Output: Unpin,
    B::Output: Unpin,
{
    type Output = (A::Output, B::Output);
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.a_out.is_none()
            && let Poll::Ready(v) = this.a.as_mut().poll(cx)
        {
            this.a_out = Some(v);
        }
        if this.b_out.is_none()
            && let Poll::Ready(v) = this.b.as_mut().poll(cx)
        {
            this.b_out = Some(v);
        }
        if this.a_out.is_some() && this.b_out.is_some() {
            Poll::Ready((this.a_out.take().unwrap(), this.b_out.take().unwrap()))
        } else {
            Poll::Pending
        }
    }
}

// Awaiting two suspensions at once: SuspendClash, the coroutine dead, both
// values handed to the suspensions dropped exactly once (neither reaches the
// resumer), and the body's locals dropped.
#[test]
fn two_suspensions_at_once_clash() {
    let drops = Drops::default();
    let d = drops.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), Dropped>, ()| async move {
        let _local = d.make("local");
        join(y.suspend(d.make("first")), y.suspend(d.make("second"))).await;
    });
    match co.resume(()) {
        Err(err @ Error::SuspendClash) => assert_eq!(err.to_string(), CLASH),
        other => panic!("expected SuspendClash, got {other:?}"),
    }
    for name in ["first", "second", "local"] {
        assert_eq!(drops.count(name), 1, "{name}: {drops:?}");
    }
    assert_dead(&mut co, ());
    assert_eq!(drops.total(), 3);
}

// The same clash after the coroutine has already suspended normally.
#[test]
fn clash_after_a_normal_suspension() {
    let drops = Drops::default();
    let d = drops.clone();
    let mut co = Coroutine::new(move |y: Yielder<u8, Dropped>, _: u8| async move {
        let n = y.suspend(d.make("normal")).await;
        let (a, b) = join(y.suspend(d.make("left")), y.suspend(d.make("right"))).await;
        n + a + b
    });
    let Ok(Resumed::Yield(normal)) = co.resume(0) else {
        panic!("the body suspends first");
    };
    assert_eq!(normal.name, "normal");
    drop(normal);
    assert!(matches!(co.resume(1), Err(Error::SuspendClash)));
    assert_eq!(drops.count("left"), 1);
    assert_eq!(drops.count("right"), 1);
    assert_dead(&mut co, 0);
}

// `join` itself is fine: a suspension joined with a ready future suspends
// once, and both outputs arrive.
#[test]
fn suspension_joined_with_a_ready_future() {
    let mut co = Coroutine::new(|y: Yielder<u32, u32>, _: u32| async move {
        join(y.suspend(1), std::future::ready("ready")).await
    });
    assert_eq!(co.resume(0).unwrap(), Resumed::Yield(1));
    assert_eq!(co.resume(10).unwrap(), Resumed::Return((10, "ready")));
}

// A suspension joined with another future: the first resume yields the
// suspension's value; the next one finds only the other future pending.
#[test]
fn suspension_joined_with_a_foreign_future() {
    let mut co = Coroutine::new(|y: Yielder<u32, u32>, _: u32| async move {
        join(y.suspend(1), std::future::pending::<()>()).await;
    });
    assert_eq!(co.resume(0).unwrap(), Resumed::Yield(1));
    assert_foreign(co.resume(10));
    assert_dead(&mut co, 0);
}

/// Polls its future again after it completed.
struct PollAgain<F>(Pin<Box<F>>);

impl<F: Future> Future for PollAgain<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.0.as_mut().poll(cx) {
            Poll::Ready(_) => self.0.as_mut().poll(cx),
            Poll::Pending => Poll::Pending,
        }
    }
}

// Polling a suspension again after it completed is a panic in the body,
// reported to the resumer with a clear message.
#[test]
fn suspension_polled_after_completion_panics() {
    let mut co = Coroutine::new(|y: Yielder<u32, u32>, _: u32| async move {
        PollAgain(Box::pin(y.suspend(1))).await
    });
    assert_eq!(co.resume(0).unwrap(), Resumed::Yield(1));
    match co.resume(2) {
        Err(Error::Panic(p)) => {
            assert_eq!(p.message(), "a suspension was polled after it completed")
        }
        other => panic!("expected a panic, got {other:?}"),
    }
    assert_dead(&mut co, 0);
}

type Smuggled = Rc<RefCell<Option<Rc<Yielder<u32, Dropped>>>>>;

/// A coroutine that hands its Yielder out through `pocket`, then suspends
/// with "a", "b" and returns the sum of its inputs.
fn lender(pocket: Smuggled, drops: Drops) -> Coroutine<u32, Dropped, u32> {
    Coroutine::new(move |y: Yielder<u32, Dropped>, first: u32| async move {
        let y = Rc::new(y);
        *pocket.borrow_mut() = Some(y.clone());
        let a = y.suspend(drops.make("a")).await;
        let b = y.suspend(drops.make("b")).await;
        first + a + b
    })
}

// Coroutine B awaits a suspension of coroutine A's Yielder (smuggled out):
// B's resume gets a panic with a clear message and B is dead; the value given
// to the wrong suspension is dropped once; A is untouched and runs on
// normally with the right values.
#[test]
fn another_coroutines_yielder_awaited_while_it_is_suspended() {
    let drops = Drops::default();
    let pocket: Smuggled = Rc::default();
    let mut a = lender(pocket.clone(), drops.clone());
    let Ok(Resumed::Yield(first)) = a.resume(1) else {
        panic!("A suspends");
    };
    assert_eq!(first.name, "a");

    let stolen = pocket.borrow_mut().take().unwrap();
    let d = drops.clone();
    let mut b = Coroutine::new(move |_: Yielder<(), ()>, ()| async move {
        stolen.suspend(d.make("stolen")).await;
        "B went on"
    });
    match b.resume(()) {
        Err(Error::Panic(p)) => assert_eq!(p.message(), OUTSIDE),
        other => panic!("expected a panic, got {other:?}"),
    }
    assert_eq!(b.status(), Status::Dead);
    assert_eq!(drops.count("stolen"), 1);

    assert_eq!(a.status(), Status::Suspended);
    let Ok(Resumed::Yield(second)) = a.resume(10) else {
        panic!("A suspends again");
    };
    assert_eq!(second.name, "b");
    assert_eq!(a.resume(100).unwrap().returned(), Some(111));
    assert_eq!(a.status(), Status::Dead);
    drop((first, second));
    assert_eq!(drops.total(), 3);
}

// The same while A is Normal: A resumes B, and B awaits A's suspension. B's
// panic comes back to A's body as an error; A then carries on.
#[test]
fn resumer_yielder_awaited_by_the_coroutine_it_resumed() {
    let drops = Drops::default();
    let d = drops.clone();
    let mut a = Coroutine::new(move |y: Yielder<u32, Dropped>, _: u32| async move {
        let y = Rc::new(y);
        let stolen = y.clone();
        let d2 = d.clone();
        let mut b = Coroutine::new(move |_: Yielder<(), ()>, ()| async move {
            stolen.suspend(d2.make("from B")).await;
        });
        let result = b.resume(());
        let message = match result {
            Err(Error::Panic(p)) => p.message().to_string(),
            other => format!("unexpected {other:?}"),
        };
        let b_status = b.status();
        let input = y.suspend(d.make("from A")).await;
        (message, b_status, input)
    });
    let Ok(Resumed::Yield(v)) = a.resume(0) else {
        panic!("A suspends");
    };
    assert_eq!(v.name, "from A");
    assert_eq!(drops.count("from B"), 1);
    let (message, b_status, input) = a.resume(5).unwrap().returned().unwrap();
    assert_eq!(message, OUTSIDE);
    assert_eq!(b_status, Status::Dead);
    assert_eq!(input, 5);
}

// A Suspend future polled by hand on the thread's own stack, outside any
// coroutine, panics with a clear message; the value it held is dropped once.
#[test]
fn suspension_polled_by_hand_outside_any_coroutine_panics() {
    let drops = Drops::default();
    let pocket: Smuggled = Rc::default();
    let mut a = lender(pocket.clone(), drops.clone());
    let Ok(Resumed::Yield(first)) = a.resume(0) else {
        panic!("A suspends");
    };
    let stolen = pocket.borrow_mut().take().unwrap();
    let mut suspension = Box::pin(stolen.suspend(drops.make("by hand")));
    let mut cx = Context::from_waker(Waker::noop());
    let payload = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = suspension.as_mut().poll(&mut cx);
    }))
    .unwrap_err();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    assert_eq!(message, Some(OUTSIDE));
    drop(suspension);
    assert_eq!(drops.count("by hand"), 1);

    // A is unaffected.
    assert_eq!(a.status(), Status::Suspended);
    drop(first);
    let Ok(Resumed::Yield(second)) = a.resume(1) else {
        panic!("A suspends again");
    };
    drop(second);
    assert_eq!(a.resume(2).unwrap().returned(), Some(3));

    // And after A is dead, the smuggled Yielder is as useless as before.
    let mut late = Box::pin(stolen.suspend(drops.make("late")));
    let late_poll = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = late.as_mut().poll(&mut cx);
    }));
    assert!(late_poll.is_err());
    drop(late);
    assert_eq!(drops.count("late"), 1);
}

/// Polls its future once, then completes whatever happened (a `select`
/// whose other branch is ready at once): the suspension is abandoned.
struct Abandon<F>(Pin<Box<F>>);

impl<F: Future> Future for Abandon<F> {
    type Output = &'static str;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        let _ = self.0.as_mut().poll(cx);
        Poll::Ready("other branch won")
    }
}

// A suspension polled once and abandoned in the same poll (a `select` whose
// other branch won): the body carries on to its return; the abandoned value
// never reaches the resumer and is dropped exactly once.
#[test]
fn abandoned_suspension_value_is_dropped_once() {
    let drops = Drops::default();
    let d = drops.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), Dropped>, ()| async move {
        Abandon(Box::pin(y.suspend(d.make("abandoned")))).await
    });
    assert!(matches!(
        co.resume(()),
        Ok(Resumed::Return("other branch won"))
    ));
    assert_eq!(drops.count("abandoned"), 1);
    assert_dead(&mut co, ());
}

// An abandoned suspension followed by a real one in the same poll: the
// abandoned value must never reach the resumer. Whether the real one then
// suspends, or the two count as a clash, every value is dropped exactly once.
#[test]
fn abandoned_suspension_then_a_real_one() {
    let drops = Drops::default();
    let d = drops.clone();
    let mut co = Coroutine::new(move |y: Yielder<(), Dropped>, ()| async move {
        let winner = Abandon(Box::pin(y.suspend(d.make("abandoned")))).await;
        y.suspend(d.make("kept")).await;
        winner
    });
    match co.resume(()) {
        Ok(Resumed::Yield(kept)) => {
            assert_eq!(kept.name, "kept");
            assert_eq!(drops.count("abandoned"), 1);
            drop(kept);
            assert!(matches!(
                co.resume(()),
                Ok(Resumed::Return("other branch won"))
            ));
        }
        Err(Error::SuspendClash) => assert_eq!(co.status(), Status::Dead),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(drops.count("abandoned"), 1);
    assert_eq!(drops.count("kept"), 1);
    assert_eq!(drops.total(), 2);
}

/// A value whose destructor panics.
#[derive(Debug)]
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("bomb exploded");
    }
}

/// Resumes `co`, failing the test if a panic unwinds out of `resume` into
/// the resumer (a panic in a body never crosses into its resumer).
#[track_caller]
fn resume_without_unwinding<Y: std::fmt::Debug, R: std::fmt::Debug>(
    co: &mut Coroutine<(), Y, R>,
) -> Result<Resumed<Y, R>, Error> {
    match panic::catch_unwind(AssertUnwindSafe(|| co.resume(()))) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()));
            panic!("a panic unwound out of resume into the resumer: {message:?}")
        }
    }
}

// Values handed to suspensions that the resumer never receives are dropped
// by `resume` on the body's behalf. If such a value's destructor panics, the
// panic must come back as an error like any other panic of the body, not
// unwind into the resumer. Here: the first value of a clash.
#[test]
fn clash_whose_first_value_panics_when_dropped_does_not_unwind() {
    let mut co = Coroutine::new(|y: Yielder<(), Bomb>, ()| async move {
        join(y.suspend(Bomb), y.suspend(Bomb)).await;
    });
    let result = resume_without_unwinding(&mut co);
    assert!(
        matches!(result, Err(Error::SuspendClash | Error::Panic(_))),
        "{result:?}"
    );
    assert_eq!(co.status(), Status::Dead);
}

// The same when the body panics in the poll in which it suspended (a
// suspension joined with a failing future): the resumer gets the body's
// panic as an error.
#[test]
fn body_panic_after_suspending_in_the_same_poll_does_not_unwind() {
    let mut co = Coroutine::new(|y: Yielder<(), Bomb>, ()| async move {
        join(y.suspend(Bomb), async { panic!("body failed") }).await;
    });
    let result = resume_without_unwinding(&mut co);
    match result {
        Err(Error::Panic(p)) => assert!(
            ["body failed", "bomb exploded"].contains(&p.message()),
            "{p:?}"
        ),
        other => panic!("expected the body's panic, got {other:?}"),
    }
    assert_eq!(co.status(), Status::Dead);
}

// And when the body returns in the poll in which it abandoned a suspension.
#[test]
fn return_after_abandoning_a_suspension_does_not_unwind() {
    let mut co = Coroutine::new(|y: Yielder<(), Bomb>, ()| async move {
        Abandon(Box::pin(y.suspend(Bomb))).await
    });
    let result = resume_without_unwinding(&mut co);
    assert!(
        matches!(
            result,
            Ok(Resumed::Return("other branch won")) | Err(Error::Panic(_))
        ),
        "{result:?}"
    );
    assert_eq!(co.status(), Status::Dead);
}

// Within one poll, a body resumes other coroutines before it suspends —
// once a well-behaved one, once one that awaits the body's own (smuggled)
// Yielder — and then suspends itself, round after round. Each nested resume
// leaves the body's coroutine Normal for a while: the smuggled suspension
// is refused every time, and the body's own suspension, coming after the
// nested resumes, still parks and delivers every value and input.
#[test]
fn suspensions_after_nested_resumes_in_the_same_poll() {
    let mut a = Coroutine::new(|y: Yielder<u32, u32>, first: u32| async move {
        let y = Rc::new(y);
        let mut total = first;
        for round in 0..3 {
            let mut helper = Coroutine::new(|h: Yielder<(), u32>, ()| async move {
                h.suspend(1).await;
                h.suspend(2).await;
            });
            let stolen = y.clone();
            let mut thief = Coroutine::new(move |_: Yielder<(), ()>, ()| async move {
                stolen.suspend(99).await;
            });
            assert_eq!(helper.resume(()).unwrap(), Resumed::Yield(1));
            match thief.resume(()) {
                Err(Error::Panic(p)) => assert_eq!(p.message(), OUTSIDE),
                other => panic!("round {round}: expected a panic, got {other:?}"),
            }
            assert_eq!(helper.resume(()).unwrap(), Resumed::Yield(2));
            total += y.suspend(round * 10).await;
        }
        total
    });
    assert_eq!(a.resume(1).unwrap(), Resumed::Yield(0));
    assert_eq!(a.resume(2).unwrap(), Resumed::Yield(10));
    assert_eq!(a.resume(3).unwrap(), Resumed::Yield(20));
    assert_eq!(a.resume(4).unwrap(), Resumed::Return(1 + 2 + 3 + 4));
}
