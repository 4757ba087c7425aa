//! The `history` job: every change of a pinned reference in the git history
//! (git2, no `git` process), newest first.
//!
//! The walk reads only what it must: each non-merge commit's tree is diffed
//! against its parent's, restricted to the scanned paths (a pathspec), with
//! rename detection; only the changed files are read, straight from the
//! object database (no checkout), and run through the same detectors as a
//! scan ([`crate::scan::findings`]). Within a file, the references of one
//! image (by normalised name, so `nginx` and `docker.io/library/nginx` are
//! one image) are paired in file order between the old and the new text; a
//! pair whose digest differs is a [`Change`]. A merge commit brings no change
//! of its own: each change is told at the commit that made it.
//!
//! [`pins_at`] reads the pins of one image at one revision, for `rollback
//! --to`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use git2::{Delta, DiffFindOptions, DiffOptions, Oid, Repository, Sort, Tree};

use crate::detect::Finding;
use crate::detect::rules::Rules;
use crate::reference::Reference;
use crate::state;

/// Why the history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("not in a git repository: {0}")]
    NoRepository(String),
    #[error("{path} is outside the repository")]
    Outside { path: PathBuf },
    #[error("no revision {rev}: {message}")]
    Revision { rev: String, message: String },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// A reference's pin state on one side of a change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pin {
    /// The digest, if pinned.
    pub digest: Option<String>,
    /// The tag it follows: our comment, `name:tag@…`, or the tag of an
    /// unpinned reference.
    pub tag: Option<String>,
}

/// One change of a pinned reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The commit, full hex.
    pub commit: String,
    /// The commit time: seconds since the epoch and the committer's offset
    /// in minutes.
    pub time: i64,
    pub offset_minutes: i32,
    /// The file, relative to the repository's top, with `/`.
    pub path: String,
    pub line: usize,
    pub column: usize,
    /// The image's familiar name (`nginx`, `ghcr.io/org/app`).
    pub image: String,
    /// The value as written after the change.
    pub value: String,
    /// Before the change; `None` when the reference is new (a new file or
    /// a new reference in it).
    pub old: Option<Pin>,
    /// After the change (always pinned).
    pub new: Pin,
}

/// The digest key of a change's new pin (for `history --provenance`).
pub fn change_key(change: &Change) -> Option<crate::registry::DigestKey> {
    super::provenance::key(&change.image, change.new.digest.as_deref()?)
}

/// What to look at.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// Normalised names (`docker.io/library/nginx`) of the images to keep;
    /// empty for all.
    pub images: Vec<String>,
    /// Pathspecs relative to the repository's top; empty for the whole tree.
    pub pathspecs: Vec<String>,
    /// Only commits at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// At most this many changes.
    pub max_count: Option<usize>,
}

/// A reference found in one version of a file.
#[derive(Debug, Clone)]
struct Seen {
    name: String,
    familiar: String,
    value: String,
    line: usize,
    column: usize,
    pin: Pin,
}

/// The repository holding `start` and its work tree (canonical).
pub fn open(start: &Path) -> Result<(Repository, PathBuf), HistoryError> {
    let repo = Repository::discover(start)
        .map_err(|e| HistoryError::NoRepository(e.message().to_string()))?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| HistoryError::NoRepository("bare repository".into()))?;
    let workdir = std::fs::canonicalize(workdir)
        .map_err(|e| HistoryError::NoRepository(format!("{}: {e}", workdir.display())))?;
    Ok((repo, workdir))
}

/// `path` (relative to the working directory `cwd`, or absolute) as a
/// pathspec relative to the repository's top `workdir`.
pub fn pathspec(workdir: &Path, cwd: &Path, path: &Path) -> Result<String, HistoryError> {
    let absolute = crate::walk::lexical_join(cwd, path);
    let relative = absolute
        .strip_prefix(workdir)
        .map_err(|_| HistoryError::Outside {
            path: path.to_path_buf(),
        })?;
    Ok(relative.to_string_lossy().replace('\\', "/"))
}

