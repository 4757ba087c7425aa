//! Transport: where a registry's requests go, and sending them.
//!
//! [`Http`] maps a registry to its base URL (a mirror's, or Docker's rule:
//! plain HTTP for loopback hosts, HTTPS elsewhere, Docker Hub's API at
//! `registry-1.docker.io`), holds the loopback-only rule (checked before
//! every request and on every redirect hop), limits concurrent requests per
//! endpoint, retries connection errors, 5xx and 429 (with backoff, or the
//! delay `Retry-After` asks for), and remembers endpoints that stayed down.
//! [`read_body`] reads a body within a size limit. Authentication is above
//! this layer, in `auth`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode};
use tokio::sync::Semaphore;
use url::{Host, Url};

use super::{Mirror, RegistryError, ResolveError, ResolverOptions, redact_url};

pub(super) const BACKOFF_START: Duration = Duration::from_millis(200);
pub(super) const BACKOFF_MAX: Duration = Duration::from_secs(3);
const RETRY_AFTER_MAX: Duration = Duration::from_secs(10);
/// The largest token answer, image config or error body read.
pub(super) const SMALL_MAX: usize = 1 << 20;

/// The HTTP client of a [`super::Resolver`]: one connection pool.
pub(super) struct Http {
    client: reqwest::Client,
    mirrors: Vec<Mirror>,
    loopback_only: bool,
    jobs: usize,
    retries: u32,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Per endpoint: whether a request got an answer yet, and the gate the
    /// first requests pass one at a time until one has, so the connection
    /// it opened (with HTTP/2, the only one needed) is there for the others
    /// instead of each racing to open its own.
    opened: Mutex<HashMap<String, Arc<Opened>>>,
    /// Endpoints found unreachable: refused or failed connections through
    /// every retry, or a timeout before the endpoint ever answered. Later
    /// requests to them fail at once ([`ResolveError::Unreachable`])
    /// instead of each waiting out its own retries or timeout.
    down: Mutex<HashMap<String, ResolveError>>,
    /// Hears of every attempt (`--verbose`).
    trace: Option<super::Trace>,
}

