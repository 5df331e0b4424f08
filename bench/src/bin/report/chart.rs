//! The SVG bar chart of the timed tables, on one log scale.

use crate::output::{format_ns, machine};
use crate::peer::{Kind, Peer};
use crate::timing::Timed;

/// The chart's width, in pixels.
const SVG_WIDTH: f64 = 980.0;
/// Where the bars start: the labels go left of it.
const BAR_LEFT: f64 = 330.0;
/// How long the longest bar may be.
const BAR_SPAN: f64 = 520.0;
/// A bar's height.
const BAR_HEIGHT: f64 = 18.0;
/// From one bar to the next.
const BAR_PITCH: f64 = 24.0;

/// Horizontal bars on one log scale, a panel per table, as SVG text.
pub(crate) fn svg_chart(panels: &[(&str, &[Peer], &[Timed])]) -> String {
    let all = panels
        .iter()
        .flat_map(|(_, _, timed)| timed.iter().map(|t| t.median));
    let (low, high) = all.fold((f64::INFINITY, 0.0f64), |(lo, hi), ns| {
        (lo.min(ns), hi.max(ns))
    });
    let first = low.log10().floor();
    let last = high.log10().ceil().max(first + 1.0);
    let x = |ns: f64| BAR_LEFT + (ns.log10() - first) / (last - first) * BAR_SPAN;

    let rows: usize = panels.iter().map(|(_, peers, _)| peers.len()).sum();
    let height = 90.0 + panels.len() as f64 * 70.0 + rows as f64 * BAR_PITCH + 40.0;
    let mut svg = String::new();
    let mut put = |line: String| {
        svg.push_str(&line);
        svg.push('\n');
    };
    put(r#"<?xml version="1.0" encoding="UTF-8"?>"#.to_string());
    put(format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{height}" viewBox="0 0 {SVG_WIDTH} {height}" font-family="sans-serif" font-size="13">"#
    ));
    put(format!(
        r#"<rect width="{SVG_WIDTH}" height="{height}" fill="white"/>"#
    ));
    put(format!(
        r#"<text x="{}" y="28" font-size="17" font-weight="bold" text-anchor="middle">coro and its peers: nanoseconds per operation (median, log scale, shorter is faster)</text>"#,
        SVG_WIDTH / 2.0
    ));
    put(format!(
        r##"<text x="{}" y="48" font-size="11" fill="#555" text-anchor="middle">{}</text>"##,
        SVG_WIDTH / 2.0,
        escape(&machine())
    ));

    let mut y = 80.0;
    for (title, peers, timed) in panels {
        put(format!(
            r#"<text x="12" y="{y}" font-size="15" font-weight="bold">{}</text>"#,
            escape(title)
        ));
        y += 14.0;
        let top = y;
        let bottom = top + peers.len() as f64 * BAR_PITCH;
        // Decade grid lines and their labels.
        let mut decade = first;
        while decade <= last {
            let gx = x(10f64.powf(decade));
            put(format!(
                r##"<line x1="{gx:.1}" y1="{top}" x2="{gx:.1}" y2="{bottom}" stroke="#ddd"/>"##
            ));
            put(format!(
                r##"<text x="{gx:.1}" y="{:.1}" font-size="11" fill="#555" text-anchor="middle">{}</text>"##,
                bottom + 14.0,
                format_decade(decade)
            ));
            decade += 1.0;
        }
        for (peer, t) in peers.iter().zip(timed.iter()) {
            let is_coro = peer.against.is_empty();
            let weight = if is_coro { "bold" } else { "normal" };
            let stroke = if is_coro {
                r#" stroke="black" stroke-width="1.5""#
            } else {
                ""
            };
            let end = x(t.median);
            put(format!(
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-weight="{weight}">{}</text>"#,
                BAR_LEFT - 8.0,
                y + BAR_HEIGHT - 4.0,
                escape(peer.name)
            ));
            put(format!(
                r#"<rect x="{BAR_LEFT}" y="{y:.1}" width="{:.1}" height="{BAR_HEIGHT}" fill="{}"{stroke}/>"#,
                (end - BAR_LEFT).max(1.0),
                peer.kind.colour()
            ));
            put(format!(
                r#"<text x="{:.1}" y="{:.1}" font-weight="{weight}">{}</text>"#,
                end + 6.0,
                y + BAR_HEIGHT - 4.0,
                escape(&format_ns(t.median))
            ));
            y += BAR_PITCH;
        }
        y += 56.0;
    }
    // The legend.
    let mut lx = 150.0;
    for kind in [Kind::Stackful, Kind::Stackless, Kind::Lua, Kind::Threads] {
        put(format!(
            r#"<rect x="{lx}" y="{:.1}" width="14" height="14" fill="{}"/>"#,
            y - 28.0,
            kind.colour()
        ));
        put(format!(
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 20.0,
            y - 16.0,
            kind.label()
        ));
        lx += 120.0;
    }
    put(format!(
        r#"<text x="{lx}" y="{:.1}" font-weight="bold">bold, outlined: coro</text>"#,
        y - 16.0
    ));
    put("</svg>".to_string());
    svg
}

/// An axis label for 10^`decade` nanoseconds.
fn format_decade(decade: f64) -> String {
    let ns = 10f64.powf(decade);
    match decade as i32 {
        ..=-1 => format!("{ns} ns"),
        0..=2 => format!("{ns:.0} ns"),
        3..=5 => format!("{:.0} µs", ns / 1e3),
        _ => format!("{:.0} ms", ns / 1e6),
    }
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
