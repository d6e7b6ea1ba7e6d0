//! Runs the pest grammar (`grammar/scim_filter.pest`) and turns its pairs into `Filter` and
//! `PatchPath`. Never unwraps: a pair the grammar should have produced but did not is an error.
//! Callers have already applied `FilterLimits`, so recursion here is bounded by `depth_max`.
//! Must not check names or types against a schema: `eval::check` does.

use super::{AttrPath, CompareOp, Filter, Literal, PatchPath};
use pest::Parser as _;
use pest::iterators::{Pair, Pairs};

#[derive(pest_derive::Parser)]
#[grammar = "grammar/scim_filter.pest"]
struct Grammar;

/// Parses a whole filter. Errors are human-readable messages.
pub(super) fn filter(text: &str) -> Result<Filter, String> {
    let mut top = parse(Rule::filter, text)?;
    let mut inner = next(&mut top, "filter")?.into_inner();
    logical(next(&mut inner, "expression")?)
}

/// Parses a whole PATCH path.
pub(super) fn path(text: &str) -> Result<PatchPath, String> {
    let mut top = parse(Rule::path, text)?;
    let mut inner = next(&mut top, "path")?.into_inner();
    let attr = attr_path(next(&mut inner, "attribute path")?)?;
    let mut filter = None;
    let mut sub = None;
    for pair in inner {
        match pair.as_rule() {
            Rule::val_or => filter = Some(logical(pair)?),
            Rule::sub_attr => sub = Some(sub_attr(pair)?),
            Rule::EOI => {}
            other => return Err(unexpected(other)),
        }
    }
    if filter.is_some() && attr.sub.is_some() {
        return Err(format!(
            "`{attr}` is a sub-attribute: a value filter applies to an attribute"
        ));
    }
    Ok(PatchPath { attr, filter, sub })
}

fn parse(rule: Rule, text: &str) -> Result<Pairs<'_, Rule>, String> {
    // Error detail makes pest report the furthest position it reached (`max_position`), not
    // the start of the last rule it tried; filters are short, so the tracking costs little.
    pest::set_error_detail(true);
    Grammar::parse(rule, text).map_err(|e| {
        let at = e
            .parse_attempts()
            .map(|a| a.max_position)
            .unwrap_or_else(|| match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((p, _)) => p,
            });
        let rest = text.get(at..).unwrap_or_default();
        if rest.is_empty() {
            format!("`{text}` ends too early")
        } else {
            let shown: String = rest.chars().take(24).collect();
            format!("`{text}` is not valid at byte {at}, before `{shown}`")
        }
    })
}

/// `or_exp`, `and_exp`, `val_or`, `val_and`, `not_exp`, `val_not`, `value_path`, `attr_exp`.
fn logical(pair: Pair<'_, Rule>) -> Result<Filter, String> {
    match pair.as_rule() {
        Rule::or_exp | Rule::val_or => {
            let operands = pair.into_inner().map(logical).collect::<Result<_, _>>()?;
            balance(operands, Filter::Or)
        }
        Rule::and_exp | Rule::val_and => {
            let operands = pair.into_inner().map(logical).collect::<Result<_, _>>()?;
            balance(operands, Filter::And)
        }
        Rule::not_exp | Rule::val_not => {
            let mut inner = pair.into_inner();
            let operand = logical(next(&mut inner, "operand of `not`")?)?;
            Ok(Filter::Not(Box::new(operand)))
        }
        Rule::value_path => value_path(pair),
        Rule::attr_exp => {
            let mut inner = pair.into_inner();
            let path = attr_path(next(&mut inner, "attribute path")?)?;
            test(path, next(&mut inner, "operator")?)
        }
        other => Err(unexpected(other)),
    }
}

