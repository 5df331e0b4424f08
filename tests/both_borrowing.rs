//! Borrowing coroutines on both backends: bodies, inputs, yields and return
//! values that borrow from the caller for a lifetime `'a`.
//!
//! The lifetime errors (a borrowing coroutine cannot outlive what it
//! borrows, nor can what it yields) are compile-time facts, pinned by the
//! `compile_fail` doctests of the crate docs' "Borrowing" section. These
//! tests pin the run-time side: the borrowed values arrive whole and in
//! order, a borrow of `&mut` is given back once the coroutine is gone, a
//! coroutine closed (or dropped) midway drops its locals, which refer to
//! borrowed data, while that data is still alive, a forgotten borrowing
//! coroutine is never touched again after what it borrows is freed, and the
//! free `suspend` refuses a borrowing stackful coroutine. `scripts/valgrind`
//! runs this binary under memcheck, where a use of a borrow after its end
//! would be reported.

use std::cell::RefCell;
use std::sync::Mutex;

use coro::stackless::{self, Yielder};
use coro::{Error, Resumed, Status};

/// The text the tokenizers read: words, numbers and punctuation.
const SOURCE: &str = "let answer = (6 * 7); // done";

/// What the tokenizers must find in [`SOURCE`].
const TOKENS: [&str; 10] = ["let", "answer", "=", "(", "6", "*", "7", ")", ";", "//"];

/// Every token of [`SOURCE`], for tokenizers that read past the comment.
const ALL_TOKENS: [&str; 11] = [
    "let", "answer", "=", "(", "6", "*", "7", ")", ";", "//", "done",
];

/// The next token of `text` from byte `at` on: a run of alphanumerics, a
/// `//` comment start, or one punctuation character; `None` at the end.
/// Returns the token, a slice of `text`, and where the rest starts.
fn next_token(text: &str, mut at: usize) -> Option<(&str, usize)> {
    let bytes = text.as_bytes();
    while at < bytes.len() && bytes[at].is_ascii_whitespace() {
        at += 1;
    }
    if at == bytes.len() {
        return None;
    }
    let start = at;
    if bytes[at].is_ascii_alphanumeric() {
        while at < bytes.len() && bytes[at].is_ascii_alphanumeric() {
            at += 1;
        }
    } else if text[at..].starts_with("//") {
        at += 2;
    } else {
        at += 1;
    }
    Some((&text[start..at], at))
}

/// True if `token` is a slice of `text` itself, not a copy.
fn points_into(token: &str, text: &str) -> bool {
    let range = text.as_bytes().as_ptr_range();
    let start = token.as_ptr();
    range.contains(&start) && token.len() <= range.end as usize - start as usize
}

/// Where [`forget`] keeps the addresses of what it leaks.
static FORGOTTEN: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// `mem::forget` of `value`, moved into a box first whose address is kept
/// in [`FORGOTTEN`]: forgetting leaks by design, and so a leak checker
/// (`scripts/valgrind`) sees the leak as still reachable, not as an error,
/// while it still checks that nothing reads what the value borrowed once
/// that is freed.
fn forget<T>(value: T) {
    let boxed = Box::new(value);
    FORGOTTEN
        .lock()
        .unwrap()
        .push(std::ptr::from_ref(&*boxed).addr());
    std::mem::forget(boxed);
}

/// A local of a body that refers to borrowed data: when dropped, it records
/// its name in the borrowed log (so the log must still be alive then).
struct Witness<'a> {
    name: &'static str,
    log: &'a RefCell<Vec<String>>,
}

impl Drop for Witness<'_> {
    fn drop(&mut self) {
        self.log.borrow_mut().push(format!("dropped {}", self.name));
    }
}

// ---- stackful --------------------------------------------------------------

#[cfg(coro_stackful)]
mod stackful {
    use super::*;
    use coro::{Body, Builder, Coroutine, Resume};

