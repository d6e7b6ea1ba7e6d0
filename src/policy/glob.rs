//! Wildcard patterns of RAM policies: `*` matches any run of characters (also none), `?`
//! matches exactly one character, everything else matches itself. RAM has no escape, so `*` and
//! `?` are always wildcards.
//!
//! Owns compiling a pattern once (at parse time) and matching it without allocating. Must not
//! use regular expressions or recursion. A pattern is compiled into the literal runs between
//! its stars; each run (which may hold `?`) always consumes the same number of characters, so
//! the first run is checked at the start of the text, the last run at its end, and each middle
//! run is searched leftmost after the previous one. That is what the classic two-pointer
//! matcher computes when it backtracks to the last `*`, without its rescans of the tail: at
//! worst O(pattern x text), never exponential.

/// Whether letters compare exactly or ASCII-case-insensitively (RAM compares actions without
/// regard to case, resources and condition values exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Sensitive,
    Insensitive,
}

/// What a pattern reduces to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// `*`: matches everything.
    Any,
    /// No wildcard at all: `key` must equal the text.
    Exact,
    /// Otherwise: the runs between stars, first and last included even when empty, so
    /// `cloudsso:Get*` is `["cloudsso:get", ""]` and `a?c` (no star) is `["a?c"]`.
    // INVARIANT: at least one run; no middle run is empty (`**` is `*`).
    Runs(Vec<Run>),
}

/// The text between two stars.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    bytes: Box<[u8]>,
    /// Characters it consumes: one per `?`, one per literal character.
    chars: usize,
    /// Whether it holds a `?`; without one a run is a plain slice comparison.
    any_one: bool,
}

impl Run {
    fn new(text: &str) -> Run {
        Run {
            bytes: text.as_bytes().into(),
            chars: text.chars().count(),
            any_one: text.contains('?'),
        }
    }
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// As written in the policy, for display and reports.
    source: String,
    /// What `Shape::Exact` compares: `source`, ASCII-lowercased if `case` is insensitive.
    // INVARIANT: for `Case::Insensitive` neither `key` nor any run holds an ASCII uppercase
    // letter.
    key: String,
    shape: Shape,
    case: Case,
}

impl Pattern {
    pub fn compile(source: &str, case: Case) -> Pattern {
        let key = match case {
            Case::Sensitive => source.to_owned(),
            Case::Insensitive => source.to_ascii_lowercase(),
        };
        let shape = if key == "*" {
            Shape::Any
        } else if !key.contains(['*', '?']) {
            Shape::Exact
        } else {
            let runs: Vec<&str> = key.split('*').collect();
            let last = runs.len().saturating_sub(1);
            Shape::Runs(
                runs.iter()
                    .enumerate()
                    .filter(|&(i, run)| i == 0 || i == last || !run.is_empty())
                    .map(|(_, run)| Run::new(run))
                    .collect(),
            )
        };
        Pattern {
            source: source.to_owned(),
            key,
            shape,
            case,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, text: &str) -> bool {
        let text = text.as_bytes();
        match &self.shape {
            Shape::Any => true,
            Shape::Exact => match self.case {
                Case::Sensitive => self.key.as_bytes() == text,
                Case::Insensitive => self.key.as_bytes().eq_ignore_ascii_case(text),
            },
            Shape::Runs(runs) => match_runs(runs, text, self.case),
        }
    }
}

/// `runs` joined by `*` matches all of `text`. Works on UTF-8 bytes: a literal byte compares
/// with one byte, `?` consumes one whole character. A run can only start matching on a
/// character boundary (it starts with a lead byte or `?`, and `?` is only tried at
/// boundaries), so it also ends on one.
fn match_runs(runs: &[Run], text: &[u8], case: Case) -> bool {
    let Some((first, rest)) = runs.split_first() else {
        return false;
    };
    let Some(after_first) = run_at(first, text, 0, case) else {
        return false;
    };
    let Some((last, middles)) = rest.split_last() else {
        // No star: the single run must cover the whole text.
        return after_first == text.len();
    };
    // The last run ends at the end of the text, so it starts as many characters before the
    // end as it consumes, and not before the first run ends.
    let last_start = match last.any_one {
        false => text.len().checked_sub(last.bytes.len()),
        true => back_chars(text, last.chars),
    };
    let Some(last_start) = last_start else {
        return false;
    };
    if last_start < after_first || run_at(last, text, last_start, case) != Some(text.len()) {
        return false;
    }
    let Some(between) = text.get(..last_start) else {
        return false;
    };
    let mut from = after_first;
    for run in middles {
        match find_run(run, between, from, case) {
            Some(end) => from = end,
            None => return false,
        }
    }
    true
}

/// Where `run` ends if it matches `text` starting at byte `at`.
fn run_at(run: &Run, text: &[u8], at: usize, case: Case) -> Option<usize> {
    if !run.any_one {
        let end = at.checked_add(run.bytes.len())?;
        let same = match (text.get(at..end), case) {
            (None, _) => false,
            (Some(slice), Case::Sensitive) => *slice == *run.bytes,
            (Some(slice), Case::Insensitive) => slice.eq_ignore_ascii_case(&run.bytes),
        };
        return same.then_some(end);
    }
    let mut t = at;
    for &p in run.bytes.iter() {
        let &c = text.get(t)?;
        t += match (p, case) {
            (b'?', _) => char_len(c),
            (_, Case::Sensitive) if p == c => 1,
            (_, Case::Insensitive) if p == c.to_ascii_lowercase() => 1,
            _ => return None,
        };
    }
    (t <= text.len()).then_some(t)
}

/// The end of the leftmost match of `run` (not empty) in `text` starting at or after `from`.
fn find_run(run: &Run, text: &[u8], from: usize, case: Case) -> Option<usize> {
    let tail = text.get(from..)?;
    let lead = run.bytes.first().copied().filter(|&b| b != b'?');
    tail.iter().enumerate().find_map(|(i, &b)| {
        let candidate = match (lead, case) {
            // `?` may only start on a character boundary.
            (None, _) => !is_continuation(b),
            (Some(lead), Case::Sensitive) => b == lead,
            (Some(lead), Case::Insensitive) => b.to_ascii_lowercase() == lead,
        };
        candidate
            .then(|| run_at(run, text, from + i, case))
            .flatten()
    })
}

/// The byte position `n` characters before the end of `text`, if it has that many.
fn back_chars(text: &[u8], n: usize) -> Option<usize> {
    let mut at = text.len();
    for _ in 0..n {
        at = text.get(..at)?.iter().rposition(|&b| !is_continuation(b))?;
    }
    Some(at)
}

fn is_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

/// Length in bytes of the UTF-8 character that starts with `lead` (1 for a stray continuation
/// byte, so matching always moves forward).
fn char_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}
