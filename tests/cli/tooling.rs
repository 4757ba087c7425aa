//! What users of a command-line tool expect: `--version` naming the commit,
//! shell completions and a man page made from the flags' definition,
//! `--color`, and `-q`/`-v` on a small run against a real registry.

use crate::support;
use crate::support::cli::{filters, online, pod, run, text, write};

use std::path::Path;

#[allow(dead_code)]
mod commit {
    include!("../../build/commit.rs");
}

const SUBCOMMANDS: [&str; 10] = [
    "pin",
    "check",
    "update",
    "verify",
    "unpin",
    "list",
    "resolve",
    "config",
    "completions",
    "man",
];

/// A filter for the version line, which names the commit of the checkout.
fn version_filter(settings: &mut insta::Settings) {
    let version = env!("CARGO_PKG_VERSION").replace('.', r"\.");
    settings.add_filter(
        &format!(r"{version}( \(commit [0-9a-f]{{12}}\))?"),
        "[VERSION]",
    );
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let commit = option_env!("DIGESTPIN_COMMIT")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .or_else(|| commit::head_commit(root).0);
    let out = run(root, &["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!(
            "digestpin {}\n",
            commit::version_text(env!("CARGO_PKG_VERSION"), commit.as_deref())
        )
    );
    // From a checkout the commit is there (a source tarball has none).
    if root.join(".git").exists() && option_env!("DIGESTPIN_COMMIT").is_none() {
        assert!(commit.is_some(), "no commit read from the checkout");
    }
}

#[test]
fn the_version_text_with_and_without_a_commit() {
    let sha = "0123456789abcdef0123456789abcdef01234567";
    assert_eq!(
        commit::version_text("1.2.3", Some(sha)),
        "1.2.3 (commit 0123456789ab)"
    );
    assert_eq!(commit::version_text("1.2.3", None), "1.2.3");
}

#[test]
fn the_commit_is_read_from_the_git_directory_without_git() {
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let other = "fedcba9876543210fedcba9876543210fedcba98";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let head = |root: &Path| commit::head_commit(root).0;
    // A source tarball: no .git.
    assert_eq!(head(d), None);
    // A loose ref.
    write(&d.join(".git/HEAD"), "ref: refs/heads/main\n");
    assert_eq!(head(d), None, "unborn branch");
    write(
        &d.join(".git/packed-refs"),
        &format!("# pack-refs with: peeled\n{other} refs/heads/dev\n{sha} refs/heads/main\n"),
    );
    assert_eq!(head(d).as_deref(), Some(sha), "packed ref");
    write(&d.join(".git/refs/heads/main"), &format!("{other}\n"));
    assert_eq!(
        head(d).as_deref(),
        Some(other),
        "a loose ref wins over a packed one"
    );
    // Detached.
    write(&d.join(".git/HEAD"), &format!("{sha}\n"));
    assert_eq!(head(d).as_deref(), Some(sha));
    // A worktree: `.git` names its git directory, refs are in the common one.
    let tree = d.join("wt");
    write(
        &tree.join(".git"),
        &format!("gitdir: {}\n", d.join(".git/worktrees/wt").display()),
    );
    write(&d.join(".git/worktrees/wt/HEAD"), "ref: refs/heads/main\n");
    write(&d.join(".git/worktrees/wt/commondir"), "../..\n");
    let (found, read) = commit::head_commit(&tree);
    assert_eq!(found.as_deref(), Some(other));
    assert_eq!(
        read,
        [
            d.join(".git/worktrees/wt/HEAD"),
            d.join(".git/worktrees/wt/../../refs/heads/main")
        ]
    );
    // Garbage is no commit.
    write(&d.join(".git/HEAD"), "not a commit\n");
    assert_eq!(head(d), None);
}

