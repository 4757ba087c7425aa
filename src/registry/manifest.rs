//! Manifest semantics: media types, the manifest and index checks,
//! platform choice, and what a tag or digest resolves to.
//!
//! A tag is resolved with `HEAD /v2/<repo>/manifests/<tag>` (Docker Hub does
//! not count HEAD against its pull limit); the digest comes from
//! `Docker-Content-Digest`, or from hashing the manifest when a registry omits
//! it, after checking that the answer is a manifest. A platform is resolved by
//! reading the index and picking its entry, or by reading a single-platform
//! image's config. [`Registry::describe`] and [`Registry::exists`] look up a
//! pinned digest. Requests go through `auth`'s [`Session`].

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use url::Url;

use super::auth::Session;
use super::credentials::json_problem;
use super::http::{SMALL_MAX, read_body, status_error};
use super::platform::Platform;
use super::{Described, DigestKey, ResolveError, ResolveKey, Resolved, redact_url};
use crate::reference::validate_digest;

/// Media types a manifest request accepts.
pub const MEDIA_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const MEDIA_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

pub(super) const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";
/// The largest manifest or index read: the limit registries apply.
const MANIFEST_MAX: usize = 4 << 20;

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
#[serde(rename_all = "camelCase")]
pub(super) struct Manifest {
    #[serde(default)]
    pub(super) schema_version: Option<u32>,
    #[serde(default)]
    pub(super) media_type: Option<String>,
    #[serde(default)]
    pub(super) layers: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    pub(super) manifests: Option<Vec<IndexEntry>>,
    #[serde(default)]
    pub(super) config: Option<Descriptor>,
    /// OCI annotations (provenance reads them).
    #[serde(default)]
    pub(super) annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct IndexEntry {
    #[serde(default)]
    pub(super) media_type: Option<String>,
    pub(super) digest: String,
    #[serde(default)]
    pub(super) platform: Option<EntryPlatform>,
}

#[derive(Deserialize)]
pub(super) struct Descriptor {
    pub(super) digest: String,
}

#[derive(Deserialize)]
pub(super) struct EntryPlatform {
    #[serde(default)]
    pub(super) os: String,
    #[serde(default)]
    pub(super) architecture: String,
    #[serde(default)]
    pub(super) variant: Option<String>,
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
pub(super) fn digest_like(digest: &str, bytes: &[u8]) -> String {
    digest_with(digest.split_once(':').map_or("sha256", |(a, _)| a), bytes)
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

/// A registry's manifests, as the resolver asks for them.
pub(super) struct Registry {
    pub(super) session: Session,
    /// GET every manifest resolved by HEAD and check its digest.
    verify_digest: bool,
}

impl Registry {
    pub(super) fn new(session: Session, verify_digest: bool) -> Registry {
        Registry {
            session,
            verify_digest,
        }
    }

    /// A request to a repository's URL, answering an auth challenge once.
    async fn request(
        &self,
        repository: &str,
        method: Method,
        url: &Url,
    ) -> Result<Response, ResolveError> {
        self.session
            .request(repository, method, url, Some(MANIFEST_ACCEPT))
            .await
    }

    /// Turns a 404 into "tag" or "repository" not found, reading the
    /// registry's error code with a GET when the HEAD had no body.
    async fn not_found(&self, registry: &str, repository: &str, url: &Url) -> ResolveError {
        let code = match self.request(repository, Method::GET, url).await {
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
        let Ok(url) = self
            .session
            .http
            .url(registry, &format!("v2/{repository}/tags/list?n=1"))
        else {
            return true;
        };
        match self
            .session
            .request(repository, Method::GET, &url, Some("application/json"))
            .await
        {
            Ok(response) => response.status() != StatusCode::NOT_FOUND,
            Err(_) => true,
        }
    }

    /// GETs a manifest or index: its bytes, digest, media type and parsed
    /// form, after checking that it is one (see [`check_manifest`]).
    #[allow(clippy::type_complexity)]
    pub(super) async fn get_manifest(
        &self,
        repository: &str,
        url: &Url,
    ) -> Result<Result<(Vec<u8>, String, String, Manifest), StatusCode>, ResolveError> {
        let answer = self
            .session
            .get_body(
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

    /// [`Registry::get_manifest`] of a tag, a 404 told apart as tag or
    /// repository not found.
    async fn get_tag_manifest(
        &self,
        key: &ResolveKey,
        url: &Url,
    ) -> Result<(Vec<u8>, String, String, Manifest), ResolveError> {
        match self.get_manifest(&key.repository, url).await? {
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
        if !self.verify_digest {
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

    pub(super) async fn resolve(&self, key: &ResolveKey) -> Result<Resolved, ResolveError> {
        let url = self
            .session
            .http
            .manifest_url(&key.registry, &key.repository, &key.tag)?;
        if let Some(platform) = &key.platform {
            return self.resolve_platform(key, platform, &url).await;
        }
        let response = self.request(&key.repository, Method::HEAD, &url).await?;
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
                        let entry_url = self.session.http.manifest_url(
                            &key.registry,
                            &key.repository,
                            &entry.digest,
                        )?;
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
        let blob_url = self.session.http.url(
            registry,
            &format!("v2/{repository}/blobs/{}", config.digest),
        )?;
        let bytes = match self
            .session
            .get_body(repository, &blob_url, None, SMALL_MAX, "image config")
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

    pub(super) async fn exists(&self, key: &DigestKey) -> Result<bool, ResolveError> {
        let url = self
            .session
            .http
            .manifest_url(&key.registry, &key.repository, &key.digest)?;
        let response = self.request(&key.repository, Method::HEAD, &url).await?;
        match response.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            s => Err(status_error(s, &url)),
        }
    }

    /// What a pinned digest names: an index, one platform's manifest, or
    /// nothing any more.
    pub(super) async fn describe(&self, key: &DigestKey) -> Result<Described, ResolveError> {
        let url = self
            .session
            .http
            .manifest_url(&key.registry, &key.repository, &key.digest)?;
        let (body, manifest) = match self.get_manifest(&key.repository, &url).await? {
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

    #[test]
    fn digests_are_checked() {
        assert!(valid_digest(&sha256_digest(b"x")));
        assert!(!valid_digest("sha256:abc"));
        assert!(!valid_digest("md5:d41d8cd98f00b204e9800998ecf8427e"));
    }
}
