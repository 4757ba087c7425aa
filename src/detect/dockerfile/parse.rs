//! The Dockerfile parser: parser directives at the top (`# syntax=`,
//! `# escape=`), instructions continued over lines with the escape
//! character, comment lines (also inside a continued instruction), heredoc
//! bodies (which are not instructions) and `ONBUILD`. Every word keeps the
//! byte range it came from.

use std::ops::Range;

use crate::detect::{DetectError, Positions};

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
    pub(super) fn slice(&self, range: Range<usize>) -> Word {
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
    let (directives, escape, mut index) = parse_directives(text, &lines)?;
    let mut instructions = Vec::new();
    while index < lines.len() {
        let line = lines[index].clone();
        if is_blank(text, &line) || is_comment_line(text, &line) {
            index += 1;
            continue;
        }
        let first_line = index;
        let logical = logical_instruction(text, &lines, &mut index, escape);
        // `lines` holds every line of the text, so its index is the line.
        let Some(instruction) = instruction_of(words_of(&logical, escape), first_line + 1) else {
            continue;
        };
        if matches!(instruction.keyword.as_str(), "RUN" | "COPY" | "ADD") {
            skip_heredocs(text, &lines, &mut index, &instruction.args)?;
        }
        instructions.push(instruction);
    }
    Ok(Dockerfile {
        directives,
        escape,
        instructions,
    })
}

/// The parser directives at the very top (until any other line or a
/// repeated one), the escape character they choose, and the index of the
/// first line after them.
fn parse_directives(
    text: &str,
    lines: &[Range<usize>],
) -> Result<(Vec<Directive>, char, usize), DetectError> {
    let mut directives = Vec::new();
    let mut escape = '\\';
    let mut index = 0;
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
    Ok((directives, escape, index))
}

/// The characters of one logical instruction starting at line `index`, over
/// its continued lines (comment and blank lines inside it skipped); `index`
/// moves past it.
fn logical_instruction(
    text: &str,
    lines: &[Range<usize>],
    index: &mut usize,
    escape: char,
) -> Logical {
    let mut logical: Logical = Vec::new();
    loop {
        let line = lines[*index].clone();
        *index += 1;
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
        while *index < lines.len()
            && (is_comment_line(text, &lines[*index]) || is_blank(text, &lines[*index]))
        {
            *index += 1;
        }
        if *index >= lines.len() {
            break;
        }
    }
    logical
}

/// An instruction from its words: the keyword (after any `ONBUILD`), the
/// leading `--` flags, the arguments. `None` for no words.
fn instruction_of(mut words: Vec<Word>, line: usize) -> Option<Instruction> {
    if words.is_empty() {
        return None;
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
    Some(Instruction {
        keyword,
        onbuild,
        flags,
        args: words,
        line,
    })
}

/// Moves `index` past the bodies of the heredocs `words` open (the lines
/// up to each delimiter); an unterminated heredoc is an error.
fn skip_heredocs(
    text: &str,
    lines: &[Range<usize>],
    index: &mut usize,
    words: &[Word],
) -> Result<(), DetectError> {
    for (delimiter, strip) in heredocs(words) {
        let opened_at = lines[*index - 1].start;
        loop {
            let Some(body) = lines.get(*index).cloned() else {
                return Err(error(
                    text,
                    opened_at,
                    format!("heredoc `{delimiter}` is not terminated"),
                ));
            };
            *index += 1;
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
    Ok(())
}
