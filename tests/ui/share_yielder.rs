// A stackful body cannot lend its yielder to another thread.

fn main() {
    let _co = coro::Coroutine::new(|y, ()| {
        std::thread::scope(|s| {
            s.spawn(|| y.suspend(1));
        });
    });
}
