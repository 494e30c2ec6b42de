//! Tests of the policy documents: each statement's actions and resources, and who the roles trust.

use super::*;

fn location() -> Location {
    Location { partition: "aws".into(), region: "us-east-1".into(), account_id: "123456789012".into() }
}

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:ci-lifecycle";
const PUBLISHER: &str = "arn:aws:iam::123456789012:role/ci-publisher";

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().map(|v| v.as_str().expect("string").to_owned()).collect(),
        other => panic!("expected a string or a list of strings, got {other}"),
    }
}

fn statement<'a>(policy: &'a Value, sid: &str) -> &'a Value {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid} in {policy:#}"))
}

fn trusted_services(policy: &Value) -> Vec<String> {
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{policy:#}");
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Action"], "sts:AssumeRole");
    let principal = statements[0]["Principal"].as_object().unwrap();
    assert_eq!(principal.keys().collect::<Vec<_>>(), vec!["Service"], "only service principals: {policy:#}");
    strings(&principal["Service"])
}

#[test]
fn publisher_role_is_trusted_by_autoscaling_and_ssm_only() {
    assert_eq!(trusted_services(&publisher_trust_policy()), vec!["autoscaling.amazonaws.com", "ssm.amazonaws.com"]);
}

#[test]
fn handler_role_is_trusted_by_lambda_only() {
    assert_eq!(trusted_services(&handler_trust_policy()), vec!["lambda.amazonaws.com"]);
}

#[test]
fn publisher_may_publish_to_its_topic_only() {
    let policy = publisher_policy(TOPIC);
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(strings(&statements[0]["Action"]), vec!["sns:Publish"]);
    assert_eq!(strings(&statements[0]["Resource"]), vec![TOPIC]);
}

#[test]
fn a_customer_managed_topic_key_is_usable_by_the_publisher_through_sns_only() {
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let policy = publisher_policy_with_topic_key(&location(), TOPIC, key);
    let publish = statement(&policy, "PublishToLifecycleTopic");
    assert_eq!(strings(&publish["Action"]), vec!["sns:Publish"]);
    let kms = statement(&policy, "EncryptForLifecycleTopic");
    assert_eq!(kms["Effect"], "Allow");
    assert_eq!(strings(&kms["Action"]), vec!["kms:Decrypt", "kms:GenerateDataKey*"]);
    assert_eq!(strings(&kms["Resource"]), vec![key]);
    assert_eq!(kms["Condition"]["StringEquals"]["kms:ViaService"], "sns.us-east-1.amazonaws.com");
}

#[test]
fn topic_policy_lets_only_the_publisher_role_publish() {
    let policy = topic_policy(&location(), TOPIC, PUBLISHER);
    let allow = statement(&policy, "PublisherRolePublishes");
    assert_eq!(allow["Effect"], "Allow");
    assert_eq!(allow["Principal"]["AWS"], "arn:aws:iam::123456789012:root");
    assert_eq!(strings(&allow["Action"]), vec!["sns:Publish"]);
    assert_eq!(strings(&allow["Resource"]), vec![TOPIC]);
    assert_eq!(allow["Condition"]["ArnEquals"]["aws:PrincipalArn"], PUBLISHER);
    let deny = statement(&policy, "NoOtherPublisher");
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(strings(&deny["Action"]), vec!["sns:Publish"]);
    assert_eq!(strings(&deny["Resource"]), vec![TOPIC]);
    assert_eq!(deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"], PUBLISHER);
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 2);
}

/// The ARNs `converge` derives for resource `name` in `location`.
fn derived_arns(name: &str, location: &Location) -> crate::derive::DerivedArns {
    let roles = drain_contract::names::RoleNames::new(name, &location.region, drain_contract::names::RoleScope::Region)
        .unwrap();
    crate::derive::DerivedArns::new(location, &drain_contract::names::DerivedNames::new(name), &roles, "/")
}

fn handler_policy_for(groups: Vec<&str>) -> Value {
    let location = location();
    let arns = derived_arns("ci", &location);
    handler_policy(&PolicyScope {
        location: &location,
        topic_arn: TOPIC,
        publisher_role_arn: PUBLISHER,
        document_name: "ci-drain",
        document_arn: &arns.document,
        log_group_arn: &arns.log_group,
        autoscaling_group_names: groups,
    })
}

#[test]
fn handler_statements_have_exactly_the_expected_actions_and_resources() {
    let policy = handler_policy_for(vec!["asg-a", "asg-b"]);
    let expected: &[(&str, &[&str], &[&str])] = &[
        (
            "WriteOwnLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            &[
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/ci-drain-handler",
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/ci-drain-handler:log-stream:*",
            ],
        ),
        (
            "CompleteManagedLifecycleActions",
            &["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"],
            &[
                "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/asg-a",
                "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/asg-b",
            ],
        ),
        ("RunDrainDocument", &["ssm:SendCommand"], &["arn:aws:ssm:us-east-1:123456789012:document/ci-drain"]),
        ("RunOnManagedInstances", &["ssm:SendCommand"], &["arn:aws:ec2:us-east-1:123456789012:instance/*"]),
        ("RunOnManagedInstancesBySsmTagKey", &["ssm:SendCommand"], &["arn:aws:ec2:us-east-1:123456789012:instance/*"]),
        (
            "DrainLocks",
            &["ssm:DeleteParameter", "ssm:GetParametersByPath", "ssm:PutParameter"],
            &[
                "arn:aws:ssm:us-east-1:123456789012:parameter/graceful/ci-drain/drain-locks",
                "arn:aws:ssm:us-east-1:123456789012:parameter/graceful/ci-drain/drain-locks/*",
            ],
        ),
        ("PassPublisherRoleForCommandNotifications", &["iam:PassRole"], &[PUBLISHER]),
        ("ObserveWithoutResourceScoping", UNSCOPABLE_ACTIONS, &["*"]),
    ];
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), expected.len(), "{policy:#}");
    for (sid, actions, resources) in expected {
        let statement = statement(&policy, sid);
        assert_eq!(statement["Effect"], "Allow", "{sid}");
        assert_eq!(strings(&statement["Action"]), *actions, "{sid}");
        assert_eq!(strings(&statement["Resource"]), *resources, "{sid}");
    }
}

