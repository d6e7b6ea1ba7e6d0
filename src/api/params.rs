//! An operation's parameters, parsed into values at the boundary with Alibaba-style errors
//! (`MissingParameter.<Name>`, `InvalidParameter.<Name>`), and the `MaxResults`/`NextToken`
//! pagination every list shares.

use super::error::ApiFault;
use crate::model::{DirectoryId, GroupId, UserId};
use base64::Engine;

/// Largest and default `MaxResults` (CloudSSO: 1 to 100, default 10).
pub const MAX_RESULTS_MAX: usize = 100;
pub const MAX_RESULTS_DEFAULT: usize = 10;
/// Longest parameter value accepted, in bytes (a policy document is at most 6,144
/// characters; this leaves room for its encoding).
pub const PARAM_BYTES_MAX: usize = 32 * 1024;

/// The parameters allowed longer than `PARAM_BYTES_MAX`, with their own bound: an IdP's
/// metadata document (its own limit is checked where it is parsed).
const LONG_PARAMS: &[(&str, usize)] = &[(
    "EncodedMetadataDocument",
    crate::signin::saml::external::ENCODED_METADATA_BYTES_MAX,
)];

/// Longest value accepted for parameter `name`, in bytes.
pub fn param_bytes_max(name: &str) -> usize {
    LONG_PARAMS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(PARAM_BYTES_MAX, |(_, max)| *max)
}

#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        Params { pairs }
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// A parameter's value; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiFault> {
        self.get(name).ok_or_else(|| ApiFault::missing(name))
    }

    /// A required id or name that goes into ARNs and keys: at most 64 letters, digits, `-`,
    /// `_` and `.`.
    pub fn id(&self, name: &str) -> Result<&str, ApiFault> {
        let v = self.required(name)?;
        if v.len() > 64
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(ApiFault::invalid(name, "not a valid id"));
        }
        Ok(v)
    }

    /// The required `DirectoryId` parameter, checked as an id.
    pub fn directory_id(&self) -> Result<DirectoryId, ApiFault> {
        self.id("DirectoryId").map(DirectoryId::new)
    }

    /// The required `UserId` parameter, checked as an id.
    pub fn user_id(&self) -> Result<UserId, ApiFault> {
        self.id("UserId").map(UserId::new)
    }

    /// The required `GroupId` parameter, checked as an id.
    pub fn group_id(&self) -> Result<GroupId, ApiFault> {
        self.id("GroupId").map(GroupId::new)
    }

    /// A required value from a closed set.
    pub fn one_of<'a>(&self, name: &str, allowed: &[&'a str]) -> Result<&'a str, ApiFault> {
        let v = self.required(name)?;
        Self::pick(name, v, allowed)
    }

    /// An optional value from a closed set.
    pub fn maybe_one_of<'a>(
        &self,
        name: &str,
        allowed: &[&'a str],
    ) -> Result<Option<&'a str>, ApiFault> {
        self.get(name)
            .map(|v| Self::pick(name, v, allowed))
            .transpose()
    }

    fn pick<'a>(name: &str, v: &str, allowed: &[&'a str]) -> Result<&'a str, ApiFault> {
        allowed.iter().find(|a| **a == v).copied().ok_or_else(|| {
            ApiFault::invalid(name, format!("must be one of {}", allowed.join(", ")))
        })
    }

    /// An optional integer within `range`.
    pub fn int(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, ApiFault> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let n: i64 = v
            .parse()
            .map_err(|_| ApiFault::invalid(name, "must be an integer"))?;
        if !range.contains(&n) {
            return Err(ApiFault::invalid(
                name,
                format!("must be between {} and {}", range.start(), range.end()),
            ));
        }
        Ok(Some(n))
    }

    /// A string of at most `max` characters (optional).
    pub fn text(&self, name: &str, max: usize) -> Result<Option<&str>, ApiFault> {
        match self.get(name) {
            Some(v) if v.chars().count() > max => Err(ApiFault::invalid(
                name,
                format!("must be at most {max} characters"),
            )),
            v => Ok(v),
        }
    }

    /// `MaxResults` and `NextToken`: (offset, count).
    pub fn page(&self) -> Result<(usize, usize), ApiFault> {
        self.page_up_to(MAX_RESULTS_MAX)
    }

    /// `page` for lists whose `MaxResults` stops at `max` (CloudSSO: 20 for assignments,
    /// provisionings and tasks).
    pub fn page_up_to(&self, max: usize) -> Result<(usize, usize), ApiFault> {
        let count = self
            .int("MaxResults", 1..=max as i64)?
            .map_or(MAX_RESULTS_DEFAULT, |n| n as usize);
        Ok((self.next_token()?, count))
    }

    /// The offset `NextToken` names (0 without one); a token this server did not issue is
    /// refused. The one parser of `NextToken`: `service` checks it on every call, so a list
    /// answered whole refuses a garbage token as the paged ones do.
    pub fn next_token(&self) -> Result<usize, ApiFault> {
        match self.get("NextToken") {
            None => Ok(0),
            Some(t) => {
                decode_token(t).ok_or_else(|| ApiFault::invalid("NextToken", "unknown token"))
            }
        }
    }
}

