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
    #[error("not a valid Dockerfile, skipped: {0}")]
    Dockerfile(#[source] DetectError),
    #[error("left unchanged: {0}")]
    Edit(#[source] EditError),
    #[error("cannot write: {0}")]
    Write(#[source] std::io::Error),
    #[error("changed by another program since it was read; left as it is")]
    Changed,
    #[error("skipped: {0}")]
    Passed(#[source] crate::walk::Passed),
    #[error("skipped: neither a Kubernetes manifest nor a Compose file")]
    UnknownKind,
}

impl FileError {
    /// Whether this problem fails the run (exit 2) rather than being a
    /// reported skip: a file that could not be read or is not text was not
    /// checked, so no gate may pass it.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Self::Read(_) | Self::NotUtf8 | Self::Write(_) | Self::Changed | Self::Edit(_)
        )
    }
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
    /// References that resolved but stay unwritten because another
    /// reference of their file failed.
    pub held_back: usize,
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
            Err(error) if error.is_error() => messages.push(Message::FileFailed {
                path: path.clone(),
                error,
            }),
            Err(error) => messages.push(Message::FileSkipped {
                path: path.clone(),
                error,
            }),
        }
    }
    (scanned, messages)
}

/// [`scan_with_progress`] over a walk's files, saying also which named paths
/// were passed over and which named files hold nothing we read.
pub fn scan_walked(
    walked: &crate::walk::Walked,
    rules: &detect::rules::Rules,
    progress: &mut dyn FnMut(usize),
) -> (Vec<ScannedFile>, Vec<Message>) {
    let mut messages: Vec<Message> = walked
        .passed
        .iter()
        .map(|passed| Message::FileSkipped {
            path: passed.path.clone(),
            error: FileError::Passed(passed.reason.clone()),
        })
        .collect();
    let (scanned, mut more) = scan_with_rules(&walked.files, rules, progress);
    let mut said: std::collections::HashSet<&Path> =
        scanned.iter().map(|f| f.path.as_path()).collect();
    for message in &more {
        if let Message::FileSkipped { path, .. } | Message::FileFailed { path, .. } = message {
            said.insert(path);
        }
    }
    let mut unknown = Vec::new();
    for path in &walked.named {
        if !said.contains(path.as_path()) && !is_dockerfile(path) {
            unknown.push(Message::FileSkipped {
                path: path.clone(),
                error: FileError::UnknownKind,
            });
        }
    }
    more.append(&mut unknown);
    messages.append(&mut more);
    (scanned, messages)
}

/// Whether a file is a Dockerfile (`Dockerfile`, `Dockerfile.dev`,
/// `app.Dockerfile`, `Containerfile`, …): read by the Dockerfile parser.
fn is_dockerfile(path: &Path) -> bool {
    detect::dockerfile::is_dockerfile_name(path)
}

/// Whether a file named explicitly (or by `--include`) with another name is a
/// Dockerfile: not YAML or JSON by its extension, and read as one.
fn is_unnamed_dockerfile(path: &Path, text: &str) -> bool {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    !matches!(extension.as_deref(), Some("yaml" | "yml" | "json"))
        && detect::dockerfile::looks_like_dockerfile(text)
}

