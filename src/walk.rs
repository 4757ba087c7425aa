//! Which files to look at.
//!
//! Directories are walked with `ignore::WalkBuilder`: `.gitignore` and
//! `.ignore` files are honoured (unless `--no-ignore`), hidden directories are
//! walked (unless `--no-hidden`) but VCS metadata (`.git`, `.hg`, `.svn`,
//! `.jj`) is never entered, and no symbolic link is followed (a link could lead
//! out of the tree, and a file reached through a link is replaced by our rename
//! on write). Inside directories `*.yaml`, `*.yml`, `*.json` files and Dockerfiles are
//! candidates, whatever the case of the extension; a file named explicitly is
//! read whatever its name. `--exclude` globs apply to both, with gitignore
//! semantics, so a pre-commit hook that names files one by one gets the same
//! exclusions as a walk. `--include` globs override the ignore files and the
//! hidden rule, as ripgrep's `--glob` does; a file an include glob matches is
//! read whatever its name (`build/base.image`), and its content says what it
//! is (`crate::scan::detector_for`). A named path that is passed over
//! (a symbolic link, a path through one, a special file, an excluded file) is
//! returned with its reason.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;
use ignore::overrides::{Override, OverrideBuilder};

/// Why the walk could not start or could not read part of the tree.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("invalid --exclude glob `{glob}`: {source}")]
    Glob {
        glob: String,
        #[source]
        source: ignore::Error,
    },
    #[error("invalid include glob `{glob}`: {reason}")]
    Include { glob: String, reason: String },
    #[error("{path}: no such file or directory")]
    Missing { path: PathBuf },
    #[error("{0}")]
    Walk(#[from] ignore::Error),
}

/// Why a path named on the command line is not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Passed {
    #[error("a symbolic link, not followed")]
    Symlink,
    #[error("reached through the symbolic link {0}, not followed")]
    ThroughSymlink(PathBuf),
    #[error("not a regular file or directory")]
    Special,
    #[error("excluded by an exclude glob")]
    Excluded,
    #[error("not matched by any include glob")]
    NotIncluded,
}

/// A named path passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassedOver {
    pub path: PathBuf,
    pub reason: Passed,
}

/// Directories never entered: version-control metadata.
const VCS_DIRS: [&str; 4] = [".git", ".hg", ".svn", ".jj"];

/// Settings of one walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Globs of paths to read; when empty, every candidate is read.
    pub includes: Vec<String>,
    /// Globs of paths never to read, relative to the working directory.
    pub excludes: Vec<String>,
    /// `--no-hidden`: skip hidden files and directories.
    pub skip_hidden: bool,
    /// `--no-ignore`: read files that `.gitignore` and `.ignore` exclude.
    pub no_ignore: bool,
}

/// The files of a walk, sorted, and the problems met on the way.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<PathBuf>,
    /// The files that were named on the command line (a subset of `files`).
    pub named: Vec<PathBuf>,
    /// Named paths passed over, with the reason.
    pub passed: Vec<PassedOver>,
    /// Files an include glob matched whose name is not one we read (a subset
    /// of `files`): their content says whether they are ours, and one that
    /// is not, or is not text, is passed over quietly as a walked file is.
    pub included: Vec<PathBuf>,
    pub errors: Vec<WalkError>,
}

/// `path` joined to `base` with `.` and `..` resolved by their names,
/// without touching the file system (a symbolic link stays as named).
pub fn lexical_join(base: &Path, path: &Path) -> PathBuf {
    use std::path::Component;
    let mut joined = PathBuf::new();
    for component in base.join(path).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                joined.pop();
            }
            other => joined.push(other),
        }
    }
    joined
}

/// Is this a file name we read when walking a directory?
pub fn is_candidate(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["yaml", "yml", "json"]
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    }) || crate::detect::dockerfile::is_dockerfile_name(path)
        || crate::detect::kustomize::is_kustomization_path(path)
}

