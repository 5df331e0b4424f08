//! What both Rust interpreters share: the slots of `create`d coroutines, the
//! trace, names, guards, and the rendering of results and errors in the
//! trace's words (the same words `lua.rs` makes Lua print).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic;
use std::rc::Rc;

use coro::{Error, Handle, Resume, Resumed};

use crate::program::{GuardAction, Program, Thrown, Val, slot_name};

/// A `create`d coroutine of either backend.
pub type Slotted = Box<dyn Resume<Val, Yield = Val, Return = Val>>;

/// A slot: its coroutine, when not taken out, and its handle.
struct Entry {
    coroutine: Option<Slotted>,
    handle: Handle,
}

/// A table error value (`error({id = n})` in Lua).
#[derive(Debug)]
pub struct TableError(pub i64);

/// One run of one program.
pub struct World {
    pub program: Rc<Program>,
    trace: RefCell<Vec<String>>,
    /// False once the main chunk has ended: what Rust drops afterwards
    /// (suspended coroutines, closed with their guards) Lua never closes.
    recording: Cell<bool>,
    /// The `create`d coroutines by slot. A coroutine is taken out while it
    /// is resumed or closed (its resumer holds it, as Rust requires) and
    /// put back afterwards; its handle stays, for `status`.
    slots: RefCell<Vec<Option<Entry>>>,
    /// Coroutine ids to names, for `running`.
    names: RefCell<HashMap<u64, String>>,
}

impl World {
    pub fn new(program: Rc<Program>) -> Rc<World> {
        Rc::new(World {
            program,
            trace: RefCell::new(Vec::new()),
            recording: Cell::new(true),
            slots: RefCell::new(Vec::new()),
            names: RefCell::new(HashMap::new()),
        })
    }

    pub fn record(&self, event: String) {
        if self.recording.get() {
            self.trace.borrow_mut().push(event);
        }
    }

    /// Ends the run and returns the trace. Drops every coroutine still in a
    /// slot: they hold the world, which holds them.
    pub fn finish(&self) -> Vec<String> {
        self.record("end".to_owned());
        self.recording.set(false);
        let slots = std::mem::take(&mut *self.slots.borrow_mut());
        drop(slots);
        std::mem::take(&mut *self.trace.borrow_mut())
    }

    pub fn name(&self, handle: &Handle, name: String) {
        self.names.borrow_mut().insert(handle.id(), name);
    }

    /// The running coroutine's name, as Lua's `whoami` prints it.
    pub fn whoami(&self) -> String {
        match coro::running() {
            None => "main".to_owned(),
            Some(handle) => self
                .names
                .borrow()
                .get(&handle.id())
                .cloned()
                .unwrap_or_else(|| "?".to_owned()),
        }
    }

    pub fn create(&self, slot: usize, coroutine: Slotted) {
        let handle = coroutine.handle();
        self.name(&handle, slot_name(slot));
        let mut slots = self.slots.borrow_mut();
        if slots.len() <= slot {
            slots.resize_with(slot + 1, || None);
        }
        slots[slot] = Some(Entry {
            coroutine: Some(coroutine),
            handle,
        });
    }

