//! How a value crosses a context switch: in the switch's register itself
//! when it is a plain word, else as the address of the value, left in place
//! on the sender's stack until the other side has read it.
//!
//! A plain word is a type every one of whose values has all its bytes
//! initialized and fits in a `usize`: the integers, `bool`, `char`, the
//! floats and `()`, told apart by `TypeId`. Any other type may have
//! padding, whose bytes may be uninitialized, and an integer made of those
//! would be undefined behaviour, so it goes by address. The test is on types
//! only: after inlining it is a constant, and each switch compiles to one of
//! the two ways.
//!
//! A borrowing coroutine's values need not be `'static`, and `TypeId::of`
//! takes only `'static` types, so the test asks for the `TypeId` of the type
//! with its lifetimes erased (see [`erased_type_id`]): enough to tell
//! whether it is one of the primitive types above, which have no lifetimes.

use std::any::TypeId;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, size_of};
use std::ptr;

/// Gives the `TypeId` of `T` for a `PhantomData<T>` of any `T`, through a
/// method that may only be called where `Self: 'static`: see
/// [`erased_type_id`], which calls it on a trait object whose lifetime has
/// been stretched.
trait ErasedTypeId {
    /// The `TypeId` of the type behind the `PhantomData`.
    fn erased_type_id(&self) -> TypeId
    where
        Self: 'static;
}

impl<T: ?Sized> ErasedTypeId for PhantomData<T> {
    #[inline(always)]
    fn erased_type_id(&self) -> TypeId
    where
        Self: 'static,
    {
        TypeId::of::<T>()
    }
}

