//! The `Condition` element: operators, condition keys, their values compiled at parse time, and
//! evaluation of one condition against a request context.
//!
//! Owns the operator table (which family, which comparison, whether negated), the keys this
//! engine knows and which operator families apply to each, IP prefix matching and the request
//! `Context`. Must not read the clock or the network: `acs:CurrentTime` and `acs:SourceIp` come
//! from the caller through the context.

use super::PolicyError;
use super::glob::{Case, Pattern};
use std::collections::BTreeMap;
use std::net::IpAddr;
use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc3339};

/// The condition operators of RAM, by their names in a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    IpAddress,
    NotIpAddress,
}

/// How the values of an operator are read and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    String,
    StringIgnoreCase,
    StringLike,
    Numeric,
    Date,
    Bool,
    Ip,
}

/// The comparison `context_value <cmp> policy_value` for ordered families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Operator {
    pub const ALL: [Operator; 21] = [
        Operator::StringEquals,
        Operator::StringNotEquals,
        Operator::StringEqualsIgnoreCase,
        Operator::StringNotEqualsIgnoreCase,
        Operator::StringLike,
        Operator::StringNotLike,
        Operator::NumericEquals,
        Operator::NumericNotEquals,
        Operator::NumericLessThan,
        Operator::NumericLessThanEquals,
        Operator::NumericGreaterThan,
        Operator::NumericGreaterThanEquals,
        Operator::DateEquals,
        Operator::DateNotEquals,
        Operator::DateLessThan,
        Operator::DateLessThanEquals,
        Operator::DateGreaterThan,
        Operator::DateGreaterThanEquals,
        Operator::Bool,
        Operator::IpAddress,
        Operator::NotIpAddress,
    ];

    /// The operator named exactly `name` (operator names are case-sensitive, as RAM spells
    /// them).
    pub fn from_name(name: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|op| op.name() == name)
    }

    pub fn name(self) -> &'static str {
        self.spec().0
    }

    pub fn family(self) -> Family {
        self.spec().1
    }

    /// A negated operator holds when the key matches none of the values, and when the key is
    /// missing from the context.
    pub fn is_negated(self) -> bool {
        self.spec().3
    }

    /// The operator table: name, family, comparison, negated.
    #[rustfmt::skip]
    fn spec(self) -> (&'static str, Family, Cmp, bool) {
        use Family as F;
        use Operator as O;
        match self {
            O::StringEquals => ("StringEquals", F::String, Cmp::Eq, false),
            O::StringNotEquals => ("StringNotEquals", F::String, Cmp::Eq, true),
            O::StringEqualsIgnoreCase => ("StringEqualsIgnoreCase", F::StringIgnoreCase, Cmp::Eq, false),
            O::StringNotEqualsIgnoreCase => ("StringNotEqualsIgnoreCase", F::StringIgnoreCase, Cmp::Eq, true),
            O::StringLike => ("StringLike", F::StringLike, Cmp::Eq, false),
            O::StringNotLike => ("StringNotLike", F::StringLike, Cmp::Eq, true),
            O::NumericEquals => ("NumericEquals", F::Numeric, Cmp::Eq, false),
            O::NumericNotEquals => ("NumericNotEquals", F::Numeric, Cmp::Eq, true),
            O::NumericLessThan => ("NumericLessThan", F::Numeric, Cmp::Lt, false),
            O::NumericLessThanEquals => ("NumericLessThanEquals", F::Numeric, Cmp::Le, false),
            O::NumericGreaterThan => ("NumericGreaterThan", F::Numeric, Cmp::Gt, false),
            O::NumericGreaterThanEquals => ("NumericGreaterThanEquals", F::Numeric, Cmp::Ge, false),
            O::DateEquals => ("DateEquals", F::Date, Cmp::Eq, false),
            O::DateNotEquals => ("DateNotEquals", F::Date, Cmp::Eq, true),
            O::DateLessThan => ("DateLessThan", F::Date, Cmp::Lt, false),
            O::DateLessThanEquals => ("DateLessThanEquals", F::Date, Cmp::Le, false),
            O::DateGreaterThan => ("DateGreaterThan", F::Date, Cmp::Gt, false),
            O::DateGreaterThanEquals => ("DateGreaterThanEquals", F::Date, Cmp::Ge, false),
            O::Bool => ("Bool", F::Bool, Cmp::Eq, false),
            O::IpAddress => ("IpAddress", F::Ip, Cmp::Eq, false),
            O::NotIpAddress => ("NotIpAddress", F::Ip, Cmp::Eq, true),
        }
    }

    fn cmp(self) -> Cmp {
        self.spec().2
    }
}

