//! The programs both sides run: a small tree of coroutine scripts, and the
//! seeded generator that writes them.
//!
//! A program is a list of scripts. Script 0 is the main chunk; every other
//! one is the body of exactly one coroutine, made either by a `Create` step
//! (a coroutine kept in a numbered slot, `c<n>`, that any script may resume,
//! inspect or close) or by a `Wrap` step (a generator, `w<n>`, iterated on the
//! spot). Each script is a straight list of steps; the only value a script
//! keeps is its register `r`: the body's argument, then whatever its last
//! `yield` or successful `resume` produced.
//!
//! The generator writes a script while it runs it: a small model of Lua's
//! coroutines (which coroutine is running, which are active, suspended or
//! dead, what each one owns) executes the program as it grows and picks each
//! next step among those that are valid at that point. That is how every
//! program stays inside what both sides can express, and away from the
//! documented differences (see [`Model::choose`]). The model tracks control
//! only, never values: the traces of the two real runs are compared, never
//! the model's expectations.

use std::fmt;

/// A value of the programs: what yields, returns and resumes carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val {
    Nil,
    Int(i64),
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Nil => f.write_str("nil"),
            Val::Int(n) => write!(f, "{n}"),
        }
    }
}

/// How a step computes the value it passes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expr {
    Nil,
    Const(i64),
    /// The register `r`.
    Reg,
    /// `(r or 0) + k`.
    RegPlus(i64),
}

impl Expr {
    pub fn eval(self, reg: Val) -> Val {
        match self {
            Expr::Nil => Val::Nil,
            Expr::Const(n) => Val::Int(n),
            Expr::Reg => reg,
            Expr::RegPlus(k) => match reg {
                Val::Nil => Val::Int(k),
                Val::Int(n) => Val::Int(n + k),
            },
        }
    }
}

/// What an `Error` step raises: Lua's `error(v, 0)`, Rust's `panic_any`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thrown {
    Int(i64),
    Str(String),
    /// A table `{id = n}` in Lua, a [`TableError`](crate::world::TableError) in Rust.
    Table(i64),
}

/// What a wrap loop does with each value its generator yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopBody {
    /// Records it.
    Record,
    /// Yields it from the coroutine running the loop (generators chained
    /// like Lua's prime sieve); the value resumed with goes to `r`. `free`
    /// as in [`Step::Yield`].
    YieldEach { free: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `r = coroutine.yield(value)`. `free` picks the stackful backend's free
    /// `coro::suspend` instead of the yielder (the same thing in Lua).
    Yield { value: Expr, free: bool },
    /// Ends the body. A generator's return value ends its iteration and is
    /// dropped, on both sides.
    Return(Expr),
    /// `error(v, 0)`.
    Error(Thrown),
    /// `co[slot] = coroutine.create(S[script])`.
    Create { slot: usize, script: usize },
    /// `coroutine.resume(co[slot], arg)`, the result recorded; `r` takes a
    /// yielded or returned value.
    Resume { slot: usize, arg: Expr },
    /// `coroutine.status(co[slot])`, recorded.
    Status(usize),
    /// `coroutine.close(co[slot])`, recorded.
    Close(usize),
    /// Iterates `coroutine.wrap(S[script])` to its end; `protected` runs the
    /// loop under `pcall` (`catch_unwind` in Rust) and records its error.
    Wrap {
        script: usize,
        body: LoopBody,
        protected: bool,
    },
    /// `coroutine.running()`, recorded by name.
    Running,
    /// `coroutine.isyieldable()`, recorded.
    Yieldable,
    /// Records `r`.
    Echo,
    /// `local g<n> <close> = ...` until the end of the body; Rust: a local
    /// whose `Drop` records where it runs, and the status of the slot
    /// `watch` if any (the closing coroutine, its closer...); then does
    /// `action`.
    Guard {
        number: usize,
        watch: Option<usize>,
        action: GuardAction,
    },
}

/// What a guard does when it is closed, after recording it. The generator
/// picks it when the guard is closed (each guard closes at most once), where
/// it knows which coroutines may be resumed or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardAction {
    Nothing,
    /// `resume(slot, arg)`, the result recorded.
    Resume {
        slot: usize,
        arg: Val,
    },
    /// `close(slot)`, the result recorded.
    Close(usize),
}

