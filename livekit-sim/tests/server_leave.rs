//! The server taking a participant away, at the wire (`/rtc` protobuf over a raw WebSocket):
//! `Simulator::send_leave` sends `LeaveRequest` with the asked action and closes the socket;
//! RECONNECT and DISCONNECT end the session (the others see the participant leave), RESUME
//! keeps it for a resume; a resume of an ended session is refused with
//! `LeaveRequest{RECONNECT, STATE_MISMATCH}`; a second join of an identity replaces the first,
//! which is told `DUPLICATE_IDENTITY`; twirp `RemoveParticipant` is a DISCONNECT with
//! `PARTICIPANT_REMOVED`.

use futures::{SinkExt, StreamExt};
use livekit_api::services::room::RoomClient;
use livekit_protocol as proto;
use livekit_sim::{SimConfig, Simulator};
use prost::Message as _;
use proto::leave_request::Action;
use proto::signal_response::Message as Resp;
use proto::DisconnectReason;
use tokio::time::{sleep, timeout, Duration};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Hang guard (not a performance bound).
const PATIENCE: Duration = Duration::from_secs(20);
const ROOM: &str = "leave-room";

async fn connect(sim: &Simulator, identity: &str, resume_sid: Option<&str>) -> Ws {
    let mut url = format!(
        "{}/rtc?sdk=rust&protocol=16&auto_subscribe=1&adaptive_stream=0",
        sim.ws_url()
    );
    if let Some(sid) = resume_sid {
        url.push_str(&format!("&reconnect=1&sid={sid}"));
    }
    let mut request = url.into_client_request().expect("request");
    let bearer = format!("Bearer {}", sim.token(ROOM, identity));
    request
        .headers_mut()
        .insert("Authorization", bearer.parse().expect("header"));
    tokio_tungstenite::connect_async(request)
        .await
        .expect("connect")
        .0
}

/// The next signal message, or `None` once the server closed the socket.
async fn next(ws: &mut Ws) -> Option<Resp> {
    timeout(PATIENCE, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(bytes))) => {
                    let r = proto::SignalResponse::decode(bytes.as_ref()).expect("decode");
                    return r.message;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the server answers or closes")
}

/// Joins and returns the socket and our participant sid.
async fn join(sim: &Simulator, identity: &str) -> (Ws, String) {
    let mut ws = connect(sim, identity, None).await;
    match next(&mut ws).await {
        Some(Resp::Join(j)) => {
            let sid = j.participant.expect("participant").sid;
            (ws, sid)
        }
        other => panic!("expected JoinResponse, got {other:?}"),
    }
}

/// Reads until a `LeaveRequest`, then checks the socket is closed after it.
async fn leave_then_close(ws: &mut Ws) -> proto::LeaveRequest {
    loop {
        match next(ws).await {
            Some(Resp::Leave(l)) => {
                while let Some(m) = next(ws).await {
                    assert!(
                        !matches!(m, Resp::Join(_) | Resp::Reconnect(_)),
                        "{m:?} after the leave"
                    );
                }
                return l;
            }
            Some(_) => {}
            None => panic!("closed without a LeaveRequest"),
        }
    }
}

/// Waits until `watcher` hears that the participant `sid` disconnected.
async fn hears_left(watcher: &mut Ws, sid: &str) {
    loop {
        match next(watcher).await {
            Some(Resp::Update(u))
                if u.participants.iter().any(|p| {
                    p.sid == sid && p.state == proto::participant_info::State::Disconnected as i32
                }) =>
            {
                return
            }
            Some(_) => {}
            None => panic!("the watcher's socket closed"),
        }
    }
}

