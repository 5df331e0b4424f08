// Only a generator that takes `()` is an iterator; one that takes inputs is
// resumed, or wrapped (`wrap()`, Lua's `coroutine.wrap` with arguments).

fn main() {
    let doubler = coro::Coroutine::new(|y, mut n: u32| {
        while n != 0 {
            n = y.suspend(n * 2);
        }
    });
    for doubled in doubler {
        println!("{doubled}");
    }
}
