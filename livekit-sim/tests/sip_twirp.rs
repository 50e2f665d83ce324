//! The twirp services through livekit-api's official clients: outbound SIP calls (answered,
//! busy, unanswered), the SIP participant's `sip.callStatus` progression and audio, transfer,
//! ListParticipants, CreateDispatch, and refused tokens.

mod common;

use std::time::Duration;

use livekit_api::services::agent_dispatch::AgentDispatchClient;
use livekit_api::services::room::RoomClient;
use livekit_api::services::sip::{
    CreateSIPParticipantOptions, SIPClient, TransferSIPParticipantOptions,
};
use livekit_protocol as proto;
use livekit_sim::{ParticipantSpec, SimConfig, Simulator, SipBehaviour};

fn sip_client(sim: &Simulator) -> SIPClient {
    SIPClient::with_api_key(
        &sim.http_url(),
        &sim.config().api_key,
        &sim.config().api_secret,
    )
}

fn options(identity: &str, wait: bool) -> CreateSIPParticipantOptions {
    CreateSIPParticipantOptions {
        participant_identity: identity.to_owned(),
        sip_number: Some("+15550001111".to_owned()),
        wait_until_answered: Some(wait),
        ringing_timeout: Some(Duration::from_millis(800)),
        ..Default::default()
    }
}

async fn call_status(sim: &Simulator, room: &str, identity: &str) -> Option<String> {
    sim.participants(room)
        .await
        .into_iter()
        .find(|p| p.identity == identity)
        .and_then(|p| p.attributes.get("sip.callStatus").cloned())
}

#[tokio::test]
async fn an_answered_call_goes_dialing_ringing_active_and_its_audio_is_heard() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    sim.set_sip_behaviour(
        "+15557654321",
        SipBehaviour::Answer {
            ring: Duration::from_millis(300),
            audio: common::tone(500.0, 1.0, 8_000.0),
        },
    );
    let listener = sim
        .add_participant(
            "call-1",
            ParticipantSpec {
                identity: "agent".to_owned(),
                kind: proto::participant_info::Kind::Agent,
                ..Default::default()
            },
        )
        .await
        .expect("agent joins");
    let info = sip_client(&sim)
        .create_sip_participant(
            "ST_trunk".to_owned(),
            "+15557654321".to_owned(),
            "call-1".to_owned(),
            options("callee", false),
            None,
        )
        .await
        .expect("CreateSIPParticipant");
    assert_eq!(info.participant_identity, "callee");
    assert_eq!(info.room_name, "call-1");
    assert!(info.sip_call_id.starts_with("SCL_"));
    // Returned at once: still dialing (or already ringing), then active.
    let first = call_status(&sim, "call-1", "callee").await;
    assert!(
        matches!(first.as_deref(), Some("dialing" | "ringing")),
        "{first:?}"
    );
    let callee = sim
        .participants("call-1")
        .await
        .into_iter()
        .find(|p| p.identity == "callee")
        .expect("the SIP participant is in the room");
    assert_eq!(callee.kind, proto::participant_info::Kind::Sip as i32);
    assert_eq!(callee.attributes["sip.phoneNumber"], "+15557654321");
    assert_eq!(callee.attributes["sip.trunkPhoneNumber"], "+15550001111");
    while call_status(&sim, "call-1", "callee").await.as_deref() != Some("active") {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The callee's greeting reaches the agent.
    while common::windows_with_tone(&listener.received_audio(), 500.0, 2_000.0) < 8 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // ListParticipants through RoomClient.
    let rooms = RoomClient::with_api_key(&sim.http_url(), "devkey", &sim.config().api_secret);
    let mut listed: Vec<String> = rooms
        .list_participants("call-1")
        .await
        .expect("ListParticipants")
        .into_iter()
        .map(|p| p.identity)
        .collect();
    listed.sort();
    assert_eq!(listed, vec!["agent".to_owned(), "callee".to_owned()]);

    // Transfer: recorded, then the SIP participant leaves.
    sip_client(&sim)
        .transfer_sip_participant(
            "call-1".to_owned(),
            "callee".to_owned(),
            "tel:+15550009999".to_owned(),
            TransferSIPParticipantOptions {
                play_dialtone: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("TransferSIPParticipant");
    let transfers = sim.sip_transfers();
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].transfer_to, "tel:+15550009999");
    assert!(transfers[0].play_dialtone);
    assert!(call_status(&sim, "call-1", "callee").await.is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn busy_and_unanswered_numbers_fail_with_their_sip_status_when_waiting() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    sim.set_sip_behaviour(
        "+1busy",
        SipBehaviour::Busy {
            ring: Duration::from_millis(100),
        },
    );
    sim.set_sip_behaviour("+1silent", SipBehaviour::NoAnswer);
    let client = sip_client(&sim);
    let busy = client
        .create_sip_participant(
            "ST_t".into(),
            "+1busy".into(),
            "r".into(),
            options("b", true),
            None,
        )
        .await
        .expect_err("busy must fail");
    assert!(busy.to_string().contains("Busy"), "{busy}");
    let silent = client
        .create_sip_participant(
            "ST_t".into(),
            "+1silent".into(),
            "r".into(),
            options("s", true),
            None,
        )
        .await
        .expect_err("no answer must fail");
    assert!(silent.to_string().contains("Unavailable"), "{silent}");
    assert!(
        sim.participants("r").await.is_empty(),
        "failed calls leave the room"
    );

    // Without waiting, an unanswered call is ringing, then leaves at the ringing timeout.
    client
        .create_sip_participant(
            "ST_t".into(),
            "+1silent".into(),
            "r".into(),
            options("s2", false),
            None,
        )
        .await
        .expect("returns while dialing");
    while call_status(&sim, "r", "s2").await.as_deref() != Some("ringing") {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    while call_status(&sim, "r", "s2").await.is_some() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn create_dispatch_makes_a_job_and_bad_tokens_are_refused() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let dispatch =
        AgentDispatchClient::with_api_key(&sim.http_url(), "devkey", &sim.config().api_secret)
            .create_dispatch(proto::CreateAgentDispatchRequest {
                agent_name: "receptionist".into(),
                room: "lobby".into(),
                metadata: "m".into(),
                ..Default::default()
            })
            .await
            .expect("CreateDispatch");
    assert_eq!(dispatch.agent_name, "receptionist");
    let jobs = sim.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].id, dispatch.id);
    assert_eq!(jobs[0].room, "lobby");

    let wrong = RoomClient::with_api_key(
        &sim.http_url(),
        "devkey",
        "not-the-secret-not-the-secret-00",
    );
    let refused = wrong
        .list_participants("lobby")
        .await
        .expect_err("wrong secret");
    assert!(
        refused
            .to_string()
            .to_lowercase()
            .contains("unauthenticated"),
        "{refused}"
    );
    sim.shutdown().await;
}
