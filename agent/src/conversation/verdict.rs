//! Structured verdicts from the LLM for dialogue scripts. An llm node's reply is spoken and
//! may end the node with a verdict: the model calls the `set_verdict` tool with one of the
//! node's verdicts. An ask node's fallback classification is never spoken: the model answers
//! with one of the slot's options and nothing else (any OpenAI-compatible server can do
//! that, tools or not); a `set_verdict` call is accepted there too.

use serde_json::json;

use crate::llm::{ChatMessage, ChatRequest, ToolCall, ToolSpec};

/// The tool the model calls to choose a verdict.
pub const VERDICT_TOOL: &str = "set_verdict";

/// Tells the model how to give its verdict; adds the tool for a spoken reply.
pub fn ask_for_verdict(request: &mut ChatRequest, options: &[String], spoken: bool) {
    if options.is_empty() {
        return;
    }
    let list = options.join(", ");
    let instruction = if spoken {
        request.tools.push(ToolSpec {
            name: VERDICT_TOOL.into(),
            description: "Record the outcome of this part of the conversation.".into(),
            parameters: json!({
                "type": "object",
                "properties": { "verdict": { "type": "string", "enum": options } },
                "required": ["verdict"],
            }),
        });
        format!(
            "When the conversation has clearly reached one of these outcomes, call \
             {VERDICT_TOOL} with it: {list}. Otherwise just reply to the caller."
        )
    } else {
        request.temperature = Some(0.0);
        request.max_tokens = Some(8);
        format!("Answer with exactly one of these words and nothing else: {list}.")
    };
    match request.messages.first_mut() {
        Some(ChatMessage::System { content }) => {
            content.push_str("\n\n");
            content.push_str(&instruction);
        }
        _ => request.messages.insert(
            0,
            ChatMessage::System {
                content: instruction,
            },
        ),
    }
}

/// The verdict in a reply: a `set_verdict` call naming one of `options`, else (for a
/// classification) the one option the text names. Two options named, or none: no verdict.
pub fn read_verdict(
    options: &[String],
    text: &str,
    tool_calls: &[ToolCall],
    spoken: bool,
) -> Option<String> {
    let called = tool_calls
        .iter()
        .filter(|c| c.name == VERDICT_TOOL)
        .filter_map(|c| serde_json::from_str::<serde_json::Value>(&c.arguments).ok())
        .filter_map(|args| args.get("verdict")?.as_str().map(str::to_owned))
        .find_map(|v| find_option(options, &v));
    if called.is_some() || spoken {
        return called;
    }
    let mut words: Vec<Option<String>> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .map(|w| Some(w.to_lowercase()))
        .collect();
    // Longest options first, each consuming the words it matched: "not interested" is
    // `not_interested`, not also `interested`.
    let mut by_length: Vec<(&String, Vec<String>)> = options
        .iter()
        .map(|o| (o, o.split(['_', ' ']).map(str::to_lowercase).collect()))
        .collect();
    by_length.sort_by_key(|(_, parts)| std::cmp::Reverse(parts.len()));
    let mut named = Vec::new();
    for (option, parts) in by_length {
        let at = (0..words.len().saturating_sub(parts.len() - 1)).find(|&i| {
            parts
                .iter()
                .enumerate()
                .all(|(k, p)| words[i + k].as_ref() == Some(p))
        });
        if let Some(i) = at {
            words[i..i + parts.len()].iter_mut().for_each(|w| *w = None);
            named.push(option.clone());
        }
    }
    (named.len() == 1).then(|| named.remove(0))
}

fn find_option(options: &[String], value: &str) -> Option<String> {
    let value = value.trim();
    options
        .iter()
        .find(|o| o.eq_ignore_ascii_case(value))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn call(args: &str) -> ToolCall {
        ToolCall {
            id: "c1".into(),
            name: VERDICT_TOOL.into(),
            arguments: args.into(),
        }
    }

    #[test]
    fn a_tool_call_names_the_verdict() {
        let o = opts(&["resolved", "needs_human"]);
        let got = read_verdict(
            &o,
            "Glad I could help.",
            &[call(r#"{"verdict":"Resolved"}"#)],
            true,
        );
        assert_eq!(got.as_deref(), Some("resolved"));
        // An unknown verdict or broken arguments are no verdict.
        assert_eq!(
            read_verdict(&o, "", &[call(r#"{"verdict":"maybe"}"#)], true),
            None
        );
        assert_eq!(read_verdict(&o, "", &[call("{not json")], true), None);
    }

    #[test]
    fn a_spoken_reply_never_yields_a_verdict_from_its_words() {
        let o = opts(&["yes", "no"]);
        assert_eq!(read_verdict(&o, "Yes, of course.", &[], true), None);
    }

    #[test]
    fn a_classification_is_the_one_option_its_text_names() {
        let o = opts(&["yes", "no"]);
        assert_eq!(read_verdict(&o, "Yes.", &[], false).as_deref(), Some("yes"));
        assert_eq!(read_verdict(&o, " no", &[], false).as_deref(), Some("no"));
        assert_eq!(read_verdict(&o, "yes or no", &[], false), None);
        assert_eq!(read_verdict(&o, "unclear", &[], false), None);
        let choices = opts(&["not_interested", "interested"]);
        assert_eq!(
            read_verdict(&choices, "not interested", &[], false).as_deref(),
            Some("not_interested")
        );
        let ratings = opts(&["1", "2", "3", "4", "5"]);
        assert_eq!(
            read_verdict(&ratings, "4", &[], false).as_deref(),
            Some("4")
        );
    }

    #[test]
    fn a_spoken_request_gets_the_tool_and_a_silent_one_a_one_word_instruction() {
        let o = opts(&["done", "escalate"]);
        let mut spoken = ChatRequest {
            messages: vec![ChatMessage::System {
                content: "Be kind.".into(),
            }],
            ..ChatRequest::default()
        };
        ask_for_verdict(&mut spoken, &o, true);
        assert_eq!(spoken.tools.len(), 1);
        assert_eq!(
            spoken.tools[0].parameters["properties"]["verdict"]["enum"],
            json!(o)
        );
        let mut silent = ChatRequest::default();
        ask_for_verdict(&mut silent, &o, false);
        assert!(silent.tools.is_empty());
        let ChatMessage::System { content } = &silent.messages[0] else {
            panic!("no system message")
        };
        assert!(content.contains("done, escalate"), "{content}");
    }
}
