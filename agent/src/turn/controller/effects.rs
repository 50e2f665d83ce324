//! The controller's side of the conversation: feeding it events and carrying out what it
//! asks for — lines to say, LLM requests, listens, answers, timers, tool calls, records and
//! the hang-up.

use super::*;

impl Controller {
    /// Feeds one event to the conversation and carries out its effects.
    pub(super) async fn deliver(&mut self, st: &mut State, event: ConversationEvent, jobs: &Jobs) {
        if st.listening.is_some() {
            // The conversation handed the call over: it has nothing more to say.
            return;
        }
        let effects = self.conversation.handle(event, self.clock.now_ms());
        for effect in effects {
            match effect {
                ConversationEffect::Say {
                    id,
                    text,
                    interruptible,
                } => self.say(st, id, text, interruptible).await,
                ConversationEffect::AskLlm { request, spoken } => {
                    self.ask_llm(st, request, spoken, jobs).await
                }
                ConversationEffect::Listen(spec) => {
                    let cfg = EndpointConfig {
                        end_of_turn_ms: spec.end_of_turn_silence_ms.into(),
                        barge_in_ms: self.config.barge_in_ms,
                        ..EndpointConfig::default()
                    };
                    let _ = self
                        .ingest_control
                        .send(IngestControl::SetEndpointing(cfg))
                        .await;
                    st.listen = spec;
                    self.arm_no_input(st);
                }
                ConversationEffect::SetAnswer { slot, value } => {
                    self.publish(CallEvent::Answer {
                        slot: slot.clone(),
                        value: value.clone(),
                    });
                    st.report.answers.insert(slot, value);
                }
                ConversationEffect::NodeEntered { node } => {
                    self.publish(CallEvent::Node { node: node.clone() });
                    st.node = Some(node);
                }
                ConversationEffect::CallTool(request) => self.call_tool(request, jobs),
                ConversationEffect::StartTimer { id, after_ms } => {
                    st.timers
                        .insert(id, Instant::now() + Duration::from_millis(after_ms));
                }
                ConversationEffect::CancelTimer { id } => {
                    st.timers.remove(&id);
                }
                ConversationEffect::Record(record) => {
                    tracing::info!(kind = %record.kind, "Conversation recorded a result for the backend");
                    self.publish(CallEvent::Record {
                        record: record.clone(),
                    });
                    st.report.records.push(record);
                }
                ConversationEffect::Transfer { target } => {
                    st.transfer = Some(super::transfer::Transfer::Pending(target))
                }
                ConversationEffect::HandOver { human, listen } => self.hand_over(st, human, listen),
                ConversationEffect::Hangup(o) => {
                    if Self::hang_up_while_listening(st, &o) {
                        continue;
                    }
                    if st.hangup.is_none() {
                        st.hangup = Some((o, Instant::now() + self.config.hangup_drain));
                    }
                }
            }
        }
    }

    pub(super) async fn say(
        &mut self,
        st: &mut State,
        id: UtteranceId,
        text: String,
        interruptible: bool,
    ) {
        // Id 0 marks controller lines (fillers, fallbacks); give them ids of their own.
        let id = if id == 0 {
            st.next_llm_utterance += 1;
            st.next_llm_utterance
        } else {
            id
        };
        st.no_input_at = None;
        st.last_agent_text = Some(text.clone());
        st.report.usage.characters_synthesised += text.chars().count() as u64;
        st.pending.insert(
            id,
            PendingLine {
                text: text.clone(),
                interruptible,
                started_ms: None,
            },
        );
        let request = SpeakRequest {
            turn: st.turn,
            utterance: id,
            text,
            interruptible,
        };
        if self.speak.send(request).await.is_err() {
            st.pending.remove(&id);
        }
    }

    pub(super) async fn ask_llm(
        &mut self,
        st: &mut State,
        request: crate::llm::ChatRequest,
        spoken: bool,
        jobs: &Jobs,
    ) {
        let Some(llm) = self.llm.clone() else {
            let event = ConversationEvent::LlmFailed {
                reason: "no LLM is configured".into(),
            };
            Box::pin(self.deliver(st, event, jobs)).await;
            return;
        };
        if let Some((_, token, _)) = st.llm_in_flight.take() {
            token.cancel();
        }
        let token = self.cancel.child_token();
        let first_utterance = st.next_llm_utterance + 1;
        st.next_llm_utterance += 1 << 16;
        let task = LlmTask {
            llm,
            request,
            spoken,
            turn: st.turn,
            first_utterance,
            speak: self.speak.clone(),
            reports: jobs.llm.clone(),
            clock: self.clock,
            cancel: token.clone(),
        };
        st.llm_in_flight = Some((st.turn, token, Instant::now() + self.config.llm_timeout));
        st.filler_at = Some(Instant::now() + self.config.filler_after);
        self.tasks.spawn(task.run());
    }

    /// Runs a script's HTTP tool request as a job of this call.
    pub(super) fn call_tool(&self, request: ToolRequest, jobs: &Jobs) {
        let runner = self.tools.clone();
        let tx = jobs.tool.clone();
        let cancel = self.cancel.child_token();
        self.tasks.spawn(async move {
            let result = tokio::select! {
                _ = cancel.cancelled() => return,
                r = runner.run(&request) => r,
            };
            if let Err(error) = &result {
                tracing::warn!(%error, "Tool request failed");
            }
            let _ = tx.send((request.id, result)).await;
        });
    }
}
