//! The network floor of `scripts/bench.sh`: the time of N manifest HEADs
//! all in flight at once, with nothing else done (no files, no parsing, no
//! limit on concurrency). Over TLS, one request opens the HTTP/2 connection
//! and the rest then share it; over plain HTTP every request gets its own
//! connection. It prints the round trip of one HEAD on the open connection
//! and the time of the whole set, in seconds.
//!
//! ```text
//! network_floor BASE-URL IMAGES-FILE [CA-FILE]
//! ```
//!
//! IMAGES-FILE holds `name repository:tag` lines (scripts/bench-gen.py).

#![allow(clippy::print_stderr)]

use std::time::Instant;

const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json";

fn main() {
    // The same TLS crypto provider as digestpin's own client (ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: network_floor BASE-URL IMAGES-FILE [CA-FILE]");
        std::process::exit(2);
    }
    let base = args[0].trim_end_matches('/').to_string();
    let urls: Vec<String> = std::fs::read_to_string(&args[1])
        .expect("readable images file")
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .filter_map(|reference| reference.rsplit_once(':'))
        .map(|(repository, tag)| format!("{base}/v2/{repository}/manifests/{tag}"))
        .collect();
    let mut builder = reqwest::Client::builder().pool_max_idle_per_host(urls.len());
    if let Some(ca) = args.get(2) {
        let pem = std::fs::read(ca).expect("readable CA file");
        for cert in reqwest::Certificate::from_pem_bundle(&pem).expect("PEM CA file") {
            builder = builder.add_root_certificate(cert);
        }
    }
    let client = builder.build().expect("an HTTP client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let head = |url: String| {
            let client = client.clone();
            async move {
                let response = client
                    .head(&url)
                    .header(reqwest::header::ACCEPT, ACCEPT)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{url}: {e}"));
                assert!(
                    response.status().is_success(),
                    "{url}: {}",
                    response.status()
                );
            }
        };
        let start = Instant::now();
        let tls = base.starts_with("https:");
        if tls {
            // One request opens the HTTP/2 connection the others share.
            head(urls[0].clone()).await;
        }
        let first = start.elapsed();
        let one = Instant::now();
        head(urls[0].clone()).await;
        let rtt = one.elapsed();
        let all = Instant::now();
        futures_util::future::join_all(urls.iter().cloned().map(head)).await;
        let total = if tls {
            first + all.elapsed()
        } else {
            all.elapsed()
        };
        println!("{:.3} {:.3}", rtt.as_secs_f64(), total.as_secs_f64());
    });
}
