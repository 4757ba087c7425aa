//! Where the image references of a Dockerfile (or Containerfile) are.
//!
//! [`parse`] reads a Dockerfile as BuildKit does: parser directives at the top
//! (`# syntax=`, `# escape=`), instructions continued over lines with the escape
//! character, comment lines (also inside a continued instruction), heredoc
//! bodies (`<<EOF`, `<<-EOF`, quoted delimiters), which are not instructions,
//! and `ONBUILD`. Every word keeps the byte range it came from. [`scan`] then
//! finds the images: `FROM`, `COPY --from=`, `RUN --mount=…,from=`, the
//! `# syntax=` image, and the default of a build argument used whole as one of
//! those; stage names, `scratch` and values made of build arguments are
//! reported as skipped. [`platforms`] tells which references name a literal
//! `--platform`. [`check_rewrite`] is the re-parse check of a rewritten file.
//!
//! Submodules: `parse` (the parser), `check` (the re-parse check).

mod check;
mod parse;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use super::{DetectError, FileKind, Finding, Positions, ScalarStyle, Site, SkipReason};
use crate::reference::Reference;

pub use check::{RewriteError, check_rewrite};
pub use parse::{Directive, Dockerfile, Instruction, Word, parse};

/// Whether a file name is one of a Dockerfile's: `Dockerfile`, `Containerfile`,
/// `Dockerfile.*`, `Containerfile.*`, `*.Dockerfile`, `*.containerfile`
/// (case-insensitive), but not a per-Dockerfile `*.dockerignore`.
pub fn is_dockerfile_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".dockerignore") || lower.ends_with(".containerignore") {
        return false;
    }
    ["dockerfile", "containerfile"].iter().any(|base| {
        lower == *base
            || lower
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
            || lower
                .strip_suffix(base)
                .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
    })
}

/// Why a file whose name says nothing is not read as a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotDockerfile {
    #[error("it does not parse as one ({0})")]
    Unparsable(String),
    #[error("it holds no Dockerfile instruction")]
    Empty,
    #[error("line {line}: `{word}` is not a Dockerfile instruction")]
    Unknown { line: usize, word: String },
    #[error("line {line}: its first instruction after the build arguments is {keyword}, not FROM")]
    FirstNotFrom { line: usize, keyword: String },
    #[error("line {line}: FROM is not `image [AS name]`")]
    FromShape { line: usize },
}

/// Whether `text`, in a file whose name says nothing, is a Dockerfile: it
/// parses, every instruction is a Dockerfile instruction, the first after
/// the parser directives, comments and `ARG`s is `FROM`, and each `FROM` is
/// `image [AS name]`. The error says why not.
pub fn sniff(text: &str) -> Result<(), NotDockerfile> {
    const KEYWORDS: &[&str] = &[
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    ];
    let file = parse(text).map_err(|e| NotDockerfile::Unparsable(e.to_string()))?;
    if let Some(i) = file
        .instructions
        .iter()
        .find(|i| !KEYWORDS.contains(&i.keyword.as_str()))
    {
        // The word as written (the parser upper-cases keywords).
        let written = text.lines().nth(i.line - 1).and_then(|l| {
            l.split_whitespace()
                .find(|w| w.eq_ignore_ascii_case(&i.keyword))
        });
        return Err(NotDockerfile::Unknown {
            line: i.line,
            word: written.unwrap_or(&i.keyword).to_string(),
        });
    }
    let first = file
        .instructions
        .iter()
        .find(|i| i.keyword != "ARG")
        .ok_or(NotDockerfile::Empty)?;
    if first.keyword != "FROM" {
        return Err(NotDockerfile::FirstNotFrom {
            line: first.line,
            keyword: first.keyword.clone(),
        });
    }
    match file.instructions.iter().find(|i| {
        i.keyword == "FROM"
            && !(i.args.len() == 1
                || i.args.len() == 3 && i.args[1].text.eq_ignore_ascii_case("as"))
    }) {
        Some(i) => Err(NotDockerfile::FromShape { line: i.line }),
        None => Ok(()),
    }
}

/// Whether `text`, in a file whose name says nothing, is a Dockerfile
/// ([`sniff`]).
pub fn looks_like_dockerfile(text: &str) -> bool {
    sniff(text).is_ok()
}

/// Whether a value holds a build argument (`$NAME`, `${NAME}`).
fn has_variable(value: &str) -> bool {
    value.contains('$')
}

/// The build argument a value is made of entirely: `$NAME` or `${NAME}`.
fn whole_variable(value: &str) -> Option<&str> {
    let name = value
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .or_else(|| value.strip_prefix('$'))?;
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then_some(name)
}

