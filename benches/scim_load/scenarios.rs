//! The data set every system gets (users, groups, one big group) and the scenarios run on it.

use crate::load::{Conn, Plan, Req, Target};
use hyper::Method;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Members added and removed by the PATCH scenario.
pub const PATCH_MEMBERS: usize = 100;

#[derive(Clone, Debug)]
pub struct Sizes {
    /// Users loaded before the read scenarios; the first `big_group` are the big group's
    /// members, the last `PATCH_MEMBERS` are added to it and removed by the PATCH scenario.
    pub users: usize,
    pub groups: usize,
    pub group_members: usize,
    pub big_group: usize,
    pub sync_users: u64,
    /// Groups the Entra-style sync creates after its users, each with `SYNC_GROUP_MEMBERS`
    /// members added by PATCH.
    pub sync_groups: u64,
    /// Length of each timed scenario.
    pub duration: Duration,
    /// Longest a count-bound scenario (the sync) may run before it is cut short.
    pub cap: Duration,
    /// How long a request may outlive its scenario before it counts as failed.
    pub grace: Duration,
}

impl Sizes {
    pub fn quick() -> Sizes {
        Sizes {
            users: 10_000 + PATCH_MEMBERS,
            groups: 1_000,
            group_members: 5,
            big_group: 10_000,
            sync_users: 5_000,
            sync_groups: 500,
            duration: Duration::from_millis(1500),
            cap: Duration::from_secs(20),
            grace: Duration::from_secs(2),
        }
    }
    pub fn full() -> Sizes {
        Sizes {
            users: 1_000_000,
            groups: 100_000,
            group_members: 5,
            big_group: 250_000,
            sync_users: 100_000,
            sync_groups: 5_000,
            duration: Duration::from_secs(10),
            cap: Duration::from_secs(300),
            grace: Duration::from_secs(30),
        }
    }
}

pub fn user_name(i: usize) -> String {
    format!("user-{i:07}")
}

pub fn user_doc(name: &str, i: u64) -> Value {
    json!({
        "schemas": [USER],
        "userName": name,
        "externalId": format!("ext-{name}"),
        "displayName": format!("User {i}"),
        "name": {"givenName": "User", "familyName": format!("{i:07}")},
        "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}],
        "active": true,
    })
}

fn group_doc(name: &str, members: &[String]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    json!({"schemas": [GROUP], "displayName": name, "members": members})
}

/// What was loaded: user ids in index order, the big group's id.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub users: Vec<String>,
    pub groups: usize,
    pub big_group: String,
    pub big_members: usize,
}

impl Dataset {
    /// The `PATCH_MEMBERS` users right after the big group's members: the ones the PATCH
    /// scenario adds and removes (in full mode many more users follow them).
    pub fn extra(&self) -> &[String] {
        let end = (self.big_members + PATCH_MEMBERS).min(self.users.len());
        self.users.get(self.big_members..end).unwrap_or(&[])
    }
}

fn small_group_members(ids: &[String], sizes: &Sizes, g: usize) -> Vec<String> {
    (0..sizes.group_members)
        .filter_map(|k| {
            ids.get((g * sizes.group_members + k) % ids.len().max(1))
                .cloned()
        })
        .collect()
}

