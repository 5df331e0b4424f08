//! A realistic generator: a tokenizer over 1 MiB of a small config-like
//! language, yielding one [`Token`] at a time, on every peer that can write
//! it as a generator, and by hand as an [`Iterator`].
//!
//! The language has identifiers and keywords, decimal and hex integers,
//! string literals with escapes (`\n`, `\xHH`, `\u{H…}`, …) and
//! interpolation (`"total ${a + b} items"`), operators, nested brackets,
//! line comments and nesting block comments (`/* a /* b */ c */`). Blanks
//! and newlines are skipped; comments are tokens. [`text`] generates the
//! input, the same bytes on every run, from a seeded PRNG.
//!
//! Three ways of writing the same grammar:
//!
//! - [`tokenize`]: plain recursive functions over a sink
//!   `FnMut(Token)`. A bracket is a call to `group`, which tokenizes until
//!   its close; a string literal is a call to `string`, whose interpolations
//!   call back into the item loop, which may open groups and strings of its
//!   own. The stackful peers run it unchanged in a coroutine whose sink
//!   suspends: coro (`yielder.suspend(token)`) and corosensei (the same).
//! - [`tokenize_async`]: an `async fn` over a [`Sink`] whose `emit` is
//!   awaited: coro stackless (`y.suspend(token).await`) and genawaiter
//!   (`co.yield_(token).await`, the `rc` flavour). A stackless frame cannot
//!   suspend from a plain call, and a recursive `async fn` must box each
//!   level (an allocation per bracket); so this version is one loop that
//!   keeps the open brackets and interpolations on an explicit stack, which
//!   is how one would write it for speed. Its frame is a fixed size.
//! - [`Tokens`]: the hand-written `Iterator`, a state machine with the
//!   same explicit stack and a flag for "resume the string after an
//!   interpolation", returning each token from `next`.
//!
//! All three share the plain functions that scan one lexeme (an identifier,
//! a number, a string piece up to its quote or its next `${`, a comment,
//! an operator): the nesting and the hand-off of each token are what
//! differ. Block comments nest by recursion in all of them, but yield no
//! token until the outermost ends.
//!
//! Nesting, of brackets, interpolations and comments, stops at
//! [`MAX_DEPTH`] so that no input overflows a stack: a bracket opened there
//! is an [`Kind::Error`] token, a `${` there is plain string text, a `/*`
//! there is plain comment text. The generated text nests far less.
//!
//! Each peer's `count_tokens_*` drains its generator and returns the number
//! of tokens and a checksum that folds in every field of every token, so
//! that none of the work can be optimized away; the tests check that every
//! peer yields the same tokens, so the same checksum.

use std::future::Future;
use std::sync::OnceLock;

use coro::Resumed;

/// How deep brackets, interpolations and block comments nest before the
/// tokenizer stops counting.
pub const MAX_DEPTH: u8 = 32;

/// The size of the generated input, [`text`].
pub const TEXT_LEN: usize = 1 << 20;

// ---- tokens -----------------------------------------------------------------

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// `name_2`.
    Ident,
    /// One of `let fn if else return true false null`.
    Keyword,
    /// `42`, `1_000`, `0x1f`.
    Int,
    /// A whole string literal, or the last piece of an interpolated one
    /// (from the `}` that closed its interpolation to the closing quote).
    Str,
    /// A piece of a string literal that ends with `${`: the tokens of the
    /// interpolation follow, one level deeper, then its `}` as a
    /// [`Close`](Kind::Close), then the rest of the string.
    StrPart,
    /// A string piece ([`Str`](Kind::Str) or [`StrPart`](Kind::StrPart))
    /// with an invalid escape.
    BadEscape,
    /// A string piece that the end of the text cut off.
    Unterminated,
    /// An operator or punctuation: `==`, `->`, `+`, `,`, `;`, …
    Punct,
    /// `(`, `[` or `{`.
    Open,
    /// The `)`, `]` or `}` matching the innermost open bracket or
    /// interpolation.
    Close,
    /// A closing bracket that does not match the innermost open one; it
    /// closes it all the same.
    Mismatch,
    /// `// …` to the end of the line, or `/* … */`, nesting.
    Comment,
    /// A byte that starts no token, a closing bracket with nothing open, or
    /// a bracket opened [`MAX_DEPTH`] deep.
    Error,
}

/// One token: what it is, where it is in the text, and how deep in
/// brackets and interpolations. Twelve bytes, `Copy`: every peer moves the
/// same value per yield.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Token {
    /// Its first byte's offset in the text.
    pub start: u32,
    /// Its length in bytes.
    pub len: u32,
    /// What it is.
    pub kind: Kind,
    /// How many brackets and interpolations enclose it (a bracket's own
    /// tokens are at the depth of what encloses it).
    pub depth: u8,
}

impl Token {
    /// The token of `kind` over `start..end`.
    #[inline(always)]
    fn new(kind: Kind, start: usize, end: usize, depth: u8) -> Token {
        Token {
            start: start as u32,
            len: (end - start) as u32,
            kind,
            depth,
        }
    }

    /// The offset just past it.
    #[inline(always)]
    fn end(self) -> usize {
        (self.start + self.len) as usize
    }
}

