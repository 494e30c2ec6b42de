//! Logs go to stderr (stdout belongs to the handshake). The level follows Terraform's own variables:
//! `TF_LOG_PROVIDER`, else `TF_LOG` (TRACE, DEBUG, INFO, WARN, ERROR, OFF; JSON means TRACE); default WARN.
//! The transport crates stay at INFO at most: their traces (every TLS record, every HTTP/2 frame) would drown ours.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

const TRANSPORT_CRATES: [&str; 7] = ["h2", "hyper", "hyper_util", "tower", "tonic", "rustls", "tokio_rustls"];

fn level(value: Option<&str>) -> LevelFilter {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("trace" | "json") => LevelFilter::TRACE,
        Some("debug") => LevelFilter::DEBUG,
        Some("info") => LevelFilter::INFO,
        Some("error") => LevelFilter::ERROR,
        Some("off") => LevelFilter::OFF,
        _ => LevelFilter::WARN,
    }
}

/// The filter directives for `level`: everything at `level`, transport crates capped at INFO.
fn directives(level: LevelFilter) -> String {
    let transport = level.min(LevelFilter::INFO);
    let mut directives = level.to_string().to_lowercase();
    for name in TRANSPORT_CRATES {
        directives.push_str(&format!(",{name}={}", transport.to_string().to_lowercase()));
    }
    directives
}

/// Installs the stderr subscriber unless the program already installed one.
pub(crate) fn init() {
    let configured = std::env::var("TF_LOG_PROVIDER").or_else(|_| std::env::var("TF_LOG")).ok();
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(EnvFilter::new(directives(level(configured.as_deref()))))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_tf_log() {
        assert_eq!(level(None), LevelFilter::WARN);
        assert_eq!(level(Some("JSON")), LevelFilter::TRACE);
        assert_eq!(level(Some("debug")), LevelFilter::DEBUG);
        assert_eq!(level(Some("Info")), LevelFilter::INFO);
        assert_eq!(level(Some("off")), LevelFilter::OFF);
        assert_eq!(level(Some("loud")), LevelFilter::WARN);
    }

    #[test]
    fn transport_crates_are_capped_at_info() {
        let trace = directives(LevelFilter::TRACE);
        assert!(trace.starts_with("trace,h2=info,"), "{trace}");
        assert!(trace.contains(",rustls=info"), "{trace}");
        assert!(directives(LevelFilter::WARN).contains(",tonic=warn"));
        assert!(directives(LevelFilter::OFF).starts_with("off,h2=off"));
    }
}
