//! The simulator's rooms: who is in which room, what they publish, who hears what.
//!
//! One `Rooms` value is shared by every connection task. Its mutex is held only for short,
//! non-awaiting sections; anything slow (renegotiating a subscriber PC, sending signal
//! messages) happens after the lock is released, on the handles copied out of it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use livekit_protocol as proto;

use crate::forward::{Fanout, Sink};
use crate::sim::SimInbox;
use crate::subscriber::SubscriberHandle;

/// The current WebSocket of a participant (replaced when the participant resumes).
#[derive(Clone, Default)]
pub(crate) struct SignalLink(Arc<Mutex<Option<tokio::sync::mpsc::Sender<proto::SignalResponse>>>>);

impl SignalLink {
    /// Attaches (or detaches, with `None`) a WebSocket's outgoing queue.
    pub fn attach(&self, sender: Option<tokio::sync::mpsc::Sender<proto::SignalResponse>>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = sender;
    }

    /// Detaches `sender`'s WebSocket, unless another socket (a resume) has replaced it.
    pub fn detach(&self, sender: &tokio::sync::mpsc::Sender<proto::SignalResponse>) {
        let mut current = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_some_and(|c| c.same_channel(sender)) {
            *current = None;
        }
    }

    /// Sends one signal message if a WebSocket is attached (dropped when its queue is full).
    pub fn send(&self, message: proto::signal_response::Message) {
        let sender = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(sender) = sender {
            let response = proto::SignalResponse {
                message: Some(message),
            };
            if sender.try_send(response).is_err() {
                tracing::warn!("signal queue full or closed: message dropped");
            }
        }
    }
}

/// A participant connected over WebSocket + WebRTC, as the room sees it.
pub(crate) struct RemoteEndpoint {
    /// Signal messages to the participant.
    pub signal: SignalLink,
    /// The server-side subscriber PC's actor.
    pub subscriber: SubscriberHandle,
    /// Notified by `Simulator::drop_connection` to cut the WebSocket.
    pub drop_ws: tokio::sync::Notify,
}

impl RemoteEndpoint {
    /// Sends one signal message if a WebSocket is attached.
    pub fn send(&self, message: proto::signal_response::Message) {
        self.signal.send(message);
    }
}

/// How the room reaches a participant.
#[derive(Clone)]
pub(crate) enum Endpoint {
    /// A real client.
    Remote(Arc<RemoteEndpoint>),
    /// A participant living in the simulator.
    Sim(Arc<SimInbox>),
}

/// One participant.
pub(crate) struct Member {
    pub info: proto::ParticipantInfo,
    pub endpoint: Endpoint,
}

/// One published track and its subscribers.
pub(crate) struct Publication {
    pub owner: String,
    pub owner_sid: String,
    pub info: proto::TrackInfo,
    pub fanout: Fanout,
}

/// One room.
pub(crate) struct Room {
    pub info: proto::Room,
    pub members: HashMap<String, Member>,
    pub publications: HashMap<String, Arc<Publication>>,
}

impl Room {
    /// Every member's info (for `ParticipantUpdate` and `ListParticipants`).
    pub fn infos(&self) -> Vec<proto::ParticipantInfo> {
        self.members.values().map(|m| m.info.clone()).collect()
    }

    /// The remote endpoints of every member but `except`.
    pub fn remotes_except(&self, except: &str) -> Vec<Arc<RemoteEndpoint>> {
        self.members
            .iter()
            .filter(|(identity, _)| identity.as_str() != except)
            .filter_map(|(_, m)| match &m.endpoint {
                Endpoint::Remote(r) => Some(r.clone()),
                Endpoint::Sim(_) => None,
            })
            .collect()
    }
}

/// All rooms, plus the id generator.
#[derive(Default)]
pub(crate) struct Rooms {
    rooms: Mutex<HashMap<String, Room>>,
    next_id: AtomicU64,
}

impl Rooms {
    /// A fresh id with a LiveKit-style prefix (`RM_`, `PA_`, `TR_`, `AJ_`, ...).
    pub fn new_id(&self, prefix: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{prefix}{n:010X}")
    }

    /// Locks the map (poisoning is ignored: the state stays usable for tests).
    pub fn lock(&self) -> MutexGuard<'_, HashMap<String, Room>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gets or creates a room, returning its info.
    pub fn ensure_room(&self, name: &str) -> (proto::Room, bool) {
        let sid = self.new_id("RM_");
        let mut rooms = self.lock();
        let mut created = false;
        let room = rooms.entry(name.to_owned()).or_insert_with(|| {
            created = true;
            Room {
                info: proto::Room {
                    sid,
                    name: name.to_owned(),
                    empty_timeout: 300,
                    departure_timeout: 20,
                    creation_time: now_ms() / 1000,
                    creation_time_ms: now_ms(),
                    ..Default::default()
                },
                members: HashMap::new(),
                publications: HashMap::new(),
            }
        });
        (room.info.clone(), created)
    }

    /// Adds a member; returns the other members' infos, or `None` if the identity is taken.
    pub fn join(&self, room: &str, member: Member) -> Option<Vec<proto::ParticipantInfo>> {
        let mut rooms = self.lock();
        let room = rooms.get_mut(room)?;
        if room.members.contains_key(&member.info.identity) {
            return None;
        }
        let others = room.infos();
        let joined = member.info.clone();
        room.members.insert(joined.identity.clone(), member);
        room.info.num_participants = room.members.len() as u32;
        let update = participant_update(vec![joined.clone()]);
        for remote in room.remotes_except(&joined.identity) {
            remote.send(update.clone());
        }
        Some(others)
    }

