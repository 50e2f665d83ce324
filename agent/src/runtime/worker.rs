//! The job worker: claims due outbound calls up to this process's free call slots, renews its
//! leases, frees dead processes' leases, turns due follow-up calls into jobs, and takes each
//! claimed job through the compliance gate and the dial.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Duration;
use tokio_util::task::TaskTracker;

use super::compliance::{self, Verdict};
use super::host::host;
use super::Runtime;
use crate::store::model::{now_ms, OutboxEvent, WriteOp};
use crate::store::reads::CallRow;

/// Runs until the runtime shuts down; then waits for its calls to end.
pub async fn run(rt: Arc<Runtime>) {
    let tasks = TaskTracker::new();
    let slots = rt.slots.clone();
    let poll = Duration::from_millis(rt.config.poll_ms);
    let mut last_heartbeat = 0;
    let mut last_housekeeping = 0;
    loop {
        tokio::select! {
            _ = rt.shutdown.cancelled() => break,
            _ = tokio::time::sleep(poll) => {}
        }
        let now = now_ms();
        if now - last_heartbeat >= rt.config.lease_ms / 3 {
            last_heartbeat = now;
            if let Err(e) = rt
                .store
                .heartbeat(&rt.config.worker_id, now + rt.config.lease_ms)
                .await
            {
                tracing::warn!(error = %e, "Lease heartbeat failed");
            }
        }
        if now - last_housekeeping >= 5_000 {
            last_housekeeping = now;
            housekeeping(&rt).await;
        }
        if let Some(limit) = rt.config.max_load_per_core {
            if load_per_core().is_some_and(|load| load > limit) {
                continue;
            }
        }
        // As many jobs as there are free call slots. The slots are not held while the claim
        // runs: inbound calls share them, and one arriving meanwhile would find none (and the
        // LiveKit server a worker at full load).
        let free = slots.available_permits();
        if free == 0 {
            continue;
        }
        let jobs = match rt
            .store
            .claim(&rt.config.worker_id, free as i64, now + rt.config.lease_ms)
            .await
        {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "Could not claim jobs");
                continue;
            }
        };
        for job in jobs {
            // A slot an inbound call took since the claim: the job waits for the next one (its
            // lease renewed meanwhile); at shutdown it is left to the lease reaper.
            let (rt, slots) = (rt.clone(), slots.clone());
            tasks.spawn(async move {
                tokio::select! {
                    permit = slots.acquire_owned() => {
                        if let Ok(permit) = permit {
                            run_job(rt, job, permit).await;
                        }
                    }
                    _ = rt.shutdown.cancelled() => {}
                }
            });
        }
    }
    tasks.close();
    tasks.wait().await;
}

/// Backoff before redialling after attempt `attempt` (1-based): the base, doubling, at most
/// four hours.
fn retry_delay_ms(base_ms: i64, attempt: i64) -> i64 {
    (base_ms << (attempt - 1).clamp(0, 8)).min(4 * 3_600_000)
}

/// The 1-minute load average per core (Linux), for CPU admission.
fn load_per_core() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let load: f64 = text.split_whitespace().next()?.parse().ok()?;
    let cores = std::thread::available_parallelism().ok()?.get() as f64;
    Some(load / cores)
}