/// Who runs a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Main,
    /// A coroutine made by `Create`, kept in this slot.
    Slot(usize),
    /// A generator made by `Wrap`, with this number.
    Wrap(usize),
}

#[derive(Debug, Clone)]
pub struct Script {
    pub owner: Owner,
    pub steps: Vec<Step>,
}

impl Script {
    /// The name the traces use for the script's coroutine.
    pub fn name(&self) -> String {
        match self.owner {
            Owner::Main => "main".to_owned(),
            Owner::Slot(n) => slot_name(n),
            Owner::Wrap(n) => format!("w{n}"),
        }
    }
}

pub fn slot_name(slot: usize) -> String {
    format!("c{slot}")
}

#[derive(Debug, Clone)]
pub struct Program {
    /// Script 0 is the main chunk.
    pub scripts: Vec<Script>,
    /// The longest chain of active coroutines the program makes (the main
    /// chunk not counted), for the coverage test.
    pub depth: usize,
}

/// Where the generator's choices come from: splitmix64 (small, fast, and
/// good enough to pick steps), or a fuzzer's bytes, read in order, so that
/// the fuzzer steers every choice (zeros once they run out).
pub struct Rng {
    state: u64,
    bytes: Option<(Vec<u8>, usize)>,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed,
            bytes: None,
        }
    }

    /// Choices read from `bytes`, two bytes a choice.
    #[allow(dead_code, reason = "used by the fuzz target only")]
    pub fn from_bytes(bytes: &[u8]) -> Rng {
        Rng {
            state: 0,
            bytes: Some((bytes.to_vec(), 0)),
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        if let Some((bytes, at)) = &mut self.bytes {
            let mut word = [0u8; 2];
            for byte in &mut word {
                *byte = bytes.get(*at).copied().unwrap_or(0);
                *at += 1;
            }
            return u64::from(u16::from_le_bytes(word));
        }
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// The size knobs of the generated programs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Coroutines made by one program (slots and generators).
    pub coroutines: usize,
    /// Steps of the main chunk.
    pub main_steps: usize,
    /// Steps of a coroutine's body before it must end.
    pub body_steps: usize,
    /// Longest chain of active coroutines, the main chunk included: far
    /// below Lua's `LUAI_MAXCCALLS` and coro's `MAX_NESTING`, which count
    /// differently (that limit has a test of its own).
    pub depth: usize,
}

/// Most programs: a few coroutines, short chains.
pub const SMALL: Limits = Limits {
    coroutines: 10,
    main_steps: 16,
    body_steps: 14,
    depth: 8,
};

/// One program in eight: long chains of nested resumes, still far below
/// both nesting limits.
pub const DEEP: Limits = Limits {
    coroutines: 60,
    main_steps: 12,
    body_steps: 10,
    depth: 50,
};

/// The program of `seed`. With `known_bugs` false, it steers clear of the
/// coro bugs of `bugs.rs` (see [`Model::guard_action`]).
pub fn generate(seed: u64, known_bugs: bool) -> Program {
    let limits = if seed % 8 == 7 { DEEP } else { SMALL };
    generate_with(Rng::new(seed), limits, known_bugs)
}

/// The program whose choices `rng` makes, within `limits`.
pub fn generate_with(rng: Rng, limits: Limits, known_bugs: bool) -> Program {
    let mut model = Model::new(rng, limits, known_bugs);
    model.run();
    model.finish()
}

/// A coroutine of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Created, never resumed.
    Fresh,
    Suspended,
    /// Running or normal.
    Active,
    /// Returned, closed (`error: false`) or died in error (`error: true`).
    Dead {
        error: bool,
    },
}

/// A wrap loop in progress in a coroutine of the model.
#[derive(Debug, Clone, Copy)]
struct Loop {
    /// The generator, an index into `Model::coroutines`.
    generator: usize,
    body: LoopBody,
    protected: bool,
}

/// A coroutine closing its guards, newest first.
#[derive(Debug, Clone)]
struct Closing {
    /// Indices of `Guard` steps in its script still to close: the last one
    /// next.
    pending: Vec<usize>,
    then: Then,
}