    /// A tokenizer over a borrowed text, yielding slices of it; it returns
    /// how many tokens it found.
    fn tokenizer(text: &str) -> Coroutine<(), &str, usize, dyn Body<(), &str, usize> + '_> {
        Coroutine::borrowing(move |y, ()| {
            let (mut at, mut count) = (0, 0);
            while let Some((token, next)) = next_token(text, at) {
                if token == "//" {
                    // Tokens end at a comment.
                    y.suspend(token);
                    return count + 1;
                }
                y.suspend(token);
                (at, count) = (next, count + 1);
            }
            count
        })
    }

    #[test]
    fn stackful_tokenizer_yields_slices_of_the_borrowed_text() {
        // Built at run time, so that the tokens can only come from here.
        let text = String::from(SOURCE);
        let mut co = tokenizer(&text);
        let mut tokens = Vec::new();
        let count = loop {
            match co.resume(()).unwrap() {
                Resumed::Yield(token) => {
                    assert!(points_into(token, &text), "{token:?} is a copy");
                    tokens.push(token);
                }
                Resumed::Return(count) => break count,
            }
        };
        assert_eq!(tokens, TOKENS);
        assert_eq!(count, TOKENS.len());
        assert_eq!(co.status(), Status::Dead);
        // The tokens outlive the coroutine: they borrow the text, not it.
        drop(co);
        assert_eq!(tokens.concat(), "letanswer=(6*7);//");
    }

    #[test]
    fn stackful_borrowing_generator_is_an_iterator() {
        let text = String::from(SOURCE);
        let tokens: Vec<&str> = tokenizer(&text).into_iter().collect();
        assert_eq!(tokens, TOKENS);
        let longest = tokenizer(&text).into_iter().max_by_key(|t| t.len());
        assert_eq!(longest, Some("answer"));
    }

    /// Inputs borrow too: each resume hands in a line of a borrowed text, and
    /// the body hands back the line's first word, a slice of that line.
    #[test]
    fn stackful_borrowed_inputs_and_yields() {
        let lines = [
            String::from("alpha beta"),
            String::from("gamma"),
            String::new(),
        ];
        let mut co = Coroutine::borrowing(|y, mut line: &str| {
            let mut seen = 0;
            while !line.is_empty() {
                seen += 1;
                line = y.suspend(line.split(' ').next().unwrap());
            }
            seen
        });
        assert_eq!(co.resume(&lines[0]).unwrap(), Resumed::Yield("alpha"));
        assert_eq!(co.resume(&lines[1]).unwrap(), Resumed::Yield("gamma"));
        assert_eq!(co.resume(&lines[2]).unwrap(), Resumed::Return(2));
    }

    /// Borrowed values of every size cross the switch whole: a reference to a
    /// primitive is not the primitive (it goes by address, not as a word).
    #[test]
    fn stackful_borrowed_values_cross_the_switch_whole() {
        let numbers = [u64::MAX - 1, 7, 41];
        let mut co = Coroutine::borrowing(|y, first: Option<&u64>| {
            let second = y.suspend(first.unwrap());
            let third = y.suspend(second.unwrap());
            *third.unwrap() + 1
        });
        for number in &numbers[..2] {
            let Resumed::Yield(got) = co.resume(Some(number)).unwrap() else {
                panic!("a yield")
            };
            assert!(std::ptr::eq(got, number));
            assert_eq!(got, number);
        }
        assert_eq!(co.resume(Some(&numbers[2])).unwrap(), Resumed::Return(42));
    }

    /// `new` lets the body borrow mutably (its input and yield types are
    /// `'static`); the borrow ends with the coroutine.
    #[test]
    fn stackful_body_borrows_a_vec_mutably() {
        let mut log: Vec<u32> = Vec::new();
        let mut co = Coroutine::new(|y, mut n: u32| {
            while n != 0 {
                log.push(n);
                n = y.suspend(log.len());
            }
            log.iter().sum::<u32>()
        });
        assert_eq!(co.resume(3).unwrap(), Resumed::Yield(1));
        assert_eq!(co.resume(4).unwrap(), Resumed::Yield(2));
        assert_eq!(co.resume(0).unwrap(), Resumed::Return(7));
        drop(co);
        log.push(10);
        assert_eq!(log, [3, 4, 10]);
    }

    /// A borrowing body fills a `&mut Vec` with slices of a borrowed text.
    #[test]
    fn stackful_borrowing_body_fills_a_borrowed_vec() {
        let text = String::from(SOURCE);
        let mut found: Vec<&str> = Vec::new();
        let mut co = Builder::new()
            .name("collector")
            .build_borrowing(|y, ()| {
                let mut at = 0;
                while let Some((token, next)) = next_token(&text, at) {
                    found.push(token);
                    at = next;
                    y.suspend(found.len());
                }
            })
            .unwrap();
        assert_eq!(co.handle().name(), Some("collector"));
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield(1));
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield(2));
        co.close().unwrap();
        drop(co);
        assert_eq!(found, ["let", "answer"]);
    }

    /// Closed midway, the body's locals that refer to borrowed data are
    /// dropped by the unwind, newest first, while that data is alive.
    #[test]
    fn stackful_close_midway_drops_locals_that_borrow() {
        let log = RefCell::new(Vec::new());
        let text = String::from(SOURCE);
        let mut co = Coroutine::borrowing(|y, ()| {
            let _outer = Witness {
                name: "outer",
                log: &log,
            };
            let mut at = 0;
            while let Some((token, next)) = next_token(&text, at) {
                let _inner = Witness {
                    name: "inner",
                    log: &log,
                };
                log.borrow_mut().push(format!("token {token}"));
                y.suspend(token);
                at = next;
            }
        });
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield("let"));
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield("answer"));
        co.close().unwrap();
        assert_eq!(co.status(), Status::Dead);
        assert_eq!(
            *log.borrow(),
            [
                "token let",
                "dropped inner",
                "token answer",
                "dropped inner",
                "dropped outer"
            ]
        );
        // Dropping a suspended one closes it the same way.
        log.borrow_mut().clear();
        let mut co = Coroutine::borrowing(|y, ()| {
            let _w = Witness {
                name: "by drop",
                log: &log,
            };
            y.suspend(&text[..3]);
        });
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield("let"));
        drop(co);
        assert_eq!(*log.borrow(), ["dropped by drop"]);
    }

    /// A never-started borrowing coroutine drops its body, and what the body
    /// captured, without running it.
    #[test]
    fn stackful_unstarted_borrowing_coroutine_drops_its_capture() {
        let log = RefCell::new(Vec::new());
        let witness = Witness {
            name: "captured",
            log: &log,
        };
        // With a turbofish, the fourth parameter is named `_`: left out, it
        // would be its default, which borrows nothing.
        let co = Coroutine::<(), &str, (), _>::borrowing(move |_, ()| {
            let _w = witness;
            unreachable!("never resumed");
        });
        drop(co);
        assert_eq!(*log.borrow(), ["dropped captured"]);
    }

    /// A panic in a borrowing body is the resumer's error, and the borrowed
    /// data is untouched.
    #[test]
    fn stackful_borrowing_body_that_panics() {
        let text = String::from("boom");
        let mut co = Coroutine::<(), &str, (), _>::borrowing(|y, ()| {
            y.suspend(&text);
            std::panic::panic_any(text.len());
        });
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield("boom"));
        let Err(Error::Panic(payload)) = co.resume(()) else {
            panic!("the body panicked")
        };
        assert_eq!(*payload.downcast::<usize>().unwrap(), 4);
        assert_eq!(text, "boom");
    }

    /// A suspended borrowing coroutine, forgotten: its stack and header leak,
    /// nothing resumes or closes it again, so the text it borrows may be freed
    /// and its memory reused (memcheck would see a read of it). The locals on
    /// its stack are never dropped.
    #[test]
    fn stackful_forget_of_a_suspended_borrowing_coroutine() {
        let log = RefCell::new(Vec::new());
        let handle = {
            let text = String::from(SOURCE);
            let mut co = tokenizer(&text);
            let mut closer = Coroutine::borrowing(|y, ()| {
                let _w = Witness {
                    name: "forgotten",
                    log: &log,
                };
                y.suspend(text.as_str());
            });
            assert_eq!(co.resume(()).unwrap(), Resumed::Yield("let"));
            assert_eq!(closer.resume(()).unwrap(), Resumed::Yield(SOURCE));
            let handle = co.handle();
            forget(co);
            forget(closer);
            handle
        };
        // The text is gone; overwrite the heap where it was.
        let scribble: Vec<String> = (0..64).map(|n| "x".repeat(n)).collect();
        assert_eq!(scribble.len(), 64);
        assert_eq!(handle.status(), Status::Suspended);
        assert!(log.borrow().is_empty(), "nothing of a forgotten body runs");
        // Other coroutines go on as usual.
        let text = String::from(SOURCE);
        assert_eq!(tokenizer(&text).into_iter().count(), TOKENS.len());
        assert_eq!(handle.status(), Status::Suspended);
    }

    /// A borrowing coroutine forgotten on a thread that then exits, while
    /// the text it borrows lives on in the spawning thread until after that:
    /// the thread's exit (its stack pool, its chain) touches nothing of the
    /// forgotten coroutine.
    #[test]
    fn stackful_forget_then_thread_exit() {
        let text = String::from(SOURCE);
        let tokens = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut co = tokenizer(&text);
                    let first = co.resume(()).unwrap().yielded();
                    forget(co);
                    // A finished one beside it, on the same thread's pool.
                    let tokens: Vec<&str> = tokenizer(&text).into_iter().collect();
                    (first, tokens)
                })
                .join()
                .unwrap()
        });
        assert_eq!(tokens, (Some("let"), TOKENS.to_vec()));
        drop(text);
        let scribble: Vec<String> = (0..64).map(|n| "y".repeat(n)).collect();
        assert_eq!(scribble[63].len(), 63);
    }

    /// The free `suspend` cannot check a borrowing coroutine's types: it
    /// refuses with `UncheckedTypes`, drops the value, and the body goes on.
    #[test]
    fn stackful_free_suspend_in_a_borrowing_coroutine_is_refused() {
        let text = String::from(SOURCE);
        let mut co = Coroutine::borrowing(|y, ()| {
            let refused = coro::suspend::<&'static str, ()>("static");
            let Err(err) = refused else {
                panic!("the free suspend went through")
            };
            assert!(matches!(err, Error::UncheckedTypes));
            assert_eq!(
                err.to_string(),
                "attempt to yield with the free suspend in a borrowing coroutine, whose types \
                 cannot be checked: suspend it with its Yielder"
            );
            // Even with the coroutine's own types spelled `'static`.
            assert!(matches!(
                coro::suspend::<u32, ()>(1),
                Err(Error::UncheckedTypes)
            ));
            // It is still yieldable, through its yielder.
            assert!(coro::is_yieldable());
            y.suspend(&text[4..10]);
            "done"
        });
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield("answer"));
        assert_eq!(co.resume(()).unwrap(), Resumed::Return("done"));
    }

    /// A coroutine made by `new` whose body borrows: the free `suspend` works
    /// in it, as its input and yield types are `'static` and checked.
    #[test]
    fn stackful_free_suspend_in_new_with_a_borrowing_body() {
        let words = vec![String::from("to"), String::from("be")];
        fn hand_out(word: &str) -> u32 {
            coro::suspend::<usize, u32>(word.len()).unwrap()
        }
        let mut co = Coroutine::<u32, usize, u32, _>::new(|_, first| {
            let mut total = first;
            for word in &words {
                total += hand_out(word);
            }
            assert!(matches!(
                coro::suspend::<&str, u32>("wrong"),
                Err(Error::TypeMismatch { .. })
            ));
            total
        });
        assert_eq!(co.resume(1).unwrap(), Resumed::Yield(2));
        assert_eq!(co.resume(10).unwrap(), Resumed::Yield(2));
        assert_eq!(co.handle().status(), Status::Suspended);
        assert_eq!(co.resume(100).unwrap(), Resumed::Return(111));
    }

    /// A borrowing generator as a stream, polled by an executor; `coro::wait`
    /// works in it (it passes no value).
    #[cfg(feature = "futures")]
    #[test]
    fn stackful_borrowing_generator_is_a_stream() {
        use futures_core::Stream;
        use std::future::poll_fn;
        use std::pin::Pin;
        let text = String::from(SOURCE);
        let mut stream = Coroutine::borrowing(|y, ()| {
            let mut at = 0;
            while let Some((token, next)) = next_token(&text, at) {
                coro::wait(tokio::task::yield_now()).unwrap();
                y.suspend(token);
                at = next;
            }
        })
        .into_stream();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let got = rt.block_on(async {
            let mut got = Vec::new();
            while let Some(token) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
                got.push(token);
            }
            got
        });
        assert_eq!(got, ALL_TOKENS);
    }

    /// A borrowing coroutine behind the `Resume` trait, next to a stackless
    /// one: both are `Resume<()>` of the same borrowed types.
    #[test]
    fn stackful_and_stackless_borrowing_coroutines_behind_one_trait() {
        let text = String::from(SOURCE);
        let mut both: Vec<Box<dyn Resume<(), Yield = &str, Return = usize> + '_>> = vec![
            Box::new(tokenizer(&text)),
            Box::new(super::stackless_tokenizer(&text)),
        ];
        for co in &mut both {
            let mut tokens = Vec::new();
            while let Resumed::Yield(token) = co.resume(()).unwrap() {
                tokens.push(token);
            }
            assert_eq!(tokens, TOKENS);
        }
    }
}

