//! The `/rtc` signal protocol at the wire: token checks, the JoinResponse a LiveKit client
//! expects, the first subscriber offer (data channels), ping/pong and leave.

use futures::{SinkExt, StreamExt};
use livekit_protocol as proto;
use livekit_sim::{ParticipantSpec, SimConfig, Simulator};
use prost::Message as _;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(sim: &Simulator, token: &str) -> Result<Ws, String> {
    let url = format!(
        "{}/rtc?sdk=rust&protocol=16&auto_subscribe=1&adaptive_stream=0",
        sim.ws_url()
    );
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    let bearer = format!("Bearer {token}");
    request.headers_mut().insert(
        "Authorization",
        bearer.parse().map_err(|_| "header".to_owned())?,
    );
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

async fn recv(ws: &mut Ws) -> proto::signal_response::Message {
    loop {
        if let Message::Binary(bytes) = ws.next().await.expect("open").expect("frame") {
            let response = proto::SignalResponse::decode(bytes.as_ref()).expect("decode");
            return response.message.expect("message");
        }
    }
}

async fn send(ws: &mut Ws, message: proto::signal_request::Message) {
    let bytes = proto::SignalRequest {
        message: Some(message),
    }
    .encode_to_vec();
    ws.send(Message::Binary(bytes.into())).await.expect("send");
}

#[tokio::test]
async fn join_response_subscriber_offer_ping_and_leave() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let _caller = sim
        .add_participant(
            "room-a",
            ParticipantSpec::sip_caller("caller", "+1555", "+1666", vec![]),
        )
        .await
        .expect("caller");

    // A token signed with another secret is refused at the handshake.
    let forged = Simulator::start(SimConfig {
        api_key: "devkey".into(),
        api_secret: "another-secret-another-secret-000".into(),
    })
    .await
    .expect("second simulator");
    let refused = connect(&sim, &forged.token("room-a", "mallory"))
        .await
        .expect_err("forged");
    assert!(refused.contains("401"), "{refused}");

    let mut ws = connect(&sim, &sim.token("room-a", "agent"))
        .await
        .expect("connect");
    let join = match recv(&mut ws).await {
        proto::signal_response::Message::Join(join) => join,
        other => panic!("first message must be JoinResponse, got {other:?}"),
    };
    assert!(join.subscriber_primary);
    assert_eq!(join.room.as_ref().map(|r| r.name.as_str()), Some("room-a"));
    let me = join.participant.expect("participant");
    assert_eq!(me.identity, "agent");
    assert!(me.sid.starts_with("PA_"));
    assert!(join.ping_interval > 0 && join.ping_timeout > join.ping_interval);
    assert!(join.server_info.is_some_and(|s| s.protocol >= 9));
    let caller = &join.other_participants[0];
    assert_eq!(caller.identity, "caller");
    assert_eq!(caller.kind, proto::participant_info::Kind::Sip as i32);
    assert_eq!(caller.attributes["sip.phoneNumber"], "+1555");

    // The server offers the subscriber PC at once, with its data channels (the caller's track
    // follows in the next offer, once this one is answered: see the Python client test).
    let offer = loop {
        if let proto::signal_response::Message::Offer(offer) = recv(&mut ws).await {
            break offer;
        }
    };
    assert!(offer.sdp.contains("m=application"), "{}", offer.sdp);
    assert!(
        !caller.tracks.is_empty(),
        "the caller's track is announced in the join"
    );
    send(
        &mut ws,
        proto::signal_request::Message::PingReq(proto::Ping {
            timestamp: 7,
            rtt: 0,
        }),
    )
    .await;
    loop {
        if let proto::signal_response::Message::PongResp(pong) = recv(&mut ws).await {
            assert_eq!(pong.last_ping_timestamp, 7);
            break;
        }
    }
    send(
        &mut ws,
        proto::signal_request::Message::Leave(proto::LeaveRequest {
            reason: proto::DisconnectReason::ClientInitiated as i32,
            ..Default::default()
        }),
    )
    .await;
    while sim
        .participants("room-a")
        .await
        .iter()
        .any(|p| p.identity == "agent")
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    forged.shutdown().await;
    sim.shutdown().await;
}
