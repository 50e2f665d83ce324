//! What a running call tells the outside world as it happens: for the live view of the demo,
//! the control API's event stream and the store, which writes each utterance when it is
//! final. The call report stays the authoritative record; these events only arrive earlier.

use serde::Serialize;
use serde_json::Value;

use super::report::TranscriptLine;
use crate::conversation::CallRecord;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CallEvent {
    /// The agent started speaking a line (its final timing arrives as a [`CallEvent::Line`]).
    Speaking {
        text: String,
        at_ms: u64,
        node: Option<String>,
    },
    /// A finished utterance; `seq` is its index in the call's transcript.
    Line { seq: usize, line: TranscriptLine },
    /// The conversation moved to a dialogue node.
    Node { node: String },
    /// The conversation collected an answer.
    Answer { slot: String, value: Value },
    /// A result for the backend: scheduled action, escalation, transfer.
    Record { record: CallRecord },
}
