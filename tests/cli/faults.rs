//! Faults between `digestpin` and a real registry, injected by the proxy in
//! `tests/support/faults.rs`: resets, 5xx and 429 bursts, stalls, trickles,
//! truncated and oversized bodies, wrong digests, HTML pages, redirects,
//! misbehaving token realms (credentials and secrets: `credentials.rs`).
//! Every wait is bounded by `--timeout` and `--retries`, and checked with a
//! generous upper bound on elapsed time.

use crate::support;

use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::faults::{Action, Answer, Proxy, Request};

pub(super) const INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(super) const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

pub(super) struct Run {
    pub(super) code: Option<i32>,
    pub(super) stdout: String,
    pub(super) stderr: String,
    pub(super) elapsed: Duration,
}

pub(super) fn run(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Run {
    let mut command = support::digestpin();
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let start = Instant::now();
    let out: Output = command.output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

pub(super) fn resolve(reference: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "resolve",
        "--loopback-only",
        "--timeout",
        "2",
        "--retries",
        "3",
    ];
    args.extend_from_slice(extra);
    args.push(reference);
    run(&args, &[])
}

/// Seeds `repository:v1` with a single-platform image; returns its digest.
pub(super) fn seed(repository: &str) -> String {
    let r = support::plain();
    r.seed_single(repository, "v1", repository, "amd64");
    r.digest(repository, "v1")
}

pub(super) fn is_manifest_request(request: &Request) -> bool {
    request.path.contains("/manifests/")
}

#[test]
fn resets_and_5xx_bursts_are_retried() {
    let digest = seed("faults/flaky");
    let proxy = Proxy::start(support::plain().port, |request, n| {
        match (is_manifest_request(request), n) {
            (true, 0) => Action::Reset,
            (true, 1 | 2) => Action::Respond(Answer::new(503, &[], "busy")),
            _ => Action::Forward,
        }
    });
    let reference = format!("{}/faults/flaky:v1", proxy.host());
    let out = resolve(&reference, &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(0), format!("{reference} {digest}\n").as_str(), "")
    );
    assert_eq!(
        proxy.lines(),
        vec!["HEAD /v2/faults/flaky/manifests/v1"; 4],
        "a reset, two 503s, then the answer"
    );
}

#[test]
fn retry_after_in_seconds_and_as_a_date_is_honoured() {
    let digest = seed("faults/limited");
    for form in ["seconds", "date"] {
        let proxy = Proxy::start(support::plain().port, move |_, n| {
            if n > 0 {
                return Action::Forward;
            }
            let value = if form == "seconds" {
                "2".to_string()
            } else {
                http_date(std::time::SystemTime::now() + Duration::from_secs(3))
            };
            Action::Respond(Answer::new(429, &[("Retry-After", &value)], ""))
        });
        let reference = format!("{}/faults/limited:v1", proxy.host());
        let out = resolve(&reference, &[]);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(0), format!("{reference} {digest}\n").as_str(), ""),
            "{form}"
        );
        // The backoff alone would be 0.2 s: the header's wait was taken.
        assert!(
            out.elapsed >= Duration::from_millis(1900) && out.elapsed < Duration::from_secs(10),
            "{form}: {:?}",
            out.elapsed
        );
    }
}

/// An IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`).
fn http_date(at: std::time::SystemTime) -> String {
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{weekday}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        months[(month - 1) as usize],
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// A HEAD without `Docker-Content-Digest`, so the manifest is fetched and
/// hashed; `get` decides what the GET gets.
fn without_digest_header(get: impl Fn(usize) -> Action + Send + Sync + 'static) -> Proxy {
    let gets = AtomicUsize::new(0);
    Proxy::start(support::plain().port, move |request, _| {
        if !is_manifest_request(request) {
            return Action::Forward;
        }
        if request.method == "HEAD" {
            return Action::Edit(Box::new(|a| a.set_header("Docker-Content-Digest", None)));
        }
        get(gets.fetch_add(1, Ordering::SeqCst))
    })
}

#[test]
fn a_missing_digest_header_is_replaced_by_hashing_the_manifest() {
    let digest = seed("faults/nodigest");
    let proxy = without_digest_header(|_| Action::Forward);
    let reference = format!("{}/faults/nodigest:v1", proxy.host());
    let out = resolve(&reference, &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(0), format!("{reference} {digest}\n").as_str(), "")
    );
}

