//! The `update` job: asks the registry what each pin's tag names now (see
//! `jobs::tracked`) and rewrites the digests that moved, keeping the tag
//! comment and every other byte. A file with a pin that could not be looked
//! up is left as it is.

use std::collections::BTreeMap;

use super::tracked::{Tracked, current, tracked};
use super::{Fixes, Message, Outcome};
use crate::detect::{FileKind, SkipReason};
use crate::edit::{Edit, FileFix};
use crate::registry::Resolver;
use crate::scan::ScannedFile;

/// One file's rewrites, and whether one of its pins failed.
#[derive(Default)]
struct FilePlan {
    fix: FileFix<Message>,
    failed: bool,
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
                outcome.summary.unchanged += 1;
                outcome.messages.push(Message::UpToDate {
                    at: pin.at(),
                    reference: pin.site.value.clone(),
                });
            }
            Some(Ok(digest)) => rewrite(pin, &digest, &mut plan.fix, &mut outcome),
        }
    }
    let mut fixes = Fixes::default();
    for (index, plan) in per_file {
        outcome.summary.files += 1;
        if plan.failed {
            continue;
        }
        fixes.add(&outcome, &files[index], plan.fix);
    }
    outcome.apply_all(fixes);
    outcome
}

/// Adds to `fix` the edits that move `pin` to `digest`: a kustomization's
/// `digest:` field, a Helm image map's fields, or the value's digest.
fn rewrite(pin: &Tracked<'_>, digest: &str, fix: &mut FileFix<Message>, outcome: &mut Outcome) {
    let value = pin.site.value.clone();
    let at_sign = value.rfind('@').unwrap_or(value.len());
    let new = format!("{}@{digest}", &value[..at_sign]);
    if pin.site.kind == FileKind::Kustomize {
        let Some((edit, change)) = crate::kustomize::digest_edit(&pin.file.text, pin.site, digest)
        else {
            outcome.summary.skipped += 1;
            outcome.messages.push(Message::Skipped {
                at: pin.at(),
                value,
                reason: SkipReason::DigestElsewhere,
            });
            return;
        };
        fix.edits.push(edit);
        fix.expected.push(change);
    } else if pin.site.kind == FileKind::HelmValues
        && let Some(map) = crate::detect::helm::locate(&pin.file.text, &pin.site.span)
    {
        let (mut edits, mut changes) = map.update(digest);
        fix.edits.append(&mut edits);
        fix.expected.append(&mut changes);
    } else {
        fix.edits
            .push(Edit::replace(pin.site.span.clone(), new.clone()));
        fix.expected.push((value.clone(), new.clone()));
    }
    fix.messages.push(Message::Rewritten {
        at: pin.at(),
        from: value,
        to: new,
    });
}