/// Why a coroutine closes its guards, and so what it does afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Its body returns.
    Return,
    /// Its body raised an error (a generator, or its loop's generator did).
    Error,
    /// `close` was called on it.
    Closed,
}

#[derive(Debug)]
struct Coroutine {
    script: usize,
    /// The next step to run.
    pc: usize,
    /// Steps its script may have.
    budget: usize,
    state: State,
    /// Indices of the `Guard` steps run so far, oldest first: all live
    /// until the body ends.
    guards: Vec<usize>,
    looping: Option<Loop>,
    closing: Option<Closing>,
}

/// How a coroutine gave control back to its resumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Yield,
    Return,
    Error,
}

/// The generator: runs the program while writing it.
struct Model {
    rng: Rng,
    limits: Limits,
    scripts: Vec<Script>,
    /// Coroutine 0 is the main chunk.
    coroutines: Vec<Coroutine>,
    /// Slot number to coroutine index.
    slots: Vec<usize>,
    /// The active coroutines, outermost (main) first; the last one runs.
    chain: Vec<usize>,
    guards: usize,
    wraps: usize,
    /// The longest `chain` so far.
    deepest: usize,
    /// Whether to generate what triggers the bugs of `bugs.rs`.
    known_bugs: bool,
}

impl Model {
    fn new(mut rng: Rng, limits: Limits, known_bugs: bool) -> Model {
        let main_budget = rng.range(4, limits.main_steps);
        let mut model = Model {
            rng,
            limits,
            scripts: vec![Script {
                owner: Owner::Main,
                steps: Vec::new(),
            }],
            coroutines: Vec::new(),
            slots: Vec::new(),
            chain: vec![0],
            guards: 0,
            wraps: 0,
            deepest: 1,
            known_bugs,
        };
        model.new_coroutine(0, main_budget);
        model.coroutines[0].state = State::Active;
        model
    }

    /// Runs the program from the start of the main chunk to its end,
    /// writing each step when it is reached.
    fn run(&mut self) {
        loop {
            let current = *self.chain.last().expect("the main chunk is always active");
            if self.coroutines[current].closing.is_some() {
                self.close_next_guard(current);
                continue;
            }
            // A loop in progress resumes its generator again.
            if let Some(l) = self.coroutines[current].looping {
                self.enter(l.generator);
                continue;
            }
            let co = &self.coroutines[current];
            let script = co.script;
            if co.pc == self.scripts[script].steps.len() {
                if current == 0 && co.pc >= co.budget {
                    return;
                }
                let step = self.choose(current);
                self.scripts[script].steps.push(step);
            }
            let step = self.scripts[script].steps[self.coroutines[current].pc].clone();
            self.execute(current, step);
        }
    }

    fn execute(&mut self, current: usize, step: Step) {
        match step {
            Step::Yield { .. } => {
                self.coroutines[current].pc += 1;
                self.leave(current, State::Suspended, Outcome::Yield);
            }
            Step::Return(_) => self.end_body(current, Then::Return),
            Step::Error(_) => self.end_body(current, Then::Error),
            Step::Create { slot, script } => {
                debug_assert_eq!(slot, self.slots.len());
                let budget = self.rng.range(1, self.limits.body_steps);
                let co = self.new_coroutine(script, budget);
                self.slots.push(co);
                self.coroutines[current].pc += 1;
            }
            Step::Resume { slot, .. } => {
                let target = self.slots[slot];
                match self.coroutines[target].state {
                    State::Dead { .. } => self.coroutines[current].pc += 1,
                    State::Fresh | State::Suspended => self.enter(target),
                    State::Active => unreachable!("never generated"),
                }
            }
            Step::Close(slot) => {
                if !self.begin_close(self.slots[slot]) {
                    self.coroutines[current].pc += 1;
                }
            }
            Step::Guard { .. } => {
                let co = &mut self.coroutines[current];
                co.guards.push(co.pc);
                co.pc += 1;
            }
            Step::Wrap {
                script,
                body,
                protected,
            } => {
                let budget = self.rng.range(1, self.limits.body_steps);
                let generator = self.new_coroutine(script, budget);
                self.coroutines[current].looping = Some(Loop {
                    generator,
                    body,
                    protected,
                });
            }
            Step::Status(_) | Step::Running | Step::Yieldable | Step::Echo => {
                self.coroutines[current].pc += 1;
            }
        }
    }