/// Whether a file name ends in `.json` (any case): such a file is read only
/// when it holds a Kubernetes object.
pub fn is_json(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The first symbolic link among the path's leading components (the path
/// itself included), as written: a file reached through a link is never ours
/// to rewrite. The directories holding the working directory are the system's
/// layout (`/var` on macOS) and are not questioned.
fn symlink_on_the_way(path: &Path, cwd: &Path) -> Option<PathBuf> {
    let mut prefix = PathBuf::new();
    for component in path.components() {
        prefix.push(component);
        if !cwd.starts_with(&prefix)
            && matches!(
                component,
                std::path::Component::Normal(_) | std::path::Component::ParentDir
            )
            && std::fs::symlink_metadata(&prefix).is_ok_and(|m| m.file_type().is_symlink())
        {
            return Some(prefix);
        }
    }
    None
}

fn excludes(root: &Path, globs: &[String]) -> Result<Override, WalkError> {
    let mut builder = OverrideBuilder::new(root);
    for glob in globs {
        builder
            .add(&format!("!{glob}"))
            .map_err(|source| WalkError::Glob {
                glob: glob.clone(),
                source,
            })?;
    }
    builder.build().map_err(|source| WalkError::Glob {
        glob: globs.join(", "),
        source,
    })
}

/// Lists the files under `paths` (the working directory when empty).
pub fn walk(paths: &[PathBuf], options: &WalkOptions) -> Result<Walked, WalkError> {
    let cwd = std::env::current_dir().map_err(|e| WalkError::Walk(ignore::Error::Io(e)))?;
    let overrides = excludes(&cwd, &options.excludes)?;
    let includes = includes(&options.includes)?;
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut walked = Walked::default();
    for path in paths {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(_) => {
                walked
                    .errors
                    .push(WalkError::Missing { path: path.clone() });
                continue;
            }
        };
        let mut pass = |reason| {
            walked.passed.push(PassedOver {
                path: path.clone(),
                reason,
            });
        };
        if meta.file_type().is_symlink() {
            pass(Passed::Symlink);
            continue;
        }
        if let Some(link) = symlink_on_the_way(path, &cwd) {
            pass(Passed::ThroughSymlink(link));
            continue;
        }
        if meta.is_file() {
            if is_excluded(&overrides, &cwd, path, false) {
                pass(Passed::Excluded);
            } else if includes
                .as_ref()
                .is_some_and(|i| !is_included(i, &cwd, path))
            {
                pass(Passed::NotIncluded);
            } else {
                walked.files.push(path.clone());
                walked.named.push(path.clone());
            }
            continue;
        }
        if !meta.is_dir() {
            pass(Passed::Special);
            continue;
        }
        if is_excluded(&overrides, &cwd, path, true) {
            pass(Passed::Excluded);
            continue;
        }
        walk_dir(
            path,
            options,
            &overrides,
            includes.as_ref(),
            &cwd,
            &mut walked,
        );
    }
    sort_paths(&mut walked.files);
    walked.files.dedup();
    walked.named.sort();
    walked.named.dedup();
    walked.included.sort();
    walked.included.dedup();
    Ok(walked)
}

/// Sorts `paths` as `sort` does (by their components), splitting each path
/// into components once rather than at every comparison: a walk of 50,000
/// files spent a third of its time splitting paths again and again.
fn sort_paths(paths: &mut Vec<PathBuf>) {
    let order: Vec<usize> = {
        let mut keyed: Vec<(Vec<std::path::Component<'_>>, usize)> = paths
            .iter()
            .enumerate()
            .map(|(i, path)| (path.components().collect(), i))
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, i)| i).collect()
    };
    let mut unsorted: Vec<Option<PathBuf>> = paths.drain(..).map(Some).collect();
    paths.extend(order.into_iter().filter_map(|i| unsorted[i].take()));
}

/// Walks the directory `path` named on the command line, adding the
/// candidate files it holds to `walked`.
fn walk_dir(
    path: &Path,
    options: &WalkOptions,
    overrides: &Override,
    includes: Option<&globset::GlobSet>,
    cwd: &Path,
    walked: &mut Walked,
) {
    // Include globs override the ignore files and the hidden rule: with
    // includes, everything is walked and the globs choose.
    let everything = includes.is_some();
    let mut builder = WalkBuilder::new(path);
    builder
        .follow_links(false)
        .require_git(false)
        .hidden(options.skip_hidden && !everything)
        .ignore(!options.no_ignore && !everything)
        .git_ignore(!options.no_ignore && !everything)
        .git_exclude(!options.no_ignore && !everything)
        .git_global(!options.no_ignore && !everything)
        .parents(!options.no_ignore && !everything)
        .filter_entry(|entry| {
            entry.depth() == 0
                || !entry.file_type().is_some_and(|t| t.is_dir())
                || !VCS_DIRS.iter().any(|d| entry.file_name() == *d)
        })
        .overrides(overrides.clone())
        .threads(crate::parallel::cpu_threads());
    // Directories are read on several threads; each keeps what it found and
    // hands it over when it ends (the caller sorts the files).
    let found = std::sync::Mutex::new(Found::default());
    builder.build_parallel().run(|| {
        let mut mine = Handover {
            found: Found::default(),
            into: &found,
        };
        Box::new(move |entry| {
            match entry {
                Ok(entry) => {
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    let candidate = is_candidate(entry.path());
                    let included = includes.map(|i| is_included(i, cwd, entry.path()));
                    if is_file && included.unwrap_or(candidate) {
                        mine.found.files.push(entry.path().to_path_buf());
                        if !candidate {
                            mine.found.included.push(entry.path().to_path_buf());
                        }
                    }
                }
                Err(err) => mine.found.errors.push(WalkError::Walk(err)),
            }
            ignore::WalkState::Continue
        })
    });
    let found = found
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    walked.files.extend(found.files);
    walked.included.extend(found.included);
    let mut errors = found.errors;
    errors.sort_by_cached_key(ToString::to_string);
    walked.errors.extend(errors);
}

