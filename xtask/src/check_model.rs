//! `cargo xtask check-model [--depth N] [--instances N] [--faults N] [--duplicates N] [--losses N] [--races N]
//! [--horizon S] [--agent-offline S] [--agent-drops N] [--liveness] [--heartbeats] [--other-hook] [--cancel-lag]
//! [--offline-sends-refused] [--on-failure-continue] [--mutant NAME]`: builds `drain-model` (dev profile) and
//! explores every interleaving of the handler against the abstract AWS within the bounds; prints states explored,
//! depth and time, and a counterexample's timeline when a property breaks (then fails). The handler's metric lines
//! (its stdout) are dropped; the report is on stderr.

use crate::{Result, cmd};
use std::process::{Command, Stdio};

const PACKAGE: &str = "drain-model";
const BINARY: &str = "check-model";
/// Options that take a value, and switches.
const OPTIONS: [&str; 10] = [
    "--depth",
    "--instances",
    "--faults",
    "--duplicates",
    "--losses",
    "--races",
    "--horizon",
    "--agent-offline",
    "--agent-drops",
    "--mutant",
];
const SWITCHES: [&str; 6] =
    ["--liveness", "--heartbeats", "--other-hook", "--cancel-lag", "--offline-sends-refused", "--on-failure-continue"];

pub fn run(args: &[String]) -> Result {
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if SWITCHES.contains(&arg.as_str()) {
            continue;
        }
        if !OPTIONS.contains(&arg.as_str()) {
            let known = [OPTIONS.as_slice(), SWITCHES.as_slice()].concat().join(" ");
            return Err(format!("unexpected argument {arg:?}; options: {known}").into());
        }
        rest.next().ok_or_else(|| format!("{arg} needs a value"))?;
    }
    cmd::run(cmd::cargo().args(["build", "--quiet", "-p", PACKAGE, "--bin", BINARY]))?;
    let binary = cmd::target_dir().join("debug").join(BINARY);
    cmd::run(Command::new(binary).args(args).stdout(Stdio::null()))
}
