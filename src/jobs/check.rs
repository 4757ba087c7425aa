//! The `check` job: the offline policy gate. A reference breaks the policy
//! when it is not pinned by digest, cannot be pinned, or (with
//! `--deny-latest`) follows `latest`; `--allow` globs exempt images.

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::Location;
use crate::detect::{Finding, Site, SkipReason};
use crate::reference::Reference;
use crate::scan::ScannedFile;
use crate::state::{self, State};

/// Policy of `check`.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// A `latest` or untagged reference fails even when pinned.
    pub deny_latest: bool,
    /// Images exempt from pinning (matched against the name as written, the
    /// familiar name and the full name).
    pub allow: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid --allow glob `{glob}`: {source}")]
pub struct PolicyError {
    glob: String,
    #[source]
    source: globset::Error,
}

/// A compiled [`Policy`].
pub struct Checker {
    deny_latest: bool,
    allow: GlobSet,
}

impl Checker {
    pub fn new(policy: &Policy) -> Result<Self, PolicyError> {
        let mut builder = GlobSetBuilder::new();
        for glob in &policy.allow {
            builder.add(Glob::new(glob).map_err(|source| PolicyError {
                glob: glob.clone(),
                source,
            })?);
        }
        let allow = builder.build().map_err(|source| PolicyError {
            glob: policy.allow.join(", "),
            source,
        })?;
        Ok(Self {
            deny_latest: policy.deny_latest,
            allow,
        })
    }

    fn allowed(&self, reference: &Reference) -> bool {
        self.allow.is_match(reference.name())
            || self.allow.is_match(reference.familiar_name())
            || self.allow.is_match(reference.normalized_name())
    }

    /// [`Self::allowed`] for a value that is not a valid reference: the
    /// globs are matched against the value and its name (before any tag or
    /// digest).
    fn allowed_value(&self, value: &str) -> bool {
        let name = value.split('@').next().unwrap_or(value);
        let name = match name.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => name,
            _ => name,
        };
        self.allow.is_match(value) || self.allow.is_match(name)
    }
}

/// What `check` found wrong with a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NotPinned,
    Latest,
    /// Not pinned, and the tool cannot pin it (block scalar, invalid
    /// reference, a value it would have to escape).
    CannotPin(SkipReason),
}

impl Problem {
    /// The rule id reports name the problem by.
    pub fn rule(&self) -> &'static str {
        match self {
            Problem::NotPinned => "not-pinned",
            Problem::Latest => "latest-tag",
            Problem::CannotPin(reason) => reason.check_rule().unwrap_or("cannot-pin"),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NotPinned => f.write_str("not pinned by digest"),
            Problem::Latest => f.write_str("uses the `latest` tag"),
            Problem::CannotPin(reason) => write!(f, "not pinned and cannot be pinned: {reason}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Violation {
    pub at: Location,
    pub reference: String,
    pub problem: Problem,
}

/// The references that break the policy, in file order.
pub fn check(files: &[ScannedFile], checker: &Checker) -> Vec<Violation> {
    files
        .iter()
        .flat_map(|file| check_file(file, checker))
        .collect()
}

/// The references of one file that break the policy, in file order.
pub fn check_file(file: &ScannedFile, checker: &Checker) -> Vec<Violation> {
    let mut out = Vec::new();
    for finding in &file.findings {
        let (site, reference) = match finding {
            Finding::Image { site, reference } => (site, reference),
            Finding::Skipped { site, reason } => {
                let pinned =
                    Reference::parse(site.value.trim()).is_ok_and(|r| r.digest().is_some());
                if reason.check_rule().is_some()
                    && !pinned
                    && !file.ignores(site)
                    && !cannot_pin_allowed(checker, site, reason)
                {
                    out.push(Violation {
                        at: Location::of(&file.path, site),
                        reference: printable(&site.value),
                        problem: Problem::CannotPin(reason.clone()),
                    });
                }
                continue;
            }
        };
        if file.ignores(site) || checker.allowed(reference) {
            continue;
        }
        let state = state::state(&file.text, site, reference);
        let at = Location::of(&file.path, site);
        if !state.is_pinned() {
            out.push(Violation {
                at: at.clone(),
                reference: site.value.clone(),
                problem: Problem::NotPinned,
            });
        }
        let tag = state.tag().or(reference.tag());
        let latest = match (&state, tag) {
            (_, Some(tag)) => tag == "latest",
            (State::Unpinned, None) => true,
            (_, None) => false,
        };
        if checker.deny_latest && latest {
            out.push(Violation {
                at,
                reference: site.value.clone(),
                problem: Problem::Latest,
            });
        }
    }
    out
}

/// A value as one line: a block scalar's final line break dropped, other
/// control characters escaped.
fn printable(value: &str) -> String {
    let value = value.trim_end_matches(['\n', '\r']);
    if value.chars().any(char::is_control) {
        value.escape_debug().to_string()
    } else {
        value.to_string()
    }
}

/// Whether `--allow` exempts a value that cannot be pinned. A value that
/// parses (escaped, block scalar) is matched like any reference.
fn cannot_pin_allowed(checker: &Checker, site: &Site, reason: &SkipReason) -> bool {
    match Reference::parse(site.value.trim()) {
        Ok(reference) if !matches!(reason, SkipReason::NotAReference(_)) => {
            checker.allowed(&reference)
        }
        _ => checker.allowed_value(site.value.trim()),
    }
}
