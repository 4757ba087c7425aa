//! A TCP proxy that adds latency, for `scripts/bench.sh`: it forwards bytes
//! between its clients and one target address, holding every chunk for half
//! the round-trip delay in each direction, so a request and its answer take
//! one round trip more than they would directly. It forwards bytes, not
//! requests, so TLS, HTTP/2 and plain HTTP/1.1 all pass through unchanged.
//!
//! ```text
//! cargo build --release --example latency_proxy
//! target/release/examples/latency_proxy TARGET [--listen ADDR] [--rtt-ms MS]
//! ```
//!
//! It prints `listening on ADDR` once ready (`--listen 127.0.0.1:0`, the
//! default, picks a free port) and runs until killed.

#![allow(clippy::print_stderr)]

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut target = None;
    let mut listen = "127.0.0.1:0".to_string();
    let mut rtt_ms: u64 = 50;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().unwrap_or_else(|| usage("--listen needs ADDR")),
            "--rtt-ms" => {
                rtt_ms = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage("--rtt-ms needs a number"));
            }
            _ if target.is_none() && !arg.starts_with('-') => target = Some(arg),
            _ => usage(&format!("unexpected argument `{arg}`")),
        }
    }
    let target = target.unwrap_or_else(|| usage("the target address is missing"));
    let listener = TcpListener::bind(&listen).unwrap_or_else(|e| {
        eprintln!("latency_proxy: cannot listen on {listen}: {e}");
        std::process::exit(2);
    });
    let one_way = Duration::from_millis(rtt_ms) / 2;
    println!(
        "listening on {}",
        listener
            .local_addr()
            .expect("a bound listener has an address")
    );
    for client in listener.incoming().flatten() {
        let target = target.clone();
        std::thread::spawn(move || {
            let Ok(server) = TcpStream::connect(&target) else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
                std::thread::spawn(move || forward(c, s, one_way));
                forward(server, client, one_way);
            }
        });
    }
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "latency_proxy: {problem}\nusage: latency_proxy TARGET [--listen ADDR] [--rtt-ms MS]"
    );
    std::process::exit(2);
}

/// Copies `from` to `to`, each chunk written `delay` after it was read, in
/// order; the end of `from` reaches `to` (as a write shutdown) the same way.
fn forward(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (send, receive) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = std::thread::spawn(move || {
        for (at, chunk) in receive {
            let due = at + delay;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if chunk.is_empty() || to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buf).unwrap_or(0);
        let chunk = buf[..n].to_vec();
        if send.send((Instant::now(), chunk)).is_err() || n == 0 {
            break;
        }
    }
    drop(send);
    let _ = writer.join();
}
