//! The LLM's verdict on who answered, asked only when an LLM is configured and the phrase model
//! knows a machine answered but not which kind (or a greeting ran on without telling words):
//! one short request with the greeting's transcript, a one-word answer, a tight deadline. Any
//! failure or an answer that names no class leaves the phrase model's verdict in place.

use std::time::Duration;

use super::AnswerClass;
use crate::llm::{ChatMessage, ChatRequest, LlmProvider};
use crate::provider::ProviderError;

const INSTRUCTION: &str = "We placed a phone call and it was just answered. Below is a \
    transcript (machine speech recognition, may contain errors) of what the other end said. \
    Who answered? Reply with exactly one word: human (a person picked up), voicemail (a \
    recorded greeting or a carrier message), screening (a call-screening assistant asking who \
    is calling or why), or ivr (a company phone menu, queue or auto attendant).";

/// The classification request for what the callee said.
pub fn request(heard: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatMessage::System {
                content: INSTRUCTION.into(),
            },
            ChatMessage::User {
                content: heard.into(),
            },
        ],
        max_tokens: Some(4),
        temperature: Some(0.0),
        ..ChatRequest::default()
    }
}

/// The class a reply names: its first word that is one of the four (case and punctuation
/// ignored); none when it names none or more than one.
pub fn parse(reply: &str) -> Option<AnswerClass> {
    let mut named = reply
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter_map(|w| match w.to_ascii_lowercase().as_str() {
            "human" | "person" => Some(AnswerClass::Human),
            "voicemail" => Some(AnswerClass::Voicemail),
            "screening" => Some(AnswerClass::Screening),
            "ivr" => Some(AnswerClass::Ivr),
            _ => None,
        });
    let first = named.next()?;
    named.all(|c| c == first).then_some(first)
}

/// Asks `llm` who answered.
///
/// # Errors
/// The provider's error or the deadline; `Ok(None)` when the reply names no class.
pub async fn ask(
    llm: &dyn LlmProvider,
    heard: &str,
    deadline: Duration,
) -> Result<Option<AnswerClass>, ProviderError> {
    let reply = crate::llm::complete(llm, request(heard), deadline).await?;
    Ok(parse(&reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_name_one_class_or_none() {
        assert_eq!(parse("voicemail"), Some(AnswerClass::Voicemail));
        assert_eq!(parse(" IVR."), Some(AnswerClass::Ivr));
        assert_eq!(parse("Screening"), Some(AnswerClass::Screening));
        assert_eq!(parse("human"), Some(AnswerClass::Human));
        assert_eq!(parse("I think voicemail, or ivr"), None);
        assert_eq!(parse("unclear"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn the_request_carries_the_transcript_and_asks_for_one_word() {
        let r = request("please leave a message");
        assert!(
            matches!(&r.messages[1], ChatMessage::User { content } if content == "please leave a message")
        );
        assert!(r.tools.is_empty());
        assert_eq!(r.max_tokens, Some(4));
    }
}
