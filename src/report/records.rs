//! The record each library [`Message`] becomes: its level, rule and text.

use digestpin::job::Mode;
use digestpin::jobs::{Location, Message, Unmatched};

use super::{Level, Record, Report};

impl Report {
    /// The level of a pin or rewrite: a note of what was (or would be) done,
    /// a warning under `--check`, where each is a finding that fails the run
    /// (so `--format github` annotates it and `-q` keeps it).
    fn rewrite_level(&self) -> Level {
        if self.mode == Mode::Check {
            Level::Warning
        } else {
            Level::Note
        }
    }

    /// The record of one message; `None` for what is not told.
    pub(super) fn record(&self, message: &Message) -> Option<Record> {
        let record = match message {
            Message::Pinned {
                at,
                reference,
                digest,
            } => Record {
                reference: Some(reference.clone()),
                digest: Some(digest.clone()),
                ..Record::new(
                    Some(at),
                    self.rewrite_level(),
                    "pinned",
                    format!("{} {reference} to {digest}", self.verb()),
                )
            },
            Message::Rewritten { at, from, to } => Record {
                reference: Some(from.clone()),
                to: Some(to.clone()),
                ..Record::new(
                    Some(at),
                    self.rewrite_level(),
                    "rewritten",
                    format!("{} {from} to {to}", self.verb()),
                )
            },
            Message::ServicePlatform {
                at,
                reference,
                platform,
                requested,
            } => with_reference(
                at,
                reference,
                Level::Note,
                "service-platform",
                format!(
                    "{reference}: resolved for the service's own platform {platform}, not --platform {requested}"
                ),
            ),
            Message::AlreadyPinned { .. } | Message::Ignored { .. } | Message::UpToDate { .. } => {
                return None;
            }
            Message::Skipped { at, value, reason } => with_reference(
                at,
                value,
                Level::Warning,
                "skipped",
                format!("skipped {value}: {reason}"),
            ),
            Message::NoKnownTag { at, reference } => with_reference(
                at,
                reference,
                Level::Warning,
                "no-known-tag",
                format!("left {reference}: no tag known for this pin"),
            ),
            Message::Failed {
                at,
                reference,
                error,
            } => with_reference(
                at,
                reference,
                Level::Error,
                "resolve-failed",
                format!("{reference}: {error}"),
            ),
            Message::FileSkipped { path, error } => {
                file_record(path, Level::Warning, "file-skipped", error)
            }
            Message::FileFailed { path, error } => {
                file_record(path, Level::Error, "file-failed", error)
            }
            Message::Unmatched {
                path,
                image,
                reason,
            } => {
                let (level, rule) = match reason {
                    Unmatched::Conflicting(_) => (Level::Error, "conflicting-pins"),
                    Unmatched::NotFound => (Level::Error, "image-not-found"),
                    Unmatched::NotPinned | Unmatched::MissingIn(_) => (Level::Warning, "one-side"),
                };
                Record {
                    reference: Some(image.clone()),
                    ..Record::for_file(path, level, rule, format!("{image}: {reason}"))
                }
            }
            Message::RolledBack {
                image,
                digest,
                tag,
                commit,
            } => {
                let tag_text = tag
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default();
                let source = match commit {
                    Some((id, date)) => format!(", the pin of commit {id} ({date})"),
                    None => ", a pin from before the history read".to_string(),
                };
                Record {
                    reference: Some(image.clone()),
                    digest: Some(digest.clone()),
                    tag: tag.clone(),
                    commit: commit.as_ref().map(|(id, _)| id.clone()),
                    date: commit.as_ref().map(|(_, date)| date.clone()),
                    ..Record::new(
                        None,
                        Level::Note,
                        "rollback-source",
                        format!("{image}: back to {digest}{tag_text}{source}"),
                    )
                }
            }
        };
        Some(record)
    }
}

/// A record at `at` that names the reference it is about.
fn with_reference(
    at: &Location,
    reference: &str,
    level: Level,
    rule: &'static str,
    message: String,
) -> Record {
    Record {
        reference: Some(reference.to_string()),
        ..Record::new(Some(at), level, rule, message)
    }
}

/// The record of a file passed over or failed: at the line and column of
/// its parse error, when it has one.
fn file_record(
    path: &std::path::Path,
    level: Level,
    rule: &'static str,
    error: &digestpin::scan::FileError,
) -> Record {
    let mut record = Record::for_file(path, level, rule, error.to_string());
    if let Some((line, column, message)) = error.located() {
        record.line = Some(line);
        record.column = Some(column);
        record.message = message;
    }
    record
}
