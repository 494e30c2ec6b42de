//! UpgradeResourceState: a stored state of an earlier schema version, in this version's shape. Terraform calls it
//! on every state it reads before anything else, so the rest of the provider sees version
//! [`SCHEMA_VERSION`](super::schema::SCHEMA_VERSION) only.

use super::schema::{self, HANDLER_ROLE_NAME, PUBLISHER_ROLE_NAME, SCHEMA_VERSION};
use drain_contract::names::RoleNames;
use tfplugin::{Diagnostic, UpgradeResponse, Value};

pub fn upgrade(version: i64, raw_state_json: &[u8]) -> UpgradeResponse {
    let failed = |summary: &str, detail: String| UpgradeResponse {
        diagnostics: Diagnostic::error(summary, detail).into(),
        ..Default::default()
    };
    if !(0..=SCHEMA_VERSION).contains(&version) {
        return failed(
            "Unsupported state version",
            format!(
                "the stored state has schema version {version}; this provider knows versions 0 to {SCHEMA_VERSION} \
(was the state written by a newer provider?)"
            ),
        );
    }
    // Every version so far only added attributes, which decode as null under today's type.
    let ty = schema::schema().block.value_type();
    let state = match tfplugin::value_from_json(raw_state_json, &ty) {
        Ok(state) => state,
        Err(error) => return failed("Unreadable state", format!("decoding the stored state: {error}")),
    };
    let upgraded_state = match version {
        0 => from_version_0(state),
        _ => state,
    };
    UpgradeResponse { upgraded_state, ..Default::default() }
}

/// Version 0 named the roles `<name>-publisher` / `<name>-handler` in every region. Those roles exist and are
/// this resource's: the state records their names, so the provider keeps using them (renaming an IAM role is a
/// replacement). Only a new resource, or a replaced one, gets the regional names.
fn from_version_0(state: Value) -> Value {
    let Value::Object(mut attrs) = state else { return state };
    if let Some(name) = attrs.get("name").and_then(Value::as_str).map(str::to_owned) {
        let roles = RoleNames::account_wide(&name);
        attrs.insert(PUBLISHER_ROLE_NAME.into(), Value::string(roles.publisher));
        attrs.insert(HANDLER_ROLE_NAME.into(), Value::string(roles.handler));
    }
    Value::Object(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use drain_contract::names::RoleScope;

    fn upgraded(version: i64, json: &str) -> UpgradeResponse {
        upgrade(version, json.as_bytes())
    }

    #[test]
    fn a_version_0_state_keeps_its_account_wide_role_names() {
        let response = upgraded(0, r#"{"name":"ci","handler_role_arn":"arn:aws:iam::123456789012:role/ci-handler"}"#);
        assert!(!response.diagnostics.has_errors(), "{:?}", response.diagnostics);
        let state = response.upgraded_state;
        assert_eq!(state.get(PUBLISHER_ROLE_NAME), &Value::string("ci-publisher"));
        assert_eq!(state.get(HANDLER_ROLE_NAME), &Value::string("ci-handler"));
        assert_eq!(super::super::model::role_scope(&state), RoleScope::Account);
    }

    #[test]
    fn a_current_state_passes_unchanged() {
        let json = r#"{"name":"ci","handler_role_name":"ci-us-east-1-handler","publisher_role_name":"ci-us-east-1-publisher"}"#;
        let state = upgraded(SCHEMA_VERSION, json).upgraded_state;
        assert_eq!(state.get(HANDLER_ROLE_NAME), &Value::string("ci-us-east-1-handler"));
        assert_eq!(super::super::model::role_scope(&state), RoleScope::Region);
    }

    #[test]
    fn a_newer_version_is_refused_naming_both_versions() {
        let response = upgraded(SCHEMA_VERSION + 1, r#"{"name":"ci"}"#);
        let text = format!("{:?}", response.diagnostics);
        assert!(response.diagnostics.has_errors());
        assert!(text.contains(&format!("schema version {}", SCHEMA_VERSION + 1)), "{text}");
    }
}
