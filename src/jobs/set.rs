//! The `set` job: rewrite every reference to an image to a given digest,
//! with its tag comment. `rollback` and `promote` are `set` with the digest
//! chosen from the history or from another directory.
//!
//! Each reference keeps its form: `name@sha256:… # tag` gets the new digest
//! and the new tag comment (the comment goes when no tag is known),
//! `name:tag@sha256:…` the new tag and digest; an unpinned reference or a
//! pin without comment is pinned as `pin` would (the configured style, the
//! `name:tag@…` fallback where a comment cannot go). A kustomization entry
//! gets its `digest:` field (added or rewritten) and, given a tag, its
//! `newTag`; a Helm image map its digest. Nothing else changes, and each
//! file is re-parsed and checked as for `pin`.

use std::collections::HashMap;

use super::{Location, Message, Outcome};
use crate::detect::{FileKind, Finding, ScalarStyle, Site, SkipReason};
use crate::edit::{self, Edit, FileFix, JsonDocuments, PinSite, PinStyle};
use crate::reference::Reference;
use crate::scan::ScannedFile;
use crate::state::{self, State};

/// What to set one image to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The image's normalised name (`docker.io/library/nginx`).
    pub name: String,
    /// `sha256:…`.
    pub digest: String,
    /// The tag comment to write; `None` drops the old one.
    pub tag: Option<String>,
}

/// Sets each reference to a target's image in `files` to the target's
/// digest and tag. References that are not images (templated, unparsable)
/// are reported as skipped and left alone.
pub fn set(
    files: &[ScannedFile],
    targets: &[Target],
    style: PinStyle,
    helm: &crate::helm::HelmOptions,
) -> Outcome {
    Outcome::of_files(files, |file, outcome| {
        Some(set_file(file, targets, style, helm, outcome))
    })
}

/// How many references each target's image has in `files`.
pub fn count(files: &[ScannedFile], name: &str) -> usize {
    files
        .iter()
        .flat_map(|f| &f.findings)
        .filter(|f| matches!(f, Finding::Image { reference, .. } if reference.normalized_name() == name))
        .count()
}

fn set_file(
    file: &ScannedFile,
    targets: &[Target],
    style: PinStyle,
    helm: &crate::helm::HelmOptions,
    outcome: &mut Outcome,
) -> FileFix<Message> {
    let mut fix = FileFix::default();
    let json = JsonDocuments::new(&file.text);
    let mut per_line: HashMap<usize, usize> = HashMap::new();
    for finding in &file.findings {
        *per_line.entry(finding.site().line).or_default() += 1;
    }
    for finding in &file.findings {
        let at = Location::of(&file.path, finding.site());
        let (site, reference) = match finding {
            Finding::Skipped { site, reason } => {
                outcome.summary.found += 1;
                outcome.summary.skipped += 1;
                outcome.messages.push(Message::Skipped {
                    at,
                    value: site.value.clone(),
                    reason: reason.clone(),
                });
                continue;
            }
            Finding::Image { site, reference } => (site, reference),
        };
        let name = reference.normalized_name();
        let Some(target) = targets.iter().find(|t| t.name == name) else {
            continue;
        };
        outcome.summary.found += 1;
        if file.ignores(site) {
            outcome.summary.skipped += 1;
            outcome.messages.push(Message::Ignored {
                at,
                value: site.value.clone(),
            });
            continue;
        }
        let state = state::state(&file.text, site, reference);
        if reference.digest() == Some(target.digest.as_str())
            && state.tag() == target.tag.as_deref()
        {
            outcome.summary.unchanged += 1;
            outcome.messages.push(Message::UpToDate {
                at,
                reference: site.value.clone(),
            });
            continue;
        }
        let alone = per_line.get(&site.line) == Some(&1);
        let value = match site.kind {
            FileKind::Kustomize => kustomize_edits(file, site, reference, target, &mut fix),
            FileKind::HelmValues => helm_edits(file, site, reference, target, helm, &mut fix),
            _ => {
                let style = if json.contains(site.span.start) {
                    PinStyle::TagDigest
                } else {
                    edit::style_for(file.kind, style)
                };
                Some(value_edits(
                    file, site, reference, &state, target, style, alone, &mut fix,
                ))
            }
        };
        match value {
            Some(to) => fix.messages.push(Message::Rewritten {
                at,
                from: site.value.clone(),
                to,
            }),
            None => {
                outcome.summary.skipped += 1;
                outcome.messages.push(Message::Skipped {
                    at,
                    value: site.value.clone(),
                    reason: SkipReason::DigestElsewhere,
                });
            }
        }
    }
    fix
}

