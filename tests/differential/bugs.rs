//! Divergences from Lua that are coro bugs or known limitations, each in its
//! smallest form: the tests fail until the limitation is lifted, so they are
//! ignored, with the reason, and the docs' differences table describes them. The random runs steer clear of them
//! (`KNOWN_BUGS` in main.rs) so that they keep finding new ones; the
//! regression seeds replay them.

use std::cell::Cell;
use std::panic;
use std::rc::Rc;

use coro::{Coroutine, Error, Resumed};

use crate::differences::lua;

/// Runs a closure when dropped: a to-be-closed variable.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

// A coroutine resumed by a destructor while a panic unwinds (here the
// outer generator's) panics in turn: while its own panic unwinds it, it
// must not suspend (the crate docs: no suspension while a panic
// unwinds a coroutine's stack; Lua: `isyieldable()` is false in a `__close` run by `wrap`'s
// close, and `yield` fails). coro tells its own unwind by
// `thread::panicking()` and the flag `resumed_panicking` noted at resume;
// the flag is set for this coroutine, so its own panic passes for the outer
// one: `is_yieldable()` is true and the free `suspend` suspends it in the
// middle of its unwind. Dropping it then aborts the process ("thread
// caused non-unwinding panic"). The same holds for a coroutine resumed by a
// destructor during a stackful `close`, which unwinds with a panic too.
// The random programs found it as `close g1 in w1 yieldable=false` (Lua)
// against `yieldable=true` (stackful coro): seed 763 of `REGRESSIONS`.
// The stackless backend never suspends from a destructor (no `.await`
// there), and says false.
// (is_yieldable, what the free suspend gave, what the resume gave)
type Seen = (bool, String, String);

/// From a destructor: resumes a coroutine that panics, and whose own
/// destructor, while that panic unwinds it, asks whether it may yield and
/// tries to. A coroutine that suspended there is leaked, since closing it
/// would abort the test binary.
fn resume_a_panicking_coroutine() -> Seen {
    let yieldable = Rc::new(Cell::new(None));
    let suspended = Rc::new(Cell::new(None));
    let (inner_yieldable, inner_suspended) = (yieldable.clone(), suspended.clone());
    let mut inner = Coroutine::<(), (), ()>::new(move |_, ()| {
        let _guard = OnDrop(move || {
            inner_yieldable.set(Some(coro::is_yieldable()));
            let result = coro::suspend::<(), ()>(());
            inner_suspended.set(Some(format!("{result:?}")));
        });
        panic!("inner");
    });
    let resumed = inner.resume(());
    if let Ok(Resumed::Yield(())) = resumed {
        std::mem::forget(inner);
    }
    (
        yieldable.get().unwrap_or(true),
        suspended
            .take()
            .unwrap_or_else(|| "it suspended: the call never returned".to_owned()),
        format!("{resumed:?}"),
    )
}

#[track_caller]
fn assert_refused((yieldable, suspended, resumed): Seen) {
    assert_eq!(
        (yieldable, suspended.as_str()),
        (false, "Err(AcrossBoundary)"),
        "the inner coroutine could suspend while its own panic unwound it \
         (its resume gave {resumed})"
    );
    assert!(resumed.starts_with("Err(Panic"), "{resumed}");
}

#[test]
#[ignore = "known limitation of the stackful backend, documented in docs/differences.md"]
fn a_coroutine_resumed_during_an_unwind_cannot_suspend_in_its_own() {
    crate::silence_panics();
    let lua = lua(r#"
        local seen
        local inner = coroutine.wrap(function()
          local g <close> = setmetatable({}, {__close = function()
            local ok, err = pcall(coroutine.yield)
            seen = tostring(coroutine.isyieldable()) .. ", " .. err
          end})
          error("inner", 0)
        end)
        local outer = coroutine.wrap(function()
          local g <close> = setmetatable({}, {__close = function() pcall(inner) end})
          error("outer", 0)
        end)
        pcall(outer)
        return seen
    "#);
    assert_eq!(lua, "false, attempt to yield across a C-call boundary");

    let seen = Rc::new(Cell::new(None));
    let report = seen.clone();
    let mut outer = Coroutine::<(), (), ()>::new(move |_, ()| {
        let _guard = OnDrop(move || report.set(Some(resume_a_panicking_coroutine())));
        panic!("outer");
    });
    assert!(matches!(outer.resume(()), Err(Error::Panic(_))));
    assert_refused(seen.take().expect("the guard ran"));
}

// The same from a destructor run by `close` of a suspended stackful
// coroutine (Lua: a `__close` run by `coroutine.close`).
#[test]
#[ignore = "known limitation of the stackful backend, documented in docs/differences.md"]
fn a_coroutine_resumed_during_a_close_cannot_suspend_in_its_own_unwind() {
    crate::silence_panics();
    let seen = Rc::new(Cell::new(None));
    let report = seen.clone();
    let mut closed = Coroutine::<(), (), ()>::new(move |yielder, ()| {
        let _guard = OnDrop(move || report.set(Some(resume_a_panicking_coroutine())));
        yielder.suspend(());
    });
    closed.resume(()).unwrap();
    closed.close().unwrap();
    assert_refused(seen.take().expect("the guard ran"));
}