    /// Removes the member `identity` whose participant sid is `sid` (a later session of the
    /// same identity is left alone) and its publications, tells the others, and unsubscribes
    /// them.
    pub fn leave(
        &self,
        room: &str,
        identity: &str,
        sid: &str,
        reason: proto::DisconnectReason,
    ) -> Option<Member> {
        let mut rooms = self.lock();
        let room = rooms.get_mut(room)?;
        if room.members.get(identity)?.info.sid != sid {
            return None;
        }
        let mut member = room.members.remove(identity)?;
        let gone: Vec<String> = room
            .publications
            .iter()
            .filter(|(_, p)| p.owner == identity)
            .map(|(sid, _)| sid.clone())
            .collect();
        for sid in &gone {
            if let Some(publication) = room.publications.remove(sid) {
                for (subscriber, _) in publication.fanout.take_all() {
                    if let Some(Endpoint::Remote(r)) =
                        room.members.get(&subscriber).map(|m| &m.endpoint)
                    {
                        r.subscriber.remove_track(sid.clone());
                    }
                }
            }
        }
        for publication in room.publications.values() {
            publication.fanout.remove_subscriber(identity);
        }
        room.info.num_participants = room.members.len() as u32;
        member.info.state = proto::participant_info::State::Disconnected as i32;
        member.info.tracks.clear();
        member.info.disconnect_reason = reason as i32;
        let update = participant_update(vec![member.info.clone()]);
        for remote in room.remotes_except(identity) {
            remote.send(update.clone());
        }
        Some(member)
    }

    /// Registers a publication that now carries media, records it in the owner's info,
    /// broadcasts the update and subscribes every other member to it.
    pub fn publish(&self, room: &str, publication: Arc<Publication>) {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(room) else {
            return;
        };
        let Some(owner) = room.members.get_mut(&publication.owner) else {
            return;
        };
        owner.info.tracks.push(publication.info.clone());
        owner.info.is_publisher = true;
        owner.info.version += 1;
        let update = participant_update(vec![owner.info.clone()]);
        room.publications
            .insert(publication.info.sid.clone(), publication.clone());
        for remote in room.remotes_except(&publication.owner) {
            remote.send(update.clone());
        }
        let subscribers: Vec<(String, Endpoint)> = room
            .members
            .iter()
            .filter(|(identity, _)| identity.as_str() != publication.owner)
            .map(|(identity, m)| (identity.clone(), m.endpoint.clone()))
            .collect();
        drop(rooms);
        for (identity, endpoint) in subscribers {
            subscribe(&identity, &endpoint, &publication);
        }
    }

    /// Subscribes a (new) member to every publication already in the room.
    pub fn subscribe_existing(&self, room: &str, identity: &str) {
        let rooms = self.lock();
        let Some(room) = rooms.get(room) else {
            return;
        };
        let Some(endpoint) = room.members.get(identity).map(|m| m.endpoint.clone()) else {
            return;
        };
        let publications: Vec<Arc<Publication>> = room
            .publications
            .values()
            .filter(|p| p.owner != identity)
            .cloned()
            .collect();
        drop(rooms);
        for publication in publications {
            subscribe(identity, &endpoint, &publication);
        }
    }

    /// The endpoints `packet` goes to: everyone but the sender, or the named destinations.
    pub fn data_targets(&self, room: &str, from: &str, to: &[String]) -> Vec<Endpoint> {
        let rooms = self.lock();
        let Some(room) = rooms.get(room) else {
            return Vec::new();
        };
        room.members
            .iter()
            .filter(|(identity, _)| identity.as_str() != from)
            .filter(|(identity, _)| to.is_empty() || to.iter().any(|t| t == *identity))
            .map(|(_, m)| m.endpoint.clone())
            .collect()
    }

    /// Changes a member's info, bumps its version and tells everyone (the member included).
    pub fn update_info(
        &self,
        room: &str,
        identity: &str,
        change: impl FnOnce(&mut proto::ParticipantInfo),
    ) {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(room) else {
            return;
        };
        let Some(member) = room.members.get_mut(identity) else {
            return;
        };
        change(&mut member.info);
        member.info.version += 1;
        let update = participant_update(vec![member.info.clone()]);
        for remote in room.remotes_except("") {
            remote.send(update.clone());
        }
    }

    /// A member's participant sid.
    pub fn member_sid(&self, room: &str, identity: &str) -> Option<String> {
        Some(
            self.lock()
                .get(room)?
                .members
                .get(identity)?
                .info
                .sid
                .clone(),
        )
    }

    /// A member's remote endpoint.
    pub fn remote(&self, room: &str, identity: &str) -> Option<Arc<RemoteEndpoint>> {
        match &self.lock().get(room)?.members.get(identity)?.endpoint {
            Endpoint::Remote(r) => Some(r.clone()),
            Endpoint::Sim(_) => None,
        }
    }

    /// Every member's info in a room.
    pub fn participants(&self, room: &str) -> Vec<proto::ParticipantInfo> {
        self.lock().get(room).map(Room::infos).unwrap_or_default()
    }
}

/// Hooks a member up to a publication's media.
fn subscribe(identity: &str, endpoint: &Endpoint, publication: &Arc<Publication>) {
    match endpoint {
        Endpoint::Remote(remote) => remote.subscriber.add_track(publication.clone()),
        Endpoint::Sim(inbox) => publication.fanout.add(
            identity.to_owned(),
            Sink::Sim(inbox.clone(), publication.info.sid.clone()),
        ),
    }
}

/// A `ParticipantUpdate` signal message.
pub(crate) fn participant_update(
    participants: Vec<proto::ParticipantInfo>,
) -> proto::signal_response::Message {
    proto::signal_response::Message::Update(proto::ParticipantUpdate { participants })
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