/// Folds `token` into the running `checksum`: every field counts.
#[inline(always)]
pub fn fold(checksum: u64, token: Token) -> u64 {
    let word = u64::from(token.start)
        | u64::from(token.len) << 24
        | u64::from(token.kind as u8) << 48
        | u64::from(token.depth) << 56;
    (checksum.rotate_left(5) ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The count and checksum of a stream of tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    /// Tokens seen.
    count: u64,
    /// [`fold`] over them.
    checksum: u64,
}

impl Tally {
    /// Counts `token`.
    #[inline(always)]
    fn add(&mut self, token: Token) {
        self.count += 1;
        self.checksum = fold(self.checksum, token);
    }

    /// `(count, checksum)`.
    fn pair(self) -> (u64, u64) {
        (self.count, self.checksum)
    }
}

// ---- lexemes: plain functions shared by every version ----------------------

/// The first offset from `pos` that is not a blank or a newline.
#[inline(always)]
fn skip_blank(text: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\r' | b'\n') = text.get(pos) {
        pos += 1;
    }
    pos
}

/// Whether `word` is a keyword.
#[inline]
fn is_keyword(word: &[u8]) -> bool {
    matches!(
        word,
        b"let" | b"fn" | b"if" | b"else" | b"return" | b"true" | b"false" | b"null"
    )
}

/// The token starting at `pos` that is neither blank, nor a bracket, nor a
/// string: an identifier, keyword, number, comment, operator or error.
fn lexeme(text: &[u8], pos: usize, depth: u8) -> Token {
    let next = text.get(pos + 1).copied();
    let (kind, end) = match text[pos] {
        b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
            let mut end = pos + 1;
            while let Some(b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_') = text.get(end) {
                end += 1;
            }
            let kind = if is_keyword(&text[pos..end]) {
                Kind::Keyword
            } else {
                Kind::Ident
            };
            (kind, end)
        }
        b'0' if matches!(next, Some(b'x' | b'X')) => {
            let mut end = pos + 2;
            while let Some(b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' | b'_') = text.get(end) {
                end += 1;
            }
            (Kind::Int, end)
        }
        b'0'..=b'9' => {
            let mut end = pos + 1;
            while let Some(b'0'..=b'9' | b'_') = text.get(end) {
                end += 1;
            }
            (Kind::Int, end)
        }
        b'/' if next == Some(b'/') => {
            let end = text[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |n| pos + n);
            (Kind::Comment, end)
        }
        b'/' if next == Some(b'*') => (Kind::Comment, block_comment(text, pos + 2, 1)),
        first => match (first, next) {
            (b'=', Some(b'=' | b'>'))
            | (b'!' | b'<' | b'>' | b'+' | b'-' | b'*' | b'/', Some(b'='))
            | (b'&', Some(b'&'))
            | (b'|', Some(b'|'))
            | (b'-', Some(b'>'))
            | (b':', Some(b':'))
            | (b'.', Some(b'.')) => (Kind::Punct, pos + 2),
            (
                b'=' | b'+' | b'-' | b'*' | b'/' | b'%' | b'<' | b'>' | b'!' | b'&' | b'|' | b'^'
                | b',' | b';' | b':' | b'.' | b'?' | b'@' | b'~',
                _,
            ) => (Kind::Punct, pos + 1),
            _ => (Kind::Error, pos + 1),
        },
    };
    Token::new(kind, pos, end, depth)
}

/// The end of a block comment whose `/*` ends just before `pos`, `nesting`
/// deep: an inner `/*` recurses, up to [`MAX_DEPTH`]. Runs to the end of
/// the text if the comment is not closed.
fn block_comment(text: &[u8], mut pos: usize, nesting: u8) -> usize {
    while let Some(&b) = text.get(pos) {
        match (b, text.get(pos + 1)) {
            (b'*', Some(b'/')) => return pos + 2,
            (b'/', Some(b'*')) if nesting < MAX_DEPTH => {
                pos = block_comment(text, pos + 2, nesting + 1);
            }
            _ => pos += 1,
        }
    }
    text.len()
}

/// How many bytes the escape after a `\` at `pos - 1` takes, and whether it
/// is valid: `\n \t \r \0 \\ \" \$`, `\xHH`, `\u{H…}` (one to six hex
/// digits).
#[inline]
fn escape(text: &[u8], pos: usize) -> (usize, bool) {
    let hex = |at: usize| text.get(at).is_some_and(u8::is_ascii_hexdigit);
    match text.get(pos) {
        None => (0, false),
        Some(b'n' | b't' | b'r' | b'0' | b'\\' | b'"' | b'$') => (1, true),
        Some(b'x') if hex(pos + 1) && hex(pos + 2) => (3, true),
        Some(b'u') if text.get(pos + 1) == Some(&b'{') => {
            let digits = (pos + 2..text.len()).take_while(|&at| hex(at)).count();
            let valid = (1..=6).contains(&digits) && text.get(pos + 2 + digits) == Some(&b'}');
            if valid {
                (digits + 3, true)
            } else {
                (1, false)
            }
        }
        Some(_) => (1, false),
    }
}

