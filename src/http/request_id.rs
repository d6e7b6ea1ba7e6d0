//! The request id: one per HTTP request, taken from the client's `x-request-id` when it is
//! sane (sent once, 1 to `REQUEST_ID_CHARS_MAX` characters of `[A-Za-z0-9._:-]`), otherwise a
//! new UUID. `route` puts it in the request's extensions, opens the request's log span with
//! it and echoes it in the answer's `x-request-id`; the management API answers it as
//! `RequestId`. Must not carry anything but the id.

use hyper::HeaderMap;
use hyper::header::{HeaderName, HeaderValue};

/// The longest client-chosen request id kept; a longer one is replaced.
pub const REQUEST_ID_CHARS_MAX: usize = 128;

pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id, as logged and answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The client's id when it sent exactly one sane `x-request-id`, else a new one.
    pub fn of(headers: &HeaderMap) -> RequestId {
        let mut sent = headers.get_all(&REQUEST_ID_HEADER).iter();
        match (sent.next(), sent.next()) {
            (Some(v), None) => v
                .to_str()
                .ok()
                .filter(|s| is_sane(s))
                .map_or_else(RequestId::new, |s| RequestId(s.to_owned())),
            _ => RequestId::new(),
        }
    }

    /// A fresh id (an upper-case UUID, as CloudSSO's `RequestId`).
    pub fn new() -> RequestId {
        RequestId(uuid::Uuid::new_v4().to_string().to_uppercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn header_value(&self) -> Option<HeaderValue> {
        HeaderValue::from_str(&self.0).ok()
    }
}

impl Default for RequestId {
    fn default() -> Self {
        RequestId::new()
    }
}

fn is_sane(s: &str) -> bool {
    (1..=REQUEST_ID_CHARS_MAX).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_of(values: &[&str]) -> (RequestId, bool) {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(&REQUEST_ID_HEADER, HeaderValue::from_str(v).unwrap());
        }
        let id = RequestId::of(&h);
        let kept = values.len() == 1 && id.as_str() == values[0];
        (id, kept)
    }

    #[test]
    fn sane_ids_are_kept_others_replaced() {
        let at_max = "a".repeat(REQUEST_ID_CHARS_MAX);
        let over = "a".repeat(REQUEST_ID_CHARS_MAX + 1);
        let cases: &[(&[&str], bool)] = &[
            (&["abc-123"], true),
            (&["trace:1.2_3"], true),
            (&[at_max.as_str()], true),
            (&[over.as_str()], false),
            (&[""], false),
            (&["has space"], false),
            (&["<script>"], false),
            (&["a\"b"], false),
            (&["one", "two"], false),
            (&[], false),
        ];
        for (values, kept) in cases {
            let (id, was_kept) = id_of(values);
            assert_eq!(was_kept, *kept, "{values:?}");
            assert!(is_sane(id.as_str()), "{values:?} gave {id:?}");
        }
    }
}
