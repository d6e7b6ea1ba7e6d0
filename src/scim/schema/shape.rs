//! Canonical document -> response body: the `returned` characteristic (RFC 7643 section 2.4)
//! and the `attributes` / `excludedAttributes` parameters (RFC 7644 section 3.9), plus parsing
//! those parameters. Must not validate input or read the store.
//!
//! Rules, per attribute and sub-attribute:
//! - `never` is never returned (`password`);
//! - `always` is always returned (`id`; `schemas` is computed), even when excluded;
//! - `default` is returned unless excluded; when `attributes` is given, only if named there;
//! - `request` is returned only when named in `attributes`.
//!
//! `attributes` entries are `name`, `name.sub`, URN-qualified (`urn:..:User:department`) or a
//! whole schema URN (all its attributes), matched case-insensitively; entries that name nothing
//! are ignored. Naming a sub-attribute returns the parent with just that sub-attribute (each
//! element reduced for multi-valued attributes). When both lists are given, `excludedAttributes`
//! removes from what `attributes` selected.

use super::{
    AttrDef, AttrPath, AttrType, AttributeSelection, COMMON_ATTRIBUTES, ResourceTypeDef, Returned,
    SchemaDef, find_attr,
};
use serde_json::{Map, Value};

/// Parses the comma-separated `attributes` / `excludedAttributes` query parameter. An entry
/// starting with `urn:` has its schema URN up to the last `:`; the rest is `name[.sub]`. Empty
/// entries are skipped; names are not checked here (unknown ones select nothing).
///
/// Not in RFC 7644: a value filter inside an entry (`emails[type eq "work"]`, as Microsoft's
/// SCIM test collection sends) is dropped, selecting the whole attribute.
pub fn parse_attribute_list(text: &str) -> Vec<AttrPath> {
    without_value_filters(text)
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(parse_attribute)
        .collect()
}

/// `a[x],b[y].c` -> `a,b.c`; quoted text inside brackets may hold `]` or `,`.
fn without_value_filters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in text.chars() {
        if depth == 0 {
            if c == '[' {
                depth = 1;
            } else {
                out.push(c);
            }
            continue;
        }
        match (quoted, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => quoted = false,
            (false, _, '"') => quoted = true,
            (false, _, '[') => depth += 1,
            (false, _, ']') => depth -= 1,
            _ => {}
        }
    }
    out
}

fn parse_attribute(entry: &str) -> AttrPath {
    let is_urn = entry
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    let (schema, rest) = match entry.rsplit_once(':') {
        Some((urn, rest)) if is_urn => (Some(urn.to_owned()), rest),
        _ => (None, entry),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub.to_owned())),
        None => (rest, None),
    };
    AttrPath {
        schema,
        name: name.to_owned(),
        sub,
    }
}

/// Shapes a canonical document for a response. Output keys: `schemas` (the core URN plus each
/// extension URN with data in the output), `id`, `externalId`, the core attributes in schema
/// order, the extension objects, then `meta`. Keys the schemas do not define are not returned.
pub fn shape(doc: &Value, rt: &ResourceTypeDef, sel: &AttributeSelection) -> Value {
    let mut out = Map::new();
    let mut schemas = vec![Value::String(rt.schema.id.to_owned())];
    out.insert("schemas".to_owned(), Value::Null);

    let (meta, common): (Vec<&'static AttrDef>, Vec<&'static AttrDef>) =
        COMMON_ATTRIBUTES.iter().partition(|d| d.name == "meta");
    for def in common {
        shape_into(&mut out, doc, rt, None, def, sel);
    }
    for def in rt.schema.attributes {
        shape_into(&mut out, doc, rt, Some(rt.schema), def, sel);
    }
    for (ext, _) in rt.extensions {
        let mut ext_out = Map::new();
        if let Some(ext_doc) = doc.get(ext.id) {
            for def in ext.attributes {
                shape_into(&mut ext_out, ext_doc, rt, Some(ext), def, sel);
            }
        }
        if !ext_out.is_empty() {
            schemas.push(Value::String(ext.id.to_owned()));
            out.insert(ext.id.to_owned(), Value::Object(ext_out));
        }
    }
    for def in meta {
        shape_into(&mut out, doc, rt, None, def, sel);
    }
    out.insert("schemas".to_owned(), Value::Array(schemas));
    Value::Object(out)
}

/// What a list of paths says about one attribute.
#[derive(Debug, Default)]
struct Mention {
    whole: bool,
    subs: Vec<&'static str>,
}

