//! Diagnostics: every problem the loader and validator find, with file, line and column.

use std::fmt;

use crate::yaml::Pos;

/// What kind of problem a diagnostic reports (stable codes for tooling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagKind {
    BadYaml,
    UnknownField,
    BadValue,
    UnsupportedVersion,
    UnknownTarget,
    UnreachableNode,
    NoReachableEnd,
    DuplicateId,
    UndeclaredVariable,
    TypeMismatch,
    BadExpression,
    BadRegex,
    BadTimeZone,
    BadDuration,
    BadTemplate,
    Io,
}

impl DiagKind {
    pub fn code(self) -> &'static str {
        match self {
            DiagKind::BadYaml => "bad-yaml",
            DiagKind::UnknownField => "unknown-field",
            DiagKind::BadValue => "bad-value",
            DiagKind::UnsupportedVersion => "unsupported-version",
            DiagKind::UnknownTarget => "unknown-node",
            DiagKind::UnreachableNode => "unreachable-node",
            DiagKind::NoReachableEnd => "no-end",
            DiagKind::DuplicateId => "duplicate-id",
            DiagKind::UndeclaredVariable => "undeclared-variable",
            DiagKind::TypeMismatch => "type-mismatch",
            DiagKind::BadExpression => "bad-expression",
            DiagKind::BadRegex => "bad-regex",
            DiagKind::BadTimeZone => "bad-time-zone",
            DiagKind::BadDuration => "bad-duration",
            DiagKind::BadTemplate => "bad-template",
            DiagKind::Io => "io",
        }
    }
}

/// One error in a script, pointing at where it was written.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub kind: DiagKind,
    pub message: String,
}

impl Diagnostic {
    pub fn new(file: &str, pos: Pos, kind: DiagKind, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_string(),
            line: pos.line,
            col: pos.col,
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error[{}]: {}",
            self.file,
            self.line,
            self.col,
            self.kind.code(),
            self.message
        )
    }
}

/// Collects diagnostics for one file.
#[derive(Debug)]
pub(crate) struct Sink {
    pub file: String,
    pub diags: Vec<Diagnostic>,
}

impl Sink {
    pub fn new(file: &str) -> Self {
        Sink {
            file: file.to_string(),
            diags: Vec::new(),
        }
    }
    pub fn push(&mut self, pos: Pos, kind: DiagKind, message: impl Into<String>) {
        self.diags
            .push(Diagnostic::new(&self.file, pos, kind, message));
    }
}
