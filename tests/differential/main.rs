//! Differential test: random coroutine programs run by the real Lua 5.4
//! (vendored by `mlua`) and by coro, on both backends; the traces must be
//! equal.
//!
//! | file | what |
//! | --- | --- |
//! | `program.rs` | the programs, and the seeded generator that writes them |
//! | `lua.rs` | a program as Lua source, run by Lua |
//! | `world.rs` | what the two Rust interpreters share: slots, trace, guards |
//! | `stackful.rs` | the interpreter on `coro::Coroutine` |
//! | `stackless.rs` | the same as async code on `coro::stackless::Coroutine` |
//! | `differences.rs` | each difference the generator avoids, shown on both sides |
//! | `bugs.rs` | each coro bug the programs found, in its smallest form |
//!
//! The programs exercise nested creation, resumes with values, yields (the
//! yielder's and the free `suspend`), returns, errors raised with integers,
//! strings and tables, status checks, `running` and `isyieldable`,
//! to-be-closed variables (Rust: locals with a `Drop`) that watch a
//! coroutine's status and resume or close other coroutines as they close,
//! closes of fresh, suspended and dead coroutines, long chains of nested
//! resumes, and generators through `wrap`, with and without `pcall`,
//! recording or re-yielding their values. What Lua does and coro
//! deliberately does not is never generated: the list is on `Model::choose`
//! in `program.rs`.
//!
//! ```text
//! cargo test --test differential                  # the default run
//! CORO_DIFF_PROGRAMS=100000 cargo test --release --test differential
//! CORO_DIFF_FIRST=5000000 cargo test --test differential matches_lua  # other seeds
//! CORO_DIFF_SHOW=42 cargo test --test differential show -- --ignored --nocapture
//! CORO_DIFF_KNOWN_BUGS=1 ...                       # see `KNOWN_BUGS`
//! ```
//!
//! `CORO_DIFF_PROGRAMS` programs are run on each backend (default: 5000 in
//! debug, 20000 in release, 40 under Valgrind), from seed `CORO_DIFF_FIRST`
//! (default 0); each runs once in Lua per backend.
//!
//! A divergence fails the test with the seed, the Lua program and both
//! traces. A coro bug gets its smallest form in `bugs.rs` and its seed in
//! `REGRESSIONS`; a deliberate difference gets excluded from the generator,
//! with its reason, and shown in `differences.rs`.

// Where coro has no stackful backend (see build.rs), only the stackless
// interpreter runs; the side-by-side differences and bugs need both.
#[cfg(coro_stackful)]
mod bugs;
#[cfg(coro_stackful)]
mod differences;
mod hooks;
mod lua;
mod program;
#[cfg(coro_stackful)]
mod stackful;
mod stackless;
mod world;

use std::fmt::Write;
use std::rc::Rc;
use std::time::Instant;

use hooks::{panic_message, silence_panics};
use program::{GuardAction, Program, Step, generate};

/// Seeds to replay on every run, with the generator's known bugs on: those
/// that once diverged, and a few that cover a case worth keeping. A seed
/// names a program of this generator: after a change to `program.rs`, check
/// that each still shows its case (`CORO_DIFF_SHOW`).
const REGRESSIONS: &[(u64, &str)] = &[
    (
        2070,
        "closing a coroutine with two guards: newest first, each seeing \
         its coroutine running and unable to yield",
    ),
    (
        842,
        "a generator's error goes up through an unprotected loop in another \
         generator, to the main chunk's pcall",
    ),
    (159, "a chain of 49 active coroutines"),
];

/// Whether the random runs generate what triggers the coro bugs of
/// `bugs.rs`: off, so that a known bug does not stop them before they find
/// a new one. Turn it on (or remove it) once the bugs are fixed.
const KNOWN_BUGS: bool = false;

/// `KNOWN_BUGS`, or `CORO_DIFF_KNOWN_BUGS=1` (to replay a regression seed).
fn known_bugs() -> bool {
    KNOWN_BUGS || std::env::var("CORO_DIFF_KNOWN_BUGS").is_ok_and(|v| v == "1")
}

/// Programs per backend in a default run: CI runs the suite in debug and in
/// release, on 2 cores, and under Valgrind.
fn default_programs() -> u64 {
    if under_valgrind() {
        40
    } else if cfg!(debug_assertions) {
        5000
    } else {
        20000
    }
}

/// Valgrind preloads its own libraries; its runs of every test binary prove
/// memory safety, not coverage, and run some 50 times slower.
fn under_valgrind() -> bool {
    std::env::var("LD_PRELOAD").is_ok_and(|preload| preload.contains("vgpreload"))
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value}: not a number")),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    #[cfg(coro_stackful)]
    Stackful,
    Stackless,
}

