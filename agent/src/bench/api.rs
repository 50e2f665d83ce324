//! `switchboard bench api`: the control port and the job queue under load, on loopback.
//!
//! A runtime boots on `127.0.0.1:0` (an SQLite temp file, or the given Postgres) with no call
//! slots (`max_calls = 0`) and dispatches dated a year ahead, so nothing is dialled. C
//! keep-alive connections (one reqwest client each) then drive `POST /v1/calls` (valid
//! bodies, unique idempotency keys) and `GET /v1/calls/{id}` (ids from the POST phase) for N
//! seconds each; `wrk`, when installed, cross-checks the GET route. Last, jobs enqueued
//! through the store are claimed in batches by K `Store` handles with their own pools (as K
//! processes would), and every claimed id is checked to have been claimed exactly once.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::time::{Duration, Instant};

use super::stats::{fmt, Section, Summary, Table};
use crate::local_models::LocalModels;
use crate::runtime::boot::{boot, BootOptions};
use crate::runtime::RuntimeConfig;
use crate::scratch::ScratchDir;
use crate::store::model::{now_ms, status, Direction, NewCall};
use crate::store::Store;

/// The script dispatched calls name (shipped in `scripts/survey.yaml`).
const SCRIPT: &str = "survey.post_conversation";

/// What to measure.
#[derive(Debug, Clone)]
pub struct ApiBenchConfig {
    /// `postgres://…`; an SQLite file in a temp directory when `None`.
    pub database_url: Option<String>,
    /// Seconds per HTTP phase.
    pub seconds: u64,
    /// Concurrent keep-alive connections.
    pub concurrency: usize,
    /// Jobs enqueued for the claim phase.
    pub jobs: usize,
    /// Store handles claiming at once.
    pub claimers: usize,
    /// Jobs per claim.
    pub batch: i64,
    pub scripts_dir: PathBuf,
}

/// One HTTP load phase.
#[derive(Debug, Default)]
struct Phase {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    latencies_ms: Vec<f64>,
    elapsed_s: f64,
    ids: Vec<String>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed_s.max(1e-9)
    }
}

/// Runs the bench and reports it as a Markdown section.
///
/// # Errors
/// The runtime does not boot, the store cannot be opened, or a phase cannot run at all.
pub async fn run(cfg: &ApiBenchConfig, models: LocalModels) -> anyhow::Result<Section> {
    // The SQLite file and the spools, removed on return (or panic); Postgres keeps the rows
    // (tenant `bench-…`).
    let data = ScratchDir::create("switchboard-bench-api")?;
    let url = cfg
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data.path().join("bench.db").display()));
    measure(cfg, models, &url, data.path()).await
}

