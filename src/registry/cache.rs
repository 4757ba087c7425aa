//! The on-disk cache of registry answers, read and written by the
//! [`Resolver`](super::Resolver) around its batches.
//!
//! Two kinds of entry, one small JSON file each under `<dir>/v1/`, named by
//! the sha256 of its key (the file holds the key too, so a mismatch is
//! noticed):
//!
//! - `tags/`: what a tag names (digest and media type) when asked at one
//!   manifest URL (registry host after mirroring, repository, tag, without
//!   user information) for the index or for one platform, with the time it
//!   was fetched. Fresh for the TTL (`--cache-ttl`).
//! - `digests/`: a digest the registry served a manifest for, and what it
//!   names (an index, or one platform's manifest) once described. What a
//!   digest names never changes, so that is used for [`DIGEST_TTL`]; whether
//!   the registry still has it can change (registries delete and garbage
//!   collect), so an existence answer is fresh for the TTL, as a tag's is. A
//!   tag's answer is never taken as proof that its digest exists: a proxy
//!   may name a digest it has no manifest for.
//!
//! Offline, every entry is used whatever its age. Entries not written for
//! [`PRUNE_AFTER`] are removed by a run that writes (once a day at most). Nothing else is kept:
//! failures are not cached, and no credential or URL user information is
//! ever written. Each entry is written to a temporary file in its directory
//! and renamed over the old one, so two runs at once each leave whole files
//! (the last rename wins) and no lock is held. An entry that cannot be read
//! or parsed is treated as absent, said in [`Cache::notes`], and replaced
//! by the next answer. Entries are not synced to disk: a file cut short by a
//! crash is just such an unreadable entry.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{Described, Platform, Resolved};

/// Default of `--cache-ttl`: how long a tag's answer is used.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5 * 60);
/// How long what a digest names is used: a digest's content never changes.
pub const DIGEST_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Entries not written for this long are removed (by a run that writes,
/// at most once a day), so the cache does not grow for ever.
pub const PRUNE_AFTER: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// The environment variable that names the cache directory.
pub const CACHE_DIR_ENV: &str = "DIGESTPIN_CACHE_DIR";

/// The layout version: a directory of its own, so a later layout never reads
/// this one's files.
const LAYOUT: &str = "v1";

/// How the resolver uses the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheOptions {
    /// The cache directory (see [`default_dir`]).
    pub dir: PathBuf,
    /// How long a tag's answer (and a digest's existence) is used.
    pub ttl: Duration,
    /// Answer only from the cache, whatever the age; send no request.
    pub offline: bool,
    /// Ask the registry again for what can change (what a tag names,
    /// whether a digest still exists) whatever the age of the cached
    /// answer, and still write the answers: for the commands whose point is
    /// the registry's state now (`update`, `verify`, `resolve`). What a
    /// digest names never changes and is still read. Offline, the cache
    /// answers anyway.
    pub revalidate: bool,
}

/// The cache directory: `$DIGESTPIN_CACHE_DIR`, else `$XDG_CACHE_HOME/digestpin`
/// (an absolute path), else `~/Library/Caches/digestpin` on macOS,
/// `%LOCALAPPDATA%\digestpin` on Windows, `~/.cache/digestpin` elsewhere.
/// `None` when none of these is known.
pub fn default_dir() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var(CACHE_DIR_ENV) {
        return Some(dir);
    }
    if let Some(xdg) = var("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return Some(xdg.join("digestpin"));
    }
    if cfg!(windows) {
        return var("LOCALAPPDATA").map(|d| d.join("digestpin"));
    }
    let home = var("HOME")?;
    if cfg!(target_os = "macos") {
        Some(home.join("Library").join("Caches").join("digestpin"))
    } else {
        Some(home.join(".cache").join("digestpin"))
    }
}

/// Empties the cache directory `dir` (its entries; the directory stays).
/// Returns how many entries were removed.
pub fn clean(dir: &Path) -> std::io::Result<usize> {
    let layout = dir.join(LAYOUT);
    let mut removed = 0;
    for kind in ["tags", "digests"] {
        let entries = match std::fs::read_dir(layout.join(kind)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            match std::fs::remove_file(&path) {
                // Renamed or removed by a run at the same time.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
                Ok(()) => {}
            }
            if path.extension().is_some_and(|e| e == "json") {
                removed += 1;
            }
        }
    }
    match std::fs::remove_dir_all(&layout) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(removed),
    }
}

