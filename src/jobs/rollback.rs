//! The `rollback` job's choice: the pin an image goes back to, read from
//! the git history ([`super::history`]), and the commit that pin came from.
//! The rewrite itself is [`super::set`].

use std::path::Path;

use git2::Repository;

use super::history::{self, Change, HistoryError, Pin};
use crate::detect::rules::Rules;

/// Why no pin to go back to was found.
#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    #[error("{image} has no pin change in the history of the scanned paths")]
    NoChange { image: String },
    #[error(
        "{image} had no earlier pin: its last change ({commit}) pinned it for the first time; use --to REV"
    )]
    NoEarlier { image: String, commit: String },
    #[error("{image} is not pinned at {rev} in the scanned paths")]
    NoPinAt { image: String, rev: String },
    #[error(
        "{image} has {} different pins at {rev} ({}); name the files to read as PATH",
        pins.len(),
        pins.join(", ")
    )]
    Ambiguous {
        image: String,
        rev: String,
        pins: Vec<String>,
    },
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// The pin to go back to, and the change that made it (`None` when it
/// predates the history read, e.g. it came in through a merge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub digest: String,
    pub tag: Option<String>,
    pub from: Option<Change>,
}

/// The pin `image` had before its last change: `changes` is its history
/// (newest first).
pub fn previous(image: &str, changes: &[Change]) -> Result<Choice, RollbackError> {
    let last = changes.first().ok_or_else(|| RollbackError::NoChange {
        image: image.to_string(),
    })?;
    let Some(Pin {
        digest: Some(digest),
        tag,
    }) = last.old.clone()
    else {
        return Err(RollbackError::NoEarlier {
            image: image.to_string(),
            commit: short(&last.commit),
        });
    };
    let from = changes[1..]
        .iter()
        .find(|c| c.new.digest.as_deref() == Some(digest.as_str()))
        .cloned();
    Ok(Choice { digest, tag, from })
}

/// The pin `image` (normalised `name`) had at revision `rev` under
/// `pathspecs`, and the newest change at or before `rev` that made it.
pub fn at_revision(
    repo: &Repository,
    workdir: &Path,
    (image, name): (&str, &str),
    rev: &str,
    pathspecs: &[String],
    rules: &Rules,
    changes: &[Change],
) -> Result<Choice, RollbackError> {
    let pins = history::pins_at(repo, workdir, rev, name, pathspecs, rules)?;
    let mut distinct: Vec<&Pin> = pins.iter().map(|(_, _, pin)| pin).collect();
    distinct.sort_by(|a, b| (&a.digest, &a.tag).cmp(&(&b.digest, &b.tag)));
    distinct.dedup();
    let pin = match distinct.as_slice() {
        [] => {
            return Err(RollbackError::NoPinAt {
                image: image.to_string(),
                rev: rev.to_string(),
            });
        }
        [pin] => (*pin).clone(),
        many => {
            return Err(RollbackError::Ambiguous {
                image: image.to_string(),
                rev: rev.to_string(),
                pins: many
                    .iter()
                    .map(|p| match &p.tag {
                        Some(tag) => format!("{} ({tag})", p.digest.as_deref().unwrap_or("")),
                        None => p.digest.clone().unwrap_or_default(),
                    })
                    .collect(),
            });
        }
    };
    let digest = pin.digest.clone().unwrap_or_default();
    let at = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(HistoryError::from)?
        .id();
    let from = changes
        .iter()
        .filter(|c| c.new.digest.as_deref() == Some(digest.as_str()))
        .find(|c| {
            git2::Oid::from_str(&c.commit)
                .is_ok_and(|oid| oid == at || repo.graph_descendant_of(at, oid).unwrap_or(false))
        })
        .cloned();
    Ok(Choice {
        digest,
        tag: pin.tag,
        from,
    })
}

/// A commit id's first seven characters.
pub fn short(commit: &str) -> String {
    commit.chars().take(7).collect()
}