/// The edits of a value of its own (not a kustomization or Helm map);
/// returns the new value.
#[allow(clippy::too_many_arguments)]
fn value_edits(
    file: &ScannedFile,
    site: &Site,
    reference: &Reference,
    state: &State,
    target: &Target,
    style: PinStyle,
    alone: bool,
    fix: &mut FileFix<Message>,
) -> String {
    let name = reference.name();
    let digest = target.digest.as_str();
    let value = match (state, target.tag.as_deref()) {
        (State::Comment { comment, .. }, tag) => {
            let comment_text = tag.map(|t| format!(" # {t}")).unwrap_or_default();
            fix.edits.push(Edit::replace(comment.clone(), comment_text));
            format!("{name}@{digest}")
        }
        (State::TagDigest { .. }, Some(tag)) => format!("{name}:{tag}@{digest}"),
        (State::DigestOnly | State::Unpinned, Some(tag)) => {
            let pin_site = PinSite {
                span: site.span.clone(),
                quoted: site.style != ScalarStyle::Plain,
                in_flow: site.in_flow,
                name,
                tag,
                digest,
            };
            let (mut edits, value) = edit::pin_edits(&file.text, &pin_site, style, alone);
            fix.edits.append(&mut edits);
            fix.expected.push((site.value.clone(), value.clone()));
            return value;
        }
        (_, None) => format!("{name}@{digest}"),
    };
    // Only a changed value is an expected change (the check pairs changed
    // scalars in file order); a comment-only change keeps the value.
    if value != site.value {
        fix.edits
            .push(Edit::replace(site.span.clone(), value.clone()));
        fix.expected.push((site.value.clone(), value.clone()));
    }
    value
}

/// A kustomization entry: its `digest:` field (added or rewritten) and,
/// given a tag, its `newTag`. Returns the value kustomize renders.
fn kustomize_edits(
    file: &ScannedFile,
    site: &Site,
    reference: &Reference,
    target: &Target,
    fix: &mut FileFix<Message>,
) -> Option<String> {
    let text = &file.text;
    let (edit, change) = if reference.digest().is_some() {
        crate::kustomize::digest_edit(text, site, &target.digest)?
    } else {
        crate::kustomize::pin_edit(text, site, &target.digest)?
    };
    let mut tag = reference.tag().map(String::from);
    if let Some(new_tag) = &target.tag
        && tag.as_deref() != Some(new_tag)
    {
        let (tag_edit, tag_change) = crate::kustomize::tag_edit(text, site, new_tag)?;
        fix.edits.push(tag_edit);
        fix.expected.push(tag_change);
        tag = Some(new_tag.clone());
    }
    if reference.digest() != Some(target.digest.as_str()) {
        fix.edits.push(edit);
        fix.expected.push(change);
    }
    Some(match tag {
        Some(tag) => format!("{}:{tag}@{}", reference.name(), target.digest),
        None => format!("{}@{}", reference.name(), target.digest),
    })
}

/// A Helm image map: its digest (the tag field stays as it is).
fn helm_edits(
    file: &ScannedFile,
    site: &Site,
    reference: &Reference,
    target: &Target,
    helm: &crate::helm::HelmOptions,
    fix: &mut FileFix<Message>,
) -> Option<String> {
    let map = crate::detect::helm::locate(&file.text, &site.span)?;
    let (mut edits, mut changes) = if reference.digest().is_some() {
        map.update(&target.digest)
    } else {
        map.pin(
            &file.text,
            &target.digest,
            helm.style,
            helm.reads_digest.matches(&file.path),
        )
    };
    fix.edits.append(&mut edits);
    fix.expected.append(&mut changes);
    let at_sign = site.value.rfind('@').unwrap_or(site.value.len());
    Some(format!("{}@{}", &site.value[..at_sign], target.digest))
}