/// The references of `text` (the file at repository path `path`), in file
/// order; none when no detector reads it.
fn references(workdir: &Path, path: &str, text: &[u8], rules: &Rules) -> Vec<Seen> {
    let full = workdir.join(path);
    if !crate::walk::is_candidate(&full) {
        return Vec::new();
    }
    let Ok(text) = std::str::from_utf8(text) else {
        return Vec::new();
    };
    let Ok(Some((_, findings))) = crate::scan::findings(&full, text, rules) else {
        return Vec::new();
    };
    findings
        .iter()
        .filter_map(|finding| match finding {
            Finding::Image { site, reference } => Some(Seen {
                name: reference.normalized_name(),
                familiar: reference.familiar_name(),
                value: site.value.clone(),
                line: site.line,
                column: site.column,
                pin: Pin {
                    digest: reference.digest().map(String::from),
                    tag: state::state(text, site, reference)
                        .tag()
                        .or(reference.tag())
                        .map(String::from),
                },
            }),
            Finding::Skipped { .. } => None,
        })
        .collect()
}

/// The changes between two versions of one file: references of one image
/// paired in file order; a new side that is pinned with another digest (or
/// has no old side) is a change.
fn file_changes(old: &[Seen], new: &[Seen], images: &[String]) -> Vec<(Seen, Option<Pin>)> {
    let mut old_by: BTreeMap<&str, Vec<&Seen>> = BTreeMap::new();
    for seen in old {
        old_by.entry(&seen.name).or_default().push(seen);
    }
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for seen in new {
        let k = index.entry(&seen.name).or_default();
        let before = old_by.get(seen.name.as_str()).and_then(|v| v.get(*k));
        *k += 1;
        if seen.pin.digest.is_none() || !(images.is_empty() || images.contains(&seen.name)) {
            continue;
        }
        if before.is_some_and(|b| b.pin.digest == seen.pin.digest) {
            continue;
        }
        out.push((seen.clone(), before.map(|b| b.pin.clone())));
    }
    out
}

/// Every change of a pinned reference under the options' paths, newest
/// first.
pub fn history(
    repo: &Repository,
    workdir: &Path,
    options: &HistoryOptions,
    rules: &Rules,
) -> Result<Vec<Change>, HistoryError> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TIME)?;
    if walk.push_head().is_err() {
        // An empty repository has no history.
        return Ok(Vec::new());
    }
    let mut changes = Vec::new();
    // Grows with the sources of files renamed into the paths, so that older
    // commits are read under the old names (as `git log --follow`).
    let mut options = options.clone();
    let mut reader = Reader {
        repo,
        workdir,
        rules,
        cache: HashMap::new(),
    };
    for oid in walk {
        let commit = repo.find_commit(oid?)?;
        let time = commit.time();
        if options.since.is_some_and(|since| time.seconds() < since) {
            continue;
        }
        if commit.parent_count() > 1 {
            continue;
        }
        let parent_tree = match commit.parent(0) {
            Ok(parent) => Some(parent.tree()?),
            Err(_) => None,
        };
        let tree = commit.tree()?;
        let (mut found, sources) =
            commit_changes(&mut reader, parent_tree.as_ref(), &tree, &options)?;
        for source in sources {
            if !options.pathspecs.iter().any(|p| under(&source, p)) {
                options.pathspecs.push(source);
            }
        }
        found.sort_by(|a, b| (&a.0, a.1.line, a.1.column).cmp(&(&b.0, b.1.line, b.1.column)));
        for (path, seen, old) in found {
            changes.push(Change {
                commit: commit.id().to_string(),
                time: time.seconds(),
                offset_minutes: time.offset_minutes(),
                path,
                line: seen.line,
                column: seen.column,
                image: seen.familiar,
                value: seen.value,
                old,
                new: seen.pin,
            });
            if options.max_count.is_some_and(|max| changes.len() >= max) {
                return Ok(changes);
            }
        }
    }
    Ok(changes)
}

/// A change found in one commit: the file, the new reference, the old pin.
type Found = (String, Seen, Option<Pin>);

/// Reads the references of blobs, each (blob, path) once: a file's new
/// version in one commit is its old version in the next one read.
struct Reader<'r> {
    repo: &'r Repository,
    workdir: &'r Path,
    rules: &'r Rules,
    cache: HashMap<(Oid, String), Rc<Vec<Seen>>>,
}

