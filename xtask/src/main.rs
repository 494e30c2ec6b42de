//! `cargo xtask <task>`: the project's tasks, one module each. Commands are run as argument lists, never shell strings.

mod bench;
mod capability;
mod check_model;
mod cmd;
mod debian;
mod demo;
mod demo_secure;
mod docs;
mod fuzz;
mod install;
mod lambda;
mod prepare;
mod release;
mod seed;
mod setup;
mod stats;
mod test;
mod test_binaries;
mod venv;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  setup                 install what builds and tests need (rustup targets, C cross compilers, the emulator's venv)
  lambda                build the drain handler for Lambda (arm64 + x86_64, static musl) and zip it
  install               build the provider and put it where `terraform init` finds it offline
  test                  everything CI runs: setup, handler zips, all test suites
  demo [--tls-acl]      the full drain flow against the emulated AWS (--tls-acl: Nomad agents with TLS and ACLs)
  docs                  regenerate docs/ from the provider schema
  fuzz [event|dynamic-value|duration|all] [--execs N] [--seed S]
                        mutation fuzzing of the parsers of untrusted input (default 1,000,000 inputs each)
  release [--version X.Y.Z] [--out DIR]
                        the provider for linux_amd64 and linux_arm64 in the registry layout, SHA256SUMS signed
                        with the key named by GPG_FINGERPRINT (unsigned, said loudly, without it)
  release-check [--profile P]
                        two signed release runs with a throwaway key, verified as a registry and Terraform would
  check-model [--depth N] [--instances N] [--faults N] [--mutant NAME]
                        exhaustive exploration of the handler against an abstract AWS (default depth 10)
  bench <plan|apply|handler|drain>
                        benchmarks that print figures";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = args.first() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let rest = &args[1..];
    let outcome = match task.as_str() {
        "setup" => setup::run(rest),
        "lambda" => lambda::run(rest),
        "install" => install::run(rest),
        "test" => test::run(rest),
        "demo" => demo::run(rest),
        "docs" => docs::run(rest),
        "fuzz" => fuzz::run(rest),
        "check-model" => check_model::run(rest),
        "release" => release::run(rest),
        "release-check" => release::check::run(rest),
        "bench" => bench::run(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task {other:?}\n\n{USAGE}").into()),
    };
    if let Err(error) = outcome {
        eprintln!("xtask {task}: {error}");
        std::process::exit(1);
    }
}
