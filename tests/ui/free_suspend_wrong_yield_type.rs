// The free suspend infers its yield type from its argument; an explicit one
// that the argument does not match is a compile error. (Whether the types
// are the running coroutine's is checked when it runs: `TypeMismatch`.)

fn produce(n: u32) {
    let () = coro::suspend(n).unwrap(); // `suspend::<u32, ()>`, inferred
    let () = coro::suspend::<u32, ()>("ten").unwrap();
}

fn main() {
    let _ = coro::Coroutine::new(|_: &coro::Yielder<(), u32>, ()| produce(1));
}
