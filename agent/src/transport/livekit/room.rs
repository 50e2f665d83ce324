//! The room actor: joins with a URL and token, then owns the session (signal link and
//! PeerConnections), the participant table and the caller's audio. Remote audio from the
//! caller is decoded into the call's input ring; the agent's audio is encoded onto our
//! published microphone track; `sip_dtmf` packets become key presses. Network drops are
//! resumed (`reconnect=1`, publisher ICE restart, SyncState); a resume the server refuses,
//! or a server `LeaveRequest` asking for it, becomes a full reconnect (a new session).
//! The call ends (its input closes) when the caller leaves or the room is left.

use std::collections::HashMap;
use std::sync::Arc;

use audio::SampleRate;
use livekit_protocol as proto;
use proto::signal_request::Message as Req;
use proto::signal_response::Message as Resp;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{interval, Duration, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::RTCPeerConnectionState;

use super::bridge::{self, LiveKitOut, OutboundEncoder, Publication};
use super::data::{self, DataMessage};
use super::handle::{Command, LiveKitControl, RoomHandle};
use super::participants::{CallerRule, Participant, ParticipantTable};
use super::peer::PcEvent;
use super::session::{Session, SessionConfig};
use super::signal::unix_ms;
use super::tracks::CallerInput;
use super::LiveKitError;
use crate::call::session::CallMedia;
use crate::media::{media_ring, CallClock};
use crate::runtime::dial::Connected;

/// Caller audio buffered before ingest (3 s of 20 ms frames): a call answered while its host
/// is still starting keeps the callee's first words.
const INPUT_FRAMES: usize = 150;
/// Agent audio buffered before the encoder (200 ms).
const OUTPUT_FRAMES: usize = 10;
/// How long leaving waits for the room's tasks.
const TEARDOWN: Duration = Duration::from_secs(2);

/// How to join.
#[derive(Debug, Clone)]
pub struct RoomOptions {
    pub url: String,
    pub token: String,
    pub caller: CallerRule,
    /// The rate of the call's frames (the turn engine's rate).
    pub call_rate: SampleRate,
    /// Where the PeerConnections bind UDP (`0.0.0.0:0`; tests use `127.0.0.1:0`).
    pub udp_bind: String,
    /// Name of our published microphone track.
    pub track_name: String,
    /// Resume attempts after a drop before a full reconnect.
    pub resume_attempts: u32,
}

impl RoomOptions {
    pub fn new(url: &str, token: &str) -> Self {
        Self {
            url: url.to_string(),
            token: token.to_string(),
            caller: CallerRule::default(),
            call_rate: SampleRate::HZ_16K,
            udp_bind: "0.0.0.0:0".to_string(),
            track_name: "agent".to_string(),
            resume_attempts: 3,
        }
    }
}

/// What happened in the room, for the host (escalation waits for `ParticipantJoined` with
/// role `Human`). Delivered best-effort: a full event channel drops the event (logged).
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    ParticipantJoined(Participant),
    AttributesChanged(Participant),
    ParticipantLeft(Participant),
    /// The caller left: the call's input is closed.
    CallerLeft(Participant),
    /// A data packet other than DTMF (those go to the DTMF channel).
    DataReceived(DataMessage),
    Reconnecting {
        resume: bool,
    },
    Reconnected {
        resume: bool,
    },
    /// The room is left for good.
    Disconnected {
        reason: String,
    },
}

/// A joined room, ready for a call.
pub struct JoinedRoom {
    pub room_name: String,
    pub identity: String,
    pub sid: String,
    pub handle: RoomHandle,
    /// Room events; closed when the actor ends.
    pub events: mpsc::Receiver<RoomEvent>,
    pub media: CallMedia,
    /// Key presses from `sip_dtmf` packets; closed when the actor ends.
    pub dtmf: mpsc::Receiver<char>,
    /// The room actor: ends after the room is left (by `handle.leave()`, the cancel token
    /// passed to [`join`], or the server).
    pub task: JoinHandle<()>,
}

impl JoinedRoom {
    /// The runtime's view of the call, and the room's events for the host.
    pub fn into_connected(self) -> (Connected, RoomHandle, mpsc::Receiver<RoomEvent>) {
        let control = Arc::new(LiveKitControl {
            room: self.handle.clone(),
        });
        let connected = Connected {
            media: self.media,
            control: Some(control),
            far_end: Some(self.task),
            dtmf: Some(self.dtmf),
        };
        (connected, self.handle, self.events)
    }
}