impl Reader<'_> {
    fn read(&mut self, id: Oid, path: &str) -> Result<Rc<Vec<Seen>>, git2::Error> {
        let key = (id, path.to_string());
        if let Some(seen) = self.cache.get(&key) {
            return Ok(Rc::clone(seen));
        }
        let seen = if id.is_zero() {
            Vec::new()
        } else {
            references(
                self.workdir,
                path,
                self.repo.find_blob(id)?.content(),
                self.rules,
            )
        };
        if self.cache.len() >= 4096 {
            self.cache.clear();
        }
        let seen = Rc::new(seen);
        self.cache.insert(key, Rc::clone(&seen));
        Ok(seen)
    }
}

/// The changes one commit made to the pinned references under the paths,
/// and the paths outside them that files under them were renamed from.
fn commit_changes(
    reader: &mut Reader<'_>,
    parent: Option<&Tree<'_>>,
    tree: &Tree<'_>,
    options: &HistoryOptions,
) -> Result<(Vec<Found>, Vec<String>), HistoryError> {
    let repo = reader.repo;
    if unchanged(parent, tree, &options.pathspecs) {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut diff_options = DiffOptions::new();
    for spec in &options.pathspecs {
        diff_options.pathspec(spec);
    }
    let mut diff = repo.diff_tree_to_tree(parent, Some(tree), Some(&mut diff_options))?;
    if diff.deltas().len() == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let has_add = diff.deltas().any(|d| d.status() == Delta::Added);
    let has_delete = diff.deltas().any(|d| d.status() == Delta::Deleted);
    if has_add && has_delete {
        diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
    }
    let renamed = if has_add && !options.pathspecs.is_empty() {
        rename_sources(repo, parent, tree)?
    } else {
        BTreeMap::new()
    };
    let mut out = Vec::new();
    let mut sources = Vec::new();
    for delta in diff.deltas() {
        if matches!(delta.status(), Delta::Deleted | Delta::Unreadable) {
            continue;
        }
        let Some(new_path) = delta
            .new_file()
            .path()
            .map(|p| p.to_string_lossy().into_owned())
        else {
            continue;
        };
        let new = reader.read(delta.new_file().id(), &new_path)?;
        if new.iter().all(|s| s.pin.digest.is_none()) {
            continue;
        }
        let old = match (delta.status(), delta.old_file().path()) {
            // Added under the paths: renamed from outside them?
            (Delta::Added, _) => match renamed.get(&new_path) {
                Some((old_path, id)) => {
                    sources.push(old_path.clone());
                    reader.read(*id, old_path)?
                }
                None => Rc::new(Vec::new()),
            },
            (_, None) => Rc::new(Vec::new()),
            (_, Some(old_path)) => {
                reader.read(delta.old_file().id(), &old_path.to_string_lossy())?
            }
        };
        for (seen, old) in file_changes(&old, &new, &options.images) {
            out.push((new_path.clone(), seen, old));
        }
    }
    Ok((out, sources))
}

/// Whether every path names the same object (or nothing) in both trees:
/// the commit did not touch them, and no diff is needed.
fn unchanged(parent: Option<&Tree<'_>>, tree: &Tree<'_>, pathspecs: &[String]) -> bool {
    let Some(parent) = parent else {
        return false;
    };
    !pathspecs.is_empty()
        && pathspecs.iter().all(|spec| {
            let at = |t: &Tree<'_>| t.get_path(Path::new(spec)).ok().map(|e| e.id());
            !spec.contains(['*', '?', '[']) && at(parent) == at(tree)
        })
}

/// The files a commit renamed, by new path: the old path and blob. Asked
/// only when a file appeared under restricted paths, whose diff cannot see
/// a source outside them.
fn rename_sources(
    repo: &Repository,
    parent: Option<&Tree<'_>>,
    tree: &Tree<'_>,
) -> Result<BTreeMap<String, (String, Oid)>, HistoryError> {
    let mut diff = repo.diff_tree_to_tree(parent, Some(tree), None)?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
    Ok(diff
        .deltas()
        .filter(|d| d.status() == Delta::Renamed)
        .filter_map(|d| {
            let new = d.new_file().path()?.to_string_lossy().into_owned();
            let old = d.old_file().path()?.to_string_lossy().into_owned();
            Some((new, (old, d.old_file().id())))
        })
        .collect())
}

/// The pins of the image `name` (normalised) in the files under
/// `pathspecs` at revision `rev`: each file, line and pin.
pub fn pins_at(
    repo: &Repository,
    workdir: &Path,
    rev: &str,
    name: &str,
    pathspecs: &[String],
    rules: &Rules,
) -> Result<Vec<(String, usize, Pin)>, HistoryError> {
    let object = repo
        .revparse_single(rev)
        .map_err(|e| HistoryError::Revision {
            rev: rev.to_string(),
            message: e.message().to_string(),
        })?;
    let tree = object.peel_to_tree()?;
    let mut out = Vec::new();
    let mut failure = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return git2::TreeWalkResult::Ok;
        }
        let path = format!("{dir}{}", entry.name().unwrap_or_default());
        if !pathspecs.is_empty() && !pathspecs.iter().any(|p| under(&path, p)) {
            return git2::TreeWalkResult::Ok;
        }
        match repo.find_blob(entry.id()) {
            Ok(blob) => {
                for seen in references(workdir, &path, blob.content(), rules) {
                    if seen.name == name && seen.pin.digest.is_some() {
                        out.push((path.clone(), seen.line, seen.pin));
                    }
                }
                git2::TreeWalkResult::Ok
            }
            Err(e) => {
                failure = Some(e);
                git2::TreeWalkResult::Abort
            }
        }
    })?;
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(out),
    }
}

