//! The conformance suite: every behaviour that both backends must share,
//! written once and run against each of them.
//!
//! Each file of this directory but `model.rs` is one behaviour. It is
//! compiled twice, once in [`stackful`] and once in [`stackless`], each of
//! which defines the same few macros (macro_rules scoping is textual, so an
//! included file sees the macros of the module that includes it):
//!
//! | in a test file | stackful | stackless |
//! | --- | --- | --- |
//! | `coroutine!(I, Y, R; \|y, x\| body)` | `coro::Coroutine::<I, Y, R>::new(move \|y: &Yielder<I, Y>, x: I\| body)` | `coro::stackless::Coroutine::<I, Y, R>::new(move \|y, x: I\| async move { let y = &y; body })` |
//! | `coroutine!(stack: n; I, Y, R; ...)` | the same through `Builder::stack_size(n)` (many coroutines alive at once) | the same as without `stack:` |
//! | `suspend!(y, v)` | `y.suspend(v)` | `y.suspend(v).await` |
//! | `suspending! { fn f(y: &Yielder<I, Y>, ..) -> T { .. } }` | a plain `fn` | an `async fn` |
//! | `call!(f(..))` | `f(..)` | `f(..).await` |
//! | `recurse!(f(..))` | `f(..)` | `Box::pin(f(..)).await` (a recursive `async fn` needs a box) |
//!
//! and the same names: `Coroutine` and `Yielder` (the backend's types, for
//! type positions), and `BODY_IS_YIELDABLE`, whether `coro::is_yieldable()`
//! is true in a body's own code (the free `coro::suspend` can suspend a
//! stackful coroutine from there, never a stackless one).
//!
//! A body always sees its yielder as `&Yielder<I, Y>`, so helpers take it
//! the same way in both. Each included file is wrapped in a module of its
//! own that glob-imports its backend's module, and starts with plain `//`
//! comments (`include!` takes no inner doc comments). Test names say the
//! backend: `cargo test --test conformance stackless::close` runs one file
//! against one backend.
//!
//! Any difference between the backends in a behaviour the docs say they
//! share is a failure of one of the two copies of a test.

// Drop-tracking values and child-process helpers, shared with the other
// test crates.
#[path = "../common/mod.rs"]
mod common;

// The shared types on their own (messages, `Display`, `Resumed`): no
// backend involved, so compiled once.
mod model;

/// The name libtest gives the test `name` of the module `module_path`
/// (`module_path!()` of the test's file), to run it alone in a child
/// process: the path without the crate's name.
fn test_path(module_path: &str, name: &str) -> String {
    let (_crate, module) = module_path
        .split_once("::")
        .expect("a test file is a module of the crate");
    format!("{module}::{name}")
}

// The behaviour files are compiled through `include!` (below), which rustfmt
// does not follow. These declarations, never compiled, show them to
// `cargo fmt`; keep the list in step with `behaviours!`.
#[cfg(any())]
mod close;
#[cfg(any())]
mod during_unwind;
#[cfg(any())]
mod errors;
#[cfg(any())]
mod generators;
#[cfg(any())]
mod many;
#[cfg(any())]
mod nesting;
#[cfg(any())]
mod status;
#[cfg(any())]
mod unwind_safety;
#[cfg(any())]
mod values;

/// The behaviour files, one module each, compiled in each backend's module.
macro_rules! behaviours {
    () => {
        mod close {
            use super::*;
            include!("close.rs");
        }
        mod during_unwind {
            use super::*;
            include!("during_unwind.rs");
        }
        mod errors {
            use super::*;
            include!("errors.rs");
        }
        mod generators {
            use super::*;
            include!("generators.rs");
        }
        mod many {
            use super::*;
            include!("many.rs");
        }
        mod nesting {
            use super::*;
            include!("nesting.rs");
        }
        mod status {
            use super::*;
            include!("status.rs");
        }
        mod unwind_safety {
            use super::*;
            include!("unwind_safety.rs");
        }
        mod values {
            use super::*;
            include!("values.rs");
        }
    };
}

/// The suite against `coro::Coroutine`: a body is a closure on its own stack.
/// Only where coro builds its stackful backend (see build.rs).
#[cfg(coro_stackful)]
mod stackful {
    use coro::{Coroutine, Yielder};

    /// The free `coro::suspend` can suspend a stackful body from anywhere.
    const BODY_IS_YIELDABLE: bool = true;

    macro_rules! coroutine {
        (stack: $size:expr; $I:ty, $Y:ty, $R:ty; |$y:tt, $x:pat_param| $body:expr) => {
            coro::Builder::new()
                .stack_size($size)
                .build::<$I, $Y, $R, _>(move |$y: &coro::Yielder<$I, $Y>, $x: $I| $body)
                .expect("a coroutine stack")
        };
        ($I:ty, $Y:ty, $R:ty; |$y:tt, $x:pat_param| $body:expr) => {
            coro::Coroutine::<$I, $Y, $R>::new(move |$y: &coro::Yielder<$I, $Y>, $x: $I| $body)
        };
    }

    macro_rules! suspend {
        ($y:expr, $v:expr) => {
            $y.suspend($v)
        };
    }

    macro_rules! suspending {
        ($(#[$m:meta])* $v:vis fn $($rest:tt)*) => {
            $(#[$m])* $v fn $($rest)*
        };
    }

    macro_rules! call {
        ($e:expr) => {
            $e
        };
    }

    macro_rules! recurse {
        ($e:expr) => {
            $e
        };
    }

    use super::{common, test_path};

    behaviours!();
}

/// The suite against `coro::stackless::Coroutine`: a body is an async block
/// in a heap frame.
mod stackless {
    use coro::stackless::{Coroutine, Yielder};

    /// A stackless body's own code is synchronous: the free `coro::suspend`
    /// fails there with `AcrossBoundary`, and `is_yieldable()` says so.
    const BODY_IS_YIELDABLE: bool = false;

    macro_rules! coroutine {
        (stack: $size:expr; $($rest:tt)*) => {{
            // A stackless coroutine has no stack to size.
            let _ = $size;
            coroutine!($($rest)*)
        }};
        ($I:ty, $Y:ty, $R:ty; |_, $x:pat_param| $body:expr) => {
            coro::stackless::Coroutine::<$I, $Y, $R>::new(
                move |_: coro::stackless::Yielder<$I, $Y>, $x: $I| async move { $body },
            )
        };
        ($I:ty, $Y:ty, $R:ty; |$y:ident, $x:pat_param| $body:expr) => {
            coro::stackless::Coroutine::<$I, $Y, $R>::new(
                move |$y: coro::stackless::Yielder<$I, $Y>, $x: $I| async move {
                    // The body sees `&Yielder`, as a stackful one does.
                    let $y = &$y;
                    $body
                },
            )
        };
    }

    macro_rules! suspend {
        ($y:expr, $v:expr) => {
            $y.suspend($v).await
        };
    }

    macro_rules! suspending {
        ($(#[$m:meta])* $v:vis fn $($rest:tt)*) => {
            $(#[$m])* $v async fn $($rest)*
        };
    }

    macro_rules! call {
        ($e:expr) => {
            $e.await
        };
    }

    macro_rules! recurse {
        ($e:expr) => {
            Box::pin($e).await
        };
    }

    use super::{common, test_path};

    behaviours!();
}