fn scan_file(path: &Path, rules: &detect::rules::Rules) -> Result<Option<ScannedFile>, FileError> {
    let named = is_dockerfile(path);
    let read = |path: &Path| -> Result<String, FileError> {
        let bytes = std::fs::read(path).map_err(FileError::Read)?;
        String::from_utf8(bytes).map_err(|_| FileError::NotUtf8)
    };
    let sniffed = if named {
        None
    } else {
        Some(read(path)?).filter(|text| is_unnamed_dockerfile(path, text))
    };
    if named || sniffed.is_some() {
        let text = match sniffed {
            Some(text) => text,
            None => read(path)?,
        };
        let findings = detect::dockerfile::scan(&text).map_err(FileError::Dockerfile)?;
        return Ok(Some(ScannedFile {
            path: path.to_path_buf(),
            text,
            kind: FileKind::Dockerfile,
            findings,
        }));
    }
    let bytes = std::fs::read(path).map_err(FileError::Read)?;
    let text = String::from_utf8(bytes).map_err(|_| FileError::NotUtf8)?;
    let json = crate::walk::is_json(path);
    // A JSON file is read only when it may hold a Kubernetes object
    // (`package.json` and friends are not ours).
    if json && !(text.contains("\"apiVersion\"") && text.contains("\"kind\"")) {
        return Ok(None);
    }
    let scanned = if detect::helm::is_chart_values(path) {
        detect::scan_values(&text)
    } else if detect::helm::is_values_name(path) {
        // Values kept apart from their chart, unless Kubernetes or Compose.
        match detect::scan_path_with(path, &text, rules) {
            Ok(None) => detect::scan_values(&text),
            other => other,
        }
    } else {
        detect::scan_path_with(path, &text, rules)
    };
    let Some((kind, findings)) = scanned.map_err(FileError::Yaml)? else {
        return Ok(None);
    };
    if json && kind != FileKind::Kubernetes {
        return Ok(None);
    }
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

/// The platform each reference of a Dockerfile is built for when its `FROM`
/// names a literal `--platform` (by the start of its span): that platform's
/// manifest is pinned, as `--platform` does. Empty for other files.
fn file_platforms(file: &ScannedFile) -> BTreeMap<usize, Platform> {
    if file.kind != FileKind::Dockerfile {
        return BTreeMap::new();
    }
    detect::dockerfile::platforms(&file.text)
        .into_iter()
        .filter_map(|(at, p)| p.parse().ok().map(|p| (at, p)))
        .collect()
}

/// The platform to resolve the reference at `site` for: a Dockerfile's
/// literal `--platform`, else a Compose service's own platform under
/// `--platform`, else `--platform`.
fn site_platform(
    platforms: &BTreeMap<usize, Platform>,
    site: &Site,
    options: &PinOptions,
) -> Option<Platform> {
    platforms
        .get(&site.span.start)
        .cloned()
        .or_else(|| platform_for(site, options))
}

/// Resolves the tags found in `files` and computes each file's new text.
pub fn plan(files: &[ScannedFile], resolver: &Resolver, options: &PinOptions) -> Outcome {
    let mut keys: Vec<ResolveKey> = Vec::new();
    for file in files {
        let platforms = file_platforms(file);
        for finding in &file.findings {
            if let Finding::Image { site, reference } = finding
                && reference.digest().is_none()
                && !is_ignored(&file.text, site)
            {
                keys.push(resolve_key(
                    reference,
                    site_platform(&platforms, site, options).as_ref(),
                ));
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
    let platforms = file_platforms(file);
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
                let platform = site_platform(&platforms, site, options);
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
        if failed {
            outcome.summary.held_back += pins.len();
        }
        return;
    }
    let mut per_line: HashMap<usize, usize> = HashMap::new();
    for (site, _, _) in &pins {
        *per_line.entry(site.line).or_default() += 1;
    }
    let mut edits = Vec::new();
    let mut changes = Vec::new();
    let mut pinned = Vec::new();
    let json = edit::JsonDocuments::new(&file.text);
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
        if site.kind == FileKind::Kustomize {
            // A `digest:` field beside `newTag`, not a rewritten value.
            if let Some((edit, change)) = crate::kustomize::pin_edit(&file.text, site, digest) {
                edits.push(edit);
                changes.push(change);
                pinned.push(Message::Pinned {
                    at: Location::of(path, site),
                    reference: site.value.clone(),
                    digest: digest.clone(),
                });
            } else {
                outcome.summary.skipped += 1;
                outcome.messages.push(Message::Skipped {
                    at: Location::of(path, site),
                    value: site.value.clone(),
                    reason: SkipReason::Escaped,
                });
            }
            continue;
        }
        let alone = per_line.get(&site.line) == Some(&1);
        // JSON has no comments: keep a JSON document valid JSON.
        let style = if json.contains(site.span.start) {
            PinStyle::TagDigest
        } else {
            edit::style_for(file.kind, options.style)
        };
        let (mut more, value) = edit::pin_edits(&file.text, &pin_site, style, alone);
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
    let updated = edit::apply(&file.text, edits).and_then(|updated| {
        edit::check_rewrite_for(file.kind, &file.text, &updated, changes).map(|()| updated)
    });
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
/// rename, keeping the original's permissions. A file whose bytes are no longer
/// those that were read (another program changed it meanwhile) is left alone.
/// Returns the failures.
pub fn write(changes: &[FileChange]) -> Vec<Message> {
    let mut failures = Vec::new();
    for change in changes {
        if let Err(error) = write_file(&change.path, &change.original, &change.updated) {
            failures.push(Message::FileFailed {
                path: change.path.clone(),
                error,
            });
        }
    }
    failures
}

/// The prefix of our temporary files; the process id follows, so a later run
/// can tell a dead run's leftovers from a live run's files.
const TEMP_PREFIX: &str = ".digestpin-";

/// Temporary files being written now, for [`remove_temporaries`].
static TEMPORARIES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Removes the temporary files this process is writing (called when the
/// process is interrupted). The returned guard stops any new temporary file
/// from being made: hold it until the process exits.
pub fn remove_temporaries() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    let mut paths = lock_temporaries();
    for path in paths.drain(..) {
        let _ = std::fs::remove_file(path);
    }
    paths
}

fn lock_temporaries() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    TEMPORARIES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Removes the temporary files that runs killed before they could clean up
/// left in the directories of `files` (`.digestpin-<pid>-…` of a process that
/// no longer runs). Returns the files removed.
pub fn remove_stale_temporaries(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<&Path> = files.iter().map(|f| directory_of(f)).collect();
    dirs.sort();
    dirs.dedup();
    let mut removed = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)) else {
                continue;
            };
            if !entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let alive = rest
                .split_once('-')
                .and_then(|(pid, _)| pid.parse::<u32>().ok())
                .is_some_and(process_is_alive);
            if !alive && std::fs::remove_file(entry.path()).is_ok() {
                removed.push(entry.path());
            }
        }
    }
    removed
}

