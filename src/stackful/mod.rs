//! The stackful backend: every coroutine owns a real machine stack, switched
//! by our own assembly, so it can suspend from any depth of ordinary calls —
//! through closures handed to other libraries, even through C frames.
//!
//! This module owns the coroutine's stack and its switches; the status rules
//! live in `chain`, which it calls on every resume and never bypasses.

pub(crate) mod arch;
mod asan;
pub mod foreign;
mod os;
mod overflow;
mod stack;
mod unwind;
mod wait;
mod word;

use std::any::{TypeId, type_name};
use std::fmt;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, align_of, size_of};
use std::panic::{self, AssertUnwindSafe};

pub use stack::{
    DEFAULT_POOL_CAPACITY, DEFAULT_STACK_SIZE, MIN_STACK_SIZE, set_stack_pool_capacity,
    stack_pool_capacity,
};

use crate::chain::{self, Switching};
use crate::header::{Closing, DEAD, Header, SUSPENDED, SuspendTypes};
use crate::shared::Shared;
use crate::thread_bound::ThreadBound;
use crate::{Error, Handle, IntoIter, PanicPayload, Resume, Resumed, Status, Wrap};
use stack::Stack;
pub use wait::wait;

/// A coroutine with its own stack (Lua's `coroutine.create`).
///
/// `I` is the type of every resume's input (the first one becomes the body's
/// argument), `Y` the type it suspends with, `R` the type it returns.
///
/// ```
/// use coro::{Coroutine, Resumed};
///
/// // Sums what it is given until it is given 0.
/// let mut adder = Coroutine::new(|yielder, mut n: i32| {
///     let mut sum = 0;
///     while n != 0 {
///         sum += n;
///         n = yielder.suspend(sum); // hand out the running sum, wait for more
///     }
///     format!("total {sum}")
/// });
/// assert_eq!(adder.resume(5).unwrap(), Resumed::Yield(5));
/// assert_eq!(adder.resume(7).unwrap(), Resumed::Yield(12));
/// assert_eq!(adder.resume(0).unwrap(), Resumed::Return("total 12".to_string()));
/// assert!(adder.resume(1).is_err()); // dead
/// ```
///
/// A coroutine stays on the thread that made it:
///
/// ```compile_fail
/// let co = coro::Coroutine::new(|y, ()| y.suspend(1));
/// std::thread::spawn(move || drop(co));
/// ```
///
/// and it cannot resume itself: its body never sees it, and its owner holds it
/// mutably borrowed while it runs.
///
/// ```compile_fail
/// let mut co = coro::Coroutine::new(|y, ()| y.suspend(1));
/// let me = &mut co;
/// co.resume(()).unwrap();
/// me.resume(()).unwrap();
/// ```
///
/// The fourth type parameter, `B`, carries how long the body may borrow:
/// `dyn Body<I, Y, R> + 'a` for a coroutine that borrows for `'a` (see
/// [`Body`] and [Borrowing](crate#borrowing)). Its default,
/// `dyn Body<I, Y, R>`, is `'static`: `Coroutine<I, Y, R>` borrows nothing.
pub struct Coroutine<I = (), Y = (), R = (), B: ?Sized + Body<I, Y, R> = dyn Body<I, Y, R>> {
    /// Keeps it on its thread (its stack may hold anything, `Rc`s
    /// included); first, so that a `!Send` error names it first.
    _thread: ThreadBound,
    /// The stack, until the coroutine dies and gives it back to the pool.
    /// Declared before the header, so that a stack still held when the
    /// coroutine is dropped goes (and stops naming its owner to the overflow
    /// handler) before the header can.
    stack: Option<Stack>,
    /// Shared with handles; the thread's chain points at it while this
    /// coroutine runs.
    header: Shared,
    /// The saved stack pointer, and where the body waits.
    saved: Saved,
    /// Takes `I`, produces `Y` and `R`.
    _types: PhantomData<fn(I) -> (Y, R)>,
    /// Owns the body, whose type is erased but for how long it may borrow:
    /// with `Drop` generic over `B`, the borrow checker requires everything
    /// the body borrows to be alive when the coroutine is dropped, which
    /// unwinds its stack and so runs the body's destructors.
    _body: PhantomData<Box<B>>,
}

/// A stackful coroutine's two addresses on its stack. A struct of their
/// own, so that a `!Send` error names the coroutine's [`ThreadBound`]
/// before these raw pointers (see `thread_bound`).
struct Saved {
    /// The saved stack pointer while suspended (the trampoline frame before
    /// the first resume).
    sp: *mut u8,
    /// Where the body waits on the stack until the first resume moves it:
    /// a `Start`, which begins with the function that drops it.
    body: *mut u8,
}

/// The body of a stackful [`Coroutine`], as its fourth type parameter names
/// it: every closure `F: FnOnce(&Yielder<I, Y>, I) -> R` is one.
///
/// A coroutine erases its body's type and keeps only how long it may
/// borrow: a coroutine whose body borrows for `'a` is a
/// `Coroutine<I, Y, R, dyn Body<I, Y, R> + 'a>`, and one that borrows
/// nothing the default `Coroutine<I, Y, R>` (whose `dyn Body<I, Y, R>` is
/// `'static`). Only coro implements it.
///
/// ```
/// use coro::{Body, Coroutine};
///
/// // A generator of the words of `text`, which it cannot outlive.
/// fn words(text: &str) -> Coroutine<(), &str, (), dyn Body<(), &str, ()> + '_> {
///     Coroutine::borrowing(move |y, ()| text.split(' ').for_each(|word| y.suspend(word)))
/// }
///
/// let text = String::from("to be or not");
/// assert_eq!(words(&text).into_iter().collect::<Vec<_>>(), ["to", "be", "or", "not"]);
/// ```
pub trait Body<I, Y, R>: sealed::Sealed<I, Y, R> {}

