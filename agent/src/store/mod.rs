//! Where calls' results live: Postgres in production, an embedded SQLite file when no
//! `DATABASE_URL` is given. Both run the same queries through sqlx's `Any` driver over one
//! schema (`migrations/postgres`, `migrations/sqlite`: column-for-column the same).
//!
//! The call side writes through [`Store::record`], which never fails: when the database is
//! unreachable the write goes to the durable [`spool::Spool`] and is replayed, in order and
//! idempotently, by [`Store::replay`]. Every query is scoped by tenant.

pub mod compliance;
pub mod keys;
pub mod model;
pub mod outbox;
pub mod queue;
pub mod reads;
mod records;
pub mod spool;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolOptions;
use sqlx::{Any, AnyPool, Executor};
use tokio::sync::Mutex;
use tokio::time::Duration;

use model::WriteOp;
use spool::Spool;

pub use model::now_ms;

/// How long one write may take before it is spooled instead.
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("spool {path}: {source}")]
    Spool {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "spool {0} is in use by another switchboard process (each process needs its own data \
         directory)"
    )]
    SpoolInUse(PathBuf),
    #[error("unsupported database URL (want postgres://… or sqlite://…): {0}")]
    Url(String),
    #[error("the database did not answer within {WRITE_TIMEOUT:?}")]
    Timeout,
    #[error("stored {what} is not what the store wrote: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

impl StoreError {
    /// Whether the database was unreachable (retry later) rather than refusing the write.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Db(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_) => true,
                sqlx::Error::Database(db) => db.code().is_some_and(|c| {
                    // Postgres: connection exceptions (08…), shutdown/unavailable (57P…),
                    // serialization failure, deadlock, too many connections, lock not
                    // available. SQLite: busy / locked, extended codes included.
                    let sqlite = c.parse::<i32>().ok().map(|n| n & 0xff);
                    c.starts_with("08")
                        || c.starts_with("57P")
                        || ["40001", "40P01", "53300", "55P03"].contains(&c.as_ref())
                        || matches!(sqlite, Some(5 | 6))
                }),
                _ => false,
            },
            Self::Spool { .. } | Self::Timeout => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

struct Inner {
    pool: AnyPool,
    backend: Backend,
    /// Held for the whole of each write, so writes reach the database in call order.
    spool: Mutex<Spool>,
}

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    /// Connects to `url` (`postgres://…` or `sqlite://path`), migrates the schema and replays
    /// what the spool in `spool_dir` still holds.
    ///
    /// # Errors
    /// A bad URL, an unreachable database, a failed migration or an unusable spool directory.
    pub async fn open(url: &str, spool_dir: &Path) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let spool = Spool::open(spool_dir)?;
        let (backend, url) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or(path);
            if let Some(dir) = Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Spool {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            (Backend::Sqlite, format!("sqlite://{path}?mode=rwc"))
        } else {
            return Err(StoreError::Url(redact(url)));
        };
        let options: AnyConnectOptions = url.parse()?;
        let pool: PoolOptions<Any> = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(3))
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 });
        let pool = match backend {
            Backend::Sqlite => pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                        .await
                        .map(drop)
                })
            }),
            Backend::Postgres => pool,
        };
        let pool = pool.connect_with(options).await?;
        match backend {
            Backend::Postgres => sqlx::migrate!("../migrations/postgres").run(&pool).await?,
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite").run(&pool).await?,
        }
        let store = Self {
            inner: Arc::new(Inner {
                pool,
                backend,
                spool: Mutex::new(spool),
            }),
        };
        store.replay().await?;
        Ok(store)
    }

    /// [`Self::open`], waiting up to `wait` for a database that is not reachable yet (one
    /// starting beside this process under systemd or compose): unreachable-database errors are
    /// retried with backoff, anything else fails at once.
    ///
    /// # Errors
    /// As [`Self::open`]; the last unreachable-database error once `wait` is over.
    pub async fn open_waiting(
        url: &str,
        spool_dir: &Path,
        wait: Duration,
    ) -> Result<Self, StoreError> {
        let give_up = tokio::time::Instant::now() + wait;
        let mut delay = Duration::from_millis(250);
        loop {
            match Self::open(url, spool_dir).await {
                Err(e) if e.is_transient() && tokio::time::Instant::now() + delay < give_up => {
                    tracing::warn!(error = %e, retry_in = ?delay, "The database is not reachable yet; waiting for it");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                result => return result,
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(self.pool()).await.is_ok()
    }

    /// Writes not yet in the database.
    pub async fn spooled(&self) -> usize {
        self.inner.spool.lock().await.pending()
    }

    /// Writes `op`, or spools it when the database is unreachable. Never loses it: a write
    /// the database refuses for good is kept in `rejected.jsonl` next to the spool.
    pub async fn record(&self, op: WriteOp) {
        let mut spool = self.inner.spool.lock().await;
        if spool.pending() == 0 {
            match self.apply(&op).await {
                Ok(()) => return,
                Err(e) if e.is_transient() => {
                    tracing::warn!(call_id = op.call_id(), error = %e, "Database unreachable: spooling writes");
                }
                Err(e) => {
                    tracing::error!(call_id = op.call_id(), error = %e, "Database refused a write; kept in rejected.jsonl");
                    if let Err(e) = spool.reject(&op, &e.to_string()) {
                        tracing::error!(error = %e, "Could not keep the refused write");
                    }
                    return;
                }
            }
        }
        if let Err(e) = spool.append(&op) {
            tracing::error!(call_id = op.call_id(), error = %e, "Could not spool a write: it is lost");
        }
    }

    /// Applies the spooled writes in order; stops at the first one the database cannot take
    /// yet. Returns how many were applied.
    ///
    /// # Errors
    /// The spool could not be read or rewritten.
    pub async fn replay(&self) -> Result<usize, StoreError> {
        let mut spool = self.inner.spool.lock().await;
        if spool.pending() == 0 {
            return Ok(0);
        }
        let ops = spool.read()?;
        let mut done = 0;
        for op in &ops {
            match self.apply(op).await {
                Ok(()) => done += 1,
                Err(e) if e.is_transient() => break,
                Err(e) => {
                    tracing::error!(call_id = op.call_id(), error = %e, "Database refused a spooled write; kept in rejected.jsonl");
                    spool.reject(op, &e.to_string())?;
                    done += 1;
                }
            }
        }
        spool.rewrite(&ops[done..])?;
        if done > 0 {
            tracing::info!(
                replayed = done,
                left = ops.len() - done,
                "Spooled writes replayed"
            );
        }
        Ok(done)
    }

    /// Replays the spool every `every` until `cancel`.
    pub fn spawn_replayer(
        &self,
        every: Duration,
        cancel: tokio_util::sync::CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
                if let Err(e) = store.replay().await {
                    tracing::error!(error = %e, "Spool replay failed");
                }
            }
        })
    }

    /// Applies one write; a database that hangs counts as unreachable (the write is spooled
    /// and replayed, idempotently).
    async fn apply(&self, op: &WriteOp) -> Result<(), StoreError> {
        let write = async {
            let mut conn = self.pool().acquire().await?;
            writes::apply(&mut conn, op).await
        };
        tokio::time::timeout(WRITE_TIMEOUT, write)
            .await
            .unwrap_or(Err(StoreError::Timeout))
    }
}

/// A boolean column: Postgres BOOLEAN, SQLite INTEGER 0/1.
pub(crate) fn flag(row: &sqlx::any::AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    row.try_get::<bool, _>(col)
        .or_else(|_| row.try_get::<i64, _>(col).map(|v| v != 0))
}

/// `url` without its password, for error messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
