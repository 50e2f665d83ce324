//! English number words, as the TTS should read them: cardinals without "and"
//! ("one thousand two hundred fifty"), ordinals, years ("nineteen ninety-nine") and decimals
//! ("three point one four"). Words are separated by spaces, never hyphens, so each one can be
//! looked up in the lexicon.

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [&str; 7] = [
    "",
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
    "quintillion",
];

fn below_1000(n: u64, out: &mut Vec<&'static str>) {
    let (h, rest) = (n / 100, n % 100);
    if h > 0 {
        out.push(ONES[h as usize]);
        out.push("hundred");
    }
    if rest >= 20 {
        out.push(TENS[(rest / 10) as usize]);
        if rest % 10 > 0 {
            out.push(ONES[(rest % 10) as usize]);
        }
    } else if rest > 0 || h == 0 {
        out.push(ONES[rest as usize]);
    }
}

/// Cardinal words: 1250 → "one thousand two hundred fifty".
pub fn cardinal(n: u64) -> String {
    if n < 1000 {
        let mut w = Vec::new();
        below_1000(n, &mut w);
        return w.join(" ");
    }
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push(rest % 1000);
        rest /= 1000;
    }
    let mut words = Vec::new();
    for (scale, &g) in groups.iter().enumerate().rev() {
        if g == 0 {
            continue;
        }
        below_1000(g, &mut words);
        if scale > 0 {
            words.push(SCALES[scale]);
        }
    }
    words.join(" ")
}

/// Signed cardinal: -3 → "minus three".
pub fn signed(n: i64) -> String {
    if n < 0 {
        format!("minus {}", cardinal(n.unsigned_abs()))
    } else {
        cardinal(n as u64)
    }
}

/// Ordinal words: 21 → "twenty first", 100 → "one hundredth".
pub fn ordinal(n: u64) -> String {
    let c = cardinal(n);
    let (head, last) = match c.rsplit_once(' ') {
        Some((h, l)) => (format!("{h} "), l.to_string()),
        None => (String::new(), c.clone()),
    };
    let last = match last.as_str() {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    head + &last
}

/// A year: 1999 → "nineteen ninety nine", 2005 → "two thousand five", 2024 → "twenty twenty
/// four", 1900 → "nineteen hundred", 1905 → "nineteen oh five".
pub fn year(n: u64) -> String {
    let (high, low) = (n / 100, n % 100);
    if high == 0 || (high % 10 == 0 && low < 10) || high >= 100 {
        return cardinal(n);
    }
    let low = match low {
        0 => "hundred".to_string(),
        1..=9 => format!("oh {}", cardinal(low)),
        _ => cardinal(low),
    };
    format!("{} {low}", cardinal(high))
}

/// A decimal written with digits: "3.14" → "three point one four"; ".5" → "point five".
/// Returns `None` when `s` is not digits with at most one point.
pub fn decimal(s: &str) -> Option<String> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut words = Vec::new();
    if !int.is_empty() {
        words.push(cardinal(int.parse().ok()?));
    }
    if !frac.is_empty() {
        words.push("point".to_string());
        words.extend(
            frac.chars()
                .map(|c| ONES[c as usize - '0' as usize].to_string()),
        );
    }
    Some(words.join(" "))
}

/// Each digit as a word: "0420" → "zero four two zero".
pub fn digits(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_digit)
        .map(|c| ONES[c as usize - '0' as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinals() {
        assert_eq!(cardinal(0), "zero");
        assert_eq!(cardinal(7), "seven");
        assert_eq!(cardinal(45), "forty five");
        assert_eq!(cardinal(100), "one hundred");
        assert_eq!(cardinal(1250), "one thousand two hundred fifty");
        assert_eq!(cardinal(1_000_001), "one million one");
        assert_eq!(signed(-12), "minus twelve");
    }

    #[test]
    fn ordinals() {
        assert_eq!(ordinal(1), "first");
        assert_eq!(ordinal(3), "third");
        assert_eq!(ordinal(21), "twenty first");
        assert_eq!(ordinal(40), "fortieth");
        assert_eq!(ordinal(112), "one hundred twelfth");
        assert_eq!(ordinal(100), "one hundredth");
    }

    #[test]
    fn years_and_decimals() {
        assert_eq!(year(1999), "nineteen ninety nine");
        assert_eq!(year(2005), "two thousand five");
        assert_eq!(year(2024), "twenty twenty four");
        assert_eq!(year(1905), "nineteen oh five");
        assert_eq!(year(1900), "nineteen hundred");
        assert_eq!(decimal("3.14").as_deref(), Some("three point one four"));
        assert_eq!(decimal(".5").as_deref(), Some("point five"));
        assert_eq!(decimal("1.2.3"), None);
        assert_eq!(digits("0420"), "zero four two zero");
    }
}
