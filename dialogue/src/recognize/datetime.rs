//! Relative dates and times in the callee's time zone: "tomorrow afternoon", "next Monday
//! at 3", "in two hours", "Friday morning", "at 4:30 pm", "tonight". `now` always comes in
//! from an event; nothing here reads a clock.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use super::number::numbers;
use super::text::{normalize, words};
use super::Recognized;

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

/// Recognises a future instant.
pub fn datetime(text: &str, now: DateTime<Utc>, tz: Tz) -> Recognized<DateTime<Utc>> {
    let norm = normalize(text);
    let ws = words(&norm);
    let has = |w: &str| ws.contains(&w);
    let phrase = |p: &str| super::text::contains_phrase(&norm, p);
    let local_now = now.with_timezone(&tz);
    let today = local_now.date_naive();

    // Pure offsets: "in 2 hours", "in an hour", "in 30 minutes", "in three days".
    if has("in") {
        let n = numbers(text)
            .first()
            .map(|x| x.0)
            .or_else(|| (has("an") || has("a")).then_some(1));
        if let Some(n) = n.filter(|n| (1..=1000).contains(n)) {
            let unit = if has("minutes") || has("minute") || has("mins") {
                Some(Duration::minutes(n))
            } else if has("hours") || has("hour") {
                Some(Duration::hours(n))
            } else if has("days") || has("day") {
                Some(Duration::days(n))
            } else if has("weeks") || has("week") {
                Some(Duration::weeks(n))
            } else {
                None
            };
            if let Some(d) = unit {
                return Recognized::Match {
                    value: now + d,
                    confidence: 0.9,
                };
            }
        }
    }
    if phrase("later today") || (has("later") && ws.len() <= 3 && !has("week")) {
        return Recognized::Match {
            value: now + Duration::hours(2),
            confidence: 0.6,
        };
    }

    // Day.
    let mut day: Option<NaiveDate> = None;
    if phrase("day after tomorrow") {
        day = today.checked_add_days(chrono::Days::new(2));
    } else if has("tomorrow") || has("tmrw") {
        day = today.succ_opt();
    } else if has("today")
        || has("tonight")
        || phrase("this afternoon")
        || phrase("this evening")
        || phrase("this morning")
    {
        day = Some(today);
    } else if let Some((_, wd)) = WEEKDAYS.iter().find(|(n, _)| has(n)) {
        let mut d = today.succ_opt();
        while let Some(x) = d {
            if x.weekday() == *wd {
                break;
            }
            d = x.succ_opt();
        }
        day = d;
    } else if phrase("next week") {
        let mut d = today.succ_opt();
        while let Some(x) = d {
            if x.weekday() == Weekday::Mon {
                break;
            }
            d = x.succ_opt();
        }
        day = d;
    }

    // Part of day and clock time.
    let part = if has("morning") {
        Some(10)
    } else if has("afternoon") {
        Some(14)
    } else if has("evening") || has("tonight") {
        Some(18)
    } else if has("noon") || has("midday") || has("lunchtime") || has("lunch") {
        Some(12)
    } else {
        None
    };
    let clock = clock_time(&norm, &ws, part);
    let time = clock.or_else(|| part.and_then(|h| NaiveTime::from_hms_opt(h, 0, 0)));

    let (date, confidence) = match (day, time) {
        (Some(d), Some(_)) => (d, 0.9),
        (Some(d), None) => (d, 0.7),
        (None, Some(t)) => {
            let d = if t > local_now.time() {
                today
            } else {
                today.succ_opt().unwrap_or(today)
            };
            (d, 0.8)
        }
        (None, None) => return Recognized::NoMatch,
    };
    let t = time.unwrap_or_else(|| NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default());
    let Some(local) = tz.from_local_datetime(&date.and_time(t)).earliest() else {
        return Recognized::Ambiguous;
    };
    let at = local.with_timezone(&Utc);
    if at <= now {
        return Recognized::Ambiguous;
    }
    Recognized::Match {
        value: at,
        confidence,
    }
}

/// "at 3", "3pm", "3 30 pm" (normalised "3:30"), "half past four", "four oclock".
fn clock_time(norm: &str, ws: &[&str], part: Option<u32>) -> Option<NaiveTime> {
    let nums = numbers(norm);
    let pm = ws
        .iter()
        .any(|w| *w == "pm" || w.ends_with("pm") && w.len() <= 4);
    let am = ws
        .iter()
        .any(|w| *w == "am" || w.ends_with("am") && w.len() <= 4 && w != &"am");
    // "3pm" is one word after normalisation: pull the digits out.
    let glued = ws.iter().find_map(|w| {
        let d = w.strip_suffix("pm").or_else(|| w.strip_suffix("am"))?;
        d.parse::<u32>().ok()
    });
    let anchored = ws.iter().position(|w| {
        *w == "at" || *w == "around" || *w == "about" || *w == "past" || *w == "oclock"
    });
    let (mut hour, mut minute) = match glued {
        Some(h) => (h, 0),
        None => {
            if anchored.is_none() && !pm && !am {
                return None;
            }
            let mut it = nums.iter().filter(|(n, _)| (0..=60).contains(n));
            let (h, _) = it.next()?;
            let m = it.next().map_or(0, |(m, _)| *m);
            (*h as u32, m as u32)
        }
    };
    if norm.contains("half past") {
        minute = 30;
    } else if norm.contains("quarter past") {
        minute = 15;
    }
    if hour > 23 || minute > 59 {
        return None;
    }
    if hour < 12 {
        let afternoonish = part.is_some_and(|p| p >= 12);
        if pm || afternoonish || (!am && part.is_none() && (1..=7).contains(&hour)) {
            hour += 12;
        }
    }
    if am && hour == 12 {
        hour = 0;
    }
    NaiveTime::from_hms_opt(hour, minute, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Option<String> {
        // Wednesday 15 Jan 2025, 11:00 in New York.
        let now = Utc.with_ymd_and_hms(2025, 1, 15, 16, 0, 0).unwrap();
        let tz: Tz = "America/New_York".parse().unwrap();
        match datetime(s, now, tz) {
            Recognized::Match { value, .. } => {
                Some(value.with_timezone(&tz).format("%a %d %H:%M").to_string())
            }
            _ => None,
        }
    }

    #[test]
    fn relative_phrases_in_callee_time_zone() {
        assert_eq!(at("tomorrow afternoon").as_deref(), Some("Thu 16 14:00"));
        assert_eq!(at("next Monday at 3").as_deref(), Some("Mon 20 15:00"));
        assert_eq!(
            at("call me friday morning").as_deref(),
            Some("Fri 17 10:00")
        );
        assert_eq!(at("in two hours").as_deref(), Some("Wed 15 13:00"));
        assert_eq!(at("at 4:30 pm").as_deref(), Some("Wed 15 16:30"));
        assert_eq!(at("tomorrow at 9am").as_deref(), Some("Thu 16 09:00"));
        assert_eq!(at("tonight").as_deref(), Some("Wed 15 18:00"));
        assert_eq!(at("tomorrow").as_deref(), Some("Thu 16 10:00"));
        assert_eq!(at("I like turtles"), None);
        assert_eq!(at("this morning"), None, "already past: ambiguous");
    }
}
