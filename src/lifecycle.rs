//! The life of a pin after `pin`: `check` (offline policy), `unpin`, `list`.
//!
//! Each works on scanned files ([`crate::pin::scan`]) and the pin state of
//! every reference ([`crate::state`]); nothing here prints or writes.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::detect::{FileKind, Finding, Site, SkipReason};
use crate::edit::Edit;
use crate::pin::{self, Location, Message, Outcome, ScannedFile};
use crate::reference::Reference;
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

/// One reference, as `list` shows it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: Location,
    pub kind: FileKind,
    pub value: String,
    pub state: EntryState,
    pub name: Option<String>,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    Pinned,
    Unpinned,
    Skipped,
    /// On a line carrying `# digestpin:ignore`.
    Ignored,
}

impl std::fmt::Display for EntryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EntryState::Pinned => "pinned",
            EntryState::Unpinned => "unpinned",
            EntryState::Skipped => "skipped",
            EntryState::Ignored => "ignored",
        })
    }
}

fn ignored(file: &ScannedFile, site: &Site) -> bool {
    pin::line_of(&file.text, site.span.start).contains(pin::IGNORE_MARKER)
}

/// The references that break the policy, in file order.
pub fn check(files: &[ScannedFile], checker: &Checker) -> Vec<Violation> {
    let mut out = Vec::new();
    for file in files {
        for finding in &file.findings {
            let (site, reference) = match finding {
                Finding::Image { site, reference } => (site, reference),
                Finding::Skipped { site, reason } => {
                    let pinned =
                        Reference::parse(site.value.trim()).is_ok_and(|r| r.digest().is_some());
                    if reason.check_rule().is_some()
                        && !pinned
                        && !ignored(file, site)
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
            if ignored(file, site) || checker.allowed(reference) {
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

/// Every reference found, pinned or not.
pub fn list(files: &[ScannedFile]) -> Vec<Entry> {
    let mut out = Vec::new();
    for file in files {
        for finding in &file.findings {
            let at = Location::of(&file.path, finding.site());
            match finding {
                Finding::Image { site, reference } => {
                    let state = state::state(&file.text, site, reference);
                    out.push(Entry {
                        at,
                        kind: site.kind,
                        value: site.value.clone(),
                        state: if ignored(file, site) {
                            EntryState::Ignored
                        } else if state.is_pinned() {
                            EntryState::Pinned
                        } else {
                            EntryState::Unpinned
                        },
                        name: Some(reference.name().to_string()),
                        tag: state
                            .tag()
                            .or(reference.tag())
                            .map(String::from)
                            .or_else(|| (!state.is_pinned()).then(|| "latest".to_string())),
                        digest: reference.digest().map(String::from),
                    });
                }
                Finding::Skipped { site, .. } => out.push(Entry {
                    at,
                    kind: site.kind,
                    value: site.value.clone(),
                    state: EntryState::Skipped,
                    name: None,
                    tag: None,
                    digest: None,
                }),
            }
        }
    }
    out
}

/// Which pins `unpin` turns back into `name:tag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnpinStyle {
    /// `name@sha256:… # tag`, the form `pin` writes by default.
    Comment,
    /// `name:tag@sha256:…`, the form of `pin --style tag-digest` (and of
    /// many pins written by hand).
    TagDigest,
    /// Both forms.
    All,
}

/// Turns every pin of the chosen form with a known tag back into
/// `name:tag`, removing our tag comment: with the style `pin` used, the
/// inverse of `pin` on the bytes (an untagged reference comes back as
/// `name:latest`). Pins of the other form are left as they are.
pub fn unpin(files: &[ScannedFile], style: UnpinStyle) -> Outcome {
    let mut outcome = Outcome::default();
    for file in files {
        outcome.summary.files += 1;
        let mut edits = Vec::new();
        let mut changes = Vec::new();
        let mut messages = Vec::new();
        let json = crate::edit::JsonDocuments::new(&file.text);
        let mut per_line: std::collections::HashMap<usize, usize> = Default::default();
        for finding in &file.findings {
            if let Finding::Image { site, reference } = finding
                && reference.digest().is_some()
            {
                *per_line.entry(site.line).or_default() += 1;
            }
        }
        for finding in &file.findings {
            let Finding::Image { site, reference } = finding else {
                continue;
            };
            outcome.summary.found += 1;
            if ignored(file, site) {
                outcome.summary.skipped += 1;
                continue;
            }
            let at = Location::of(&file.path, site);
            if site.kind == FileKind::HelmValues
                && let Some(map) = crate::detect::helm::locate(&file.text, &site.span)
                && let Some((mut more, mut made)) = map.unpin(&file.text)
            {
                edits.append(&mut more);
                changes.append(&mut made);
                let to = site.value.split('@').next().unwrap_or_default().to_string();
                messages.push(Message::Rewritten {
                    at,
                    from: site.value.clone(),
                    to,
                });
                continue;
            }
            let state = state::state(&file.text, site, reference);
            if site.kind == FileKind::Kustomize && state.is_pinned() {
                // The `digest` field goes; `newTag` stays as it is.
                match crate::kustomize::unpin_edit(&file.text, site) {
                    Some((edit, change)) => {
                        edits.push(edit);
                        changes.push(change);
                        messages.push(Message::Rewritten {
                            at,
                            from: site.value.clone(),
                            to: site.value.split('@').next().unwrap_or_default().to_string(),
                        });
                    }
                    None => {
                        outcome.summary.skipped += 1;
                        outcome.messages.push(Message::Skipped {
                            at,
                            value: site.value.clone(),
                            reason: SkipReason::DigestElsewhere,
                        });
                    }
                }
                continue;
            }
            // Where `pin` in the comment style writes `name:tag@sha256:…` (a
            // Dockerfile, a JSON document, a line with no room for a
            // comment), unpinning in that style takes that form back.
            let falls_back = matches!(state, State::TagDigest { .. })
                && style == UnpinStyle::Comment
                && crate::edit::comment_falls_back(
                    &file.text,
                    file.kind,
                    &json,
                    site,
                    per_line.get(&site.line) == Some(&1),
                );
            let tag = match &state {
                State::Unpinned => continue,
                State::DigestOnly => {
                    outcome.summary.skipped += 1;
                    outcome.messages.push(Message::NoKnownTag {
                        at,
                        reference: site.value.clone(),
                    });
                    continue;
                }
                State::Comment { .. } | State::TagDigest { .. }
                    if !falls_back && !style_matches(&state, style) =>
                {
                    outcome.summary.already_pinned += 1;
                    continue;
                }
                State::Comment { tag, comment } => {
                    edits.push(Edit::replace(comment.clone(), ""));
                    tag
                }
                State::TagDigest { tag } => tag,
            };
            let value = format!("{}:{tag}", reference.name());
            edits.push(Edit::replace(site.span.clone(), value.clone()));
            changes.push((site.value.clone(), value.clone()));
            messages.push(Message::Rewritten {
                at,
                from: site.value.clone(),
                to: value,
            });
        }
        pin::finish_file(file, &edits, &changes, messages, &mut outcome);
    }
    outcome
}

fn style_matches(state: &State, style: UnpinStyle) -> bool {
    matches!(
        (state, style),
        (_, UnpinStyle::All)
            | (State::Comment { .. }, UnpinStyle::Comment)
            | (State::TagDigest { .. }, UnpinStyle::TagDigest)
    )
}
