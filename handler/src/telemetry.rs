//! Log setup: JSON lines when the function's log format is JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`), text otherwise.
//! Each JSON line carries its span's fields, so every line about an instance names its group, hook, instance and token.

use tracing_subscriber::filter::LevelFilter;

/// Installs the global subscriber, writing to stdout (where Lambda collects logs).
pub fn init() {
    let builder = tracing_subscriber::fmt().with_max_level(level()).with_target(false).with_writer(std::io::stdout);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    if json {
        builder.json().flatten_event(true).with_current_span(true).with_span_list(false).init();
    } else {
        builder.init();
    }
}

/// `AWS_LAMBDA_LOG_LEVEL` (Lambda's logging config), else `RUST_LOG` as a plain level, else INFO. A plain level
/// rather than an env-filter: per-target directives would pull a regex engine into a binary with a 3 MB zip budget.
fn level() -> LevelFilter {
    ["AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.trim().is_empty()))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(LevelFilter::INFO)
}
