//! Credentials from Docker's configuration.
//!
//! `config.json` is read from the directory given in the options, else
//! `$DOCKER_CONFIG`, else `~/.docker`. For a registry host, as Docker does:
//! its `credHelpers` entry, else the `credsStore` helper, else the `auths`
//! entry. Helpers are the `docker-credential-<name>` programs on `PATH`, asked
//! with `get` and the server on standard input. Docker Hub's key is
//! `https://index.docker.io/v1/`.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use super::ResolveError;

/// A user name and password (or token).
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub secret: String,
    /// An OAuth2 refresh token (`identitytoken`, or a helper's answer with
    /// the user name `<token>`), exchanged at the token realm.
    pub identity_token: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// The `Authorization` header value for HTTP Basic.
    pub fn basic(&self) -> String {
        let raw = format!("{}:{}", self.username, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// Docker's credential configuration.
#[derive(Default)]
pub struct DockerConfig {
    /// Where it was read from, for messages.
    path: String,
    /// A host's credential, or why its entry is unusable (never its value).
    auths: HashMap<String, Result<Credential, String>>,
    helpers: HashMap<String, String>,
    store: Option<String>,
}

impl std::fmt::Debug for DockerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut hosts: Vec<_> = self.auths.keys().collect();
        hosts.sort();
        f.debug_struct("DockerConfig")
            .field("path", &self.path)
            .field("auths", &hosts)
            .field("helpers", &self.helpers)
            .field("store", &self.store)
            .finish()
    }
}

/// The kind of a JSON problem, without the text serde quotes from the input
/// (which may be a secret).
pub(super) fn json_problem(err: &serde_json::Error) -> String {
    let kind = match err.classify() {
        serde_json::error::Category::Io => "cannot be read",
        serde_json::error::Category::Syntax => "is not valid JSON",
        serde_json::error::Category::Data => "does not have the expected fields and types",
        serde_json::error::Category::Eof => "ends too early",
    };
    if err.line() > 0 {
        format!("{kind} (line {}, column {})", err.line(), err.column())
    } else {
        kind.to_string()
    }
}

const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// The host a config key names: `https://host/v2/` → `host`; Docker Hub's
/// aliases → `docker.io`.
fn normalize_host(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".into()
        }
        host => host.to_string(),
    }
}

impl DockerConfig {
    /// Loads `config.json` from `dir`, `$DOCKER_CONFIG` or `~/.docker`. A
    /// missing file is an empty configuration. The error names the file and
    /// the kind of problem, never a value from it.
    pub fn load(dir: Option<&Path>) -> Result<Self, String> {
        let dir = dir
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("DOCKER_CONFIG").map(PathBuf::from))
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker")));
        let Some(dir) = dir else {
            return Ok(Self::default());
        };
        let path = dir.join("config.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text)
                .map(|config| config.with_path(&path))
                .map_err(|e| format!("{}: {}", path.display(), json_problem(&e))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(err) => Err(format!("{}: {}", path.display(), err.kind())),
        }
    }

    fn with_path(mut self, path: &Path) -> Self {
        self.path = path.display().to_string();
        self
    }

    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        let file: ConfigFile = serde_json::from_str(text)?;
        let mut auths = HashMap::new();
        for (key, entry) in file.auths {
            let identity_token = entry.identitytoken.filter(|t| !t.is_empty());
            let credential = match (entry.auth, entry.username, entry.password) {
                (Some(auth), _, _) if !auth.is_empty() => {
                    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(auth.trim())
                    else {
                        auths.insert(
                            normalize_host(&key),
                            Err("`auth` is not base64".to_string()),
                        );
                        continue;
                    };
                    let decoded = String::from_utf8_lossy(&decoded).to_string();
                    let Some((username, secret)) = decoded.split_once(':') else {
                        auths.insert(
                            normalize_host(&key),
                            Err("`auth` is not base64 of `user:password`".to_string()),
                        );
                        continue;
                    };
                    Credential {
                        username: username.to_string(),
                        secret: secret.to_string(),
                        identity_token: identity_token.clone(),
                    }
                }
                (_, Some(username), Some(password)) => Credential {
                    username,
                    secret: password,
                    identity_token: identity_token.clone(),
                },
                _ => match identity_token {
                    Some(token) => Credential {
                        username: "<token>".into(),
                        secret: String::new(),
                        identity_token: Some(token),
                    },
                    None => continue,
                },
            };
            auths.insert(normalize_host(&key), Ok(credential));
        }
        let helpers = file
            .cred_helpers
            .into_iter()
            .map(|(k, v)| (normalize_host(&k), v))
            .collect();
        Ok(Self {
            path: "config.json".into(),
            auths,
            helpers,
            store: file.creds_store.filter(|s| !s.is_empty()),
        })
    }

    /// The credential for `host` (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    /// A credential helper gets `timeout` to answer, then is killed.
    pub fn lookup(
        &self,
        host: &str,
        timeout: Duration,
    ) -> Result<Option<Credential>, ResolveError> {
        let host = normalize_host(host);
        let server = if host == "docker.io" {
            DOCKER_HUB_KEY.to_string()
        } else {
            host.clone()
        };
        if let Some(helper) = self.helpers.get(&host) {
            return run_helper(helper, &server, &host, timeout);
        }
        if let Some(store) = &self.store
            && let Some(credential) = run_helper(store, &server, &host, timeout)?
        {
            return Ok(Some(credential));
        }
        match self.auths.get(&host) {
            Some(Ok(credential)) => Ok(Some(credential.clone())),
            Some(Err(problem)) => Err(ResolveError::DockerConfig {
                path: self.path.clone(),
                registry: host,
                problem: problem.clone(),
            }),
            None => Ok(None),
        }
    }
}

