//! Promotion at the registry: a manifest or index read by digest and put,
//! byte for byte and with its media type, under other tags of the same
//! repository, so no layer moves and the digest stays the same.
//!
//! [`Registry::retag`] reads the manifest by digest (checking its sha256),
//! asks each tag's current digest (a HEAD; "new tag" on 404) so the move can
//! be undone, and then PUTs the bytes under each tag that names something
//! else, with a token for `pull,push`, checking the registry's
//! `Docker-Content-Digest` against the digest. The first refused PUT stops
//! the run: push rights are per repository, so nothing has moved then.

use reqwest::{Method, StatusCode};

use super::auth::PUSH;
use super::http::status_error;
use super::manifest::{Registry, digest_like};
use super::{DigestKey, ResolveError, redact_url};

/// One tag of a retag: what it named before (`None`: a new tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagMove {
    pub tag: String,
    pub old: Option<String>,
}

impl TagMove {
    /// Whether the tag names another digest (or none) before the move.
    pub fn moves(&self, digest: &str) -> bool {
        self.old.as_deref() != Some(digest)
    }
}

/// Why a retag failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetagError {
    #[error("{repository} has no manifest {digest} ({url})")]
    NotFound {
        repository: String,
        digest: String,
        url: String,
    },
    #[error(
        "no push rights to repository {repository}: the registry refused to put tag {tag} with {auth} ({reason}); {}",
        if moved.is_empty() { "nothing was changed".to_string() } else { format!("already moved: {}", moved.join(", ")) }
    )]
    NoPush {
        repository: String,
        tag: String,
        auth: String,
        reason: String,
        moved: Vec<String>,
    },
    #[error("the registry stored tag {tag} as {actual}, not {expected} ({url})")]
    DigestChanged {
        tag: String,
        expected: String,
        actual: String,
        url: String,
    },
    #[error("{0}")]
    Resolve(#[from] ResolveError),
}

impl Registry {
    /// Puts the manifest `key` names under each of `tags` (with `dry_run`,
    /// only reads): each tag with the digest it named before.
    pub(super) async fn retag(
        &self,
        key: &DigestKey,
        tags: &[String],
        dry_run: bool,
    ) -> Result<Vec<TagMove>, RetagError> {
        let http = &self.session.http;
        let url = http.manifest_url(&key.registry, &key.repository, &key.digest)?;
        let (body, media_type) = match self.get_manifest(&key.repository, &url).await? {
            Ok((body, _, media_type, _)) => (body, media_type),
            Err(StatusCode::NOT_FOUND) => {
                return Err(RetagError::NotFound {
                    repository: format!("{}/{}", key.registry, key.repository),
                    digest: key.digest.clone(),
                    url: redact_url(&url),
                });
            }
            Err(status) => return Err(status_error(status, &url).into()),
        };
        let actual = digest_like(&key.digest, &body);
        if actual != key.digest {
            return Err(ResolveError::DigestMismatch {
                url: redact_url(&url),
                header: key.digest.clone(),
                actual,
            }
            .into());
        }
        let olds = futures_util::future::join_all(tags.iter().map(|tag| self.current(key, tag)));
        let mut moves = Vec::new();
        for (tag, old) in tags.iter().zip(olds.await) {
            moves.push(TagMove {
                tag: tag.clone(),
                old: old?,
            });
        }
        if dry_run {
            return Ok(moves);
        }
        let mut moved = Vec::new();
        for step in moves.iter().filter(|m| m.moves(&key.digest)) {
            self.put(key, &step.tag, &media_type, &body, &moved).await?;
            moved.push(step.tag.clone());
        }
        Ok(moves)
    }

    /// The digest `tag` names now, `None` when the tag does not exist.
    async fn current(&self, key: &DigestKey, tag: &str) -> Result<Option<String>, ResolveError> {
        let url = self
            .session
            .http
            .manifest_url(&key.registry, &key.repository, tag)?;
        let response = self
            .session
            .request(
                &key.repository,
                Method::HEAD,
                &url,
                Some(super::manifest::MANIFEST_ACCEPT),
            )
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => return Ok(None),
            s if s.is_success() => {}
            s => return Err(status_error(s, &url)),
        }
        let header = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match header {
            Some(digest) if crate::reference::validate_digest(&digest).is_ok() => Ok(Some(digest)),
            _ => match self.get_manifest(&key.repository, &url).await? {
                Ok((_, digest, _, _)) => Ok(Some(digest)),
                Err(StatusCode::NOT_FOUND) => Ok(None),
                Err(status) => Err(status_error(status, &url)),
            },
        }
    }

    /// PUTs `body` under `tag` and checks the digest the registry stored.
    async fn put(
        &self,
        key: &DigestKey,
        tag: &str,
        media_type: &str,
        body: &[u8],
        moved: &[String],
    ) -> Result<(), RetagError> {
        let url = self
            .session
            .http
            .manifest_url(&key.registry, &key.repository, tag)?;
        let refused = |auth: String, reason: String| RetagError::NoPush {
            repository: format!("{}/{}", key.registry, key.repository),
            tag: tag.to_string(),
            auth,
            reason,
            moved: moved.to_vec(),
        };
        let answer = self
            .session
            .request_as(
                &key.repository,
                PUSH,
                Method::PUT,
                &url,
                None,
                Some((media_type, body)),
            )
            .await;
        let response = match answer {
            Ok(response) => response,
            Err(ResolveError::Unauthorized { reason, .. }) => {
                let auth = self.session.auth_used(&url, &key.repository, PUSH).await;
                return Err(refused(auth, reason));
            }
            Err(error) => return Err(error.into()),
        };
        let status = response.status();
        if matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::METHOD_NOT_ALLOWED
        ) {
            let auth = self.session.auth_used(&url, &key.repository, PUSH).await;
            let reason = format!("HTTP {}", status.as_u16());
            return Err(refused(auth, reason));
        }
        if !status.is_success() {
            return Err(status_error(status, &url).into());
        }
        let stored = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if stored != key.digest {
            return Err(RetagError::DigestChanged {
                tag: tag.to_string(),
                expected: key.digest.clone(),
                actual: if stored.is_empty() {
                    "no Docker-Content-Digest".into()
                } else {
                    stored
                },
                url: redact_url(&url),
            });
        }
        Ok(())
    }
}
