//! The disposition state machine: what a call amounted to, from the facts of how it went.
//!
//! Sits at the very end of a call, after the turn engine has produced its report: the dial
//! result (from the transport), the answer class (from answer detection, for outbound calls),
//! what the conversation decided when it hung up (the dialogue's end node), follow-ups it
//! recorded (callbacks, transfers), and who ended the call. The facts arrive in call order;
//! [`DispositionMachine::finish`] gives the final [`Disposition`] and [`EndReason`]. Pure.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::amd::AnswerClass;

/// The business result of a call, as the backend files it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// A person was reached and the conversation ran.
    Reached,
    /// An answering machine took the call (a message may have been left).
    Voicemail,
    /// Nobody answered (ring timeout, or only silence or a fax tone on the line).
    NoAnswer,
    Busy,
    /// The person asked to be called back (the time is in the assessment).
    CallbackRequested,
    NotInterested,
    /// The person asked not to be called again.
    Dnc,
    /// A call-screening assistant or IVR answered and no person came on the line.
    Screened,
    /// A person answered and hung up without saying anything.
    Declined,
    /// The call could not be placed or broke down.
    Failed,
}

/// Why the call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    CallerHungUp,
    /// The agent ended the call (the conversation reached an end).
    AgentEnded,
    /// The agent left its voicemail message and hung up.
    VoicemailLeft,
    /// The caller stayed silent until the conversation gave up.
    Silence,
    MaxDuration,
    Transferred,
    /// The call never connected (no answer, busy, dial failure).
    NotConnected,
    Error,
}

/// Result of dialling, from the transport (outbound calls only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DialResult {
    Answered,
    NoAnswer,
    Busy,
    Failed { reason: String },
}

/// One thing that happened in the call, in call order.
#[derive(Debug, Clone, PartialEq)]
pub enum CallFact {
    Dialled(DialResult),
    /// Answer detection's verdict (outbound calls).
    AnswerClassified(AnswerClass),
    /// The caller said something meaningful.
    CallerSpoke,
    /// The agent spoke a line.
    AgentSpoke,
    /// The conversation asked for a callback at this time.
    CallbackScheduled {
        at: Option<DateTime<Utc>>,
    },
    /// The call was handed to a person or number.
    Transferred,
    /// The conversation hung up with its disposition and reason (snake_case names).
    ConversationEnded {
        disposition: String,
        reason: String,
    },
    CallerHungUp,
    MaxDurationReached,
    Failed {
        reason: String,
    },
}

/// Folds [`CallFact`]s into a disposition.
#[derive(Debug, Clone, Default)]
pub struct DispositionMachine {
    dial: Option<DialResult>,
    answer: Option<AnswerClass>,
    caller_spoke: bool,
    agent_spoke_after_answer: bool,
    callback: Option<Option<DateTime<Utc>>>,
    transferred: bool,
    ended: Option<(String, String)>,
    /// Who or what ended the call first.
    first_end: Option<EndReason>,
    failure: Option<String>,
}

impl DispositionMachine {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn on(&mut self, fact: CallFact) {
        match fact {
            CallFact::Dialled(d) => self.dial = Some(d),
            CallFact::AnswerClassified(c) => self.answer = Some(c),
            CallFact::CallerSpoke => self.caller_spoke = true,
            CallFact::AgentSpoke => self.agent_spoke_after_answer = true,
            CallFact::CallbackScheduled { at } => self.callback = Some(at),
            CallFact::Transferred => {
                self.transferred = true;
                self.first_end.get_or_insert(EndReason::Transferred);
            }
            CallFact::ConversationEnded {
                disposition,
                reason,
            } => {
                let end = end_reason_of(&reason);
                if self.ended.is_none() {
                    self.ended = Some((disposition, reason));
                }
                self.first_end.get_or_insert(end);
            }
            CallFact::CallerHungUp => {
                self.first_end.get_or_insert(EndReason::CallerHungUp);
            }
            CallFact::MaxDurationReached => {
                self.first_end.get_or_insert(EndReason::MaxDuration);
            }
            CallFact::Failed { reason } => {
                self.failure.get_or_insert(reason);
                self.first_end.get_or_insert(EndReason::Error);
            }
        }
    }

    /// The callback time asked for, if the call ended with a callback request.
    pub fn callback_at(&self) -> Option<DateTime<Utc>> {
        self.callback.flatten()
    }

    /// The final disposition and end reason.
    pub fn finish(&self) -> (Disposition, EndReason) {
        match &self.dial {
            Some(DialResult::NoAnswer) => return (Disposition::NoAnswer, EndReason::NotConnected),
            Some(DialResult::Busy) => return (Disposition::Busy, EndReason::NotConnected),
            Some(DialResult::Failed { .. }) => {
                return (Disposition::Failed, EndReason::NotConnected)
            }
            Some(DialResult::Answered) | None => {}
        }
        let said = self.ended.as_ref().map(|(d, _)| d.as_str());
        let end = self.first_end.unwrap_or(EndReason::AgentEnded);
        // A machine answered and no person ever spoke to the agent.
        match self.answer {
            Some(AnswerClass::Voicemail) => {
                let end = if said == Some("voicemail") && self.agent_spoke_after_answer {
                    EndReason::VoicemailLeft
                } else if matches!(end, EndReason::CallerHungUp) {
                    EndReason::CallerHungUp
                } else {
                    EndReason::AgentEnded
                };
                return (Disposition::Voicemail, end);
            }
            Some(AnswerClass::SilenceOrFax) if !self.caller_spoke => {
                return (Disposition::NoAnswer, end);
            }
            Some(AnswerClass::Screening | AnswerClass::Ivr) if !self.caller_spoke => {
                return (Disposition::Screened, end);
            }
            _ => {}
        }
        if self.failure.is_some() && !self.caller_spoke {
            return (Disposition::Failed, EndReason::Error);
        }
        let disposition = match said {
            Some("dnc") => Disposition::Dnc,
            Some("not_interested") => Disposition::NotInterested,
            Some("callback_requested") => Disposition::CallbackRequested,
            Some("voicemail") => Disposition::Voicemail,
            Some("no_answer") => Disposition::NoAnswer,
            Some("busy") => Disposition::Busy,
            Some("failed") if !self.caller_spoke => Disposition::Failed,
            _ if self.callback.is_some() => Disposition::CallbackRequested,
            _ if !self.caller_spoke && end == EndReason::CallerHungUp && !self.transferred => {
                Disposition::Declined
            }
            _ => Disposition::Reached,
        };
        let end = if self.transferred {
            EndReason::Transferred
        } else {
            end
        };
        (disposition, end)
    }
}

/// The end reason a conversation's hang-up reason stands for.
pub fn end_reason_of(reason: &str) -> EndReason {
    match reason {
        "caller_hung_up" => EndReason::CallerHungUp,
        "max_duration" => EndReason::MaxDuration,
        "transferred" => EndReason::Transferred,
        "silence" | "caller_silent" => EndReason::Silence,
        "voicemail" => EndReason::VoicemailLeft,
        "not_answered" => EndReason::NotConnected,
        "error" | "cancelled" | "llm_unavailable" => EndReason::Error,
        r if r.starts_with("vad_config") => EndReason::Error,
        _ => EndReason::AgentEnded,
    }
}

#[cfg(test)]
#[path = "disposition_tests.rs"]
mod tests;
