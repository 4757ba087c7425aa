//! `digestpin retag`: promotion at the registry, on the real test
//! registries with each auth mode, a multi-platform index, users without
//! push rights, and `--dry-run`.

use std::process::{Command, Output};

use crate::support::token::{READER, READER_PASSWORD};
use crate::support::{self, Auth, PASSWORD, Registry, USER};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// `digestpin retag args…` with Docker credentials for `user` (if any).
fn retag(r: &Registry, user: Option<(&str, &str)>, args: &[&str]) -> Output {
    let config = user.map(|(u, p)| support::config_with_auth(&r.host(), u, p));
    let mut command = support::digestpin();
    command.args(["retag", "--loopback-only"]).args(args);
    if let Some(config) = &config {
        command.env("DOCKER_CONFIG", config.path().as_os_str());
    }
    command.output().unwrap()
}

/// The digest `repository:tag` names, `None` when the tag does not exist.
fn tag_digest(r: &Registry, repository: &str, tag: &str) -> Option<String> {
    let mut command = Command::new("skopeo");
    command.args([
        "--insecure-policy",
        "inspect",
        "--raw",
        "--tls-verify=false",
    ]);
    if r.auth != Auth::None {
        command.arg(format!("--creds={USER}:{PASSWORD}"));
    }
    let out = command
        .arg(format!("docker://{}/{repository}:{tag}", r.host()))
        .output()
        .unwrap();
    if !out.status.success() {
        assert!(
            text(&out.stderr).contains("manifest unknown"),
            "{}",
            text(&out.stderr)
        );
        return None;
    }
    use sha2::Digest as _;
    let sum: String = sha2::Sha256::digest(&out.stdout)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(format!("sha256:{sum}"))
}

fn user_of(r: &Registry) -> Option<(&'static str, &'static str)> {
    (r.auth != Auth::None).then_some((USER, PASSWORD))
}

