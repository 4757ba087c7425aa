//! Credentials between `digestpin` and a registry behind the fault proxy of
//! `tests/support/faults.rs`: credential helpers that hang or fail, a
//! mirror that gets only its own host's credentials, and secrets (helper
//! output, config values, mirror passwords) that are never printed in any
//! format.

use crate::support;
use crate::support::cli::pod;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::faults::{run, run_in, seed};
use support::faults::{Action, Answer, Proxy};

/// A directory with `docker-credential-<name>` running `body`.
fn helper(name: &str, body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("docker-credential-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// A proxy demanding HTTP Basic auth, logging what it was sent.
fn basic_proxy() -> Proxy {
    Proxy::start(support::plain().port, |request, _| {
        if request.header("Authorization").is_some() {
            Action::Respond(Answer::new(403, &[], ""))
        } else {
            Action::Respond(Answer::new(
                401,
                &[("WWW-Authenticate", "Basic realm=\"faults\"")],
                "",
            ))
        }
    })
}

#[test]
fn a_hanging_credential_helper_fails_its_registry_only() {
    let digest = seed("faults/helper");
    let proxy = basic_proxy();
    let helpers = helper("hang", "exec sleep 60");
    let config = support::docker_config(&serde_json::json!({
        "credHelpers": {proxy.host(): "hang"}
    }));
    let locked = format!("{}/faults/helper:v1", proxy.host());
    let open = format!("{}/faults/helper:v1", support::plain().host());
    let out = run(
        &[
            "resolve",
            "--loopback-only",
            "--timeout",
            "1",
            &locked,
            &open,
        ],
        &[
            ("PATH", &support::path_with(helpers.path())),
            ("DOCKER_CONFIG", config.path().as_os_str()),
        ],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            format!("{open} {digest}\n").as_str(),
            format!(
                "{locked} error: credential helper docker-credential-hang failed: no answer within 1 s, stopped it (asked for registry {})\n",
                proxy.host()
            )
            .as_str()
        )
    );
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
}

const SECRET: &str = "SUPERSECRET-f4ults";

#[test]
fn credential_helper_output_and_config_values_are_never_printed() {
    seed("faults/leak");
    let proxy = basic_proxy();
    let reference = format!("{}/faults/leak:v1", proxy.host());
    let cases = [
        (
            format!("echo 'token {SECRET} expired' >&2; echo '{SECRET}'; exit 3"),
            "exited with status 3",
        ),
        (
            format!("printf '{{\"Username\":\"u\",\"Secret\":{SECRET}}}'"),
            "its answer is not valid JSON (line 1, column 26)",
        ),
        (
            format!("printf '{{\"Username\":\"u\",\"Secret\":[\"{SECRET}\"]}}'"),
            "its answer does not have the expected fields and types (line 1, column 25)",
        ),
    ];
    for (script, reason) in cases {
        let helpers = helper("leaky", &script);
        let config = support::docker_config(&serde_json::json!({
            "credHelpers": {proxy.host(): "leaky"}
        }));
        let out = run(
            &["resolve", "--loopback-only", &reference],
            &[
                ("PATH", &support::path_with(helpers.path())),
                ("DOCKER_CONFIG", config.path().as_os_str()),
            ],
        );
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (
                Some(2),
                "",
                format!(
                    "{reference} error: credential helper docker-credential-leaky failed: {reason} (asked for registry {})\n",
                    proxy.host()
                )
                .as_str()
            ),
            "{script}"
        );
    }
    // config.json values: never quoted, whatever the problem.
    let config = support::docker_config(&serde_json::json!({
        "auths": {proxy.host(): {"auth": format!("{SECRET}!")}}
    }));
    let out = run(
        &["resolve", "--loopback-only", &reference],
        &[("DOCKER_CONFIG", config.path().as_os_str())],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            format!(
                "{reference} error: {}: registry {}: `auth` is not base64\n",
                config.path().join("config.json").display(),
                proxy.host()
            )
            .as_str()
        )
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        format!("{{\"auths\": {{\"h\": {{\"password\": {SECRET}}}}}}}"),
    )
    .unwrap();
    let out = run(
        &["resolve", "--loopback-only", &reference],
        &[("DOCKER_CONFIG", dir.path().as_os_str())],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            format!(
                "digestpin: error: cannot set up the registry client: cannot read Docker's config.json: {}: is not valid JSON (line 1, column 30)\n",
                dir.path().join("config.json").display()
            )
            .as_str()
        )
    );
}