    fn new_coroutine(&mut self, script: usize, budget: usize) -> usize {
        self.coroutines.push(Coroutine {
            script,
            pc: 0,
            budget,
            state: State::Fresh,
            guards: Vec::new(),
            looping: None,
            closing: None,
        });
        self.coroutines.len() - 1
    }

    fn enter(&mut self, target: usize) {
        self.coroutines[target].state = State::Active;
        self.chain.push(target);
        self.deepest = self.deepest.max(self.chain.len());
    }

    /// The body of the running coroutine ends: its guards close first.
    fn end_body(&mut self, current: usize, then: Then) {
        let co = &mut self.coroutines[current];
        co.looping = None;
        if co.guards.is_empty() {
            self.finish_closing(current, then);
        } else {
            co.closing = Some(Closing {
                pending: co.guards.clone(),
                then,
            });
        }
    }

    /// The running coroutine stops in `state`; its resumer gets `outcome`.
    fn leave(&mut self, current: usize, state: State, outcome: Outcome) {
        self.coroutines[current].state = state;
        self.chain.pop();
        let resumer = *self.chain.last().expect("the main chunk never leaves");
        let co = &mut self.coroutines[resumer];
        if co.closing.is_some() {
            // A guard's resume is done: the next guard closes.
            return;
        }
        let Some(l) = co.looping else {
            // A `Resume` step is done, whatever it got.
            co.pc += 1;
            return;
        };
        match (outcome, l.body) {
            (Outcome::Yield, LoopBody::Record) => {}
            (Outcome::Yield, LoopBody::YieldEach { .. }) => {
                self.leave(resumer, State::Suspended, Outcome::Yield)
            }
            (Outcome::Return, _) => {
                co.looping = None;
                co.pc += 1;
            }
            (Outcome::Error, _) if l.protected => {
                co.looping = None;
                co.pc += 1;
            }
            // The generator's error goes on through the loop: its owner
            // dies of it.
            (Outcome::Error, _) => self.end_body(resumer, Then::Error),
        }
    }

    /// Starts `close` of `target`; false if it is over at once (nothing to
    /// run: no guards), true if `target` now runs its guards.
    fn begin_close(&mut self, target: usize) -> bool {
        let co = &mut self.coroutines[target];
        match co.state {
            State::Dead { .. } => false,
            State::Fresh => {
                co.state = State::Dead { error: false };
                false
            }
            State::Active => unreachable!("never generated"),
            State::Suspended => {
                // Rust drops the generators of its loops with its frame
                // (they have no guards: see `close_allowed`).
                let mut next = co.looping.take().map(|l| l.generator);
                while let Some(generator) = next {
                    let generator = &mut self.coroutines[generator];
                    generator.state = State::Dead { error: false };
                    next = generator.looping.take().map(|l| l.generator);
                }
                let co = &mut self.coroutines[target];
                if co.guards.is_empty() {
                    co.state = State::Dead { error: false };
                    return false;
                }
                co.closing = Some(Closing {
                    pending: co.guards.clone(),
                    then: Then::Closed,
                });
                self.enter(target);
                true
            }
        }
    }

    /// The running coroutine, closing, closes its next guard, picking what
    /// the guard does; or it is done.
    fn close_next_guard(&mut self, current: usize) {
        let closing = self.coroutines[current].closing.as_mut().expect("closing");
        let then = closing.then;
        let Some(index) = closing.pending.pop() else {
            self.coroutines[current].closing = None;
            self.finish_closing(current, then);
            return;
        };
        let action = self.guard_action(then);
        let script = self.coroutines[current].script;
        if let Step::Guard { action: place, .. } = &mut self.scripts[script].steps[index] {
            *place = action;
        }
        match action {
            GuardAction::Nothing => {}
            GuardAction::Resume { slot, .. } => {
                let target = self.slots[slot];
                if let State::Fresh | State::Suspended = self.coroutines[target].state {
                    self.enter(target);
                }
            }
            GuardAction::Close(slot) => {
                self.begin_close(self.slots[slot]);
            }
        }
    }

