//! Image references, by the Docker grammar of distribution/reference.
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] path ( "/" path )*
//! domain     := host [ ":" port ]         host: DNS name, IPv4, or "[" IPv6 "]"
//! path       := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! digest     := algorithm ":" hex         e.g. sha256:<64 hex>
//! ```
//!
//! A [`Reference`] keeps the text as the user wrote it (so a rewrite never
//! expands `nginx` to `docker.io/library/nginx`) and knows its normalised
//! registry and repository for resolution: no domain, or `index.docker.io`,
//! means `docker.io`, and a single-component Docker Hub name gets `library/`.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// Docker Hub's canonical registry name.
pub const DOCKER_HUB: &str = "docker.io";
/// The longest repository path the grammar allows (the registry not counted).
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// The longest tag.
pub const TAG_LENGTH_MAX: usize = 128;

/// Why a text is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("repository name must have at least one component")]
    Empty,
    #[error("invalid reference format")]
    InvalidFormat,
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    #[error("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")]
    NameTooLong,
    #[error("invalid registry `{0}`")]
    InvalidDomain(String),
    #[error(
        "invalid tag `{0}`: a tag is up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"
    )]
    InvalidTag(String),
    #[error("invalid digest format `{0}`")]
    InvalidDigest(String),
    #[error("unsupported digest algorithm `{0}`")]
    UnsupportedDigest(String),
    #[error("invalid checksum digest length for `{0}`")]
    InvalidDigestLength(String),
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexIdentifier(String),
}

/// A parsed image reference, holding the text as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    text: String,
    /// End of the name in `text`.
    name_end: usize,
    tag: Option<Range<usize>>,
    digest: Option<Range<usize>>,
    registry: String,
    repository: String,
}