/// Joins a chain's operands into a balanced tree, pairwise and without recursion, so a chain of
/// n operands is log2(n) deep: `a b c` is `(a b) c`, `a b c d` is `(a b) (c d)`.
fn balance(
    mut level: Vec<Filter>,
    join: fn(Box<Filter>, Box<Filter>) -> Filter,
) -> Result<Filter, String> {
    while level.len() > 1 {
        let mut next_level = Vec::with_capacity(level.len().div_ceil(2));
        let mut operands = level.into_iter();
        while let Some(left) = operands.next() {
            next_level.push(match operands.next() {
                Some(right) => join(Box::new(left), Box::new(right)),
                None => left,
            });
        }
        level = next_level;
    }
    level
        .pop()
        .ok_or_else(|| "empty logical expression".to_string())
}

/// `attrPath "[" valFilter "]"`, optionally followed by `.subAttr` and a test (non-RFC form,
/// lowered to `attrPath "[" valFilter and subAttr test "]"`).
fn value_path(pair: Pair<'_, Rule>) -> Result<Filter, String> {
    let mut inner = pair.into_inner();
    let path = attr_path(next(&mut inner, "attribute path")?)?;
    if path.sub.is_some() {
        return Err(format!(
            "`{path}` is a sub-attribute: a value filter applies to an attribute"
        ));
    }
    let mut filter = logical(next(&mut inner, "value filter")?)?;
    if let Some(sub) = inner.next() {
        let name = sub_attr(sub)?;
        let relative = AttrPath {
            schema: None,
            name,
            sub: None,
        };
        let tail = test(relative, next(&mut inner, "operator")?)?;
        filter = Filter::And(Box::new(filter), Box::new(tail));
    }
    Ok(Filter::ValuePath {
        path,
        filter: Box::new(filter),
    })
}

/// `present` or `compare` applied to `path`.
fn test(path: AttrPath, pair: Pair<'_, Rule>) -> Result<Filter, String> {
    match pair.as_rule() {
        Rule::present => Ok(Filter::Present(path)),
        Rule::compare => {
            let mut inner = pair.into_inner();
            let op = compare_op(next(&mut inner, "operator")?.as_str())?;
            let value = literal(next(&mut inner, "value")?)?;
            Ok(Filter::Compare { path, op, value })
        }
        other => Err(unexpected(other)),
    }
}

fn compare_op(text: &str) -> Result<CompareOp, String> {
    const OPS: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];
    OPS.into_iter()
        .find(|op| op.as_str().eq_ignore_ascii_case(text))
        .ok_or_else(|| format!("the operator `{text}` is not supported"))
}

fn literal(pair: Pair<'_, Rule>) -> Result<Literal, String> {
    let text = pair.as_str();
    match pair.as_rule() {
        Rule::string => serde_json::from_str::<String>(text)
            .map(Literal::String)
            .map_err(|_| format!("`{text}` is not a valid JSON string")),
        Rule::number => serde_json::from_str::<serde_json::Number>(text)
            .map(Literal::Number)
            .map_err(|_| format!("`{text}` is not a number this server can represent")),
        Rule::true_lit => Ok(Literal::Bool(true)),
        Rule::false_lit => Ok(Literal::Bool(false)),
        Rule::null_lit => Ok(Literal::Null),
        Rule::bare_word => Ok(Literal::String(text.to_string())),
        other => Err(unexpected(other)),
    }
}

fn attr_path(pair: Pair<'_, Rule>) -> Result<AttrPath, String> {
    let mut schema = None;
    let mut name = None;
    let mut sub = None;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::schema_uri => schema = Some(part.as_str().to_string()),
            Rule::attr_name => name = Some(part.as_str().to_string()),
            Rule::sub_attr => sub = Some(sub_attr(part)?),
            other => return Err(unexpected(other)),
        }
    }
    let name = name.ok_or_else(|| "attribute path without a name".to_string())?;
    Ok(AttrPath { schema, name, sub })
}

fn sub_attr(pair: Pair<'_, Rule>) -> Result<String, String> {
    let mut inner = pair.into_inner();
    Ok(next(&mut inner, "sub-attribute name")?.as_str().to_string())
}

fn next<'i>(pairs: &mut Pairs<'i, Rule>, what: &str) -> Result<Pair<'i, Rule>, String> {
    pairs
        .next()
        .ok_or_else(|| format!("filter parser found no {what}"))
}

fn unexpected(rule: Rule) -> String {
    format!("filter parser met an unexpected {rule:?}")
}