/// The condition keys this engine knows. Keys compare case-insensitively, the tag name of
/// `acs:ResourceTag/<key>` included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    SourceIp,
    CurrentTime,
    SecureTransport,
    AccessId,
    MfaPresent,
    ResourceTag,
}

const RESOURCE_TAG_PREFIX: &str = "acs:resourcetag/";

impl KeyKind {
    /// Recognizes an already lowercased key.
    fn of(folded: &str) -> Option<KeyKind> {
        match folded {
            "acs:sourceip" => Some(KeyKind::SourceIp),
            "acs:currenttime" => Some(KeyKind::CurrentTime),
            "acs:securetransport" => Some(KeyKind::SecureTransport),
            "acs:accessid" => Some(KeyKind::AccessId),
            "acs:mfapresent" => Some(KeyKind::MfaPresent),
            _ => folded
                .strip_prefix(RESOURCE_TAG_PREFIX)
                .filter(|tag| !tag.is_empty())
                .map(|_| KeyKind::ResourceTag),
        }
    }

    /// Which operator families make sense for a key. Every key is a string, so the string
    /// families apply to all; a tag value can be anything, so every family applies to tags.
    fn accepts(self, family: Family) -> bool {
        let stringy = matches!(
            family,
            Family::String | Family::StringIgnoreCase | Family::StringLike
        );
        match self {
            KeyKind::SourceIp => stringy || family == Family::Ip,
            KeyKind::CurrentTime => stringy || family == Family::Date,
            KeyKind::SecureTransport | KeyKind::MfaPresent => stringy || family == Family::Bool,
            KeyKind::AccessId => stringy,
            KeyKind::ResourceTag => true,
        }
    }
}

/// The policy's values of one condition, parsed for their family.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    Strings(Vec<String>),
    Patterns(Vec<Pattern>),
    Numbers(Vec<f64>),
    Dates(Vec<OffsetDateTime>),
    Bools(Vec<bool>),
    Cidrs(Vec<Cidr>),
}

/// One `Operator: { Key: values }` pair of a statement's `Condition`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    operator: Operator,
    /// The key as written, for reports.
    key: String,
    /// The key lowercased, as `Context` stores keys.
    folded_key: String,
    values: Values,
}

