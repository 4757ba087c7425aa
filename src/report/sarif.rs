//! The SARIF 2.1.0 renderer: one log with one run, printed at the end.

use super::{Level, Record};

/// The rules a record can carry, with their descriptions.
const RULES: &[(&str, &str)] = &[
    ("not-pinned", "Image reference is not pinned by digest"),
    ("latest-tag", "Image reference uses the latest tag"),
    ("resolve-failed", "Image tag could not be resolved"),
    ("tag-moved", "Pinned tag now names other content"),
    ("tag-gone", "Pinned tag is no longer in the registry"),
    (
        "digest-missing",
        "Pinned digest is no longer in the registry",
    ),
    (
        "digest-never-served",
        "Pinned digest was never served for its tag",
    ),
    ("verify-failed", "Pin could not be verified"),
    ("skipped", "Image value skipped"),
    ("no-known-tag", "Pin without a known tag"),
    ("file-skipped", "File skipped"),
    ("file-failed", "File could not be rewritten"),
    ("walk-error", "Path could not be read"),
    ("pinned", "Image reference pinned"),
    ("rewritten", "Image reference rewritten"),
    ("reference", "Image reference"),
    ("resolved", "Image reference resolved"),
    ("retagged", "Tag moved to the digest"),
    ("would-retag", "Tag would move to the digest"),
    ("tag-unchanged", "Tag already names the digest"),
    ("retag-failed", "Tags could not be moved"),
    ("provenance-failed", "Provenance could not be read"),
];

fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

/// A SARIF 2.1.0 log with one run.
pub fn sarif(records: &[Record]) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|(id, text)| serde_json::json!({"id": id, "shortDescription": {"text": text}}))
        .collect();
    let results: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let mut result = serde_json::json!({
                "ruleId": r.rule,
                "ruleIndex": RULES.iter().position(|(id, _)| *id == r.rule).unwrap_or(0),
                "level": sarif_level(r.level),
                "message": {"text": r.message},
            });
            if let Some(path) = &r.path {
                let mut region = serde_json::Map::new();
                if let Some(line) = r.line {
                    region.insert("startLine".into(), line.into());
                }
                if let Some(column) = r.column {
                    region.insert("startColumn".into(), column.into());
                }
                let mut physical = serde_json::json!({
                    "artifactLocation": {"uri": uri_reference(path.trim_start_matches("./"))},
                });
                if !region.is_empty() {
                    physical["region"] = serde_json::Value::Object(region);
                }
                result["locations"] = serde_json::json!([{"physicalLocation": physical}]);
            }
            if let Some(provenance) = &r.provenance {
                result["properties"] = serde_json::json!({ "provenance": provenance });
            }
            if let Some(tags) = &r.tags {
                result["properties"] = serde_json::json!({ "tags": tags });
            }
            result
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "digestpin",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/digestpin/digestpin",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// A repository-relative path as a URI reference (RFC 3986): each byte
/// outside the unreserved set and `/` is percent-encoded, so a space, `%`,
/// `#` or `:` in a file name stays part of the path.
pub fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_references_encode_what_is_not_a_plain_path_character() {
        assert_eq!(uri_reference("k8s/app.yaml"), "k8s/app.yaml");
        assert_eq!(
            uri_reference("a b/100%:#é.yaml"),
            "a%20b/100%25%3A%23%C3%A9.yaml"
        );
    }
}
