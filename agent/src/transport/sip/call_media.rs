//! Setting up one call's media, for both directions: the RTP/RTCP port pair, the channels a
//! ringing call keeps until it is answered ([`Pending`]), and [`Actor::launch`], which starts
//! the receiver and sender actors and builds the [`SipCall`] its handler runs.

use std::net::SocketAddr;

use audio::AudioFrame;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

use super::dialog::random_u64;
use super::endpoint::{Actor, Command};
use super::media::{MediaStats, RtpReceiver};
use super::sender::{RtcpPath, RtpOut, RtpSender, RtpStream};
use super::{CallControl, HangupCause, Route, SipCall};
use crate::call::session::CallMedia;
use crate::media::{media_ring, CallClock, RingReceiver, RingSender};

/// Frames of caller audio buffered between the RTP receiver and ingest (1 s).
const RING_FRAMES: usize = 50;
/// Frames of agent audio buffered between playout and the RTP sender (200 ms).
const OUT_FRAMES: usize = 10;
/// Attempts at finding a free even port with a free odd neighbour.
const PORT_TRIES: usize = 64;

/// What a ringing call keeps for the handler until it is answered.
pub(super) struct Pending {
    frames_tx: RingSender<AudioFrame>,
    frames_rx: RingReceiver<AudioFrame>,
    dtmf_rx: mpsc::Receiver<char>,
    remote_tx: watch::Sender<SocketAddr>,
    cause_rx: watch::Receiver<Option<HangupCause>>,
    muted_rx: watch::Receiver<bool>,
    dialled: String,
    caller: String,
    route: Route,
}

impl Pending {
    /// Fresh channels for a call: the pending parts, and the actor's ends (cause, mute, DTMF).
    pub(super) fn new(
        dialled: String,
        caller: String,
        route: Route,
        rtp_remote: SocketAddr,
        muted: bool,
    ) -> (
        Self,
        watch::Sender<Option<HangupCause>>,
        watch::Sender<bool>,
        mpsc::Sender<char>,
    ) {
        let (frames_tx, frames_rx) = media_ring(RING_FRAMES);
        let (dtmf_tx, dtmf_rx) = mpsc::channel(32);
        let (remote_tx, _) = watch::channel(rtp_remote);
        let (cause_tx, cause_rx) = watch::channel(None);
        let (muted_tx, muted_rx) = watch::channel(muted);
        let pending = Pending {
            frames_tx,
            frames_rx,
            dtmf_rx,
            remote_tx,
            cause_rx,
            muted_rx,
            dialled,
            caller,
            route,
        };
        (pending, cause_tx, muted_tx, dtmf_tx)
    }

    /// Where to send RTP until the peer's own packets say otherwise.
    pub(super) fn set_rtp_remote(&mut self, addr: SocketAddr) {
        self.remote_tx.send_replace(addr);
    }
}

/// Binds an RTP socket on an even port and its RTCP socket on the next one, on the
/// signalling address's interface.
pub(super) fn bind_rtp(sip: SocketAddr) -> std::io::Result<(UdpSocket, UdpSocket)> {
    let mut last = None;
    for _ in 0..PORT_TRIES {
        let rtp = std::net::UdpSocket::bind(SocketAddr::new(sip.ip(), 0))?;
        let port = rtp.local_addr()?.port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        match std::net::UdpSocket::bind(SocketAddr::new(sip.ip(), port + 1)) {
            Ok(rtcp) => {
                rtp.set_nonblocking(true)?;
                rtcp.set_nonblocking(true)?;
                return Ok((UdpSocket::from_std(rtp)?, UdpSocket::from_std(rtcp)?));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free even RTP port")))
}

impl Actor {
    /// Starts a call's RTP receiver and sender and builds what its runner gets.
    pub(super) fn launch(&mut self, call_id: &str, p: Pending) -> Option<SipCall> {
        let cname = format!("switchboard@{}", self.local_addr.ip());
        let call = self.calls.get_mut(call_id)?;
        let seed = random_u64();
        let stream = RtpStream::new(seed);
        let (stats_tx, stats_rx) = watch::channel(MediaStats::default());
        let rtcp_socket = (!call.media.rtcp_mux).then(|| call.rtcp_socket.clone());
        let receiver = RtpReceiver {
            socket: call.rtp_socket.clone(),
            rtcp_socket: rtcp_socket.clone(),
            params: call.media,
            our_ssrc: stream.ssrc,
            frames: p.frames_tx,
            dtmf: call.dtmf.clone(),
            remote: p.remote_tx,
            stats: stats_tx,
            cancel: call.token.clone(),
        };
        let clock = CallClock::start_now();
        let (out_tx, out_rx) = media_ring(OUT_FRAMES);
        let (keys_tx, keys_rx) = mpsc::channel(1);
        let sender = RtpSender {
            socket: call.rtp_socket.clone(),
            rtcp: RtcpPath {
                socket: rtcp_socket,
                peer_port: call.media.rtcp_port,
                cname,
            },
            remote: receiver.remote.subscribe(),
            params: call.media,
            frames: out_rx,
            dtmf: keys_rx,
            muted: p.muted_rx,
            stats: stats_rx.clone(),
            clock,
            stream,
            cancel: call.token.clone(),
        };
        let control = CallControl {
            call_id: call_id.to_string(),
            commands: self.commands_tx.clone(),
            cause: p.cause_rx,
            ended: call.token.clone(),
            keys: call.media.dtmf_pt.map(|_| keys_tx),
            stats: stats_rx,
        };
        let sip_call = SipCall {
            call_id: call_id.to_string(),
            dialled: p.dialled,
            caller: p.caller,
            route: p.route,
            media: CallMedia {
                input: p.frames_rx,
                output: Box::new(RtpOut::new(out_tx)),
                clock,
            },
            dtmf: p.dtmf_rx,
            control,
        };
        let commands = self.commands_tx.clone();
        let id = call_id.to_string();
        let token = call.token.clone();
        self.tasks.spawn(sender.run());
        self.tasks.spawn(async move {
            let (end, stats, frames) = receiver.run().await;
            tracing::debug!(call_id = %id, ?end, ?stats, "RTP receiver stopped");
            let _ = commands
                .send(Command::MediaEnded { call_id: id, end })
                .await;
            // The input closes only once the actor has recorded why the call ended.
            token.cancelled().await;
            drop(frames);
        });
        Some(sip_call)
    }
}
