//! Names the commit the binary is built from, for `digestpin --version`:
//! `DIGESTPIN_COMMIT` when set (a release build from a source tarball, which
//! has no `.git`), else the commit `HEAD` names, read from the git directory's
//! files; with neither, the version alone.

include!("build/commit.rs");

fn main() {
    let root = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/commit.rs");
    println!("cargo:rerun-if-env-changed=DIGESTPIN_COMMIT");
    let (found, read) = head_commit(&root);
    for path in read.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let commit = std::env::var("DIGESTPIN_COMMIT")
        .ok()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .or(found);
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!(
        "cargo:rustc-env=DIGESTPIN_VERSION={}",
        version_text(&version, commit.as_deref())
    );
}