/// A duration as `--cache-ttl` takes it: `0`, or numbers each followed by a
/// unit `s`, `m`, `h` or `d` (`90s`, `5m`, `1h30m`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration `{text}`: expected e.g. 0, 30s, 5m, 1h30m or 7d");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return Err(invalid()),
        };
        let n: u64 = number.parse().map_err(|_| invalid())?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(invalid)?;
        number.clear();
    }
    if !number.is_empty() || text.is_empty() {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

/// A duration as people read an age: `45s`, `5m 3s`, `2h 1m`, `3d 4h`.
pub fn format_duration(duration: Duration) -> String {
    let s = duration.as_secs();
    let (d, h, m, s) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s == 0 => format!("{m}m"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// What the cache did in a run, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheUse {
    /// Answers served from the cache.
    pub served: usize,
    /// The age of the oldest answer served.
    pub oldest: Option<Duration>,
    /// Entries that could not be read or written, and why (never fatal).
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TagEntry {
    key: String,
    digest: String,
    media_type: String,
    /// Seconds since the Unix epoch.
    fetched: u64,
    /// Checked by GET (`--verify-digest`).
    verified: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct DigestEntry {
    key: String,
    /// When the registry last served a manifest for it.
    fetched: u64,
    /// `index`, or the platform of the manifest; `None` until described.
    names: Option<String>,
}

/// The cache of one run.
pub(super) struct Cache {
    options: CacheOptions,
    verify_digest: bool,
    now: SystemTime,
    used: Mutex<CacheUse>,
}

impl Cache {
    pub(super) fn new(options: CacheOptions, verify_digest: bool) -> Cache {
        Cache {
            options,
            verify_digest,
            now: SystemTime::now(),
            used: Mutex::new(CacheUse::default()),
        }
    }

    pub(super) fn offline(&self) -> bool {
        self.options.offline
    }

    /// Removes entries last written more than [`PRUNE_AFTER`] ago, if no
    /// run did so in the last day (the mtime of `<dir>/v1/pruned` says).
    /// Never fails: what cannot be removed stays.
    pub(super) fn prune_if_due(&self) {
        let layout = self.options.dir.join(LAYOUT);
        let marker = layout.join("pruned");
        let day = Duration::from_secs(24 * 60 * 60);
        let recent = |path: &Path, within: Duration| {
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .is_ok_and(|t| self.now.duration_since(t).unwrap_or_default() < within)
        };
        if recent(&marker, day) || std::fs::write(&marker, b"").is_err() {
            return;
        }
        for kind in ["tags", "digests"] {
            let Ok(entries) = std::fs::read_dir(layout.join(kind)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if !recent(&path, PRUNE_AFTER) {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }

    pub(super) fn usage(&self) -> CacheUse {
        self.used.lock().map(|u| u.clone()).unwrap_or_default()
    }

    /// A tag's answer at manifest URL `key` for `platform` (`None`: as the
    /// tag names it, index or manifest).
    pub(super) fn tag(&self, key: &str, platform: Option<&Platform>) -> Option<Resolved> {
        if self.revalidates() {
            return None;
        }
        let key = tag_key(key, platform);
        let entry: TagEntry = self.read("tags", &key)?;
        if let Err(e) = crate::reference::validate_digest(&entry.digest) {
            self.note(format!(
                "ignored cache entry {}: {e}",
                self.path("tags", &key).display()
            ));
            return None;
        }
        if self.verify_digest && !entry.verified {
            return None;
        }
        self.served(entry.fetched, self.options.ttl)?;
        Some(Resolved {
            digest: entry.digest,
            media_type: entry.media_type,
        })
    }

    pub(super) fn store_tag(&self, key: &str, platform: Option<&Platform>, resolved: &Resolved) {
        let key = tag_key(key, platform);
        let entry = TagEntry {
            digest: resolved.digest.clone(),
            media_type: resolved.media_type.clone(),
            fetched: seconds(self.now),
            verified: self.verify_digest,
            key,
        };
        self.write("tags", &entry.key, &entry);
    }

    /// What the digest at manifest URL `key` names, if described.
    pub(super) fn described(&self, key: &str) -> Option<Described> {
        let entry: DigestEntry = self.read("digests", key)?;
        let described = match entry.names.as_deref()? {
            "index" => Described::Index,
            platform => Described::Manifest(platform.parse().ok()?),
        };
        self.served(entry.fetched, DIGEST_TTL)?;
        Some(described)
    }

    /// Whether the registry served the digest at `key` within the TTL.
    pub(super) fn exists(&self, key: &str) -> Option<bool> {
        if self.revalidates() {
            return None;
        }
        let entry: DigestEntry = self.read("digests", key)?;
        self.served(entry.fetched, self.options.ttl)?;
        Some(true)
    }

    /// Whether answers that can change are asked again ([`CacheOptions::revalidate`]).
    fn revalidates(&self) -> bool {
        self.options.revalidate && !self.options.offline
    }

    /// Records that the digest at `key` exists, and what it names if known
    /// (keeping what an earlier run described).
    pub(super) fn store_digest(&self, key: &str, described: Option<&Described>) {
        let names = match described {
            Some(Described::Index) => Some("index".to_string()),
            Some(Described::Manifest(platform)) => Some(platform.to_string()),
            Some(Described::Missing) => return,
            None => self
                .read_quietly::<DigestEntry>("digests", key)
                .and_then(|e| e.names),
        };
        let entry = DigestEntry {
            key: key.to_string(),
            fetched: seconds(self.now),
            names,
        };
        self.write("digests", key, &entry);
    }

    /// Counts an answer fetched at `fetched` as served if it is fresh for
    /// `ttl` (offline: whatever its age).
    fn served(&self, fetched: u64, ttl: Duration) -> Option<()> {
        let age = Duration::from_secs(seconds(self.now).checked_sub(fetched)?);
        if !self.options.offline && age > ttl {
            return None;
        }
        if let Ok(mut used) = self.used.lock() {
            used.served += 1;
            used.oldest = Some(used.oldest.map_or(age, |o| o.max(age)));
        }
        Some(())
    }

    fn path(&self, kind: &str, key: &str) -> PathBuf {
        let name = format!("{:x}.json", Sha256::digest(key.as_bytes()));
        self.options.dir.join(LAYOUT).join(kind).join(name)
    }

    fn read<T: serde::de::DeserializeOwned + Keyed>(&self, kind: &str, key: &str) -> Option<T> {
        match self.load(kind, key) {
            Ok(entry) => entry,
            Err(note) => {
                self.note(note);
                None
            }
        }
    }

    fn read_quietly<T: serde::de::DeserializeOwned + Keyed>(
        &self,
        kind: &str,
        key: &str,
    ) -> Option<T> {
        self.load(kind, key).ok().flatten()
    }

    fn load<T: serde::de::DeserializeOwned + Keyed>(
        &self,
        kind: &str,
        key: &str,
    ) -> Result<Option<T>, String> {
        let path = self.path(kind, key);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            // One note per cause (a directory that cannot be read fails
            // every entry alike), not one per entry.
            Err(e) => {
                return Err(format!(
                    "cannot read cache entries under {}: {e}",
                    self.options.dir.display()
                ));
            }
        };
        match serde_json::from_slice::<T>(&text) {
            Ok(entry) if entry.key() == key => Ok(Some(entry)),
            Ok(_) => Err(format!(
                "ignored cache entry {}: it is for another key",
                path.display()
            )),
            Err(e) => Err(format!(
                "ignored corrupt cache entry {}: {e}",
                path.display()
            )),
        }
    }

    /// Writes an entry through a temporary file and a rename.
    fn write<T: Serialize>(&self, kind: &str, key: &str, entry: &T) {
        let path = self.path(kind, key);
        if let Err(e) = write_atomically(&path, entry) {
            // One note per cause, not one per entry.
            self.note(format!(
                "cannot write cache entries under {}: {e}",
                self.options.dir.display()
            ));
        }
    }

    fn note(&self, note: String) {
        if let Ok(mut used) = self.used.lock()
            && !used.notes.contains(&note)
        {
            used.notes.push(note);
        }
    }
}

fn write_atomically<T: Serialize>(path: &Path, entry: &T) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::Builder::new()
        .prefix(".entry-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    file.write_all(&serde_json::to_vec(entry)?)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// An entry's own key, checked against the key it was looked up by.
trait Keyed {
    fn key(&self) -> &str;
}

impl Keyed for TagEntry {
    fn key(&self) -> &str {
        &self.key
    }
}

impl Keyed for DigestEntry {
    fn key(&self) -> &str {
        &self.key
    }
}

fn tag_key(url: &str, platform: Option<&Platform>) -> String {
    match platform {
        Some(platform) => format!("{url} platform={platform}"),
        None => format!("{url} index"),
    }
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(dir: &Path, ttl: u64, offline: bool) -> Cache {
        Cache::new(
            CacheOptions {
                dir: dir.to_path_buf(),
                ttl: Duration::from_secs(ttl),
                offline,
                revalidate: false,
            },
            false,
        )
    }

    const URL: &str = "http://127.0.0.1:5000/v2/library/nginx/manifests/1.25";

    fn resolved() -> Resolved {
        Resolved {
            digest: format!("sha256:{}", "a".repeat(64)),
            media_type: super::super::MEDIA_OCI_INDEX.to_string(),
        }
    }

    #[test]
    fn durations_parse_and_print() {
        let secs = |t: &str| parse_duration(t).map(|d| d.as_secs());
        assert_eq!(secs("0"), Ok(0));
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("5m"), Ok(300));
        assert_eq!(secs("1h30m"), Ok(5400));
        assert_eq!(secs("7d"), Ok(604_800));
        for bad in ["", "5", "m", "5x", "-5m", "5m3", "99999999999999999999d"] {
            assert_eq!(
                parse_duration(bad),
                Err(format!(
                    "invalid duration `{bad}`: expected e.g. 0, 30s, 5m, 1h30m or 7d"
                ))
            );
        }
        let shown: Vec<String> = [0, 45, 300, 303, 7260, 273_600]
            .into_iter()
            .map(|s| format_duration(Duration::from_secs(s)))
            .collect();
        assert_eq!(shown, ["0s", "45s", "5m", "5m 3s", "2h 1m", "3d 4h"]);
    }

    #[test]
    fn a_tag_answer_is_fresh_for_the_ttl_and_offline_for_ever() {
        let dir = tempfile::tempdir().unwrap();
        let arm: Platform = "linux/arm64".parse().unwrap();
        let writer = cache(dir.path(), 300, false);
        writer.store_tag(URL, None, &resolved());
        assert_eq!(writer.tag(URL, None), Some(resolved()));
        assert_eq!(writer.tag(URL, Some(&arm)), None);
        // Ten minutes later.
        let mut later = cache(dir.path(), 300, false);
        later.now += Duration::from_secs(600);
        assert_eq!(later.tag(URL, None), None);
        let mut offline = cache(dir.path(), 300, true);
        offline.now += Duration::from_secs(600);
        assert_eq!(offline.tag(URL, None), Some(resolved()));
        assert_eq!(
            offline.usage(),
            CacheUse {
                served: 1,
                oldest: Some(Duration::from_secs(600)),
                notes: vec![],
            }
        );
    }

    #[test]
    fn a_digest_is_described_for_a_week_but_exists_for_the_ttl() {
        let dir = tempfile::tempdir().unwrap();
        let key = "http://127.0.0.1:5000/v2/app/manifests/sha256:00";
        let writer = cache(dir.path(), 300, false);
        let arm = Described::Manifest("linux/arm/v7".parse().unwrap());
        writer.store_digest(key, Some(&arm));
        // An existence answer keeps what was described.
        writer.store_digest(key, None);
        let mut later = cache(dir.path(), 300, false);
        later.now += Duration::from_secs(3600);
        assert_eq!(later.described(key), Some(arm));
        assert_eq!(later.exists(key), None);
        later.now += DIGEST_TTL;
        assert_eq!(later.described(key), None);
        writer.store_digest(key, Some(&Described::Missing));
        assert_eq!(writer.exists(key), Some(true));
    }

    #[test]
    fn a_corrupt_entry_is_absent_and_noted_then_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), 300, false);
        let path = c.path("tags", &tag_key(URL, None));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{\"key\": ").unwrap();
        assert_eq!(c.tag(URL, None), None);
        c.store_tag(URL, None, &resolved());
        assert_eq!(c.tag(URL, None), Some(resolved()));
        assert_eq!(
            c.usage().notes,
            [format!(
                "ignored corrupt cache entry {}: EOF while parsing a value at line 1 column 8",
                path.display()
            )]
        );
    }

    #[test]
    fn an_entry_with_an_invalid_digest_is_never_served() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), 300, false);
        let bad = Resolved {
            digest: "sha256:../../etc".into(),
            media_type: "m".into(),
        };
        c.store_tag(URL, None, &bad);
        assert_eq!(c.tag(URL, None), None);
        let reason = crate::reference::validate_digest(&bad.digest).unwrap_err();
        assert_eq!(
            c.usage().notes,
            [format!(
                "ignored cache entry {}: {reason}",
                c.path("tags", &tag_key(URL, None)).display()
            )]
        );
    }

    #[test]
    fn entries_unwritten_for_a_month_are_pruned_once_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), 300, false);
        c.store_tag(URL, None, &resolved());
        c.store_tag("http://127.0.0.1:5000/v2/a/manifests/v1", None, &resolved());
        // The first entry was written 31 days ago, the second just now.
        let old = c.path("tags", &tag_key(URL, None));
        let month = SystemTime::now() - Duration::from_secs(31 * 24 * 60 * 60);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(month)
            .unwrap();
        let names = || {
            let mut names: Vec<String> = std::fs::read_dir(dir.path().join("v1/tags"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let before = names();
        c.prune_if_due();
        let kept: Vec<String> = before
            .iter()
            .filter(|n| **n != old.file_name().unwrap().to_string_lossy())
            .cloned()
            .collect();
        assert_eq!(names(), kept);
        assert_eq!(kept.len(), 1);
        // Within the day, nothing is looked at again.
        c.store_tag(URL, None, &resolved());
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(month)
            .unwrap();
        c.prune_if_due();
        assert_eq!(names(), before);
    }

    #[test]
    fn clean_removes_every_entry() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), 300, false);
        c.store_tag(URL, None, &resolved());
        c.store_digest("k", Some(&Described::Index));
        assert_eq!(clean(dir.path()).unwrap(), 2);
        assert_eq!(c.tag(URL, None), None);
        assert_eq!(clean(dir.path()).unwrap(), 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
