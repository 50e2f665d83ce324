//! RTP ↔ CallMedia: the bridge between a SIP call's UDP media socket and the turn engine.
//! Inbound, [`RtpReceiver::run`] orders packets in a jitter buffer, decodes G.711 every 20 ms
//! (silence when a packet is lost), pushes 8 kHz frames into the call's drop-oldest ring and
//! hands RFC 4733 key presses to the call; it ends when the call is cancelled or no RTP has
//! arrived for the configured time. Outbound, [`RtpOut`] is the call's [`AudioOut`]: it
//! encodes each frame and sends it at once to the latched (symmetric RTP) peer address.

use std::net::SocketAddr;
use std::sync::Arc;

use audio::{AudioFrame, G711Law, JitterBuffer, JitterConfig, JitterStats, Playout, SampleRate};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::{interval, Duration, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::rtp::{DtmfTracker, RtpPacket};
use crate::media::RingSender;
use crate::speaker::AudioOut;

const FRAME_MS: u64 = 20;
const FRAME_SAMPLES: usize = 160;

/// What was agreed for one call's audio.
#[derive(Debug, Clone, Copy)]
pub struct MediaParams {
    pub law: G711Law,
    pub payload_type: u8,
    pub dtmf_pt: Option<u8>,
    pub no_rtp_timeout: Duration,
}

/// Why the receiver stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEnd {
    Cancelled,
    NoRtp,
    SocketFailed,
}

/// The inbound half of a call's media.
pub struct RtpReceiver {
    pub socket: Arc<UdpSocket>,
    pub params: MediaParams,
    /// Decoded caller audio; dropped when `run` returns, which closes the call's input.
    pub frames: RingSender<AudioFrame>,
    /// Key presses for the call; a full channel drops the digit (logged).
    pub dtmf: mpsc::Sender<char>,
    /// Latched peer address for [`RtpOut`]: updated to the source of received audio.
    pub remote: watch::Sender<SocketAddr>,
    /// Cancelled by the endpoint when the call ends for any other reason.
    pub cancel: CancellationToken,
}

impl RtpReceiver {
    /// Receives until cancelled or until no RTP arrives for `no_rtp_timeout`. Returns the
    /// frame sender too, so the caller can keep the call's input open until the end cause is
    /// recorded.
    pub async fn run(self) -> (MediaEnd, JitterStats, RingSender<AudioFrame>) {
        let start = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let mut dtmf = DtmfTracker::default();
        let mut tick = interval(Duration::from_millis(FRAME_MS));
        tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut last_rx = start;
        let mut buf = vec![0u8; 2048];
        let mut pcm = Vec::with_capacity(FRAME_SAMPLES);
        let mut last_frame: Option<Vec<i16>> = None;
        let end = loop {
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break MediaEnd::Cancelled,
                _ = tick.tick() => {
                    let now = Instant::now();
                    if now.duration_since(last_rx) >= self.params.no_rtp_timeout {
                        break MediaEnd::NoRtp;
                    }
                    let now_ms = now.duration_since(start).as_millis() as u64;
                    match jb.pop(now_ms) {
                        Some(Playout::Packet { payload, .. }) => {
                            self.params.law.decode_into(&payload, &mut pcm);
                            last_frame = Some(pcm.clone());
                            self.frames.push(AudioFrame::new(pcm.clone(), SampleRate::HZ_8K));
                        }
                        Some(Playout::Conceal { .. }) => {
                            // One lost packet: repeat the last frame at half level; then silence.
                            let frame = match last_frame.take() {
                                Some(f) => f.iter().map(|s| s / 2).collect(),
                                None => vec![0; FRAME_SAMPLES],
                            };
                            self.frames.push(AudioFrame::new(frame, SampleRate::HZ_8K));
                        }
                        None => {}
                    }
                }
                r = self.socket.recv_from(&mut buf) => {
                    let (n, from) = match r {
                        Ok(v) => v,
                        // ICMP port unreachable from a peer that went away surfaces here.
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => continue,
                        Err(e) => {
                            tracing::warn!(error = %e, "RTP socket failed");
                            break MediaEnd::SocketFailed;
                        }
                    };
                    let Some(p) = RtpPacket::parse(&buf[..n]) else { continue };
                    let now = Instant::now();
                    if p.payload_type == self.params.payload_type {
                        last_rx = now;
                        self.remote.send_if_modified(|r| std::mem::replace(r, from) != from);
                        let at = now.duration_since(start).as_millis() as u64;
                        jb.push(p.seq, p.timestamp, at, p.payload);
                    } else if Some(p.payload_type) == self.params.dtmf_pt {
                        last_rx = now;
                        if let Some(digit) = dtmf.push(p.timestamp, &p.payload) {
                            tracing::debug!(%digit, "DTMF received over RTP");
                            if self.dtmf.try_send(digit).is_err() {
                                tracing::warn!("DTMF digit dropped: the call is not reading them");
                            }
                        }
                    }
                }
            }
        };
        (end, jb.stats(), self.frames)
    }
}

/// The outbound half: the call's [`AudioOut`] at 8 kHz.
pub struct RtpOut {
    socket: Arc<UdpSocket>,
    remote: watch::Receiver<SocketAddr>,
    law: G711Law,
    payload_type: u8,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    /// Call time at which the next frame would follow on without a gap.
    next_ms: Option<u64>,
    /// Sending paused (the peer put the call on hold).
    muted: watch::Receiver<bool>,
}

impl RtpOut {
    pub fn new(
        socket: Arc<UdpSocket>,
        remote: watch::Receiver<SocketAddr>,
        params: &MediaParams,
        muted: watch::Receiver<bool>,
        seed: u64,
    ) -> Self {
        Self {
            socket,
            remote,
            law: params.law,
            payload_type: params.payload_type,
            ssrc: seed as u32,
            seq: (seed >> 32) as u16,
            timestamp: (seed >> 16) as u32,
            next_ms: None,
            muted,
        }
    }
}

impl AudioOut for RtpOut {
    fn rate(&self) -> SampleRate {
        SampleRate::HZ_8K
    }

    fn send(&mut self, samples: &[i16], at_ms: u64) {
        let mut marker = false;
        match self.next_ms {
            None => marker = true,
            Some(next) if at_ms > next + 2 * FRAME_MS => {
                // A silent gap: advance the timestamp by the gap and mark the talkspurt.
                self.timestamp = self.timestamp.wrapping_add(((at_ms - next) * 8) as u32);
                marker = true;
            }
            Some(_) => {}
        }
        self.next_ms = Some(at_ms.max(self.next_ms.unwrap_or(0)) + samples.len() as u64 / 8);
        if *self.muted.borrow() {
            self.timestamp = self.timestamp.wrapping_add(samples.len() as u32);
            return;
        }
        let packet = RtpPacket {
            payload_type: self.payload_type,
            marker,
            seq: self.seq,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
            payload: self.law.encode(samples),
        };
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(samples.len() as u32);
        let to = *self.remote.borrow();
        if let Err(e) = self.socket.try_send_to(&packet.to_bytes(), to) {
            tracing::trace!(error = %e, "RTP frame not sent");
        }
    }
}
