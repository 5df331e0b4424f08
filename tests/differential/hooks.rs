//! What the differential test and its fuzz target share around the runs:
//! quiet panics inside coroutines, and a panic's message as the traces
//! record it.

use std::any::Any;
use std::sync::Once;

/// The panics raised inside coroutines are the programs' errors, caught and
/// compared; Rust's hook would print each one. Set once for the whole binary
/// and never restored (tests run on several threads; the hook is global): it
/// stays quiet inside coroutines, and prints the tests' own failures.
pub fn silence_panics() {
    static SILENCE: Once = Once::new();
    SILENCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if coro::running().is_none() {
                default(info);
            }
        }))
    });
}

/// A panic's message, as the traces record it.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic of another type".to_owned()
    }
}