impl Http {
    pub(super) fn new(options: &ResolverOptions) -> Result<Http, RegistryError> {
        // Redirects (blob and manifest requests may be sent to a CDN) are
        // followed up to 10 hops, each hop held to the loopback rule;
        // reqwest drops the Authorization header when the host changes.
        let loopback_only = options.loopback_only;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if loopback_only && !is_loopback(attempt.url()) {
                let url = attempt.url().to_string();
                attempt.error(format!(
                    "redirect to {url} refused: only loopback addresses are allowed"
                ))
            } else if attempt.previous().len() >= 10 {
                attempt.error("10 redirects in a row (a redirect loop?)")
            } else {
                attempt.follow()
            }
        });
        // rustls's process-wide crypto provider: `ring` (see Cargo.toml). An
        // error only says one is installed already (by an earlier client, or
        // by a program embedding this library), which is then used.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .redirect(redirects)
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(options.jobs.max(1))
            .user_agent(concat!("digestpin/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &options.ca_file {
            let ca_error = |reason: String| RegistryError::CaFile {
                path: path.clone(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_error(e.to_string()))?;
            if certs.is_empty() {
                return Err(ca_error("no PEM certificate in the file".into()));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| RegistryError::Client(e.to_string()))?;
        Ok(Http {
            client,
            mirrors: options.mirrors.clone(),
            loopback_only: options.loopback_only,
            jobs: options.jobs,
            retries: options.retries,
            limits: Mutex::new(HashMap::new()),
            opened: Mutex::new(HashMap::new()),
            down: Mutex::new(HashMap::new()),
            trace: None,
        })
    }

    /// Tells `trace` of every attempt from now on.
    pub(super) fn set_trace(&mut self, trace: super::Trace) {
        self.trace = Some(trace);
    }

    /// How many times a request is retried.
    pub(super) fn retries(&self) -> u32 {
        self.retries
    }

    /// The base URL requests for `registry` go to.
    fn base(&self, registry: &str) -> Result<Url, ResolveError> {
        let mirror = self
            .mirrors
            .iter()
            .find(|m| m.host == registry)
            .or_else(|| self.mirrors.iter().find(|m| m.host == "*"));
        let mut base = match mirror {
            Some(mirror) => mirror.url.clone(),
            None => registry_base(registry).map_err(|e| ResolveError::InvalidResponse {
                url: registry.to_string(),
                reason: format!("not a registry host: {e}"),
            })?,
        };
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(base)
    }

    pub(super) fn manifest_url(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
    ) -> Result<Url, ResolveError> {
        self.url(registry, &format!("v2/{repository}/manifests/{reference}"))
    }

    pub(super) fn url(&self, registry: &str, path: &str) -> Result<Url, ResolveError> {
        let base = self.base(registry)?;
        base.join(path).map_err(|e| ResolveError::InvalidResponse {
            url: redact_url(&base),
            reason: e.to_string(),
        })
    }

    fn limit(&self, url: &Url) -> Arc<Semaphore> {
        let mut limits = self.limits.lock().unwrap_or_else(|e| e.into_inner());
        limits
            .entry(origin(url))
            .or_insert_with(|| Arc::new(Semaphore::new(self.jobs.max(1))))
            .clone()
    }

    fn opened(&self, url: &Url) -> Arc<Opened> {
        let mut opened = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        opened.entry(origin(url)).or_default().clone()
    }

    /// One HTTP request with retries on connection errors, 5xx and 429.
    pub(super) async fn send(
        &self,
        method: Method,
        url: &Url,
        auth: Option<&str>,
        accept: Option<&str>,
    ) -> Result<Response, ResolveError> {
        self.send_form(method, url, auth, accept, None).await
    }

    /// One attempt of [`Http::send_form`], holding a permit of the
    /// endpoint's limit while it waits for the answer's headers.
    async fn send_once(
        &self,
        limit: &Semaphore,
        method: Method,
        url: &Url,
        auth: Option<&str>,
        accept: Option<&str>,
        body: Option<(&str, &[u8])>,
    ) -> Result<reqwest::Result<Response>, ResolveError> {
        let _permit = limit
            .acquire()
            .await
            .map_err(|_| ResolveError::NotAttempted)?;
        let shown = self.trace.as_ref().map(|_| method.to_string());
        let mut request = self.client.request(method, url.clone());
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        if let Some(auth) = auth {
            request = request.header(AUTHORIZATION, auth);
        }
        if let Some((content_type, bytes)) = body {
            request = request
                .header(CONTENT_TYPE, content_type)
                .body(bytes.to_vec());
        }
        let started = std::time::Instant::now();
        // Until an endpoint has answered, its requests go one at a time, so
        // that the others share the first one's connection (one HTTP/2
        // connection per registry). An endpoint found down meanwhile stops
        // the ones waiting.
        let opened = self.opened(url);
        let result = if opened.answered.load(Ordering::Acquire) {
            request.send().await
        } else {
            let gate = opened.gate.lock().await;
            if let Some(error) = self.down(url) {
                return Err(error);
            }
            if opened.answered.load(Ordering::Acquire) {
                // Answered while this one waited: no longer one at a time.
                drop(gate);
                request.send().await
            } else {
                let result = request.send().await;
                if result.is_ok() {
                    opened.answered.store(true, Ordering::Release);
                }
                result
            }
        };
        if let (Some(trace), Some(method)) = (&self.trace, shown) {
            trace(&super::TraceEvent::Request {
                method,
                url: redact_url(url),
                status: match &result {
                    Ok(response) => Ok(response.status().as_u16()),
                    Err(e) if e.is_timeout() => Err("timeout"),
                    Err(e) if e.is_connect() => Err("connection failed"),
                    Err(_) => Err("failed"),
                },
                elapsed: started.elapsed(),
            });
        }
        Ok(result)
    }

    /// [`Http::send`] with an optional `application/x-www-form-urlencoded` body.
    pub(super) async fn send_form(
        &self,
        method: Method,
        url: &Url,
        auth: Option<&str>,
        accept: Option<&str>,
        form: Option<&str>,
    ) -> Result<Response, ResolveError> {
        let body = form.map(|f| ("application/x-www-form-urlencoded", f.as_bytes()));
        self.send_body(method, url, auth, accept, body).await
    }

    /// [`Http::send`] with an optional body of the given content type.
    pub(super) async fn send_body(
        &self,
        method: Method,
        url: &Url,
        auth: Option<&str>,
        accept: Option<&str>,
        body: Option<(&str, &[u8])>,
    ) -> Result<Response, ResolveError> {
        if self.loopback_only && !is_loopback(url) {
            return Err(ResolveError::NonLoopback {
                url: redact_url(url),
            });
        }
        let limit = self.limit(url);
        let mut backoff = BACKOFF_START;
        let mut attempt = 0;
        loop {
            if let Some(error) = self.down(url) {
                return Err(error);
            }
            let result = self
                .send_once(&limit, method.clone(), url, auth, accept, body)
                .await?;
            let retry = attempt < self.retries;
            attempt += 1;
            match result {
                Ok(response)
                    if retry
                        && (response.status() == StatusCode::TOO_MANY_REQUESTS
                            || response.status().is_server_error()) =>
                {
                    let wait = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| retry_after(v, SystemTime::now()))
                        .map_or(backoff, |d| d.min(RETRY_AFTER_MAX));
                    tokio::time::sleep(wait).await;
                }
                Ok(response) => return Ok(response),
                Err(err)
                    if retry && (err.is_connect() || err.is_request() && !err.is_timeout()) =>
                {
                    tokio::time::sleep(backoff).await;
                }
                Err(err) => {
                    let error = transport_error(&err, url);
                    // A timeout where nothing ever answered: the endpoint
                    // takes connections and says nothing (one that answered
                    // before is only slow for this request).
                    let silent =
                        err.is_timeout() && !self.opened(url).answered.load(Ordering::Acquire);
                    if err.is_connect() || silent {
                        self.down
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .entry(origin(url))
                            .or_insert_with(|| error.clone());
                    }
                    return Err(error);
                }
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }
}

/// An endpoint's first-answer gate (see [`Http::send_once`]).
#[derive(Default)]
struct Opened {
    answered: AtomicBool,
    gate: tokio::sync::Mutex<()>,
}

impl Http {
    /// The error for a request to `url` when its endpoint was found down.
    fn down(&self, url: &Url) -> Option<ResolveError> {
        let down = self.down.lock().unwrap_or_else(|e| e.into_inner());
        let earlier = down.get(&origin(url))?;
        Some(ResolveError::Unreachable {
            url: redact_url(url),
            // An origin holds no user name or password.
            origin: origin(url),
            earlier: match earlier {
                ResolveError::Timeout { .. } => "timed out".to_string(),
                ResolveError::Tls { reason, .. } => format!("TLS error: {reason}"),
                ResolveError::Connection { reason, .. } => format!("cannot connect: {reason}"),
                other => other.kind().to_string(),
            },
            earlier_kind: earlier.kind(),
        })
    }
}

/// Whether a URL's host is `localhost` or a loopback address.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The base URL of a registry, as Docker picks it: plain HTTP for loopback
/// hosts, HTTPS elsewhere, Docker Hub's API at `registry-1.docker.io`.
pub fn registry_base(registry: &str) -> Result<Url, url::ParseError> {
    if registry == "docker.io" {
        return Url::parse("https://registry-1.docker.io/");
    }
    let http = Url::parse(&format!("http://{registry}/"))?;
    if is_loopback(&http) {
        Ok(http)
    } else {
        Url::parse(&format!("https://{registry}/"))
    }
}

pub(super) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// `host[:port]` of a URL, the form Docker's config keys use.
pub(super) fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

pub(super) fn status_error(status: StatusCode, url: &Url) -> ResolveError {
    let url = redact_url(url);
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ResolveError::Unauthorized {
            url,
            reason: format!("HTTP {}", status.as_u16()),
        },
        StatusCode::TOO_MANY_REQUESTS => ResolveError::TooManyRequests { url },
        StatusCode::NOT_FOUND => ResolveError::TagNotFound { url },
        s => ResolveError::Server {
            url,
            status: s.as_u16(),
        },
    }
}

pub(super) fn transport_error(err: &reqwest::Error, url: &Url) -> ResolveError {
    let url = redact_url(url);
    if err.is_timeout() {
        return ResolveError::Timeout { url };
    }
    let mut chain = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        chain.push(e.to_string());
        source = e.source();
    }
    let reason = chain.last().cloned().unwrap_or_default();
    if err.is_redirect() {
        return ResolveError::InvalidResponse { url, reason };
    }
    let all = chain.join(": ").to_ascii_lowercase();
    if all.contains("certificate") || all.contains("tls") || all.contains("handshake") {
        ResolveError::Tls { url, reason }
    } else {
        ResolveError::Connection { url, reason }
    }
}

