//! The markdown renderer (`list --format markdown`): a release-notes table of
//! image, tag, digest and where each is used.

use std::collections::BTreeMap;
use std::path::Path;

use digestpin::jobs::list::Entry;

/// One row per (image, tag, digest or `not pinned`), with its places.
pub type Rows = BTreeMap<(String, String, String), Vec<String>>;

/// The rows of `entries`, places spelled `path:line` with `relative`.
pub fn rows(entries: &[Entry], relative: impl Fn(&Path) -> String) -> Rows {
    let mut rows = Rows::new();
    for e in entries {
        let Some(name) = &e.name else { continue };
        let key = (
            name.clone(),
            e.tag.clone().unwrap_or_default(),
            e.digest.clone().unwrap_or_else(|| "not pinned".into()),
        );
        rows.entry(key)
            .or_default()
            .push(format!("{}:{}", relative(&e.at.path), e.at.line));
    }
    rows
}

/// The table, one line per row after the header.
pub fn table(rows: &Rows) -> String {
    let mut out = String::from("| Image | Tag | Digest | Used in |\n| --- | --- | --- | --- |\n");
    for ((name, tag, digest), places) in rows {
        let digest = if digest.starts_with("sha") {
            format!("`{digest}`")
        } else {
            digest.clone()
        };
        out.push_str(&format!(
            "| `{name}` | {tag} | {digest} | {} |\n",
            places.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_code_and_unpinned_rows_say_so() {
        let mut rows = Rows::new();
        rows.insert(
            ("nginx".into(), "1.25".into(), "sha256:ab".into()),
            vec!["a.yaml:3".into(), "b.yaml:7".into()],
        );
        rows.insert(
            ("redis".into(), String::new(), "not pinned".into()),
            vec!["c.yaml:1".into()],
        );
        assert_eq!(
            table(&rows),
            "| Image | Tag | Digest | Used in |\n| --- | --- | --- | --- |\n\
             | `nginx` | 1.25 | `sha256:ab` | a.yaml:3, b.yaml:7 |\n\
             | `redis` |  | not pinned | c.yaml:1 |\n"
        );
    }
}