    /// Every guard of `current` is closed: it ends as `then` says.
    fn finish_closing(&mut self, current: usize, then: Then) {
        self.coroutines[current].guards.clear();
        match then {
            Then::Return => self.leave(current, State::Dead { error: false }, Outcome::Return),
            Then::Error => self.leave(current, State::Dead { error: true }, Outcome::Error),
            Then::Closed => {
                self.coroutines[current].state = State::Dead { error: false };
                self.chain.pop();
                let closer = *self.chain.last().expect("the main chunk never leaves");
                // A `Close` step is done (a guard's close needs nothing more).
                if self.coroutines[closer].closing.is_none() {
                    self.coroutines[closer].pc += 1;
                }
            }
        }
    }

    /// What a guard closed now, as `then` says, does: see [`GuardAction`].
    /// Nested closes and resumes stay within the small programs' depth,
    /// whatever the program: Lua counts several C levels for each.
    ///
    /// Unless `known_bugs`, a guard run by an unwind (an error, or a
    /// stackful `close`) resumes nothing: a coroutine resumed while a panic
    /// unwinds can suspend in the middle of its own panic's unwind
    /// (`bugs.rs`).
    fn guard_action(&mut self, then: Then) -> GuardAction {
        let deeper = self.chain.len() < SMALL.depth;
        if !deeper || self.rng.percent(50) {
            return GuardAction::Nothing;
        }
        let unwinding = then != Then::Return;
        let resumable: Vec<usize> = (0..self.slots.len())
            .filter(|&slot| self.coroutines[self.slots[slot]].state != State::Active)
            .filter(|_| self.known_bugs || !unwinding)
            .collect();
        let closable: Vec<usize> = (0..self.slots.len())
            .filter(|&slot| self.close_allowed(self.slots[slot]))
            .collect();
        if !closable.is_empty() && (resumable.is_empty() || self.rng.percent(30)) {
            return GuardAction::Close(self.rng.pick(&closable));
        }
        if resumable.is_empty() {
            return GuardAction::Nothing;
        }
        GuardAction::Resume {
            slot: self.rng.pick(&resumable),
            arg: if self.rng.percent(20) {
                Val::Nil
            } else {
                Val::Int(self.rng.below(100) as i64)
            },
        }
    }

