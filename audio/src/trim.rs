//! Silence trimming for synthesised speech, on the outbound path between TTS and playout.
//!
//! Neural voices pad every sentence: hibari starts each one with 260–320 ms of silence and ends
//! it with about 400 ms. Played as they come, a line opens with a quarter second of nothing
//! (heard as latency) and two sentences are 700 ms apart, a pause long enough that a caller
//! takes the turn ("Hi there!" … "Yes?"). [`SilenceTrimmer`] keeps a short lead-in before the
//! first sound of a line, caps every pause inside it, and keeps a short decay after the last
//! sound. Pauses shorter than the cap (commas, breaths) pass untouched, and audio is never
//! delayed past the silence it holds back: a chunk's sounding part is emitted at once.

/// How [`SilenceTrimmer`] shortens silence; sample counts at the stream's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrimConfig {
    /// A sample at or below this magnitude is silence.
    pub threshold: u16,
    /// Silence kept before a line's first sound.
    pub lead: usize,
    /// The longest pause kept inside a line; longer ones are cut in their middle.
    pub max_gap: usize,
    /// Silence kept after a line's last sound.
    pub tail: usize,
}

impl TrimConfig {
    /// For speech at `rate` Hz: silence below -40 dBFS, 50 ms lead-in, pauses of at most
    /// 300 ms (a natural pause between sentences), 100 ms decay at the end.
    pub fn speech(rate: u32) -> Self {
        let ms = |n: u32| (rate / 1000 * n) as usize;
        Self {
            threshold: 328,
            lead: ms(50),
            max_gap: ms(300),
            tail: ms(100),
        }
    }
}

/// Streaming silence trimmer for one line of speech at a time; see the module docs.
#[derive(Debug)]
pub struct SilenceTrimmer {
    config: TrimConfig,
    /// Whether the line has sounded yet.
    started: bool,
    /// Silence since the last sound (or since the line began), held back until sound resumes
    /// or the line ends. Its middle is dropped once it outgrows what either end keeps.
    pending: Vec<i16>,
}

impl SilenceTrimmer {
    pub fn new(config: TrimConfig) -> Self {
        Self {
            config,
            started: false,
            pending: Vec::new(),
        }
    }

    /// Trims the next chunk of the line, appending what is kept to `out`.
    pub fn push(&mut self, chunk: &[i16], out: &mut Vec<i16>) {
        let threshold = self.config.threshold;
        let loud = |s: &i16| s.unsigned_abs() > threshold;
        let mut rest = chunk;
        while !rest.is_empty() {
            let Some(sound) = rest.iter().position(loud) else {
                self.hold(rest);
                return;
            };
            self.hold(&rest[..sound]);
            self.release(out);
            let quiet = rest[sound..]
                .iter()
                .position(|s| !loud(s))
                .map_or(rest.len(), |q| sound + q);
            out.extend_from_slice(&rest[sound..quiet]);
            rest = &rest[quiet..];
        }
    }

    /// Sound resumes: emits the held silence, cut to the lead-in before the line's first
    /// sound and to `max_gap` (its two ends) after that.
    fn release(&mut self, out: &mut Vec<i16>) {
        let p = &self.pending;
        if !self.started {
            out.extend_from_slice(&p[p.len().saturating_sub(self.config.lead)..]);
        } else if p.len() <= self.config.max_gap {
            out.extend_from_slice(p);
        } else {
            let head = self.config.max_gap / 2;
            out.extend_from_slice(&p[..head]);
            out.extend_from_slice(&p[p.len() - (self.config.max_gap - head)..]);
        }
        self.pending.clear();
        self.started = true;
    }

    /// Ends the line: appends its decay (at most `tail` samples of the held silence) to `out`
    /// and readies the trimmer for the next line.
    pub fn finish(&mut self, out: &mut Vec<i16>) {
        if self.started {
            let n = self.config.tail.min(self.pending.len());
            out.extend_from_slice(&self.pending[..n]);
        }
        self.pending.clear();
        self.started = false;
    }

    /// Holds silence, dropping its middle once it is longer than anything that will be kept
    /// from either end.
    fn hold(&mut self, silence: &[i16]) {
        self.pending.extend_from_slice(silence);
        let keep = self
            .config
            .max_gap
            .max(self.config.lead)
            .max(self.config.tail);
        if self.pending.len() > 2 * keep {
            let end = self.pending.len() - keep;
            self.pending.drain(keep..end);
        }
    }
}

#[cfg(test)]
#[path = "trim_tests.rs"]
mod tests;
