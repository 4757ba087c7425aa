//! The pins `update` and `verify` look at, and what their tags name now.
//!
//! A pin of one platform's manifest stays on that platform: when the tag's
//! index digest differs from the pin, the pinned digest is described, and if
//! it is a platform manifest the tag is resolved for that platform.

use super::Location;
use crate::detect::{Finding, Site};
use crate::reference::Reference;
use crate::registry::{Described, DigestKey, ResolveError, ResolveKey, Resolved, Resolver};
use crate::scan::ScannedFile;
use crate::state;

/// A pinned reference.
pub(super) struct Tracked<'a> {
    pub file_index: usize,
    pub file: &'a ScannedFile,
    pub site: &'a Site,
    pub reference: &'a Reference,
    /// The tag the pin follows, if known.
    pub tag: Option<String>,
    pub digest: String,
}

impl Tracked<'_> {
    pub fn at(&self) -> Location {
        Location::of(&self.file.path, self.site)
    }

    pub fn digest_key(&self) -> DigestKey {
        DigestKey {
            registry: self.reference.registry().to_string(),
            repository: self.reference.repository().to_string(),
            digest: self.digest.clone(),
        }
    }

    pub fn tag_key(&self, tag: &str) -> ResolveKey {
        ResolveKey {
            registry: self.reference.registry().to_string(),
            repository: self.reference.repository().to_string(),
            tag: tag.to_string(),
            platform: None,
        }
    }
}

/// The pins of `files` not on an ignored line.
pub(super) fn tracked(files: &[ScannedFile]) -> Vec<Tracked<'_>> {
    let mut out = Vec::new();
    for (file_index, file) in files.iter().enumerate() {
        for finding in &file.findings {
            let Finding::Image { site, reference } = finding else {
                continue;
            };
            if file.ignores(site) {
                continue;
            }
            let Some(digest) = reference.digest() else {
                continue;
            };
            let state = state::state(&file.text, site, reference);
            out.push(Tracked {
                file_index,
                file,
                site,
                reference,
                tag: state.tag().map(String::from),
                digest: digest.to_string(),
            });
        }
    }
    out
}

/// What each tracked pin's tag names now (by index into `pins`), keeping a
/// platform pin on its platform.
pub(super) fn current(
    pins: &[Tracked<'_>],
    resolver: &Resolver,
) -> Vec<Option<Result<String, ResolveError>>> {
    let keys: Vec<ResolveKey> = pins
        .iter()
        .filter_map(|p| p.tag.as_deref().map(|t| p.tag_key(t)))
        .collect();
    let by_tag = resolver.resolve_all(&keys);
    // Pins that differ from their tag's digest: is the pin one platform's manifest?
    let moved: Vec<DigestKey> = pins
        .iter()
        .filter(|p| {
            p.tag.as_deref().is_some_and(
                |t| matches!(by_tag.get(&p.tag_key(t)), Some(Ok(r)) if r.digest != p.digest),
            )
        })
        .map(Tracked::digest_key)
        .collect();
    let described = resolver.describe_all(&moved);
    let platform_keys: Vec<ResolveKey> = pins
        .iter()
        .filter_map(|p| {
            let tag = p.tag.as_deref()?;
            match described.get(&p.digest_key()) {
                Some(Ok(Described::Manifest(platform))) => Some(ResolveKey {
                    platform: Some(platform.clone()),
                    ..p.tag_key(tag)
                }),
                _ => None,
            }
        })
        .collect();
    let by_platform = resolver.resolve_all(&platform_keys);
    pins.iter()
        .map(|p| {
            let tag = p.tag.as_deref()?;
            let index: &Result<Resolved, ResolveError> = by_tag.get(&p.tag_key(tag))?;
            let result = match (index, described.get(&p.digest_key())) {
                (Ok(r), _) if r.digest == p.digest => Ok(r.digest.clone()),
                (Ok(_), Some(Ok(Described::Manifest(platform)))) => {
                    let key = ResolveKey {
                        platform: Some(platform.clone()),
                        ..p.tag_key(tag)
                    };
                    match by_platform.get(&key) {
                        Some(Ok(r)) => Ok(r.digest.clone()),
                        Some(Err(e)) => Err(e.clone()),
                        None => Err(ResolveError::NotAttempted),
                    }
                }
                (Ok(r), _) => Ok(r.digest.clone()),
                (Err(e), _) => Err(e.clone()),
            };
            Some(result)
        })
        .collect()
}
