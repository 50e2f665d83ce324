//! Participants living inside the simulator (no WebRTC): they publish a PCM clip as a real
//! Opus track and record what they hear and the data they receive.
//!
//! Lifecycle: [`crate::Simulator::add_participant`] joins the room, subscribes the participant
//! to every existing track, publishes its microphone track and spawns the pacer (20 ms Opus
//! frames in real time: the clip, then silence, until [`SimParticipant::leave`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use audio::codec::opus::{OpusConfig, OpusDecoder, OpusEncoder};
use livekit_protocol as proto;
use rtc::rtp;

use crate::data::DataRoute;
use crate::forward::{Fanout, OPUS_PAYLOAD_TYPE};
use crate::state::{Publication, Rooms};
use crate::SimError;

/// Samples per 20 ms frame at 48 kHz.
const FRAME: usize = 960;

/// What an in-process participant is.
#[derive(Debug, Clone, Default)]
pub struct ParticipantSpec {
    /// Identity in the room.
    pub identity: String,
    /// Kind (STANDARD, SIP, AGENT, ...).
    pub kind: proto::participant_info::Kind,
    /// Participant attributes (e.g. `sip.callStatus`).
    pub attributes: HashMap<String, String>,
    /// Mono 48 kHz PCM published as the participant's microphone, then silence.
    pub audio: Vec<i16>,
}