fn mention(
    paths: &[AttrPath],
    rt: &ResourceTypeDef,
    schema: Option<&SchemaDef>,
    def: &AttrDef,
) -> Mention {
    let mut m = Mention::default();
    for path in paths {
        if schema.is_some_and(|s| names_schema(path, s)) {
            m.whole = true;
            continue;
        }
        let Some(resolved) = rt.resolve(path) else {
            continue;
        };
        let same_schema = resolved.schema.map(|s| s.id) == schema.map(|s| s.id);
        if !same_schema || resolved.attr.name != def.name {
            continue;
        }
        match resolved.sub {
            None => m.whole = true,
            Some(sub) => m.subs.push(sub.name),
        }
    }
    m
}

/// Whether `path` is a whole schema URN (`urn:...:enterprise:2.0:User`).
fn names_schema(path: &AttrPath, schema: &SchemaDef) -> bool {
    if path.sub.is_some() {
        return false;
    }
    match &path.schema {
        Some(urn) => {
            let len = urn.len();
            schema.id.len() == len + 1 + path.name.len()
                && schema
                    .id
                    .get(..len)
                    .is_some_and(|p| p.eq_ignore_ascii_case(urn))
                && schema.id.get(len..len + 1) == Some(":")
                && schema
                    .id
                    .get(len + 1..)
                    .is_some_and(|n| n.eq_ignore_ascii_case(&path.name))
        }
        None => path.name.eq_ignore_ascii_case(schema.id),
    }
}

/// Which sub-attributes of a complex value to keep.
enum Keep<'a> {
    All,
    Only(&'a [&'static str]),
}

fn shape_into(
    out: &mut Map<String, Value>,
    doc: &Value,
    rt: &ResourceTypeDef,
    schema: Option<&SchemaDef>,
    def: &AttrDef,
    sel: &AttributeSelection,
) {
    let Some(value) = doc.get(def.name) else {
        return;
    };
    if value.is_null() {
        return;
    }
    let shaped = match def.returned {
        Returned::Never => None,
        Returned::Always => project(def, value, &Keep::All, &[]),
        Returned::Default | Returned::Request => {
            let included = mention(&sel.attributes, rt, schema, def);
            let excluded = mention(&sel.excluded, rt, schema, def);
            let explicit = !sel.attributes.is_empty() || def.returned == Returned::Request;
            let keep = if !explicit || included.whole {
                Keep::All
            } else if !included.subs.is_empty() {
                Keep::Only(&included.subs)
            } else {
                return;
            };
            if excluded.whole {
                return;
            }
            project(def, value, &keep, &excluded.subs)
        }
    };
    if let Some(shaped) = shaped {
        out.insert(def.name.to_owned(), shaped);
    }
}

/// Applies the sub-attribute rules to a value of `def`; `None` when nothing is left.
fn project(def: &AttrDef, value: &Value, keep: &Keep<'_>, drop: &[&'static str]) -> Option<Value> {
    if def.ty != AttrType::Complex {
        return Some(value.clone());
    }
    match value {
        Value::Array(items) => {
            let items: Vec<Value> = items
                .iter()
                .filter_map(|item| project_object(def, item, keep, drop))
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        single => project_object(def, single, keep, drop),
    }
}

fn project_object(
    def: &AttrDef,
    value: &Value,
    keep: &Keep<'_>,
    drop: &[&'static str],
) -> Option<Value> {
    let Some(object) = value.as_object() else {
        return Some(value.clone());
    };
    let mut out = Map::new();
    for (key, sub_value) in object {
        let Some(sub) = find_attr(def.sub_attributes, key) else {
            continue;
        };
        let named = match keep {
            Keep::All => sub.returned != Returned::Request,
            Keep::Only(names) => names.contains(&sub.name),
        };
        let returned = match sub.returned {
            Returned::Never => false,
            Returned::Always => true,
            Returned::Default | Returned::Request => named && !drop.contains(&sub.name),
        };
        if returned {
            out.insert(sub.name.to_owned(), sub_value.clone());
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

#[cfg(test)]
mod value_filter_tests {
    use super::*;

    #[test]
    fn attribute_lists_drop_value_filters() {
        let cases = [
            ("emails[type eq \"work\"]", "emails"),
            (
                "emails[value eq \"a,b]\"].value,title",
                "emails.value,title",
            ),
            ("a[b[c]],d", "a,d"),
            ("userName", "userName"),
        ];
        for (input, want) in cases {
            assert_eq!(without_value_filters(input), want, "{input}");
        }
        let parsed = parse_attribute_list("emails[type eq \"work\"].value");
        assert_eq!(parsed.len(), 1);
        assert_eq!(
            (parsed[0].name.as_str(), parsed[0].sub.as_deref()),
            ("emails", Some("value"))
        );
    }
}
