//! `--provenance` on `list` and `verify`: OCI metadata read from images
//! whose config carries the labels, an index carrying annotations and an
//! index whose images carry them, pushed with skopeo; the requests counted
//! through a forwarding proxy (one manifest GET and at most one config GET
//! per digest, each digest once).

use crate::support::cli::{files, online_at, pod, text};
use crate::support::faults::{Action, Proxy};
use crate::support::image::Metadata;
use crate::support::{self, schema};

const CREATED: &str = "2026-01-02T03:04:05Z";

fn meta(revision: &str, source: &str, version: &str) -> Metadata {
    let pairs = vec![
        ("org.opencontainers.image.revision".into(), revision.into()),
        ("org.opencontainers.image.source".into(), source.into()),
        ("org.opencontainers.image.version".into(), version.into()),
        ("org.opencontainers.image.created".into(), CREATED.into()),
    ];
    Metadata {
        labels: pairs.clone(),
        annotations: Vec::new(),
    }
}

fn annotations(m: Metadata) -> Metadata {
    Metadata {
        labels: Vec::new(),
        annotations: m.labels,
    }
}

struct Seeded {
    labels: String,
    annotated: String,
    plain_index: String,
    bare: String,
    /// (repository, digest) of every manifest or blob the provenance reads.
    config_of_labels: String,
    amd64_of_plain_index: String,
    config_of_plain_amd64: String,
}

/// The config digest of the manifest `reference` (a tag or `@digest`) names.
fn config_digest(r: &support::Registry, repository: &str, reference: &str) -> String {
    let raw = if reference.starts_with("sha256:") {
        support::succeed(std::process::Command::new("skopeo").args([
            "--insecure-policy",
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/{repository}@{reference}", r.host()),
        ]))
        .stdout
    } else {
        r.raw_manifest(repository, reference)
    };
    let manifest: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    manifest["config"]["digest"].as_str().unwrap().to_string()
}

fn seed() -> Seeded {
    let r = support::plain();
    r.seed_single_with(
        "prov/labels",
        "1.0",
        "prov-labels",
        &meta("0a1b2c3d4e5f", "https://github.com/acme/app", "1.0.0"),
    );
    r.seed_index_with(
        "prov/annotated",
        "2.0",
        "prov-annotated",
        &annotations(meta("77aa88bb", "https://gitlab.com/acme/tools", "2.0.0")),
        &meta("notthisone", "https://github.com/acme/wrong", "0.0.0"),
    );
    r.seed_index_with(
        "prov/plainidx",
        "3.0",
        "prov-plainidx",
        &Metadata::default(),
        &meta("fedcba98", "https://git.example.com/acme/idx", "3.0.0"),
    );
    r.seed_single("prov/bare", "1", "prov-bare", "amd64");
    let amd64 = r.platform_digest("prov/plainidx", "3.0", "linux/amd64");
    Seeded {
        labels: r.digest("prov/labels", "1.0"),
        annotated: r.digest("prov/annotated", "2.0"),
        plain_index: r.digest("prov/plainidx", "3.0"),
        bare: r.digest("prov/bare", "1"),
        config_of_labels: config_digest(r, "prov/labels", "1.0"),
        config_of_plain_amd64: config_digest(r, "prov/plainidx", &amd64),
        amd64_of_plain_index: amd64,
    }
}

fn deployment(s: &Seeded) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        \
         - image: registry.example/prov/labels@{} # 1.0\n        \
         - image: registry.example/prov/annotated@{} # 2.0\n        \
         - image: registry.example/prov/plainidx@{} # 3.0\n        \
         - image: registry.example/prov/bare@{} # 1\n        \
         - image: registry.example/prov/bare:1\n",
        s.labels, s.annotated, s.plain_index, s.bare
    )
}

