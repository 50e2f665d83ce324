//! Opus 48 kHz RTP ⇄ the call's PCM frames. Two pure cores and their thin tasks:
//!
//! - [`InboundDecoder`]: RTP payloads of the caller's track → Opus decode (libopus
//!   concealment for up to [`MAX_CONCEAL`] lost packets, late packets dropped) → resample to
//!   the call rate → 20 ms [`AudioFrame`]s; [`read_track`] feeds it from a remote track into
//!   the call's drop-oldest input ring.
//! - [`OutboundEncoder`]: the agent's frames at the call rate (from [`LiveKitOut`]) →
//!   resample to 48 kHz → 20 ms Opus packets stamped from call time; [`run_sender`] writes
//!   them as RTP to whichever published track is current (a full reconnect republishes).

use std::sync::Arc;

use audio::codec::opus::{OpusDecoder, OpusEncoder, FRAME_SAMPLES};
use audio::{AudioFrame, OpusConfig, Resampler, SampleRate};
use bytes::Bytes;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use super::LiveKitError;
use crate::media::{CallClock, RingReceiver, RingSender};
use crate::speaker::AudioOut;

/// Lost packets filled by concealment; a longer gap is skipped (the sender paused or DTX).
pub const MAX_CONCEAL: u16 = 5;
/// RTP clock ticks per ms for Opus.
const TICKS_PER_MS: u32 = 48;

fn audio_err(e: impl std::fmt::Display) -> LiveKitError {
    LiveKitError::Audio(e.to_string())
}

fn resampler(from: SampleRate, to: SampleRate) -> Result<Option<Resampler>, LiveKitError> {
    if from == to {
        return Ok(None);
    }
    Resampler::new(from, to).map(Some).map_err(audio_err)
}

/// Decodes one remote Opus stream into frames at the call rate.
pub struct InboundDecoder {
    decoder: OpusDecoder,
    resampler: Option<Resampler>,
    rate: SampleRate,
    last_seq: Option<u16>,
    pending: Vec<i16>,
    /// Packets concealed so far.
    pub concealed: u64,
    /// Late or duplicate packets dropped so far.
    pub late: u64,
}

impl InboundDecoder {
    /// # Errors
    /// [`LiveKitError::Audio`] when the codec or resampler cannot be created.
    pub fn new(call_rate: SampleRate) -> Result<Self, LiveKitError> {
        Ok(Self {
            decoder: OpusDecoder::new().map_err(audio_err)?,
            resampler: resampler(SampleRate::HZ_48K, call_rate)?,
            rate: call_rate,
            last_seq: None,
            pending: Vec::new(),
            concealed: 0,
            late: 0,
        })
    }

    /// Takes one RTP packet's sequence number and payload; returns the whole 20 ms frames
    /// now complete.
    pub fn push(&mut self, seq: u16, payload: &[u8]) -> Vec<AudioFrame> {
        let mut pcm48 = Vec::new();
        if let Some(last) = self.last_seq {
            let gap = seq.wrapping_sub(last.wrapping_add(1));
            if gap >= 0x8000 {
                self.late += 1;
                return Vec::new();
            }
            if gap > 0 && gap <= MAX_CONCEAL {
                for _ in 0..gap {
                    if let Ok(c) = self.decoder.conceal() {
                        pcm48.extend_from_slice(&c);
                        self.concealed += 1;
                    }
                }
            }
        }
        self.last_seq = Some(seq);
        match self.decoder.decode(payload) {
            Ok(p) => pcm48.extend_from_slice(&p),
            Err(e) => tracing::debug!(error = %e, "Opus packet not decodable."),
        }
        let pcm = match &mut self.resampler {
            Some(r) => r.process(&pcm48),
            None => pcm48,
        };
        self.pending.extend_from_slice(&pcm);
        let frame = self.rate.samples_for_ms(20);
        let mut out = Vec::new();
        while self.pending.len() >= frame {
            let rest = self.pending.split_off(frame);
            let samples = std::mem::replace(&mut self.pending, rest);
            out.push(AudioFrame::new(samples, self.rate));
        }
        out
    }
}

/// Reads a remote audio track into `frames` until the track ends or `cancel` fires; returns
/// the ring sender so the room can hand it to the caller's next track.
pub async fn read_track(
    track: Arc<dyn TrackRemote>,
    mut decoder: InboundDecoder,
    frames: RingSender<AudioFrame>,
    cancel: CancellationToken,
) -> RingSender<AudioFrame> {
    loop {
        let ev = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            ev = track.poll() => ev,
        };
        match ev {
            Some(TrackRemoteEvent::OnRtpPacket(p)) => {
                if p.payload.is_empty() {
                    continue;
                }
                for f in decoder.push(p.header.sequence_number, &p.payload) {
                    frames.push(f);
                }
            }
            Some(TrackRemoteEvent::OnEnded) | None => break,
            Some(_) => {}
        }
    }
    tracing::debug!(
        concealed = decoder.concealed,
        late = decoder.late,
        "Caller track reader stopped."
    );
    frames
}

