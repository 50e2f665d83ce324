//! The durable spool: while the database is unreachable, the call side's writes are appended
//! here (one JSON line each, fsync'd before the write returns) and replayed in order when it
//! is back. A torn last line (a crash mid-append) is skipped with a warning; everything
//! before it survives.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::model::WriteOp;
use super::StoreError;

pub struct Spool {
    path: PathBuf,
    file: File,
    pending: usize,
    /// `spool.lock`, locked while this spool is open (the spool file itself is replaced by
    /// rewrites, so it cannot carry the lock).
    _lock: File,
}

impl Spool {
    /// Opens (creating) `dir/spool.jsonl`, counting the writes it still holds, and locks it
    /// for this process: two processes replaying one spool would write its lines twice.
    ///
    /// # Errors
    /// The directory or file cannot be created or read, or another process holds it.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join("spool.jsonl");
        let io = |source| StoreError::Spool {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("spool.lock"))
            .map_err(io)?;
        if let Err(e) = lock.try_lock() {
            return Err(match e {
                std::fs::TryLockError::WouldBlock => StoreError::SpoolInUse(path),
                std::fs::TryLockError::Error(source) => io(source),
            });
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(io)?;
        let mut spool = Self {
            path,
            file,
            pending: 0,
            _lock: lock,
        };
        // Rewriting drops a torn last line, so the next append starts on a line of its own.
        let ops = spool.read()?;
        spool.rewrite(&ops)?;
        Ok(spool)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes not yet replayed.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Appends `op` and syncs it to disk.
    ///
    /// # Errors
    /// The disk refused the write.
    pub fn append(&mut self, op: &WriteOp) -> Result<(), StoreError> {
        let mut line = serde_json::to_vec(op).map_err(|e| self.io(e.into()))?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(|e| self.io(e))?;
        self.file.sync_data().map_err(|e| self.io(e))?;
        self.pending += 1;
        Ok(())
    }

    /// Every write in the spool, oldest first.
    ///
    /// # Errors
    /// The file cannot be read.
    pub fn read(&self) -> Result<Vec<WriteOp>, StoreError> {
        let file = File::open(&self.path).map_err(|e| self.io(e))?;
        let mut ops = Vec::new();
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| self.io(e))?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(&line) {
                Ok(op) => ops.push(op),
                Err(e) => {
                    tracing::warn!(
                        path = %self.path.display(), line = n + 1, error = %e,
                        "Unreadable spool line moved to rejected.jsonl (torn write?)"
                    );
                    self.reject_line(&line, &e.to_string())?;
                }
            }
        }
        Ok(ops)
    }

    /// Replaces the spool's content with `ops` (the ones a replay could not apply yet).
    ///
    /// # Errors
    /// The disk refused the rewrite.
    pub fn rewrite(&mut self, ops: &[WriteOp]) -> Result<(), StoreError> {
        let tmp = self.path.with_extension("jsonl.tmp");
        let mut out = File::create(&tmp).map_err(|e| self.io(e))?;
        for op in ops {
            let mut line = serde_json::to_vec(op).map_err(|e| self.io(e.into()))?;
            line.push(b'\n');
            out.write_all(&line).map_err(|e| self.io(e))?;
        }
        out.sync_all().map_err(|e| self.io(e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.io(e))?;
        self.file = OpenOptions::new()
            .append(true)
            .read(true)
            .open(&self.path)
            .map_err(|e| self.io(e))?;
        self.pending = ops.len();
        Ok(())
    }

    /// Keeps a write the database refused for good, for an operator to inspect.
    ///
    /// # Errors
    /// The disk refused the write.
    pub fn reject(&self, op: &WriteOp, error: &str) -> Result<(), StoreError> {
        self.append_rejected(&serde_json::json!({ "error": error, "op": op }))
    }

    /// Keeps an unreadable spool line the same way.
    fn reject_line(&self, line: &str, error: &str) -> Result<(), StoreError> {
        self.append_rejected(&serde_json::json!({ "error": error, "line": line }))
    }

    fn append_rejected(&self, entry: &serde_json::Value) -> Result<(), StoreError> {
        let path = self.path.with_file_name("rejected.jsonl");
        let line = entry.to_string() + "\n";
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| self.io(e))?;
        f.write_all(line.as_bytes()).map_err(|e| self.io(e))?;
        f.sync_data().map_err(|e| self.io(e))
    }

    fn io(&self, source: std::io::Error) -> StoreError {
        StoreError::Spool {
            path: self.path.clone(),
            source,
        }
    }
}