/// A `DisconnectReason`'s protobuf name (`PARTICIPANT_REMOVED`, `ROOM_DELETED`, ...).
pub(super) fn reason_name(reason: i32) -> String {
    proto::DisconnectReason::try_from(reason)
        .map(|r| r.as_str_name().to_string())
        .unwrap_or_else(|_| format!("reason {reason}"))
}

/// What the loop does after a step.
enum Flow {
    Continue,
    Resume,
    Rejoin,
    Stop(String),
}

/// Joins the room. Cancelling `cancel` leaves it (clean leave).
///
/// # Errors
/// Connection, signal and WebRTC setup errors of the first join.
pub async fn join(
    opts: RoomOptions,
    cancel: CancellationToken,
) -> Result<JoinedRoom, LiveKitError> {
    let (pc_tx, pc_rx) = mpsc::channel(256);
    let cfg = SessionConfig {
        url: &opts.url,
        token: &opts.token,
        udp_bind: &opts.udp_bind,
        track_name: &opts.track_name,
    };
    let session = Session::establish(&cfg, 1, pc_tx.clone()).await?;
    let (in_tx, in_rx) = media_ring(INPUT_FRAMES);
    let (out_tx, out_rx) = media_ring(OUTPUT_FRAMES);
    let (pub_tx, pub_rx) = watch::channel(None);
    let (events_tx, events) = mpsc::channel(64);
    let (dtmf_tx, dtmf) = mpsc::channel(32);
    let (cmd_tx, cmd_rx) = mpsc::channel(32);
    let (data_tx, data_rx) = mpsc::channel(64);
    let clock = CallClock::start_now();
    let tasks = TaskTracker::new();
    let token = cancel.child_token();
    tasks.spawn(bridge::run_sender(
        out_rx,
        OutboundEncoder::new(opts.call_rate)?,
        pub_rx,
        clock,
        token.clone(),
    ));
    let mut actor = RoomActor {
        participants: ParticipantTable::new(opts.caller.clone(), session.own_sid()),
        token_text: opts.token.clone(),
        opts: opts.clone(),
        generation: 1,
        room_name: session
            .join
            .room
            .as_ref()
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        session,
        pc_tx,
        pc_rx,
        data_tx,
        data_rx,
        commands: cmd_rx,
        events: events_tx,
        dtmf: dtmf_tx,
        caller: CallerInput::Idle(in_tx),
        tracks: Vec::new(),
        publication: pub_tx,
        attributes: HashMap::new(),
        tasks,
        token,
    };
    actor.watch_channel(actor.session.reliable.clone());
    actor.watch_channel(actor.session.lossy.clone());
    let others = actor.session.join.other_participants.clone();
    for p in &others {
        actor.apply_participant(p).await;
    }
    let joined = JoinedRoom {
        room_name: actor.room_name.clone(),
        identity: actor.session.own_identity().to_string(),
        sid: actor.session.own_sid().to_string(),
        handle: RoomHandle { commands: cmd_tx },
        events,
        media: CallMedia {
            input: in_rx,
            output: Box::new(LiveKitOut::new(opts.call_rate, out_tx)),
            clock,
        },
        dtmf,
        task: tokio::spawn(actor.run()),
    };
    tracing::info!(room = %joined.room_name, identity = %joined.identity, "Joined LiveKit room.");
    Ok(joined)
}

pub(super) struct RoomActor {
    pub(super) opts: RoomOptions,
    /// The current token (the server may refresh it).
    pub(super) token_text: String,
    pub(super) generation: u64,
    pub(super) room_name: String,
    pub(super) session: Session,
    pub(super) participants: ParticipantTable,
    pub(super) pc_tx: mpsc::Sender<PcEvent>,
    /// PeerConnection events of every generation; stale ones are ignored.
    pub(super) pc_rx: mpsc::Receiver<PcEvent>,
    pub(super) data_tx: mpsc::Sender<DataMessage>,
    /// Data packets from every data channel's reader task.
    pub(super) data_rx: mpsc::Receiver<DataMessage>,
    /// Closed when every handle is dropped: the actor then leaves.
    pub(super) commands: mpsc::Receiver<Command>,
    pub(super) events: mpsc::Sender<RoomEvent>,
    pub(super) dtmf: mpsc::Sender<char>,
    pub(super) caller: CallerInput,
    /// Remote audio tracks of the current generation not yet given to a reader, with the
    /// participant sid their stream id names.
    pub(super) tracks: Vec<(String, String, Arc<dyn TrackRemote>)>,
    /// The sender's target; `None` while nothing is published.
    pub(super) publication: watch::Sender<Option<Publication>>,
    /// Our attributes, re-sent after a full reconnect.
    pub(super) attributes: HashMap<String, String>,
    /// The sender, data channel readers and drained tracks.
    pub(super) tasks: TaskTracker,
    /// Cancelled when the room is left; child of the caller's token.
    pub(super) token: CancellationToken,
}

