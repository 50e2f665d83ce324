//! Scratch directories for the integration tests: [`tmp`] makes a
//! [`switchboard::scratch::ScratchDir`] under `std::env::temp_dir()` (so `TMPDIR` moves it),
//! removed with everything in it when the guard is dropped: at the end of the test, and while
//! a failing test unwinds. `SWITCHBOARD_KEEP_TMP` (anything but empty or `0`) keeps them and
//! prints their paths, for a post-mortem.
//!
//! A guard must outlive whatever writes into its directory (a booted runtime, a store, a
//! child process): declare it before them (locals drop in reverse order), or hold it in the
//! last field of a harness struct (fields drop in declaration order). The shared Postgres
//! cluster cleans up its own directory (see `postgres.rs`).

pub use switchboard::scratch::ScratchDir;

/// A fresh scratch directory `<temp dir>/<prefix>-<pid>-<n>`.
///
/// # Panics
/// The directory cannot be created.
pub fn tmp(prefix: &str) -> ScratchDir {
    ScratchDir::create(prefix)
        .unwrap_or_else(|e| panic!("no scratch directory for the test ({prefix}): {e}"))
}
