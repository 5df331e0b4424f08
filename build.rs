//! Decides whether the stackful backend is built: the `stackful` feature is
//! on, and the target has a context switch (x86_64 or aarch64) and a stack
//! implementation (Linux, Android, Apple's systems, the BSDs). Sets the cfg
//! `coro_stackful` if so; otherwise, with the feature on, writes the message
//! that naming a stackful item gives on this target. Sets `coro_asan` when
//! the crate is built with AddressSanitizer.

use std::env;
use std::fs;
use std::path::PathBuf;

/// The architectures with a context switch in `src/stackful/arch/`.
const ARCHES: &[&str] = &["x86_64", "aarch64"];

/// The systems with a file in `src/stackful/os/`.
const SYSTEMS: &[&str] = &[
    "linux",
    "android",
    "macos",
    "ios",
    "freebsd",
    "netbsd",
    "openbsd",
    "dragonfly",
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(coro_stackful)");
    println!("cargo::rustc-check-cfg=cfg(coro_asan)");
    let var = |name: &str| env::var(name).unwrap_or_default();
    // Built with AddressSanitizer: the switches announce themselves to it
    // (src/stackful/asan.rs).
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    if flags
        .split('\x1f')
        .any(|flag| flag.contains("sanitizer=address"))
    {
        println!("cargo::rustc-cfg=coro_asan");
    }
    println!("cargo::rerun-if-changed=build.rs");
    let arch = var("CARGO_CFG_TARGET_ARCH");
    let os = var("CARGO_CFG_TARGET_OS");
    let wanted = env::var_os("CARGO_FEATURE_STACKFUL").is_some();
    let supported = ARCHES.contains(&arch.as_str()) && SYSTEMS.contains(&os.as_str());
    if wanted && supported {
        println!("cargo::rustc-cfg=coro_stackful");
    }
    // Included by `src/unsupported.rs`, which is built only when the
    // stackful backend is wanted but cannot be built here: the trait whose
    // absence names the target in the error.
    let message = format!(
        "coro's stackful backend does not support the target `{}` ({arch}, {os}): \
         it runs on x86_64 and aarch64 under Linux, Android, macOS, iOS and the BSDs; \
         use coro::stackless here",
        var("TARGET"),
    );
    let source = format!(
        "/// Implemented on no type: the stackful items of this target resolve\n\
         /// through it, so that naming one is an error that says why.\n\
         #[diagnostic::on_unimplemented(message = {message:?}, label = \"not on this target\")]\n\
         pub trait StackfulBackend<T> {{\n    \
             /// What the item would be.\n    \
             type Item;\n\
         }}\n"
    );
    let out = PathBuf::from(var("OUT_DIR")).join("unsupported.rs");
    fs::write(out, source).expect("OUT_DIR is writable");
}
