//! RTP fan-out: one publication's packets to every subscriber.
//!
//! A remote subscriber gets the packet rewritten for its own outgoing track (its SSRC, the
//! Opus payload type negotiated here, header extensions stripped because their ids were
//! negotiated with the publisher, not with the subscriber). A simulated participant gets the
//! packet as is and decodes it.

use std::sync::{Arc, Mutex};

use rtc::rtp;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;

use crate::sim::SimInbox;

/// The Opus payload type every PeerConnection here registers.
pub(crate) const OPUS_PAYLOAD_TYPE: u8 = 111;

/// Where a subscriber's copy goes.
#[derive(Clone)]
pub(crate) enum Sink {
    /// An outgoing track on a subscriber PeerConnection, with its SSRC.
    Rtp(Arc<TrackLocalStaticRTP>, u32),
    /// A simulated participant, with the publication's track sid.
    Sim(Arc<SimInbox>, String),
}

/// A publication's subscribers, by identity.
#[derive(Default)]
pub(crate) struct Fanout {
    sinks: Mutex<Vec<(String, Sink)>>,
}

impl Fanout {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, Sink)>> {
        self.sinks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds (or replaces) a subscriber's sink.
    pub fn add(&self, identity: String, sink: Sink) {
        let mut sinks = self.lock();
        sinks.retain(|(i, _)| *i != identity);
        sinks.push((identity, sink));
    }

    /// Removes a subscriber.
    pub fn remove_subscriber(&self, identity: &str) {
        self.lock().retain(|(i, _)| i != identity);
    }

    /// Removes and returns every subscriber.
    pub fn take_all(&self) -> Vec<(String, Sink)> {
        std::mem::take(&mut *self.lock())
    }

    /// Sends one packet to every subscriber.
    pub async fn forward(&self, packet: &rtp::Packet) {
        let sinks: Vec<Sink> = self.lock().iter().map(|(_, s)| s.clone()).collect();
        for sink in sinks {
            match sink {
                Sink::Rtp(track, ssrc) => {
                    let mut copy = packet.clone();
                    copy.header.ssrc = ssrc;
                    copy.header.payload_type = OPUS_PAYLOAD_TYPE;
                    copy.header.extension = false;
                    copy.header.extensions.clear();
                    copy.header.extensions_padding = 0;
                    copy.header.extension_profile = 0;
                    // Before the subscriber's negotiation completes the track is unbound and
                    // refuses packets: those are simply not heard, as on a real SFU.
                    let _ = track.write_rtp(copy).await;
                }
                Sink::Sim(inbox, track_sid) => inbox.push_rtp(&track_sid, packet),
            }
        }
    }
}
