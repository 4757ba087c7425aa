//! The command-line tests: one binary, one module per area, every test
//! running `digestpin` against files in a temporary directory, a real
//! registry on 127.0.0.1 and, where it matters, a real git repository, all
//! built by the fixtures in `tests/support/`. Outputs are compared whole,
//! mostly as insta snapshots with temporary paths, ports and digests
//! filtered.

#[path = "../support/mod.rs"]
mod support;

mod action;
mod action_release;
mod action_update;
mod cache;
mod commit;
mod credentials;
mod detect_mutations;
mod detect_rules;
mod dockerfile;
mod faults;
mod files;
mod formats;
mod formats_yaml;
mod helm;
mod helm_digest;
mod history;
mod http2;
mod lifecycle;
mod output;
mod pin_fixtures;
mod provenance;
mod resolve;
mod retag;
mod sniff;
mod tags;
mod tokens;
mod tooling;
mod write_batch;
