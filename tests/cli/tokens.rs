//! Token requests: the repositories of one run share a token request where
//! the token server grants several `scope`s at once, and fall back to one
//! request per repository where it grants only the first.

use crate::support;
use crate::support::Registry;
use crate::support::cli::text;

/// `digestpin resolve` of `repositories` (tag `v1`) on `registry`, with its
/// credentials; asserts that every digest is printed, in order. The token
/// requests of the run are those logged after the returned count.
fn resolve_all(registry: &Registry, repositories: &[&str]) -> usize {
    let config = support::config_with_auth(&registry.host(), support::USER, support::PASSWORD);
    let references: Vec<String> = repositories
        .iter()
        .map(|r| format!("{}/{r}:v1", registry.host()))
        .collect();
    // Read before the run, so that skopeo's token requests come first.
    let expected: String = references
        .iter()
        .zip(repositories)
        .map(|(reference, r)| format!("{reference} {}\n", registry.digest(r, "v1")))
        .collect();
    let logged = registry.token.as_ref().unwrap().scope_log().len();
    let out = support::digestpin()
        .args(["resolve", "--loopback-only"])
        .args(&references)
        .env("DOCKER_CONFIG", config.path())
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), expected, "{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
    logged
}

fn scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

/// The token requests naming any of `repositories`, each request's scopes
/// sorted.
fn requests_for(log: &[Vec<String>], repositories: &[&str]) -> Vec<Vec<String>> {
    let scopes: Vec<String> = repositories.iter().map(|r| scope(r)).collect();
    log.iter()
        .filter(|request| request.iter().any(|s| scopes.contains(s)))
        .cloned()
        .map(|mut request| {
            request.sort();
            request
        })
        .collect()
}

#[test]
fn three_repositories_share_one_token_request() {
    let r = support::token();
    let repos = ["tokens/batch-a", "tokens/batch-b", "tokens/batch-c"];
    for repo in repos {
        r.seed_single(repo, "v1", repo, "amd64");
    }
    let logged = resolve_all(r, &repos);
    let token = r.token.as_ref().unwrap();
    assert_eq!(
        requests_for(&token.scope_log()[logged..], &repos),
        [repos.map(scope).to_vec()],
        "one token request for the three repositories"
    );
}

#[test]
fn a_token_server_granting_one_scope_gets_one_request_per_other_repository() {
    let r = Registry::start(support::Auth::Token);
    let repos = ["single/a", "single/b", "single/c"];
    for repo in repos {
        r.seed_single(repo, "v1", repo, "amd64");
    }
    r.token.as_ref().unwrap().grant_first_scope_only();
    let logged = resolve_all(&r, &repos);
    let log = r.token.as_ref().unwrap().scope_log()[logged..].to_vec();
    // The shared request names all three and is granted the first; each of
    // the two others then asks alone.
    assert_eq!(log.len(), 3, "{log:?}");
    let granted = log[0][0].clone();
    let mut shared = log[0].clone();
    shared.sort();
    assert_eq!(shared, repos.map(scope).to_vec(), "{log:?}");
    let mut alone = log[1..].to_vec();
    alone.sort();
    let others: Vec<Vec<String>> = repos
        .map(scope)
        .into_iter()
        .filter(|s| *s != granted)
        .map(|s| vec![s])
        .collect();
    assert_eq!(alone, others, "{log:?}");
}
