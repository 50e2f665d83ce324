//! The long-running runtime behind `switchboard run`: shared models and scripts, the store,
//! the calls in progress, the job worker that claims and dials queued calls, and the webhook
//! sender. Transports hand it connected calls; it runs them and persists what they produce.

pub mod boot;
pub mod compliance;
pub mod dial;
pub mod host;
pub mod livekit;
pub mod sip;
pub mod webhooks;
pub mod worker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::call::live::CallEvent;
use crate::call::session::Providers;
use crate::local_models::LocalModels;
use crate::scripts::ScriptRegistry;
use crate::store::Store;
use crate::telemetry::Metrics;

pub use dial::{CallControl, Connected, DialError, Dialer};

/// Limits and timings of one runtime process.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Names this process's leases in the job queue.
    pub worker_id: String,
    /// Calls this process runs at once (inbound and outbound); jobs wait beyond it.
    pub max_calls: usize,
    /// No new jobs are claimed while the 1-minute load average per core is above this.
    pub max_load_per_core: Option<f64>,
    pub lease_ms: i64,
    pub poll_ms: u64,
    pub policy: compliance::Policy,
    /// Backoff before the first redial of a busy / unanswered number (doubles per attempt).
    pub retry_after_ms: i64,
    /// What the agent tells a call-screening assistant (jobs may override it).
    pub screening_reply: String,
    /// Where stereo call recordings go (`<dir>/<tenant>/<call id>.wav`); none when unset.
    pub recordings_dir: Option<std::path::PathBuf>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            worker_id: format!("{}-{}", hostname(), std::process::id()),
            max_calls: 16,
            max_load_per_core: None,
            lease_ms: 30_000,
            poll_ms: 500,
            policy: compliance::Policy::default(),
            retry_after_ms: 15 * 60_000,
            recordings_dir: None,
            screening_reply: "Hello, this is an automated assistant calling with a quick \
                              follow-up about a recent request."
                .into(),
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "switchboard".into())
}

/// A call in progress, as the control API sees it.
#[derive(Clone)]
pub struct LiveCall {
    pub tenant: String,
    pub events: broadcast::Sender<CallEvent>,
    /// Cancelled to hang up (by the API, or by shutdown through its parent).
    pub cancel: CancellationToken,
    /// Set when the API asked for the hang-up (not a shutdown).
    pub hangup_requested: Arc<std::sync::atomic::AtomicBool>,
    pub control: Option<Arc<dyn CallControl>>,
    /// Transfers asked by the API, carried out by the call (so its outcome records them).
    pub transfers: Option<tokio::sync::mpsc::Sender<crate::turn::controller::TransferRequest>>,
}

impl LiveCall {
    /// Hangs the call up at the API's request.
    pub fn hang_up(&self) {
        self.hangup_requested
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.cancel.cancel();
    }
}

/// The calls this process is running, by id.
#[derive(Clone, Default)]
pub struct LiveCalls {
    inner: Arc<Mutex<HashMap<String, LiveCall>>>,
}

impl LiveCalls {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, LiveCall>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn insert(&self, id: &str, call: LiveCall) {
        self.lock().insert(id.to_owned(), call);
    }

    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// The call `id` if it runs here and belongs to `tenant`.
    pub fn get(&self, tenant: &str, id: &str) -> Option<LiveCall> {
        self.lock().get(id).filter(|c| c.tenant == tenant).cloned()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Everything calls share in one process.
pub struct Runtime {
    pub store: Store,
    pub scripts: Arc<ScriptRegistry>,
    pub models: LocalModels,
    pub providers: Providers,
    pub metrics: Arc<Metrics>,
    pub live: LiveCalls,
    pub config: RuntimeConfig,
    pub dialers: HashMap<String, Arc<dyn Dialer>>,
    /// Call slots (`config.max_calls`): outbound jobs and inbound calls each hold one.
    pub slots: Arc<tokio::sync::Semaphore>,
    /// Ends every call and background task of the process.
    pub shutdown: CancellationToken,
}
