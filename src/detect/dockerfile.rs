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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

use super::{DetectError, FileKind, Finding, Positions, ScalarStyle, Site, SkipReason};
use crate::reference::Reference;

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

/// Whether `text`, in a file whose name says nothing, is a Dockerfile: it
/// parses, every instruction is a Dockerfile instruction, the first is `FROM`
/// or `ARG`, there is a `FROM`, and each `FROM` is `image [AS name]`.
pub fn looks_like_dockerfile(text: &str) -> bool {
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
    let Ok(file) = parse(text) else {
        return false;
    };
    file.instructions
        .first()
        .is_some_and(|i| matches!(i.keyword.as_str(), "FROM" | "ARG"))
        && file.instructions.iter().any(|i| i.keyword == "FROM")
        && file.instructions.iter().all(|i| {
            KEYWORDS.contains(&i.keyword.as_str())
                && (i.keyword != "FROM"
                    || i.args.len() == 1
                    || i.args.len() == 3 && i.args[1].text.eq_ignore_ascii_case("as"))
        })
}

/// A word of an instruction, with the bytes it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as BuildKit reads it (continuations removed).
    pub text: String,
    /// Byte range in the file, from the first to the last character.
    pub span: Range<usize>,
    /// Whether the word is one run of bytes in the file (not split by a
    /// continuation or a comment line).
    pub contiguous: bool,
}

impl Word {
    /// The part `range` (byte range of `text`) of the word, as a word.
    fn slice(&self, range: Range<usize>) -> Word {
        let text = self.text[range.clone()].to_string();
        if self.contiguous {
            Word {
                text,
                span: self.span.start + range.start..self.span.start + range.end,
                contiguous: true,
            }
        } else {
            Word {
                text,
                span: self.span.clone(),
                contiguous: false,
            }
        }
    }
}

/// One instruction (after `ONBUILD`, the instruction it wraps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The keyword, upper-cased (`FROM`, `COPY`, …).
    pub keyword: String,
    /// Whether it is wrapped in `ONBUILD`.
    pub onbuild: bool,
    /// `--name=value` flags before the arguments.
    pub flags: Vec<Word>,
    /// The remaining words.
    pub args: Vec<Word>,
    /// 1-based line of the keyword.
    pub line: usize,
}

/// A parser directive (`# syntax=…`), with the byte range of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The name, lower-cased.
    pub name: String,
    pub value: Word,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub directives: Vec<Directive>,
    pub escape: char,
    pub instructions: Vec<Instruction>,
}

fn error(text: &str, at: usize, message: impl Into<String>) -> DetectError {
    let (line, column) = Positions::new(text).at(at);
    DetectError::Dockerfile {
        line,
        column,
        message: message.into(),
    }
}

/// The lines of `text` as byte ranges, without their line break.
fn lines(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let content_end = if text[start..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        out.push(start..content_end);
        start = end + 1;
    }
    out
}

/// Reads a parser directive line: `# name = value`.
fn directive(text: &str, line: Range<usize>) -> Option<Directive> {
    let raw = &text[line.clone()];
    let body = raw.trim_start_matches('\u{feff}').trim_start();
    let after_hash = body.strip_prefix('#')?;
    let (name, value) = after_hash.split_once('=')?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let name = name.to_ascii_lowercase();
    if !matches!(name.as_str(), "syntax" | "escape" | "check") {
        return None;
    }
    let value_trimmed = value.trim();
    let offset = line.start
        + (value.as_ptr() as usize - raw.as_ptr() as usize)
        + (value.len() - value.trim_start().len());
    Some(Directive {
        name,
        value: Word {
            text: value_trimmed.to_string(),
            span: offset..offset + value_trimmed.len(),
            contiguous: true,
        },
    })
}

/// Whether the line's content (a byte range) ends with the escape character,
/// optionally followed by blanks: returns where the escape is.
fn continuation(text: &str, line: &Range<usize>, escape: char) -> Option<usize> {
    let content = text[line.clone()].trim_end_matches([' ', '\t']);
    content
        .ends_with(escape)
        .then(|| line.start + content.len() - escape.len_utf8())
}

fn is_comment_line(text: &str, line: &Range<usize>) -> bool {
    text[line.clone()].trim_start().starts_with('#')
}

fn is_blank(text: &str, line: &Range<usize>) -> bool {
    text[line.clone()].trim().is_empty()
}

