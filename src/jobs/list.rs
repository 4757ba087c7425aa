//! The `list` job: every reference found, with its pin state.

use super::Location;
use crate::detect::{FileKind, Finding};
use crate::scan::ScannedFile;
use crate::state;

/// One reference, as `list` shows it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: Location,
    pub kind: FileKind,
    pub value: String,
    pub state: EntryState,
    pub name: Option<String>,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    Pinned,
    Unpinned,
    Skipped,
    /// On a line carrying `# digestpin:ignore`.
    Ignored,
}

impl std::fmt::Display for EntryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EntryState::Pinned => "pinned",
            EntryState::Unpinned => "unpinned",
            EntryState::Skipped => "skipped",
            EntryState::Ignored => "ignored",
        })
    }
}

/// Every reference found, pinned or not.
pub fn list(files: &[ScannedFile]) -> Vec<Entry> {
    let mut out = Vec::new();
    for file in files {
        for finding in &file.findings {
            let at = Location::of(&file.path, finding.site());
            match finding {
                Finding::Image { site, reference } => {
                    let state = state::state(&file.text, site, reference);
                    out.push(Entry {
                        at,
                        kind: site.kind,
                        value: site.value.clone(),
                        state: if file.ignores(site) {
                            EntryState::Ignored
                        } else if state.is_pinned() {
                            EntryState::Pinned
                        } else {
                            EntryState::Unpinned
                        },
                        name: Some(reference.name().to_string()),
                        tag: state
                            .tag()
                            .or(reference.tag())
                            .map(String::from)
                            .or_else(|| (!state.is_pinned()).then(|| "latest".to_string())),
                        digest: reference.digest().map(String::from),
                    });
                }
                Finding::Skipped { site, .. } => out.push(Entry {
                    at,
                    kind: site.kind,
                    value: site.value.clone(),
                    state: EntryState::Skipped,
                    name: None,
                    tag: None,
                    digest: None,
                }),
            }
        }
    }
    out
}