/// Reads a body of at most `limit` bytes. A body cut short or reset is a
/// [`ResolveError::BrokenTransfer`]; a larger one an error saying so.
pub(super) async fn read_body(
    mut response: Response,
    url: &Url,
    limit: usize,
    what: &str,
) -> Result<Vec<u8>, ResolveError> {
    let too_large = |size: String| ResolveError::InvalidResponse {
        url: redact_url(url),
        reason: format!(
            "the {what} is {size} bytes, more than the {} KiB allowed",
            limit >> 10
        ),
    };
    if let Some(length) = response.content_length()
        && length > limit as u64
    {
        return Err(too_large(length.to_string()));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_large(format!("over {limit}")));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(err) if err.is_timeout() => return Err(transport_error(&err, url)),
            Err(err) => {
                let reason = match transport_error(&err, url) {
                    ResolveError::Connection { reason, .. } | ResolveError::Tls { reason, .. } => {
                        reason
                    }
                    other => other.to_string(),
                };
                return Err(ResolveError::BrokenTransfer {
                    url: redact_url(url),
                    reason: format!(
                        "the {what} was cut off after {} bytes: {reason}",
                        body.len()
                    ),
                });
            }
        }
    }
}

/// The delay a `Retry-After` header asks for: seconds, or an HTTP-date
/// (RFC 9110's IMF-fixdate, `Wed, 21 Oct 2015 07:28:00 GMT`) taken relative
/// to `now`; a date in the past asks for no delay.
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the Unix epoch of an IMF-fixdate.
fn http_date(value: &str) -> Option<u64> {
    let (_, rest) = value.split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts[..] else {
        return None;
    };
    let day: u64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == month)? as u64
        + 1;
    let year: u64 = year.parse().ok().filter(|y| *y >= 1970 && *y < 10000)?;
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms[..] else {
        return None;
    };
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), March-based years.
    let (y, mp) = if month > 2 {
        (year, month - 3)
    } else {
        (year - 1, month + 9)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_docker() {
        for (registry, base) in [
            ("docker.io", "https://registry-1.docker.io/"),
            ("localhost:5000", "http://localhost:5000/"),
            ("127.0.0.2:5000", "http://127.0.0.2:5000/"),
            ("[::1]:5000", "http://[::1]:5000/"),
            ("10.42.0.1:30000", "https://10.42.0.1:30000/"),
            ("ghcr.io", "https://ghcr.io/"),
        ] {
            assert_eq!(registry_base(registry).unwrap().as_str(), base);
        }
    }

    #[test]
    fn mirrors_map_hosts_and_catch_all() {
        let http = Http::new(&ResolverOptions {
            mirrors: vec![
                "docker.io=http://127.0.0.1:5000".parse().unwrap(),
                "*=http://127.0.0.1:6000/prefix".parse().unwrap(),
            ],
            ..ResolverOptions::default()
        })
        .unwrap();
        let url = |reg: &str| {
            http.manifest_url(reg, "library/nginx", "1.25")
                .unwrap()
                .to_string()
        };
        assert_eq!(
            url("docker.io"),
            "http://127.0.0.1:5000/v2/library/nginx/manifests/1.25"
        );
        assert_eq!(
            url("10.42.0.1:30000"),
            "http://127.0.0.1:6000/prefix/v2/library/nginx/manifests/1.25"
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_475); // 07:27:55
        assert_eq!(retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            http_date("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600)
        );
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 PST", now), None);
        assert_eq!(retry_after("soon", now), None);
    }
}
