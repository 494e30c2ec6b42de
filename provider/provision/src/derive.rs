//! Values derived from a DesiredResource and the account it lives in: ARNs, the handler's configuration.

use drain_contract::HandlerConfig;
use drain_contract::names::{DerivedNames, RoleNames, RoleScope, notification_metadata};

use crate::clients::Location;
use crate::desired::DesiredResource;
use crate::error::{Cause, Step, StepError};

/// The IAM role names of resource `name` in `location`'s region; a name over IAM's limit is refused (before any
/// write: every caller derives them before its first call that changes something).
pub fn role_names(name: &str, scope: RoleScope, location: &Location) -> Result<RoleNames, StepError> {
    RoleNames::new(name, &location.region, scope)
        .map_err(|why| StepError::new(Step::NamingRoles, name, Cause::InvalidName(why)))
}

/// Every ARN this resource's pieces will have (known before they exist, so policies can name them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivedArns {
    pub topic: String,
    pub publisher_role: String,
    pub handler_role: String,
    pub document: String,
    pub log_group: String,
    pub function: String,
}

impl DerivedArns {
    pub fn new(location: &Location, names: &DerivedNames, roles: &RoleNames, iam_path: &str) -> Self {
        let regional = |service: &str, resource: &str| location.arn(service, resource);
        let role =
            |name: &str| drain_contract::names::role_arn(&location.partition, &location.account_id, iam_path, name);
        DerivedArns {
            topic: regional("sns", &names.topic),
            publisher_role: role(&roles.publisher),
            handler_role: role(&roles.handler),
            document: regional("ssm", &format!("document/{}", names.document)),
            log_group: regional("logs", &format!("log-group:{}", names.log_group)),
            function: regional("lambda", &format!("function:{}", names.function)),
        }
    }
}

/// The Lambda's `GRACEFUL_CONFIG`, from the desired resource and the ARNs of the topic and publisher role.
pub fn handler_config(desired: &DesiredResource, topic_arn: &str, publisher_role_arn: &str) -> HandlerConfig {
    let names = DerivedNames::new(&desired.name);
    HandlerConfig {
        resource_name: desired.name.clone(),
        hook_name: names.hook,
        notification_metadata: notification_metadata(&desired.name),
        autoscaling_group_names: desired.autoscaling_group_names.iter().cloned().collect(),
        document_name: names.document,
        document_parameters: drain_contract::document::default_parameters(&desired.preset, &desired.budget),
        notification_topic_arn: topic_arn.to_owned(),
        notification_role_arn: publisher_role_arn.to_owned(),
        // The drain script's output goes to the resource's own log group (the instance profile needs
        // logs:CreateLogStream/PutLogEvents on it; without them SSM still runs the drain, only the output is lost).
        command_log_group_name: Some(names.log_group.clone()),
        drain_timeout_seconds: desired.budget.drain_timeout_seconds,
        heartbeat_timeout_seconds: desired.budget.heartbeat_timeout_seconds,
        on_failure: desired.on_failure,
        drain_command: match &desired.preset {
            drain_contract::document::DrainPreset::Nomad(_) => None,
            drain_contract::document::DrainPreset::Command(script) => Some(script.clone()),
        },
        agent_wait_seconds: desired.budget.agent_wait_seconds,
        spot: desired.spot,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_carry_the_iam_path() {
        let location =
            Location { partition: "aws".into(), region: "eu-west-1".into(), account_id: "111122223333".into() };
        let roles = role_names("ci", RoleScope::Region, &location).unwrap();
        let arns = DerivedArns::new(&location, &DerivedNames::new("ci"), &roles, "/platform/");
        assert_eq!(arns.publisher_role, "arn:aws:iam::111122223333:role/platform/ci-eu-west-1-publisher");
        assert_eq!(arns.topic, "arn:aws:sns:eu-west-1:111122223333:ci-lifecycle");
        assert_eq!(arns.function, "arn:aws:lambda:eu-west-1:111122223333:function:ci-drain-handler");
        let legacy = role_names("ci", RoleScope::Account, &location).unwrap();
        let root = DerivedArns::new(&location, &DerivedNames::new("ci"), &legacy, "/");
        assert_eq!(root.handler_role, "arn:aws:iam::111122223333:role/ci-handler");
    }
}
