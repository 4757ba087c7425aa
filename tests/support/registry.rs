//! Real `docker-registry` servers (the CNCF distribution registry) on
//! 127.0.0.1, without auth, with htpasswd Basic auth, or with token auth, and
//! seeding them with `skopeo` from generated OCI layouts.
//!
//! Each registry runs under a small shell watchdog that stops it when the test
//! process is gone, so no registry outlives its test binary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use super::image;
use super::token::{self, TokenServer};

pub const USER: &str = "digestpin";
pub const PASSWORD: &str = "s3cret-pass";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Auth {
    None,
    Basic,
    Token,
}

pub struct Registry {
    pub port: u16,
    pub auth: Auth,
    /// With TLS: the CA certificate (PEM) that signed the server's certificate.
    pub ca: Option<PathBuf>,
    pub token: Option<TokenServer>,
    dir: tempfile::TempDir,
    watchdog: Mutex<Option<Child>>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Checks that `docker-registry`, `skopeo` and `openssl` are installed, and
/// fails with how to install them otherwise (the tests never run apt
/// themselves: `scripts/test.sh` does, before the suite).
pub fn ensure_tools() {
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        let missing: Vec<&str> = ["docker-registry", "skopeo", "openssl"]
            .into_iter()
            .filter(|tool| {
                Command::new("sh")
                    .arg("-c")
                    .arg(format!("command -v {tool}"))
                    .stdout(Stdio::null())
                    .status()
                    .map_or(true, |s| !s.success())
            })
            .collect();
        assert!(
            missing.is_empty(),
            "the integration tests need {} on PATH: run `bash scripts/install-test-deps.sh` \
             (or `apt-get install docker-registry skopeo openssl` on Debian and Ubuntu), \
             or run the whole suite with `bash scripts/test.sh`, which installs them",
            missing.join(", ")
        );
    });
}

impl Registry {
    pub fn start(auth: Auth) -> Registry {
        Self::start_with(auth, false)
    }

    /// A registry serving HTTPS with a certificate for 127.0.0.1 signed by a
    /// CA made for it (see [`Registry::ca`]).
    pub fn start_tls() -> Registry {
        Self::start_with(Auth::None, true)
    }

