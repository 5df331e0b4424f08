// A coroutine stays on the thread that made it.

fn main() {
    let co = coro::Coroutine::new(|y, ()| y.suspend(1));
    std::thread::spawn(move || drop(co));
}
