//! Connections: over TLS the registry is asked with HTTP/2 (ALPN), every
//! request of a run sharing one connection; over plain HTTP, keep-alive
//! connections are reused, never more than `--jobs` at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support;
use crate::support::Registry;
use crate::support::cli::text;

/// A TCP proxy in front of `target` that counts the connections it accepts.
fn counting_proxy(target: String) -> (u16, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    let port = support::faults::tcp_forwarder(target, move || {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    (port, count)
}

/// Seeds `n` repositories `{prefix}{i}:v1`; their references as written
/// for `registry.example.com` and the output `resolve` prints for them.
fn seed(r: &Registry, prefix: &str, n: usize) -> (Vec<String>, String) {
    let images: Vec<(String, String)> = (0..n)
        .map(|i| (format!("{prefix}{i}"), "v1".to_string()))
        .collect();
    r.seed_many(&images);
    let references: Vec<String> = images
        .iter()
        .map(|(repo, tag)| format!("registry.example.com/{repo}:{tag}"))
        .collect();
    let expected = references
        .iter()
        .map(|reference| {
            let (name, tag) = reference.rsplit_once(':').unwrap();
            let repo = name.strip_prefix("registry.example.com/").unwrap();
            format!("{reference} {}\n", r.digest(repo, tag))
        })
        .collect();
    (references, expected)
}

#[test]
fn over_tls_every_request_shares_one_http2_connection() {
    let r = Registry::start_tls();
    let (references, expected) = seed(&r, "h2/app", 24);
    let (port, connections) = counting_proxy(r.host());
    let ca = r.ca.clone().unwrap();
    let out = support::digestpin()
        .args(["resolve", "--loopback-only", "--mirror"])
        .arg(format!("*=https://127.0.0.1:{port}"))
        .arg("--ca-file")
        .arg(&ca)
        .args(&references)
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), expected, "{}", text(&out.stderr));
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[test]
fn over_plain_http_connections_are_kept_alive_and_at_most_jobs() {
    let r = support::plain();
    let (references, expected) = seed(r, "h1/app", 24);
    let (port, connections) = counting_proxy(r.host());
    let out = support::digestpin()
        .args(["resolve", "--loopback-only", "--jobs", "4", "--mirror"])
        .arg(format!("*=http://127.0.0.1:{port}"))
        .args(&references)
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), expected, "{}", text(&out.stderr));
    // Four requests at a time, over kept-alive connections. The pool can
    // open one more when a connection is still being handed back as the
    // next request starts (seen once in a loaded full run), so the bound is
    // twice `--jobs`, still far below one connection per request.
    let opened = connections.load(Ordering::SeqCst);
    assert!(
        (1..=8).contains(&opened),
        "{opened} connections for 24 requests"
    );
}
