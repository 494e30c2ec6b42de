//! `cargo xtask bench <what>`: benchmarks that print figures, each against a baseline measured in the same run.

use crate::Result;

mod apply;
mod drain;
mod handler;
mod plan;

pub fn run(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        Some("plan") => plan::run(&args[1..]),
        Some("apply") => apply::run(&args[1..]),
        Some("handler") => handler::run(&args[1..]),
        Some("drain") => drain::run(&args[1..]),
        Some(other) => Err(format!("unknown benchmark {other:?}; expected plan, apply, handler or drain").into()),
        None => Err("usage: cargo xtask bench <plan|apply|handler|drain>".into()),
    }
}
