use super::*;

fn images(text: &str) -> Vec<String> {
    let (_, findings) = scan(text).unwrap().unwrap();
    findings
        .iter()
        .filter_map(|f| match f {
            Finding::Image { site, .. } => {
                assert_eq!(&text[site.span.clone()], site.value);
                Some(site.value.clone())
            }
            Finding::Skipped { .. } => None,
        })
        .collect()
}

fn skipped(text: &str) -> Vec<(String, SkipReason)> {
    let (_, findings) = scan(text).unwrap().unwrap();
    findings
        .into_iter()
        .filter_map(|f| match f {
            Finding::Skipped { site, reason } => Some((site.value, reason)),
            Finding::Image { .. } => None,
        })
        .collect()
}

#[test]
fn workloads_by_kind() {
    let text = "\
apiVersion: v1
kind: Pod
spec:
  containers: [{name: a, image: a:1}]
  initContainers:
    - image: b:1
  ephemeralContainers:
    - image: c:1
  volumes:
    - name: v
      image: {reference: d:1}
---
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - image: e:1
          args: [\"--image\", \"x:1\"]
          env: [{name: IMAGE, value: \"y:1\"}]
---
apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - image: f:1
---
apiVersion: v1
kind: PodTemplate
template:
  spec:
    containers:
      - image: g:1
---
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: StatefulSet
    spec: {template: {spec: {containers: [{image: h:1}]}}}
";
    assert_eq!(
        images(text),
        ["a:1", "b:1", "c:1", "d:1", "e:1", "f:1", "g:1", "h:1"]
    );
}

#[test]
fn custom_resources_any_depth_and_config_files_ignored() {
    let text = "\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
spec:
  template: {spec: {containers: [{image: 'r:1'}]}}
  steps:
    - image: s:1
    - image: {repository: nginx, tag: x}
    - image: Not A Reference
---
apiVersion: skaffold/v4beta11
kind: Config
build:
  artifacts:
    - image: skaffold-app
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: nginx
---
apiVersion: v1
kind: ConfigMap
data:
  image: nginx:1.25
  config: |
    image: nginx:1.25
";
    assert_eq!(images(text), ["r:1", "s:1"]);
}

#[test]
fn not_kubernetes_or_compose() {
    assert!(scan("image: nginx\n").unwrap().is_none());
    assert!(
        scan("jobs:\n  a:\n    container: {image: x}\n")
            .unwrap()
            .is_none()
    );
}

#[test]
fn compose_anchors_merges_and_build() {
    let text = "\
x-base: &base
  image: shop:2
x-img: &img redis:7
services:
  a:
    <<: *base
  b:
    <<: [*base]
    ports: [80]
  c:
    image: *img
  d:
    image: \"db:1\"   # primary
  e:
    build: .
    image: local/e:dev
  f:
    image: ${REGISTRY}/f:${TAG}
";
    let (kind, _) = scan(text).unwrap().unwrap();
    assert_eq!(kind, FileKind::Compose);
    assert_eq!(images(text), ["shop:2", "redis:7", "db:1"]);
    assert_eq!(
        skipped(text),
        [
            ("local/e:dev".to_string(), SkipReason::BuiltByCompose),
            ("${REGISTRY}/f:${TAG}".to_string(), SkipReason::Templated)
        ]
    );
}

#[test]
fn positions_are_bytes_and_columns_are_characters() {
    let text = "\u{feff}# é\napiVersion: v1\nkind: Pod\nmetadata: {name: ü}\nspec:\r\n  containers:\r\n    - image: \"ñ/x:1\"\r\n    - image: &a 'b:1'\r\n    - image: *a\r\n";
    let (_, findings) = scan(text).unwrap().unwrap();
    assert_eq!(findings.len(), 2, "{findings:?}");
    let Finding::Skipped { site, .. } = &findings[0] else {
        panic!("ñ is not a reference character: {findings:?}");
    };
    assert_eq!((site.line, site.column), (7, 15));
    let Finding::Image { site, .. } = &findings[1] else {
        panic!();
    };
    assert_eq!(&text[site.span.clone()], "b:1");
    assert_eq!(
        (site.line, site.column, site.style),
        (8, 18, ScalarStyle::SingleQuoted)
    );
}

#[test]
fn escaped_and_block_values_are_skipped() {
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: \"a\\u003a1\"\n    - image: |\n        b:1\n";
    let reasons: Vec<SkipReason> = skipped(text).into_iter().map(|(_, r)| r).collect();
    assert_eq!(reasons, [SkipReason::Escaped, SkipReason::BlockScalar]);
}

#[test]
fn flow_is_marked() {
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers: [{image: a:1}]\n  initContainers:\n    - image: b:1\n";
    let (_, findings) = scan(text).unwrap().unwrap();
    let flows: Vec<bool> = findings.iter().map(|f| f.site().in_flow).collect();
    assert_eq!(flows, [true, false]);
}

#[test]
fn invalid_yaml_reports_line_and_column() {
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n{{- range .Values.x }}\n    - image: {{ .image }}\n";
    let err = scan(text).unwrap_err();
    let DetectError::Yaml { line, .. } = err else {
        panic!("not a YAML error")
    };
    assert!(line >= 5, "{err}");
}

#[test]
fn under_indented_flow_closers_parse_as_other_tools_read_them() {
    let text = "services:\n  app:\n    image: \"nginx:1.27\"\n    command: [\n      \"run\"\n    ]\n  db:\n    image: postgres:16\n    command: [\n    \"-c\", \"x\"\n]\n";
    assert_eq!(images(text), ["nginx:1.27", "postgres:16"]);
}

#[test]
fn helm_templates_and_kubernetes_variables_are_templated() {
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: {{ .Values.image }}\n    - image: $(IMAGE)\n";
    let skipped = skipped(text);
    assert_eq!(
        skipped,
        [
            ("{{ .Values.image }}".to_string(), SkipReason::Templated),
            ("$(IMAGE)".to_string(), SkipReason::Templated)
        ]
    );
}

#[test]
fn builtin_kinds_hold_images_only_in_pod_specs() {
    let text = "\
apiVersion: v1
kind: PersistentVolume
spec:
  rbd:
    image: foo
---
apiVersion: apps/v1
kind: DeploymentList
items:
  - apiVersion: apps/v1
    kind: Deployment
    spec: {template: {spec: {containers: [{image: a:1}, {image: ~}, {image: ''}]}}}
";
    assert_eq!(images(text), ["a:1"]);
    assert!(skipped(text).is_empty());
}

#[test]
fn an_image_shared_with_a_built_service_is_not_pinned() {
    let text = "x-img: &img app:dev\nservices:\n  a:\n    image: *img\n  b:\n    build: .\n    image: *img\n";
    assert!(images(text).is_empty());
    assert_eq!(
        skipped(text),
        [("app:dev".to_string(), SkipReason::BuiltByCompose)]
    );
}

#[test]
fn anchored_or_tagged_key_lines_are_pinned_like_plain_ones() {
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: &img\n        nginx:1.25\n    - image: !!str # a comment\n        'redis:7'\n    - image: *img\n";
    assert_eq!(images(text), ["nginx:1.25", "redis:7"]);
    let (_, findings) = scan(text).unwrap().unwrap();
    let at: Vec<(usize, usize)> = findings
        .iter()
        .map(|f| (f.site().line, f.site().column))
        .collect();
    assert_eq!(at, [(6, 9), (8, 10)]);
}

#[test]
fn an_unclosed_flow_sequence_is_an_error_even_without_images() {
    let err = scan("apiVersion: v1\nkind: Pod\nspec: [\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 4, column 1: while parsing a node, did not find expected node content"
    );
}

#[test]
fn compose_service_platforms_are_kept_with_their_image() {
    let text = "x-img: &img redis:7\nservices:\n  a:\n    image: alpine:3\n    platform: linux/arm64\n  b:\n    image: busybox:1\n  c:\n    image: *img\n    platform: linux/arm64\n  d:\n    image: *img\n    platform: linux/amd64\n";
    let (_, findings) = scan(text).unwrap().unwrap();
    let platforms: Vec<(&str, Option<&str>)> = findings
        .iter()
        .map(|f| (f.site().value.as_str(), f.site().platform.as_deref()))
        .collect();
    // Services sharing a value disagree: no service platform for it.
    assert_eq!(
        platforms,
        [
            ("redis:7", None),
            ("alpine:3", Some("linux/arm64")),
            ("busybox:1", None)
        ]
    );
}

#[test]
fn known_kinds_are_skipped_with_their_reason_and_ko_paths_are_templated() {
    let text = "\
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
spec: {image: ghcr.io/a/b}
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: AWSMachineTemplate
spec: {template: {spec: {image: {id: ami-1}, sidecar: {image: 'x:1'}}}}
---
apiVersion: v1
kind: Pod
spec: {containers: [{image: 'ko://example.com/cmd/app'}]}
";
    assert!(images(text).is_empty());
    let vm = "a Cluster API machine image, not a container image".to_string();
    assert_eq!(
        skipped(text),
        [
            (
                "ghcr.io/a/b".to_string(),
                SkipReason::NotAnImage(
                    "Flux image automation names a repository to scan; a tag or digest breaks it"
                        .to_string()
                )
            ),
            ("x:1".to_string(), SkipReason::NotAnImage(vm)),
            (
                "ko://example.com/cmd/app".to_string(),
                SkipReason::Templated
            ),
        ]
    );
}
