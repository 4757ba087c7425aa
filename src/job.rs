//! What a command runs and how: the job kind and the rewrite mode.
//!
//! Both are chosen once in the binary's command layer and read by the report
//! layer (the verbs and summaries it prints, the JSON document's `command`
//! and `mode`), so neither of the binary's modules imports the other.

/// What a rewriting command does with the new text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write the files.
    Write,
    /// Print a unified diff, write nothing.
    Diff,
    /// Write nothing; exit 1 if anything would change.
    Check,
}

impl Mode {
    /// The name in the JSON document: `write`, `diff`, `check`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Write => "write",
            Mode::Diff => "diff",
            Mode::Check => "check",
        }
    }
}

/// The command being run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Pin,
    Check,
    Update,
    Verify,
    Unpin,
    List,
    Resolve,
    Config,
    Retag,
    History,
    Set,
    Rollback,
    Promote,
}

impl JobKind {
    /// The command's name, as typed and as the JSON document's `command`.
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Pin => "pin",
            JobKind::Check => "check",
            JobKind::Update => "update",
            JobKind::Verify => "verify",
            JobKind::Unpin => "unpin",
            JobKind::List => "list",
            JobKind::Resolve => "resolve",
            JobKind::Config => "config",
            JobKind::Retag => "retag",
            JobKind::History => "history",
            JobKind::Set => "set",
            JobKind::Rollback => "rollback",
            JobKind::Promote => "promote",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_command_and_mode_names() {
        let jobs = [
            JobKind::Pin,
            JobKind::Check,
            JobKind::Update,
            JobKind::Verify,
            JobKind::Unpin,
            JobKind::List,
            JobKind::Resolve,
            JobKind::Config,
            JobKind::History,
            JobKind::Set,
            JobKind::Rollback,
            JobKind::Promote,
        ];
        let names: Vec<&str> = jobs.iter().map(|j| j.name()).collect();
        assert_eq!(
            names,
            [
                "pin", "check", "update", "verify", "unpin", "list", "resolve", "config",
                "history", "set", "rollback", "promote"
            ]
        );
        let modes: Vec<&str> = [Mode::Write, Mode::Diff, Mode::Check]
            .iter()
            .map(|m| m.name())
            .collect();
        assert_eq!(modes, ["write", "diff", "check"]);
    }
}
