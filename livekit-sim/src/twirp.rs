//! Twirp services (`POST /twirp/<package.Service>/<Method>`): RoomService.ListParticipants /
//! RemoveParticipant, SIP.CreateSIPParticipant / TransferSIPParticipant,
//! AgentDispatchService.CreateDispatch.
//!
//! Bodies are protobuf (`application/protobuf`, what livekit-api's clients send) or JSON
//! (`application/json`, protobuf JSON names); the reply uses the request's encoding. Every call
//! needs a JWT signed with the configured secret carrying the service's grant (room admin for
//! rooms and dispatch, SIP call or admin for SIP). Errors are twirp JSON errors.

use std::sync::Arc;

use livekit_protocol as proto;

use crate::http::Head;
use crate::simulator::Shared;

/// An HTTP reply.
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

fn error(code: &str, msg: &str, sip_status: Option<u16>) -> Reply {
    let status = match code {
        "unauthenticated" => 401,
        "permission_denied" => 403,
        "not_found" | "bad_route" => 404,
        "invalid_argument" | "malformed" => 400,
        "already_exists" => 409,
        "deadline_exceeded" => 408,
        "unavailable" => 503,
        _ => 500,
    };
    let mut body = serde_json::json!({ "code": code, "msg": msg });
    if let Some(sip) = sip_status {
        body["meta"] = serde_json::json!({ "sip_status_code": sip.to_string() });
    }
    Reply {
        status,
        content_type: "application/json".to_owned(),
        body: body.to_string().into_bytes(),
    }
}

fn decode<T>(json: bool, body: &[u8]) -> Result<T, Reply>
where
    T: prost::Message + Default + serde::de::DeserializeOwned,
{
    if json {
        serde_json::from_slice(body).map_err(|e| error("malformed", &e.to_string(), None))
    } else {
        T::decode(body).map_err(|e| error("malformed", &e.to_string(), None))
    }
}

fn encode<T: prost::Message + serde::Serialize>(json: bool, value: &T) -> Reply {
    if json {
        Reply {
            status: 200,
            content_type: "application/json".to_owned(),
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    } else {
        Reply {
            status: 200,
            content_type: "application/protobuf".to_owned(),
            body: value.encode_to_vec(),
        }
    }
}

/// Serves one twirp call.
pub(crate) async fn handle(shared: &Arc<Shared>, head: &Head, path: &str, body: &[u8]) -> Reply {
    let json = head
        .headers
        .get("content-type")
        .is_some_and(|c| c.contains("json"));
    let claims = match shared.verify(head.token().as_deref()) {
        Ok(claims) => claims,
        Err(e) => return error("unauthenticated", &e, None),
    };
    let method = path.trim_start_matches("/twirp/");
    let sip_allowed = claims.sip.call || claims.sip.admin;
    let room_admin = claims.video.room_admin;
    match method {
        "livekit.RoomService/ListParticipants" => {
            if !room_admin {
                return error("permission_denied", "needs roomAdmin", None);
            }
            let request: proto::ListParticipantsRequest = match decode(json, body) {
                Ok(r) => r,
                Err(reply) => return reply,
            };
            let participants = shared.rooms.participants(&request.room);
            encode(json, &proto::ListParticipantsResponse { participants })
        }
        "livekit.RoomService/RemoveParticipant" => {
            if !room_admin {
                return error("permission_denied", "needs roomAdmin", None);
            }
            let request: proto::RoomParticipantIdentity = match decode(json, body) {
                Ok(r) => r,
                Err(reply) => return reply,
            };
            if remove_participant(shared, &request.room, &request.identity).await {
                encode(json, &proto::RemoveParticipantResponse {})
            } else {
                error("not_found", "participant not found", None)
            }
        }
        "livekit.AgentDispatchService/CreateDispatch" => {
            if !room_admin {
                return error("permission_denied", "needs roomAdmin", None);
            }
            let request: proto::CreateAgentDispatchRequest = match decode(json, body) {
                Ok(r) => r,
                Err(reply) => return reply,
            };
            let id = crate::agent::dispatch(
                shared,
                &request.room,
                &request.agent_name,
                &request.metadata,
            );
            encode(
                json,
                &proto::AgentDispatch {
                    id,
                    agent_name: request.agent_name,
                    room: request.room,
                    metadata: request.metadata,
                    ..Default::default()
                },
            )
        }
        "livekit.SIP/CreateSIPParticipant" => {
            if !sip_allowed {
                return error("permission_denied", "needs a SIP call grant", None);
            }
            let request: proto::CreateSipParticipantRequest = match decode(json, body) {
                Ok(r) => r,
                Err(reply) => return reply,
            };
            match crate::sip::create(shared, request).await {
                Ok(info) => encode(json, &info),
                Err((code, msg, sip)) => error(code, &msg, sip),
            }
        }
        "livekit.SIP/TransferSIPParticipant" => {
            if !sip_allowed {
                return error("permission_denied", "needs a SIP call grant", None);
            }
            let request: proto::TransferSipParticipantRequest = match decode(json, body) {
                Ok(r) => r,
                Err(reply) => return reply,
            };
            match crate::sip::transfer(shared, request).await {
                Ok(()) if json => Reply {
                    status: 200,
                    content_type: "application/json".to_owned(),
                    body: b"{}".to_vec(),
                },
                Ok(()) => Reply {
                    status: 200,
                    content_type: "application/protobuf".to_owned(),
                    body: Vec::new(),
                },
                Err((code, msg, sip)) => error(code, &msg, sip),
            }
        }
        _ => error("bad_route", &format!("no method {method}"), None),
    }
}

/// `RemoveParticipant`: a connected client is told `LeaveRequest{DISCONNECT,
/// PARTICIPANT_REMOVED}` and its session ends; a participant living in the simulator just
/// leaves. False when there is no such participant.
async fn remove_participant(shared: &Shared, room: &str, identity: &str) -> bool {
    use proto::DisconnectReason::ParticipantRemoved;
    let disconnect = proto::leave_request::Action::Disconnect;
    if crate::join::server_leave(shared, room, identity, disconnect, ParticipantRemoved).await {
        return true;
    }
    let Some(sid) = shared.rooms.member_sid(room, identity) else {
        return false;
    };
    shared
        .rooms
        .leave(room, identity, &sid, ParticipantRemoved)
        .is_some()
}
