//! Starting and stopping a runtime process: store (and spool replay), the crash sweep, the
//! scripts and their hot reload, dialers, the job worker, the webhook sender and the control
//! port. `switchboard run` and the integration tests boot the same way.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use audio::SampleRate;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::dial::{Dialer, LocalDialer};
use super::sip::{SipDialer, SipInbound};
use super::{LiveCalls, Runtime, RuntimeConfig};
use crate::api::{self, ApiState};
use crate::llm::LlmProvider;
use crate::local_models::{espeak, LocalModels};
use crate::scripts::{self, ScriptRegistry};
use crate::store::{Backend, Store};
use crate::transport::sip::{SipConfig, SipEndpoint};

pub struct BootOptions {
    /// `postgres://…` or `sqlite://path`.
    pub database_url: String,
    /// Spool and other local state.
    pub data_dir: PathBuf,
    pub scripts_dir: PathBuf,
    pub listen: SocketAddr,
    pub config: RuntimeConfig,
    pub llm: Option<Arc<dyn LlmProvider>>,
    /// LiveKit API key and secret, to verify its webhooks.
    pub livekit: Option<(String, String)>,
    /// Extra transports besides `local` (and `sip`, which `sip` below adds).
    pub dialers: HashMap<String, Arc<dyn Dialer>>,
    /// The SIP trunk endpoint: inbound routes and the trunk for outbound jobs.
    pub sip: Option<SipConfig>,
}

/// A booted process.
pub struct Running {
    pub rt: Arc<Runtime>,
    /// Where the control port listens.
    pub addr: SocketAddr,
    /// Where the SIP endpoint listens, when it runs.
    pub sip_addr: Option<SocketAddr>,
    tasks: TaskTracker,
}

impl Running {
    /// Ends every call and task, then returns.
    pub async fn shutdown(self) {
        self.rt.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        // Writes spooled while the database was away stay on disk for the next start.
        if let Err(e) = self.rt.store.replay().await {
            tracing::warn!(error = %e, "Spool not fully replayed at shutdown");
        }
    }
}

/// How long start-up waits for an unreachable database before giving up.
const STORE_WAIT: Duration = Duration::from_secs(60);

/// Boots the runtime with `models` loaded.
///
/// # Errors
/// The store cannot be opened or migrated, the port cannot be bound.
pub async fn boot(models: LocalModels, opts: BootOptions) -> anyhow::Result<Running> {
    let spool = opts.data_dir.join("spool");
    let store = Store::open_waiting(&opts.database_url, &spool, STORE_WAIT)
        .await
        .with_context(|| {
            format!(
                "opening the store {}",
                crate::store::redact(&opts.database_url)
            )
        })?;
    // A single-process SQLite store owns every lease in it: calls left running by a crash
    // are interrupted now. Postgres leases expire and the worker's reaper frees them.
    let swept = store.reap(store.backend() == Backend::Sqlite).await?;
    if swept.requeued + swept.interrupted > 0 {
        tracing::warn!(
            requeued = swept.requeued,
            interrupted = swept.interrupted,
            "Calls left by a previous process recovered"
        );
    }
    let dir = opts.scripts_dir.clone();
    let (registry, report) = tokio::task::spawn_blocking(move || ScriptRegistry::load(dir)).await?;
    for refusal in &report.refused {
        for d in &refusal.diagnostics {
            tracing::error!(%d, "Script refused");
        }
    }
    let registry = Arc::new(registry);
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    tasks.spawn(scripts::watch(
        registry.clone(),
        Duration::from_secs(2),
        shutdown.child_token(),
    ));
    tasks.spawn({
        let replayer = store.spawn_replayer(Duration::from_secs(2), shutdown.child_token());
        async move {
            let _ = replayer.await;
        }
    });

    let mut dialers = opts.dialers;
    let rt_cell = Arc::new(OnceLock::new());
    let mut sip_addr = None;
    if let Some(config) = opts.sip {
        if let Err(errors) = config.validate() {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::bail!("SIP configuration: {}", list.join("; "));
        }
        let handler = Arc::new(SipInbound {
            rt: rt_cell.clone(),
        });
        let endpoint = SipEndpoint::start(config, handler, shutdown.child_token())
            .await
            .context("starting the SIP endpoint")?;
        sip_addr = Some(endpoint.local_addr());
        dialers.insert(
            "sip".into(),
            Arc::new(SipDialer {
                endpoint: Arc::new(endpoint),
                ring_timeout: Duration::from_secs(30),
            }),
        );
    }
    dialers.insert(
        "local".into(),
        Arc::new(LocalDialer {
            voice: espeak("en-us+m3"),
            rate: SampleRate::HZ_16K,
        }),
    );
    let mut providers = models.providers();
    providers.llm = opts.llm;
    let rt = Arc::new(Runtime {
        store,
        scripts: registry,
        models,
        providers,
        metrics: Default::default(),
        live: LiveCalls::default(),
        slots: Arc::new(tokio::sync::Semaphore::new(opts.config.max_calls)),
        config: opts.config,
        dialers,
        shutdown: shutdown.clone(),
    });
    let _ = rt_cell.set(rt.clone());
    tasks.spawn(super::worker::run(rt.clone()));
    tasks.spawn(super::webhooks::run(rt.clone(), Duration::from_millis(500)));

    let state = ApiState {
        rt: rt.clone(),
        limiter: Default::default(),
        livekit: opts
            .livekit
            .map(|(key, secret)| Arc::new(api::livekit::WebhookVerifier::new(key, secret))),
    };
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("binding the control port {}", opts.listen))?;
    let addr = listener.local_addr()?;
    let app = api::router(state);
    let stop = shutdown.clone();
    tasks.spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "Control port stopped");
        }
    });
    tracing::info!(%addr, worker = %rt.config.worker_id, "Switchboard running");
    Ok(Running {
        rt,
        addr,
        sip_addr,
        tasks,
    })
}