/// The logical text of an instruction, char by char, with the byte offset of
/// each char in the file.
type Logical = Vec<(char, usize)>;

fn words_of(logical: &[(char, usize)], escape: char) -> Vec<Word> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < logical.len() {
        while i < logical.len() && logical[i].0.is_whitespace() {
            i += 1;
        }
        if i >= logical.len() {
            break;
        }
        let start = i;
        let mut quote: Option<char> = None;
        while i < logical.len() {
            let c = logical[i].0;
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) if c == escape && i + 1 < logical.len() => i += 1,
                Some(_) => {}
                None if c.is_whitespace() => break,
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == escape && i + 1 < logical.len() => i += 1,
                None => {}
            }
            i += 1;
        }
        let chars = &logical[start..i];
        let text: String = chars.iter().map(|(c, _)| *c).collect();
        let first = chars[0].1;
        let (last_char, last) = chars[chars.len() - 1];
        let end = last + last_char.len_utf8();
        let contiguous = end - first == text.len()
            && chars
                .windows(2)
                .all(|w| w[1].1 == w[0].1 + w[0].0.len_utf8());
        out.push(Word {
            text,
            span: first..end,
            contiguous,
        });
    }
    out
}

/// The heredoc delimiters an instruction opens, as BuildKit finds them: a
/// word `<<EOF`, `<<-EOF`, `<<"EOF"` (optionally after a file descriptor,
/// `3<<EOF`; `<<<` is a here-string): (delimiter, strip leading tabs).
fn heredocs(words: &[Word]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for word in words {
        let rest = word.text.trim_start_matches(|c: char| c.is_ascii_digit());
        let Some(rest) = rest.strip_prefix("<<") else {
            continue;
        };
        if rest.starts_with('<') {
            continue;
        }
        let (strip, rest) = match rest.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let name = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
            _ => {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                &rest[..end]
            }
        };
        if !name.is_empty() {
            out.push((name.to_string(), strip));
        }
    }
    out
}

/// Parses a Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, DetectError> {
    let lines = lines(text);
    let mut directives = Vec::new();
    let mut escape = '\\';
    let mut index = 0;
    // Parser directives: only at the very top, until any other line.
    while index < lines.len() {
        let Some(found) = directive(text, lines[index].clone()) else {
            break;
        };
        if directives.iter().any(|d: &Directive| d.name == found.name) {
            break;
        }
        if found.name == "escape" {
            escape = match found.value.text.as_str() {
                "`" => '`',
                "\\" => '\\',
                other => {
                    return Err(error(
                        text,
                        found.value.span.start,
                        format!("invalid escape character `{other}`"),
                    ));
                }
            };
        }
        directives.push(found);
        index += 1;
    }
    let mut instructions = Vec::new();
    while index < lines.len() {
        let line = lines[index].clone();
        if is_blank(text, &line) || is_comment_line(text, &line) {
            index += 1;
            continue;
        }
        // One logical instruction over continued lines.
        let mut logical: Logical = Vec::new();
        let first_line = index;
        loop {
            let line = lines[index].clone();
            index += 1;
            let cont = continuation(text, &line, escape);
            let end = cont.unwrap_or(line.end);
            logical.extend(
                text[line.start..end]
                    .char_indices()
                    .map(|(i, c)| (c, line.start + i)),
            );
            if cont.is_none() {
                break;
            }
            // Skip comment and blank lines inside the instruction.
            while index < lines.len()
                && (is_comment_line(text, &lines[index]) || is_blank(text, &lines[index]))
            {
                index += 1;
            }
            if index >= lines.len() {
                break;
            }
        }
        let mut words = words_of(&logical, escape);
        if words.is_empty() {
            continue;
        }
        let keyword_word = words.remove(0);
        let mut keyword = keyword_word
            .text
            .trim_start_matches('\u{feff}')
            .to_ascii_uppercase();
        let mut onbuild = false;
        if keyword == "ONBUILD" && !words.is_empty() {
            onbuild = true;
            keyword = words.remove(0).text.to_ascii_uppercase();
        }
        let mut flags = Vec::new();
        while words.first().is_some_and(|w| w.text.starts_with("--")) {
            flags.push(words.remove(0));
        }
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for (delimiter, strip) in heredocs(&words) {
                let opened_at = lines[index - 1].start;
                loop {
                    let Some(body) = lines.get(index).cloned() else {
                        return Err(error(
                            text,
                            opened_at,
                            format!("heredoc `{delimiter}` is not terminated"),
                        ));
                    };
                    index += 1;
                    let content = &text[body];
                    let content = if strip {
                        content.trim_start_matches('\t')
                    } else {
                        content
                    };
                    if content == delimiter {
                        break;
                    }
                }
            }
        }
        // `lines` holds every line of the text, so its index is the line.
        let line = first_line + 1;
        instructions.push(Instruction {
            keyword,
            onbuild,
            flags,
            args: words,
            line,
        });
    }
    Ok(Dockerfile {
        directives,
        escape,
        instructions,
    })
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

