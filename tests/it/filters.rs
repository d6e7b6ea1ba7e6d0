//! Points 5 and 6: filters over HTTP, planned lookups, sorting, paging, search.

use crate::harness::*;
use hyper::StatusCode;
use serde_json::{Value, json};

async fn seed(s: &Server) -> Vec<String> {
    let users = [
        json!({"userName": "bjensen", "externalId": "E1", "name": {"familyName": "Jensen", "givenName": "Barbara"},
               "title": "Tour Guide", "userType": "Employee", "active": true,
               "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@home.org", "type": "home"}],
               ENTERPRISE: {"department": "Tours", "employeeNumber": "100"}}),
        json!({"userName": "jsmith", "externalId": "E2", "name": {"familyName": "Smith", "givenName": "John"},
               "userType": "Contractor", "active": false,
               "emails": [{"value": "john@example.org", "type": "work"}],
               ENTERPRISE: {"department": "Finance", "employeeNumber": "200"}}),
        json!({"userName": "Alice", "externalId": "e1", "name": {"familyName": "Adams", "givenName": "Alice"},
               "title": "Engineer", "userType": "Employee", "active": true,
               "emails": [{"value": "alice@example.com", "type": "home"}]}),
    ];
    let mut ids = Vec::new();
    for u in users {
        let r = s.post("/Users", u).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.id());
    }
    ids
}

