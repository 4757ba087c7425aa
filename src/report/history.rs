//! The `history` renderer: one line per change for people (newest first),
//! a markdown table, or records in the JSON document.

use std::collections::BTreeSet;

use digestpin::jobs::history::{Change, Pin, change_key, date};
use digestpin::jobs::promote::Move;
use digestpin::jobs::rollback::short;

use digestpin::registry::Provenance;

use super::{Format, Level, Record, Report, human, json, markdown, print_stdout};

/// `sha256:` and the first twelve hex digits, as `docker images` shows.
fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) => format!("{algorithm}:{}", &hex[..hex.len().min(12)]),
        None => digest.to_string(),
    }
}

/// The old side of a change, for people: its digest, `unpinned`, or `new`.
fn old_text(old: Option<&Pin>) -> String {
    match old {
        Some(Pin {
            digest: Some(d), ..
        }) => short_digest(d),
        Some(_) => "unpinned".to_string(),
        None => "new".to_string(),
    }
}

/// The tags of a change: `1.25 → 1.26`, `1.26` when it stayed, `-`.
fn tags_text(change: &Change) -> String {
    let old = change.old.as_ref().and_then(|p| p.tag.as_deref());
    match (old, change.new.tag.as_deref()) {
        (Some(old), Some(new)) if old != new => format!("{old} → {new}"),
        (Some(old), None) => format!("{old} → -"),
        (None, Some(new)) | (Some(_), Some(new)) => new.to_string(),
        (None, None) => "-".to_string(),
    }
}

impl Report {
    /// `history`: the changes, newest first; `markdown` for the table.
    pub fn history(&mut self, changes: &[Change], markdown: bool) {
        let commits: BTreeSet<&str> = changes.iter().map(|c| c.commit.as_str()).collect();
        self.summary = Some(json::Summary::History {
            changes: changes.len(),
            commits: commits.len(),
        });
        // With `--provenance`: each change's new digest's metadata.
        let provenance: Option<Vec<Provenance>> = self.provenance.is_some().then(|| {
            changes
                .iter()
                .map(|c| {
                    self.provenance_of(change_key(c).as_ref())
                        .unwrap_or_default()
                })
                .collect()
        });
        let found = |i: usize| provenance.as_ref().map(|p| &p[i]);
        match self.format {
            Format::Human if markdown => print_stdout(&table(changes, provenance.as_deref())),
            Format::Human | Format::Markdown => {
                let mut out = String::new();
                for (i, change) in changes.iter().enumerate() {
                    out.push_str(&human::printable(&line(change, found(i))));
                    out.push('\n');
                }
                print_stdout(&out);
            }
            _ => {
                // Records keep the order of the history (newest first).
                let batch: Vec<Record> = changes
                    .iter()
                    .enumerate()
                    .map(|(i, c)| record(c, found(i)))
                    .collect();
                self.records.extend(batch);
            }
        }
    }
}

/// One change for people.
fn line(change: &Change, provenance: Option<&Provenance>) -> String {
    format!(
        "{}  {}  {}:{}  {}  {} → {}  {}{}",
        date(change.time, change.offset_minutes),
        short(&change.commit),
        change.path,
        change.line,
        change.image,
        old_text(change.old.as_ref()),
        short_digest(change.new.digest.as_deref().unwrap_or_default()),
        tags_text(change),
        provenance.map(human::provenance_note).unwrap_or_default()
    )
}

fn record(change: &Change, provenance: Option<&Provenance>) -> Record {
    let old = change.old.as_ref();
    Record {
        path: Some(change.path.clone()),
        path_normalised: true,
        reference: Some(change.image.clone()),
        digest: change.new.digest.clone(),
        tag: change.new.tag.clone(),
        from: old.and_then(|p| p.digest.clone()),
        from_tag: old.and_then(|p| p.tag.clone()),
        commit: Some(short(&change.commit)),
        date: Some(date(change.time, change.offset_minutes)),
        to: Some(change.value.clone()),
        provenance: provenance.cloned(),
        stdout: true,
        ..Record::new(None, Level::Note, "history", line(change, provenance))
    }
    .at(change.line, change.column)
}

/// The markdown table: one row per change; with provenance, the new
/// digest linked to its source commit and a revision column.
fn table(changes: &[Change], provenance: Option<&[Provenance]>) -> String {
    let mut out = String::from(match provenance {
        Some(_) => {
            "| Date | Commit | File | Image | From | To | Tag | Revision |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n"
        }
        None => {
            "| Date | Commit | File | Image | From | To | Tag |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        }
    });
    for (i, change) in changes.iter().enumerate() {
        let old = match change.old.as_ref() {
            Some(Pin {
                digest: Some(d), ..
            }) => format!("`{}`", short_digest(d)),
            other => old_text(other),
        };
        let found = provenance.map(|p| &p[i]);
        let new = format!(
            "`{}`",
            short_digest(change.new.digest.as_deref().unwrap_or_default())
        );
        let new = match found.and_then(Provenance::commit_url) {
            Some(url) => format!("[{new}]({url})"),
            None => new,
        };
        let revision = match found {
            Some(found) => format!(
                " {} |",
                found
                    .revision
                    .as_deref()
                    .map(markdown::cell_text)
                    .unwrap_or_default()
            ),
            None => String::new(),
        };
        out.push_str(&format!(
            "| {} | `{}` | {}:{} | `{}` | {} | {} | {} |{}\n",
            date(change.time, change.offset_minutes),
            short(&change.commit),
            change.path.replace('|', "\\|"),
            change.line,
            change.image,
            old,
            new,
            tags_text(change).replace('|', "\\|"),
            revision,
        ));
    }
    out
}

impl Report {
    /// `promote --format markdown`: each image moved, old → new digest, for
    /// a pull request's body.
    pub fn promotion_markdown(&self, moves: &[Move]) {
        let mut out = String::from("| Image | Tag | From | To |\n| --- | --- | --- | --- |\n");
        for m in moves {
            let old: Vec<String> = m
                .old
                .iter()
                .map(|d| {
                    d.as_deref()
                        .map_or_else(|| "unpinned".to_string(), |d| format!("`{d}`"))
                })
                .collect();
            out.push_str(&format!(
                "| `{}` | {} | {} | `{}` |\n",
                m.image,
                m.tag.as_deref().unwrap_or("-").replace('|', "\\|"),
                old.join(", "),
                m.new
            ));
        }
        print_stdout(&out);
    }
}

impl Record {
    fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }
}
