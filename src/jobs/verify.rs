//! The `verify` job: every pin's digest still exists in the registry, and
//! its tag (if known) still names it. Nothing is rewritten.

use super::Location;
use super::tracked::{Tracked, current, tracked};
use crate::registry::{ResolveError, Resolver};
use crate::scan::ScannedFile;

/// What `verify` found wrong with a pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The registry no longer has the pinned digest.
    Missing,
    /// The registry answers the tag with the pinned digest but has no
    /// manifest under it: the digest was never served as this tag's content
    /// (a wrong `Docker-Content-Digest`, from a proxy say), not deleted.
    NeverServed { tag: String },
    /// The tag now names other content.
    TagMoved { tag: String, new: String },
    /// The tag is gone from the registry.
    TagGone { tag: String },
    /// The registry could not be asked.
    Failed(ResolveError),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing => f.write_str("the pinned digest is no longer in the registry"),
            Problem::NeverServed { tag } => write!(
                f,
                "this digest was never served for tag {tag}: the registry names it for the tag \
                 but has no manifest under it (a wrong Docker-Content-Digest? pin again with \
                 --verify-digest)"
            ),
            Problem::TagMoved { tag, new } => write!(f, "tag moved: {tag} now names {new}"),
            Problem::TagGone { tag } => write!(f, "tag {tag} is no longer in the registry"),
            Problem::Failed(e) => write!(f, "cannot verify: {e}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Verified {
    pub at: Location,
    pub reference: String,
    pub digest: String,
    pub problem: Problem,
    /// The pinned digest in its repository.
    pub key: crate::registry::DigestKey,
}

/// Checks every pin: its digest exists, and its tag (if known) still names it.
pub fn verify(files: &[ScannedFile], resolver: &Resolver) -> (usize, Vec<Verified>) {
    let pins = tracked(files);
    let exists = resolver.exist_all(&pins.iter().map(Tracked::digest_key).collect::<Vec<_>>());
    let now = current(&pins, resolver);
    let mut out = Vec::new();
    for (pin, result) in pins.iter().zip(now) {
        let mut report = |problem| {
            out.push(Verified {
                at: pin.at(),
                reference: pin.site.value.clone(),
                digest: pin.digest.clone(),
                problem,
                key: pin.digest_key(),
            });
        };
        match exists.get(&pin.digest_key()) {
            Some(Ok(true)) => {}
            // Asked by tag, the registry still names the digest it does not
            // have: it never held that content, so nothing was deleted.
            Some(Ok(false))
                if pin.tag.is_some()
                    && matches!(&result, Some(Ok(digest)) if *digest == pin.digest) =>
            {
                report(Problem::NeverServed {
                    tag: pin.tag.clone().unwrap_or_default(),
                });
                continue;
            }
            Some(Ok(false)) => report(Problem::Missing),
            Some(Err(e)) => {
                report(Problem::Failed(e.clone()));
                continue;
            }
            None => {}
        }
        match result {
            Some(Ok(digest)) if digest != pin.digest => report(Problem::TagMoved {
                tag: pin.tag.clone().unwrap_or_default(),
                new: digest,
            }),
            Some(Err(ResolveError::TagNotFound { .. })) => report(Problem::TagGone {
                tag: pin.tag.clone().unwrap_or_default(),
            }),
            Some(Err(e)) => report(Problem::Failed(e)),
            _ => {}
        }
    }
    (pins.len(), out)
}
