//! RTCP and symmetric RTP on a SIP call. baresip (Debian `baresip-core`) answers our call;
//! we send audio and it sends silence, both sides exchange RTCP reports: ours must reach it
//! and be understood (its report block on our stream echoes our sender report, which gives
//! a round-trip time), and its reports must reach our call's media statistics. A bare UDP
//! callee then checks latching: RTP from a second source is ignored, our packets go back to
//! the first source, and RTCP garbage is counted without breaking the call.

mod support;

use std::net::SocketAddr;

use support::tmp::tmp;
use switchboard::transport::sip::dialog::response;
use switchboard::transport::sip::rtp::RtpPacket;
use switchboard::transport::sip::{SipCall, SipEndpoint, SipMessage};
use tokio::net::UdpSocket;
use tokio::time::{sleep, timeout, Duration};
use tokio_util::sync::CancellationToken;

/// Guard against a hung test only.
const GUARD: Duration = Duration::from_secs(60);

async fn endpoint(trunk: SocketAddr) -> (SipEndpoint, CancellationToken) {
    let trunk = serde_json::json!({ "host": trunk.to_string(), "caller_id": "+15550199" });
    support::sip::endpoint_with_trunk(trunk).await
}

async fn dial(ep: &SipEndpoint, to: &str) -> SipCall {
    let call = support::sip::call_to(to, Duration::from_secs(15));
    timeout(GUARD, ep.dial(call))
        .await
        .expect("dial finishes")
        .unwrap_or_else(|e| panic!("not answered: {e}"))
}

