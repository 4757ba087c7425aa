//! The human renderer: one line per record (`path:line:col: message`), with
//! colour on a terminal; the closing summaries of each command; values shown
//! on one line.

use digestpin::job::{JobKind, Mode};
use digestpin::jobs::Summary;
use digestpin::jobs::check::Violation;

use super::{Level, Record};

/// `text` in the ANSI colour `code`, when colour is on.
pub fn paint(color: bool, text: &str, code: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A record's line: its place, then its message (errors and warnings on
/// standard error are marked).
pub fn record_line(r: &Record, color: bool) -> String {
    let location = match (&r.path, r.line, r.column) {
        (Some(p), Some(l), Some(c)) => format!("{}:{l}:{c}: ", printable(p)),
        (Some(p), _, _) => format!("{}: ", printable(p)),
        _ => String::new(),
    };
    let message = match r.level {
        Level::Error if !r.stdout => {
            format!(
                "{} {}",
                paint(color, "error:", "1;31"),
                printable(&r.message)
            )
        }
        Level::Warning if !r.stdout => paint(color, &printable(&r.message), "33"),
        _ => printable(&r.message),
    };
    format!("{location}{message}")
}

/// `list`: `path:line:col<TAB>…`, the location a column of its own.
pub fn list_line(r: &Record) -> String {
    format!(
        "{}:{}:{}\t{}",
        printable(r.path.as_deref().unwrap_or_default()),
        r.line.unwrap_or_default(),
        r.column.unwrap_or_default(),
        r.message
    )
}

/// What a rewrite did to one reference: `pinned`, `would rewrite`, ….
pub fn verb(mode: Mode, job: JobKind) -> &'static str {
    match (mode, job) {
        (Mode::Write, JobKind::Pin) => "pinned",
        (_, JobKind::Pin) => "would pin",
        (Mode::Write, _) => "rewrote",
        _ => "would rewrite",
    }
}

/// The closing line of `pin`, `update` and `unpin`.
pub fn rewrite_summary(mode: Mode, job: JobKind, summary: &Summary, changed: usize) -> String {
    let action = match (mode, job) {
        (Mode::Write, JobKind::Pin) => "pinned",
        (Mode::Write, JobKind::Unpin) => "unpinned",
        (Mode::Write, _) => "updated",
        (_, JobKind::Pin) => "to pin",
        (_, JobKind::Unpin) => "to unpin",
        _ => "to update",
    };
    let kept = if job == JobKind::Update {
        "up to date"
    } else {
        "already pinned"
    };
    let mut line = format!(
        "{} in {}: {} {action}, {} {kept}, {} skipped, {} failed",
        count(summary.found, "reference", "references"),
        count(summary.files, "file", "files"),
        summary.changed,
        summary.unchanged,
        summary.skipped,
        summary.failed
    );
    if summary.held_back > 0 {
        line.push_str(&format!(
            ", {} held back in files with a failure",
            summary.held_back
        ));
    }
    if summary.file_errors > 0 {
        line.push_str(&format!(
            ", {} with errors",
            count(summary.file_errors, "file", "files")
        ));
    }
    if changed > 0 {
        let verb = if mode == Mode::Write {
            "changed"
        } else {
            "would change"
        };
        line.push_str(&format!("; {} {verb}", count(changed, "file", "files")));
    }
    line
}

/// The closing lines listing failed references by kind of failure, when
/// more than one failed.
pub fn failures_by_reason(
    failures: &std::collections::BTreeMap<&'static str, Vec<String>>,
) -> Vec<String> {
    if failures.values().map(Vec::len).sum::<usize>() <= 1 {
        return Vec::new();
    }
    let mut lines = vec!["failed references by reason:".to_string()];
    for (kind, places) in failures {
        let shown: Vec<&str> = places.iter().take(5).map(String::as_str).collect();
        let more = places.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(", and {more} more")
        } else {
            String::new()
        };
        lines.push(format!(
            "  {kind}: {} ({}{more})",
            places.len(),
            shown.join(", ")
        ));
    }
    lines
}

/// The closing line of `verify`.
pub fn verify_summary(checked: usize, findings: usize) -> String {
    format!(
        "{} verified, {}",
        count(checked, "pin", "pins"),
        count(findings, "finding", "findings")
    )
}

/// Settings as TOML with the origin of each value as a comment after it
/// (`jobs = 8  # default`), so the text stays a valid configuration file.
/// `origin` names the layer of a key (`jobs`, `policy.allow`, `helm.style`).
pub fn annotate_settings(toml: &str, origin: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(toml.len() * 2);
    let mut section = String::new();
    for line in toml.lines() {
        out.push_str(line);
        if let Some(table) = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
            section = table.to_string();
            out.push_str(&format!("  # {}", origin(table)));
        } else if let Some(table) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = table.to_string();
        } else if let Some((key, _)) = line.split_once(" = ")
            && !line.starts_with(' ')
            && !line.contains("'''")
            && !line.contains("\"\"\"")
            && section != "custom-resources"
        {
            let key = if section.is_empty() {
                key.to_string()
            } else {
                format!("{section}.{key}")
            };
            out.push_str(&format!("  # {}", origin(&key)));
        }
        out.push('\n');
    }
    out
}