/// The `TypeId` of `T` with every lifetime in it taken as `'static`.
///
/// Only for comparing with the `TypeId` of a type without lifetimes: equal
/// exactly when `T` is that type. Two types that differ only in their
/// lifetimes get the same id here, so this must never be used to conclude
/// that a value of one type may be used as the other where lifetimes matter.
#[inline(always)]
fn erased_type_id<T: ?Sized>() -> TypeId {
    let marker = PhantomData::<T>;
    let object: &dyn ErasedTypeId = &marker;
    // SAFETY: only the bound of the trait object's lifetime changes, not its
    // layout or vtable. The one method called through it reads nothing (a
    // `PhantomData` has no bytes) and returns a `TypeId`, which holds no
    // borrow, so no reference outlives what it points to. The id returned
    // is that of `T` with its lifetimes erased; every caller compares it
    // only with the ids of primitive types (`u8`..`u64`, `usize`, `isize`,
    // `i8`..`i64`, `bool`, `char`, `f32`, `f64`, `()`), which contain no
    // lifetime, so equality means that `T` is that very type, whatever
    // lifetimes the caller's `T` was written with.
    let object: &(dyn ErasedTypeId + 'static) =
        unsafe { std::mem::transmute::<&dyn ErasedTypeId, &(dyn ErasedTypeId + 'static)>(object) };
    object.erased_type_id()
}

/// True if `T` crosses a switch in the register (see the module's docs).
///
/// Not in builds with debug assertions (debug builds): there the type test
/// is not folded away, and its calls, made on the coroutine's stack at
/// every switch, would touch up to a kilobyte more of it (a page more
/// resident for every few coroutines). Both ways hand over the same value.
#[inline(always)]
fn is_word<T>() -> bool {
    !cfg!(debug_assertions) && is_plain_word::<T>()
}

/// True if every value of `T` is a plain word (see the module's docs).
#[inline(always)]
fn is_plain_word<T>() -> bool {
    if size_of::<T>() > size_of::<usize>() {
        return false;
    }
    // Compared with primitive types only, as `erased_type_id` requires.
    let t = erased_type_id::<T>();
    macro_rules! any_of {
        ($($ty:ty),*) => { false $(|| t == TypeId::of::<$ty>())* };
    }
    any_of!(
        (),
        bool,
        char,
        u8,
        u16,
        u32,
        u64,
        usize,
        i8,
        i16,
        i32,
        i64,
        isize,
        f32,
        f64
    )
}

/// The word to hand to a switch for `value`, which the caller keeps in
/// place, not dropped, until the other side has read it with [`read`].
#[inline(always)]
pub(super) fn send<T>(value: &ManuallyDrop<T>) -> usize {
    let value: *const T = &**value;
    if !is_word::<T>() {
        return value as usize;
    }
    let mut word = 0usize;
    // SAFETY: `T` is a plain word: all of its at most `size_of::<usize>()`
    // bytes are initialized, and they are copied into the word's first ones.
    unsafe {
        ptr::copy_nonoverlapping(
            value.cast::<u8>(),
            ptr::from_mut(&mut word).cast::<u8>(),
            size_of::<T>(),
        );
    }
    word
}

/// The value a switch brought as `word`, made by [`send`] for the same `T`.
///
/// # Safety
/// `word` must come from `send::<T>` on the other side of this switch, and
/// be read once: by address, the value is moved out of the sender's stack.
#[inline(always)]
pub(super) unsafe fn read<T>(word: usize) -> T {
    if is_word::<T>() {
        // SAFETY: the word's first bytes are those of a `T` (see `send`);
        // a `usize` is aligned for every plain word type.
        unsafe { ptr::from_ref(&word).cast::<T>().read() }
    } else {
        // SAFETY: promised by the caller: the address of a `T` that stays
        // in place and that nobody else reads or drops.
        unsafe { (word as *const T).read() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `value` and reads it back, as the two sides of a switch do.
    fn round_trip<T: Clone>(value: T) -> T {
        let kept = ManuallyDrop::new(value);
        let word = send(&kept);
        // SAFETY: read once, from this `send`, while `kept` is in place.
        unsafe { read::<T>(word) }
    }

    #[test]
    fn plain_words_are_told_apart() {
        assert!(is_plain_word::<u64>() == (size_of::<u64>() <= size_of::<usize>()));
        assert!(is_plain_word::<()>() && is_plain_word::<bool>() && is_plain_word::<char>());
        assert!(is_plain_word::<i8>() && is_plain_word::<f32>());
        // Padding, or not a listed type: by address.
        assert!(!is_plain_word::<(u8, u16)>());
        assert!(!is_plain_word::<Option<u32>>());
        assert!(!is_plain_word::<&'static str>());
        assert!(!is_plain_word::<u128>());
        assert_eq!(is_word::<u32>(), !cfg!(debug_assertions));
    }

    #[test]
    fn borrowed_types_are_never_words() {
        fn check<'a>(_: &'a str) {
            assert!(!is_plain_word::<&'a str>());
            assert!(!is_plain_word::<&'a u8>());
            assert!(!is_plain_word::<Option<&'a u32>>());
            assert!(!is_plain_word::<PhantomData<&'a u8>>());
        }
        let text = String::from("local");
        check(&text);
        assert_eq!(erased_type_id::<&str>(), TypeId::of::<&'static str>());
        assert_ne!(erased_type_id::<&u8>(), TypeId::of::<u8>());
        assert_eq!(erased_type_id::<u8>(), TypeId::of::<u8>());
    }

    #[test]
    fn borrowed_values_come_back() {
        let text = String::from("borrowed text");
        let words: Vec<&str> = text.split(' ').collect();
        assert_eq!(round_trip(words[1]), "text");
        assert_eq!(round_trip(&words[..]), ["borrowed", "text"]);
    }

    #[test]
    fn values_come_back_bit_for_bit() {
        assert_eq!(round_trip(u64::MAX - 1), u64::MAX - 1);
        assert_eq!(round_trip(-5i8), -5);
        assert_eq!(round_trip(i32::MIN), i32::MIN);
        assert_eq!(round_trip('é'), 'é');
        assert!(round_trip(true));
        assert_eq!(round_trip(-0.0f64).to_bits(), (-0.0f64).to_bits());
        assert_eq!(round_trip(f32::NAN).to_bits(), f32::NAN.to_bits());
        assert_eq!(round_trip(()), ());
        assert_eq!(round_trip((7u8, 9u16)), (7, 9));
        assert_eq!(round_trip(String::from("by address")), "by address");
    }
}