#[test]
fn an_html_page_is_never_pinned() {
    seed("faults/html");
    let proxy = without_digest_header(|_| {
        Action::Respond(Answer::new(
            200,
            &[("Content-Type", "text/html; charset=utf-8")],
            "<html><body><form>Sign in</form></body></html>",
        ))
    });
    let reference = format!("{}/faults/html:v1", proxy.host());
    let out = resolve(&reference, &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            format!(
                "{reference} error: invalid response: the registry answered text/html, not a manifest (http://{}/v2/faults/html/manifests/v1)\n",
                proxy.host()
            )
            .as_str()
        )
    );
}

#[test]
fn half_a_manifest_is_never_pinned() {
    seed("faults/half");
    let whole = support::plain().raw_manifest("faults/half", "v1");
    let keep = whole.len() / 2;
    // With a consistent length: a complete answer whose body is cut.
    let proxy = without_digest_header(move |_| Action::Truncate {
        keep,
        length: Some(keep),
    });
    let reference = format!("{}/faults/half:v1", proxy.host());
    let out = resolve(&reference, &[]);
    let eof = serde_json::from_slice::<serde_json::Value>(&whole[..keep]).unwrap_err();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            format!(
                "{reference} error: invalid response: the {MANIFEST} body ends too early (line {}, column {}) ({keep} bytes): not a whole manifest (http://{}/v2/faults/half/manifests/v1)\n",
                eof.line(),
                eof.column(),
                proxy.host()
            )
            .as_str()
        )
    );
}

#[test]
fn a_body_cut_mid_transfer_is_retried_then_reported_as_broken() {
    let digest = seed("faults/cut");
    let whole = support::plain().raw_manifest("faults/cut", "v1");
    let keep = whole.len() / 2;
    // Announcing the whole length, sending half: once, then the whole.
    let proxy = without_digest_header(move |n| {
        if n == 0 {
            Action::Truncate { keep, length: None }
        } else {
            Action::Forward
        }
    });
    let reference = format!("{}/faults/cut:v1", proxy.host());
    let out = resolve(&reference, &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(0), format!("{reference} {digest}\n").as_str(), "")
    );
    // Always cut: the retries run out and the error says what happened.
    let proxy = without_digest_header(move |_| Action::Truncate { keep, length: None });
    let reference = format!("{}/faults/cut:v1", proxy.host());
    let out = resolve(&reference, &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            format!(
                "{reference} error: broken transfer: the manifest was cut off after {keep} bytes: end of file before message length reached (http://{}/v2/faults/cut/manifests/v1)\n",
                proxy.host()
            )
            .as_str()
        )
    );
    let gets = proxy
        .lines()
        .iter()
        .filter(|l| l.starts_with("GET"))
        .count();
    assert_eq!(gets, 4, "the first GET and three retries");
}

/// A proxy whose every manifest HEAD answers `Docker-Content-Digest: wrong`.
fn wrong_digest_proxy(wrong: &str) -> Proxy {
    let header = wrong.to_string();
    Proxy::start(support::plain().port, move |request, _| {
        if request.method == "HEAD" && is_manifest_request(request) {
            let header = header.clone();
            Action::Edit(Box::new(move |a| {
                a.set_header("Docker-Content-Digest", Some(&header))
            }))
        } else {
            Action::Forward
        }
    })
}

#[test]
fn a_wrong_digest_header_is_caught_with_verify_digest() {
    let digest = seed("faults/wrong");
    let wrong = format!("sha256:{}", "0".repeat(64));
    let proxy = wrong_digest_proxy(&wrong);
    let reference = format!("{}/faults/wrong:v1", proxy.host());
    // HEAD alone cannot tell.
    let out = resolve(&reference, &[]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), format!("{reference} {wrong}\n").as_str())
    );
    let out = resolve(&reference, &["--verify-digest"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            format!(
                "{reference} error: the manifest's sha256 is {digest}, not the {wrong} the registry's Docker-Content-Digest names (http://{}/v2/faults/wrong/manifests/v1)\n",
                proxy.host()
            )
            .as_str()
        )
    );
    // The setting in .digestpin.toml does the same; a right header passes.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".digestpin.toml"), "verify-digest = true\n").unwrap();
    let direct = format!("{}/faults/wrong:v1", support::plain().host());
    let out = run_in(
        dir.path(),
        &["resolve", "--loopback-only", &reference, &direct],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            format!("{direct} {digest}\n").as_str(),
            format!(
                "{reference} error: the manifest's sha256 is {digest}, not the {wrong} the registry's Docker-Content-Digest names (http://{}/v2/faults/wrong/manifests/v1)\n",
                proxy.host()
            )
            .as_str()
        )
    );
}