/// The value of a flag word `--name=value`, as a word.
fn flag_value(flag: &Word, name: &str) -> Option<Word> {
    let prefix = format!("--{name}=");
    flag.text
        .strip_prefix(&prefix)
        .map(|_| flag.slice(prefix.len()..flag.text.len()))
}

/// The `from=` field of a `--mount=` value.
fn mount_from(value: &Word) -> Option<Word> {
    let mut offset = 0;
    for field in value.text.split(',') {
        if let Some(v) = field.strip_prefix("from=") {
            let start = offset + "from=".len();
            return Some(value.slice(start..start + v.len()));
        }
        offset += field.len() + 1;
    }
    None
}

/// A build argument's default value, as a word (quotes removed).
#[derive(Debug, Clone)]
struct ArgDefault {
    value: Word,
}

fn arg_defaults(instruction: &Instruction) -> Vec<(String, Option<ArgDefault>)> {
    let mut out = Vec::new();
    for word in &instruction.args {
        match word.text.split_once('=') {
            Some((name, value)) => {
                let start = name.len() + 1;
                let mut value_word = word.slice(start..start + value.len());
                for q in ['"', '\''] {
                    if value.len() >= 2 && value.starts_with(q) && value.ends_with(q) {
                        value_word = word.slice(start + 1..start + value.len() - 1);
                    }
                }
                out.push((name.to_string(), Some(ArgDefault { value: value_word })));
            }
            None => out.push((word.text.clone(), None)),
        }
    }
    out
}

/// Where an image value was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    From,
    CopyFrom,
    MountFrom,
}

/// One image position met in the file.
struct Use {
    word: Word,
    position: Position,
    platform: Option<String>,
    /// The stage names defined before (for `FROM`) or anywhere (for `--from`).
    is_stage: bool,
    /// The build arguments in scope: name → default.
    arg: Option<Option<ArgDefault>>,
}

/// Finds the image references of a Dockerfile.
pub fn scan(text: &str) -> Result<Vec<Finding>, DetectError> {
    scan_with_platforms(text).map(|(findings, _)| findings)
}

/// The literal platform (`--platform=linux/arm64`) each found reference is
/// built for, by the start of its span; references built for the build's own
/// or a variable platform are absent.
pub fn platforms(text: &str) -> BTreeMap<usize, String> {
    scan_with_platforms(text)
        .map(|(_, platforms)| platforms)
        .unwrap_or_default()
}

/// Where the instructions of `file` name an image or a stage, in order.
fn uses(file: &Dockerfile) -> Vec<Use> {
    // Every stage name, for `--from`, which may name any stage.
    let all_stages: HashSet<String> = file
        .instructions
        .iter()
        .filter(|i| i.keyword == "FROM" && !i.onbuild)
        .filter_map(stage_name)
        .collect();
    let mut stages_so_far: HashSet<String> = HashSet::new();
    let mut global: HashMap<String, Option<ArgDefault>> = HashMap::new();
    let mut stage: HashMap<String, Option<ArgDefault>> = HashMap::new();
    let mut in_stage = false;
    let mut uses: Vec<Use> = Vec::new();
    for instruction in &file.instructions {
        match instruction.keyword.as_str() {
            "ARG" if !instruction.onbuild => {
                for (name, default) in arg_defaults(instruction) {
                    if in_stage {
                        stage.insert(name, default);
                    } else {
                        global.insert(name, default);
                    }
                }
            }
            "FROM" if !instruction.onbuild => {
                let Some(image) = instruction.args.first() else {
                    continue;
                };
                let platform = instruction
                    .flags
                    .iter()
                    .find_map(|f| flag_value(f, "platform"))
                    .map(|w| w.text);
                let arg = whole_variable(&image.text).map(|n| global.get(n).cloned().flatten());
                uses.push(Use {
                    word: image.clone(),
                    position: Position::From,
                    platform,
                    is_stage: stages_so_far.contains(&image.text.to_ascii_lowercase()),
                    arg,
                });
                if let Some(name) = stage_name(instruction) {
                    stages_so_far.insert(name);
                }
                in_stage = true;
                stage.clear();
            }
            "COPY" | "ADD" | "RUN" => {
                for flag in &instruction.flags {
                    let (value, position) = if let Some(v) = flag_value(flag, "from") {
                        (v, Position::CopyFrom)
                    } else if let Some(v) = flag_value(flag, "mount").and_then(|m| mount_from(&m)) {
                        (v, Position::MountFrom)
                    } else {
                        continue;
                    };
                    if instruction.keyword == "RUN" && position == Position::CopyFrom {
                        continue;
                    }
                    let arg = whole_variable(&value.text).map(|n| match stage.get(n) {
                        Some(Some(default)) => Some(default.clone()),
                        Some(None) => global.get(n).cloned().flatten(),
                        None => None,
                    });
                    let lower = value.text.to_ascii_lowercase();
                    uses.push(Use {
                        is_stage: all_stages.contains(&lower)
                            || value.text.bytes().all(|b| b.is_ascii_digit()),
                        word: value,
                        position,
                        platform: None,
                        arg,
                    });
                }
            }
            _ => {}
        }
    }
    uses
}

