//! A repository's tags (`GET /v2/<name>/tags/list`, paged with `?n=` and the
//! `Link: <…>; rel="next"` header), read up to a bound, and which of them
//! name a digest (one HEAD each, through the resolver's batch).

use reqwest::header::{HeaderMap, LINK};
use serde::Deserialize;
use url::Url;

use super::ResolveError;
use super::http::{SMALL_MAX, status_error};
use super::manifest::Registry;
use crate::registry::redact_url;

/// Tags asked for per page.
const PAGE: usize = 100;

#[derive(Deserialize)]
struct TagList {
    tags: Option<Vec<String>>,
}

/// A repository's tags, and whether the list is whole (not cut at the bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tags {
    pub tags: Vec<String>,
    pub complete: bool,
}

impl Registry {
    /// The first `max` tags of `repository`, page by page.
    pub(super) async fn tags(
        &self,
        registry: &str,
        repository: &str,
        max: usize,
    ) -> Result<Tags, ResolveError> {
        let mut url = self
            .session
            .http
            .url(registry, &format!("v2/{repository}/tags/list?n={PAGE}"))?;
        let mut tags = Vec::new();
        loop {
            let answer = self
                .session
                .get_body(
                    repository,
                    &url,
                    Some("application/json"),
                    SMALL_MAX,
                    "tag list",
                )
                .await?;
            let (headers, body) = answer.map_err(|status| status_error(status, &url))?;
            let list: TagList =
                serde_json::from_slice(&body).map_err(|e| ResolveError::InvalidResponse {
                    url: redact_url(&url),
                    reason: format!("not a tag list: {e}"),
                })?;
            tags.extend(list.tags.unwrap_or_default());
            let next = next_page(&headers, &url);
            if tags.len() >= max {
                let complete = tags.len() == max && next.is_none();
                tags.truncate(max);
                return Ok(Tags { tags, complete });
            }
            match next {
                Some(next) => url = next,
                None => {
                    return Ok(Tags {
                        tags,
                        complete: true,
                    });
                }
            }
        }
    }
}

/// The next page a `Link: <url>; rel="next"` header names, on the same
/// origin (a link elsewhere is not followed).
fn next_page(headers: &HeaderMap, url: &Url) -> Option<Url> {
    let link = headers.get(LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        if !params.contains("rel=\"next\"") && !params.contains("rel=next") {
            return None;
        }
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let next = url.join(target).ok()?;
        (next.origin() == url.origin()).then_some(next)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_page_follows_a_relative_link_on_the_same_origin() {
        let url = Url::parse("http://127.0.0.1:5000/v2/a/tags/list?n=100").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            "</v2/a/tags/list?n=100&last=b>; rel=\"next\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_page(&headers, &url).unwrap().as_str(),
            "http://127.0.0.1:5000/v2/a/tags/list?n=100&last=b"
        );
        headers.insert(
            LINK,
            "<http://elsewhere/v2/a/tags/list>; rel=\"next\""
                .parse()
                .unwrap(),
        );
        assert_eq!(next_page(&headers, &url), None);
        assert_eq!(next_page(&HeaderMap::new(), &url), None);
    }
}