/// `--verbose`: `HEAD http://host/v2/…: 200 in 3 ms`, or `resolved
/// registry/repository:tag to sha256:…` (`for os/arch`, or `failed: …`).
pub fn trace_line(event: &digestpin::registry::TraceEvent) -> String {
    use digestpin::registry::TraceEvent;
    match event {
        TraceEvent::Request {
            method,
            url,
            status,
            elapsed,
        } => {
            let status = match status {
                Ok(code) => code.to_string(),
                Err(why) => (*why).to_string(),
            };
            format!("{method} {url}: {status} in {} ms", elapsed.as_millis())
        }
        TraceEvent::Resolved { key, result } => {
            let platform = key
                .platform
                .as_ref()
                .map(|p| format!(" for {p}"))
                .unwrap_or_default();
            let name = format!("{}/{}:{}{platform}", key.registry, key.repository, key.tag);
            match result {
                Ok(digest) => format!("resolved {name} to {digest}"),
                Err(err) => format!("resolving {name} failed: {err}"),
            }
        }
    }
}

/// `--verbose`: `http://127.0.0.1:5000: 3 requests (GET 1, HEAD 2)`, one
/// line per endpoint.
pub fn request_counts(
    counts: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, usize>>,
) -> Vec<String> {
    counts
        .iter()
        .map(|(endpoint, methods)| {
            let total = methods.values().sum();
            let each: Vec<String> = methods.iter().map(|(m, n)| format!("{m} {n}")).collect();
            format!(
                "{endpoint}: {} ({})",
                count(total, "request", "requests"),
                each.join(", ")
            )
        })
        .collect()
}

/// `1 reference`, `2 references`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The closing line of `check`: references counted once each, however many
/// rules they break.
pub fn check_summary(violations: &[Violation]) -> String {
    use digestpin::jobs::check::Problem;
    let places = |problem: &dyn Fn(&Problem) -> bool| {
        violations
            .iter()
            .filter(|v| problem(&v.problem))
            .map(|v| (&v.at.path, v.at.line, v.at.column))
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    let all = places(&|_| true);
    let unpinned = places(&|p| p == &Problem::NotPinned);
    let latest = places(&|p| p == &Problem::Latest);
    let cannot = places(&|p| matches!(p, Problem::CannotPin(_)));
    if latest == 0 && cannot == 0 {
        let verb = if all == 1 { "needs" } else { "need" };
        format!(
            "{} {verb} pinning; run `digestpin pin` on these files",
            count(all, "reference", "references")
        )
    } else {
        // `digestpin pin` is no answer to what it cannot pin.
        let verb = if all == 1 { "fails" } else { "fail" };
        let parts: Vec<String> = [
            (unpinned, "not pinned"),
            (latest, "using the `latest` tag"),
            (cannot, "that digestpin cannot pin as written (fix by hand)"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        format!(
            "{} {verb} the check: {}",
            count(all, "reference", "references"),
            parts.join(", ")
        )
    }
}

/// A value shown on one line: line breaks, tabs and other control
/// characters are written as escapes (`\n`, `\t`, `\u{1b}`).
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// `retag`: the rule and line of one tag.
pub fn retag_line(
    name: &str,
    digest: &str,
    step: &digestpin::registry::TagMove,
    dry_run: bool,
) -> (&'static str, String) {
    let tagged = format!("{name}:{}", step.tag);
    if !step.moves(digest) {
        return ("tag-unchanged", format!("{tagged} already names {digest}"));
    }
    let from = step
        .old
        .as_deref()
        .map_or_else(|| "(new tag)".to_string(), |old| format!("from {old}"));
    if dry_run {
        (
            "would-retag",
            format!("would move {tagged} {from} to {digest}"),
        )
    } else {
        ("retagged", format!("moved {tagged} {from} to {digest}"))
    }
}

/// `retag`: the count of tags moved, and the command that undoes each move.
pub fn retag_summary(
    name: &str,
    digest: &str,
    moves: &[digestpin::registry::TagMove],
    dry_run: bool,
) -> Vec<String> {
    let moving: Vec<_> = moves.iter().filter(|m| m.moves(digest)).collect();
    let verb = if dry_run { "would move" } else { "moved" };
    let mut out = vec![format!(
        "{verb} {} of {}",
        count(moving.len(), "tag", "tags"),
        moves.len()
    )];
    for m in moving {
        if let Some(old) = &m.old {
            out.push(format!("undo: digestpin retag {name}@{old} {}", m.tag));
        }
    }
    out
}

/// `verify --provenance`: ` [revision …, source …, version …, created …]`
/// with the keys known, or ` [no provenance]`.
pub fn provenance_note(found: &digestpin::registry::Provenance) -> String {
    let parts: Vec<String> = [
        ("revision", &found.revision),
        ("source", &found.source),
        ("version", &found.version),
        ("created", &found.created),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
    .collect();
    if parts.is_empty() {
        " [no provenance]".to_string()
    } else {
        format!(" [{}]", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_carry_their_origin_as_comments() {
        let toml = "jobs = 2\nmirrors = [\n    \"a=b\",\n]\n\n[policy]\nallow = []\n\n[[custom-resources]]\nkind = \"W\"\n";
        let origin = |key: &str| match key {
            "jobs" => "from a.toml".to_string(),
            other => format!("default ({other})"),
        };
        let annotated = annotate_settings(toml, &origin);
        assert_eq!(
            annotated,
            "jobs = 2  # from a.toml\nmirrors = [  # default (mirrors)\n    \"a=b\",\n]\n\n[policy]\nallow = []  # default (policy.allow)\n\n[[custom-resources]]  # default (custom-resources)\nkind = \"W\"\n"
        );
        assert_eq!(
            toml::from_str::<toml::Value>(&annotated).unwrap(),
            toml::from_str::<toml::Value>(toml).unwrap()
        );
    }

    #[test]
    fn control_characters_are_escaped_on_one_line() {
        assert_eq!(printable("a\tb\nc\u{1b}"), "a\\tb\\nc\\u{001b}");
        assert_eq!(printable("plain"), "plain");
    }
}
