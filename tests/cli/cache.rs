//! The on-disk cache of registry answers (`--cache-ttl`, `--offline`,
//! `digestpin cache`): requests counted by the proxy of
//! `tests/support/faults.rs` in front of the real test registry, the cache in
//! a temporary directory (`DIGESTPIN_CACHE_DIR`), never the user's.

use crate::support;
use crate::support::cli::{filters, online_command, pod, text};
use crate::support::faults::{Action, Proxy};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Seeds `cache-<name>/web:v1` (an index) and `cache-<name>/db:v2` (one
/// image); a tree with both (`db` twice) and the two digests.
fn tree(name: &str) -> (tempfile::TempDir, String, String) {
    let r = support::plain();
    let (web, db) = (format!("cache-{name}/web"), format!("cache-{name}/db"));
    r.seed_index(&web, "v1", &web);
    r.seed_single(&db, "v2", &db, "amd64");
    let dir = support::cli::files(&[
        ("web.yaml", &pod(&format!("{web}:v1"))),
        ("db.yaml", &pod(&format!("{db}:v2"))),
        ("db-copy.yaml", &pod(&format!("{db}:v2"))),
    ]);
    (dir, r.digest(&web, "v1"), r.digest(&db, "v2"))
}

/// A proxy in front of the test registry that forwards everything and logs it.
fn proxy() -> Proxy {
    Proxy::start(support::plain().port, |_, _| Action::Forward)
}

/// `digestpin args…` in `dir` through `url`, with the cache in `cache` and
/// the default TTL.
fn cached(dir: &Path, url: &str, cache: &Path, args: &[&str]) -> Command {
    let mut command = online_command(dir, url, args);
    command
        .env("DIGESTPIN_CACHE_DIR", cache)
        .env_remove("DIGESTPIN_CACHE_TTL");
    command
}

fn output(command: &mut Command) -> Output {
    command.output().unwrap()
}

/// Exit code, standard output and standard error, for one snapshot.
fn whole(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// The filters of `filters`, and ages and entry names that change from run
/// to run.
fn settings(dirs: &[&Path], digests: &[(&str, &str)]) -> insta::Settings {
    let mut settings = filters(dirs, digests);
    settings.add_filter(r"fetched (\d+[smhd] ?)+ ago", "fetched [AGE] ago");
    settings.add_filter(r"[0-9a-f]{64}\.json", "[ENTRY].json");
    settings
}

/// Every cache entry file under `cache`, sorted.
fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for kind in ["tags", "digests"] {
        if let Ok(dir) = std::fs::read_dir(cache.join("v1").join(kind)) {
            out.extend(dir.map(|e| e.unwrap().path()));
        }
    }
    out.sort();
    out
}

/// Makes every entry `seconds` older.
fn age(cache: &Path, seconds: u64) {
    for path in entries(cache) {
        let mut entry: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let fetched = entry["fetched"].as_u64().unwrap();
        entry["fetched"] = (fetched - seconds).into();
        std::fs::write(&path, serde_json::to_vec(&entry).unwrap()).unwrap();
    }
}

#[test]
fn a_second_pin_diff_within_the_ttl_sends_no_request() {
    let (dir, web, db) = tree("again");
    let cache = tempfile::tempdir().unwrap();
    let proxy = proxy();
    let _filters =
        settings(&[dir.path(), cache.path()], &[(&web, "WEB"), (&db, "DB")]).bind_to_scope();

    let first = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff"],
    ));
    insta::assert_snapshot!("first", whole(&first));
    let sent = proxy.lines().len();
    let mut lines = proxy.lines();
    lines.sort();
    assert_eq!(
        lines,
        [
            "HEAD /v2/cache-again/db/manifests/v2",
            "HEAD /v2/cache-again/web/manifests/v1",
        ],
    );
    // Two tag answers, nothing else.
    assert_eq!(entries(cache.path()).len(), 2);

    let second = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff"],
    ));
    assert_eq!(proxy.lines().len(), sent, "{:?}", proxy.lines());
    assert_eq!(text(&second.stdout), text(&first.stdout));
    insta::assert_snapshot!("second", whole(&second));

    let json = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff", "--format", "json"],
    ));
    assert_eq!(proxy.lines().len(), sent);
    insta::assert_snapshot!("json", text(&json.stdout));
    support::schema::validate(&support::schema::json_schema(), &json.stdout);

    // `--cache-ttl 0` asks again, and reads and writes nothing.
    let before = entries(cache.path())
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect::<Vec<_>>();
    let off = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff", "--cache-ttl", "0"],
    ));
    assert_eq!(whole(&off), whole(&first));
    assert_eq!(proxy.lines().len(), 2 * sent);
    let after = entries(cache.path())
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect::<Vec<_>>();
    assert_eq!(after, before);

    // So does `cache-ttl = "0"` in .digestpin.toml.
    support::cli::write(&dir.path().join(".digestpin.toml"), "cache-ttl = \"0\"\n");
    let off = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff"],
    ));
    assert_eq!(whole(&off), whole(&first));
    assert_eq!(proxy.lines().len(), 3 * sent);
}

