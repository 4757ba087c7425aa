//! OCI image layouts written by the tests: single-platform images and
//! two-platform indexes, whose content depends on a salt so that a tag can be
//! pushed again with new content.

use std::path::Path;

use sha2::{Digest as _, Sha256};

/// A descriptor of a blob written into a layout.
#[derive(Clone)]
pub struct Blob {
    pub digest: String,
    pub size: usize,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` under `blobs/sha256/` of the layout at `dir`.
pub fn write_blob(dir: &Path, bytes: &[u8]) -> Blob {
    let sum = hex(&Sha256::digest(bytes));
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(blobs.join(&sum), bytes).unwrap();
    Blob {
        digest: format!("sha256:{sum}"),
        size: bytes.len(),
    }
}

/// A tar archive holding one file, written by hand (ustar).
pub fn tar_with_file(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..107].copy_from_slice(b"0000644");
    header[108..115].copy_from_slice(b"0000000");
    header[116..123].copy_from_slice(b"0000000");
    header[124..135].copy_from_slice(format!("{:011o}", content.len()).as_bytes());
    header[136..147].copy_from_slice(b"00000000000");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.resize(out.len() + 1024, 0);
    out
}

/// Writes a single-platform image manifest into the layout and returns it.
pub fn write_image(dir: &Path, salt: &str, os: &str, arch: &str) -> Blob {
    write_image_with(dir, salt, os, arch, &Metadata::default())
}

/// OCI metadata to write into an image: labels of its config and
/// annotations of its manifest (or index).
#[derive(Clone, Default)]
pub struct Metadata {
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
}

fn map(pairs: &[(String, String)]) -> serde_json::Map<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect()
}

/// [`write_image`] with config labels and manifest annotations.
pub fn write_image_with(dir: &Path, salt: &str, os: &str, arch: &str, meta: &Metadata) -> Blob {
    let layer = write_blob(
        dir,
        &tar_with_file("hello", format!("{salt} {os}/{arch}\n").as_bytes()),
    );
    let mut labels = map(&meta.labels);
    labels.insert("digestpin.test.salt".into(), salt.into());
    let config = serde_json::json!({
        "architecture": arch,
        "os": os,
        "config": {"Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": [layer.digest]},
    });
    let config = write_blob(dir, config.to_string().as_bytes());
    let mut manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.digest, "size": config.size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer.digest, "size": layer.size}],
    });
    if !meta.annotations.is_empty() {
        manifest["annotations"] = serde_json::Value::Object(map(&meta.annotations));
    }
    write_blob(dir, manifest.to_string().as_bytes())
}

/// Writes a linux/amd64 + linux/arm64 index into the layout and returns it.
pub fn write_index(dir: &Path, salt: &str) -> Blob {
    write_index_with(dir, salt, &Metadata::default(), &Metadata::default())
}

/// [`write_index`] with annotations on the index (`index.annotations`) and
/// labels and annotations on each platform's image (`images`).
pub fn write_index_with(dir: &Path, salt: &str, index: &Metadata, images: &Metadata) -> Blob {
    let entries: Vec<serde_json::Value> = ["amd64", "arm64"]
        .iter()
        .map(|arch| {
            let m = write_image_with(dir, salt, "linux", arch, images);
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": m.digest, "size": m.size,
                "platform": {"architecture": arch, "os": "linux"},
            })
        })
        .collect();
    let mut index_json = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    });
    if !index.annotations.is_empty() {
        index_json["annotations"] = serde_json::Value::Object(map(&index.annotations));
    }
    let index = index_json;
    write_blob(dir, index.to_string().as_bytes())
}

/// Writes the layout's `oci-layout` and `index.json`, naming each top-level
/// manifest or index by its `ref`.
pub fn finish_layout(dir: &Path, refs: &[(String, Blob, bool)]) {
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let manifests: Vec<serde_json::Value> = refs
        .iter()
        .map(|(name, blob, is_index)| {
            serde_json::json!({
                "mediaType": if *is_index { "application/vnd.oci.image.index.v1+json" } else { "application/vnd.oci.image.manifest.v1+json" },
                "digest": blob.digest, "size": blob.size,
                "annotations": {"org.opencontainers.image.ref.name": name},
            })
        })
        .collect();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
}