#[test]
fn verify_tells_a_digest_never_served_from_one_deleted() {
    seed("faults/never");
    let wrong = format!("sha256:{}", "0".repeat(64));
    let proxy = wrong_digest_proxy(&wrong);
    // Pinned without --verify-digest, the wrong header is written.
    let dir = tempfile::tempdir().unwrap();
    let host = proxy.host();
    let pinned = format!("{host}/faults/never@{wrong} # v1");
    std::fs::write(
        dir.path().join("pod.yaml"),
        format!("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: {pinned}\n"),
    )
    .unwrap();
    let out = run_in(dir.path(), &["verify", "--loopback-only", "pod.yaml"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(1),
            format!(
                "pod.yaml:5:14: {host}/faults/never@{wrong}: this digest was never served for tag v1: \
                 the registry names it for the tag but has no manifest under it (a wrong \
                 Docker-Content-Digest? pin again with --verify-digest)\n"
            )
            .as_str(),
            "1 pin verified, 1 finding\n"
        )
    );
    // Straight at the registry, the tag names other content: the pinned
    // digest is simply not there.
    let direct = support::plain().host();
    std::fs::write(
        dir.path().join("pod.yaml"),
        format!("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: {direct}/faults/never@{wrong} # v1\n"),
    )
    .unwrap();
    let out = run_in(dir.path(), &["verify", "--loopback-only", "pod.yaml"]);
    let digest = support::plain().digest("faults/never", "v1");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(1),
            format!(
                "pod.yaml:5:14: {direct}/faults/never@{wrong}: the pinned digest is no longer in the registry\n\
                 pod.yaml:5:14: {direct}/faults/never@{wrong}: tag moved: v1 now names {digest}\n"
            )
            .as_str(),
            "1 pin verified, 2 findings\n"
        )
    );
}

pub(super) fn run_in(dir: &Path, args: &[&str]) -> Run {
    let mut command = support::digestpin();
    command.current_dir(dir).args(args);
    let start = Instant::now();
    let out = command.output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

#[test]
fn oversized_bodies_are_refused_unread() {
    seed("faults/huge");
    let proxy = without_digest_header(|_| {
        Action::Respond(Answer::new(
            200,
            &[("Content-Type", INDEX)],
            vec![b' '; 5 << 20],
        ))
    });
    let reference = format!("{}/faults/huge:v1", proxy.host());
    let out = resolve(&reference, &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            format!(
                "{reference} error: invalid response: the manifest is 5242880 bytes, more than the 4096 KiB allowed (http://{}/v2/faults/huge/manifests/v1)\n",
                proxy.host()
            )
            .as_str()
        )
    );
}

#[test]
fn an_oversized_body_without_a_length_is_cut_at_the_limit() {
    seed("faults/endless");
    let proxy = without_digest_header(|_| {
        let mut raw =
            format!("HTTP/1.1 200 OK\r\nContent-Type: {INDEX}\r\nConnection: close\r\n\r\n")
                .into_bytes();
        raw.extend(std::iter::repeat_n(b' ', 6 << 20));
        Action::Raw(raw)
    });
    let reference = format!("{}/faults/endless:v1", proxy.host());
    let out = resolve(&reference, &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            format!(
                "{reference} error: invalid response: the manifest is over 4194304 bytes, more than the 4096 KiB allowed (http://{}/v2/faults/endless/manifests/v1)\n",
                proxy.host()
            )
            .as_str()
        )
    );
}

#[test]
fn stalls_and_trickles_end_at_the_timeout() {
    seed("faults/slow");
    for (name, action) in [
        ("stall", Action::Stall(Duration::from_secs(30))),
        ("trickle", Action::Trickle(Duration::from_millis(100))),
    ] {
        let action = Mutex::new(Some(action));
        let proxy = Proxy::start(support::plain().port, move |_, _| {
            action.lock().unwrap().take().unwrap_or(Action::Forward)
        });
        let reference = format!("{}/faults/slow:v1", proxy.host());
        let out = run(
            &[
                "resolve",
                "--loopback-only",
                "--retries",
                "0",
                "--timeout",
                "1",
                &reference,
            ],
            &[],
        );
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (
                Some(2),
                "",
                format!(
                    "{reference} error: timed out (http://{}/v2/faults/slow/manifests/v1)\n",
                    proxy.host()
                )
                .as_str()
            ),
            "{name}"
        );
        assert!(
            out.elapsed < Duration::from_secs(8),
            "{name}: {:?}",
            out.elapsed
        );
    }
}