async fn measure(
    cfg: &ApiBenchConfig,
    models: LocalModels,
    url: &str,
    data: &Path,
) -> anyhow::Result<Section> {
    let running = boot(
        models,
        BootOptions {
            database_url: url.to_owned(),
            data_dir: data.to_owned(),
            scripts_dir: cfg.scripts_dir.clone(),
            listen: "127.0.0.1:0".parse()?,
            config: RuntimeConfig {
                max_calls: 0,
                ..RuntimeConfig::default()
            },
            llm: None,
            livekit: None,
            dialers: HashMap::new(),
            sip: None,
        },
    )
    .await?;
    let backend = running.rt.store.backend();
    let tenant = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let (_, key) = running
        .rt
        .store
        .create_api_key(&tenant, "bench", 1_000_000_000)
        .await?;
    let base = format!("http://{}", running.addr);
    let script = running
        .rt
        .scripts
        .get(SCRIPT)
        .with_context(|| format!("script {SCRIPT} not live in {}", cfg.scripts_dir.display()))?
        .id
        .clone();
    let dur = Duration::from_secs(cfg.seconds);
    let c = cfg.concurrency.max(1);

    eprintln!("POST /v1/calls with {c} connections for {} s…", cfg.seconds);
    let post = phase(c, dur, {
        let (base, key, tenant) = (base.clone(), key.clone(), tenant.clone());
        move |http: reqwest::Client, worker, seq| {
            let body = json!({
                "to": format!("+1415555{:04}", (worker * 131 + seq as usize) % 10_000),
                "transport": "local", "script_id": script.clone(),
                "variables": { "first_name": "Dana" },
                "not_before": "2099-01-01T00:00:00Z",
                "idempotency_key": format!("{tenant}-{worker}-{seq}"),
            });
            let req = http.post(format!("{base}/v1/calls")).bearer_auth(&key);
            async move {
                let res = req.json(&body).send().await.map_err(|e| e.to_string())?;
                let code = res.status().as_u16();
                let text = res.text().await.map_err(|e| e.to_string())?;
                if code != 202 {
                    return Err(format!("POST answered {code}: {text}"));
                }
                let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                v["id"]
                    .as_str()
                    .map(|id| Some(id.to_owned()))
                    .ok_or_else(|| format!("no id in {text}"))
            }
        }
    })
    .await;
    anyhow::ensure!(
        !post.ids.is_empty(),
        "no call was dispatched: {}",
        post.first_error.as_deref().unwrap_or("no request finished")
    );

    eprintln!(
        "GET /v1/calls/{{id}} with {c} connections for {} s…",
        cfg.seconds
    );
    let ids = Arc::new(post.ids.clone());
    let get = phase(c, dur, {
        let (base, key, ids) = (base.clone(), key.clone(), ids.clone());
        move |http: reqwest::Client, worker, seq| {
            let id = &ids[(worker + seq as usize * 7919) % ids.len()];
            let req = http.get(format!("{base}/v1/calls/{id}")).bearer_auth(&key);
            async move {
                let res = req.send().await.map_err(|e| e.to_string())?;
                let code = res.status().as_u16();
                let body = res.bytes().await.map_err(|e| e.to_string())?;
                if code != 200 {
                    return Err(format!("GET answered {code}: {body:?}"));
                }
                Ok(None)
            }
        }
    })
    .await;

    eprintln!("wrk against GET /v1/calls/{{id}}…");
    let wrk = run_wrk(&format!("{base}/v1/calls/{}", ids[0]), &key, c, cfg.seconds).await;

    eprintln!(
        "Claiming {} jobs with {} store handles…",
        cfg.jobs, cfg.claimers
    );
    let claims = claim_phase(cfg, url, data, &running.rt.store, &tenant).await;
    running.shutdown().await;
    let claims = claims?;

    let mut section = Section::new(format!("Control API and job queue ({backend:?})"));
    section.para(format!(
        "{} connections (reqwest, keep-alive) in the same process as the server, {} s per \
         route; the load generator and the server share this machine's cores. \
         Load average after: {}.",
        c,
        cfg.seconds,
        super::load_average()
    ));
    let mut table = Table::new(&[
        "route", "client", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms",
    ]);
    for (route, p) in [("POST /v1/calls", &post), ("GET /v1/calls/{id}", &get)] {
        let s = Summary::of(&p.latencies_ms);
        table.row(vec![
            route.into(),
            format!("reqwest ×{c}"),
            p.ok.to_string(),
            p.errors.to_string(),
            fmt(p.rate(), 0),
            s.map_or("–".into(), |s| fmt(s.p50, 2)),
            s.map_or("–".into(), |s| fmt(s.p99, 2)),
            s.map_or("–".into(), |s| fmt(s.max, 2)),
        ]);
    }
    match &wrk {
        Ok(w) => table.row(vec![
            "GET /v1/calls/{id}".into(),
            format!("wrk -t1 -c{c} (one id)"),
            w.requests.to_string(),
            w.errors.to_string(),
            fmt(w.rate, 0),
            fmt(w.p50_ms, 2),
            fmt(w.p99_ms, 2),
            fmt(w.max_ms, 2),
        ]),
        Err(e) => section.para(format!("wrk cross-check not run: {e}")),
    }
    section.table(&table);
    for (route, p) in [("POST", &post), ("GET", &get)] {
        if let Some(e) = &p.first_error {
            section.para(format!("First {route} error: `{e}`"));
        }
    }
    section.table(&claims.table());
    section.para(claims.verdict());
    Ok(section)
}

/// Drives `c` connections for `dur`, each sending `request(client, worker, seq)` back to back.
async fn phase<F, Fut>(c: usize, dur: Duration, request: F) -> Phase
where
    F: Fn(reqwest::Client, usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Option<String>, String>> + Send,
{
    let start = Instant::now();
    let deadline = start + dur;
    let mut workers = Vec::with_capacity(c);
    for worker in 0..c {
        let request = request.clone();
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap_or_default();
            let mut out = Phase::default();
            let mut seq = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                let r = request(http.clone(), worker, seq).await;
                out.latencies_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                seq += 1;
                match r {
                    Ok(id) => {
                        out.ok += 1;
                        out.ids.extend(id);
                    }
                    Err(e) => {
                        out.errors += 1;
                        out.first_error.get_or_insert(e);
                    }
                }
            }
            out
        }));
    }
    let mut total = Phase::default();
    for w in workers {
        let Ok(p) = w.await else { continue };
        total.ok += p.ok;
        total.errors += p.errors;
        total.latencies_ms.extend(p.latencies_ms);
        total.ids.extend(p.ids);
        if total.first_error.is_none() {
            total.first_error = p.first_error;
        }
    }
    total.elapsed_s = start.elapsed().as_secs_f64();
    total
}

