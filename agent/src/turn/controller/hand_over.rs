//! After a human agent took the call over. By default the agent leaves (the hang-up that
//! follows the hand-over ends the call). A script may instead ask it to stay, silent: the
//! conversation is over and hears nothing more, the caller's turns are still transcribed
//! (for the record and the live captions), and the call ends when the caller leaves, every
//! human agent has left, or the call reaches its maximum duration — with the outcome the
//! conversation gave at the hand-over.

use std::collections::BTreeSet;

use serde_json::json;

use super::{Controller, Jobs, State};
use crate::call::session::HumanSignal;
use crate::conversation::{CallRecord, ConversationEvent, Outcome};

/// A call the agent only listens to.
#[derive(Debug, Default)]
pub(super) struct Listening {
    /// The conversation's outcome (its last hang-up), the call's when it ends.
    pub outcome: Option<Outcome>,
}

/// Human agents in the call now.
pub(super) type Humans = BTreeSet<String>;

impl Controller {
    /// The conversation handed the call to `human`; with `listen` the agent stays silent.
    pub(super) fn hand_over(&self, st: &mut State, human: String, listen: bool) {
        tracing::info!(%human, listen, "The call was handed over to a human agent");
        let record = CallRecord {
            kind: "hand_over".into(),
            detail: json!({ "human": human, "listen": listen }),
        };
        self.publish(crate::call::live::CallEvent::Record {
            record: record.clone(),
        });
        st.report.records.push(record);
        if listen {
            st.no_input_at = None;
            st.listening = Some(Listening::default());
        }
    }

    /// A hang-up from the conversation: while listening it only sets the call's outcome.
    /// Returns whether it was absorbed.
    pub(super) fn hang_up_while_listening(st: &mut State, outcome: &Outcome) -> bool {
        match st.listening.as_mut() {
            Some(l) => {
                l.outcome.get_or_insert_with(|| outcome.clone());
                true
            }
            None => false,
        }
    }

    /// Ends a listened-to call with the conversation's outcome (or `fallback`).
    pub(super) fn stop_listening(st: &mut State, fallback: Outcome) {
        if let Some(l) = st.listening.take() {
            st.ended = Some(l.outcome.unwrap_or(fallback));
        }
    }

    pub(super) async fn on_human(&mut self, st: &mut State, signal: HumanSignal, jobs: &Jobs) {
        match signal {
            HumanSignal::Joined(identity) => {
                tracing::info!(%identity, "A human agent joined the call");
                st.humans.insert(identity.clone());
                self.deliver(st, ConversationEvent::HumanJoined { identity }, jobs)
                    .await;
            }
            HumanSignal::Left(identity) => {
                tracing::info!(%identity, "A human agent left the call");
                st.humans.remove(&identity);
                if st.humans.is_empty() {
                    Self::stop_listening(st, Outcome::new("reached", "human_left"));
                }
            }
        }
    }
}