// ---- stackless -------------------------------------------------------------

/// The stackless tokenizer: the same tokens, from an async body.
fn stackless_tokenizer(
    text: &str,
) -> stackless::Coroutine<(), &str, usize, dyn stackless::Body<(), &str, usize> + '_> {
    stackless::Coroutine::new(move |y: Yielder<(), &str>, ()| async move {
        let (mut at, mut count) = (0, 0);
        while let Some((token, next)) = next_token(text, at) {
            y.suspend(token).await;
            count += 1;
            if token == "//" {
                break;
            }
            at = next;
        }
        count
    })
}

#[test]
fn stackless_tokenizer_yields_slices_of_the_borrowed_text() {
    let text = String::from(SOURCE);
    let mut co = stackless_tokenizer(&text);
    let mut tokens = Vec::new();
    let count = loop {
        match co.resume(()).unwrap() {
            Resumed::Yield(token) => {
                assert!(points_into(token, &text), "{token:?} is a copy");
                tokens.push(token);
            }
            Resumed::Return(count) => break count,
        }
    };
    assert_eq!(tokens, TOKENS);
    assert_eq!(count, TOKENS.len());
    drop(co);
    assert_eq!(tokens.len(), 10);
}

#[test]
fn stackless_typed_borrowing_tokenizer() {
    let text = String::from(SOURCE);
    let text = text.as_str();
    let co = stackless::Coroutine::typed(|y: Yielder<(), &str>, ()| async move {
        let mut at = 0;
        while let Some((token, next)) = next_token(text, at) {
            y.suspend(token).await;
            at = next;
        }
    });
    let tokens: Vec<&str> = co.into_iter().collect();
    assert_eq!(tokens, ALL_TOKENS);
}

