//! Reading scripts from disk (the crate's only I/O). Conversation test files
//! (`*.test.yaml`) next to scripts are skipped.

use std::path::{Path, PathBuf};

use crate::diag::{DiagKind, Diagnostic};
use crate::script::Script;
use crate::yaml::Pos;

/// Reads and compiles one script file.
///
/// # Errors
/// An unreadable file (as an `io` diagnostic) or the script's diagnostics.
pub fn load_file(path: &Path) -> Result<Script, Vec<Diagnostic>> {
    let name = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::new(
            &name,
            Pos { line: 1, col: 1 },
            DiagKind::Io,
            e.to_string(),
        )]
    })?;
    crate::compile(&name, &src)
}

/// Script files (`*.yaml`/`*.yml`, not `*.test.yaml`) under `dir`, recursively, sorted.
pub fn script_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    files_under(dir, is_script)
}

/// Conversation test files (`*.test.yaml`) under `dir`, recursively, sorted.
pub fn test_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    files_under(dir, is_test)
}

/// Files under `dir`, recursively, that `keep` accepts, sorted.
fn files_under(dir: &Path, keep: fn(&Path) -> bool) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

pub fn is_test(p: &Path) -> bool {
    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    n.ends_with(".test.yaml") || n.ends_with(".test.yml")
}

pub fn is_script(p: &Path) -> bool {
    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    (n.ends_with(".yaml") || n.ends_with(".yml")) && !is_test(p)
}

/// Loads every script under `dir`: the scripts that compiled and all diagnostics.
pub fn load_dir(dir: &Path) -> (Vec<Script>, Vec<Diagnostic>) {
    let files = match script_files(dir) {
        Ok(f) => f,
        Err(e) => {
            let d = Diagnostic::new(
                &dir.display().to_string(),
                Pos { line: 1, col: 1 },
                DiagKind::Io,
                e.to_string(),
            );
            return (Vec::new(), vec![d]);
        }
    };
    let mut scripts = Vec::new();
    let mut diags = Vec::new();
    for f in files {
        match load_file(&f) {
            Ok(s) => scripts.push(s),
            Err(d) => diags.extend(d),
        }
    }
    (scripts, diags)
}
