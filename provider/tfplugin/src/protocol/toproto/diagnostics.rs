//! Diagnostics and attribute paths in their wire form.

use crate::diag::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
use crate::protocol::tfplugin6 as proto;
use proto::attribute_path::step::Selector;

pub(crate) fn attribute_path(path: &AttributePath) -> proto::AttributePath {
    let steps = path
        .steps
        .iter()
        .map(|step| proto::attribute_path::Step {
            selector: Some(match step {
                PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                PathStep::ElementKeyString(key) => Selector::ElementKeyString(key.clone()),
                PathStep::ElementKeyInt(index) => Selector::ElementKeyInt(*index),
            }),
        })
        .collect();
    proto::AttributePath { steps }
}

fn diagnostic(diagnostic: &Diagnostic) -> proto::Diagnostic {
    let severity = match diagnostic.severity {
        Severity::Error => proto::diagnostic::Severity::Error,
        Severity::Warning => proto::diagnostic::Severity::Warning,
    };
    proto::Diagnostic {
        severity: severity as i32,
        summary: diagnostic.summary.clone(),
        detail: diagnostic.detail.clone(),
        attribute: diagnostic.attribute.as_ref().map(attribute_path),
    }
}

pub(crate) fn diagnostics(diagnostics: &Diagnostics) -> Vec<proto::Diagnostic> {
    diagnostics.iter().map(diagnostic).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_table() {
        assert!(diagnostics(&Diagnostics::new()).is_empty());
        let converted = diagnostics(&Diagnostics(vec![
            Diagnostic::error("Bad timeout", "use 90m").at(AttributePath::root("drain").index(0).attr("timeout")),
            Diagnostic::warning("Heads up", ""),
            Diagnostic::error("Bad tag", "").at(AttributePath::root("tags").key("team")),
        ]));
        assert_eq!(converted[0].severity, proto::diagnostic::Severity::Error as i32);
        assert_eq!((converted[0].summary.as_str(), converted[0].detail.as_str()), ("Bad timeout", "use 90m"));
        let steps: Vec<_> = converted[0].attribute.as_ref().unwrap().steps.iter().map(|s| s.selector.clone()).collect();
        assert_eq!(
            steps,
            vec![
                Some(Selector::AttributeName("drain".into())),
                Some(Selector::ElementKeyInt(0)),
                Some(Selector::AttributeName("timeout".into())),
            ]
        );
        assert_eq!(converted[1].severity, proto::diagnostic::Severity::Warning as i32);
        assert_eq!(converted[1].attribute, None);
        assert_eq!(
            converted[2].attribute.as_ref().unwrap().steps[1].selector,
            Some(Selector::ElementKeyString("team".into()))
        );
    }
}
