//! Why a value could not be decoded or encoded, and where in the value that happened.

use crate::diag::{AttributePath, Diagnostic};
use std::fmt;

/// A value that does not fit its type, found while decoding what Terraform sent or encoding what the provider
/// answered. `path` points at the offending attribute (empty for the value as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    pub path: AttributePath,
    pub message: String,
}

impl ValueError {
    pub(crate) fn new(path: &AttributePath, message: impl Into<String>) -> Self {
        ValueError { path: path.clone(), message: message.into() }
    }

    /// An error diagnostic pointing at the offending attribute; `summary` says what was being done.
    pub fn to_diagnostic(&self, summary: &str) -> Diagnostic {
        let diagnostic = Diagnostic::error(summary, self.to_string());
        if self.path.steps.is_empty() { diagnostic } else { diagnostic.at(self.path.clone()) }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.steps.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ValueError {}
