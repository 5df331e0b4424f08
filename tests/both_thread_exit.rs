//! Coroutines still suspended when their thread exits, kept in a
//! thread-local: the thread-local's destructor drops them, which closes
//! them, and every live local of their bodies is dropped then.
//!
//! By then other thread-locals of the thread may be gone already: Rust runs
//! their destructors in an order coro can neither see nor change (on Linux,
//! the reverse of their first use). A body must therefore not hold a
//! reference into a thread-local (`LocalKey::with`'s argument) across a
//! suspension, and its destructors reach thread-locals with `try_with`,
//! which reports a destroyed one. The crate docs ("Threads") say why; these
//! tests show the behaviour that the safe pattern gets.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

#[cfg(coro_stackful)]
use coro::Coroutine;
use coro::Resume;
use coro::stackless::{self, Yielder};

/// What the destructors of the bodies' locals saw.
type Seen = Arc<Mutex<Vec<String>>>;

/// A suspended coroutine of either backend.
type Suspended = Box<dyn Resume<(), Yield = (), Return = ()>>;

/// A local of a body: when dropped, it records whether the thread-local
/// `VALUE` could still be reached.
struct Reporter {
    name: &'static str,
    seen: Seen,
}

impl Drop for Reporter {
    fn drop(&mut self) {
        let value = VALUE.try_with(|v| v.borrow().clone());
        let entry = match value {
            Ok(value) => format!("{}: value {value}", self.name),
            Err(_) => format!("{}: value destroyed", self.name),
        };
        self.seen.lock().unwrap().push(entry);
    }
}

thread_local! {
    /// A thread-local with a destructor, first used after `HOLDER`, so
    /// destroyed before it.
    static VALUE: RefCell<String> = RefCell::new(String::from("alive"));
    /// Holds suspended coroutines until the thread exits.
    static HOLDER: RefCell<Vec<Suspended>> = const { RefCell::new(Vec::new()) };
}

/// Runs a thread that leaves one suspended coroutine of each backend in
/// `HOLDER`, whose bodies read `VALUE` after each suspension (never across
/// one); returns what their locals' destructors saw at the thread's exit.
fn run_thread(touch_value_first: bool) -> Vec<String> {
    let seen = Seen::default();
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        if touch_value_first {
            // VALUE's destructor registered first: it runs after HOLDER's.
            VALUE.with(|_| ());
        }
        HOLDER.with(|_| ());
        #[cfg(coro_stackful)]
        {
            let seen = seen2.clone();
            let mut stackful = Coroutine::<(), (), ()>::new(move |y, ()| {
                let _reporter = Reporter {
                    name: "stackful",
                    seen,
                };
                loop {
                    VALUE.with(|v| assert_eq!(*v.borrow(), "alive"));
                    y.suspend(());
                }
            });
            stackful.resume(()).unwrap();
            HOLDER.with(|holder| holder.borrow_mut().push(Box::new(stackful)));
        }
        let seen = seen2;
        let mut stackless = stackless::Coroutine::new(move |y: Yielder<(), ()>, ()| async move {
            let _reporter = Reporter {
                name: "stackless",
                seen,
            };
            loop {
                VALUE.with(|v| assert_eq!(*v.borrow(), "alive"));
                y.suspend(()).await;
            }
        });
        stackless.resume(()).unwrap();
        HOLDER.with(|holder| holder.borrow_mut().push(Box::new(stackless)));
    })
    .join()
    .unwrap();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    seen
}

/// What both backends' destructors report, or only the stackless one's
/// where there is no stackful backend.
fn expected(both: &[&str]) -> Vec<String> {
    both.iter()
        .filter(|line| cfg!(coro_stackful) || line.starts_with("stackless"))
        .map(|line| line.to_string())
        .collect()
}

// HOLDER was used first, so its destructor runs last: VALUE is gone when the
// coroutines are closed, and their destructors see so through `try_with`.
#[test]
fn coroutines_closed_at_thread_exit_after_a_thread_local_died() {
    assert_eq!(
        run_thread(false),
        expected(&["stackful: value destroyed", "stackless: value destroyed"])
    );
}

// VALUE was used first, so it is still alive when HOLDER's destructor
// closes the coroutines.
#[test]
fn coroutines_closed_at_thread_exit_before_a_thread_local_died() {
    assert_eq!(
        run_thread(true),
        expected(&["stackful: value alive", "stackless: value alive"])
    );
}