fn scan_with_platforms(text: &str) -> Result<(Vec<Finding>, BTreeMap<usize, String>), DetectError> {
    let file = parse(text)?;
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

    let mut findings = Vec::new();
    let mut platforms = BTreeMap::new();
    let positions = std::cell::RefCell::new(Positions::new(text));
    let site = |word: &Word| {
        let (line, column) = positions.borrow_mut().at(word.span.start);
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
    };
    let image = |word: &Word| -> Finding {
        let site = site(word);
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
    };
    if let Some(syntax) = file.directives.iter().find(|d| d.name == "syntax") {
        findings.push(image(&syntax.value));
    }
    // Build-argument defaults used whole as an image, once each, with the
    // platform all their uses agree on.
    let mut arg_uses: BTreeMap<usize, (Word, Vec<Option<String>>)> = BTreeMap::new();
    for u in &uses {
        let site_of = site(&u.word);
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
            let finding = image(&u.word);
            if let (Finding::Image { site, .. }, Some(p)) =
                (&finding, literal_platform(u.platform.as_deref()))
            {
                platforms.insert(site.span.start, p);
            }
            findings.push(finding);
        }
    }
    for (word, used_with) in arg_uses.values() {
        let finding = image(word);
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

/// The structure of a Dockerfile with the image text of `findings` blanked:
/// what a rewrite must keep.
fn skeleton(text: &str) -> Result<(Vec<String>, Vec<String>), DetectError> {
    let file = parse(text)?;
    let findings = scan(text)?;
    let images: Vec<String> = findings
        .iter()
        .filter_map(|f| match f {
            Finding::Image { site, .. } => Some(site.value.clone()),
            Finding::Skipped { .. } => None,
        })
        .collect();
    let spans: Vec<Range<usize>> = findings
        .iter()
        .filter(|f| matches!(f, Finding::Image { .. }))
        .map(|f| f.site().span.clone())
        .collect();
    let blank = |word: &Word| -> String {
        let mut out = word.text.clone();
        for span in &spans {
            if word.contiguous && word.span.start <= span.start && span.end <= word.span.end {
                let (a, b) = (span.start - word.span.start, span.end - word.span.start);
                out = format!("{}\u{0}{}", &word.text[..a], &word.text[b..]);
            }
        }
        out
    };
    let mut structure = vec![format!("escape {}", file.escape)];
    for d in &file.directives {
        structure.push(format!("# {}={}", d.name, blank(&d.value)));
    }
    for i in &file.instructions {
        let flags: Vec<String> = i.flags.iter().map(&blank).collect();
        let args: Vec<String> = i.args.iter().map(&blank).collect();
        structure.push(format!(
            "{} {}{} {:?} {:?}",
            i.line,
            if i.onbuild { "ONBUILD " } else { "" },
            i.keyword,
            flags,
            args
        ));
    }
    Ok((structure, images))
}

/// Why a rewritten Dockerfile was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    #[error("the original does not parse as a Dockerfile: {0}")]
    Original(DetectError),
    #[error("the rewritten file no longer parses as a Dockerfile: {0}")]
    Unparsable(DetectError),
    #[error("{0}")]
    Unintended(String),
}

