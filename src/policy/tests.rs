//! Tests for the policy engine: the conformance runner over `conformance/policy/*.json` (every
//! case of every file runs; failures are reported together) and table-driven checks of the
//! pieces the corpus cannot reach directly (glob worst cases, CIDR edges, character counting,
//! the system policies).

use super::*;
use serde_json::Value;

// ---- Conformance runner

fn corpus_dir() -> String {
    format!("{}/conformance/policy", env!("CARGO_MANIFEST_DIR"))
}

/// The document text of a validation case: a string is the raw text; an object is serialized
/// compactly, padded to `pad_to_chars` and indented if `pretty`.
fn document_text(case: &Value) -> Result<String, String> {
    let document = &case["document"];
    if let Some(raw) = document.as_str() {
        return Ok(raw.to_owned());
    }
    let Some(target) = case["pad_to_chars"].as_u64() else {
        return serde_json::to_string(document).map_err(|e| e.to_string());
    };
    let target = target as usize;
    let fill = case["pad_with"].as_str().unwrap_or("x");
    let padded = |n: usize| {
        let mut doc = document.clone();
        let resources = doc["Statement"][0]["Resource"]
            .as_array_mut()
            .ok_or("pad_to_chars needs Statement[0].Resource to be an array")?;
        resources.push(Value::String(format!(
            "acs:cloudsso:*:*:{}",
            fill.repeat(n)
        )));
        Ok::<_, String>(doc)
    };
    let base = compact_chars(&serde_json::to_string(&padded(0)?).map_err(|e| e.to_string())?);
    let n = target
        .checked_sub(base)
        .ok_or(format!("pad_to_chars {target} is below {base}"))?;
    let doc = padded(n)?;
    let text = if case["pretty"].as_bool() == Some(true) {
        serde_json::to_string_pretty(&doc)
    } else {
        serde_json::to_string(&doc)
    };
    let text = text.map_err(|e| e.to_string())?;
    match compact_chars(&text) == target {
        true => Ok(text),
        false => Err(format!(
            "padding missed: {} != {target}",
            compact_chars(&text)
        )),
    }
}

/// Runs one validation case; `Err` describes a failure.
fn run_validation(case: &Value) -> Result<(), String> {
    let text = document_text(case)?;
    let got = PolicyDocument::parse(&text);
    match (case["error"].as_str(), case["valid"].as_bool(), got) {
        (Some(want), None, Err(e)) if e.to_string().contains(want) => Ok(()),
        (Some(want), None, Err(e)) => Err(format!("want error containing `{want}`, got `{e}`")),
        (Some(want), None, Ok(_)) => Err(format!("want error containing `{want}`, got valid")),
        (None, Some(true), Ok(_)) => Ok(()),
        (None, Some(true), Err(e)) => Err(format!("want valid, got `{e}`")),
        _ => Err("needs exactly one of `error` or `valid: true`".to_owned()),
    }
}

fn context_of(value: &Value) -> Result<Context, String> {
    let mut context = Context::new();
    let Some(map) = value.as_object() else {
        return Ok(context);
    };
    for (key, values) in map {
        let values = match values {
            Value::Array(list) => list.clone(),
            other => vec![other.clone()],
        };
        for v in values {
            match v {
                Value::String(s) => context.insert(key, s),
                Value::Number(_) | Value::Bool(_) => context.insert(key, v.to_string()),
                other => return Err(format!("context value {other} is not a scalar")),
            }
        }
    }
    Ok(context)
}

fn refs(value: &Value) -> Vec<(String, usize)> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| Some((pair[0].as_str()?.to_owned(), pair[1].as_u64()? as usize)))
        .collect()
}

/// Runs one evaluation case; `Err` describes a failure.
fn run_evaluation(case: &Value) -> Result<(), String> {
    let mut named = Vec::new();
    for p in case["policies"]
        .as_array()
        .ok_or("`policies` must be an array")?
    {
        let name = p["name"]
            .as_str()
            .ok_or("policy without `name`")?
            .to_owned();
        let document = match (p["system"].as_str(), &p["document"]) {
            (Some(system), _) => {
                system_policy(system).ok_or(format!("no system policy `{system}`"))?
            }
            (None, document) => {
                let text = serde_json::to_string(document).map_err(|e| e.to_string())?;
                PolicyDocument::parse(&text).map_err(|e| format!("policy `{name}`: {e}"))?
            }
        };
        named.push((name, document));
    }
    let policies: Vec<(&str, &PolicyDocument)> =
        named.iter().map(|(n, d)| (n.as_str(), d)).collect();
    let r = &case["request"];
    let context = context_of(&r["context"])?;
    let request = Request {
        action: r["action"].as_str().ok_or("request without `action`")?,
        resource: r["resource"].as_str().ok_or("request without `resource`")?,
        context: &context,
    };
    let decision = authorize(&policies, &request);
    let as_pairs = |list: Vec<StatementRef>| -> Vec<(String, usize)> {
        list.iter()
            .map(|s| (s.policy.to_owned(), s.statement))
            .collect()
    };
    let got_by = as_pairs(decision.decided_by.clone());
    let got_failures = as_pairs(decision.failures.iter().map(|f| f.statement).collect());
    let mut problems = Vec::new();
    let want = case["expect"].as_str().ok_or("case without `expect`")?;
    if decision.outcome.name() != want {
        problems.push(format!("want {want}, got {}", decision.outcome.name()));
    }
    if !case["decided_by"].is_null() && got_by != refs(&case["decided_by"]) {
        problems.push(format!(
            "decided_by: want {:?}, got {got_by:?}",
            refs(&case["decided_by"])
        ));
    }
    // Unless a case lists them, no statement may fail to evaluate.
    if got_failures != refs(&case["failures"]) {
        problems.push(format!(
            "failures: want {:?}, got {:?}",
            refs(&case["failures"]),
            decision.failures
        ));
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(problems.join("; ")),
    }
}

