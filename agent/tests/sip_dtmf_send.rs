//! Sending key presses on a SIP call (`CallControl::send_dtmf`, e.g. to navigate an IVR):
//! baresip (Debian `baresip-core`) answers our call and reports each RFC 4733 key it
//! decoded; SIPp (`sip-tester`) plays a callee without telephone-event that must receive the
//! keys as SIP INFO; and a bare UDP callee checks the packets on the wire (negotiated payload
//! type, marker bit, one timestamp per event, growing duration, three end packets).

mod support;

use std::net::SocketAddr;
use std::path::Path;

use support::tmp::tmp;
use switchboard::transport::sip::dialog::response;
use switchboard::transport::sip::rtp::{RtpPacket, TelephoneEvent};
use switchboard::transport::sip::{SipCall, SipEndpoint, SipMessage};
use tokio::net::UdpSocket;
use tokio::time::{timeout, Duration};
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

fn require_tool(tool: &str, package: &str) {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(found, "{tool} is needed: apt-get install {package}");
}

fn write_baresip_callee(dir: &Path, sip_port: u16) {
    let wav = dir.join("silence.wav");
    audio::write_wav_file(&wav, &vec![0; 8000 * 20], 1, audio::SampleRate::HZ_8K).unwrap();
    let config = format!(
        "sip_listen\t\t127.0.0.1:{sip_port}\nnet_interface\t\t127.0.0.1\n\
         audio_source\t\taufile,{wav}\naudio_player\t\talsa,null\naudio_alert\t\talsa,null\n\
         module_path\t\t/usr/lib/baresip/modules\nmodule\t\t\tg711.so\nmodule\t\t\taufile.so\n\
         module\t\t\talsa.so\nmodule_app\t\taccount.so\nmodule_app\t\tmenu.so\n",
        wav = wav.display(),
    );
    std::fs::write(dir.join("config"), config).unwrap();
    let account =
        format!("<sip:callee@127.0.0.1:{sip_port}>;regint=0;audio_codecs=PCMU;answermode=auto\n");
    std::fs::write(dir.join("accounts"), account).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_decodes_the_keys_we_send_as_telephone_events() {
    require_tool("baresip", "baresip-core");
    // Outlives baresip (declared before it): its config and the WAV it plays.
    let scratch = tmp("sip-dtmf-send");
    let dir = scratch.path();
    let port = support::sipp::free_udp_port();
    write_baresip_callee(dir, port);
    let callee = tokio::process::Command::new("baresip")
        .arg("-f")
        .arg(dir)
        .args(["-t", "12"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("baresip starts");
    // baresip needs a moment to listen; the INVITE is retransmitted until it does.
    let (ep, cancel) = endpoint(SocketAddr::from(([127, 0, 0, 1], port))).await;
    let call = dial(&ep, "callee").await;
    timeout(GUARD, call.control.send_dtmf("1,5#*9"))
        .await
        .expect("keys sent")
        .expect("keys accepted");
    tokio::time::sleep(Duration::from_millis(500)).await;
    call.control.hangup().await;
    let out = timeout(GUARD, callee.wait_with_output())
        .await
        .expect("baresip exits")
        .expect("baresip ran");
    cancel.cancel();
    ep.stopped().await;
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // baresip logs `received event: '5' (end=0)` when a key starts, `(end=1)` when it ends.
    let heard: String = log
        .lines()
        .filter(|l| l.contains("(end=0)"))
        .filter_map(|l| l.split("received event: '").nth(1))
        .filter_map(|rest| rest.chars().next())
        .collect();
    assert_eq!(heard, "15#*9", "baresip said:\n{log}");
}

#[tokio::test]
async fn a_peer_without_telephone_event_gets_the_keys_as_sip_info() {
    let (sipp, port) = support::sipp::sipp("uas_info_dtmf.xml");
    let (ep, cancel) = endpoint(SocketAddr::from(([127, 0, 0, 1], port))).await;
    let call = dial(&ep, "+15550123").await;
    timeout(GUARD, call.control.send_dtmf("1,5#"))
        .await
        .expect("keys sent")
        .expect("each INFO answered 200");
    assert_eq!(
        call.control.send_dtmf("7x").await,
        Err(switchboard::transport::sip::DtmfError::InvalidDigit('x')),
        "nothing is sent for an invalid key"
    );
    call.control.hangup().await;
    support::sipp::sipp_succeeded(sipp, GUARD).await;
    cancel.cancel();
}

/// A callee made of two UDP sockets: answers the INVITE offering telephone-event as payload
/// type 96, and returns the RTP socket.
async fn bare_callee(sip: &UdpSocket) -> UdpSocket {
    let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut buf = vec![0; 65_536];
    let (n, from) = timeout(GUARD, sip.recv_from(&mut buf))
        .await
        .expect("an INVITE")
        .unwrap();
    let invite = SipMessage::parse(&buf[..n]).unwrap();
    assert_eq!(invite.method(), Some("INVITE"));
    let port = rtp.local_addr().unwrap().port();
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n"
    );
    let mut ok = response(&invite, 200, "OK", Some("callee1"), from);
    let me = sip.local_addr().unwrap();
    ok.set_header("Contact", format!("<sip:callee@{me}>"));
    ok.set_header("Content-Type", "application/sdp");
    ok.body = sdp.into_bytes();
    sip.send_to(&ok.to_bytes(), from).await.unwrap();
    rtp
}

#[tokio::test]
async fn key_packets_on_the_wire_follow_rfc_4733() {
    let sip = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (ep, cancel) = endpoint(sip.local_addr().unwrap()).await;
    let (call, rtp) = tokio::join!(dial(&ep, "+15550123"), bare_callee(&sip));
    timeout(GUARD, call.control.send_dtmf("1 2"))
        .await
        .expect("keys sent")
        .expect("keys accepted");
    let mut packets = Vec::new();
    let mut buf = vec![0; 2048];
    while let Ok(Ok(n)) = timeout(Duration::from_millis(300), rtp.recv(&mut buf)).await {
        if let Some(p) = RtpPacket::parse(&buf[..n]) {
            packets.push(p);
        }
    }
    call.control.hangup().await;
    cancel.cancel();

    assert!(!packets.is_empty(), "no RTP reached the callee");
    assert!(packets.iter().all(|p| p.payload_type == 96), "{packets:?}");
    for w in packets.windows(2) {
        assert_eq!(
            w[1].seq,
            w[0].seq.wrapping_add(1),
            "sequence numbers run on"
        );
        assert_eq!(w[1].ssrc, w[0].ssrc);
    }
    let mut events: Vec<Vec<(RtpPacket, TelephoneEvent)>> = Vec::new();
    for p in packets {
        let ev = TelephoneEvent::parse(&p.payload).expect("a telephone-event payload");
        match events.last_mut() {
            Some(e) if e[0].0.timestamp == p.timestamp => e.push((p, ev)),
            _ => events.push(vec![(p, ev)]),
        }
    }
    assert_eq!(events.len(), 2, "one timestamp per key");
    for (keys, code) in events.iter().zip([1u8, 2]) {
        assert!(keys[0].0.marker, "the first packet of an event is marked");
        assert!(keys[1..].iter().all(|(p, _)| !p.marker));
        assert!(keys.iter().all(|(_, e)| e.event == code));
        let durations: Vec<u16> = keys.iter().map(|(_, e)| e.duration).collect();
        assert!(durations.windows(2).all(|d| d[1] >= d[0]), "{durations:?}");
        assert_eq!(
            keys.iter().filter(|(_, e)| e.end).count(),
            3,
            "three end packets"
        );
        assert!(keys.iter().rev().take(3).all(|(_, e)| e.end));
        assert_eq!(durations.last(), Some(&1280), "160 ms at 8 kHz");
    }
    // The second key starts after the first one's tone and the gap, on the 8 kHz clock.
    let gap = events[1][0]
        .0
        .timestamp
        .wrapping_sub(events[0][0].0.timestamp);
    assert!((2_200..4_000).contains(&gap), "timestamp step {gap}");
}
