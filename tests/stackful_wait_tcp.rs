//! A deep recursive-descent parser, written as plain functions, reads its
//! input line by line from a real TCP connection on 127.0.0.1 through
//! `coro::wait`, while the executor (tokio, current-thread) runs the server
//! that sends it, slowly, in the same thread.

#![cfg(coro_stackful)]

mod common;

use std::future::IntoFuture;
use std::time::Duration;

use common::run_local;
use coro::{Builder, Coroutine};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// How deep the document nests: as many plain frames of the parser on the
/// coroutine's stack, suspended at every line.
const DEPTH: usize = 1000;

/// A parsed S-expression.
#[derive(Debug, PartialEq)]
enum Expr {
    Number(i64),
    List(Vec<Expr>),
}

impl Expr {
    fn sum(&self) -> i64 {
        match self {
            Expr::Number(n) => *n,
            Expr::List(items) => items.iter().map(Expr::sum).sum(),
        }
    }

    fn depth(&self) -> usize {
        match self {
            Expr::Number(_) => 0,
            Expr::List(items) => 1 + items.iter().map(Expr::depth).max().unwrap_or(0),
        }
    }
}

/// Tokens, one per line, read from the socket with plain calls.
struct Tokens {
    reader: BufReader<OwnedReadHalf>,
    line: String,
}

impl Tokens {
    /// The next token, or `None` at the end of the stream. Not async: it
    /// waits for the socket through `coro::wait`.
    fn next(&mut self) -> Option<String> {
        self.line.clear();
        let read = coro::wait(self.reader.read_line(&mut self.line))
            .expect("polled by the executor")
            .expect("the socket reads");
        (read > 0).then(|| self.line.trim().to_string())
    }
}

/// expr := number | "(" expr* ")"
fn parse_expr(tokens: &mut Tokens, first: String) -> Expr {
    if first == "(" {
        parse_list(tokens)
    } else {
        Expr::Number(first.parse().expect("a number"))
    }
}

fn parse_list(tokens: &mut Tokens) -> Expr {
    let mut items = Vec::new();
    loop {
        let token = tokens.next().expect("an unclosed list");
        if token == ")" {
            return Expr::List(items);
        }
        items.push(parse_expr(tokens, token));
    }
}

/// The document: `DEPTH` nested lists, each holding its depth and, at the
/// bottom, a few numbers; one token per line.
fn document() -> Vec<String> {
    let mut lines = Vec::new();
    for depth in 0..DEPTH {
        lines.push("(".to_string());
        lines.push(depth.to_string());
    }
    lines.extend(["1", "2", "3"].map(String::from));
    lines.extend(std::iter::repeat_n(")".to_string(), DEPTH));
    lines
}

/// Sends the document in small bursts, with pauses, so the parser waits at
/// many depths; then reads the parser's answer.
async fn serve(listener: TcpListener) -> String {
    let (socket, _) = listener.accept().await.unwrap();
    let (read, mut write) = socket.into_split();
    for (n, line) in document().iter().enumerate() {
        write.write_all(line.as_bytes()).await.unwrap();
        write.write_all(b"\n").await.unwrap();
        if n % 97 == 0 {
            write.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    write.shutdown().await.unwrap();
    let mut answer = String::new();
    BufReader::new(read).read_line(&mut answer).await.unwrap();
    answer
}

/// Writes a line to the socket from plain code.
fn send_line(write: &mut OwnedWriteHalf, line: &str) {
    coro::wait(write.write_all(format!("{line}\n").as_bytes()))
        .unwrap()
        .unwrap();
}

#[test]
fn a_recursive_parser_reads_a_tcp_connection_through_wait() {
    let (answer, parsed) = run_local(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::task::spawn_local(serve(listener));
        // Debug builds spend more stack per frame: a roomy stack.
        let parser: Coroutine<(), (), (i64, usize)> = Builder::new()
            .name("parser")
            .stack_size(16 << 20)
            .build(move |_, ()| {
                let socket = coro::wait(TcpStream::connect(address)).unwrap().unwrap();
                let (read, mut write) = socket.into_split();
                let mut tokens = Tokens {
                    reader: BufReader::new(read),
                    line: String::new(),
                };
                let first = tokens.next().expect("a document");
                let expr = parse_expr(&mut tokens, first);
                assert_eq!(tokens.next(), None, "nothing after the document");
                send_line(
                    &mut write,
                    &format!("sum {} depth {}", expr.sum(), expr.depth()),
                );
                (expr.sum(), expr.depth())
            })
            .unwrap();
        let parsed = tokio::task::spawn_local(parser.into_future())
            .await
            .unwrap()
            .unwrap();
        (server.await.unwrap(), parsed)
    });
    let sum = (0..DEPTH as i64).sum::<i64>() + 6;
    assert_eq!(parsed, (sum, DEPTH));
    assert_eq!(answer.trim(), format!("sum {sum} depth {DEPTH}"));
}

#[test]
fn dropping_the_parser_mid_document_closes_its_socket() {
    run_local(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let parser = Coroutine::<(), (), ()>::new(move |_, ()| {
            let socket = coro::wait(TcpStream::connect(address)).unwrap().unwrap();
            let (read, _write) = socket.into_split();
            let mut tokens = Tokens {
                reader: BufReader::new(read),
                line: String::new(),
            };
            // Waits forever: the server never sends.
            tokens.next();
            unreachable!("closed while waiting");
        });
        let task = tokio::task::spawn_local(parser.into_future());
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        // Aborting the task drops the future: the coroutine is closed, its
        // stack unwound, and the socket dropped, which the peer sees.
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        let mut rest = String::new();
        let read = BufReader::new(socket).read_line(&mut rest).await.unwrap();
        assert_eq!(read, 0, "the connection was closed");
    });
}