impl<I, Y, R, F: FnOnce(&Yielder<I, Y>, I) -> R> Body<I, Y, R> for F {}

/// Keeps [`Body`] coro's own: it has no methods, and a type of any other
/// crate's would say nothing.
mod sealed {
    use super::Yielder;

    pub trait Sealed<I, Y, R> {}

    impl<I, Y, R, F: FnOnce(&Yielder<I, Y>, I) -> R> Sealed<I, Y, R> for F {}
}

/// A coroutine whose body's type is erased but for how long it may borrow:
/// what `Coroutine::new`, `Coroutine::borrowing` and the builder return.
type Erased<'a, I, Y, R> = Coroutine<I, Y, R, dyn Body<I, Y, R> + 'a>;

/// The flag of a switch into a suspended coroutine: an ordinary resume.
const RESUMING: usize = 0;
/// The flag of a switch into a suspended coroutine: `close`, which makes the
/// pending suspension unwind instead of returning.
const CLOSING: usize = 1;
/// The flag of a switch into a suspended coroutine: the suspension was made
/// while a panic unwinds the coroutine's stack, and fails (see
/// `Coroutine::refuse`): it drops its value, which the resumer did not take,
/// and panics.
const REFUSING: usize = 2;

/// What a fresh stack holds for the entry function. `repr(C)`, so that
/// `drop` comes first wherever `F` is: a coroutine closed before it started
/// finds it there, and the coroutine itself need not keep it.
#[repr(C)]
struct Start<F> {
    /// Drops this `Start` in place (`drop_start::<F>`).
    drop: unsafe fn(*mut u8),
    header: *const Header,
    body: F,
}

/// What the root of a coroutine hands its resumer when the body is done.
enum Completion<R> {
    Return(R),
    Panic(PanicPayload),
    /// A forced unwind from `close` reached the root.
    Closed,
}

impl<'a, I: 'static, Y: 'static, R: 'a> Coroutine<I, Y, R, dyn Body<I, Y, R> + 'a> {
    /// Creates a coroutine that will run `body` (Lua's `coroutine.create`).
    /// Nothing runs until the first [`resume`](Self::resume).
    ///
    /// The stack is [`DEFAULT_STACK_SIZE`] bytes, taken from this thread's pool
    /// of freed stacks when it has one; use [`Builder`] for another size or a
    /// name.
    ///
    /// The body and its return value may borrow from the caller for a
    /// lifetime `'a`, which the coroutine's type names: it cannot outlive
    /// what it borrows. Its input and yield types are `'static`, so that the
    /// free [`suspend`] can check them; [`borrowing`](Self::borrowing) lets
    /// them borrow too. See [Borrowing](crate#borrowing).
    ///
    /// ```
    /// let mut seen = Vec::new();
    /// let mut co = coro::Coroutine::new(|y, mut n: u32| {
    ///     while n > 0 {
    ///         seen.push(n); // borrows the caller's `seen` mutably
    ///         n = y.suspend(n * 2);
    ///     }
    ///     seen.len()
    /// });
    /// assert_eq!(co.resume(1).unwrap().yielded(), Some(2));
    /// assert_eq!(co.resume(5).unwrap().yielded(), Some(10));
    /// assert_eq!(co.resume(0).unwrap().returned(), Some(2));
    /// drop(co);
    /// assert_eq!(seen, [1, 5]);
    /// ```
    ///
    /// # The types
    ///
    /// `I`, `Y` and `R` come from the body: `I` from its second parameter
    /// (a pattern like `()` or an annotation like `n: u32`), `Y` from what
    /// it suspends with, `R` from what it returns, so a body that suspends
    /// needs no annotation. A body that never suspends with its yielder
    /// says nothing of `Y` (error E0282, "type annotations needed for
    /// `&Yielder<(), _>`"): name it on the yielder parameter, which is
    /// the shortest way and keeps the body free to borrow,
    ///
    /// ```
    /// use coro::{Coroutine, Yielder};
    ///
    /// let name = String::from("Ana");
    /// let mut greet = Coroutine::new(|_: &Yielder<(), ()>, ()| format!("hi {name}"));
    /// assert_eq!(greet.resume(()).unwrap().returned().as_deref(), Some("hi Ana"));
    /// ```
    ///
    /// or, for a body that borrows nothing, on the variable, where every
    /// type not written defaults to `()` (`let co: Coroutine =
    /// Coroutine::new(|_, ()| {})`), or with a turbofish
    /// (`Coroutine::<(), (), String>::new(..)`). Both also fix the fourth
    /// type parameter to its `'static` default, so that a body that borrows
    /// fails with E0597 or E0373 ("closure may outlive the current
    /// function"); add `_` for it (`Coroutine::<(), (), String, _>::new`)
    /// to let it borrow.
    ///
    /// # Panics
    /// If no stack can be mapped (see [`Error::StackAllocation`]);
    /// [`Builder::build`] returns that error instead.
    pub fn new<F>(body: F) -> Self
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'a,
    {
        match Builder::new().build(body) {
            Ok(coroutine) => coroutine,
            Err(err) => panic!("{err}"),
        }
    }
}