#[test]
fn an_answer_older_than_the_ttl_is_asked_again() {
    let (dir, web, db) = tree("stale");
    let cache = tempfile::tempdir().unwrap();
    let proxy = proxy();
    let _filters =
        settings(&[dir.path(), cache.path()], &[(&web, "WEB"), (&db, "DB")]).bind_to_scope();
    let first = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff"],
    ));
    let sent = proxy.lines().len();
    // Six minutes later: past the default five.
    age(cache.path(), 360);
    let again = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff"],
    ));
    assert_eq!(whole(&again), whole(&first));
    assert_eq!(proxy.lines().len(), 2 * sent);
    // A longer TTL takes them from the cache.
    age(cache.path(), 360);
    let long = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff", "--cache-ttl", "1h"],
    ));
    assert_eq!(proxy.lines().len(), 2 * sent);
    insta::assert_snapshot!(text(&long.stderr), @r"
    db-copy.yaml:5:14: would pin cache-stale/db:v2 to [DB]
    db.yaml:5:14: would pin cache-stale/db:v2 to [DB]
    web.yaml:5:14: would pin cache-stale/web:v1 to [WEB]
    3 references in 3 files: 3 to pin, 0 already pinned, 0 skipped, 0 failed; 3 files would change
    2 answers from the cache, the oldest fetched [AGE] ago
    ");
}

#[test]
fn offline_with_an_empty_cache_fails_per_reference() {
    let (dir, _, _) = tree("empty");
    let cache = tempfile::tempdir().unwrap();
    let _filters = settings(&[dir.path(), cache.path()], &[]).bind_to_scope();
    // Nothing listens there: offline sends nothing anyway.
    let out = output(&mut cached(
        dir.path(),
        "http://127.0.0.1:9",
        cache.path(),
        &["pin", "--offline"],
    ));
    insta::assert_snapshot!(whole(&out));
    assert_eq!(entries(cache.path()), Vec::<PathBuf>::new());

    let out = output(&mut cached(
        dir.path(),
        "http://127.0.0.1:9",
        cache.path(),
        &["pin", "--offline", "--cache-ttl", "0"],
    ));
    assert_eq!(
        whole(&out),
        "exit: Some(2)\n--- stdout\n--- stderr\n\
         digestpin: error: --offline answers from the cache, which a cache-ttl of 0 turns off\n"
    );
}

