//! RTP packets (RFC 3550 §5.1) and RFC 4733 telephone-events: the wire format under a SIP
//! call's audio. Parsing is total (malformed packets give `None`), serialising is
//! allocation-light. [`DtmfTracker`] turns a stream of event packets (repeated, with
//! retransmitted end packets) into one digit per key press.

/// One RTP packet's header fields and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket {
    pub payload_type: u8,
    pub marker: bool,
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload: Vec<u8>,
}

impl RtpPacket {
    /// Parses a datagram; `None` for anything that is not a well-formed RTP v2 packet
    /// (RTCP, which shares the port under rtcp-mux, also yields `None`).
    pub fn parse(data: &[u8]) -> Option<Self> {
        if data.len() < 12 || data[0] >> 6 != 2 {
            return None;
        }
        let padding = data[0] & 0x20 != 0;
        let extension = data[0] & 0x10 != 0;
        let csrc = usize::from(data[0] & 0x0f);
        let pt = data[1] & 0x7f;
        if (72..=76).contains(&pt) {
            return None; // RTCP packet types 200-204 with the marker bit folded in.
        }
        let mut offset = 12 + 4 * csrc;
        if extension {
            let words = data.get(offset + 2..offset + 4)?;
            offset += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
        }
        let mut end = data.len();
        if padding {
            let pad = usize::from(*data.last()?);
            if pad == 0 {
                return None;
            }
            end = end.checked_sub(pad)?;
        }
        let payload = data.get(offset..end)?.to_vec();
        Some(RtpPacket {
            payload_type: pt,
            marker: data[1] & 0x80 != 0,
            seq: u16::from_be_bytes([data[2], data[3]]),
            timestamp: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
            ssrc: u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
            payload,
        })
    }

    /// The datagram for this packet (no CSRCs, no extension, no padding).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + self.payload.len());
        out.push(0x80);
        out.push((u8::from(self.marker) << 7) | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&self.payload);
        out
    }
}

/// An RFC 4733 named telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub event: u8,
    pub end: bool,
    pub volume: u8,
    pub duration: u16,
}

impl TelephoneEvent {
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let p = payload.get(..4)?;
        Some(TelephoneEvent {
            event: p[0],
            end: p[1] & 0x80 != 0,
            volume: p[1] & 0x3f,
            duration: u16::from_be_bytes([p[2], p[3]]),
        })
    }

    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            d[0],
            d[1],
        ]
    }

    /// The key for DTMF events 0-15 (`0-9 * # A-D`).
    pub fn digit(self) -> Option<char> {
        Some(match self.event {
            0..=9 => char::from(b'0' + self.event),
            10 => '*',
            11 => '#',
            12..=15 => char::from(b'A' + self.event - 12),
            _ => return None,
        })
    }
}

/// The event code for a key, inverse of [`TelephoneEvent::digit`].
pub fn event_for_digit(c: char) -> Option<u8> {
    Some(match c {
        '0'..='9' => c as u8 - b'0',
        '*' => 10,
        '#' => 11,
        'A'..='D' => c as u8 - b'A' + 12,
        'a'..='d' => c as u8 - b'a' + 12,
        _ => return None,
    })
}

/// Reports each key press once: an event is identified by its RTP timestamp, which stays
/// the same across the packets (and retransmitted end packets) of one press.
#[derive(Debug, Default)]
pub struct DtmfTracker {
    last_timestamp: Option<u32>,
}

impl DtmfTracker {
    /// Feeds one telephone-event packet; returns the digit when it starts a new press.
    pub fn push(&mut self, timestamp: u32, payload: &[u8]) -> Option<char> {
        let ev = TelephoneEvent::parse(payload)?;
        let digit = ev.digit()?;
        if self.last_timestamp == Some(timestamp) {
            return None;
        }
        self.last_timestamp = Some(timestamp);
        Some(digit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_round_trip_and_headers_are_skipped() {
        let p = RtpPacket {
            payload_type: 0,
            marker: true,
            seq: 65535,
            timestamp: 0xdead_beef,
            ssrc: 42,
            payload: vec![1, 2, 3],
        };
        assert_eq!(RtpPacket::parse(&p.to_bytes()), Some(p.clone()));
        // One CSRC, a one-word extension and two bytes of padding around the same payload.
        let mut d = p.to_bytes()[..12].to_vec();
        d[0] |= 0x20 | 0x10 | 1;
        d.extend_from_slice(&[0, 0, 0, 7]); // CSRC
        d.extend_from_slice(&[0xbe, 0xde, 0, 1, 9, 9, 9, 9]); // extension
        d.extend_from_slice(&[1, 2, 3, 0, 2]);
        assert_eq!(RtpPacket::parse(&d).unwrap().payload, vec![1, 2, 3]);
    }

    #[test]
    fn malformed_packets_are_refused() {
        assert_eq!(RtpPacket::parse(&[0x80; 11]), None);
        assert_eq!(RtpPacket::parse(&[0x40; 20]), None); // version 1
        let mut pad = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200];
        assert_eq!(RtpPacket::parse(&pad), None); // padding longer than the packet
        pad[12] = 0;
        assert_eq!(RtpPacket::parse(&pad), None);
        let rtcp = [0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(RtpPacket::parse(&rtcp), None);
        let ext = [0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
        assert_eq!(RtpPacket::parse(&ext), None); // extension longer than the packet
    }

    #[test]
    fn one_digit_per_press_despite_repeated_end_packets() {
        let mut t = DtmfTracker::default();
        let ev = |event, end, duration| {
            TelephoneEvent {
                event,
                end,
                volume: 10,
                duration,
            }
            .to_bytes()
        };
        let mut got = Vec::new();
        for (ts, payload) in [
            (100, ev(5, false, 160)),
            (100, ev(5, false, 320)),
            (100, ev(5, true, 480)),
            (100, ev(5, true, 480)),
            (900, ev(11, false, 160)),
            (900, ev(11, true, 320)),
            (1500, ev(200, false, 160)),
        ] {
            got.extend(t.push(ts, &payload));
        }
        assert_eq!(got, vec!['5', '#']);
        assert_eq!(event_for_digit('#'), Some(11));
        assert_eq!(t.push(2000, &[1, 2]), None);
    }
}
