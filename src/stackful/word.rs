//! How a value crosses a context switch: in the switch's register itself
//! when it is a plain word, else as the address of the value, left in place
//! on the sender's stack until the other side has read it.
//!
//! A plain word is a type every one of whose values has all its bytes
//! initialized and fits in a `usize`: the integers, `bool`, `char`, the
//! floats and `()`, told apart by `TypeId` (every coroutine type is
//! `'static`). Any other type may have padding, whose bytes may be
//! uninitialized, and an integer made of those would be undefined
//! behaviour, so it goes by address. The test is on types only: after
//! inlining it is a constant, and each switch compiles to one of the two
//! ways.

use std::any::TypeId;
use std::mem::{ManuallyDrop, size_of};
use std::ptr;

/// True if `T` crosses a switch in the register (see the module's docs).
///
/// Not in builds with debug assertions (debug builds): there the type test
/// is not folded away, and its calls, made on the coroutine's stack at
/// every switch, would touch up to a kilobyte more of it (a page more
/// resident for every few coroutines). Both ways hand over the same value.
#[inline(always)]
fn is_word<T: 'static>() -> bool {
    !cfg!(debug_assertions) && is_plain_word::<T>()
}

/// True if every value of `T` is a plain word (see the module's docs).
#[inline(always)]
fn is_plain_word<T: 'static>() -> bool {
    if size_of::<T>() > size_of::<usize>() {
        return false;
    }
    let t = TypeId::of::<T>();
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
pub(super) fn send<T: 'static>(value: &ManuallyDrop<T>) -> usize {
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
pub(super) unsafe fn read<T: 'static>(word: usize) -> T {
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
    fn round_trip<T: 'static + Clone>(value: T) -> T {
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
