//! The JSON renderer: one typed document per run, printed at the end
//! (docs/output.schema.json describes it).
//!
//! Keys are printed in sorted order, as they always were: the document goes
//! through `serde_json::Value`, whose objects are sorted maps.

use serde::Serialize;

use super::Record;

/// The document `--format json` prints (version 1).
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub version: u32,
    pub command: &'static str,
    pub mode: &'static str,
    pub records: &'a [Record],
    pub changed_files: &'a [String],
    pub summary: Option<&'a Summary>,
    pub diff: Option<&'a str>,
    pub exit_code: u8,
}

/// The counts closing a run; which ones depends on the command.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Summary {
    /// `pin`, `update`, `unpin`.
    Rewrite {
        files: usize,
        references: usize,
        changed: usize,
        already_pinned: usize,
        skipped: usize,
        failed: usize,
        file_errors: usize,
        changed_files: usize,
        held_back: usize,
    },
    /// `check`.
    Check { violations: usize },
    /// `verify`.
    Verify { pins: usize, findings: usize },
    /// `resolve`.
    Resolve { references: usize, failed: usize },
    /// `retag`: the tags named, and those that moved (or would).
    Retag { tags: usize, moved: usize },
    /// `history`: the changes listed and the commits they are in.
    History { changes: usize, commits: usize },
}

/// The document as pretty-printed JSON, with a final newline.
pub fn render(document: &Document<'_>) -> serde_json::Result<String> {
    let value = serde_json::to_value(document)?;
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_and_absent_values_are_null() {
        let summary = Summary::Resolve {
            references: 2,
            failed: 1,
        };
        let document = Document {
            version: 1,
            command: "resolve",
            mode: "check",
            records: &[],
            changed_files: &[],
            summary: Some(&summary),
            diff: None,
            exit_code: 2,
        };
        assert_eq!(
            render(&document).unwrap(),
            r#"{
  "changed_files": [],
  "command": "resolve",
  "diff": null,
  "exit_code": 2,
  "mode": "check",
  "records": [],
  "summary": {
    "failed": 1,
    "references": 2
  },
  "version": 1
}
"#
        );
    }
}