#[test]
fn list_provenance_reads_labels_and_annotations_once_per_digest() {
    let s = seed();
    let dir = files(&[
        ("deploy/app.yaml", &deployment(&s)),
        (
            "deploy/again.yaml",
            &pod(&format!("registry.example/prov/labels@{} # 1.0", s.labels)),
        ),
    ]);
    let proxy = Proxy::start(support::plain().port, |_, _| Action::Forward);
    let out = online_at(dir.path(), &proxy.url(), &["list", "--provenance"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (l, a, p, b) = (&s.labels, &s.annotated, &s.plain_index, &s.bare);
    assert_eq!(
        text(&out.stdout),
        format!(
            "deploy/again.yaml:5:14\tKubernetes\tpinned\tregistry.example/prov/labels\t1.0\t{l}\t0a1b2c3d4e5f\thttps://github.com/acme/app\t1.0.0\t{CREATED}\n\
             deploy/app.yaml:7:18\tKubernetes\tpinned\tregistry.example/prov/labels\t1.0\t{l}\t0a1b2c3d4e5f\thttps://github.com/acme/app\t1.0.0\t{CREATED}\n\
             deploy/app.yaml:8:18\tKubernetes\tpinned\tregistry.example/prov/annotated\t2.0\t{a}\t77aa88bb\thttps://gitlab.com/acme/tools\t2.0.0\t{CREATED}\n\
             deploy/app.yaml:9:18\tKubernetes\tpinned\tregistry.example/prov/plainidx\t3.0\t{p}\tfedcba98\thttps://git.example.com/acme/idx\t3.0.0\t{CREATED}\n\
             deploy/app.yaml:10:18\tKubernetes\tpinned\tregistry.example/prov/bare\t1\t{b}\t-\t-\t-\t-\n\
             deploy/app.yaml:11:18\tKubernetes\tunpinned\tregistry.example/prov/bare\t1\t-\t-\t-\t-\t-\n"
        )
    );
    // Bounded: each digest once; a config GET only where the manifest has
    // no annotations; the plain index through its first platform.
    let mut lines = proxy.lines();
    lines.sort();
    let mut expected = vec![
        format!("GET /v2/prov/annotated/manifests/{a}"),
        format!(
            "GET /v2/prov/bare/blobs/{}",
            config_digest(support::plain(), "prov/bare", "1")
        ),
        format!("GET /v2/prov/bare/manifests/{b}"),
        format!("GET /v2/prov/labels/blobs/{}", s.config_of_labels),
        format!("GET /v2/prov/labels/manifests/{l}"),
        format!("GET /v2/prov/plainidx/blobs/{}", s.config_of_plain_amd64),
        format!("GET /v2/prov/plainidx/manifests/{}", s.amd64_of_plain_index),
        format!("GET /v2/prov/plainidx/manifests/{p}"),
    ];
    expected.sort();
    assert_eq!(lines, expected);

    // Markdown: release notes linking each digest to its source commit.
    let out = online_at(
        dir.path(),
        &proxy.url(),
        &["list", "--format", "markdown", "--provenance"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "| Image | Tag | Digest | Version | Revision | Created | Used in |\n\
             | --- | --- | --- | --- | --- | --- | --- |\n\
             | `registry.example/prov/annotated` | 2.0 | [`{a}`](https://gitlab.com/acme/tools/-/commit/77aa88bb) | 2.0.0 | 77aa88bb | {CREATED} | deploy/app.yaml:8 |\n\
             | `registry.example/prov/bare` | 1 | not pinned |  |  |  | deploy/app.yaml:11 |\n\
             | `registry.example/prov/bare` | 1 | `{b}` |  |  |  | deploy/app.yaml:10 |\n\
             | `registry.example/prov/labels` | 1.0 | [`{l}`](https://github.com/acme/app/commit/0a1b2c3d4e5f) | 1.0.0 | 0a1b2c3d4e5f | {CREATED} | deploy/again.yaml:5, deploy/app.yaml:7 |\n\
             | `registry.example/prov/plainidx` | 3.0 | `{p}` | 3.0.0 | fedcba98 | {CREATED} | deploy/app.yaml:9 |\n"
        )
    );

    // JSON: a `provenance` object on each pinned record, `{}` when the
    // image says nothing; valid against the documented schema.
    let out = online_at(
        dir.path(),
        &proxy.url(),
        &["list", "--format", "json", "--provenance"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    schema::validate(&schema::json_schema(), &out.stdout);
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let provenance: Vec<serde_json::Value> = document["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.get("provenance")
                .cloned()
                .unwrap_or(serde_json::Value::Null)
        })
        .collect();
    let labels = serde_json::json!({"revision": "0a1b2c3d4e5f", "source": "https://github.com/acme/app", "version": "1.0.0", "created": CREATED});
    assert_eq!(
        provenance,
        vec![
            labels.clone(),
            labels,
            serde_json::json!({"revision": "77aa88bb", "source": "https://gitlab.com/acme/tools", "version": "2.0.0", "created": CREATED}),
            serde_json::json!({"revision": "fedcba98", "source": "https://git.example.com/acme/idx", "version": "3.0.0", "created": CREATED}),
            serde_json::json!({}),
            serde_json::Value::Null,
        ]
    );

    // SARIF: the same object in each result's properties.
    let out = online_at(
        dir.path(),
        &proxy.url(),
        &["list", "--format", "sarif", "--provenance"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    schema::validate(&schema::sarif_schema(), &out.stdout);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let properties: Vec<serde_json::Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["provenance"]["revision"].clone())
        .collect();
    assert_eq!(
        properties,
        ["0a1b2c3d4e5f", "0a1b2c3d4e5f", "77aa88bb", "fedcba98"]
            .iter()
            .map(|v| serde_json::json!(v))
            .chain([serde_json::Value::Null, serde_json::Value::Null])
            .collect::<Vec<_>>()
    );
}

#[test]
fn verify_provenance_describes_the_pinned_digest_of_each_finding() {
    let r = support::plain();
    r.seed_single_with(
        "prov/moving",
        "1",
        "prov-moving-old",
        &meta("1111aaaa", "https://github.com/acme/moving", "1.0.0"),
    );
    let old = r.digest("prov/moving", "1");
    r.seed_single_with(
        "prov/moving",
        "1",
        "prov-moving-new",
        &meta("2222bbbb", "https://github.com/acme/moving", "1.0.1"),
    );
    let new = r.digest("prov/moving", "1");
    let gone = format!("sha256:{}", "0".repeat(64));
    let dir = files(&[
        (
            "pod.yaml",
            &pod(&format!("registry.example/prov/moving@{old} # 1")),
        ),
        (
            "removed.yaml",
            &pod(&format!("registry.example/prov/moving@{gone}")),
        ),
    ]);
    let out = online_at(dir.path(), &r.url(), &["verify", "--provenance"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // A digest the registry no longer has is not asked about.
    assert_eq!(
        text(&out.stdout),
        format!(
            "pod.yaml:5:14: registry.example/prov/moving@{old}: tag moved: 1 now names {new} \
             [revision 1111aaaa, source https://github.com/acme/moving, version 1.0.0, created {CREATED}]\n\
             removed.yaml:5:14: registry.example/prov/moving@{gone}: the pinned digest is no longer in the registry [no provenance]\n"
        )
    );
    let out = online_at(
        dir.path(),
        &r.url(),
        &["verify", "--provenance", "--format", "json"],
    );
    schema::validate(&schema::json_schema(), &out.stdout);
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        document["records"][0]["provenance"],
        serde_json::json!({"revision": "1111aaaa", "source": "https://github.com/acme/moving", "version": "1.0.0", "created": CREATED})
    );
}

#[test]
fn list_provenance_with_token_auth() {
    let r = support::token();
    r.seed_single_with(
        "prov/private",
        "1",
        "prov-private",
        &meta("9999cccc", "https://github.com/acme/private", "1.0.0"),
    );
    let digest = r.digest("prov/private", "1");
    let image = format!("{}/prov/private", r.host());
    let dir = files(&[("pod.yaml", &pod(&format!("{image}@{digest} # 1")))]);
    let config = support::config_with_auth(&r.host(), support::USER, support::PASSWORD);
    let out = support::digestpin()
        .current_dir(dir.path())
        .args(["list", "--loopback-only", "--provenance"])
        .env("DOCKER_CONFIG", config.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "pod.yaml:5:14\tKubernetes\tpinned\t{image}\t1\t{digest}\t9999cccc\thttps://github.com/acme/private\t1.0.0\t{CREATED}\n"
        )
    );
    // Without credentials the metadata cannot be read: an error, exit 2.
    let out = support::digestpin()
        .current_dir(dir.path())
        .args(["list", "--loopback-only", "--provenance"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stdout),
        format!("pod.yaml:5:14\tKubernetes\tpinned\t{image}\t1\t{digest}\t-\t-\t-\t-\n")
    );
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {image}@{digest}: cannot read its provenance: unauthorized: the token server refused an anonymous token ({}?service=digestpin-test-registry&scope=repository%3Aprov%2Fprivate%3Apull)\n",
            r.token.as_ref().unwrap().realm()
        )
    );
}
