//! The differential test with a fuzzer choosing: the input's bytes make
//! every choice of the coroutine program generator (see
//! `tests/differential/program.rs`), and the program runs in the real Lua
//! 5.4 and on both of coro's backends; their traces must be equal. Coverage
//! of coro's code steers the search, where the test's own runs are uniform.
#![no_main]

use std::rc::Rc;

use hooks::{panic_message, silence_panics};

use libfuzzer_sys::fuzz_target;

// The differential test's own modules, shared with `cargo test` (some of
// their items serve only the test's own checks).
#[path = "../../tests/differential/hooks.rs"]
mod hooks;
#[path = "../../tests/differential/lua.rs"]
#[allow(dead_code)]
mod lua;
#[path = "../../tests/differential/program.rs"]
#[allow(dead_code)]
mod program;
#[path = "../../tests/differential/stackful.rs"]
mod stackful;
#[path = "../../tests/differential/stackless.rs"]
mod stackless;
#[path = "../../tests/differential/world.rs"]
#[allow(dead_code)]
mod world;

fuzz_target!(|data: &[u8]| {
    silence_panics();
    // The first byte picks the size of the program, the rest its choices.
    let (limits, choices) = match data.split_first() {
        Some((size, rest)) if size % 8 == 7 => (program::DEEP, rest),
        Some((_, rest)) => (program::SMALL, rest),
        None => (program::SMALL, data),
    };
    // Steering clear of the known bugs, as the test's random runs do.
    let program = Rc::new(program::generate_with(
        program::Rng::from_bytes(choices),
        limits,
        false,
    ));
    let source = lua::render(&program);
    let lua = lua::run(&source);
    let stackful = stackful::run(program.clone());
    assert_eq!(stackful, lua, "stackful coro and Lua differ on:\n{source}");
    // The stackless backend's synchronous code is never yieldable.
    let expected: Vec<String> = lua
        .iter()
        .map(|event| event.replace("yieldable=true", "yieldable=false"))
        .collect();
    let stackless = stackless::run(program);
    assert_eq!(
        stackless, expected,
        "stackless coro and Lua differ on:\n{source}"
    );
});
