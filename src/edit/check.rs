//! The re-parse check run on every rewrite before it is written:
//! [`check_rewrite`] compares the YAML event streams before and after;
//! [`check_rewrite_for`] sends Dockerfiles to
//! [`crate::detect::dockerfile::check_rewrite`].

use saphyr_parser::{Event, Parser};

use super::EditError;
use crate::detect::FileKind;

/// The YAML events of `text` (mended as [`crate::detect::yaml::parse`]
/// mends it, when it must be), with the position information dropped, for
/// comparison.
fn events(text: &str) -> Result<Vec<Event<'static>>, EditError> {
    // Most texts parse as they are: mending (a parse of its own) only when
    // this one fails.
    events_as_is(text).or_else(|_| events_as_is(&crate::detect::yaml::parsable(text)))
}

/// The events of `text` as it is.
fn events_as_is(text: &str) -> Result<Vec<Event<'static>>, EditError> {
    let mut out = Vec::new();
    for item in Parser::new_from_str(text) {
        match item {
            Ok((event, _span)) => out.push(owned(event)),
            Err(err) => {
                return Err(EditError::Unparsable {
                    message: err.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// An event that owns its strings.
fn owned(event: Event<'_>) -> Event<'static> {
    use std::borrow::Cow;
    match event {
        Event::Scalar(value, style, anchor, tag) => Event::Scalar(
            Cow::Owned(value.into_owned()),
            style,
            anchor,
            tag.map(|t| Cow::Owned(t.into_owned())),
        ),
        Event::SequenceStart(anchor, tag) => {
            Event::SequenceStart(anchor, tag.map(|t| Cow::Owned(t.into_owned())))
        }
        Event::MappingStart(anchor, tag) => {
            Event::MappingStart(anchor, tag.map(|t| Cow::Owned(t.into_owned())))
        }
        Event::Nothing => Event::Nothing,
        Event::StreamStart => Event::StreamStart,
        Event::StreamEnd => Event::StreamEnd,
        Event::DocumentStart(explicit) => Event::DocumentStart(explicit),
        Event::DocumentEnd => Event::DocumentEnd,
        Event::Alias(anchor) => Event::Alias(anchor),
        Event::SequenceEnd => Event::SequenceEnd,
        Event::MappingEnd => Event::MappingEnd,
    }
}

/// [`check_rewrite`] for a file of `kind`: Dockerfiles are re-parsed by the
/// Dockerfile parser ([`crate::detect::dockerfile::check_rewrite`]).
pub fn check_rewrite_for(
    kind: FileKind,
    old: &str,
    new: &str,
    changes: &[(String, String)],
) -> Result<(), EditError> {
    match kind {
        FileKind::Dockerfile => {
            crate::detect::dockerfile::check_rewrite(old, new, changes).map_err(EditError::from)
        }
        _ => check_rewrite(old, new, changes),
    }
}

/// Checks that `new` parses to the same YAML events as `old`, except that the
/// scalars listed in `changes` (old value, new value, in file order) changed.
pub fn check_rewrite(old: &str, new: &str, changes: &[(String, String)]) -> Result<(), EditError> {
    let before = events(old).map_err(|e| EditError::Unintended {
        detail: format!("the original does not parse: {e}"),
    })?;
    let mut after = events(new)?;
    // `digest` fields added (`("", digest)`) or removed
    // (`(digest, "")`): only when the structure changed, since an empty
    // scalar can also be filled in place (a Helm `digest: ""`).
    let mut before = before;
    let changes: Vec<(String, String)> = if before.len() == after.len() {
        changes.to_vec()
    } else {
        let added: Vec<&str> = changes
            .iter()
            .filter(|(o, _)| o.is_empty())
            .map(|(_, n)| n.as_str())
            .collect();
        let removed: Vec<&str> = changes
            .iter()
            .filter(|(o, n)| n.is_empty() && !o.is_empty())
            .map(|(o, _)| o.as_str())
            .collect();
        drop_digest_fields(&mut after, &before, &added)?;
        drop_digest_fields(&mut before, &after, &removed)?;
        changes
            .iter()
            .filter(|(o, n)| !o.is_empty() && !n.is_empty())
            .cloned()
            .collect()
    };
    if before.len() != after.len() {
        return Err(EditError::Unintended {
            detail: format!("{} events before, {} after", before.len(), after.len()),
        });
    }
    let mut expected = changes.iter();
    for (b, a) in before.iter().zip(&after) {
        if b == a {
            continue;
        }
        match (b, a) {
            (Event::Scalar(bv, bs, ba, bt), Event::Scalar(av, as_, aa, at))
                if bs == as_ && ba == aa && bt == at =>
            {
                match expected.next() {
                    Some((old_value, new_value)) if old_value == bv && new_value == av => {}
                    // A workflow step's `uses: docker://…`: the reference
                    // follows the scheme, which stays.
                    Some((old_value, new_value))
                        if bv.strip_prefix("docker://") == Some(old_value)
                            && av.strip_prefix("docker://") == Some(new_value) => {}
                    _ => {
                        return Err(EditError::Unintended {
                            detail: format!("scalar `{bv}` became `{av}`"),
                        });
                    }
                }
            }
            _ => {
                return Err(EditError::Unintended {
                    detail: format!("{b:?} became {a:?}"),
                });
            }
        }
    }
    if let Some((old_value, _)) = expected.next() {
        return Err(EditError::Unintended {
            detail: format!("`{old_value}` was not rewritten"),
        });
    }
    Ok(())
}

/// Removes from `longer` the `digest: <value>` pairs, one per value of
/// `values` in order, that `shorter` lacks: each must directly follow one
/// of [`super::field::ANCHORS`] and its value in a mapping (a kustomize
/// `images[]` entry's `newTag`, a Helm image map's `tag`), where
/// [`super::field::insert_after`] puts it. Any pair not found is an error.
fn drop_digest_fields(
    longer: &mut Vec<Event<'static>>,
    shorter: &[Event<'static>],
    values: &[&str],
) -> Result<(), EditError> {
    if values.is_empty() {
        return Ok(());
    }
    let scalar = |e: Option<&Event<'_>>| match e {
        Some(Event::Scalar(value, ..)) => Some(value.to_string()),
        _ => None,
    };
    let mut kept = Vec::with_capacity(longer.len());
    let mut wanted = values.iter().peekable();
    let mut k = 0;
    while k < longer.len() {
        let is_field = wanted.peek().is_some_and(|&&value| {
            k >= 2
                && scalar(longer.get(k - 2))
                    .is_some_and(|key| super::field::ANCHORS.contains(&key.as_str()))
                && scalar(longer.get(k - 1)).is_some()
                && scalar(longer.get(k)).as_deref() == Some(super::field::DIGEST)
                && scalar(longer.get(k + 1)).as_deref() == Some(value)
                && shorter.get(kept.len()) != longer.get(k)
        });
        if is_field {
            wanted.next();
            k += 2;
            continue;
        }
        kept.push(longer[k].clone());
        k += 1;
    }
    if let Some(value) = wanted.next() {
        return Err(EditError::Unintended {
            detail: format!(
                "no `digest: {value}` beside {}",
                super::field::ANCHORS.join(" or ")
            ),
        });
    }
    *longer = kept;
    Ok(())
}
