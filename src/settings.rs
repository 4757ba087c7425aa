//! The settings in force: one typed value made once from the defaults
//! ([`Config::defaults`], the one place they are written), the configuration
//! files and the command-line flags, with platform and mirrors parsed.
//!
//! The binary reads nothing else; `config --show` prints it with the layer
//! each value came from ([`Settings::source`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, HelmStyle};
use crate::detect::rules::ResourceRule;
use crate::edit::PinStyle;
use crate::registry::{Mirror, MirrorError, Platform, PlatformError};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// A configuration file.
    File(PathBuf),
    /// An environment variable (`DIGESTPIN_CACHE_TTL`, the only one read).
    Environment(&'static str),
    /// A command-line flag.
    Flag,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("the default"),
            Source::File(path) => write!(f, "from {}", path.display()),
            Source::Environment(variable) => write!(f, "from {variable}"),
            Source::Flag => f.write_str("from a flag"),
        }
    }
}

/// The environment variable that sets `cache-ttl`, between the files and
/// the flags.
pub const CACHE_TTL_VARIABLE: &str = "DIGESTPIN_CACHE_TTL";

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid platform in the configuration: {0}")]
    Platform(PlatformError),
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error("cache-ttl ({from}): {problem}")]
    CacheTtl { problem: String, from: String },
    #[error("{key} ({from}): must be at least 1, not 0")]
    Zero { key: &'static str, from: String },
}

/// Every setting, typed.
#[derive(Debug, Clone)]
pub struct Settings {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub style: PinStyle,
    pub platform: Option<Platform>,
    /// Concurrent requests per registry (at least 1).
    pub jobs: usize,
    /// Timeout of one request (at least a second).
    pub timeout: Duration,
    pub retries: u32,
    pub ca_file: Option<PathBuf>,
    pub mirrors: Vec<Mirror>,
    pub verify_digest: bool,
    /// How long a tag's answer is used from the cache; zero: no cache.
    pub cache_ttl: Duration,
    pub deny_latest: bool,
    pub allow: Vec<String>,
    pub custom_resources: Vec<ResourceRule>,
    pub helm_style: HelmStyle,
    /// `helm.reads-digest`: globs of the values files whose charts read a
    /// `digest` key their image maps lack.
    pub helm_reads_digest: Vec<String>,
    /// The merged layers, defaults included, as they are written in a file.
    merged: Config,
    /// The layers, lowest first, for [`Settings::source`].
    layers: Vec<(Source, Config)>,
}

