//! The tags of a repository that name one digest (`resolve --tags`).
//!
//! [`Registry::list_tags`] reads `/v2/<repo>/tags/list` in pages of
//! [`PAGE`], following each answer's `Link: <…>; rel="next"` (at most
//! [`MAX_PAGES`] pages, and never the same page twice);
//! [`Registry::same_tags`] HEADs the tags a filter keeps, concurrently
//! (the endpoint's limit, `--jobs`, bounds how many at a time), and keeps
//! those whose `Docker-Content-Digest` is the digest asked about.

use std::collections::BTreeSet;

use reqwest::header::LINK;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use url::Url;

use super::credentials::json_problem;
use super::http::status_error;
use super::manifest::{MANIFEST_ACCEPT, Registry};
use super::{ResolveError, redact_url};

/// Tags asked for per page of `tags/list`.
pub(super) const PAGE: usize = 100;
/// The most pages read: 100,000 tags.
pub(super) const MAX_PAGES: usize = 1000;
/// The largest page read.
const PAGE_MAX: usize = 4 << 20;

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// The tags of a repository that name a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SameTags {
    /// Tags naming the digest, most specific version first
    /// (`2.4.1, 2.4, 2`).
    pub tags: Vec<String>,
    /// How many tags were compared (after the filter).
    pub compared: usize,
    /// Whether every tag of the repository was listed (not cut at the
    /// bound asked for).
    pub complete: bool,
}

/// The `rel="next"` target of a `Link` header.
fn next_link(value: &str) -> Option<&str> {
    value.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"))
            .then_some(target)
    })
}

/// Natural order, numbers by value (`2.10` after `2.9`), reversed: the
/// most specific and newest version first, tags starting with a letter
/// after those starting with a number.
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(u8, u64, String)> {
        let mut out = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                let n = rest[..digits].parse().unwrap_or(u64::MAX);
                out.push((1, n, String::new()));
                rest = &rest[digits..];
            } else {
                let text =
                    rest.len() - rest.trim_start_matches(|c: char| !c.is_ascii_digit()).len();
                out.push((0, 0, rest[..text].to_string()));
                rest = &rest[text..];
            }
        }
        out
    }
    parts(b).cmp(&parts(a)).then_with(|| b.cmp(a))
}

impl Registry {
    /// The tags of the repository, page by page, at most `max`; with
    /// whether that was all of them.
    pub(super) async fn list_tags(
        &self,
        registry: &str,
        repository: &str,
        max: usize,
    ) -> Result<(Vec<String>, bool), ResolveError> {
        let http = &self.session.http;
        let mut url = http.url(registry, &format!("v2/{repository}/tags/list?n={PAGE}"))?;
        let mut seen = BTreeSet::new();
        let mut tags = Vec::new();
        let mut complete = false;
        for _ in 0..MAX_PAGES {
            if !seen.insert(url.to_string()) {
                break;
            }
            let answer = self
                .session
                .get_body(
                    repository,
                    &url,
                    Some("application/json"),
                    PAGE_MAX,
                    "tag list",
                )
                .await?;
            let (headers, body) = match answer {
                Ok(answer) => answer,
                Err(StatusCode::NOT_FOUND) => {
                    return Err(ResolveError::RepositoryNotFound {
                        url: redact_url(&url),
                    });
                }
                Err(status) => return Err(status_error(status, &url)),
            };
            let page: TagList =
                serde_json::from_slice(&body).map_err(|e| ResolveError::InvalidResponse {
                    url: redact_url(&url),
                    reason: format!("the tag list {}", json_problem(&e)),
                })?;
            tags.extend(page.tags.unwrap_or_default());
            let next = headers
                .get(LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .map(|target| url.join(target));
            if tags.len() >= max {
                complete = tags.len() == max && next.is_none();
                tags.truncate(max);
                break;
            }
            match next {
                // A link to another origin is not followed: the tag list
                // stays with the registry asked.
                Some(Ok(next)) if next.origin() == url.origin() => url = next,
                Some(Ok(_)) => {
                    complete = true;
                    break;
                }
                Some(Err(e)) => {
                    return Err(ResolveError::InvalidResponse {
                        url: redact_url(&url),
                        reason: format!("bad Link header: {e}"),
                    });
                }
                None => {
                    complete = true;
                    break;
                }
            }
        }
        tags.sort();
        tags.dedup();
        Ok((tags, complete))
    }

    /// The tags of `repository` other than `except` that `keep` keeps and
    /// that name `digest`.
    pub(super) async fn same_tags(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
        except: Option<&str>,
        keep: &dyn Fn(&str) -> bool,
        max: usize,
    ) -> Result<SameTags, ResolveError> {
        let (listed, complete) = self.list_tags(registry, repository, max).await?;
        let tags: Vec<String> = listed
            .into_iter()
            .filter(|t| Some(t.as_str()) != except && keep(t))
            .collect();
        let heads = tags
            .iter()
            .map(|tag| self.tag_digest(registry, repository, tag));
        let digests = futures_util::future::join_all(heads).await;
        let mut same = Vec::new();
        for (tag, found) in tags.iter().zip(digests) {
            if found?.as_deref() == Some(digest) {
                same.push(tag.clone());
            }
        }
        same.sort_by(|a, b| version_order(a, b));
        Ok(SameTags {
            tags: same,
            compared: tags.len(),
            complete,
        })
    }

    /// The digest a tag names (a HEAD), `None` if it is gone meanwhile.
    async fn tag_digest(
        &self,
        registry: &str,
        repository: &str,
        tag: &str,
    ) -> Result<Option<String>, ResolveError> {
        let url: Url = self.session.http.manifest_url(registry, repository, tag)?;
        let response = self
            .session
            .request(repository, Method::HEAD, &url, Some(MANIFEST_ACCEPT))
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(response
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)),
            s => Err(status_error(s, &url)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_order() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?last=x&n=100>; rel="next""#),
            Some("/v2/a/tags/list?last=x&n=100")
        );
        assert_eq!(next_link(r#"<https://h/x>; rel="prev""#), None);
        let mut tags = vec!["2", "2.4", "2.4.1", "2.10", "2.9.0", "stable"];
        tags.sort_by(|a, b| version_order(a, b));
        assert_eq!(tags, ["2.10", "2.9.0", "2.4.1", "2.4", "2", "stable"]);
    }
}
