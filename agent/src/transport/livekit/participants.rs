//! Who is in the room, and which of them is "the caller" the turn engine talks to. Pure:
//! [`ParticipantTable::apply`] folds `ParticipantUpdate` entries (and the JoinResponse's
//! other participants) into the table and returns what changed; the room actor turns the
//! changes into [`super::RoomEvent`]s. The caller is chosen once by [`CallerRule`] and stays
//! the caller until they leave; everyone else who is a person (human agent, supervisor,
//! a second SIP leg) is [`ParticipantRole::Human`], so escalation can wait for one of them.

use std::collections::HashMap;

use livekit_protocol as proto;
use proto::participant_info::{Kind, State};

/// How the caller is recognised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CallerRule {
    /// The first SIP participant (LiveKit SIP phone caller or callee).
    #[default]
    Sip,
    /// The participant with this identity (a browser user named by the job).
    Identity(String),
    /// The first SIP participant, else the first standard participant.
    FirstPerson,
}

/// What a participant is to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantRole {
    Caller,
    /// A person who is not the caller: a human agent or supervisor.
    Human,
    /// Another agent, egress, ingress or connector: never talked to.
    Service,
}

/// One remote participant.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    pub sid: String,
    pub identity: String,
    pub name: String,
    pub kind: Kind,
    pub attributes: HashMap<String, String>,
    pub role: ParticipantRole,
    /// Sids of the participant's published audio tracks.
    pub audio_tracks: Vec<String>,
}

/// A change the table saw.
#[derive(Debug, Clone, PartialEq)]
pub enum ParticipantChange {
    Joined(Participant),
    AttributesChanged(Participant),
    /// The participant's audio track list changed (published or unpublished).
    TracksChanged(Participant),
    Left(Participant),
}

/// The remote participants, keyed by sid.
#[derive(Debug, Default)]
pub struct ParticipantTable {
    rule: CallerRule,
    own_sid: String,
    by_sid: HashMap<String, Participant>,
    /// Sids in order of arrival (for `FirstPerson`).
    order: Vec<String>,
    caller: Option<String>,
}

fn is_person(kind: Kind) -> bool {
    matches!(kind, Kind::Standard | Kind::Sip)
}