#[test]
fn stackless_borrowing_generator_is_an_iterator() {
    let text = String::from(SOURCE);
    let tokens: Vec<&str> = stackless_tokenizer(&text).into_iter().collect();
    assert_eq!(tokens, TOKENS);
}

#[test]
fn stackless_borrowed_inputs_and_yields() {
    let lines = [
        String::from("alpha beta"),
        String::from("gamma"),
        String::new(),
    ];
    let mut co = stackless::Coroutine::new(|y: Yielder<&str, &str>, mut line: &str| async move {
        let mut seen = 0;
        while !line.is_empty() {
            seen += 1;
            line = y.suspend(line.split(' ').next().unwrap()).await;
        }
        seen
    });
    assert_eq!(co.resume(&lines[0]).unwrap(), Resumed::Yield("alpha"));
    assert_eq!(co.resume(&lines[1]).unwrap(), Resumed::Yield("gamma"));
    assert_eq!(co.resume(&lines[2]).unwrap(), Resumed::Return(2));
}

#[test]
fn stackless_body_borrows_a_vec_mutably() {
    let mut log: Vec<u32> = Vec::new();
    let borrowed = &mut log;
    let mut co = stackless::Coroutine::new(|y: Yielder<u32, usize>, mut n: u32| async move {
        let log = borrowed;
        while n != 0 {
            log.push(n);
            n = y.suspend(log.len()).await;
        }
        log.iter().sum::<u32>()
    });
    assert_eq!(co.resume(3).unwrap(), Resumed::Yield(1));
    assert_eq!(co.resume(4).unwrap(), Resumed::Yield(2));
    assert_eq!(co.resume(0).unwrap(), Resumed::Return(7));
    drop(co);
    log.push(10);
    assert_eq!(log, [3, 4, 10]);
}

