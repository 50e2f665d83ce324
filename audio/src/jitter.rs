//! RTP jitter buffer: reorders 20 ms packets and paces them out at a steady rhythm.
//!
//! Sits between the RTP socket and the codec on the inbound side of SIP and WebRTC calls. The
//! transport pushes every received packet with its arrival time; a 20 ms playout tick calls
//! [`JitterBuffer::pop`], which returns the next packet in sequence order, or asks for
//! concealment when that packet is missing (the caller chooses Opus PLC/FEC or silence), or
//! nothing while it is (re)filling. The target depth adapts to the interarrival jitter
//! estimated as in RFC 3550 §6.4.1, between `min_depth_ms` and `max_depth_ms`. Pure: all
//! times are passed in; there is no clock inside.

use std::collections::BTreeMap;

/// Jitter buffer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitterConfig {
    /// Audio per packet (20 ms).
    pub frame_ms: u32,
    /// RTP timestamp clock rate (8000 for G.711, 48000 for Opus).
    pub clock_rate: u32,
    /// Lowest target depth.
    pub min_depth_ms: u32,
    /// Highest target depth; also bounds how much the buffer holds (×2).
    pub max_depth_ms: u32,
    /// Consecutive concealed frames on an empty buffer before it goes back to filling.
    pub max_conceal_run: u32,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            frame_ms: 20,
            clock_rate: 8000,
            min_depth_ms: 40,
            max_depth_ms: 200,
            max_conceal_run: 10,
        }
    }
}

/// What the playout tick gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// The next packet, in order.
    Packet {
        /// RTP sequence number.
        seq: u16,
        /// RTP timestamp.
        timestamp: u32,
        /// Encoded payload.
        payload: Vec<u8>,
    },
    /// The packet for this slot is missing: play concealment (codec PLC, or silence).
    Conceal {
        /// Sequence number of the missing packet (or of the one awaited, on underrun).
        seq: u16,
        /// Payload of the following packet when already buffered (Opus in-band FEC source).
        next_payload: Option<Vec<u8>>,
    },
}

/// How [`JitterBuffer::push`] treated a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Buffered for playout.
    Accepted,
    /// Already buffered or already played: dropped.
    Duplicate,
    /// Its playout slot has passed: dropped.
    Late,
    /// Accepted; the buffer was full so the oldest packet was dropped.
    Overflow,
}

/// Counters since creation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets accepted.
    pub received: u64,
    /// Packets arriving after their slot was played or concealed.
    pub late: u64,
    /// Sequence numbers that were never received by their playout slot.
    pub lost: u64,
    /// Duplicate packets dropped.
    pub duplicate: u64,
    /// `Conceal` outputs (loss plus underrun).
    pub concealed: u64,
    /// Packets dropped because the buffer was full or deeper than its target.
    pub dropped: u64,
    /// Times the buffer ran dry and went back to filling.
    pub underruns: u64,
    /// Times a sequence jump of seconds made the buffer start over.
    pub resyncs: u64,
}

#[derive(Debug, Clone)]
struct Buffered {
    timestamp: u32,
    payload: Vec<u8>,
}

/// The jitter buffer. Sequence numbers are unwrapped to 64 bits internally, so u16 wraparound
/// is transparent.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    config: JitterConfig,
    packets: BTreeMap<u64, Buffered>,
    /// Highest extended sequence number seen (the unwrapping reference).
    highest: Option<u64>,
    /// Next extended sequence number to play; None until playout first starts.
    next: Option<u64>,
    /// False while filling (at start and after an underrun).
    playing: bool,
    /// Bit i set = `next - 1 - i` was played (used to tell duplicates from late packets).
    played: u64,
    /// When the first packet of the current fill arrived.
    fill_started_ms: Option<u64>,
    conceal_run: u32,
    /// RFC 3550 interarrival jitter estimate, in ms.
    jitter_ms: f64,
    /// Previous (arrival_ms, timestamp) for the jitter estimate.
    last_transit: Option<(u64, u32)>,
    stats: JitterStats,
}

