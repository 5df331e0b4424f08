// The same on the stackless backend: the yielder's type is the place to say
// it (`|_: Yielder<(), ()>, ()|`).

fn main() {
    let _co = coro::stackless::Coroutine::new(|_, ()| async {});
}
