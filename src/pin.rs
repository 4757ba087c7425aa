//! The `pin` job: walk → detect → resolve → edit.
//!
//! [`scan`] reads each file and finds its references; [`plan`] resolves every
//! tag once and computes each file's new text, checked by re-parsing; nothing is
//! written here. [`write`] puts the new texts in place through a temporary file
//! in the same directory and a rename, keeping the file's permissions. What
//! happened to each reference is returned as [`Message`]s for the report layer.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::detect::{self, DetectError, FileKind, Finding, ScalarStyle, Site, SkipReason};
use crate::edit::{self, Edit, EditError, PinSite, PinStyle};
use crate::reference::Reference;
use crate::registry::{Platform, ResolveError, ResolveKey, Resolved, Resolver};

/// A line carrying this marker is never touched.
pub const IGNORE_MARKER: &str = "digestpin:ignore";

/// Settings of a pin run.
#[derive(Debug, Clone, Default)]
pub struct PinOptions {
    pub style: PinStyle,
    pub platform: Option<Platform>,
    /// How Helm image maps are pinned.
    pub helm: detect::helm::HelmStyle,
}

/// Why a whole file was passed over.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    #[error("not UTF-8 text")]
    NotUtf8,
    #[error("not valid YAML, skipped: {0}")]
    Yaml(#[source] DetectError),
    #[error("left unchanged: {0}")]
    Edit(#[source] EditError),
    #[error("cannot write: {0}")]
    Write(#[source] std::io::Error),
}

/// One file's references.
#[derive(Debug)]
pub struct ScannedFile {
    pub path: PathBuf,
    pub text: String,
    pub kind: FileKind,
    pub findings: Vec<Finding>,
}

/// Where a message points.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn of(path: &Path, site: &Site) -> Self {
        Self {
            path: path.to_path_buf(),
            line: site.line,
            column: site.column,
        }
    }
}

/// What happened, for the report layer.
#[derive(Debug)]
pub enum Message {
    Pinned {
        at: Location,
        reference: String,
        digest: String,
    },
    AlreadyPinned {
        at: Location,
        reference: String,
    },
    Skipped {
        at: Location,
        value: String,
        reason: SkipReason,
    },
    Ignored {
        at: Location,
        value: String,
    },
    Failed {
        at: Location,
        reference: String,
        error: ResolveError,
    },
    /// `pin --platform`: a Compose service's own `platform:` won over the
    /// requested one.
    ServicePlatform {
        at: Location,
        reference: String,
        platform: String,
        requested: String,
    },
    /// `unpin` and `update`: a value rewritten.
    Rewritten {
        at: Location,
        from: String,
        to: String,
    },
    /// `update`: the tag still points at the pinned digest.
    UpToDate {
        at: Location,
        reference: String,
    },
    /// A pin whose tag is unknown (`name@sha256:…` without our comment).
    NoKnownTag {
        at: Location,
        reference: String,
    },
    FileSkipped {
        path: PathBuf,
        error: FileError,
    },
    FileFailed {
        path: PathBuf,
        error: FileError,
    },
}

/// A file's text before and after.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: PathBuf,
    pub original: String,
    pub updated: String,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub found: usize,
    pub pinned: usize,
    pub already_pinned: usize,
    pub skipped: usize,
    pub failed: usize,
    pub file_errors: usize,
}

/// The result of planning: what to write and what to say.
#[derive(Debug, Default)]
pub struct Outcome {
    pub changes: Vec<FileChange>,
    pub messages: Vec<Message>,
    pub summary: Summary,
}

impl Outcome {
    /// Whether some value was left unpinned that the tool cannot pin for a
    /// reason other than templating (what `pin --check` fails on too).
    pub fn has_unpinnable(&self) -> bool {
        self.messages.iter().any(|m| match m {
            Message::Skipped { value, reason, .. } => {
                reason.check_rule().is_some()
                    && !Reference::parse(value.trim()).is_ok_and(|r| r.digest().is_some())
            }
            _ => false,
        })
    }

    /// Whether anything failed (exit code 2).
    pub fn has_errors(&self) -> bool {
        self.summary.failed > 0 || self.summary.file_errors > 0
    }
}

/// Reads and scans `files`. Files that are neither Kubernetes nor Compose are
/// dropped silently; unreadable or invalid ones become messages.
pub fn scan(files: &[PathBuf]) -> (Vec<ScannedFile>, Vec<Message>) {
    scan_with_progress(files, &mut |_| {})
}

/// [`scan`], calling `progress` with the number of files read so far.
pub fn scan_with_progress(
    files: &[PathBuf],
    progress: &mut dyn FnMut(usize),
) -> (Vec<ScannedFile>, Vec<Message>) {
    scan_with_rules(files, &detect::rules::Rules::default(), progress)
}