/// Sends a 500 Hz tone for `ms` as the agent's audio, paced at 20 ms.
async fn speak(call: &mut SipCall, ms: u64) {
    let tone = audio::synth::sine(500.0, 0.3, 20, audio::SampleRate::HZ_8K);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for _ in 0..ms / 20 {
        tick.tick().await;
        let at = call.media.clock.now_ms();
        call.media.output.send(&tone, at);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_and_we_exchange_rtcp_reports() {
    let found = std::process::Command::new("sh")
        .args(["-c", "command -v baresip"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(found, "baresip is needed: apt-get install baresip-core");
    // Outlives baresip (declared before it): its config and the WAV it plays.
    let scratch = tmp("sip-rtcp");
    let dir = scratch.path();
    let port = support::sipp::free_udp_port();
    let wav = dir.join("silence.wav");
    audio::write_wav_file(&wav, &vec![0; 8000 * 30], 1, audio::SampleRate::HZ_8K).unwrap();
    let config = format!(
        "sip_listen\t\t127.0.0.1:{port}\nnet_interface\t\t127.0.0.1\n\
         audio_source\t\taufile,{wav}\naudio_player\t\talsa,null\naudio_alert\t\talsa,null\n\
         module_path\t\t/usr/lib/baresip/modules\nmodule\t\t\tg711.so\nmodule\t\t\taufile.so\n\
         module\t\t\talsa.so\nmodule_app\t\taccount.so\nmodule_app\t\tmenu.so\n",
        wav = wav.display(),
    );
    std::fs::write(dir.join("config"), config).unwrap();
    let account =
        format!("<sip:callee@127.0.0.1:{port}>;regint=0;audio_codecs=PCMU;answermode=auto\n");
    std::fs::write(dir.join("accounts"), account).unwrap();
    let callee = tokio::process::Command::new("baresip")
        .arg("-f")
        .arg(dir)
        .args(["-t", "25"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("baresip starts");
    let (ep, cancel) = endpoint(SocketAddr::from(([127, 0, 0, 1], port))).await;
    let mut call = dial(&ep, "callee").await;
    // Speak until baresip has echoed one of our sender reports (its reports come every
    // few seconds and ours every 5 s), or give up after 40 s.
    let mut stats = call.control.media_stats();
    for _ in 0..40 {
        speak(&mut call, 1_000).await;
        stats = call.control.media_stats();
        if stats.remote.is_some_and(|r| r.rtt_ms.is_some()) {
            break;
        }
    }
    call.control.hangup().await;
    cancel.cancel();
    drop(callee);

    assert!(stats.rtcp_received >= 1, "no RTCP from baresip: {stats:?}");
    assert_eq!(stats.rtcp_malformed, 0, "{stats:?}");
    let remote = stats.remote.expect("baresip reported on our stream");
    let rtt = remote
        .rtt_ms
        .expect("baresip echoed our sender report (LSR)");
    assert!(
        (0.0..1_000.0).contains(&rtt),
        "round trip {rtt} ms on loopback"
    );
    assert_eq!(remote.cumulative_lost, 0, "{remote:?}");
    assert!(stats.packets_received > 100, "{stats:?}");
    assert_eq!(stats.packets_lost, 0, "{stats:?}");
    assert!(stats.jitter_ms < 100.0, "{stats:?}");
    assert_eq!(stats.foreign_packets, 0);
}

/// Answers the INVITE with an SDP pointing at `rtp`.
async fn bare_callee(sip: &UdpSocket, rtp: &UdpSocket) -> SocketAddr {
    let mut buf = vec![0; 65_536];
    let (n, from) = timeout(GUARD, sip.recv_from(&mut buf))
        .await
        .expect("an INVITE")
        .unwrap();
    let invite = SipMessage::parse(&buf[..n]).unwrap();
    let offer = switchboard::transport::sip::sdp::AudioOffer::parse(&invite.body).unwrap();
    let port = rtp.local_addr().unwrap().port();
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\n"
    );
    let mut ok = response(&invite, 200, "OK", Some("callee1"), from);
    let me = sip.local_addr().unwrap();
    ok.set_header("Contact", format!("<sip:callee@{me}>"));
    ok.set_header("Content-Type", "application/sdp");
    ok.body = sdp.into_bytes();
    sip.send_to(&ok.to_bytes(), from).await.unwrap();
    SocketAddr::new(offer.addr, offer.port)
}

fn pcmu_packet(seq: u16, level: i16) -> Vec<u8> {
    let samples = vec![level; 160];
    RtpPacket {
        payload_type: 0,
        marker: seq == 0,
        seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 77,
        payload: audio::G711Law::MuLaw.encode(&samples),
    }
    .to_bytes()
}

#[tokio::test]
async fn rtp_latches_to_the_first_source_and_survives_garbage() {
    let sip = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let intruder = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (ep, cancel) = endpoint(sip.local_addr().unwrap()).await;
    let (mut call, agent_rtp) = tokio::join!(dial(&ep, "+15550123"), bare_callee(&sip, &rtp));
    let agent_rtcp = SocketAddr::new(agent_rtp.ip(), agent_rtp.port() + 1);

    // The callee sends quiet audio; an intruder sends a loud constant and garbage.
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for seq in 0..50u16 {
        tick.tick().await;
        rtp.send_to(&pcmu_packet(seq, 100), agent_rtp)
            .await
            .unwrap();
        intruder
            .send_to(&pcmu_packet(seq, 20_000), agent_rtp)
            .await
            .unwrap();
        if seq % 10 == 0 {
            intruder
                .send_to(b"\x80\xc8garbage", agent_rtcp)
                .await
                .unwrap();
            intruder
                .send_to(&[0x81, 0xc9, 0, 9, 1, 2, 3, 4], agent_rtp)
                .await
                .unwrap();
        }
    }
    sleep(Duration::from_millis(200)).await;
    let mut loudest = 0i16;
    let mut frames = 0;
    while let Ok(Some(f)) = timeout(Duration::from_millis(100), call.media.input.recv()).await {
        frames += 1;
        loudest = loudest.max(
            f.samples
                .iter()
                .map(|s| s.saturating_abs())
                .max()
                .unwrap_or(0),
        );
    }
    // Our audio goes back to the latched source, not to the intruder.
    let tone = vec![1000i16; 160];
    call.media.output.send(&tone, call.media.clock.now_ms());
    let mut buf = vec![0; 2048];
    let n = timeout(GUARD, rtp.recv(&mut buf))
        .await
        .expect("our RTP reaches the first source")
        .unwrap();
    let back = RtpPacket::parse(&buf[..n]).expect("RTP");
    let stats = call.control.media_stats();
    call.control.hangup().await;
    cancel.cancel();

    assert!(
        frames > 20,
        "the callee's audio came through ({frames} frames)"
    );
    assert!(
        loudest < 1_000,
        "the intruder's audio leaked in (peak {loudest})"
    );
    assert_eq!(back.payload_type, 0);
    assert_eq!(stats.latched, Some(rtp.local_addr().unwrap()));
    assert!(stats.foreign_packets >= 40, "{stats:?}");
    assert!(stats.rtcp_malformed >= 10, "{stats:?}");
    assert_eq!(stats.packets_received, 50, "{stats:?}");
    assert_eq!(stats.packets_lost, 0, "{stats:?}");
    let mut other = vec![0; 2048];
    assert!(
        timeout(Duration::from_millis(200), intruder.recv(&mut other))
            .await
            .is_err(),
        "nothing is sent to the intruder"
    );
}
