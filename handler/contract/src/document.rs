//! The SSM drain document (schema 2.2, `aws:runShellScript`). Owned by the handler work; placeholder for now.
