//! `digestpin resolve --tags`: a repository holding several tags on two
//! digests (more than one page of `tags/list`), the requests counted
//! through a forwarding proxy.

use crate::support::cli::{online_at, text};
use crate::support::faults::{Action, Proxy};
use crate::support::{self, schema};

/// `tags/app`: 2.4.1, 2.4, 2 and latest on one digest; 2.3.0 and
/// build-001 … build-100 on another. The two digests.
fn seed() -> (String, String) {
    let r = support::plain();
    r.seed_single("tags/app", "2.4.1", "tags-new", "amd64");
    r.seed_single("tags/app", "2.3.0", "tags-old", "amd64");
    let (new, old) = (r.digest("tags/app", "2.4.1"), r.digest("tags/app", "2.3.0"));
    let image = format!("{}/tags/app", r.host());
    let mut retag = support::digestpin();
    retag.args([
        "retag",
        "--loopback-only",
        &format!("{image}@{new}"),
        "2.4",
        "2",
        "latest",
    ]);
    support::succeed(&mut retag);
    let builds: Vec<String> = (1..=100).map(|n| format!("build-{n:03}")).collect();
    let mut retag = support::digestpin();
    retag
        .args(["retag", "--loopback-only", &format!("{image}@{old}")])
        .args(&builds);
    support::succeed(&mut retag);
    (new, old)
}

/// A forwarding proxy that pages `tags/list` as distribution 3 does (the
/// test's 2.8 registry answers every tag at once): at most `n` tags after
/// `last`, with a `Link: <…>; rel="next"` while more remain.
fn paging_proxy() -> Proxy {
    Proxy::start(support::plain().port, |request, _| {
        let Some((path, query)) = request.path.split_once('?') else {
            return Action::Forward;
        };
        if !path.ends_with("/tags/list") {
            return Action::Forward;
        }
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let param = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let n: usize = param("n")
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX);
        let last = param("last");
        let path = path.to_string();
        Action::Edit(Box::new(move |answer| {
            if answer.status != 200 {
                return;
            }
            let mut body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
            let mut tags: Vec<String> = serde_json::from_value(body["tags"].clone()).unwrap();
            tags.sort();
            tags.retain(|t| last.as_ref().is_none_or(|l| t > l));
            let more = tags.len() > n;
            tags.truncate(n);
            if more {
                let next = format!("<{path}?last={}&n={n}>; rel=\"next\"", tags[n - 1]);
                answer.set_header("Link", Some(&next));
            }
            body["tags"] = serde_json::json!(tags);
            answer.body = body.to_string().into_bytes();
        }))
    })
}

fn counts(proxy: &Proxy) -> (usize, usize, usize) {
    let lines = proxy.lines();
    let heads = lines
        .iter()
        .filter(|l| l.starts_with("HEAD /v2/tags/app/manifests/"))
        .count();
    let pages = lines
        .iter()
        .filter(|l| l.starts_with("GET /v2/tags/app/tags/list?"))
        .count();
    (heads, pages, lines.len())
}

#[test]
fn resolve_tags_lists_the_other_tags_naming_the_digest() {
    let (new, old) = seed();
    let dir = tempfile::tempdir().unwrap();
    let proxy = paging_proxy();
    let out = online_at(
        dir.path(),
        &proxy.url(),
        &["resolve", "--tags", "registry.example/tags/app:latest"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("registry.example/tags/app:latest {new}: 2.4.1, 2.4, 2\n")
    );
    assert_eq!(text(&out.stderr), "");
    // One HEAD for latest, one per other tag (104), two pages of tags.
    assert_eq!(counts(&proxy), (105, 2, 107));

    let proxy = paging_proxy();
    let out = online_at(
        dir.path(),
        &proxy.url(),
        &[
            "resolve",
            "--tags",
            "--tags-matching",
            "2*",
            "registry.example/tags/app:2.3.0",
            "registry.example/tags/app:latest",
            &format!("registry.example/tags/app@{new}"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "registry.example/tags/app:2.3.0 {old}: no other tag\n\
             registry.example/tags/app:latest {new}: 2.4.1, 2.4, 2\n\
             registry.example/tags/app@{new} {new}: 2.4.1, 2.4, 2\n"
        )
    );
    // Only the four 2* tags are compared: 2 HEADs resolving the tags
    // given, 3 + 4 + 4 HEADs of the matching tags, two pages each time.
    assert_eq!(counts(&proxy), (13, 6, 19));

    let out = online_at(
        dir.path(),
        &proxy.url(),
        &[
            "resolve",
            "--format",
            "json",
            "--tags",
            &format!("registry.example/tags/app@{old}"),
            "registry.example/tags/missing:1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    schema::validate(&schema::json_schema(), &out.stdout);
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Versions first, most specific and newest first, then other tags.
    let mut tags = vec!["2.3.0".to_string()];
    tags.extend((1..=100).rev().map(|n| format!("build-{n:03}")));
    assert_eq!(
        document["records"],
        serde_json::json!([
            {
                "level": "note",
                "message": format!("registry.example/tags/app@{old} {old}: {}", tags.join(", ")),
                "reference": format!("registry.example/tags/app@{old}"),
                "digest": old,
                "rule": "resolved",
                "tags": tags,
            },
            {
                "level": "error",
                "message": format!("registry.example/tags/missing:1: repository not found ({}/v2/tags/missing/manifests/1)", proxy.url()),
                "reference": "registry.example/tags/missing:1",
                "rule": "resolve-failed",
            },
        ])
    );
    assert_eq!(
        document["summary"],
        serde_json::json!({"references": 2, "failed": 1})
    );
}

#[test]
fn resolve_tags_with_token_auth() {
    let r = support::token();
    r.seed_single("tags/private", "1.2.3", "tags-private", "amd64");
    r.seed_single("tags/private", "1.2", "tags-private", "amd64");
    r.seed_single("tags/private", "1.1", "tags-private-old", "amd64");
    let digest = r.digest("tags/private", "1.2.3");
    let config = support::config_with_auth(&r.host(), support::USER, support::PASSWORD);
    let reference = format!("{}/tags/private:1.2", r.host());
    let out = support::digestpin()
        .args(["resolve", "--loopback-only", "--tags", &reference])
        .env("DOCKER_CONFIG", config.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{reference} {digest}: 1.2.3\n"));
    // Without credentials: the registry's refusal, for that reference.
    let out = support::digestpin()
        .args(["resolve", "--loopback-only", "--tags", &reference])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {reference}: unauthorized: the token server refused an anonymous token ({}?service=digestpin-test-registry&scope=repository%3Atags%2Fprivate%3Apull)\n",
            r.token.as_ref().unwrap().realm()
        )
    );
}