#[test]
fn conformance() {
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("conformance/policy")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let (mut total, mut failures) = (0, Vec::new());
    for path in &files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        for (i, case) in doc["cases"].as_array().expect("cases").iter().enumerate() {
            total += 1;
            let result = if case.get("document").is_some() {
                run_validation(case)
            } else {
                run_evaluation(case)
            };
            if let Err(why) = result {
                let name = case["name"].as_str().unwrap_or("?");
                failures.push(format!("{file} case {i} `{name}`: {why}"));
            }
        }
    }
    assert!(
        files.len() >= 4 && total > 200,
        "conformance corpus looks truncated"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} policy conformance cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every operator appears in `conditions.json` with a matching, a non-matching and a
/// missing-key case.
#[test]
fn corpus_covers_every_operator() {
    let text = std::fs::read_to_string(format!("{}/conditions.json", corpus_dir())).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    for op in Operator::ALL {
        for kind in ["matching value", "non-matching value", "missing key"] {
            let want = format!("{}: {kind}", op.name());
            assert!(names.contains(&want.as_str()), "no case `{want}`");
        }
    }
}

// ---- Glob

fn check_glob(cases: &[(&str, Case, &str, bool)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter(|(p, case, t, want)| Pattern::compile(p, *case).matches(t) != *want)
        .map(|(p, case, t, want)| format!("`{p}` ({case:?}) on `{t}`: want {want}"))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn glob_table() {
    use Case::{Insensitive as I, Sensitive as S};
    check_glob(&[
        ("", S, "", true),
        ("", S, "a", false),
        ("*", S, "", true),
        ("**", S, "abc", true),
        ("?", S, "", false),
        ("?", S, "é", true),
        ("??", S, "é", false),
        ("a?c", S, "aéc", true),
        ("abc", S, "abc", true),
        ("abc", S, "abcd", false),
        ("abc", I, "ABC", true),
        ("ABC", I, "abc", true),
        ("abc", S, "ABC", false),
        ("ab*", S, "ab", true),
        ("ab*", S, "a", false),
        ("ab*", I, "ABx", true),
        ("ab*", I, "A", false),
        ("*c", S, "abc", true),
        ("*c", S, "abcd", false),
        ("a*b*c", S, "aXbYc", true),
        ("a*b*c", S, "aXcYb", false),
        ("a*bc", S, "abcbc", true),
        ("*a*a*a*b", S, "aaaaaaaaab", true),
        ("*?*", S, "", false),
        ("*?*", S, "x", true),
        ("x*é*z", S, "xaébz", true),
        ("É*", I, "é", false),
    ]);
}

/// The obvious recursive definition of a wildcard match, over characters: the oracle the fast
/// matchers are checked against.
fn reference_match(pattern: &[char], text: &[char], case: Case) -> bool {
    match (pattern.split_first(), text.split_first()) {
        (None, _) => text.is_empty(),
        (Some(('*', rest)), _) => {
            reference_match(rest, text, case)
                || text
                    .split_first()
                    .is_some_and(|(_, t)| reference_match(pattern, t, case))
        }
        (Some(_), None) => false,
        (Some(('?', p)), Some((_, t))) => reference_match(p, t, case),
        (Some((pc, p)), Some((tc, t))) => {
            let same = match case {
                Case::Sensitive => pc == tc,
                Case::Insensitive => pc.eq_ignore_ascii_case(tc),
            };
            same && reference_match(p, t, case)
        }
    }
}

/// Every pattern over `a b * ?` up to 5 characters against every text over `a A b é` up to 4
/// characters, both case rules: the compiled matchers agree with the definition.
#[test]
fn glob_agrees_with_the_definition() {
    fn words(alphabet: &[char], max: usize) -> Vec<Vec<char>> {
        let mut all = vec![Vec::new()];
        let mut last = vec![Vec::new()];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|w: &Vec<char>| {
                    alphabet.iter().map(move |&c| {
                        let mut w = w.clone();
                        w.push(c);
                        w
                    })
                })
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }
    let patterns = words(&['a', 'b', '*', '?'], 5);
    let texts = words(&['a', 'A', 'b', 'é'], 4);
    let mut failures = Vec::new();
    for case in [Case::Sensitive, Case::Insensitive] {
        for p in &patterns {
            let source: String = p.iter().collect();
            let compiled = Pattern::compile(&source, case);
            for t in &texts {
                let text: String = t.iter().collect();
                let want = reference_match(p, t, case);
                if compiled.matches(&text) != want {
                    failures.push(format!("`{source}` ({case:?}) on `{text}`: want {want}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The classic exponential trap for backtracking matchers stays fast: the two-pointer
/// algorithm is O(pattern x text).
#[test]
fn glob_worst_case_is_not_exponential() {
    let text = "a".repeat(10_000);
    let start = std::time::Instant::now();
    let patterns = [
        format!("{}b", "*a".repeat(100)),
        format!("{}b", "*a?".repeat(100)),
        format!("a*{}b*a", "a".repeat(50)),
        format!("*{}b*", "?".repeat(500)),
    ];
    for pattern in patterns {
        for case in [Case::Sensitive, Case::Insensitive] {
            assert!(
                !Pattern::compile(&pattern, case).matches(&text),
                "{pattern}"
            );
        }
    }
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}

// ---- CIDR

#[test]
fn cidr_table() {
    let cases = [
        ("0.0.0.0/0", "255.255.255.255", true),
        ("10.0.0.0/31", "10.0.0.1", true),
        ("10.0.0.0/31", "10.0.0.2", false),
        ("10.0.0.1/32", "10.0.0.1", true),
        ("::/0", "2001:db8::1", true),
        ("::/0", "10.0.0.1", false),
        ("::ffff:10.0.0.0/104", "10.1.2.3", true),
        ("::ffff:10.0.0.0/104", "11.1.2.3", false),
        ("2001:db8::1/128", "2001:db8::1", true),
        ("2001:db8::1/128", "2001:db8::2", false),
        ("fe80::/10", "febf::1", true),
        ("fe80::/10", "fec0::1", false),
    ];
    for (cidr, ip, want) in cases {
        let got = Cidr::parse(cidr).unwrap().contains(ip.parse().unwrap());
        assert_eq!(got, want, "{cidr} contains {ip}");
    }
    for bad in [
        "",
        "/8",
        "10.0.0.0/",
        "10.0.0.0/33",
        "::/129",
        "10.0.0.0/-1",
        "1.2.3.4/ 8",
    ] {
        assert!(Cidr::parse(bad).is_err(), "{bad}");
    }
}

// ---- Size

#[test]
fn compact_chars_table() {
    let cases = [
        ("", 0),
        (" \n\t\r ", 0),
        ("{}", 2),
        ("{ \"a\" : 1 }", 7),
        ("\"a b\"", 5),
        ("\"a\\\" b\"", 7),
        ("\"\\\\\" x", 5),
        ("\"é\"", 3),
    ];
    for (text, want) in cases {
        assert_eq!(compact_chars(text), want, "{text:?}");
    }
    let u = "é".repeat(POLICY_DOCUMENT_CHARS_MAX);
    let doc = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"*","Resource":"acs:x:*:*:{u}"}}]}}"#
    );
    match PolicyDocument::parse(&doc) {
        Err(PolicyError::TooLong { chars, .. }) => assert_eq!(chars, compact_chars(&doc)),
        other => panic!("characters, not bytes, count: {other:?}"),
    }
}

// ---- System policies and the public surface

#[test]
fn system_policies_match_their_text() {
    for name in SYSTEM_POLICY_NAMES {
        let built = system_policy(name).unwrap();
        let parsed = PolicyDocument::parse(system_policy_text(name).unwrap()).unwrap();
        assert_eq!(built, parsed, "{name}");
    }
    assert!(system_policy("aliyuncloudssofullaccess").is_none());
}

#[test]
fn context_keys_are_case_insensitive() {
    let context = Context::new()
        .with("acs:SourceIp", "10.0.0.1")
        .with("ACS:SOURCEIP", "10.0.0.2");
    assert_eq!(
        context.get("acs:sourceip").unwrap(),
        ["10.0.0.1".to_owned(), "10.0.0.2".to_owned()]
    );
    assert!(context.get("acs:AccessId").is_none());
}

#[test]
fn operator_names_round_trip() {
    for op in Operator::ALL {
        assert_eq!(Operator::from_name(op.name()), Some(op));
    }
    let negated: Vec<&str> = Operator::ALL
        .into_iter()
        .filter(|op| op.is_negated())
        .map(Operator::name)
        .collect();
    assert_eq!(
        negated,
        [
            "StringNotEquals",
            "StringNotEqualsIgnoreCase",
            "StringNotLike",
            "NumericNotEquals",
            "DateNotEquals",
            "NotIpAddress"
        ]
    );
}

#[test]
fn error_messages_follow_the_style() {
    let err = PolicyDocument::parse(r#"{"Version":"1","Statment":[]}"#).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with(|c: char| !c.is_uppercase()), "{text}");
    assert!(!text.ends_with('.'), "{text}");
    assert!(text.contains("`Statment`"), "{text}");
}