/// Loads the data set over HTTP (the peers, which keep everything in memory).
pub async fn load_http(target: &Target, sizes: &Sizes) -> Result<Dataset, String> {
    let conns = 16usize;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..conns {
        let target = target.clone();
        let n = sizes.users;
        tasks.spawn(async move {
            let mut conn = Conn::new(&target);
            let mut ids = Vec::new();
            for i in (c..n).step_by(conns) {
                let name = user_name(i);
                let r = conn
                    .send(&Req::with_body(
                        Method::POST,
                        "/Users",
                        &user_doc(&name, i as u64),
                    ))
                    .await?;
                let id = r.json()["id"].as_str().map(str::to_owned).ok_or_else(|| {
                    format!(
                        "POST /Users {}: {}",
                        r.status,
                        String::from_utf8_lossy(&r.body)
                    )
                })?;
                ids.push((i, id));
            }
            Ok::<_, String>(ids)
        });
    }
    let mut ids = vec![String::new(); sizes.users];
    while let Some(done) = tasks.join_next().await {
        for (i, id) in done.map_err(|e| e.to_string())?? {
            if let Some(slot) = ids.get_mut(i) {
                *slot = id;
            }
        }
    }
    let ids = Arc::new(ids);
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..conns {
        let (target, ids, sizes) = (target.clone(), ids.clone(), sizes.clone());
        tasks.spawn(async move {
            let mut conn = Conn::new(&target);
            for g in (c..sizes.groups).step_by(conns) {
                let doc = group_doc(
                    &format!("group-{g:06}"),
                    &small_group_members(&ids, &sizes, g),
                );
                let r = conn
                    .send(&Req::with_body(Method::POST, "/Groups", &doc))
                    .await?;
                if r.status != 201 {
                    return Err(format!("POST /Groups: {}", r.status));
                }
            }
            Ok::<_, String>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    let big = ids.get(..sizes.big_group).unwrap_or(&ids[..]).to_vec();
    let mut conn = Conn::new(target);
    let r = conn
        .send(&Req::with_body(
            Method::POST,
            "/Groups",
            &group_doc("big-group", &big),
        ))
        .await?;
    let big_group = r.json()["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("POST big group: {}", r.status))?;
    Ok(Dataset {
        users: Arc::try_unwrap(ids).unwrap_or_else(|a| (*a).clone()),
        groups: sizes.groups + 1,
        big_group,
        big_members: big.len(),
    })
}

/// Loads the data set straight through the library into a stopped server's data folder.
/// Returns it with the time users and groups took.
pub async fn load_library(
    data: &Path,
    sizes: &Sizes,
) -> Result<(Dataset, Duration, Duration), String> {
    use cloudsso::app::{App, Options};
    use cloudsso::config::Limits;
    use cloudsso::scim::schema::{AttributeSelection, ResourceKind};
    let boot: Value = serde_json::from_slice(
        &std::fs::read(data.join("bootstrap.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let dir_id =
        cloudsso::model::DirectoryId::new(boot["directory_id"].as_str().unwrap_or_default());
    let options = Options {
        public_url: "http://127.0.0.1".into(),
        ..Options::default()
    };
    let (app, thread) = App::open(data, Limits::default(), options)
        .await
        .map_err(|e| e.to_string())?;
    let d = app.directory.clone();
    let in_flight = 1024usize;
    let started = Instant::now();
    let mut ids = vec![String::new(); sizes.users];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..sizes.users {
        if tasks.len() >= in_flight
            && let Some(done) = tasks.join_next().await
        {
            let (k, id): (usize, String) = done.map_err(|e| e.to_string())??;
            if let Some(slot) = ids.get_mut(k) {
                *slot = id;
            }
        }
        let (d, dir) = (d.clone(), dir_id.clone());
        tasks.spawn(async move {
            let doc = user_doc(&user_name(i), i as u64);
            let v = d
                .create(
                    ResourceKind::User,
                    &dir,
                    doc,
                    &AttributeSelection::default(),
                )
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((i, v["id"].as_str().unwrap_or_default().to_owned()))
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (k, id) = done.map_err(|e| e.to_string())??;
        if let Some(slot) = ids.get_mut(k) {
            *slot = id;
        }
    }
    let users_took = started.elapsed();
    let started = Instant::now();
    let ids = Arc::new(ids);
    for g in 0..sizes.groups {
        if tasks.len() >= in_flight
            && let Some(done) = tasks.join_next().await
        {
            done.map_err(|e| e.to_string())??;
        }
        let (d, dir) = (d.clone(), dir_id.clone());
        let doc = group_doc(
            &format!("group-{g:06}"),
            &small_group_members(&ids, sizes, g),
        );
        tasks.spawn(async move {
            d.create(
                ResourceKind::Group,
                &dir,
                doc,
                &AttributeSelection::default(),
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok::<_, String>((0, String::new()))
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    let big = ids.get(..sizes.big_group).unwrap_or(&ids[..]).to_vec();
    let v = d
        .create(
            ResourceKind::Group,
            &dir_id,
            group_doc("big-group", &big),
            &AttributeSelection {
                attributes: Vec::new(),
                excluded: vec![cloudsso::scim::filter::AttrPath {
                    schema: None,
                    name: "members".into(),
                    sub: None,
                }],
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let groups_took = started.elapsed();
    drop((d, app));
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .map_err(|e| e.to_string())?;
    Ok((
        Dataset {
            users: Arc::try_unwrap(ids).unwrap_or_else(|a| (*a).clone()),
            groups: sizes.groups + 1,
            big_group: v["id"].as_str().unwrap_or_default().to_owned(),
            big_members: big.len(),
        },
        users_took,
        groups_took,
    ))
}

/// How a scenario is reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// Requests per second over the run; one row.
    Rate,
    /// One row per request of an operation (e.g. PATCH add, PATCH remove), each with the rate
    /// of its own requests over the time spent in them (one connection).
    Steps,
    /// Operations to do (users or groups to sync, `noun`); reports the total time and
    /// operations per second (`unit`).
    Total {
        noun: &'static str,
        unit: &'static str,
    },
}

pub struct Scenario {
    pub key: &'static str,
    /// Row titles: one, or one per step.
    pub titles: Vec<String>,
    pub shape: Shape,
    pub plan: Plan,
}

fn enc(s: &str) -> String {
    cloudsso::api::signature::percent_encode(s)
}

pub fn filter_eq(name: &str) -> String {
    format!("/Users?filter={}", enc(&format!("userName eq \"{name}\"")))
}

pub fn patch_members(op: &str, ids: &[String]) -> Value {
    let ops: Vec<Value> = if op == "add" {
        let values: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
        vec![json!({"op": "add", "path": "members", "value": values})]
    } else {
        ids.iter()
            .map(|id| json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}))
            .collect()
    };
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

/// Members each group of the Entra-style sync gets, in one PATCH.
pub const SYNC_GROUP_MEMBERS: usize = 20;

pub fn filter_group_eq(name: &str) -> String {
    format!(
        "/Groups?filter={}&excludedAttributes=members",
        enc(&format!("displayName eq \"{name}\""))
    )
}

pub const GROUPS_PAGE: &str = "/Groups?count=100&excludedAttributes=members";

/// The scenarios, in the order they run. `tag` keeps created names unique per system. The
/// PATCH runs last: a peer may still be busy with a PATCH that timed out.
pub fn all(sizes: &Sizes, ds: &Dataset, tag: &str) -> Vec<Scenario> {
    let users = Arc::new(ds.users.clone());
    let n = users.len().max(1) as u64;
    let d = sizes.duration;
    let mut out = Vec::new();
    let pick = move |i: u64| (i.wrapping_mul(2_654_435_761) % n) as usize;
    let u = users.clone();
    out.push(Scenario {
        key: "get_user",
        titles: vec!["GET /Users/{id}, 16 conns".into()],
        shape: Shape::Rate,
        plan: Plan {
            conns: 16,
            ops: u64::MAX,
            duration: d,
            grace: sizes.grace,
            make: Arc::new(move |i| {
                vec![Req::get(format!(
                    "/Users/{}",
                    u.get(pick(i)).map_or("", String::as_str)
                ))]
            }),
        },
    });
    let total = ds.users.len();
    out.push(Scenario {
        key: "filter_hit",
        titles: vec!["filter userName eq (hit), 16 conns".into()],
        shape: Shape::Rate,
        plan: Plan {
            conns: 16,
            ops: u64::MAX,
            duration: d,
            grace: sizes.grace,
            make: Arc::new(move |i| vec![Req::get(filter_eq(&user_name(pick(i) % total.max(1))))]),
        },
    });
    out.push(Scenario {
        key: "filter_miss",
        titles: vec!["filter userName eq (miss), 16 conns".into()],
        shape: Shape::Rate,
        plan: Plan {
            conns: 16,
            ops: u64::MAX,
            duration: d,
            grace: sizes.grace,
            make: Arc::new(|i| vec![Req::get(filter_eq(&format!("nobody-{i}")))]),
        },
    });
    out.push(Scenario {
        key: "list_groups",
        titles: vec![format!(
            "GET /Groups page of 100, excludedAttributes=members ({} groups), 16 conns",
            ds.groups
        )],
        shape: Shape::Rate,
        plan: Plan {
            conns: 16,
            ops: u64::MAX,
            duration: d,
            grace: sizes.grace,
            make: Arc::new(|_| vec![Req::get(GROUPS_PAGE)]),
        },
    });
    for conns in [1usize, 16, 64] {
        let tag = tag.to_owned();
        out.push(Scenario {
            key: match conns {
                1 => "post_users_1",
                16 => "post_users_16",
                _ => "post_users_64",
            },
            titles: vec![format!("POST /Users (durable), {conns} clients")],
            shape: Shape::Rate,
            plan: Plan {
                conns,
                ops: u64::MAX,
                duration: d,
                grace: sizes.grace,
                make: Arc::new(move |i| {
                    let name = format!("post-{tag}-{conns}-{i}");
                    vec![Req::with_body(Method::POST, "/Users", &user_doc(&name, i))]
                }),
            },
        });
    }
    let sync_tag = tag.to_owned();
    out.push(Scenario {
        key: "entra_sync",
        titles: vec![format!(
            "Entra sync {} users (filter miss + POST), 16 clients",
            sizes.sync_users
        )],
        shape: Shape::Total {
            noun: "users",
            unit: "users/s",
        },
        plan: Plan {
            conns: 16,
            ops: sizes.sync_users,
            duration: sizes.cap,
            grace: sizes.grace,
            make: Arc::new(move |i| {
                let name = format!("entra-{sync_tag}-{i}");
                vec![
                    Req::get(filter_eq(&name)),
                    Req::with_body(Method::POST, "/Users", &user_doc(&name, i)),
                ]
            }),
        },
    });
    // Then Entra's groups: look the group up (a miss), create it, add its members by PATCH
    // to the id the POST answered (`{id}`).
    let (group_tag, users) = (tag.to_owned(), ds.users.clone());
    out.push(Scenario {
        key: "entra_groups",
        titles: vec![format!(
            "Entra sync {} groups (filter miss + POST + PATCH {SYNC_GROUP_MEMBERS} members), 16 clients",
            sizes.sync_groups
        )],
        shape: Shape::Total {
            noun: "groups",
            unit: "groups/s",
        },
        plan: Plan {
            conns: 16,
            ops: sizes.sync_groups,
            duration: sizes.cap,
            grace: sizes.grace,
            make: Arc::new(move |i| {
                let name = format!("entra-group-{group_tag}-{i}");
                let members: Vec<String> = (0..SYNC_GROUP_MEMBERS as u64)
                    .filter_map(|k| {
                        let at = (i * SYNC_GROUP_MEMBERS as u64 + k) as usize % users.len().max(1);
                        users.get(at).cloned()
                    })
                    .collect();
                vec![
                    Req::get(filter_group_eq(&name)),
                    Req::with_body(
                        Method::POST,
                        "/Groups",
                        &json!({"schemas": [GROUP], "displayName": name, "externalId": format!("ext-{name}")}),
                    ),
                    Req::with_body(Method::PATCH, "/Groups/{id}", &patch_members("add", &members)),
                ]
            }),
        },
    });
    let group = format!("/Groups/{}", ds.big_group);
    let add = patch_members("add", ds.extra());
    let remove = patch_members("remove", ds.extra());
    out.push(Scenario {
        key: "patch_members",
        titles: vec![
            format!(
                "PATCH +{PATCH_MEMBERS} members, group of {}",
                ds.big_members
            ),
            format!(
                "PATCH -{PATCH_MEMBERS} members, group of {}",
                ds.big_members
            ),
        ],
        shape: Shape::Steps,
        plan: Plan {
            conns: 1,
            ops: u64::MAX,
            duration: d * 2,
            grace: sizes.grace,
            make: Arc::new(move |_| {
                vec![
                    Req::with_body(Method::PATCH, group.clone(), &add),
                    Req::with_body(Method::PATCH, group.clone(), &remove),
                ]
            }),
        },
    });
    out
}
