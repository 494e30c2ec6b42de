//! One module per AWS service, terraform-provider-aws style: `find_<thing>_by_<key>` (AWS "not found" → `None`),
//! `ensure_<thing>` (create what is missing, update what differs), `delete_<thing>` ("already gone" is success).

pub mod autoscaling;
pub mod events;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod sns;
pub mod ssm;
pub mod tags;

use crate::error::{AwsError, Cause, StepError};

/// Splits a failed call into "not found" (→ `Ok(None)`) and any other error.
pub(crate) fn none_if_not_found<T>(
    result: Result<T, StepError>,
    not_found: impl Fn(&AwsError) -> bool,
) -> Result<Option<T>, StepError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(StepError { cause: Cause::Aws(ref error), .. }) if not_found(error) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Treats "not found" as success: for deletes.
pub(crate) fn ok_if_gone(result: Result<(), StepError>, gone: impl Fn(&AwsError) -> bool) -> Result<(), StepError> {
    none_if_not_found(result, gone).map(|_| ())
}

/// Parses a policy document as AWS returns it (IAM URL-encodes documents in `GetRole` / `GetRolePolicy`).
pub(crate) fn parse_policy(text: &str) -> Result<serde_json::Value, String> {
    let decoded = if text.trim_start().starts_with('{') { text.to_owned() } else { percent_decode(text) };
    serde_json::from_str(&decoded).map_err(|error| format!("policy document is not JSON ({error}): {decoded}"))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|hex| u8::from_str_radix(hex, 16).ok()))
            .flatten();
        if let Some(byte) = escaped {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_url_encoded_and_plain_policies() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(parse_policy(encoded).unwrap(), serde_json::json!({"Version": "2012-10-17", "Statement": []}));
        assert_eq!(parse_policy("{\"a\": \"50%\"}").unwrap(), serde_json::json!({"a": "50%"}));
        assert!(parse_policy("%7Bnot json").unwrap_err().contains("not JSON"));
        assert_eq!(percent_decode("%E2%82%AC%zz%"), "€%zz%");
    }
}
