//! Provenance: the OCI metadata a pinned digest carries about where it came
//! from (`org.opencontainers.image.revision`, `.source`, `.version`,
//! `.created`).
//!
//! [`Registry::provenance`] reads the manifest by digest (checking its
//! sha256) and takes those keys from its annotations; when the manifest
//! has none of them, from the image config's labels (one blob GET). For an
//! index: its annotations, else the first platform's manifest (attestation
//! entries, platform `unknown/unknown`, are passed over) and its config.
//! So a digest costs one manifest GET and at most one config GET (an index
//! without annotations one more manifest GET); the resolver's batch runs
//! the digests concurrently, each once.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde::Deserialize;

use super::credentials::json_problem;
use super::http::{SMALL_MAX, status_error};
use super::manifest::{Manifest, Registry, digest_like};
use super::{DigestKey, ResolveError, redact_url};

pub const REVISION: &str = "org.opencontainers.image.revision";
pub const SOURCE: &str = "org.opencontainers.image.source";
pub const VERSION: &str = "org.opencontainers.image.version";
pub const CREATED: &str = "org.opencontainers.image.created";

/// Where an image came from, as its OCI metadata says; each field absent
/// when the image does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Provenance {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

impl Provenance {
    /// The four keys of an annotation or label map.
    pub fn from_map(map: &BTreeMap<String, String>) -> Provenance {
        let get = |key: &str| map.get(key).filter(|v| !v.is_empty()).cloned();
        Provenance {
            revision: get(REVISION),
            source: get(SOURCE),
            version: get(VERSION),
            created: get(CREATED),
        }
    }

    /// Whether no key is known.
    pub fn is_empty(&self) -> bool {
        self.revision.is_none()
            && self.source.is_none()
            && self.version.is_none()
            && self.created.is_none()
    }

    /// The URL of the source commit: `<source>/commit/<revision>` when the
    /// source is a GitHub or GitLab repository URL (`.git` and a final `/`
    /// dropped; GitLab's `/-/commit/`), else `None`.
    pub fn commit_url(&self) -> Option<String> {
        let revision = self.revision.as_deref()?;
        if revision.is_empty() || !revision.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let source = self.source.as_deref()?;
        let url = url::Url::parse(source).ok()?;
        if url.scheme() != "https" || url.query().is_some() || url.fragment().is_some() {
            return None;
        }
        let path = url.path().trim_end_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        let segments = path.trim_start_matches('/').split('/').count();
        let base = format!("https://{}{path}", url.host_str()?);
        match url.host_str()? {
            "github.com" if segments == 2 => Some(format!("{base}/commit/{revision}")),
            "gitlab.com" if segments >= 2 => Some(format!("{base}/-/commit/{revision}")),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct ImageConfig {
    #[serde(default)]
    config: Option<ConfigSection>,
}

#[derive(Deserialize)]
struct ConfigSection {
    #[serde(default, rename = "Labels")]
    labels: Option<BTreeMap<String, String>>,
}

impl Registry {
    /// The provenance of the manifest or index `key` names.
    pub(super) async fn provenance(&self, key: &DigestKey) -> Result<Provenance, ResolveError> {
        let manifest = self.manifest_by_digest(key, &key.digest).await?;
        let found = Provenance::from_map(&manifest.annotations.clone().unwrap_or_default());
        if !found.is_empty() {
            return Ok(found);
        }
        let manifest = match &manifest.manifests {
            Some(entries) => {
                let first = entries.iter().find(|e| {
                    e.platform
                        .as_ref()
                        .is_none_or(|p| p.os != "unknown" && p.architecture != "unknown")
                });
                let Some(first) = first else {
                    return Ok(found);
                };
                let platform = self.manifest_by_digest(key, &first.digest).await?;
                let found = Provenance::from_map(&platform.annotations.clone().unwrap_or_default());
                if !found.is_empty() {
                    return Ok(found);
                }
                platform
            }
            None => manifest,
        };
        self.config_labels(key, &manifest).await
    }

    /// The manifest `digest` names in `key`'s repository, its sha256 checked.
    async fn manifest_by_digest(
        &self,
        key: &DigestKey,
        digest: &str,
    ) -> Result<Manifest, ResolveError> {
        let url = self
            .session
            .http
            .manifest_url(&key.registry, &key.repository, digest)?;
        let (body, manifest) = match self.get_manifest(&key.repository, &url).await? {
            Ok((body, _, _, manifest)) => (body, manifest),
            Err(StatusCode::NOT_FOUND) => {
                return Err(ResolveError::InvalidResponse {
                    url: redact_url(&url),
                    reason: format!("the registry has no manifest {digest}"),
                });
            }
            Err(status) => return Err(status_error(status, &url)),
        };
        let actual = digest_like(digest, &body);
        if actual != digest {
            return Err(ResolveError::DigestMismatch {
                url: redact_url(&url),
                header: digest.to_string(),
                actual,
            });
        }
        Ok(manifest)
    }

    /// The provenance keys of an image manifest's config labels.
    async fn config_labels(
        &self,
        key: &DigestKey,
        manifest: &Manifest,
    ) -> Result<Provenance, ResolveError> {
        let Some(config) = &manifest.config else {
            return Ok(Provenance::default());
        };
        let url = self.session.http.url(
            &key.registry,
            &format!("v2/{}/blobs/{}", key.repository, config.digest),
        )?;
        let bytes = match self
            .session
            .get_body(&key.repository, &url, None, SMALL_MAX, "image config")
            .await?
        {
            Ok((_, bytes)) => bytes,
            Err(status) => return Err(status_error(status, &url)),
        };
        let parsed: ImageConfig =
            serde_json::from_slice(&bytes).map_err(|e| ResolveError::InvalidResponse {
                url: redact_url(&url),
                reason: format!("the image config {}", json_problem(&e)),
            })?;
        let labels = parsed.config.and_then(|c| c.labels).unwrap_or_default();
        Ok(Provenance::from_map(&labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(source: &str, revision: &str) -> Provenance {
        Provenance {
            source: Some(source.into()),
            revision: Some(revision.into()),
            ..Provenance::default()
        }
    }

    #[test]
    fn commit_links_for_github_and_gitlab_only() {
        assert_eq!(
            with("https://github.com/acme/app", "abc123").commit_url(),
            Some("https://github.com/acme/app/commit/abc123".into())
        );
        assert_eq!(
            with("https://github.com/acme/app.git/", "abc123").commit_url(),
            Some("https://github.com/acme/app/commit/abc123".into())
        );
        assert_eq!(
            with("https://gitlab.com/group/sub/app", "abc123").commit_url(),
            Some("https://gitlab.com/group/sub/app/-/commit/abc123".into())
        );
        assert_eq!(
            with("https://git.example.com/acme/app", "abc123").commit_url(),
            None
        );
        assert_eq!(
            with("https://github.com/acme/app", "abc)[x](y").commit_url(),
            None
        );
        assert_eq!(with("https://github.com/acme", "abc123").commit_url(), None);
        assert_eq!(with("http://github.com/acme/app", "abc").commit_url(), None);
    }
}