    /// Takes a slot's coroutine out, or says why it cannot.
    fn take(&self, slot: usize) -> Result<Slotted, &'static str> {
        match self.slots.borrow_mut().get_mut(slot) {
            Some(Some(entry)) => entry.coroutine.take().ok_or("busy"),
            _ => Err("no such slot"),
        }
    }

    fn put_back(&self, slot: usize, coroutine: Slotted) {
        if let Some(Some(entry)) = self.slots.borrow_mut().get_mut(slot) {
            entry.coroutine = Some(coroutine);
        }
    }

    /// `resume(n, a)` of the Lua side: records the result; the value for
    /// `r` if the resume succeeded.
    pub fn resume(&self, slot: usize, arg: Val) -> Option<Val> {
        let head = format!("resume {} {arg} ->", slot_name(slot));
        let mut coroutine = match self.take(slot) {
            Ok(coroutine) => coroutine,
            Err(why) => {
                self.record(format!("{head} interpreter: {why}"));
                return None;
            }
        };
        let result = coroutine.resume(arg);
        self.put_back(slot, coroutine);
        match result {
            Ok(Resumed::Yield(value)) => {
                self.record(format!("{head} yield {value}"));
                Some(value)
            }
            Ok(Resumed::Return(value)) => {
                self.record(format!("{head} return {value}"));
                Some(value)
            }
            Err(err) => {
                self.record(format!("{head} error {}", show_error(err)));
                None
            }
        }
    }

    pub fn status(&self, slot: usize) {
        self.record(format!(
            "status {} = {}",
            slot_name(slot),
            self.status_of(slot)
        ));
    }

    fn status_of(&self, slot: usize) -> String {
        match self.slots.borrow().get(slot) {
            Some(Some(entry)) => entry.handle.status().to_string(),
            _ => "interpreter: no such slot".to_owned(),
        }
    }

    pub fn close(&self, slot: usize) {
        let head = format!("close {} ->", slot_name(slot));
        let mut coroutine = match self.take(slot) {
            Ok(coroutine) => coroutine,
            Err(why) => return self.record(format!("{head} interpreter: {why}")),
        };
        let result = coroutine.close();
        self.put_back(slot, coroutine);
        match result {
            Ok(()) => self.record(format!("{head} true")),
            Err(err) => self.record(format!("{head} false {}", show_error(err))),
        }
    }

    pub fn running(&self, me: &str) {
        self.record(format!("running in {me} = {}", self.whoami()));
    }

    pub fn yieldable(&self, me: &str) {
        self.record(format!("{me} yieldable={}", coro::is_yieldable()));
    }

    pub fn echo(&self, me: &str, reg: Val) {
        self.record(format!("echo {me} = {reg}"));
    }

    /// The end of a wrap loop: `Ok` if the generator returned, or the
    /// panic that ended it. A panic that is no program error (coro's own
    /// unwind of a coroutine being closed) goes on.
    pub fn wrap_ended(&self, name: &str, ended: Result<(), Box<dyn Any + Send>>) {
        match ended {
            Ok(()) => self.record(format!("wrap {name} end")),
            Err(payload) => match show_payload(payload) {
                Ok(shown) => self.record(format!("wrap {name} -> error {shown}")),
                Err(payload) => panic::resume_unwind(payload),
            },
        }
    }
}

/// A `local g<n> <close>`: records its closing, where, whether it could
/// yield there, and the status of the slot it watches; then resumes or
/// closes a coroutine if its action says so.
pub struct Guard {
    world: Rc<World>,
    number: usize,
    watch: Option<usize>,
    action: GuardAction,
}

impl Guard {
    pub fn new(
        world: &Rc<World>,
        number: usize,
        watch: Option<usize>,
        action: GuardAction,
    ) -> Guard {
        Guard {
            world: world.clone(),
            number,
            watch,
            action,
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let mut event = format!(
            "close g{} in {} yieldable={}",
            self.number,
            self.world.whoami(),
            coro::is_yieldable()
        );
        if let Some(slot) = self.watch {
            let status = self.world.status_of(slot);
            event += &format!(", status {} = {status}", slot_name(slot));
        }
        self.world.record(event);
        // Not after the main chunk's end: what Rust drops then, Lua never
        // closes.
        if !self.world.recording.get() {
            return;
        }
        match self.action {
            GuardAction::Nothing => {}
            GuardAction::Resume { slot, arg } => {
                self.world.resume(slot, arg);
            }
            GuardAction::Close(slot) => self.world.close(slot),
        }
    }
}

/// Raises a program's error: Lua's `error(v, 0)`.
pub fn throw(thrown: &Thrown) -> ! {
    match thrown {
        Thrown::Int(n) => panic::panic_any(*n),
        Thrown::Str(s) => panic::panic_any(s.clone()),
        Thrown::Table(n) => panic::panic_any(TableError(*n)),
    }
}

/// An error value as the trace shows it, or the payload back if it is not
/// one a program raises.
fn show_payload(payload: Box<dyn Any + Send>) -> Result<String, Box<dyn Any + Send>> {
    let payload = match payload.downcast::<i64>() {
        Ok(n) => return Ok(n.to_string()),
        Err(payload) => payload,
    };
    let payload = match payload.downcast::<String>() {
        Ok(s) => return Ok(format!("\"{s}\"")),
        Err(payload) => payload,
    };
    let payload = match payload.downcast::<TableError>() {
        Ok(t) => return Ok(format!("table {}", t.0)),
        Err(payload) => payload,
    };
    // A bug somewhere (an `expect` of this interpreter, an assertion of
    // coro): shown so that it diverges.
    match payload.downcast::<&'static str>() {
        Ok(s) => Ok(format!("rust panic \"{s}\"")),
        Err(payload) => Err(payload),
    }
}

/// A failed resume or close as the trace shows it: the body's error value,
/// or coro's error, whose message is Lua's.
fn show_error(err: Error) -> String {
    match err {
        Error::Panic(payload) => show_payload(payload.into_inner())
            .unwrap_or_else(|_| "rust panic of an unknown type".to_owned()),
        other => format!("\"{other}\""),
    }
}
