//! The IAM and SNS policy documents, as pure functions of the resource's names and location.

use serde_json::{Value, json};

use crate::clients::Location;
use drain_contract::names::drain_lock_path;

/// ARNs and names every policy is scoped to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyScope<'a> {
    pub location: &'a Location,
    pub topic_arn: &'a str,
    pub publisher_role_arn: &'a str,
    /// The drain document: its name places the drain locks, its ARN (`DerivedArns::document`) scopes SendCommand.
    pub document_name: &'a str,
    pub document_arn: &'a str,
    /// `DerivedArns::log_group`.
    pub log_group_arn: &'a str,
    pub autoscaling_group_names: Vec<&'a str>,
}

impl PolicyScope<'_> {
    fn arn(&self, service: &str, resource: &str) -> String {
        self.location.arn(service, resource)
    }

    /// The handler's drain locks: one parameter per instance under the document's lock path.
    pub fn drain_lock_arns(&self) -> Vec<String> {
        // Parameter ARNs drop the name's leading slash: `parameter/a/b` for `/a/b`.
        let path = drain_lock_path(self.document_name);
        let path = path.trim_start_matches('/');
        vec![self.arn("ssm", &format!("parameter/{path}")), self.arn("ssm", &format!("parameter/{path}/*"))]
    }

    /// Group ARNs carry a UUID the provider does not know ahead of time; the name part pins the group.
    pub fn autoscaling_group_arns(&self) -> Vec<String> {
        self.autoscaling_group_names
            .iter()
            .map(|name| self.arn("autoscaling", &format!("autoScalingGroup:*:autoScalingGroupName/{name}")))
            .collect()
    }

    pub fn instances_arn(&self) -> String {
        self.arn("ec2", "instance/*")
    }
}

fn trust_policy(services: &[&str]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": services },
            "Action": "sts:AssumeRole"
        }]
    })
}

/// Trust of the publisher role: Auto Scaling (hook notifications) and SSM (command status notifications) only.
pub fn publisher_trust_policy() -> Value {
    trust_policy(&["autoscaling.amazonaws.com", "ssm.amazonaws.com"])
}

/// Trust of the handler role: Lambda only.
pub fn handler_trust_policy() -> Value {
    trust_policy(&["lambda.amazonaws.com"])
}

/// The publisher role may publish to this resource's topic and nothing else.
pub fn publisher_policy(topic_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PublishToLifecycleTopic",
            "Effect": "Allow",
            "Action": ["sns:Publish"],
            "Resource": [topic_arn]
        }]
    })
}

/// The publisher role's policy when the topic is encrypted with a customer-managed KMS key (`key_arn`, resolved with
/// `kms:DescribeKey`): publishers to an encrypted topic need `kms:GenerateDataKey*` and `kms:Decrypt` on its key
/// (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html), only through SNS in the topic's region.
/// The key's own policy must also let IAM policies of the account grant it (the default key policy does).
pub fn publisher_policy_with_topic_key(location: &Location, topic_arn: &str, key_arn: &str) -> Value {
    let mut policy = publisher_policy(topic_arn);
    let statements = policy["Statement"].as_array_mut().expect("the publisher policy has statements");
    statements.push(json!({
        "Sid": "EncryptForLifecycleTopic",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": [key_arn],
        "Condition": { "StringEquals": { "kms:ViaService": format!("sns.{}.amazonaws.com", location.region) } }
    }));
    policy
}

/// The topic policy: only the publisher role may publish. The Allow names the account root with a condition on
/// the role's ARN (rather than the role as principal) so the topic can be created before the role exists; the Deny
/// keeps other principals of the account from publishing even when their own IAM policies would allow it.
pub fn topic_policy(location: &Location, topic_arn: &str, publisher_role_arn: &str) -> Value {
    let account_root = format!("arn:{}:iam::{}:root", location.partition, location.account_id);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublisherRolePublishes",
                "Effect": "Allow",
                "Principal": { "AWS": account_root },
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": { "ArnEquals": { "aws:PrincipalArn": publisher_role_arn } }
            },
            {
                "Sid": "NoOtherPublisher",
                "Effect": "Deny",
                "Principal": { "AWS": "*" },
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": { "ArnNotEquals": { "aws:PrincipalArn": publisher_role_arn } }
            }
        ]
    })
}

/// The handler role's inline policy: least privilege, resource-scoped wherever the action allows it.
pub fn handler_policy(scope: &PolicyScope<'_>) -> Value {
    let log_group_arn = scope.log_group_arn;
    let group_names: Vec<&str> = scope.autoscaling_group_names.clone();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_group_arn, format!("{log_group_arn}:log-stream:*")]
            },
            {
                "Sid": "CompleteManagedLifecycleActions",
                "Effect": "Allow",
                "Action": ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"],
                "Resource": scope.autoscaling_group_arns()
            },
            {
                "Sid": "RunDrainDocument",
                "Effect": "Allow",
                "Action": ["ssm:SendCommand"],
                "Resource": [scope.document_arn]
            },
            // Two statements for the instance's group tag: the global `aws:ResourceTag/...` key and the SSM-specific
            // `ssm:resourceTag/...` key the SSM documentation uses for SendCommand. Either one matching is enough
            // (statements are OR-ed), so the grant holds whichever key SSM evaluates.
            {
                "Sid": "RunOnManagedInstances",
                "Effect": "Allow",
                "Action": ["ssm:SendCommand"],
                "Resource": [scope.instances_arn()],
                "Condition": { "StringEquals": { "aws:ResourceTag/aws:autoscaling:groupName": group_names.clone() } }
            },
            {
                "Sid": "RunOnManagedInstancesBySsmTagKey",
                "Effect": "Allow",
                "Action": ["ssm:SendCommand"],
                "Resource": [scope.instances_arn()],
                "Condition": { "StringEquals": { "ssm:resourceTag/aws:autoscaling:groupName": group_names } }
            },
            // One drain per lifecycle action: a parameter created without overwrite is the lock (see the handler).
            {
                "Sid": "DrainLocks",
                "Effect": "Allow",
                "Action": ["ssm:DeleteParameter", "ssm:GetParametersByPath", "ssm:PutParameter"],
                "Resource": scope.drain_lock_arns()
            },
            {
                "Sid": "PassPublisherRoleForCommandNotifications",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": [scope.publisher_role_arn],
                "Condition": { "StringEquals": { "iam:PassedToService": "ssm.amazonaws.com" } }
            },
            // These actions support no resource-level permissions (the Service Authorization Reference lists no
            // resource type for them), so "*" is the only Resource IAM accepts.
            {
                "Sid": "ObserveWithoutResourceScoping",
                "Effect": "Allow",
                "Action": UNSCOPABLE_ACTIONS,
                "Resource": "*"
            }
        ]
    })
}

/// Actions listed in the handler policy's unscoped statement: the only ones allowed `"Resource": "*"`.
pub const UNSCOPABLE_ACTIONS: &[&str] = &[
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeWarmPool",
    "ssm:CancelCommand",
    "ssm:DescribeInstanceInformation",
    "ssm:ListCommands",
];

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
