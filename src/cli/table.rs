//! Answers as text for people: the list in an answer as a table of its scalar fields, a single
//! object as `key  value` rows. Pure: JSON in, text out.

use serde_json::{Map, Value};

/// Fields every answer carries that say nothing to a person reading it.
const NOISE: &[&str] = &["RequestId"];

/// The answer as text: a table when it holds a list (`Users`, or RAM's `Users.User`), then
/// its other scalar fields (`TotalCounts`, `NextToken`) as rows; otherwise rows of the single
/// object it wraps (`User`), or of its own fields. Empty when the answer says nothing more
/// than its `RequestId`.
pub fn render(answer: &Value) -> String {
    let Some(top) = answer.as_object() else {
        return format!("{}\n", scalar(answer));
    };
    let fields: Vec<(&String, &Value)> = top
        .iter()
        .filter(|(k, _)| !NOISE.contains(&k.as_str()))
        .collect();
    if let Some((name, list)) = fields.iter().find_map(|(k, v)| list_of(k, v)) {
        let mut out = table(name, list);
        let rest: Vec<(String, String)> = fields
            .iter()
            .filter(|(_, v)| !v.is_object() && !v.is_array())
            .map(|(k, v)| ((*k).clone(), scalar(v)))
            .collect();
        if !rest.is_empty() {
            out.push('\n');
            out.push_str(&rows(&rest));
        }
        return out;
    }
    let mut flat = Vec::new();
    match fields.as_slice() {
        [(_, Value::Object(inner))] => flatten("", inner, &mut flat),
        _ => {
            for (k, v) in &fields {
                flatten_value(k, v, &mut flat);
            }
        }
    }
    rows(&flat)
}

/// `("Users", [...])` for an array field, `("User", [...])` for RAM's `{"Users": {"User": [...]}}`.
fn list_of<'a>(key: &'a str, v: &'a Value) -> Option<(&'a str, &'a [Value])> {
    match v {
        Value::Array(a) => Some((key, a.as_slice())),
        Value::Object(o) if o.len() == 1 => match o.iter().next() {
            Some((k, Value::Array(a))) => Some((k.as_str(), a.as_slice())),
            _ => None,
        },
        _ => None,
    }
}

/// Columns are the scalar fields of the items, in order of first appearance.
fn table(name: &str, items: &[Value]) -> String {
    let mut columns: Vec<&str> = Vec::new();
    for item in items {
        if let Some(o) = item.as_object() {
            for (k, v) in o {
                if !v.is_object() && !v.is_array() && !columns.contains(&k.as_str()) {
                    columns.push(k);
                }
            }
        }
    }
    if columns.is_empty() {
        return if items.is_empty() {
            format!("(no {name})\n")
        } else {
            items.iter().map(|v| format!("{}\n", scalar(v))).collect()
        };
    }
    let cells: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|c| item.get(c).map(scalar).unwrap_or_default())
                .collect()
        })
        .collect();
    let header: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&cells) {
        line(&mut out, row, &widths);
    }
    out
}

fn line(out: &mut String, row: &[String], widths: &[usize]) {
    let mut l = String::new();
    for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
        if i > 0 {
            l.push_str("  ");
        }
        l.push_str(cell);
        l.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cell))));
    }
    out.push_str(l.trim_end());
    out.push('\n');
}

/// `key  value` rows, keys padded to one width.
fn rows(pairs: &[(String, String)]) -> String {
    let w = pairs.iter().map(|(k, _)| width(k)).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in pairs {
        let pad = " ".repeat(w.saturating_sub(width(k)));
        out.push_str(format!("{k}{pad}  {v}").trim_end());
        out.push('\n');
    }
    out
}

/// Nested objects become dotted keys (`ExternalId.Id`); arrays of scalars are joined.
fn flatten(prefix: &str, o: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (k, v) in o {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        flatten_value(&key, v, out);
    }
}

fn flatten_value(key: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(inner) => flatten(key, inner, out),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let joined: Vec<String> = items.iter().map(scalar).collect();
            out.push((key.to_owned(), joined.join(", ")));
        }
        Value::Array(_) => out.push((key.to_owned(), clean(&v.to_string()))),
        _ => out.push((key.to_owned(), scalar(v))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => clean(s),
        other => clean(&other.to_string()),
    }
}

/// Control characters (newlines, terminal escapes) from stored data never reach the
/// terminal: each becomes a space.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn width(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(answer: Value, expected: &str) {
        assert_eq!(render(&answer), expected, "answer: {answer}");
    }

    #[test]
    fn a_list_is_a_table_of_scalar_columns_then_the_page_fields() {
        check(
            json!({
                "RequestId": "r",
                "IsTruncated": true,
                "NextToken": "tok",
                "Users": [
                    {"UserId": "u-1", "UserName": "alice", "ExternalId": {"Id": "x"}},
                    {"UserId": "u-22", "UserName": "bob", "Email": "b@x"}
                ]
            }),
            "UserId  UserName  Email\n\
             u-1     alice\n\
             u-22    bob       b@x\n\
             \n\
             IsTruncated  true\n\
             NextToken    tok\n",
        );
    }

    #[test]
    fn ram_lists_are_found_one_level_down() {
        check(
            json!({"RequestId": "r", "Users": {"User": [{"UserName": "root", "UserId": 7}]}}),
            "UserName  UserId\nroot      7\n",
        );
    }

    #[test]
    fn an_empty_list_says_so() {
        check(
            json!({"TotalCounts": 0, "Directories": []}),
            "(no Directories)\n\nTotalCounts  0\n",
        );
    }

    #[test]
    fn a_single_object_is_key_value_rows_with_dotted_nested_keys() {
        check(
            json!({
                "RequestId": "r",
                "User": {"UserId": "u-1", "UserName": "alice", "Description": null,
                         "ExternalId": {"Id": "e", "Issuer": "i"}}
            }),
            "UserId             u-1\n\
             UserName           alice\n\
             Description\n\
             ExternalId.Id      e\n\
             ExternalId.Issuer  i\n",
        );
    }

    #[test]
    fn plain_fields_are_rows_and_an_empty_answer_is_empty() {
        check(json!({"RequestId": "r", "UserId": "u-1"}), "UserId  u-1\n");
        check(json!({"RequestId": "r"}), "");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        check(
            json!({"Group": {"Description": "a\nb\u{1b}[31m"}}),
            "Description  a b [31m\n",
        );
    }
}