/// What `wrk` measured.
#[derive(Debug, Clone, PartialEq)]
struct Wrk {
    requests: u64,
    errors: u64,
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

async fn run_wrk(url: &str, key: &str, c: usize, seconds: u64) -> Result<Wrk, String> {
    let out = tokio::process::Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{c}"),
            &format!("-d{seconds}s"),
            "--latency",
        ])
        .args(["-H", &format!("Authorization: Bearer {key}"), url])
        .output()
        .await
        .map_err(|e| format!("wrk not runnable ({e}): `apt-get install wrk`"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_wrk(&text).ok_or_else(|| format!("unexpected wrk output: {text}"))
}

/// Reads `wrk --latency`'s report.
fn parse_wrk(text: &str) -> Option<Wrk> {
    let mut w = Wrk {
        requests: 0,
        errors: 0,
        rate: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        max_ms: f64::NAN,
    };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Latency", _avg, _stdev, max, ..] => w.max_ms = wrk_ms(max)?,
            ["50%", v] => w.p50_ms = wrk_ms(v)?,
            ["99%", v] => w.p99_ms = wrk_ms(v)?,
            ["Requests/sec:", v] => w.rate = v.parse().ok()?,
            [n, "requests", "in", ..] => w.requests = n.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", n] => w.errors += n.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                w.errors += rest
                    .iter()
                    .filter_map(|x| x.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    (w.requests > 0 && w.rate.is_finite() && w.p99_ms.is_finite()).then_some(w)
}

/// A wrk duration (`850.00us`, `1.23ms`, `2.00s`, `1.00m`) in milliseconds.
fn wrk_ms(v: &str) -> Option<f64> {
    let (num, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v.strip_suffix('m')?, 60_000.0)
    };
    num.parse::<f64>().ok().map(|x| x * scale)
}

/// The claim phase's outcome.
#[derive(Debug)]
struct Claims {
    jobs: usize,
    batch: i64,
    per_claimer: Vec<usize>,
    check: ClaimCheck,
    errors: u64,
    db_claimed: i64,
    db_workers: i64,
    elapsed_s: f64,
}

impl Claims {
    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "claimers (own pools)",
            "batch",
            "jobs",
            "jobs/s",
            "claim errors",
            "claimed twice",
            "per claimer",
        ]);
        let claimed: usize = self.per_claimer.iter().sum();
        t.row(vec![
            self.per_claimer.len().to_string(),
            self.batch.to_string(),
            self.jobs.to_string(),
            fmt(claimed as f64 / self.elapsed_s.max(1e-9), 0),
            self.errors.to_string(),
            self.check.duplicates.to_string(),
            format!("{:?}", self.per_claimer),
        ]);
        t
    }

    fn verdict(&self) -> String {
        let c = &self.check;
        let ok = c.duplicates == 0 && c.missing == 0 && self.db_claimed == self.jobs as i64;
        format!(
            "Exactly-once check: {}. {} jobs enqueued, {} distinct claimed, {} claimed twice, \
             {} never claimed, {} claimed that this run did not enqueue; the database holds {} \
             of them `claimed`, by {} workers.",
            if ok { "passed" } else { "**FAILED**" },
            self.jobs,
            c.unique,
            c.duplicates,
            c.missing,
            c.foreign,
            self.db_claimed,
            self.db_workers
        )
    }
}

/// How the claimed ids compare with the enqueued ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ClaimCheck {
    unique: usize,
    duplicates: usize,
    missing: usize,
    foreign: usize,
}

fn check_claims(enqueued: &HashSet<String>, claimed: &[Vec<String>]) -> ClaimCheck {
    let mut seen = HashSet::new();
    let mut check = ClaimCheck::default();
    for id in claimed.iter().flatten() {
        if !enqueued.contains(id) {
            check.foreign += 1;
        } else if !seen.insert(id.as_str()) {
            check.duplicates += 1;
        }
    }
    check.unique = seen.len();
    check.missing = enqueued.len() - seen.len();
    check
}

