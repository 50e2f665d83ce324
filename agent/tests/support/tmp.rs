//! Scratch directories for the integration tests: a [`TempDir`] under `std::env::temp_dir()`
//! (so `TMPDIR` moves them) that is removed, with everything in it, when the guard is dropped:
//! at the end of the test, and while a failing test unwinds.
//!
//! With `SWITCHBOARD_KEEP_TMP` set (to anything but empty or `0`) every scratch directory is
//! kept instead and its path printed on stderr, to look at what a failing test left behind.
//!
//! A guard must outlive whatever writes into its directory (a booted runtime, a store, a
//! child process): declare it before them (locals drop in reverse order), or hold it in the
//! last field of a harness struct (fields drop in declaration order). The shared Postgres
//! cluster cleans up its own directory (see `postgres.rs`).

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable that keeps scratch directories for a post-mortem.
pub const KEEP_VAR: &str = "SWITCHBOARD_KEEP_TMP";

/// Whether `SWITCHBOARD_KEEP_TMP` asks for scratch directories to be kept.
pub fn keep_requested() -> bool {
    keeps(std::env::var_os(KEEP_VAR).as_deref())
}

/// Whether a value of `SWITCHBOARD_KEEP_TMP` means keep: set, not empty, not `0`.
pub fn keeps(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

/// Prints a kept path where it is seen even for a passing test (libtest captures only the
/// `print!` family, not writes to the stderr handle).
pub fn announce_kept(what: &str, path: &Path) {
    let _ = writeln!(
        std::io::stderr(),
        "{KEEP_VAR} is set: keeping {what} {}",
        path.display()
    );
}

/// A directory under the system temp dir, removed on drop unless kept.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    /// Creates `<temp dir>/<prefix>-<pid>-<n>`, unique within this process (n counts) and
    /// among live processes (pid); one a dead process with the same pid left is emptied.
    /// Kept on drop when `SWITCHBOARD_KEEP_TMP` is set.
    ///
    /// # Panics
    /// The directory cannot be created.
    pub fn new(prefix: &str) -> Self {
        Self::with_keep(prefix, keep_requested())
    }

    /// As [`TempDir::new`], with the keep decision given (the guard's own tests).
    pub fn with_keep(prefix: &str, keep: bool) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        Self { path, keep }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.path.join(relative)
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.keep {
            announce_kept("scratch directory", &self.path);
            return;
        }
        match std::fs::remove_dir_all(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            // Not a panic: this may run while a failing test unwinds (a double panic aborts).
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "could not remove scratch directory {}: {e}",
                    self.path.display()
                );
            }
        }
    }
}
