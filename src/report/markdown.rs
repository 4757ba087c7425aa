//! The markdown renderer (`list --format markdown`): a release-notes table of
//! image, tag, digest and where each is used.

use std::collections::BTreeMap;
use std::path::Path;

use digestpin::jobs::list::Entry;
use digestpin::registry::Provenance;

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

/// [`table`] with the version, revision and creation date of each digest
/// (`of(name, digest)`), the digest linked to its source commit where the
/// source is a GitHub or GitLab repository.
pub fn table_with_provenance(rows: &Rows, of: &dyn Fn(&str, &str) -> Option<Provenance>) -> String {
    let mut out = String::from(
        "| Image | Tag | Digest | Version | Revision | Created | Used in |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for ((name, tag, digest), places) in rows {
        let found = if digest.starts_with("sha") {
            of(name, digest).unwrap_or_default()
        } else {
            Provenance::default()
        };
        let digest = match (digest.starts_with("sha"), found.commit_url()) {
            (true, Some(url)) => format!("[`{digest}`]({url})"),
            (true, None) => format!("`{digest}`"),
            (false, _) => digest.clone(),
        };
        let cell = |v: &Option<String>| v.as_deref().map(cell_text).unwrap_or_default();
        out.push_str(&format!(
            "| `{name}` | {tag} | {digest} | {} | {} | {} | {} |\n",
            cell(&found.version),
            cell(&found.revision),
            cell(&found.created),
            places.join(", ")
        ));
    }
    out
}

/// A value from an image's metadata as table text: markdown's table,
/// link, HTML and code characters escaped, line breaks made spaces.
pub(super) fn cell_text(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '\\' | '|' | '[' | ']' | '<' | '>' | '`' | '*' | '_' | '(' | ')' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
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

    #[test]
    fn provenance_cells_are_escaped_and_digests_linked() {
        let mut rows = Rows::new();
        rows.insert(
            ("app".into(), "1".into(), "sha256:ab".into()),
            vec!["a.yaml:3".into()],
        );
        let of = |_: &str, _: &str| {
            Some(Provenance {
                revision: Some("abc123".into()),
                source: Some("https://github.com/acme/app".into()),
                version: Some("1.0|[x](y)".into()),
                created: None,
            })
        };
        assert_eq!(
            table_with_provenance(&rows, &of),
            "| Image | Tag | Digest | Version | Revision | Created | Used in |\n\
             | --- | --- | --- | --- | --- | --- | --- |\n\
             | `app` | 1 | [`sha256:ab`](https://github.com/acme/app/commit/abc123) | 1.0\\|\\[x\\]\\(y\\) | abc123 |  | a.yaml:3 |\n"
        );
    }
}
