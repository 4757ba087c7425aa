//! The `promote` job: the digests pinned in one directory (say
//! `overlays/staging`) written to the references of the same images in
//! another (`overlays/prod`), with the same tag comment, through [`set`].
//! No registry is asked.
//!
//! An image pinned with two different digests in FROM is not promoted (which
//! one would be meant?); images on one side only are reported; references in
//! TO that are templated or not images are reported by [`set`] and left
//! alone.

use std::collections::BTreeMap;
use std::path::Path;

use super::set::{self, Target};
use super::{Message, Outcome, Unmatched};
use crate::detect::Finding;
use crate::edit::PinStyle;
use crate::scan::ScannedFile;
use crate::state;

/// One image moved: its digests in TO before, and the digest it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The familiar name (`nginx`).
    pub image: String,
    /// The distinct digests TO had (`None` for an unpinned reference).
    pub old: Vec<Option<String>>,
    pub new: String,
    pub tag: Option<String>,
}

/// What `promote` did: the outcome of the rewrite and the images moved.
#[derive(Debug, Default)]
pub struct Promotion {
    pub outcome: Outcome,
    pub moves: Vec<Move>,
}

/// One image's references on one side: its familiar name and each pin
/// (digest, tag) in file order.
type Side = BTreeMap<String, (String, Vec<(Option<String>, Option<String>)>)>;

fn side(files: &[ScannedFile]) -> Side {
    let mut out = Side::new();
    for file in files {
        for finding in &file.findings {
            let Finding::Image { site, reference } = finding else {
                continue;
            };
            if file.ignores(site) {
                continue;
            }
            let tag = state::state(&file.text, site, reference)
                .tag()
                .or(reference.tag())
                .map(String::from);
            out.entry(reference.normalized_name())
                .or_insert_with(|| (reference.familiar_name(), Vec::new()))
                .1
                .push((reference.digest().map(String::from), tag));
        }
    }
    out
}

/// Promotes the pins of `from_files` (under `from`) to `to_files` (under
/// `to`): all images, or those whose normalised names are in `images`.
pub fn promote(
    from_files: &[ScannedFile],
    to_files: &[ScannedFile],
    (from, to): (&Path, &Path),
    images: &[String],
    style: PinStyle,
    helm: &crate::helm::HelmOptions,
) -> Promotion {
    let source = side(from_files);
    let destination = side(to_files);
    let wanted = |name: &str| images.is_empty() || images.iter().any(|i| i == name);
    let mut targets = Vec::new();
    let mut moves = Vec::new();
    let mut notes = Vec::new();
    let mut failed = 0;
    for name in images {
        if !source.contains_key(name) {
            failed += 1;
            notes.push(Message::Unmatched {
                path: from.to_path_buf(),
                image: crate::reference::Reference::parse(name)
                    .map_or_else(|_| name.clone(), |r| r.familiar_name()),
                reason: Unmatched::NotFound,
            });
        }
    }
    for (name, (image, pins)) in source.iter().filter(|(n, _)| wanted(n)) {
        let mut digests: Vec<&(Option<String>, Option<String>)> = pins.iter().collect();
        digests.sort();
        digests.dedup();
        let reason = match digests.as_slice() {
            [(Some(_), _)] => None,
            [_] => Some(Unmatched::NotPinned),
            _ if pins.iter().all(|(d, _)| d.is_none()) => Some(Unmatched::NotPinned),
            _ => Some(Unmatched::Conflicting(
                digests
                    .iter()
                    .map(|(d, t)| describe(d.as_deref(), t.as_deref()))
                    .collect(),
            )),
        };
        if let Some(reason) = reason {
            failed += usize::from(matches!(reason, Unmatched::Conflicting(_)));
            notes.push(Message::Unmatched {
                path: from.to_path_buf(),
                image: image.clone(),
                reason,
            });
            continue;
        }
        let (digest, tag) = digests[0].clone();
        let digest = digest.unwrap_or_default();
        let Some((_, there)) = destination.get(name) else {
            notes.push(Message::Unmatched {
                path: from.to_path_buf(),
                image: image.clone(),
                reason: Unmatched::MissingIn(to.to_path_buf()),
            });
            continue;
        };
        let mut old: Vec<Option<String>> = there.iter().map(|(d, _)| d.clone()).collect();
        old.sort();
        old.dedup();
        if there
            .iter()
            .any(|(d, t)| d.as_deref() != Some(&digest) || *t != tag)
        {
            moves.push(Move {
                image: image.clone(),
                old,
                new: digest.clone(),
                tag: tag.clone(),
            });
        }
        targets.push(Target {
            name: name.clone(),
            digest,
            tag,
        });
    }
    for (name, (image, _)) in destination.iter().filter(|(n, _)| wanted(n)) {
        if !source.contains_key(name) {
            notes.push(Message::Unmatched {
                path: to.to_path_buf(),
                image: image.clone(),
                reason: Unmatched::MissingIn(from.to_path_buf()),
            });
        }
    }
    let mut outcome = set::set(to_files, &targets, style, helm);
    outcome.summary.failed += failed;
    notes.append(&mut outcome.messages);
    outcome.messages = notes;
    Promotion { outcome, moves }
}

/// `sha256:… (tag)` or `unpinned (tag)`.
fn describe(digest: Option<&str>, tag: Option<&str>) -> String {
    let digest = digest.unwrap_or("unpinned");
    match tag {
        Some(tag) => format!("{digest} ({tag})"),
        None => digest.to_string(),
    }
}

/// The commit message body: each image moved, old → new digest.
pub fn commit_body(moves: &[Move]) -> String {
    let mut out = String::new();
    for m in moves {
        let old: Vec<&str> = m
            .old
            .iter()
            .map(|d| d.as_deref().unwrap_or("unpinned"))
            .collect();
        let tag = m
            .tag
            .as_deref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "- {}: {} -> {}{tag}\n",
            m.image,
            old.join(", "),
            m.new
        ));
    }
    out
}