impl RoomActor {
    async fn run(mut self) {
        let mut tick = interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_ping = Instant::now();
        let reason = loop {
            let flow = tokio::select! {
                biased;
                _ = self.token.cancelled() => Flow::Stop("cancelled".into()),
                cmd = self.commands.recv() => match cmd {
                    Some(Command::Leave { reply }) => {
                        self.leave().await;
                        let _ = reply.send(());
                        break "left".to_string();
                    }
                    Some(c) => self.on_command(c).await,
                    None => Flow::Stop("handles dropped".into()),
                },
                Some(ev) = self.pc_rx.recv() => self.on_pc_event(ev).await,
                resp = self.session.link.recv::<proto::SignalResponse>() => match resp {
                    Ok(r) => self.on_signal(r).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "LiveKit signal link lost; resuming.");
                        Flow::Resume
                    }
                },
                Some(m) = self.data_rx.recv() => self.on_data(m),
                _ = tick.tick() => {
                    let now = Instant::now();
                    if self.session.keepalive.is_dead(now) {
                        tracing::warn!("No pong from the LiveKit server; resuming.");
                        Flow::Resume
                    } else {
                        if now.duration_since(last_ping) >= self.session.keepalive.interval {
                            last_ping = now;
                            let ping = self.session.keepalive.ping(unix_ms());
                            let _ = self.session.send(ping).await;
                        }
                        self.session.flush_data().await;
                        Flow::Continue
                    }
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::Resume => {
                    if let Err(reason) = self.resume().await {
                        break reason;
                    }
                    last_ping = Instant::now();
                }
                Flow::Rejoin => {
                    if let Err(reason) = self.rejoin().await {
                        break reason;
                    }
                    last_ping = Instant::now();
                }
                Flow::Stop(reason) => {
                    self.leave().await;
                    break reason;
                }
            }
        };
        self.shutdown(reason).await;
    }

    pub(super) fn emit(&self, ev: RoomEvent) {
        if self.events.try_send(ev).is_err() {
            tracing::debug!("Room event dropped (nobody reading, or behind).");
        }
    }

    async fn on_command(&mut self, c: Command) -> Flow {
        match c {
            Command::Data { reliable, bytes } => self.session.publish_data(reliable, bytes).await,
            Command::Transcript(mut seg) => {
                // Clients parse the track sid (an empty one crashed the Python SDK): fill in
                // the speaker's audio track, and send nothing until there is one.
                if seg.track_sid.is_empty() {
                    seg.track_sid = if seg.speaker_identity == self.session.own_identity() {
                        self.session
                            .published
                            .as_ref()
                            .and_then(|p| p.track.as_ref())
                            .map(|t| t.sid.clone())
                    } else {
                        self.participants
                            .by_identity(&seg.speaker_identity)
                            .and_then(|p| p.audio_tracks.first().cloned())
                    }
                    .unwrap_or_default();
                }
                if seg.track_sid.is_empty() {
                    tracing::debug!(speaker = %seg.speaker_identity, "Transcript not published: no audio track yet");
                } else {
                    for bytes in data::transcript_packets(self.session.own_identity(), &seg) {
                        self.session.publish_data(true, bytes).await;
                    }
                }
            }
            Command::Attributes(attrs) => {
                self.attributes.extend(attrs.clone());
                let request_id = (unix_ms() & 0x7fff_ffff) as u32;
                let _ = self
                    .session
                    .send(Req::UpdateMetadata(proto::UpdateParticipantMetadata {
                        attributes: attrs,
                        request_id,
                        ..Default::default()
                    }))
                    .await;
            }
            Command::Dtmf { digits, reply } => {
                let r = self.send_dtmf(&digits).await;
                let _ = reply.send(r);
            }
            Command::Leave { .. } => unreachable!("handled in the loop"),
        }
        Flow::Continue
    }

    async fn send_dtmf(&mut self, digits: &str) -> Result<(), String> {
        let Some(caller) = self.participants.caller() else {
            return Err("no caller in the room".into());
        };
        let to = caller.identity.clone();
        if let Some(bad) = digits.chars().find(|c| !"0123456789*#ABCD,".contains(*c)) {
            return Err(format!("not a DTMF digit: {bad:?}"));
        }
        for d in digits.chars().filter(|c| *c != ',') {
            let bytes = data::dtmf_packet(self.session.own_identity(), &to, d);
            self.session.publish_data(true, bytes).await;
        }
        Ok(())
    }

    fn on_data(&mut self, m: DataMessage) -> Flow {
        match m {
            DataMessage::Dtmf { digit, .. } => {
                if self.dtmf.try_send(digit).is_err() {
                    tracing::warn!(%digit, "DTMF digit dropped (call not reading).");
                }
            }
            other => self.emit(RoomEvent::DataReceived(other)),
        }
        Flow::Continue
    }

    async fn on_signal(&mut self, r: proto::SignalResponse) -> Flow {
        self.session.keepalive.heard(Instant::now());
        let Some(m) = r.message else {
            return Flow::Continue;
        };
        let result = match m {
            Resp::Offer(sd) => self.session.on_offer(sd).await,
            Resp::Answer(sd) => {
                let r = self.session.on_answer(sd).await;
                if let Some(p) = self.session.publication().await {
                    self.publication.send_replace(Some(p));
                }
                r
            }
            Resp::Trickle(t) => {
                self.session.on_trickle(t).await;
                Ok(())
            }
            Resp::TrackPublished(t) => self.session.on_track_published(t).await,
            Resp::Update(u) => {
                for p in &u.participants {
                    self.apply_participant(p).await;
                }
                Ok(())
            }
            Resp::PongResp(p) => {
                self.session
                    .keepalive
                    .pong(p.last_ping_timestamp, unix_ms(), Instant::now());
                Ok(())
            }
            Resp::RefreshToken(t) => {
                self.token_text = t;
                Ok(())
            }
            Resp::Leave(l) => {
                use proto::leave_request::Action;
                return match Action::try_from(l.action).unwrap_or(Action::Disconnect) {
                    Action::Resume => Flow::Resume,
                    Action::Reconnect => Flow::Rejoin,
                    Action::Disconnect if l.can_reconnect => Flow::Rejoin,
                    Action::Disconnect => {
                        Flow::Stop(format!("server asked to leave: {}", reason_name(l.reason)))
                    }
                };
            }
            other => {
                tracing::trace!(?other, "Signal message not used.");
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "LiveKit negotiation step failed.");
        }
        Flow::Continue
    }

    async fn on_pc_event(&mut self, ev: PcEvent) -> Flow {
        match ev {
            PcEvent::Candidate {
                generation,
                target,
                init,
            } if generation == self.generation => {
                if let Err(e) = self.session.trickle_local(target, &init).await {
                    tracing::debug!(error = %e, "Local candidate not trickled.");
                }
            }
            PcEvent::State {
                generation,
                target,
                state,
            } if generation == self.generation => {
                tracing::debug!(?target, ?state, "PeerConnection state.");
                if state == RTCPeerConnectionState::Failed {
                    return Flow::Resume;
                }
            }
            PcEvent::Track { generation, track } if generation == self.generation => {
                if track.kind().await != RtpCodecKind::Audio {
                    self.drain(track);
                    return Flow::Continue;
                }
                let track_sid = track.track_id().await;
                let stream = track.stream_id().await;
                let owner_hint = stream.split('|').next().unwrap_or_default().to_string();
                self.tracks.push((track_sid, owner_hint, track));
                self.attach_tracks().await;
            }
            PcEvent::DataChannel {
                generation,
                channel,
                ..
            } if generation == self.generation => {
                self.watch_channel(channel);
            }
            _ => tracing::trace!("Event of an old PeerConnection ignored."),
        }
        Flow::Continue
    }
    async fn leave(&mut self) {
        self.session.leave().await;
    }

    async fn shutdown(mut self, reason: String) {
        tracing::info!(room = %self.room_name, %reason, "Left LiveKit room.");
        self.publication.send_replace(None);
        self.close_input().await;
        self.token.cancel();
        self.tasks.close();
        if tokio::time::timeout(TEARDOWN, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = self.tasks.len(),
                "Room tasks still running after teardown."
            );
        }
        self.emit(RoomEvent::Disconnected { reason });
    }
}
