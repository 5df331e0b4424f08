//! A TCP echo server over loopback on a current-thread tokio runtime, with
//! each connection served three ways: a stackful coroutine in straight-line
//! code that waits on the socket with `coro::wait`, a native tokio task, and
//! a stackless coroutine whose body awaits the socket. The clients run on
//! their own thread and runtime, the same for every server, so that the
//! server's runtime is what the timing compares.
//!
//! Each client connects, then sends a message of [`MESSAGE`] bytes and reads
//! its echo, one after the other, `messages` times.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::mpsc as std_mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The size of every message.
pub const MESSAGE: usize = 64;

/// How a server serves each connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// A stackful coroutine per connection, waiting with `coro::wait`.
    Stackful,
    /// A native tokio task per connection.
    Native,
    /// A stackless coroutine per connection, awaiting the socket.
    Stackless,
}

/// The stackful server's connection: plain code, no `async`.
fn serve_stackful(mut socket: TcpStream) {
    let mut buf = [0u8; MESSAGE];
    while let Ok(Ok(_)) = coro::wait(socket.read_exact(&mut buf)) {
        if !matches!(coro::wait(socket.write_all(&buf)), Ok(Ok(()))) {
            break;
        }
    }
}

/// The native server's connection.
async fn serve_native(mut socket: TcpStream) {
    let mut buf = [0u8; MESSAGE];
    while socket.read_exact(&mut buf).await.is_ok() {
        if socket.write_all(&buf).await.is_err() {
            break;
        }
    }
}

/// Accepts `connections` connections and serves each the way `server` says.
async fn accept(listener: TcpListener, connections: usize, server: Server) {
    let mut served = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (socket, _) = listener.accept().await.expect("a client connects");
        socket.set_nodelay(true).expect("TCP_NODELAY");
        served.push(match server {
            Server::Stackful => tokio::task::spawn_local(async move {
                coro::Coroutine::new(move |_, ()| serve_stackful(socket))
                    .into_future()
                    .await
                    .expect("the connection's coroutine ends well");
            }),
            Server::Native => tokio::task::spawn_local(serve_native(socket)),
            Server::Stackless => tokio::task::spawn_local(async move {
                coro::stackless::Coroutine::new(move |_: coro::stackless::Yielder<(), ()>, ()| {
                    serve_native(socket)
                })
                .into_future()
                .await
                .expect("the connection's coroutine ends well");
            }),
        });
    }
    for task in served {
        task.await.expect("the connection's task ends well");
    }
}

/// One client: `messages` round trips of one message.
async fn client(address: SocketAddr, messages: usize) {
    let mut socket = TcpStream::connect(address)
        .await
        .expect("the server listens");
    socket.set_nodelay(true).expect("TCP_NODELAY");
    let mut buf = [7u8; MESSAGE];
    for _ in 0..messages {
        socket.write_all(&buf).await.expect("the server reads");
        socket
            .read_exact(&mut buf)
            .await
            .expect("the server echoes");
    }
}

/// Runs the echo with `connections` clients of `messages` messages each
/// against `server`; returns the time from the first connection to the
/// last echo.
pub fn run(server: Server, connections: usize, messages: usize) -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a current-thread runtime");
    let local = tokio::task::LocalSet::new();
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    let (done_tx, done_rx) = std_mpsc::channel();
    let clients = thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("the clients' runtime");
        let started = Instant::now();
        runtime.block_on(async {
            let tasks: Vec<_> = (0..connections)
                .map(|_| tokio::spawn(client(address, messages)))
                .collect();
            for task in tasks {
                task.await.expect("a client ends well");
            }
        });
        done_tx.send(started.elapsed()).expect("the report waits");
    });
    local.block_on(&runtime, accept(listener, connections, server));
    clients.join().expect("the clients' thread ends well");
    done_rx.recv().expect("the clients' time")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_server_echoes() {
        for server in [Server::Stackful, Server::Native, Server::Stackless] {
            run(server, 4, 100);
        }
    }
}