    fn start_with(auth: Auth, tls: bool) -> Registry {
        ensure_tools();
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let token = (auth == Auth::Token).then(|| TokenServer::start(dir.path(), USER, PASSWORD));
        let auth_config = match auth {
            Auth::None => String::new(),
            Auth::Basic => {
                let hash = bcrypt::hash(PASSWORD, 4).unwrap();
                std::fs::write(dir.path().join("htpasswd"), format!("{USER}:{hash}\n")).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: digestpin-test\n    path: {}\n",
                    dir.path().join("htpasswd").display()
                )
            }
            Auth::Token => {
                let t = token.as_ref().unwrap();
                format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    t.realm(),
                    token::SERVICE,
                    token::ISSUER,
                    t.cert.display()
                )
            }
        };
        let ca = tls.then(|| make_certificates(dir.path()));
        let tls_config = if tls {
            format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                dir.path().join("server.crt").display(),
                dir.path().join("server.key").display()
            )
        } else {
            String::new()
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{tls_config}{auth_config}",
            dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let registry = Registry {
            port,
            auth,
            ca,
            token,
            dir,
            watchdog: Mutex::new(None),
        };
        registry.restart();
        registry
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts (again) the registry on its port, with the same storage.
    pub fn restart(&self) {
        let script = r#"docker-registry serve "$1" >>"$2" 2>&1 &
r=$!
echo $r >"$3"
while kill -0 "$4" 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 0.2; done
kill $r 2>/dev/null
wait $r 2>/dev/null"#;
        let child = Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg("watchdog")
            .arg(self.path("config.yml"))
            .arg(self.path("registry.log"))
            .arg(self.path("registry.pid"))
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        *self.watchdog.lock().unwrap() = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the registry did not start: {}",
                std::fs::read_to_string(self.path("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Restarts the registry in read-only maintenance mode (every push is
    /// refused with 405), on the same storage and port: with htpasswd
    /// auth, its user has pull rights only.
    pub fn make_read_only(&self) {
        self.stop();
        let config = std::fs::read_to_string(self.path("config.yml")).unwrap();
        let config = config.replacen(
            "storage:\n",
            "storage:\n  maintenance:\n    readonly:\n      enabled: true\n",
            1,
        );
        std::fs::write(self.path("config.yml"), config).unwrap();
        self.restart();
    }

    /// Stops the registry; its storage stays for [`Registry::restart`].
    pub fn stop(&self) {
        if let Ok(pid) = std::fs::read_to_string(self.path("registry.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        if let Some(mut child) = self.watchdog.lock().unwrap().take() {
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        let scheme = if self.ca.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    fn creds_args(&self, flag: &str) -> Vec<String> {
        match self.auth {
            Auth::None => Vec::new(),
            Auth::Basic | Auth::Token => vec![format!("--{flag}={USER}:{PASSWORD}")],
        }
    }

    fn skopeo_copy(&self, layout: &Path, name: &str, repository: &str, tag: &str, all: bool) {
        let mut command = Command::new("skopeo");
        command
            .args([
                "--insecure-policy",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
            ])
            .args(self.creds_args("dest-creds"));
        if all {
            command.arg("--all");
        }
        super::succeed(
            command
                .arg(format!("oci:{}:{name}", layout.display()))
                .arg(format!("docker://{}/{repository}:{tag}", self.host())),
        );
    }

    /// Pushes a linux/amd64 + linux/arm64 index to `repository:tag`.
    pub fn seed_index(&self, repository: &str, tag: &str, salt: &str) {
        let layout = tempfile::tempdir().unwrap();
        let index = image::write_index(layout.path(), salt);
        image::finish_layout(layout.path(), &[("img".into(), index, true)]);
        self.skopeo_copy(layout.path(), "img", repository, tag, true);
    }

    /// Pushes a linux/amd64 + linux/arm64 index with OCI metadata on the
    /// index and on each platform's image to `repository:tag`.
    pub fn seed_index_with(
        &self,
        repository: &str,
        tag: &str,
        salt: &str,
        index: &image::Metadata,
        images: &image::Metadata,
    ) {
        let layout = tempfile::tempdir().unwrap();
        let blob = image::write_index_with(layout.path(), salt, index, images);
        image::finish_layout(layout.path(), &[("img".into(), blob, true)]);
        self.skopeo_copy(layout.path(), "img", repository, tag, true);
    }

    /// Pushes a single-platform image with OCI metadata to `repository:tag`.
    pub fn seed_single_with(
        &self,
        repository: &str,
        tag: &str,
        salt: &str,
        meta: &image::Metadata,
    ) {
        let layout = tempfile::tempdir().unwrap();
        let manifest = image::write_image_with(layout.path(), salt, "linux", "amd64", meta);
        image::finish_layout(layout.path(), &[("img".into(), manifest, false)]);
        self.skopeo_copy(layout.path(), "img", repository, tag, false);
    }

    /// Pushes a single-platform image to `repository:tag`.
    pub fn seed_single(&self, repository: &str, tag: &str, salt: &str, arch: &str) {
        let layout = tempfile::tempdir().unwrap();
        let manifest = image::write_image(layout.path(), salt, "linux", arch);
        image::finish_layout(layout.path(), &[("img".into(), manifest, false)]);
        self.skopeo_copy(layout.path(), "img", repository, tag, false);
    }

    /// Pushes a distinct single-platform image to each `(repository, tag)`,
    /// four skopeo processes at a time.
    pub fn seed_many(&self, images: &[(String, String)]) {
        let layout = tempfile::tempdir().unwrap();
        let refs: Vec<(String, image::Blob, bool)> = images
            .iter()
            .enumerate()
            .map(|(i, (repo, tag))| {
                (
                    format!("img{i}"),
                    image::write_image(layout.path(), &format!("{repo}:{tag}"), "linux", "amd64"),
                    false,
                )
            })
            .collect();
        image::finish_layout(layout.path(), &refs);
        let chunks: Vec<Vec<(usize, &(String, String))>> = {
            let mut chunks = vec![Vec::new(); 4];
            for (i, image) in images.iter().enumerate() {
                chunks[i % 4].push((i, image));
            }
            chunks
        };
        std::thread::scope(|scope| {
            for chunk in &chunks {
                let layout = layout.path();
                scope.spawn(move || {
                    for (i, (repo, tag)) in chunk {
                        self.skopeo_copy(layout, &format!("img{i}"), repo, tag, false);
                    }
                });
            }
        });
    }

    /// Deletes the manifest `repository:tag` names (and so the tag).
    pub fn delete(&self, repository: &str, tag: &str) {
        super::succeed(
            Command::new("skopeo")
                .args(["--insecure-policy", "delete", "--tls-verify=false"])
                .args(self.creds_args("creds"))
                .arg(format!("docker://{}/{repository}:{tag}", self.host())),
        );
    }

    /// The manifest bytes of `repository:tag`, read with skopeo.
    pub fn raw_manifest(&self, repository: &str, tag: &str) -> Vec<u8> {
        super::succeed(
            Command::new("skopeo")
                .args([
                    "--insecure-policy",
                    "inspect",
                    "--raw",
                    "--tls-verify=false",
                ])
                .args(self.creds_args("creds"))
                .arg(format!("docker://{}/{repository}:{tag}", self.host())),
        )
        .stdout
    }

    /// The digest the registry serves for `repository:tag`.
    pub fn digest(&self, repository: &str, tag: &str) -> String {
        let sum: String = Sha256::digest(self.raw_manifest(repository, tag))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256:{sum}")
    }

    /// The digest of one platform's manifest in the index at `repository:tag`.
    pub fn platform_digest(&self, repository: &str, tag: &str, platform: &str) -> String {
        let index: serde_json::Value =
            serde_json::from_slice(&self.raw_manifest(repository, tag)).unwrap();
        let (os, arch) = platform.split_once('/').unwrap();
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["os"] == os && m["platform"]["architecture"] == arch)
            .unwrap_or_else(|| panic!("no {platform} in {repository}:{tag}"))["digest"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it, made with the
/// openssl CLI in `dir`; returns the CA certificate's path.
fn make_certificates(dir: &Path) -> PathBuf {
    let openssl = |args: &[&str]| {
        super::succeed(Command::new("openssl").current_dir(dir).args(args));
    };
    super::self_signed(
        "/CN=digestpin test CA",
        &dir.join("ca.key"),
        &dir.join("ca.crt"),
    );
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    dir.join("ca.crt")
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}
