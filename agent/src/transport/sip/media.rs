//! RTP → CallMedia: the receiving half of a SIP call's media. [`RtpReceiver::run`] latches
//! to the first source of valid RTP (symmetric RTP: our packets go back there; packets from
//! any other source are ignored and logged once), orders packets in a jitter buffer, decodes
//! G.711 every 20 ms into the call's drop-oldest ring, hands RFC 4733 key presses to the call,
//! reads the peer's RTCP (on the RTP port under rtcp-mux or on port + 1; garbage is counted
//! and dropped) and publishes [`MediaStats`]; it ends when the call is cancelled or no RTP
//! has arrived for the configured time. The sending half is [`super::sender`].

use std::net::SocketAddr;
use std::sync::Arc;

use audio::{AudioFrame, G711Law, JitterBuffer, JitterConfig, JitterStats, Playout, SampleRate};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::{interval, Duration, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::rtcp::{self, ntp_middle, Reception, RtcpPacket};
use super::rtp::{DtmfTracker, RtpPacket};
use super::sender::ntp_now;
use crate::media::RingSender;

const FRAME_MS: u64 = 20;
const FRAME_SAMPLES: usize = 160;
/// Stats are published every this many frames (100 ms; and on every RTCP packet).
const PUBLISH_EVERY: u32 = 5;

/// What was agreed for one call's audio.
#[derive(Debug, Clone, Copy)]
pub struct MediaParams {
    pub law: G711Law,
    pub payload_type: u8,
    pub dtmf_pt: Option<u8>,
    pub no_rtp_timeout: Duration,
    /// RTCP shares the RTP port (RFC 5761), as both sides agreed.
    pub rtcp_mux: bool,
    /// The peer's RTCP port from `a=rtcp`, when it gave one.
    pub rtcp_port: Option<u16>,
}

/// Why the receiver stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEnd {
    Cancelled,
    NoRtp,
    SocketFailed,
}

/// What the peer's RTCP says about the audio we send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RemoteReport {
    /// Fraction of our packets lost in the peer's last interval (0-1).
    pub fraction_lost: f64,
    pub cumulative_lost: i32,
    pub jitter_ms: f64,
    /// Round trip from the peer's LSR/DLSR echo of our sender report.
    pub rtt_ms: Option<f64>,
}

/// A call's media statistics, for its metrics (see [`super::CallControl::media_stats`]).
#[derive(Debug, Clone, Default)]
pub struct MediaStats {
    /// RTP packets received from the latched source (audio and events).
    pub packets_received: u64,
    /// Packets lost per RFC 3550 (expected − received; negative with duplicates).
    pub packets_lost: i64,
    /// Interarrival jitter, ms.
    pub jitter_ms: f64,
    /// The jitter buffer's view (late, lost at playout, concealed...).
    pub jitter_buffer: JitterStats,
    pub rtcp_received: u64,
    /// RTCP datagrams that did not parse.
    pub rtcp_malformed: u64,
    /// RTP packets from sources other than the latched one (dropped).
    pub foreign_packets: u64,
    pub latched: Option<SocketAddr>,
    pub remote: Option<RemoteReport>,
    pub(crate) reception: Reception,
    /// The peer's last SR: its NTP middle 32 bits and when it arrived.
    pub(crate) last_sr: Option<(u32, Instant)>,
}

/// The inbound half of a call's media.
pub struct RtpReceiver {
    pub socket: Arc<UdpSocket>,
    /// Our RTCP socket on RTP port + 1 (`None` under rtcp-mux).
    pub rtcp_socket: Option<Arc<UdpSocket>>,
    pub params: MediaParams,
    /// Our SSRC, to find the peer's report on our stream.
    pub our_ssrc: u32,
    /// Decoded caller audio; dropped when `run` returns, which closes the call's input.
    pub frames: RingSender<AudioFrame>,
    /// Key presses for the call; a full channel drops the digit (logged).
    pub dtmf: mpsc::Sender<char>,
    /// Latched peer address for the sender: set to the first source of valid RTP.
    pub remote: watch::Sender<SocketAddr>,
    pub stats: watch::Sender<MediaStats>,
    /// Cancelled by the endpoint when the call ends for any other reason.
    pub cancel: CancellationToken,
}

