//! The Action's release download (`binary` in `scripts/action.sh`), without
//! GitHub: release archives are served from a loopback HTTP server (the
//! `DIGESTPIN_RELEASE_URL` the action reads), the action is a checkout with
//! its own `Cargo.toml` version (9.8.7) and checksum table
//! (`action/checksums/v9.8.7.sha256`), and the script runs with a runner's
//! environment in check mode over a workspace whose one reference is pinned
//! already (so no registry is needed).
//!
//! The archive holds a `digestpin` that logs its arguments, then runs the
//! binary under test: the log tells which binary ran. What is covered: a good
//! archive is the binary that runs; an archive whose SHA-256 disagrees with
//! the action's table or the release's SHA256SUMS is refused before it runs;
//! a missing archive, or a version without a table, falls back to building
//! the action's source. The fallback runs `$CARGO build …` (CARGO picks the
//! cargo, for real users as for this test): here CARGO is a stand-in that
//! logs its arguments and puts a logging `digestpin` where cargo would, so
//! the test checks the command and that its result is what runs, not cargo
//! itself (tests/precommit.rs builds the source with the real cargo).

use crate::support::cli::text;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const VERSION: &str = "9.8.7";
/// A pinned reference: `check` and `pin --diff` have nothing to do offline.
const DEPLOY: &str = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: nginx@sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac # 1.25\n";

/// A file server on 127.0.0.1 for `root`: GET of a path under it answers its
/// bytes, anything else 404. It records each path asked for, and stops when
/// dropped.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(root: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (root, seen, stopped) = (root.to_path_buf(), requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(&root, stream, &seen);
                }
            }
        });
        Server {
            url,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees `stop`.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

/// Answers one request on `stream` (one request per connection).
fn serve(root: &Path, stream: TcpStream, seen: &Mutex<Vec<String>>) {
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split(' ').nth(1).unwrap_or("").to_string();
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    seen.lock().unwrap().push(path.clone());
    let file = root.join(path.trim_start_matches('/'));
    let safe = !path.contains("..") && line.starts_with("GET ");
    let (status, body) = match std::fs::read(&file) {
        Ok(bytes) if safe && file.is_file() => ("200 OK", bytes),
        _ => ("404 Not Found", b"not found\n".to_vec()),
    };
    let mut stream = reader.into_inner();
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// The release target `scripts/action.sh` picks on this machine.
fn target() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-musl",
        ("linux", "aarch64") => "aarch64-unknown-linux-musl",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        ("macos", "aarch64") => "aarch64-apple-darwin",
        other => panic!("no release target for {other:?}"),
    }
}

fn archive_name() -> String {
    format!("digestpin-{VERSION}-{}.tar.gz", target())
}

fn sha256(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(std::fs::read(path).unwrap()))
}

/// An executable `digestpin` at `path` that appends `<marker> <args>` to
/// `log`, then runs the binary under test.
fn logging_digestpin(path: &Path, marker: &str, log: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        format!(
            "#!/bin/sh\necho \"{marker} $*\" >>'{}'\nexec '{}' \"$@\"\n",
            log.display(),
            env!("CARGO_BIN_EXE_digestpin")
        ),
    )
    .unwrap();
    make_executable(path);
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A release archive at `out` as the release workflow packs it: a
/// `digestpin-<version>-<target>/` directory holding `digestpin`.
fn pack(out: &Path, marker: &str, log: &Path) {
    let staging = tempfile::tempdir().unwrap();
    let dir = format!("digestpin-{VERSION}-{}", target());
    logging_digestpin(&staging.path().join(&dir).join("digestpin"), marker, log);
    let tar = Command::new("tar")
        .current_dir(staging.path())
        .arg("-czf")
        .arg(out)
        .arg(&dir)
        .output()
        .unwrap();
    assert!(tar.status.success(), "{}", text(&tar.stderr));
}

