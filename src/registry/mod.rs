//! Resolving image tags to digests over the OCI distribution API.
//!
//! [`Resolver::resolve_all`] takes normalised keys (registry, repository, tag,
//! optional platform), deduplicates them and resolves them concurrently, at
//! most `jobs` requests at a time per registry endpoint, each with a timeout
//! and retries on connection errors, 5xx and 429. Every key gets its own
//! result: one failure never stops the others.
//!
//! The submodules, each using only those after it: [`client`] holds the
//! [`Resolver`] and its batches; `retag` puts a manifest under other tags,
//! `provenance` reads OCI metadata, `tags` lists the tags naming a digest;
//! [`manifest`] the media types, manifest
//! checks, platform choice and lookups of digests; [`auth`] challenges,
//! tokens and credentials; [`http`] endpoints, mirrors, the loopback rule,
//! retries and body limits; [`credentials`] reads Docker's configuration,
//! [`platform`] parses and matches platforms; [`cache`] keeps answers on
//! disk between runs.

mod auth;
pub mod cache;
mod client;
mod credentials;
mod http;
mod manifest;
mod platform;
mod provenance;
mod retag;
mod tags;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

pub use cache::{CacheOptions, CacheUse};
pub use client::{Progress, Resolver, Trace, TraceEvent};
pub use credentials::{Credential, DockerConfig};
pub use manifest::{MEDIA_DOCKER_LIST, MEDIA_DOCKER_MANIFEST, MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST};
pub use platform::{Platform, PlatformError};
pub use provenance::Provenance;
pub use retag::{RetagError, TagMove};
pub use tags::SameTags;

/// `HOST=URL`: resolve references of registry HOST at URL; HOST `*` maps every
/// registry that has no mapping of its own.
#[derive(Clone, PartialEq, Eq)]
pub struct Mirror {
    pub host: String,
    pub url: url::Url,
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror")
            .field("host", &self.host)
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

/// A URL as it may be shown: a password in its user information becomes
/// `***` (`http://user:***@host/`), so no message ever carries it.
pub fn redact_url(url: &url::Url) -> String {
    if url.password().is_some() {
        let mut shown = url.clone();
        if shown.set_password(Some("***")).is_ok() {
            return shown.to_string();
        }
    }
    url.to_string()
}

/// A URL string as it may be shown (see [`redact_url`]); a string that is
/// not a URL keeps nothing between `://` and the last `@` of its authority.
pub fn redact_url_str(text: &str) -> String {
    if let Ok(url) = url::Url::parse(text) {
        return redact_url(&url);
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => text.to_string(),
    }
}

/// A `HOST=URL` mirror setting as it may be shown (see [`redact_url`]).
pub fn redact_mirror(setting: &str) -> String {
    match setting.split_once('=') {
        Some((host, url)) => format!("{host}={}", redact_url_str(url)),
        None => redact_url_str(setting),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MirrorError {
    #[error("invalid mirror `{0}`: expected HOST=URL, e.g. docker.io=http://127.0.0.1:5000")]
    Format(String),
    #[error("invalid mirror URL `{url}`: {reason}")]
    Url { url: String, reason: String },
}

impl FromStr for Mirror {
    type Err = MirrorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (host, url) = s
            .split_once('=')
            .ok_or_else(|| MirrorError::Format(redact_url_str(s)))?;
        if host.is_empty() || url.is_empty() {
            return Err(MirrorError::Format(redact_mirror(s)));
        }
        let url = url::Url::parse(url).map_err(|e| MirrorError::Url {
            url: redact_url_str(url),
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(MirrorError::Url {
                url: redact_url(&url),
                reason: "must be an http or https URL".into(),
            });
        }
        let host = match host {
            "index.docker.io" | "registry-1.docker.io" => "docker.io",
            host => host,
        };
        Ok(Mirror {
            host: host.to_string(),
            url,
        })
    }
}

/// Default of [`ResolverOptions::jobs`]: concurrent requests per endpoint.
/// The one place this default is written; the CLI and config read it.
/// Measured with `scripts/bench.sh` (400 tags, 50 ms round trip): 8 took
/// twice as long as 32, and 64 or 128 were no faster than 32.
pub const DEFAULT_JOBS: usize = 32;
/// Default of [`ResolverOptions::timeout`]: the timeout of one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`ResolverOptions::retries`]: retries of one request.
pub const DEFAULT_RETRIES: u32 = 4;

/// Settings of a [`Resolver`]; [`Default`] gives the `DEFAULT_*` values.
#[derive(Debug, Clone)]
pub struct ResolverOptions {
    pub mirrors: Vec<Mirror>,
    /// An extra CA certificate (PEM) to trust.
    pub ca_file: Option<PathBuf>,
    /// Concurrent requests per registry endpoint.
    pub jobs: usize,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Retries of one request after a connection error, 5xx or 429.
    pub retries: u32,
    /// Where Docker's `config.json` is; default `$DOCKER_CONFIG` or `~/.docker`.
    pub docker_config_dir: Option<PathBuf>,
    /// Refuse every request to an address outside 127.0.0.0/8 and ::1.
    pub loopback_only: bool,
    /// GET every manifest resolved by HEAD and check that its sha256 is the
    /// `Docker-Content-Digest` the HEAD gave.
    pub verify_digest: bool,
    /// The on-disk cache of answers; `None`: no cache.
    pub cache: Option<CacheOptions>,
}

impl Default for ResolverOptions {
    fn default() -> Self {
        Self {
            mirrors: Vec::new(),
            ca_file: None,
            jobs: DEFAULT_JOBS,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            docker_config_dir: None,
            loopback_only: false,
            verify_digest: false,
            cache: None,
        }
    }
}

/// What to resolve: a normalised registry and repository, a tag, and
/// optionally the platform whose manifest is wanted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResolveKey {
    pub registry: String,
    pub repository: String,
    pub tag: String,
    pub platform: Option<Platform>,
}

/// A pinned digest to look up: normalised registry and repository, and the digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DigestKey {
    pub registry: String,
    pub repository: String,
    pub digest: String,
}

/// What a digest names in its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Described {
    /// A multi-platform index (or manifest list).
    Index,
    /// One platform's image manifest.
    Manifest(Platform),
    /// The registry no longer has it.
    Missing,
}

