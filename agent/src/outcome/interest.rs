//! Lead interest score, 0–100, from what the caller said: the business-fit signals of a
//! sales conversation (budget mentioned +20, timeline defined +15, decision maker +25,
//! competitor mentioned +10), behaviour (pricing and product questions, engagement) and the
//! call's sentiment. Computed once at the end of a reached call by [`super::assess`]. Pure.

use serde::Serialize;

use super::sentiment::Sentiment;

/// Which signals the caller's lines showed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InterestSignals {
    pub budget: bool,
    pub timeline: bool,
    pub decision_maker: bool,
    pub competitor: bool,
    /// Questions about price or cost.
    pub pricing_questions: u32,
    /// Other questions (how it works, setup, terms).
    pub product_questions: u32,
    /// Caller lines with words in them.
    pub caller_lines: u32,
}

const BUDGET: &[&str] = &[
    "budget",
    "dollars",
    "afford",
    "spend",
    "per month",
    "a month",
    "per year",
    "invest",
    "$",
    "grand",
    "price range",
];
const TIMELINE: &[&str] = &[
    "this week",
    "next week",
    "this month",
    "next month",
    "by the end of",
    "asap",
    "as soon as",
    "right away",
    "soon",
    "tomorrow",
    "quarter",
    "before the",
    "by monday",
    "by friday",
    "in the spring",
    "in the summer",
    "in the fall",
    "this year",
    "next year",
    "timeline",
    "deadline",
    "start date",
    "launch",
];
const DECISION_MAKER: &[&str] = &[
    "i'm the owner",
    "i am the owner",
    "i own",
    "my business",
    "my gym",
    "my company",
    "i make the decision",
    "i decide",
    "my decision",
    "i'm in charge",
    "i run",
    "i'm the manager",
    "i manage",
    "i'm the director",
    "i sign",
    "it's up to me",
    "my call",
];
const DEFERS: &[&str] = &[
    "ask my boss",
    "ask my manager",
    "not my decision",
    "talk to my partner",
    "ask the owner",
    "not up to me",
    "i'd have to check with",
];
const COMPETITOR: &[&str] = &[
    "competitor",
    "another company",
    "another provider",
    "other provider",
    "we use",
    "we're using",
    "currently use",
    "already work with",
    "already have a provider",
    "switch from",
    "compared to",
    "cheaper elsewhere",
    "other quote",
];
const PRICING: &[&str] = &[
    "how much", "price", "cost", "fee", "pricing", "charge", "rate",
];

/// Reads the signals from the caller's lines; `competitors` are names that count as a
/// competitor mention (e.g. from the job's variables).
pub fn signals<'a>(
    caller_lines: impl IntoIterator<Item = &'a str>,
    competitors: &[String],
) -> InterestSignals {
    let mut s = InterestSignals::default();
    let mut deferred = false;
    for line in caller_lines {
        let text = line.to_lowercase().replace('’', "'");
        if text.split_whitespace().next().is_none() {
            continue;
        }
        s.caller_lines += 1;
        let has = |list: &[&str]| list.iter().any(|p| text.contains(p));
        s.budget |= has(BUDGET) || mentions_amount(&text);
        s.timeline |= has(TIMELINE);
        s.decision_maker |= has(DECISION_MAKER);
        deferred |= has(DEFERS);
        s.competitor |= has(COMPETITOR)
            || competitors
                .iter()
                .any(|c| !c.is_empty() && text.contains(&c.to_lowercase()));
        if text.contains('?') || starts_question(&text) {
            if has(PRICING) {
                s.pricing_questions += 1;
            } else {
                s.product_questions += 1;
            }
        }
    }
    s.decision_maker &= !deferred;
    s
}

/// Score 0–100 from the signals and the call sentiment.
pub fn score(s: &InterestSignals, sentiment: Sentiment) -> u8 {
    if s.caller_lines == 0 {
        return 0;
    }
    let mut points = 10.0; // reached and talking
    points += if s.budget { 20.0 } else { 0.0 };
    points += if s.timeline { 15.0 } else { 0.0 };
    points += if s.decision_maker { 25.0 } else { 0.0 };
    points += if s.competitor { 10.0 } else { 0.0 };
    points += (s.pricing_questions.min(2) * 5) as f32;
    points += (s.product_questions.min(2) * 3) as f32;
    points += (s.caller_lines.min(8) as f32) * 1.0;
    // Sentiment moves the score by up to ±15, by how sure it is.
    points += 15.0 * sentiment.score * sentiment.confidence;
    points.round().clamp(0.0, 100.0) as u8
}

fn starts_question(text: &str) -> bool {
    const Q: &[&str] = &[
        "how", "what", "when", "where", "why", "who", "which", "can", "could", "do", "does", "is",
        "are", "will", "would",
    ];
    text.split_whitespace()
        .next()
        .is_some_and(|w| Q.contains(&w.trim_matches(|c: char| !c.is_alphanumeric())))
}

/// "5k", "2,000", "500 bucks": a number next to money words or with a k suffix.
fn mentions_amount(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.iter().enumerate().any(|(i, w)| {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        let numeric = w.trim_end_matches('k').replace(',', "");
        let is_number = !numeric.is_empty() && numeric.chars().all(|c| c.is_ascii_digit());
        let k = w.ends_with('k') && is_number;
        let money_next = words.get(i + 1).is_some_and(|n| {
            ["bucks", "dollars", "grand", "thousand"]
                .iter()
                .any(|m| n.starts_with(m))
        });
        is_number && (k || money_next)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sc(lines: &[&str], sentiment: f32) -> u8 {
        let s = signals(lines.iter().copied(), &["ClimbX".to_string()]);
        score(
            &s,
            Sentiment {
                score: sentiment,
                confidence: 0.8,
            },
        )
    }

    #[test]
    fn each_business_signal_raises_the_score() {
        let base = sc(&["sure, go on"], 0.0);
        assert!(sc(&["sure, we have a budget of about 5k"], 0.0) >= base + 20);
        assert!(sc(&["sure, we'd want to start next month"], 0.0) >= base + 15);
        assert!(sc(&["sure, I'm the owner so it's my call"], 0.0) >= base + 25);
        assert!(sc(&["sure, we currently use ClimbX"], 0.0) >= base + 10);
    }

    #[test]
    fn a_hot_lead_scores_high_and_a_cold_one_low() {
        let hot = sc(
            &[
                "I'm the owner.",
                "We spend about 2,000 dollars a month on insurance.",
                "How much does it cost?",
                "We'd like to launch next month, sounds great.",
            ],
            0.7,
        );
        let cold = sc(&["not interested, this is a waste of my time"], -0.8);
        assert!(hot >= 80, "{hot}");
        assert!(cold <= 10, "{cold}");
        assert_eq!(sc(&[], 0.0), 0);
    }

    #[test]
    fn deferring_to_someone_else_is_not_a_decision_maker() {
        let s = signals(
            ["I run the front desk, I'd have to check with the owner"],
            &[],
        );
        assert!(!s.decision_maker);
    }
}
