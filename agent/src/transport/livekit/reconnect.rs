//! Getting a dropped room back: a resume (`reconnect=1&sid=…`, publisher ICE restart,
//! SyncState) keeps the session and its PeerConnections; a full reconnect (the resume was
//! refused, or the server's LeaveRequest asked for it) builds a new session, republishes
//! and restores our attributes. Part of [`super::room`]'s actor.

use livekit_protocol as proto;
use proto::signal_request::Message as Req;
use tokio::time::{Duration, Instant};

use super::room::{RoomActor, RoomEvent};
use super::session::{Session, SessionConfig};
use super::signal::{connect_rtc, ConnectMode};
use super::tracks::CallerInput;
use super::LiveKitError;

impl RoomActor {
    /// Resumes after a drop; falls back to a full reconnect. `Err` is the reason the room
    /// is given up.
    pub(super) async fn resume(&mut self) -> Result<(), String> {
        self.emit(RoomEvent::Reconnecting { resume: true });
        let sid = self.session.own_sid().to_string();
        for attempt in 0..self.opts.resume_attempts {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt))).await;
            }
            let mode = ConnectMode::Resume { sid: sid.clone() };
            match connect_rtc(&self.opts.url, &self.token_text, &mode).await {
                Ok((link, _reconnect)) => {
                    let old = std::mem::replace(&mut self.session.link, link);
                    drop(old);
                    self.session.keepalive.heard(Instant::now());
                    if let Err(e) = self.after_resume().await {
                        tracing::warn!(error = %e, "Resume negotiation failed.");
                        continue;
                    }
                    tracing::info!("LiveKit session resumed.");
                    self.emit(RoomEvent::Reconnected { resume: true });
                    return Ok(());
                }
                Err(LiveKitError::Left(reason)) => {
                    tracing::info!(%reason, "Resume refused; reconnecting fully.");
                    break;
                }
                Err(e) => tracing::warn!(error = %e, attempt, "Resume attempt failed."),
            }
        }
        self.rejoin().await
    }

    pub(super) async fn after_resume(&mut self) -> Result<(), LiveKitError> {
        self.session
            .publisher
            .restart_ice()
            .await
            .map_err(super::rtc_err("restart ICE"))?;
        if self.session.published.is_some() {
            self.session.offer_publisher().await?;
        }
        let subscribed = self
            .participants
            .all()
            .iter()
            .flat_map(|p| p.audio_tracks.clone())
            .collect();
        let sync = self.session.sync_state(subscribed).await;
        self.session.send(Req::SyncState(sync)).await
    }

    /// A full reconnect: a new session (new PCs, new join), then republish.
    pub(super) async fn rejoin(&mut self) -> Result<(), String> {
        self.emit(RoomEvent::Reconnecting { resume: false });
        self.publication.send_replace(None);
        let mut last = String::new();
        for attempt in 0..self.opts.resume_attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
            let cfg = SessionConfig {
                url: &self.opts.url,
                token: &self.token_text,
                udp_bind: &self.opts.udp_bind,
                track_name: &self.opts.track_name,
            };
            match Session::establish(&cfg, self.generation + 1, self.pc_tx.clone()).await {
                Ok(mut session) => {
                    self.generation += 1;
                    if !self.attributes.is_empty() {
                        let attrs = self.attributes.clone();
                        let _ = session
                            .send(Req::UpdateMetadata(proto::UpdateParticipantMetadata {
                                attributes: attrs,
                                ..Default::default()
                            }))
                            .await;
                    }
                    let mut old = std::mem::replace(&mut self.session, session);
                    old.close().await;
                    self.tracks.clear();
                    if let Some(s) = self.take_sender().await {
                        self.caller = CallerInput::Idle(s);
                    }
                    self.watch_channel(self.session.reliable.clone());
                    self.watch_channel(self.session.lossy.clone());
                    // Who stayed keeps their role and raises no event (a human agent in
                    // the room is not "joining" again); who left meanwhile is reported.
                    let own_sid = self.session.own_sid().to_string();
                    let present = self.session.join.other_participants.clone();
                    let changes = self.participants.rejoined(&own_sid, &present);
                    self.apply_changes(changes).await;
                    tracing::info!("LiveKit room rejoined.");
                    self.emit(RoomEvent::Reconnected { resume: false });
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "Rejoin attempt failed.");
                    last = e.to_string();
                }
            }
        }
        Err(format!("could not reconnect: {last}"))
    }
}
