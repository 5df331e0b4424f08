//! The timing loops and their sampling, shared by every timed table: a
//! warm-up, then samples of a fixed number of iterations, taken in turn from
//! every row of a table, summarised by their median.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::Settings;
use crate::peer::Peer;

/// Runs an operation a given number of times, on state set up beforehand,
/// and returns how long the runs took.
pub(crate) type Run = Box<dyn FnMut(u64) -> Duration>;

/// Runs `op` `iters` times and returns how long that took.
#[inline]
pub(crate) fn time<T>(iters: u64, mut op: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(op());
    }
    start.elapsed()
}

/// Times one call of `op`, which runs all the iterations itself (a Lua
/// loop).
#[inline]
pub(crate) fn time_loop<T>(op: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    black_box(op());
    start.elapsed()
}

/// The summary of one operation's samples, in nanoseconds per iteration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timed {
    /// The median.
    pub(crate) median: f64,
    /// Half the distance between the quartiles, relative to the median.
    pub(crate) spread: f64,
}

/// Sets up every peer of a table, then samples them all.
pub(crate) fn time_table(settings: Settings, peers: &[Peer]) -> Vec<Timed> {
    let mut runs: Vec<(&str, Run)> = peers
        .iter()
        .map(|peer| {
            eprintln!("setting up {}", peer.name);
            (peer.name, (peer.make)())
        })
        .collect();
    sample(settings, &mut runs)
}

/// Warms up and calibrates each run, then takes their samples in turn,
/// one of each per round, and summarises them.
pub(crate) fn sample(settings: Settings, runs: &mut [(&str, Run)]) -> Vec<Timed> {
    let iters: Vec<u64> = runs
        .iter_mut()
        .map(|(name, run)| {
            eprintln!("warming up {name}");
            calibrate(settings, run)
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(settings.samples); runs.len()];
    for _ in 0..settings.samples {
        for ((run, &n), taken) in runs
            .iter_mut()
            .map(|(_, run)| run)
            .zip(&iters)
            .zip(&mut samples)
        {
            taken.push(run(n).as_nanos() as f64 / n as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut taken| {
            taken.sort_by(f64::total_cmp);
            let at = |q: f64| taken[((taken.len() - 1) as f64 * q).round() as usize];
            let median = at(0.5);
            Timed {
                median,
                spread: (at(0.75) - at(0.25)) / 2.0 / median,
            }
        })
        .collect()
}

/// Runs `run` for at least the warm-up time, doubling its iterations until
/// one run is long enough to time, and returns how many fill a sample.
fn calibrate(settings: Settings, run: &mut Run) -> u64 {
    let start = Instant::now();
    let mut iters = 1;
    loop {
        let took = run(iters);
        if took < settings.sample_time / 10 {
            iters *= 2;
        } else if start.elapsed() >= settings.warm_up {
            let per_iter = took.as_secs_f64() / iters as f64;
            return ((settings.sample_time.as_secs_f64() / per_iter) as u64).max(1);
        }
    }
}
