//! The programs run on the stackless backend: the interpreter of
//! `stackful.rs` as an async function (boxed, for its recursion), every
//! yield an `.await`. The main chunk never yields, so one poll runs it.

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use coro::stackless::{Coroutine, Yielder};

use crate::program::{LoopBody, Program, Step, Val};
use crate::world::{Guard, World, throw};

type Frame<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A body's way to yield, whatever its coroutine's input type.
trait Suspend {
    fn suspend(&self, value: Val) -> Frame<'_, Val>;
}

/// A `create`d coroutine: resumed with values.
impl Suspend for Yielder<Val, Val> {
    fn suspend(&self, value: Val) -> Frame<'_, Val> {
        Box::pin(Yielder::suspend(self, value))
    }
}

/// A generator: resumed with nothing, which Lua's side sees as `nil`.
impl Suspend for Yielder<(), Val> {
    fn suspend(&self, value: Val) -> Frame<'_, Val> {
        Box::pin(async move {
            Yielder::suspend(self, value).await;
            Val::Nil
        })
    }
}

/// Runs `program` and returns its trace.
pub fn run(program: Rc<Program>) -> Vec<String> {
    let world = World::new(program);
    let polled = panic::catch_unwind(AssertUnwindSafe(|| {
        exec(&world, 0, 0, Val::Nil, None)
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
    }));
    match polled {
        Ok(Poll::Ready(_)) => {}
        Ok(Poll::Pending) => world.record("main chunk did not finish in one poll".to_owned()),
        Err(payload) => world.record(format!(
            "main panicked: {}",
            crate::panic_message(&*payload)
        )),
    }
    world.finish()
}

/// Runs `script` from step `from` with the register `reg`; returns what the
/// body returns. `yielder` is `None` in the main chunk.
fn exec<'a>(
    world: &'a Rc<World>,
    script: usize,
    from: usize,
    mut reg: Val,
    yielder: Option<&'a dyn Suspend>,
) -> Frame<'a, Val> {
    Box::pin(async move {
        let program = world.program.clone();
        let me = program.scripts[script].name();
        for (index, step) in program.scripts[script].steps.iter().enumerate().skip(from) {
            match step {
                // The free `coro::suspend` cannot suspend a stackless
                // coroutine: the yielder it is, for both kinds of yield.
                Step::Yield { value, .. } => {
                    let yielder = yielder.expect("only a coroutine yields");
                    reg = yielder.suspend(value.eval(reg)).await;
                }
                Step::Return(value) => return value.eval(reg),
                Step::Error(thrown) => throw(thrown),
                Step::Create { slot, script } => {
                    let (inner, script) = (world.clone(), *script);
                    let body = move |yielder, input| async move {
                        exec(&inner, script, 0, input, Some(&yielder)).await
                    };
                    // Both forms, erased and typed, by the slot's parity.
                    if slot.is_multiple_of(2) {
                        world.create(*slot, Box::new(Coroutine::<Val, Val, Val>::new(body)));
                    } else {
                        world.create(*slot, Box::new(Coroutine::<Val, Val, Val>::typed(body)));
                    }
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
                } => wrap(world, *script, *body, *protected, &mut reg, yielder).await,
                Step::Running => world.running(&me),
                Step::Yieldable => world.yieldable(&me),
                Step::Echo => world.echo(&me, reg),
                Step::Guard {
                    number,
                    watch,
                    action,
                } => {
                    // The rest of the body runs in a frame below the guard,
                    // as in the stackful interpreter.
                    let _guard = Guard::new(world, *number, *watch, *action);
                    return exec(world, script, index + 1, reg, yielder).await;
                }
            }
        }
        Val::Nil
    })
}

/// A wrap loop: iterates a generator running `script` to its end.
async fn wrap(
    world: &Rc<World>,
    script: usize,
    body: LoopBody,
    protected: bool,
    reg: &mut Val,
    yielder: Option<&dyn Suspend>,
) {
    let name = world.program.scripts[script].name();
    let inner = world.clone();
    let run =
        move |yielder, ()| async move { exec(&inner, script, 0, Val::Nil, Some(&yielder)).await };
    // Both forms, erased and typed, by the script's parity.
    let generator: Box<dyn Iterator<Item = Val>> = if script.is_multiple_of(2) {
        let generator = Coroutine::<(), Val, Val>::new(run);
        world.name(&generator.handle(), name.clone());
        Box::new(generator.into_iter())
    } else {
        let generator = Coroutine::<(), Val, Val>::typed(run);
        world.name(&generator.handle(), name.clone());
        Box::new(generator.into_iter())
    };
    let iterate = async {
        for value in generator {
            match body {
                LoopBody::Record => world.record(format!("wrap {name} -> {value}")),
                LoopBody::YieldEach { .. } => {
                    *reg = yielder
                        .expect("only a coroutine yields")
                        .suspend(value)
                        .await
                }
            }
        }
    };
    if protected {
        let ended = CatchUnwind(Box::pin(iterate)).await;
        world.wrap_ended(&name, ended);
    } else {
        iterate.await;
        world.wrap_ended(&name, Ok(()));
    }
}

/// `pcall` for a future: polls it under `catch_unwind`.
struct CatchUnwind<'a>(Frame<'a, ()>);

impl Future for CatchUnwind<'_> {
    type Output = Result<(), Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match panic::catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
