//! The programs run on the stackful backend: a plain recursive interpreter,
//! run on the main stack for the main chunk and inside each coroutine's body
//! for its script.

use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use coro::{Coroutine, Yielder};

use crate::program::{LoopBody, Program, Step, Val};
use crate::world::{Guard, World, throw};

/// A body's way to yield, whatever its coroutine's input type.
trait Suspend {
    /// `free` suspends through the free `coro::suspend`, Lua's global
    /// `coroutine.yield`, rather than the yielder.
    fn suspend(&self, value: Val, free: bool) -> Val;
}

/// A `create`d coroutine: resumed with values.
impl Suspend for Yielder<Val, Val> {
    fn suspend(&self, value: Val, free: bool) -> Val {
        if free {
            coro::suspend::<Val, Val>(value).expect("free suspend in a created coroutine")
        } else {
            Yielder::suspend(self, value)
        }
    }
}

/// A generator: resumed with nothing, which Lua's side sees as `nil`.
impl Suspend for Yielder<(), Val> {
    fn suspend(&self, value: Val, free: bool) -> Val {
        if free {
            coro::suspend::<Val, ()>(value).expect("free suspend in a generator")
        } else {
            Yielder::suspend(self, value)
        }
        Val::Nil
    }
}

/// Runs `program` and returns its trace.
pub fn run(program: Rc<Program>) -> Vec<String> {
    let world = World::new(program);
    let main = panic::catch_unwind(AssertUnwindSafe(|| exec(&world, 0, 0, Val::Nil, None)));
    if let Err(payload) = main {
        world.record(format!(
            "main panicked: {}",
            crate::panic_message(&*payload)
        ));
    }
    world.finish()
}

/// Runs `script` from step `from` with the register `reg`; returns what the
/// body returns. `yielder` is `None` in the main chunk.
fn exec(
    world: &Rc<World>,
    script: usize,
    from: usize,
    mut reg: Val,
    yielder: Option<&dyn Suspend>,
) -> Val {
    let program = world.program.clone();
    let me = program.scripts[script].name();
    for (index, step) in program.scripts[script].steps.iter().enumerate().skip(from) {
        match step {
            Step::Yield { value, free } => {
                let yielder = yielder.expect("only a coroutine yields");
                reg = yielder.suspend(value.eval(reg), *free);
            }
            Step::Return(value) => return value.eval(reg),
            Step::Error(thrown) => throw(thrown),
            Step::Create { slot, script } => {
                let (inner, script) = (world.clone(), *script);
                let coroutine = Coroutine::<Val, Val, Val>::new(move |yielder, input| {
                    exec(&inner, script, 0, input, Some(yielder))
                });
                world.create(*slot, Box::new(coroutine));
            }
            Step::Resume { slot, arg } => {
                if let Some(value) = world.resume(*slot, arg.eval(reg)) {
                    reg = value;
                }
            }
            Step::Status(slot) => world.status(*slot),
            Step::Close(slot) => world.close(*slot),
            Step::Wrap {
                script,
                body,
                protected,
            } => wrap(world, *script, *body, *protected, &mut reg, yielder),
            Step::Running => world.running(&me),
            Step::Yieldable => world.yieldable(&me),
            Step::Echo => world.echo(&me, reg),
            Step::Guard {
                number,
                watch,
                action,
            } => {
                // The rest of the body runs in a frame below the guard, so
                // that it is a real local, dropped when the body ends or
                // unwinds, newest first.
                let _guard = Guard::new(world, *number, *watch, *action);
                return exec(world, script, index + 1, reg, yielder);
            }
        }
    }
    Val::Nil
}

/// A wrap loop: iterates a generator running `script` to its end.
fn wrap(
    world: &Rc<World>,
    script: usize,
    body: LoopBody,
    protected: bool,
    reg: &mut Val,
    yielder: Option<&dyn Suspend>,
) {
    let name = world.program.scripts[script].name();
    let inner = world.clone();
    let generator = Coroutine::<(), Val, Val>::new(move |yielder, ()| {
        exec(&inner, script, 0, Val::Nil, Some(yielder))
    });
    world.name(&generator.handle(), name.clone());
    let iterate = || {
        for value in generator {
            match body {
                LoopBody::Record => world.record(format!("wrap {name} -> {value}")),
                LoopBody::YieldEach { free } => {
                    *reg = yielder
                        .expect("only a coroutine yields")
                        .suspend(value, free)
                }
            }
        }
    };
    if protected {
        let ended = panic::catch_unwind(AssertUnwindSafe(iterate));
        world.wrap_ended(&name, ended);
    } else {
        iterate();
        world.wrap_ended(&name, Ok(()));
    }
}
