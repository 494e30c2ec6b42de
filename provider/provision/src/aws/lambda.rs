//! Lambda: the drain function (create, update code, update configuration, wait until ready) and its invoke
//! permissions.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture as LambdaArchitecture, Environment, FunctionCode, FunctionConfiguration, LogFormat, LoggingConfig,
    Runtime,
};
use drain_contract::CONFIG_ENV_VAR;

use super::{none_if_not_found, ok_if_gone, tags};
use crate::clients::Clients;
use crate::desired::{Architecture, function_settings as settings};
use crate::error::{AwsError, Cause, Step, StepError};
use crate::observed::{ObservedFunction, ObservedPermission};
use crate::retry;

/// `GetFunction` / `GetPolicy` / `DeleteFunction` / `RemovePermission` on something missing:
/// `ResourceNotFoundException: Function not found: arn:...` (or `No policy is associated with the given resource.`).
fn not_found(error: &AwsError) -> bool {
    error.code_is("ResourceNotFoundException")
}

/// How long a function may stay `Pending` / `InProgress` before the wait gives up.
const READY_TIMEOUT: Duration = Duration::from_secs(300);

fn observe(configuration: FunctionConfiguration, tags: BTreeMap<String, String>) -> ObservedFunction {
    let variables = configuration.environment.and_then(|e| e.variables).unwrap_or_default();
    let logging = configuration.logging_config;
    ObservedFunction {
        name: configuration.function_name.unwrap_or_default(),
        arn: configuration.function_arn.unwrap_or_default(),
        role_arn: configuration.role.unwrap_or_default(),
        runtime: configuration.runtime.map(|r| r.as_str().to_owned()),
        handler: configuration.handler,
        architecture: configuration
            .architectures
            .and_then(|a| a.first().and_then(|a| Architecture::from_aws_str(a.as_str()))),
        code_sha256: configuration.code_sha256.unwrap_or_default(),
        timeout_seconds: configuration.timeout,
        memory_mb: configuration.memory_size,
        config: variables.get(CONFIG_ENV_VAR).and_then(|text| serde_json::from_str(text).ok()),
        log_format: logging.as_ref().and_then(|l| l.log_format.as_ref()).map(|f| f.as_str().to_owned()),
        log_group: logging.and_then(|l| l.log_group),
        state: configuration.state.map(|s| s.as_str().to_owned()),
        last_update_status: configuration.last_update_status.map(|s| s.as_str().to_owned()),
        tags,
    }
}

pub async fn find_function_by_name(clients: &Clients, name: &str) -> Result<Option<ObservedFunction>, StepError> {
    let got = clients.lambda.get_function().function_name(name).send().await;
    let Some(got) = none_if_not_found(got.map_err(StepError::aws(Step::ReadingFunction, name)), not_found)? else {
        return Ok(None);
    };
    let tags = got.tags.unwrap_or_default().into_iter().collect();
    Ok(got.configuration.map(|c| observe(c, tags)))
}

pub struct DesiredFunction<'a> {
    pub name: &'a str,
    pub role_arn: &'a str,
    pub architecture: Architecture,
    pub zip: &'a [u8],
    pub code_sha256: &'a str,
    pub config: serde_json::Value,
    pub log_group: &'a str,
    pub tags: &'a BTreeMap<String, String>,
}

impl DesiredFunction<'_> {
    fn environment(&self) -> Environment {
        Environment::builder().variables(CONFIG_ENV_VAR, self.config.to_string()).build()
    }

    fn logging(&self) -> LoggingConfig {
        LoggingConfig::builder().log_format(LogFormat::from(settings::LOG_FORMAT)).log_group(self.log_group).build()
    }

    fn configuration_differs(&self, observed: &ObservedFunction) -> bool {
        observed.role_arn != self.role_arn
            || observed.runtime.as_deref() != Some(settings::RUNTIME)
            || observed.handler.as_deref() != Some(settings::HANDLER)
            || observed.timeout_seconds != Some(settings::TIMEOUT_SECONDS)
            || observed.memory_mb != Some(settings::MEMORY_MB)
            || observed.config.as_ref() != Some(&self.config)
            || observed.log_format.as_deref() != Some(settings::LOG_FORMAT)
            || observed.log_group.as_deref() != Some(self.log_group)
    }
}

