//! Typed values held in script variables and slots, and the declared variable types the
//! validator checks templates, expressions and slot stores against.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The declared type of a script variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VarType {
    String,
    Int,
    Float,
    Bool,
    /// An instant; shown to callers in the script's time zone.
    Datetime,
}

impl fmt::Display for VarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VarType::String => "string",
            VarType::Int => "int",
            VarType::Float => "float",
            VarType::Bool => "bool",
            VarType::Datetime => "datetime",
        })
    }
}

/// A runtime value. `Null` means "not set".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Datetime(DateTime<Utc>),
    Str(String),
}

impl Value {
    /// The type of a non-null value.
    pub fn var_type(&self) -> Option<VarType> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(_) => VarType::Bool,
            Value::Int(_) => VarType::Int,
            Value::Float(_) => VarType::Float,
            Value::Datetime(_) => VarType::Datetime,
            Value::Str(_) => VarType::String,
        })
    }

    /// Converts a JSON value (job variables, tool results) to `ty`, leniently: numbers in
    /// strings are parsed, ints widen to floats. `None` when it cannot be represented.
    pub fn from_json(v: &serde_json::Value, ty: VarType) -> Option<Value> {
        use serde_json::Value as J;
        Some(match (ty, v) {
            (_, J::Null) => Value::Null,
            (VarType::String, J::String(s)) => Value::Str(s.clone()),
            (VarType::String, J::Number(n)) => Value::Str(n.to_string()),
            (VarType::String, J::Bool(b)) => Value::Str(b.to_string()),
            (VarType::Int, J::Number(n)) => Value::Int(n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                    .map(|f| f as i64)
            })?),
            (VarType::Int, J::String(s)) => Value::Int(s.trim().parse().ok()?),
            (VarType::Float, J::Number(n)) => Value::Float(n.as_f64()?),
            (VarType::Float, J::String(s)) => Value::Float(s.trim().parse().ok()?),
            (VarType::Bool, J::Bool(b)) => Value::Bool(*b),
            (VarType::Bool, J::String(s)) => match s.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return None,
            },
            (VarType::Datetime, J::String(s)) => {
                Value::Datetime(DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc))
            }
            _ => return None,
        })
    }

    /// The JSON form (for tool bodies and persisted answers).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            Value::Datetime(d) => d.to_rfc3339().into(),
            Value::Str(s) => s.clone().into(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{}", if *b { "yes" } else { "no" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Datetime(d) => write!(f, "{}", d.to_rfc3339()),
            Value::Str(s) => f.write_str(s),
        }
    }
}