impl Backend {
    /// Every backend this target has.
    const ALL: &[Backend] = &[
        #[cfg(coro_stackful)]
        Backend::Stackful,
        Backend::Stackless,
    ];

    fn run(self, program: Rc<Program>) -> Vec<String> {
        match self {
            #[cfg(coro_stackful)]
            Backend::Stackful => stackful::run(program),
            Backend::Stackless => stackless::run(program),
        }
    }

    /// What coro on this backend must print where Lua printed `lua`.
    ///
    /// `coroutine.isyieldable()` is true in every coroutine's own code;
    /// coro's `is_yieldable()` only where the free `suspend` could suspend,
    /// never in a stackless body's synchronous code (docs/differences.md,
    /// the row of `isyieldable`): the stackless backend prints false there.
    fn expected(self, lua: &[String]) -> Vec<String> {
        match self {
            #[cfg(coro_stackful)]
            Backend::Stackful => lua.to_vec(),
            Backend::Stackless => lua
                .iter()
                .map(|event| event.replace("yieldable=true", "yieldable=false"))
                .collect(),
        }
    }
}

/// Runs the program of `seed` in Lua and on `backend`; the report of a
/// divergence.
fn check(seed: u64, backend: Backend, known_bugs: bool) -> Result<(), String> {
    let program = Rc::new(generate(seed, known_bugs));
    let source = lua::render(&program);
    let expected = backend.expected(&lua::run(&source));
    let actual = backend.run(program);
    if actual == expected {
        return Ok(());
    }
    Err(report(
        seed, backend, known_bugs, &source, &expected, &actual,
    ))
}

fn report(
    seed: u64,
    backend: Backend,
    known_bugs: bool,
    source: &str,
    expected: &[String],
    actual: &[String],
) -> String {
    let first = expected
        .iter()
        .zip(actual)
        .position(|(e, a)| e != a)
        .unwrap_or(expected.len().min(actual.len()));
    let bugs = if known_bugs {
        "CORO_DIFF_KNOWN_BUGS=1 "
    } else {
        ""
    };
    format!(
        "seed {seed}: {backend:?} coro diverges from Lua at event {first}\n\
         replay: {bugs}CORO_DIFF_SHOW={seed} cargo test --test differential show -- --ignored --nocapture\n\n\
         -- the program --\n{source}\n{}",
        traces(backend, expected, actual)
    )
}

/// Both traces side by side, differences marked.
fn traces(backend: Backend, expected: &[String], actual: &[String]) -> String {
    let mut out =
        format!("-- the traces: Lua (as {backend:?} coro must print it) | {backend:?} coro --\n");
    for index in 0..expected.len().max(actual.len()) {
        let e = expected.get(index).map_or("", String::as_str);
        let a = actual.get(index).map_or("", String::as_str);
        let mark = if e == a { ' ' } else { '!' };
        writeln!(out, "{mark} {index:3} {e:<50} | {a}").unwrap();
    }
    out
}

/// Runs `count` programs from seed `first` on `backend`; fails on the first
/// divergence.
fn run_many(backend: Backend) {
    silence_panics();
    let count = env_u64("CORO_DIFF_PROGRAMS").unwrap_or_else(default_programs);
    let first = env_u64("CORO_DIFF_FIRST").unwrap_or(0);
    let started = Instant::now();
    for seed in first..first + count {
        if let Err(report) = check(seed, backend, known_bugs()) {
            // The panic hook is silenced: the report goes to the test's
            // captured output, shown with the failure.
            eprintln!("{report}");
            panic!("seed {seed}: {backend:?} coro diverges from Lua (the report is above)");
        }
    }
    eprintln!(
        "{backend:?}: {count} programs from seed {first} matched Lua in {:.1?}",
        started.elapsed()
    );
}

#[cfg(coro_stackful)]
#[test]
fn stackful_matches_lua() {
    run_many(Backend::Stackful);
}

#[test]
fn stackless_matches_lua() {
    run_many(Backend::Stackless);
}

/// Seeds that show the known limitation of `bugs.rs`, replayed by the
/// ignored test `known_limitation` once it is lifted.
const KNOWN_LIMITATION: &[(u64, &str)] = &[
    (
        763,
        "bugs.rs: a generator resumed by a guard during an unwind panics, \
         and could suspend while its own panic unwinds it (yieldable=true)",
    ),
    (2029, "the same, deeper in the program"),
];

#[test]
fn regressions() {
    replay(REGRESSIONS);
}

#[test]
#[ignore = "known limitation of the stackful backend, documented in docs/differences.md \
            ('a second panic inside a coroutine resumed during an unwind'); see bugs.rs"]
fn known_limitation() {
    replay(KNOWN_LIMITATION);
}