impl Condition {
    /// Checks the key and parses the values (strings, or JSON numbers and booleans written
    /// without quotes) for the operator. `at` locates the key for error messages.
    pub fn parse(
        operator: Operator,
        key: &str,
        raw: &[String],
        at: &str,
    ) -> Result<Condition, PolicyError> {
        let folded_key = key.to_lowercase();
        let kind = KeyKind::of(&folded_key).ok_or_else(|| PolicyError::UnknownConditionKey {
            key: key.to_owned(),
            at: at.to_owned(),
        })?;
        if !kind.accepts(operator.family()) {
            return Err(PolicyError::OperatorKeyMismatch {
                operator: operator.name(),
                key: key.to_owned(),
                at: at.to_owned(),
            });
        }
        if raw.is_empty() {
            return Err(PolicyError::EmptyList { at: at.to_owned() });
        }
        let bad = |value: &str, reason: &'static str| PolicyError::BadConditionValue {
            operator: operator.name(),
            value: value.to_owned(),
            at: at.to_owned(),
            reason,
        };
        let values = match operator.family() {
            Family::String | Family::StringIgnoreCase => Values::Strings(raw.to_vec()),
            Family::StringLike => Values::Patterns(
                raw.iter()
                    .map(|v| Pattern::compile(v, Case::Sensitive))
                    .collect(),
            ),
            Family::Numeric => Values::Numbers(
                raw.iter()
                    .map(|v| parse_number(v).map_err(|r| bad(v, r)))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Date => Values::Dates(
                raw.iter()
                    .map(|v| parse_date(v).map_err(|r| bad(v, r)))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Bool => Values::Bools(
                raw.iter()
                    .map(|v| parse_bool(v).map_err(|r| bad(v, r)))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Ip => Values::Cidrs(
                raw.iter()
                    .map(|v| Cidr::parse(v).map_err(|r| bad(v, r)))
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(Condition {
            operator,
            key: key.to_owned(),
            folded_key,
            values,
        })
    }

    pub fn operator(&self) -> Operator {
        self.operator
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether the condition holds for `context`. Several context values for the key OR: the
    /// base operator holds if any context value matches any policy value; a negated operator
    /// holds when the base does not, and so when the key is missing. A context value that
    /// cannot be read for the family (`abc` for a Numeric operator) is an error unless another
    /// value already decided the base operator.
    pub fn evaluate(&self, context: &Context) -> Result<bool, PolicyError> {
        let negated = self.operator.is_negated();
        let Some(actual) = context.get_folded(&self.folded_key) else {
            return Ok(negated);
        };
        let mut first_error = None;
        for value in actual {
            match self.matches(value) {
                Ok(true) => return Ok(!negated),
                Ok(false) => {}
                Err(reason) => {
                    first_error.get_or_insert((value, reason));
                }
            }
        }
        match first_error {
            None => Ok(negated),
            Some((value, reason)) => Err(PolicyError::BadContextValue {
                key: self.key.clone(),
                value: value.clone(),
                operator: self.operator.name(),
                reason,
            }),
        }
    }

    /// Whether one context value matches any of the policy values under the base (not
    /// negated) operator.
    fn matches(&self, actual: &str) -> Result<bool, &'static str> {
        let cmp = self.operator.cmp();
        Ok(match (&self.values, self.operator.family()) {
            (Values::Strings(want), Family::StringIgnoreCase) => {
                want.iter().any(|w| eq_ignore_case(w, actual))
            }
            (Values::Strings(want), _) => want.iter().any(|w| w == actual),
            (Values::Patterns(want), _) => want.iter().any(|w| w.matches(actual)),
            (Values::Numbers(want), _) => {
                let actual = parse_number(actual)?;
                want.iter().any(|w| compare(cmp, &actual, w))
            }
            (Values::Dates(want), _) => {
                let actual = parse_date(actual)?;
                want.iter().any(|w| compare(cmp, &actual, w))
            }
            (Values::Bools(want), _) => {
                let actual = parse_bool(actual)?;
                want.contains(&actual)
            }
            (Values::Cidrs(want), _) => {
                let actual = actual
                    .trim()
                    .parse::<IpAddr>()
                    .map_err(|_| "not an ip address")?;
                want.iter().any(|w| w.contains(actual))
            }
        })
    }
}

fn compare<T: PartialOrd>(cmp: Cmp, actual: &T, want: &T) -> bool {
    match cmp {
        Cmp::Eq => actual == want,
        Cmp::Lt => actual < want,
        Cmp::Le => actual <= want,
        Cmp::Gt => actual > want,
        Cmp::Ge => actual >= want,
    }
}

/// Unicode case-insensitive equality without allocating.
fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// A finite decimal number (`10`, `-1.5`, `1e3`); `NaN` and `inf` are refused.
fn parse_number(text: &str) -> Result<f64, &'static str> {
    match text.trim().parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err("not a finite number"),
    }
}

/// RFC 3339 (`2026-01-02T03:04:05Z`), or any ISO 8601 date-time with an offset.
fn parse_date(text: &str) -> Result<OffsetDateTime, &'static str> {
    let text = text.trim();
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(text, &Iso8601::PARSING))
        .map_err(|_| "not an iso 8601 date-time with an offset")
}

/// `true` or `false`, in any case.
fn parse_bool(text: &str) -> Result<bool, &'static str> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err("not `true` or `false`")
    }
}

/// An IPv4 or IPv6 network: `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128).
/// Host bits set below the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, &'static str> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().map_err(|_| "not an ip address or cidr")?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            // `u8::from_str` would accept `+8`.
            Some(p) if !p.bytes().all(|b| b.is_ascii_digit()) => {
                return Err("cidr prefix is not a number");
            }
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= width => p,
                _ => return Err("cidr prefix out of range"),
            },
        };
        Ok(Cidr { network, prefix })
    }

    /// Whether `ip` is inside the network. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`)
    /// is the IPv4 address it maps.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        let network = match self.network {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(self.network, IpAddr::V4),
            IpAddr::V4(_) => self.network,
        };
        // A mapped network keeps its prefix counted over 128 bits.
        let prefix = match (self.network, network) {
            (IpAddr::V6(_), IpAddr::V4(_)) => self.prefix.saturating_sub(96),
            _ => self.prefix,
        };
        match (network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The request context: condition key -> values, keys case-insensitive. Values are text as the
/// caller knows them (`10.0.0.1`, `2026-01-02T03:04:05Z`, `true`); a condition reads them for
/// its operator family when it is evaluated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    // INVARIANT: every key is lowercase (`str::to_lowercase`).
    values: BTreeMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// Adds one value for `key`, after any already there.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.values
            .entry(key.to_lowercase())
            .or_default()
            .push(value.into());
    }

    /// `insert`, for building a context in one expression.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Context {
        self.insert(key, value);
        self
    }

    /// The values of `key`, compared case-insensitively.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.get_folded(&key.to_lowercase())
    }

    fn get_folded(&self, folded: &str) -> Option<&[String]> {
        self.values.get(folded).map(Vec::as_slice)
    }
}