#[test]
fn completions_cover_every_subcommand_in_every_shell() {
    // How each shell's script names a subcommand it completes.
    type Names = fn(&str) -> String;
    let shells: [(&str, Names); 5] = [
        ("bash", |sub| format!("digestpin,{sub})")),
        ("zsh", |sub| format!("\n'{sub}:")),
        ("fish", |sub| format!("-f -a \"{sub}\" -d")),
        ("powershell", |sub| format!("'digestpin;{sub}' {{")),
        ("elvish", |sub| format!("&'digestpin;{sub}'= {{")),
    ];
    for (shell, names) in shells {
        let out = run(Path::new("."), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for sub in SUBCOMMANDS {
            assert!(script.contains(&names(sub)), "{shell}: no `{sub}`");
        }
    }
    let out = run(Path::new("."), &["completions", "bash"]);
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn the_man_page_is_made_from_the_flags() {
    let out = run(Path::new("."), &["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut settings = insta::Settings::clone_current();
    version_filter(&mut settings);
    settings.bind(|| insta::assert_snapshot!(text(&out.stdout)));
}

#[test]
fn every_command_has_its_own_man_page() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["man", "--dir", "man"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut pages: Vec<String> = std::fs::read_dir(dir.path().join("man"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    let commands = [
        "cache",
        "cache-clean",
        "cache-dir",
        "check",
        "completions",
        "config",
        "history",
        "list",
        "man",
        "pin",
        "promote",
        "resolve",
        "retag",
        "rollback",
        "set",
        "unpin",
        "update",
        "verify",
    ];
    let mut want: Vec<String> = commands
        .iter()
        .map(|c| format!("digestpin-{c}.1"))
        .collect();
    want.push("digestpin.1".into());
    want.sort();
    assert_eq!(pages, want);
    // digestpin.1 names each of them; `man COMMAND` prints the same page.
    let top = std::fs::read_to_string(dir.path().join("man/digestpin.1")).unwrap();
    for command in commands.iter().filter(|c| !c.contains('-')) {
        assert!(
            top.contains(&format!("digestpin\\-{command}(1)")),
            "{command}"
        );
    }
    let out = run(dir.path(), &["man", "cache", "clean"]);
    assert_eq!(
        text(&out.stdout),
        std::fs::read_to_string(dir.path().join("man/digestpin-cache-clean.1")).unwrap()
    );
    let out = run(dir.path(), &["man", "cache", "nope"]);
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (
            Some(2),
            "digestpin: error: `digestpin cache` has no command `nope`: one of clean, dir\n"
                .to_string()
        )
    );
}

#[test]
fn color_always_wins_over_no_color_and_never_wins_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("bad.yaml"), "a: [\n");
    let check = |color: &str| {
        let out = support::digestpin()
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(["check", "--color", color, "."])
            .output()
            .unwrap();
        (out.status.code(), text(&out.stderr))
    };
    let message =
        "not valid YAML, skipped: while parsing a node, did not find expected node content";
    let plain = format!("bad.yaml:2:1: {message}\nno image reference found\n");
    assert_eq!(
        check("always"),
        (
            Some(0),
            format!("bad.yaml:2:1: \u{1b}[33m{message}\u{1b}[0m\nno image reference found\n")
        )
    );
    assert_eq!(check("never"), (Some(0), plain.clone()));
    // Not a terminal: no colour.
    assert_eq!(check("auto"), (Some(0), plain));
}

/// On a terminal (util-linux `script` gives one): colour unless `TERM` is
/// `dumb` or `--color never` says so, for clap's own messages too; off a
/// terminal, `--color always` colours clap's messages as well.
#[test]
fn color_follows_the_flag_and_term_on_a_terminal_and_in_clap_messages() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("bad.yaml"), "a: [\n");
    let bin = env!("CARGO_BIN_EXE_digestpin");
    let on_terminal = |term: &str, args: &str| {
        let out = std::process::Command::new("script")
            .env_remove("NO_COLOR")
            .env("TERM", term)
            .env("DOCKER_CONFIG", dir.path())
            .current_dir(dir.path())
            .args(["-q", "-e", "-c", &format!("{bin} {args}"), "/dev/null"])
            .output()
            .unwrap();
        text(&out.stdout).contains('\u{1b}')
    };
    assert!(on_terminal("xterm", "check ."), "a terminal gets colour");
    assert!(!on_terminal("dumb", "check ."), "TERM=dumb");
    assert!(!on_terminal("xterm", "--color never check ."));
    assert!(
        on_terminal("xterm", "check --bogus"),
        "clap colours on a terminal"
    );
    assert!(!on_terminal("xterm", "--color never check --bogus"));
    assert!(!on_terminal("xterm", "--color=never pin --help"));
    let out = run(dir.path(), &["--color", "always", "check", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains('\u{1b}'),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn quiet_and_verbose_on_a_small_run() {
    let r = support::plain();
    r.seed_index("tooling/web", "1.0", "tooling-web-1");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let digest = r.digest("tooling/web", "1.0");
    let mut settings = filters(&[d], &[(&digest, "WEB")]);
    settings.add_filter(r" in \d+ ms", " in [T] ms");
    let _bound = settings.bind_to_scope();
    let outputs = |args: &[&str]| {
        write(&d.join("pod.yaml"), &pod("tooling/web:1.0"));
        write(&d.join("bad.yaml"), "a: [\n");
        let out = if args[0] == "check" {
            run(d, args)
        } else {
            online(d, r, args)
        };
        format!(
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        )
    };
    insta::assert_snapshot!("normal", outputs(&["pin", "."]));
    insta::assert_snapshot!("quiet", outputs(&["pin", "-q", "."]));
    insta::assert_snapshot!("verbose", outputs(&["pin", "--verbose", "."]));
    insta::assert_snapshot!("quiet_check", outputs(&["check", "--quiet", "."]));
    // Quiet keeps what a --check finds: the run fails on it.
    insta::assert_snapshot!("quiet_pin_check", outputs(&["pin", "-q", "--check", "."]));
    insta::assert_snapshot!(
        "github_pin_check",
        outputs(&["pin", "--format", "github", "--check", "."])
    );
    // Quiet keeps errors.
    write(&d.join("gone.yaml"), &pod("tooling/gone:1.0"));
    insta::assert_snapshot!("quiet_error", outputs(&["pin", "-q", "."]));
    let out = run(d, &["pin", "-q", "-v", "."]);
    assert_eq!(out.status.code(), Some(2));
}
