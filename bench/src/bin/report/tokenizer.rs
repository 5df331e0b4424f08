//! The tokenizer table: a realistic generator, the same tokenizer over the
//! same 1 MiB text on every peer that can write it as a generator, against
//! the hand-written `Iterator` and against plain calls with no generator at
//! all. The rows are timed side by side, their samples taken in turn.

use std::hint::black_box;

use bench::tokenizer::{self, TEXT_LEN};

use crate::Settings;
use crate::output::{format_ns, print_table, ratio};
use crate::timing::{Run, Timed, sample, time};

/// A row: its name, kind, and one pass over the text, returning the count
/// and checksum of its tokens.
type Row = (&'static str, &'static str, fn(&'static [u8]) -> (u64, u64));

/// coro's stackful row, the reference of the ratios.
const CORO: &str = "coro";
/// The hand-written iterator's row.
const ITERATOR: &str = "hand-written Iterator";

/// Every row, in the table's order.
const ROWS: &[Row] = &[
    (CORO, "stackful", |text| tokenizer::count_tokens_coro(text)),
    ("corosensei", "stackful", |text| {
        tokenizer::count_tokens_corosensei(text)
    }),
    ("coro stackless", "stackless", |text| {
        tokenizer::count_tokens_coro_stackless(text)
    }),
    ("coro stackless, typed", "stackless", |text| {
        tokenizer::count_tokens_coro_typed(text)
    }),
    ("genawaiter (rc)", "stackless", |text| {
        tokenizer::count_tokens_genawaiter(text)
    }),
    (ITERATOR, "state machine", |text| {
        tokenizer::count_tokens_iterator(text)
    }),
    ("plain calls, no generator", "floor", |text| {
        tokenizer::count_tokens_direct(text)
    }),
];

/// Times every row and prints the table.
pub(crate) fn tokenizer_table(settings: Settings) {
    let text = tokenizer::text();
    let (tokens, checksum) = tokenizer::count_tokens_direct(text);
    for (name, _, pass) in ROWS {
        assert_eq!(pass(text), (tokens, checksum), "{name} yields other tokens");
    }
    let mut runs: Vec<(&str, Run)> = ROWS
        .iter()
        .map(|&(name, _, pass)| {
            let run: Run = Box::new(move |n| time(n, || pass(black_box(text))));
            (name, run)
        })
        .collect();
    let timed = sample(settings, &mut runs);
    let find = |name: &str| {
        ROWS.iter()
            .zip(&timed)
            .find(|((row, _, _), _)| *row == name)
            .map(|(_, t)| t.median)
            .expect("the reference rows exist")
    };
    let (coro, iterator) = (find(CORO), find(ITERATOR));
    let header = [
        "peer",
        "kind",
        "1 MiB pass",
        "per token",
        "tokens per second",
        "vs coro",
        "vs iterator",
    ]
    .map(String::from);
    let rows = ROWS.iter().zip(&timed).map(|(&(name, kind, _), &t)| {
        let Timed { median, spread } = t;
        vec![
            name.to_string(),
            kind.to_string(),
            format!("{:.2} ms ±{:.0}%", median / 1e6, spread * 100.0),
            format_ns(median / tokens as f64),
            format!("{:.0} M", tokens as f64 / median * 1e3),
            format!("{} ×", ratio(median / coro)),
            format!("{} ×", ratio(median / iterator)),
        ]
    });
    print_table(&header, rows);
    println!(
        "\n{tokens} tokens in {TEXT_LEN} bytes of a generated config-like \
         language (identifiers, numbers, strings with escapes and nested \
         interpolations, operators, nested brackets, nesting comments); each \
         pass makes the generator and drains it, folding every token into a \
         checksum. The stackful peers run the tokenizer written as plain \
         recursive functions, suspending from inside them; the stackless \
         peers run it written as one `async fn` with an explicit stack; the \
         iterator is a hand-written state machine; the last row calls the \
         recursive tokenizer with a sink that counts. Median of {} samples; \
         the ratios are the row's time over coro's and over the iterator's.",
        settings.samples
    );
}