/// A resolved digest and the media type of the manifest it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub digest: String,
    pub media_type: String,
}

/// Why the client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot read CA file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("cannot read Docker's config.json: {0}")]
    DockerConfig(String),
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
}

/// Why one key did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("tag not found ({url})")]
    TagNotFound { url: String },
    #[error("repository not found ({url})")]
    RepositoryNotFound { url: String },
    #[error("unauthorized: {reason} ({url})")]
    Unauthorized { url: String, reason: String },
    #[error("timed out ({url})")]
    Timeout { url: String },
    #[error("TLS error: {reason} ({url})")]
    Tls { url: String, reason: String },
    #[error("cannot connect: {reason} ({url})")]
    Connection { url: String, reason: String },
    #[error("broken transfer: {reason} ({url})")]
    BrokenTransfer { url: String, reason: String },
    #[error(
        "the manifest's sha256 is {actual}, not the {header} the registry's Docker-Content-Digest names ({url})"
    )]
    DigestMismatch {
        url: String,
        header: String,
        actual: String,
    },
    #[error("{path}: registry {registry}: {problem}")]
    DockerConfig {
        path: String,
        registry: String,
        problem: String,
    },
    #[error("too many requests, rate limited ({url})")]
    TooManyRequests { url: String },
    #[error("registry error: HTTP {status} ({url})")]
    Server { url: String, status: u16 },
    #[error("platform {wanted} not found; the index has {}", if available.is_empty() { "no platforms".to_string() } else { available.join(", ") })]
    PlatformNotFound {
        wanted: String,
        available: Vec<String>,
    },
    #[error("the image is {found}, not {wanted}")]
    PlatformMismatch { wanted: String, found: String },
    #[error("invalid response: {reason} ({url})")]
    InvalidResponse { url: String, reason: String },
    #[error("refused to contact {url}: only loopback addresses are allowed")]
    NonLoopback { url: String },
    #[error("credential helper {helper} failed: {reason}")]
    CredentialHelper { helper: String, reason: String },
    /// A request not sent because an earlier one to the same endpoint
    /// failed at the transport (see `Http::send_body`).
    #[error("{origin} did not answer an earlier request ({earlier}); not asked ({url})")]
    Unreachable {
        url: String,
        origin: String,
        earlier: String,
        earlier_kind: &'static str,
    },
    #[error("not resolved")]
    NotAttempted,
    #[error("not in the cache (--offline)")]
    NotCached,
}

impl ResolveError {
    /// A short name of the kind of failure, for grouping many of them.
    pub fn kind(&self) -> &'static str {
        match self {
            ResolveError::TagNotFound { .. } => "tag not found",
            ResolveError::RepositoryNotFound { .. } => "repository not found",
            ResolveError::Unauthorized { .. } => "unauthorized",
            ResolveError::Timeout { .. } => "timed out",
            ResolveError::Tls { .. } => "TLS error",
            ResolveError::Connection { .. } => "cannot connect",
            ResolveError::BrokenTransfer { .. } => "broken transfer",
            ResolveError::DigestMismatch { .. } => "digest mismatch",
            ResolveError::DockerConfig { .. } => "bad Docker config",
            ResolveError::TooManyRequests { .. } => "rate limited",
            ResolveError::Server { .. } => "registry error",
            ResolveError::PlatformNotFound { .. } | ResolveError::PlatformMismatch { .. } => {
                "platform not found"
            }
            ResolveError::InvalidResponse { .. } => "invalid response",
            ResolveError::NonLoopback { .. } => "refused (loopback only)",
            ResolveError::CredentialHelper { .. } => "credential helper failed",
            // Grouped with the failure that stopped it.
            ResolveError::Unreachable { earlier_kind, .. } => earlier_kind,
            ResolveError::NotAttempted => "not resolved",
            ResolveError::NotCached => "not in the cache",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_passwords_are_redacted_everywhere_they_are_shown() {
        let mirror: Mirror = "docker.io=http://user:pa55@127.0.0.1:5000/x"
            .parse()
            .unwrap();
        assert_eq!(
            format!("{mirror:?}"),
            "Mirror { host: \"docker.io\", url: \"http://user:***@127.0.0.1:5000/x\" }"
        );
        assert_eq!(
            redact_mirror("*=https://u:p@h.example/"),
            "*=https://u:***@h.example/"
        );
        assert_eq!(
            redact_mirror("*=https://h.example/"),
            "*=https://h.example/"
        );
        assert_eq!(redact_url_str("http://u:p@[bad/x"), "http://***@[bad/x");
        assert_eq!(
            "*=ftp://u:pa55@h/"
                .parse::<Mirror>()
                .unwrap_err()
                .to_string(),
            "invalid mirror URL `ftp://u:***@h/`: must be an http or https URL"
        );
        assert_eq!(
            "*=http://u:pa55@[::1"
                .parse::<Mirror>()
                .unwrap_err()
                .to_string(),
            "invalid mirror URL `http://***@[::1`: invalid IPv6 address"
        );
    }
}