impl Settings {
    /// The defaults, then each file (lowest precedence first), then the
    /// environment (`environment`, see [`Config::from_environment`]), then
    /// the flags.
    pub fn resolve(
        files: &[(PathBuf, Config)],
        environment: Config,
        flags: Config,
    ) -> Result<Settings, SettingsError> {
        let mut layers = vec![(Source::Default, Config::defaults())];
        for (path, config) in files {
            layers.push((Source::File(path.clone()), config.clone()));
        }
        layers.push((Source::Environment(CACHE_TTL_VARIABLE), environment));
        layers.push((Source::Flag, flags));
        let merged = layers.iter().fold(Config::default(), |acc, (_, layer)| {
            acc.merged(layer.clone())
        });
        let defaults = Config::defaults();
        // Where the value in force of `key` comes from, for errors.
        let from = |key: &str| {
            layers
                .iter()
                .rev()
                .find(|(_, layer)| is_set(layer, key))
                .map_or_else(String::new, |(source, _)| source.to_string())
        };
        for (key, zero) in [
            ("jobs", merged.jobs == Some(0)),
            ("timeout", merged.timeout == Some(0)),
        ] {
            if zero {
                return Err(SettingsError::Zero {
                    key,
                    from: from(key),
                });
            }
        }
        let platform = merged
            .platform
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(SettingsError::Platform)?;
        let mirrors = merged
            .mirrors
            .iter()
            .flatten()
            .map(|m| m.parse::<Mirror>())
            .collect::<Result<Vec<_>, _>>()?;
        let cache_ttl = match &merged.cache_ttl {
            Some(text) => crate::registry::cache::parse_duration(text).map_err(|problem| {
                SettingsError::CacheTtl {
                    problem,
                    from: from("cache-ttl"),
                }
            })?,
            None => crate::registry::cache::DEFAULT_CACHE_TTL,
        };
        // Every field is set in the defaults; `or(defaults)` only keeps the
        // types honest.
        Ok(Settings {
            include: merged.include.clone().unwrap_or_default(),
            exclude: merged.exclude.clone().unwrap_or_default(),
            style: merged.style.unwrap_or_default(),
            platform,
            jobs: merged.jobs.or(defaults.jobs).unwrap_or(1),
            timeout: Duration::from_secs(merged.timeout.or(defaults.timeout).unwrap_or(1)),
            retries: merged.retries.or(defaults.retries).unwrap_or_default(),
            ca_file: merged.ca_file.clone(),
            mirrors,
            verify_digest: merged.verify_digest.unwrap_or_default(),
            cache_ttl,
            deny_latest: merged.policy.deny_latest.unwrap_or_default(),
            allow: merged.policy.allow.clone().unwrap_or_default(),
            custom_resources: merged.custom_resources.clone().unwrap_or_default(),
            helm_style: merged
                .helm
                .style
                .or(defaults.helm.style)
                .unwrap_or(HelmStyle::Auto),
            helm_reads_digest: merged.helm.reads_digest.clone().unwrap_or_default(),
            merged,
            layers,
        })
    }

    /// The settings as one configuration layer, as `config --show` prints
    /// it: a mirror URL's password is never shown.
    pub fn shown(&self) -> Config {
        let mut config = self.merged.clone();
        if let Some(mirrors) = config.mirrors.as_mut() {
            for mirror in mirrors.iter_mut() {
                *mirror = crate::registry::redact_mirror(mirror);
            }
        }
        config
    }

    /// The configuration files read, lowest precedence first.
    pub fn files(&self) -> impl Iterator<Item = &std::path::Path> {
        self.layers.iter().filter_map(|(source, _)| match source {
            Source::File(path) => Some(path.as_path()),
            _ => None,
        })
    }

    /// The layer the value of `key` (as written in a file: `jobs`,
    /// `policy.allow`, `helm.style`) came from.
    pub fn source(&self, key: &str) -> Option<&Source> {
        self.layers
            .iter()
            .rev()
            .find(|(_, layer)| is_set(layer, key))
            .map(|(source, _)| source)
    }
}

