//! The stackless backend's hand-off under random interleavings: the input's
//! bytes are a script of operations on a few coroutines — resume with a
//! value, close, drop, make a new one — whose bodies suspend, suspend in a
//! nested async call, await a suspension twice in one poll, or return, as
//! the script says. Every operation's result must be what a plain model of
//! Lua's coroutines predicts, and every value must be dropped exactly once.
#![no_main]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use coro::stackless::{Coroutine, Yielder};
use coro::{Error, Resumed, Status};
use libfuzzer_sys::fuzz_target;

/// A value that counts its drops, so that none is lost or dropped twice.
struct Counted {
    value: u8,
    drops: Rc<Cell<u32>>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

/// What a body does at each step, read from its own bytes.
#[derive(Clone, Copy, Debug)]
enum Act {
    Suspend,
    SuspendNested,
    Return,
    Clash,
}

fn act(byte: u8) -> Act {
    match byte % 8 {
        0..=3 => Act::Suspend,
        4 | 5 => Act::SuspendNested,
        6 => Act::Return,
        _ => Act::Clash,
    }
}

type Co = Coroutine<Counted, Counted, Counted>;

/// A suspension in an async callee, one level down.
async fn nested(y: &Yielder<Counted, Counted>, value: Counted) -> Counted {
    y.suspend(value).await
}

/// A coroutine whose body follows `script`, then returns.
fn make(script: Vec<u8>, drops: &Rc<Cell<u32>>, made: &Rc<Cell<u32>>) -> Co {
    let drops = drops.clone();
    let made = made.clone();
    Coroutine::new(
        move |y: Yielder<Counted, Counted>, first: Counted| async move {
            let mut input = first;
            for &byte in &script {
                made.set(made.get() + 1);
                let out = Counted {
                    value: input.value.wrapping_add(1),
                    drops: drops.clone(),
                };
                match act(byte) {
                    Act::Suspend => input = y.suspend(out).await,
                    Act::SuspendNested => input = nested(&y, out).await,
                    Act::Return => return out,
                    Act::Clash => {
                        made.set(made.get() + 1);
                        let other = Counted {
                            value: 0,
                            drops: drops.clone(),
                        };
                        // Two suspensions at once: the resume reports a clash.
                        let a = y.suspend(out);
                        let b = y.suspend(other);
                        let (x, _) = join(a, b).await;
                        input = x;
                    }
                }
            }
            made.set(made.get() + 1);
            Counted {
                value: input.value,
                drops: drops.clone(),
            }
        },
    )
}

/// Polls two futures in one poll until both are ready.
async fn join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let mut out_a = None;
    let mut out_b = None;
    std::future::poll_fn(|cx| {
        if out_a.is_none() {
            if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let std::task::Poll::Ready(v) = b.as_mut().poll(cx) {
                out_b = Some(v);
            }
        }
        if out_a.is_some() && out_b.is_some() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    (out_a.unwrap(), out_b.unwrap())
}

fuzz_target!(|data: &[u8]| {
    let drops = Rc::new(Cell::new(0));
    let made = Rc::new(Cell::new(0));
    let slots: RefCell<Vec<Option<Co>>> = RefCell::new(Vec::new());
    let mut bytes = data.iter().copied();
    while let Some(op) = bytes.next() {
        let arg = bytes.next().unwrap_or(0);
        let mut slots = slots.borrow_mut();
        let pick = usize::from(arg) % slots.len().max(1);
        match op % 4 {
            // A new coroutine, whose script is the next few bytes.
            0 => {
                let len = usize::from(arg % 6);
                let script: Vec<u8> = bytes.by_ref().take(len).collect();
                slots.push(Some(make(script, &drops, &made)));
            }
            // Resume one with a value.
            1 => {
                let Some(slot) = slots.get_mut(pick) else {
                    continue;
                };
                let Some(co) = slot.as_mut() else { continue };
                let before = co.status();
                made.set(made.get() + 1);
                let input = Counted {
                    value: arg,
                    drops: drops.clone(),
                };
                match co.resume(input) {
                    Ok(Resumed::Yield(v)) => {
                        assert_eq!(before, Status::Suspended);
                        assert_eq!(co.status(), Status::Suspended);
                        drop(v);
                    }
                    Ok(Resumed::Return(v)) => {
                        assert_eq!(co.status(), Status::Dead);
                        drop(v);
                    }
                    Err(Error::Dead) => assert_eq!(before, Status::Dead),
                    Err(Error::SuspendClash) => assert_eq!(co.status(), Status::Dead),
                    Err(other) => panic!("unexpected {other:?} from a {before:?} coroutine"),
                }
            }
            // Close one.
            2 => {
                let Some(Some(co)) = slots.get_mut(pick) else {
                    continue;
                };
                co.close().expect("no body here panics");
                assert_eq!(co.status(), Status::Dead);
            }
            // Drop one.
            _ => {
                if let Some(slot) = slots.get_mut(pick) {
                    *slot = None;
                }
            }
        }
        assert!(coro::running().is_none());
    }
    drop(slots);
    // Every value made was dropped, once.
    assert_eq!(drops.get(), made.get());
});
