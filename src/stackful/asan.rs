//! AddressSanitizer's fiber annotations, when the crate is built with
//! `-Zsanitizer=address` (build.rs then sets the cfg `coro_asan`).
//!
//! ASan keeps, for each thread, the bounds of the stack it runs on; a switch
//! it is not told about makes it see frames outside those bounds ("ASan is
//! ignoring requested __asan_handle_no_return", then false reports or missed
//! ones). So every switch is announced: the side that leaves calls
//! `__sanitizer_start_switch_fiber` with the bounds of the stack it goes to,
//! the side that arrives calls `__sanitizer_finish_switch_fiber`, which also
//! tells it the bounds of the stack it came from. A coroutine keeps its
//! resumer's bounds in its header for the way back; a resumer knows the
//! coroutine's stack. A coroutine that finishes passes no fake stack to
//! save, so ASan frees its own. Without ASan every function here is empty.

#[cfg(coro_asan)]
mod imp {
    use std::ffi::c_void;
    use std::ptr;

    use crate::header::Header;

    unsafe extern "C" {
        fn __sanitizer_start_switch_fiber(
            fake_stack_save: *mut *mut c_void,
            bottom: *const c_void,
            size: usize,
        );
        fn __sanitizer_finish_switch_fiber(
            fake_stack_save: *mut c_void,
            bottom_old: *mut *const c_void,
            size_old: *mut usize,
        );
        fn __asan_unpoison_memory_region(addr: *const c_void, size: usize);
    }

    /// What the side that left keeps until it is back: ASan's fake stack.
    pub(crate) struct Leaving(*mut c_void);

    /// A resumer is about to switch onto the stack `[bottom, bottom + size)`.
    pub(crate) fn resume(bottom: *const u8, size: usize) -> Leaving {
        let mut fake = ptr::null_mut();
        // SAFETY: ASan's own bookkeeping; the bounds are the coroutine's stack.
        unsafe { __sanitizer_start_switch_fiber(&mut fake, bottom.cast(), size) };
        Leaving(fake)
    }

    /// The resumer is back on its own stack.
    pub(crate) fn resumed(leaving: Leaving) {
        // SAFETY: as above; the fake stack is the one saved by `resume`.
        unsafe { __sanitizer_finish_switch_fiber(leaving.0, ptr::null_mut(), ptr::null_mut()) };
    }

    /// A coroutine arrived on its stack (at its start, or back in a
    /// suspension with the fake stack that suspension saved): records where
    /// its resumer's stack is, for the way back.
    pub(crate) fn arrived(header: &Header, leaving: Option<Leaving>) {
        let mut bottom = ptr::null();
        let mut size = 0;
        let fake = leaving.map_or(ptr::null_mut(), |leaving| leaving.0);
        // SAFETY: ASan's own bookkeeping.
        unsafe { __sanitizer_finish_switch_fiber(fake, &mut bottom, &mut size) };
        header.set_asan_resumer(bottom.cast(), size);
    }

    /// A coroutine is about to suspend back onto its resumer's stack.
    pub(crate) fn suspend(header: &Header) -> Leaving {
        let (bottom, size) = header.asan_resumer();
        let mut fake = ptr::null_mut();
        // SAFETY: ASan's own bookkeeping; the bounds were recorded on arrival.
        unsafe { __sanitizer_start_switch_fiber(&mut fake, bottom.cast(), size) };
        Leaving(fake)
    }

    /// A coroutine leaves its stack for the last time.
    pub(crate) fn finish(header: &Header) {
        let (bottom, size) = header.asan_resumer();
        // SAFETY: a null save slot tells ASan to free this stack's fake
        // stack: nothing runs on it again.
        unsafe { __sanitizer_start_switch_fiber(ptr::null_mut(), bottom.cast(), size) };
    }

    /// A stack is about to be used by a new coroutine: whatever its last one
    /// left poisoned (its frames' redzones) is ordinary memory again.
    pub(crate) fn unpoison(bottom: *const u8, size: usize) {
        // SAFETY: the range is a free stack of ours.
        unsafe { __asan_unpoison_memory_region(bottom.cast(), size) };
    }
}

#[cfg(not(coro_asan))]
mod imp {
    use crate::header::Header;

    /// Nothing to keep without ASan.
    pub(crate) struct Leaving;

    #[inline(always)]
    pub(crate) fn resume(_bottom: *const u8, _size: usize) -> Leaving {
        Leaving
    }

    #[inline(always)]
    pub(crate) fn resumed(_leaving: Leaving) {}

    #[inline(always)]
    pub(crate) fn arrived(_header: &Header, _leaving: Option<Leaving>) {}

    #[inline(always)]
    pub(crate) fn suspend(_header: &Header) -> Leaving {
        Leaving
    }

    #[inline(always)]
    pub(crate) fn finish(_header: &Header) {}

    #[inline(always)]
    pub(crate) fn unpoison(_bottom: *const u8, _size: usize) {}
}

pub(crate) use imp::*;