fn scan_with_platforms(text: &str) -> Result<(Vec<Finding>, BTreeMap<usize, String>), DetectError> {
    let file = parse(text)?;
    let uses = uses(&file);
    let mut findings = Vec::new();
    let mut platforms = BTreeMap::new();
    let mut positions = Positions::new(text);
    if let Some(syntax) = file.directives.iter().find(|d| d.name == "syntax") {
        findings.push(image(&mut positions, &syntax.value));
    }
    // Build-argument defaults used whole as an image, once each, with the
    // platform all their uses agree on.
    let mut arg_uses: BTreeMap<usize, (Word, Vec<Option<String>>)> = BTreeMap::new();
    for u in &uses {
        let site_of = site(&mut positions, &u.word);
        if u.is_stage {
            findings.push(Finding::Skipped {
                site: site_of,
                reason: SkipReason::StageName,
            });
        } else if u.word.text.eq_ignore_ascii_case("scratch") && u.position == Position::From {
            findings.push(Finding::Skipped {
                site: site_of,
                reason: SkipReason::Scratch,
            });
        } else if has_variable(&u.word.text) {
            findings.push(Finding::Skipped {
                site: site_of,
                reason: SkipReason::BuildArgument,
            });
            if let Some(Some(default)) = &u.arg
                && !default.value.text.is_empty()
                && !has_variable(&default.value.text)
            {
                arg_uses
                    .entry(default.value.span.start)
                    .or_insert_with(|| (default.value.clone(), Vec::new()))
                    .1
                    .push(literal_platform(u.platform.as_deref()));
            }
        } else {
            let finding = image(&mut positions, &u.word);
            if let (Finding::Image { site, .. }, Some(p)) =
                (&finding, literal_platform(u.platform.as_deref()))
            {
                platforms.insert(site.span.start, p);
            }
            findings.push(finding);
        }
    }
    for (word, used_with) in arg_uses.values() {
        let finding = image(&mut positions, word);
        if let Finding::Image { site, .. } = &finding
            && let Some(Some(p)) = used_with.first()
            && used_with.iter().all(|u| u.as_deref() == Some(p.as_str()))
        {
            platforms.insert(site.span.start, p.clone());
        }
        findings.push(finding);
    }
    findings.sort_by_key(|f| f.site().span.start);
    findings.dedup_by_key(|f| f.site().span.start);
    Ok((findings, platforms))
}

/// The site of a word of a Dockerfile.
fn site(positions: &mut Positions<'_>, word: &Word) -> Site {
    let (line, column) = positions.at(word.span.start);
    Site {
        span: word.span.clone(),
        value: word.text.clone(),
        line,
        column,
        kind: FileKind::Dockerfile,
        style: ScalarStyle::Plain,
        in_flow: false,
        platform: None,
    }
}

/// What a word naming an image is: an image, or a value passed over
/// (templated, not a reference, escaped).
fn image(positions: &mut Positions<'_>, word: &Word) -> Finding {
    let site = site(positions, word);
    if super::is_templated(&word.text) {
        return Finding::Skipped {
            site,
            reason: SkipReason::Templated,
        };
    }
    match Reference::parse(&word.text) {
        Err(err) => Finding::Skipped {
            site,
            reason: SkipReason::NotAReference(err),
        },
        Ok(_) if !word.contiguous => Finding::Skipped {
            site,
            reason: SkipReason::Escaped,
        },
        Ok(reference) => Finding::Image { site, reference },
    }
}

/// A `--platform` value naming one platform (not `$BUILDPLATFORM` or another
/// build argument).
fn literal_platform(platform: Option<&str>) -> Option<String> {
    platform
        .filter(|p| !has_variable(p))
        .map(|p| p.trim_matches(['"', '\'']).to_string())
}

/// The stage name of a `FROM image AS name`, lower-cased.
fn stage_name(instruction: &Instruction) -> Option<String> {
    match instruction.args.as_slice() {
        [_, as_, name, ..] if as_.text.eq_ignore_ascii_case("as") => {
            Some(name.text.to_ascii_lowercase())
        }
        _ => None,
    }
}
