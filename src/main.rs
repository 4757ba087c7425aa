//! The `digestpin` command: parse the arguments, run, print the error chain.

mod cli;
mod report;

use std::process::ExitCode;

fn main() -> ExitCode {
    use clap::{CommandFactory as _, FromArgMatches as _};
    // `--color` is read before parsing, so that clap's own messages (a bad
    // flag, --help) follow it too.
    let mut command = cli::Args::command();
    if let Some(choice) = color_flag(std::env::args_os().skip(1)) {
        command = command.color(choice);
    }
    let args = match cli::Args::from_arg_matches(&command.get_matches()) {
        Ok(args) => args,
        Err(err) => err.exit(),
    };
    match cli::run(args) {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("digestpin: error: {err:#}");
            cli::Status::Error.into()
        }
    }
}

/// The value of the last `--color` flag before any `--`, as clap takes it.
fn color_flag(args: impl Iterator<Item = std::ffi::OsString>) -> Option<clap::ColorChoice> {
    let mut choice = None;
    let mut args = args.map(|arg| arg.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--" => break,
            "--color" => args.next(),
            _ => arg.strip_prefix("--color=").map(str::to_owned),
        };
        choice = match value.as_deref() {
            Some("always") => Some(clap::ColorChoice::Always),
            Some("never") => Some(clap::ColorChoice::Never),
            Some("auto") => Some(clap::ColorChoice::Auto),
            _ => choice,
        };
    }
    choice
}
