//! [`ScriptRegistry`]: the live scripts of one directory, swapped atomically on reload.
//!
//! Readers clone one `Arc<Live>` under a read lock held only for that clone; a reload builds
//! the next `Live` off to the side (with the per-file state under its own mutex, which also
//! serialises reloads) and swaps it in with one write.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use dialogue::yaml::Pos;
use dialogue::{select_script, DiagKind, Diagnostic, Script, SelectionKey};

use super::{Refusal, ReloadReport, ScriptUpdate, ScriptVersion};

/// The scripts of a directory, as of the last [`reload`](Self::reload).
#[derive(Debug)]
pub struct ScriptRegistry {
    dir: PathBuf,
    /// The set new lookups see. Replaced whole by `reload`; never mutated in place, so an
    /// `Arc<Script>` handed out stays valid and unchanged for as long as its holder keeps it.
    live: RwLock<Arc<Live>>,
    /// What each file held at the last reload. Locked for the whole of a reload.
    files: Mutex<BTreeMap<PathBuf, FileState>>,
}

/// An immutable live set.
#[derive(Debug, Default)]
struct Live {
    /// In file path order (selection ties go to the first).
    scripts: Vec<Arc<Script>>,
    by_id: HashMap<String, Arc<Script>>,
}

#[derive(Debug, Clone)]
struct FileState {
    /// Hash of the bytes last read; `None` when the file could not be read.
    hash: Option<u64>,
    /// The version of this file that is live, if any (may predate the current content).
    live: Option<Arc<Script>>,
    outcome: Outcome,
}

#[derive(Debug, Clone)]
enum Outcome {
    /// `live` is the current content.
    Current,
    /// The current content was refused with these diagnostics.
    Invalid(Vec<Diagnostic>),
    /// The current content compiled but its id is used by another file; retried every reload.
    Blocked(Candidate),
}

#[derive(Debug, Clone)]
struct Candidate {
    script: Arc<Script>,
    /// Where the `id:` key is written, for the duplicate-id diagnostic.
    id_pos: Pos,
}