/// Whether a process with this id runs (on systems without `/proc`, every
/// process is taken to be alive, so nothing is removed by mistake).
fn process_is_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

fn write_file(path: &Path, original: &str, text: &str) -> Result<(), FileError> {
    let dir = directory_of(path);
    let permissions = std::fs::metadata(path)
        .map_err(FileError::Write)?
        .permissions();
    // Made and registered under the lock, so an interruption either sees the
    // file or stops it from being made.
    let mut temp = {
        let mut paths = lock_temporaries();
        let temp = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
            .tempfile_in(dir)
            .map_err(FileError::Write)?;
        paths.push(temp.path().to_path_buf());
        temp
    };
    let temp_path = temp.path().to_path_buf();
    // On error, dropping `temp` removes it.
    let result = fill_and_replace(&mut temp, path, original, text, permissions).and_then(|()| {
        temp.persist(path)
            .map(drop)
            .map_err(|e| FileError::Write(e.error))
    });
    lock_temporaries().retain(|p| p != &temp_path);
    result
}

fn fill_and_replace(
    temp: &mut tempfile::NamedTempFile,
    path: &Path,
    original: &str,
    text: &str,
    permissions: std::fs::Permissions,
) -> Result<(), FileError> {
    temp.write_all(text.as_bytes()).map_err(FileError::Write)?;
    temp.as_file().sync_all().map_err(FileError::Write)?;
    temp.as_file()
        .set_permissions(permissions)
        .map_err(FileError::Write)?;
    // Last look before the rename: is the file still what we read?
    let now = std::fs::read(path).map_err(FileError::Read)?;
    if now != original.as_bytes() {
        return Err(FileError::Changed);
    }
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