impl<'a, I: 'a, Y: 'a, R: 'a> Coroutine<I, Y, R, dyn Body<I, Y, R> + 'a> {
    /// Creates a *borrowing* coroutine: as [`new`](Self::new), but its
    /// inputs and yields may borrow from the caller too, for the same `'a` as
    /// the body and its return value — a tokenizer that yields slices of a
    /// borrowed `&str`, say.
    ///
    /// The price: the free [`suspend`] cannot check such types (a `TypeId`
    /// ignores lifetimes), so in a borrowing coroutine it always fails with
    /// [`Error::UncheckedTypes`]; suspend with the [`Yielder`] instead. See
    /// [Borrowing](crate#borrowing).
    ///
    /// ```
    /// use coro::Coroutine;
    ///
    /// let text = String::from("let x = 42;");
    /// let tokens = Coroutine::borrowing(|y, ()| {
    ///     for token in text.split_whitespace() {
    ///         y.suspend(token); // a `&str` into `text`
    ///     }
    /// });
    /// assert_eq!(tokens.into_iter().collect::<Vec<_>>(), ["let", "x", "=", "42;"]);
    /// ```
    ///
    /// # Panics
    /// If no stack can be mapped (see [`Error::StackAllocation`]);
    /// [`Builder::build_borrowing`] returns that error instead.
    pub fn borrowing<F>(body: F) -> Self
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'a,
    {
        match Builder::new().build_borrowing(body) {
            Ok(coroutine) => coroutine,
            Err(err) => panic!("{err}"),
        }
    }

    /// Puts `body` on `stack` below the switch's reserved words.
    /// `types` are those of the coroutine if it records them for the free
    /// [`suspend`] (only with `'static` input and yield types).
    fn place<F>(
        stack: Stack,
        name: Option<Box<str>>,
        types: Option<fn() -> SuspendTypes>,
        body: F,
    ) -> Self
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'a,
    {
        let header = Header::shared(name, stack.top(), types);
        // SAFETY: the coroutine keeps its header alive for as long as it
        // holds the stack (see the order of its fields), and gives the stack
        // back through `stack::give`, which clears the owner.
        unsafe { stack.set_owner(header.as_ptr()) };
        let top = stack::colored_top(&stack);
        let addr = (top as usize - size_of::<Start<F>>()) & !(align_of::<Start<F>>() - 1);
        let data = addr as *mut Start<F>;
        stack::make_writable((addr - arch::INIT_BYTES) as *mut u8, top);
        // Whatever the stack's last coroutine left poisoned is free again.
        asan::unpoison(stack.top().wrapping_sub(stack.size()), stack.size());
        // SAFETY: `Builder::build` checked that `Start<F>` and its alignment
        // fit in a sixteenth of the stack, so `data`, below a top at most
        // 2 KiB under the stack's own, is inside the stack; nothing else uses
        // the fresh stack.
        let sp = unsafe {
            data.write(Start {
                drop: drop_start::<F>,
                header: header.as_ptr(),
                body,
            });
            arch::init_stack(data.cast(), entry::<F, I, Y, R>, data.cast(), header.link())
        };
        Coroutine {
            _thread: PhantomData,
            header,
            stack: Some(stack),
            saved: Saved {
                sp,
                body: data.cast(),
            },
            _types: PhantomData,
            _body: PhantomData,
        }
    }
}

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> Coroutine<I, Y, R, B> {
    /// Runs the coroutine until it suspends or returns (Lua's
    /// `coroutine.resume`).
    ///
    /// The first resume passes `input` as the body's argument; each later one
    /// makes the pending [`Yielder::suspend`] return it.
    ///
    /// # Errors
    /// - [`Error::Dead`] if the coroutine returned, panicked or was closed;
    /// - [`Error::TooDeep`] if [`MAX_NESTING`](crate::MAX_NESTING) coroutines
    ///   are already active on this thread (the coroutine is left untouched);
    /// - [`Error::Panic`] if the body panicked: the coroutine is now dead, and
    ///   the panic does not unwind into the caller.
    #[inline(always)]
    pub fn resume(&mut self, input: I) -> Result<Resumed<Y, R>, Error> {
        let entered = chain::enter(&self.header, true)?.switching();
        // A resume from code that runs while a panic unwinds (a destructor):
        // the coroutine must know that the panic it will see in flight is not
        // its own (see `Header::unwinding`). Cleared by `refuse` or
        // `finished`, which the coroutine's return to a panicking thread
        // always passes through.
        if std::thread::panicking() {
            self.resumed_panicking();
        }
        let input = ManuallyDrop::new(input);
        // SAFETY: the coroutine is suspended (checked by `enter`); the other
        // side reads `input` exactly once.
        let (mut value, mut sp) = unsafe { self.switch_in(word::send(&input), RESUMING) };
        // Told here, on the resumer's side, so that the suspension itself
        // stays small enough to be inlined into the body's code.
        if !sp.is_null() && std::thread::panicking() {
            (value, sp) = self.refuse(value, sp);
        }
        if sp.is_null() {
            // Rebuilt here rather than returned whole by `finished`: a value
            // returned through memory would make the suspension's one go
            // through memory too, where it is read back from the stack.
            // SAFETY: a finishing coroutine passes the address of its
            // completion.
            return unsafe { self.finished(value, entered) }.map(Resumed::Return);
        }
        self.saved.sp = sp;
        chain::leave_switched(&self.header, SUSPENDED, entered);
        // SAFETY: a suspending coroutine passes its value's word (see
        // `word`), and never reads the value again.
        Ok(Resumed::Yield(unsafe { word::read::<Y>(value) }))
    }

    /// Marks the coroutine as resumed by a panicking thread (see `resume`).
    #[cold]
    #[inline(never)]
    pub(super) fn resumed_panicking(&self) {
        self.header.set_resumed_panicking(true);
    }

    /// Switches into the coroutine with `word` and `flag`, announced to
    /// AddressSanitizer; returns what `arch::switch_in` returns.
    ///
    /// # Safety
    /// The coroutine must be entered and suspended, and `word` what the
    /// pending suspension expects with `flag`.
    #[inline(always)]
    pub(super) unsafe fn switch_in(&mut self, word: usize, flag: usize) -> (usize, *mut u8) {
        let leaving = self.asan_resume();
        // SAFETY: promised by the caller; `sp` is the coroutine's saved
        // continuation.
        let switched = unsafe { arch::switch_in(word, flag, self.header.link(), self.saved.sp) };
        asan::resumed(leaving);
        switched
    }

    /// The coroutine suspended, at `sp` with `value`, to a thread that is
    /// panicking. If the thread already was when it resumed, that is the
    /// resumer's panic: the suspension stands. Otherwise the panic is the
    /// coroutine's own, unwinding its stack, and a suspension then would
    /// freeze the unwind and carry the thread's panic count into the
    /// resumer: the suspension fails instead. Resumes it with
    /// [`REFUSING`], which makes the suspension drop its value and panic
    /// with "attempt to yield across a C-call boundary" (aborting the
    /// process if nothing in the destructor catches it, as any panic there
    /// does), until it suspends with the thread no longer panicking, or
    /// finishes. Nothing of the resumer's runs meanwhile: to every observer,
    /// the suspension was refused where it was attempted. Returns what the
    /// last switch returned.
    #[cold]
    #[inline(never)]
    pub(super) fn refuse(&mut self, mut value: usize, mut sp: *mut u8) -> (usize, *mut u8) {
        if self.header.resumed_panicking() {
            self.header.set_resumed_panicking(false);
            return (value, sp);
        }
        while !sp.is_null() && std::thread::panicking() {
            self.saved.sp = sp;
            // A refused wait (see `wait`) no longer waits.
            self.header.set_waiting(std::ptr::null_mut());
            // SAFETY: the coroutine is still entered, and suspended at a
            // suspension whose value the resumer has not taken.
            (value, sp) = unsafe { self.switch_in(0, REFUSING) };
        }
        (value, sp)
    }

    /// Announces the switch onto this coroutine's stack to AddressSanitizer
    /// (nothing without it).
    #[inline(always)]
    fn asan_resume(&self) -> asan::Leaving {
        match &self.stack {
            Some(stack) => asan::resume(stack.top().wrapping_sub(stack.size()), stack.size()),
            None => asan::resume(std::ptr::null(), 0),
        }
    }

    /// The rest of a resume after which the body finished: kept out of line
    /// so the suspension path stays small enough to inline. Returns what the
    /// body returned, or the panic that ended it.
    ///
    /// # Safety
    /// `value` must be the word the coroutine passed to `switch_final`.
    #[cold]
    #[inline(never)]
    unsafe fn finished(&mut self, value: usize, entered: Switching) -> Result<R, Error> {
        self.header.set_resumed_panicking(false);
        chain::leave_switched(&self.header, DEAD, entered);
        // SAFETY: promised by the caller.
        match unsafe { self.finish(value) } {
            Completion::Return(value) => Ok(value),
            Completion::Panic(payload) => Err(Error::Panic(payload)),
            Completion::Closed => unreachable!("only close starts a forced unwind"),
        }
    }

    /// Reads the completion the coroutine left on its stack, then releases
    /// the stack.
    ///
    /// # Safety
    /// `value` must be the word the coroutine passed to `switch_final`.
    unsafe fn finish(&mut self, value: usize) -> Completion<R> {
        // SAFETY: the completion lives on the coroutine's stack, which is
        // still mapped, and its owner never touches it again.
        let completion = unsafe { (value as *const Completion<R>).read() };
        if let Some(stack) = self.stack.take() {
            stack::give(stack);
        }
        completion
    }

    /// The coroutine's current state (Lua's `coroutine.status`).
    #[inline]
    pub fn status(&self) -> Status {
        self.header.status()
    }

    /// Destroys the coroutine (Lua's `coroutine.close`).
    ///
    /// - Suspended in its body: the stack is unwound, dropping every live
    ///   local in order, newest first; the coroutine is dead.
    /// - Never started: the body is dropped without running; the coroutine is
    ///   dead.
    /// - Dead: nothing happens.
    ///
    /// While closing, the free [`suspend`] returns [`Error::AcrossBoundary`]
    /// and [`Yielder::suspend`] panics. A destructor that panics while a
    /// suspended stack unwinds aborts the process, as any panic during an
    /// unwind does in Rust; a panicking destructor of a never-started body
    /// makes `close` return [`Error::Panic`].
    ///
    /// The unwind needs about 4 KiB of free stack below the deepest
    /// suspended frame, taken from the stack's close reserve when less is
    /// left, and poisons a `MutexGuard` held across the suspension, as a
    /// panic would: see
    /// [Destroying a coroutine](crate#destroying-a-coroutine).
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// struct Noisy(&'static str, Rc<RefCell<Vec<&'static str>>>);
    /// impl Drop for Noisy {
    ///     fn drop(&mut self) {
    ///         self.1.borrow_mut().push(self.0);
    ///     }
    /// }
    ///
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// let log2 = log.clone();
    /// let mut co = coro::Coroutine::new(move |y, ()| {
    ///     let _a = Noisy("a", log2.clone());
    ///     let _b = Noisy("b", log2);
    ///     y.suspend(());
    ///     unreachable!("closed while suspended");
    /// });
    /// co.resume(()).unwrap();
    /// co.close().unwrap();
    /// assert_eq!(*log.borrow(), ["b", "a"]);
    /// assert_eq!(co.status(), coro::Status::Dead);
    /// ```
    pub fn close(&mut self) -> Result<(), Error> {
        if !self.header.needs_closing()? {
            return Ok(());
        }
        // SAFETY: the coroutine is suspended, so its record holds its
        // continuation.
        if unsafe { arch::is_fresh(self.header.link()) } {
            return self.drop_unstarted();
        }
        // The unwind runs destructors on the coroutine's stack, maybe from a
        // thread-local's destructor, when the thread's signal stack is gone:
        // an overflow must still be reported.
        let _signal_stack = overflow::signal_stack_for_close();
        // The unwind needs stack below the suspension point: if little is
        // left, the stack's close reserve is opened for it.
        let reserve = self
            .stack
            .as_ref()
            .and_then(|stack| stack.open_reserve(self.saved.sp));
        let entered = chain::enter(&self.header, false)?.switching();
        self.header.set_resumed_panicking(std::thread::panicking());
        self.header.set_closing(Closing::Unwind);
        // The first caught panic of a value the body yielded while closing;
        // later ones are discarded (their payloads dropped without
        // unwinding, as nothing may unwind out of here before `leave`).
        let mut late_panic: Option<PanicPayload> = None;
        let value = loop {
            // SAFETY: as in `resume`; the flag tells the pending suspension
            // to consult `closing` instead of reading a value.
            let (value, sp) = unsafe { self.switch_in(0, CLOSING) };
            if sp.is_null() {
                // Nothing runs on the stack any more: the reserve closes
                // before `finish` gives the stack back for reuse.
                drop(reserve);
                break value;
            }
            // The body caught the unwind and suspended: drop what it yielded
            // and make that suspension panic, as suspending while closing must.
            self.saved.sp = sp;
            self.header.set_closing(Closing::Refuse);
            // SAFETY: as in `resume`: the coroutine handed over its value.
            let yielded = unsafe { word::read::<Y>(value) };
            if let Err(payload) = PanicPayload::drop_caught(yielded) {
                match late_panic {
                    None => late_panic = Some(payload),
                    Some(_) => payload.discard(),
                }
            }
        };
        // SAFETY: the coroutine finished, passing its completion.
        let ended = match unsafe { self.finish(value) } {
            Completion::Closed => Ok(()),
            Completion::Panic(payload) => Err(payload),
            // The body caught the unwind and returned anyway: its value is
            // dropped while the coroutine still counts as closing.
            Completion::Return(value) => PanicPayload::drop_caught(value),
        };
        self.header.set_closing(Closing::No);
        self.header.set_resumed_panicking(false);
        chain::leave_switched(&self.header, DEAD, entered);
        // The body's own end is reported before a late panic, which then
        // goes, now that the chain is restored.
        match (ended, late_panic) {
            (Ok(()), None) => Ok(()),
            (Ok(()), Some(payload)) => Err(Error::Panic(payload)),
            (Err(payload), late) => {
                if let Some(late) = late {
                    late.discard();
                }
                Err(Error::Panic(payload))
            }
        }
    }

    /// Closes a coroutine that never started: drops its body in place.
    ///
    /// The body's destructors run on the closer's stack, but with this
    /// coroutine entered and closing, as in every close: they see it running,
    /// and cannot suspend anything.
    fn drop_unstarted(&mut self) -> Result<(), Error> {
        // With no coroutine current this runs on the thread's own stack, whose
        // overflow is not ours to report; otherwise maybe on a coroutine's,
        // and maybe during thread exit, as in `close`.
        let _signal_stack = if chain::with_current(|header| header.is_some()) {
            overflow::signal_stack_for_close()
        } else {
            None
        };
        let entered = chain::enter(&self.header, false)?.switching();
        self.header.set_closing(Closing::Unwind);
        let stack = self.stack.take();
        // SAFETY: the body never left the stack, which is still mapped, in
        // the `Start` that `place` wrote, whose first field is its own drop
        // function; it is dropped once, as the coroutine is dead when this
        // returns.
        let dropped = PanicPayload::catch(|| unsafe {
            let drop_body = self.saved.body.cast::<unsafe fn(*mut u8)>().read();
            drop_body(self.saved.body)
        });
        if let Some(stack) = stack {
            stack::give(stack);
        }
        self.header.set_closing(Closing::No);
        chain::leave_switched(&self.header, DEAD, entered);
        dropped.map_err(Error::Panic)
    }

    /// A handle that observes this coroutine without owning it.
    pub fn handle(&self) -> Handle {
        self.header.handle()
    }

    /// The coroutine as a function that resumes it (Lua's
    /// `coroutine.wrap` with arguments): each [`Wrap::call`] resumes it with
    /// its input and gives what it suspended with, raising its panics in
    /// the caller. See [`Wrap`]; a generator that takes `()` is also an
    /// iterator ([`IntoIter`]).
    ///
    /// ```
    /// let mut echo = coro::Coroutine::new(|y, mut word: &'static str| {
    ///     while word != "bye" {
    ///         word = y.suspend(word.len());
    ///     }
    /// })
    /// .wrap();
    /// assert_eq!(echo.call("hello"), Some(5));
    /// assert_eq!(echo.call("hi"), Some(2));
    /// assert_eq!(echo.call("bye"), None);
    /// assert_eq!(echo.returned(), Some(&()));
    /// ```
    pub fn wrap(self) -> Wrap<Self, I> {
        Wrap::new(self)
    }
}

