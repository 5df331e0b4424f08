//! Compiles only where coro has a stackful backend.

/// Runs a stackful coroutine: an error on targets without one.
pub fn stackful() -> i32 {
    let mut co = coro::Coroutine::<(), (), i32>::new(|_, ()| 1);
    co.resume(()).unwrap().returned().unwrap()
}

/// The stackless backend builds everywhere.
pub fn stackless() -> i32 {
    let mut co = coro::stackless::Coroutine::<(), (), i32>::new(|_, ()| async { 1 });
    co.resume(()).unwrap().returned().unwrap()
}
