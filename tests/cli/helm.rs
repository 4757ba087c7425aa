//! Helm values through every command against a real registry: a chart's
//! `values.yaml` (Bitnami `digest` field, `helm create` tag, empty tag) and a
//! Flux `HelmRelease`, listed, checked, pinned, verified, updated after the
//! tags move, and unpinned back to the original bytes.

use crate::support;
use crate::support::cli::{online, run, text};

use std::path::Path;

const CHART: &str = "apiVersion: v2\nname: web\nversion: 0.1.0\n";

const VALUES: &str = "\
image:
  registry: docker.io
  repository: helm/web
  tag: \"1.0\"
  digest: \"\"
sidecar:
  image:
    repository: helm/api
    tag: 2.0.1
    pullPolicy: IfNotPresent
defaulted:
  image:
    repository: helm/web
    tag: \"\"
";

const RELEASE: &str = "\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: api
spec:
  values:
    api:
      image: {repository: helm/api, tag: 2.0.1}
";

fn values(web: &str, api: &str) -> String {
    VALUES
        .replace("digest: \"\"", &format!("digest: \"{web}\""))
        .replace("tag: 2.0.1", &format!("tag: 2.0.1@{api}"))
}

fn release(api: &str) -> String {
    RELEASE.replace("tag: 2.0.1", &format!("tag: 2.0.1@{api}"))
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("chart")).unwrap();
    std::fs::write(dir.path().join("chart/Chart.yaml"), CHART).unwrap();
    std::fs::write(dir.path().join("chart/values.yaml"), VALUES).unwrap();
    std::fs::write(dir.path().join("release.yaml"), RELEASE).unwrap();
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn helm_values_through_list_check_pin_verify_update_unpin() {
    let r = support::plain();
    r.seed_index("helm/web", "1.0", "helm-web-1");
    r.seed_index("helm/api", "2.0.1", "helm-api-1");
    let dir = setup();
    let d = dir.path();

    let out = run(d, &["list", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "chart/values.yaml:4:9\thelm-values\tunpinned\tdocker.io/helm/web\t1.0\t-\n\
         chart/values.yaml:9:10\thelm-values\tunpinned\thelm/api\t2.0.1\t-\n\
         chart/values.yaml:14:11\thelm-values\tskipped\thelm/web\t-\t-\n\
         release.yaml:8:42\thelm-values\tunpinned\thelm/api\t2.0.1\t-\n"
    );

    let out = run(d, &["check", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "chart/values.yaml:4:9: docker.io/helm/web:1.0: not pinned by digest\n\
         chart/values.yaml:9:10: helm/api:2.0.1: not pinned by digest\n\
         release.yaml:8:42: helm/api:2.0.1: not pinned by digest\n"
    );

    let out = online(d, r, &["pin", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let web1 = r.digest("helm/web", "1.0");
    let api1 = r.digest("helm/api", "2.0.1");
    assert_eq!(read(d, "chart/values.yaml"), values(&web1, &api1));
    assert_eq!(read(d, "release.yaml"), release(&api1));

    let out = run(d, &["check", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = run(d, &["list", "."]);
    assert_eq!(
        text(&out.stdout),
        format!(
            "chart/values.yaml:4:9\thelm-values\tpinned\tdocker.io/helm/web\t1.0\t{web1}\n\
             chart/values.yaml:9:10\thelm-values\tpinned\thelm/api\t2.0.1\t{api1}\n\
             chart/values.yaml:14:11\thelm-values\tskipped\thelm/web\t-\t-\n\
             release.yaml:8:42\thelm-values\tpinned\thelm/api\t2.0.1\t{api1}\n"
        )
    );
    let out = online(d, r, &["verify", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // The tags move: verify reports it, update follows in each form.
    r.seed_index("helm/web", "1.0", "helm-web-2");
    r.seed_index("helm/api", "2.0.1", "helm-api-2");
    let web2 = r.digest("helm/web", "1.0");
    let api2 = r.digest("helm/api", "2.0.1");
    assert_ne!((&web1, &api1), (&web2, &api2));
    let out = online(d, r, &["verify", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "chart/values.yaml:4:9: docker.io/helm/web:1.0@{web1}: tag moved: 1.0 now names {web2}\n\
             chart/values.yaml:9:10: helm/api:2.0.1@{api1}: tag moved: 2.0.1 now names {api2}\n\
             release.yaml:8:42: helm/api:2.0.1@{api1}: tag moved: 2.0.1 now names {api2}\n"
        )
    );
    let out = online(d, r, &["update", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(read(d, "chart/values.yaml"), values(&web2, &api2));
    assert_eq!(read(d, "release.yaml"), release(&api2));

    let out = run(d, &["unpin", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(read(d, "chart/values.yaml"), VALUES);
    assert_eq!(read(d, "release.yaml"), RELEASE);
}

#[test]
fn tag_suffix_style_from_config_leaves_the_digest_field_alone() {
    let r = support::plain();
    r.seed_index("suffix/web", "1.0", "helm-web-1");
    r.seed_index("suffix/api", "2.0.1", "helm-api-1");
    let dir = setup();
    let values = VALUES.replace("helm/", "suffix/");
    let d = dir.path();
    std::fs::write(
        d.join(".digestpin.toml"),
        "[helm]\nstyle = \"tag-suffix\"\n",
    )
    .unwrap();
    let web = r.digest("suffix/web", "1.0");
    let api = r.digest("suffix/api", "2.0.1");
    std::fs::write(d.join("chart/values.yaml"), &values).unwrap();
    let out = online(d, r, &["pin", "chart"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        read(d, "chart/values.yaml"),
        values
            .replace("tag: \"1.0\"", &format!("tag: \"1.0@{web}\""))
            .replace("tag: 2.0.1", &format!("tag: 2.0.1@{api}"))
    );
    let out = run(d, &["unpin", "chart"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(read(d, "chart/values.yaml"), values);

    std::fs::write(d.join(".digestpin.toml"), "[helm]\nstyle = \"digest\"\n").unwrap();
    let out = run(d, &["list", "chart"]);
    assert_eq!(out.status.code(), Some(2));
    let config = d.join(".digestpin.toml");
    assert_eq!(
        text(&out.stderr),
        format!(
            "digestpin: error: {}: TOML parse error at line 2, column 9\n  |\n2 | style = \"digest\"\n  |         ^^^^^^^^\nunknown variant `digest`, expected `auto` or `tag-suffix`\n",
            config.display()
        )
    );
}

#[test]
fn values_files_outside_a_chart_are_values_unless_kubernetes_or_compose() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("values-prod.yaml"), VALUES).unwrap();
    std::fs::write(
        d.join("values-compose.yaml"),
        "services:\n  web:\n    image: nginx:1.25\n",
    )
    .unwrap();
    std::fs::write(d.join("other.yaml"), VALUES).unwrap();
    let out = run(d, &["list", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "values-compose.yaml:3:12\tCompose\tunpinned\tnginx\t1.25\t-\n\
         values-prod.yaml:4:9\thelm-values\tunpinned\tdocker.io/helm/web\t1.0\t-\n\
         values-prod.yaml:9:10\thelm-values\tunpinned\thelm/api\t2.0.1\t-\n\
         values-prod.yaml:14:11\thelm-values\tskipped\thelm/web\t-\t-\n"
    );
}
