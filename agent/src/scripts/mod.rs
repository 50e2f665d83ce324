//! The live set of dialogue scripts, with hot reload. Sits before the turn engine: when a call
//! starts, its supervisor takes one `Arc<Script>` from the [`ScriptRegistry`] (by id or by
//! [`SelectionKey`](dialogue::SelectionKey)) and hands it to the call's
//! [`dialogue::Engine`]; the call records `script.id` and `script.version` (the content hash)
//! and keeps that `Arc` until it ends.
//!
//! # Hot reload
//! [`ScriptRegistry::reload`] re-reads the script directory and swaps in a new set atomically:
//! - a changed file is recompiled; if it compiles, new lookups get the new version;
//! - a file with errors is *refused* with its diagnostics (file:line:col) and the previous
//!   version of that script stays live;
//! - a removed file's script is removed; a new file's script is added;
//! - a script whose id is already used by another file is refused the same way.
//!
//! Running calls hold their own `Arc<Script>`, so they keep the version they started with by
//! construction: nothing is ever mutated in place.
//!
//! [`watch`] is the task that polls the directory (file contents, not just mtimes) and calls
//! `reload` when something changed, logging updates at `info` and refusals at `warn`.

mod registry;
mod watch;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

use dialogue::Diagnostic;

pub use registry::ScriptRegistry;
pub use watch::{watch, WatchStats};

/// One script at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptVersion {
    pub id: String,
    /// Content hash of the script's source (see [`dialogue::Script::version`]).
    pub version: String,
    /// The file it was loaded from.
    pub file: String,
}

/// A script whose version changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptUpdate {
    pub id: String,
    /// The version live before this reload.
    pub from: String,
    /// The version live now.
    pub to: String,
    pub file: String,
}

/// A file whose current content is not live.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The refused file (or the script directory, when it could not be listed).
    pub file: PathBuf,
    /// Why: every compile error, an unreadable file (`io`), or a duplicate id
    /// (`duplicate-id`), each with file, line and column.
    pub diagnostics: Vec<Diagnostic>,
    /// The version of this file that stays live instead, if any.
    pub kept: Option<ScriptVersion>,
}

/// What a [`ScriptRegistry::reload`] did, per script id (refusals per file).
///
/// Every list is sorted (by id, or by file for refusals).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReloadReport {
    /// Ids that were not live before and are now.
    pub loaded: Vec<ScriptVersion>,
    /// Ids live before and now, at a new version.
    pub updated: Vec<ScriptUpdate>,
    /// Ids live before and now at the same version.
    pub unchanged: Vec<ScriptVersion>,
    /// Files whose current content was refused (still refused files are listed again).
    pub refused: Vec<Refusal>,
    /// Ids live before and not now (their file was removed or now declares another id).
    pub removed: Vec<ScriptVersion>,
}

impl ReloadReport {
    /// Whether the live set changed (something loaded, updated or removed).
    pub fn changed(&self) -> bool {
        !(self.loaded.is_empty() && self.updated.is_empty() && self.removed.is_empty())
    }

    /// The version now live for `id`, according to this report.
    pub fn live_version(&self, id: &str) -> Option<&str> {
        let found = self
            .loaded
            .iter()
            .chain(&self.unchanged)
            .find(|v| v.id == id);
        match found {
            Some(v) => Some(&v.version),
            None => self
                .updated
                .iter()
                .find(|u| u.id == id)
                .map(|u| u.to.as_str()),
        }
    }

    /// The refusal of this file, if it was refused (compared by file name suffix, so a bare
    /// file name matches a full path).
    pub fn refusal(&self, file: &str) -> Option<&Refusal> {
        self.refused.iter().find(|r| r.file.ends_with(file))
    }
}

impl fmt::Display for ReloadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} loaded, {} updated, {} unchanged, {} refused, {} removed",
            self.loaded.len(),
            self.updated.len(),
            self.unchanged.len(),
            self.refused.len(),
            self.removed.len()
        )?;
        for v in &self.loaded {
            write!(f, "\n  loaded {} {} ({})", v.id, v.version, v.file)?;
        }
        for u in &self.updated {
            write!(
                f,
                "\n  updated {} {} -> {} ({})",
                u.id, u.from, u.to, u.file
            )?;
        }
        for v in &self.removed {
            write!(f, "\n  removed {} {} ({})", v.id, v.version, v.file)?;
        }
        for r in &self.refused {
            write!(f, "\n  {r}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused {}", self.file.display())?;
        match &self.kept {
            Some(k) => write!(f, " (still live: {} {})", k.id, k.version)?,
            None => write!(f, " (nothing live from this file)")?,
        }
        for d in &self.diagnostics {
            write!(f, "\n    {d}")?;
        }
        Ok(())
    }
}
