//! Which files to look at.
//!
//! Directories are walked with `ignore::WalkBuilder`: `.gitignore` and
//! `.ignore` files are honoured, `.git` and hidden directories are skipped, and
//! no symbolic link is followed (a link could lead out of the tree, and a file
//! reached through a link is replaced by our rename on write). Inside
//! directories only `*.yaml` and `*.yml` files are candidates; a file named
//! explicitly is read whatever its name. `--exclude` globs apply to both, with
//! gitignore semantics, so a pre-commit hook that names files one by one gets
//! the same exclusions as a walk.

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

/// Settings of one walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Globs of paths to read; when empty, every candidate is read.
    pub includes: Vec<String>,
    /// Globs of paths never to read, relative to the working directory.
    pub excludes: Vec<String>,
}

/// The files of a walk, sorted, and the problems met on the way.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<PathBuf>,
    pub errors: Vec<WalkError>,
}

/// Is this a file name we read when walking a directory?
pub fn is_candidate(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    ) || crate::detect::kustomize::is_kustomization_path(path)
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
        if meta.is_file() {
            if !is_excluded(&overrides, &cwd, path, false) {
                walked.files.push(path.clone());
            }
            continue;
        }
        if !meta.is_dir() {
            // An explicitly named symbolic link or special file: not ours to rewrite.
            continue;
        }
        let mut builder = WalkBuilder::new(path);
        builder
            .follow_links(false)
            .require_git(false)
            .overrides(overrides.clone());
        for entry in builder.build() {
            match entry {
                Ok(entry) => {
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    if is_file && is_candidate(entry.path()) {
                        walked.files.push(entry.path().to_path_buf());
                    }
                }
                Err(err) => walked.errors.push(WalkError::Walk(err)),
            }
        }
    }
    if let Some(includes) = includes {
        walked.files.retain(|path| {
            let relative = path.strip_prefix(".").unwrap_or(path);
            let relative = relative.strip_prefix(&cwd).unwrap_or(relative);
            includes.is_match(relative)
                || relative
                    .file_name()
                    .is_some_and(|name| includes.is_match(name))
        });
    }
    walked.files.sort();
    walked.files.dedup();
    Ok(walked)
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
    fn candidates_are_yaml() {
        assert!(is_candidate(Path::new("a/deploy.yaml")));
        assert!(is_candidate(Path::new("compose.yml")));
        assert!(!is_candidate(Path::new("Dockerfile")));
        assert!(!is_candidate(Path::new("values.yaml.tmpl")));
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
