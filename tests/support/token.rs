//! A token server for the registry's token authentication, in the test
//! process: it checks HTTP Basic credentials, grants the requested scope, and
//! signs RS256 JWTs with a key the registry trusts (the certificate goes in the
//! JWT's `x5c` header and in the registry's `rootcertbundle`). It counts token
//! requests per repository, so tests can check that tokens are reused, and
//! logs the scopes of each request; [`TokenServer::grant_first_scope_only`]
//! makes it grant only the first scope of a request, as servers that take a
//! single `scope` do.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;

pub const SERVICE: &str = "digestpin-test-registry";
pub const ISSUER: &str = "digestpin-test-issuer";
/// The refresh token (`identitytoken` in Docker's config) the server accepts
/// in an OAuth2 `grant_type=refresh_token` POST.
pub const IDENTITY_TOKEN: &str = "digestpin-test-refresh-token";
/// A user the server knows whose tokens only ever grant `pull`: a user
/// without push rights.
pub const READER: &str = "digestpin-reader";
pub const READER_PASSWORD: &str = "read-only-pass";

pub struct TokenServer {
    pub port: u16,
    pub cert: PathBuf,
    requests: Arc<Mutex<HashMap<String, usize>>>,
    log: Arc<Mutex<Vec<Vec<String>>>>,
    first_only: Arc<std::sync::atomic::AtomicBool>,
}

/// What the serving threads share.
struct State {
    counter: Arc<Mutex<HashMap<String, usize>>>,
    log: Arc<Mutex<Vec<Vec<String>>>>,
    first_only: Arc<std::sync::atomic::AtomicBool>,
}

struct Signer {
    key: PathBuf,
    cert_der_b64: String,
    user: String,
    password: String,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenServer {
    /// Generates a key and certificate in `dir` and starts serving on 127.0.0.1.
    pub fn start(dir: &Path, user: &str, password: &str) -> TokenServer {
        let key = dir.join("token.key");
        let cert = dir.join("token.crt");
        super::self_signed("/CN=digestpin-test-token", &key, &cert);
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .unwrap()
            .stdout;
        let signer = Arc::new(Signer {
            key,
            cert_der_b64: base64::engine::general_purpose::STANDARD.encode(der),
            user: user.to_string(),
            password: password.to_string(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(HashMap::new()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let first_only = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let state = Arc::new(State {
            counter: requests.clone(),
            log: log.clone(),
            first_only: first_only.clone(),
        });
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let signer = signer.clone();
                let state = state.clone();
                std::thread::spawn(move || serve(stream, &signer, &state));
            }
        });
        TokenServer {
            port,
            cert,
            requests,
            log,
            first_only,
        }
    }

    /// The `scope` parameters of each token request so far, in order.
    pub fn scope_log(&self) -> Vec<Vec<String>> {
        self.log.lock().unwrap().clone()
    }

    /// From now on, grant only the first scope of each request.
    pub fn grant_first_scope_only(&self) {
        self.first_only
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// How many tokens were asked for `repository`.
    pub fn requests_for(&self, repository: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .get(repository)
            .copied()
            .unwrap_or(0)
    }
}

fn serve(stream: TcpStream, signer: &Signer, state: &State) {
    let counter = &state.counter;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut authorization = None;
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("authorization")
        {
            authorization = Some(value.trim().to_string());
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let mut params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if request_line.starts_with("POST ") {
        let mut body = vec![0u8; content_length.min(64 * 1024)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        params.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    let mut scopes: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str())
        .collect();
    state
        .log
        .lock()
        .unwrap()
        .push(scopes.iter().map(|s| s.to_string()).collect());
    if state.first_only.load(std::sync::atomic::Ordering::SeqCst) {
        scopes.truncate(1);
    }

    let refresh = params
        .iter()
        .find(|(k, _)| k == "refresh_token")
        .map(|(_, v)| v == IDENTITY_TOKEN);
    let authenticated = refresh.or_else(|| {
        authorization
            .as_deref()
            .and_then(|a| a.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .map(|raw| String::from_utf8_lossy(&raw).to_string())
            .map(|pair| {
                pair == format!("{}:{}", signer.user, signer.password)
                    || pair == format!("{READER}:{READER_PASSWORD}")
            })
    });
    let read_only = authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|raw| raw.starts_with(format!("{READER}:").as_bytes()));
    let mut access = Vec::new();
    for scope in &scopes {
        let parts: Vec<&str> = scope.splitn(3, ':').collect();
        if parts.len() == 3 && parts[0] == "repository" {
            *counter
                .lock()
                .unwrap()
                .entry(parts[1].to_string())
                .or_default() += 1;
            let actions: Vec<&str> = match authenticated {
                Some(true) if read_only => parts[2].split(',').filter(|a| *a == "pull").collect(),
                Some(true) => parts[2].split(',').collect(),
                // Anonymous pull is allowed for repositories under public/.
                None if parts[1].starts_with("public/") => vec!["pull"],
                _ => Vec::new(),
            };
            access.push(
                serde_json::json!({"type": "repository", "name": parts[1], "actions": actions}),
            );
        }
    }
    let mut stream = stream;
    if authenticated == Some(false)
        || (authenticated.is_none()
            && access
                .iter()
                .all(|a| a["actions"].as_array().is_none_or(|v| v.is_empty())))
    {
        let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#;
        let _ = write!(
            stream,
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        return;
    }
    let token = sign(signer, &access);
    let body =
        serde_json::json!({"token": token, "access_token": token, "expires_in": 300}).to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = reader.read(&mut [0u8; 0]);
}

fn sign(signer: &Signer, access: &[serde_json::Value]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [signer.cert_der_b64]});
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": signer.user, "aud": SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now,
        "jti": format!("{now}-{}", access.len()),
        "access": access,
    });
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(&signer.key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let signature = child.wait_with_output().unwrap().stdout;
    format!("{input}.{}", b64url(&signature))
}