impl Reference {
    /// Parses a reference as written in a manifest (`nginx`, `nginx:1.25`,
    /// `ghcr.io/org/app:v1@sha256:…`), with Docker's normalisation rules for
    /// the registry and repository.
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(ReferenceError::HexIdentifier(text.to_string()));
        }
        let (rest, digest) = match text.find('@') {
            Some(at) => {
                validate_digest(&text[at + 1..])?;
                (&text[..at], Some(at + 1..text.len()))
            }
            None => (text, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(colon) => {
                let colon = last_slash + colon;
                (&rest[..colon], Some(colon + 1..rest.len()))
            }
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(ReferenceError::InvalidFormat);
        }
        let (domain, remainder) = split_domain(name);
        if let Some(domain) = domain
            && !is_domain(domain)
        {
            return Err(ReferenceError::InvalidDomain(domain.to_string()));
        }
        if remainder.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ReferenceError::Uppercase(remainder.to_string()));
        }
        if remainder.is_empty() || !remainder.split('/').all(is_path_component) {
            return Err(ReferenceError::InvalidFormat);
        }
        if let Some(tag) = &tag {
            let tag = &text[tag.clone()];
            if !is_tag(tag) {
                return Err(ReferenceError::InvalidTag(tag.to_string()));
            }
        }
        let registry = match domain {
            None | Some("index.docker.io") => DOCKER_HUB.to_string(),
            Some(domain) => domain.to_string(),
        };
        let repository = if registry == DOCKER_HUB && !remainder.contains('/') {
            format!("library/{remainder}")
        } else {
            remainder.to_string()
        };
        if repository.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        Ok(Reference {
            text: text.to_string(),
            name_end: name.len(),
            tag,
            digest,
            registry,
            repository,
        })
    }

    /// The whole text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The name as written, without tag and digest.
    pub fn name(&self) -> &str {
        &self.text[..self.name_end]
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.clone().map(|r| &self.text[r])
    }

    /// The digest as written, `algorithm:hex`.
    pub fn digest(&self) -> Option<&str> {
        self.digest.clone().map(|r| &self.text[r])
    }

    /// The normalised registry: `docker.io` when none is given.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The normalised repository path: `library/nginx` for `nginx`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The fully qualified name, `docker.io/library/nginx`.
    pub fn normalized_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The fully qualified reference, as Go's `ParseNormalizedNamed(..).String()`.
    pub fn normalized_string(&self) -> String {
        let mut out = self.normalized_name();
        if let Some(tag) = self.tag() {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = self.digest() {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// The shortest name Docker would show: `nginx`, `user/app`, `ghcr.io/a/b`.
    pub fn familiar_name(&self) -> String {
        if self.registry == DOCKER_HUB {
            self.repository
                .strip_prefix("library/")
                .filter(|r| !r.contains('/'))
                .unwrap_or(&self.repository)
                .to_string()
        } else {
            self.normalized_name()
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

/// Docker's rule for whether the first component names a registry: it does
/// when it holds `.` or `:`, is `localhost`, or holds an uppercase letter.
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// `[a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += if bytes.get(i + 1) == Some(&b'_') {
                    2
                } else {
                    1
                }
            }
            b'-' => {
                while i < bytes.len() && bytes[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// `host [":" port]`, host being DNS labels, IPv4 or a bracketed IPv6 address.
fn is_domain(s: &str) -> bool {
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let Some(close) = v6.find(']') else {
            return false;
        };
        let (addr, after) = (&v6[..close], &v6[close + 1..]);
        if !is_ipv6_text(addr) {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match s.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (s, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    host.is_empty() && s.starts_with('[')
        || (!host.is_empty() && host.split('.').all(is_domain_label))
}

/// The grammar's IPv6 text: hex groups and colons (it does not check the value).
fn is_ipv6_text(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') && s.contains(':')
}

/// `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`
fn is_domain_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// `[\w][\w.-]{0,127}`
fn is_tag(s: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= TAG_LENGTH_MAX
        && word(b[0])
        && b.iter().all(|c| word(*c) || *c == b'.' || *c == b'-')
}

/// `algorithm ":" hex`, with a registered algorithm (sha256, sha384,
/// sha512), the right length and lowercase hex: the one digest check, used
/// by reference parsing and by the registry client for digests it receives.
pub fn validate_digest(s: &str) -> Result<(), ReferenceError> {
    let invalid = || ReferenceError::InvalidDigest(s.to_string());
    let (algorithm, hex) = s.split_once(':').ok_or_else(invalid)?;
    // algorithm := component (separator component)*; component := [a-z0-9]+ ; separator := [+._-]
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.split(['+', '.', '_', '-']).all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !algorithm_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let expected = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        other => return Err(ReferenceError::UnsupportedDigest(other.to_string())),
    };
    if hex.len() != expected {
        return Err(ReferenceError::InvalidDigestLength(s.to_string()));
    }
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(invalid());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    #[test]
    fn accessors_keep_the_text() {
        let r = Reference::parse("nginx:1.25").unwrap();
        assert_eq!(
            (r.name(), r.tag(), r.digest(), r.registry(), r.repository()),
            ("nginx", Some("1.25"), None, "docker.io", "library/nginx")
        );
        let text = format!("localhost:5000/team/app:v1@{D}");
        let r = Reference::parse(&text).unwrap();
        assert_eq!(r.as_str(), text);
        assert_eq!(r.name(), "localhost:5000/team/app");
        assert_eq!(r.tag(), Some("v1"));
        assert_eq!(r.digest(), Some(D));
        assert_eq!(r.registry(), "localhost:5000");
        assert_eq!(r.repository(), "team/app");
        let r = Reference::parse("index.docker.io/user/app").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("docker.io", "user/app", None)
        );
        let r = Reference::parse("[::1]:5000/x:2").unwrap();
        assert_eq!((r.registry(), r.repository()), ("[::1]:5000", "x"));
        let r = Reference::parse("localhost:5000").unwrap();
        assert_eq!((r.name(), r.tag()), ("localhost", Some("5000")));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(Reference::parse(""), Err(ReferenceError::Empty));
        assert!(matches!(
            Reference::parse("Nginx"),
            Err(ReferenceError::Uppercase(_))
        ));
        assert!(matches!(
            Reference::parse("a/B"),
            Err(ReferenceError::Uppercase(_))
        ));
        assert!(matches!(
            Reference::parse("nginx:-x"),
            Err(ReferenceError::InvalidTag(_))
        ));
        assert!(matches!(
            Reference::parse("nginx@md5:ffffffffffffffffffffffffffffffff"),
            Err(ReferenceError::UnsupportedDigest(_))
        ));
        assert!(matches!(
            Reference::parse("nginx@sha256:ffffffffffffffffffffffffffffffff"),
            Err(ReferenceError::InvalidDigestLength(_))
        ));
        let long = format!("a/{}", "b".repeat(260));
        assert_eq!(Reference::parse(&long), Err(ReferenceError::NameTooLong));
        assert!(matches!(
            Reference::parse(&"f".repeat(64)),
            Err(ReferenceError::HexIdentifier(_))
        ));
        assert!(Reference::parse("${IMAGE}").is_err());
        assert!(Reference::parse("{{ .Values.image }}").is_err());
        assert!(Reference::parse("a b").is_err());
        assert!(Reference::parse("-x/y").is_err());
    }

    #[test]
    fn familiar_and_normalized() {
        let r = Reference::parse("docker.io/library/nginx:1").unwrap();
        assert_eq!(r.familiar_name(), "nginx");
        assert_eq!(r.normalized_string(), "docker.io/library/nginx:1");
        let r = Reference::parse("ghcr.io/a/b").unwrap();
        assert_eq!(r.familiar_name(), "ghcr.io/a/b");
    }
}
