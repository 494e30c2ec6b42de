//! converge / read / delete against the emulated AWS: create, no-op, update in place, drift, partial failure.

mod support;

use std::time::Instant;

use acceptance::emulator::Fault;
use drain_contract::budget;
use drain_contract::names::{DerivedNames, RoleScope, notification_metadata};
use graceful_provision::{
    Architecture, OWNER_TAG, Ownership, Step, converge, converge_with_groups, delete, lambda_code_sha256, read,
    read_with_groups,
};
use support::{create_boundary_policy, create_groups, desired, groups, handler_zip, inventory, owner, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converge_creates_every_piece_then_is_a_no_op_and_read_matches() {
    let aws = start().await;
    create_groups(&aws.clients, &["create-a", "create-b"]).await;
    let want = desired("create", &["create-a", "create-b"], 3600);
    let names = DerivedNames::new("create");

    let started = Instant::now();
    let created = converge(&aws.clients, &want, None).await.unwrap_or_else(|e| panic!("{e}"));
    let create_time = started.elapsed();
    let create_calls = aws.operations.take().len();

    let topic = created.topic.as_ref().expect("topic");
    assert_eq!(topic.arn, "arn:aws:sns:us-east-1:123456789012:create-lifecycle");
    let topic_policy = topic.policy.as_ref().expect("topic policy").to_string();
    assert!(topic_policy.contains("arn:aws:iam::123456789012:role/create-us-east-1-publisher"), "{topic_policy}");
    assert_eq!(topic.tags["team"], "ci");

    let publisher = created.publisher_role.as_ref().expect("publisher role");
    assert_eq!(publisher.trust_policy["Statement"][0]["Principal"]["Service"][0], "autoscaling.amazonaws.com");
    assert!(publisher.inline_policies.values().any(|p| p.to_string().contains(&topic.arn)));
    let handler_role = created.handler_role.as_ref().expect("handler role");
    let handler_policy = handler_role.inline_policies.values().next().expect("inline policy").to_string();
    assert!(handler_policy.contains("autoScalingGroupName/create-a"), "{handler_policy}");
    assert!(handler_policy.contains("autoScalingGroupName/create-b"), "{handler_policy}");

    let document = created.document.as_ref().expect("document");
    assert_eq!(document.content["schemaVersion"], "2.2");
    assert_eq!(document.default_version, "1");

    assert_eq!(created.log_group.as_ref().expect("log group").retention_days, Some(14));

    let function = created.function.as_ref().expect("function");
    assert_eq!(function.runtime.as_deref(), Some("provided.al2023"));
    assert_eq!(function.handler.as_deref(), Some("bootstrap"));
    assert_eq!(function.architecture, Some(Architecture::X86_64));
    assert_eq!(function.code_sha256, want.handler_code_sha256);
    assert_eq!(function.role_arn, handler_role.arn);
    assert_eq!(function.timeout_seconds, Some(120));
    assert_eq!(function.memory_mb, Some(128));
    assert_eq!(function.state.as_deref(), Some("Active"));
    assert_eq!(function.log_format.as_deref(), Some("JSON"), "Lambda LoggingConfig must be read back");
    assert_eq!(function.log_group.as_deref(), Some(names.log_group.as_str()));
    let config = function.config.as_ref().expect("GRACEFUL_CONFIG");
    assert_eq!(config["notification_topic_arn"], topic.arn.as_str());
    assert_eq!(config["notification_role_arn"], publisher.arn.as_str());
    assert_eq!(config["autoscaling_group_names"], serde_json::json!(["create-a", "create-b"]));
    assert_eq!(config["heartbeat_timeout_seconds"], want.budget.heartbeat_timeout_seconds);

    assert_eq!(created.subscription.as_ref().expect("subscription").endpoint, function.arn);
    assert_eq!(
        created.sns_permission.as_ref().expect("sns permission").source_arn.as_deref(),
        Some(topic.arn.as_str())
    );
    let rule = created.rule.as_ref().expect("rule");
    assert_eq!(rule.schedule_expression.as_deref(), Some("rate(1 minute)"));
    assert_eq!(rule.target_arn.as_deref(), Some(function.arn.as_str()));
    let schedule_permission = created.schedule_permission.as_ref().expect("schedule permission");
    assert_eq!(schedule_permission.principal, "events.amazonaws.com");
    assert_eq!(schedule_permission.source_arn.as_deref(), Some(rule.arn.as_str()));

    assert_eq!(created.hooked_groups(), groups(&["create-a", "create-b"]));
    for hook in created.hooks.values() {
        assert_eq!(hook.name, names.hook);
        assert_eq!(hook.transition.as_deref(), Some("autoscaling:EC2_INSTANCE_TERMINATING"));
        assert_eq!(hook.notification_target_arn.as_deref(), Some(topic.arn.as_str()));
        assert_eq!(hook.role_arn.as_deref(), Some(publisher.arn.as_str()));
        assert_eq!(hook.notification_metadata.as_deref(), Some(notification_metadata("create").as_str()));
        assert_eq!(hook.heartbeat_timeout_seconds, Some(want.budget.heartbeat_timeout_seconds as i32));
        assert_eq!(hook.default_result.as_deref(), Some("CONTINUE"));
    }

    // Read by name (an import) finds every piece, hooks included, exactly as converge returned them.
    let imported = read(&aws.clients, "create", RoleScope::Region, &owner()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported, created);
    aws.operations.take();

    let started = Instant::now();
    let again = converge(&aws.clients, &want, Some(&created)).await.unwrap_or_else(|e| panic!("{e}"));
    let noop_time = started.elapsed();
    let writes = aws.operations.take_writes();
    assert_eq!(writes, Vec::<String>::new(), "a converge with nothing to change sent write calls");
    assert_eq!(again, created);

    let started = Instant::now();
    delete(&aws.clients, "create", RoleScope::Region, &want.autoscaling_group_names, &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let delete_time = started.elapsed();
    let delete_calls = aws.operations.take().len();
    let left = inventory::resources_named(&aws.clients, "create", &want.autoscaling_group_names).await;
    assert_eq!(left, Vec::<String>::new(), "delete left resources behind");
    assert!(read(&aws.clients, "create", RoleScope::Region, &owner()).await.unwrap().is_absent());
    eprintln!(
        "emulator round trips: create {create_time:?} ({create_calls} calls), no-op converge {noop_time:?}, \
         delete {delete_time:?} ({delete_calls} calls)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_groups_budget_and_code_updates_in_place() {
    let aws = start().await;
    create_groups(&aws.clients, &["upd-a", "upd-b", "upd-c"]).await;
    let first = desired("upd", &["upd-a", "upd-b"], 3600);
    let created = converge(&aws.clients, &first, None).await.unwrap_or_else(|e| panic!("{e}"));

    let mut second = desired("upd", &["upd-b", "upd-c"], 2 * 3600);
    let zip = handler_zip("v2");
    second.handler_zip = zip;
    second.handler_code_sha256 = lambda_code_sha256(zip);
    second.tags.insert("owner".into(), "platform".into());
    // The caller recorded only the group names (as Terraform state does).
    let updated = converge_with_groups(&aws.clients, &second, &groups(&["upd-a", "upd-b"]))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(updated.hooked_groups(), groups(&["upd-b", "upd-c"]));
    let heartbeat = budget::derive(2 * 3600, None).unwrap().heartbeat_timeout_seconds as i32;
    assert!(updated.hooks.values().all(|h| h.heartbeat_timeout_seconds == Some(heartbeat)));
    let names = DerivedNames::new("upd");
    let left_on_a = graceful_provision::aws::autoscaling::find_hook_by_group(&aws.clients, "upd-a", &names.hook).await;
    assert_eq!(left_on_a.unwrap(), None, "the hook on a group no longer managed must be deleted");

    let policy = updated.handler_role.as_ref().unwrap().inline_policies.values().next().unwrap().to_string();
    assert!(!policy.contains("autoScalingGroupName/upd-a"), "{policy}");
    assert!(policy.contains("autoScalingGroupName/upd-c"), "{policy}");

    let (before, after) = (created.document.as_ref().unwrap(), updated.document.as_ref().unwrap());
    assert_ne!(before.content, after.content);
    assert_eq!(after.default_version, "2", "a changed document is a new version made default");

    let (before, after) = (created.function.as_ref().unwrap(), updated.function.as_ref().unwrap());
    assert_eq!(before.arn, after.arn, "updated in place");
    assert_eq!(after.code_sha256, second.handler_code_sha256);
    assert_eq!(after.config.as_ref().unwrap()["drain_timeout_seconds"], 7200);
    assert_eq!(after.config.as_ref().unwrap()["autoscaling_group_names"], serde_json::json!(["upd-b", "upd-c"]));
    assert_eq!(after.tags["owner"], "platform");
    assert_eq!(updated.topic.as_ref().unwrap().tags["owner"], "platform");

    let refreshed =
        read_with_groups(&aws.clients, "upd", RoleScope::Region, &groups(&["upd-a"]), &owner()).await.unwrap();
    assert_eq!(refreshed, updated);

    delete(&aws.clients, "upd", RoleScope::Region, &groups(&["upd-a", "upd-b", "upd-c"]), &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let left = inventory::resources_named(&aws.clients, "upd", &groups(&["upd-a", "upd-b", "upd-c"])).await;
    assert_eq!(left, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pieces_deleted_out_of_band_are_seen_and_recreated() {
    let aws = start().await;
    create_groups(&aws.clients, &["drift-a"]).await;
    let want = desired("drift", &["drift-a"], 3600);
    let created = converge(&aws.clients, &want, None).await.unwrap_or_else(|e| panic!("{e}"));
    let names = DerivedNames::new("drift");

    aws.clients.lambda.delete_function().function_name(&names.function).send().await.unwrap();
    aws.clients.sns.delete_topic().topic_arn(&created.topic.as_ref().unwrap().arn).send().await.unwrap();
    aws.clients.logs.put_retention_policy().log_group_name(&names.log_group).retention_in_days(1).send().await.unwrap();

    let drifted = read_with_groups(&aws.clients, "drift", RoleScope::Region, &want.autoscaling_group_names, &owner())
        .await
        .unwrap();
    assert_eq!(drifted.topic, None);
    assert_eq!(drifted.function, None);
    assert_eq!(drifted.subscription, None);
    assert_eq!(drifted.log_group.as_ref().unwrap().retention_days, Some(1));
    assert!(drifted.publisher_role.is_some() && drifted.document.is_some());

    let repaired = converge(&aws.clients, &want, Some(&drifted)).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(repaired.topic.is_some() && repaired.function.is_some() && repaired.subscription.is_some());
    assert_eq!(repaired.log_group.as_ref().unwrap().retention_days, Some(14));
    assert_eq!(repaired.hooked_groups(), groups(&["drift-a"]));
    let again = read(&aws.clients, "drift", RoleScope::Region, &owner()).await.unwrap();
    assert_eq!(again, repaired);

    delete(&aws.clients, "drift", RoleScope::Region, &want.autoscaling_group_names, &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        inventory::resources_named(&aws.clients, "drift", &want.autoscaling_group_names).await,
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_step_is_named_keeps_what_exists_and_delete_leaves_nothing() {
    let aws = start().await;
    create_groups(&aws.clients, &["fault-a"]).await;
    let want = desired("fault", &["fault-a"], 3600);
    aws.emulator
        .set_fault(&Fault {
            service: Some("lambda".into()),
            action: Some("CreateFunction".into()),
            count: 1,
            code: "ServiceException".into(),
            message: "injected failure".into(),
            status: 400,
        })
        .unwrap();

    let error = converge(&aws.clients, &want, None).await.expect_err("CreateFunction was made to fail");
    assert_eq!(error.step(), Step::CreatingFunction);
    let message = error.to_string();
    assert!(message.starts_with("creating Lambda function (fault-drain-handler): "), "{message}");
    assert!(message.contains("injected failure"), "{message}");
    let partial = &error.observed_so_far;
    assert!(partial.topic.is_some() && partial.publisher_role.is_some() && partial.handler_role.is_some());
    assert!(partial.document.is_some() && partial.log_group.is_some());
    assert_eq!(partial.function, None);
    assert!(partial.hooks.is_empty());
    assert_eq!(read(&aws.clients, "fault", RoleScope::Region, &owner()).await.unwrap(), **partial);

    // The fault is spent: converging from the partial state finishes the job.
    let converged = converge(&aws.clients, &want, Some(partial)).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(converged.function.is_some() && converged.hooks.contains_key("fault-a"));

    delete(&aws.clients, "fault", RoleScope::Region, &want.autoscaling_group_names, &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        inventory::resources_named(&aws.clients, "fault", &want.autoscaling_group_names).await,
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_hook_then_delete_leaves_zero_resources() {
    let aws = start().await;
    create_groups(&aws.clients, &["hookfail-a"]).await;
    let want = desired("hookfail", &["hookfail-a"], 3600);
    aws.emulator
        .set_fault(&Fault {
            service: Some("autoscaling".into()),
            action: Some("PutLifecycleHook".into()),
            count: 1,
            code: "ValidationError".into(),
            message: "injected: hook refused".into(),
            status: 400,
        })
        .unwrap();
    let error = converge(&aws.clients, &want, None).await.expect_err("PutLifecycleHook was made to fail");
    assert_eq!(error.step(), Step::PuttingLifecycleHook);
    assert!(
        error.to_string().starts_with("putting Auto Scaling lifecycle hook (hookfail-a/hookfail-drain): "),
        "{error}"
    );
    assert!(error.observed_so_far.function.is_some() && error.observed_so_far.rule.is_some());

    delete(&aws.clients, "hookfail", RoleScope::Region, &want.autoscaling_group_names, &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        inventory::resources_named(&aws.clients, "hookfail", &want.autoscaling_group_names).await,
        Vec::<String>::new()
    );
    // Deleting again, or deleting what never existed, succeeds.
    delete(&aws.clients, "hookfail", RoleScope::Region, &want.autoscaling_group_names, &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    delete(&aws.clients, "never-created", RoleScope::Region, &groups(&["hookfail-a"]), &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_role_arn_too_long_for_the_hook_is_refused_before_anything_is_created() {
    let aws = start().await;
    create_groups(&aws.clients, &["longpath-a"]).await;
    let mut want = desired("longpath", &["longpath-a"], 600);
    // IAM takes this path (up to 512 characters), but the publisher role's ARN would exceed PutLifecycleHook's
    // 255-character RoleARN: without the check, every piece but the hook would be created before AWS refused.
    want.iam_path = format!("/{}/", "p".repeat(220));
    let refused = converge(&aws.clients, &want, None).await.expect_err("the path is too long for the hook");
    let message = refused.to_string();
    assert!(message.contains("RoleARN of at most 255") && message.contains("shorten iam_path"), "{message}");
    let left = inventory::resources_named(&aws.clients, "longpath", &want.autoscaling_group_names).await;
    assert!(left.is_empty(), "the refused converge created {left:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enterprise_options_are_applied_read_back_and_corrected() {
    let aws = start().await;
    create_groups(&aws.clients, &["ent-a"]).await;
    let mut want = desired("ent", &["ent-a"], 3600);
    want.iam_path = "/platform/".into();
    let boundary = create_boundary_policy(&aws.clients, "platform-boundary").await;
    assert_eq!(boundary, "arn:aws:iam::123456789012:policy/platform-boundary");
    want.permissions_boundary = Some(boundary);
    want.kms_key_id = Some("alias/aws/sns".into());
    want.architecture = Architecture::Arm64;
    want.on_failure = graceful_provision::LifecycleResult::Abandon;
    let created = converge(&aws.clients, &want, None).await.unwrap_or_else(|e| panic!("{e}"));

    for role in [created.publisher_role.as_ref().unwrap(), created.handler_role.as_ref().unwrap()] {
        assert_eq!(role.path, "/platform/");
        assert!(role.arn.contains(":role/platform/"), "{}", role.arn);
        assert_eq!(role.permissions_boundary, want.permissions_boundary);
    }
    assert_eq!(created.topic.as_ref().unwrap().kms_key_id.as_deref(), Some("alias/aws/sns"));
    assert_eq!(created.function.as_ref().unwrap().architecture, Some(Architecture::Arm64));
    assert!(created.hooks.values().all(|h| h.default_result.as_deref() == Some("ABANDON")));
    assert_eq!(read(&aws.clients, "ent", RoleScope::Region, &owner()).await.unwrap(), created);
    aws.operations.take();
    converge(&aws.clients, &want, Some(&created)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(aws.operations.take_writes(), Vec::<String>::new());

    // Dropping the options: boundary removed, roles moved back to "/" (IAM cannot move a role: it is recreated),
    // encryption turned off, and the function follows the new handler role.
    let mut plain = want.clone();
    plain.iam_path = "/".into();
    plain.permissions_boundary = None;
    plain.kms_key_id = None;
    let corrected = converge(&aws.clients, &plain, Some(&created)).await.unwrap_or_else(|e| panic!("{e}"));
    let handler_role = corrected.handler_role.as_ref().unwrap();
    assert_eq!(handler_role.arn, "arn:aws:iam::123456789012:role/ent-us-east-1-handler");
    assert_eq!(handler_role.permissions_boundary, None);
    assert_eq!(corrected.topic.as_ref().unwrap().kms_key_id, None);
    assert_eq!(corrected.function.as_ref().unwrap().role_arn, handler_role.arn);
    let publisher = corrected.publisher_role.as_ref().unwrap();
    assert!(corrected.hooks.values().all(|h| h.role_arn.as_deref() == Some(publisher.arn.as_str())));
    assert_eq!(read(&aws.clients, "ent", RoleScope::Region, &owner()).await.unwrap(), corrected);

    delete(&aws.clients, "ent", RoleScope::Region, &want.autoscaling_group_names, &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        inventory::resources_named(&aws.clients, "ent", &want.autoscaling_group_names).await,
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_calls_are_retried_by_the_sdk() {
    let aws = start().await;
    create_groups(&aws.clients, &["throttle-a"]).await;
    let want = desired("throttle", &["throttle-a"], 3600);
    aws.emulator.throttle(0.2, None).unwrap();
    let created = converge(&aws.clients, &want, None).await.unwrap_or_else(|e| panic!("{e}"));
    let calls = aws.operations.take();
    let throttled = aws.emulator.events_of_kind("fault-injected").unwrap().len();
    assert!(throttled > 0, "the emulator throttled nothing in {} calls", calls.len());
    aws.emulator.throttle(0.0, None).unwrap();
    assert_eq!(read(&aws.clients, "throttle", RoleScope::Region, &owner()).await.unwrap(), created);
    delete(&aws.clients, "throttle", RoleScope::Region, &want.autoscaling_group_names, &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        inventory::resources_named(&aws.clients, "throttle", &want.autoscaling_group_names).await,
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_propagation_errors_are_retried_until_they_clear() {
    let aws = start().await;
    create_groups(&aws.clients, &["iam-a"]).await;
    let want = desired("iam", &["iam-a"], 3600);
    let fault = |service: &str, action: &str, code: &str, message: &str| Fault {
        service: Some(service.into()),
        action: Some(action.into()),
        count: 2,
        code: code.into(),
        message: message.into(),
        status: 400,
    };
    // The errors AWS answers while a role created seconds ago has not propagated yet.
    aws.emulator
        .set_fault(&fault(
            "lambda",
            "CreateFunction",
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
        ))
        .unwrap();
    aws.emulator
        .set_fault(&fault(
            "autoscaling",
            "PutLifecycleHook",
            "ValidationError",
            "Unable to publish test message to notification target arn:aws:sns:us-east-1:123456789012:iam-lifecycle \
             using IAM role arn:aws:iam::123456789012:role/iam-publisher. Please check your target and role \
             configuration and try again.",
        ))
        .unwrap();
    let started = Instant::now();
    let created = converge(&aws.clients, &want, None).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(created.function.is_some() && created.hooks.contains_key("iam-a"));
    let injected = aws.emulator.events_of_kind("fault-injected").unwrap();
    assert_eq!(injected.len(), 4, "both faults fired twice before the calls succeeded: {injected:?}");
    // Two retries each, with backoff from 200 ms: well under the two-minute bound.
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_another_owner_are_neither_adopted_nor_deleted() {
    let aws = start().await;
    create_groups(&aws.clients, &["own-a", "own-b"]).await;
    let first = desired("own", &["own-a"], 3600);
    let created = converge(&aws.clients, &first, None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(created.topic.as_ref().unwrap().tags[OWNER_TAG], "test-owner");
    assert_eq!(created.function.as_ref().unwrap().tags[OWNER_TAG], "test-owner");

    // A second instance with the same name (another state, or a create_before_destroy replacement).
    let mut second = desired("own", &["own-b"], 1800);
    second.ownership = Ownership::Tagged("another-owner".into());
    aws.operations.take();
    let error = converge(&aws.clients, &second, None).await.expect_err("the names belong to another instance");
    assert_eq!(error.step(), Step::CheckingOwnership);
    assert_eq!(aws.operations.take_writes(), Vec::<String>::new(), "a refused create must change nothing");
    assert!(error.observed_so_far.is_absent(), "nothing of the other instance may enter this one's state");
    let message = error.to_string();
    for expected in [
        "SNS topic arn:aws:sns:us-east-1:123456789012:own-lifecycle already exists",
        "IAM role own-us-east-1-publisher already exists",
        "Lambda function own-drain-handler already exists",
        "\"test-owner\"",
        "terraform import",
    ] {
        assert!(message.contains(expected), "missing {expected:?} in: {message}");
    }

    // Its destroy (or a read) leaves the other instance's objects alone.
    assert!(read(&aws.clients, "own", RoleScope::Region, &second.ownership).await.unwrap().is_absent());
    delete(&aws.clients, "own", RoleScope::Region, &groups(&["own-a", "own-b"]), &second.ownership, true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(aws.operations.take_writes(), Vec::<String>::new(), "a delete must not touch objects it does not own");
    assert_eq!(read(&aws.clients, "own", RoleScope::Region, &owner()).await.unwrap(), created);

    delete(&aws.clients, "own", RoleScope::Region, &first.autoscaling_group_names, &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        inventory::resources_named(&aws.clients, "own", &groups(&["own-a", "own-b"])).await,
        Vec::<String>::new()
    );
}

/// Settings changed and then changed back: the document's first version already has the content, and SSM refuses an
/// update whose content duplicates a version (`DuplicateDocumentContent`). The converge makes that version the
/// default instead of failing on every apply from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_changed_back_reuse_the_document_version_that_has_them() {
    let aws = start().await;
    create_groups(&aws.clients, &["back-a"]).await;
    let first = desired("back", &["back-a"], 3600);
    let created = converge(&aws.clients, &first, None).await.unwrap_or_else(|e| panic!("{e}"));
    let second = desired("back", &["back-a"], 2 * 3600);
    let changed = converge(&aws.clients, &second, Some(&created)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(changed.document.as_ref().unwrap().default_version, "2");
    let back = converge(&aws.clients, &first, Some(&changed)).await.unwrap_or_else(|e| panic!("{e}"));
    let document = back.document.as_ref().unwrap();
    assert_eq!(document.default_version, "1", "the version with the first settings is the default again");
    assert_eq!(document.content, created.document.as_ref().unwrap().content);
    let refreshed = read(&aws.clients, "back", RoleScope::Region, &owner()).await.unwrap();
    assert_eq!(refreshed.document, back.document);
    delete(&aws.clients, "back", RoleScope::Region, &first.autoscaling_group_names, &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spot_block_adds_the_notice_pattern_to_the_rule_and_drift_sees_it_removed() {
    let aws = start().await;
    create_groups(&aws.clients, &["spot-a"]).await;
    let plain = desired("spot", &["spot-a"], 3600);
    let created = converge(&aws.clients, &plain, None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(created.rule.as_ref().unwrap().event_pattern, None, "no spot block, no pattern");

    let with_spot = graceful_provision::DesiredResource {
        spot: Some(drain_contract::spot::SpotDrain::from_deadline("30s").unwrap()),
        ..plain.clone()
    };
    let updated = converge(&aws.clients, &with_spot, Some(&created)).await.unwrap_or_else(|e| panic!("{e}"));
    let rule = updated.rule.as_ref().unwrap();
    assert_eq!(rule.arn, created.rule.as_ref().unwrap().arn, "the same rule, updated in place");
    assert_eq!(rule.schedule_expression.as_deref(), Some("rate(1 minute)"), "the schedule stays");
    assert_eq!(rule.event_pattern, Some(drain_contract::spot::event_pattern()));
    assert_eq!(updated.function.as_ref().unwrap().config.as_ref().unwrap()["spot"]["deadline_seconds"], 30);
    let refreshed = read(&aws.clients, "spot", RoleScope::Region, &owner()).await.unwrap();
    assert_eq!(refreshed, updated);
    assert_eq!(graceful_provision::drift(&aws.clients, &with_spot, &refreshed).await.unwrap(), Vec::<String>::new());

    // Someone puts the rule back without its pattern: a refresh reports it, the next apply restores it.
    let names = DerivedNames::new("spot");
    aws.clients
        .events
        .put_rule()
        .name(&names.rule)
        .schedule_expression("rate(1 minute)")
        .send()
        .await
        .expect("putting the rule without its pattern");
    let drifted = read(&aws.clients, "spot", RoleScope::Region, &owner()).await.unwrap();
    let found = graceful_provision::drift(&aws.clients, &with_spot, &drifted).await.unwrap();
    assert_eq!(found, vec![format!("EventBridge rule {}: its event pattern differs", names.rule)]);
    let restored = converge(&aws.clients, &with_spot, Some(&drifted)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(restored.rule.as_ref().unwrap().event_pattern, Some(drain_contract::spot::event_pattern()));

    // Dropping the block drops the pattern, not the schedule.
    let back = converge(&aws.clients, &plain, Some(&restored)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.rule.as_ref().unwrap().event_pattern, None);
    assert_eq!(back.rule.as_ref().unwrap().schedule_expression.as_deref(), Some("rate(1 minute)"));
    delete(&aws.clients, "spot", RoleScope::Region, &groups(&["spot-a"]), &owner(), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}
