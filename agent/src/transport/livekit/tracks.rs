//! The room actor's media and data readers: which remote track feeds the call's input
//! (the caller's, decoded by [`bridge::read_track`]; others are drained), the data channel
//! readers, and closing the input when the caller leaves. Part of [`super::room`]'s actor.

use std::sync::Arc;

use audio::AudioFrame;
use livekit_protocol as proto;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_remote::TrackRemote;

use super::bridge::{self, InboundDecoder};
use super::data;
use super::participants::{ParticipantChange, ParticipantRole};
use super::room::{RoomActor, RoomEvent};
use crate::media::RingSender;

/// Where the caller's audio stands.
pub(super) enum CallerInput {
    Idle(RingSender<AudioFrame>),
    Reading {
        track_sid: String,
        cancel: CancellationToken,
        task: JoinHandle<RingSender<AudioFrame>>,
    },
    Closed,
}

impl RoomActor {
    /// Spawns a reader that forwards a data channel's packets to the actor.
    pub(super) fn watch_channel(&self, channel: Arc<dyn DataChannel>) {
        let tx = self.data_tx.clone();
        let token = self.token.clone();
        self.tasks.spawn(async move {
            loop {
                let ev = tokio::select! {
                    _ = token.cancelled() => break,
                    ev = channel.poll() => ev,
                };
                match ev {
                    Some(DataChannelEvent::OnMessage(msg)) => match data::decode(&msg.data) {
                        Ok(m) => {
                            if tx.try_send(m).is_err() {
                                tracing::warn!("Data packet dropped (room busy).");
                            }
                        }
                        Err(e) => tracing::debug!(error = %e, "Undecodable data packet."),
                    },
                    Some(DataChannelEvent::OnClose) | None => break,
                    Some(_) => {}
                }
            }
        });
    }

    /// Reads and discards a track nobody listens to, so its packets do not pile up.
    pub(super) fn drain(&self, track: Arc<dyn TrackRemote>) {
        let token = self.token.clone();
        self.tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    ev = track.poll() => if ev.is_none() { break },
                }
            }
        });
    }

    pub(super) async fn apply_participant(&mut self, info: &proto::ParticipantInfo) {
        let changes = self.participants.apply(info);
        self.apply_changes(changes).await;
    }

    /// Turns participant changes into room events (closing the input when the caller left)
    /// and gives waiting tracks to their readers.
    pub(super) async fn apply_changes(&mut self, changes: Vec<ParticipantChange>) {
        for change in changes {
            match change {
                ParticipantChange::Joined(p) => {
                    tracing::info!(identity = %p.identity, role = ?p.role, "Participant joined.");
                    self.emit(RoomEvent::ParticipantJoined(p));
                }
                ParticipantChange::AttributesChanged(p) => {
                    self.emit(RoomEvent::AttributesChanged(p))
                }
                ParticipantChange::TracksChanged(_) => {}
                ParticipantChange::Left(p) => {
                    tracing::info!(identity = %p.identity, role = ?p.role, "Participant left.");
                    if p.role == ParticipantRole::Caller {
                        self.close_input().await;
                        self.emit(RoomEvent::CallerLeft(p.clone()));
                    }
                    self.emit(RoomEvent::ParticipantLeft(p));
                }
            }
        }
        self.attach_tracks().await;
    }

    /// Gives pending tracks to readers: the caller's to the decoder, others to a drain.
    pub(super) async fn attach_tracks(&mut self) {
        let pending = std::mem::take(&mut self.tracks);
        for (sid, hint, track) in pending {
            let owner = self
                .participants
                .owner_of_track(&sid)
                .or_else(|| self.participants.get(&hint))
                .map(|p| p.role);
            match owner {
                None => self.tracks.push((sid, hint, track)),
                Some(ParticipantRole::Caller) => self.read_caller(sid, track).await,
                Some(_) => self.drain(track),
            }
        }
    }

    pub(super) async fn take_sender(&mut self) -> Option<RingSender<AudioFrame>> {
        match std::mem::replace(&mut self.caller, CallerInput::Closed) {
            CallerInput::Idle(s) => Some(s),
            CallerInput::Reading { cancel, task, .. } => {
                cancel.cancel();
                task.await.ok()
            }
            CallerInput::Closed => None,
        }
    }

    pub(super) async fn read_caller(&mut self, track_sid: String, track: Arc<dyn TrackRemote>) {
        if let CallerInput::Reading {
            track_sid: cur,
            task,
            ..
        } = &self.caller
        {
            if *cur == track_sid && !task.is_finished() {
                return;
            }
        }
        let Some(sender) = self.take_sender().await else {
            self.drain(track);
            return;
        };
        let decoder = match InboundDecoder::new(self.opts.call_rate) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "No decoder for the caller's audio.");
                self.caller = CallerInput::Idle(sender);
                return;
            }
        };
        tracing::debug!(%track_sid, "Reading the caller's audio track.");
        let cancel = self.token.child_token();
        let task = tokio::spawn(bridge::read_track(track, decoder, sender, cancel.clone()));
        self.caller = CallerInput::Reading {
            track_sid,
            cancel,
            task,
        };
    }

    /// Closes the call's input (the caller left or the room is gone).
    pub(super) async fn close_input(&mut self) {
        drop(self.take_sender().await);
        self.caller = CallerInput::Closed;
    }
}