/// One piece of a string literal.
#[derive(Clone, Copy, Debug)]
struct Piece {
    /// Its token.
    token: Token,
    /// Whether it ends with `${`, opening an interpolation.
    interp: bool,
}

/// The piece of a string literal that starts at `start` and whose scan
/// starts at `from` (after the opening quote, or where an interpolation
/// closed): up to the closing quote, the next `${` (unless `depth` is
/// already [`MAX_DEPTH`]) or the end of the text.
fn string_piece(text: &[u8], start: usize, from: usize, depth: u8) -> Piece {
    let interp_ok = depth < MAX_DEPTH;
    let mut bad = false;
    let mut pos = from;
    let (kind, end, interp) = loop {
        let Some(&b) = text.get(pos) else {
            break (Kind::Unterminated, text.len(), false);
        };
        match b {
            b'"' => break (Kind::Str, pos + 1, false),
            b'\\' => {
                let (len, valid) = escape(text, pos + 1);
                bad |= !valid;
                pos += 1 + len;
            }
            b'$' if interp_ok && text.get(pos + 1) == Some(&b'{') => {
                break (Kind::StrPart, pos + 2, true);
            }
            _ => pos += 1,
        }
    };
    let kind = if bad && kind != Kind::Unterminated {
        Kind::BadEscape
    } else {
        kind
    };
    Piece {
        token: Token::new(kind, start, end, depth),
        interp,
    }
}

/// What closing `open` (a bracket, or `$` for an interpolation) with the
/// byte `close` is.
#[inline(always)]
fn close_kind(open: u8, close: u8) -> Kind {
    match (open, close) {
        (b'(', b')') | (b'[', b']') | (b'{' | b'$', b'}') => Kind::Close,
        _ => Kind::Mismatch,
    }
}

// ---- the plain recursive tokenizer ------------------------------------------

/// Tokenizes `text`, handing every token to `emit` in order: plain
/// recursive functions, which a stackful coroutine runs as they are.
pub fn tokenize<E: FnMut(Token)>(text: &[u8], emit: &mut E) {
    debug_assert!(u32::try_from(text.len()).is_ok());
    let _ = items(text, 0, 0, None, emit);
}

/// Tokens from `pos`, `depth` deep, up to and including the close of
/// `open` (a bracket, `$` for an interpolation, `None` at the top). Returns
/// the offset after that close, or `None` at the end of the text.
fn items<E: FnMut(Token)>(
    text: &[u8],
    mut pos: usize,
    depth: u8,
    open: Option<u8>,
    emit: &mut E,
) -> Option<usize> {
    loop {
        pos = skip_blank(text, pos);
        let &b = text.get(pos)?;
        match b {
            b'(' | b'[' | b'{' => pos = group(text, pos, depth, emit)?,
            b')' | b']' | b'}' => match open {
                Some(open) => {
                    emit(Token::new(close_kind(open, b), pos, pos + 1, depth - 1));
                    return Some(pos + 1);
                }
                None => {
                    emit(Token::new(Kind::Error, pos, pos + 1, depth));
                    pos += 1;
                }
            },
            b'"' => pos = string(text, pos, depth, emit)?,
            _ => {
                let token = lexeme(text, pos, depth);
                emit(token);
                pos = token.end();
            }
        }
    }
}

/// The bracket at `pos` and everything up to its close; see [`items`].
fn group<E: FnMut(Token)>(text: &[u8], pos: usize, depth: u8, emit: &mut E) -> Option<usize> {
    if depth == MAX_DEPTH {
        emit(Token::new(Kind::Error, pos, pos + 1, depth));
        return Some(pos + 1);
    }
    emit(Token::new(Kind::Open, pos, pos + 1, depth));
    items(text, pos + 1, depth + 1, Some(text[pos]), emit)
}

/// The string literal at `pos`, its interpolations tokenized in place;
/// see [`items`].
fn string<E: FnMut(Token)>(text: &[u8], pos: usize, depth: u8, emit: &mut E) -> Option<usize> {
    let mut piece = string_piece(text, pos, pos + 1, depth);
    loop {
        emit(piece.token);
        if !piece.interp {
            return Some(piece.token.end());
        }
        let rest = items(text, piece.token.end(), depth + 1, Some(b'$'), emit)?;
        piece = string_piece(text, rest, rest, depth);
    }
}

// ---- the async tokenizer ----------------------------------------------------

/// Where [`tokenize_async`] sends its tokens: a stackless generator's
/// suspension.
pub trait Sink {
    /// Hands `token` over; completes when the consumer asks for the next.
    fn emit(&self, token: Token) -> impl Future<Output = ()>;
}

impl Sink for coro::stackless::Yielder<(), Token> {
    #[inline(always)]
    fn emit(&self, token: Token) -> impl Future<Output = ()> {
        self.suspend(token)
    }
}

impl Sink for genawaiter::rc::Co<Token> {
    #[inline(always)]
    fn emit(&self, token: Token) -> impl Future<Output = ()> {
        self.yield_(token)
    }
}

