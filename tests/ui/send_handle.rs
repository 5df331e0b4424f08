// A handle stays on the thread of its coroutine.

fn main() {
    let co = coro::Coroutine::new(|y, ()| y.suspend(1));
    let handle = co.handle();
    std::thread::spawn(move || handle.status());
}
