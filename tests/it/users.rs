//! Point 4 (schemas: mutability, returned, uniqueness, meta, ETags), point 9 (lifecycle),
//! point 3 discovery documents.

use crate::harness::*;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

fn full_user() -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "userName": "Barbara.Jensen@Example.com",
        "externalId": "ext-Bjensen",
        "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara",
                 "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "profileUrl": "https://login.example.com/bjensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": true,
        "password": "t1meMa$heen",
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                       "region": "CA", "postalCode": "91608", "country": "USA", "primary": true}],
        "entitlements": [{"value": "Employee"}],
        "roles": [{"value": "Tour Guide"}],
        "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
        ENTERPRISE: {"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
                     "division": "Theme Park", "department": "Tour Operations",
                     "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}}
    })
}

#[tokio::test]
async fn create_round_trips_every_core_attribute() {
    let s = Server::start();
    let r = s.post("/Users", full_user()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.id();
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}/Users/{id}", s.base)
    );
    assert_eq!(r.header("content-type"), Some(SCIM));
    assert!(r.header("etag").unwrap().starts_with("W/\""));
    let got = s.get(&format!("/Users/{id}")).await.body;
    let want = full_user();
    for key in [
        "userName",
        "externalId",
        "name",
        "displayName",
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "entitlements",
        "roles",
        "x509Certificates",
    ] {
        assert_eq!(got[key], want[key], "{key}");
    }
    assert_eq!(got[ENTERPRISE]["department"], "Tour Operations");
    assert_eq!(
        got[ENTERPRISE]["manager"]["value"],
        "26118915-6090-4610-87e4-49d8ca9f808d"
    );
    assert!(
        got[ENTERPRISE]["manager"].get("displayName").is_none(),
        "read-only input ignored"
    );
    assert!(got.get("password").is_none(), "password is never returned");
    assert_eq!(
        got["userName"], "Barbara.Jensen@Example.com",
        "stored exactly as sent"
    );
    let schemas: Vec<&str> = got["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(schemas.contains(&USER) && schemas.contains(&ENTERPRISE));
    let meta = &got["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(meta["location"], format!("{}/Users/{id}", s.base));
    assert!(meta["created"].as_str().unwrap().ends_with('Z'));
    assert!(meta["lastModified"].is_string());
    assert!(meta["version"].as_str().unwrap().starts_with("W/"));
}

#[tokio::test]
async fn read_only_input_is_ignored_and_id_is_server_assigned() {
    let s = Server::start();
    let r = s
        .post(
            "/Users",
            json!({"id": "chosen", "userName": "ro", "meta": {"created": "2000-01-01T00:00:00Z"},
                                "groups": [{"value": "g"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_ne!(r.id(), "chosen");
    assert_ne!(r.body["meta"]["created"], "2000-01-01T00:00:00Z");
    assert!(r.body.get("groups").is_none());
    // PUT keeps id and created.
    let id = r.id();
    let created = r.body["meta"]["created"].clone();
    let p = s
        .put(
            &format!("/Users/{id}"),
            json!({"id": "other", "userName": "ro2"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.id(), id);
    assert_eq!(p.body["meta"]["created"], created);
    assert_eq!(p.body["userName"], "ro2");
}

#[tokio::test]
async fn primary_at_most_once_and_types_checked() {
    let s = Server::start();
    let two = json!({"userName": "p", "emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]});
    assert_error(&s.post("/Users", two).await, 400, Some("invalidValue"));
    for bad in [
        json!({"userName": "t", "active": "maybe"}),
        json!({"userName": "t", "name": "flat"}),
        json!({"userName": ["a"]}),
        json!({"userName": "t", "emails": [{"value": 5}]}),
    ] {
        assert_error(
            &s.post("/Users", bad.clone()).await,
            400,
            Some("invalidValue"),
        );
    }
    // Entra sends booleans as strings.
    let r = s
        .post("/Users", json!({"userName": "ent", "active": "True"}))
        .await;
    assert_eq!(r.body["active"], true);
    assert_eq!(
        s.get("/Users?count=10").await.body["totalResults"],
        1,
        "failed writes changed nothing"
    );
}

#[tokio::test]
async fn returned_and_attribute_selection_on_every_response() {
    let s = Server::start();
    let r = s.post("/Users?attributes=userName", full_user()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.id();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&r.body), ["id", "schemas", "userName"], "{}", r.body);
    let g = s
        .get(&format!(
            "/Users/{id}?attributes=name.givenName,emails.value"
        ))
        .await
        .body;
    assert_eq!(g["name"], json!({"givenName": "Barbara"}));
    assert_eq!(
        g["emails"],
        json!([{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}])
    );
    assert!(g.get("title").is_none());
    let e = s
        .get(&format!(
            "/Users/{id}?excludedAttributes=emails,{ENTERPRISE}"
        ))
        .await
        .body;
    assert!(e.get("emails").is_none() && e.get(ENTERPRISE).is_none() && e.get("title").is_some());
    assert!(e.get("id").is_some(), "id is always returned");
    let d = s
        .get(&format!("/Users/{id}?attributes={ENTERPRISE}:department"))
        .await
        .body;
    assert_eq!(d[ENTERPRISE], json!({"department": "Tour Operations"}));
    let p = s
        .put(
            &format!("/Users/{id}?attributes=title"),
            json!({"userName": "x", "title": "T"}),
        )
        .await;
    assert_eq!(keys(&p.body), ["id", "schemas", "title"]);
    let pa = s
        .patch(&format!("/Users/{id}?excludedAttributes=name"), json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "U"}]}))
        .await;
    assert_eq!(pa.status, StatusCode::OK, "{}", pa.body);
    assert!(pa.body.get("name").is_none() && pa.body["title"] == "U");
    let l = s.get("/Users?attributes=userName").await.body;
    assert_eq!(keys(&l["Resources"][0]), ["id", "schemas", "userName"]);
    // password is never returned, even when asked for.
    assert!(
        s.get(&format!("/Users/{id}?attributes=password"))
            .await
            .body
            .get("password")
            .is_none()
    );
}

#[tokio::test]
async fn etags_if_match_and_if_none_match() {
    let s = Server::start();
    let r = s.post("/Users", json!({"userName": "etag"})).await;
    let id = r.id();
    let v1 = r.header("etag").unwrap().to_owned();
    assert_eq!(r.body["meta"]["version"], v1.as_str());
    let auth = format!("Bearer {}", s.token);
    let nm = s
        .send(
            Method::GET,
            &format!("/Users/{id}"),
            &[("authorization", &auth), ("if-none-match", &v1)],
            None,
        )
        .await;
    assert_eq!(nm.status, StatusCode::NOT_MODIFIED);
    assert!(nm.raw.is_empty());
    let p = s
        .patch_ops(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "title", "value": "a"}]),
        )
        .await;
    let v2 = p.header("etag").unwrap().to_owned();
    assert_ne!(v1, v2);
    let stale = s
        .send(
            Method::GET,
            &format!("/Users/{id}"),
            &[("authorization", &auth), ("if-none-match", &v1)],
            None,
        )
        .await;
    assert_eq!(stale.status, StatusCode::OK);
    let body = serde_json::to_vec(&json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "b"}]})).unwrap();
    let ok = s
        .send(
            Method::PATCH,
            &format!("/Users/{id}"),
            &[
                ("authorization", &auth),
                ("content-type", SCIM),
                ("if-match", &v2),
            ],
            Some(body.clone()),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let bad = s
        .send(
            Method::PATCH,
            &format!("/Users/{id}"),
            &[
                ("authorization", &auth),
                ("content-type", SCIM),
                ("if-match", &v2),
            ],
            Some(body),
        )
        .await;
    assert_error(&bad, 412, None);
    let del = s
        .send(
            Method::DELETE,
            &format!("/Users/{id}"),
            &[("authorization", &auth), ("if-match", "*")],
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn soft_delete_keeps_user_and_memberships_hard_delete_removes_them() {
    let s = Server::start();
    let u = s.user("leaver").await;
    let g = s.group("staff", &[&u]).await;
    let r = s
        .patch_ops(
            &format!("/Users/{u}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let got = s.get(&format!("/Users/{u}")).await.body;
    assert_eq!(got["active"], false);
    assert_eq!(got["groups"][0]["value"], g.as_str());
    let f = s
        .get(&format!("/Users?filter={}", enc("active eq false")))
        .await
        .body;
    assert_eq!(f["totalResults"], 1);
    assert_eq!(
        s.get(&format!("/Groups/{g}")).await.body["members"][0]["value"],
        u.as_str()
    );
    assert_eq!(
        s.delete(&format!("/Users/{u}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_error(&s.get(&format!("/Users/{u}")).await, 404, None);
    assert!(
        s.get(&format!("/Groups/{g}"))
            .await
            .body
            .get("members")
            .is_none()
    );
    assert_eq!(
        s.get(&format!(
            "/Groups?filter={}",
            enc(&format!("members.value eq \"{u}\""))
        ))
        .await
        .body["totalResults"],
        0
    );
    assert_error(&s.delete(&format!("/Users/{u}")).await, 404, None);
}

#[tokio::test]
async fn discovery_documents_describe_the_schemas() {
    let s = Server::start();
    let spc = s.get("/ServiceProviderConfig").await.body;
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["filter"]["supported"], true);
    assert_eq!(spc["filter"]["maxResults"], 1000);
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["sort"]["supported"], true);
    let rts = s.get("/ResourceTypes").await.body;
    assert_eq!(rts["totalResults"], 2);
    let user_rt = s.get("/ResourceTypes/User").await.body;
    assert_eq!(user_rt["endpoint"], "/Users");
    assert_eq!(user_rt["schemaExtensions"][0]["schema"], ENTERPRISE);
    let schemas = s.get("/Schemas").await.body;
    assert_eq!(schemas["totalResults"], 3);
    let user = s.get(&format!("/Schemas/{USER}")).await.body;
    let attrs = user["attributes"].as_array().unwrap();
    let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    assert_eq!(user_name["required"], true);
    let password = attrs.iter().find(|a| a["name"] == "password").unwrap();
    assert_eq!(password["returned"], "never");
    assert_eq!(password["mutability"], "writeOnly");
    let groups = attrs.iter().find(|a| a["name"] == "groups").unwrap();
    assert_eq!(groups["mutability"], "readOnly");
    for name in [
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "entitlements",
        "roles",
        "x509Certificates",
    ] {
        let a = attrs
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(a["multiValued"], true, "{name}");
    }
    let ent = s.get(&format!("/Schemas/{ENTERPRISE}")).await.body;
    assert!(
        ent["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "manager")
    );
}
