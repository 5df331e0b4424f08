//! A generator of `n` numbers consumed as a `futures_core::Stream`, by every
//! peer that makes one: coro's two backends (`into_stream`), async-stream's
//! `stream!` and genawaiter's `rc::Gen`. The consumer polls with a no-op
//! waker, as an executor whose task is always ready would; the generators
//! never wait, so this is the cost of the hand-off per item. Every item goes
//! through `black_box` on both sides, so that no generator is folded away.

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;

/// Sums every item of `stream`, polling it to its end.
#[inline(always)]
pub fn drain(stream: impl Stream<Item = u64>) -> u64 {
    let mut stream = pin!(stream);
    let mut cx = Context::from_waker(Waker::noop());
    let mut sum = 0u64;
    loop {
        match stream.as_mut().poll_next(&mut cx) {
            // Each item is consumed for real: without `black_box`, the
            // optimizer sums a fully inlined generator in closed form.
            Poll::Ready(Some(n)) => sum = sum.wrapping_add(black_box(n)),
            Poll::Ready(None) => return sum,
            Poll::Pending => unreachable!("these generators never wait"),
        }
    }
}

/// coro's stackful generator of `0..n`.
#[inline(always)]
pub fn coro_stackful_generator(n: u64) -> coro::Coroutine<(), u64, ()> {
    coro::Coroutine::new(move |y, ()| {
        for i in 0..n {
            y.suspend(black_box(i));
        }
    })
}

/// coro's stackless generator of `0..n`.
#[inline(always)]
pub fn coro_stackless_generator(n: u64) -> coro::stackless::Coroutine<(), u64, ()> {
    coro::stackless::Coroutine::new(move |y: coro::stackless::Yielder<(), u64>, ()| async move {
        for i in 0..n {
            y.suspend(black_box(i)).await;
        }
    })
}

/// coro's typed stackless generator of `0..n` (`Coroutine::typed`: the
/// body's type kept, no virtual call per poll).
#[inline(always)]
pub fn coro_typed_generator(
    n: u64,
) -> coro::stackless::Coroutine<(), u64, (), impl coro::stackless::Body<(), u64, ()>> {
    coro::stackless::Coroutine::typed(move |y: coro::stackless::Yielder<(), u64>, ()| async move {
        for i in 0..n {
            y.suspend(black_box(i)).await;
        }
    })
}

/// coro's stackful generator of `0..n`, as a stream.
#[inline(always)]
pub fn coro_stackful(n: u64) -> impl Stream<Item = u64> {
    coro_stackful_generator(n).into_stream()
}

/// coro's stackless generator of `0..n`, as a stream.
#[inline(always)]
pub fn coro_stackless(n: u64) -> impl Stream<Item = u64> {
    coro_stackless_generator(n).into_stream()
}

/// coro's typed stackless generator of `0..n`, as a stream.
#[inline(always)]
pub fn coro_typed(n: u64) -> impl Stream<Item = u64> {
    coro_typed_generator(n).into_stream()
}

/// async-stream's `stream!` of `0..n`.
#[inline(always)]
pub fn async_stream(n: u64) -> impl Stream<Item = u64> {
    async_stream::stream! {
        for i in 0..n {
            yield black_box(i);
        }
    }
}

/// genawaiter's `rc::Gen` of `0..n`, as a stream.
#[inline(always)]
pub fn genawaiter(n: u64) -> impl Stream<Item = u64> {
    genawaiter::rc::Gen::new(move |co| async move {
        for i in 0..n {
            co.yield_(black_box(i)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_peer_yields_the_same_items() {
        let expected: u64 = (0..1000).sum();
        assert_eq!(drain(coro_stackful(1000)), expected);
        assert_eq!(drain(coro_stackless(1000)), expected);
        assert_eq!(drain(coro_typed(1000)), expected);
        assert_eq!(drain(async_stream(1000)), expected);
        assert_eq!(drain(genawaiter(1000)), expected);
    }
}
