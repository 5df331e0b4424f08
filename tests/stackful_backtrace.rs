//! The trampoline's CFI lets unwinders walk from a coroutine's frames into
//! the frames of whoever resumed it, so a backtrace taken inside a body names
//! the resumer's functions too. (Stackful only: a stackless body runs on its
//! resumer's stack anyway.)

// Only where coro builds its stackful backend (x86_64 and aarch64 Unix).
#![cfg(coro_stackful)]

use std::backtrace::Backtrace;

use coro::Coroutine;

#[inline(never)]
fn a_resumer_with_a_distinctive_name(co: &mut Coroutine<(), String, ()>) -> String {
    co.resume(()).unwrap().yielded().unwrap()
}

#[inline(never)]
fn a_frame_inside_the_body(y: &coro::Yielder<(), String>) {
    y.suspend(Backtrace::force_capture().to_string());
}

#[test]
fn a_backtrace_inside_a_body_reaches_the_resumer() {
    let mut co = Coroutine::<(), String, ()>::new(|y, ()| a_frame_inside_the_body(y));
    let trace = a_resumer_with_a_distinctive_name(&mut co);
    let inside = trace
        .find("a_frame_inside_the_body")
        .unwrap_or_else(|| panic!("no body frame in:\n{trace}"));
    let outside = trace
        .find("a_resumer_with_a_distinctive_name")
        .unwrap_or_else(|| panic!("the walk stopped at the coroutine's root:\n{trace}"));
    assert!(inside < outside, "frames out of order:\n{trace}");
    assert!(
        trace.contains("a_backtrace_inside_a_body_reaches_the_resumer"),
        "the walk did not reach the test function:\n{trace}"
    );
}

// A panic's backtrace is taken the same way, and must not crash the unwinder
// when it walks through the switch.
#[test]
fn panicking_with_backtraces_on_is_caught() {
    let mut co = Coroutine::<(), (), ()>::new(|_, ()| {
        let trace = Backtrace::force_capture().to_string();
        assert!(trace.contains("panicking_with_backtraces_on_is_caught"));
        panic!("boom");
    });
    let err = co.resume(()).unwrap_err();
    assert_eq!(err.to_string(), "boom");
}

// The gdb test runs on x86_64 only: under qemu-user, where the suite runs for
// other architectures, the host's gdb cannot run the binary (qemu's gdb stub
// and a gdb-multiarch would be needed).
#[cfg(target_arch = "x86_64")]
#[inline(never)]
fn the_resumer_gdb_should_find() {
    let mut co = Coroutine::<(), String, ()>::new(|_, ()| {
        // SAFETY: a breakpoint trap; under gdb it stops here, elsewhere the
        // process dies of SIGTRAP, which is only ever run under gdb below.
        unsafe { std::arch::asm!("int3") };
    });
    let _ = co.resume(());
}

// gdb's `bt`, stopped inside a coroutine, walks through the trampoline into
// the function that resumed it. Skipped (with a note) where gdb is missing;
// `.ci/run` installs it.
#[cfg(target_arch = "x86_64")]
#[test]
fn gdb_walks_from_a_body_into_its_resumer() {
    const CHILD: &str = "CORO_TEST_GDB_CHILD";
    if std::env::var_os(CHILD).is_some() {
        the_resumer_gdb_should_find();
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        panic!("the test binary");
    };
    let output = std::process::Command::new("gdb")
        .args(["-batch", "-nx", "-ex", "run", "-ex", "bt", "--args"])
        .arg(&exe)
        .args([
            "--exact",
            "gdb_walks_from_a_body_into_its_resumer",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output();
    let Ok(output) = output else {
        eprintln!("gdb is not installed: skipped");
        return;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let trampoline = text
        .find("trampoline")
        .unwrap_or_else(|| panic!("no coroutine root in gdb's backtrace:\n{text}"));
    // The body is a closure named after its resumer: look for the resumer
    // itself, below the coroutine's root.
    assert!(
        text[trampoline..].contains("the_resumer_gdb_should_find ()"),
        "gdb stopped at the coroutine's root:\n{text}"
    );
}