fn audio_tracks(info: &proto::ParticipantInfo) -> Vec<String> {
    info.tracks
        .iter()
        .filter(|t| t.r#type == proto::TrackType::Audio as i32)
        .map(|t| t.sid.clone())
        .collect()
}

impl ParticipantTable {
    /// An empty table; `own_sid` (our own participant) is never listed.
    pub fn new(rule: CallerRule, own_sid: &str) -> Self {
        Self {
            rule,
            own_sid: own_sid.to_string(),
            ..Self::default()
        }
    }

    /// Folds one participant's info in and returns what changed (nothing for our own entry
    /// or a repeat of what is known).
    pub fn apply(&mut self, info: &proto::ParticipantInfo) -> Vec<ParticipantChange> {
        if info.sid == self.own_sid || info.sid.is_empty() {
            return Vec::new();
        }
        let kind = Kind::try_from(info.kind).unwrap_or(Kind::Standard);
        if info.state == State::Disconnected as i32 {
            let Some(gone) = self.by_sid.remove(&info.sid) else {
                return Vec::new();
            };
            self.order.retain(|s| s != &info.sid);
            if self.caller.as_deref() == Some(info.sid.as_str()) {
                self.caller = None;
            }
            return vec![ParticipantChange::Left(gone)];
        }
        if let Some(known) = self.by_sid.get_mut(&info.sid) {
            let mut changes = Vec::new();
            if known.attributes != info.attributes || known.name != info.name {
                known.attributes = info.attributes.clone();
                known.name = info.name.clone();
                changes.push(ParticipantChange::AttributesChanged(known.clone()));
            }
            let tracks = audio_tracks(info);
            if known.audio_tracks != tracks {
                known.audio_tracks = tracks;
                changes.push(ParticipantChange::TracksChanged(known.clone()));
            }
            return changes;
        }
        let mut p = Participant {
            sid: info.sid.clone(),
            identity: info.identity.clone(),
            name: info.name.clone(),
            kind,
            attributes: info.attributes.clone(),
            role: if is_person(kind) {
                ParticipantRole::Human
            } else {
                ParticipantRole::Service
            },
            audio_tracks: audio_tracks(info),
        };
        if self.caller.is_none() && self.qualifies(&p) {
            p.role = ParticipantRole::Caller;
            self.caller = Some(p.sid.clone());
        }
        self.order.push(p.sid.clone());
        self.by_sid.insert(p.sid.clone(), p.clone());
        vec![ParticipantChange::Joined(p)]
    }

    /// After a full reconnect (a new session, so a new own sid): folds in the JoinResponse's
    /// participants. Whoever is still there keeps their role and raises no event; whoever is
    /// gone is reported as left; newcomers as joined.
    pub fn rejoined(
        &mut self,
        own_sid: &str,
        present: &[proto::ParticipantInfo],
    ) -> Vec<ParticipantChange> {
        self.own_sid = own_sid.to_string();
        let gone: Vec<String> = self
            .order
            .iter()
            .filter(|sid| !present.iter().any(|p| &p.sid == *sid))
            .cloned()
            .collect();
        let mut changes = Vec::new();
        for sid in gone {
            if let Some(p) = self.by_sid.get(&sid) {
                let info = proto::ParticipantInfo {
                    sid: p.sid.clone(),
                    identity: p.identity.clone(),
                    state: State::Disconnected as i32,
                    ..Default::default()
                };
                changes.extend(self.apply(&info));
            }
        }
        for info in present {
            changes.extend(self.apply(info));
        }
        changes
    }

    fn qualifies(&self, p: &Participant) -> bool {
        match &self.rule {
            CallerRule::Sip => p.kind == Kind::Sip,
            CallerRule::Identity(id) => &p.identity == id,
            CallerRule::FirstPerson => is_person(p.kind),
        }
    }

    /// The caller, once one has joined.
    pub fn caller(&self) -> Option<&Participant> {
        self.caller.as_ref().and_then(|sid| self.by_sid.get(sid))
    }

    pub fn get(&self, sid: &str) -> Option<&Participant> {
        self.by_sid.get(sid)
    }

    /// The participant who published the audio track `track_sid`.
    pub fn owner_of_track(&self, track_sid: &str) -> Option<&Participant> {
        self.by_sid
            .values()
            .find(|p| p.audio_tracks.iter().any(|t| t == track_sid))
    }

    pub fn by_identity(&self, identity: &str) -> Option<&Participant> {
        self.by_sid.values().find(|p| p.identity == identity)
    }

    /// Every remote participant, in order of arrival.
    pub fn all(&self) -> Vec<&Participant> {
        self.order
            .iter()
            .filter_map(|s| self.by_sid.get(s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(sid: &str, identity: &str, kind: Kind) -> proto::ParticipantInfo {
        proto::ParticipantInfo {
            sid: sid.into(),
            identity: identity.into(),
            kind: kind as i32,
            state: State::Active as i32,
            ..Default::default()
        }
    }

    #[test]
    fn sip_participant_is_the_caller_and_a_later_person_is_human() {
        let mut t = ParticipantTable::new(CallerRule::Sip, "PA_me");
        let browser = t.apply(&info("PA_1", "supervisor", Kind::Standard));
        assert!(
            matches!(&browser[..], [ParticipantChange::Joined(p)] if p.role == ParticipantRole::Human)
        );
        let phone = t.apply(&info("PA_2", "sip_+15550100", Kind::Sip));
        assert!(
            matches!(&phone[..], [ParticipantChange::Joined(p)] if p.role == ParticipantRole::Caller)
        );
        assert_eq!(
            t.caller().map(|p| p.identity.as_str()),
            Some("sip_+15550100")
        );
        let other_agent = t.apply(&info("PA_3", "agent-2", Kind::Agent));
        assert!(
            matches!(&other_agent[..], [ParticipantChange::Joined(p)] if p.role == ParticipantRole::Service)
        );
    }

    #[test]
    fn named_identity_rule_and_our_own_entry_is_ignored() {
        let mut t = ParticipantTable::new(CallerRule::Identity("alice".into()), "PA_me");
        assert!(t
            .apply(&info("PA_me", "switchboard", Kind::Agent))
            .is_empty());
        t.apply(&info("PA_1", "bob", Kind::Standard));
        assert!(t.caller().is_none());
        t.apply(&info("PA_2", "alice", Kind::Standard));
        assert_eq!(t.caller().map(|p| p.sid.as_str()), Some("PA_2"));
    }

    #[test]
    fn a_rejoin_keeps_who_stayed_and_reports_who_left_or_came() {
        let mut t = ParticipantTable::new(CallerRule::Sip, "PA_me");
        let caller = info("PA_1", "sip_+15550100", Kind::Sip);
        let human = info("PA_2", "human-7", Kind::Standard);
        t.apply(&caller);
        t.apply(&human);
        let newcomer = info("PA_3", "supervisor", Kind::Standard);
        let me_again = info("PA_me2", "agent", Kind::Agent);
        let changes = t.rejoined("PA_me2", &[caller.clone(), newcomer, me_again]);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(
            matches!(&changes[0], ParticipantChange::Left(p) if p.identity == "human-7" && p.role == ParticipantRole::Human)
        );
        assert!(
            matches!(&changes[1], ParticipantChange::Joined(p) if p.identity == "supervisor" && p.role == ParticipantRole::Human)
        );
        assert_eq!(t.caller().map(|p| p.sid.as_str()), Some("PA_1"));
        assert!(t.by_identity("agent").is_none(), "our new sid is ours");
    }

    #[test]
    fn attribute_change_track_change_and_leave_are_reported() {
        let mut t = ParticipantTable::new(CallerRule::FirstPerson, "PA_me");
        let mut p = info("PA_1", "caller", Kind::Sip);
        t.apply(&p);
        assert!(t.apply(&p).is_empty(), "a repeat is not a change");
        p.attributes
            .insert("sip.callStatus".into(), "active".into());
        p.tracks.push(proto::TrackInfo {
            sid: "TR_1".into(),
            r#type: proto::TrackType::Audio as i32,
            ..Default::default()
        });
        let changes = t.apply(&p);
        assert_eq!(changes.len(), 2);
        assert_eq!(
            t.owner_of_track("TR_1").map(|p| p.identity.as_str()),
            Some("caller")
        );
        p.state = State::Disconnected as i32;
        let left = t.apply(&p);
        assert!(
            matches!(&left[..], [ParticipantChange::Left(p)] if p.role == ParticipantRole::Caller)
        );
        assert!(t.caller().is_none());
        assert!(t.all().is_empty());
    }
}