#[test]
fn offline_with_a_warm_cache_needs_no_registry() {
    let (dir, web, db) = tree("warm");
    let cache = tempfile::tempdir().unwrap();
    let proxy = proxy();
    let url = proxy.url();
    let _filters =
        settings(&[dir.path(), cache.path()], &[(&web, "WEB"), (&db, "DB")]).bind_to_scope();
    let warm = output(&mut cached(
        dir.path(),
        &url,
        cache.path(),
        &["pin", "--diff"],
    ));
    assert_eq!(warm.status.code(), Some(0), "{}", whole(&warm));
    // The registry goes away; answers a day old are still used offline.
    drop(proxy);
    age(cache.path(), 86_400);

    let pinned = output(&mut cached(
        dir.path(),
        &url,
        cache.path(),
        &["pin", "--offline"],
    ));
    insta::assert_snapshot!("pin", whole(&pinned));
    assert_eq!(
        support::cli::read(&dir.path().join("web.yaml")),
        pod(&format!("cache-warm/web@{web} # v1"))
    );

    let reference = "cache-warm/db:v2";
    let resolved = output(&mut cached(
        dir.path(),
        &url,
        cache.path(),
        &[
            "resolve",
            "--offline",
            "--format",
            "json",
            reference,
            "cache-warm/gone:v1",
        ],
    ));
    insta::assert_snapshot!("resolve", whole(&resolved));

    // verify needs the digests' existence, which pin never records.
    let verified = output(&mut cached(
        dir.path(),
        &url,
        cache.path(),
        &["verify", "--offline"],
    ));
    insta::assert_snapshot!("verify", whole(&verified));
    // One online verify records it; then verify works offline too. Online,
    // verify asks the registry again each time, whatever the cache holds:
    // its point is whether a tag moved or a digest went since.
    let proxy = Proxy::start(support::plain().port, |_, _| Action::Forward);
    let url = proxy.url();
    let online = output(&mut cached(dir.path(), &url, cache.path(), &["verify"]));
    assert_eq!(online.status.code(), Some(0), "{}", whole(&online));
    let mut first = proxy.lines();
    let again = output(&mut cached(dir.path(), &url, cache.path(), &["verify"]));
    assert_eq!(whole(&again), whole(&online));
    let mut second = proxy.lines().split_off(first.len());
    first.sort();
    second.sort();
    assert_eq!(second, first);
    drop(proxy);
    let again = output(&mut cached(
        dir.path(),
        &url,
        cache.path(),
        &["verify", "--offline"],
    ));
    insta::assert_snapshot!("verify-again", whole(&again));
}

#[test]
fn cache_clean_empties_it_and_cache_dir_names_it() {
    let (dir, web, db) = tree("clean");
    let cache = tempfile::tempdir().unwrap();
    let proxy = proxy();
    let _filters =
        settings(&[dir.path(), cache.path()], &[(&web, "WEB"), (&db, "DB")]).bind_to_scope();
    let warm = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff"],
    ));
    assert_eq!(warm.status.code(), Some(0), "{}", whole(&warm));
    let cache_command = |args: &[&str]| {
        let mut command = support::digestpin();
        command
            .current_dir(dir.path())
            .env("DIGESTPIN_CACHE_DIR", cache.path())
            .args(args);
        whole(&output(&mut command))
    };
    assert_eq!(
        cache_command(&["cache", "dir"]),
        format!(
            "exit: Some(0)\n--- stdout\n{}\n--- stderr\n",
            cache.path().display()
        )
    );
    insta::assert_snapshot!("clean", cache_command(&["cache", "clean"]));
    assert_eq!(entries(cache.path()), Vec::<PathBuf>::new());
    insta::assert_snapshot!("clean-again", cache_command(&["cache", "clean"]));
    assert_eq!(
        cache_command(&["cache", "clean", "-q"]),
        "exit: Some(0)\n--- stdout\n--- stderr\n"
    );
    let out = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--offline", "--diff"],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", whole(&out));
    assert_eq!(
        cache_command(&["cache", "clean", "--format", "json"]),
        "exit: Some(2)\n--- stdout\n--- stderr\n\
         digestpin: error: `digestpin cache` prints for people: use --format human\n"
    );
}

