//! Distribution summaries and Markdown tables for the benchmark reports. Pure: no clock,
//! no I/O.

use std::fmt::Write as _;

/// Percentiles of one measured quantity (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// Summarises `values`; `None` when there are none (NaNs are ignored).
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let idx = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[idx.clamp(1, v.len()) - 1]
        };
        Some(Self {
            n: v.len(),
            p50: rank(50.0),
            p95: rank(95.0),
            p99: rank(99.0),
            max: v[v.len() - 1],
            mean: v.iter().sum::<f64>() / v.len() as f64,
        })
    }

    /// Summarises whole milliseconds.
    pub fn of_ms(values: impl IntoIterator<Item = u64>) -> Option<Self> {
        let v: Vec<f64> = values.into_iter().map(|x| x as f64).collect();
        Self::of(&v)
    }
}

/// A Markdown table built row by row.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// A row for one distribution: `name`, n, p50, p95, p99, max (with `decimals`).
    pub fn summary_row(&mut self, name: &str, summary: Option<Summary>, decimals: usize) {
        let cells = match summary {
            Some(s) => vec![
                name.to_string(),
                s.n.to_string(),
                fmt(s.p50, decimals),
                fmt(s.p95, decimals),
                fmt(s.p99, decimals),
                fmt(s.max, decimals),
            ],
            None => vec![
                name.to_string(),
                "0".into(),
                "–".into(),
                "–".into(),
                "–".into(),
                "–".into(),
            ],
        };
        self.rows.push(cells);
    }

    /// The header row of [`Table::summary_row`] tables, with the unit in the first column.
    pub fn for_summaries(first: &str) -> Self {
        Self::new(&[first, "n", "p50", "p95", "p99", "max"])
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        out.push_str(&line(&self.headers));
        let rule: Vec<String> = self
            .headers
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---".into() } else { "---:".into() })
            .collect();
        out.push_str(&line(&rule));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// A number with a fixed count of decimals.
pub fn fmt(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

/// One measurement's report: a heading, Markdown body and a pass/miss verdict per target.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub title: String,
    pub body: String,
}

impl Section {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            body: String::new(),
        }
    }

    pub fn table(&mut self, table: &Table) {
        self.block_break();
        self.body.push_str(&table.to_markdown());
        self.body.push('\n');
    }

    pub fn para(&mut self, text: impl AsRef<str>) {
        self.block_break();
        self.body.push_str(text.as_ref());
        self.body.push_str("\n\n");
    }

    /// Ends a preceding list with a blank line, so the next block is not part of it.
    fn block_break(&mut self) {
        if !self.body.is_empty() && !self.body.ends_with("\n\n") {
            self.body.push('\n');
        }
    }

    /// A target line: `label`: measured vs target, met or missed.
    pub fn target(&mut self, label: &str, measured: f64, target: f64, unit: &str) {
        let verdict = if measured <= target {
            "met"
        } else {
            "**missed**"
        };
        let _ = writeln!(
            self.body,
            "- {label}: {measured:.1} {unit} (target ≤ {target} {unit}): {verdict}"
        );
    }

    pub fn to_markdown(&self) -> String {
        format!("### {}\n\n{}\n", self.title, self.body.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::of(&v).expect("summary");
        assert_eq!(
            (s.n, s.p50, s.p95, s.p99, s.max),
            (100, 50.0, 95.0, 99.0, 100.0)
        );
        let one = Summary::of(&[7.0]).expect("summary");
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
        assert!(Summary::of(&[]).is_none());
        assert!(Summary::of(&[f64::NAN]).is_none());
    }

    #[test]
    fn tables_render_as_markdown() {
        let mut t = Table::for_summaries("ms");
        t.summary_row("x", Summary::of(&[1.0, 3.0]), 1);
        let md = t.to_markdown();
        assert!(md.starts_with("| ms | n | p50 | p95 | p99 | max |\n| --- | ---: |"));
        assert!(md.contains("| x | 2 | 1.0 | 3.0 | 3.0 | 3.0 |"));
    }

    #[test]
    fn a_paragraph_after_target_lines_starts_a_new_block() {
        let mut s = Section::new("t");
        s.target("a", 1.0, 2.0, "ms");
        s.target("b", 3.0, 2.0, "ms");
        s.para("after");
        assert!(s.body.contains("**missed**\n\nafter"), "{}", s.body);
        assert!(s.body.contains("met\n- b"), "{}", s.body);
    }
}