/// One frame of agent audio at the call rate, due at call time `at_ms`.
#[derive(Debug, Clone)]
pub struct OutFrame {
    pub samples: Vec<i16>,
    pub at_ms: u64,
}

/// The call's [`AudioOut`]: hands frames to [`run_sender`] without waiting.
pub struct LiveKitOut {
    rate: SampleRate,
    frames: RingSender<OutFrame>,
}

impl LiveKitOut {
    pub fn new(rate: SampleRate, frames: RingSender<OutFrame>) -> Self {
        Self { rate, frames }
    }
}

impl AudioOut for LiveKitOut {
    fn rate(&self) -> SampleRate {
        self.rate
    }

    fn send(&mut self, samples: &[i16], at_ms: u64) {
        self.frames.push(OutFrame {
            samples: samples.to_vec(),
            at_ms,
        });
    }
}

/// One encoded packet: its call time and Opus payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusPacket {
    pub at_ms: u64,
    /// First packet after a pause (RTP marker bit).
    pub marker: bool,
    pub payload: Vec<u8>,
}

/// Encodes the agent's frames into 20 ms Opus packets.
pub struct OutboundEncoder {
    encoder: OpusEncoder,
    resampler: Option<Resampler>,
    pending: Vec<i16>,
    /// Call time of `pending[0]`.
    pending_ms: Option<u64>,
    /// Call time the next packet is expected at (None after a pause).
    next_ms: Option<u64>,
}

impl OutboundEncoder {
    /// # Errors
    /// [`LiveKitError::Audio`] when the codec or resampler cannot be created.
    pub fn new(call_rate: SampleRate) -> Result<Self, LiveKitError> {
        Ok(Self {
            encoder: OpusEncoder::new(OpusConfig::default()).map_err(audio_err)?,
            resampler: resampler(call_rate, SampleRate::HZ_48K)?,
            pending: Vec::new(),
            pending_ms: None,
            next_ms: None,
        })
    }

    /// Takes one frame due at `at_ms`; returns the packets now complete.
    pub fn push(&mut self, samples: &[i16], at_ms: u64) -> Vec<OpusPacket> {
        let mut out = Vec::new();
        // A frame far later than the buffered audio runs on: finish what is buffered first.
        if let Some(start) = self.pending_ms {
            let buffered_ms = (self.pending.len() / 48) as u64;
            if at_ms > start + buffered_ms + 40 {
                self.flush_into(&mut out);
            }
        }
        let pcm = match &mut self.resampler {
            Some(r) => r.process(samples),
            None => samples.to_vec(),
        };
        if self.pending.is_empty() {
            self.pending_ms = Some(at_ms);
        }
        self.pending.extend_from_slice(&pcm);
        while self.pending.len() >= FRAME_SAMPLES {
            let rest = self.pending.split_off(FRAME_SAMPLES);
            let frame = std::mem::replace(&mut self.pending, rest);
            let at = self.pending_ms.unwrap_or(at_ms);
            self.emit(&frame, at, &mut out);
            self.pending_ms = Some(at + 20);
        }
        if self.pending.is_empty() {
            self.pending_ms = None;
        }
        out
    }

    /// Pads and encodes what is buffered (end of an utterance).
    pub fn flush(&mut self) -> Vec<OpusPacket> {
        let mut out = Vec::new();
        self.flush_into(&mut out);
        out
    }

    fn flush_into(&mut self, out: &mut Vec<OpusPacket>) {
        if self.pending.is_empty() {
            return;
        }
        let mut frame = std::mem::take(&mut self.pending);
        frame.resize(FRAME_SAMPLES, 0);
        let at = self.pending_ms.take().unwrap_or(0);
        self.emit(&frame, at, out);
    }

    fn emit(&mut self, frame: &[i16], at_ms: u64, out: &mut Vec<OpusPacket>) {
        let marker = self.next_ms != Some(at_ms);
        self.next_ms = Some(at_ms + 20);
        match self.encoder.encode(frame) {
            Ok(payload) => out.push(OpusPacket {
                at_ms,
                marker,
                payload,
            }),
            Err(e) => tracing::warn!(error = %e, "Opus encoding failed; frame dropped."),
        }
    }
}

/// Where encoded audio goes: the published track and what negotiation agreed for it.
#[derive(Clone)]
pub struct Publication {
    pub track: Arc<TrackLocalStaticRTP>,
    pub ssrc: u32,
    pub payload_type: u8,
}

