//! SSM: the drain Command document; an update makes a new version and sets it as the default.

use std::collections::BTreeMap;

use aws_sdk_ssm::operation::update_document::UpdateDocumentError;
use aws_sdk_ssm::types::{DocumentFormat, DocumentType, ResourceTypeForTagging, Tag};

use super::{none_if_not_found, ok_if_gone, tags};
use crate::clients::Clients;
use crate::error::{AwsError, Cause, Step, StepError};
use crate::observed::ObservedDocument;

/// `DescribeDocument` / `DeleteDocument` on a missing document: `InvalidDocument: Document with name x does not exist.`
fn document_not_found(error: &AwsError) -> bool {
    error.code_is("InvalidDocument")
}

fn unexpected(step: Step, id: &str, message: String) -> StepError {
    StepError::new(step, id, Cause::Unexpected(message))
}

pub async fn find_document_by_name(
    clients: &Clients,
    name: &str,
    arn: &str,
) -> Result<Option<ObservedDocument>, StepError> {
    let described = clients.ssm.describe_document().name(name).send().await;
    let Some(described) =
        none_if_not_found(described.map_err(StepError::aws(Step::ReadingDocument, name)), document_not_found)?
    else {
        return Ok(None);
    };
    let Some(description) = described.document else { return Ok(None) };
    let default_version = description.default_version.clone().unwrap_or_default();
    let content = clients
        .ssm
        .get_document()
        .name(name)
        .document_version(&default_version)
        .send()
        .await
        .map_err(StepError::aws(Step::ReadingDocument, name))?
        .content
        .unwrap_or_default();
    let content = serde_json::from_str(&content)
        .map_err(|e| unexpected(Step::ReadingDocument, name, format!("document content is not JSON: {e}")))?;
    Ok(Some(ObservedDocument {
        name: name.to_owned(),
        arn: arn.to_owned(),
        content,
        default_version,
        latest_version: description.latest_version.unwrap_or_default(),
        tags: description.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect(),
    }))
}

/// The newest version of the document whose content is `content`. Versions are numbered from 1 to the latest
/// (`DescribeDocument` `LatestVersion`); one deleted by hand answers `InvalidDocumentVersion` and is skipped.
async fn version_with_content(clients: &Clients, name: &str, content: &serde_json::Value) -> Result<String, StepError> {
    let described = clients.ssm.describe_document().name(name).send().await;
    let latest = described
        .map_err(StepError::aws(Step::UpdatingDocument, name))?
        .document
        .and_then(|d| d.latest_version)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    for version in (1..=latest).rev().map(|v| v.to_string()) {
        let fetched = clients.ssm.get_document().name(name).document_version(&version).send().await;
        let text = match fetched {
            Ok(fetched) => fetched.content.unwrap_or_default(),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_invalid_document_version()) => continue,
            Err(error) => return Err(StepError::aws(Step::UpdatingDocument, name)(error)),
        };
        if serde_json::from_str::<serde_json::Value>(&text).ok().as_ref() == Some(content) {
            return Ok(version);
        }
    }
    Err(unexpected(
        Step::UpdatingDocument,
        name,
        "UpdateDocument answered DuplicateDocumentContent, but no version has the desired content".into(),
    ))
}

fn ssm_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect()
}

pub struct DesiredDocument<'a> {
    pub name: &'a str,
    pub arn: &'a str,
    /// The rendered document JSON.
    pub content: &'a str,
    pub tags: &'a BTreeMap<String, String>,
}

pub async fn ensure_document(
    clients: &Clients,
    desired: &DesiredDocument<'_>,
    observed: Option<&ObservedDocument>,
) -> Result<ObservedDocument, StepError> {
    let name = desired.name;
    let content: serde_json::Value = serde_json::from_str(desired.content)
        .map_err(|e| unexpected(Step::CreatingDocument, name, format!("rendered document is not JSON: {e}")))?;
    let Some(observed) = observed else {
        let created = clients
            .ssm
            .create_document()
            .name(name)
            .content(desired.content)
            .document_type(DocumentType::Command)
            .document_format(DocumentFormat::Json)
            .set_tags(Some(ssm_tags(desired.tags)).filter(|t| !t.is_empty()))
            .send()
            .await
            .map_err(StepError::aws(Step::CreatingDocument, name))?;
        let description = created.document_description;
        let version = description.as_ref().and_then(|d| d.document_version.clone()).unwrap_or_else(|| "1".to_owned());
        let default_version = description.as_ref().and_then(|d| d.default_version.clone());
        let latest_version = description.and_then(|d| d.latest_version);
        return Ok(ObservedDocument {
            name: name.to_owned(),
            arn: desired.arn.to_owned(),
            content,
            default_version: default_version.unwrap_or_else(|| version.clone()),
            latest_version: latest_version.unwrap_or(version),
            tags: desired.tags.clone(),
        });
    };
    let mut current = observed.clone();
    if current.content != content {
        let updated = clients
            .ssm
            .update_document()
            .name(name)
            .content(desired.content)
            .document_format(DocumentFormat::Json)
            .document_version("$LATEST")
            .send()
            .await;
        let version = match updated {
            Ok(updated) => {
                let version = updated.document_description.and_then(|d| d.document_version).ok_or_else(|| {
                    unexpected(Step::UpdatingDocument, name, "UpdateDocument returned no version".into())
                })?;
                current.latest_version = version.clone();
                version
            }
            // A version with this content exists already (an earlier apply stopped before making it the default, or
            // the settings went back to earlier ones): UpdateDocument refuses a duplicate, so make that one default.
            Err(error) if error.as_service_error().is_some_and(UpdateDocumentError::is_duplicate_document_content) => {
                version_with_content(clients, name, &content).await?
            }
            Err(error) => return Err(StepError::aws(Step::UpdatingDocument, name)(error)),
        };
        clients
            .ssm
            .update_document_default_version()
            .name(name)
            .document_version(&version)
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingDocument, name))?;
        current.content = content;
        current.default_version = version;
    }
    let changes = tags::changes(&current.tags, desired.tags);
    if !changes.remove.is_empty() {
        clients
            .ssm
            .remove_tags_from_resource()
            .resource_type(ResourceTypeForTagging::Document)
            .resource_id(name)
            .set_tag_keys(Some(changes.remove))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingDocument, name))?;
    }
    if !changes.set.is_empty() {
        clients
            .ssm
            .add_tags_to_resource()
            .resource_type(ResourceTypeForTagging::Document)
            .resource_id(name)
            .set_tags(Some(ssm_tags(&changes.set)))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingDocument, name))?;
    }
    current.tags = desired.tags.clone();
    Ok(current)
}

pub async fn delete_document(clients: &Clients, name: &str) -> Result<(), StepError> {
    let result = clients.ssm.delete_document().name(name).send().await;
    ok_if_gone(result.map(|_| ()).map_err(StepError::aws(Step::DeletingDocument, name)), document_not_found)
}
