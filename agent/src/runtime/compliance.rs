//! The compliance gate every outbound job passes right before it is dialled: a valid E.164
//! number, not on the do-not-call list, consent on record (when the policy requires it), no
//! more than the allowed attempts per number per day, and inside the calling-hours window in
//! the callee's time zone (outside it the job waits for the next window; it is not refused).

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::store::compliance::NumberFacts;

#[derive(Debug, Clone)]
pub struct Policy {
    pub require_consent: bool,
    /// Local calling window [start, end); start == end means any time.
    pub window: (NaiveTime, NaiveTime),
    pub max_attempts_per_day: i64,
    /// Used when neither the job nor the tenant names the callee's time zone.
    pub default_time_zone: Tz,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            require_consent: true,
            // 8 am to 9 pm: the usual legal window for telemarketing calls.
            window: (hm(8, 0), hm(21, 0)),
            max_attempts_per_day: 3,
            default_time_zone: Tz::UTC,
        }
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Dial,
    /// Never dial this job; `reason` is recorded on the call.
    Refuse(String),
    /// Try again at `until` (epoch ms).
    Defer {
        until: i64,
        reason: String,
    },
}

/// Whether `number` is E.164: `+`, a non-zero digit, 7 to 15 digits in all.
pub fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// `number` for logs: the country code area and the last two digits only.
pub fn mask(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 5))
}

/// The callee's time zone: the job's, else the policy default. An unknown name is an error.
pub fn time_zone(policy: &Policy, name: Option<&str>) -> Result<Tz, String> {
    match name {
        None => Ok(policy.default_time_zone),
        Some(n) => n.parse::<Tz>().map_err(|_| {
            format!("unknown time zone {n:?} (want an IANA name such as Europe/Paris)")
        }),
    }
}

/// Midnight today in `tz`, as epoch ms (for "attempts per day").
pub fn day_start(tz: Tz, now: DateTime<Utc>) -> i64 {
    let local = now.with_timezone(&tz).date_naive();
    tz.from_local_datetime(&local.and_time(NaiveTime::MIN))
        .earliest()
        .map_or(now.timestamp_millis(), |d| d.timestamp_millis())
}

/// The gate's decision for dialling `number` now.
pub fn decide(
    policy: &Policy,
    number: &str,
    tz: Tz,
    facts: NumberFacts,
    now: DateTime<Utc>,
) -> Verdict {
    if !is_e164(number) {
        return Verdict::Refuse("invalid_number".into());
    }
    if facts.dnc {
        return Verdict::Refuse("dnc".into());
    }
    match facts.consent {
        Some(false) => return Verdict::Refuse("consent_withdrawn".into()),
        None if policy.require_consent => return Verdict::Refuse("no_consent".into()),
        _ => {}
    }
    if facts.attempts_today >= policy.max_attempts_per_day {
        return Verdict::Defer {
            until: next_window(policy, tz, now, true),
            reason: format!("max_attempts_per_day ({})", policy.max_attempts_per_day),
        };
    }
    let local = now.with_timezone(&tz).time();
    let (start, end) = policy.window;
    if start != end && (local < start || local >= end) {
        return Verdict::Defer {
            until: next_window(policy, tz, now, false),
            reason: format!("outside calling hours in {tz}"),
        };
    }
    Verdict::Dial
}

/// The next window opening (tomorrow's when `tomorrow` or today's has passed), epoch ms.
fn next_window(policy: &Policy, tz: Tz, now: DateTime<Utc>, tomorrow: bool) -> i64 {
    let local = now.with_timezone(&tz);
    let mut day = local.date_naive();
    if tomorrow || local.time() >= policy.window.0 {
        day += Duration::days(1);
    }
    tz.from_local_datetime(&day.and_time(policy.window.0))
        .earliest()
        .map_or(now.timestamp_millis() + 3_600_000, |d| d.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap()
    }

    fn ok_facts() -> NumberFacts {
        NumberFacts {
            dnc: false,
            consent: Some(true),
            attempts_today: 0,
        }
    }

    #[test]
    fn numbers_are_checked_and_masked() {
        assert!(is_e164("+14155550123"));
        assert!(!is_e164("14155550123"));
        assert!(!is_e164("+0415555"));
        assert!(!is_e164("+1415abc0123"));
        assert_eq!(mask("+14155550123"), "+14*******23");
        assert!(!mask("+14155550123").contains("555"));
    }

    #[test]
    fn refusals_name_their_reason() {
        let p = Policy::default();
        let tz = Tz::America__New_York;
        let noon = at("2026-11-20T17:00:00Z"); // 12:00 in New York
        assert_eq!(
            decide(&p, "+14155550123", tz, ok_facts(), noon),
            Verdict::Dial
        );
        let dnc = NumberFacts {
            dnc: true,
            ..ok_facts()
        };
        assert_eq!(
            decide(&p, "+14155550123", tz, dnc, noon),
            Verdict::Refuse("dnc".into())
        );
        let none = NumberFacts {
            consent: None,
            ..ok_facts()
        };
        assert_eq!(
            decide(&p, "+14155550123", tz, none, noon),
            Verdict::Refuse("no_consent".into())
        );
        let lax = Policy {
            require_consent: false,
            ..Policy::default()
        };
        assert_eq!(decide(&lax, "+14155550123", tz, none, noon), Verdict::Dial);
        assert_eq!(
            decide(&p, "555-0123", tz, ok_facts(), noon),
            Verdict::Refuse("invalid_number".into())
        );
    }

    #[test]
    fn outside_hours_waits_for_the_callees_morning() {
        let p = Policy::default();
        // 02:00 UTC = 21:00 in New York the evening before: just closed.
        let late = at("2026-11-21T02:00:00Z");
        let Verdict::Defer { until, .. } =
            decide(&p, "+14155550123", Tz::America__New_York, ok_facts(), late)
        else {
            panic!("expected a deferral");
        };
        assert_eq!(until, at("2026-11-21T13:00:00Z").timestamp_millis()); // 08:00 EST
                                                                          // The same instant is 03:00 in Paris: the window opens at 08:00 the same day.
        let Verdict::Defer { until, .. } =
            decide(&p, "+33612345678", Tz::Europe__Paris, ok_facts(), late)
        else {
            panic!("expected a deferral");
        };
        assert_eq!(until, at("2026-11-21T07:00:00Z").timestamp_millis());
        let tired = NumberFacts {
            attempts_today: 3,
            ..ok_facts()
        };
        assert!(matches!(
            decide(
                &p,
                "+14155550123",
                Tz::America__New_York,
                tired,
                at("2026-11-20T17:00:00Z")
            ),
            Verdict::Defer { .. }
        ));
    }
}