// What both backends implement word for word on top of the inherent
// methods: the `Resume` trait, `Drop` (Lua's close with the result ignored)
// and `IntoIterator` for generators (Lua's `wrap`, see `IntoIter`). The
// stackless backend's, in `src/stackless/mod.rs`, are the same.

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> Resume<I> for Coroutine<I, Y, R, B> {
    type Yield = Y;
    type Return = R;

    #[inline]
    fn resume(&mut self, input: I) -> Result<Resumed<Y, R>, Error> {
        Coroutine::resume(self, input)
    }

    fn status(&self) -> Status {
        Coroutine::status(self)
    }

    fn close(&mut self) -> Result<(), Error> {
        Coroutine::close(self)
    }

    fn handle(&self) -> Handle {
        Coroutine::handle(self)
    }
}

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> Drop for Coroutine<I, Y, R, B> {
    fn drop(&mut self) {
        // Whatever a destructor panicked with was reported by the panic hook;
        // a drop has nowhere to return it, and dropping the payload must not
        // panic out of this drop.
        if let Err(error) = self.close() {
            error.discard();
        }
    }
}

impl<Y, R, B: ?Sized + Body<(), Y, R>> IntoIterator for Coroutine<(), Y, R, B> {
    type Item = Y;
    type IntoIter = IntoIter<Self>;

