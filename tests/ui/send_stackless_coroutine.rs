// A stackless coroutine stays on the thread that made it.

use coro::stackless::{Coroutine, Yielder};

fn main() {
    let co = Coroutine::new(|y: Yielder<(), u32>, ()| async move { y.suspend(1).await });
    std::thread::spawn(move || drop(co));
}