async fn claim_phase(
    cfg: &ApiBenchConfig,
    url: &str,
    data: &Path,
    store: &Store,
    tenant: &str,
) -> anyhow::Result<Claims> {
    let tenant = format!("{tenant}-jobs");
    let due = now_ms() - 1000;
    let enqueued: Vec<String> = futures::stream::iter(0..cfg.jobs)
        .map(|i| {
            let call = NewCall {
                id: uuid::Uuid::new_v4().to_string(),
                tenant: tenant.clone(),
                direction: Direction::Outbound,
                transport: "local".into(),
                transport_options: json!({}),
                script_id: Some(SCRIPT.into()),
                from_number: None,
                to_number: Some(format!("+1415555{:04}", i % 10_000)),
                room: None,
                lead_id: None,
                external_refs: json!({}),
                variables: json!({}),
                time_zone: None,
                idempotency_key: None,
                status: status::QUEUED.into(),
                queued_at: due,
                not_before: due,
                max_attempts: 1,
                claimed_by: None,
                lease_until: None,
            };
            async move { store.enqueue(&call).await.map(|e| e.id) }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let mut handles = Vec::new();
    for k in 0..cfg.claimers.max(1) {
        handles.push(Store::open(url, &data.join(format!("claimer-{k}"))).await?);
    }
    let lease = now_ms() + 3_600_000;
    let start = Instant::now();
    let tasks: Vec<_> = handles
        .into_iter()
        .enumerate()
        .map(|(k, s)| {
            let (worker, batch) = (format!("{tenant}-claimer-{k}"), cfg.batch.max(1));
            tokio::spawn(async move {
                let (mut got, mut errors) = (Vec::new(), 0u64);
                loop {
                    match s.claim(&worker, batch, lease).await {
                        Ok(rows) if rows.is_empty() => break,
                        Ok(rows) => got.extend(rows.into_iter().map(|r| r.id)),
                        Err(e) if errors < 1000 => {
                            errors += 1;
                            tracing::debug!(error = %e, "claim failed; retrying");
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err(_) => break,
                    }
                }
                (got, errors)
            })
        })
        .collect();
    let mut claimed = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (got, e) = t.await.context("a claimer panicked")?;
        claimed.push(got);
        errors += e;
    }
    let elapsed_s = start.elapsed().as_secs_f64();
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT claimed_by) AS w FROM calls
         WHERE tenant_id = $1 AND status = $2",
    )
    .bind(&tenant)
    .bind(status::CLAIMED)
    .fetch_one(store.pool())
    .await?;
    use sqlx::Row;
    let enqueued: HashSet<String> = enqueued.into_iter().collect();
    Ok(Claims {
        jobs: enqueued.len(),
        batch: cfg.batch,
        per_claimer: claimed.iter().map(Vec::len).collect(),
        check: check_claims(&enqueued, &claimed),
        errors,
        db_claimed: row.try_get("n")?,
        db_workers: row.try_get("w")?,
        elapsed_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_reports_are_read() {
        let report = "Running 5s test @ http://127.0.0.1:4000/v1/calls/x
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  800.00us  31.20ms   90.00%
    Req/Sec     7.60k   300.00     8.00k    70.00%
  Latency Distribution
     50%    1.95ms
     75%    2.30ms
     90%    2.90ms
     99%  850.00us
  37800 requests in 5.00s, 20.00MB read
  Socket errors: connect 0, read 2, write 1, timeout 0
  Non-2xx or 3xx responses: 4
Requests/sec:   7560.12
Transfer/sec:      4.00MB
";
        let w = parse_wrk(report).expect("parsed");
        assert_eq!((w.requests, w.errors), (37800, 7));
        assert!((w.rate - 7560.12).abs() < 1e-6);
        assert!((w.p50_ms - 1.95).abs() < 1e-9 && (w.p99_ms - 0.85).abs() < 1e-9);
        assert!((w.max_ms - 31.2).abs() < 1e-9);
        assert_eq!(wrk_ms("1.50s"), Some(1500.0));
        assert!(parse_wrk("unable to connect to 127.0.0.1:1").is_none());
    }

    #[test]
    fn double_and_missing_claims_are_counted() {
        let enqueued: HashSet<String> = ["a", "b", "c", "d"].map(String::from).into();
        let claimed = vec![
            vec!["a".to_string(), "b".into()],
            vec!["b".into(), "x".into()],
            vec!["c".into()],
        ];
        let check = check_claims(&enqueued, &claimed);
        assert_eq!(
            check,
            ClaimCheck {
                unique: 3,
                duplicates: 1,
                missing: 1,
                foreign: 1
            }
        );
    }
}
