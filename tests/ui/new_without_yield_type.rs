// A body that never suspends says nothing of the yield type: it must be
// written, for example on the yielder (`|_: &Yielder<(), ()>, ()|`).

fn main() {
    let _co = coro::Coroutine::new(|_, ()| {});
}