#[test]
fn retag_moves_channel_tags_with_each_auth_mode() {
    for (r, name) in [
        (support::plain(), "plain"),
        (support::basic(), "basic"),
        (support::token(), "token"),
    ] {
        let repo = format!("retag/{name}");
        r.seed_single(&repo, "1.0", &format!("{name}-old"), "amd64");
        r.seed_single(&repo, "prod", &format!("{name}-old"), "amd64");
        r.seed_single(&repo, "1.1", &format!("{name}-new"), "amd64");
        let old = r.digest(&repo, "1.0");
        let new = r.digest(&repo, "1.1");
        let image = format!("{}/{repo}", r.host());
        let target = format!("{image}@{new}");

        let out = retag(
            r,
            user_of(r),
            &["--dry-run", &target, "prod", "staging", "1.1"],
        );
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            format!(
                "would move {image}:prod from {old} to {new}\n\
                 would move {image}:staging (new tag) to {new}\n\
                 {image}:1.1 already names {new}\n"
            ),
            "{name}"
        );
        assert_eq!(
            text(&out.stderr),
            format!("would move 2 tags of 3\nundo: digestpin retag {image}@{old} prod\n"),
            "{name}"
        );
        assert_eq!(tag_digest(r, &repo, "prod"), Some(old.clone()), "{name}");
        assert_eq!(tag_digest(r, &repo, "staging"), None, "{name}");

        let tokens = r.token.as_ref().map(|t| t.requests_for(&repo));
        let out = retag(r, user_of(r), &[&target, "prod", "staging", "1.1"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        // One pull token (the GET and HEADs), one pull,push token (the PUTs).
        if let (Some(token), Some(before)) = (&r.token, tokens) {
            assert_eq!(token.requests_for(&repo) - before, 2);
        }
        assert_eq!(
            text(&out.stdout),
            format!(
                "moved {image}:prod from {old} to {new}\n\
                 moved {image}:staging (new tag) to {new}\n\
                 {image}:1.1 already names {new}\n"
            ),
            "{name}"
        );
        assert_eq!(
            text(&out.stderr),
            format!("moved 2 tags of 3\nundo: digestpin retag {image}@{old} prod\n"),
            "{name}"
        );
        for tag in ["prod", "staging", "1.1"] {
            assert_eq!(tag_digest(r, &repo, tag), Some(new.clone()), "{name} {tag}");
        }
        assert_eq!(
            r.raw_manifest(&repo, "prod"),
            r.raw_manifest(&repo, "1.1"),
            "{name}: the same bytes"
        );

        // Undone with the line printed.
        let undo = format!("{image}@{old}");
        let out = retag(r, user_of(r), &[&undo, "prod"]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            format!("moved {image}:prod from {new} to {old}\n")
        );
        assert_eq!(tag_digest(r, &repo, "prod"), Some(old.clone()), "{name}");
    }
}

#[test]
fn retag_puts_a_multi_platform_index_byte_for_byte() {
    let r = support::token();
    r.seed_index("retag/multi", "2.0", "retag-multi");
    let index = r.digest("retag/multi", "2.0");
    let target = format!("{}/retag/multi@{index}", r.host());
    let out = retag(r, user_of(r), &["--format", "json", &target, "stable"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    support::schema::validate(&support::schema::json_schema(), &out.stdout);
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        document,
        serde_json::json!({
            "changed_files": [],
            "command": "retag",
            "diff": null,
            "exit_code": 0,
            "mode": "write",
            "records": [{
                "level": "note",
                "message": format!("moved {}/retag/multi:stable (new tag) to {index}", r.host()),
                "reference": format!("{}/retag/multi:stable", r.host()),
                "rule": "retagged",
                "tag": "stable",
                "to": index,
            }],
            "summary": {"moved": 1, "tags": 1},
            "version": 1,
        })
    );
    assert_eq!(
        r.raw_manifest("retag/multi", "stable"),
        r.raw_manifest("retag/multi", "2.0")
    );
    assert_eq!(
        r.platform_digest("retag/multi", "stable", "linux/arm64"),
        r.platform_digest("retag/multi", "2.0", "linux/arm64")
    );
}

#[test]
fn a_token_user_without_push_rights_changes_nothing() {
    let r = support::token();
    r.seed_single("retag/locked", "1.0", "locked-old", "amd64");
    r.seed_single("retag/locked", "prod", "locked-old", "amd64");
    r.seed_single("retag/locked", "1.1", "locked-new", "amd64");
    let old = r.digest("retag/locked", "1.0");
    let new = r.digest("retag/locked", "1.1");
    let image = format!("{}/retag/locked", r.host());
    let target = format!("{image}@{new}");
    let out = retag(
        r,
        Some((READER, READER_PASSWORD)),
        &[&target, "prod", "staging"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {target}: no push rights to repository {image}: the registry refused to put \
             tag prod with a Bearer token from {realm} as user {READER}, scope \
             repository:retag/locked:pull,push (credentials refused); nothing was changed\n",
            realm = r.token.as_ref().unwrap().realm()
        )
    );
    assert_eq!(tag_digest(r, "retag/locked", "prod"), Some(old));
    assert_eq!(tag_digest(r, "retag/locked", "staging"), None);
}

#[test]
fn a_read_only_htpasswd_registry_changes_nothing() {
    let r = Registry::start(Auth::Basic);
    r.seed_single("retag/ro", "1.0", "ro-old", "amd64");
    r.seed_single("retag/ro", "prod", "ro-old", "amd64");
    r.seed_single("retag/ro", "1.1", "ro-new", "amd64");
    let old = r.digest("retag/ro", "1.0");
    let new = r.digest("retag/ro", "1.1");
    r.make_read_only();
    let image = format!("{}/retag/ro", r.host());
    let target = format!("{image}@{new}");
    let out = retag(&r, user_of(&r), &[&target, "prod"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {target}: no push rights to repository {image}: the registry refused to put \
             tag prod with Basic auth as user {USER} (HTTP 405); nothing was changed\n"
        )
    );
    assert_eq!(tag_digest(&r, "retag/ro", "prod"), Some(old));
}

#[test]
fn retag_refuses_an_image_without_a_digest_and_unknown_digests() {
    let r = support::plain();
    r.seed_single("retag/plainmissing", "1.0", "pm", "amd64");
    let image = format!("{}/retag/plainmissing", r.host());
    let out = retag(r, None, &[&format!("{image}:1.0"), "prod"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "digestpin: error: `{image}:1.0` names no digest: retag moves tags to a digest, e.g. {image}@sha256:…\n"
        )
    );
    let missing = format!("sha256:{}", "0".repeat(64));
    let out = retag(r, None, &[&format!("{image}@{missing}"), "prod"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {image}@{missing}: {image} has no manifest {missing} (http://{host}/v2/retag/plainmissing/manifests/{missing})\n",
            host = r.host()
        )
    );
    assert_eq!(tag_digest(r, "retag/plainmissing", "prod"), None);
}