/// Tokenizes `text` as [`tokenize`] does, awaiting `sink.emit` for every
/// token: one loop, its brackets and interpolations on an explicit stack
/// (see the module's documentation for why).
pub async fn tokenize_async<S: Sink>(text: &[u8], sink: &S) {
    debug_assert!(u32::try_from(text.len()).is_ok());
    // The open brackets, `$` for an interpolation; `depth` of them.
    let mut open = [0u8; MAX_DEPTH as usize];
    let mut depth = 0u8;
    let mut pos = 0;
    loop {
        pos = skip_blank(text, pos);
        let Some(&b) = text.get(pos) else { return };
        // A string piece to hand over once the bracket or quote is done
        // with: the literal's first, or its rest after an interpolation.
        let piece = match b {
            b'(' | b'[' | b'{' => {
                if depth == MAX_DEPTH {
                    sink.emit(Token::new(Kind::Error, pos, pos + 1, depth))
                        .await;
                } else {
                    sink.emit(Token::new(Kind::Open, pos, pos + 1, depth)).await;
                    open[usize::from(depth)] = b;
                    depth += 1;
                }
                pos += 1;
                continue;
            }
            b')' | b']' | b'}' => {
                if depth == 0 {
                    sink.emit(Token::new(Kind::Error, pos, pos + 1, depth))
                        .await;
                    pos += 1;
                    continue;
                }
                depth -= 1;
                let opened = open[usize::from(depth)];
                let kind = close_kind(opened, b);
                sink.emit(Token::new(kind, pos, pos + 1, depth)).await;
                pos += 1;
                if opened != b'$' {
                    continue;
                }
                string_piece(text, pos, pos, depth)
            }
            b'"' => string_piece(text, pos, pos + 1, depth),
            _ => {
                let token = lexeme(text, pos, depth);
                sink.emit(token).await;
                pos = token.end();
                continue;
            }
        };
        sink.emit(piece.token).await;
        pos = piece.token.end();
        if piece.interp {
            open[usize::from(depth)] = b'$';
            depth += 1;
        }
    }
}

// ---- the hand-written iterator ----------------------------------------------

/// The tokens of a text, as a hand-written state machine.
#[derive(Clone, Debug)]
pub struct Tokens<'a> {
    /// The text.
    text: &'a [u8],
    /// Where the next token's search starts.
    pos: usize,
    /// The open brackets, `$` for an interpolation; `depth` of them.
    open: [u8; MAX_DEPTH as usize],
    /// How many are open.
    depth: u8,
    /// Whether an interpolation just closed, so that the next token is the
    /// rest of its string, from `pos`.
    string_rest: bool,
}

impl<'a> Tokens<'a> {
    /// The tokens of `text`, from its start.
    pub fn new(text: &'a [u8]) -> Self {
        debug_assert!(u32::try_from(text.len()).is_ok());
        Tokens {
            text,
            pos: 0,
            open: [0; MAX_DEPTH as usize],
            depth: 0,
            string_rest: false,
        }
    }

    /// Takes the string piece starting at `start`, scanned from `from`.
    #[inline(always)]
    fn piece(&mut self, start: usize, from: usize) -> Token {
        let piece = string_piece(self.text, start, from, self.depth);
        if piece.interp {
            self.open[usize::from(self.depth)] = b'$';
            self.depth += 1;
        }
        piece.token
    }
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    #[inline]
    fn next(&mut self) -> Option<Token> {
        let text = self.text;
        let token = if self.string_rest {
            self.string_rest = false;
            self.piece(self.pos, self.pos)
        } else {
            let pos = skip_blank(text, self.pos);
            let &b = text.get(pos)?;
            let depth = self.depth;
            match b {
                b'(' | b'[' | b'{' if depth == MAX_DEPTH => {
                    Token::new(Kind::Error, pos, pos + 1, depth)
                }
                b'(' | b'[' | b'{' => {
                    self.open[usize::from(depth)] = b;
                    self.depth += 1;
                    Token::new(Kind::Open, pos, pos + 1, depth)
                }
                b')' | b']' | b'}' if depth == 0 => Token::new(Kind::Error, pos, pos + 1, depth),
                b')' | b']' | b'}' => {
                    self.depth -= 1;
                    let opened = self.open[usize::from(self.depth)];
                    self.string_rest = opened == b'$';
                    Token::new(close_kind(opened, b), pos, pos + 1, self.depth)
                }
                b'"' => self.piece(pos, pos + 1),
                _ => lexeme(text, pos, depth),
            }
        };
        self.pos = token.end();
        Some(token)
    }
}

// ---- the input --------------------------------------------------------------

/// A small, seeded PRNG (splitmix64): the same text on every run and
/// machine.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    /// The next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One of `choices`.
    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.below(choices.len())]
    }
}

/// Words for names and for the text of strings and comments.
const WORDS: &[&str] = &[
    "alpha", "beta", "count", "value", "node", "width", "height", "name", "items", "config", "x",
    "y", "i", "total", "buffer", "offset", "limit", "parent", "child", "key", "retry", "timeout",
    "path", "mode", "level", "scale", "index", "user", "group", "port",
];

/// Binary operators of the generated expressions.
const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "..", "::",
];

/// Escapes inside the generated strings: all valid.
const ESCAPES: &[&str] = &["\\n", "\\t", "\\\"", "\\\\", "\\x41", "\\u{1F600}", "\\$"];

/// Writes the generated program.
#[derive(Debug)]
struct Writer {
    /// The text so far.
    out: Vec<u8>,
    /// Its randomness.
    rng: Rng,
}

