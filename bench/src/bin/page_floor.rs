//! The floor of a round-robin walk over many suspended stackful coroutines,
//! without any coroutine: what touching one cache line on each of `n`
//! pages costs, pages `stride` bytes apart (as stack tops are), against
//! touching `n` heap blocks of a stackless frame's size allocated one after
//! another (as stackless frames are).
//!
//! Each step reads and writes one word at an address taken from an array
//! walked in order (as a ring of coroutines holds their stack pointers), so
//! the processor may overlap as many steps as it can: a lower bound. The
//! resume of a stackful coroutine whose body keeps state in its frame
//! across the suspension touches at least this (that frame's line, on a
//! page of its own, through the TLB) and more (its header, its handle); so
//! where this floor is above twice the stream's time, such a body cannot
//! come within twice a stackless one's. (What the switch itself saves is in
//! the header, so a body whose state stays in registers touches no line of
//! its stack.)
//!
//! `cargo run --release -p bench --bin page_floor` prints the table (about
//! a minute; it maps up to 1 TiB of address space, touching one page in
//! each stride).

use std::hint::black_box;
use std::time::Instant;

/// Bytes of a trivial stackless coroutine's frame and header, on the heap.
const FRAME: usize = 176;

/// Bytes of a stackful coroutine's header, with its counts, on the heap.
const HEADER: usize = 128;

/// Where a step's second line is, if it has one.
#[derive(Clone, Copy)]
enum Second {
    /// None: the header's fields would share the stack's line.
    No,
    /// In a block of a stream of `HEADER`-byte blocks: today's header.
    Heap,
    /// On the same page as the first, 1 KiB above it: a header at the
    /// stack's top.
    SamePage,
}

/// The steps each measurement takes, at least.
const STEPS: usize = 20_000_000;

/// One word in each of `n` places, and their offsets in order.
struct Ring {
    base: *mut u8,
    len: usize,
    mapped: bool,
    offsets: Vec<usize>,
}

impl Ring {
    /// `n` words `stride` bytes apart, each at its own offset into a
    /// mapping reserved without backing (one page resident per word), one
    /// of 32 cache lines below the stride's top, as coro colours its stack
    /// tops.
    fn pages(n: usize, stride: usize) -> Ring {
        let len = n * stride;
        // SAFETY: an anonymous private mapping touches no existing memory.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED, "mmap of {len} bytes");
        Ring {
            base: base.cast(),
            len,
            mapped: true,
            offsets: (0..n)
                .map(|i| (i + 1) * stride - 512 - (i % 32) * 64)
                .collect(),
        }
        .touched()
    }

    /// `n` words `FRAME` bytes apart on the heap, as consecutive frames.
    fn stream(n: usize) -> Ring {
        let len = n * FRAME;
        let layout = std::alloc::Layout::from_size_align(len, 64).unwrap();
        // SAFETY: `len` is not zero.
        let base = unsafe { std::alloc::alloc_zeroed(layout) };
        assert!(!base.is_null());
        Ring {
            base,
            len,
            mapped: false,
            offsets: (0..n).map(|i| i * FRAME).collect(),
        }
        .touched()
    }

    /// The ring with every word written once (its page resident).
    fn touched(self) -> Ring {
        for &at in &self.offsets {
            // SAFETY: every offset is inside the ring's memory, aligned.
            unsafe { self.base.add(at).cast::<usize>().write(at) };
        }
        self
    }

    /// Nanoseconds per step of walks around the ring: the best of three
    /// walks of at least `STEPS` steps.
    fn walk(&self, second: Second) -> f64 {
        let n = self.offsets.len();
        let headers = vec![0usize; n * HEADER / 8];
        let rounds = STEPS.div_ceil(n);
        let mut best = f64::MAX;
        for _ in 0..3 {
            let mut sum = 0usize;
            let t = Instant::now();
            for _ in 0..rounds {
                for (i, &at) in self.offsets.iter().enumerate() {
                    // SAFETY: every offset is inside the ring's memory, and
                    // 1 KiB above it too (512 bytes and the colour below the
                    // stride's top, at most 2,496 bytes: the same page).
                    unsafe {
                        let word = self.base.add(at).cast::<usize>();
                        let value = word.read();
                        // A store too, as a suspension writes its stack.
                        word.add(1).write(value);
                        sum = sum.wrapping_add(value);
                        sum = sum.wrapping_add(match second {
                            Second::No => 0,
                            Second::Heap => headers.as_ptr().add(i * HEADER / 8).read(),
                            Second::SamePage => word.add(128).read(),
                        });
                    }
                }
            }
            black_box(sum);
            let steps = rounds * self.offsets.len();
            best = best.min(t.elapsed().as_nanos() as f64 / steps as f64);
        }
        best
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        if self.mapped {
            // SAFETY: unmapping exactly what `pages` mapped.
            unsafe { libc::munmap(self.base.cast(), self.len) };
        } else {
            let layout = std::alloc::Layout::from_size_align(self.len, 64).unwrap();
            // SAFETY: allocated by `stream` with this layout.
            unsafe { std::alloc::dealloc(self.base, layout) };
        }
    }
}

fn main() {
    // Strides: the least any guarded stack takes (a page and its guard), the
    // least coro's take (16 KiB, the 8 KiB close reserve, the guard), 64 KiB
    // stacks, and coro's default of 1 MiB.
    let strides = [
        ("8 KiB: one page + guard", 8 << 10),
        ("28 KiB: coro's 16 KiB minimum", 28 << 10),
        ("76 KiB: 64 KiB stacks", 76 << 10),
        ("1,036 KiB: the 1 MiB default", 1036 << 10),
    ];
    println!(
        "| live | stackless-like stream ({FRAME} B blocks) | stride | one line per page | vs stream |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for n in [100_000, 1_000_000] {
        let stream = Ring::stream(n).walk(Second::No);
        for (name, stride) in strides {
            let t = Ring::pages(n, stride).walk(Second::No);
            println!(
                "| {n} | {stream:.2} ns | {name} | {t:.2} ns | {:.2} × |",
                t / stream
            );
        }
    }
    // Where a header would pay: beside the stack's line on its page, or in
    // a dense stream of headers as today.
    println!(
        "\n| live | stride | stack line only | + a header line in a heap stream | + a line on the same page |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for n in [10_000, 100_000, 1_000_000] {
        for (name, stride) in [strides[1], strides[3]] {
            let ring = Ring::pages(n, stride);
            let [alone, heap, page] =
                [Second::No, Second::Heap, Second::SamePage].map(|second| ring.walk(second));
            println!("| {n} | {name} | {alone:.2} ns | {heap:.2} ns | {page:.2} ns |");
        }
    }
}
