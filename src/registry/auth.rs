//! Authentication: `WWW-Authenticate` challenges, tokens, credentials.
//!
//! [`Session`] sends a repository's requests through [`Http`] with the
//! `Authorization` header in use for its (endpoint, repository). On a 401
//! the challenge is answered and the answer reused; a reused answer that is
//! refused is replaced once (tokens expire). The answer is a Bearer token
//! from the realm, or HTTP Basic, with the credentials Docker's configuration
//! holds for the host contacted (looked up once per host, see
//! `credentials`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use url::Url;

use super::ResolveError;
use super::credentials::{Credential, DockerConfig, json_problem};
use super::http::{
    BACKOFF_MAX, BACKOFF_START, Http, SMALL_MAX, host_port, origin, read_body, status_error,
};
use super::redact_url;

/// The token actions of reading requests.
pub(super) const PULL: &str = "pull";
/// The token actions of a manifest PUT.
pub(super) const PUSH: &str = "pull,push";

/// One authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
    },
    Basic,
}

/// Parses the first challenge of a `WWW-Authenticate` header we can answer.
pub(super) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let params = params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
        }),
        "basic" => Some(Challenge::Basic),
        _ => None,
    }
}

/// `key="value", key=token` pairs; keys lowercased.
fn params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.is_empty() {
            break;
        }
        if chars.next() != Some('=') {
            continue;
        }
        let value = if chars.peek() == Some(&'"') {
            chars.next();
            let mut value = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
            value
        } else {
            std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_string()
        };
        out.insert(key.trim().to_ascii_lowercase(), value);
    }
    out
}

/// The `Authorization` header in use for an (endpoint, repository), and how
/// many times it was obtained: a request that saw generation `n` refused
/// asks for a new one only if nobody did meanwhile. Failures are not kept.
#[derive(Default)]
struct AuthState {
    header: Option<String>,
    generation: u64,
    /// How `header` was obtained, for messages (never the secret).
    how: Option<String>,
}