/// Everything one run needs: the action checkout, the served release
/// directory, the workspace and the log the binaries write.
struct Setup {
    dir: tempfile::TempDir,
    action: PathBuf,
    release: PathBuf,
    work: PathBuf,
    log: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let action = dir.path().join("action");
        std::fs::create_dir_all(action.join("action/checksums")).unwrap();
        std::fs::write(
            action.join("Cargo.toml"),
            format!("[package]\nname = \"digestpin\"\nversion = \"{VERSION}\"\n\n[dependencies]\nversion = \"1\"\n"),
        )
        .unwrap();
        let release = dir.path().join("release").join(format!("v{VERSION}"));
        std::fs::create_dir_all(&release).unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(work.join("deploy.yaml"), DEPLOY).unwrap();
        let log = dir.path().join("ran.log");
        Setup {
            dir,
            action,
            release,
            work,
            log,
        }
    }

    /// Packs the good archive into the release; returns its path.
    fn good_archive(&self) -> PathBuf {
        let archive = self.release.join(archive_name());
        pack(&archive, "release", &self.log);
        archive
    }

    /// Writes `sums` (sha256sum's format) as the release's SHA256SUMS and,
    /// with `table`, as the action's table for the version.
    fn sums(&self, release: &str, table: &str) {
        std::fs::write(self.release.join("SHA256SUMS"), release).unwrap();
        std::fs::write(
            self.action
                .join(format!("action/checksums/v{VERSION}.sha256")),
            table,
        )
        .unwrap();
    }

    /// The action's script with a runner's environment, downloading from
    /// `server`, with `env` on top.
    fn run(&self, server: &Server, env: &[(&str, &str)]) -> (Output, String) {
        let summary = self.dir.path().join("step_summary");
        std::fs::write(&summary, "").unwrap();
        let out = Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action.sh"))
            .current_dir(&self.work)
            .env_remove("DIGESTPIN_BIN")
            .env_remove("CARGO_TARGET_DIR")
            .env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_OUTPUT", self.dir.path().join("github_output"))
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_WORKSPACE", &self.work)
            .env("INPUT_MODE", "check")
            .env("INPUT_PATHS", ".")
            .env("INPUT_CHANGED_ONLY", "false")
            .env("INPUT_TOKEN", "")
            .env("DIGESTPIN_ACTION_PATH", &self.action)
            .env("DIGESTPIN_RELEASE_URL", &server.url)
            .env("DIGESTPIN_LOOPBACK_ONLY", "1")
            .env("CARGO", self.dir.path().join("no-cargo"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (out, std::fs::read_to_string(summary).unwrap())
    }

    fn ran(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `text` with this run's temporary directory and server port named.
    fn named(&self, server: &Server, text: &str) -> String {
        text.replace(&server.url, "http://SERVER")
            .replace(&self.dir.path().display().to_string(), "TMP")
    }

    /// A stand-in for cargo at `TMP/cargo`: it logs its arguments and, as
    /// `cargo build --release` would, puts a `digestpin` (logging `built`)
    /// in `$CARGO_TARGET_DIR/release/`.
    fn cargo(&self) -> PathBuf {
        let cargo = self.dir.path().join("cargo");
        let built = self.dir.path().join("built-digestpin");
        logging_digestpin(&built, "built", &self.log);
        std::fs::write(
            &cargo,
            format!(
                "#!/bin/sh\necho \"cargo $*\" >>'{}'\nmkdir -p \"$CARGO_TARGET_DIR/release\"\ncp '{}' \"$CARGO_TARGET_DIR/release/digestpin\"\n",
                self.log.display(),
                built.display()
            ),
        )
        .unwrap();
        make_executable(&cargo);
        cargo
    }
}

/// The summary of a check over `DEPLOY`, after `before`.
fn summary_after(before: &str) -> String {
    format!(
        "{before}## digestpin\n\nReferences not pinned by digest fail this check; the diff below pins them (`digestpin pin`).\n\nScanned: every path given (`paths`).\n\n1 reference in 1 file: 0 to pin, 1 already pinned, 0 skipped, 0 failed.\n\n"
    )
}

#[test]
fn a_release_archive_matching_both_checksums_is_the_binary_that_runs() {
    let setup = Setup::new();
    let archive = setup.good_archive();
    let line = format!("{}  {}\n", sha256(&archive), archive_name());
    setup.sums(&line, &line);
    let server = Server::start(&setup.dir.path().join("release"));
    let (out, summary) = setup.run(&server, &[]);
    assert_eq!(
        (
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr),
            summary
        ),
        (Some(0), String::new(), String::new(), summary_after(""))
    );
    assert_eq!(
        setup.ran(),
        "release --format github check -- .\nrelease --format json pin --diff -- .\n"
    );
    assert_eq!(
        server.requests(),
        [
            format!("/v{VERSION}/{}", archive_name()),
            format!("/v{VERSION}/SHA256SUMS")
        ]
    );
}

#[test]
fn a_tampered_archive_is_refused_before_it_runs() {
    let setup = Setup::new();
    let archive = setup.good_archive();
    let good = sha256(&archive);
    // The release now serves another archive, and a SHA256SUMS that agrees
    // with it: only the action's own table catches it.
    pack(&archive, "tampered", &setup.log);
    let bad = sha256(&archive);
    assert_ne!(good, bad);
    let name = archive_name();
    setup.sums(&format!("{bad}  {name}\n"), &format!("{good}  {name}\n"));
    let server = Server::start(&setup.dir.path().join("release"));
    let (out, summary) = setup.run(&server, &[]);
    assert_eq!(
        (
            out.status.code(),
            text(&out.stdout),
            setup.named(&server, &text(&out.stderr)),
            summary,
            setup.ran()
        ),
        (
            Some(2),
            String::new(),
            format!(
                "::error title=digestpin::refusing {name} from http://SERVER/v{VERSION}: its SHA-256 is {bad}, the action's table (action/checksums/v{VERSION}.sha256) says {good} and the release's SHA256SUMS says {bad}\n"
            ),
            String::new(),
            String::new()
        )
    );

    // The table agrees with the archive but the release's SHA256SUMS does
    // not: refused too.
    setup.sums(&format!("{good}  {name}\n"), &format!("{bad}  {name}\n"));
    let (out, _) = setup.run(&server, &[]);
    assert_eq!(
        (
            out.status.code(),
            setup.named(&server, &text(&out.stderr)),
            setup.ran()
        ),
        (
            Some(2),
            format!(
                "::error title=digestpin::refusing {name} from http://SERVER/v{VERSION}: its SHA-256 is {bad}, the action's table (action/checksums/v{VERSION}.sha256) says {bad} and the release's SHA256SUMS says {good}\n"
            ),
            String::new()
        )
    );
}

#[test]
fn a_missing_archive_or_table_falls_back_to_building_the_source() {
    let setup = Setup::new();
    let name = archive_name();
    // The table names an archive the release does not have.
    setup.sums("", &format!("{}  {name}\n", "0".repeat(64)));
    let server = Server::start(&setup.dir.path().join("release"));
    let cargo = setup.cargo();
    let target_dir = setup.dir.path().join("target");
    let env = [
        ("CARGO", cargo.to_str().unwrap()),
        ("CARGO_TARGET_DIR", target_dir.to_str().unwrap()),
    ];
    let (out, summary) = setup.run(&server, &env);
    let why = format!("{name} or SHA256SUMS could not be downloaded from http://SERVER/v{VERSION}");
    assert_eq!(
        (
            out.status.code(),
            text(&out.stdout),
            setup.named(&server, &text(&out.stderr)),
            setup.named(&server, &summary)
        ),
        (
            Some(0),
            String::new(),
            format!(
                "curl: (22) The requested URL returned error: 404\n::warning title=digestpin::building digestpin from source: {why}\n"
            ),
            summary_after(&format!("**digestpin was built from source**: {why}.\n\n"))
        )
    );
    assert_eq!(
        setup.named(&server, &setup.ran()),
        "cargo build --release --locked --quiet --manifest-path TMP/action/Cargo.toml\nbuilt --format github check -- .\nbuilt --format json pin --diff -- .\n"
    );
    assert_eq!(server.requests(), [format!("/v{VERSION}/{name}")]);

    // A version the action has no table for: no download is tried.
    std::fs::remove_file(&setup.log).unwrap();
    let mut env = env.to_vec();
    env.push(("INPUT_VERSION", "v9.9.9"));
    let (out, summary) = setup.run(&server, &env);
    let why = "the action has no checksum table for v9.9.9 (action/checksums/v9.9.9.sha256)";
    assert_eq!(
        (out.status.code(), text(&out.stderr), summary),
        (
            Some(0),
            format!("::warning title=digestpin::building digestpin from source: {why}\n"),
            summary_after(&format!("**digestpin was built from source**: {why}.\n\n"))
        )
    );
    assert_eq!(
        setup.named(&server, &setup.ran()),
        "cargo build --release --locked --quiet --manifest-path TMP/action/Cargo.toml\nbuilt --format github check -- .\nbuilt --format json pin --diff -- .\n"
    );
    assert_eq!(server.requests().len(), 1);
}
