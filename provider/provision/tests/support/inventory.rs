//! Lists every resource of every service the provisioner touches whose name contains a prefix: what a test asserts
//! is empty after `delete`.

use std::collections::BTreeSet;

use graceful_provision::Clients;

/// Everything named with `prefix`, one `service: name` line per resource, across every service.
pub async fn resources_named(clients: &Clients, prefix: &str, groups: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    let topics = clients.sns.list_topics().send().await.expect("ListTopics").topics.unwrap_or_default();
    found.extend(topics.into_iter().filter_map(|t| t.topic_arn).map(|a| format!("sns topic: {a}")));
    let subscriptions =
        clients.sns.list_subscriptions().send().await.expect("ListSubscriptions").subscriptions.unwrap_or_default();
    found.extend(subscriptions.into_iter().map(|s| {
        format!("sns subscription: {} -> {}", s.topic_arn.unwrap_or_default(), s.endpoint.unwrap_or_default())
    }));
    let roles = clients.iam.list_roles().send().await.expect("ListRoles").roles;
    found.extend(roles.into_iter().map(|r| format!("iam role: {}", r.arn)));
    let documents = clients
        .ssm
        .list_documents()
        .filters(aws_sdk_ssm::types::DocumentKeyValuesFilter::builder().key("Owner").values("Self").build())
        .send()
        .await
        .expect("ListDocuments")
        .document_identifiers
        .unwrap_or_default();
    found.extend(documents.into_iter().filter_map(|d| d.name).map(|n| format!("ssm document: {n}")));
    let log_groups = clients.logs.describe_log_groups().send().await.expect("DescribeLogGroups").log_groups;
    found.extend(
        log_groups.unwrap_or_default().into_iter().filter_map(|g| g.log_group_name).map(|n| format!("log group: {n}")),
    );
    let functions = clients.lambda.list_functions().send().await.expect("ListFunctions").functions.unwrap_or_default();
    found.extend(functions.into_iter().filter_map(|f| f.function_name).map(|n| format!("lambda function: {n}")));
    let rules = clients.events.list_rules().send().await.expect("ListRules").rules.unwrap_or_default();
    found.extend(rules.into_iter().filter_map(|r| r.name).map(|n| format!("eventbridge rule: {n}")));
    for group in groups {
        let hooks = clients
            .autoscaling
            .describe_lifecycle_hooks()
            .auto_scaling_group_name(group)
            .send()
            .await
            .expect("DescribeLifecycleHooks")
            .lifecycle_hooks
            .unwrap_or_default();
        found.extend(
            hooks.into_iter().filter_map(|h| h.lifecycle_hook_name).map(|n| format!("lifecycle hook: {group}/{n}")),
        );
    }
    found.retain(|line| line.contains(prefix));
    found
}