/// Checks that `new` parses to the same instructions, flags, stage names and
/// directives as `old`, and that its images are those of `old` with the
/// values listed in `changes` (old value, new value, in file order) replaced.
pub fn check_rewrite(
    old: &str,
    new: &str,
    changes: &[(String, String)],
) -> Result<(), RewriteError> {
    let (before, old_images) = skeleton(old).map_err(RewriteError::Original)?;
    let (after, new_images) = skeleton(new).map_err(RewriteError::Unparsable)?;
    if before != after {
        let detail = before.iter().zip(&after).find(|(b, a)| b != a).map_or_else(
            || {
                format!(
                    "{} instructions before, {} after",
                    before.len(),
                    after.len()
                )
            },
            |(b, a)| format!("`{b}` became `{a}`"),
        );
        return Err(RewriteError::Unintended(detail));
    }
    if old_images.len() != new_images.len() {
        return Err(RewriteError::Unintended(format!(
            "{} images before, {} after",
            old_images.len(),
            new_images.len()
        )));
    }
    let mut expected = changes.iter();
    for (o, n) in old_images.iter().zip(&new_images) {
        if o == n {
            continue;
        }
        match expected.next() {
            Some((from, to)) if from == o && to == n => {}
            _ => return Err(RewriteError::Unintended(format!("`{o}` became `{n}`"))),
        }
    }
    if let Some((from, _)) = expected.next() {
        return Err(RewriteError::Unintended(format!(
            "`{from}` was not rewritten"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (value, what was found) for each finding.
    fn found(text: &str) -> Vec<(String, String)> {
        scan(text)
            .unwrap()
            .into_iter()
            .map(|f| match f {
                Finding::Image { site, .. } => {
                    assert_eq!(&text[site.span.clone()], site.value);
                    (site.value, "image".to_string())
                }
                Finding::Skipped { site, reason } => (site.value, reason.to_string()),
            })
            .collect()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn names() {
        for yes in [
            "Dockerfile",
            "a/dockerfile",
            "Containerfile",
            "Dockerfile.dev",
            "app.Dockerfile",
            "x.containerfile",
            "CONTAINERFILE.prod",
        ] {
            assert!(is_dockerfile_name(Path::new(yes)), "{yes}");
        }
        for no in [
            "Dockerfile.dockerignore",
            "app.Dockerfile.dockerignore",
            "Dockerfiles",
            "my-dockerfile",
            "compose.yaml",
            ".dockerfile",
            "Dockerfile.",
        ] {
            assert!(!is_dockerfile_name(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn content_sniffing() {
        assert!(looks_like_dockerfile(
            "# syntax=docker/dockerfile:1\nARG V=1\nfrom alpine:3\nRUN <<EOF\nnot: an instruction\nEOF\n"
        ));
        assert!(!looks_like_dockerfile("# Title\n\nSome text FROM here\n"));
        assert!(!looks_like_dockerfile("RUN make\nFROM alpine\n"));
        assert!(!looks_like_dockerfile("FROM alpine\nimage: nginx\n"));
        assert!(!looks_like_dockerfile("FROM here on, text\n"));
        assert!(!looks_like_dockerfile(""));
    }

    #[test]
    fn from_lines_stages_scratch_and_arguments() {
        let text = "ARG BASE=node:20-alpine\nARG TAG=1\nFROM --platform=$BUILDPLATFORM golang:1.22 AS Build\nFROM ${BASE} as web\nFROM build\nFROM scratch\nFROM alpine:${TAG}\nFROM $BASE\n";
        assert_eq!(
            found(text),
            pairs(&[
                ("node:20-alpine", "image"),
                ("golang:1.22", "image"),
                ("${BASE}", "made of build arguments, not resolved"),
                ("build", "a build stage, not an image"),
                ("scratch", "`scratch` is the empty image"),
                ("alpine:${TAG}", "made of build arguments, not resolved"),
                ("$BASE", "made of build arguments, not resolved"),
            ])
        );
        assert!(platforms(text).is_empty());
    }

    #[test]
    fn continuations_comments_and_escape_directive() {
        let text = "# syntax=docker/dockerfile:1.7\n# escape=`\n\nFROM `\n  # a comment inside\n\n  --platform=linux/arm64 `\n  debian:12 AS base\nRUN echo \\\nFROM busybox:1.36\n";
        let file = parse(text).unwrap();
        assert_eq!(file.escape, '`');
        // With "`" as the escape character, a backslash continues nothing.
        let keywords: Vec<&str> = file
            .instructions
            .iter()
            .map(|i| i.keyword.as_str())
            .collect();
        assert_eq!(keywords, ["FROM", "RUN", "FROM"]);
        assert_eq!(
            found(text),
            pairs(&[
                ("docker/dockerfile:1.7", "image"),
                ("debian:12", "image"),
                ("busybox:1.36", "image")
            ])
        );
        let at = text.find("debian").unwrap();
        assert_eq!(
            platforms(text),
            BTreeMap::from([(at, "linux/arm64".to_string())])
        );
    }

    #[test]
    fn backslash_continuation_and_split_word() {
        let text = "FROM \\\n  # comment\n  python:3.12 \\\n  AS app\nFROM ubu\\\nntu:24.04\n";
        let file = parse(text).unwrap();
        assert_eq!(file.instructions.len(), 2);
        assert_eq!(
            found(text),
            pairs(&[
                ("python:3.12", "image"),
                (
                    "ubuntu:24.04",
                    "the value is escaped or spans lines in the source; pin it by hand"
                ),
            ])
        );
    }

    #[test]
    fn heredoc_bodies_are_not_instructions() {
        let text = "FROM alpine:3.20\nRUN <<EOF cat > /x && <<-'END' cat\nFROM evil:1\nEOF\n\tFROM evil:2\n\tEND\nCOPY <<\"X\" /y\nFROM evil:3\nX\nFROM busybox:1.36\n";
        let file = parse(text).unwrap();
        let keywords: Vec<&str> = file
            .instructions
            .iter()
            .map(|i| i.keyword.as_str())
            .collect();
        assert_eq!(keywords, ["FROM", "RUN", "COPY", "FROM"]);
        assert_eq!(
            found(text),
            pairs(&[("alpine:3.20", "image"), ("busybox:1.36", "image")])
        );
        assert!(parse("FROM a\nRUN <<EOF\nno end\n").is_err());
    }

    #[test]
    fn copy_from_mount_from_and_onbuild() {
        let text = "FROM golang:1.22 AS build\nCOPY --from=build /a /b\nCOPY --from=0 /a /b\nCOPY --link --from=nginx:1.25 /etc/nginx /etc/nginx\nRUN --mount=type=cache,target=/c --mount=type=bind,from=ghcr.io/o/tools:v1,source=/t,target=/t make\nRUN --mount=type=bind,from=build,target=/s true\nONBUILD COPY --from=redis:7 /x /y\n";
        assert_eq!(
            found(text),
            pairs(&[
                ("golang:1.22", "image"),
                ("build", "a build stage, not an image"),
                ("0", "a build stage, not an image"),
                ("nginx:1.25", "image"),
                ("ghcr.io/o/tools:v1", "image"),
                ("build", "a build stage, not an image"),
                ("redis:7", "image"),
            ])
        );
    }

    #[test]
    fn stage_arguments_shadow_global_ones() {
        let text = "ARG IMG=alpine:3.19\nFROM ${IMG}\nARG IMG\nCOPY --from=${IMG} /a /b\nFROM debian:12\nARG TOOLS=\"ghcr.io/o/t:2\"\nCOPY --from=$TOOLS /a /b\nARG UNUSED=redis:7\n";
        let got: Vec<String> = found(text)
            .into_iter()
            .filter(|(_, r)| r == "image")
            .map(|(v, _)| v)
            .collect();
        assert_eq!(got, ["alpine:3.19", "debian:12", "ghcr.io/o/t:2"]);
    }

    #[test]
    fn crlf_and_directive_spans() {
        let text = "#syntax = docker/dockerfile:1\r\nFROM nginx:1.25\r\n";
        assert_eq!(
            found(text),
            pairs(&[("docker/dockerfile:1", "image"), ("nginx:1.25", "image")])
        );
    }

    #[test]
    fn rewrite_check_accepts_image_changes_only() {
        let d = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
        let old = "FROM --platform=linux/amd64 nginx:1.25 AS web\nRUN true\n";
        let new = format!("FROM --platform=linux/amd64 nginx:1.25@{d} AS web\nRUN true\n");
        let change = [("nginx:1.25".to_string(), format!("nginx:1.25@{d}"))];
        check_rewrite(old, &new, &change).unwrap();
        let dropped = format!("FROM nginx:1.25@{d} AS web\nRUN true\n");
        assert!(check_rewrite(old, &dropped, &change).is_err());
        let renamed = format!("FROM --platform=linux/amd64 nginx:1.25@{d} AS app\nRUN true\n");
        assert!(check_rewrite(old, &renamed, &change).is_err());
        assert!(check_rewrite(old, old, &change).is_err());
    }
}
