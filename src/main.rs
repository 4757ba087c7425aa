//! The `digestpin` command: parse the arguments, run, print the error chain.

mod cli;
mod report;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: scanning allocates a small
/// parse tree per file on every thread, where glibc's arenas shrink and grow
/// their heaps again and again and musl's allocator (the static release
/// builds) takes a lock per call.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
