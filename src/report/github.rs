//! The GitHub renderer: workflow annotations (`::error file=…::…`), and the
//! one escaping function every byte printed in this format goes through.

use super::{Level, Record};

/// Where an escaped text goes in a workflow command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// The message after `::`, or any other line GitHub reads commands from.
    Data,
    /// A property value (`file=…`, `title=…`).
    Property,
}

/// Escapes text for GitHub's workflow commands, as GitHub documents: `%`,
/// `\r` and `\n` everywhere, and `:` and `,` in property values. Every byte
/// the github format prints that may start or end a command (file names,
/// messages, diff headers) goes through here.
pub fn escape(s: &str, target: Escape) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if target == Escape::Property => out.push_str("%3A"),
            ',' if target == Escape::Property => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

/// `::error file=…,line=…,col=…,title=…::message`
pub fn annotation(r: &Record) -> String {
    let command = match r.level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "notice",
    };
    let mut properties = Vec::new();
    if let Some(path) = &r.path {
        properties.push(format!(
            "file={}",
            escape(path.trim_start_matches("./"), Escape::Property)
        ));
    }
    if let Some(line) = r.line {
        properties.push(format!("line={line}"));
    }
    if let Some(column) = r.column {
        properties.push(format!("col={column}"));
    }
    properties.push(format!(
        "title={}",
        escape(&format!("digestpin {}", r.rule), Escape::Property)
    ));
    format!(
        "::{command} {}::{}",
        properties.join(","),
        escape(&r.message, Escape::Data)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_as_github_documents() {
        let r = Record {
            path: Some("./k8s/a,b.yaml".into()),
            line: Some(3),
            column: Some(12),
            ..Record::new(
                None,
                Level::Error,
                "not-pinned",
                "nginx:1.25: 100%\nnot pinned".into(),
            )
        };
        assert_eq!(
            annotation(&r),
            "::error file=k8s/a%2Cb.yaml,line=3,col=12,title=digestpin not-pinned::nginx:1.25: 100%25%0Anot pinned"
        );
    }

    #[test]
    fn one_escape_for_data_and_properties() {
        let hostile = "a%0A::error::x,\r\n.yaml";
        assert_eq!(
            escape(hostile, Escape::Data),
            "a%250A::error::x,%0D%0A.yaml"
        );
        assert_eq!(
            escape(hostile, Escape::Property),
            "a%250A%3A%3Aerror%3A%3Ax%2C%0D%0A.yaml"
        );
    }
}