fn replay(seeds: &[(u64, &str)]) {
    silence_panics();
    let failures: Vec<String> = seeds
        .iter()
        .flat_map(|&(seed, case)| {
            Backend::ALL.iter().map(move |&backend| {
                check(seed, backend, true).map_err(|report| format!("{case}\n{report}"))
            })
        })
        .filter_map(Result::err)
        .collect();
    for failure in &failures {
        eprintln!("{failure}\n");
    }
    assert!(
        failures.is_empty(),
        "{} regressions diverge (the reports are above)",
        failures.len()
    );
}

/// Prints the program of `CORO_DIFF_SHOW` and, for each backend, Lua's
/// trace beside coro's. A tool, not a check: it runs only when asked for.
#[test]
#[ignore = "a tool: CORO_DIFF_SHOW=<seed> cargo test --test differential show -- --ignored --nocapture"]
fn show() {
    let seed = env_u64("CORO_DIFF_SHOW").expect("set CORO_DIFF_SHOW to the seed to show");
    silence_panics();
    let program = Rc::new(generate(seed, known_bugs()));
    let source = lua::render(&program);
    println!("-- seed {seed} --\n{source}");
    let lua = lua::run(&source);
    for &backend in Backend::ALL {
        let expected = backend.expected(&lua);
        let actual = backend.run(program.clone());
        println!("{}", traces(backend, &expected, &actual));
    }
}

/// The generator still reaches every kind of event: each shows in the Lua
/// traces of the first few hundred programs.
#[test]
fn coverage() {
    if under_valgrind() {
        return;
    }
    /// A kind of event, and how to recognise it.
    type Kind = (&'static str, fn(&str) -> bool);
    let kinds: &[Kind] = &[
        ("a yield", |e| e.contains("-> yield ")),
        ("a return", |e| e.contains("-> return ")),
        ("an integer error", |e| {
            e.split_once("-> error ")
                .is_some_and(|(_, v)| v.starts_with(|c: char| c.is_ascii_digit()))
        }),
        ("a string error", |e| e.contains("-> error \"e")),
        ("a table error", |e| e.contains("-> error table ")),
        ("a resume of a dead coroutine", |e| {
            e.ends_with("-> error \"cannot resume dead coroutine\"")
        }),
        ("a normal coroutine", |e| e.contains(" = normal")),
        ("a running coroutine", |e| e.contains(" = running")),
        ("a suspended coroutine", |e| e.contains(" = suspended")),
        ("a dead coroutine", |e| e.contains(" = dead")),
        ("a close", |e| e.starts_with("close c")),
        ("a guard closed by a return", |e| {
            e.starts_with("close g") && e.contains("yieldable=true")
        }),
        ("a guard closed by a close or an error", |e| {
            e.starts_with("close g") && e.contains("yieldable=false")
        }),
        ("a generator's value", |e| {
            e.starts_with("wrap") && e.contains(" -> ")
        }),
        ("a generator's end", |e| {
            e.starts_with("wrap") && e.ends_with(" end")
        }),
        ("a generator's error", |e| {
            e.starts_with("wrap") && e.contains("-> error")
        }),
        ("running", |e| e.starts_with("running in c")),
        ("a generator running", |e| e.starts_with("running in w")),
        ("isyieldable in a coroutine", |e| {
            e.contains(" yieldable=true")
        }),
        ("isyieldable in the main chunk", |e| {
            e == "main yieldable=false"
        }),
        ("a value received", |e| e.starts_with("echo")),
    ];
    let mut seen = vec![false; kinds.len()];
    let mut deepest = 0;
    let (mut guard_resumes, mut guard_closes) = (0, 0);
    for seed in 0..400 {
        let program = generate(seed, known_bugs());
        deepest = deepest.max(program.depth);
        for step in program.scripts.iter().flat_map(|script| &script.steps) {
            match step {
                Step::Guard {
                    action: GuardAction::Resume { .. },
                    ..
                } => guard_resumes += 1,
                Step::Guard {
                    action: GuardAction::Close(_),
                    ..
                } => guard_closes += 1,
                _ => {}
            }
        }
        for event in lua::run(&lua::render(&program)) {
            for (seen, (_, kind)) in seen.iter_mut().zip(kinds) {
                *seen |= kind(&event);
            }
        }
    }
    let missing: Vec<&str> = kinds
        .iter()
        .zip(&seen)
        .filter(|(_, seen)| !**seen)
        .map(|((name, _), _)| *name)
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
    assert!(
        deepest >= 30,
        "the deepest chain has only {deepest} coroutines"
    );
    assert!(
        guard_resumes > 10 && guard_closes > 10,
        "guards resumed {guard_resumes} and closed {guard_closes} coroutines"
    );
}
