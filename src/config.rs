//! `.digestpin.toml`: settings shared by a repository's users and its CI.
//!
//! The file is found by walking up from the working directory, or named with
//! `--config`. Every field is optional; layers merge field by field with this
//! precedence: command-line flag, then the `--config` file, then the
//! discovered file, then the defaults. Unknown keys are an error naming the
//! key.
//!
//! ```toml
//! include = ["deploy/**", "compose*.yaml"]
//! exclude = ["vendor/**"]
//! style = "comment"            # or "tag-digest"
//! platform = "linux/amd64"
//! jobs = 32
//! timeout = 30
//! retries = 4
//! ca-file = "certs/corp-ca.pem"
//! mirrors = ["docker.io=https://mirror.example.com"]
//! verify-digest = false
//! cache-ttl = "5m"             # how long a tag's answer is cached; "0": no cache
//!
//! [policy]
//! deny-latest = true
//! allow = ["ghcr.io/example/built-here-*"]
//!
//! [helm]
//! style = "auto"               # or "tag-suffix"
//! reads-digest = ["charts/web/**"]  # charts whose templates read image.digest
//!
//! [[custom-resources]]
//! api-version = "example.com/v1"   # or a group: "example.com"
//! kind = "Widget"
//! images = ["spec.runner.image", "spec.steps[].image"]
//! not-images = ["spec.output.image"]
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::detect::rules::{self, ResourceRule};
use crate::edit::PinStyle;

/// The name of the file discovered by walking up.
pub const FILE_NAME: &str = ".digestpin.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// One layer of settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<PinStyle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirrors: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_digest: Option<bool>,
    /// How long a tag's answer is used from the cache (`5m`, `1h`; `0`: no cache).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_ttl: Option<String>,
    #[serde(default, skip_serializing_if = "Policy::is_empty")]
    pub policy: Policy,
    /// Which custom-resource paths hold images and which do not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_resources: Option<Vec<ResourceRule>>,
    /// How Helm image maps are pinned.
    #[serde(default, skip_serializing_if = "Helm::is_empty")]
    pub helm: Helm,
}

/// `[helm]`: how an image map (`repository`, `tag`, `digest`) is pinned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Helm {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<HelmStyle>,
    /// Globs of the values files (and `HelmRelease`/`Application` files)
    /// whose charts read an image map's `digest` key although the map has
    /// none: there `pin` adds `digest:` beside `tag` (with `style = "auto"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reads_digest: Option<Vec<String>>,
}

impl Helm {
    fn is_empty(&self) -> bool {
        self.style.is_none() && self.reads_digest.is_none()
    }
}

/// `auto`: fill `digest` where the map has one, else `tag: "1.25@sha256:…"`;
/// `tag-suffix`: always the latter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HelmStyle {
    Auto,
    TagSuffix,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny_latest: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
}

impl Policy {
    fn is_empty(&self) -> bool {
        self.deny_latest.is_none() && self.allow.is_none()
    }
}

impl Config {
    /// Reads one file. Relative paths in it (`ca-file`) are taken relative
    /// The settings the environment gives: `cache-ttl` from
    /// `DIGESTPIN_CACHE_TTL` (an empty value is unset).
    pub fn from_environment() -> Config {
        Config {
            cache_ttl: std::env::var(crate::settings::CACHE_TTL_VARIABLE)
                .ok()
                .filter(|value| !value.is_empty()),
            ..Config::default()
        }
    }

