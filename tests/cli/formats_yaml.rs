//! GitHub workflow files and kustomizations through the whole life of a pin
//! on a real registry: list, check, pin, verify, update, unpin. Outputs and
//! files are compared whole.

use crate::support;
use crate::support::cli::{self, text};
use crate::support::schema::{json_schema, validate};

use std::path::Path;
use std::process::Output;

const WORKFLOW: &str = ".github/workflows/ci.yml";
const KUSTOMIZATION: &str = "deploy/kustomization.yaml";

const WORKFLOW_TEXT: &str = "\
on: [push]
jobs:
  build:
    container: fmt/node:20  # build
    services:
      db: {image: \"fmt/db:16\"}
    steps:
      - uses: actions/checkout@v4
      - uses: docker://fmt/tool:1
      - uses: docker://${{ env.X }}
  test:
    container:
      image: ${{ matrix.image }}
";

const KUSTOMIZATION_TEXT: &str = "\
images:
  - name: web
    newName: fmt/web
    newTag: \"1.0\"
  - {name: fmt/api, newTag: v2}
  - name: other
    newName: fmt/other
";

/// `digestpin args…` over the workflow and the `deploy` directory.
fn run(dir: &Path, args: &[&str]) -> Output {
    cli::run(dir, &[args, &[WORKFLOW, "deploy"]].concat())
}

fn online(dir: &Path, registry: &support::Registry, args: &[&str]) -> Output {
    cli::online(dir, registry, &[args, &[WORKFLOW, "deploy"]].concat())
}

fn read(dir: &Path, file: &str) -> String {
    cli::read(&dir.join(file))
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::create_dir_all(dir.path().join("deploy")).unwrap();
    std::fs::write(dir.path().join(WORKFLOW), WORKFLOW_TEXT).unwrap();
    std::fs::write(dir.path().join(KUSTOMIZATION), KUSTOMIZATION_TEXT).unwrap();
    dir
}

#[test]
fn list_and_check_show_workflow_and_kustomize_kinds() {
    let dir = setup();
    let out = run(dir.path(), &["list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "\
.github/workflows/ci.yml:4:16\tworkflow\tunpinned\tfmt/node\t20\t-
.github/workflows/ci.yml:6:20\tworkflow\tunpinned\tfmt/db\t16\t-
.github/workflows/ci.yml:9:24\tworkflow\tunpinned\tfmt/tool\t1\t-
.github/workflows/ci.yml:10:24\tworkflow\tskipped\t${{ env.X }}\t-\t-
.github/workflows/ci.yml:13:14\tworkflow\tskipped\t${{ matrix.image }}\t-\t-
deploy/kustomization.yaml:4:14\tkustomize\tunpinned\tfmt/web\t1.0\t-
deploy/kustomization.yaml:5:29\tkustomize\tunpinned\tfmt/api\tv2\t-
deploy/kustomization.yaml:7:14\tkustomize\tskipped\tfmt/other\t-\t-
"
    );

    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "\
.github/workflows/ci.yml:4:16: fmt/node:20: not pinned by digest
.github/workflows/ci.yml:6:20: fmt/db:16: not pinned by digest
.github/workflows/ci.yml:9:24: fmt/tool:1: not pinned by digest
deploy/kustomization.yaml:4:14: fmt/web:1.0: not pinned by digest
deploy/kustomization.yaml:5:29: fmt/api:v2: not pinned by digest
"
    );

    let out = run(dir.path(), &["--format", "github", "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let annotation = |file: &str, line, col, reference: &str| {
        format!(
            "::error file={file},line={line},col={col},title=digestpin not-pinned::{reference}: not pinned by digest\n"
        )
    };
    assert_eq!(
        text(&out.stdout),
        [
            annotation(WORKFLOW, 4, 16, "fmt/node:20"),
            annotation(WORKFLOW, 6, 20, "fmt/db:16"),
            annotation(WORKFLOW, 9, 24, "fmt/tool:1"),
            annotation(KUSTOMIZATION, 4, 14, "fmt/web:1.0"),
            annotation(KUSTOMIZATION, 5, 29, "fmt/api:v2"),
        ]
        .concat()
    );

    // JSON: the kinds are in the documented schema.
    let out = run(dir.path(), &["--format", "json", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    validate(&json_schema(), &out.stdout);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records: Vec<(String, String, String)> = json["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["state"].as_str().unwrap().to_string(),
                r["reference"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let record = |kind: &str, state: &str, reference: &str| {
        (kind.to_string(), state.to_string(), reference.to_string())
    };
    assert_eq!(
        records,
        [
            record("workflow", "unpinned", "fmt/node:20"),
            record("workflow", "unpinned", "fmt/db:16"),
            record("workflow", "unpinned", "fmt/tool:1"),
            record("workflow", "skipped", "${{ env.X }}"),
            record("workflow", "skipped", "${{ matrix.image }}"),
            record("kustomize", "unpinned", "fmt/web:1.0"),
            record("kustomize", "unpinned", "fmt/api:v2"),
            record("kustomize", "skipped", "fmt/other"),
        ]
    );
}

#[test]
fn pin_verify_update_unpin() {
    let r = support::plain();
    for (repository, tag) in [
        ("fmt/node", "20"),
        ("fmt/db", "16"),
        ("fmt/tool", "1"),
        ("fmt/web", "1.0"),
        ("fmt/api", "v2"),
    ] {
        r.seed_index(repository, tag, repository);
    }
    let d = |repository: &str, tag: &str| r.digest(repository, tag);
    let dir = setup();

    let out = online(dir.path(), r, &["pin"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let workflow = format!(
        "\
on: [push]
jobs:
  build:
    container: fmt/node@{} # 20  # build
    services:
      db: {{image: \"fmt/db@{}\"}} # 16
    steps:
      - uses: actions/checkout@v4
      - uses: docker://fmt/tool@{} # 1
      - uses: docker://${{{{ env.X }}}}
  test:
    container:
      image: ${{{{ matrix.image }}}}
",
        d("fmt/node", "20"),
        d("fmt/db", "16"),
        d("fmt/tool", "1")
    );
    let kustomization = |web: &str| {
        format!(
            "\
images:
  - name: web
    newName: fmt/web
    newTag: \"1.0\"
    digest: \"{web}\"
  - {{name: fmt/api, newTag: v2, digest: {}}}
  - name: other
    newName: fmt/other
",
            d("fmt/api", "v2")
        )
    };
    assert_eq!(read(dir.path(), WORKFLOW), workflow);
    let web_old = d("fmt/web", "1.0");
    assert_eq!(read(dir.path(), KUSTOMIZATION), kustomization(&web_old));

    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = run(dir.path(), &["list"]);
    assert_eq!(
        text(&out.stdout),
        format!(
            "\
.github/workflows/ci.yml:4:16\tworkflow\tpinned\tfmt/node\t20\t{}
.github/workflows/ci.yml:6:20\tworkflow\tpinned\tfmt/db\t16\t{}
.github/workflows/ci.yml:9:24\tworkflow\tpinned\tfmt/tool\t1\t{}
.github/workflows/ci.yml:10:24\tworkflow\tskipped\t${{{{ env.X }}}}\t-\t-
.github/workflows/ci.yml:13:14\tworkflow\tskipped\t${{{{ matrix.image }}}}\t-\t-
deploy/kustomization.yaml:4:14\tkustomize\tpinned\tfmt/web\t1.0\t{web_old}
deploy/kustomization.yaml:6:29\tkustomize\tpinned\tfmt/api\tv2\t{}
deploy/kustomization.yaml:8:14\tkustomize\tskipped\tfmt/other\t-\t-
",
            d("fmt/node", "20"),
            d("fmt/db", "16"),
            d("fmt/tool", "1"),
            d("fmt/api", "v2"),
        )
    );

    // A second pin has nothing to do.
    let out = online(dir.path(), r, &["pin"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(read(dir.path(), KUSTOMIZATION), kustomization(&web_old));

    let out = online(dir.path(), r, &["verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // A kustomization's and a step's tags move: verify reports them, update
    // follows them.
    let tool_old = d("fmt/tool", "1");
    r.seed_index("fmt/web", "1.0", "fmt/web moved");
    r.seed_index("fmt/tool", "1", "fmt/tool moved");
    let web_new = d("fmt/web", "1.0");
    let tool_new = d("fmt/tool", "1");
    assert_ne!(web_old, web_new);
    assert_ne!(tool_old, tool_new);
    let out = online(dir.path(), r, &["verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "\
.github/workflows/ci.yml:9:24: fmt/tool@{tool_old}: tag moved: 1 now names {tool_new}
deploy/kustomization.yaml:4:14: fmt/web:1.0@{web_old}: tag moved: 1.0 now names {web_new}\n"
        )
    );
    let out = online(dir.path(), r, &["update"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(read(dir.path(), KUSTOMIZATION), kustomization(&web_new));
    assert_eq!(
        read(dir.path(), WORKFLOW),
        workflow.replace(&tool_old, &tool_new)
    );
    let out = online(dir.path(), r, &["verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // unpin gives back the files as they were.
    let out = run(dir.path(), &["unpin"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(read(dir.path(), WORKFLOW), WORKFLOW_TEXT);
    assert_eq!(read(dir.path(), KUSTOMIZATION), KUSTOMIZATION_TEXT);
}

#[test]
fn kustomize_digests_not_where_pin_puts_them() {
    let r = support::plain();
    r.seed_index("fmt/ka", "v1", "fmt/ka");
    r.seed_index("fmt/kb", "v2", "fmt/kb");
    let new = r.digest("fmt/ka", "v1");
    let old = format!("sha256:{}", "0".repeat(64));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kustomization.yaml");
    let kustomization = |a: &str| {
        format!(
            "images:\n- name: fmt/ka\n  digest: {a}\n  newTag: v1\n- name: fmt/kb\n  newTag: v2@{old}\n"
        )
    };
    std::fs::write(&file, kustomization(&old)).unwrap();
    let skipped = |line, value: &str| {
        format!(
            "kustomization.yaml:{line}:11: skipped {value}: the digest is not in a digest field right after newTag; edit it by hand\n"
        )
    };

    // unpin leaves both alone and says why.
    let out = support::digestpin()
        .current_dir(dir.path())
        .args(["unpin", "kustomization.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        [
            skipped(4, &format!("fmt/ka:v1@{old}")),
            skipped(6, &format!("fmt/kb:v2@{old}")),
            "2 references in 1 file: 0 unpinned, 0 already pinned, 2 skipped, 0 failed\n".into(),
        ]
        .concat()
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), kustomization(&old));

    // update rewrites a digest field wherever it is; a digest inside newTag
    // is reported.
    let out = cli::online(dir.path(), r, &["update", "kustomization.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "kustomization.yaml:4:11: rewrote fmt/ka:v1@{old} to fmt/ka:v1@{new}\n{}\
             2 references in 1 file: 1 updated, 0 up to date, 1 skipped, 0 failed; 1 file changed\n",
            skipped(6, &format!("fmt/kb:v2@{old}"))
        )
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), kustomization(&new));
}