    /// Picks the next step of the running coroutine `current` among those
    /// valid where it stands.
    ///
    /// What is never generated, and why:
    /// - a resume or close of an active (running or normal) coroutine,
    ///   closing ones included: coro rules it out at compile time (the
    ///   resumer holds it borrowed);
    /// - a yield, return or error in the main chunk: Lua's main chunk is no
    ///   coroutine, and an error there would end the program (so the main
    ///   chunk's wrap loops are always under `pcall`);
    /// - a close of a coroutine that died in error: Lua returns `false, err`,
    ///   coro `Ok(())` (docs/differences.md: a `PanicPayload` is owned and
    ///   cannot be returned twice);
    /// - an error that kills a `create`d coroutine while it has guards: Lua's
    ///   `resume` leaves the to-be-closed variables of a coroutine that died
    ///   in error pending until `coroutine.close` (which would then return
    ///   `false, err`, excluded above), while a Rust panic drops every local
    ///   as it unwinds (`differences.rs`). (`wrap` closes them at once, as
    ///   Rust does, so generators may die with guards.)
    /// - a close of a coroutine suspended inside a wrap loop whose generator
    ///   (or a generator below it) has guards: Rust drops the generator with
    ///   the frame, running its guards; Lua leaves the generator suspended
    ///   forever and its guards never run (`differences.rs`);
    /// - a yield from a guard: Lua's `__close` cannot yield during `close`
    ///   or an error, nor can Rust's `Drop` during an unwind, nor ever in
    ///   the stackless backend;
    /// - a guard that raises: a panic in a `Drop` during a stackful unwind
    ///   aborts the process (docs/differences.md);
    /// - chains of active coroutines longer than `Limits::depth`, and wrap
    ///   loops or guard actions in chains longer than the small programs'
    ///   depth: Lua counts C levels toward its limit (several for a
    ///   generator under `pcall`, or a close), coro counts coroutines
    ///   (`differences.rs` compares the two limits);
    /// - what triggers a known coro bug, unless asked (see
    ///   [`Model::guard_action`]).
    ///
    /// Values are never checked here: the model tracks control only.
    fn choose(&mut self, current: usize) -> Step {
        let in_main = current == 0;
        let co = &self.coroutines[current];
        let left = co.budget.saturating_sub(co.pc);
        let can_error = self.error_allowed();
        if !in_main && left == 0 {
            return if can_error && self.rng.percent(20) {
                Step::Error(self.thrown())
            } else {
                Step::Return(self.expr())
            };
        }
        let made = self.slots.len() + self.wraps;
        let room = made < self.limits.coroutines;
        let deeper = self.chain.len() < self.limits.depth;
        let resumable: Vec<usize> = (0..self.slots.len())
            .filter(|&slot| match self.coroutines[self.slots[slot]].state {
                State::Fresh | State::Suspended => deeper,
                State::Dead { .. } => true,
                State::Active => false,
            })
            .collect();
        let live: Vec<usize> = resumable
            .iter()
            .copied()
            .filter(|&slot| {
                matches!(
                    self.coroutines[self.slots[slot]].state,
                    State::Fresh | State::Suspended
                )
            })
            .collect();
        let closable: Vec<usize> = (0..self.slots.len())
            .filter(|&slot| self.close_allowed(self.slots[slot]))
            .collect();

        // Deep programs dive: they resume a fresh coroutine, or make one.
        if self.limits.depth > SMALL.depth && !in_main && self.rng.percent(60) {
            let fresh: Vec<usize> = live
                .iter()
                .copied()
                .filter(|&slot| self.coroutines[self.slots[slot]].state == State::Fresh)
                .collect();
            if !fresh.is_empty() {
                return Step::Resume {
                    slot: self.rng.pick(&fresh),
                    arg: self.expr(),
                };
            }
            if room {
                let slot = self.slots.len();
                let script = self.new_script(Owner::Slot(slot));
                return Step::Create { slot, script };
            }
        }

        #[derive(Clone, Copy)]
        enum Kind {
            Yield,
            Return,
            Error,
            Create,
            Resume,
            Status,
            Close,
            Wrap,
            Running,
            Yieldable,
            Echo,
            Guard,
        }
        let mut kinds: Vec<(Kind, usize)> = vec![(Kind::Running, 1), (Kind::Yieldable, 1)];
        if !in_main {
            kinds.extend([
                (Kind::Yield, 6),
                (Kind::Return, 1),
                (Kind::Echo, 1),
                (Kind::Guard, 1),
            ]);
            if can_error {
                kinds.push((Kind::Error, 1));
            }
        }
        if room {
            kinds.push((Kind::Create, 4));
            // Lua counts several C levels for a generator under `pcall`:
            // they stay within the small programs' depth.
            if self.chain.len() < SMALL.depth {
                kinds.push((Kind::Wrap, 2));
            }
        }
        if !live.is_empty() {
            kinds.push((Kind::Resume, if in_main { 12 } else { 6 }));
        } else if !resumable.is_empty() {
            kinds.push((Kind::Resume, 1));
        }
        if !self.slots.is_empty() {
            kinds.push((Kind::Status, 2));
        }
        if !closable.is_empty() {
            kinds.push((Kind::Close, 1));
        }
        let total: usize = kinds.iter().map(|(_, w)| w).sum();
        let mut ticket = self.rng.below(total);
        let kind = kinds
            .iter()
            .find(|(_, w)| {
                if ticket < *w {
                    true
                } else {
                    ticket -= w;
                    false
                }
            })
            .expect("a ticket below the total")
            .0;
        match kind {
            Kind::Yield => Step::Yield {
                value: self.expr(),
                free: self.rng.percent(30),
            },
            Kind::Return => Step::Return(self.expr()),
            Kind::Error => Step::Error(self.thrown()),
            Kind::Create => {
                let slot = self.slots.len();
                let script = self.new_script(Owner::Slot(slot));
                Step::Create { slot, script }
            }
            Kind::Resume => {
                // Mostly coroutines that can still run.
                let slot = if !live.is_empty() && self.rng.percent(95) {
                    self.rng.pick(&live)
                } else {
                    self.rng.pick(&resumable)
                };
                Step::Resume {
                    slot,
                    arg: self.expr(),
                }
            }
            Kind::Status => Step::Status(self.rng.below(self.slots.len())),
            Kind::Close => Step::Close(self.rng.pick(&closable)),
            Kind::Wrap => {
                let number = self.wraps;
                self.wraps += 1;
                let script = self.new_script(Owner::Wrap(number));
                Step::Wrap {
                    script,
                    body: if in_main || self.rng.percent(50) {
                        LoopBody::Record
                    } else {
                        LoopBody::YieldEach {
                            free: self.rng.percent(30),
                        }
                    },
                    // An error in the main chunk would end the program.
                    protected: in_main || self.rng.percent(50),
                }
            }
            Kind::Running => Step::Running,
            Kind::Yieldable => Step::Yieldable,
            Kind::Echo => Step::Echo,
            Kind::Guard => {
                self.guards += 1;
                let watch = (!self.slots.is_empty() && self.rng.percent(60))
                    .then(|| self.rng.below(self.slots.len()));
                Step::Guard {
                    number: self.guards - 1,
                    watch,
                    action: GuardAction::Nothing,
                }
            }
        }
    }