    /// to the file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        if let Some(custom) = &config.custom_resources {
            rules::validate(custom).map_err(|e| ConfigError::Parse {
                path: path.to_path_buf(),
                message: format!("custom-resources: {e}"),
            })?;
        }
        if let Some(globs) = &config.helm.reads_digest {
            crate::helm::ReadsDigest::new(globs).map_err(|e| ConfigError::Parse {
                path: path.to_path_buf(),
                message: format!("helm.reads-digest: {e}"),
            })?;
        }
        if let (Some(ca), Some(dir)) = (&config.ca_file, path.parent())
            && ca.is_relative()
        {
            config.ca_file = Some(dir.join(ca));
        }
        Ok(config)
    }

    /// `other` over `self`: each field set in `other` wins.
    pub fn merged(self, other: Config) -> Config {
        Config {
            include: other.include.or(self.include),
            exclude: other.exclude.or(self.exclude),
            style: other.style.or(self.style),
            platform: other.platform.or(self.platform),
            jobs: other.jobs.or(self.jobs),
            timeout: other.timeout.or(self.timeout),
            retries: other.retries.or(self.retries),
            ca_file: other.ca_file.or(self.ca_file),
            mirrors: other.mirrors.or(self.mirrors),
            verify_digest: other.verify_digest.or(self.verify_digest),
            cache_ttl: other.cache_ttl.or(self.cache_ttl),
            policy: Policy {
                deny_latest: other.policy.deny_latest.or(self.policy.deny_latest),
                allow: other.policy.allow.or(self.policy.allow),
            },
            custom_resources: other.custom_resources.or(self.custom_resources),
            helm: Helm {
                style: other.helm.style.or(self.helm.style),
                reads_digest: other.helm.reads_digest.or(self.helm.reads_digest),
            },
        }
    }

    /// The merged file layers: the discovered file, then `--config`.
    pub fn discover(
        start: &Path,
        explicit: Option<&Path>,
    ) -> Result<(Config, Vec<PathBuf>), ConfigError> {
        let layers = Config::discover_layers(start, explicit)?;
        let sources = layers.iter().map(|(path, _)| path.clone()).collect();
        let config = layers
            .into_iter()
            .fold(Config::default(), |acc, (_, layer)| acc.merged(layer));
        Ok((config, sources))
    }

    /// The file layers one by one, lowest precedence first: the discovered
    /// file, then `--config`.
    pub fn discover_layers(
        start: &Path,
        explicit: Option<&Path>,
    ) -> Result<Vec<(PathBuf, Config)>, ConfigError> {
        let mut layers = Vec::new();
        if let Some(found) = find(start) {
            let config = Config::load(&found)?;
            layers.push((found, config));
        }
        if let Some(path) = explicit {
            layers.push((path.to_path_buf(), Config::load(path)?));
        }
        Ok(layers)
    }

    /// The built-in defaults, the bottom layer of every merge (`config
    /// --show` prints them with the rest).
    pub fn defaults() -> Config {
        Config {
            include: Some(Vec::new()),
            exclude: Some(Vec::new()),
            style: Some(PinStyle::Comment),
            platform: None,
            jobs: Some(crate::registry::DEFAULT_JOBS),
            timeout: Some(crate::registry::DEFAULT_TIMEOUT.as_secs()),
            retries: Some(crate::registry::DEFAULT_RETRIES),
            ca_file: None,
            mirrors: Some(Vec::new()),
            policy: Policy {
                deny_latest: Some(false),
                allow: Some(Vec::new()),
            },
            custom_resources: Some(Vec::new()),
            verify_digest: Some(false),
            cache_ttl: Some(crate::registry::cache::format_duration(
                crate::registry::cache::DEFAULT_CACHE_TTL,
            )),
            helm: Helm {
                style: Some(HelmStyle::Auto),
                reads_digest: Some(Vec::new()),
            },
        }
    }

    /// The settings as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

/// The nearest `.digestpin.toml` at or above `start`.
pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "style = \"comment\"\nplatfrom = \"linux/amd64\"\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("unknown field `platfrom`"), "{err}");
        std::fs::write(&path, "[policy]\ndeny_latest = true\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("unknown field `deny_latest`"), "{err}");
    }

    #[test]
    fn custom_resource_rules_reject_unknown_keys_and_bad_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(
            &path,
            "[[custom-resources]]\nkind = \"W\"\nimages = [\"spec.image\"]\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(
            config.custom_resources,
            Some(vec![ResourceRule {
                api_version: None,
                kind: Some("W".into()),
                images: vec!["spec.image".into()],
                not_images: Vec::new(),
            }])
        );
        std::fs::write(&path, "[[custom-resources]]\npaths = [\"a\"]\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("unknown field `paths`"), "{err}");
        std::fs::write(&path, "[[custom-resources]]\nimages = [\"a..b\"]\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: custom-resources: invalid path `a..b`: empty key between dots",
                path.display()
            )
        );
    }

    #[test]
    fn helm_reads_digest_globs_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "[helm]\nreads-digest = [\"charts/web/**\"]\n").unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.helm.reads_digest, Some(vec!["charts/web/**".into()]));
        std::fs::write(&path, "[helm]\nreads-digest = [\"charts/{web\"]\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: helm.reads-digest: error parsing glob 'charts/{{web': unclosed alternate group; missing '}}' (maybe escape '{{' with '[{{]'?)",
                path.display()
            )
        );
    }

    #[test]
    fn layers_merge_field_by_field() {
        let base: Config =
            toml::from_str("jobs = 2\nstyle = \"tag-digest\"\n[policy]\nallow = [\"a\"]\n")
                .unwrap();
        let top: Config = toml::from_str("jobs = 4\n[policy]\ndeny-latest = true\n").unwrap();
        let merged = base.merged(top);
        assert_eq!(merged.jobs, Some(4));
        assert_eq!(merged.style, Some(PinStyle::TagDigest));
        assert_eq!(merged.policy.deny_latest, Some(true));
        assert_eq!(merged.policy.allow, Some(vec!["a".to_string()]));
    }

    #[test]
    fn discovered_by_walking_up() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "jobs = 3\n").unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let (config, sources) = Config::discover(&nested, None).unwrap();
        assert_eq!(config.jobs, Some(3));
        assert_eq!(sources, vec![dir.path().join(FILE_NAME)]);
    }
}
