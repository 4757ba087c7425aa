//! Provenance of pinned digests (`--provenance` on `list` and `verify`):
//! which digests to ask about, each once, and the answers by digest key.
//! The registry reads the metadata (`registry::Resolver::provenance_all`).

use std::collections::BTreeMap;

use super::list::Entry;
use super::tracked::{Tracked, tracked};
use super::verify::{Problem, Verified};
use crate::reference::Reference;
use crate::registry::{DigestKey, Provenance, ResolveError, Resolver};
use crate::scan::ScannedFile;

/// The provenance of each digest asked about.
pub type Found = BTreeMap<DigestKey, Result<Provenance, ResolveError>>;

/// The digest key of `name@digest` (`None` when that is no reference).
pub fn key(name: &str, digest: &str) -> Option<DigestKey> {
    let reference = Reference::parse(&format!("{name}@{digest}")).ok()?;
    Some(DigestKey {
        registry: reference.registry().to_string(),
        repository: reference.repository().to_string(),
        digest: digest.to_string(),
    })
}

/// The digest key of a pinned `list` entry (`None` when not pinned).
pub fn entry_key(entry: &Entry) -> Option<DigestKey> {
    key(entry.name.as_deref()?, entry.digest.as_deref()?)
}

/// The provenance of every pinned digest among `entries`.
pub fn of_entries(entries: &[Entry], resolver: &Resolver) -> Found {
    let keys: Vec<DigestKey> = entries.iter().filter_map(entry_key).collect();
    resolver.provenance_all(&keys)
}

/// The provenance of the pinned digest of each `verify` finding whose
/// digest the registry still has (not of a missing or never-served one).
pub fn of_verified(findings: &[Verified], resolver: &Resolver) -> Found {
    let keys: Vec<DigestKey> = findings
        .iter()
        .filter(|f| !matches!(f.problem, Problem::Missing | Problem::NeverServed { .. }))
        .map(|f| f.key.clone())
        .collect();
    resolver.provenance_all(&keys)
}

/// The provenance of every pin in `files` (with a known tag or not).
pub fn of_pins(files: &[ScannedFile], resolver: &Resolver) -> Found {
    let keys: Vec<DigestKey> = tracked(files).iter().map(Tracked::digest_key).collect();
    resolver.provenance_all(&keys)
}

/// The provenance of any `keys` (for commands that know their digests).
pub fn of_keys(keys: &[DigestKey], resolver: &Resolver) -> Found {
    resolver.provenance_all(keys)
}
