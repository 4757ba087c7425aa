//! A file's fix: its [`Edit`]s, the scalar values they are meant to change,
//! and what to say once they are made. [`FileFix::apply`] is the one door
//! through which every job rewrites a file: it splices the edits and checks
//! the result by re-parsing ([`super::check_rewrite_for`]).

use std::path::PathBuf;

use super::{Edit, EditError};
use crate::detect::FileKind;

/// A file's text before and after.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: PathBuf,
    pub original: String,
    pub updated: String,
}

/// The edits of one file and what they stand for. `M` is the message type of
/// the job that made them, said only when the fix is applied.
#[derive(Debug)]
pub struct FileFix<M> {
    pub edits: Vec<Edit>,
    /// The scalar values the edits change, `(old, new)` in file order: the
    /// re-parse check allows these changes and no other.
    pub expected: Vec<(String, String)>,
    pub messages: Vec<M>,
}

impl<M> Default for FileFix<M> {
    fn default() -> Self {
        Self {
            edits: Vec::new(),
            expected: Vec::new(),
            messages: Vec::new(),
        }
    }
}

impl<M> FileFix<M> {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// Applies the edits to `text` (a file of `kind`) and checks the result
    /// by re-parsing; returns the new text.
    pub fn apply(&self, kind: FileKind, text: &str) -> Result<String, EditError> {
        let updated = super::apply(text, &self.edits)?;
        super::check_rewrite_for(kind, text, &updated, &self.expected)?;
        Ok(updated)
    }
}