    fn new_script(&mut self, owner: Owner) -> usize {
        self.scripts.push(Script {
            owner,
            steps: Vec::new(),
        });
        self.scripts.len() - 1
    }

    /// Whether an error raised now by `current` may be generated: it must
    /// not kill a `create`d coroutine that has guards (see [`Model::choose`]).
    /// It goes up through every unprotected wrap loop to the first
    /// coroutine that a `resume` or a `pcall` stops it at.
    fn error_allowed(&self) -> bool {
        let mut position = self.chain.len() - 1;
        loop {
            let co = &self.coroutines[self.chain[position]];
            match self.scripts[co.script].owner {
                Owner::Main => return false,
                Owner::Slot(_) => return co.guards.is_empty(),
                Owner::Wrap(_) => {
                    position -= 1;
                    let owner = &self.coroutines[self.chain[position]];
                    let l = owner.looping.expect("a generator runs inside a loop");
                    if l.protected {
                        return true;
                    }
                }
            }
        }
    }

    /// Whether `close` of this coroutine may be generated (see
    /// [`Model::choose`]).
    fn close_allowed(&self, target: usize) -> bool {
        match self.coroutines[target].state {
            State::Active | State::Dead { error: true } => false,
            State::Fresh | State::Dead { error: false } => true,
            State::Suspended => {
                let mut next = self.coroutines[target].looping;
                while let Some(l) = next {
                    let generator = &self.coroutines[l.generator];
                    if !generator.guards.is_empty() {
                        return false;
                    }
                    next = generator.looping;
                }
                true
            }
        }
    }

    fn expr(&mut self) -> Expr {
        match self.rng.below(10) {
            0 => Expr::Nil,
            1..=4 => Expr::Const(self.rng.below(100) as i64),
            5..=6 => Expr::Reg,
            _ => Expr::RegPlus(self.rng.range(1, 9) as i64),
        }
    }

    fn thrown(&mut self) -> Thrown {
        let n = self.rng.below(100) as i64;
        match self.rng.below(3) {
            0 => Thrown::Int(n),
            1 => Thrown::Str(format!("e{n}")),
            _ => Thrown::Table(n),
        }
    }

    /// The program, with a tail added to every body that did not run to
    /// its end: steps that must never run (the coroutine was closed, or
    /// left suspended, or never started), so that a coroutine run when it
    /// should not be shows in the trace.
    fn finish(mut self) -> Program {
        for script in self.scripts.iter_mut().skip(1) {
            let ended = matches!(script.steps.last(), Some(Step::Return(_) | Step::Error(_)));
            if !ended {
                script.steps.push(Step::Echo);
                if self.rng.percent(50) {
                    script.steps.push(Step::Yield {
                        value: Expr::Const(1000 + self.rng.below(100) as i64),
                        free: false,
                    });
                }
                script.steps.push(Step::Return(Expr::Const(2000)));
            }
        }
        Program {
            scripts: self.scripts,
            depth: self.deepest - 1,
        }
    }
}