/// Runs `docker-credential-<name> get`. "Not found" is `Ok(None)`. The
/// helper gets `timeout` to answer, then is killed. Its answer and its
/// standard error are never quoted in an error: they may hold the secret.
/// Reads up to 1 MiB of a child's pipe on a thread of its own; the
/// receiver gets the bytes when the pipe closes.
fn read_pipe(pipe: Option<Box<dyn std::io::Read + Send>>) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = pipe.by_ref().take(1 << 20).read_to_end(&mut out);
            let _ = tx.send(out);
        });
    }
    rx
}

fn run_helper(
    name: &str,
    server: &str,
    registry: &str,
    timeout: Duration,
) -> Result<Option<Credential>, ResolveError> {
    let program = format!("docker-credential-{name}");
    let failed = |reason: String| ResolveError::CredentialHelper {
        helper: program.clone(),
        reason: format!("{reason} (asked for registry {registry})"),
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("cannot start it: {}", e.kind())))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is not an error here:
        // its exit status says what happened.
        let _ = stdin.write_all(server.as_bytes());
    }
    // Read both pipes on their own threads so a chatty helper cannot block
    // on a full pipe; a helper that hangs is killed at the deadline and the
    // readers, left to finish when its pipes close, are not waited for.
    let stdout = read_pipe(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read_pipe(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!(
                    "no answer within {} s, stopped it",
                    timeout.as_secs_f64()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(failed(format!("cannot wait for it: {}", e.kind()))),
        }
    };
    let collect = |rx: std::sync::mpsc::Receiver<Vec<u8>>| {
        let left = deadline.saturating_duration_since(Instant::now());
        rx.recv_timeout(left.max(Duration::from_millis(100)))
            .unwrap_or_default()
    };
    let stdout = collect(stdout);
    let stdout = String::from_utf8_lossy(&stdout);
    if !status.success() {
        let stderr = collect(stderr);
        if stdout.contains("credentials not found")
            || String::from_utf8_lossy(&stderr).contains("credentials not found")
        {
            return Ok(None);
        }
        return Err(failed(match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => "killed by a signal".to_string(),
        }));
    }
    let answer: HelperAnswer = serde_json::from_str(&stdout)
        .map_err(|e| failed(format!("its answer {}", json_problem(&e))))?;
    // Docker's convention: the user name `<token>` marks an identity token.
    let identity_token = (answer.username == "<token>").then(|| answer.secret.clone());
    Ok(Some(Credential {
        username: answer.username,
        secret: answer.secret,
        identity_token,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn values_never_reach_messages() {
        let secret = "hunter2-in-config";
        let err = DockerConfig::parse(&format!(
            r#"{{"auths": {{"h": {{"auth": 7, "password": "{secret}"}}}}}}"#
        ))
        .map(|_| ())
        .unwrap_err();
        assert_eq!(
            json_problem(&err),
            "does not have the expected fields and types (line 1, column 26)"
        );
        let config = DockerConfig::parse(&format!(
            r#"{{"auths": {{"h:1": {{"auth": "{secret}!"}}}}}}"#
        ))
        .unwrap();
        assert_eq!(
            config.lookup("h:1", T).unwrap_err().to_string(),
            "config.json: registry h:1: `auth` is not base64"
        );
        assert_eq!(
            format!(
                "{:?}",
                Credential {
                    username: "u".into(),
                    secret: secret.into(),
                    identity_token: Some(secret.into())
                }
            ),
            "Credential { username: \"u\", .. }"
        );
    }

    #[test]
    fn auths_keys_are_normalised() {
        let config = DockerConfig::parse(
            r#"{"auths": {
                "https://index.docker.io/v1/": {"auth": "dTpw"},
                "https://registry.example.com:5000/v2/": {"username": "a", "password": "b"},
                "ghcr.io": {}
            }}"#,
        )
        .unwrap();
        let hub = config.lookup("docker.io", T).unwrap().unwrap();
        assert_eq!((hub.username.as_str(), hub.secret.as_str()), ("u", "p"));
        assert_eq!(
            config
                .lookup("registry.example.com:5000", T)
                .unwrap()
                .unwrap()
                .username,
            "a"
        );
        assert_eq!(config.lookup("ghcr.io", T).unwrap(), None);
        assert_eq!(hub.basic(), "Basic dTpw");
        let acr = DockerConfig::parse(
            r#"{"auths": {"x.azurecr.io": {"auth": "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==", "identitytoken": "refresh"}}}"#,
        )
        .unwrap();
        let credential = acr.lookup("x.azurecr.io", T).unwrap().unwrap();
        assert_eq!(credential.identity_token.as_deref(), Some("refresh"));
    }

    #[test]
    fn missing_helper_is_an_error_naming_it() {
        let config =
            DockerConfig::parse(r#"{"credHelpers": {"gcr.io": "digestpin-test-absent"}}"#).unwrap();
        let err = config.lookup("gcr.io", T).unwrap_err();
        assert!(
            err.to_string()
                .contains("docker-credential-digestpin-test-absent"),
            "{err}"
        );
    }
}
