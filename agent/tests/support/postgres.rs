//! A throw-away Postgres cluster for tests: `initdb` into a temp directory, `pg_ctl` on
//! 127.0.0.1 and a free port (as the `postgres` user when the tests run as root, since
//! Postgres refuses to run as root). A watchdog shell holds the read end of a pipe from the
//! test process: when a private cluster is dropped, or the test binary exits however it exits
//! (a failed test, a panic, Ctrl-C: the watchdog ignores the terminal's signals), the server is
//! stopped first and then its directory removed. With `SWITCHBOARD_KEEP_TMP` set the server
//! is still stopped but the directory is kept (its path is printed when the cluster starts).
//!
//! `shared()` is one cluster per test binary with a fresh database per test (a static, never
//! dropped: the watchdog cleans up once the binary has exited, a second or two later);
//! `TestPostgres::start()` a private cluster a test may stop and restart (fault tests), gone
//! when dropped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use switchboard::scratch;

pub struct TestPostgres {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    as_postgres: bool,
    _watchdog: Mutex<Child>,
}

fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("pg_ctl").exists() && p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "Postgres server binaries not found under /usr/lib/postgresql/*/bin: \
             install them with `apt-get install postgresql` (./setup.sh does)"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `path` as one single-quoted shell word (a `TMPDIR` may hold spaces).
fn sh_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free local port")
}

impl TestPostgres {
    /// Creates and starts a private cluster.
    pub fn start() -> Self {
        let bin = bin_dir();
        let as_postgres = is_root();
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "switchboard-pg-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the cluster directory");
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                let _ = std::fs::remove_dir_all(&dir);
                panic!("could not give {} to the postgres user", dir.display());
            }
        }
        let port = free_port();
        let keep = scratch::keep_requested();
        if keep {
            scratch::announce_kept("the Postgres cluster's directory", &dir);
        }
        // The watchdog: waits for a line or EOF on stdin (the cluster dropped, the test
        // process gone), then stops the server and only then removes its directory. It
        // ignores SIGINT/SIGHUP/SIGTERM so that Ctrl-C on `cargo test`, which reaches the
        // whole process group, ends the tests but not the clean-up.
        let script = format!(
            "trap '' INT HUP TERM ; read _ ; \
             {pg_ctl} -D {data} stop -m immediate >/dev/null 2>&1 ; {remove}",
            pg_ctl = sh_quote(&bin.join("pg_ctl")),
            data = sh_quote(&dir.join("data")),
            remove = if keep {
                String::new()
            } else {
                format!("rm -rf {}", sh_quote(&dir))
            },
        );
        let watchdog = Self::command_as(as_postgres, "sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                let _ = std::fs::remove_dir_all(&dir);
                panic!("could not start the cluster watchdog: {e}")
            });
        let pg = Self {
            bin,
            dir,
            port,
            as_postgres,
            _watchdog: Mutex::new(watchdog),
        };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data().display().to_string(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        pg.resume();
        pg
    }

    fn command_as(as_postgres: bool, program: &str) -> Command {
        if as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", program]);
            c
        } else {
            Command::new(program)
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let out = Self::command_as(self.as_postgres, &program.display().to_string())
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("{tool} could not run: {e}"));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts (or restarts) the server and waits until it accepts connections.
    pub fn resume(&self) {
        let opts = format!(
            "-p {} -k {} -h 127.0.0.1 -c fsync=off -c full_page_writes=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-o",
                &opts,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server at once (as a crash or a network cut looks to clients).
    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a fresh database and returns its URL.
    pub fn database(&self) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let psql = self.bin.join("psql");
        let psql = if psql.exists() {
            psql
        } else {
            PathBuf::from("psql")
        };
        let out = Command::new(psql)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("psql could not run: apt-get install postgresql-client");
        assert!(
            out.status.success(),
            "CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url(&name)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TestPostgres {
    /// Stops the server and removes its directory (the watchdog does, and is waited for).
    fn drop(&mut self) {
        if let Ok(mut w) = self._watchdog.lock() {
            if let Some(stdin) = w.stdin.as_mut() {
                let _ = stdin.write_all(b"\n");
            }
            let _ = w.wait();
        }
    }
}

/// One cluster for the whole test binary (cleaned up when the binary exits).
pub fn shared() -> &'static TestPostgres {
    static PG: OnceLock<TestPostgres> = OnceLock::new();
    PG.get_or_init(TestPostgres::start)
}
