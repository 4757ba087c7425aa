//! Credentials from Docker's configuration.
//!
//! `config.json` is read from the directory given in the options, else
//! `$DOCKER_CONFIG`, else `~/.docker`. For a registry host, as Docker does:
//! its `credHelpers` entry, else the `credsStore` helper, else the `auths`
//! entry. Helpers are the `docker-credential-<name>` programs on `PATH`, asked
//! with `get` and the server on standard input. Docker Hub's key is
//! `https://index.docker.io/v1/`.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
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

#[derive(Debug, Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// Docker's credential configuration.
#[derive(Debug, Default)]
pub struct DockerConfig {
    auths: HashMap<String, Credential>,
    helpers: HashMap<String, String>,
    store: Option<String>,
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
    /// missing file is an empty configuration.
    pub fn load(dir: Option<&Path>) -> Result<Self, std::io::Error> {
        let dir = dir
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("DOCKER_CONFIG").map(PathBuf::from))
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker")));
        let Some(dir) = dir else {
            return Ok(Self::default());
        };
        match std::fs::read_to_string(dir.join("config.json")) {
            Ok(text) => Self::parse(&text).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", dir.join("config.json").display()),
                )
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(err) => Err(err),
        }
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
                        continue;
                    };
                    let decoded = String::from_utf8_lossy(&decoded).to_string();
                    let Some((username, secret)) = decoded.split_once(':') else {
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
            auths.insert(normalize_host(&key), credential);
        }
        let helpers = file
            .cred_helpers
            .into_iter()
            .map(|(k, v)| (normalize_host(&k), v))
            .collect();
        Ok(Self {
            auths,
            helpers,
            store: file.creds_store.filter(|s| !s.is_empty()),
        })
    }

    /// The credential for `host` (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    pub fn lookup(&self, host: &str) -> Result<Option<Credential>, ResolveError> {
        let host = normalize_host(host);
        let server = if host == "docker.io" {
            DOCKER_HUB_KEY.to_string()
        } else {
            host.clone()
        };
        if let Some(helper) = self.helpers.get(&host) {
            return run_helper(helper, &server);
        }
        if let Some(store) = &self.store
            && let Some(credential) = run_helper(store, &server)?
        {
            return Ok(Some(credential));
        }
        Ok(self.auths.get(&host).cloned())
    }
}

/// Runs `docker-credential-<name> get`. "Not found" is `Ok(None)`.
fn run_helper(name: &str, server: &str) -> Result<Option<Credential>, ResolveError> {
    let program = format!("docker-credential-{name}");
    let failed = |reason: String| ResolveError::CredentialHelper {
        helper: program.clone(),
        reason,
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server.as_bytes())
            .map_err(|e| failed(e.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        if stdout.contains("credentials not found")
            || String::from_utf8_lossy(&output.stderr).contains("credentials not found")
        {
            return Ok(None);
        }
        return Err(failed(format!(
            "exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let answer: HelperAnswer =
        serde_json::from_str(&stdout).map_err(|e| failed(format!("unreadable answer: {e}")))?;
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
        let hub = config.lookup("docker.io").unwrap().unwrap();
        assert_eq!((hub.username.as_str(), hub.secret.as_str()), ("u", "p"));
        assert_eq!(
            config
                .lookup("registry.example.com:5000")
                .unwrap()
                .unwrap()
                .username,
            "a"
        );
        assert_eq!(config.lookup("ghcr.io").unwrap(), None);
        assert_eq!(hub.basic(), "Basic dTpw");
        let acr = DockerConfig::parse(
            r#"{"auths": {"x.azurecr.io": {"auth": "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==", "identitytoken": "refresh"}}}"#,
        )
        .unwrap();
        let credential = acr.lookup("x.azurecr.io").unwrap().unwrap();
        assert_eq!(credential.identity_token.as_deref(), Some("refresh"));
    }

    #[test]
    fn missing_helper_is_an_error_naming_it() {
        let config =
            DockerConfig::parse(r#"{"credHelpers": {"gcr.io": "digestpin-test-absent"}}"#).unwrap();
        let err = config.lookup("gcr.io").unwrap_err();
        assert!(
            err.to_string()
                .contains("docker-credential-digestpin-test-absent"),
            "{err}"
        );
    }
}