impl Writer {
    /// Appends `s`.
    fn put(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    /// Appends `indent` levels of indentation.
    fn indent(&mut self, indent: usize) {
        for _ in 0..indent {
            self.put("    ");
        }
    }

    /// An identifier: a word, sometimes with a numeric suffix.
    fn ident(&mut self) {
        let word = self.rng.pick(WORDS);
        self.put(word);
        if self.rng.chance(30) {
            let n = self.rng.below(100).to_string();
            self.put("_");
            self.put(&n);
        }
    }

    /// A few words, for comments.
    fn words(&mut self, n: usize) {
        for i in 0..n {
            if i > 0 {
                self.put(" ");
            }
            let word = self.rng.pick(WORDS);
            self.put(word);
        }
    }

    /// A block comment, nesting up to `nesting` more levels.
    fn block_comment(&mut self, nesting: usize) {
        self.put("/* ");
        let n = 1 + self.rng.below(5);
        self.words(n);
        if nesting > 0 && self.rng.chance(40) {
            self.put(" ");
            self.block_comment(nesting - 1);
            self.put(" ");
            let n = 1 + self.rng.below(3);
            self.words(n);
        }
        self.put(" */");
    }

    /// A string literal: words, escapes and, `depth` allowing,
    /// interpolations.
    fn string(&mut self, depth: usize) {
        self.put("\"");
        for _ in 0..1 + self.rng.below(6) {
            match self.rng.below(100) {
                0..10 => {
                    let escape = self.rng.pick(ESCAPES);
                    self.put(escape);
                }
                10..18 if depth < 4 => {
                    self.put("${");
                    self.expr(depth + 1);
                    self.put("}");
                }
                _ => {
                    let word = self.rng.pick(WORDS);
                    self.put(word);
                    self.put(" ");
                }
            }
        }
        self.put("\"");
    }

    /// A comma-separated list of one to `max` expressions.
    fn list(&mut self, depth: usize, max: usize) {
        for i in 0..1 + self.rng.below(max) {
            if i > 0 {
                self.put(", ");
            }
            self.expr(depth + 1);
        }
    }

    /// An expression, nesting less the deeper it is.
    fn expr(&mut self, depth: usize) {
        let roll = if depth >= 4 {
            self.rng.below(65)
        } else {
            self.rng.below(100)
        };
        match roll {
            0..30 => self.ident(),
            30..45 => {
                let n = self.rng.below(100_000).to_string();
                self.put(&n);
            }
            45..50 => {
                let n = format!("0x{:x}", self.rng.next() & 0xffff);
                self.put(&n);
            }
            50..65 => self.string(depth),
            65..77 => {
                self.put("(");
                self.expr(depth + 1);
                self.put(" ");
                let op = self.rng.pick(OPERATORS);
                self.put(op);
                self.put(" ");
                self.expr(depth + 1);
                self.put(")");
            }
            77..85 => {
                self.put("[");
                self.list(depth, 4);
                self.put("]");
            }
            85..92 => {
                self.put("{ ");
                for i in 0..1 + self.rng.below(3) {
                    if i > 0 {
                        self.put(", ");
                    }
                    self.ident();
                    self.put(": ");
                    self.expr(depth + 1);
                }
                self.put(" }");
            }
            _ => {
                self.ident();
                self.put("(");
                self.list(depth, 3);
                self.put(")");
            }
        }
    }

    /// A statement at `indent` levels, ending with a newline.
    fn statement(&mut self, indent: usize) {
        self.indent(indent);
        match self.rng.below(100) {
            0..10 => {
                self.put("// ");
                let n = 2 + self.rng.below(6);
                self.words(n);
            }
            10..15 => self.block_comment(2),
            15..60 => {
                self.put("let ");
                self.ident();
                self.put(" = ");
                self.expr(0);
                self.put(";");
            }
            60..80 => {
                self.ident();
                self.put("(");
                self.list(0, 3);
                self.put(");");
            }
            80..88 => {
                self.put("if ");
                self.expr(1);
                self.put(" {\n");
                self.block(indent);
                self.put(" else {\n");
                self.block(indent);
            }
            88..92 => {
                self.put("return ");
                self.expr(0);
                self.put(";");
            }
            _ if indent < 2 => {
                self.put("fn ");
                self.ident();
                self.put("(");
                for i in 0..self.rng.below(4) {
                    if i > 0 {
                        self.put(", ");
                    }
                    self.ident();
                }
                self.put(") -> ");
                self.ident();
                self.put(" {\n");
                self.block(indent);
            }
            _ => self.put("null;"),
        }
        self.put("\n");
    }

    /// A block's statements one level in, and its closing brace.
    fn block(&mut self, indent: usize) {
        for _ in 0..1 + self.rng.below(4) {
            self.statement(indent + 1);
        }
        self.indent(indent);
        self.put("}");
    }
}

/// `len` bytes of the generated language from `seed`: whole statements,
/// padded with newlines to the length.
pub fn generate(seed: u64, len: usize) -> Vec<u8> {
    let mut writer = Writer {
        out: Vec::with_capacity(len + 4096),
        rng: Rng(seed),
    };
    let mut whole = 0;
    while writer.out.len() <= len {
        whole = writer.out.len();
        writer.statement(0);
    }
    let mut out = writer.out;
    out.truncate(whole);
    out.resize(len, b'\n');
    out
}

/// The benchmark's input: [`TEXT_LEN`] bytes generated once, shared by every
/// peer (coroutine bodies must be `'static`, so it is leaked).
pub fn text() -> &'static [u8] {
    static TEXT: OnceLock<&'static [u8]> = OnceLock::new();
    TEXT.get_or_init(|| generate(0x5eed_c0de, TEXT_LEN).leak())
}