    fn into_iter(self) -> IntoIter<Self> {
        IntoIter::new(self)
    }
}

impl<I, Y, R, B: ?Sized + Body<I, Y, R>> fmt::Debug for Coroutine<I, Y, R, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Coroutine");
        s.field("id", &self.header.handle().id());
        if let Some(name) = self.header.name() {
            s.field("name", &name);
        }
        s.field("status", &self.header.status()).finish()
    }
}

// The header keeps room for the switch record of this architecture.
const _: () = assert!(arch::RECORD_WORDS <= crate::header::RECORD_WORDS);

/// The root of every stackful coroutine: moves the body off the stack, runs
/// it, catches what it panics with, and leaves for the last time.
///
/// # Safety
/// Called once, by the trampoline, with the input word of the first resume
/// and the `Start<F>` written by `Coroutine::place`.
unsafe extern "C" fn entry<F, I, Y, R>(input: usize, link: *mut usize, data: *mut u8) -> !
where
    F: FnOnce(&Yielder<I, Y>, I) -> R,
{
    let start = data.cast::<Start<F>>();
    // SAFETY: `place` wrote a `Start<F>` at `data`, which stays in place.
    let header = unsafe { (*start).header };
    // SAFETY: the header outlives every run of its coroutine.
    asan::arrived(unsafe { &*header }, None);
    // SAFETY: the first resume passes its input's word (close handles
    // never-started coroutines without switching).
    let input = unsafe { word::read::<I>(input) };
    let yielder = Yielder {
        _thread: PhantomData,
        at: At { header, link },
        _types: PhantomData,
    };
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: from the first resume on, the stack is no longer fresh, so
        // `close` will not drop the body; it is moved out exactly once, as
        // late as possible, so that unoptimised builds do not copy a large
        // body through every frame above.
        let body = unsafe { std::ptr::addr_of!((*start).body).read() };
        body(&yielder, input)
    }));
    // SAFETY: the header outlives every run of its coroutine.
    let closing = unsafe { (*header).closing() } != Closing::No;
    let completion = ManuallyDrop::new(match outcome {
        Ok(value) => Completion::Return(value),
        Err(payload) if closing && unwind::is_forced(&*payload) => Completion::Closed,
        Err(payload) => Completion::Panic(PanicPayload::new(payload)),
    });
    // SAFETY: the header outlives every run of its coroutine.
    asan::finish(unsafe { &*header });
    // SAFETY: nothing left on this stack needs dropping: the completion is
    // moved out by the resumer, everything else was consumed above.
    unsafe { arch::switch_final(&*completion as *const Completion<R> as usize, link) }
}