type AuthSlot = Arc<tokio::sync::Mutex<AuthState>>;

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// Authenticated requests to repositories.
pub(super) struct Session {
    pub(super) http: Http,
    config: Arc<DockerConfig>,
    /// How long a credential helper may run.
    timeout: Duration,
    credentials: Mutex<HashMap<String, Result<Option<Credential>, ResolveError>>>,
    /// Keyed by endpoint, repository and the actions asked for (`pull`,
    /// `pull,push`): a push token is asked for separately.
    slots: Mutex<HashMap<(String, String, &'static str), AuthSlot>>,
}

impl Session {
    pub(super) fn new(http: Http, config: DockerConfig, timeout: Duration) -> Session {
        Session {
            http,
            config: Arc::new(config),
            timeout,
            credentials: Mutex::new(HashMap::new()),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Credentials for a request to `url`: those stored for the host
    /// actually contacted, so a mirror gets its own host's credentials and
    /// never those of the registry it stands in for. A credential helper
    /// runs off the runtime, stopped after the request timeout.
    async fn credential(&self, url: &Url) -> Result<Option<Credential>, ResolveError> {
        let contacted = if url.host_str() == Some("registry-1.docker.io") {
            "docker.io".to_string()
        } else {
            host_port(url)
        };
        let cached = self
            .credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&contacted)
            .cloned();
        if let Some(found) = cached {
            return found;
        }
        let config = Arc::clone(&self.config);
        let timeout = self.timeout;
        let host = contacted.clone();
        let found = tokio::task::spawn_blocking(move || config.lookup(&host, timeout))
            .await
            .unwrap_or_else(|e| {
                Err(ResolveError::CredentialHelper {
                    helper: "the credential lookup".into(),
                    reason: e.to_string(),
                })
            });
        self.credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(contacted, found.clone());
        found
    }

    fn auth_slot(&self, url: &Url, repository: &str, actions: &'static str) -> AuthSlot {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .entry((origin(url), repository.to_string(), actions))
            .or_default()
            .clone()
    }

    /// A request to a repository's URL with the `Authorization` header in
    /// use for it, answering an auth challenge when refused.
    pub(super) async fn request(
        &self,
        repository: &str,
        method: Method,
        url: &Url,
        accept: Option<&str>,
    ) -> Result<Response, ResolveError> {
        self.request_as(repository, PULL, method, url, accept, None)
            .await
    }

    /// How the `Authorization` header for (`url`'s endpoint, `repository`,
    /// `actions`) was obtained: `anonymous` when none was needed.
    pub(super) async fn auth_used(
        &self,
        url: &Url,
        repository: &str,
        actions: &'static str,
    ) -> String {
        let slot = self.auth_slot(url, repository, actions);
        let state = slot.lock().await;
        state.how.clone().unwrap_or_else(|| "anonymous".into())
    }

    /// [`Session::request`] for the token `actions` (`pull` or `pull,push`),
    /// with an optional body and its content type.
    pub(super) async fn request_as(
        &self,
        repository: &str,
        actions: &'static str,
        method: Method,
        url: &Url,
        accept: Option<&str>,
        body: Option<(&str, &[u8])>,
    ) -> Result<Response, ResolveError> {
        let slot = self.auth_slot(url, repository, actions);
        let (mut header, mut generation) = {
            let state = slot.lock().await;
            (state.header.clone(), state.generation)
        };
        // A refused header is replaced (a token may have expired): by one
        // another request got meanwhile, or by asking once for a new one.
        // A second refusal of a header this request got itself is final.
        let mut refreshed = false;
        for _ in 0..4 {
            let response = self
                .http
                .send_body(method.clone(), url, header.as_deref(), accept, body)
                .await?;
            let status = response.status();
            if status != StatusCode::UNAUTHORIZED && !(refreshed && status == StatusCode::FORBIDDEN)
            {
                return Ok(response);
            }
            if refreshed {
                break;
            }
            let challenge = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_challenge);
            let mut state = slot.lock().await;
            if state.generation == generation {
                let (answer, how) = self
                    .authenticate(repository, actions, url, challenge)
                    .await?;
                state.header = answer;
                state.how = Some(how);
                state.generation += 1;
                refreshed = true;
            }
            header = state.header.clone();
            generation = state.generation;
            drop(state);
            if header.is_none() {
                return Err(ResolveError::Unauthorized {
                    url: redact_url(url),
                    reason:
                        "the registry asks for credentials and Docker's config.json has none for it"
                            .into(),
                });
            }
        }
        Err(ResolveError::Unauthorized {
            url: redact_url(url),
            reason: "credentials refused".into(),
        })
    }

    /// Answers a challenge: the `Authorization` header to send, if any,
    /// and how it was obtained (for messages).
    async fn authenticate(
        &self,
        repository: &str,
        actions: &'static str,
        url: &Url,
        challenge: Option<Challenge>,
    ) -> Result<(Option<String>, String), ResolveError> {
        // A broken credential helper (say, a Docker Desktop `credsStore` on a
        // machine without it) must not break public images: try anonymously
        // and report the helper only if anonymous access is refused.
        let (credential, helper_error) = match self.credential(url).await {
            Ok(credential) => (credential, None),
            Err(error) => (None, Some(error)),
        };
        let user = credential.as_ref().map_or_else(
            || "anonymously".to_string(),
            |c| format!("as user {}", c.username),
        );
        match challenge {
            Some(Challenge::Basic) => match (credential, helper_error) {
                (Some(credential), _) => {
                    Ok((Some(credential.basic()), format!("Basic auth {user}")))
                }
                (None, Some(error)) => Err(error),
                (None, None) => Ok((None, "Basic auth, no credentials".into())),
            },
            Some(Challenge::Bearer { realm, service }) => {
                let how = format!(
                    "a Bearer token from {realm} {user}, scope repository:{repository}:{actions}"
                );
                let header = self
                    .bearer(
                        repository,
                        actions,
                        url,
                        &realm,
                        service,
                        credential,
                        helper_error,
                    )
                    .await?;
                Ok((header, how))
            }
            None => Err(ResolveError::Unauthorized {
                url: redact_url(url),
                reason: "unsupported authentication challenge".into(),
            }),
        }
    }