#[test]
fn stackless_close_midway_drops_locals_that_borrow() {
    let log = RefCell::new(Vec::new());
    let text = String::from(SOURCE);
    let (log_ref, text_ref) = (&log, text.as_str());
    let mut co = stackless::Coroutine::new(|y: Yielder<(), &str>, ()| async move {
        let (log, text) = (log_ref, text_ref);
        let _outer = Witness { name: "outer", log };
        let mut at = 0;
        while let Some((token, next)) = next_token(text, at) {
            let _inner = Witness { name: "inner", log };
            log.borrow_mut().push(format!("token {token}"));
            y.suspend(token).await;
            at = next;
        }
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield("let"));
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield("answer"));
    co.close().unwrap();
    assert_eq!(co.status(), Status::Dead);
    assert_eq!(
        *log.borrow(),
        [
            "token let",
            "dropped inner",
            "token answer",
            "dropped inner",
            "dropped outer"
        ]
    );
    log.borrow_mut().clear();
    let mut co = stackless::Coroutine::new(|y: Yielder<(), &str>, ()| async move {
        let _w = Witness {
            name: "by drop",
            log: log_ref,
        };
        y.suspend(&text_ref[..3]).await;
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield("let"));
    drop(co);
    assert_eq!(*log.borrow(), ["dropped by drop"]);
}

#[test]
fn stackless_forget_of_a_suspended_borrowing_coroutine() {
    let log = RefCell::new(Vec::new());
    let handle = {
        let text = String::from(SOURCE);
        let mut co = stackless_tokenizer(&text);
        let (log_ref, text_ref) = (&log, text.as_str());
        let mut closer = stackless::Coroutine::new(|y: Yielder<(), &str>, ()| async move {
            let _w = Witness {
                name: "forgotten",
                log: log_ref,
            };
            y.suspend(text_ref).await;
        });
        assert_eq!(co.resume(()).unwrap(), Resumed::Yield("let"));
        assert_eq!(closer.resume(()).unwrap(), Resumed::Yield(SOURCE));
        let handle = co.handle();
        forget(co);
        forget(closer);
        handle
    };
    let scribble: Vec<String> = (0..64).map(|n| "x".repeat(n)).collect();
    assert_eq!(scribble.len(), 64);
    assert_eq!(handle.status(), Status::Suspended);
    assert!(log.borrow().is_empty(), "nothing of a forgotten body runs");
    let text = String::from(SOURCE);
    assert_eq!(stackless_tokenizer(&text).into_iter().count(), TOKENS.len());
}

#[test]
fn stackless_forget_then_thread_exit() {
    let text = String::from(SOURCE);
    let tokens = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut co = stackless_tokenizer(&text);
                let first = co.resume(()).unwrap().yielded();
                forget(co);
                let tokens: Vec<&str> = stackless_tokenizer(&text).into_iter().collect();
                (first, tokens)
            })
            .join()
            .unwrap()
    });
    assert_eq!(tokens, (Some("let"), TOKENS.to_vec()));
    drop(text);
}

