// Temporary experiment: round-robin resumes at many live coroutines.
use coro::{Builder, Coroutine, Resumed};
use std::hint::black_box;
use std::time::Instant;

fn ring_time<C>(v: &mut [C], step: impl Fn(&mut C, u64) -> u64) -> f64 {
    let rounds = (20_000_000 / v.len()).max(3);
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let mut acc = 0u64;
        for _ in 0..rounds {
            for c in v.iter_mut() {
                acc = acc.wrapping_add(step(c, black_box(7)));
            }
        }
        black_box(acc);
        best = best.min(t.elapsed().as_nanos() as f64 / (rounds * v.len()) as f64);
    }
    best
}

fn step(c: &mut Coroutine<u64, u64, ()>, i: u64) -> u64 {
    match c.resume(i) {
        Ok(Resumed::Yield(x)) => x,
        _ => unreachable!(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[1].parse().unwrap();
    let kind = args[2].as_str();
    if let Some(k) = kind.strip_prefix("pte") {
        pte(n, k.parse().unwrap());
        return;
    }
    if kind == "create" {
        creates();
        return;
    }
    if kind == "stackless" {
        use coro::stackless::{Coroutine, Yielder};
        let mut v: Vec<_> = (0..n)
            .map(|_| {
                let mut c = Coroutine::new(|y: Yielder<u64, u64>, mut input: u64| async move {
                    loop {
                        input = y.suspend(input.wrapping_add(1)).await;
                    }
                });
                c.resume(0).unwrap();
                c
            })
            .collect();
        let t = ring_time(&mut v, |c, i| match c.resume(i) {
            Ok(Resumed::Yield(x)) => x,
            _ => unreachable!(),
        });
        println!("{n} stackless {t:.2} ns");
        return;
    }
    let size: usize = kind.parse().unwrap();
    let mut v: Vec<_> = (0..n)
        .map(|_| {
            let mut c = Builder::new()
                .stack_size(size * 1024)
                .build(|y, mut input: u64| {
                    loop {
                        input = y.suspend(input.wrapping_add(1));
                    }
                })
                .unwrap();
            step(&mut c, 0);
            c
        })
        .collect();
    let t = ring_time(&mut v, step);
    println!("{n} stackful {size}K {t:.2} ns");
}
#[allow(dead_code)]
pub fn creates() {
    for _ in 0..5 {
        let n = 2_000_000;
        let t = Instant::now();
        for _ in 0..n {
            black_box(bench::coro_peer::create_finish(black_box(7)));
        }
        let a = t.elapsed().as_nanos() as f64 / n as f64;
        let t = Instant::now();
        for _ in 0..n {
            black_box(bench::coro_typed_peer::create_finish(black_box(7)));
        }
        let b = t.elapsed().as_nanos() as f64 / n as f64;
        println!("create+finish stackful {a:.1} ns, typed stackless {b:.1} ns");
    }
}
#[allow(dead_code)]
pub fn vmpte() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with("VmPTE:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<usize>()
        .unwrap()
        * 1024
}
#[allow(dead_code)]
pub fn pte(n: usize, kib: usize) {
    let before = vmpte();
    let v: Vec<_> = (0..n)
        .map(|_| {
            let mut c = Builder::new()
                .stack_size(kib * 1024)
                .build(|y, mut input: u64| {
                    loop {
                        input = y.suspend(input.wrapping_add(1));
                    }
                })
                .unwrap();
            step(&mut c, 0);
            c
        })
        .collect();
    println!(
        "{n} x {kib} KiB: page tables {} B per coroutine",
        (vmpte() - before) / n
    );
    drop(v);
}
