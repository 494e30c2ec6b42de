//! IAM: the publisher and handler roles (trust, one inline policy each, boundary, path, tags).

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;

use super::{none_if_not_found, ok_if_gone, parse_policy, tags};
use crate::clients::Clients;
use crate::error::{AwsError, Cause, Step, StepError};
use crate::observed::ObservedRole;

/// `GetRole` / `DeleteRole` on a missing role: `NoSuchEntity: The role with name x cannot be found.`
fn no_such_entity(error: &AwsError) -> bool {
    error.code_is("NoSuchEntity")
}

fn unexpected(step: Step, id: &str, message: String) -> StepError {
    StepError::new(step, id, Cause::Unexpected(message))
}

pub async fn find_role_by_name(clients: &Clients, name: &str) -> Result<Option<ObservedRole>, StepError> {
    let role = clients.iam.get_role().role_name(name).send().await;
    let Some(role) = none_if_not_found(role.map_err(StepError::aws(Step::ReadingRole, name)), no_such_entity)? else {
        return Ok(None);
    };
    let Some(role) = role.role else { return Ok(None) };
    let trust_text = role.assume_role_policy_document.unwrap_or_default();
    let trust_policy = parse_policy(&trust_text).map_err(|e| unexpected(Step::ReadingRole, name, e))?;
    let mut inline_policies = BTreeMap::new();
    let names = clients
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(StepError::aws(Step::ReadingRole, name))?
        .policy_names;
    for policy_name in names {
        let document = clients
            .iam
            .get_role_policy()
            .role_name(name)
            .policy_name(&policy_name)
            .send()
            .await
            .map_err(StepError::aws(Step::ReadingRole, name))?
            .policy_document;
        let parsed = parse_policy(&document).map_err(|e| unexpected(Step::ReadingRole, name, e))?;
        inline_policies.insert(policy_name, parsed);
    }
    Ok(Some(ObservedRole {
        name: role.role_name,
        arn: role.arn,
        path: role.path,
        trust_policy,
        inline_policies,
        permissions_boundary: role.permissions_boundary.and_then(|b| b.permissions_boundary_arn),
        tags: role.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect(),
    }))
}

pub struct DesiredRole<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub trust_policy: serde_json::Value,
    pub policy_name: &'a str,
    pub policy: serde_json::Value,
    pub permissions_boundary: Option<&'a str>,
    pub tags: &'a BTreeMap<String, String>,
}

fn iam_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect()
}

/// Creates the role when missing (or recreates it when its path differs: IAM cannot move a role), then corrects
/// trust, inline policy, boundary and tags.
pub async fn ensure_role(
    clients: &Clients,
    desired: &DesiredRole<'_>,
    observed: Option<&ObservedRole>,
) -> Result<ObservedRole, StepError> {
    let name = desired.name;
    let observed = match observed {
        Some(role) if role.path != desired.path => {
            delete_role(clients, name).await?;
            None
        }
        other => other,
    };
    let mut current = match observed {
        Some(role) => role.clone(),
        None => {
            let created = clients
                .iam
                .create_role()
                .role_name(name)
                .path(desired.path)
                .assume_role_policy_document(desired.trust_policy.to_string())
                .set_permissions_boundary(desired.permissions_boundary.map(str::to_owned))
                .set_tags(Some(iam_tags(desired.tags)).filter(|t| !t.is_empty()))
                .send()
                .await
                .map_err(StepError::aws(Step::CreatingRole, name))?;
            let role = created
                .role
                .ok_or_else(|| unexpected(Step::CreatingRole, name, "CreateRole returned no role".into()))?;
            ObservedRole {
                name: role.role_name,
                arn: role.arn,
                path: role.path,
                trust_policy: desired.trust_policy.clone(),
                inline_policies: BTreeMap::new(),
                permissions_boundary: desired.permissions_boundary.map(str::to_owned),
                tags: desired.tags.clone(),
            }
        }
    };
    if current.trust_policy != desired.trust_policy {
        clients
            .iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(desired.trust_policy.to_string())
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingRole, name))?;
        current.trust_policy = desired.trust_policy.clone();
    }
    if current.inline_policies.get(desired.policy_name) != Some(&desired.policy) {
        clients
            .iam
            .put_role_policy()
            .role_name(name)
            .policy_name(desired.policy_name)
            .policy_document(desired.policy.to_string())
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingRole, name))?;
        current.inline_policies.insert(desired.policy_name.to_owned(), desired.policy.clone());
    }
    if current.permissions_boundary.as_deref() != desired.permissions_boundary {
        match desired.permissions_boundary {
            Some(boundary) => clients
                .iam
                .put_role_permissions_boundary()
                .role_name(name)
                .permissions_boundary(boundary)
                .send()
                .await
                .map(|_| ())
                .map_err(StepError::aws(Step::UpdatingRole, name))?,
            None => clients
                .iam
                .delete_role_permissions_boundary()
                .role_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(StepError::aws(Step::UpdatingRole, name))?,
        }
        current.permissions_boundary = desired.permissions_boundary.map(str::to_owned);
    }
    let changes = tags::changes(&current.tags, desired.tags);
    if !changes.remove.is_empty() {
        clients
            .iam
            .untag_role()
            .role_name(name)
            .set_tag_keys(Some(changes.remove))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingRole, name))?;
    }
    if !changes.set.is_empty() {
        clients
            .iam
            .tag_role()
            .role_name(name)
            .set_tags(Some(iam_tags(&changes.set)))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingRole, name))?;
    }
    current.tags = desired.tags.clone();
    Ok(current)
}

/// Deletes the inline policies, then the role. A role already gone is success.
pub async fn delete_role(clients: &Clients, name: &str) -> Result<(), StepError> {
    let listed = clients.iam.list_role_policies().role_name(name).send().await;
    let Some(listed) = none_if_not_found(listed.map_err(StepError::aws(Step::DeletingRole, name)), no_such_entity)?
    else {
        return Ok(());
    };
    for policy_name in listed.policy_names {
        let result = clients.iam.delete_role_policy().role_name(name).policy_name(&policy_name).send().await;
        ok_if_gone(result.map(|_| ()).map_err(StepError::aws(Step::DeletingRole, name)), no_such_entity)?;
    }
    let result = clients.iam.delete_role().role_name(name).send().await;
    ok_if_gone(result.map(|_| ()).map_err(StepError::aws(Step::DeletingRole, name)), no_such_entity)
}
