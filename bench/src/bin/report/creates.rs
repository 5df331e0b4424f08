//! The create table: a trivial coroutine made and run to its end, for every
//! peer.

use std::hint::black_box;

use bench::{
    coro_peer, coro_stackless_peer, coro_typed_peer, corosensei_peer, future_peer, genawaiter_peer,
    generator_peer, lua_peer, thread_peer,
};
use corosensei::stack::DefaultStack;

use crate::peer::{CORO_STACKLESS, CORO_TYPED, Kind, Peer};
use crate::timing::{time, time_loop};

/// coro's stackful row in the create table.
const CORO_CREATE: &str = "coro (pooled stack)";

/// Create a trivial coroutine the peer's usual way and run it to the end.
pub(crate) const CREATES: &[Peer] = &[
    Peer {
        name: CORO_CREATE,
        kind: Kind::Stackful,
        against: "",
        make: || Box::new(|n| time(n, || coro_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: "corosensei (new stack)",
        kind: Kind::Stackful,
        against: CORO_CREATE,
        make: || Box::new(|n| time(n, || corosensei_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: "corosensei (reused stack)",
        kind: Kind::Stackful,
        against: CORO_CREATE,
        make: || {
            let mut spare = Some(DefaultStack::default());
            Box::new(move |n| {
                time(n, || {
                    let stack = spare.take().expect("the stack comes back after each run");
                    let (r, stack) = corosensei_peer::create_finish_on(stack, black_box(7));
                    spare = Some(stack);
                    r
                })
            })
        },
    },
    Peer {
        name: "generator (new stack)",
        kind: Kind::Stackful,
        against: CORO_CREATE,
        make: || Box::new(|n| time(n, || generator_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: CORO_STACKLESS,
        kind: Kind::Stackless,
        against: "",
        make: || Box::new(|n| time(n, || coro_stackless_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: CORO_TYPED,
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        make: || Box::new(|n| time(n, || coro_typed_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: "genawaiter (rc)",
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        make: || Box::new(|n| time(n, || genawaiter_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: "boxed async block, polled once",
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        make: || Box::new(|n| time(n, || future_peer::create_finish(black_box(7)))),
    },
    Peer {
        name: "Lua 5.4, from Rust (mlua create_thread)",
        kind: Kind::Lua,
        against: CORO_CREATE,
        make: || {
            let lua = lua_peer::Factory::new();
            Box::new(move |n| time(n, || lua.create_finish(black_box(7))))
        },
    },
    Peer {
        name: "Lua 5.4, in a Lua loop (GC included)",
        kind: Kind::Lua,
        against: CORO_CREATE,
        make: || {
            let lua = lua_peer::Loop::create_finish();
            Box::new(move |n| time_loop(|| lua.run(black_box(n))))
        },
    },
    Peer {
        name: "OS thread, spawn + join",
        kind: Kind::Threads,
        against: CORO_CREATE,
        make: || Box::new(|n| time(n, || thread_peer::create_finish(black_box(7)))),
    },
];