async fn sids(sim: &Simulator, identity: &str) -> Vec<String> {
    sim.participants(ROOM)
        .await
        .into_iter()
        .filter(|p| p.identity == identity)
        .map(|p| p.sid)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_reconnect_resume_disconnect_and_refused_resume() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let (mut watcher, _) = join(&sim, "watcher").await;
    let (mut bob, bob_sid) = join(&sim, "bob").await;

    // RECONNECT: told, closed, gone from the room at once, and the others hear it.
    assert!(
        sim.send_leave(
            ROOM,
            "bob",
            Action::Reconnect,
            DisconnectReason::StateMismatch
        )
        .await
    );
    let leave = leave_then_close(&mut bob).await;
    assert_eq!(leave.action, Action::Reconnect as i32);
    assert_eq!(leave.reason, DisconnectReason::StateMismatch as i32);
    assert!(sids(&sim, "bob").await.is_empty());
    hears_left(&mut watcher, &bob_sid).await;

    // The old session cannot be resumed: the refusal asks for a full reconnect.
    let mut resume = connect(&sim, "bob", Some(&bob_sid)).await;
    let refused = leave_then_close(&mut resume).await;
    assert_eq!(refused.action, Action::Reconnect as i32);
    assert_eq!(refused.reason, DisconnectReason::StateMismatch as i32);

    // A fresh join is a new participant.
    let (mut bob, new_sid) = join(&sim, "bob").await;
    assert_ne!(new_sid, bob_sid);
    assert_eq!(sids(&sim, "bob").await, vec![new_sid.clone()]);

    // RESUME: told and closed, but kept, and the resume is accepted with the same sid.
    assert!(
        sim.send_leave(ROOM, "bob", Action::Resume, DisconnectReason::Migration)
            .await
    );
    assert_eq!(
        leave_then_close(&mut bob).await.action,
        Action::Resume as i32
    );
    let mut bob = connect(&sim, "bob", Some(&new_sid)).await;
    assert!(
        matches!(next(&mut bob).await, Some(Resp::Reconnect(_))),
        "the resume is accepted"
    );
    assert_eq!(sids(&sim, "bob").await, vec![new_sid.clone()]);

    // A second join of the identity replaces the first, which is told why.
    let (_bob2, third_sid) = join(&sim, "bob").await;
    let replaced = leave_then_close(&mut bob).await;
    assert_eq!(replaced.action, Action::Disconnect as i32);
    assert_eq!(replaced.reason, DisconnectReason::DuplicateIdentity as i32);
    assert_eq!(sids(&sim, "bob").await, vec![third_sid.clone()]);

    // DISCONNECT: told, closed and gone.
    assert!(
        sim.send_leave(
            ROOM,
            "bob",
            Action::Disconnect,
            DisconnectReason::ParticipantRemoved
        )
        .await
    );
    hears_left(&mut watcher, &third_sid).await;
    assert!(sids(&sim, "bob").await.is_empty());
    assert!(
        !sim.send_leave(
            ROOM,
            "nobody",
            Action::Disconnect,
            DisconnectReason::ParticipantRemoved
        )
        .await
    );
    let _ = watcher.send(Message::Close(None)).await;
    // A forgotten session's resume is refused the same way.
    let (_carol, carol_sid) = join(&sim, "carol").await;
    assert!(sim.expire_session(ROOM, "carol").await);
    while !sids(&sim, "carol").await.is_empty() {
        sleep(Duration::from_millis(10)).await;
    }
    let mut resume = connect(&sim, "carol", Some(&carol_sid)).await;
    assert_eq!(
        leave_then_close(&mut resume).await.action,
        Action::Reconnect as i32
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_participant_disconnects_the_client() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let (mut bob, _) = join(&sim, "bob").await;
    let rooms = RoomClient::with_api_key(&sim.http_url(), "devkey", &sim.config().api_secret);
    rooms
        .remove_participant(ROOM, "bob")
        .await
        .expect("bob is removed");
    let leave = leave_then_close(&mut bob).await;
    assert_eq!(leave.action, Action::Disconnect as i32);
    assert_eq!(leave.reason, DisconnectReason::ParticipantRemoved as i32);
    assert!(sids(&sim, "bob").await.is_empty());
    rooms
        .remove_participant(ROOM, "bob")
        .await
        .expect_err("nobody to remove");
    sim.shutdown().await;
}