    /// Answers a Bearer challenge: a token from the realm, asked for with
    /// the credential (an identity token is exchanged with a POST).
    #[allow(clippy::too_many_arguments)]
    async fn bearer(
        &self,
        repository: &str,
        actions: &str,
        url: &Url,
        realm: &str,
        service: Option<String>,
        credential: Option<Credential>,
        helper_error: Option<ResolveError>,
    ) -> Result<Option<String>, ResolveError> {
        let mut token_url = Url::parse(realm).map_err(|e| ResolveError::InvalidResponse {
            url: redact_url(url),
            reason: format!("bad token realm `{realm}`: {e}"),
        })?;
        {
            let mut query = token_url.query_pairs_mut();
            if let Some(service) = &service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", &format!("repository:{repository}:{actions}"));
        }
        let response = match credential
            .as_ref()
            .and_then(|c| c.identity_token.as_deref())
        {
            // An identity token (e.g. from `az acr login`) is an OAuth2
            // refresh token: exchange it with a POST to the realm.
            Some(refresh_token) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", refresh_token)
                    .append_pair("client_id", "digestpin")
                    .append_pair("scope", &format!("repository:{repository}:{actions}"));
                if let Some(service) = &service {
                    form.append_pair("service", service);
                }
                let mut realm_url = token_url.clone();
                realm_url.set_query(None);
                self.http
                    .send_form(Method::POST, &realm_url, None, None, Some(&form.finish()))
                    .await?
            }
            None => {
                let basic = credential.as_ref().map(Credential::basic);
                self.http
                    .send(Method::GET, &token_url, basic.as_deref(), None)
                    .await?
            }
        };
        if matches!(
            response.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            if let Some(error) = helper_error {
                return Err(error);
            }
            return Err(ResolveError::Unauthorized {
                url: redact_url(&token_url),
                reason: if credential.is_some() {
                    "the token server refused the credentials".into()
                } else {
                    "the token server refused an anonymous token".into()
                },
            });
        }
        if !response.status().is_success() {
            return Err(status_error(response.status(), &token_url));
        }
        let token = read_token(response, &token_url).await?;
        Ok(Some(format!("Bearer {token}")))
    }

    /// GETs a body of at most `limit` bytes; a transfer broken mid-body is
    /// retried like a reset before the headers. `Ok(Err(status))` for an
    /// answer that is not a success (its body unread).
    pub(super) async fn get_body(
        &self,
        repository: &str,
        url: &Url,
        accept: Option<&str>,
        limit: usize,
        what: &str,
    ) -> Result<Result<(HeaderMap, Vec<u8>), StatusCode>, ResolveError> {
        let mut backoff = BACKOFF_START;
        let mut attempt = 0;
        loop {
            let response = self.request(repository, Method::GET, url, accept).await?;
            if !response.status().is_success() {
                return Ok(Err(response.status()));
            }
            let headers = response.headers().clone();
            match read_body(response, url, limit, what).await {
                Ok(body) => return Ok(Ok((headers, body))),
                Err(ResolveError::BrokenTransfer { .. }) if attempt < self.http.retries() => {
                    attempt += 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// The token of a token server's answer (`token`, or OAuth2's `access_token`).
async fn read_token(response: Response, token_url: &Url) -> Result<String, ResolveError> {
    let body = read_body(response, token_url, SMALL_MAX, "token answer").await?;
    let token: Token =
        serde_json::from_slice(&body).map_err(|e| ResolveError::InvalidResponse {
            url: redact_url(token_url),
            reason: format!("the token answer {}", json_problem(&e)),
        })?;
    let token = token
        .token
        .or(token.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ResolveError::InvalidResponse {
            url: redact_url(token_url),
            reason: "no token in the answer".into(),
        })?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge() {
        let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push""#;
        assert_eq!(
            parse_challenge(h),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
            })
        );
    }

    #[test]
    fn basic_challenge_and_unknown() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(parse_challenge(r#"Bearer service="x""#), None);
    }
}
