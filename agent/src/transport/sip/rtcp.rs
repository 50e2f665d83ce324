//! RTCP (RFC 3550 §6): the control packets beside a call's RTP. We send a compound report
//! every few seconds (a sender report while we send audio, else a receiver report, always
//! with an SDES CNAME) and read the peer's reports. [`Reception`] keeps the receive-side
//! statistics of §6.4.1 and appendix A.3/A.8 (extended highest sequence, cumulative loss,
//! interarrival jitter); [`ReportBlock::between`] turns two snapshots into the fraction lost
//! over the interval. Pure: arrival times are passed in; parsing never panics on garbage.

/// Why an RTCP datagram was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtcpError {
    #[error("RTCP packet shorter than its header")]
    Short,
    #[error("not RTCP version 2")]
    Version,
    #[error("RTCP length field overruns the datagram")]
    Length,
    #[error("packet type {0} is not an RTCP type")]
    NotRtcp(u8),
}

/// One reception report block (§6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed on the wire).
    pub cumulative_lost: i32,
    pub highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR received from that source.
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s.
    pub delay_since_sr: u32,
}

/// The sender-info part of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    pub ntp: u64,
    pub rtp_timestamp: u32,
    pub packets: u32,
    pub octets: u32,
}

/// One packet of a compound RTCP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    SenderReport {
        ssrc: u32,
        info: SenderInfo,
        blocks: Vec<ReportBlock>,
    },
    ReceiverReport {
        ssrc: u32,
        blocks: Vec<ReportBlock>,
    },
    Bye {
        ssrcs: Vec<u32>,
    },
    /// SDES, APP, feedback...: recognised, not interpreted.
    Other {
        packet_type: u8,
    },
}

/// Whether a datagram on a muxed port is RTCP (RFC 5761 §4: payload types 64-95 with the
/// marker bit, i.e. second byte 192-223).
pub fn is_rtcp(data: &[u8]) -> bool {
    data.len() >= 8 && data[0] >> 6 == 2 && (192..=223).contains(&data[1])
}

/// Parses an RTCP datagram: a compound, or a single packet (reduced-size RTCP, RFC 5506,
/// and the APP keep-alives some agents send).
///
/// # Errors
/// [`RtcpError`] for anything that is not a sequence of well-formed RTCP packets.
pub fn parse_compound(data: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(RtcpError::Short);
        }
        if rest[0] >> 6 != 2 {
            return Err(RtcpError::Version);
        }
        let len = 4 * (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1);
        let packet = rest.get(..len).ok_or(RtcpError::Length)?;
        if !(192..=223).contains(&rest[1]) {
            return Err(RtcpError::NotRtcp(rest[1]));
        }
        let count = usize::from(rest[0] & 0x1f);
        out.push(parse_one(packet, count)?);
        rest = &rest[len..];
    }
    Ok(out)
}