/// Creates the function, or updates its code and configuration where they differ; returns once it is `Active`
/// with `LastUpdateStatus` `Successful`.
pub async fn ensure_function(
    clients: &Clients,
    desired: &DesiredFunction<'_>,
    observed: Option<&ObservedFunction>,
) -> Result<ObservedFunction, StepError> {
    let name = desired.name;
    let Some(observed) = observed else {
        retry::retry_classified(retry::lambda_role_not_assumable, || async {
            clients
                .lambda
                .create_function()
                .function_name(name)
                .runtime(Runtime::from(settings::RUNTIME))
                .handler(settings::HANDLER)
                .role(desired.role_arn)
                .code(FunctionCode::builder().zip_file(Blob::new(desired.zip)).build())
                .architectures(LambdaArchitecture::from(desired.architecture.as_aws_str()))
                .timeout(settings::TIMEOUT_SECONDS)
                .memory_size(settings::MEMORY_MB)
                .environment(desired.environment())
                .logging_config(desired.logging())
                .set_tags(Some(desired.tags.clone().into_iter().collect::<HashMap<_, _>>()).filter(|t| !t.is_empty()))
                .send()
                .await
                .map_err(StepError::aws(Step::CreatingFunction, name))
        })
        .await?;
        return wait_function_ready(clients, name).await;
    };
    let mut current = observed.clone();
    // Lambda refuses updates while a creation or an earlier update is still in flight (e.g. an interrupted apply).
    if current.state.as_deref() == Some("Pending") || current.last_update_status.as_deref() == Some("InProgress") {
        current = wait_function_ready(clients, name).await?;
    }
    if current.code_sha256 != desired.code_sha256 || current.architecture != Some(desired.architecture) {
        clients
            .lambda
            .update_function_code()
            .function_name(name)
            .zip_file(Blob::new(desired.zip))
            .architectures(LambdaArchitecture::from(desired.architecture.as_aws_str()))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingFunctionCode, name))?;
        current = wait_function_ready(clients, name).await?;
    }
    if desired.configuration_differs(&current) {
        retry::retry_classified(retry::lambda_role_not_assumable, || async {
            clients
                .lambda
                .update_function_configuration()
                .function_name(name)
                .role(desired.role_arn)
                .runtime(Runtime::from(settings::RUNTIME))
                .handler(settings::HANDLER)
                .timeout(settings::TIMEOUT_SECONDS)
                .memory_size(settings::MEMORY_MB)
                .environment(desired.environment())
                .logging_config(desired.logging())
                .send()
                .await
                .map_err(StepError::aws(Step::UpdatingFunctionConfiguration, name))
        })
        .await?;
        current = wait_function_ready(clients, name).await?;
    }
    let changes = tags::changes(&observed.tags, desired.tags);
    if !changes.remove.is_empty() {
        clients
            .lambda
            .untag_resource()
            .resource(&current.arn)
            .set_tag_keys(Some(changes.remove))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingFunction, name))?;
    }
    if !changes.set.is_empty() {
        clients
            .lambda
            .tag_resource()
            .resource(&current.arn)
            .set_tags(Some(changes.set.into_iter().collect()))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingFunction, name))?;
    }
    current.tags = desired.tags.clone();
    Ok(current)
}

/// `State` and `LastUpdateStatus` of the function, as one status string for the waiter's messages.
fn status(function: &ObservedFunction) -> String {
    format!(
        "State={}, LastUpdateStatus={}",
        function.state.as_deref().unwrap_or("-"),
        function.last_update_status.as_deref().unwrap_or("-")
    )
}

/// Waits (exponential backoff) until the function is `Active` and its last update `Successful`; a `Failed` state
/// or update is an error at once.
pub async fn wait_function_ready(clients: &Clients, name: &str) -> Result<ObservedFunction, StepError> {
    let started = tokio::time::Instant::now();
    let mut delays = retry::waiter_delays();
    loop {
        let function = find_function_by_name(clients, name).await?.ok_or_else(|| {
            StepError::new(Step::WaitingForFunction, name, Cause::Unexpected("function disappeared".into()))
        })?;
        let state = function.state.as_deref().unwrap_or("Active");
        let update = function.last_update_status.as_deref().unwrap_or("Successful");
        if state == "Failed" || update == "Failed" {
            return Err(StepError::new(Step::WaitingForFunction, name, Cause::Unexpected(status(&function))));
        }
        if state == "Active" && update == "Successful" {
            return Ok(function);
        }
        let delay = delays.next().expect("endless");
        if started.elapsed() + delay > READY_TIMEOUT {
            return Err(StepError::new(
                Step::WaitingForFunction,
                name,
                Cause::Timeout {
                    what: "Active and Successful".into(),
                    seconds: READY_TIMEOUT.as_secs(),
                    last_seen: status(&function),
                },
            ));
        }
        tokio::time::sleep(delay).await;
    }
}