/// Whether the repository path `path` is `spec` or lies under it.
fn under(path: &str, spec: &str) -> bool {
    let spec = spec.trim_end_matches('/');
    spec.is_empty() || path == spec || path.starts_with(&format!("{spec}/"))
}

/// The normalised name of an image given on the command line.
pub fn image_name(image: &str) -> Result<String, crate::reference::ReferenceError> {
    Reference::parse(image).map(|r| r.normalized_name())
}

/// `time` (seconds since the epoch) at `offset_minutes` from UTC, as
/// `YYYY-MM-DD`.
pub fn date(time: i64, offset_minutes: i32) -> String {
    let days = (time + i64::from(offset_minutes) * 60).div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD` as seconds since the epoch at midnight UTC.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if text.len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days * 86_400)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(date(0, 0), "1970-01-01");
        assert_eq!(date(1_767_225_600, 0), "2026-01-01");
        assert_eq!(date(1_767_225_599, 60), "2026-01-01");
        assert_eq!(parse_date("2026-01-01"), Some(1_767_225_600));
        assert_eq!(parse_date("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2026-1-01"), None);
    }

    fn seen(text: &str) -> Vec<Seen> {
        references(
            Path::new("/r"),
            "k8s/pod.yaml",
            text.as_bytes(),
            &Rules::default(),
        )
    }

    #[test]
    fn references_of_one_image_pair_in_file_order_across_spellings() {
        let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let pod = |images: &[String]| {
            let mut out = String::from("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n");
            for image in images {
                out.push_str(&format!("    - image: {image}\n"));
            }
            out
        };
        let old = seen(&pod(&[
            format!("nginx@{} # 1.25", d('a')),
            "redis:7".to_string(),
            format!("nginx@{} # 1.25", d('a')),
        ]));
        let new = seen(&pod(&[
            format!("docker.io/library/nginx@{} # 1.25", d('a')),
            format!("redis:7@{}", d('e')),
            format!("library/nginx@{} # 1.26", d('b')),
            format!("busybox@{}", d('c')),
        ]));
        let got: Vec<(usize, Option<Pin>)> = file_changes(&old, &new, &[])
            .into_iter()
            .map(|(s, old)| (s.line, old))
            .collect();
        let pin = |digest: Option<String>, tag: &str| Pin {
            digest,
            tag: Some(tag.to_string()),
        };
        assert_eq!(
            got,
            [
                (6, Some(pin(None, "7"))),
                (7, Some(pin(Some(d('a')), "1.25"))),
                (8, None),
            ]
        );
        let only_nginx = file_changes(&old, &new, &["docker.io/library/nginx".to_string()]);
        assert_eq!(only_nginx.len(), 1);
        assert_eq!(only_nginx[0].0.line, 7);
    }

    #[test]
    fn paths_under_a_pathspec() {
        assert!(under("k8s/web.yaml", "k8s"));
        assert!(under("k8s/web.yaml", "k8s/"));
        assert!(under("k8s", "k8s"));
        assert!(!under("k8s2/web.yaml", "k8s"));
        assert!(under("a.yaml", ""));
    }
}