#[test]
fn a_mirror_gets_its_own_hosts_credentials_only() {
    let digest = seed("faults/mirrored");
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&seen);
    // The mirror wants `mirror-user`'s Basic credentials.
    let expected = format!(
        "Basic {}",
        base64_encode(&format!("mirror-user:{SECRET}-mirror"))
    );
    let proxy = Proxy::start(support::plain().port, move |request, _| {
        let auth = request.header("Authorization").map(str::to_string);
        log.lock().unwrap().extend(auth.clone());
        match auth {
            Some(a) if a == expected => Action::Forward,
            _ => Action::Respond(Answer::new(
                401,
                &[("WWW-Authenticate", "Basic realm=\"mirror\"")],
                "",
            )),
        }
    });
    let mirror = format!("*={}", proxy.url());
    let reference = "registry.example.com/faults/mirrored:v1";
    // Only the real registry's credentials: none reach the mirror.
    let config = support::config_with_auth("registry.example.com", "real-user", SECRET);
    let out = run(
        &["resolve", "--loopback-only", "--mirror", &mirror, reference],
        &[("DOCKER_CONFIG", config.path().as_os_str())],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            format!(
                "{reference} error: unauthorized: the registry asks for credentials and Docker's config.json has none for it (http://{}/v2/faults/mirrored/manifests/v1)\n",
                proxy.host()
            )
            .as_str()
        )
    );
    assert_eq!(*seen.lock().unwrap(), Vec::<String>::new());
    // The mirror's own credentials are used for it.
    let config = support::docker_config(&serde_json::json!({"auths": {
        "registry.example.com": {"auth": base64_encode(&format!("real-user:{SECRET}"))},
        proxy.host(): {"auth": base64_encode(&format!("mirror-user:{SECRET}-mirror"))},
    }}));
    let out = run(
        &["resolve", "--loopback-only", "--mirror", &mirror, reference],
        &[("DOCKER_CONFIG", config.path().as_os_str())],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(0), format!("{reference} {digest}\n").as_str(), "")
    );
    let real = format!("Basic {}", base64_encode(&format!("real-user:{SECRET}")));
    assert!(!seen.lock().unwrap().contains(&real));
}

fn base64_encode(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn mirror_passwords_are_never_printed_in_any_format() {
    seed("faults/secret");
    let proxy = Proxy::start(support::plain().port, |_, _| {
        Action::Respond(Answer::new(500, &[], "down"))
    });
    let mirror = format!("*=http://user:{SECRET}@{}/", proxy.host());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.yaml"),
        pod("registry.example.com/faults/secret:v1"),
    )
    .unwrap();
    let pinned = format!(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: registry.example.com/faults/secret@sha256:{} # v1\n",
        "1".repeat(64)
    );
    std::fs::write(dir.path().join("pinned.yaml"), pinned).unwrap();
    for format in ["human", "json", "sarif", "github"] {
        for (command, file) in [
            ("pin", "app.yaml"),
            ("verify", "pinned.yaml"),
            ("update", "pinned.yaml"),
        ] {
            let out = run_in(
                dir.path(),
                &[
                    "--format",
                    format,
                    command,
                    "--loopback-only",
                    "--retries",
                    "0",
                    "--mirror",
                    &mirror,
                    file,
                ],
            );
            let all = format!("{}{}", out.stdout, out.stderr);
            assert_eq!(out.code, Some(2), "{command} {format}: {all}");
            assert!(!all.contains(SECRET), "{command} {format}: {all}");
            assert!(
                all.contains(&format!("http://user:***@{}/v2/", proxy.host())),
                "{command} {format}: {all}"
            );
        }
    }
    std::fs::write(
        dir.path().join(".digestpin.toml"),
        format!("mirrors = [\"{mirror}\"]\n"),
    )
    .unwrap();
    let out = run_in(dir.path(), &["config", "--show"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(0),
            format!(
                "# from .digestpin.toml\ninclude = []  # default\nexclude = []  # default\nstyle = \"comment\"  # default\njobs = 32  # default\ntimeout = 30  # default\nretries = 4  # default\nmirrors = [\"*=http://user:***@{}/\"]  # from .digestpin.toml\nverify-digest = false  # default\ncache-ttl = \"0\"  # from DIGESTPIN_CACHE_TTL\ncustom-resources = []  # default\n\n[policy]\ndeny-latest = false  # default\nallow = []  # default\n\n[helm]\nstyle = \"auto\"  # default\nreads-digest = []  # default\n",
                proxy.host()
            )
            .as_str(),
            ""
        )
    );
    let out = run(
        &[
            "resolve",
            "--mirror",
            &format!("*=ftp://user:{SECRET}@h/"),
            "x",
        ],
        &[],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            "digestpin: error: invalid mirror URL `ftp://user:***@h/`: must be an http or https URL\n"
        )
    );
}
