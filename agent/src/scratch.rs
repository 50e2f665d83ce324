//! Scratch directories for tests and benches: a [`ScratchDir`] under `std::env::temp_dir()`
//! (so `TMPDIR` moves them) that is removed, with everything in it, when the guard is dropped:
//! at the end of a test or bench, when one fails half-way (`?`), and while a panic unwinds.
//!
//! With `SWITCHBOARD_KEEP_TMP` set (to anything but empty or `0`) every scratch directory is
//! kept instead and its path printed on stderr, to look at what a failed run left behind.
//!
//! A guard must outlive whatever writes into its directory (a booted runtime, a store, a
//! child process): declare it before them (locals drop in reverse order), or hold it in the
//! last field of a harness struct (fields drop in declaration order). Something that cleans
//! up its own directory another way (the tests' Postgres cluster) can still follow the same
//! keep rule through [`keep_requested`] and [`announce_kept`].

use std::ffi::OsStr;
use std::io::{self, Write as _};
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
        io::stderr(),
        "{KEEP_VAR} is set: keeping {what} {}",
        path.display()
    );
}

/// A directory under the system temp dir, removed on drop unless kept.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
    keep: bool,
}

impl ScratchDir {
    /// Creates `<temp dir>/<prefix>-<pid>-<n>`, unique within this process (n counts) and
    /// among live processes (pid); one a dead process with the same pid left is emptied.
    /// Kept on drop when `SWITCHBOARD_KEEP_TMP` is set.
    ///
    /// # Errors
    /// The directory cannot be created (the error names it).
    pub fn create(prefix: &str) -> io::Result<Self> {
        Self::with_keep(prefix, keep_requested())
    }

    /// As [`ScratchDir::create`], with the keep decision given (the guard's own tests).
    ///
    /// # Errors
    /// The directory cannot be created (the error names it).
    pub fn with_keep(prefix: &str, keep: bool) -> io::Result<Self> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        match std::fs::create_dir_all(&path) {
            Ok(()) => Ok(Self { path, keep }),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("cannot create {}: {e}", path.display()),
            )),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.path.join(relative)
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if self.keep {
            announce_kept("scratch directory", &self.path);
            return;
        }
        match std::fs::remove_dir_all(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            // Not a panic: this may run while a failing test unwinds (a double panic aborts).
            Err(e) => {
                let _ = writeln!(
                    io::stderr(),
                    "could not remove scratch directory {}: {e}",
                    self.path.display()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::path::PathBuf;
    use std::sync::Mutex;

    use super::{keeps, ScratchDir};

    fn scratch(prefix: &str, keep: bool) -> ScratchDir {
        ScratchDir::with_keep(prefix, keep).expect("create a scratch dir")
    }

    #[test]
    fn a_scratch_dir_is_removed_with_everything_in_it() {
        let dir = scratch("sb-scratch-test", false);
        let path = dir.path().to_owned();
        assert!(path.is_dir());
        assert!(
            path.starts_with(std::env::temp_dir()),
            "{} is not under the system temp dir",
            path.display()
        );
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/b/file.wav"), b"RIFF").unwrap();
        std::fs::write(dir.as_ref().join("top.db"), b"rows").unwrap();
        drop(dir);
        assert!(!path.exists(), "{} was left behind", path.display());
    }

    #[test]
    fn a_failing_test_removes_its_scratch_dir_while_unwinding() {
        let seen: Mutex<Option<PathBuf>> = Mutex::new(None);
        let outcome = std::panic::catch_unwind(|| {
            let dir = scratch("sb-scratch-test-panic", false);
            std::fs::write(dir.join("half-written"), b"x").unwrap();
            *seen.lock().unwrap() = Some(dir.path().to_owned());
            panic!("an assertion failed in the middle of the test");
        });
        assert!(outcome.is_err(), "the closure panicked");
        let path = seen.into_inner().unwrap().expect("the dir was created");
        assert!(!path.exists(), "{} survived the panic", path.display());
    }

    #[test]
    fn a_kept_scratch_dir_stays_for_a_post_mortem() {
        let dir = scratch("sb-scratch-test-kept", true);
        std::fs::write(dir.join("server.log"), b"what happened").unwrap();
        let path = dir.path().to_owned();
        drop(dir);
        let kept = std::fs::read(path.join("server.log"));
        // This test's own clean-up, before asserting.
        std::fs::remove_dir_all(&path).unwrap();
        assert_eq!(kept.unwrap(), b"what happened");
    }

    #[test]
    fn scratch_dirs_with_one_prefix_are_distinct() {
        let (a, b) = (
            scratch("sb-scratch-test-twice", false),
            scratch("sb-scratch-test-twice", false),
        );
        assert_ne!(a.path(), b.path());
        std::fs::write(a.join("f"), b"a").unwrap();
        drop(b);
        assert!(a.join("f").is_file(), "dropping one removed the other");
    }

    #[test]
    fn a_directory_that_cannot_be_created_is_an_error_naming_it() {
        let err = ScratchDir::with_keep("sb-scratch-test/\0nul", false)
            .expect_err("a NUL byte is no valid path");
        assert!(
            err.to_string().contains("sb-scratch-test/"),
            "the error does not name the directory: {err}"
        );
    }

    #[test]
    fn keep_is_asked_for_by_any_value_but_empty_or_zero() {
        assert!(!keeps(None));
        assert!(!keeps(Some(OsStr::new(""))));
        assert!(!keeps(Some(OsStr::new("0"))));
        assert!(keeps(Some(OsStr::new("1"))));
        assert!(keeps(Some(OsStr::new("yes"))));
    }
}