pub async fn delete_function(clients: &Clients, name: &str) -> Result<(), StepError> {
    let result = clients.lambda.delete_function().function_name(name).send().await;
    ok_if_gone(result.map(|_| ()).map_err(StepError::aws(Step::DeletingFunction, name)), not_found)
}

/// The function's resource policy statements, keyed by `Sid`.
pub async fn find_permissions_by_function(
    clients: &Clients,
    name: &str,
) -> Result<BTreeMap<String, ObservedPermission>, StepError> {
    let got = clients.lambda.get_policy().function_name(name).send().await;
    let Some(got) = none_if_not_found(got.map_err(StepError::aws(Step::ReadingPermission, name)), not_found)? else {
        return Ok(BTreeMap::new());
    };
    let text = got.policy.unwrap_or_default();
    let policy: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        StepError::new(Step::ReadingPermission, name, Cause::Unexpected(format!("policy is not JSON ({e}): {text}")))
    })?;
    Ok(parse_permissions(&policy))
}

fn parse_permissions(policy: &serde_json::Value) -> BTreeMap<String, ObservedPermission> {
    let statements = policy["Statement"].as_array().cloned().unwrap_or_default();
    statements
        .iter()
        .filter_map(|statement| {
            let sid = statement["Sid"].as_str()?.to_owned();
            let principal = match &statement["Principal"] {
                serde_json::Value::String(p) => p.clone(),
                other => other["Service"].as_str().or_else(|| other["AWS"].as_str()).unwrap_or_default().to_owned(),
            };
            let source_arn = statement["Condition"]
                .as_object()
                .into_iter()
                .flat_map(|operators| operators.values())
                .find_map(|keys| keys["AWS:SourceArn"].as_str().or_else(|| keys["aws:SourceArn"].as_str()))
                .map(str::to_owned);
            Some((sid.clone(), ObservedPermission { statement_id: sid, principal, source_arn }))
        })
        .collect()
}

/// Makes statement `sid` allow `principal` to invoke the function from `source_arn`, replacing a differing one.
pub async fn ensure_permission(
    clients: &Clients,
    function_name: &str,
    desired: &ObservedPermission,
    observed: Option<&ObservedPermission>,
) -> Result<ObservedPermission, StepError> {
    if observed == Some(desired) {
        return Ok(desired.clone());
    }
    let id = format!("{function_name}/{}", desired.statement_id);
    if observed.is_some() {
        remove_permission(clients, function_name, &desired.statement_id).await?;
    }
    retry::retry_classified(retry::lambda_update_in_progress, || async {
        clients
            .lambda
            .add_permission()
            .function_name(function_name)
            .statement_id(&desired.statement_id)
            .action("lambda:InvokeFunction")
            .principal(&desired.principal)
            .set_source_arn(desired.source_arn.clone())
            .send()
            .await
            .map_err(StepError::aws(Step::AddingPermission, &id))
    })
    .await?;
    Ok(desired.clone())
}

pub async fn remove_permission(clients: &Clients, function_name: &str, sid: &str) -> Result<(), StepError> {
    let id = format!("{function_name}/{sid}");
    let result = clients.lambda.remove_permission().function_name(function_name).statement_id(sid).send().await;
    ok_if_gone(result.map(|_| ()).map_err(StepError::aws(Step::RemovingPermission, &id)), not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_permission_statements_lambda_returns() {
        // The shape of a real GetPolicy answer after AddPermission with a SourceArn.
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Id": "default",
            "Statement": [{
                "Sid": "graceful-sns-invoke",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:ci-drain-handler",
                "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:123456789012:ci-lifecycle"}}
            }]
        });
        let permissions = parse_permissions(&policy);
        assert_eq!(
            permissions["graceful-sns-invoke"],
            ObservedPermission {
                statement_id: "graceful-sns-invoke".into(),
                principal: "sns.amazonaws.com".into(),
                source_arn: Some("arn:aws:sns:us-east-1:123456789012:ci-lifecycle".into()),
            }
        );
    }
}
