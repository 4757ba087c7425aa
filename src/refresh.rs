//! `update` and `verify`: the online half of a pin's life.
//!
//! Both look at every pin whose tag is known (from our comment or the
//! `name:tag@digest` form) and ask the registry what the tag names now. A pin
//! of one platform's manifest stays on that platform: when the tag's index
//! digest differs from the pin, the pinned digest is described, and if it is
//! a platform manifest the tag is resolved for that platform. `update`
//! rewrites the digests that moved; `verify` reports them, and pins whose
//! digest the registry no longer has.

use std::collections::BTreeMap;

use crate::detect::{FileKind, Finding, Site};
use crate::edit::Edit;
use crate::pin::{self, Location, Message, Outcome, ScannedFile};
use crate::reference::Reference;
use crate::registry::{Described, DigestKey, ResolveError, ResolveKey, Resolved, Resolver};
use crate::state;

/// One file's rewrites in `update`.
#[derive(Default)]
struct FilePlan {
    edits: Vec<Edit>,
    changes: Vec<(String, String)>,
    messages: Vec<Message>,
    failed: bool,
}

/// A pinned reference.
struct Tracked<'a> {
    file_index: usize,
    file: &'a ScannedFile,
    site: &'a Site,
    reference: &'a Reference,
    /// The tag the pin follows, if known.
    tag: Option<String>,
    digest: String,
}

impl Tracked<'_> {
    fn at(&self) -> Location {
        Location::of(&self.file.path, self.site)
    }

    fn digest_key(&self) -> DigestKey {
        DigestKey {
            registry: self.reference.registry().to_string(),
            repository: self.reference.repository().to_string(),
            digest: self.digest.clone(),
        }
    }

    fn tag_key(&self, tag: &str) -> ResolveKey {
        ResolveKey {
            registry: self.reference.registry().to_string(),
            repository: self.reference.repository().to_string(),
            tag: tag.to_string(),
            platform: None,
        }
    }
}

fn tracked(files: &[ScannedFile]) -> Vec<Tracked<'_>> {
    let mut out = Vec::new();
    for (file_index, file) in files.iter().enumerate() {
        for finding in &file.findings {
            let Finding::Image { site, reference } = finding else {
                continue;
            };
            if pin::line_of(&file.text, site.span.start).contains(pin::IGNORE_MARKER) {
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
fn current(pins: &[Tracked<'_>], resolver: &Resolver) -> Vec<Option<Result<String, ResolveError>>> {
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

/// Replaces each moved digest, keeping the tag comment and every other byte.
pub fn update(files: &[ScannedFile], resolver: &Resolver) -> Outcome {
    let pins = tracked(files);
    let now = current(&pins, resolver);
    let mut outcome = Outcome::default();
    let mut per_file: BTreeMap<usize, FilePlan> = BTreeMap::new();
    for (pin, result) in pins.iter().zip(now) {
        outcome.summary.found += 1;
        let plan = per_file.entry(pin.file_index).or_default();
        match result {
            None => {
                outcome.summary.skipped += 1;
                outcome.messages.push(Message::NoKnownTag {
                    at: pin.at(),
                    reference: pin.site.value.clone(),
                });
            }
            Some(Err(error)) => {
                outcome.summary.failed += 1;
                plan.failed = true;
                outcome.messages.push(Message::Failed {
                    at: pin.at(),
                    reference: pin.site.value.clone(),
                    error,
                });
            }
            Some(Ok(digest)) if digest == pin.digest => {
                outcome.summary.already_pinned += 1;
                outcome.messages.push(Message::UpToDate {
                    at: pin.at(),
                    reference: pin.site.value.clone(),
                });
            }
            Some(Ok(digest)) if pin.site.kind == crate::detect::FileKind::Kustomize => {
                match crate::kustomize::digest_edit(&pin.file.text, pin.site, &digest) {
                    Some((edit, change)) => {
                        let value = pin.site.value.clone();
                        let at_sign = value.rfind('@').unwrap_or(value.len());
                        plan.edits.push(edit);
                        plan.changes.push(change);
                        plan.messages.push(Message::Rewritten {
                            at: pin.at(),
                            to: format!("{}@{digest}", &value[..at_sign]),
                            from: value,
                        });
                    }
                    None => {
                        outcome.summary.skipped += 1;
                        outcome.messages.push(Message::Skipped {
                            at: pin.at(),
                            value: pin.site.value.clone(),
                            reason: crate::detect::SkipReason::DigestElsewhere,
                        });
                    }
                }
            }
            Some(Ok(digest))
                if pin.site.kind == FileKind::HelmValues
                    && let Some(map) =
                        crate::detect::helm::locate(&pin.file.text, &pin.site.span) =>
            {
                let (mut edits, mut changes) = map.update(&digest);
                plan.edits.append(&mut edits);
                plan.changes.append(&mut changes);
                let value = pin.site.value.clone();
                let at_sign = value.rfind('@').unwrap_or(value.len());
                plan.messages.push(Message::Rewritten {
                    at: pin.at(),
                    to: format!("{}@{digest}", &value[..at_sign]),
                    from: value,
                });
            }
            Some(Ok(digest)) => {
                let value = pin.site.value.clone();
                let at_sign = value.rfind('@').unwrap_or(value.len());
                let new = format!("{}@{digest}", &value[..at_sign]);
                plan.edits
                    .push(Edit::replace(pin.site.span.clone(), new.clone()));
                plan.changes.push((value.clone(), new.clone()));
                plan.messages.push(Message::Rewritten {
                    at: pin.at(),
                    from: value,
                    to: new,
                });
            }
        }
    }
    for (index, plan) in per_file {
        outcome.summary.files += 1;
        if plan.failed {
            continue;
        }
        pin::finish_file(
            &files[index],
            &plan.edits,
            &plan.changes,
            plan.messages,
            &mut outcome,
        );
    }
    outcome
}

/// What `verify` found wrong with a pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The registry no longer has the pinned digest.
    Missing,
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
            });
        };
        match exists.get(&pin.digest_key()) {
            Some(Ok(true)) => {}
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
