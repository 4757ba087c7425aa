//! The integration-test harness: real registries on 127.0.0.1, seeded with
//! skopeo, and the `digestpin` binary run with a clean environment.
#![allow(dead_code)]

pub mod cli;
pub mod faults;
pub mod git_http;
pub mod image;
pub mod registry;
pub mod schema;
pub mod token;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

#[allow(unused_imports)]
pub use registry::{Auth, PASSWORD, Registry, USER};

/// The registry without auth shared by the tests of one binary.
pub fn plain() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(Auth::None))
}

/// The htpasswd (Basic auth) registry.
pub fn basic() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(Auth::Basic))
}

/// The token-auth registry with its token server.
pub fn token() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(Auth::Token))
}

fn empty_docker_config() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// The `digestpin` binary, with an empty Docker config (never the
/// developer's credentials) and no colour.
pub fn digestpin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_digestpin"));
    command
        .env("DOCKER_CONFIG", empty_docker_config())
        .env("NO_COLOR", "1")
        // No test reads or writes a cache unless it asks for one (and names
        // its directory): tests/cli/cache.rs.
        .env("DIGESTPIN_CACHE_TTL", "0")
        .env_remove("DIGESTPIN_CACHE_DIR")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY");
    command
}

/// Runs `command` and asserts that it succeeds; its output.
pub fn succeed(command: &mut Command) -> Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e} (scripts/install-test-deps.sh)"));
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A self-signed certificate at `cert` for `subject` (`/CN=…`), valid for two
/// days, with its private key at `key`; made with the openssl CLI.
pub fn self_signed(subject: &str, key: &Path, cert: &Path) {
    succeed(
        Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            ])
            .arg(subject)
            .arg("-keyout")
            .arg(key)
            .arg("-out")
            .arg(cert),
    );
}

/// Writes a Docker `config.json` into a new directory and returns it.
pub fn docker_config(json: &serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), json.to_string()).unwrap();
    dir
}

/// A `config.json` with `auths` credentials for `host`.
pub fn config_with_auth(host: &str, user: &str, password: &str) -> tempfile::TempDir {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    docker_config(&serde_json::json!({"auths": {host: {"auth": auth}}}))
}

/// A directory holding `docker-credential-<name>`, a helper that answers
/// `user`/`password` for `host` and "credentials not found" otherwise.
pub fn credential_helper(name: &str, host: &str, user: &str, password: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("docker-credential-{name}"));
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread -r server\nif [ \"$server\" = '{host}' ]; then\n  printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{password}\"}}' \"$server\"\nelse\n  echo 'credentials not found in native keychain'; exit 1\nfi\n"
    );
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

/// `PATH` with `dir` in front.
pub fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut paths: Vec<PathBuf> = vec![dir.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

/// `text` with every untagged, undigested image reference made `name:latest`:
/// what `unpin(pin(text))` gives, since a pin of an untagged reference records
/// the tag it was resolved from.
pub fn with_explicit_latest(text: &str) -> String {
    let Ok(Some((_, findings))) = digestpin::detect::scan(text) else {
        return text.to_string();
    };
    explicit_latest(text, &findings)
}

/// [`with_explicit_latest`] for the file at `path`: a Dockerfile's references
/// are found by the Dockerfile parser.
pub fn with_explicit_latest_at(path: &Path, text: &str) -> String {
    if !digestpin::detect::dockerfile::is_dockerfile_name(path) {
        return with_explicit_latest(text);
    }
    let Ok(findings) = digestpin::detect::dockerfile::scan(text) else {
        return text.to_string();
    };
    explicit_latest(text, &findings)
}

/// `text` with `:latest` after each of `findings` that names neither a tag
/// nor a digest, on a line without the ignore marker.
fn explicit_latest(text: &str, findings: &[digestpin::detect::Finding]) -> String {
    let mut out = text.to_string();
    for finding in findings.iter().rev() {
        if let digestpin::detect::Finding::Image { site, reference } = finding
            && reference.tag().is_none()
            && reference.digest().is_none()
            && !digestpin::scan::is_ignored(text, site)
        {
            out.insert_str(site.span.end, ":latest");
        }
    }
    out
}
