// Lua's "cannot resume non-suspended coroutine", ruled out at compile time:
// while a body holds a coroutine to resume it, nothing else can.

fn main() {
    let mut inner = coro::Coroutine::new(|y, ()| y.suspend(1));
    let held = &mut inner;
    let mut outer = coro::Coroutine::new(move |y, ()| {
        let one = held.resume(()).unwrap().yielded();
        y.suspend(one);
    });
    outer.resume(()).unwrap();
    inner.resume(()).unwrap();
    outer.resume(()).unwrap();
}
