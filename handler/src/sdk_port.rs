//! The production AWS port: the SDK clients, and the classification of their errors.

use crate::aws_error::{ACCESS_DENIED, HandlerError, failure, is_no_active_lifecycle_action, is_throttled};
use crate::decide::{Agent, CommandSeen};
use crate::drain_lock::Taken;
use crate::duplicates::SendOrder;
use crate::observe::Aws;
use crate::port::{
    ActivitiesPage, AwsPort, DrainCommand, GroupSeen, LifecycleAnswer, MemberSeen, ParameterSeen, SendRefusal,
    WarmPoolSeen,
};
use aws_sdk_autoscaling::types::WarmPoolState;
use aws_sdk_ssm::operation::delete_parameter::DeleteParameterError;
use aws_sdk_ssm::operation::put_parameter::PutParameterError;
use aws_sdk_ssm::operation::send_command::SendCommandError;
use aws_sdk_ssm::types::{
    CloudWatchOutputConfig, CommandFilter, CommandFilterKey, InstanceInformationStringFilter, NotificationConfig,
    NotificationEvent, NotificationType, ParameterTier, ParameterType, PingStatus,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use drain_contract::LifecycleResult;
use drain_contract::operations::Operation;
use std::time::{SystemTime, UNIX_EPOCH};

/// The command statuses SSM notifies us of.
const TERMINAL_NOTIFICATION_EVENTS: [NotificationEvent; 4] =
    [NotificationEvent::Success, NotificationEvent::Failed, NotificationEvent::TimedOut, NotificationEvent::Cancelled];

impl AwsPort for Aws {
    fn now(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }

    async fn describe_auto_scaling_instance(
        &self,
        instance_id: &str,
    ) -> Result<Option<(String, String)>, HandlerError> {
        let output = self
            .autoscaling
            .describe_auto_scaling_instances()
            .instance_ids(instance_id)
            .send()
            .await
            .map_err(|e| failure(Operation::DescribeAutoScalingInstances, instance_id, e))?;
        Ok(output.auto_scaling_instances().first().and_then(|details| {
            Some((details.auto_scaling_group_name()?.to_string(), details.lifecycle_state()?.to_string()))
        }))
    }

    async fn describe_warm_pool(&self, group: &str, subject: &str) -> Result<WarmPoolSeen, HandlerError> {
        let mut pool = WarmPoolSeen::default();
        let mut pages = self.autoscaling.describe_warm_pool().auto_scaling_group_name(group).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failure(Operation::DescribeWarmPool, subject, e))?;
            pool.stopped |= page
                .warm_pool_configuration()
                .and_then(|pool| pool.pool_state())
                .is_some_and(|pool_state| *pool_state != WarmPoolState::Running);
            pool.instances.extend(page.instances().iter().filter_map(|instance| {
                Some(MemberSeen {
                    instance_id: instance.instance_id()?.to_string(),
                    lifecycle_state: instance.lifecycle_state()?.as_str().to_string(),
                })
            }));
        }
        Ok(pool)
    }

    async fn describe_auto_scaling_groups(
        &self,
        names: &[String],
        subject: &str,
    ) -> Result<Vec<GroupSeen>, HandlerError> {
        let mut groups = Vec::new();
        let mut pages = self
            .autoscaling
            .describe_auto_scaling_groups()
            .set_auto_scaling_group_names(Some(names.to_vec()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failure(Operation::DescribeAutoScalingGroups, subject, e))?;
            groups.extend(page.auto_scaling_groups().iter().map(|group| {
                GroupSeen {
                    name: group.auto_scaling_group_name().unwrap_or_default().to_string(),
                    instances: group
                        .instances()
                        .iter()
                        .filter_map(|instance| {
                            Some(MemberSeen {
                                instance_id: instance.instance_id()?.to_string(),
                                lifecycle_state: instance.lifecycle_state()?.as_str().to_string(),
                            })
                        })
                        .collect(),
                    has_warm_pool: group.warm_pool_configuration().is_some(),
                }
            }));
        }
        Ok(groups)
    }

    async fn describe_scaling_activities(
        &self,
        group: &str,
        max_records: i32,
        next_token: Option<String>,
    ) -> Result<ActivitiesPage, HandlerError> {
        let page = self
            .autoscaling
            .describe_scaling_activities()
            .auto_scaling_group_name(group)
            .max_records(max_records)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| failure(Operation::DescribeScalingActivities, group, e))?;
        let activities = page
            .activities()
            .iter()
            .map(|activity| {
                let start = activity.start_time().map(|time| time.secs().max(0) as u64);
                (activity.description().unwrap_or_default().to_string(), start)
            })
            .collect();
        Ok(ActivitiesPage { activities, next_token: page.next_token().map(str::to_string) })
    }

    async fn list_commands(
        &self,
        instance_id: &str,
        document_name: &str,
    ) -> Result<Vec<(SendOrder, CommandSeen)>, HandlerError> {
        let filter = CommandFilter::builder()
            .key(CommandFilterKey::DocumentName)
            .value(document_name)
            .build()
            .expect("key and value are set");
        let output = self
            .ssm
            .list_commands()
            .instance_id(instance_id)
            .filters(filter)
            .send()
            .await
            .map_err(|e| failure(Operation::ListCommands, instance_id, e))?;
        Ok(output.commands().iter().filter_map(crate::observe::command_seen).collect())
    }

    async fn describe_instance_information(&self, instance_id: &str) -> Result<Agent, HandlerError> {
        let filter = InstanceInformationStringFilter::builder()
            .key("InstanceIds")
            .values(instance_id)
            .build()
            .expect("key and values are set");
        let output = self
            .ssm
            .describe_instance_information()
            .filters(filter)
            .send()
            .await
            .map_err(|e| failure(Operation::DescribeInstanceInformation, instance_id, e))?;
        Ok(match output.instance_information_list().first().and_then(|info| info.ping_status()) {
            None => Agent::NotManaged,
            Some(PingStatus::Online) => Agent::Online,
            Some(other) => Agent::Unreachable(other.as_str().to_string()),
        })
    }

    async fn get_parameters_by_path(&self, path: &str, subject: &str) -> Result<Vec<ParameterSeen>, HandlerError> {
        let mut found = Vec::new();
        let mut pages = self.ssm.get_parameters_by_path().path(path).recursive(false).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failure(Operation::GetParametersByPath, subject, e))?;
            found.extend(page.parameters().iter().filter_map(|parameter| {
                Some(ParameterSeen {
                    name: parameter.name()?.to_string(),
                    last_modified: parameter.last_modified_date().map(|t| t.secs().max(0) as u64).unwrap_or(0),
                })
            }));
        }
        Ok(found)
    }

    async fn put_parameter_if_absent(
        &self,
        name: &str,
        value: &str,
        policies: &str,
        subject: &str,
    ) -> Result<Taken, HandlerError> {
        let put = self
            .ssm
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            .overwrite(false)
            .tier(ParameterTier::Advanced)
            .policies(policies)
            .send()
            .await;
        match put {
            Ok(_) => Ok(Taken::Ours),
            Err(error) if error.as_service_error().is_some_and(PutParameterError::is_parameter_already_exists) => {
                Ok(Taken::Held)
            }
            Err(error) => Err(failure(Operation::PutParameter, subject, error)),
        }
    }

    async fn delete_parameter(&self, name: &str, subject: &str) -> Result<(), HandlerError> {
        match self.ssm.delete_parameter().name(name).send().await {
            Ok(_) => Ok(()),
            Err(error) if error.as_service_error().is_some_and(DeleteParameterError::is_parameter_not_found) => Ok(()),
            Err(error) => Err(failure(Operation::DeleteParameter, subject, error)),
        }
    }

    async fn send_command(&self, command: &DrainCommand<'_>) -> Result<String, SendRefusal> {
        // Only terminal statuses: nothing is decided on `InProgress`, and each notification is an invocation.
        let notification = NotificationConfig::builder()
            .notification_arn(command.notification_topic_arn)
            .set_notification_events(Some(TERMINAL_NOTIFICATION_EVENTS.to_vec()))
            .notification_type(NotificationType::Invocation)
            .build();
        let output_config = CloudWatchOutputConfig::builder()
            .cloud_watch_output_enabled(command.log_group_name.is_some())
            .set_cloud_watch_log_group_name(command.log_group_name.map(str::to_string))
            .build();
        let sent = self
            .ssm
            .send_command()
            .document_name(command.document_name)
            .instance_ids(command.instance_id)
            .set_parameters(Some(command.parameters.clone().into_iter().collect()))
            .comment(command.comment)
            .timeout_seconds(command.timeout_seconds.min(i32::MAX as u64) as i32)
            .notification_config(notification)
            .service_role_arn(command.notification_role_arn)
            .cloud_watch_output_config(output_config)
            .send()
            .await;
        let instance_id = command.instance_id;
        match sent {
            Ok(output) => Ok(output.command().and_then(|c| c.command_id()).unwrap_or_default().to_string()),
            Err(error) if error.as_service_error().is_some_and(SendCommandError::is_invalid_instance_id) => {
                Err(SendRefusal::InvalidInstanceId(failure(Operation::SendCommand, instance_id, error)))
            }
            Err(error) if error.code() == Some(ACCESS_DENIED) => {
                Err(SendRefusal::AccessDenied { message: error.message().unwrap_or_default().to_string() })
            }
            Err(error) if is_throttled(&error) => {
                Err(SendRefusal::Throttled(failure(Operation::SendCommand, instance_id, error)))
            }
            Err(error) => Err(SendRefusal::Failed(failure(Operation::SendCommand, instance_id, error))),
        }
    }

    async fn cancel_command(&self, command_id: &str, instance_id: &str) -> Result<(), HandlerError> {
        self.ssm
            .cancel_command()
            .command_id(command_id)
            .instance_ids(instance_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failure(Operation::CancelCommand, command_id, e))
    }

    async fn complete_lifecycle_action(
        &self,
        group: &str,
        hook: &str,
        instance_id: &str,
        result: LifecycleResult,
    ) -> Result<LifecycleAnswer, HandlerError> {
        let completed = self
            .autoscaling
            .complete_lifecycle_action()
            .auto_scaling_group_name(group)
            .lifecycle_hook_name(hook)
            .instance_id(instance_id)
            .lifecycle_action_result(result.as_aws_str())
            .send()
            .await
            .map_err(|e| failure(Operation::CompleteLifecycleAction, instance_id, e));
        lifecycle_answer(completed)
    }

    async fn record_lifecycle_action_heartbeat(
        &self,
        group: &str,
        hook: &str,
        instance_id: &str,
    ) -> Result<LifecycleAnswer, HandlerError> {
        let recorded = self
            .autoscaling
            .record_lifecycle_action_heartbeat()
            .auto_scaling_group_name(group)
            .lifecycle_hook_name(hook)
            .instance_id(instance_id)
            .send()
            .await
            .map_err(|e| failure(Operation::RecordLifecycleActionHeartbeat, instance_id, e));
        lifecycle_answer(recorded)
    }
}

fn lifecycle_answer<T>(answer: Result<T, HandlerError>) -> Result<LifecycleAnswer, HandlerError> {
    match answer {
        Ok(_) => Ok(LifecycleAnswer::Accepted),
        Err(error) if is_no_active_lifecycle_action(&error) => Ok(LifecycleAnswer::NoActiveAction),
        Err(error) => Err(error),
    }
}