/// A registry that takes connections and never answers costs one timeout,
/// not one per reference: the first request goes alone (so the others can
/// share its connection), and when it times out with nothing ever answered
/// the endpoint is taken as down and the others are not sent. Which
/// reference is the one asked is a race, so each line is checked against
/// both of its forms and exactly one must be the timeout.
#[test]
fn a_registry_that_never_answers_costs_one_timeout_not_one_per_reference() {
    seed("faults/silent");
    let proxy = Proxy::start(support::plain().port, |_, _| {
        Action::Stall(Duration::from_secs(60))
    });
    let references: Vec<String> = (0..20)
        .map(|i| format!("{}/faults/silent:v{i}", proxy.host()))
        .collect();
    let mut args = vec![
        "resolve",
        "--loopback-only",
        "--retries",
        "0",
        "--timeout",
        "1",
    ];
    args.extend(references.iter().map(String::as_str));
    let out = run(&args, &[]);
    assert_eq!((out.code, out.stdout.as_str()), (Some(2), ""));
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), references.len(), "{}", out.stderr);
    let mut asked = 0;
    for (line, reference) in lines.iter().zip(&references) {
        let tag = reference.rsplit(':').next().unwrap();
        let url = format!("http://{}/v2/faults/silent/manifests/{tag}", proxy.host());
        let timed_out = format!("{reference} error: timed out ({url})");
        let not_asked = format!(
            "{reference} error: http://{} did not answer an earlier request (timed out); not asked ({url})",
            proxy.host()
        );
        if *line == timed_out {
            asked += 1;
        } else {
            assert_eq!(*line, not_asked);
        }
    }
    assert_eq!(asked, 1, "{}", out.stderr);
    // One timeout of 1 s; one per reference would be 20 s.
    assert!(out.elapsed < Duration::from_secs(8), "{:?}", out.elapsed);
}

/// Only the first requests to an endpoint go one at a time, until one is
/// answered; the rest are then in flight together (up to `--jobs`). Each
/// request is held 200 ms at the proxy, which counts how many it holds at
/// once.
#[test]
fn after_the_first_answer_requests_are_in_flight_together() {
    for i in 0..12 {
        seed(&format!("faults/together{i}"));
    }
    let held = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (h, m) = (Arc::clone(&held), Arc::clone(&most));
    let proxy = Proxy::start(support::plain().port, move |_, _| {
        let now = h.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(200));
        h.fetch_sub(1, Ordering::SeqCst);
        Action::Forward
    });
    let references: Vec<String> = (0..12)
        .map(|i| format!("{}/faults/together{i}:v1", proxy.host()))
        .collect();
    let mut args = vec!["resolve", "--loopback-only", "--jobs", "32"];
    args.extend(references.iter().map(String::as_str));
    let out = run(&args, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let most = most.load(Ordering::SeqCst);
    assert!(most >= 4, "at most {most} requests in flight at once");
}

#[test]
fn redirects_to_another_origin_are_followed_and_loops_end() {
    let digest = seed("faults/moved");
    let target = support::plain().url();
    let proxy = Proxy::start(support::plain().port, move |request, _| {
        let location = format!("{target}{}", request.path);
        Action::Respond(Answer::new(307, &[("Location", &location)], ""))
    });
    let reference = format!("{}/faults/moved:v1", proxy.host());
    let out = resolve(&reference, &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(0), format!("{reference} {digest}\n").as_str(), "")
    );
    let looping = Proxy::start(support::plain().port, |request, _| {
        Action::Respond(Answer::new(302, &[("Location", &request.path)], ""))
    });
    let reference = format!("{}/faults/moved:v1", looping.host());
    let out = resolve(&reference, &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            format!(
                "{reference} error: invalid response: 10 redirects in a row (a redirect loop?) (http://{}/v2/faults/moved/manifests/v1)\n",
                looping.host()
            )
            .as_str()
        )
    );
    assert_eq!(looping.requests().len(), 10);
}