#[test]
fn send_command_on_instances_is_limited_to_managed_groups() {
    let policy = handler_policy_for(vec!["asg-a", "asg-b"]);
    let condition = &statement(&policy, "RunOnManagedInstances")["Condition"];
    assert_eq!(
        strings(&condition["StringEquals"]["aws:ResourceTag/aws:autoscaling:groupName"]),
        vec!["asg-a", "asg-b"]
    );
    // The SSM documentation's own key, in a statement of its own so that either key matching grants the call.
    let condition = &statement(&policy, "RunOnManagedInstancesBySsmTagKey")["Condition"];
    assert_eq!(
        strings(&condition["StringEquals"]["ssm:resourceTag/aws:autoscaling:groupName"]),
        vec!["asg-a", "asg-b"]
    );
    assert_eq!(condition["StringEquals"].as_object().unwrap().len(), 1, "one key per statement: {condition}");
}

/// Every AWS operation the handler can call (the contract's one list, which the handler's own test checks against
/// its source) is allowed by some Allow statement of the generated policy; and nothing else is granted beyond it
/// and the function's own logs.
#[test]
fn every_operation_the_handler_calls_is_granted_and_nothing_else() {
    use drain_contract::operations::Operation;
    let policy = handler_policy_for(vec!["asg-a"]);
    let granted: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| strings(&s["Action"]))
        .collect();
    for operation in Operation::ALL {
        assert!(
            granted.iter().any(|a| a == operation.iam_action()),
            "{} is not granted: {policy:#}",
            operation.iam_action()
        );
    }
    let needed = |action: &str| {
        action.starts_with("logs:")
            || action == "iam:PassRole"
            || Operation::ALL.iter().any(|op| op.iam_action() == action)
    };
    for action in &granted {
        assert!(needed(action), "{action} is granted but the handler never calls it");
    }
}

#[test]
fn pass_role_only_towards_ssm() {
    let policy = handler_policy_for(vec!["asg-a"]);
    let condition = &statement(&policy, "PassPublisherRoleForCommandNotifications")["Condition"];
    assert_eq!(condition["StringEquals"]["iam:PassedToService"], "ssm.amazonaws.com");
}

#[test]
fn no_wildcard_resource_outside_the_unscopable_statement() {
    let policy = handler_policy_for(vec!["asg-a"]);
    for statement in policy["Statement"].as_array().unwrap() {
        let resources = strings(&statement["Resource"]);
        if resources.iter().any(|r| r == "*") {
            for action in strings(&statement["Action"]) {
                assert!(
                    UNSCOPABLE_ACTIONS.contains(&action.as_str()),
                    "{action} supports resource scoping: {statement}"
                );
            }
        }
    }
}

#[test]
fn rescoping_follows_the_group_set() {
    let one = handler_policy_for(vec!["asg-a"]);
    let two = handler_policy_for(vec!["asg-a", "asg-c"]);
    let arns = |p: &Value| strings(&statement(p, "CompleteManagedLifecycleActions")["Resource"]);
    assert_eq!(arns(&one).len(), 1);
    assert!(arns(&two)[1].ends_with("autoScalingGroupName/asg-c"));
}

#[test]
fn other_partitions_appear_in_every_arn() {
    let location = Location { partition: "aws-cn".into(), region: "cn-north-1".into(), account_id: "1".into() };
    let arns = derived_arns("d", &location);
    let policy = handler_policy(&PolicyScope {
        location: &location,
        topic_arn: "t",
        publisher_role_arn: "r",
        document_name: "d",
        document_arn: &arns.document,
        log_group_arn: &arns.log_group,
        autoscaling_group_names: vec!["g"],
    });
    let text = policy.to_string();
    assert!(text.contains("arn:aws-cn:ssm:cn-north-1:1:document/d-drain"));
    assert!(text.contains("arn:aws-cn:logs:cn-north-1:1:log-group:"));
    assert!(!text.contains("arn:aws:"));
}
