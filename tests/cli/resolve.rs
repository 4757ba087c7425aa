//! `digestpin resolve` against real registries on 127.0.0.1: no auth, Basic
//! auth, token auth; indexes and platforms; mirrors; failures; retries.

use crate::support;
use crate::support::cli::filters;

use std::process::Output;

use support::{PASSWORD, USER};

fn resolve(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    let mut command = support::digestpin();
    command.args(["resolve", "--loopback-only"]).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn tag_resolves_to_the_registry_digest() {
    let r = support::plain();
    r.seed_single("team/single", "v1", "single", "amd64");
    let digest = r.digest("team/single", "v1");
    let reference = format!("{}/team/single:v1", r.host());
    let out = resolve(&[&reference], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{reference} {digest}\n"));
}

#[test]
fn index_by_default_and_platform_manifest_on_request() {
    let r = support::plain();
    r.seed_index("team/multi", "v2", "multi");
    let index = r.digest("team/multi", "v2");
    let arm64 = r.platform_digest("team/multi", "v2", "linux/arm64");
    let amd64 = r.platform_digest("team/multi", "v2", "linux/amd64");
    assert_ne!(index, arm64);
    let reference = format!("{}/team/multi:v2", r.host());

    let out = resolve(&[&reference], &[]);
    assert_eq!(
        stdout(&out),
        format!("{reference} {index}\n"),
        "{}",
        stderr(&out)
    );
    let out = resolve(&["--platform", "linux/arm64", &reference], &[]);
    assert_eq!(
        stdout(&out),
        format!("{reference} {arm64}\n"),
        "{}",
        stderr(&out)
    );
    let out = resolve(&["--platform", "linux/amd64", &reference], &[]);
    assert_eq!(
        stdout(&out),
        format!("{reference} {amd64}\n"),
        "{}",
        stderr(&out)
    );

    let out = resolve(&["--platform", "linux/s390x", &reference], &[]);
    assert_eq!(out.status.code(), Some(2));
    let _filters = filters(&[], &[]).bind_to_scope();
    insta::assert_snapshot!(stderr(&out));
}

#[test]
fn single_platform_image_checks_the_platform_asked_for() {
    let r = support::plain();
    r.seed_single("team/amd-only", "v1", "amd-only", "amd64");
    let reference = format!("{}/team/amd-only:v1", r.host());
    let out = resolve(&["--platform", "linux/amd64", &reference], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = resolve(&["--platform", "linux/arm64", &reference], &[]);
    assert_eq!(out.status.code(), Some(2));
    let _filters = filters(&[], &[]).bind_to_scope();
    insta::assert_snapshot!(stderr(&out));
}

#[test]
fn missing_tag_and_missing_repository_say_which() {
    let r = support::plain();
    r.seed_single("team/present", "v1", "present", "amd64");
    let missing_tag = format!("{}/team/present:nope", r.host());
    let missing_repo = format!("{}/team/absent:v1", r.host());
    let found = format!("{}/team/present:v1", r.host());
    let out = resolve(&[&missing_tag, &missing_repo, &found], &[]);
    assert_eq!(out.status.code(), Some(2));
    let _filters = filters(&[], &[]).bind_to_scope();
    insta::assert_snapshot!(stderr(&out));
    // One failure does not stop the others.
    assert!(
        stdout(&out).starts_with(&format!("{found} sha256:")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn basic_auth_with_credentials_from_config_json() {
    let r = support::basic();
    r.seed_single("private/app", "v1", "basic", "amd64");
    let digest = r.digest("private/app", "v1");
    let reference = format!("{}/private/app:v1", r.host());

    let config = support::config_with_auth(&r.host(), USER, PASSWORD);
    let out = resolve(
        &[&reference],
        &[("DOCKER_CONFIG", config.path().as_os_str())],
    );
    assert_eq!(
        stdout(&out),
        format!("{reference} {digest}\n"),
        "{}",
        stderr(&out)
    );

    let wrong = support::config_with_auth(&r.host(), USER, "wrong");
    let out = resolve(
        &[&reference],
        &[("DOCKER_CONFIG", wrong.path().as_os_str())],
    );
    assert_eq!(out.status.code(), Some(2));
    let _filters = filters(&[], &[]).bind_to_scope();
    insta::assert_snapshot!(stderr(&out));

    let out = resolve(&[&reference], &[]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&out));
}

#[test]
fn token_auth_with_config_json_fetches_one_token_per_repository() {
    let r = support::token();
    for tag in ["a", "b", "c"] {
        r.seed_single("tokened/app", tag, &format!("token-{tag}"), "amd64");
    }
    let digests: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|t| r.digest("tokened/app", t))
        .collect();
    let token = r.token.as_ref().unwrap();
    let before = token.requests_for("tokened/app");
    let references: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|t| format!("{}/tokened/app:{t}", r.host()))
        .collect();
    let args: Vec<&str> = references.iter().map(String::as_str).collect();
    let config = support::config_with_auth(&r.host(), USER, PASSWORD);
    let out = resolve(&args, &[("DOCKER_CONFIG", config.path().as_os_str())]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let _filters = filters(
        &[],
        &[(&digests[0], "A"), (&digests[1], "B"), (&digests[2], "C")],
    )
    .bind_to_scope();
    insta::assert_snapshot!(stdout(&out));
    assert_eq!(
        token.requests_for("tokened/app") - before,
        1,
        "one token for three tags"
    );

    let wrong = support::config_with_auth(&r.host(), USER, "wrong");
    let out = resolve(&args[..1], &[("DOCKER_CONFIG", wrong.path().as_os_str())]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&out));
}

#[test]
fn token_auth_with_a_credential_helper() {
    let r = support::token();
    r.seed_index("helped/app", "v1", "helper");
    let digest = r.digest("helped/app", "v1");
    let helper = support::credential_helper("digestpin-test", &r.host(), USER, PASSWORD);
    let reference = format!("{}/helped/app:v1", r.host());
    // The helper for this registry, then the same helper as the default store.
    for config in [
        serde_json::json!({"credHelpers": {r.host(): "digestpin-test"}}),
        serde_json::json!({"credsStore": "digestpin-test"}),
    ] {
        let config = support::docker_config(&config);
        let out = resolve(
            &[&reference],
            &[
                ("DOCKER_CONFIG", config.path().as_os_str()),
                ("PATH", &support::path_with(helper.path())),
            ],
        );
        assert_eq!(
            stdout(&out),
            format!("{reference} {digest}\n"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn mirrors_keep_the_name_and_map_the_registry() {
    let r = support::plain();
    r.seed_index("library/nginx", "1.25", "library/nginx:1.25");
    r.seed_single("team/app", "v1", "mirror-app", "amd64");
    let nginx = r.digest("library/nginx", "1.25");
    let app = r.digest("team/app", "v1");

    let mirror = format!("docker.io={}", r.url());
    let out = resolve(
        &[
            "--mirror",
            &mirror,
            "nginx:1.25",
            "docker.io/library/nginx:1.25",
        ],
        &[],
    );
    assert_eq!(
        stdout(&out),
        format!("nginx:1.25 {nginx}\ndocker.io/library/nginx:1.25 {nginx}\n"),
        "{}",
        stderr(&out)
    );

    // Without a mapping for its registry, a private address is refused, never contacted.
    let out = resolve(&["--mirror", &mirror, "10.42.0.1:30000/team/app:v1"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let _filters = filters(&[], &[]).bind_to_scope();
    insta::assert_snapshot!(stderr(&out));

    let catch_all = format!("*={}", r.url());
    let out = resolve(
        &[
            "--mirror",
            &catch_all,
            "10.42.0.1:30000/team/app:v1",
            "nginx:1.25",
        ],
        &[],
    );
    assert_eq!(
        stdout(&out),
        format!("10.42.0.1:30000/team/app:v1 {app}\nnginx:1.25 {nginx}\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn retries_until_a_restarted_registry_answers() {
    let r = support::Registry::start(support::Auth::None);
    r.seed_single("team/restart", "v1", "restart", "amd64");
    let digest = r.digest("team/restart", "v1");
    let reference = format!("{}/team/restart:v1", r.host());
    r.stop();
    let child = support::digestpin()
        // A wide retry window (about 15 s) for a loaded machine.
        .args(["resolve", "--loopback-only", "--retries", "8", &reference])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    r.restart();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        stdout(&out),
        format!("{reference} {digest}\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn invalid_references_are_reported_precisely() {
    let out = resolve(
        &[
            "Nginx:1",
            "nginx:-bad",
            "nginx@md5:ffffffffffffffffffffffffffffffff",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let _filters = filters(&[], &[]).bind_to_scope();
    insta::assert_snapshot!(stderr(&out));
}

#[test]
fn ca_file_trusts_a_private_registry_certificate() {
    let r = support::Registry::start_tls();
    r.seed_single("team/tls", "v1", "tls", "amd64");
    let digest = r.digest("team/tls", "v1");
    let mirror = format!("*={}", r.url());
    let reference = "registry.example.com/team/tls:v1";
    let out = resolve(&["--mirror", &mirror, reference], &[]);
    assert_eq!(out.status.code(), Some(2));
    let _filters = filters(&[], &[]).bind_to_scope();
    insta::assert_snapshot!(stderr(&out));
    let ca = r.ca.clone().unwrap();
    let out = resolve(
        &[
            "--mirror",
            &mirror,
            "--ca-file",
            ca.to_str().unwrap(),
            reference,
        ],
        &[],
    );
    assert_eq!(
        stdout(&out),
        format!("{reference} {digest}\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_broken_credential_store_does_not_break_public_images() {
    let r = support::token();
    r.seed_single("public/tool", "v1", "public-tool", "amd64");
    r.seed_single("private/tool", "v1", "private-tool", "amd64");
    let digest = r.digest("public/tool", "v1");
    let config = support::docker_config(&serde_json::json!({"credsStore": "digestpin-absent"}));
    let public = format!("{}/public/tool:v1", r.host());
    let private = format!("{}/private/tool:v1", r.host());
    let out = resolve(
        &[&public, &private],
        &[("DOCKER_CONFIG", config.path().as_os_str())],
    );
    assert_eq!(
        stdout(&out),
        format!("{public} {digest}\n"),
        "{}",
        stderr(&out)
    );
    let _filters = filters(&[], &[]).bind_to_scope();
    insta::assert_snapshot!(stderr(&out));
}

#[test]
fn identity_tokens_are_exchanged_at_the_token_realm() {
    let r = support::token();
    r.seed_single("private/acr", "v1", "identity", "amd64");
    let digest = r.digest("private/acr", "v1");
    let reference = format!("{}/private/acr:v1", r.host());
    let config = |token: &str| {
        // As `az acr login` writes it: a placeholder user and the refresh token.
        support::docker_config(&serde_json::json!({"auths": {r.host(): {
            "auth": "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==",
            "identitytoken": token,
        }}}))
    };
    let good = config(support::token::IDENTITY_TOKEN);
    let out = resolve(&[&reference], &[("DOCKER_CONFIG", good.path().as_os_str())]);
    assert_eq!(
        stdout(&out),
        format!("{reference} {digest}\n"),
        "{}",
        stderr(&out)
    );
    let bad = config("expired");
    let out = resolve(&[&reference], &[("DOCKER_CONFIG", bad.path().as_os_str())]);
    assert_eq!(out.status.code(), Some(2));
    let _filters = filters(&[], &[]).bind_to_scope();
    insta::assert_snapshot!(stderr(&out));
}
