//! Wildcard patterns of RAM policies: `*` matches any run of characters (also none), `?`
//! matches exactly one character, everything else matches itself. RAM has no escape, so `*` and
//! `?` are always wildcards.
//!
//! Owns compiling a pattern once (at parse time) and matching it without allocating. Must not
//! use regular expressions or recursion: matching is the classic two-pointer algorithm that
//! backtracks only to the last `*`, so it is O(pattern x text) in the worst case and never
//! exponential.

/// What a pattern reduces to; the common shapes skip the general matcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `*`: matches everything.
    Any,
    /// No wildcard at all.
    Exact,
    /// One trailing `*` and no other wildcard (`cloudsso:Get*`): the text without the `*`.
    Prefix,
    /// Anything else.
    Glob,
}

/// Whether letters compare exactly or ASCII-case-insensitively (RAM compares actions without
/// regard to case, resources and condition values exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Sensitive,
    Insensitive,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// As written in the policy, for display and reports.
    source: String,
    /// What the matcher compares: `source`, ASCII-lowercased if `case` is insensitive, and
    /// without the trailing `*` for `Shape::Prefix`.
    // INVARIANT: for `Case::Insensitive` this holds no ASCII uppercase letter.
    key: String,
    shape: Shape,
    case: Case,
}

impl Pattern {
    pub fn compile(source: &str, case: Case) -> Pattern {
        let folded = match case {
            Case::Sensitive => source.to_owned(),
            Case::Insensitive => source.to_ascii_lowercase(),
        };
        let wildcards = folded.bytes().filter(|b| matches!(b, b'*' | b'?')).count();
        let (shape, key) = if folded == "*" {
            (Shape::Any, String::new())
        } else if wildcards == 0 {
            (Shape::Exact, folded)
        } else if wildcards == 1 && folded.ends_with('*') {
            let mut key = folded;
            key.pop();
            (Shape::Prefix, key)
        } else {
            (Shape::Glob, folded)
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
        let (key, text) = (self.key.as_bytes(), text.as_bytes());
        match (self.shape, self.case) {
            (Shape::Any, _) => true,
            (Shape::Exact, Case::Sensitive) => key == text,
            (Shape::Exact, Case::Insensitive) => key.eq_ignore_ascii_case(text),
            (Shape::Prefix, Case::Sensitive) => text.starts_with(key),
            (Shape::Prefix, Case::Insensitive) => text
                .get(..key.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(key)),
            (Shape::Glob, case) => glob(key, text, case),
        }
    }
}

/// Length in bytes of the UTF-8 character that starts with `lead` (1 for a stray continuation
/// byte, so the matcher always moves forward).
fn char_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Two-pointer wildcard match over UTF-8 bytes. `?` consumes one whole character. A literal
/// byte of the pattern compares with one byte of the text; since both are UTF-8, a run of
/// literal bytes that matches starting on a character boundary also ends on one.
fn glob(pattern: &[u8], text: &[u8], case: Case) -> bool {
    let same = |p: u8, t: u8| match case {
        Case::Sensitive => p == t,
        Case::Insensitive => p == t.to_ascii_lowercase(),
    };
    let (mut p, mut t) = (0, 0);
    // The last `*` seen and the text position it has been stretched to so far.
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(b'?') => {
                p += 1;
                t += char_len(c);
            }
            Some(&lit) if same(lit, c) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                // Let the last `*` swallow one more character and retry after it.
                Some((star_p, star_t)) => {
                    let next = star_t + text.get(star_t).map_or(1, |&b| char_len(b));
                    star = Some((star_p, next));
                    p = star_p + 1;
                    t = next;
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}