#[test]
fn concurrent_runs_leave_a_valid_cache() {
    let r = support::plain();
    let images: Vec<(String, String)> = (0..8)
        .map(|i| (format!("cache-race/app{i}"), "v1".to_string()))
        .collect();
    r.seed_many(&images);
    let files: Vec<(String, String)> = images
        .iter()
        .map(|(repo, tag)| {
            (
                format!("{}.yaml", repo.replace('/', "-")),
                pod(&format!("{repo}:{tag}")),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = support::cli::files(&files);
    let cache = tempfile::tempdir().unwrap();
    let proxy = proxy();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            cached(dir.path(), &proxy.url(), cache.path(), &["pin", "--diff"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = runs
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outs {
        assert_eq!(out.status.code(), Some(0), "{}", whole(out));
        assert_eq!(text(&out.stdout), text(&outs[0].stdout));
    }
    // Whole entries, one per tag, no temporary file left, and enough for an
    // offline run with the same diff.
    let names: Vec<String> = std::fs::read_dir(cache.path().join("v1/tags"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 8, "{names:?}");
    assert!(
        names.iter().all(|n| n.len() == 69 && n.ends_with(".json")),
        "{names:?}"
    );
    let offline = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff", "--offline"],
    ));
    assert_eq!(offline.status.code(), Some(0), "{}", whole(&offline));
    assert_eq!(text(&offline.stdout), text(&outs[0].stdout));
}

#[test]
fn a_corrupt_cache_entry_is_ignored_and_replaced() {
    let (dir, web, db) = tree("corrupt");
    let cache = tempfile::tempdir().unwrap();
    let proxy = proxy();
    let _filters =
        settings(&[dir.path(), cache.path()], &[(&web, "WEB"), (&db, "DB")]).bind_to_scope();
    let first = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff"],
    ));
    let sent = proxy.lines().len();
    // The web entry cut short, the db entry not JSON at all.
    for path in entries(cache.path()) {
        let entry = std::fs::read(&path).unwrap();
        if text(&entry).contains("/cache-corrupt/web/") {
            std::fs::write(&path, &entry[..20]).unwrap();
        } else {
            std::fs::write(&path, b"\x00\xffnot json").unwrap();
        }
    }
    let out = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff"],
    ));
    assert_eq!(text(&out.stdout), text(&first.stdout));
    assert_eq!(proxy.lines().len(), 2 * sent);
    insta::assert_snapshot!(whole(&out));
    // Both were written again.
    let out = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff"],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", whole(&out));
    assert_eq!(proxy.lines().len(), 2 * sent);
}

#[test]
fn only_the_answers_missing_from_the_cache_are_asked_for() {
    let (dir, web, db) = tree("partial");
    let r = support::plain();
    r.seed_single("cache-partial/web", "v3", "cache-partial/web:v3", "arm64");
    let v3 = r.digest("cache-partial/web", "v3");
    let cache = tempfile::tempdir().unwrap();
    let proxy = proxy();
    let _filters = settings(
        &[dir.path(), cache.path()],
        &[(&web, "WEB"), (&db, "DB"), (&v3, "V3")],
    )
    .bind_to_scope();
    let warm = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--diff"],
    ));
    assert_eq!(warm.status.code(), Some(0), "{}", whole(&warm));
    let sent = proxy.lines().len();

    support::cli::write(&dir.path().join("new.yaml"), &pod("cache-partial/web:v3"));
    let out = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["pin", "--format", "json"],
    ));
    assert_eq!(
        proxy.lines()[sent..],
        ["HEAD /v2/cache-partial/web/manifests/v3"]
    );
    support::schema::validate(&support::schema::json_schema(), &out.stdout);
    let sent = proxy.lines().len();

    // `update` asks for every tag again, whatever the cache holds: its
    // point is what the tags name now.
    let update = output(&mut cached(
        dir.path(),
        &proxy.url(),
        cache.path(),
        &["update", "--check"],
    ));
    let mut asked = proxy.lines().split_off(sent);
    asked.sort();
    assert_eq!(
        asked,
        [
            "HEAD /v2/cache-partial/db/manifests/v2",
            "HEAD /v2/cache-partial/web/manifests/v1",
            "HEAD /v2/cache-partial/web/manifests/v3",
        ]
    );
    insta::assert_snapshot!("update", whole(&update));
    insta::assert_snapshot!("partial-json", whole(&out));
}