// ---- the peers ----------------------------------------------------------------

/// coro's stackful generator of the tokens of `text`: [`tokenize`] with a
/// sink that suspends.
pub fn coro_tokens(text: &'static [u8]) -> coro::Coroutine<(), Token, ()> {
    coro::Coroutine::new(move |yielder, ()| tokenize(text, &mut |token| yielder.suspend(token)))
}

/// corosensei's generator of the tokens of `text`, as [`coro_tokens`].
pub fn corosensei_tokens(text: &'static [u8]) -> corosensei::Coroutine<(), Token, ()> {
    corosensei::Coroutine::new(move |yielder, ()| {
        tokenize(text, &mut |token| yielder.suspend(token))
    })
}

/// coro's stackless generator of the tokens of `text`: [`tokenize_async`]
/// over its yielder.
pub fn coro_stackless_tokens(text: &'static [u8]) -> coro::stackless::Coroutine<(), Token, ()> {
    coro::stackless::Coroutine::new(
        move |yielder: coro::stackless::Yielder<(), Token>, ()| async move {
            tokenize_async(text, &yielder).await
        },
    )
}

/// As [`coro_stackless_tokens`], in the typed form
/// (`Coroutine::typed`): no virtual call per resume.
pub fn coro_typed_tokens(
    text: &'static [u8],
) -> coro::stackless::Coroutine<(), Token, (), impl coro::stackless::Body<(), Token, ()>> {
    coro::stackless::Coroutine::typed(
        move |yielder: coro::stackless::Yielder<(), Token>, ()| async move {
            tokenize_async(text, &yielder).await
        },
    )
}

/// genawaiter's generator of the tokens of `text`: [`tokenize_async`]
/// over its `Co`.
pub fn genawaiter_tokens(
    text: &'static [u8],
) -> genawaiter::rc::Gen<Token, (), impl Future<Output = ()>> {
    genawaiter::rc::Gen::new(move |co: genawaiter::rc::Co<Token>| async move {
        tokenize_async(text, &co).await
    })
}

/// Every token of coro's stackful generator, to `each`.
#[inline(always)]
pub fn drain_coro(text: &'static [u8], mut each: impl FnMut(Token)) {
    let mut co = coro_tokens(text);
    loop {
        match co.resume(()) {
            Ok(Resumed::Yield(token)) => each(token),
            Ok(Resumed::Return(())) => return,
            Err(err) => panic!("the tokenizer failed: {err}"),
        }
    }
}

/// Every token of corosensei's generator, to `each`.
#[inline(always)]
pub fn drain_corosensei(text: &'static [u8], mut each: impl FnMut(Token)) {
    let mut co = corosensei_tokens(text);
    loop {
        match co.resume(()) {
            corosensei::CoroutineResult::Yield(token) => each(token),
            corosensei::CoroutineResult::Return(()) => return,
        }
    }
}

/// Every token of coro's stackless generator, to `each`.
#[inline(always)]
pub fn drain_coro_stackless(text: &'static [u8], mut each: impl FnMut(Token)) {
    let mut co = coro_stackless_tokens(text);
    loop {
        match co.resume(()) {
            Ok(Resumed::Yield(token)) => each(token),
            Ok(Resumed::Return(())) => return,
            Err(err) => panic!("the tokenizer failed: {err}"),
        }
    }
}

/// Every token of coro's typed stackless generator, to `each`.
#[inline(always)]
pub fn drain_coro_typed(text: &'static [u8], mut each: impl FnMut(Token)) {
    let mut co = coro_typed_tokens(text);
    loop {
        match co.resume(()) {
            Ok(Resumed::Yield(token)) => each(token),
            Ok(Resumed::Return(())) => return,
            Err(err) => panic!("the tokenizer failed: {err}"),
        }
    }
}

/// Every token of genawaiter's generator, to `each`.
#[inline(always)]
pub fn drain_genawaiter(text: &'static [u8], mut each: impl FnMut(Token)) {
    let mut generator = genawaiter_tokens(text);
    loop {
        match generator.resume() {
            genawaiter::GeneratorState::Yielded(token) => each(token),
            genawaiter::GeneratorState::Complete(()) => return,
        }
    }
}

/// Every token of the hand-written iterator, to `each`.
#[inline(always)]
pub fn drain_iterator(text: &[u8], each: impl FnMut(Token)) {
    Tokens::new(text).for_each(each);
}

/// The number of tokens of `text` and their checksum, from coro's stackful
/// generator.
#[inline(always)]
pub fn count_tokens_coro(text: &'static [u8]) -> (u64, u64) {
    let mut tally = Tally::default();
    drain_coro(text, |token| tally.add(token));
    tally.pair()
}