fn names(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn filters_over_http() {
    let s = Server::start();
    let ids = seed(&s).await;
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("userName eq \"bjensen\"".into(), vec!["bjensen"]),
        ("USERNAME EQ \"BJENSEN\"".into(), vec!["bjensen"]),
        ("userName eq \"nobody\"".into(), vec![]),
        (format!("{USER}:userName eq \"jsmith\""), vec!["jsmith"]),
        ("externalId eq \"E1\"".into(), vec!["bjensen"]),
        ("externalId eq \"e1\"".into(), vec!["Alice"]),
        (format!("id eq \"{}\"", ids[1]), vec!["jsmith"]),
        ("emails.value eq \"BJENSEN@example.com\"".into(), vec!["bjensen"]),
        ("emails eq \"john@example.org\"".into(), vec!["jsmith"]),
        ("emails[type eq \"work\" and value co \"@example.com\"]".into(), vec!["bjensen"]),
        ("emails[type eq \"work\"].value eq \"john@example.org\"".into(), vec!["jsmith"]),
        ("emails[type eq \"home\"]".into(), vec!["bjensen", "Alice"]),
        ("title pr".into(), vec!["bjensen", "Alice"]),
        ("not (title pr)".into(), vec!["jsmith"]),
        ("userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")".into(), vec!["bjensen", "Alice"]),
        ("userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")".into(), vec![]),
        ("userName sw \"J\"".into(), vec!["jsmith"]),
        ("userName ew \"ice\"".into(), vec!["Alice"]),
        ("name.familyName co \"ens\"".into(), vec!["bjensen"]),
        ("active eq false".into(), vec!["jsmith"]),
        ("active eq true and userName eq \"alice\"".into(), vec!["Alice"]),
        ("userName eq \"bjensen\" or userName eq \"jsmith\"".into(), vec!["bjensen", "jsmith"]),
        (format!("{ENTERPRISE}:department eq \"finance\""), vec!["jsmith"]),
        (format!("{ENTERPRISE}:employeeNumber gt \"150\""), vec!["jsmith"]),
        ("meta.created gt \"2000-01-01T00:00:00Z\"".into(), vec!["bjensen", "jsmith", "Alice"]),
        ("meta.lastModified lt \"2000-01-01T00:00:00Z\"".into(), vec![]),
        ("userName sw O".into(), vec![]),
    ];
    let mut failures = Vec::new();
    for (filter, want) in &cases {
        let r = s.get(&format!("/Users?filter={}", enc(filter))).await;
        if r.status != StatusCode::OK {
            failures.push(format!("{filter}: status {} {}", r.status, r.body));
            continue;
        }
        let mut got = names(&r.body);
        let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
        got.sort();
        want.sort();
        if got != want || r.body["totalResults"] != want.len() {
            failures.push(format!("{filter}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_filter_that_matches_nothing_is_an_empty_list() {
    let s = Server::start();
    let r = s
        .get(&format!("/Users?filter={}", enc("userName eq \"ghost\"")))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        json!({"schemas": [LIST], "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []})
    );
}

#[tokio::test]
async fn bad_filters_are_400_invalid_filter() {
    let s = Server::start();
    // Deeper than --filter-depth-max (32) yet inside --uri-bytes-max (8192) once
    // percent-encoded, so the filter parser, not the front door, refuses it.
    let deep_in_query = format!("{}userName eq \"x\"{}", "(".repeat(600), ")".repeat(600));
    let deep = format!(
        "{}userName eq \"x\"{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let long = format!("userName eq \"{}\"", "a".repeat(5000));
    let cases = [
        "active gt true",
        "userName eq",
        "userName zz \"x\"",
        "(userName eq \"x\"",
        "userName eq \"x\" and",
        "emails[type eq \"work\"",
        "userName eq \"unterminated",
        "meta.created gt \"not-a-date\"",
        deep_in_query.as_str(),
        long.as_str(),
    ];
    for f in cases {
        let r = s.get(&format!("/Users?filter={}", enc(f))).await;
        assert_error(&r, 400, Some("invalidFilter"));
    }
    let r = s.post("/Users/.search", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": deep})).await;
    assert_error(&r, 400, Some("invalidFilter"));
    // The same filter in the query makes a request target past --uri-bytes-max: the
    // front door answers 414 in SCIM's format before any parsing.
    let r = s.get(&format!("/Users?filter={}", enc(&deep))).await;
    assert_error(&r, 414, None);
}

#[tokio::test]
async fn filter_limits_on_both_sides() {
    let s = Server::start_with(&["--filter-len-max", "64", "--filter-depth-max", "3"]);
    let at_len = format!("userName eq \"{}\"", "a".repeat(64 - 14));
    assert_eq!(at_len.len(), 64);
    assert_eq!(
        s.get(&format!("/Users?filter={}", enc(&at_len)))
            .await
            .status,
        StatusCode::OK
    );
    let over = format!("userName eq \"{}\"", "a".repeat(65 - 14));
    assert_error(
        &s.get(&format!("/Users?filter={}", enc(&over))).await,
        400,
        Some("invalidFilter"),
    );
    let depth3 = "(((userName eq \"a\")))";
    assert_eq!(
        s.get(&format!("/Users?filter={}", enc(depth3)))
            .await
            .status,
        StatusCode::OK
    );
    let depth4 = "((((userName eq \"a\"))))";
    assert_error(
        &s.get(&format!("/Users?filter={}", enc(depth4))).await,
        400,
        Some("invalidFilter"),
    );
}

#[tokio::test]
async fn sorting_and_paging() {
    let s = Server::start();
    seed(&s).await;
    let r = s.get("/Users?sortBy=userName").await.body;
    assert_eq!(names(&r), ["Alice", "bjensen", "jsmith"]);
    let r = s
        .get("/Users?sortBy=name.familyName&sortOrder=descending")
        .await
        .body;
    assert_eq!(names(&r), ["jsmith", "bjensen", "Alice"]);
    let r = s.get("/Users?sortBy=title").await.body;
    assert_eq!(names(&r), ["Alice", "bjensen", "jsmith"], "unassigned last");
    let all = names(&s.get("/Users").await.body);
    let p1 = s.get("/Users?startIndex=1&count=2").await.body;
    assert_eq!(p1["totalResults"], 3);
    assert_eq!(p1["itemsPerPage"], 2);
    assert_eq!(p1["startIndex"], 1);
    let p2 = s.get("/Users?startIndex=3&count=2").await.body;
    assert_eq!(p2["itemsPerPage"], 1);
    assert_eq!(p2["startIndex"], 3);
    let mut paged = names(&p1);
    paged.extend(names(&p2));
    assert_eq!(paged, all, "stable order across pages");
    let z = s.get("/Users?count=0").await.body;
    assert_eq!(
        (z["totalResults"].clone(), z["itemsPerPage"].clone()),
        (json!(3), json!(0))
    );
    let neg = s.get("/Users?startIndex=-5&count=-1").await.body;
    assert_eq!(neg["startIndex"], 1);
    assert_eq!(neg["itemsPerPage"], 0);
    let past = s.get("/Users?startIndex=10").await.body;
    assert_eq!(past["itemsPerPage"], 0);
    assert_eq!(past["totalResults"], 3);
    assert_error(&s.get("/Users?count=abc").await, 400, Some("invalidValue"));
}

#[tokio::test]
async fn page_size_limits_on_both_sides() {
    let s = Server::start_with(&["--page-size-max", "3", "--page-size-default", "2"]);
    for i in 0..5 {
        s.user(&format!("p{i}")).await;
    }
    assert_eq!(s.get("/Users").await.body["itemsPerPage"], 2, "default");
    assert_eq!(
        s.get("/Users?count=3").await.body["itemsPerPage"],
        3,
        "at the maximum"
    );
    assert_eq!(
        s.get("/Users?count=4").await.body["itemsPerPage"],
        3,
        "capped one past it"
    );
    assert_eq!(
        s.get("/ServiceProviderConfig").await.body["filter"]["maxResults"],
        3
    );
}

#[tokio::test]
async fn search_with_post() {
    let s = Server::start();
    seed(&s).await;
    let g = s.group("Tour Guides", &[]).await;
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                      "filter": "userType eq \"Employee\"", "attributes": ["userName"], "sortBy": "userName", "startIndex": 1, "count": 10});
    let r = s.post("/Users/.search", body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(names(&r.body), ["Alice", "bjensen"]);
    assert!(r.body["Resources"][0].get("title").is_none());
    let r = s
        .post(
            "/Groups/.search",
            json!({"filter": "displayName eq \"tour guides\""}),
        )
        .await;
    assert_eq!(r.body["Resources"][0]["id"], g.as_str());
    let root = s
        .post("/.search", json!({"filter": "meta.created pr"}))
        .await;
    assert_eq!(root.body["totalResults"], 4);
    let types: Vec<&str> = root.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types.iter().filter(|t| **t == "Group").count(), 1);
    assert_error(
        &s.post("/Users/.search", json!({"count": "many"})).await,
        400,
        Some("invalidValue"),
    );
}
