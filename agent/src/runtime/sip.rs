//! Hosting the SIP trunk endpoint in the runtime: an inbound call, routed by its dialled
//! number, becomes a call of the route's tenant and script; jobs with transport `sip` dial
//! through the configured trunk, and the SIP answer maps to the dial's outcome.

use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use serde_json::json;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

use super::dial::{CallControl, Connected, DialError, Dialer};
use super::host::{host, open_inbound};
use super::Runtime;
use crate::store::model::{now_ms, status, Direction, NewCall};
use crate::store::reads::CallRow;
use crate::transport::sip::{self, OutboundCall, Route, SipCall, SipCallHandler};

/// Runs inbound SIP calls; the runtime is set once it exists (the endpoint starts first).
pub struct SipInbound {
    pub rt: Arc<OnceLock<Arc<Runtime>>>,
}

impl SipCallHandler for SipInbound {
    fn handle(&self, call: SipCall) -> BoxFuture<'static, ()> {
        let rt = self.rt.get().cloned();
        Box::pin(async move {
            let Some(rt) = rt else {
                tracing::warn!("SIP call arrived before the runtime was ready; hung up");
                return;
            };
            let Ok(_slot) = rt.slots.clone().try_acquire_owned() else {
                tracing::warn!(
                    max_calls = rt.config.max_calls,
                    "Inbound SIP call over capacity; hung up"
                );
                return;
            };
            let new = NewCall {
                id: uuid::Uuid::new_v4().to_string(),
                tenant: call.route.tenant.clone(),
                direction: Direction::Inbound,
                transport: "sip".into(),
                transport_options: json!({ "sip_call_id": call.call_id }),
                script_id: Some(call.route.script.clone()),
                from_number: Some(call.caller.clone()),
                to_number: Some(call.dialled.clone()),
                room: None,
                lead_id: None,
                external_refs: json!({}),
                variables: json!({}),
                time_zone: None,
                idempotency_key: None,
                status: status::IN_PROGRESS.into(),
                queued_at: now_ms(),
                not_before: now_ms(),
                max_attempts: 1,
                // Under this process's lease from the first write, so a crash is noticed.
                claimed_by: Some(rt.config.worker_id.clone()),
                lease_until: Some(now_ms() + rt.config.lease_ms),
            };
            open_inbound(&rt, &new).await;
            let row = CallRow::from_new(&new);
            let connected = Connected {
                media: call.media,
                control: Some(Arc::new(SipControl(call.control))),
                far_end: None,
                dtmf: Some(call.dtmf),
            };
            host(&rt, &row, connected, rt.shutdown.child_token()).await;
        })
    }
}

/// Dials jobs with transport `sip` through the endpoint's trunk.
pub struct SipDialer {
    pub endpoint: Arc<sip::SipEndpoint>,
    pub ring_timeout: Duration,
}

impl Dialer for SipDialer {
    fn dial<'a>(
        &'a self,
        call: &'a CallRow,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<Connected, DialError>> {
        Box::pin(async move {
            let request = OutboundCall {
                to: call.to.clone().unwrap_or_default(),
                caller_id: call.from.clone(),
                ring_timeout: self.ring_timeout,
                route: Route {
                    tenant: call.tenant.clone(),
                    script: call.script_id.clone().unwrap_or_default(),
                },
            };
            let sip_call = self.endpoint.dial(request).await.map_err(dial_error)?;
            let control = sip_call.control.clone();
            // Our BYE once the call is over (the far end's BYE closes the media instead).
            let far_end = tokio::spawn(async move {
                cancel.cancelled().await;
                control.hangup().await;
            });
            Ok(Connected {
                media: sip_call.media,
                control: Some(Arc::new(SipControl(sip_call.control))),
                far_end: Some(far_end),
                dtmf: Some(sip_call.dtmf),
            })
        })
    }
}

/// The SIP final response, as the job queue understands it.
fn dial_error(e: sip::DialError) -> DialError {
    use sip::DialError as S;
    match e {
        S::Busy(_) => DialError::Busy,
        S::NoAnswer(_) => DialError::NoAnswer,
        S::Declined => DialError::Declined,
        S::RetryLater | S::Unreachable => DialError::RetryLater(e.to_string()),
        other => DialError::Failed(other.to_string()),
    }
}

struct SipControl(sip::CallControl);

impl CallControl for SipControl {
    fn transfer(&self, target: &str) -> BoxFuture<'_, Result<(), String>> {
        let target = target.to_owned();
        Box::pin(async move { self.0.transfer(&target).await.map_err(|e| e.to_string()) })
    }

    fn send_dtmf(&self, digits: &str) -> BoxFuture<'_, Result<(), String>> {
        let digits = digits.to_owned();
        Box::pin(async move { self.0.send_dtmf(&digits).await.map_err(|e| e.to_string()) })
    }
}