impl JitterBuffer {
    /// An empty buffer. Zero values in `config` are raised to sane minimums.
    pub fn new(config: JitterConfig) -> Self {
        let config = JitterConfig {
            frame_ms: config.frame_ms.max(1),
            clock_rate: config.clock_rate.max(1),
            max_depth_ms: config
                .max_depth_ms
                .max(config.min_depth_ms)
                .max(config.frame_ms),
            ..config
        };
        Self {
            config,
            packets: BTreeMap::new(),
            highest: None,
            next: None,
            playing: false,
            played: 0,
            fill_started_ms: None,
            conceal_run: 0,
            jitter_ms: 0.0,
            last_transit: None,
            stats: JitterStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Current interarrival jitter estimate in ms.
    pub fn jitter_ms(&self) -> f64 {
        self.jitter_ms
    }

    /// Current target depth in ms: `min_depth_ms` + 3 × jitter, rounded up to whole frames and
    /// capped at `max_depth_ms`.
    pub fn target_depth_ms(&self) -> u32 {
        let frame = f64::from(self.config.frame_ms);
        let want = f64::from(self.config.min_depth_ms) + 3.0 * self.jitter_ms;
        let frames = (want / frame).ceil();
        ((frames * frame) as u32).clamp(self.config.min_depth_ms, self.config.max_depth_ms)
    }

    /// Packets currently held.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// True when no packet is held.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Most packets held at once (twice the maximum depth).
    pub fn capacity(&self) -> usize {
        (2 * self.config.max_depth_ms / self.config.frame_ms).max(4) as usize
    }

    fn unwrap_seq(&self, seq: u16) -> u64 {
        match self.highest {
            None => u64::from(seq) + (1 << 16),
            Some(h) => {
                let diff = i64::from(seq.wrapping_sub(h as u16) as i16);
                (h as i64 + diff).max(0) as u64
            }
        }
    }

    /// Offers a received packet. `arrival_ms` is the receive time on any monotonic clock.
    pub fn push(
        &mut self,
        seq: u16,
        timestamp: u32,
        arrival_ms: u64,
        payload: Vec<u8>,
    ) -> PushOutcome {
        let mut ext = self.unwrap_seq(seq);
        if let Some(next) = self.next {
            if ext >= next + 8 * self.capacity() as u64 || next >= ext + 8 * self.capacity() as u64
            {
                // A jump of seconds: the sender restarted its stream. Start over.
                self.restart();
                ext = self.unwrap_seq(seq);
            } else if ext < next {
                let age = next - ext - 1;
                if age < 64 && self.played & (1 << age) != 0 {
                    self.stats.duplicate += 1;
                    return PushOutcome::Duplicate;
                }
                self.update_jitter(arrival_ms, timestamp);
                self.stats.late += 1;
                return PushOutcome::Late;
            }
        }
        if self.packets.contains_key(&ext) {
            self.stats.duplicate += 1;
            return PushOutcome::Duplicate;
        }
        self.update_jitter(arrival_ms, timestamp);
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        self.fill_started_ms.get_or_insert(arrival_ms);
        self.packets.insert(ext, Buffered { timestamp, payload });
        self.stats.received += 1;
        if self.packets.len() > self.capacity() {
            if let Some((first, _)) = self.packets.pop_first() {
                self.stats.dropped += 1;
                if self.next.is_some_and(|n| first >= n) {
                    self.advance_to(first + 1, false);
                }
            }
            return PushOutcome::Overflow;
        }
        PushOutcome::Accepted
    }

    fn restart(&mut self) {
        self.packets.clear();
        self.highest = None;
        self.next = None;
        self.playing = false;
        self.played = 0;
        self.fill_started_ms = None;
        self.conceal_run = 0;
        self.last_transit = None;
        self.stats.resyncs += 1;
    }

    fn update_jitter(&mut self, arrival_ms: u64, timestamp: u32) {
        if let Some((prev_arrival, prev_ts)) = self.last_transit {
            let ts_ms = f64::from(timestamp.wrapping_sub(prev_ts) as i32) * 1000.0
                / f64::from(self.config.clock_rate);
            let d = (arrival_ms as f64 - prev_arrival as f64) - ts_ms;
            // Ignore absurd jumps (stream restarts, clock resets) rather than poisoning J.
            if d.abs() < 10_000.0 {
                self.jitter_ms += (d.abs() - self.jitter_ms) / 16.0;
            }
        }
        self.last_transit = Some((arrival_ms, timestamp));
    }

    /// The playout tick: call once per `frame_ms`. Returns `None` while the buffer is filling
    /// (play nothing or comfort noise).
    pub fn pop(&mut self, now_ms: u64) -> Option<Playout> {
        if !self.playing && !self.start_playout(now_ms) {
            return None;
        }
        let mut next = self.next?;
        self.trim_excess(&mut next);
        if let Some(p) = self.packets.remove(&next) {
            self.conceal_run = 0;
            self.advance_to(next + 1, true);
            return Some(Playout::Packet {
                seq: next as u16,
                timestamp: p.timestamp,
                payload: p.payload,
            });
        }
        if self.packets.is_empty() {
            // Underrun: wait for `next` without advancing, which deepens the buffer.
            self.conceal_run += 1;
            if self.conceal_run > self.config.max_conceal_run {
                self.stats.underruns += 1;
                self.playing = false;
                self.fill_started_ms = None;
                self.conceal_run = 0;
                return None;
            }
            self.stats.concealed += 1;
            return Some(Playout::Conceal {
                seq: next as u16,
                next_payload: None,
            });
        }
        // `next` is missing but later packets are here: it is lost.
        self.stats.lost += 1;
        self.stats.concealed += 1;
        self.conceal_run = 0;
        self.advance_to(next + 1, false);
        let next_payload = self.packets.get(&(next + 1)).map(|p| p.payload.clone());
        Some(Playout::Conceal {
            seq: next as u16,
            next_payload,
        })
    }

    /// Drops the oldest slots while the buffer is more than two frames deeper than its target
    /// (after a burst, or when jitter has calmed down), to keep latency bounded.
    fn trim_excess(&mut self, next: &mut u64) {
        let target_frames = u64::from(self.target_depth_ms() / self.config.frame_ms);
        while let (Some((&first, _)), Some((&last, _))) = (
            self.packets.first_key_value(),
            self.packets.last_key_value(),
        ) {
            if last < *next + target_frames + 2 {
                break;
            }
            if first > *next {
                self.stats.lost += first - *next;
                self.advance_to(first, false);
            } else {
                self.packets.remove(&first);
                self.stats.dropped += 1;
                self.advance_to(first + 1, false);
            }
            *next = self.next.unwrap_or(*next);
        }
    }

    /// Starts (or restarts) playout once the target depth is buffered or has been waited for.
    fn start_playout(&mut self, now_ms: u64) -> bool {
        let (Some((&first, _)), Some((&last, _))) = (
            self.packets.first_key_value(),
            self.packets.last_key_value(),
        ) else {
            return false;
        };
        let target = u64::from(self.target_depth_ms());
        let held_ms = (last - first + 1) * u64::from(self.config.frame_ms);
        let waited = now_ms.saturating_sub(self.fill_started_ms.unwrap_or(now_ms));
        // Start once the oldest packet has waited the target depth, or a burst already holds
        // more than that.
        if waited < target && held_ms < target + u64::from(self.config.frame_ms) {
            return false;
        }
        if let Some(next) = self.next {
            // Sequence numbers skipped while refilling were lost.
            self.stats.lost += first.saturating_sub(next);
        }
        self.advance_to(first, false);
        self.playing = true;
        true
    }

    fn advance_to(&mut self, new_next: u64, played_last: bool) {
        let old = self.next.unwrap_or(new_next);
        let steps = new_next.saturating_sub(old);
        self.played = if steps >= 64 { 0 } else { self.played << steps };
        if played_last {
            self.played |= 1;
        }
        self.next = Some(new_next);
    }
}

#[cfg(test)]
#[path = "jitter_tests.rs"]
mod tests;
