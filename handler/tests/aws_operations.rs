//! The handler's AWS calls against the contract's list of operations (`drain_contract::operations`), which the
//! provider's policy test checks the handler role grants. Read from the source, so a new call anywhere in the
//! handler fails here until it is listed, and so fails the policy test until it is granted.

use drain_contract::operations::Operation;
use std::collections::BTreeSet;

/// The handler's own source, without test modules' files, whitespace removed so chained calls read as one.
fn sources() -> Vec<(String, String)> {
    let dir = format!("{}/src", env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".rs") && !name.ends_with("_tests.rs") {
            let text: String = std::fs::read_to_string(&path).unwrap().split_whitespace().collect();
            files.push((name, text));
        }
    }
    files
}

/// Every method called on the `autoscaling` and `ssm` clients. A client reached any other way (an alias, a
/// field passed along) is refused, so no call can hide from this list.
fn client_calls() -> BTreeSet<String> {
    let mut calls = BTreeSet::new();
    for (file, text) in sources() {
        for client in [".autoscaling", ".ssm"] {
            for (at, _) in text.match_indices(client) {
                // `"aws.ssm"` and `"aws.autoscaling"` are EventBridge source names, not the clients.
                let before = text[..at].trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
                if before.ends_with('"') {
                    continue;
                }
                let rest = &text[at + client.len()..];
                // A longer name (`autoscaling_group_names`) is another field.
                if rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let method: String = rest
                    .strip_prefix('.')
                    .unwrap_or("")
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                let called = !method.is_empty() && rest[1 + method.len()..].starts_with("()");
                assert!(called, "{file}: the {client} client is used other than by calling a method on it: {rest:.60}");
                calls.insert(method);
            }
        }
    }
    calls
}

#[test]
fn every_aws_call_of_the_handler_is_a_listed_operation_and_every_listed_one_is_called() {
    let called = client_calls();
    let listed: BTreeSet<String> = Operation::ALL.iter().map(|op| op.sdk_method().to_string()).collect();
    let unlisted: Vec<&String> = called.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "called but not in drain_contract::operations (so not checked against the policy): {unlisted:?}"
    );
    let unused: Vec<&String> = listed.difference(&called).collect();
    assert!(unused.is_empty(), "listed (and granted) but never called: {unused:?}");
}
