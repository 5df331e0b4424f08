//! The round-trip table: one resume plus one suspend, for every peer.

use std::hint::black_box;

use bench::{
    coro_peer, coro_stackless_peer, coro_typed_peer, corosensei_peer, future_peer, genawaiter_peer,
    generator_peer, lua_peer, thread_peer,
};

use crate::peer::{CORO, CORO_STACKLESS, CORO_TYPED, Kind, Peer};
use crate::timing::{time, time_loop};

/// One resume plus one suspend of a coroutine already inside its loop.
pub(crate) const ROUND_TRIPS: &[Peer] = &[
    Peer {
        name: CORO,
        kind: Kind::Stackful,
        against: "",
        make: || {
            let mut co = coro_peer::counter();
            Box::new(move |n| time(n, || coro_peer::step(black_box(&mut co), black_box(7))))
        },
    },
    Peer {
        name: "corosensei",
        kind: Kind::Stackful,
        against: CORO,
        make: || {
            let mut co = corosensei_peer::counter();
            Box::new(move |n| {
                time(n, || {
                    corosensei_peer::step(black_box(&mut co), black_box(7))
                })
            })
        },
    },
    Peer {
        name: "generator",
        kind: Kind::Stackful,
        against: CORO,
        make: || {
            let mut co = generator_peer::counter();
            Box::new(move |n| time(n, || generator_peer::step(black_box(&mut co), black_box(7))))
        },
    },
    Peer {
        name: CORO_STACKLESS,
        kind: Kind::Stackless,
        against: "",
        make: || {
            let mut co = coro_stackless_peer::counter();
            Box::new(move |n| {
                time(n, || {
                    coro_stackless_peer::step(black_box(&mut co), black_box(7))
                })
            })
        },
    },
    Peer {
        name: CORO_TYPED,
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        make: || {
            let mut co = coro_typed_peer::counter();
            Box::new(move |n| {
                time(n, || {
                    coro_typed_peer::step(black_box(&mut co), black_box(7))
                })
            })
        },
    },
    Peer {
        name: "genawaiter (rc)",
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        make: || {
            let mut co = genawaiter_peer::counter();
            Box::new(move |n| {
                time(n, || {
                    genawaiter_peer::step(black_box(&mut co), black_box(7))
                })
            })
        },
    },
    Peer {
        name: "hand-written Future, no-op waker",
        kind: Kind::Stackless,
        against: CORO_STACKLESS,
        make: || {
            let mut co = future_peer::counter();
            Box::new(move |n| time(n, || future_peer::step(black_box(&mut co))))
        },
    },
    Peer {
        name: "Lua 5.4, resumed from Rust (mlua)",
        kind: Kind::Lua,
        against: CORO,
        make: || {
            let co = lua_peer::Counter::new();
            Box::new(move |n| time(n, || co.step(black_box(7))))
        },
    },
    Peer {
        name: "Lua 5.4, resumed in a Lua loop",
        kind: Kind::Lua,
        against: CORO,
        make: || {
            let lua = lua_peer::Loop::round_trips();
            Box::new(move |n| time_loop(|| lua.run(black_box(n))))
        },
    },
    Peer {
        name: "2 OS threads, mpsc ping-pong",
        kind: Kind::Threads,
        against: CORO,
        make: || {
            let threads = thread_peer::PingPong::new();
            Box::new(move |n| time(n, || threads.step(black_box(7))))
        },
    },
];