/// Resource Manager's pages: `PageNumber` (from 1) and `PageSize` (1 to `MAX_RESULTS_MAX`,
/// default `MAX_RESULTS_DEFAULT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber {
    pub number: usize,
    pub size: usize,
}

impl PageNumber {
    /// Items to skip before this page.
    pub fn offset(self) -> usize {
        self.number.saturating_sub(1).saturating_mul(self.size)
    }

    /// `PageNumber`, `PageSize` and `TotalCount` of a list answer.
    pub fn fields(self, total: usize) -> serde_json::Value {
        serde_json::json!({
            "PageNumber": self.number,
            "PageSize": self.size,
            "TotalCount": total,
        })
    }
}

impl Params {
    /// `PageNumber` and `PageSize`.
    pub fn page_number(&self) -> Result<PageNumber, ApiFault> {
        let number = self
            .int("PageNumber", 1..=i64::from(u32::MAX))?
            .map_or(1, |n| n as usize);
        let size = self
            .int("PageSize", 1..=MAX_RESULTS_MAX as i64)?
            .map_or(MAX_RESULTS_DEFAULT, |n| n as usize);
        Ok(PageNumber { number, size })
    }

    /// An optional boolean; the SDKs send `true`, `false` or Python's `True`, `False`.
    pub fn flag(&self, name: &str) -> Result<bool, ApiFault> {
        match self.get(name) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(ApiFault::invalid(name, "must be true or false")),
        }
    }
}

/// The opaque `NextToken` of the page starting at `offset`.
pub fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_token(t: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("o:")?
        .parse()
        .ok()
}

/// The pagination fields of a list answer: `IsTruncated`, `NextToken` (when truncated),
/// `MaxResults`, `TotalCounts`.
pub fn page_fields(
    offset: usize,
    count: usize,
    returned: usize,
    total: usize,
) -> serde_json::Value {
    let next = offset + returned;
    let truncated = next < total;
    let mut v = serde_json::json!({
        "IsTruncated": truncated,
        "MaxResults": count,
        "TotalCounts": total,
    });
    if truncated && let Some(o) = v.as_object_mut() {
        o.insert("NextToken".into(), serde_json::json!(encode_token(next)));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn pages_and_errors() {
        assert_eq!(p(&[]).page().unwrap(), (0, MAX_RESULTS_DEFAULT));
        let t = encode_token(40);
        assert_eq!(
            p(&[("MaxResults", "100"), ("NextToken", &t)])
                .page()
                .unwrap(),
            (40, 100)
        );
        assert_eq!(
            p(&[("MaxResults", "101")]).page().unwrap_err().code,
            "InvalidParameter.MaxResults"
        );
        assert_eq!(
            p(&[("MaxResults", "0")]).page().unwrap_err().code,
            "InvalidParameter.MaxResults"
        );
        assert_eq!(
            p(&[("NextToken", "zzz")]).page().unwrap_err().code,
            "InvalidParameter.NextToken"
        );
        assert_eq!(
            p(&[("UserId", "")]).required("UserId").unwrap_err().code,
            "MissingParameter.UserId"
        );
        assert_eq!(
            p(&[("Status", "On")])
                .one_of("Status", &["Enabled", "Disabled"])
                .unwrap_err()
                .code,
            "InvalidParameter.Status"
        );
        assert_eq!(
            p(&[]).page_number().unwrap(),
            PageNumber {
                number: 1,
                size: MAX_RESULTS_DEFAULT
            }
        );
        let pn = p(&[("PageNumber", "3"), ("PageSize", "100")])
            .page_number()
            .unwrap();
        assert_eq!((pn.offset(), pn.size), (200, 100));
        for (k, v) in [("PageNumber", "0"), ("PageSize", "0"), ("PageSize", "101")] {
            assert_eq!(
                p(&[(k, v)]).page_number().unwrap_err().code,
                format!("InvalidParameter.{k}")
            );
        }
        for (v, want) in [("True", Ok(true)), ("false", Ok(false)), ("1", Err(()))] {
            assert_eq!(
                p(&[("IncludeTags", v)]).flag("IncludeTags").map_err(|_| ()),
                want
            );
        }
        assert!(!p(&[]).flag("IncludeTags").unwrap());
        let f = page_fields(0, 2, 2, 5);
        assert_eq!(f["IsTruncated"], true);
        assert_eq!(f["NextToken"], encode_token(2));
        assert_eq!(page_fields(4, 2, 1, 5)["IsTruncated"], false);
    }
}
