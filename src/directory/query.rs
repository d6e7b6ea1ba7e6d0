//! Query planning: which index answers a filter, if any. A pure function over the filter AST;
//! the directory runs the plan and always re-checks every candidate with the full filter.

use crate::scim::filter::{AttrPath, CompareOp, Filter, Literal};
use crate::scim::schema::{GROUP_SCHEMA, ResourceKind, USER_SCHEMA};

/// One index probe. Each yields candidate ids that the full filter then confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Id(String),
    /// userName (users) or displayName (groups), case-folded by the index.
    Name(String),
    ExternalId(String),
    /// emails.value (users)
    Email(String),
    /// groups that have this direct member (groups)
    HasMember(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Evaluate the filter against every resource of the kind.
    Scan,
    /// The union of these probes holds every match.
    Probes(Vec<Probe>),
}

/// Chooses the cheapest way to find the candidates of `filter`.
/// `and` narrows from whichever side has an index; `or` needs an index on both sides.
pub fn plan(filter: &Filter, kind: ResourceKind) -> Plan {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: Literal::String(s),
        } => match probe_for(path, kind, s) {
            Some(p) => Plan::Probes(vec![p]),
            None => Plan::Scan,
        },
        Filter::ValuePath { path, filter } => {
            let outer = attr_name(path, kind);
            match (kind, outer.as_deref(), value_eq(filter)) {
                (ResourceKind::User, Some("emails"), Some(v)) => {
                    Plan::Probes(vec![Probe::Email(v)])
                }
                (ResourceKind::Group, Some("members"), Some(v)) => {
                    Plan::Probes(vec![Probe::HasMember(v)])
                }
                _ => Plan::Scan,
            }
        }
        Filter::And(a, b) => match plan(a, kind) {
            Plan::Probes(p) => Plan::Probes(p),
            Plan::Scan => plan(b, kind),
        },
        Filter::Or(a, b) => match (plan(a, kind), plan(b, kind)) {
            (Plan::Probes(mut x), Plan::Probes(y)) => {
                x.extend(y);
                Plan::Probes(x)
            }
            _ => Plan::Scan,
        },
        _ => Plan::Scan,
    }
}

/// The lowercase attribute name of a path in the core schema (or the common attributes),
/// with its sub-attribute, e.g. `emails.value`. `None` for extension attributes.
fn attr_name(path: &AttrPath, kind: ResourceKind) -> Option<String> {
    if let Some(urn) = &path.schema {
        let core = match kind {
            ResourceKind::User => USER_SCHEMA,
            ResourceKind::Group => GROUP_SCHEMA,
        };
        if !urn.eq_ignore_ascii_case(core) {
            return None;
        }
    }
    let mut name = path.name.to_ascii_lowercase();
    if let Some(sub) = &path.sub {
        name.push('.');
        name.push_str(&sub.to_ascii_lowercase());
    }
    Some(name)
}

fn probe_for(path: &AttrPath, kind: ResourceKind, v: &str) -> Option<Probe> {
    let name = attr_name(path, kind)?;
    let v = v.to_owned();
    match (kind, name.as_str()) {
        (_, "id") => Some(Probe::Id(v)),
        (_, "externalid") => Some(Probe::ExternalId(v)),
        (ResourceKind::User, "username") => Some(Probe::Name(v)),
        (ResourceKind::User, "emails" | "emails.value") => Some(Probe::Email(v)),
        (ResourceKind::Group, "displayname") => Some(Probe::Name(v)),
        (ResourceKind::Group, "members" | "members.value") => Some(Probe::HasMember(v)),
        _ => None,
    }
}

/// The literal of `value eq "x"` (a bare `value` sub-attribute path), the form clients use to
/// name elements of `emails` or `members`.
pub fn value_eq_literal(filter: &Filter) -> Option<&str> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: Literal::String(s),
        } if path.schema.is_none()
            && path.sub.is_none()
            && path.name.eq_ignore_ascii_case("value") =>
        {
            Some(s)
        }
        _ => None,
    }
}

/// `value eq "x"` somewhere in the `and` chain of an element filter.
fn value_eq(filter: &Filter) -> Option<String> {
    match filter {
        Filter::And(a, b) => value_eq(a).or_else(|| value_eq(b)),
        f => value_eq_literal(f).map(str::to_owned),
    }
}

