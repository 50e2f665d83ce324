//! LiveKit SIP, simulated: outbound calls become in-process SIP participants whose far end
//! behaves as configured per number; transfers are recorded.
//!
//! Lifecycle of a call (`CreateSIPParticipant`): the participant joins at once (kind SIP,
//! `sip.callStatus` = `dialing`), turns `ringing`, then per the number's [`SipBehaviour`]:
//! `active` and the callee's audio plays; or `hangup` and it leaves (busy: USER_REJECTED; no
//! answer within the ringing timeout: USER_UNAVAILABLE). With `wait_until_answered` the twirp
//! call returns only once answered, or fails with the SIP status (486 / 480).
//! `TransferSIPParticipant` records the transfer, then the participant leaves (REFER done).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livekit_protocol as proto;

use crate::sim::{ParticipantSpec, SimParticipant};
use crate::simulator::Shared;

/// How the far end of a dialled number behaves.
#[derive(Debug, Clone, PartialEq)]
pub enum SipBehaviour {
    /// Rings for `ring`, answers, then speaks `audio` (48 kHz mono; silence afterwards).
    Answer {
        /// Ringing time before the answer.
        ring: Duration,
        /// What the callee says once answered.
        audio: Vec<i16>,
    },
    /// Rings for `ring`, then rejects the call (486 Busy Here).
    Busy {
        /// Ringing time before the rejection.
        ring: Duration,
    },
    /// Never answers: the call ends at the request's ringing timeout (480).
    NoAnswer,
}

impl Default for SipBehaviour {
    fn default() -> Self {
        SipBehaviour::Answer {
            ring: Duration::from_millis(200),
            audio: Vec::new(),
        }
    }
}

/// A transfer asked with `TransferSIPParticipant`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipTransfer {
    /// Room name.
    pub room: String,
    /// The SIP participant transferred.
    pub identity: String,
    /// Where to (`tel:` or `sip:` URI).
    pub transfer_to: String,
    /// Whether a dial tone was asked for.
    pub play_dialtone: bool,
}

/// An error the twirp layer reports: (twirp code, message, SIP status if any).
pub(crate) type SipFailure = (&'static str, String, Option<u16>);

/// SIP state.
#[derive(Default)]
pub(crate) struct Sip {
    pub behaviours: Mutex<HashMap<String, SipBehaviour>>,
    pub calls: Mutex<HashMap<(String, String), Arc<SimParticipant>>>,
    pub transfers: Mutex<Vec<SipTransfer>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `CreateSIPParticipant`.
pub(crate) async fn create(
    shared: &Arc<Shared>,
    request: proto::CreateSipParticipantRequest,
) -> Result<proto::SipParticipantInfo, SipFailure> {
    if request.room_name.is_empty() || request.sip_call_to.is_empty() {
        return Err((
            "invalid_argument",
            "room_name and sip_call_to are required".into(),
            None,
        ));
    }
    let identity = if request.participant_identity.is_empty() {
        format!("sip_{}", request.sip_call_to)
    } else {
        request.participant_identity.clone()
    };
    let call_id = shared.rooms.new_id("SCL_");
    let mut attributes = request.participant_attributes.clone();
    attributes.insert("sip.callID".into(), call_id.clone());
    attributes.insert("sip.callStatus".into(), "dialing".into());
    attributes.insert("sip.trunkID".into(), request.sip_trunk_id.clone());
    attributes.insert("sip.trunkPhoneNumber".into(), request.sip_number.clone());
    if !request.hide_phone_number {
        attributes.insert("sip.phoneNumber".into(), request.sip_call_to.clone());
    }
    let spec = ParticipantSpec {
        identity: identity.clone(),
        kind: proto::participant_info::Kind::Sip,
        attributes,
        audio: Vec::new(),
    };
    let participant = SimParticipant::join(shared.rooms.clone(), &request.room_name, spec)
        .map_err(|e| ("already_exists", e.to_string(), None))?;
    let participant = Arc::new(participant);
    let key = (request.room_name.clone(), identity.clone());
    lock(&shared.sip.calls).insert(key.clone(), participant.clone());
    shared.room_joined(&request.room_name, proto::participant_info::Kind::Sip);

    let behaviour = lock(&shared.sip.behaviours)
        .get(&request.sip_call_to)
        .cloned()
        .unwrap_or_default();
    let ringing_timeout = request
        .ringing_timeout
        .as_ref()
        .map(|d| Duration::new(d.seconds.max(0) as u64, d.nanos.max(0) as u32))
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(30));
    let (outcome_tx, outcome) = tokio::sync::oneshot::channel();
    let shared_for_call = shared.clone();
    tokio::spawn(async move {
        let status = |value: &str| {
            participant.set_attributes(&HashMap::from([(
                "sip.callStatus".to_owned(),
                value.to_owned(),
            )]));
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        status("ringing");
        let result = match behaviour {
            SipBehaviour::Answer { ring, audio } if ring < ringing_timeout => {
                tokio::time::sleep(ring).await;
                status("active");
                participant.play(&audio);
                Ok(())
            }
            SipBehaviour::Busy { ring } if ring < ringing_timeout => {
                tokio::time::sleep(ring).await;
                Err(("unavailable", "Busy Here".to_owned(), Some(486)))
            }
            _ => {
                tokio::time::sleep(ringing_timeout).await;
                Err((
                    "deadline_exceeded",
                    "Temporarily Unavailable".to_owned(),
                    Some(480),
                ))
            }
        };
        if let Err((_, _, code)) = &result {
            status("hangup");
            let reason = if *code == Some(486) {
                proto::DisconnectReason::UserRejected
            } else {
                proto::DisconnectReason::UserUnavailable
            };
            participant.depart(reason);
            lock(&shared_for_call.sip.calls).remove(&key);
        }
        let _ = outcome_tx.send(result);
    });
    if request.wait_until_answered {
        outcome
            .await
            .map_err(|_| ("internal", "call task ended".to_owned(), None))??;
    }
    Ok(proto::SipParticipantInfo {
        participant_id: shared
            .rooms
            .member_sid(&request.room_name, &identity)
            .unwrap_or_default(),
        participant_identity: identity,
        room_name: request.room_name,
        sip_call_id: call_id,
    })
}

/// `TransferSIPParticipant`.
pub(crate) async fn transfer(
    shared: &Shared,
    request: proto::TransferSipParticipantRequest,
) -> Result<(), SipFailure> {
    let key = (
        request.room_name.clone(),
        request.participant_identity.clone(),
    );
    let dialled = lock(&shared.sip.calls).remove(&key);
    // An inbound caller (in the room through a dispatch rule) is a SIP participant too.
    let inbound = shared
        .rooms
        .participants(&key.0)
        .into_iter()
        .find(|p| p.identity == key.1 && p.kind == proto::participant_info::Kind::Sip as i32);
    if dialled.is_none() && inbound.is_none() {
        return Err(("not_found", "no such SIP participant".to_owned(), None));
    }
    lock(&shared.sip.transfers).push(SipTransfer {
        room: request.room_name,
        identity: request.participant_identity,
        transfer_to: request.transfer_to,
        play_dialtone: request.play_dialtone,
    });
    let done = proto::DisconnectReason::ClientInitiated;
    match (dialled, inbound) {
        (Some(participant), _) => {
            participant.set_attributes(&HashMap::from([(
                "sip.callStatus".to_owned(),
                "hangup".to_owned(),
            )]));
            participant.depart(done);
        }
        (None, Some(p)) => {
            shared.rooms.leave(&key.0, &key.1, &p.sid, done);
        }
        (None, None) => {}
    }
    Ok(())
}
