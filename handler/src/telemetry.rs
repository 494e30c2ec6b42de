//! Log setup: JSON lines when the function's log format is JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`), text otherwise.
//! Each JSON line carries its span's fields, so every line about an instance names its group, hook, instance and token.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber, writing to stdout (where Lambda collects logs).
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_default();
    let level = if level.trim().is_empty() { "info".to_string() } else { level.to_ascii_lowercase() };
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stdout);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    if json {
        builder.json().flatten_event(true).with_current_span(true).with_span_list(false).init();
    } else {
        builder.init();
    }
}
