//! The HTTP side of resolving: endpoints, mirrors, authentication, retries.
//!
//! A tag is resolved with `HEAD /v2/<repo>/manifests/<tag>` (Docker Hub does
//! not count HEAD against its pull limit); the digest comes from
//! `Docker-Content-Digest`, or from hashing the manifest when a registry omits
//! it, after checking that the answer is a manifest. A platform is resolved by
//! reading the index and picking its entry. On a 401 the `WWW-Authenticate`
//! challenge is answered for the (endpoint, repository) and the answer reused;
//! a reused answer that is refused is replaced once (tokens expire). The
//! answer is a Bearer token from the realm, or HTTP Basic, with the
//! credentials Docker's configuration holds for the host contacted.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER, WWW_AUTHENTICATE,
};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use tokio::sync::Semaphore;
use url::{Host, Url};

use super::challenge::{self, Challenge};
use crate::reference::validate_digest;
use super::credentials::{Credential, DockerConfig, json_problem};
use super::platform::Platform;
use super::{
    Described, DigestKey, MEDIA_DOCKER_LIST, MEDIA_DOCKER_MANIFEST, MEDIA_OCI_INDEX,
    MEDIA_OCI_MANIFEST, RegistryError, ResolveError, ResolveKey, Resolved, ResolverOptions,
    redact_url,
};

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";
const BACKOFF_START: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(3);
const RETRY_AFTER_MAX: Duration = Duration::from_secs(10);
/// The largest manifest or index read: the limit registries apply.
const MANIFEST_MAX: usize = 4 << 20;
/// The largest token answer, image config or error body read.
const SMALL_MAX: usize = 1 << 20;

/// The `Authorization` header in use for an (endpoint, repository), and how
/// many times it was obtained: a request that saw generation `n` refused
/// asks for a new one only if nobody did meanwhile. Failures are not kept.
#[derive(Default)]
struct AuthState {
    header: Option<String>,
    generation: u64,
}

type AuthSlot = Arc<tokio::sync::Mutex<AuthState>>;

/// Resolves tags to digests; cheap to share, holds one connection pool.
pub struct Resolver {
    runtime: tokio::runtime::Runtime,
    inner: Arc<Inner>,
    progress: Option<Progress>,
}

/// Called with (done, total) as the keys of a batch resolve.
pub type Progress = Box<dyn Fn(usize, usize) + Send + Sync>;

struct Inner {
    http: reqwest::Client,
    options: ResolverOptions,
    config: Arc<DockerConfig>,
    credentials: Mutex<HashMap<String, Result<Option<Credential>, ResolveError>>>,
    auth: Mutex<HashMap<(String, String), AuthSlot>>,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Endpoints that stayed unreachable through every retry: later requests
    /// to them fail at once with the same error instead of retrying again.
    down: Mutex<HashMap<String, ResolveError>>,
}

