//! The hot-reload task: polls the script directory and reloads the [`ScriptRegistry`] when a
//! file was added, removed or changed. Runs for the life of the process, beside (not inside)
//! any call; calls only ever read the registry.
//!
//! Polling compares each file's content hash (plus length and mtime), not the mtime alone: an
//! editor can save twice within one mtime tick. Script directories are small (a few files of
//! a few KiB), so reading them every interval is cheap. A file caught half-written is refused
//! (its previous version stays live) and reloaded on the next poll, once it changed again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::registry::content_hash;
use super::{ReloadReport, ScriptRegistry};

/// What a [`watch`] task did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchStats {
    /// Directory scans made.
    pub polls: u64,
    /// Reloads run because a scan saw a change (including the first scan).
    pub reloads: u64,
}

/// Watches `registry`'s directory every `interval` until `cancel` fires, reloading on change.
///
/// The first scan always reloads, so changes made between [`ScriptRegistry::load`] and the
/// start of the watcher are not missed. Updates are logged at `info`, refusals at `warn` with
/// every diagnostic, an unlistable directory at `warn` (once per distinct error). A reload
/// that panics is logged at `error` and not retried until the directory changes again.
///
/// Spawn it into the process supervisor's task set; it holds no channel.
///
/// # Cancel safety
/// Returns promptly on `cancel`, even mid-scan: the blocking scan or reload then finishes on
/// its own thread, and a reload swaps the live set atomically, so nothing is left half-done.
pub async fn watch(
    registry: Arc<ScriptRegistry>,
    interval: Duration,
    cancel: CancellationToken,
) -> WatchStats {
    let mut stats = WatchStats::default();
    let mut last: Option<Fingerprint> = None;
    let mut last_error: Option<String> = None;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let dir = registry.dir().to_path_buf();
        let scan = tokio::task::spawn_blocking(move || fingerprint(&dir));
        let scanned = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            r = scan => r,
        };
        stats.polls += 1;
        let fp = match scanned {
            Ok(Ok(fp)) => fp,
            Ok(Err(e)) => {
                let msg = e.to_string();
                if last_error.as_deref() != Some(msg.as_str()) {
                    let dir = registry.dir().display();
                    warn!(dir = %dir, error = %msg, "Cannot list the script directory.");
                    last_error = Some(msg);
                }
                continue;
            }
            Err(e) => {
                error!(error = %e, "Script directory scan failed.");
                continue;
            }
        };
        last_error = None;
        if last.as_ref() == Some(&fp) {
            continue;
        }
        // Recorded before reloading: a change made during the reload shows on the next scan.
        last = Some(fp);
        stats.reloads += 1;
        let reg = Arc::clone(&registry);
        let reload = tokio::task::spawn_blocking(move || reg.reload());
        let reloaded = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            r = reload => r,
        };
        match reloaded {
            Ok(report) => log_report(&report),
            Err(e) => error!(error = %e, "Script reload panicked; waiting for the next change."),
        }
    }
    stats
}

/// Logs what changed (nothing when nothing did) and every refusal.
fn log_report(report: &ReloadReport) {
    for v in &report.loaded {
        info!(script_id = %v.id, version = %v.version, file = %v.file, "Script loaded.");
    }
    for u in &report.updated {
        info!(
            script_id = %u.id,
            from = %u.from,
            to = %u.to,
            file = %u.file,
            "Script updated; new calls get the new version."
        );
    }
    for v in &report.removed {
        info!(script_id = %v.id, version = %v.version, file = %v.file, "Script removed.");
    }
    for r in &report.refused {
        let diagnostics: Vec<String> = r.diagnostics.iter().map(ToString::to_string).collect();
        let kept = r.kept.as_ref().map(|k| format!("{} {}", k.id, k.version));
        warn!(
            file = %r.file.display(),
            still_live = kept.as_deref().unwrap_or("none"),
            "Script refused; the previous version stays live:\n{}",
            diagnostics.join("\n")
        );
    }
}

/// The state of a directory's script files, for change detection.
#[derive(Debug, PartialEq, Eq)]
struct Fingerprint(Vec<FileMark>);

#[derive(Debug, PartialEq, Eq)]
struct FileMark {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
    /// `None` when the file could not be read (e.g. removed between listing and reading).
    hash: Option<u64>,
}

fn fingerprint(dir: &Path) -> std::io::Result<Fingerprint> {
    let marks = dialogue::load::script_files(dir)?
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            FileMark {
                len: meta.as_ref().map_or(0, std::fs::Metadata::len),
                modified: meta.and_then(|m| m.modified().ok()),
                hash: std::fs::read(&path).ok().map(|b| content_hash(&b)),
                path,
            }
        })
        .collect();
    Ok(Fingerprint(marks))
}
