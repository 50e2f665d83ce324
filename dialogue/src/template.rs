//! `{{variable}}` templates for spoken text, URLs and tool bodies. An undeclared variable is a
//! validation error, never a silent blank. Unset (null) variables render as an empty string.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::value::Value;

/// A compiled template: literal text and variable references.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Var(String),
}

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateError {
    Unclosed,
    BadName(String),
}

impl Template {
    /// Parses `src`. Variable names are letters, digits and `_`, optionally spaced: `{{ name }}`.
    ///
    /// # Errors
    /// An unclosed `{{` or an invalid name.
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = src;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Lit(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
            let name = after[..end].trim();
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(TemplateError::BadName(name.to_string()));
            }
            parts.push(Part::Var(name.to_string()));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// A template with no variables.
    pub fn literal(s: &str) -> Template {
        Template {
            parts: vec![Part::Lit(s.to_string())],
        }
    }

    /// The variable names referenced.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// Renders with `vars`; date-times are spoken in `tz`.
    pub fn render(&self, vars: &BTreeMap<String, Value>, tz: Tz) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(v) => match vars.get(v) {
                    Some(Value::Datetime(d)) => out.push_str(
                        &d.with_timezone(&tz)
                            .format("%A %-d %B at %-I:%M %p")
                            .to_string(),
                    ),
                    Some(val) => out.push_str(&val.to_string()),
                    None => {}
                },
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let t = Template::parse("Hello {{ first_name }}, about {{business_name}}.").unwrap();
        assert_eq!(
            t.vars().collect::<Vec<_>>(),
            ["first_name", "business_name"]
        );
        let mut vars = BTreeMap::new();
        vars.insert("first_name".to_string(), Value::Str("Dana".into()));
        assert_eq!(t.render(&vars, Tz::UTC), "Hello Dana, about .");
        assert_eq!(Template::parse("x {{ y"), Err(TemplateError::Unclosed));
        assert!(matches!(
            Template::parse("{{a b}}"),
            Err(TemplateError::BadName(_))
        ));
    }
}
