//! A TTS wrapper that serves known lines from memory: the TTS stage's provider for calls
//! whose first words are known before the call is answered (a script's greeting, a consent
//! notice). The lines are synthesised once, before any call, by the wrapped provider; a
//! request for one of them yields its audio at once, any other request goes to the wrapped
//! provider. The cache is filled once and read-only afterwards, so it is bounded by the lines
//! given and shared by every call without locks.

use std::collections::HashMap;
use std::sync::Arc;

use futures::stream::{self, BoxStream};
use futures::StreamExt;

use super::{TtsProvider, TtsRequest};
use crate::provider::ProviderError;

/// Samples per chunk served from memory (100 ms at 24 kHz): playout pulls a few frames ahead.
const SERVED_CHUNK: usize = 2_400;

/// Lines pre-synthesised by `inner`, served from memory.
pub struct CachedTts {
    inner: Arc<dyn TtsProvider>,
    /// Audio by (voice, text), at `inner`'s sample rate.
    lines: HashMap<(Option<String>, String), Arc<[i16]>>,
}

impl CachedTts {
    /// Synthesises every line of `lines` (default voice) with `inner` and keeps the audio.
    ///
    /// # Errors
    /// The first error of the wrapped provider.
    pub async fn prewarm<I, S>(inner: Arc<dyn TtsProvider>, lines: I) -> Result<Self, ProviderError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut cached = HashMap::new();
        for text in lines {
            let request = TtsRequest {
                text: text.into(),
                voice: None,
            };
            if cached.contains_key(&(None, request.text.clone())) {
                continue;
            }
            let mut stream = inner.synthesize(request.clone());
            let mut pcm = Vec::new();
            while let Some(chunk) = stream.next().await {
                pcm.extend(chunk?);
            }
            cached.insert((request.voice, request.text), pcm.into());
        }
        Ok(Self {
            inner,
            lines: cached,
        })
    }

    /// Number of lines held.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Whether `text` (default voice) is served from memory.
    pub fn contains(&self, text: &str) -> bool {
        self.lines.contains_key(&(None, text.to_string()))
    }
}

impl TtsProvider for CachedTts {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }

    fn synthesize(
        &self,
        request: TtsRequest,
    ) -> BoxStream<'static, Result<Vec<i16>, ProviderError>> {
        match self
            .lines
            .get(&(request.voice.clone(), request.text.clone()))
        {
            Some(audio) => {
                let audio = audio.clone();
                let chunks = audio.len().div_ceil(SERVED_CHUNK);
                stream::iter((0..chunks).map(move |i| {
                    let end = ((i + 1) * SERVED_CHUNK).min(audio.len());
                    Ok(audio[i * SERVED_CHUNK..end].to_vec())
                }))
                .boxed()
            }
            None => self.inner.synthesize(request),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A voice whose audio encodes the text length, counting its requests.
    struct CountingVoice {
        requests: AtomicUsize,
    }

    impl TtsProvider for CountingVoice {
        fn name(&self) -> &'static str {
            "counting"
        }
        fn sample_rate(&self) -> u32 {
            24_000
        }
        fn synthesize(
            &self,
            request: TtsRequest,
        ) -> BoxStream<'static, Result<Vec<i16>, ProviderError>> {
            self.requests.fetch_add(1, Ordering::SeqCst);
            let n = request.text.len() * 1_000;
            let pcm: Vec<i16> = (0..n).map(|i| (i % 1_000) as i16).collect();
            stream::iter([Ok(pcm[..n / 2].to_vec()), Ok(pcm[n / 2..].to_vec())]).boxed()
        }
    }

    async fn collect(tts: &dyn TtsProvider, text: &str) -> Vec<i16> {
        let mut s = tts.synthesize(TtsRequest {
            text: text.into(),
            voice: None,
        });
        let mut out = Vec::new();
        while let Some(c) = s.next().await {
            out.extend(c.expect("chunk"));
        }
        out
    }

    #[tokio::test]
    async fn cached_lines_are_served_without_the_voice_and_others_go_through() {
        let voice = Arc::new(CountingVoice {
            requests: AtomicUsize::new(0),
        });
        let greeting = "Hello, thanks for calling.";
        let cached = CachedTts::prewarm(voice.clone(), [greeting, greeting])
            .await
            .expect("prewarm");
        assert_eq!(cached.len(), 1);
        assert_eq!(voice.requests.load(Ordering::SeqCst), 1);

        let direct = collect(&*voice, greeting).await;
        assert_eq!(voice.requests.load(Ordering::SeqCst), 2);
        let served = collect(&cached, greeting).await;
        assert_eq!(served, direct, "served audio is the voice's audio");
        assert_eq!(voice.requests.load(Ordering::SeqCst), 2, "no synthesis");

        let other = collect(&cached, "Something else.").await;
        assert_eq!(other.len(), "Something else.".len() * 1_000);
        assert_eq!(voice.requests.load(Ordering::SeqCst), 3);
    }
}
