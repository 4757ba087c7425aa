//! The jobs: one file a command, each a function from settings and scanned
//! files ([`crate::scan`]) to what happened. A job never prints and never
//! writes: a rewriting job returns each file's new text in its [`Outcome`]
//! (made through [`crate::edit::FileFix`]), and the caller writes them with
//! [`crate::edit::write()`].
//!
//! - [`pin`]: resolve tags and pin them (online).
//! - [`update`]: move pins whose tag moved (online).
//! - [`verify`]: report pins whose digest or tag moved or went (online).
//! - [`unpin`]: turn pins back into `name:tag`.
//! - [`check`]: the offline policy gate.
//! - [`list`]: every reference and its state.
//! - [`history`]: every change of a pin in the git history.
//! - [`set`]: set an image to a digest; [`rollback`] chooses the digest
//!   from the history, [`promote`] from another directory.
//!
//! This module holds the vocabulary they share: [`Location`], [`Message`],
//! [`Summary`] and [`Outcome`].

pub mod check;
pub mod history;
pub mod list;
pub mod pin;
pub mod promote;
pub mod provenance;
pub mod rollback;
pub mod set;
mod tracked;
pub mod unpin;
pub mod update;
pub mod verify;

use std::path::{Path, PathBuf};

use crate::detect::{Site, SkipReason};
use crate::edit::{FileChange, FileFix, WriteFailure};
use crate::reference::Reference;
use crate::registry::ResolveError;
use crate::scan::{FileError, FileProblem, ScannedFile};

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
    /// `promote`: an image that is not promoted, and why (`path` is the
    /// directory it was looked for in).
    Unmatched {
        path: PathBuf,
        image: String,
        reason: Unmatched,
    },
    /// `rollback`: the pin gone back to, and the commit it came from
    /// (short id and date), when the history read holds it.
    RolledBack {
        image: String,
        digest: String,
        tag: Option<String>,
        commit: Option<(String, String)>,
    },
    FileFailed {
        path: PathBuf,
        error: FileError,
    },
}

/// Why `promote` leaves an image alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unmatched {
    #[error("no reference to it")]
    NotFound,
    #[error("referenced but not pinned; not promoted")]
    NotPinned,
    #[error("pinned differently ({}); not promoted", .0.join(", "))]
    Conflicting(Vec<String>),
    #[error("only here, no reference in {}", .0.display())]
    MissingIn(PathBuf),
}

impl From<FileProblem> for Message {
    /// A file that could not be read or written fails the run; any other
    /// file passed over is a reported skip.
    fn from(problem: FileProblem) -> Self {
        let FileProblem { path, error } = problem;
        if error.is_error() {
            Message::FileFailed { path, error }
        } else {
            Message::FileSkipped { path, error }
        }
    }
}

impl From<WriteFailure> for Message {
    /// A change not written fails the run.
    fn from(failure: WriteFailure) -> Self {
        Message::FileFailed {
            path: failure.path,
            error: failure.error.into(),
        }
    }
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub found: usize,
    /// References rewritten (pinned, updated or unpinned).
    pub changed: usize,
    /// References the job left as they are because they need no change
    /// (already pinned, up to date, pinned in the other style).
    pub unchanged: usize,
    pub skipped: usize,
    pub failed: usize,
    pub file_errors: usize,
    /// References that resolved but stay unwritten because another
    /// reference of their file failed.
    pub held_back: usize,
}

/// What a job did: what to write and what to say.
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

    /// Runs `fix_of` over each file (counting it) and applies the fixes it
    /// returns together ([`Self::apply_all`]): the loop of every job that
    /// rewrites file by file.
    pub fn of_files<'a>(
        files: &'a [ScannedFile],
        mut fix_of: impl FnMut(&'a ScannedFile, &mut Outcome) -> Option<FileFix<Message>>,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let mut fixes = Fixes::default();
        for file in files {
            outcome.summary.files += 1;
            if let Some(fix) = fix_of(file, &mut outcome) {
                fixes.add(&outcome, file, fix);
            }
        }
        outcome.apply_all(fixes);
        outcome
    }

    /// Applies each fix gathered in `fixes` ([`FileFix::apply`]) and records
    /// the change and its messages; a file whose check fails is left alone
    /// and reported. The edits are spliced and re-parsed on
    /// [`crate::parallel::cpu_threads`] threads, and each fix's messages
    /// take the place they would have taken had it been applied when it was
    /// added.
    pub fn apply_all(&mut self, fixes: Fixes<'_>) {
        let applied = crate::parallel::map(
            &fixes.pending,
            crate::parallel::cpu_threads(),
            |(file, fix, _)| fix.apply(file.kind, &file.text),
        );
        let mut before = std::mem::take(&mut self.messages).into_iter();
        let mut said = 0;
        for ((file, fix, at), result) in fixes.pending.into_iter().zip(applied) {
            self.messages.extend(before.by_ref().take(at - said));
            said = at;
            match result {
                Ok(updated) => {
                    self.summary.changed += fix.messages.len();
                    self.messages.extend(fix.messages);
                    self.changes.push(FileChange {
                        path: file.path.clone(),
                        original: file.text.clone(),
                        updated,
                    });
                }
                Err(error) => {
                    self.summary.file_errors += 1;
                    self.messages.push(Message::FileFailed {
                        path: file.path.clone(),
                        error: FileError::Edit(error),
                    });
                }
            }
        }
        self.messages.extend(before);
    }
}

/// Fixes gathered to be applied together ([`Outcome::apply_all`]): each
/// with its file and the number of messages said before it.
#[derive(Default)]
pub struct Fixes<'a> {
    pending: Vec<(&'a ScannedFile, FileFix<Message>, usize)>,
}

impl<'a> Fixes<'a> {
    /// Adds `file`'s fix, to be applied after what `outcome` has said so far.
    pub fn add(&mut self, outcome: &Outcome, file: &'a ScannedFile, fix: FileFix<Message>) {
        if !fix.is_empty() {
            self.pending.push((file, fix, outcome.messages.len()));
        }
    }
}