impl Resolver {
    pub fn new(options: ResolverOptions) -> Result<Resolver, RegistryError> {
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
        let http = builder
            .build()
            .map_err(|e| RegistryError::Client(e.to_string()))?;
        let config = DockerConfig::load(options.docker_config_dir.as_deref())
            .map_err(RegistryError::DockerConfig)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Client(e.to_string()))?;
        Ok(Resolver {
            progress: None,
            runtime,
            inner: Arc::new(Inner {
                http,
                options,
                config: Arc::new(config),
                credentials: Mutex::new(HashMap::new()),
                auth: Mutex::new(HashMap::new()),
                limits: Mutex::new(HashMap::new()),
                down: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Resolves every key, each once, concurrently. Blocks until all are done.
    pub fn resolve_all(
        &self,
        keys: &[ResolveKey],
    ) -> BTreeMap<ResolveKey, Result<Resolved, ResolveError>> {
        let mut unique = keys.to_vec();
        unique.sort();
        unique.dedup();
        let inner = &self.inner;
        let done = std::sync::atomic::AtomicUsize::new(0);
        let total = unique.len();
        let results = self
            .runtime
            .block_on(futures_util::future::join_all(unique.iter().map(
                |key| async {
                    let result = inner.resolve(key).await;
                    let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    if let Some(progress) = &self.progress {
                        progress(finished, total);
                    }
                    result
                },
            )));
        unique.into_iter().zip(results).collect()
    }

    /// Reports batch progress to `progress` (e.g. a progress bar).
    pub fn set_progress(&mut self, progress: Progress) {
        self.progress = Some(progress);
    }

    /// Resolves one key.
    pub fn resolve(&self, key: &ResolveKey) -> Result<Resolved, ResolveError> {
        self.runtime.block_on(self.inner.resolve(key))
    }

    /// Describes each pinned digest, each once, concurrently.
    pub fn describe_all(
        &self,
        keys: &[DigestKey],
    ) -> BTreeMap<DigestKey, Result<Described, ResolveError>> {
        let mut unique = keys.to_vec();
        unique.sort();
        unique.dedup();
        let inner = &self.inner;
        let results = self.runtime.block_on(futures_util::future::join_all(
            unique.iter().map(|key| inner.describe(key)),
        ));
        unique.into_iter().zip(results).collect()
    }

    /// Whether each digest still exists in its repository.
    pub fn exist_all(&self, keys: &[DigestKey]) -> BTreeMap<DigestKey, Result<bool, ResolveError>> {
        let mut unique = keys.to_vec();
        unique.sort();
        unique.dedup();
        let inner = &self.inner;
        let results = self.runtime.block_on(futures_util::future::join_all(
            unique.iter().map(|key| inner.exists(key)),
        ));
        unique.into_iter().zip(results).collect()
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

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// `host[:port]` of a URL, the form Docker's config keys use.
fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

fn status_error(status: StatusCode, url: &Url) -> ResolveError {
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

fn transport_error(err: &reqwest::Error, url: &Url) -> ResolveError {
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

#[derive(Deserialize)]
struct RegistryErrors {
    #[serde(default)]
    errors: Vec<RegistryErrorBody>,
}

#[derive(Deserialize)]
struct RegistryErrorBody {
    #[serde(default)]
    code: String,
}

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    layers: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    manifests: Option<Vec<IndexEntry>>,
    #[serde(default)]
    config: Option<Descriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexEntry {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    platform: Option<EntryPlatform>,
}

#[derive(Deserialize)]
struct Descriptor {
    digest: String,
}

#[derive(Deserialize)]
struct EntryPlatform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

fn sha256_digest(bytes: &[u8]) -> String {
    digest_with("sha256", bytes)
}

/// `algorithm:hex` of `bytes`, for the algorithms [`valid_digest`] accepts.
fn digest_with(algorithm: &str, bytes: &[u8]) -> String {
    let hash: Vec<u8> = match algorithm {
        "sha384" => Sha384::digest(bytes).to_vec(),
        "sha512" => Sha512::digest(bytes).to_vec(),
        _ => Sha256::digest(bytes).to_vec(),
    };
    let mut out = String::with_capacity(algorithm.len() + 1 + 2 * hash.len());
    out.push_str(algorithm);
    out.push(':');
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The digest of `bytes` in the algorithm `digest` names.
fn digest_like(digest: &str, bytes: &[u8]) -> String {
    digest_with(digest.split_once(':').map_or("sha256", |(a, _)| a), bytes)
}

/// Reads a body of at most `limit` bytes. A body cut short or reset is a
/// [`ResolveError::BrokenTransfer`]; a larger one an error saying so.
async fn read_body(
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

/// The media type of a `Content-Type` value, lowercased, parameters dropped.
fn media_type_of(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Checks that an answer is a manifest or index: a manifest media type, and
/// a body that is a JSON document of that type. Anything else (a proxy's
/// login page, half a manifest) is an error with its reason.
fn check_manifest(body: &[u8], media_type: &str, url: &Url) -> Result<Manifest, ResolveError> {
    let invalid = |reason: String| ResolveError::InvalidResponse {
        url: redact_url(url),
        reason,
    };
    let index = [MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST].contains(&media_type);
    let image = [MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST].contains(&media_type);
    if !index && !image {
        return Err(invalid(if media_type.is_empty() {
            "the registry answered without a Content-Type, not a manifest".into()
        } else {
            format!("the registry answered {media_type}, not a manifest")
        }));
    }
    let manifest: Manifest = serde_json::from_slice(body).map_err(|e| {
        invalid(format!(
            "the {media_type} body {} ({} bytes): not a whole manifest",
            json_problem(&e),
            body.len()
        ))
    })?;
    if manifest.schema_version != Some(2) {
        return Err(invalid(format!(
            "the {media_type} body has no schemaVersion 2: not a manifest"
        )));
    }
    if let Some(declared) = manifest.media_type.as_deref()
        && declared != media_type
    {
        return Err(invalid(format!(
            "the body says it is {declared} but was served as {media_type}"
        )));
    }
    if index && manifest.manifests.is_none() {
        return Err(invalid(format!(
            "the {media_type} body has no `manifests`: not an index"
        )));
    }
    if image && (manifest.config.is_none() || manifest.layers.is_none()) {
        return Err(invalid(format!(
            "the {media_type} body has no `config` and `layers`: not an image manifest"
        )));
    }
    Ok(manifest)
}

fn valid_digest(digest: &str) -> bool {
    validate_digest(digest).is_ok()
}

impl Inner {
    /// The base URL requests for `registry` go to.
    fn base(&self, registry: &str) -> Result<Url, ResolveError> {
        let mirror = self
            .options
            .mirrors
            .iter()
            .find(|m| m.host == registry)
            .or_else(|| self.options.mirrors.iter().find(|m| m.host == "*"));
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

    fn manifest_url(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
    ) -> Result<Url, ResolveError> {
        self.url(registry, &format!("v2/{repository}/manifests/{reference}"))
    }

    fn url(&self, registry: &str, path: &str) -> Result<Url, ResolveError> {
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
            .or_insert_with(|| Arc::new(Semaphore::new(self.options.jobs.max(1))))
            .clone()
    }

    /// Credentials for a request to `url`: those stored for the host
    /// actually contacted, so a mirror gets its own host's credentials and
    /// never those of the registry it stands in for. A credential helper
    /// runs off the runtime, stopped after the request timeout.
    async fn credential(&self, url: &Url) -> Result<Option<Credential>, ResolveError> {
        let contacted = if url.host_str() == Some("registry-1.docker.io") {
            "docker.io".to_string()
        } else {
            host_port(url)
        };
        let cached = self
            .credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&contacted)
            .cloned();
        if let Some(found) = cached {
            return found;
        }
        let config = Arc::clone(&self.config);
        let timeout = self.options.timeout;
        let host = contacted.clone();
        let found = tokio::task::spawn_blocking(move || config.lookup(&host, timeout))
            .await
            .unwrap_or_else(|e| {
                Err(ResolveError::CredentialHelper {
                    helper: "the credential lookup".into(),
                    reason: e.to_string(),
                })
            });
        self.credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(contacted, found.clone());
        found
    }

    /// One HTTP request with retries on connection errors, 5xx and 429.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        auth: Option<&str>,
        accept: Option<&str>,
    ) -> Result<Response, ResolveError> {
        self.send_form(method, url, auth, accept, None).await
    }

    /// [`Inner::send`] with an optional `application/x-www-form-urlencoded` body.
    async fn send_form(
        &self,
        method: Method,
        url: &Url,
        auth: Option<&str>,
        accept: Option<&str>,
        form: Option<&str>,
    ) -> Result<Response, ResolveError> {
        if self.options.loopback_only && !is_loopback(url) {
            return Err(ResolveError::NonLoopback {
                url: redact_url(url),
            });
        }
        let limit = self.limit(url);
        let mut backoff = BACKOFF_START;
        let mut attempt = 0;
        loop {
            let down = self
                .down
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&origin(url))
                .cloned();
            if let Some(error) = down {
                return Err(error);
            }
            let result = {
                let _permit = limit
                    .acquire()
                    .await
                    .map_err(|_| ResolveError::NotAttempted)?;
                let mut request = self.http.request(method.clone(), url.clone());
                if let Some(accept) = accept {
                    request = request.header(ACCEPT, accept);
                }
                if let Some(auth) = auth {
                    request = request.header(AUTHORIZATION, auth);
                }
                if let Some(form) = form {
                    request = request
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(form.to_string());
                }
                request.send().await
            };
            let retry = attempt < self.options.retries;
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
                        .and_then(|v| challenge::retry_after(v, SystemTime::now()))
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
                    if err.is_connect() {
                        self.down
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(origin(url), error.clone());
                    }
                    return Err(error);
                }
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    fn auth_slot(&self, url: &Url, repository: &str) -> AuthSlot {
        let mut slots = self.auth.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .entry((origin(url), repository.to_string()))
            .or_default()
            .clone()
    }

    /// A request to a repository's URL, answering an auth challenge once.
    async fn request(
        &self,
        registry: &str,
        repository: &str,
        method: Method,
        url: &Url,
    ) -> Result<Response, ResolveError> {
        self.request_accepting(registry, repository, method, url, Some(MANIFEST_ACCEPT))
            .await
    }

    async fn request_accepting(
        &self,
        _registry: &str,
        repository: &str,
        method: Method,
        url: &Url,
        accept: Option<&str>,
    ) -> Result<Response, ResolveError> {
        let slot = self.auth_slot(url, repository);
        let (mut header, mut generation) = {
            let state = slot.lock().await;
            (state.header.clone(), state.generation)
        };
        // A refused header is replaced (a token may have expired): by one
        // another request got meanwhile, or by asking once for a new one.
        // A second refusal of a header this request got itself is final.
        let mut refreshed = false;
        for _ in 0..4 {
            let response = self
                .send(method.clone(), url, header.as_deref(), accept)
                .await?;
            let status = response.status();
            if status != StatusCode::UNAUTHORIZED && !(refreshed && status == StatusCode::FORBIDDEN)
            {
                return Ok(response);
            }
            if refreshed {
                break;
            }
            let challenge = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(challenge::parse);
            let mut state = slot.lock().await;
            if state.generation == generation {
                state.header = self.authenticate(repository, url, challenge).await?;
                state.generation += 1;
                refreshed = true;
            }
            header = state.header.clone();
            generation = state.generation;
            drop(state);
            if header.is_none() {
                return Err(ResolveError::Unauthorized {
                    url: redact_url(url),
                    reason:
                        "the registry asks for credentials and Docker's config.json has none for it"
                            .into(),
                });
            }
        }
        Err(ResolveError::Unauthorized {
            url: redact_url(url),
            reason: "credentials refused".into(),
        })
    }

    /// Answers a challenge: the `Authorization` header to send, if any.
    async fn authenticate(
        &self,
        repository: &str,
        url: &Url,
        challenge: Option<Challenge>,
    ) -> Result<Option<String>, ResolveError> {
        // A broken credential helper (say, a Docker Desktop `credsStore` on a
        // machine without it) must not break public images: try anonymously
        // and report the helper only if anonymous access is refused.
        let (credential, helper_error) = match self.credential(url).await {
            Ok(credential) => (credential, None),
            Err(error) => (None, Some(error)),
        };
        match challenge {
            Some(Challenge::Basic) => match (credential, helper_error) {
                (Some(credential), _) => Ok(Some(credential.basic())),
                (None, Some(error)) => Err(error),
                (None, None) => Ok(None),
            },
            Some(Challenge::Bearer { realm, service }) => {
                let mut token_url =
                    Url::parse(&realm).map_err(|e| ResolveError::InvalidResponse {
                        url: redact_url(url),
                        reason: format!("bad token realm `{realm}`: {e}"),
                    })?;
                {
                    let mut query = token_url.query_pairs_mut();
                    if let Some(service) = &service {
                        query.append_pair("service", service);
                    }
                    query.append_pair("scope", &format!("repository:{repository}:pull"));
                }
                let response = match credential
                    .as_ref()
                    .and_then(|c| c.identity_token.as_deref())
                {
                    // An identity token (e.g. from `az acr login`) is an OAuth2
                    // refresh token: exchange it with a POST to the realm.
                    Some(refresh_token) => {
                        let mut form = url::form_urlencoded::Serializer::new(String::new());
                        form.append_pair("grant_type", "refresh_token")
                            .append_pair("refresh_token", refresh_token)
                            .append_pair("client_id", "digestpin")
                            .append_pair("scope", &format!("repository:{repository}:pull"));
                        if let Some(service) = &service {
                            form.append_pair("service", service);
                        }
                        let mut realm_url = token_url.clone();
                        realm_url.set_query(None);
                        self.send_form(Method::POST, &realm_url, None, None, Some(&form.finish()))
                            .await?
                    }
                    None => {
                        let basic = credential.as_ref().map(Credential::basic);
                        self.send(Method::GET, &token_url, basic.as_deref(), None)
                            .await?
                    }
                };
                if matches!(
                    response.status(),
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                ) {
                    if let Some(error) = helper_error {
                        return Err(error);
                    }
                    return Err(ResolveError::Unauthorized {
                        url: redact_url(&token_url),
                        reason: if credential.is_some() {
                            "the token server refused the credentials".into()
                        } else {
                            "the token server refused an anonymous token".into()
                        },
                    });
                }
                if !response.status().is_success() {
                    return Err(status_error(response.status(), &token_url));
                }
                let body = read_body(response, &token_url, SMALL_MAX, "token answer").await?;
                let token: Token =
                    serde_json::from_slice(&body).map_err(|e| ResolveError::InvalidResponse {
                        url: redact_url(&token_url),
                        reason: format!("the token answer {}", json_problem(&e)),
                    })?;
                let token = token
                    .token
                    .or(token.access_token)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| ResolveError::InvalidResponse {
                        url: redact_url(&token_url),
                        reason: "no token in the answer".into(),
                    })?;
                Ok(Some(format!("Bearer {token}")))
            }
            None => Err(ResolveError::Unauthorized {
                url: redact_url(url),
                reason: "unsupported authentication challenge".into(),
            }),
        }
    }

    /// Turns a 404 into "tag" or "repository" not found, reading the
    /// registry's error code with a GET when the HEAD had no body.
    async fn not_found(&self, registry: &str, repository: &str, url: &Url) -> ResolveError {
        let code = match self.request(registry, repository, Method::GET, url).await {
            Ok(response) => read_body(response, url, SMALL_MAX, "error answer")
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<RegistryErrors>(&b).ok())
                .and_then(|e| e.errors.into_iter().next())
                .map(|e| e.code),
            Err(_) => None,
        };
        if code.as_deref() == Some("NAME_UNKNOWN")
            || !self.repository_exists(registry, repository).await
        {
            ResolveError::RepositoryNotFound {
                url: redact_url(url),
            }
        } else {
            ResolveError::TagNotFound {
                url: redact_url(url),
            }
        }
    }

    /// Whether the repository is known: some registries answer an unknown
    /// repository's manifest with MANIFEST_UNKNOWN, but its tag list with 404.
    /// Anything but a 404 counts as "exists", so the answer stays "tag not found".
    async fn repository_exists(&self, registry: &str, repository: &str) -> bool {
        let Ok(url) = self.url(registry, &format!("v2/{repository}/tags/list?n=1")) else {
            return true;
        };
        match self
            .request_accepting(
                registry,
                repository,
                Method::GET,
                &url,
                Some("application/json"),
            )
            .await
        {
            Ok(response) => response.status() != StatusCode::NOT_FOUND,
            Err(_) => true,
        }
    }

    /// GETs a body of at most `limit` bytes; a transfer broken mid-body is
    /// retried like a reset before the headers. `Ok(Err(status))` for an
    /// answer that is not a success (its body unread).
    async fn get_body(
        &self,
        registry: &str,
        repository: &str,
        url: &Url,
        accept: Option<&str>,
        limit: usize,
        what: &str,
    ) -> Result<Result<(HeaderMap, Vec<u8>), StatusCode>, ResolveError> {
        let mut backoff = BACKOFF_START;
        let mut attempt = 0;
        loop {
            let response = self
                .request_accepting(registry, repository, Method::GET, url, accept)
                .await?;
            if !response.status().is_success() {
                return Ok(Err(response.status()));
            }
            let headers = response.headers().clone();
            match read_body(response, url, limit, what).await {
                Ok(body) => return Ok(Ok((headers, body))),
                Err(ResolveError::BrokenTransfer { .. }) if attempt < self.options.retries => {
                    attempt += 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// GETs a manifest or index: its bytes, digest, media type and parsed
    /// form, after checking that it is one (see [`check_manifest`]).
    #[allow(clippy::type_complexity)]
    async fn get_manifest(
        &self,
        registry: &str,
        repository: &str,
        url: &Url,
    ) -> Result<Result<(Vec<u8>, String, String, Manifest), StatusCode>, ResolveError> {
        let answer = self
            .get_body(
                registry,
                repository,
                url,
                Some(MANIFEST_ACCEPT),
                MANIFEST_MAX,
                "manifest",
            )
            .await?;
        let (headers, body) = match answer {
            Ok(answer) => answer,
            Err(status) => return Ok(Err(status)),
        };
        let media_type = media_type_of(&headers);
        let manifest = check_manifest(&body, &media_type, url)?;
        let digest = sha256_digest(&body);
        Ok(Ok((body, digest, media_type, manifest)))
    }

    /// [`Inner::get_manifest`] of a tag, a 404 told apart as tag or
    /// repository not found.
    async fn get_tag_manifest(
        &self,
        key: &ResolveKey,
        url: &Url,
    ) -> Result<(Vec<u8>, String, String, Manifest), ResolveError> {
        match self
            .get_manifest(&key.registry, &key.repository, url)
            .await?
        {
            Ok(found) => Ok(found),
            Err(StatusCode::NOT_FOUND) => {
                Err(self.not_found(&key.registry, &key.repository, url).await)
            }
            Err(status) => Err(status_error(status, url)),
        }
    }

    /// With `verify_digest`: GETs the manifest `url` names and checks that it
    /// hashes to `expected`.
    async fn verify(
        &self,
        key: &ResolveKey,
        url: &Url,
        expected: &str,
    ) -> Result<(), ResolveError> {
        if !self.options.verify_digest {
            return Ok(());
        }
        let (body, _, _, _) = self.get_tag_manifest(key, url).await?;
        let actual = digest_like(expected, &body);
        if actual == expected {
            Ok(())
        } else {
            Err(ResolveError::DigestMismatch {
                url: redact_url(url),
                header: expected.to_string(),
                actual,
            })
        }
    }

    async fn resolve(&self, key: &ResolveKey) -> Result<Resolved, ResolveError> {
        let url = self.manifest_url(&key.registry, &key.repository, &key.tag)?;
        if let Some(platform) = &key.platform {
            return self.resolve_platform(key, platform, &url).await;
        }
        let response = self
            .request(&key.registry, &key.repository, Method::HEAD, &url)
            .await?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::NOT_FOUND => {
                return Err(self.not_found(&key.registry, &key.repository, &url).await);
            }
            s => return Err(status_error(s, &url)),
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let media_type = header(CONTENT_TYPE.as_str())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_string())
            .unwrap_or_default();
        match header("docker-content-digest") {
            Some(digest) if valid_digest(&digest) => {
                self.verify(key, &url, &digest).await?;
                Ok(Resolved { digest, media_type })
            }
            Some(digest) => Err(ResolveError::InvalidResponse {
                url: redact_url(&url),
                reason: format!("invalid Docker-Content-Digest `{digest}`"),
            }),
            None => {
                let (_, digest, media_type, _) = self.get_tag_manifest(key, &url).await?;
                Ok(Resolved { digest, media_type })
            }
        }
    }

    async fn resolve_platform(
        &self,
        key: &ResolveKey,
        wanted: &Platform,
        url: &Url,
    ) -> Result<Resolved, ResolveError> {
        let (_, digest, media_type, manifest) = self.get_tag_manifest(key, url).await?;
        let media_type = manifest
            .media_type
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or(media_type);
        if let Some(entries) = manifest.manifests {
            let mut available = Vec::new();
            for entry in &entries {
                let Some(p) = &entry.platform else {
                    continue;
                };
                let platform = Platform::new(&p.os, &p.architecture, p.variant.as_deref());
                if wanted.matches(&platform) {
                    if valid_digest(&entry.digest) {
                        let entry_url =
                            self.manifest_url(&key.registry, &key.repository, &entry.digest)?;
                        self.verify(key, &entry_url, &entry.digest).await?;
                    }
                    return Ok(Resolved {
                        digest: entry.digest.clone(),
                        media_type: entry
                            .media_type
                            .clone()
                            .unwrap_or_else(|| MEDIA_OCI_MANIFEST.to_string()),
                    });
                }
                if p.os != "unknown" {
                    available.push(platform.to_string());
                }
            }
            return Err(ResolveError::PlatformNotFound {
                wanted: wanted.to_string(),
                available,
            });
        }
        let is_manifest = [MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST]
            .contains(&media_type.as_str())
            || manifest.config.is_some();
        if !is_manifest || [MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST].contains(&media_type.as_str()) {
            return Err(ResolveError::InvalidResponse {
                url: redact_url(url),
                reason: format!("unexpected manifest type `{media_type}`"),
            });
        }
        // A single-platform image: check that it is the platform asked for.
        let found = self
            .manifest_platform(&key.registry, &key.repository, &manifest, url)
            .await?;
        if wanted.matches(&found) {
            Ok(Resolved { digest, media_type })
        } else {
            Err(ResolveError::PlatformMismatch {
                wanted: wanted.to_string(),
                found: found.to_string(),
            })
        }
    }

    /// The platform of a single-platform manifest, read from its config blob.
    async fn manifest_platform(
        &self,
        registry: &str,
        repository: &str,
        manifest: &Manifest,
        url: &Url,
    ) -> Result<Platform, ResolveError> {
        let config = manifest
            .config
            .as_ref()
            .ok_or_else(|| ResolveError::InvalidResponse {
                url: redact_url(url),
                reason: "manifest without config".into(),
            })?;
        let blob_url = self.url(
            registry,
            &format!("v2/{repository}/blobs/{}", config.digest),
        )?;
        let bytes = match self
            .get_body(
                registry,
                repository,
                &blob_url,
                None,
                SMALL_MAX,
                "image config",
            )
            .await?
        {
            Ok((_, bytes)) => bytes,
            Err(status) => return Err(status_error(status, &blob_url)),
        };
        let found: EntryPlatform =
            serde_json::from_slice(&bytes).map_err(|e| ResolveError::InvalidResponse {
                url: redact_url(&blob_url),
                reason: format!("the image config {}", json_problem(&e)),
            })?;
        Ok(Platform::new(
            &found.os,
            &found.architecture,
            found.variant.as_deref(),
        ))
    }

    async fn exists(&self, key: &DigestKey) -> Result<bool, ResolveError> {
        let url = self.manifest_url(&key.registry, &key.repository, &key.digest)?;
        let response = self
            .request(&key.registry, &key.repository, Method::HEAD, &url)
            .await?;
        match response.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            s => Err(status_error(s, &url)),
        }
    }

    /// What a pinned digest names: an index, one platform's manifest, or
    /// nothing any more.
    async fn describe(&self, key: &DigestKey) -> Result<Described, ResolveError> {
        let url = self.manifest_url(&key.registry, &key.repository, &key.digest)?;
        let (body, manifest) = match self
            .get_manifest(&key.registry, &key.repository, &url)
            .await?
        {
            Ok((body, _, _, manifest)) => (body, manifest),
            Err(StatusCode::NOT_FOUND) => return Ok(Described::Missing),
            Err(status) => return Err(status_error(status, &url)),
        };
        // Asked by digest: the answer must be the manifest with that digest.
        let actual = digest_like(&key.digest, &body);
        if valid_digest(&key.digest) && actual != key.digest {
            return Err(ResolveError::DigestMismatch {
                url: redact_url(&url),
                header: key.digest.clone(),
                actual,
            });
        }
        if manifest.manifests.is_some() {
            return Ok(Described::Index);
        }
        let platform = self
            .manifest_platform(&key.registry, &key.repository, &manifest, &url)
            .await?;
        Ok(Described::Manifest(platform))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Mirror;

    fn inner(mirrors: &[&str]) -> Resolver {
        Resolver::new(ResolverOptions {
            mirrors: mirrors
                .iter()
                .map(|m| m.parse::<Mirror>().unwrap())
                .collect(),
            docker_config_dir: Some(std::env::temp_dir().join("digestpin-no-config")),
            ..ResolverOptions::default()
        })
        .unwrap()
    }

    #[test]
    fn endpoints_follow_docker() {
        assert_eq!(
            registry_base("docker.io").unwrap().as_str(),
            "https://registry-1.docker.io/"
        );
        assert_eq!(
            registry_base("localhost:5000").unwrap().as_str(),
            "http://localhost:5000/"
        );
        assert_eq!(
            registry_base("127.0.0.2:5000").unwrap().as_str(),
            "http://127.0.0.2:5000/"
        );
        assert_eq!(
            registry_base("[::1]:5000").unwrap().as_str(),
            "http://[::1]:5000/"
        );
        assert_eq!(
            registry_base("10.42.0.1:30000").unwrap().as_str(),
            "https://10.42.0.1:30000/"
        );
        assert_eq!(
            registry_base("ghcr.io").unwrap().as_str(),
            "https://ghcr.io/"
        );
    }

    #[test]
    fn mirrors_map_hosts_and_catch_all() {
        let r = inner(&[
            "docker.io=http://127.0.0.1:5000",
            "*=http://127.0.0.1:6000/prefix",
        ]);
        let url = |reg: &str| {
            r.inner
                .manifest_url(reg, "library/nginx", "1.25")
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
    fn loopback_only_refuses_before_sending() {
        let r = Resolver::new(ResolverOptions {
            loopback_only: true,
            docker_config_dir: Some(std::env::temp_dir().join("digestpin-no-config")),
            ..ResolverOptions::default()
        })
        .unwrap();
        let key = ResolveKey {
            registry: "10.42.0.1:30000".into(),
            repository: "team/app".into(),
            tag: "v1".into(),
            platform: None,
        };
        assert!(matches!(
            r.resolve(&key),
            Err(ResolveError::NonLoopback { .. })
        ));
    }

    #[test]
    fn digests_are_checked() {
        assert!(valid_digest(&sha256_digest(b"x")));
        assert!(!valid_digest("sha256:abc"));
        assert!(!valid_digest("md5:d41d8cd98f00b204e9800998ecf8427e"));
    }
}