/// What one walking thread found.
#[derive(Default)]
struct Found {
    files: Vec<PathBuf>,
    included: Vec<PathBuf>,
    errors: Vec<WalkError>,
}

/// A walking thread's [`Found`], added to the shared one when the thread's
/// visitor is dropped (its walk is over).
struct Handover<'a> {
    found: Found,
    into: &'a std::sync::Mutex<Found>,
}

impl Drop for Handover<'_> {
    fn drop(&mut self) {
        let mine = std::mem::take(&mut self.found);
        let mut all = self
            .into
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        all.files.extend(mine.files);
        all.included.extend(mine.included);
        all.errors.extend(mine.errors);
    }
}

/// Whether an include glob matches `path`, relative to `cwd`, or its file
/// name.
pub(crate) fn is_included(includes: &globset::GlobSet, cwd: &Path, path: &Path) -> bool {
    let relative = path.strip_prefix(".").unwrap_or(path);
    let relative = relative.strip_prefix(cwd).unwrap_or(relative);
    includes.is_match(relative)
        || relative
            .file_name()
            .is_some_and(|name| includes.is_match(name))
}

fn includes(globs: &[String]) -> Result<Option<globset::GlobSet>, WalkError> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = globset::GlobSetBuilder::new();
    for glob in globs {
        let parsed = globset::Glob::new(glob).map_err(|e| WalkError::Include {
            glob: glob.clone(),
            reason: e.to_string(),
        })?;
        builder.add(parsed);
    }
    builder.build().map(Some).map_err(|e| WalkError::Include {
        glob: globs.join(", "),
        reason: e.to_string(),
    })
}

fn is_excluded(overrides: &Override, cwd: &Path, path: &Path, is_dir: bool) -> bool {
    if overrides.is_empty() {
        return false;
    }
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    // A glob may name the file or any directory above it.
    let mut current = Some(absolute.as_path());
    let mut dir = is_dir;
    while let Some(p) = current {
        if !p.starts_with(cwd) || p == cwd {
            break;
        }
        if overrides.matched(p, dir).is_ignore() {
            return true;
        }
        current = p.parent();
        dir = true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_sort_by_their_components() {
        let mut paths: Vec<PathBuf> = [
            "a-b/c.yaml",
            "a/b.yaml",
            "./z.yaml",
            "../up.yaml",
            "-dash.yaml",
            "a/b/c.yaml",
            "/abs.yaml",
            "a.yaml",
            "a/b.yaml",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let mut expected = paths.clone();
        expected.sort();
        sort_paths(&mut paths);
        assert_eq!(paths, expected);
    }

    #[test]
    fn candidates_are_yaml() {
        assert!(is_candidate(Path::new("a/deploy.yaml")));
        assert!(is_candidate(Path::new("compose.yml")));
        assert!(is_candidate(Path::new("Dockerfile")));
        assert!(is_candidate(Path::new("build/app.containerfile")));
        assert!(!is_candidate(Path::new("Dockerfile.dockerignore")));
        assert!(!is_candidate(Path::new("values.yaml.tmpl")));
    }

    #[test]
    fn candidates_match_in_any_case_and_json_is_a_candidate() {
        assert!(is_candidate(Path::new("Compose.YAML")));
        assert!(is_candidate(Path::new("pod.YmL")));
        assert!(is_candidate(Path::new("pod.Json")));
        assert!(is_json(Path::new("pod.JSON")));
        assert!(!is_json(Path::new("pod.yaml")));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_on_the_way_is_found_but_not_above_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir_all(real.join("sub")).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        let through = dir.path().join("link/sub/a.yaml");
        assert_eq!(
            symlink_on_the_way(&through, &real),
            Some(dir.path().join("link"))
        );
        assert_eq!(symlink_on_the_way(&real.join("sub/a.yaml"), &real), None);
        // Working inside the link: the link is above the working directory.
        assert_eq!(
            symlink_on_the_way(&through, &dir.path().join("link/sub")),
            None
        );
    }

    #[test]
    fn excludes_apply_to_named_files_and_their_directories() {
        let cwd = std::env::current_dir().unwrap();
        let o = excludes(&cwd, &["vendor".into(), "*.tmpl.yaml".into()]).unwrap();
        assert!(is_excluded(&o, &cwd, Path::new("vendor/x/a.yaml"), false));
        assert!(is_excluded(
            &o,
            &cwd,
            Path::new("deploy/a.tmpl.yaml"),
            false
        ));
        assert!(!is_excluded(&o, &cwd, Path::new("deploy/a.yaml"), false));
    }
}