/// A proxy that demands a Bearer token from its own realm at `/token`,
/// where `token` decides the answer (given the number of the token request);
/// a token is good for `uses` registry requests.
fn token_proxy(
    uses: usize,
    token: impl Fn(usize) -> Answer + Send + Sync + 'static,
) -> (Proxy, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let valid: Arc<Mutex<Vec<(String, usize)>>> = Arc::default();
    let counter = Arc::clone(&issued);
    let port = Arc::new(AtomicUsize::new(0));
    let own_port = Arc::clone(&port);
    let proxy = Proxy::start(support::plain().port, move |request, _| {
        if request.path.starts_with("/token") {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let answer = token(n);
            if answer.status == 200 {
                let body = String::from_utf8_lossy(&answer.body).to_string();
                if let Ok(json) = serde_json::from_str::<serde_json::Value>(&body)
                    && let Some(t) = json["token"].as_str()
                {
                    valid.lock().unwrap().push((format!("Bearer {t}"), uses));
                }
            }
            return Action::Respond(answer);
        }
        let presented = request.header("Authorization").unwrap_or_default();
        let mut valid = valid.lock().unwrap();
        if let Some(entry) = valid
            .iter_mut()
            .find(|(t, left)| t == presented && *left > 0)
        {
            entry.1 -= 1;
            return Action::Forward;
        }
        let realm = format!(
            "Bearer realm=\"http://127.0.0.1:{}/token\",service=\"faults\"",
            own_port.load(Ordering::SeqCst)
        );
        Action::Respond(Answer::new(401, &[("WWW-Authenticate", &realm)], ""))
    });
    port.store(proxy.port as usize, Ordering::SeqCst);
    (proxy, issued)
}

fn good_token(n: usize) -> Answer {
    Answer::new(
        200,
        &[("Content-Type", "application/json")],
        format!("{{\"token\":\"tok-{n}\"}}"),
    )
}

#[test]
fn an_expired_token_is_refreshed_once() {
    let digest = seed("faults/expiring");
    // Each token is good for one request: resolving a platform reads the
    // manifest, then its config blob with the cached token, which is
    // refused; a new token is fetched and the blob read with it.
    let (proxy, issued) = token_proxy(1, good_token);
    let one = format!("{}/faults/expiring:v1", proxy.host());
    let out = run(
        &[
            "resolve",
            "--loopback-only",
            "--platform",
            "linux/amd64",
            &one,
        ],
        &[],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(0), format!("{one} {digest}\n").as_str(), "")
    );
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    // A token refused at once is refreshed once, then the refusal reported.
    let (proxy, issued) = token_proxy(0, good_token);
    let reference = format!("{}/faults/expiring:v1", proxy.host());
    let out = resolve(&reference, &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            format!(
                "{reference} error: unauthorized: credentials refused (http://{}/v2/faults/expiring/manifests/v1)\n",
                proxy.host()
            )
            .as_str()
        )
    );
    assert_eq!(issued.load(Ordering::SeqCst), 1);
}

#[test]
fn misbehaving_token_realms_are_reported_and_not_cached() {
    let digest = seed("faults/realm");
    support::plain().seed_single("faults/realm", "v2", "realm-2", "amd64");
    let digest2 = support::plain().digest("faults/realm", "v2");
    let cases: Vec<(&str, Answer, String)> = vec![
        (
            "html",
            Answer::new(200, &[("Content-Type", "text/html")], "<html>login</html>"),
            "invalid response: the token answer is not valid JSON (line 1, column 1)".into(),
        ),
        (
            "no token",
            Answer::new(200, &[], "{\"expires_in\":300}"),
            "invalid response: no token in the answer".into(),
        ),
        (
            "huge",
            Answer::new(200, &[], vec![b'{'; 2 << 20]),
            "invalid response: the token answer is 2097152 bytes, more than the 1024 KiB allowed"
                .into(),
        ),
        (
            "refused",
            Answer::new(403, &[], ""),
            "unauthorized: the token server refused an anonymous token".into(),
        ),
    ];
    for (name, bad, reason) in cases {
        // The first token request fails, and its key with it; the other key
        // of the same repository, in the same run, asks again (a failure is
        // not kept) and succeeds.
        let (proxy, issued) = token_proxy(
            10,
            move |n| {
                if n == 0 { bad.clone() } else { good_token(n) }
            },
        );
        let one = format!("{}/faults/realm:v1", proxy.host());
        let two = format!("{}/faults/realm:v2", proxy.host());
        let out = run(&["resolve", "--loopback-only", &one, &two], &[]);
        let error = |reference: &str| {
            format!(
                "{reference} error: {reason} (http://{}/token?service=faults&scope=repository%3Afaults%2Frealm%3Apull)\n",
                proxy.host()
            )
        };
        let either = [
            (format!("{one} {digest}\n"), error(&two)),
            (format!("{two} {digest2}\n"), error(&one)),
        ];
        assert!(
            out.code == Some(2)
                && either
                    .iter()
                    .any(|(o, e)| *o == out.stdout && *e == out.stderr),
            "{name}: {} / {}",
            out.stdout,
            out.stderr
        );
        assert_eq!(issued.load(Ordering::SeqCst), 2, "{name}");
    }
}
