//! The `bootstrap` of the drain Lambda: logging, configuration and AWS clients once per cold start, then the
//! runtime loop handing each payload to `execute::handle` within the invocation's deadline.

use drain_contract::{CONFIG_ENV_VAR, HandlerConfig};
use graceful_handler::aws_error::HandlerError;
use graceful_handler::execute::handle;
use graceful_handler::observe::Aws;
use graceful_handler::telemetry;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Left between the end of our work and the Lambda deadline, to report the result.
const DEADLINE_RESERVE: Duration = Duration::from_millis(1500);
/// The least an invocation is given, even when the deadline is nearly past on arrival.
const MIN_BOUND: Duration = Duration::from_millis(500);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = load_config();
    if let Err(error) = &config {
        tracing::error!(error = %error, "the handler configuration is unusable; every invocation will fail");
    }
    let aws = clients();
    let (aws, config) = (&aws, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let config = config.as_ref().map_err(|e| HandlerError::Config(e.clone()))?;
        // Boxed: the SDK futures are deep enough to overflow the layout query depth when inlined here.
        Box::pin(handle(aws, config, &event.payload, bound(event.context.deadline))).await
    }))
    .await
}

fn load_config() -> Result<HandlerConfig, String> {
    let json =
        std::env::var(CONFIG_ENV_VAR).map_err(|_| format!("environment variable {CONFIG_ENV_VAR} is not set"))?;
    HandlerConfig::from_json(&json).map_err(|e| format!("environment variable {CONFIG_ENV_VAR}: {e}"))
}

/// The HTTPS client of `https.rs` with the retry and timeouts of `sdk_config.rs`, configured from Lambda's own
/// environment.
fn clients() -> Aws {
    let http = graceful_handler::https::client();
    let (retry, timeouts) = (graceful_handler::sdk_config::retry(), graceful_handler::sdk_config::timeouts());
    let shared =
        graceful_handler::sdk_config::from_lambda_environment(|name| std::env::var(name).ok(), http, retry, timeouts);
    Aws { autoscaling: aws_sdk_autoscaling::Client::new(&shared), ssm: aws_sdk_ssm::Client::new(&shared) }
}

/// Time this invocation may work: up to the runtime's deadline (epoch ms) minus a reserve.
fn bound(deadline_ms: u64) -> Duration {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    Duration::from_millis(deadline_ms.saturating_sub(now_ms)).saturating_sub(DEADLINE_RESERVE).max(MIN_BOUND)
}