impl ScriptRegistry {
    /// An empty registry for `dir`; nothing is read until [`reload`](Self::reload).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ScriptRegistry {
            dir: dir.into(),
            live: RwLock::new(Arc::new(Live::default())),
            files: Mutex::new(BTreeMap::new()),
        }
    }

    /// A registry with every valid script in `dir` loaded, and the report of that first load
    /// (the caller decides whether refusals at startup are fatal).
    pub fn load(dir: impl Into<PathBuf>) -> (Self, ReloadReport) {
        let registry = Self::new(dir);
        let report = registry.reload();
        (registry, report)
    }

    /// The directory this registry reads.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The live script with this id. Take it once when a call starts and keep it.
    pub fn get(&self, id: &str) -> Option<Arc<Script>> {
        self.snapshot().by_id.get(id).cloned()
    }

    /// Every live script, in file path order.
    pub fn all(&self) -> Vec<Arc<Script>> {
        self.snapshot().scripts.clone()
    }

    /// The live script chosen for a job (see [`dialogue::select_script`]).
    pub fn select(&self, key: &SelectionKey) -> Option<Arc<Script>> {
        select_script(&self.snapshot().scripts, key).cloned()
    }

    fn snapshot(&self) -> Arc<Live> {
        // Only whole `Arc`s are ever stored, so a poisoned lock still holds a valid set.
        Arc::clone(&self.live.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Re-reads the directory and swaps in the new live set (see the module docs for the
    /// rules). Blocking file I/O: call it from `spawn_blocking` on a runtime.
    ///
    /// If the directory itself cannot be listed, nothing changes and the report holds one
    /// refusal for the directory.
    pub fn reload(&self) -> ReloadReport {
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        let before = self.snapshot();
        let paths = match dialogue::load::script_files(&self.dir) {
            Ok(p) => p,
            Err(e) => return self.unlisted(&before, e),
        };
        // `files` is only replaced at the end, so a panic part-way leaves it as it was.
        let mut next = BTreeMap::new();
        let mut pending = Vec::new();
        for path in paths {
            let state = read_file(&path, files.get(&path), &mut pending);
            next.insert(path, state);
        }
        // Files not listed any more are not carried over: their scripts leave the live set.
        place(&mut next, pending);
        *files = next;

        let live = Arc::new(Live::from_files(&files));
        let refused = refusals(&files);
        *self.live.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&live);
        diff(&before, &live, refused)
    }

    fn unlisted(&self, before: &Live, e: std::io::Error) -> ReloadReport {
        let name = self.dir.display().to_string();
        let d = Diagnostic::new(&name, Pos { line: 1, col: 1 }, DiagKind::Io, e.to_string());
        let refusal = Refusal {
            file: self.dir.clone(),
            diagnostics: vec![d],
            kept: None,
        };
        diff(before, before, vec![refusal])
    }
}

impl Live {
    fn from_files(files: &BTreeMap<PathBuf, FileState>) -> Self {
        let scripts: Vec<_> = files.values().filter_map(|f| f.live.clone()).collect();
        let by_id = scripts
            .iter()
            .map(|s| (s.id.clone(), Arc::clone(s)))
            .collect();
        Live { scripts, by_id }
    }
}

/// Reads one file: an unchanged file keeps its state, a changed one is compiled (a success
/// goes to `pending` to get its id placed, a failure keeps the previous live version).
fn read_file(
    path: &Path,
    prev: Option<&FileState>,
    pending: &mut Vec<(PathBuf, Candidate)>,
) -> FileState {
    let name = path.display().to_string();
    let prev_live = prev.and_then(|p| p.live.clone());
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let d = Diagnostic::new(&name, Pos { line: 1, col: 1 }, DiagKind::Io, e.to_string());
            return FileState {
                hash: None,
                live: prev_live,
                outcome: Outcome::Invalid(vec![d]),
            };
        }
    };
    let hash = content_hash(&bytes);
    if let Some(prev) = prev.filter(|p| p.hash == Some(hash)) {
        if let Outcome::Blocked(c) = &prev.outcome {
            pending.push((path.to_path_buf(), c.clone()));
        }
        return prev.clone();
    }
    let compiled = match String::from_utf8(bytes) {
        Ok(src) => dialogue::compile(&name, &src).map(|s| (s, id_pos(&src))),
        Err(e) => Err(vec![Diagnostic::new(
            &name,
            Pos { line: 1, col: 1 },
            DiagKind::Io,
            format!("not UTF-8 text: {e}"),
        )]),
    };
    let outcome = match compiled {
        Ok((script, id_pos)) => {
            let c = Candidate {
                script: Arc::new(script),
                id_pos,
            };
            pending.push((path.to_path_buf(), c.clone()));
            // Until placed, the previous version stays live.
            Outcome::Blocked(c)
        }
        Err(diags) => Outcome::Invalid(diags),
    };
    FileState {
        hash: Some(hash),
        live: prev_live,
        outcome,
    }
}