/// Drops a never-started body in place.
///
/// # Safety
/// `data` must hold a `Start<F>` that is dropped nowhere else.
unsafe fn drop_start<F>(data: *mut u8) {
    // SAFETY: promised by the caller.
    unsafe { data.cast::<Start<F>>().drop_in_place() }
}

/// Suspends the running coroutine, whose header is `header` and whose link
/// is at `link`, with `value`; returns the next resume's input.
///
/// # Safety
/// Must be called on the running coroutine's own stack, with `I` and `Y` the
/// types it was created with.
#[inline(always)]
unsafe fn suspend_running<I, Y>(header: *const Header, link: *mut usize, value: Y) -> I {
    let value = ManuallyDrop::new(value);
    // SAFETY: the header outlives every run of its coroutine.
    let leaving = asan::suspend(unsafe { &*header });
    // SAFETY: promised by the caller; the resumer moves `value` out.
    let (input, flag) = unsafe { arch::switch_out(word::send(&value), link) };
    // SAFETY: as above.
    asan::arrived(unsafe { &*header }, Some(leaving));
    if flag != RESUMING {
        // SAFETY: the header outlives every run of its coroutine.
        interrupted(unsafe { &*header }, flag, value);
    }
    // SAFETY: `resume` passes its input's word and never reads it again.
    unsafe { word::read::<I>(input) }
}

/// A suspension resumed with `flag` other than [`RESUMING`]: refused, with
/// `value` not taken, or being closed. Never returns.
#[cold]
#[inline(never)]
fn interrupted<Y>(header: &Header, flag: usize, value: ManuallyDrop<Y>) -> ! {
    if flag == REFUSING {
        drop(ManuallyDrop::into_inner(value));
        panic!("{}", Error::AcrossBoundary);
    }
    closing(header)
}

