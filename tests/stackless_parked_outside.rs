//! A suspension kept outside its coroutine's frame: made from a `Yielder`
//! the body leaked to `'static`, stored in a thread-local, and polled by the
//! body through it. It parks like any other, and between two resumes the
//! code outside may look at it through its `Debug` impl.
//!
//! The hand-off then writes the next input through the address the
//! suspension parked, after that shared read: the parked state lives in an
//! `UnsafeCell`, so the write is allowed. Run under Miri (Tree Borrows and
//! Stacked Borrows) in CI; natively it checks the values and the text.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;

use coro::Resumed;
use coro::stackless::{Coroutine, Suspend, Yielder};

type Parked = Pin<Box<Suspend<'static, u32, u32>>>;

thread_local! {
    static SLOT: RefCell<Option<Parked>> = const { RefCell::new(None) };
    static LEAKED: Cell<*mut Yielder<u32, u32>> = const { Cell::new(std::ptr::null_mut()) };
}

#[test]
fn a_suspension_parked_outside_its_frame_can_be_looked_at_between_resumes() {
    let mut co = Coroutine::new(|y: Yielder<u32, u32>, first: u32| async move {
        // The yielder lives in a box that the test frees at the end; the
        // suspension borrows it for `'static` meanwhile.
        let raw = Box::into_raw(Box::new(y));
        LEAKED.with(|leaked| leaked.set(raw));
        // SAFETY: the box is freed only at the end of the test, after the
        // suspension that borrows it has been dropped.
        let yielder: &'static Yielder<u32, u32> = unsafe { &*raw };
        SLOT.with(|slot| *slot.borrow_mut() = Some(Box::pin(yielder.suspend(first + 1))));
        let input =
            poll_fn(|cx| SLOT.with(|slot| slot.borrow_mut().as_mut().unwrap().as_mut().poll(cx)))
                .await;
        input * 10
    });
    assert_eq!(co.resume(1).unwrap(), Resumed::Yield(2));
    let seen = SLOT.with(|slot| format!("{:?}", slot.borrow().as_ref().unwrap()));
    assert_eq!(seen, r#"Suspend { state: "waiting" }"#);
    assert_eq!(co.resume(7).unwrap(), Resumed::Return(70));
    let seen = SLOT.with(|slot| format!("{:?}", slot.borrow().as_ref().unwrap()));
    assert_eq!(seen, r#"Suspend { state: "done" }"#);
    SLOT.with(|slot| slot.borrow_mut().take());
    // SAFETY: made by `Box::into_raw` above; nothing borrows it any more.
    drop(unsafe { Box::from_raw(LEAKED.with(Cell::get)) });
}
