//! One drain per lifecycle action, even while `ListCommands` lags behind `SendCommand` (it is eventually
//! consistent) and while several deliveries, ticks and retries look at the same instance at once.
//!
//! SSM has no idempotency token for `SendCommand`, so the handler takes a lock first: a Parameter Store parameter
//! created with `Overwrite=false`, which AWS creates for exactly one caller and answers `ParameterAlreadyExists`
//! to every other. Only the caller that created it sends the drain. An instance enters `Terminating:Wait` once in
//! its life, so the lock is keyed on the instance: the notification and a tick that recovers a lost notification
//! share it.
//!
//! Name: `<lock path of the document>/<instance id>/<generation>`. A lock whose holder never sent (its invocation
//! died between the two calls) is recognised as stale once no command is listed for it after
//! [`LOCK_STALE_SECONDS`](crate::decide::LOCK_STALE_SECONDS); the next generation is then taken the same way, so a
//! takeover is also exactly-once. Cleanup: each lock carries a Parameter Store expiration policy and AWS deletes it
//! after [`LOCK_EXPIRY_SECONDS`]; by then the command it guarded has long been listed, and the command history is
//! the record. (Expiration policies need the advanced parameter tier.) A lock whose send AWS throttled is deleted at
//! once ([`release`]): the refusal proves no command exists, and a burst of scale-in throttling would otherwise hold
//! each refused drain back for the stale period.

use crate::aws_error::HandlerError;
use crate::decide::LockSeen;
use crate::port::AwsPort;
use aws_smithy_types::date_time::Format;
use drain_contract::HandlerConfig;
use drain_contract::names::drain_lock_path;

/// How long AWS keeps a lock before its expiration policy deletes it: far beyond the function timeout and the
/// listing's lag, so the command it guarded is listed long before.
pub const LOCK_EXPIRY_SECONDS: u64 = 3600;

/// Whether this caller got the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taken {
    Ours,
    /// Another caller created this generation first.
    Held,
}

fn instance_path(document_name: &str, instance_id: &str) -> String {
    format!("{}/{instance_id}", drain_lock_path(document_name))
}

/// The parameter name of one generation of an instance's lock.
pub fn lock_name(document_name: &str, instance_id: &str, generation: u32) -> String {
    format!("{}/{generation}", instance_path(document_name, instance_id))
}

/// The generation a lock parameter's name carries, if it is one.
pub fn generation_of(name: &str) -> Option<u32> {
    name.rsplit('/').next()?.parse().ok()
}

/// The Parameter Store policy that deletes the lock at `expires_at` (epoch seconds).
pub fn expiration_policy(expires_at: u64) -> String {
    let timestamp = aws_smithy_types::DateTime::from_secs(expires_at as i64)
        .fmt(Format::DateTime)
        .expect("an epoch second formats as a date-time");
    serde_json::json!([{ "Type": "Expiration", "Version": "1.0", "Attributes": { "Timestamp": timestamp } }])
        .to_string()
}

/// Creates generation `generation` of the instance's lock, unless it exists. `comment` (the drain's key) is its
/// value, for whoever reads the lock.
pub async fn take<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    instance_id: &str,
    generation: u32,
    comment: &str,
    now: u64,
) -> Result<Taken, HandlerError> {
    let name = lock_name(&config.document_name, instance_id, generation);
    aws.put_parameter_if_absent(&name, comment, &expiration_policy(now + LOCK_EXPIRY_SECONDS), instance_id).await
}

/// Deletes generation `generation` of the instance's lock: only after AWS refused the send it guarded, so no command
/// of it exists and the next delivery or tick may take it again at once. Already gone counts as released.
pub async fn release<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    instance_id: &str,
    generation: u32,
) -> Result<(), HandlerError> {
    aws.delete_parameter(&lock_name(&config.document_name, instance_id, generation), instance_id).await
}

/// The instance's newest lock generation, if any.
pub async fn read<P: AwsPort>(
    aws: &P,
    config: &HandlerConfig,
    instance_id: &str,
) -> Result<Option<LockSeen>, HandlerError> {
    let parameters =
        aws.get_parameters_by_path(&instance_path(&config.document_name, instance_id), instance_id).await?;
    let mut newest: Option<LockSeen> = None;
    for parameter in parameters {
        let Some(generation) = generation_of(&parameter.name) else { continue };
        if newest.as_ref().is_none_or(|lock| generation > lock.generation) {
            newest = Some(LockSeen { generation, taken_at: parameter.last_modified });
        }
    }
    Ok(newest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_round_trip_through_the_name() {
        let name = lock_name("ci-drain", "i-0abc", 3);
        assert_eq!(name, "/graceful/ci-drain/drain-locks/i-0abc/3");
        assert_eq!(generation_of(&name), Some(3));
        assert_eq!(generation_of("/graceful/ci-drain/drain-locks/i-0abc"), None);
    }

    #[test]
    fn the_expiration_policy_is_the_documented_shape() {
        let policy: serde_json::Value = serde_json::from_str(&expiration_policy(1_800_000_000)).unwrap();
        assert_eq!(policy[0]["Type"], "Expiration");
        assert_eq!(policy[0]["Version"], "1.0");
        assert_eq!(policy[0]["Attributes"]["Timestamp"], "2027-01-15T08:00:00Z");
    }
}
