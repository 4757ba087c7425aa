//! The `digestpin` command: parse the arguments, run, print the error chain.

mod cli;
mod report;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("digestpin: error: {err:#}");
            cli::Status::Error.into()
        }
    }
}
