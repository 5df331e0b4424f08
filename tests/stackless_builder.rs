//! `coro::stackless::Builder`: a stackless coroutine with a name, shown by
//! `Debug`, `Handle::name` and `running()`, as the stackful `coro::Builder`
//! names a stackful one (tests/stackful_builder.rs).

use coro::stackless::{Builder, Coroutine, Yielder};
use coro::{Resumed, Status};

// The name reaches every observer: the coroutine's `Debug`, its handle (also
// once the coroutine is gone), `running()` inside the body, and the
// yielder's `Debug`.
#[test]
fn the_name_shows_everywhere() {
    let mut co = Builder::new()
        .name("lexer")
        .build(|y: Yielder<(), String>, ()| async move {
            let inside = coro::running().expect("inside a coroutine");
            y.suspend(inside.name().unwrap_or("?").to_string()).await;
            y.suspend(format!("{y:?}")).await;
            7
        });
    let handle = co.handle();
    assert_eq!(handle.name(), Some("lexer"));
    let text = format!("{co:?}");
    assert!(text.contains("stackless::Coroutine"), "{text}");
    assert!(text.contains("\"lexer\""), "{text}");
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield("lexer".to_string()));
    let yielder = co.resume(()).unwrap().yielded().unwrap();
    assert!(yielder.contains("lexer"), "{yielder}");
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(7));
    drop(co);
    assert_eq!(handle.status(), Status::Dead);
    assert_eq!(handle.name(), Some("lexer"));
    assert!(format!("{handle:?}").contains("lexer"));
}

// Without a name, nothing is shown; `Coroutine::new` is `Builder::new().build`.
#[test]
fn no_name_by_default() {
    let co = Builder::default().build(|_: Yielder<(), ()>, ()| async {});
    assert_eq!(co.handle().name(), None);
    assert!(!format!("{co:?}").contains("name"));
    let co = Coroutine::new(|_: Yielder<(), ()>, ()| async {});
    assert_eq!(co.handle().name(), None);
}

// `build_typed` keeps the body's type, as `Coroutine::typed` does, and the
// name; a builder can be cloned to name several coroutines alike.
#[test]
fn typed_and_cloned_builders() {
    let builder = Builder::new().name("worker");
    let mut typed = builder
        .clone()
        .build_typed(|y: Yielder<u32, u32>, n| async move { y.suspend(n + 1).await * 2 });
    let erased = builder.build(|y: Yielder<u32, u32>, n| async move { y.suspend(n + 1).await * 2 });
    let mut erased: Coroutine<u32, u32, u32> = erased;
    for co in [
        &mut typed as &mut dyn coro::Resume<u32, Yield = u32, Return = u32>,
        &mut erased,
    ] {
        assert_eq!(co.handle().name(), Some("worker"));
        assert_eq!(co.resume(1).unwrap(), Resumed::Yield(2));
        assert_eq!(co.resume(5).unwrap(), Resumed::Return(10));
    }
}

// A name may borrow nothing but the body may: the builder's coroutine
// borrows like `Coroutine::new`'s.
#[test]
fn a_named_coroutine_may_borrow() {
    let text = String::from("a b c");
    let words = text.as_str();
    let co = Builder::new()
        .name("words")
        .build(|y: Yielder<(), &str>, ()| async move {
            for word in words.split(' ') {
                y.suspend(word).await;
            }
        });
    assert_eq!(co.into_iter().collect::<Vec<_>>(), ["a", "b", "c"]);
}