impl ParticipantSpec {
    /// An inbound phone caller as LiveKit SIP presents one: kind SIP, `sip.phoneNumber` =
    /// `from`, `sip.trunkPhoneNumber` = `to` (the number dialled), `sip.callStatus` = active,
    /// `sip.callID`, `sip.trunkID`, `sip.ruleID`; `audio` is what the caller says.
    pub fn sip_caller(identity: &str, from: &str, to: &str, audio: Vec<i16>) -> Self {
        let attributes = [
            ("sip.phoneNumber", from),
            ("sip.trunkPhoneNumber", to),
            ("sip.callStatus", "active"),
            ("sip.callID", "SCL_inbound"),
            ("sip.trunkID", "ST_inbound"),
            ("sip.ruleID", "SDR_inbound"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Self {
            identity: identity.to_owned(),
            kind: proto::participant_info::Kind::Sip,
            attributes,
            audio,
        }
    }
}

/// One received track, decoded onto a timeline.
struct TrackRx {
    decoder: OpusDecoder,
    first_ts: u32,
    offset: usize,
    pcm: Vec<i16>,
}

#[derive(Default)]
struct InboxState {
    tracks: HashMap<String, TrackRx>,
    data: Vec<proto::DataPacket>,
}

/// What a simulated participant receives.
pub(crate) struct SimInbox {
    started: tokio::time::Instant,
    state: Mutex<InboxState>,
}

impl SimInbox {
    fn new() -> Self {
        Self {
            started: tokio::time::Instant::now(),
            state: Mutex::new(InboxState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Decodes one Opus RTP packet of `track_sid` onto that track's timeline (placed by RTP
    /// timestamp; the track starts where its first packet arrived).
    pub fn push_rtp(&self, track_sid: &str, packet: &rtp::Packet) {
        if packet.payload.is_empty() {
            return;
        }
        let elapsed = self.started.elapsed().as_millis() as usize * 48;
        let mut state = self.lock();
        let track = match state.tracks.entry(track_sid.to_owned()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => match OpusDecoder::new() {
                Ok(decoder) => e.insert(TrackRx {
                    decoder,
                    first_ts: packet.header.timestamp,
                    offset: elapsed,
                    pcm: Vec::new(),
                }),
                Err(err) => {
                    tracing::warn!(%err, "opus decoder");
                    return;
                }
            },
        };
        let Ok(pcm) = track.decoder.decode(&packet.payload) else {
            return;
        };
        let delta = packet.header.timestamp.wrapping_sub(track.first_ts) as usize;
        if delta > 48_000 * 3600 {
            return; // older than the first packet (reordered): ignore
        }
        let at = track.offset + delta;
        if track.pcm.len() < at + pcm.len() {
            track.pcm.resize(at + pcm.len(), 0);
        }
        track.pcm[at..at + pcm.len()].copy_from_slice(&pcm);
    }

    /// Records a data packet.
    pub fn push_data(&self, packet: proto::DataPacket) {
        self.lock().data.push(packet);
    }

    fn mix(&self) -> Vec<i16> {
        let state = self.lock();
        let len = state
            .tracks
            .values()
            .map(|t| t.pcm.len())
            .max()
            .unwrap_or(0);
        let mut mix = vec![0i32; len];
        for track in state.tracks.values() {
            for (m, s) in mix.iter_mut().zip(&track.pcm) {
                *m += i32::from(*s);
            }
        }
        mix.into_iter()
            .map(|s| s.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16)
            .collect()
    }
}

/// A participant inside the simulator.
pub struct SimParticipant {
    rooms: Arc<Rooms>,
    room: String,
    identity: String,
    inbox: Arc<SimInbox>,
    route: DataRoute,
    outbox: Arc<Mutex<VecDeque<i16>>>,
    pacer: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SimParticipant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimParticipant")
            .field("room", &self.room)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl SimParticipant {
    /// Joins `room` (created if needed) and starts publishing.
    pub(crate) fn join(
        rooms: Arc<Rooms>,
        room: &str,
        spec: ParticipantSpec,
    ) -> Result<Self, SimError> {
        let mut encoder = OpusEncoder::new(OpusConfig::default())?;
        rooms.ensure_room(room);
        let sid = rooms.new_id("PA_");
        let info = proto::ParticipantInfo {
            sid: sid.clone(),
            identity: spec.identity.clone(),
            name: spec.identity.clone(),
            state: proto::participant_info::State::Active as i32,
            kind: spec.kind as i32,
            attributes: spec.attributes.clone(),
            joined_at: crate::state::now_ms() / 1000,
            joined_at_ms: crate::state::now_ms(),
            version: 1,
            permission: Some(crate::signal::full_permission()),
            ..Default::default()
        };
        let inbox = Arc::new(SimInbox::new());
        let member = crate::state::Member {
            info,
            endpoint: crate::state::Endpoint::Sim(inbox.clone()),
        };
        if rooms.join(room, member).is_none() {
            return Err(SimError::DuplicateIdentity {
                room: room.to_owned(),
                identity: spec.identity,
            });
        }
        rooms.subscribe_existing(room, &spec.identity);
        let publication = Arc::new(Publication {
            owner: spec.identity.clone(),
            owner_sid: sid.clone(),
            info: crate::signal::audio_track_info(rooms.new_id("TR_"), "microphone".to_owned()),
            fanout: Fanout::default(),
        });
        rooms.publish(room, publication.clone());
        let outbox = Arc::new(Mutex::new(VecDeque::from(spec.audio)));
        let queue = outbox.clone();
        let pacer = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_millis(20));
            let ssrc = 0x5100_0000 | (publication.info.sid.len() as u32) << 8;
            let mut frame_index = 0usize;
            loop {
                ticker.tick().await;
                let mut frame = [0i16; FRAME];
                {
                    let mut queue = queue.lock().unwrap_or_else(|e| e.into_inner());
                    let n = queue.len().min(FRAME);
                    for (slot, sample) in frame.iter_mut().zip(queue.drain(..n)) {
                        *slot = sample;
                    }
                }
                let Ok(payload) = encoder.encode(&frame) else {
                    continue;
                };
                let packet = rtp::Packet {
                    header: rtp::header::Header {
                        version: 2,
                        marker: frame_index == 0,
                        payload_type: OPUS_PAYLOAD_TYPE,
                        sequence_number: frame_index as u16,
                        timestamp: (frame_index * FRAME) as u32,
                        ssrc,
                        ..Default::default()
                    },
                    payload: payload.into(),
                };
                publication.fanout.forward(&packet).await;
                frame_index += 1;
            }
        });
        Ok(Self {
            route: DataRoute {
                rooms: rooms.clone(),
                room: room.to_owned(),
                identity: spec.identity.clone(),
                sid,
                agent: spec.kind == proto::participant_info::Kind::Agent,
            },
            rooms,
            room: room.to_owned(),
            identity: spec.identity,
            inbox,
            outbox,
            pacer,
        })
    }

    /// The participant's identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Everything heard so far from other participants' audio tracks: 48 kHz mono, the
    /// tracks mixed, each placed where its first packet arrived (index 0 = join time).
    pub fn received_audio(&self) -> Vec<i16> {
        self.inbox.mix()
    }

    /// Sends a data packet into the room (sender identity stamped by the room).
    pub async fn send_data(&self, packet: proto::DataPacket) {
        self.route.route_packet(packet).await;
    }

    /// Data packets received so far.
    pub fn received_data(&self) -> Vec<proto::DataPacket> {
        self.inbox.lock().data.clone()
    }

    /// Queues more audio to publish after what is still queued (silence in between is not
    /// inserted: an empty queue means silence is being sent now).
    pub fn play(&self, audio: &[i16]) {
        self.outbox
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(audio.iter().copied());
    }

    /// Drops whatever audio is still queued.
    pub fn stop_audio(&self) {
        self.outbox
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Replaces attributes (an empty value removes the key); everyone gets the update.
    pub fn set_attributes(&self, attributes: &HashMap<String, String>) {
        self.rooms.update_info(&self.room, &self.identity, |info| {
            for (key, value) in attributes {
                if value.is_empty() {
                    info.attributes.remove(key);
                } else {
                    info.attributes.insert(key.clone(), value.clone());
                }
            }
        });
    }

    /// Leaves the room (others see it disconnect).
    pub async fn leave(self) {
        self.depart(proto::DisconnectReason::ClientInitiated);
    }

    /// Stops publishing and leaves with `reason` (idempotent).
    pub(crate) fn depart(&self, reason: proto::DisconnectReason) {
        self.pacer.abort();
        self.rooms
            .leave(&self.room, &self.identity, &self.route.sid, reason);
    }
}

impl Drop for SimParticipant {
    fn drop(&mut self) {
        self.depart(proto::DisconnectReason::ClientInitiated);
    }
}