async fn housekeeping(rt: &Runtime) {
    match rt.store.reap(false).await {
        Ok(r) if r.requeued + r.interrupted > 0 => {
            tracing::warn!(
                requeued = r.requeued,
                interrupted = r.interrupted,
                "Freed expired leases"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "Lease reaper failed"),
    }
    match rt.store.promote_scheduled_calls().await {
        Ok(n) if n > 0 => tracing::info!(jobs = n, "Follow-up calls queued"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "Could not queue follow-up calls"),
    }
}

/// One claimed job: gate, dial, run.
async fn run_job(rt: Arc<Runtime>, call: CallRow, _slot: OwnedSemaphorePermit) {
    let store = &rt.store;
    let to = call.to.clone().unwrap_or_default();
    let masked = compliance::mask(&to);
    let policy = &rt.config.policy;
    let verdict = match compliance::time_zone(policy, call.time_zone.as_deref()) {
        Err(e) => Verdict::Refuse(format!("invalid_time_zone: {e}")),
        Ok(tz) => {
            let now = chrono::Utc::now();
            match store
                .number_facts(&call.tenant, &to, compliance::day_start(tz, now))
                .await
            {
                Ok(facts) => compliance::decide(policy, &to, tz, facts, now),
                Err(e) => Verdict::Defer {
                    until: now_ms() + 30_000,
                    reason: format!("store unavailable: {e}"),
                },
            }
        }
    };
    let result = match verdict {
        Verdict::Refuse(reason) => {
            tracing::warn!(call_id = %call.id, to = %masked, %reason, "Job refused by the compliance gate");
            store.refuse(&call.tenant, &call.id, &reason).await
        }
        Verdict::Defer { until, reason } => {
            tracing::info!(call_id = %call.id, to = %masked, %reason, "Job deferred");
            store.defer(&call.tenant, &call.id, until, &reason).await
        }
        Verdict::Dial => {
            dial(&rt, call.clone()).await;
            Ok(())
        }
    };
    if let Err(e) = result {
        tracing::error!(call_id = %call.id, error = %e, "Could not record the gate's decision");
    }
}

async fn dial(rt: &Arc<Runtime>, call: CallRow) {
    let store = &rt.store;
    let attempt = call.attempts + 1;
    let at = now_ms();
    let to = call.to.clone().unwrap_or_default();
    // Dial only while this process still holds the job: never twice for one call.
    match store.start_dial(&rt.config.worker_id, &call, attempt).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(call_id = %call.id, "Job lost its lease before dialling; not dialled");
            return;
        }
        Err(e) => {
            tracing::warn!(call_id = %call.id, error = %e, "Database unavailable; job left for a retry");
            return;
        }
    }
    store
        .record(WriteOp::Event {
            tenant: call.tenant.clone(),
            call_id: call.id.clone(),
            event: OutboxEvent::for_call(&call.id, "call.started", json!({ "call_id": call.id })),
            at,
        })
        .await;
    let cancel = rt.shutdown.child_token();
    let dialled = match rt.dialers.get(&call.transport) {
        Some(dialer) => dialer.dial(&call, cancel.clone()).await,
        None => Err(super::DialError::Failed(format!(
            "transport {:?} is not enabled in this process",
            call.transport
        ))),
    };
    match dialled {
        Ok(connected) => {
            tracing::info!(call_id = %call.id, to = %compliance::mask(&to), "Call connected");
            host(rt, &call, connected, cancel).await;
        }
        Err(e) => {
            let retry_at = (e.retryable() && attempt < call.max_attempts)
                .then(|| now_ms() + retry_delay_ms(rt.config.retry_after_ms, attempt));
            tracing::info!(call_id = %call.id, to = %compliance::mask(&to), error = %e, retry = retry_at.is_some(), "Dial failed");
            let events = if retry_at.is_none() {
                vec![OutboxEvent::for_call(
                    &call.id,
                    "call.ended",
                    json!({ "call_id": call.id, "disposition": e.disposition(), "end_reason": e.to_string() }),
                )]
            } else {
                Vec::new()
            };
            store
                .record(WriteOp::DialFailed {
                    tenant: call.tenant.clone(),
                    call_id: call.id.clone(),
                    attempt,
                    disposition: e.disposition().into(),
                    error: e.to_string(),
                    retry_at,
                    at: now_ms(),
                    events,
                })
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::retry_delay_ms;

    #[test]
    fn redials_back_off() {
        let base = 15 * 60_000;
        assert_eq!(retry_delay_ms(base, 1), base);
        assert_eq!(retry_delay_ms(base, 2), 2 * base);
        assert_eq!(retry_delay_ms(base, 3), 4 * base);
        assert_eq!(retry_delay_ms(base, 9), 4 * 3_600_000);
    }
}