/// As [`count_tokens_coro`], from corosensei's generator.
#[inline(always)]
pub fn count_tokens_corosensei(text: &'static [u8]) -> (u64, u64) {
    let mut tally = Tally::default();
    drain_corosensei(text, |token| tally.add(token));
    tally.pair()
}

/// As [`count_tokens_coro`], from coro's stackless generator.
#[inline(always)]
pub fn count_tokens_coro_stackless(text: &'static [u8]) -> (u64, u64) {
    let mut tally = Tally::default();
    drain_coro_stackless(text, |token| tally.add(token));
    tally.pair()
}

/// As [`count_tokens_coro`], from coro's typed stackless generator.
#[inline(always)]
pub fn count_tokens_coro_typed(text: &'static [u8]) -> (u64, u64) {
    let mut tally = Tally::default();
    drain_coro_typed(text, |token| tally.add(token));
    tally.pair()
}

/// As [`count_tokens_coro`], from genawaiter's generator.
#[inline(always)]
pub fn count_tokens_genawaiter(text: &'static [u8]) -> (u64, u64) {
    let mut tally = Tally::default();
    drain_genawaiter(text, |token| tally.add(token));
    tally.pair()
}

/// As [`count_tokens_coro`], from the hand-written iterator.
#[inline(always)]
pub fn count_tokens_iterator(text: &[u8]) -> (u64, u64) {
    let mut tally = Tally::default();
    drain_iterator(text, |token| tally.add(token));
    tally.pair()
}