fn word(p: &[u8], at: usize) -> Result<u32, RtcpError> {
    let b = p.get(at..at + 4).ok_or(RtcpError::Length)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn parse_one(p: &[u8], count: usize) -> Result<RtcpPacket, RtcpError> {
    let blocks_at = |start: usize| -> Result<Vec<ReportBlock>, RtcpError> {
        (0..count)
            .map(|i| {
                let b = start + 24 * i;
                let lost = word(p, b + 4)?;
                // 24-bit two's complement.
                let cumulative = ((lost & 0x00ff_ffff) << 8) as i32 >> 8;
                Ok(ReportBlock {
                    ssrc: word(p, b)?,
                    fraction_lost: (lost >> 24) as u8,
                    cumulative_lost: cumulative,
                    highest_seq: word(p, b + 8)?,
                    jitter: word(p, b + 12)?,
                    last_sr: word(p, b + 16)?,
                    delay_since_sr: word(p, b + 20)?,
                })
            })
            .collect()
    };
    Ok(match p[1] {
        200 => RtcpPacket::SenderReport {
            ssrc: word(p, 4)?,
            info: SenderInfo {
                ntp: (u64::from(word(p, 8)?) << 32) | u64::from(word(p, 12)?),
                rtp_timestamp: word(p, 16)?,
                packets: word(p, 20)?,
                octets: word(p, 24)?,
            },
            blocks: blocks_at(28)?,
        },
        201 => RtcpPacket::ReceiverReport {
            ssrc: word(p, 4)?,
            blocks: blocks_at(8)?,
        },
        203 => RtcpPacket::Bye {
            ssrcs: (0..count)
                .map(|i| word(p, 4 + 4 * i))
                .collect::<Result<_, _>>()?,
        },
        packet_type => RtcpPacket::Other { packet_type },
    })
}

fn header(out: &mut Vec<u8>, count: usize, packet_type: u8, words_after: usize) {
    out.push(0x80 | (count as u8 & 0x1f));
    out.push(packet_type);
    out.extend_from_slice(&(words_after as u16).to_be_bytes());
}

fn push_block(out: &mut Vec<u8>, b: &ReportBlock) {
    out.extend_from_slice(&b.ssrc.to_be_bytes());
    let lost = (b.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff;
    out.extend_from_slice(&((u32::from(b.fraction_lost) << 24) | lost).to_be_bytes());
    for w in [b.highest_seq, b.jitter, b.last_sr, b.delay_since_sr] {
        out.extend_from_slice(&w.to_be_bytes());
    }
}

/// A compound report: SR when `info` is given (we sent audio since the last one), else RR;
/// at most one report block; then SDES with our CNAME.
pub fn compound_report(
    ssrc: u32,
    info: Option<SenderInfo>,
    block: Option<&ReportBlock>,
    cname: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    let n = usize::from(block.is_some());
    match info {
        Some(i) => {
            header(&mut out, n, 200, 6 + 6 * n);
            out.extend_from_slice(&ssrc.to_be_bytes());
            out.extend_from_slice(&i.ntp.to_be_bytes());
            for w in [i.rtp_timestamp, i.packets, i.octets] {
                out.extend_from_slice(&w.to_be_bytes());
            }
        }
        None => {
            header(&mut out, n, 201, 1 + 6 * n);
            out.extend_from_slice(&ssrc.to_be_bytes());
        }
    }
    if let Some(b) = block {
        push_block(&mut out, b);
    }
    // SDES: one chunk with CNAME, null-terminated and padded to a word.
    let cname = &cname.as_bytes()[..cname.len().min(255)];
    let chunk = 4 + 2 + cname.len() + 1;
    let padded = chunk.div_ceil(4) * 4;
    header(&mut out, 1, 202, padded / 4);
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.push(1);
    out.push(cname.len() as u8);
    out.extend_from_slice(cname);
    out.resize(out.len() + padded - chunk + 1, 0);
    out
}

/// Receive-side statistics of one source (RFC 3550 A.1, A.3, A.8).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Reception {
    pub ssrc: u32,
    base_seq: u32,
    /// Extended highest sequence number received (cycles in the high 16 bits).
    pub highest_seq: u32,
    pub received: u64,
    /// Relative transit time of the last packet, in timestamp units.
    transit: Option<i64>,
    /// Interarrival jitter estimate in timestamp units.
    pub jitter: f64,
    started: bool,
}

impl Reception {
    /// Counts one packet: `arrival` is its arrival time in timestamp units (8 kHz).
    pub fn on_packet(&mut self, ssrc: u32, seq: u16, timestamp: u32, arrival: u32) {
        if !self.started || ssrc != self.ssrc {
            *self = Reception {
                ssrc,
                base_seq: u32::from(seq),
                highest_seq: u32::from(seq),
                started: true,
                ..Default::default()
            };
        } else {
            let cycles = self.highest_seq & 0xffff_0000;
            let max = self.highest_seq as u16;
            let delta = seq.wrapping_sub(max);
            if delta != 0 && delta < 0x8000 {
                let wrapped = seq < max;
                let cycles = if wrapped {
                    cycles.wrapping_add(0x1_0000)
                } else {
                    cycles
                };
                self.highest_seq = cycles | u32::from(seq);
            }
        }
        self.received += 1;
        let transit = i64::from(arrival.wrapping_sub(timestamp) as i32);
        if let Some(prev) = self.transit {
            let d = (transit - prev).unsigned_abs() as f64;
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.transit = Some(transit);
    }

    /// Packets expected so far (from the first sequence number to the highest).
    pub fn expected(&self) -> u64 {
        if !self.started {
            return 0;
        }
        u64::from(self.highest_seq.wrapping_sub(self.base_seq)) + 1
    }

    /// Packets lost so far (negative with duplicates).
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    pub fn has_packets(&self) -> bool {
        self.started
    }
}

impl ReportBlock {
    /// The block for `now`, with the fraction lost since `prev` (the state at our last
    /// report), and the last SR we received from that source: `(its NTP middle 32 bits,
    /// seconds since it arrived)`.
    pub fn between(prev: &Reception, now: &Reception, last_sr: Option<(u32, f64)>) -> Self {
        let same = prev.has_packets() && prev.ssrc == now.ssrc;
        let (exp0, rec0) = if same {
            (prev.expected(), prev.received)
        } else {
            (0, 0)
        };
        let expected = now.expected().saturating_sub(exp0);
        let lost = expected as i64 - (now.received as i64 - rec0 as i64);
        let fraction_lost = if expected == 0 || lost <= 0 {
            0
        } else {
            ((lost as u64 * 256) / expected).min(255) as u8
        };
        let (last_sr, delay_since_sr) = last_sr.map_or((0, 0), |(ntp, secs)| {
            (ntp, (secs.max(0.0) * 65_536.0) as u32)
        });
        ReportBlock {
            ssrc: now.ssrc,
            fraction_lost,
            cumulative_lost: now.lost().clamp(-0x80_0000, 0x7f_ffff) as i32,
            highest_seq: now.highest_seq,
            jitter: now.jitter as u32,
            last_sr,
            delay_since_sr,
        }
    }
}

/// The 64-bit NTP timestamp for a Unix time in microseconds.
pub fn ntp_from_unix_micros(micros: u64) -> u64 {
    const UNIX_TO_NTP_SECS: u64 = 2_208_988_800;
    let secs = micros / 1_000_000 + UNIX_TO_NTP_SECS;
    let frac = ((micros % 1_000_000) << 32) / 1_000_000;
    (secs << 32) | frac
}

/// The middle 32 bits of an NTP timestamp (what LSR carries).
pub fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip_through_the_parser() {
        let block = ReportBlock {
            ssrc: 7,
            fraction_lost: 25,
            cumulative_lost: -3,
            highest_seq: 0x0001_0005,
            jitter: 40,
            last_sr: 0x1234_5678,
            delay_since_sr: 65_536,
        };
        let info = SenderInfo {
            ntp: 0x0102_0304_0506_0708,
            rtp_timestamp: 160,
            packets: 10,
            octets: 1600,
        };
        let sr = compound_report(9, Some(info), Some(&block), "switchboard@host");
        assert_eq!(sr.len() % 4, 0);
        let parsed = parse_compound(&sr).unwrap();
        assert_eq!(
            parsed[0],
            RtcpPacket::SenderReport {
                ssrc: 9,
                info,
                blocks: vec![block]
            }
        );
        assert_eq!(parsed[1], RtcpPacket::Other { packet_type: 202 });
        let rr = compound_report(9, None, None, "x");
        assert_eq!(
            parse_compound(&rr).unwrap()[0],
            RtcpPacket::ReceiverReport {
                ssrc: 9,
                blocks: vec![]
            }
        );
        assert!(is_rtcp(&rr) && is_rtcp(&sr));
        assert!(!is_rtcp(&[0x80, 0, 0, 1, 0, 0, 0, 0]));
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let sr = compound_report(9, Some(SenderInfo::default()), None, "c");
        for cut in 0..sr.len() {
            let _ = parse_compound(&sr[..cut]);
        }
        assert_eq!(parse_compound(&[0x80, 201]), Err(RtcpError::Short));
        assert_eq!(
            parse_compound(&[0x40, 201, 0, 1, 0, 0, 0, 0]),
            Err(RtcpError::Version)
        );
        // Claims five report blocks but carries none.
        assert_eq!(
            parse_compound(&[0x85, 201, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::Length)
        );
        // An RTP packet type is not RTCP; a lone BYE or APP keep-alive is (RFC 5506).
        assert_eq!(
            parse_compound(&[0x80, 100, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::NotRtcp(100))
        );
        assert_eq!(
            parse_compound(&[0x81, 203, 0, 1, 0, 0, 0, 1]),
            Ok(vec![RtcpPacket::Bye { ssrcs: vec![1] }])
        );
        let ping = [
            0x80, 204, 0, 3, 1, 2, 3, 4, b'P', b'I', b'N', b'G', b'P', b'O', b'N', b'G',
        ];
        assert_eq!(
            parse_compound(&ping),
            Ok(vec![RtcpPacket::Other { packet_type: 204 }])
        );
    }

    #[test]
    fn reception_counts_loss_wraps_and_jitter() {
        let mut r = Reception::default();
        let mut seq: u16 = 65_530;
        let mut ts: u32 = 1000;
        let mut arrival: u32 = 50_000;
        for i in 0..20 {
            if i != 8 && i != 9 {
                // Every other packet arrives 80 samples (10 ms) late.
                r.on_packet(1, seq, ts, arrival + if i % 2 == 1 { 80 } else { 0 });
            }
            seq = seq.wrapping_add(1);
            ts += 160;
            arrival += 160;
        }
        assert_eq!(r.expected(), 20);
        assert_eq!(r.received, 18);
        assert_eq!(r.lost(), 2);
        assert_eq!(r.highest_seq, 0x0001_0000 | u32::from(seq.wrapping_sub(1)));
        assert!(r.jitter > 30.0 && r.jitter < 80.0, "jitter {}", r.jitter);
        let block = ReportBlock::between(&Reception::default(), &r, Some((5, 0.5)));
        assert_eq!(block.fraction_lost, (2 * 256 / 20) as u8);
        assert_eq!((block.last_sr, block.delay_since_sr), (5, 32_768));
        // Nothing lost since `r`: the next interval's fraction is zero.
        let mut later = r;
        later.on_packet(1, seq, ts, arrival);
        assert_eq!(ReportBlock::between(&r, &later, None).fraction_lost, 0);
    }
}
