//! The atomic write every rewrite goes through: [`write()`] puts each new text
//! in place through a temporary file in the same directory and a rename,
//! keeping the file's permissions, and leaves alone a file another program
//! changed since it was read. [`remove_temporaries`] (on a signal) and
//! [`remove_stale_temporaries`] (leftovers of killed runs) clean up.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::FileChange;

/// Why a change was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    #[error("cannot write: {0}")]
    Write(#[source] std::io::Error),
    #[error("changed by another program since it was read; left as it is")]
    Changed,
}

/// A change not written, and why.
#[derive(Debug)]
pub struct WriteFailure {
    pub path: PathBuf,
    pub error: WriteError,
}

/// Writes each change through a temporary file in the same directory and a
/// rename, keeping the original's permissions. A file whose bytes are no longer
/// those that were read (another program changed it meanwhile) is left alone.
/// Returns the failures.
pub fn write(changes: &[FileChange]) -> Vec<WriteFailure> {
    let mut failures = Vec::new();
    for change in changes {
        if let Err(error) = write_file(&change.path, &change.original, &change.updated) {
            failures.push(WriteFailure {
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

fn write_file(path: &Path, original: &str, text: &str) -> Result<(), WriteError> {
    let dir = directory_of(path);
    let permissions = std::fs::metadata(path)
        .map_err(WriteError::Write)?
        .permissions();
    // Made and registered under the lock, so an interruption either sees the
    // file or stops it from being made.
    let mut temp = {
        let mut paths = lock_temporaries();
        let temp = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
            .tempfile_in(dir)
            .map_err(WriteError::Write)?;
        paths.push(temp.path().to_path_buf());
        temp
    };
    let temp_path = temp.path().to_path_buf();
    // On error, dropping `temp` removes it.
    let result = fill_and_replace(&mut temp, path, original, text, permissions).and_then(|()| {
        temp.persist(path)
            .map(drop)
            .map_err(|e| WriteError::Write(e.error))
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
) -> Result<(), WriteError> {
    temp.write_all(text.as_bytes()).map_err(WriteError::Write)?;
    temp.as_file().sync_all().map_err(WriteError::Write)?;
    temp.as_file()
        .set_permissions(permissions)
        .map_err(WriteError::Write)?;
    // Last look before the rename: is the file still what we read?
    let now = std::fs::read(path).map_err(WriteError::Read)?;
    if now != original.as_bytes() {
        return Err(WriteError::Changed);
    }
    Ok(())
}
