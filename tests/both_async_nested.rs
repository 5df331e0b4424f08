//! Nested coroutines under an executor. A `wait` suspends the running
//! coroutine only, as Lua's `yield` does: in a coroutine resumed by a plain
//! `resume` it fails with `Error::NotPolled` even when the resumer itself is
//! polled, since a plain resume cannot return `Pending`; a coroutine
//! resumed through `coro::wait(inner.resume_async(..))` (or by awaiting its
//! future) is polled by the outer one's poll, and the whole chain suspends
//! and wakes together. Across backends too, and up to the nesting limit.

mod common;

use std::future::IntoFuture;
use std::time::Duration;

use common::run_local;
use coro::{Error, Resumed};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[cfg(coro_stackful)]
mod stackful {
    use super::*;
    use coro::{Builder, Coroutine, Status};

    #[test]
    fn a_wait_in_a_coroutine_resumed_by_a_plain_resume_is_not_polled() {
        let outer = Coroutine::<(), (), _>::new(|_, ()| {
            let mut inner = Coroutine::new(|y, ()| {
                let err = coro::wait(tokio::time::sleep(ms(1))).unwrap_err();
                // It can still suspend to its resumer, as usual.
                y.suspend(err.to_string());
                "done"
            });
            let said = inner.resume(()).unwrap().yielded().unwrap();
            // The outer one, polled, may wait itself.
            coro::wait(tokio::time::sleep(ms(1))).unwrap();
            (said, inner.resume(()).unwrap())
        });
        let (said, last) = run_local(outer.into_future()).unwrap();
        assert_eq!(
            said,
            "attempt to wait in a coroutine that no executor polls"
        );
        assert_eq!(last, Resumed::Return("done"));
    }

    #[test]
    fn a_coroutine_resumed_through_wait_waits_with_its_resumer() {
        let outer = Coroutine::<(), (), _>::new(|_, ()| {
            let me = coro::running().unwrap();
            let mut inner = Coroutine::new(move |y, mut n: u32| {
                loop {
                    coro::wait(tokio::time::sleep(ms(1))).unwrap();
                    // The outer one is active, not running, while we run.
                    assert_eq!(me.status(), Status::Normal);
                    n = y.suspend(n * 10);
                }
            });
            let mut got = Vec::new();
            for n in 1..=3 {
                got.push(coro::wait(inner.resume_async(n)).unwrap().unwrap());
                assert_eq!(inner.status(), Status::Suspended);
            }
            got
        });
        let got = run_local(outer.into_future()).unwrap();
        assert_eq!(got, [1, 2, 3].map(|n| Resumed::Yield(n * 10)));
    }

    #[test]
    fn a_stackless_body_awaits_a_stackful_coroutine_that_waits() {
        let outer =
            coro::stackless::Coroutine::new(|_: coro::stackless::Yielder<(), ()>, ()| async {
                let mut inner = Coroutine::new(|y, n: u32| {
                    coro::wait(tokio::time::sleep(ms(1))).unwrap();
                    let m = y.suspend(n + 1);
                    coro::wait(tokio::time::sleep(ms(1))).unwrap();
                    m * 2
                });
                let first = inner.resume_async(1).await.unwrap();
                let second = inner.resume_async(5).await.unwrap();
                (first, second)
            });
        let (first, second) = run_local(outer.into_future()).unwrap();
        assert_eq!((first, second), (Resumed::Yield(2), Resumed::Return(10)));
    }

    #[test]
    fn a_stackful_coroutine_waits_on_a_stackless_one() {
        let outer = Coroutine::<(), (), _>::new(|_, ()| {
            let inner =
                coro::stackless::Coroutine::new(|_: coro::stackless::Yielder<(), ()>, ()| async {
                    tokio::time::sleep(ms(1)).await;
                    "inner done"
                });
            coro::wait(inner.into_future()).unwrap().unwrap()
        });
        assert_eq!(run_local(outer.into_future()).unwrap(), "inner done");
    }

    /// Makes a chain of `levels` coroutines, each awaiting the next; the
    /// innermost waits for a timer and returns how deep it is.
    fn nest(levels: usize) -> Result<usize, Error> {
        if levels == 0 {
            coro::wait(tokio::time::sleep(ms(1))).unwrap();
            return Ok(coro::running().map_or(0, |_| 1));
        }
        let co: Coroutine<(), (), Result<usize, Error>> = Builder::new()
            .stack_size(64 * 1024)
            .build(move |_, ()| nest(levels - 1))
            .unwrap();
        match coro::wait(co.into_future()) {
            Ok(Ok(Ok(depth))) => Ok(depth + 1),
            Ok(Ok(Err(err))) | Ok(Err(err)) | Err(err) => Err(err),
        }
    }

    #[test]
    fn a_chain_of_awaited_coroutines_reaches_the_nesting_limit_and_no_further() {
        // The outermost is the thread's task: `MAX_NESTING` coroutines in all.
        let outer = Coroutine::<(), (), _>::new(|_, ()| nest(coro::MAX_NESTING - 1));
        let depth = run_local(outer.into_future()).unwrap().unwrap();
        assert_eq!(depth, coro::MAX_NESTING);
        let outer = Coroutine::<(), (), _>::new(|_, ()| nest(coro::MAX_NESTING));
        let err = run_local(outer.into_future()).unwrap().unwrap_err();
        assert!(matches!(err, Error::TooDeep), "{err}");
    }
}

#[test]
fn a_stackless_body_awaits_another_stackless_coroutine() {
    let outer = coro::stackless::Coroutine::new(|_: coro::stackless::Yielder<(), ()>, ()| async {
        let mut inner = coro::stackless::Coroutine::new(
            |y: coro::stackless::Yielder<u32, u32>, n: u32| async move {
                tokio::time::sleep(ms(1)).await;
                let m = y.suspend(n + 1).await;
                tokio::task::yield_now().await;
                m * 2
            },
        );
        let first = inner.resume_async(1).await.unwrap();
        // A plain resume of a coroutine that awaits another future fails
        // as it always does: its resumer's poll is no executor's.
        let mut plain =
            coro::stackless::Coroutine::new(|_: coro::stackless::Yielder<(), ()>, ()| async {
                tokio::task::yield_now().await;
            });
        let refused = plain.resume(()).unwrap_err();
        (first, inner.resume_async(5).await.unwrap(), refused)
    });
    let (first, second, refused) = run_local(outer.into_future()).unwrap();
    assert_eq!((first, second), (Resumed::Yield(2), Resumed::Return(10)));
    assert!(matches!(refused, Error::NeedsExecutor));
}
