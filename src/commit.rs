//! `--commit`: one git commit holding exactly the files a run changed.
//!
//! [`Committer::open`] finds the repository and [`Committer::check_clean`]
//! refuses, before anything is written, when a file to change has changes of
//! its own (modified, staged, or untracked). [`Committer::commit`] builds the
//! new tree from `HEAD` plus only those files, so anything else the user has
//! staged stays staged and out of the commit, then updates the index entries
//! of the committed files.

use std::path::{Path, PathBuf};

use git2::{Repository, Status, StatusOptions};

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("not in a git repository: {0}")]
    NoRepository(String),
    #[error("{path} is outside the repository")]
    Outside { path: PathBuf },
    #[error("{path} has uncommitted changes of its own; commit or stash them first")]
    Dirty { path: PathBuf },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub struct Committer {
    repo: Repository,
    workdir: PathBuf,
}

impl Committer {
    /// Opens the repository holding `start`.
    pub fn open(start: &Path) -> Result<Self, CommitError> {
        let repo = Repository::discover(start)
            .map_err(|e| CommitError::NoRepository(e.message().to_string()))?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| CommitError::NoRepository("bare repository".into()))?;
        let workdir = std::fs::canonicalize(workdir).map_err(|source| CommitError::Io {
            path: workdir.to_path_buf(),
            source,
        })?;
        Ok(Self { repo, workdir })
    }

    /// The path of `file` relative to the work tree, with `/` separators.
    fn relative(&self, file: &Path) -> Result<String, CommitError> {
        let absolute = std::fs::canonicalize(file).map_err(|source| CommitError::Io {
            path: file.to_path_buf(),
            source,
        })?;
        let relative = absolute
            .strip_prefix(&self.workdir)
            .map_err(|_| CommitError::Outside {
                path: file.to_path_buf(),
            })?;
        Ok(relative.to_string_lossy().replace('\\', "/"))
    }

    /// Refuses if any of `files` differs from `HEAD` in the index or work tree.
    pub fn check_clean(&self, files: &[PathBuf]) -> Result<(), CommitError> {
        for file in files {
            let relative = self.relative(file)?;
            let mut options = StatusOptions::new();
            options
                .pathspec(&relative)
                .include_untracked(true)
                .disable_pathspec_match(true);
            let statuses = self.repo.statuses(Some(&mut options))?;
            let dirty = statuses.iter().any(|entry| {
                entry.status().intersects(
                    Status::WT_MODIFIED
                        | Status::WT_NEW
                        | Status::WT_DELETED
                        | Status::WT_RENAMED
                        | Status::WT_TYPECHANGE
                        | Status::INDEX_MODIFIED
                        | Status::INDEX_NEW
                        | Status::INDEX_DELETED
                        | Status::INDEX_RENAMED
                        | Status::INDEX_TYPECHANGE,
                )
            });
            if dirty {
                return Err(CommitError::Dirty { path: file.clone() });
            }
        }
        Ok(())
    }

    /// Commits the current content of `files` on the current branch.
    pub fn commit(&self, files: &[PathBuf], message: &str) -> Result<git2::Oid, CommitError> {
        let head = self.repo.head()?.peel_to_commit()?;
        // The new tree: HEAD's tree plus exactly these files.
        let mut index = git2::Index::new()?;
        index.read_tree(&head.tree()?)?;
        let mut real_index = self.repo.index()?;
        for file in files {
            let relative = self.relative(file)?;
            let bytes = std::fs::read(file).map_err(|source| CommitError::Io {
                path: file.clone(),
                source,
            })?;
            let mut entry = index
                .get_path(Path::new(&relative), 0)
                .ok_or_else(|| CommitError::Dirty { path: file.clone() })?;
            entry.id = self.repo.blob(&bytes)?;
            entry.file_size = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            index.add(&entry)?;
            real_index.add_path(Path::new(&relative))?;
        }
        let tree_id = index.write_tree_to(&self.repo)?;
        let tree = self.repo.find_tree(tree_id)?;
        let signature = self
            .repo
            .signature()
            .or_else(|_| git2::Signature::now("digestpin", "digestpin@users.noreply.github.com"))?;
        let oid = self.repo.commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &[&head],
        )?;
        real_index.write()?;
        Ok(oid)
    }
}