/// Whether `layer` sets `key`.
fn is_set(layer: &Config, key: &str) -> bool {
    match key {
        "include" => layer.include.is_some(),
        "exclude" => layer.exclude.is_some(),
        "style" => layer.style.is_some(),
        "platform" => layer.platform.is_some(),
        "jobs" => layer.jobs.is_some(),
        "timeout" => layer.timeout.is_some(),
        "retries" => layer.retries.is_some(),
        "ca-file" => layer.ca_file.is_some(),
        "mirrors" => layer.mirrors.is_some(),
        "verify-digest" => layer.verify_digest.is_some(),
        "cache-ttl" => layer.cache_ttl.is_some(),
        "policy.deny-latest" => layer.policy.deny_latest.is_some(),
        "policy.allow" => layer.policy.allow.is_some(),
        "custom-resources" => layer.custom_resources.is_some(),
        "helm.style" => layer.helm.style.is_some(),
        "helm.reads-digest" => layer.helm.reads_digest.is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_over_files_over_defaults_with_sources() {
        let file = Config {
            jobs: Some(3),
            timeout: Some(5),
            platform: Some("linux/arm64".into()),
            ..Config::default()
        };
        let flags = Config {
            jobs: Some(2),
            mirrors: Some(vec!["docker.io=http://127.0.0.1:5000".into()]),
            ..Config::default()
        };
        let settings =
            Settings::resolve(&[(PathBuf::from("a.toml"), file)], Config::default(), flags)
                .unwrap();
        assert_eq!(settings.jobs, 2);
        assert_eq!(settings.timeout, Duration::from_secs(5));
        assert_eq!(settings.retries, 4);
        assert_eq!(settings.style, PinStyle::Comment);
        assert_eq!(
            settings.platform.as_ref().unwrap().to_string(),
            "linux/arm64"
        );
        assert_eq!(settings.mirrors.len(), 1);
        assert_eq!(settings.mirrors[0].host, "docker.io");
        assert_eq!(settings.source("jobs"), Some(&Source::Flag));
        assert_eq!(
            settings.source("timeout"),
            Some(&Source::File(PathBuf::from("a.toml")))
        );
        assert_eq!(settings.source("retries"), Some(&Source::Default));
        assert_eq!(settings.source("ca-file"), None);
    }

    #[test]
    fn cache_ttl_is_a_duration_from_the_layers() {
        let settings = Settings::resolve(&[], Config::default(), Config::default()).unwrap();
        assert_eq!(settings.cache_ttl, Duration::from_secs(300));
        let file = Config {
            cache_ttl: Some("1h30m".into()),
            ..Config::default()
        };
        let settings = Settings::resolve(
            &[(PathBuf::from("a.toml"), file)],
            Config::default(),
            Config::default(),
        );
        assert_eq!(settings.unwrap().cache_ttl, Duration::from_secs(5400));
        let flags = Config {
            cache_ttl: Some("5 minutes".into()),
            ..Config::default()
        };
        let err = Settings::resolve(&[], Config::default(), flags)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cache-ttl (from a flag): invalid duration `5 minutes`: expected e.g. 0, 30s, 5m, 1h30m or 7d"
        );
    }

    #[test]
    fn the_environment_sits_between_the_files_and_the_flags() {
        let file = Config {
            cache_ttl: Some("7d".into()),
            ..Config::default()
        };
        let environment = Config {
            cache_ttl: Some("0".into()),
            ..Config::default()
        };
        let files = [(PathBuf::from("a.toml"), file)];
        let settings = Settings::resolve(&files, environment.clone(), Config::default()).unwrap();
        assert_eq!(settings.cache_ttl, Duration::ZERO);
        assert_eq!(
            settings.source("cache-ttl"),
            Some(&Source::Environment("DIGESTPIN_CACHE_TTL"))
        );
        let flags = Config {
            cache_ttl: Some("1h".into()),
            ..Config::default()
        };
        let settings = Settings::resolve(&files, environment, flags).unwrap();
        assert_eq!(settings.cache_ttl, Duration::from_secs(3600));
        assert_eq!(settings.source("cache-ttl"), Some(&Source::Flag));
    }

    #[test]
    fn zero_jobs_or_timeout_is_refused_wherever_it_is_set() {
        let zero_jobs = Config {
            jobs: Some(0),
            ..Config::default()
        };
        let zero_timeout = Config {
            timeout: Some(0),
            ..Config::default()
        };
        let errors = [
            Settings::resolve(&[], Config::default(), zero_jobs.clone()),
            Settings::resolve(
                &[(PathBuf::from("a.toml"), zero_jobs)],
                Config::default(),
                Config::default(),
            ),
            Settings::resolve(&[], Config::default(), zero_timeout),
        ]
        .map(|result| result.unwrap_err().to_string());
        assert_eq!(
            errors,
            [
                "jobs (from a flag): must be at least 1, not 0",
                "jobs (from a.toml): must be at least 1, not 0",
                "timeout (from a flag): must be at least 1, not 0",
            ]
        );
    }

    #[test]
    fn a_bad_platform_is_named() {
        let flags = Config {
            platform: Some("linux".into()),
            ..Config::default()
        };
        let err = Settings::resolve(&[], Config::default(), flags).unwrap_err();
        assert!(matches!(err, SettingsError::Platform(_)), "{err}");
    }
}