#[test]
fn the_cache_directory_follows_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let cache_dir = |env: &[(&str, &Path)]| {
        let mut command = support::digestpin();
        command
            .current_dir(dir.path())
            .args(["cache", "dir"])
            .env_remove("HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("LOCALAPPDATA");
        for (key, value) in env {
            command.env(key, value);
        }
        whole(&output(&mut command))
    };
    let printed = |path: PathBuf| {
        format!(
            "exit: Some(0)\n--- stdout\n{}\n--- stderr\n",
            path.display()
        )
    };
    let xdg = dir.path().join("xdg");
    let own = dir.path().join("own");
    let usual = if cfg!(target_os = "macos") {
        home.join("Library/Caches/digestpin")
    } else {
        home.join(".cache/digestpin")
    };
    assert_eq!(cache_dir(&[("HOME", &home)]), printed(usual.clone()));
    assert_eq!(
        cache_dir(&[("HOME", &home), ("XDG_CACHE_HOME", &xdg)]),
        printed(xdg.join("digestpin"))
    );
    // A relative XDG_CACHE_HOME is ignored, as the XDG spec says.
    assert_eq!(
        cache_dir(&[("HOME", &home), ("XDG_CACHE_HOME", Path::new("rel"))]),
        printed(usual)
    );
    assert_eq!(
        cache_dir(&[
            ("HOME", &home),
            ("XDG_CACHE_HOME", &xdg),
            ("DIGESTPIN_CACHE_DIR", &own)
        ]),
        printed(own.clone())
    );
    assert_eq!(
        cache_dir(&[]),
        "exit: Some(2)\n--- stdout\n--- stderr\n\
         digestpin: error: no cache directory: set DIGESTPIN_CACHE_DIR, XDG_CACHE_HOME or HOME\n"
    );
    // Nothing was created by asking.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // Without a directory, a run resolves without the cache and says so;
    // offline it cannot.
    let r = support::plain();
    r.seed_single("cache-nodir/app", "v1", "cache-nodir/app", "amd64");
    let files = support::cli::files(&[("app.yaml", &pod("cache-nodir/app:v1"))]);
    let run = |offline: bool| {
        let mut command = online_command(files.path(), &r.url(), &["pin", "--diff"]);
        command
            .env_remove("DIGESTPIN_CACHE_TTL")
            .env_remove("HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("LOCALAPPDATA");
        if offline {
            command.arg("--offline");
        }
        output(&mut command)
    };
    let digest = r.digest("cache-nodir/app", "v1");
    let _filters = settings(&[files.path()], &[(&digest, "APP")]).bind_to_scope();
    insta::assert_snapshot!("no-dir", text(&run(false).stderr));
    assert_eq!(
        whole(&run(true)),
        "exit: Some(2)\n--- stdout\n--- stderr\n\
         digestpin: error: --offline: no cache directory (set DIGESTPIN_CACHE_DIR, XDG_CACHE_HOME or HOME)\n"
    );
}

/// A cache directory that cannot be used is one note per cause, not one per
/// entry, and never a failure.
#[test]
fn an_unusable_cache_is_one_note_per_cause() {
    let (dir, web, db) = tree("unusable");
    let not_a_dir = tempfile::NamedTempFile::new().unwrap();
    let proxy = proxy();
    let _filters = settings(
        &[dir.path(), not_a_dir.path()],
        &[(&web, "WEB"), (&db, "DB")],
    )
    .bind_to_scope();
    let out = output(&mut cached(
        dir.path(),
        &proxy.url(),
        not_a_dir.path(),
        &["pin", "--check"],
    ));
    insta::assert_snapshot!(whole(&out));
}