/// `close` resumed us instead of a resume: unwind, or refuse a suspension
/// attempted after the body caught the unwind.
#[cold]
#[inline(never)]
fn closing(header: &Header) -> ! {
    match header.closing() {
        Closing::Refuse => panic!("{}", Error::AcrossBoundary),
        _ => unwind::start(header),
    }
}

/// The body's way to suspend its coroutine (Lua's `coroutine.yield`).
///
/// The body receives `&Yielder` as its first argument and may lend it to any
/// function it calls, however deep. A borrow is all it needs: the body and
/// everything it calls run on the coroutine's own stack, below the frame
/// that owns the yielder, so the borrow is alive wherever the body is. (A
/// stackless body gets its [`stackless::Yielder`](crate::stackless::Yielder)
/// by value instead: an `async` block must own what it keeps across an
/// `.await`.) It cannot leave the coroutine's stack: it
/// is neither `Send`, `Sync`, `Clone` nor `'static`.
///
/// ```compile_fail
/// let mut co = coro::Coroutine::<(), (), ()>::new(|y, ()| {
///     std::thread::scope(|s| {
///         s.spawn(|| y.suspend(()));
///     });
/// });
/// ```
///
/// Nor can the body keep it past its end, for another coroutine or the
/// thread's own stack to use later:
///
/// ```compile_fail,E0521
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let stash: Rc<RefCell<Option<&coro::Yielder<(), ()>>>> = Rc::default();
/// let s = stash.clone();
/// let mut co = coro::Coroutine::<(), (), ()>::new(move |y, ()| {
///     *s.borrow_mut() = Some(y); // error: `y` escapes the closure body
/// });
/// co.resume(()).unwrap();
/// ```
pub struct Yielder<I, Y> {
    /// Keeps it on its coroutine's thread; first, so that a `!Send` error
    /// names it first.
    _thread: ThreadBound,
    /// Where its coroutine is.
    at: At,
    /// Takes `Y`, gives `I`.
    _types: PhantomData<fn(Y) -> I>,
}

/// Where a [`Yielder`]'s coroutine is. A struct of its own, so that a
/// `!Send` error names the yielder's [`ThreadBound`] before these raw
/// pointers.
struct At {
    /// The coroutine's header: alive as long as the body runs.
    header: *const Header,
    /// The coroutine's link (see `Header::link`), kept here to save a load.
    link: *mut usize,
}

impl<I, Y> Yielder<I, Y> {
    /// Suspends the coroutine, handing `value` to the resumer, whose `resume`
    /// returns `Ok(Resumed::Yield(value))`. Returns the input of the next
    /// resume.
    ///
    /// # Panics
    /// With "attempt to yield across a C-call boundary" while the coroutine
    /// is being closed or a panic unwinds its stack, where no suspension is
    /// possible. (In a destructor run by that unwind, the panic aborts.)
    #[inline]
    pub fn suspend(&self, value: Y) -> I {
        // A suspension while a panic unwinds this stack, or while the
        // coroutine is being closed, is refused by the resumer, which makes
        // it panic when it comes back (see `Coroutine::refuse`, `close`).
        // SAFETY: a `Yielder` is only reachable from its own body, which runs
        // only on its own stack, while its coroutine is running; its types
        // are `I` and `Y`.
        unsafe { suspend_running(self.at.header, self.at.link, value) }
    }
}

impl<I, Y> fmt::Debug for Yielder<I, Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yielder").finish_non_exhaustive()
    }
}

/// Suspends the running stackful coroutine from any depth of plain calls
/// (Lua's global `coroutine.yield`), without a [`Yielder`].
///
/// `Y` and `I` must be the yield and input types of the running coroutine.
/// They come in the order of use — the value goes out, the input comes
/// back — so `Y` is inferred from `value`, and `I` from what the result is
/// used as: `let n: u32 = coro::suspend(word)?` needs no turbofish, and one,
/// where the result is not used, reads `suspend::<Y, I>`:
/// `coro::suspend::<&str, ()>("done")`.
///
/// The running coroutine is found through the thread, not through these
/// types, so they are checked when the call runs, by `TypeId`: a wrong `Y`
/// or `I` is [`Error::TypeMismatch`], not a compile error. (A value that
/// does not match an explicit `Y` is one, as for any function.)
///
/// # Errors
/// - [`Error::OutsideCoroutine`] on a thread's own stack;
/// - [`Error::AcrossBoundary`] in a stackless coroutine's synchronous code,
///   while the coroutine is being closed, or while a panic unwinds it;
/// - [`Error::TypeMismatch`] if the types are not the coroutine's;
/// - [`Error::UncheckedTypes`] in a borrowing coroutine (made by
///   [`Coroutine::borrowing`] or [`Builder::build_borrowing`]), whose input
///   and yield types may borrow: a `TypeId` cannot tell `&'a str` from
///   `&'static str`, so a check would let a borrow outlive what it borrows.
///   Suspend such a coroutine with its [`Yielder`].
///
/// On error, `value` is dropped and nothing else happens.
///
/// It needs `'static` types, for the same reason: there is no way to suspend
/// with a borrowed value without a [`Yielder`].
///
/// ```compile_fail,E0521
/// fn hand_out(word: &str) {
///     let _: Result<(), _> = coro::suspend(word); // error: `word` must be `'static`
/// }
/// ```
///
/// ```
/// fn produce(n: u32) {
///     // No yielder in sight: plain code, called from the body. `Y` is
///     // `u32`, from the argument; `I` is `()`, from the pattern.
///     let () = coro::suspend(n * 10).unwrap();
/// }
///
/// let squares: Vec<u32> = coro::Coroutine::new(|_, ()| (1..=3).for_each(produce))
///     .into_iter()
///     .collect();
/// assert_eq!(squares, [10, 20, 30]);
/// assert!(matches!(coro::suspend::<u32, ()>(1), Err(coro::Error::OutsideCoroutine)));
///
/// // The types are checked at run time: this coroutine yields `u32`s.
/// let mut co: coro::Coroutine<(), u32, _> =
///     coro::Coroutine::new(|_, ()| coro::suspend::<&str, ()>("text"));
/// assert!(matches!(
///     co.resume(()).unwrap().returned(),
///     Some(Err(coro::Error::TypeMismatch { .. }))
/// ));
/// ```
pub fn suspend<Y: 'static, I: 'static>(value: Y) -> Result<I, Error> {
    let (header, link) = chain::with_current(|header| {
        let header = header.ok_or(Error::OutsideCoroutine)?;
        if header.stack_top().is_null() || !header.can_suspend() {
            return Err(Error::AcrossBoundary);
        }
        let types = header.types().ok_or(Error::UncheckedTypes)?;
        if types.input != TypeId::of::<I>() || types.yield_ != TypeId::of::<Y>() {
            return Err(Error::TypeMismatch {
                expected: (types.input_name, types.yield_name),
                found: (type_name::<I>(), type_name::<Y>()),
            });
        }
        Ok((header as *const Header, header.link()))
    })?;
    // SAFETY: the running coroutine is stackful, so we are on its stack, and
    // its types were just checked to be `I` and `Y`.
    Ok(unsafe { suspend_running(header, link, value) })
}