/// Makes compiled candidates live unless their id would collide. Every file claims one id:
/// its candidate's if it has one, else its live script's. Where several files claim an id,
/// the file whose live script has it keeps it (else the first file in path order) and the
/// others fall back to their previous version (`Blocked`), which may free or contest other
/// ids, so this repeats until no id is claimed twice. Ids can thus move between files, even
/// in a cycle, within one reload; each round blocks at least one candidate, so it ends.
fn place(files: &mut BTreeMap<PathBuf, FileState>, pending: Vec<(PathBuf, Candidate)>) {
    let mut wants: BTreeMap<PathBuf, Candidate> = pending.into_iter().collect();
    loop {
        let mut claims: BTreeMap<&str, Vec<&PathBuf>> = BTreeMap::new();
        for (path, state) in files.iter() {
            let claimed = match wants.get(path) {
                Some(c) => Some(&c.script),
                None => state.live.as_ref(),
            };
            if let Some(s) = claimed {
                claims.entry(s.id.as_str()).or_default().push(path);
            }
        }
        let mut losers = Vec::new();
        for (id, paths) in claims.iter().filter(|(_, p)| p.len() > 1) {
            let incumbent = paths
                .iter()
                .position(|p| files[*p].live.as_ref().is_some_and(|s| s.id == *id));
            let winner = incumbent.unwrap_or(0);
            let lost = paths.iter().enumerate().filter(|(i, _)| *i != winner);
            losers.extend(lost.map(|(_, p)| (*p).clone()));
        }
        // Only candidates can lose (two live scripts never share an id); the count check
        // guarantees the loop ends even if that were ever broken.
        let before = wants.len();
        for p in losers {
            wants.remove(&p);
        }
        if wants.len() == before {
            break;
        }
    }
    for (path, c) in wants {
        if let Some(state) = files.get_mut(&path) {
            state.live = Some(c.script);
            state.outcome = Outcome::Current;
        }
    }
}

/// Every file whose current content is not live, with its reason.
fn refusals(files: &BTreeMap<PathBuf, FileState>) -> Vec<Refusal> {
    let holder: HashMap<&str, &str> = files
        .values()
        .filter_map(|f| f.live.as_ref())
        .map(|s| (s.id.as_str(), s.file.as_str()))
        .collect();
    let mut out = Vec::new();
    for (path, state) in files {
        let diagnostics = match &state.outcome {
            Outcome::Current => continue,
            Outcome::Invalid(d) => d.clone(),
            Outcome::Blocked(c) => {
                let s = &c.script;
                let other = holder.get(s.id.as_str()).copied().unwrap_or("another file");
                let msg = format!("script id `{}` is already used by {other}", s.id);
                vec![Diagnostic::new(
                    &s.file,
                    c.id_pos,
                    DiagKind::DuplicateId,
                    msg,
                )]
            }
        };
        out.push(Refusal {
            file: path.clone(),
            diagnostics,
            kept: state.live.as_deref().map(version_of),
        });
    }
    out
}

/// The per-id difference between two live sets.
fn diff(before: &Live, after: &Live, refused: Vec<Refusal>) -> ReloadReport {
    let mut report = ReloadReport {
        refused,
        ..ReloadReport::default()
    };
    for s in &after.scripts {
        match before.by_id.get(&s.id) {
            None => report.loaded.push(version_of(s)),
            Some(old) if old.version != s.version => report.updated.push(ScriptUpdate {
                id: s.id.clone(),
                from: old.version.clone(),
                to: s.version.clone(),
                file: s.file.clone(),
            }),
            Some(_) => report.unchanged.push(version_of(s)),
        }
    }
    for s in &before.scripts {
        if !after.by_id.contains_key(&s.id) {
            report.removed.push(version_of(s));
        }
    }
    report.loaded.sort_by(|a, b| a.id.cmp(&b.id));
    report.updated.sort_by(|a, b| a.id.cmp(&b.id));
    report.unchanged.sort_by(|a, b| a.id.cmp(&b.id));
    report.removed.sort_by(|a, b| a.id.cmp(&b.id));
    report
}

fn version_of(s: &Script) -> ScriptVersion {
    ScriptVersion {
        id: s.id.clone(),
        version: s.version.clone(),
        file: s.file.clone(),
    }
}

/// Where the top-level `id:` key is written (line 1, column 1 if not found).
fn id_pos(src: &str) -> Pos {
    src.lines()
        .position(|l| {
            l.strip_prefix("id")
                .is_some_and(|r| r.trim_start().starts_with(':'))
        })
        .map_or(Pos { line: 1, col: 1 }, |i| Pos {
            line: u32::try_from(i + 1).unwrap_or(u32::MAX),
            col: 1,
        })
}

/// Change detection only (not [`Script::version`]): a fast 64-bit hash of a file's bytes.
pub(super) fn content_hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(bytes);
    h.finish()
}