/// The free `suspend` cannot suspend a stackless coroutine at all.
#[test]
fn stackless_free_suspend_in_a_borrowing_coroutine_is_refused() {
    let text = String::from(SOURCE);
    let text = text.as_str();
    let mut co = stackless::Coroutine::new(|y: Yielder<(), &str>, ()| async move {
        assert!(matches!(
            coro::suspend::<&'static str, ()>("static"),
            Err(Error::AcrossBoundary)
        ));
        y.suspend(&text[4..10]).await;
    });
    assert_eq!(co.resume(()).unwrap(), Resumed::Yield("answer"));
    assert_eq!(co.resume(()).unwrap(), Resumed::Return(()));
}

#[cfg(feature = "futures")]
#[test]
fn stackless_borrowing_generator_is_a_stream() {
    use futures_core::Stream;
    use std::future::poll_fn;
    use std::pin::Pin;
    let text = String::from(SOURCE);
    let text = text.as_str();
    let mut stream = stackless::Coroutine::new(|y: Yielder<(), &str>, ()| async move {
        let mut at = 0;
        while let Some((token, next)) = next_token(text, at) {
            tokio::task::yield_now().await;
            y.suspend(token).await;
            at = next;
        }
    })
    .into_stream();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let got = rt.block_on(async {
        let mut got = Vec::new();
        while let Some(token) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
            got.push(token);
        }
        got
    });
    assert_eq!(got, ALL_TOKENS);
}
