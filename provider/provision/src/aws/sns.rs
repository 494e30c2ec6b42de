//! SNS: the lifecycle topic (policy, KMS key, tags) and the topic → Lambda subscription.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_sns::types::Tag;

use super::{none_if_not_found, ok_if_gone, parse_policy, tags};
use crate::clients::Clients;
use crate::error::{AwsError, Cause, Step, StepError};
use crate::observed::{ObservedSubscription, ObservedTopic};

/// `GetTopicAttributes` on a missing topic: `NotFound: Topic does not exist`.
fn topic_not_found(error: &AwsError) -> bool {
    error.code_is("NotFound") || error.code_is("NotFoundException")
}

pub async fn find_topic_by_arn(clients: &Clients, arn: &str) -> Result<Option<ObservedTopic>, StepError> {
    let attributes = clients.sns.get_topic_attributes().topic_arn(arn).send().await;
    let Some(attributes) =
        none_if_not_found(attributes.map_err(StepError::aws(Step::ReadingTopic, arn)), topic_not_found)?
    else {
        return Ok(None);
    };
    let attributes = attributes.attributes.unwrap_or_default();
    let policy = match attributes.get("Policy") {
        Some(text) => {
            Some(parse_policy(text).map_err(|e| StepError::new(Step::ReadingTopic, arn, Cause::Unexpected(e)))?)
        }
        None => None,
    };
    let tags = clients
        .sns
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(StepError::aws(Step::ReadingTopic, arn))?
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|tag| (tag.key, tag.value))
        .collect();
    Ok(Some(ObservedTopic {
        arn: arn.to_owned(),
        policy,
        kms_key_id: attributes.get("KmsMasterKeyId").filter(|k| !k.is_empty()).cloned(),
        tags,
    }))
}

fn sns_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect()
}

pub struct DesiredTopic<'a> {
    pub name: &'a str,
    pub arn: &'a str,
    pub policy: serde_json::Value,
    pub kms_key_id: Option<&'a str>,
    pub tags: &'a BTreeMap<String, String>,
}

/// Creates the topic when missing, then sets policy, KMS key and tags where they differ.
pub async fn ensure_topic(
    clients: &Clients,
    desired: &DesiredTopic<'_>,
    observed: Option<&ObservedTopic>,
) -> Result<ObservedTopic, StepError> {
    let mut current = match observed {
        Some(topic) => topic.clone(),
        None => {
            let mut attributes = HashMap::new();
            if let Some(key) = desired.kms_key_id {
                attributes.insert("KmsMasterKeyId".to_owned(), key.to_owned());
            }
            attributes.insert("Policy".to_owned(), desired.policy.to_string());
            let created = clients
                .sns
                .create_topic()
                .name(desired.name)
                .set_attributes(Some(attributes))
                .set_tags(Some(sns_tags(desired.tags)).filter(|t| !t.is_empty()))
                .send()
                .await
                .map_err(StepError::aws(Step::CreatingTopic, desired.name))?;
            let arn = created.topic_arn.unwrap_or_else(|| desired.arn.to_owned());
            return find_topic_by_arn(clients, &arn).await?.ok_or_else(|| {
                StepError::new(
                    Step::CreatingTopic,
                    desired.name,
                    Cause::Unexpected("topic missing after CreateTopic".into()),
                )
            });
        }
    };
    let arn = current.arn.clone();
    let set_attribute = |name: &'static str, value: String| {
        let arn = arn.clone();
        async move {
            clients
                .sns
                .set_topic_attributes()
                .topic_arn(&arn)
                .attribute_name(name)
                .attribute_value(value)
                .send()
                .await
                .map_err(StepError::aws(Step::UpdatingTopic, &arn))
                .map(|_| ())
        }
    };
    if current.policy.as_ref() != Some(&desired.policy) {
        set_attribute("Policy", desired.policy.to_string()).await?;
        current.policy = Some(desired.policy.clone());
    }
    if current.kms_key_id.as_deref() != desired.kms_key_id {
        // An empty value turns encryption off.
        set_attribute("KmsMasterKeyId", desired.kms_key_id.unwrap_or_default().to_owned()).await?;
        current.kms_key_id = desired.kms_key_id.map(str::to_owned);
    }
    let changes = tags::changes(&current.tags, desired.tags);
    if !changes.remove.is_empty() {
        clients
            .sns
            .untag_resource()
            .resource_arn(&arn)
            .set_tag_keys(Some(changes.remove.clone()))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingTopic, &arn))?;
    }
    if !changes.set.is_empty() {
        clients
            .sns
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(sns_tags(&changes.set)))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingTopic, &arn))?;
    }
    current.tags = desired.tags.clone();
    Ok(current)
}

/// Deleting a missing topic succeeds in AWS already; `NotFound` is accepted too.
pub async fn delete_topic(clients: &Clients, arn: &str) -> Result<(), StepError> {
    let result = clients.sns.delete_topic().topic_arn(arn).send().await;
    ok_if_gone(result.map(|_| ()).map_err(StepError::aws(Step::DeletingTopic, arn)), topic_not_found)
}

/// The confirmed subscription of `topic_arn` with protocol `lambda` and this endpoint.
pub async fn find_subscription_by_endpoint(
    clients: &Clients,
    topic_arn: &str,
    endpoint: &str,
) -> Result<Option<ObservedSubscription>, StepError> {
    let mut pages = clients.sns.list_subscriptions_by_topic().topic_arn(topic_arn).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page =
            none_if_not_found(page.map_err(StepError::aws(Step::ReadingSubscription, topic_arn)), topic_not_found)?;
        let Some(page) = page else { return Ok(None) };
        for subscription in page.subscriptions.unwrap_or_default() {
            let arn = subscription.subscription_arn.unwrap_or_default();
            if subscription.protocol.as_deref() == Some("lambda")
                && subscription.endpoint.as_deref() == Some(endpoint)
                && arn.starts_with("arn:")
            {
                return Ok(Some(ObservedSubscription { arn, endpoint: endpoint.to_owned() }));
            }
        }
    }
    Ok(None)
}

pub async fn ensure_subscription(
    clients: &Clients,
    topic_arn: &str,
    function_arn: &str,
    observed: Option<&ObservedSubscription>,
) -> Result<ObservedSubscription, StepError> {
    if let Some(subscription) = observed.filter(|s| s.endpoint == function_arn) {
        return Ok(subscription.clone());
    }
    let created = clients
        .sns
        .subscribe()
        .topic_arn(topic_arn)
        .protocol("lambda")
        .endpoint(function_arn)
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(StepError::aws(Step::CreatingSubscription, topic_arn))?;
    let arn = created.subscription_arn.ok_or_else(|| {
        StepError::new(Step::CreatingSubscription, topic_arn, Cause::Unexpected("Subscribe returned no ARN".into()))
    })?;
    Ok(ObservedSubscription { arn, endpoint: function_arn.to_owned() })
}

pub async fn delete_subscription(clients: &Clients, arn: &str) -> Result<(), StepError> {
    let result = clients.sns.unsubscribe().subscription_arn(arn).send().await;
    ok_if_gone(result.map(|_| ()).map_err(StepError::aws(Step::DeletingSubscription, arn)), topic_not_found)
}
