//! Authentication: `WWW-Authenticate` challenges, tokens, credentials.
//!
//! [`Session`] sends a repository's requests through [`Http`] with the
//! `Authorization` header in use for its (endpoint, repository). On a 401
//! the challenge is answered and the answer reused; a reused answer that is
//! refused is replaced once (tokens expire). The answer is a Bearer token
//! from the realm, or HTTP Basic, with the credentials Docker's configuration
//! holds for the host contacted (looked up once per host, see
//! `credentials`).
//!
//! Tokens stay one per repository, but the repositories a batch will ask
//! for ([`Session::plan`]) share token requests: the first repository of an
//! endpoint to need a token asks for the scopes of up to [`MAX_SCOPES`]
//! planned repositories of that endpoint at once (the distribution token
//! spec allows a repeated `scope`), and those repositories take the answer
//! instead of asking again. The answer covers a repository when its JWT
//! `access` claim (read, not verified) grants it `pull`; a token that is
//! not a readable JWT is tried, and a refusal sends that repository back to
//! a request of its own. A realm that grants fewer scopes than asked is
//! asked one repository at a time from then on.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
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
    tokens: Mutex<TokenBatches>,
}

/// The most repositories one token request asks for.
pub(super) const MAX_SCOPES: usize = 50;

/// Shared token requests (see the module's documentation).
#[derive(Default)]
struct TokenBatches {
    /// Per endpoint origin: the repositories a batch will ask tokens for
    /// that no token request has named yet, in order.
    planned: HashMap<String, Vec<String>>,
    /// (origin, repository) → the shared request that named it, taken once.
    joined: HashMap<(String, String), Arc<TokenBatch>>,
    /// Realms that granted fewer repositories than asked for.
    single: HashSet<String>,
}

/// One token request for several repositories; the first to need its answer
/// sends it, the others wait for it.
struct TokenBatch {
    realm: String,
    service: Option<String>,
    repositories: Vec<String>,
    answer: tokio::sync::OnceCell<Result<Granted, ()>>,
}

/// A token and the repositories its JWT says it grants `pull` on (`None`:
/// not a JWT we can read).
#[derive(Clone)]
struct Granted {
    token: String,
    covered: Option<HashSet<String>>,
}

/// An `Authorization` header answering a challenge, and whether it was made
/// for this repository (a shared token of unknown coverage is only tried).
pub(super) struct Answer {
    header: Option<String>,
    sure: bool,
    /// How the header was obtained (for messages).
    how: String,
}

impl Session {
    pub(super) fn new(http: Http, config: DockerConfig, timeout: Duration) -> Session {
        Session {
            http,
            config: Arc::new(config),
            timeout,
            credentials: Mutex::new(HashMap::new()),
            slots: Mutex::new(HashMap::new()),
            tokens: Mutex::new(TokenBatches::default()),
        }
    }