/// Encodes the agent's frames and writes them to the current publication, paced by the
/// call clock (a packet is never sent before its call time). Ends when the output ring
/// closes (the call's playout is gone) or `cancel` fires. Audio produced while nothing is
/// published is dropped.
pub async fn run_sender(
    mut frames: RingReceiver<OutFrame>,
    mut encoder: OutboundEncoder,
    publication: watch::Receiver<Option<Publication>>,
    clock: CallClock,
    cancel: CancellationToken,
) {
    let mut seq: u16 = rand_u16();
    let ts_base: u32 = u32::from(rand_u16()) << 16;
    let mut sent = 0u64;
    loop {
        let frame = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            f = frames.recv() => f,
        };
        let Some(frame) = frame else { break };
        for packet in encoder.push(&frame.samples, frame.at_ms) {
            tokio::time::sleep_until(clock.instant_at(packet.at_ms)).await;
            let Some(p) = publication.borrow().clone() else {
                continue;
            };
            let rtp = rtc::rtp::Packet {
                header: rtc::rtp::Header {
                    version: 2,
                    marker: packet.marker,
                    payload_type: p.payload_type,
                    sequence_number: seq,
                    timestamp: ts_base
                        .wrapping_add((packet.at_ms as u32).wrapping_mul(TICKS_PER_MS)),
                    ssrc: p.ssrc,
                    ..Default::default()
                },
                payload: Bytes::from(packet.payload),
            };
            seq = seq.wrapping_add(1);
            match p.track.write_rtp(rtp).await {
                Ok(()) => sent += 1,
                Err(e) => tracing::debug!(error = %e, "RTP write failed (track not bound yet?)."),
            }
        }
    }
    tracing::debug!(sent, "Agent audio sender stopped.");
}

fn rand_u16() -> u16 {
    (uuid::Uuid::new_v4().as_u128() & 0xffff) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use audio::level::dbfs;

    fn tone(rate: SampleRate, ms: u32, hz: f32) -> Vec<i16> {
        let n = rate.samples_for_ms(ms);
        (0..n)
            .map(|i| {
                let t = i as f32 / rate.hz() as f32;
                (8000.0 * (2.0 * std::f32::consts::PI * hz * t).sin()) as i16
            })
            .collect()
    }

    #[test]
    fn agent_audio_round_trips_through_opus_at_the_call_rate() {
        let rate = SampleRate::HZ_16K;
        let mut enc = OutboundEncoder::new(rate).unwrap();
        let mut dec = InboundDecoder::new(rate).unwrap();
        let audio = tone(rate, 1000, 440.0);
        let mut packets = Vec::new();
        for (i, chunk) in audio.chunks(rate.samples_for_ms(20)).enumerate() {
            packets.extend(enc.push(chunk, i as u64 * 20));
        }
        packets.extend(enc.flush());
        assert!(
            (49..=51).contains(&packets.len()),
            "{} packets",
            packets.len()
        );
        assert!(packets[0].marker && !packets[1].marker);
        assert_eq!(packets[1].at_ms - packets[0].at_ms, 20);
        let mut frames = Vec::new();
        for (i, p) in packets.iter().enumerate() {
            frames.extend(dec.push(i as u16, &p.payload));
        }
        let pcm: Vec<i16> = frames.iter().flat_map(|f| f.samples.clone()).collect();
        assert!(frames.iter().all(|f| f.samples.len() == 320));
        let steady = &pcm[pcm.len() / 4..pcm.len() * 3 / 4];
        assert!(dbfs(steady) > -20.0, "decoded level {} dBFS", dbfs(steady));
    }

    #[test]
    fn losses_are_concealed_and_late_packets_dropped() {
        let rate = SampleRate::HZ_48K;
        let mut enc = OutboundEncoder::new(rate).unwrap();
        let mut dec = InboundDecoder::new(rate).unwrap();
        let audio = tone(rate, 200, 300.0);
        let packets: Vec<_> = audio
            .chunks(960)
            .enumerate()
            .flat_map(|(i, c)| enc.push(c, i as u64 * 20))
            .collect();
        let mut n = 0;
        n += dec.push(0, &packets[0].payload).len();
        n += dec.push(3, &packets[3].payload).len(); // 1 and 2 lost
        n += dec.push(2, &packets[2].payload).len(); // late
        assert_eq!(dec.concealed, 2);
        assert_eq!(dec.late, 1);
        assert_eq!(n, 4, "two decoded frames and two concealed ones");
    }

    #[test]
    fn a_pause_sets_the_marker_and_keeps_call_time() {
        let rate = SampleRate::HZ_48K;
        let mut enc = OutboundEncoder::new(rate).unwrap();
        let a = enc.push(&tone(rate, 20, 500.0), 0);
        let b = enc.push(&tone(rate, 20, 500.0), 1000);
        assert_eq!((a[0].at_ms, a[0].marker), (0, true));
        assert_eq!((b[0].at_ms, b[0].marker), (1000, true));
    }
}
