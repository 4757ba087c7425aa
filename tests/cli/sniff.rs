//! Files whose name says nothing, named on the command line or matched by an
//! include glob, read by their content: a Dockerfile whose first instruction
//! is `FROM` is pinned as one; a file that is neither YAML we know nor a
//! Dockerfile is reported as skipped with the reason.

use crate::support;
use crate::support::cli::{online, read, run, text, write};

const IMAGE: &str =
    "# escape=`\nARG V=1\nFROM sniff/base:1.0 AS build\nRUN echo `\n  done\nFROM build\n";

#[test]
fn an_included_file_with_another_name_is_pinned_as_a_dockerfile() {
    let r = support::plain();
    r.seed_index("sniff/base", "1.0", "sniff-base-1");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("build/base.image"), IMAGE);
    write(&d.join("build/notes.txt"), "not ours\n");
    write(&d.join("build/logo.bin"), "\u{0}\u{1}");
    // Without the include, none is a file we read; with it, the notes and the
    // binary file are passed over quietly, as a walked file of no known kind.
    let out = run(d, &["check", "."]);
    assert_eq!(
        (out.status.code(), text(&out.stdout), text(&out.stderr)),
        (
            Some(0),
            String::new(),
            "no image reference found\n".to_string()
        )
    );

    let out = online(d, r, &["pin", "--include", "build/*", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let base = r.digest("sniff/base", "1.0");
    let pinned = IMAGE.replace("sniff/base:1.0", &format!("sniff/base:1.0@{base}"));
    assert_eq!(read(&d.join("build/base.image")), pinned);
    assert_eq!(
        (text(&out.stdout), text(&out.stderr)),
        (
            String::new(),
            format!(
                "build/base.image:3:6: pinned sniff/base:1.0 to {base}\n\
                 build/base.image:6:6: skipped build: a build stage, not an image\n\
                 2 references in 1 file: 1 pinned, 0 already pinned, 1 skipped, 0 failed; 1 file changed\n"
            )
        )
    );

    let out = run(d, &["list", "--include", "build/*", "."]);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (
            Some(0),
            format!(
                "build/base.image:3:6\tDockerfile\tpinned\tsniff/base\t1.0\t{base}\n\
                 build/base.image:6:6\tDockerfile\tskipped\tbuild\t-\t-\n"
            )
        )
    );
}

#[test]
fn a_named_file_that_is_neither_is_skipped_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        &d.join("ci/Buildfile"),
        "ARG V=1\nRUN make\nFROM alpine:3.20\n",
    );
    write(&d.join("ci/notes"), "kind: notes\nitems: [a, b]\n");
    let out = run(d, &["check", "ci/Buildfile", "ci/notes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        (text(&out.stdout), text(&out.stderr)),
        (
            String::new(),
            "ci/Buildfile: skipped: its name is not one we read, it holds no YAML document we know, and line 2: its first instruction after the build arguments is RUN, not FROM\n\
             ci/notes: skipped: its name is not one we read, it holds no YAML document we know, and line 1: `kind:` is not a Dockerfile instruction\n\
             no image reference found\n"
                .to_string()
        )
    );
}
