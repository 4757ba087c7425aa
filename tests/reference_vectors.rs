//! Conformance with the Docker reference grammar: the test vectors of
//! distribution/reference (`reference_test.go` and `normalize_test.go`,
//! Apache-2.0, https://github.com/distribution/reference), ported as a table.
//!
//! Each row names the Go test it comes from. Go's `Parse` does not normalise
//! and `ParseNormalizedNamed` does; [`Reference::parse`] behaves like the
//! latter (with tag and digest), so rows from `Parse` check the text, tag and
//! digest as written and the registry Docker would contact. Rows whose
//! expectation differs from Go's carry the reason in their note; rows of
//! Go-only APIs are listed as not applicable, with the reason.

use digestpin::reference::{Reference, ReferenceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Any error.
    Any,
    Format,
    Uppercase,
    TooLong,
    Empty,
    DigestLength,
    DigestUnsupported,
    /// Not a bare name: an error, or a tag or digest present.
    NotAName,
}

#[derive(Debug, Default)]
struct Check {
    name: Option<&'static str>,
    registry: Option<&'static str>,
    repository: Option<&'static str>,
    tag: Option<&'static str>,
    digest: Option<&'static str>,
    normalized: Option<&'static str>,
    familiar: Option<&'static str>,
}

#[derive(Debug)]
enum Expect {
    Ok(Check),
    Err(Kind),
    /// Parses, but is not written in canonical form (`ParseNamed`).
    NotCanonical,
    /// `ParseDockerRef`: the canonical reference, `:latest` added when
    /// neither tag nor digest is given, the tag dropped when a digest is.
    DockerRef(&'static str),
    NotApplicable,
}

use Expect::{DockerRef, Err, NotApplicable, NotCanonical, Ok};

struct Vector {
    source: &'static str,
    input: &'static str,
    expect: Expect,
    note: Option<&'static str>,
}

fn v(
    source: &'static str,
    input: &'static str,
    expect: Expect,
    note: Option<&'static str>,
) -> Vector {
    Vector {
        source,
        input,
        expect,
        note,
    }
}

fn kind(err: &ReferenceError) -> Kind {
    match err {
        ReferenceError::Empty => Kind::Empty,
        ReferenceError::Uppercase(_) => Kind::Uppercase,
        ReferenceError::NameTooLong => Kind::TooLong,
        ReferenceError::UnsupportedDigest(_) => Kind::DigestUnsupported,
        ReferenceError::InvalidDigestLength(_) => Kind::DigestLength,
        ReferenceError::InvalidFormat
        | ReferenceError::InvalidDomain(_)
        | ReferenceError::InvalidTag(_)
        | ReferenceError::InvalidDigest(_)
        | ReferenceError::HexIdentifier(_) => Kind::Format,
    }
}

fn docker_ref(r: &Reference) -> String {
    match (r.tag(), r.digest()) {
        (_, Some(digest)) => format!("{}@{digest}", r.normalized_name()),
        (tag, None) => format!("{}:{}", r.normalized_name(), tag.unwrap_or("latest")),
    }
}

fn check(vector: &Vector) -> Result<(), String> {
    let parsed = Reference::parse(vector.input);
    match (&vector.expect, &parsed) {
        (NotApplicable, _) => Result::Ok(()),
        (Ok(c), Result::Ok(r)) => {
            let pairs: [(&str, Option<&str>, Option<String>); 7] = [
                ("name", c.name, Some(r.name().to_string())),
                ("registry", c.registry, Some(r.registry().to_string())),
                ("repository", c.repository, Some(r.repository().to_string())),
                ("tag", c.tag, r.tag().map(String::from)),
                ("digest", c.digest, r.digest().map(String::from)),
                ("normalized", c.normalized, Some(r.normalized_string())),
                ("familiar", c.familiar, Some(r.familiar_name())),
            ];
            for (what, expected, got) in pairs {
                if let Some(expected) = expected
                    && got.as_deref() != Some(expected)
                {
                    return Result::Err(format!("{what}: expected {expected:?}, got {got:?}"));
                }
            }
            // Fields the row leaves empty must be absent.
            if c.tag.is_none() && c.name.is_some() && r.tag().is_some() {
                return Result::Err(format!("unexpected tag {:?}", r.tag()));
            }
            if c.digest.is_none() && c.name.is_some() && r.digest().is_some() {
                return Result::Err(format!("unexpected digest {:?}", r.digest()));
            }
            if r.as_str() != vector.input {
                return Result::Err("the text was not kept as written".into());
            }
            Result::Ok(())
        }
        (Ok(_), Result::Err(e)) => Result::Err(format!("expected to parse, got error: {e}")),
        (Err(Kind::NotAName), Result::Ok(r)) if r.tag().is_some() || r.digest().is_some() => {
            Result::Ok(())
        }
        (Err(expected), Result::Ok(_)) => {
            Result::Err(format!("expected error {expected:?}, parsed"))
        }
        (Err(expected), Result::Err(e)) => {
            let got = kind(e);
            if *expected == Kind::Any || *expected == Kind::NotAName || *expected == got {
                Result::Ok(())
            } else {
                Result::Err(format!("expected error {expected:?}, got {got:?} ({e})"))
            }
        }
        (NotCanonical, Result::Ok(r)) if r.normalized_string() != vector.input => Result::Ok(()),
        (NotCanonical, Result::Ok(_)) => Result::Err("expected a non-canonical name".into()),
        (NotCanonical, Result::Err(_)) => Result::Ok(()),
        (DockerRef(expected), Result::Ok(r)) if docker_ref(r) == *expected => Result::Ok(()),
        (DockerRef(expected), Result::Ok(r)) => {
            Result::Err(format!("expected {expected}, got {}", docker_ref(r)))
        }
        (DockerRef(_), Result::Err(e)) => Result::Err(format!("expected to parse, got error: {e}")),
    }
}

#[test]
fn distribution_reference_vectors() {
    let vectors = vectors();
    let mut failures = Vec::new();
    let mut not_applicable = 0;
    let mut noted = 0;
    for vector in &vectors {
        if matches!(vector.expect, NotApplicable) {
            not_applicable += 1;
            assert!(
                vector.note.is_some(),
                "{}: a row left out needs its reason",
                vector.input
            );
            continue;
        }
        noted += usize::from(vector.note.is_some());
        if let Result::Err(why) = check(vector) {
            failures.push(format!("{} {:?}: {why}", vector.source, vector.input));
        }
    }
    assert!(vectors.len() >= 240, "only {} vectors", vectors.len());
    assert!(not_applicable <= 12, "{not_applicable} rows left out");
    assert!(noted <= 12, "{noted} rows differ from Go");
    assert!(
        failures.is_empty(),
        "{} of {} vectors fail:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

mod round_trip {
    use super::Reference;
    use proptest::prelude::*;

    fn component() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,8}([_-][a-z0-9]{1,6}){0,2}(__[a-z0-9]{1,3})?"
    }

    fn reference() -> impl Strategy<Value = String> {
        (
            prop::option::of(prop::sample::select(vec![
                "ghcr.io",
                "localhost:5000",
                "127.0.0.1:5000",
                "[::1]:5000",
                "docker.io",
                "registry.example.com",
            ])),
            prop::collection::vec(component(), 1..4),
            prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
            prop::option::of("[a-f0-9]{64}"),
        )
            .prop_map(|(domain, path, tag, digest)| {
                let mut text = domain.map(|d| format!("{d}/")).unwrap_or_default();
                text.push_str(&path.join("/"));
                if let Some(tag) = tag {
                    text.push(':');
                    text.push_str(&tag);
                }
                if let Some(digest) = digest {
                    text.push_str("@sha256:");
                    text.push_str(&digest);
                }
                text
            })
    }

    proptest! {
        #[test]
        fn parsing_keeps_the_text_and_its_parts_reassemble(text in reference()) {
            prop_assume!(!(text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())));
            let r = Reference::parse(&text).unwrap();
            prop_assert_eq!(r.as_str(), text.as_str());
            let mut again = r.name().to_string();
            if let Some(tag) = r.tag() {
                again.push(':');
                again.push_str(tag);
            }
            if let Some(digest) = r.digest() {
                again.push('@');
                again.push_str(digest);
            }
            prop_assert_eq!(again, text.clone());
            let normalized = Reference::parse(&r.normalized_string()).unwrap();
            prop_assert_eq!(normalized.registry(), r.registry());
            prop_assert_eq!(normalized.repository(), r.repository());
        }
    }
}

