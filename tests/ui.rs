//! The compile errors a user reads, pinned: each `tests/ui/*.rs` must fail
//! to compile with exactly its `.stderr` (trybuild). A change in what rustc
//! prints for them — coro's types, bounds or names, or a new rustc —
//! shows up here; regenerate with `TRYBUILD=overwrite cargo test --test ui`
//! and read the new `.stderr` before committing it.
//!
//! The cases: a borrowing coroutine outliving its text (both backends); the
//! free suspend with a wrong explicit yield type; `Coroutine::new` of a
//! body that never suspends, without its types (both backends); iterating
//! a coroutine that takes inputs; a coroutine, a stackless one, a handle
//! sent to another thread, and a yielder shared with one; resuming a
//! coroutine that a running body holds.

// The `.stderr` files are what the host's own rustc prints for the host, and
// name the stackful backend's items: skipped where either differs. Under
// emulation or cross-compiled (`scripts/cross` and `scripts/asan --aarch64`
// set CORO_TEST_RUNNER, and use Debian's rustc), under AddressSanitizer
// (a nightly rustc) and under Miri; and where coro has no stackful backend.
#![cfg(all(coro_stackful, target_arch = "x86_64", not(coro_asan), not(miri)))]

#[test]
fn ui() {
    if std::env::var_os("CORO_TEST_RUNNER").is_some_and(|runner| !runner.is_empty()) {
        eprintln!("ui: skipped under an emulator, whose rustc prints other errors");
        return;
    }
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
