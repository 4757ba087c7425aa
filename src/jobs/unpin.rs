//! The `unpin` job: turns pins back into `name:tag`, the inverse of `pin` on
//! the bytes when given the style `pin` used.

use std::collections::HashMap;

use super::{Location, Message, Outcome};
use crate::detect::{FileKind, Finding, Site, SkipReason};
use crate::edit::{Edit, FileFix, JsonDocuments};
use crate::reference::Reference;
use crate::scan::ScannedFile;
use crate::state::{self, State};

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
    unpin_with(files, style, &crate::helm::ReadsDigest::default())
}

/// [`unpin`], removing the `digest` field `pin` added to the Helm image maps
/// of the values files `reads_digest` matches.
pub fn unpin_with(
    files: &[ScannedFile],
    style: UnpinStyle,
    reads_digest: &crate::helm::ReadsDigest,
) -> Outcome {
    Outcome::of_files(files, |file, outcome| {
        Some(unpin_file(
            file,
            style,
            reads_digest.matches(&file.path),
            outcome,
        ))
    })
}

/// One file's [`unpin`].
fn unpin_file(
    file: &ScannedFile,
    style: UnpinStyle,
    reads_digest: bool,
    outcome: &mut Outcome,
) -> FileFix<Message> {
    let mut fix = FileFix::default();
    let json = JsonDocuments::new(&file.text);
    let mut per_line: HashMap<usize, usize> = HashMap::new();
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
        if file.ignores(site) {
            outcome.summary.skipped += 1;
            continue;
        }
        let at = Location::of(&file.path, site);
        let untagged = || site.value.split('@').next().unwrap_or_default().to_string();
        if site.kind == FileKind::HelmValues
            && let Some(map) = crate::detect::helm::locate(&file.text, &site.span)
            && let Some((mut more, mut made)) = map.unpin(&file.text, reads_digest)
        {
            fix.edits.append(&mut more);
            fix.expected.append(&mut made);
            fix.messages.push(Message::Rewritten {
                at,
                from: site.value.clone(),
                to: untagged(),
            });
            continue;
        }
        let state = state::state(&file.text, site, reference);
        if site.kind == FileKind::Kustomize && state.is_pinned() {
            // The `digest` field goes; `newTag` stays as it is.
            match crate::kustomize::unpin_edit(&file.text, site) {
                Some((edit, change)) => {
                    fix.edits.push(edit);
                    fix.expected.push(change);
                    fix.messages.push(Message::Rewritten {
                        at,
                        from: site.value.clone(),
                        to: untagged(),
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
        // Dockerfile, a JSON document, a line with no room for a comment),
        // unpinning in that style takes that form back.
        let falls_back = matches!(state, State::TagDigest { .. })
            && style == UnpinStyle::Comment
            && crate::edit::comment_falls_back(
                &file.text,
                file.kind,
                &json,
                site,
                per_line.get(&site.line) == Some(&1),
            );
        let wanted = falls_back || style_matches(&state, style);
        unpin_value(at, site, reference, &state, wanted, &mut fix, outcome);
    }
    fix
}

/// Adds to `fix` the edits that turn the pin at `site` back into
/// `name:tag` when its state has a known tag and its form is `wanted`.
fn unpin_value(
    at: Location,
    site: &Site,
    reference: &Reference,
    state: &State,
    wanted: bool,
    fix: &mut FileFix<Message>,
    outcome: &mut Outcome,
) {
    let tag = match state {
        State::Unpinned => return,
        State::DigestOnly => {
            outcome.summary.skipped += 1;
            outcome.messages.push(Message::NoKnownTag {
                at,
                reference: site.value.clone(),
            });
            return;
        }
        State::Comment { .. } | State::TagDigest { .. } if !wanted => {
            outcome.summary.unchanged += 1;
            return;
        }
        State::Comment { tag, comment } => {
            fix.edits.push(Edit::replace(comment.clone(), ""));
            tag
        }
        State::TagDigest { tag } => tag,
    };
    let value = format!("{}:{tag}", reference.name());
    fix.edits
        .push(Edit::replace(site.span.clone(), value.clone()));
    fix.expected.push((site.value.clone(), value.clone()));
    fix.messages.push(Message::Rewritten {
        at,
        from: site.value.clone(),
        to: value,
    });
}

fn style_matches(state: &State, style: UnpinStyle) -> bool {
    matches!(
        (state, style),
        (_, UnpinStyle::All)
            | (State::Comment { .. }, UnpinStyle::Comment)
            | (State::TagDigest { .. }, UnpinStyle::TagDigest)
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn scanned(name: &str, text: &str) -> ScannedFile {
        let path = PathBuf::from(name);
        let rules = crate::detect::rules::Rules::default();
        let (kind, findings) = crate::scan::findings(&path, text, &rules).unwrap().unwrap();
        ScannedFile {
            path,
            text: text.to_string(),
            kind,
            findings,
        }
    }

    /// The fixes are applied together at the end, yet each file's messages
    /// come where they would have come file by file: what a file said while
    /// planned (no known tag), then what its fix says.
    #[test]
    fn messages_keep_their_file_order_when_fixes_are_applied_together() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let pod = |images: &[String]| {
            let mut text = String::from("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n");
            for image in images {
                text.push_str(&format!("    - image: {image}\n"));
            }
            text
        };
        let files = [
            scanned("a.yaml", &pod(&[format!("nginx@{digest} # 1.25")])),
            scanned(
                "b.yaml",
                &pod(&[
                    format!("redis@{digest}"),
                    format!("busybox@{digest} # 1.36"),
                ]),
            ),
            scanned("c.yaml", &pod(&[format!("alpine@{digest} # 3.20")])),
        ];
        let outcome = unpin(&files, UnpinStyle::All);
        let said: Vec<String> = outcome
            .messages
            .iter()
            .map(|m| match m {
                Message::Rewritten { at, to, .. } => {
                    format!("{}:{} -> {to}", at.path.display(), at.line)
                }
                Message::NoKnownTag { at, .. } => {
                    format!("{}:{} no known tag", at.path.display(), at.line)
                }
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            said,
            [
                "a.yaml:5 -> nginx:1.25",
                "b.yaml:5 no known tag",
                "b.yaml:6 -> busybox:1.36",
                "c.yaml:5 -> alpine:3.20",
            ]
        );
        let changed: Vec<_> = outcome.changes.iter().map(|c| c.path.clone()).collect();
        assert_eq!(
            changed,
            [
                PathBuf::from("a.yaml"),
                PathBuf::from("b.yaml"),
                PathBuf::from("c.yaml")
            ]
        );
    }
}