#[rustfmt::skip]
fn vectors() -> Vec<Vector> {
    vec![
    v(r#"reference_test.go TestReferenceParse"#, r#"test_com"#, Ok(Check { name: Some(r#"test_com"#), registry: Some(r#"docker.io"#), repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"test.com:tag"#, Ok(Check { name: Some(r#"test.com"#), registry: Some(r#"docker.io"#), repository: None, tag: Some(r#"tag"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"test.com:5000"#, Ok(Check { name: Some(r#"test.com"#), registry: Some(r#"docker.io"#), repository: None, tag: Some(r#"5000"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"test.com/repo:tag"#, Ok(Check { name: Some(r#"test.com/repo"#), registry: Some(r#"test.com"#), repository: None, tag: Some(r#"tag"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"test:5000/repo"#, Ok(Check { name: Some(r#"test:5000/repo"#), registry: Some(r#"test:5000"#), repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"test:5000/repo:tag"#, Ok(Check { name: Some(r#"test:5000/repo"#), registry: Some(r#"test:5000"#), repository: None, tag: Some(r#"tag"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"test:5000/repo@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#, Ok(Check { name: Some(r#"test:5000/repo"#), registry: Some(r#"test:5000"#), repository: None, tag: None, digest: Some(r#"sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#), normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"test:5000/repo:tag@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#, Ok(Check { name: Some(r#"test:5000/repo"#), registry: Some(r#"test:5000"#), repository: None, tag: Some(r#"tag"#), digest: Some(r#"sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#), normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"test:5000/repo"#, Ok(Check { name: Some(r#"test:5000/repo"#), registry: Some(r#"test:5000"#), repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#""#, Err(Kind::Empty), None),
    v(r#"reference_test.go TestReferenceParse"#, r#":justtag"#, Err(Kind::Format), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#, Err(Kind::Format), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"repo@sha256:ffffffffffffffffffffffffffffffffff"#, Err(Kind::DigestLength), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#, Err(Kind::DigestUnsupported), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"validname@sha512:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#, Ok(Check { name: Some(r#"validname"#), registry: None, repository: None, tag: None, digest: Some(r#"sha512:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#), normalized: None, familiar: None }), Some(r#"Go: ErrDigestUnsupported only because its test binary does not register sha512; go-digest defines sha512, so it is accepted"#)),
    v(r#"reference_test.go TestReferenceParse"#, r#"Uppercase:tag"#, Err(Kind::Uppercase), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"test:5000/Uppercase/lowercase:tag"#, Err(Kind::Uppercase), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"lowercase:Uppercase"#, Ok(Check { name: Some(r#"lowercase"#), registry: Some(r#"docker.io"#), repository: None, tag: Some(r#"Uppercase"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"domain/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:tag"#, Err(Kind::TooLong), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a:tag-puts-this-over-max"#, Ok(Check { name: Some(r#"a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a"#), registry: Some(r#"docker.io"#), repository: None, tag: Some(r#"tag-puts-this-over-max"#), digest: None, normalized: None, familiar: None }), Some(r#"Go Parse takes any first component ('a') as the domain; Docker (and digestpin) resolve it on docker.io"#)),
    v(r#"reference_test.go TestReferenceParse"#, r#"aa/asdf$$^/aa"#, Err(Kind::Format), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"sub-dom1.foo.com/bar/baz/quux"#, Ok(Check { name: Some(r#"sub-dom1.foo.com/bar/baz/quux"#), registry: Some(r#"sub-dom1.foo.com"#), repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"sub-dom1.foo.com/bar/baz/quux:some-long-tag"#, Ok(Check { name: Some(r#"sub-dom1.foo.com/bar/baz/quux"#), registry: Some(r#"sub-dom1.foo.com"#), repository: None, tag: Some(r#"some-long-tag"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"b.gcr.io/test.example.com/my-app:test.example.com"#, Ok(Check { name: Some(r#"b.gcr.io/test.example.com/my-app"#), registry: Some(r#"b.gcr.io"#), repository: None, tag: Some(r#"test.example.com"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"xn--n3h.com/myimage:xn--n3h.com"#, Ok(Check { name: Some(r#"xn--n3h.com/myimage"#), registry: Some(r#"xn--n3h.com"#), repository: None, tag: Some(r#"xn--n3h.com"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"xn--7o8h.com/myimage:xn--7o8h.com@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#, Ok(Check { name: Some(r#"xn--7o8h.com/myimage"#), registry: Some(r#"xn--7o8h.com"#), repository: None, tag: Some(r#"xn--7o8h.com"#), digest: Some(r#"sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#), normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"foo_bar.com:8080"#, Ok(Check { name: Some(r#"foo_bar.com"#), registry: Some(r#"docker.io"#), repository: None, tag: Some(r#"8080"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"foo/foo_bar.com:8080"#, Ok(Check { name: Some(r#"foo/foo_bar.com"#), registry: Some(r#"docker.io"#), repository: None, tag: Some(r#"8080"#), digest: None, normalized: None, familiar: None }), Some(r#"Go Parse takes any first component ('foo') as the domain; Docker (and digestpin) resolve it on docker.io"#)),
    v(r#"reference_test.go TestReferenceParse"#, r#"192.168.1.1"#, Ok(Check { name: Some(r#"192.168.1.1"#), registry: Some(r#"docker.io"#), repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"192.168.1.1:tag"#, Ok(Check { name: Some(r#"192.168.1.1"#), registry: Some(r#"docker.io"#), repository: None, tag: Some(r#"tag"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"192.168.1.1:5000"#, Ok(Check { name: Some(r#"192.168.1.1"#), registry: Some(r#"docker.io"#), repository: None, tag: Some(r#"5000"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"192.168.1.1/repo"#, Ok(Check { name: Some(r#"192.168.1.1/repo"#), registry: Some(r#"192.168.1.1"#), repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"192.168.1.1:5000/repo"#, Ok(Check { name: Some(r#"192.168.1.1:5000/repo"#), registry: Some(r#"192.168.1.1:5000"#), repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"192.168.1.1:5000/repo:5050"#, Ok(Check { name: Some(r#"192.168.1.1:5000/repo"#), registry: Some(r#"192.168.1.1:5000"#), repository: None, tag: Some(r#"5050"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[2001:db8::1]"#, Err(Kind::Format), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[2001:db8::1]:5000"#, Err(Kind::Format), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[2001:db8::1]:tag"#, Err(Kind::Format), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[2001:db8::1]/repo"#, Ok(Check { name: Some(r#"[2001:db8::1]/repo"#), registry: Some(r#"[2001:db8::1]"#), repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[2001:db8:1:2:3:4:5:6]/repo:tag"#, Ok(Check { name: Some(r#"[2001:db8:1:2:3:4:5:6]/repo"#), registry: Some(r#"[2001:db8:1:2:3:4:5:6]"#), repository: None, tag: Some(r#"tag"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[2001:db8::1]:5000/repo"#, Ok(Check { name: Some(r#"[2001:db8::1]:5000/repo"#), registry: Some(r#"[2001:db8::1]:5000"#), repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[2001:db8::1]:5000/repo:tag"#, Ok(Check { name: Some(r#"[2001:db8::1]:5000/repo"#), registry: Some(r#"[2001:db8::1]:5000"#), repository: None, tag: Some(r#"tag"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[2001:db8::1]:5000/repo@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#, Ok(Check { name: Some(r#"[2001:db8::1]:5000/repo"#), registry: Some(r#"[2001:db8::1]:5000"#), repository: None, tag: None, digest: Some(r#"sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#), normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[2001:db8::1]:5000/repo:tag@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#, Ok(Check { name: Some(r#"[2001:db8::1]:5000/repo"#), registry: Some(r#"[2001:db8::1]:5000"#), repository: None, tag: Some(r#"tag"#), digest: Some(r#"sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#), normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[2001:db8::]:5000/repo"#, Ok(Check { name: Some(r#"[2001:db8::]:5000/repo"#), registry: Some(r#"[2001:db8::]:5000"#), repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[::1]:5000/repo"#, Ok(Check { name: Some(r#"[::1]:5000/repo"#), registry: Some(r#"[::1]:5000"#), repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[fe80::1%eth0]:5000/repo"#, Err(Kind::Format), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"[fe80::1%@invalidzone]:5000/repo"#, Err(Kind::Format), None),
    v(r#"reference_test.go TestReferenceParse"#, r#"example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:tag"#, Ok(Check { name: Some(r#"example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"#), registry: Some(r#"example.com"#), repository: None, tag: Some(r#"tag"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestWithNameFailure (as a name: no tag, no digest)"#, r#""#, Err(Kind::NotAName), None),
    v(r#"reference_test.go TestWithNameFailure (as a name: no tag, no digest)"#, r#":justtag"#, Err(Kind::NotAName), None),
    v(r#"reference_test.go TestWithNameFailure (as a name: no tag, no digest)"#, r#"@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#, Err(Kind::NotAName), None),
    v(r#"reference_test.go TestWithNameFailure (as a name: no tag, no digest)"#, r#"validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"#, Err(Kind::NotAName), None),
    v(r#"reference_test.go TestWithNameFailure (as a name: no tag, no digest)"#, r#"example.com/repo:tag"#, Err(Kind::NotAName), None),
    v(r#"reference_test.go TestWithNameFailure (as a name: no tag, no digest)"#, r#"example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"#, Err(Kind::TooLong), None),
    v(r#"reference_test.go TestWithNameFailure (as a name: no tag, no digest)"#, r#"aa/asdf$$^/aa"#, Err(Kind::NotAName), None),
    v(r#"reference_test.go TestDomainAndPath"#, r#"test.com/foo"#, Ok(Check { name: None, registry: Some(r#"test.com"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestDomainAndPath"#, r#"test_com/foo"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"test_com/foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestDomainAndPath"#, r#"test:8080/foo"#, Ok(Check { name: None, registry: Some(r#"test:8080"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestDomainAndPath"#, r#"test.com:8080/foo"#, Ok(Check { name: None, registry: Some(r#"test.com:8080"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestDomainAndPath"#, r#"test-com:8080/foo"#, Ok(Check { name: None, registry: Some(r#"test-com:8080"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestDomainAndPath"#, r#"xn--n3h.com:18080/foo"#, Ok(Check { name: None, registry: Some(r#"xn--n3h.com:18080"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestSerialization"#, r#""#, Err(Kind::Empty), None),
    v(r#"reference_test.go TestSerialization"#, r#"example.com:8000/named"#, Ok(Check { name: Some(r#"example.com:8000/named"#), registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestSerialization"#, r#"example.com:8000/named:tagged"#, Ok(Check { name: Some(r#"example.com:8000/named"#), registry: None, repository: None, tag: Some(r#"tagged"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestSerialization"#, r#"other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112"#, Ok(Check { name: Some(r#"other.com/named"#), registry: None, repository: None, tag: None, digest: Some(r#"sha256:1234567890098765432112345667890098765432112345667890098765432112"#), normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestSerialization"#, r#"(JSON round trip)"#, NotApplicable, Some(r#"Go JSON encoding of reference fields; digestpin keeps references as text"#)),
    v(r#"reference_test.go TestWithTag/TestWithDigest"#, r#"test.com/foo:tag"#, Ok(Check { name: Some(r#"test.com/foo"#), registry: None, repository: None, tag: Some(r#"tag"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestWithTag/TestWithDigest"#, r#"foo:tag2"#, Ok(Check { name: Some(r#"foo"#), registry: None, repository: None, tag: Some(r#"tag2"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestWithTag/TestWithDigest"#, r#"test.com:8000/foo:tag4"#, Ok(Check { name: Some(r#"test.com:8000/foo"#), registry: None, repository: None, tag: Some(r#"tag4"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestWithTag/TestWithDigest"#, r#"test.com:8000/foo:TAG5"#, Ok(Check { name: Some(r#"test.com:8000/foo"#), registry: None, repository: None, tag: Some(r#"TAG5"#), digest: None, normalized: None, familiar: None }), None),
    v(r#"reference_test.go TestWithTag/TestWithDigest"#, r#"test.com:8000/foo:TAG5@sha256:1234567890098765432112345667890098765"#, Err(Kind::DigestLength), Some(r#"Go WithDigest does not check the digest length; parsing the combined text does"#)),
    v(r#"reference_test.go TestWithTag/TestWithDigest"#, r#"test.com/foo@sha256:1234567890098765432112345667890098765"#, Err(Kind::DigestLength), Some(r#"Go WithDigest does not check the digest length; parsing the combined text does"#)),
    v(r#"reference_test.go TestWithTag/TestWithDigest"#, r#"foo@sha256:1234567890098765432112345667890098765"#, Err(Kind::DigestLength), Some(r#"Go WithDigest does not check the digest length; parsing the combined text does"#)),
    v(r#"reference_test.go TestWithTag/TestWithDigest"#, r#"test.com:8000/foo@sha256:1234567890098765432112345667890098765"#, Err(Kind::DigestLength), Some(r#"Go WithDigest does not check the digest length; parsing the combined text does"#)),
    v(r#"reference_test.go TestWithTag/TestWithDigest"#, r#"test.com:8000/foo:latest@sha256:1234567890098765432112345667890098765"#, Err(Kind::DigestLength), Some(r#"Go WithDigest does not check the digest length; parsing the combined text does"#)),
    v(r#"reference_test.go TestParseNamed (canonical names)"#, r#"test.com/foo"#, Ok(Check { name: None, registry: Some(r#"test.com"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: Some(r#"test.com/foo"#), familiar: None }), None),
    v(r#"reference_test.go TestParseNamed (canonical names)"#, r#"test:8080/foo"#, Ok(Check { name: None, registry: Some(r#"test:8080"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: Some(r#"test:8080/foo"#), familiar: None }), None),
    v(r#"reference_test.go TestParseNamed (canonical names)"#, r#"test_com/foo"#, NotCanonical, None),
    v(r#"reference_test.go TestParseNamed (canonical names)"#, r#"test.com"#, NotCanonical, None),
    v(r#"reference_test.go TestParseNamed (canonical names)"#, r#"foo"#, NotCanonical, None),
    v(r#"reference_test.go TestParseNamed (canonical names)"#, r#"library/foo"#, NotCanonical, None),
    v(r#"reference_test.go TestParseNamed (canonical names)"#, r#"docker.io/library/foo"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/foo"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/foo"#), familiar: None }), None),
    v(r#"reference_test.go TestParseNamed (canonical names)"#, r#"docker.io/foo"#, NotCanonical, None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"docker/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"library/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"localhost/library/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"localhost/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"LOCALDOMAIN/library/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"LOCALDOMAIN/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"docker.io/docker/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"docker.io/library/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"docker.io/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"index.docker.io/docker/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"index.docker.io/library/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"index.docker.io/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"127.0.0.1:5000/docker/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"127.0.0.1:5000/library/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"127.0.0.1:5000/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"192.168.0.1"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"192.168.0.1:80"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"192.168.0.1:8/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"192.168.0.2:25000/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"[fc00::1]:5000/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"[fc00::1]:5000/docker/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"[fc00:1:2:3:4:5:6:7]:5000/library/debian"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"Docker/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"DOCKER/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"https://github.com/docker/docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"docker/Docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"-docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"-docker/docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"-docker.io/docker/docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"docker///docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"docker.io/docker/Docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"docker.io/docker///docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"[fc00::1]"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"[fc00::1]:5000"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"fc00::1:5000/debian"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"[fe80::1%eth0]:5000/debian"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"[2001:db8:3:4::192.0.2.33]:5000/debian"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateReferenceName"#, r#"1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"docker/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"docker-rules/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"docker---rules/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"doc/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"d/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"jess/t"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"dock__er/docker"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"docker/Docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"docker///docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"-docker/docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"docker-/docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"-docker-/docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"____/____"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"_docker/_docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"dock..er/docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"dock_.er/docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"dock-.er/docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"docker/"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestValidateRemoteName"#, r#"this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"localhost/fooo"#, Ok(Check { name: None, registry: Some(r#"localhost"#), repository: Some(r#"fooo"#), tag: None, digest: None, normalized: Some(r#"localhost/fooo"#), familiar: Some(r#"localhost/fooo"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"localhost/fooo"#, Ok(Check { name: None, registry: Some(r#"localhost"#), repository: Some(r#"fooo"#), tag: None, digest: None, normalized: Some(r#"localhost/fooo"#), familiar: Some(r#"localhost/fooo"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"localhost/fooo"#, Ok(Check { name: None, registry: Some(r#"localhost"#), repository: Some(r#"fooo"#), tag: None, digest: None, normalized: Some(r#"localhost/fooo"#), familiar: Some(r#"localhost/fooo"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"localhost/fooo/bar"#, Ok(Check { name: None, registry: Some(r#"localhost"#), repository: Some(r#"fooo/bar"#), tag: None, digest: None, normalized: Some(r#"localhost/fooo/bar"#), familiar: Some(r#"localhost/fooo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"localhost/fooo/bar"#, Ok(Check { name: None, registry: Some(r#"localhost"#), repository: Some(r#"fooo/bar"#), tag: None, digest: None, normalized: Some(r#"localhost/fooo/bar"#), familiar: Some(r#"localhost/fooo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"localhost/fooo/bar"#, Ok(Check { name: None, registry: Some(r#"localhost"#), repository: Some(r#"fooo/bar"#), tag: None, digest: None, normalized: Some(r#"localhost/fooo/bar"#), familiar: Some(r#"localhost/fooo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"LOCALDOMAIN/fooo"#, Ok(Check { name: None, registry: Some(r#"LOCALDOMAIN"#), repository: Some(r#"fooo"#), tag: None, digest: None, normalized: Some(r#"LOCALDOMAIN/fooo"#), familiar: Some(r#"LOCALDOMAIN/fooo"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"LOCALDOMAIN/fooo"#, Ok(Check { name: None, registry: Some(r#"LOCALDOMAIN"#), repository: Some(r#"fooo"#), tag: None, digest: None, normalized: Some(r#"LOCALDOMAIN/fooo"#), familiar: Some(r#"LOCALDOMAIN/fooo"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"LOCALDOMAIN/fooo"#, Ok(Check { name: None, registry: Some(r#"LOCALDOMAIN"#), repository: Some(r#"fooo"#), tag: None, digest: None, normalized: Some(r#"LOCALDOMAIN/fooo"#), familiar: Some(r#"LOCALDOMAIN/fooo"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"LOCALDOMAIN/fooo/bar"#, Ok(Check { name: None, registry: Some(r#"LOCALDOMAIN"#), repository: Some(r#"fooo/bar"#), tag: None, digest: None, normalized: Some(r#"LOCALDOMAIN/fooo/bar"#), familiar: Some(r#"LOCALDOMAIN/fooo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"LOCALDOMAIN/fooo/bar"#, Ok(Check { name: None, registry: Some(r#"LOCALDOMAIN"#), repository: Some(r#"fooo/bar"#), tag: None, digest: None, normalized: Some(r#"LOCALDOMAIN/fooo/bar"#), familiar: Some(r#"LOCALDOMAIN/fooo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"LOCALDOMAIN/fooo/bar"#, Ok(Check { name: None, registry: Some(r#"LOCALDOMAIN"#), repository: Some(r#"fooo/bar"#), tag: None, digest: None, normalized: Some(r#"LOCALDOMAIN/fooo/bar"#), familiar: Some(r#"LOCALDOMAIN/fooo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"fooo/bar"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"fooo/bar"#), tag: None, digest: None, normalized: Some(r#"docker.io/fooo/bar"#), familiar: Some(r#"fooo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"docker.io/fooo/bar"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"fooo/bar"#), tag: None, digest: None, normalized: Some(r#"docker.io/fooo/bar"#), familiar: Some(r#"fooo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"index.docker.io/fooo/bar"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"fooo/bar"#), tag: None, digest: None, normalized: Some(r#"docker.io/fooo/bar"#), familiar: Some(r#"fooo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"ubuntu"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/ubuntu"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/ubuntu"#), familiar: Some(r#"ubuntu"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"docker.io/library/ubuntu"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/ubuntu"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/ubuntu"#), familiar: Some(r#"ubuntu"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"library/ubuntu"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/ubuntu"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/ubuntu"#), familiar: Some(r#"ubuntu"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"nonlibrary/ubuntu"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"nonlibrary/ubuntu"#), tag: None, digest: None, normalized: Some(r#"docker.io/nonlibrary/ubuntu"#), familiar: Some(r#"nonlibrary/ubuntu"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"docker.io/nonlibrary/ubuntu"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"nonlibrary/ubuntu"#), tag: None, digest: None, normalized: Some(r#"docker.io/nonlibrary/ubuntu"#), familiar: Some(r#"nonlibrary/ubuntu"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"other/library"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"other/library"#), tag: None, digest: None, normalized: Some(r#"docker.io/other/library"#), familiar: Some(r#"other/library"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"docker.io/other/library"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"other/library"#), tag: None, digest: None, normalized: Some(r#"docker.io/other/library"#), familiar: Some(r#"other/library"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"127.0.0.1:8000/private/moonbase"#, Ok(Check { name: None, registry: Some(r#"127.0.0.1:8000"#), repository: Some(r#"private/moonbase"#), tag: None, digest: None, normalized: Some(r#"127.0.0.1:8000/private/moonbase"#), familiar: Some(r#"127.0.0.1:8000/private/moonbase"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"127.0.0.1:8000/private/moonbase"#, Ok(Check { name: None, registry: Some(r#"127.0.0.1:8000"#), repository: Some(r#"private/moonbase"#), tag: None, digest: None, normalized: Some(r#"127.0.0.1:8000/private/moonbase"#), familiar: Some(r#"127.0.0.1:8000/private/moonbase"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"127.0.0.1:8000/privatebase"#, Ok(Check { name: None, registry: Some(r#"127.0.0.1:8000"#), repository: Some(r#"privatebase"#), tag: None, digest: None, normalized: Some(r#"127.0.0.1:8000/privatebase"#), familiar: Some(r#"127.0.0.1:8000/privatebase"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"127.0.0.1:8000/privatebase"#, Ok(Check { name: None, registry: Some(r#"127.0.0.1:8000"#), repository: Some(r#"privatebase"#), tag: None, digest: None, normalized: Some(r#"127.0.0.1:8000/privatebase"#), familiar: Some(r#"127.0.0.1:8000/privatebase"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"example.com/private/moonbase"#, Ok(Check { name: None, registry: Some(r#"example.com"#), repository: Some(r#"private/moonbase"#), tag: None, digest: None, normalized: Some(r#"example.com/private/moonbase"#), familiar: Some(r#"example.com/private/moonbase"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"example.com/private/moonbase"#, Ok(Check { name: None, registry: Some(r#"example.com"#), repository: Some(r#"private/moonbase"#), tag: None, digest: None, normalized: Some(r#"example.com/private/moonbase"#), familiar: Some(r#"example.com/private/moonbase"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"example.com/privatebase"#, Ok(Check { name: None, registry: Some(r#"example.com"#), repository: Some(r#"privatebase"#), tag: None, digest: None, normalized: Some(r#"example.com/privatebase"#), familiar: Some(r#"example.com/privatebase"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"example.com/privatebase"#, Ok(Check { name: None, registry: Some(r#"example.com"#), repository: Some(r#"privatebase"#), tag: None, digest: None, normalized: Some(r#"example.com/privatebase"#), familiar: Some(r#"example.com/privatebase"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"example.com:8000/private/moonbase"#, Ok(Check { name: None, registry: Some(r#"example.com:8000"#), repository: Some(r#"private/moonbase"#), tag: None, digest: None, normalized: Some(r#"example.com:8000/private/moonbase"#), familiar: Some(r#"example.com:8000/private/moonbase"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"example.com:8000/private/moonbase"#, Ok(Check { name: None, registry: Some(r#"example.com:8000"#), repository: Some(r#"private/moonbase"#), tag: None, digest: None, normalized: Some(r#"example.com:8000/private/moonbase"#), familiar: Some(r#"example.com:8000/private/moonbase"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"example.com:8000/privatebasee"#, Ok(Check { name: None, registry: Some(r#"example.com:8000"#), repository: Some(r#"privatebasee"#), tag: None, digest: None, normalized: Some(r#"example.com:8000/privatebasee"#), familiar: Some(r#"example.com:8000/privatebasee"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"example.com:8000/privatebasee"#, Ok(Check { name: None, registry: Some(r#"example.com:8000"#), repository: Some(r#"privatebasee"#), tag: None, digest: None, normalized: Some(r#"example.com:8000/privatebasee"#), familiar: Some(r#"example.com:8000/privatebasee"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"ubuntu-12.04-base"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/ubuntu-12.04-base"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/ubuntu-12.04-base"#), familiar: Some(r#"ubuntu-12.04-base"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"docker.io/library/ubuntu-12.04-base"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/ubuntu-12.04-base"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/ubuntu-12.04-base"#), familiar: Some(r#"ubuntu-12.04-base"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"index.docker.io/library/ubuntu-12.04-base"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/ubuntu-12.04-base"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/ubuntu-12.04-base"#), familiar: Some(r#"ubuntu-12.04-base"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"foo"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/foo"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/foo"#), familiar: Some(r#"foo"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"docker.io/library/foo"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/foo"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/foo"#), familiar: Some(r#"foo"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"docker.io/foo"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/foo"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/foo"#), familiar: Some(r#"foo"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"library/foo/bar"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/foo/bar"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/foo/bar"#), familiar: Some(r#"library/foo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"docker.io/library/foo/bar"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/foo/bar"#), tag: None, digest: None, normalized: Some(r#"docker.io/library/foo/bar"#), familiar: Some(r#"library/foo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"store/foo/bar"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"store/foo/bar"#), tag: None, digest: None, normalized: Some(r#"docker.io/store/foo/bar"#), familiar: Some(r#"store/foo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"docker.io/store/foo/bar"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"store/foo/bar"#), tag: None, digest: None, normalized: Some(r#"docker.io/store/foo/bar"#), familiar: Some(r#"store/foo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"Foo/bar"#, Ok(Check { name: None, registry: Some(r#"Foo"#), repository: Some(r#"bar"#), tag: None, digest: None, normalized: Some(r#"Foo/bar"#), familiar: Some(r#"Foo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"Foo/bar"#, Ok(Check { name: None, registry: Some(r#"Foo"#), repository: Some(r#"bar"#), tag: None, digest: None, normalized: Some(r#"Foo/bar"#), familiar: Some(r#"Foo/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"FOO/bar"#, Ok(Check { name: None, registry: Some(r#"FOO"#), repository: Some(r#"bar"#), tag: None, digest: None, normalized: Some(r#"FOO/bar"#), familiar: Some(r#"FOO/bar"#) }), None),
    v(r#"normalize_test.go TestParseRepositoryInfo"#, r#"FOO/bar"#, Ok(Check { name: None, registry: Some(r#"FOO"#), repository: Some(r#"bar"#), tag: None, digest: None, normalized: Some(r#"FOO/bar"#), familiar: Some(r#"FOO/bar"#) }), None),
    v(r#"normalize_test.go TestParseReferenceWithTagAndDigest"#, r#"busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"#, Ok(Check { name: None, registry: None, repository: None, tag: Some(r#"latest"#), digest: Some(r#"sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"#), normalized: Some(r#"docker.io/library/busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"#), familiar: None }), None),
    v(r#"normalize_test.go TestInvalidReferenceComponents"#, r#"-foo"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestInvalidReferenceComponents"#, r#"busybox:-foo"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestInvalidReferenceComponents"#, r#"busybox@foo"#, Err(Kind::Any), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"redis"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/library/redis"#), familiar: None }), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"redis:latest"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/library/redis:latest"#), familiar: None }), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"docker.io/library/redis:latest"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/library/redis:latest"#), familiar: None }), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/library/redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"#), familiar: None }), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"docker.io/library/redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/library/redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"#), familiar: None }), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"dmcgowan/myapp"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/dmcgowan/myapp"#), familiar: None }), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"dmcgowan/myapp:latest"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/dmcgowan/myapp:latest"#), familiar: None }), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"docker.io/mcgowan/myapp:latest"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/mcgowan/myapp:latest"#), familiar: None }), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"#), familiar: None }), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"docker.io/dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"#), familiar: None }), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"#, Err(Kind::Any), Some(r#"Go ParseAnyReference reads a bare image ID; ParseNormalizedNamed, and digestpin, reject it"#)),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"#, Ok(Check { name: Some(r#"sha256"#), registry: Some(r#"docker.io"#), repository: Some(r#"library/sha256"#), tag: Some(r#"dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"#), digest: None, normalized: None, familiar: None }), Some(r#"Go ParseAnyReference reads a bare digest; as an image value it parses as ParseNormalizedNamed reads it: image sha256 with that tag"#)),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9"#), familiar: None }), None),
    v(r#"normalize_test.go TestParseAnyReference"#, r#"dbcc1"#, Ok(Check { name: None, registry: None, repository: None, tag: None, digest: None, normalized: Some(r#"docker.io/library/dbcc1"#), familiar: None }), None),
    v(r#"normalize_test.go TestNormalizedSplitHostname"#, r#"test.com/foo"#, Ok(Check { name: None, registry: Some(r#"test.com"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestNormalizedSplitHostname"#, r#"test_com/foo"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"test_com/foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestNormalizedSplitHostname"#, r#"docker/migrator"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"docker/migrator"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestNormalizedSplitHostname"#, r#"test.com:8080/foo"#, Ok(Check { name: None, registry: Some(r#"test.com:8080"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestNormalizedSplitHostname"#, r#"test-com:8080/foo"#, Ok(Check { name: None, registry: Some(r#"test-com:8080"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestNormalizedSplitHostname"#, r#"foo"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestNormalizedSplitHostname"#, r#"xn--n3h.com/foo"#, Ok(Check { name: None, registry: Some(r#"xn--n3h.com"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestNormalizedSplitHostname"#, r#"xn--n3h.com:18080/foo"#, Ok(Check { name: None, registry: Some(r#"xn--n3h.com:18080"#), repository: Some(r#"foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestNormalizedSplitHostname"#, r#"docker.io/foo"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestNormalizedSplitHostname"#, r#"docker.io/library/foo"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/foo"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestNormalizedSplitHostname"#, r#"docker.io/library/foo/bar"#, Ok(Check { name: None, registry: Some(r#"docker.io"#), repository: Some(r#"library/foo/bar"#), tag: None, digest: None, normalized: None, familiar: None }), None),
    v(r#"normalize_test.go TestMatch"#, r#"foo ~ foo/**/ba[rz]"#, NotApplicable, Some(r#"Go FamiliarMatch glob matching; not part of the grammar"#)),
    v(r#"normalize_test.go TestMatch"#, r#"foo/any/bat ~ foo/**/ba[rz]"#, NotApplicable, Some(r#"Go FamiliarMatch glob matching; not part of the grammar"#)),
    v(r#"normalize_test.go TestMatch"#, r#"foo/a/bar ~ foo/**/ba[rz]"#, NotApplicable, Some(r#"Go FamiliarMatch glob matching; not part of the grammar"#)),
    v(r#"normalize_test.go TestMatch"#, r#"foo/b/baz ~ foo/**/ba[rz]"#, NotApplicable, Some(r#"Go FamiliarMatch glob matching; not part of the grammar"#)),
    v(r#"normalize_test.go TestMatch"#, r#"foo/c/baz:tag ~ foo/**/ba[rz]"#, NotApplicable, Some(r#"Go FamiliarMatch glob matching; not part of the grammar"#)),
    v(r#"normalize_test.go TestMatch"#, r#"foo/c/baz:tag ~ foo/*/baz:tag"#, NotApplicable, Some(r#"Go FamiliarMatch glob matching; not part of the grammar"#)),
    v(r#"normalize_test.go TestMatch"#, r#"foo/c/baz:tag ~ foo/c/baz:tag"#, NotApplicable, Some(r#"Go FamiliarMatch glob matching; not part of the grammar"#)),
    v(r#"normalize_test.go TestMatch"#, r#"example.com/foo/c/baz:tag ~ */foo/c/baz"#, NotApplicable, Some(r#"Go FamiliarMatch glob matching; not part of the grammar"#)),
    v(r#"normalize_test.go TestMatch"#, r#"example.com/foo/c/baz:tag ~ example.com/foo/c/baz"#, NotApplicable, Some(r#"Go FamiliarMatch glob matching; not part of the grammar"#)),
    v(r#"normalize_test.go TestParseDockerRef"#, r#"busybox"#, DockerRef(r#"docker.io/library/busybox:latest"#), None),
    v(r#"normalize_test.go TestParseDockerRef"#, r#"busybox:latest"#, DockerRef(r#"docker.io/library/busybox:latest"#), None),
    v(r#"normalize_test.go TestParseDockerRef"#, r#"busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"#, DockerRef(r#"docker.io/library/busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"#), None),
    v(r#"normalize_test.go TestParseDockerRef"#, r#"library/busybox"#, DockerRef(r#"docker.io/library/busybox:latest"#), None),
    v(r#"normalize_test.go TestParseDockerRef"#, r#"docker.io/busybox"#, DockerRef(r#"docker.io/library/busybox:latest"#), None),
    v(r#"normalize_test.go TestParseDockerRef"#, r#"docker.io/library/busybox"#, DockerRef(r#"docker.io/library/busybox:latest"#), None),
    v(r#"normalize_test.go TestParseDockerRef"#, r#"docker.io/busybox:latest"#, DockerRef(r#"docker.io/library/busybox:latest"#), None),
    v(r#"normalize_test.go TestParseDockerRef"#, r#"library/busybox:latest"#, DockerRef(r#"docker.io/library/busybox:latest"#), None),
    v(r#"normalize_test.go TestParseDockerRef"#, r#"docker.io/library/busybox:latest"#, DockerRef(r#"docker.io/library/busybox:latest"#), None),
    v(r#"normalize_test.go TestParseDockerRef"#, r#"gcr.io/library/busybox"#, DockerRef(r#"gcr.io/library/busybox:latest"#), None),
    v(r#"normalize_test.go TestParseDockerRef"#, r#"gcr.io/library/busybox:latest@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"#, DockerRef(r#"gcr.io/library/busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"#), None),
    ]
}