/// Configures a stackful coroutine before it is created: its stack size
/// and its name.
///
/// Stackful only, although it sits at the crate's root with the stackful
/// [`Coroutine`]: a stackless coroutine is named with
/// [`stackless::Builder`](crate::stackless::Builder), which has no stack
/// size to set.
///
/// ```
/// let mut co = coro::Builder::new()
///     .name("parser")
///     .stack_size(64 * 1024)
///     .build(|_: &coro::Yielder<u8, ()>, x: u8| x + 1)
///     .unwrap();
/// assert_eq!(co.handle().name(), Some("parser"));
/// assert_eq!(co.resume(1).unwrap().returned(), Some(2));
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    stack_size: usize,
    name: Option<String>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the defaults: [`DEFAULT_STACK_SIZE`] and no name.
    pub fn new() -> Self {
        Builder {
            stack_size: DEFAULT_STACK_SIZE,
            name: None,
        }
    }

    /// The usable stack size in bytes: raised to [`MIN_STACK_SIZE`] if lower,
    /// and rounded up to whole pages. One guard page more is mapped below it.
    ///
    /// Memory is reserved, not committed: a coroutine's resident cost is the
    /// pages it touches, so a generous size costs address space only.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes;
        self
    }

    /// A name, shown by `Debug`, [`Handle::name`] and overflow reports.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Creates the coroutine: as [`Coroutine::new`], whose body and return
    /// value may borrow for `'a` and whose input and yield types are
    /// `'static`.
    ///
    /// # Errors
    /// [`Error::StackAllocation`] if the stack cannot be mapped: out of
    /// memory or address space, or past the kernel's `vm.max_map_count`.
    pub fn build<'a, I, Y, R, F>(self, body: F) -> Result<Erased<'a, I, Y, R>, Error>
    where
        I: 'static,
        Y: 'static,
        R: 'a,
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'a,
    {
        self.build_with(Some(SuspendTypes::of::<I, Y>), body)
    }

    /// Creates a borrowing coroutine: as [`Coroutine::borrowing`], whose
    /// inputs and yields may borrow for `'a` too, and in which the free
    /// [`suspend`] fails with [`Error::UncheckedTypes`].
    ///
    /// ```
    /// let text = String::from("a b");
    /// let mut co = coro::Builder::new()
    ///     .name("words")
    ///     .build_borrowing(|y, ()| text.split(' ').for_each(|word| y.suspend(word)))
    ///     .unwrap();
    /// assert_eq!(co.resume(()).unwrap().yielded(), Some("a"));
    /// assert_eq!(co.resume(()).unwrap().yielded(), Some("b"));
    /// ```
    ///
    /// # Errors
    /// As [`build`](Self::build).
    pub fn build_borrowing<'a, I, Y, R, F>(self, body: F) -> Result<Erased<'a, I, Y, R>, Error>
    where
        I: 'a,
        Y: 'a,
        R: 'a,
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'a,
    {
        self.build_with(None, body)
    }

    /// Creates the coroutine, recording `types` for the free [`suspend`].
    fn build_with<'a, I, Y, R, F>(
        self,
        types: Option<fn() -> SuspendTypes>,
        body: F,
    ) -> Result<Erased<'a, I, Y, R>, Error>
    where
        I: 'a,
        Y: 'a,
        R: 'a,
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'a,
    {
        let stack = stack::take(self.stack_size)?;
        let name = self.name.map(String::into_boxed_str);
        // A body bigger than a sixteenth of the stack goes to the heap, so
        // the frames keep their room.
        if size_of::<Start<F>>() + align_of::<Start<F>>() <= stack.size() / 16 {
            Ok(Coroutine::place(stack, name, types, body))
        } else {
            Ok(Coroutine::place(stack, name, types, Box::new(body)))
        }
    }
}
