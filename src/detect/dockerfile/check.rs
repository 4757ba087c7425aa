//! The re-parse check of a rewritten Dockerfile: the instructions, flags
//! and stage names stay; only the image values listed change.

use std::ops::Range;

use super::{Word, parse, scan};
use crate::detect::{DetectError, Finding};

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
