//! The differences from Lua that the generator steers clear of, each shown
//! on both sides: if either side changes, the test says so, and the
//! generator's exclusion (and the docs' table) must follow.

use std::cell::RefCell;
use std::panic;
use std::rc::Rc;

use coro::{Error, MAX_NESTING, Resumed, Status};
use mlua::Lua;

/// Runs a Lua chunk that returns a string.
pub fn lua(source: &str) -> String {
    Lua::new()
        .load(source)
        .set_name("=prog")
        .eval::<String>()
        .unwrap_or_else(|err| panic!("{err}"))
}

// docs/differences.md, "close(co) of a coroutine that died in error": Lua
// returns `false, err` once, then `true`; coro returns `Ok(())`, the error
// having been handed out by the resume that saw it.
#[test]
fn close_after_an_error() {
    crate::silence_panics();
    let lua = lua(r#"
        local co = coroutine.create(function() error(7) end)
        local _, first = coroutine.resume(co)
        local a, b = coroutine.close(co)
        local c = coroutine.close(co)
        return table.concat({first, tostring(a), b, tostring(c)}, " ")
    "#);
    assert_eq!(lua, "7 false 7 true");

    let mut stackful = coro::Coroutine::<(), (), ()>::new(|_, ()| panic::panic_any(7_i64));
    assert!(matches!(stackful.resume(()), Err(Error::Panic(_))));
    assert!(stackful.close().is_ok());
    assert!(stackful.close().is_ok());

    let mut stackless =
        coro::stackless::Coroutine::<(), (), ()>::new(|_, ()| async { panic::panic_any(7_i64) });
    assert!(matches!(stackless.resume(()), Err(Error::Panic(_))));
    assert!(stackless.close().is_ok());
    assert!(stackless.close().is_ok());
}

// docs/differences.md, "the nesting limit": Lua counts C levels (198
// nested bodies under mlua 0.12's Lua 5.4.9, 197 under the standalone
// interpreter) and leaves the refused never-started target dead; coro runs
// exactly `MAX_NESTING` nested coroutines and leaves the target suspended.
#[test]
fn the_nesting_limit() {
    let lua = lua(r#"
        local deepest, refusal, target
        local function level(depth)
          deepest = depth
          local co = coroutine.create(level)
          local ok, err = coroutine.resume(co, depth + 1)
          if not ok and refusal == nil then refusal, target = err, coroutine.status(co) end
        end
        local co = coroutine.create(level)
        coroutine.resume(co, 1)
        return deepest .. " " .. refusal .. ", target " .. target
    "#);
    let (deepest, rest) = lua.split_once(' ').unwrap();
    let deepest: usize = deepest.parse().unwrap();
    assert!(
        (150..MAX_NESTING).contains(&deepest),
        "Lua ran {deepest} nested bodies"
    );
    assert_eq!(rest, "C stack overflow, target dead");

    /// The deepest level's refused resume, and the target's status then.
    type Refusal = Rc<RefCell<Option<(usize, String, Status)>>>;

    fn stackful(depth: usize, refusal: Refusal) -> coro::Coroutine<(), (), ()> {
        coro::Builder::new()
            .stack_size(64 * 1024)
            .build(move |_, ()| {
                let mut next = stackful(depth + 1, refusal.clone());
                match next.resume(()) {
                    Ok(Resumed::Return(())) => {}
                    Err(err) => {
                        *refusal.borrow_mut() = Some((depth, err.to_string(), next.status()))
                    }
                    Ok(Resumed::Yield(())) => unreachable!(),
                }
            })
            .unwrap()
    }
    let refusal = Refusal::default();
    stackful(1, refusal.clone()).resume(()).unwrap();
    let expected = (
        MAX_NESTING,
        "C stack overflow".to_owned(),
        Status::Suspended,
    );
    assert_eq!(refusal.take(), Some(expected.clone()));

    fn stackless(depth: usize, refusal: Refusal) -> coro::stackless::Coroutine<(), (), ()> {
        coro::stackless::Coroutine::new(move |_, ()| async move {
            let mut next = stackless(depth + 1, refusal.clone());
            match next.resume(()) {
                Ok(Resumed::Return(())) => {}
                Err(err) => *refusal.borrow_mut() = Some((depth, err.to_string(), next.status())),
                Ok(Resumed::Yield(())) => unreachable!(),
            }
        })
    }
    let refusal = Refusal::default();
    stackless(1, refusal.clone()).resume(()).unwrap();
    assert_eq!(refusal.take(), Some(expected));
}

/// Records its drop.
struct Guard(&'static str, Rc<RefCell<Vec<&'static str>>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.1.borrow_mut().push(self.0);
    }
}

// Not in docs/differences.md: a coroutine that dies in error under
// `resume` keeps its to-be-closed variables pending in Lua (they run only
// at `coroutine.close`, which then returns `false, err`, or never), while a
// Rust panic drops every local as it unwinds, before `resume` returns.
// (`wrap` closes them at once, like Rust.)
#[test]
fn locals_of_a_coroutine_that_died_in_error() {
    crate::silence_panics();
    let lua = lua(r#"
        local log = {}
        local co = coroutine.create(function()
          local g <close> = setmetatable({}, {__close = function() log[#log + 1] = "closed" end})
          error("e", 0)
        end)
        coroutine.resume(co)
        log[#log + 1] = "resumed"
        local gen = coroutine.wrap(function()
          local g <close> = setmetatable({}, {__close = function() log[#log + 1] = "closed" end})
          error("e", 0)
        end)
        pcall(gen)
        log[#log + 1] = "wrapped"
        return table.concat(log, " ")
    "#);
    assert_eq!(lua, "resumed closed wrapped");

    let log = Rc::new(RefCell::new(Vec::new()));
    let inner = log.clone();
    let mut stackful = coro::Coroutine::<(), (), ()>::new(move |_, ()| {
        let _g = Guard("closed", inner);
        panic::panic_any("e");
    });
    assert!(stackful.resume(()).is_err());
    log.borrow_mut().push("resumed");
    let inner = log.clone();
    let mut stackless = coro::stackless::Coroutine::<(), (), ()>::new(move |_, ()| async move {
        let _g = Guard("closed", inner);
        panic::panic_any("e");
    });
    assert!(stackless.resume(()).is_err());
    log.borrow_mut().push("resumed");
    assert_eq!(*log.borrow(), ["closed", "resumed", "closed", "resumed"]);
}

// Not a difference of coro's own, but of ownership against garbage
// collection: closing a coroutine suspended in a loop over a generator
// drops the generator with its frame, closing it; Lua leaves the generator
// suspended, and its to-be-closed variables never run.
#[test]
fn a_generator_owned_by_a_closed_coroutine() {
    let lua = lua(r#"
        local log = {}
        local co = coroutine.create(function()
          for v in coroutine.wrap(function()
            local g <close> = setmetatable({}, {__close = function() log[#log + 1] = "generator closed" end})
            coroutine.yield(1)
          end) do coroutine.yield(v) end
        end)
        coroutine.resume(co)
        coroutine.close(co)
        collectgarbage()
        log[#log + 1] = "closed"
        return table.concat(log, " ")
    "#);
    assert_eq!(lua, "closed");

    let log = Rc::new(RefCell::new(Vec::new()));
    let inner = log.clone();
    let mut co = coro::Coroutine::<(), i32, ()>::new(move |y, ()| {
        let generator = coro::Coroutine::<(), i32, ()>::new(move |g, ()| {
            let _g = Guard("generator closed", inner);
            g.suspend(1);
        });
        for v in generator {
            y.suspend(v);
        }
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
    co.close().unwrap();
    log.borrow_mut().push("closed");
    assert_eq!(*log.borrow(), ["generator closed", "closed"]);
}

// Not in docs/differences.md: Lua's `wrap` prefixes a string error with
// the position of its caller each time it re-raises it; coro's generator
// re-raises the panic's payload unchanged. The differential traces strip
// the prefix (`showerr` in lua.rs).
#[test]
fn wrap_reraises_string_errors_with_a_position() {
    crate::silence_panics();
    let lua = lua(r#"
        local gen = coroutine.wrap(function() error("e", 0) end)
        local _, err = pcall(function() local v = gen(); return v end)
        return err
    "#);
    assert_eq!(lua, "prog:3: e");

    let generator = coro::Coroutine::<(), (), ()>::new(|_, ()| panic::panic_any("e".to_owned()));
    let payload =
        panic::catch_unwind(panic::AssertUnwindSafe(|| generator.into_iter().count())).unwrap_err();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("e")
    );
}