/// [`scan_with_progress`] with custom-resource rules.
pub fn scan_with_rules(
    files: &[PathBuf],
    rules: &detect::rules::Rules,
    progress: &mut dyn FnMut(usize),
) -> (Vec<ScannedFile>, Vec<Message>) {
    let mut scanned = Vec::new();
    let mut messages = Vec::new();
    for (done, path) in files.iter().enumerate() {
        progress(done + 1);
        match scan_file(path, rules) {
            Ok(Some(file)) => scanned.push(file),
            Ok(None) => {}
            Err(error) => messages.push(Message::FileSkipped {
                path: path.clone(),
                error,
            }),
        }
    }
    (scanned, messages)
}

/// Whether a file is a Dockerfile (`Dockerfile`, `Dockerfile.dev`,
/// `app.Dockerfile`): not YAML, so not read (yet) by the YAML detectors.
fn is_dockerfile(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| {
            let lower = name.to_ascii_lowercase();
            lower.starts_with("dockerfile") || lower.ends_with(".dockerfile")
        })
}

fn scan_file(path: &Path, rules: &detect::rules::Rules) -> Result<Option<ScannedFile>, FileError> {
    if is_dockerfile(path) {
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(FileError::Read)?;
    let text = String::from_utf8(bytes).map_err(|_| FileError::NotUtf8)?;
    let scanned = if detect::helm::is_chart_values(path) {
        detect::scan_values(&text)
    } else if detect::helm::is_values_name(path) {
        // Values kept apart from their chart, unless Kubernetes or Compose.
        match detect::scan_with(&text, rules) {
            Ok(None) => detect::scan_values(&text),
            other => other,
        }
    } else {
        detect::scan_with(&text, rules)
    };
    let Some((kind, findings)) = scanned.map_err(FileError::Yaml)? else {
        return Ok(None);
    };
    Ok(Some(ScannedFile {
        path: path.to_path_buf(),
        text,
        kind,
        findings,
    }))
}

/// The text of the line holding byte `at`.
pub fn line_of(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    &text[start..end]
}

/// The key under which a reference is resolved.
pub fn resolve_key(reference: &Reference, platform: Option<&Platform>) -> ResolveKey {
    ResolveKey {
        registry: reference.registry().to_string(),
        repository: reference.repository().to_string(),
        tag: reference.tag().unwrap_or("latest").to_string(),
        platform: platform.cloned(),
    }
}

/// Resolves the tags found in `files` and computes each file's new text.
pub fn plan(files: &[ScannedFile], resolver: &Resolver, options: &PinOptions) -> Outcome {
    let mut keys: Vec<ResolveKey> = Vec::new();
    for file in files {
        for finding in &file.findings {
            if let Finding::Image { site, reference } = finding
                && reference.digest().is_none()
                && !is_ignored(&file.text, site)
            {
                keys.push(resolve_key(reference, platform_for(site, options).as_ref()));
            }
        }
    }
    keys.sort();
    keys.dedup();
    let resolved = if keys.is_empty() {
        BTreeMap::new()
    } else {
        resolver.resolve_all(&keys)
    };
    plan_with(files, &resolved, options)
}

/// The platform a site is resolved for: none without `--platform` (the
/// index digest is kept); with it, a Compose service's own `platform:`
/// wins over the requested one (unless templated or invalid).
fn platform_for(site: &Site, options: &PinOptions) -> Option<Platform> {
    let requested = options.platform.as_ref()?;
    site.platform
        .as_deref()
        .filter(|p| !detect::is_templated(p))
        .and_then(|p| p.parse::<Platform>().ok())
        .or_else(|| Some(requested.clone()))
}

fn is_ignored(text: &str, site: &Site) -> bool {
    line_of(text, site.span.start).contains(IGNORE_MARKER)
}

/// [`plan`] with the resolutions already made.
pub fn plan_with(
    files: &[ScannedFile],
    resolved: &BTreeMap<ResolveKey, Result<Resolved, ResolveError>>,
    options: &PinOptions,
) -> Outcome {
    let mut outcome = Outcome::default();
    for file in files {
        outcome.summary.files += 1;
        plan_file(file, resolved, options, &mut outcome);
    }
    outcome
}

fn plan_file(
    file: &ScannedFile,
    resolved: &BTreeMap<ResolveKey, Result<Resolved, ResolveError>>,
    options: &PinOptions,
    outcome: &mut Outcome,
) {
    let path = file.path.as_path();
    let mut pins: Vec<(&Site, &Reference, String)> = Vec::new();
    let mut failed = false;
    for finding in &file.findings {
        outcome.summary.found += 1;
        match finding {
            Finding::Skipped { site, reason } => {
                outcome.summary.skipped += 1;
                if is_ignored(&file.text, site) {
                    outcome.messages.push(Message::Ignored {
                        at: Location::of(path, site),
                        value: site.value.clone(),
                    });
                    continue;
                }
                outcome.messages.push(Message::Skipped {
                    at: Location::of(path, site),
                    value: site.value.clone(),
                    reason: reason.clone(),
                });
            }
            Finding::Image { site, reference } => {
                if is_ignored(&file.text, site) {
                    outcome.summary.skipped += 1;
                    outcome.messages.push(Message::Ignored {
                        at: Location::of(path, site),
                        value: site.value.clone(),
                    });
                    continue;
                }
                if reference.digest().is_some() {
                    outcome.summary.already_pinned += 1;
                    outcome.messages.push(Message::AlreadyPinned {
                        at: Location::of(path, site),
                        reference: site.value.clone(),
                    });
                    continue;
                }
                let platform = platform_for(site, options);
                let key = resolve_key(reference, platform.as_ref());
                match resolved.get(&key) {
                    Some(Ok(found)) => {
                        if let (Some(platform), Some(requested)) = (&platform, &options.platform)
                            && platform != requested
                        {
                            outcome.messages.push(Message::ServicePlatform {
                                at: Location::of(path, site),
                                reference: site.value.clone(),
                                platform: platform.to_string(),
                                requested: requested.to_string(),
                            });
                        }
                        pins.push((site, reference, found.digest.clone()));
                    }
                    Some(Err(error)) => {
                        failed = true;
                        outcome.summary.failed += 1;
                        outcome.messages.push(Message::Failed {
                            at: Location::of(path, site),
                            reference: site.value.clone(),
                            error: error.clone(),
                        });
                    }
                    None => {
                        failed = true;
                        outcome.summary.failed += 1;
                        outcome.messages.push(Message::Failed {
                            at: Location::of(path, site),
                            reference: site.value.clone(),
                            error: ResolveError::NotAttempted,
                        });
                    }
                }
            }
        }
    }
    if failed || pins.is_empty() {
        // A file with a failed reference is left byte-identical.
        return;
    }
    let mut per_line: HashMap<usize, usize> = HashMap::new();
    for (site, _, _) in &pins {
        *per_line.entry(site.line).or_default() += 1;
    }
    let mut edits = Vec::new();
    let mut changes = Vec::new();
    let mut pinned = Vec::new();
    for (site, reference, digest) in &pins {
        if site.kind == FileKind::HelmValues
            && let Some(map) = detect::helm::locate(&file.text, &site.span)
        {
            let (mut more, mut made) = map.pin(digest, options.helm);
            edits.append(&mut more);
            changes.append(&mut made);
            pinned.push(Message::Pinned {
                at: Location::of(path, site),
                reference: site.value.clone(),
                digest: digest.clone(),
            });
            continue;
        }
        let pin_site = PinSite {
            span: site.span.clone(),
            quoted: site.style != ScalarStyle::Plain,
            in_flow: site.in_flow,
            name: reference.name(),
            tag: reference.tag().unwrap_or("latest"),
            digest,
        };
        let alone = per_line.get(&site.line) == Some(&1);
        let (mut more, value) = edit::pin_edits(&file.text, &pin_site, options.style, alone);
        edits.append(&mut more);
        changes.push((site.value.clone(), value));
        pinned.push(Message::Pinned {
            at: Location::of(path, site),
            reference: site.value.clone(),
            digest: digest.clone(),
        });
    }
    finish_file(file, &edits, &changes, pinned, outcome);
}

/// Applies a file's edits, checks the result by re-parsing, and records the
/// change and its messages; a file whose check fails is left alone.
pub(crate) fn finish_file(
    file: &ScannedFile,
    edits: &[Edit],
    changes: &[(String, String)],
    messages: Vec<Message>,
    outcome: &mut Outcome,
) {
    if edits.is_empty() {
        return;
    }
    let updated = edit::apply(&file.text, edits)
        .and_then(|updated| edit::check_rewrite(&file.text, &updated, changes).map(|()| updated));
    match updated {
        Ok(updated) => {
            outcome.summary.pinned += messages.len();
            outcome.messages.extend(messages);
            outcome.changes.push(FileChange {
                path: file.path.clone(),
                original: file.text.clone(),
                updated,
            });
        }
        Err(error) => {
            outcome.summary.file_errors += 1;
            outcome.messages.push(Message::FileFailed {
                path: file.path.clone(),
                error: FileError::Edit(error),
            });
        }
    }
}

/// Writes each change through a temporary file in the same directory and a
/// rename, keeping the original's permissions. Returns the failures.
pub fn write(changes: &[FileChange]) -> Vec<Message> {
    let mut failures = Vec::new();
    for change in changes {
        if let Err(err) = write_file(&change.path, &change.updated) {
            failures.push(Message::FileFailed {
                path: change.path.clone(),
                error: FileError::Write(err),
            });
        }
    }
    failures
}

fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let permissions = std::fs::metadata(path)?.permissions();
    let mut temp = tempfile::Builder::new()
        .prefix(".digestpin-")
        .tempfile_in(dir)?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.as_file().set_permissions(permissions)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_finds_the_line() {
        let text = "a: 1\nimage: x # digestpin:ignore\nb: 2";
        let at = text.find('x').unwrap();
        assert_eq!(line_of(text, at), "image: x # digestpin:ignore");
        assert_eq!(line_of(text, text.len()), "b: 2");
    }
}