/// Whether the filter reads an attribute (by top-level name), so the caller knows to attach
/// computed attributes such as `members` or `groups` before evaluating.
pub fn mentions(filter: &Filter, name: &str) -> bool {
    match filter {
        Filter::Present(p) | Filter::Compare { path: p, .. } => p.name.eq_ignore_ascii_case(name),
        Filter::ValuePath { path, .. } => path.name.eq_ignore_ascii_case(name),
        Filter::Not(f) => mentions(f, name),
        Filter::And(a, b) | Filter::Or(a, b) => mentions(a, name) || mentions(b, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(name: &str, sub: Option<&str>) -> AttrPath {
        AttrPath {
            schema: None,
            name: name.into(),
            sub: sub.map(Into::into),
        }
    }
    fn eq(name: &str, sub: Option<&str>, v: &str) -> Filter {
        Filter::Compare {
            path: path(name, sub),
            op: CompareOp::Eq,
            value: Literal::String(v.into()),
        }
    }
    fn pr(name: &str) -> Filter {
        Filter::Present(path(name, None))
    }

    #[test]
    fn plans() {
        use Probe::*;
        use ResourceKind::*;
        let b = Box::new;
        let cases: Vec<(Filter, ResourceKind, Plan)> = vec![
            (
                eq("userName", None, "a"),
                User,
                Plan::Probes(vec![Name("a".into())]),
            ),
            (
                eq("USERNAME", None, "a"),
                User,
                Plan::Probes(vec![Name("a".into())]),
            ),
            (eq("userName", None, "a"), Group, Plan::Scan),
            (
                eq("displayName", None, "g"),
                Group,
                Plan::Probes(vec![Name("g".into())]),
            ),
            (eq("displayName", None, "g"), User, Plan::Scan),
            (
                eq("id", None, "x"),
                User,
                Plan::Probes(vec![Id("x".into())]),
            ),
            (
                eq("externalId", None, "x"),
                Group,
                Plan::Probes(vec![ExternalId("x".into())]),
            ),
            (
                eq("emails", Some("value"), "m"),
                User,
                Plan::Probes(vec![Email("m".into())]),
            ),
            (
                eq("members", Some("value"), "u"),
                Group,
                Plan::Probes(vec![HasMember("u".into())]),
            ),
            (
                eq("members", None, "u"),
                Group,
                Plan::Probes(vec![HasMember("u".into())]),
            ),
            (
                Filter::ValuePath {
                    path: path("emails", None),
                    filter: b(Filter::And(
                        b(eq("type", None, "work")),
                        b(eq("value", None, "m")),
                    )),
                },
                User,
                Plan::Probes(vec![Email("m".into())]),
            ),
            (
                Filter::ValuePath {
                    path: path("emails", None),
                    filter: b(eq("type", None, "work")),
                },
                User,
                Plan::Scan,
            ),
            (
                Filter::And(b(pr("title")), b(eq("userName", None, "a"))),
                User,
                Plan::Probes(vec![Name("a".into())]),
            ),
            (
                Filter::Or(b(eq("userName", None, "a")), b(eq("userName", None, "b"))),
                User,
                Plan::Probes(vec![Name("a".into()), Name("b".into())]),
            ),
            (
                Filter::Or(b(eq("userName", None, "a")), b(pr("title"))),
                User,
                Plan::Scan,
            ),
            (Filter::Not(b(eq("userName", None, "a"))), User, Plan::Scan),
            (
                Filter::Compare {
                    path: path("userName", None),
                    op: CompareOp::Co,
                    value: Literal::String("a".into()),
                },
                User,
                Plan::Scan,
            ),
            (
                Filter::Compare {
                    path: AttrPath {
                        schema: Some(USER_SCHEMA.into()),
                        name: "userName".into(),
                        sub: None,
                    },
                    op: CompareOp::Eq,
                    value: Literal::String("a".into()),
                },
                User,
                Plan::Probes(vec![Name("a".into())]),
            ),
        ];
        let mut failures = Vec::new();
        for (f, kind, want) in cases {
            let got = plan(&f, kind);
            if got != want {
                failures.push(format!("{f:?} on {kind:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