    /// Names the (registry, repository) pairs a batch is about to send
    /// requests for, so that their token requests can be shared.
    pub(super) fn plan<'a>(&self, keys: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen: HashSet<(String, String)> = HashSet::new();
        for (registry, repository) in keys {
            let Ok(url) = self.http.url(registry, "v2/") else {
                continue;
            };
            let key = (origin(&url), repository.to_string());
            if tokens.joined.contains_key(&key) || !seen.insert(key.clone()) {
                continue;
            }
            let planned = tokens.planned.entry(key.0).or_default();
            if !planned.contains(&key.1) {
                planned.push(key.1);
            }
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
        // A shared token that is refused sends this repository to a token
        // request of its own.
        let mut refreshed = false;
        let mut tried = false;
        for _ in 0..4 {
            let response = self
                .http
                .send_body(method.clone(), url, header.as_deref(), accept, body)
                .await?;
            let status = response.status();
            if status != StatusCode::UNAUTHORIZED
                && !((refreshed || tried) && status == StatusCode::FORBIDDEN)
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
            if state.generation == generation || tried {
                let answer = self
                    .authenticate(repository, actions, url, challenge, tried)
                    .await?;
                state.header = answer.header;
                state.how = Some(answer.how);
                state.generation += 1;
                refreshed = answer.sure;
                tried = !answer.sure;
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
    /// and how it was obtained (for messages). `alone`: ask for this
    /// repository's token alone (a shared one was refused).
    async fn authenticate(
        &self,
        repository: &str,
        actions: &'static str,
        url: &Url,
        challenge: Option<Challenge>,
        alone: bool,
    ) -> Result<Answer, ResolveError> {
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
        let answer = |header, how| Answer {
            header,
            sure: true,
            how,
        };
        match challenge {
            Some(Challenge::Basic) => match (credential, helper_error) {
                (Some(credential), _) => Ok(answer(
                    Some(credential.basic()),
                    format!("Basic auth {user}"),
                )),
                (None, Some(error)) => Err(error),
                (None, None) => Ok(answer(None, "Basic auth, no credentials".into())),
            },
            Some(Challenge::Bearer { realm, service }) => {
                let how = format!(
                    "a Bearer token from {realm} {user}, scope repository:{repository}:{actions}"
                );
                let challenge = BearerChallenge {
                    realm: &realm,
                    service: service.as_deref(),
                };
                // Shared token requests are for pulls only; a push token is
                // asked for alone.
                if alone {
                    self.ask_alone(&realm);
                } else if actions == PULL
                    && let Some(shared) = self
                        .shared_token(repository, url, &challenge, credential.as_ref())
                        .await
                {
                    return Ok(Answer { how, ..shared });
                }
                let token = self
                    .token(
                        url,
                        &challenge,
                        credential.as_ref(),
                        helper_error,
                        &[repository],
                        actions,
                    )
                    .await?;
                Ok(answer(Some(format!("Bearer {token}")), how))
            }
            None => Err(ResolveError::Unauthorized {
                url: redact_url(url),
                reason: "unsupported authentication challenge".into(),
            }),
        }
    }

    /// A token shared with other planned repositories of the endpoint, if
    /// one covers (or may cover) `repository`; `None` to ask alone.
    async fn shared_token(
        &self,
        repository: &str,
        url: &Url,
        challenge: &BearerChallenge<'_>,
        credential: Option<&Credential>,
    ) -> Option<Answer> {
        let batch = self.token_batch(repository, url, challenge)?;
        let answer = batch
            .answer
            .get_or_init(|| async {
                let scopes: Vec<&str> = batch.repositories.iter().map(String::as_str).collect();
                match self
                    .token(url, challenge, credential, None, &scopes, PULL)
                    .await
                {
                    Ok(token) => Ok(Granted {
                        covered: jwt_pull_access(&token),
                        token,
                    }),
                    Err(_) => Err(()),
                }
            })
            .await;
        let granted = match answer {
            Ok(granted) => granted,
            Err(()) => {
                self.ask_alone(challenge.realm);
                return None;
            }
        };
        match &granted.covered {
            Some(covered) if covered.len() < batch.repositories.len() => {
                self.ask_alone(challenge.realm);
            }
            _ => {}
        }
        match &granted.covered {
            Some(covered) if !covered.contains(repository) => None,
            covered => Some(Answer {
                header: Some(format!("Bearer {}", granted.token)),
                sure: covered.is_some(),
                how: String::new(),
            }),
        }
    }

    fn ask_alone(&self, realm: &str) {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .single
            .insert(realm.to_string());
    }

    /// The shared token request that names `repository`: the one made for
    /// it by another repository, or a new one naming it and the endpoint's
    /// other planned repositories. `None` when it is to ask alone.
    fn token_batch(
        &self,
        repository: &str,
        url: &Url,
        challenge: &BearerChallenge<'_>,
    ) -> Option<Arc<TokenBatch>> {
        let origin = origin(url);
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let key = (origin.clone(), repository.to_string());
        if let Some(batch) = tokens.joined.remove(&key)
            && batch.realm == challenge.realm
            && batch.service.as_deref() == challenge.service
        {
            return Some(batch);
        }
        let single = tokens.single.contains(challenge.realm);
        let planned = tokens.planned.entry(origin.clone()).or_default();
        planned.retain(|r| r != repository);
        if single || planned.is_empty() {
            return None;
        }
        let take = planned.len().min(MAX_SCOPES - 1);
        let mut repositories = vec![repository.to_string()];
        repositories.extend(planned.drain(..take));
        let batch = Arc::new(TokenBatch {
            realm: challenge.realm.to_string(),
            service: challenge.service.map(str::to_string),
            repositories,
            answer: tokio::sync::OnceCell::new(),
        });
        for other in &batch.repositories[1..] {
            tokens
                .joined
                .insert((origin.clone(), other.clone()), Arc::clone(&batch));
        }
        Some(batch)
    }

    /// A token from the realm for `actions` (`pull`, `pull,push`) on
    /// `repositories`, asked for with the credential (an identity token is
    /// exchanged with a POST).
    async fn token(
        &self,
        url: &Url,
        challenge: &BearerChallenge<'_>,
        credential: Option<&Credential>,
        helper_error: Option<ResolveError>,
        repositories: &[&str],
        actions: &str,
    ) -> Result<String, ResolveError> {
        let realm = challenge.realm;
        let mut token_url = Url::parse(realm).map_err(|e| ResolveError::InvalidResponse {
            url: redact_url(url),
            reason: format!("bad token realm `{realm}`: {e}"),
        })?;
        let scopes: Vec<String> = repositories
            .iter()
            .map(|r| format!("repository:{r}:{actions}"))
            .collect();
        {
            let mut query = token_url.query_pairs_mut();
            if let Some(service) = challenge.service {
                query.append_pair("service", service);
            }
            for scope in &scopes {
                query.append_pair("scope", scope);
            }
        }
        let response = match credential.and_then(|c| c.identity_token.as_deref()) {
            // An identity token (e.g. from `az acr login`) is an OAuth2
            // refresh token: exchange it with a POST to the realm.
            Some(refresh_token) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", refresh_token)
                    .append_pair("client_id", "digestpin");
                for scope in &scopes {
                    form.append_pair("scope", scope);
                }
                if let Some(service) = challenge.service {
                    form.append_pair("service", service);
                }
                let mut realm_url = token_url.clone();
                realm_url.set_query(None);
                self.http
                    .send_form(Method::POST, &realm_url, None, None, Some(&form.finish()))
                    .await?
            }
            None => {
                let basic = credential.map(Credential::basic);
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
        read_token(response, &token_url).await
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

/// A Bearer challenge's realm and service.
struct BearerChallenge<'a> {
    realm: &'a str,
    service: Option<&'a str>,
}

/// The repositories a JWT's `access` claim grants `pull` on, read without
/// checking the signature (the registry checks it; this only tells which
/// repositories may use the token). `None` when the token is not a JWT with
/// an `access` claim.
fn jwt_pull_access(token: &str) -> Option<HashSet<String>> {
    #[derive(Deserialize)]
    struct Claims {
        access: Vec<Access>,
    }
    #[derive(Deserialize)]
    struct Access {
        #[serde(rename = "type")]
        kind: String,
        name: String,
        #[serde(default)]
        actions: Vec<String>,
    }
    let mut parts = token.split('.');
    let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    Some(
        claims
            .access
            .into_iter()
            .filter(|a| a.kind == "repository" && a.actions.iter().any(|x| x == "pull" || x == "*"))
            .map(|a| a.name)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_access_is_read_and_anything_else_is_unknown() {
        let b64 = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let header = b64(serde_json::json!({"alg": "RS256"}));
        let claims = b64(serde_json::json!({"access": [
            {"type": "repository", "name": "team/a", "actions": ["pull"]},
            {"type": "repository", "name": "team/b", "actions": []},
            {"type": "repository", "name": "team/c", "actions": ["push", "*"]},
            {"type": "registry", "name": "catalog", "actions": ["*"]},
        ]}));
        let covered = jwt_pull_access(&format!("{header}.{claims}.c2ln"));
        assert_eq!(
            covered,
            Some(HashSet::from(["team/a".to_string(), "team/c".to_string()]))
        );
        let no_access = b64(serde_json::json!({"sub": "x"}));
        assert_eq!(jwt_pull_access(&format!("{header}.{no_access}.c2ln")), None);
        assert_eq!(jwt_pull_access("opaque-token"), None);
        assert_eq!(jwt_pull_access(&format!("{header}.{claims}")), None);
        assert_eq!(jwt_pull_access("a.!!!.c"), None);
    }

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