/// As [`count_tokens_coro`], from [`tokenize`] called directly with a sink
/// that counts: the tokenizer without any generator, the floor.
#[inline(always)]
pub fn count_tokens_direct(text: &[u8]) -> (u64, u64) {
    let mut tally = Tally::default();
    tokenize(text, &mut |token| tally.add(token));
    tally.pair()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer's way of handing every token of a text to a sink.
    type Drain<'a> = &'a dyn Fn(&mut dyn FnMut(Token));

    /// Every peer's tokens of `text`, by name.
    fn every_peer(text: &'static [u8]) -> Vec<(&'static str, Vec<Token>)> {
        let mut peers = Vec::new();
        let mut collect = |name, drain: Drain<'_>| {
            let mut tokens = Vec::new();
            drain(&mut |token| tokens.push(token));
            peers.push((name, tokens));
        };
        collect("direct", &|each| tokenize(text, &mut |t| each(t)));
        collect("coro", &|each| drain_coro(text, each));
        collect("corosensei", &|each| drain_corosensei(text, each));
        collect("coro stackless", &|each| drain_coro_stackless(text, each));
        collect("genawaiter", &|each| drain_genawaiter(text, each));
        collect("iterator", &|each| drain_iterator(text, each));
        peers
    }

    /// The tokens every peer yields for `text`, checked to be the same.
    fn agreed(text: &'static [u8]) -> Vec<Token> {
        let mut peers = every_peer(text).into_iter();
        let (_, first) = peers.next().expect("there are peers");
        for (name, tokens) in peers {
            assert_eq!(tokens.len(), first.len(), "{name}: token count");
            if let Some(at) = (0..first.len()).find(|&i| tokens[i] != first[i]) {
                panic!(
                    "{name} differs at token {at}: {:?} instead of {:?}",
                    tokens[at], first[at]
                );
            }
        }
        first
    }

    /// Checks that every peer yields exactly `expected`, given as kind,
    /// start, the token's text and depth.
    fn check(text: &'static str, expected: &[(Kind, usize, &str, u8)]) {
        let tokens = agreed(text.as_bytes());
        let expected: Vec<Token> = expected
            .iter()
            .map(|&(kind, start, lexeme, depth)| {
                assert_eq!(
                    &text[start..start + lexeme.len()],
                    lexeme,
                    "the test's own offsets"
                );
                Token::new(kind, start, start + lexeme.len(), depth)
            })
            .collect();
        assert_eq!(tokens, expected, "tokens of {text:?}");
    }

    #[test]
    fn a_token_is_twelve_bytes() {
        assert_eq!(size_of::<Token>(), 12);
    }

    #[test]
    fn a_statement() {
        use Kind::*;
        check(
            "let x = 42;",
            &[
                (Keyword, 0, "let", 0),
                (Ident, 4, "x", 0),
                (Punct, 6, "=", 0),
                (Int, 8, "42", 0),
                (Punct, 10, ";", 0),
            ],
        );
    }

    #[test]
    fn brackets_comments_and_numbers() {
        use Kind::*;
        check(
            "f(a, [b]) // hi\n0x1F_a >= 1_000->",
            &[
                (Ident, 0, "f", 0),
                (Open, 1, "(", 0),
                (Ident, 2, "a", 1),
                (Punct, 3, ",", 1),
                (Open, 5, "[", 1),
                (Ident, 6, "b", 2),
                (Close, 7, "]", 1),
                (Close, 8, ")", 0),
                (Comment, 10, "// hi", 0),
                (Int, 16, "0x1F_a", 0),
                (Punct, 23, ">=", 0),
                (Int, 26, "1_000", 0),
                (Punct, 31, "->", 0),
            ],
        );
    }

    #[test]
    fn interpolations_nest_and_comments_nest() {
        use Kind::*;
        check(
            r#""a\n${x + "y${z}"}b" /* c /* d */ e */ ?"#,
            &[
                (StrPart, 0, r#""a\n${"#, 0),
                (Ident, 6, "x", 1),
                (Punct, 8, "+", 1),
                (StrPart, 10, r#""y${"#, 1),
                (Ident, 14, "z", 2),
                (Close, 15, "}", 1),
                (Str, 16, r#"""#, 1),
                (Close, 17, "}", 0),
                (Str, 18, r#"b""#, 0),
                (Comment, 21, "/* c /* d */ e */", 0),
                (Punct, 39, "?", 0),
            ],
        );
    }

    #[test]
    fn errors() {
        use Kind::*;
        check(
            r#") (] "\q" # "\x4" "\u{1F600}" "abc"#,
            &[
                (Error, 0, ")", 0),
                (Open, 2, "(", 0),
                (Mismatch, 3, "]", 0),
                (BadEscape, 5, r#""\q""#, 0),
                (Error, 10, "#", 0),
                (BadEscape, 12, r#""\x4""#, 0),
                (Str, 18, r#""\u{1F600}""#, 0),
                (Unterminated, 30, r#""abc"#, 0),
            ],
        );
        // The text ends inside an interpolation, or just after one.
        check(
            r#""a${b"#,
            &[(StrPart, 0, r#""a${"#, 0), (Ident, 4, "b", 1)],
        );
        check(
            r#""a${b}"#,
            &[
                (StrPart, 0, r#""a${"#, 0),
                (Ident, 4, "b", 1),
                (Close, 5, "}", 0),
                (Unterminated, 6, "", 0),
            ],
        );
        // A mismatched close ends an interpolation too.
        check(
            r#""${a)b""#,
            &[
                (StrPart, 0, r#""${"#, 0),
                (Ident, 3, "a", 1),
                (Mismatch, 4, ")", 0),
                (Str, 5, r#"b""#, 0),
            ],
        );
    }

    #[test]
    fn nesting_stops_at_the_limit() {
        let deep = usize::from(MAX_DEPTH);
        let text: &'static str =
            format!("{}\"${{x}}\"{}", "(".repeat(deep + 2), ")".repeat(3)).leak();
        let tokens = agreed(text.as_bytes());
        for (i, token) in tokens[..deep].iter().enumerate() {
            assert_eq!(*token, Token::new(Kind::Open, i, i + 1, i as u8));
        }
        assert_eq!(tokens[deep].kind, Kind::Error);
        assert_eq!(tokens[deep + 1].kind, Kind::Error);
        // At the limit, `${` is string text.
        let start = deep + 2;
        assert_eq!(
            tokens[deep + 2],
            Token::new(Kind::Str, start, start + 6, MAX_DEPTH)
        );
        assert_eq!(tokens.len(), deep + 6);

        // Past the limit, `/*` is comment text: the first `deep` of the
        // `*/` close the comment.
        let text: &'static str =
            format!("{}{}", "/* ".repeat(deep + 8), "*/ ".repeat(deep + 8)).leak();
        let tokens = agreed(text.as_bytes());
        let end = 3 * (deep + 8) + 3 * (deep - 1) + 2;
        assert_eq!(tokens[0], Token::new(Kind::Comment, 0, end, 0));
    }

    #[test]
    fn the_generated_text_is_fixed_and_well_formed() {
        let text = text();
        assert_eq!(text.len(), TEXT_LEN);
        assert_eq!(generate(0x5eed_c0de, TEXT_LEN), text);
        assert!(text.is_ascii());
        let tokens = agreed(text);
        assert!(tokens.len() > 100_000, "{} tokens", tokens.len());
        let kinds: std::collections::HashSet<Kind> = tokens.iter().map(|t| t.kind).collect();
        use Kind::*;
        for kind in [
            Ident, Keyword, Int, Str, StrPart, Punct, Open, Close, Comment,
        ] {
            assert!(kinds.contains(&kind), "no {kind:?} token");
        }
        for kind in [BadEscape, Unterminated, Mismatch, Error] {
            assert!(!kinds.contains(&kind), "a {kind:?} token");
        }
        let deepest = tokens.iter().map(|t| t.depth).max().unwrap_or(0);
        assert!((4..MAX_DEPTH).contains(&deepest), "depth {deepest}");
    }

    #[test]
    fn every_count_agrees() {
        let text = text();
        let expected = count_tokens_direct(text);
        assert!(expected.0 > 100_000 && expected.1 != 0);
        assert_eq!(count_tokens_coro(text), expected);
        assert_eq!(count_tokens_corosensei(text), expected);
        assert_eq!(count_tokens_coro_stackless(text), expected);
        assert_eq!(count_tokens_coro_typed(text), expected);
        assert_eq!(count_tokens_genawaiter(text), expected);
        assert_eq!(count_tokens_iterator(text), expected);
        let tokens = agreed(text);
        assert_eq!(expected.0, tokens.len() as u64);
        assert_eq!(expected.1, tokens.iter().copied().fold(0, fold));
    }
}
