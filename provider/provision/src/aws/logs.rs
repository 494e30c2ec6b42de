//! CloudWatch Logs: the function's log group, with retention and tags.

#![allow(deprecated)] // ListTagsLogGroup / TagLogGroup / UntagLogGroup: the name-based tag calls every emulator serves.

use std::collections::{BTreeMap, HashMap};

use super::{ok_if_gone, tags};
use crate::clients::Clients;
use crate::error::{AwsError, Step, StepError};
use crate::observed::ObservedLogGroup;

/// `DeleteLogGroup` on a missing group: `ResourceNotFoundException: The specified log group does not exist.`
fn log_group_not_found(error: &AwsError) -> bool {
    error.code_is("ResourceNotFoundException")
}

pub async fn find_log_group_by_name(clients: &Clients, name: &str) -> Result<Option<ObservedLogGroup>, StepError> {
    let mut pages = clients.logs.describe_log_groups().log_group_name_prefix(name).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(StepError::aws(Step::ReadingLogGroup, name))?;
        let Some(group) =
            page.log_groups.unwrap_or_default().into_iter().find(|g| g.log_group_name.as_deref() == Some(name))
        else {
            continue;
        };
        let tags = clients
            .logs
            .list_tags_log_group()
            .log_group_name(name)
            .send()
            .await
            .map_err(StepError::aws(Step::ReadingLogGroup, name))?
            .tags
            .unwrap_or_default()
            .into_iter()
            .collect();
        // `arn` ends in ":*"; the group's own ARN is what IAM policies and tags name.
        let arn = group.arn.unwrap_or_default().trim_end_matches(":*").to_owned();
        return Ok(Some(ObservedLogGroup {
            name: name.to_owned(),
            arn,
            retention_days: group.retention_in_days,
            tags,
        }));
    }
    Ok(None)
}

pub async fn ensure_log_group(
    clients: &Clients,
    name: &str,
    arn: &str,
    retention_days: i32,
    desired_tags: &BTreeMap<String, String>,
    observed: Option<&ObservedLogGroup>,
) -> Result<ObservedLogGroup, StepError> {
    let mut current = match observed {
        Some(group) => group.clone(),
        None => {
            let tag_map: HashMap<String, String> = desired_tags.clone().into_iter().collect();
            clients
                .logs
                .create_log_group()
                .log_group_name(name)
                .set_tags(Some(tag_map).filter(|t| !t.is_empty()))
                .send()
                .await
                .map_err(StepError::aws(Step::CreatingLogGroup, name))?;
            ObservedLogGroup {
                name: name.to_owned(),
                arn: arn.to_owned(),
                retention_days: None,
                tags: desired_tags.clone(),
            }
        }
    };
    if current.retention_days != Some(retention_days) {
        clients
            .logs
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(retention_days)
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingLogGroup, name))?;
        current.retention_days = Some(retention_days);
    }
    let changes = tags::changes(&current.tags, desired_tags);
    if !changes.remove.is_empty() {
        clients
            .logs
            .untag_log_group()
            .log_group_name(name)
            .set_tags(Some(changes.remove))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingLogGroup, name))?;
    }
    if !changes.set.is_empty() {
        clients
            .logs
            .tag_log_group()
            .log_group_name(name)
            .set_tags(Some(changes.set.into_iter().collect()))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingLogGroup, name))?;
    }
    current.tags = desired_tags.clone();
    Ok(current)
}

pub async fn delete_log_group(clients: &Clients, name: &str) -> Result<(), StepError> {
    let result = clients.logs.delete_log_group().log_group_name(name).send().await;
    ok_if_gone(result.map(|_| ()).map_err(StepError::aws(Step::DeletingLogGroup, name)), log_group_not_found)
}
