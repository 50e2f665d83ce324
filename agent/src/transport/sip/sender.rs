//! The sending half of a call's media, as one actor per call: [`RtpSender::run`] owns the
//! outgoing RTP stream (SSRC, sequence numbers, timestamps, packet and octet counts) and
//! is the only writer of it. It sends the call's audio frames (G.711, from [`RtpOut`] through
//! a drop-oldest ring), RFC 4733 key presses on the same stream (audio is held back while a
//! key sounds), and every few seconds an RTCP report: SR while we send audio, else RR, with
//! a reception block built from the receiver's statistics.

use std::net::SocketAddr;
use std::sync::Arc;

use audio::SampleRate;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{interval, interval_at, Duration, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::dtmf::{DtmfError, DtmfSchedule, Key, Step, STEP_MS};
use super::media::{MediaParams, MediaStats};
use super::rtcp::{compound_report, ntp_from_unix_micros, Reception, ReportBlock, SenderInfo};
use super::rtp::RtpPacket;
use crate::media::{CallClock, RingReceiver, RingSender};
use crate::speaker::AudioOut;

const FRAME_MS: u64 = 20;
/// RTCP report interval (RFC 3550's minimum); the first report goes out after half of it.
pub const RTCP_INTERVAL: Duration = Duration::from_secs(5);

/// One frame of the agent's audio, due at call time `at_ms`.
pub struct OutFrame {
    pub samples: Vec<i16>,
    pub at_ms: u64,
}

/// A key sequence to send; the reply comes once the last key has been sent.
pub struct DtmfJob {
    pub keys: Vec<Key>,
    pub reply: oneshot::Sender<Result<(), DtmfError>>,
}

/// The outgoing RTP stream's numbering (RFC 3550 §5.1) and counters.
#[derive(Debug, Clone)]
pub struct RtpStream {
    pub ssrc: u32,
    seq: u16,
    timestamp: u32,
    /// Call time at which the next media would follow on without a gap.
    next_ms: Option<u64>,
    pub packets: u32,
    pub octets: u32,
}

impl RtpStream {
    pub fn new(seed: u64) -> Self {
        Self {
            ssrc: seed as u32,
            seq: (seed >> 32) as u16,
            timestamp: (seed >> 16) as u32,
            next_ms: None,
            packets: 0,
            octets: 0,
        }
    }

    /// Places `samples` of media due at `at_ms`: its RTP timestamp, and whether it starts
    /// a talkspurt (first media, or after a gap: the timestamp then jumps by the gap).
    pub fn place(&mut self, at_ms: u64, samples: u32) -> (u32, bool) {
        let mut marker = false;
        match self.next_ms {
            None => marker = true,
            Some(next) if at_ms > next + 2 * FRAME_MS => {
                self.timestamp = self.timestamp.wrapping_add(((at_ms - next) * 8) as u32);
                marker = true;
            }
            Some(_) => {}
        }
        self.next_ms = Some(at_ms.max(self.next_ms.unwrap_or(0)) + u64::from(samples) / 8);
        let ts = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(samples);
        (ts, marker)
    }

    /// The datagram of the next packet in sequence (and counts it).
    pub fn packet(&mut self, payload_type: u8, marker: bool, ts: u32, payload: Vec<u8>) -> Vec<u8> {
        let p = RtpPacket {
            payload_type,
            marker,
            seq: self.seq,
            timestamp: ts,
            ssrc: self.ssrc,
            payload,
        };
        self.seq = self.seq.wrapping_add(1);
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(p.payload.len() as u32);
        p.to_bytes()
    }

    /// The RTP timestamp that corresponds to call time `now_ms` (for SR sender info).
    pub fn timestamp_at(&self, now_ms: u64) -> u32 {
        match self.next_ms {
            Some(next) if now_ms >= next => {
                self.timestamp.wrapping_add(((now_ms - next) * 8) as u32)
            }
            Some(next) => self.timestamp.wrapping_sub(((next - now_ms) * 8) as u32),
            None => self.timestamp,
        }
    }
}

/// The call's [`AudioOut`]: hands 8 kHz frames to the sender actor without waiting.
pub struct RtpOut {
    frames: RingSender<OutFrame>,
}

impl RtpOut {
    pub fn new(frames: RingSender<OutFrame>) -> Self {
        Self { frames }
    }
}

impl AudioOut for RtpOut {
    fn rate(&self) -> SampleRate {
        SampleRate::HZ_8K
    }

    fn send(&mut self, samples: &[i16], at_ms: u64) {
        self.frames.push(OutFrame {
            samples: samples.to_vec(),
            at_ms,
        });
    }
}

/// Where and how a call's RTCP goes.
#[derive(Clone)]
pub struct RtcpPath {
    /// Our RTCP socket (RTP port + 1); `None` under rtcp-mux (the RTP socket is used).
    pub socket: Option<Arc<UdpSocket>>,
    /// The peer's RTCP port from `a=rtcp`, else RTP port + 1 (ignored under rtcp-mux).
    pub peer_port: Option<u16>,
    pub cname: String,
}

/// The sending actor of one call.
pub struct RtpSender {
    pub socket: Arc<UdpSocket>,
    pub rtcp: RtcpPath,
    /// The latched peer RTP address (see [`super::media::RtpReceiver`]).
    pub remote: watch::Receiver<SocketAddr>,
    pub params: MediaParams,
    pub frames: RingReceiver<OutFrame>,
    pub dtmf: mpsc::Receiver<DtmfJob>,
    /// Sending paused (the peer put the call on hold).
    pub muted: watch::Receiver<bool>,
    /// What the receiver measured, for our reception report block.
    pub stats: watch::Receiver<MediaStats>,
    pub clock: CallClock,
    pub stream: RtpStream,
    pub cancel: CancellationToken,
}

struct Keying {
    steps: DtmfSchedule,
    /// The current event's timestamp while a key sounds.
    event_ts: Option<u32>,
    reply: oneshot::Sender<Result<(), DtmfError>>,
}

impl RtpSender {
    pub async fn run(mut self) {
        let mut keying: Option<Keying> = None;
        let mut dtmf_open = true;
        let mut frames_open = true;
        let mut key_tick = interval(Duration::from_millis(STEP_MS));
        key_tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut rtcp_tick = interval_at(Instant::now() + RTCP_INTERVAL / 2, RTCP_INTERVAL);
        let mut reported = Reception::default();
        let mut sent_at_last_report = self.stream.packets;
        loop {
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break,
                _ = key_tick.tick(), if keying.is_some() => {
                    if let Some(k) = keying.as_mut() {
                        if !self.key_step(k) {
                            if let Some(k) = keying.take() {
                                let _ = k.reply.send(Ok(()));
                            }
                        }
                    }
                }
                job = self.dtmf.recv(), if keying.is_none() && dtmf_open => match job {
                    Some(job) => {
                        keying = Some(Keying {
                            steps: DtmfSchedule::new(job.keys),
                            event_ts: None,
                            reply: job.reply,
                        });
                        key_tick.reset_immediately();
                    }
                    None => dtmf_open = false,
                },
                f = self.frames.recv(), if frames_open => match f {
                    Some(f) if keying.as_ref().is_some_and(|k| k.event_ts.is_some()) => drop(f),
                    Some(f) => self.send_audio(&f),
                    None => frames_open = false,
                },
                _ = rtcp_tick.tick() => {
                    let sending = self.stream.packets != sent_at_last_report;
                    sent_at_last_report = self.stream.packets;
                    reported = self.send_report(&reported, sending);
                }
            }
        }
        if let Some(k) = keying {
            let _ = k.reply.send(Err(DtmfError::CallEnded));
        }
    }

    fn send_to_peer(&self, bytes: &[u8]) {
        let to = *self.remote.borrow();
        if let Err(e) = self.socket.try_send_to(bytes, to) {
            tracing::trace!(error = %e, "RTP packet not sent");
        }
    }

    fn send_audio(&mut self, f: &OutFrame) {
        let (ts, marker) = self.stream.place(f.at_ms, f.samples.len() as u32);
        if *self.muted.borrow() {
            return;
        }
        let payload = self.params.law.encode(&f.samples);
        let bytes = self
            .stream
            .packet(self.params.payload_type, marker, ts, payload);
        self.send_to_peer(&bytes);
    }

    /// Sends the next step of a key sequence; false when the sequence is done.
    fn key_step(&mut self, k: &mut Keying) -> bool {
        let Some(step) = k.steps.next() else {
            return false;
        };
        let (Step::Event { event, marker }, Some(pt)) = (step, self.params.dtmf_pt) else {
            k.event_ts = None;
            return true;
        };
        let (ts, _) = self.stream.place(self.clock.now_ms(), (STEP_MS * 8) as u32);
        let event_ts = if marker { ts } else { k.event_ts.unwrap_or(ts) };
        k.event_ts = Some(event_ts);
        if !*self.muted.borrow() {
            let bytes = self
                .stream
                .packet(pt, marker, event_ts, event.to_bytes().to_vec());
            self.send_to_peer(&bytes);
        }
        true
    }

    /// Sends one compound report; returns the reception state it reported up to.
    fn send_report(&self, prev: &Reception, sending: bool) -> Reception {
        let stats = self.stats.borrow().clone();
        let block = stats.reception.has_packets().then(|| {
            let last_sr = stats
                .last_sr
                .map(|(ntp, at)| (ntp, at.elapsed().as_secs_f64()));
            ReportBlock::between(prev, &stats.reception, last_sr)
        });
        let info = sending.then(|| SenderInfo {
            ntp: ntp_now(),
            rtp_timestamp: self.stream.timestamp_at(self.clock.now_ms()),
            packets: self.stream.packets,
            octets: self.stream.octets,
        });
        let bytes = compound_report(self.stream.ssrc, info, block.as_ref(), &self.rtcp.cname);
        let remote = *self.remote.borrow();
        let sent = match (&self.rtcp.socket, self.params.rtcp_mux) {
            (Some(s), false) => {
                let port = self.rtcp.peer_port.unwrap_or(remote.port().wrapping_add(1));
                s.try_send_to(&bytes, SocketAddr::new(remote.ip(), port))
            }
            _ => self.socket.try_send_to(&bytes, remote),
        };
        if let Err(e) = sent {
            tracing::trace!(error = %e, "RTCP report not sent");
        }
        stats.reception
    }
}

/// The wall clock as an NTP timestamp.
pub fn ntp_now() -> u64 {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    ntp_from_unix_micros(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_follow_frames_and_jump_over_gaps() {
        let mut s = RtpStream::new(0);
        assert_eq!(s.place(0, 160), (0, true));
        assert_eq!(s.place(20, 160), (160, false));
        // A 1 s silence: the timestamp skips it and the marker starts the talkspurt.
        assert_eq!(s.place(1040, 160), (320 + 8000, true));
        assert_eq!(s.timestamp_at(1060), 320 + 8000 + 160);
        let bytes = s.packet(0, false, 7, vec![1, 2]);
        let p = RtpPacket::parse(&bytes).unwrap();
        assert_eq!((p.timestamp, p.seq, s.packets, s.octets), (7, 0, 1, 2));
    }
}
