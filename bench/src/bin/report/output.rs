//! The report's text: the machine and revision lines, the markdown tables
//! and the number formats they use.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::peer::Peer;
use crate::timing::Timed;

/// The CPU model and clock, logical CPU count and kernel release.
pub(crate) fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .filter(|line| line.starts_with(name))
            .find_map(|line| line.split_once(':'))
            .map_or("?", |(_, value)| value.trim())
    };
    let cpus = cpuinfo
        .lines()
        .filter(|line| line.starts_with("processor"))
        .count();
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{} at {} MHz, {cpus} logical CPUs, Linux {}",
        field("model name"),
        field("cpu MHz"),
        kernel.trim()
    )
}

/// The commit of coro measured, and whether `src/` differs from it.
pub(crate) fn revision() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&root)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => match git(&["status", "--porcelain", "--", "src"]) {
            Some(changes) if !changes.is_empty() => {
                format!("commit {commit}, with uncommitted changes in src/")
            }
            _ => format!("commit {commit}"),
        },
        None => "commit unknown (no git)".to_string(),
    }
}

/// One row per peer: its kind, median, spread, and its time divided by its
/// reference's.
pub(crate) fn print_timings(peers: &[Peer], timed: &[Timed]) {
    let lookup = |name: &str| {
        peers
            .iter()
            .zip(timed)
            .find(|(peer, _)| peer.name == name)
            .map(|(_, t)| *t)
    };
    let header = ["peer", "kind", "median", "ratio"].map(String::from);
    let rows = peers.iter().zip(timed).map(|(peer, &t)| {
        vec![
            peer.name.to_string(),
            peer.kind.label().to_string(),
            format_timed(t),
            lookup(peer.against).map_or_else(
                || "reference".to_string(),
                |r| format!("{} × {}", ratio(t.median / r.median), peer.against),
            ),
        ]
    });
    print_table(&header, rows);
}

/// Prints a markdown table.
pub(crate) fn print_table(header: &[String], rows: impl Iterator<Item = Vec<String>>) {
    println!("| {} |", header.join(" | "));
    println!("|{}", " --- |".repeat(header.len()));
    for row in rows {
        println!("| {} |", row.join(" | "));
    }
}

/// `value` formatted, or a dash where there is none.
pub(crate) fn cell(value: Option<f64>, format: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "—".to_string(), format)
}

/// A ratio to two decimals, or to three significant digits when large.
pub(crate) fn ratio(r: f64) -> String {
    if r < 100.0 {
        format!("{r:.2}")
    } else {
        format!("{r:.0}")
    }
}

/// A median with its spread, as "12.3 ns ±2%".
pub(crate) fn format_timed(t: Timed) -> String {
    format!("{} ±{:.0}%", format_ns(t.median), t.spread * 100.0)
}

/// A duration in nanoseconds, to about three significant digits.
pub(crate) fn format_ns(ns: f64) -> String {
    if ns < 10.0 {
        format!("{ns:.2} ns")
    } else if ns < 100.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 10_000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{:.1} µs", ns / 1000.0)
    }
}

/// A size in bytes, with KiB beside it when large.
pub(crate) fn format_bytes(bytes: f64) -> String {
    if bytes < 1024.0 {
        format!("{bytes:.0} B")
    } else {
        format!("{bytes:.0} B ({:.2} KiB)", bytes / 1024.0)
    }
}

/// `n` with thousands separated by commas.
pub(crate) fn group_digits(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