async fn recv_opt(
    socket: Option<&UdpSocket>,
    buf: &mut [u8],
) -> std::io::Result<(usize, SocketAddr)> {
    match socket {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

impl RtpReceiver {
    /// Receives until cancelled or until no RTP arrives for `no_rtp_timeout`. Returns the
    /// frame sender too, so the caller can keep the call's input open until the end cause is
    /// recorded.
    pub async fn run(self) -> (MediaEnd, MediaStats, RingSender<AudioFrame>) {
        let start = Instant::now();
        let mut st = MediaStats::default();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let mut dtmf = DtmfTracker::default();
        let mut tick = interval(Duration::from_millis(FRAME_MS));
        tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut ticks = 0u32;
        let mut last_rx = start;
        let mut buf = vec![0u8; 2048];
        let mut rtcp_buf = vec![0u8; 1500];
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
                    ticks += 1;
                    if ticks.is_multiple_of(PUBLISH_EVERY) {
                        st.jitter_buffer = jb.stats();
                        self.stats.send_replace(st.clone());
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
                    let data = &buf[..n];
                    if rtcp::is_rtcp(data) {
                        self.on_rtcp(data, &mut st);
                        continue;
                    }
                    let Some(p) = RtpPacket::parse(data) else { continue };
                    let audio = p.payload_type == self.params.payload_type;
                    let event = Some(p.payload_type) == self.params.dtmf_pt;
                    if !(audio || event) || !self.latch(from, &mut st) {
                        continue;
                    }
                    let now = Instant::now();
                    last_rx = now;
                    let at = now.duration_since(start).as_millis() as u64;
                    st.reception.on_packet(p.ssrc, p.seq, p.timestamp, (at * 8) as u32);
                    st.packets_received = st.reception.received;
                    st.packets_lost = st.reception.lost();
                    st.jitter_ms = st.reception.jitter / 8.0;
                    if audio {
                        jb.push(p.seq, p.timestamp, at, p.payload);
                    } else if let Some(digit) = dtmf.push(p.timestamp, &p.payload) {
                        tracing::debug!(%digit, "DTMF received over RTP");
                        if self.dtmf.try_send(digit).is_err() {
                            tracing::warn!("DTMF digit dropped: the call is not reading them");
                        }
                    }
                }
                r = recv_opt(self.rtcp_socket.as_deref(), &mut rtcp_buf) => {
                    if let Ok((n, _)) = r {
                        self.on_rtcp(&rtcp_buf[..n], &mut st);
                    }
                }
            }
        };
        st.jitter_buffer = jb.stats();
        self.stats.send_replace(st.clone());
        (end, st, self.frames)
    }

    /// Symmetric RTP: the first source of valid RTP becomes the peer; false for others.
    fn latch(&self, from: SocketAddr, st: &mut MediaStats) -> bool {
        match st.latched {
            Some(a) if a == from => true,
            Some(a) => {
                if st.foreign_packets == 0 {
                    tracing::warn!(latched = %a, source = %from,
                        "RTP from a second source ignored (logged once per call)");
                }
                st.foreign_packets += 1;
                false
            }
            None => {
                st.latched = Some(from);
                self.remote.send_replace(from);
                true
            }
        }
    }

    fn on_rtcp(&self, data: &[u8], st: &mut MediaStats) {
        let packets = match rtcp::parse_compound(data) {
            Ok(p) => p,
            Err(e) => {
                if st.rtcp_malformed == 0 {
                    tracing::debug!(error = %e, "Malformed RTCP dropped");
                }
                st.rtcp_malformed += 1;
                return;
            }
        };
        st.rtcp_received += 1;
        let now = Instant::now();
        for p in packets {
            let blocks = match p {
                RtcpPacket::SenderReport { info, blocks, .. } => {
                    st.last_sr = Some((ntp_middle(info.ntp), now));
                    blocks
                }
                RtcpPacket::ReceiverReport { blocks, .. } => blocks,
                RtcpPacket::Bye { .. } | RtcpPacket::Other { .. } => continue,
            };
            for b in blocks.iter().filter(|b| b.ssrc == self.our_ssrc) {
                let rtt_ms = (b.last_sr != 0)
                    .then(|| round_trip_ms(ntp_middle(ntp_now()), b.last_sr, b.delay_since_sr));
                st.remote = Some(RemoteReport {
                    fraction_lost: f64::from(b.fraction_lost) / 256.0,
                    cumulative_lost: b.cumulative_lost,
                    jitter_ms: f64::from(b.jitter) / 8.0,
                    rtt_ms,
                });
            }
        }
        self.stats.send_replace(st.clone());
    }
}

/// RFC 3550 §6.4.1 round trip from a report block: arrival − LSR − DLSR, all in 1/65536 s of
/// the middle NTP bits. On a short path the rounding of DLSR can make it slightly negative,
/// which unsigned arithmetic turns into 65536 s; it is 0 then.
fn round_trip_ms(now: u32, last_sr: u32, delay_since_sr: u32) -> f64 {
    // Reinterpreting the wrapped difference as signed is the point: it may be a little negative.
    #[allow(clippy::cast_possible_wrap)]
    let units = now.wrapping_sub(last_sr).wrapping_sub(delay_since_sr) as i32;
    f64::from(units.max(0)) * 1000.0 / 65_536.0
}

#[cfg(test)]
mod rtt_tests {
    use super::round_trip_ms;

    #[test]
    fn round_trips_are_never_negative_and_survive_the_ntp_wrap() {
        // 50 ms out and back, 200 ms held by the far end.
        let rtt = round_trip_ms(10_000 + 16_384, 10_000, 13_107);
        assert!((rtt - 50.0).abs() < 0.1, "{rtt}");
        // DLSR rounded up past the arrival time on loopback: 0, not 65536 s.
        assert_eq!(round_trip_ms(10_000, 9_990, 11), 0.0);
        // The 32-bit middle of NTP time wraps between LSR and arrival.
        let rtt = round_trip_ms(100, u32::MAX - 3_176, 0);
        assert!((rtt - 50.0).abs() < 0.1, "{rtt}");
    }
}
