//! Model-based property test (issue 15): random sequences of directory operations (create,
//! replace, PATCH and delete of users and groups, members added and removed, renames that
//! collide, case variants of names) run against the real `Directory` over a real redb file in a
//! temporary folder (built by `App::open`, as the server builds it) and against a small
//! in-memory model (users, groups, memberships, case-insensitive uniqueness of names). After
//! every step, each operation's success agrees where the model is sure, and every read agrees:
//! get by id, the lists, `userName eq` / `displayName eq` filters, group members.
//!
//! 64 cases of up to 30 steps by default; `PROPTEST_CASES=5000` runs longer.

use cloudsso::app::{App, Options};
use cloudsso::config::Limits;
use cloudsso::directory::{Directory, ListQuery};
use cloudsso::model::{DirectoryId, PrincipalId};
use cloudsso::scim::filter::{FilterLimits, parse_filter};
use cloudsso::scim::patch::parse_request;
use cloudsso::scim::schema::{AttributeSelection, ResourceKind};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const BASES: &[&str] = &["ann", "bob", "cy"];

/// A name from a small pool in one of three spellings, so names collide, also by case.
#[derive(Debug, Clone, Copy)]
struct Name(usize, u8);

impl Name {
    fn text(self) -> String {
        let base = BASES[self.0 % BASES.len()];
        match self.1 % 3 {
            0 => base.to_owned(),
            1 => base.to_uppercase(),
            _ => format!("{}{}", base[..1].to_uppercase(), &base[1..]),
        }
    }
}

/// An index into the ids of one kind ever created (deleted ones included), modulo their count.
type Pick = usize;

#[derive(Debug, Clone)]
enum Step {
    CreateUser(Name),
    CreateGroup(Name, Vec<Pick>),
    RenameUser(Pick, Name),
    ReplaceUser(Pick, Name),
    RenameGroup(Pick, Name),
    ReplaceGroup(Pick, Name, Vec<Pick>),
    DeleteUser(Pick),
    DeleteGroup(Pick),
    AddMember(Pick, Pick),
    RemoveMember(Pick, Pick),
}

fn step() -> impl Strategy<Value = Step> {
    let name = (0..BASES.len(), any::<u8>()).prop_map(|(b, c)| Name(b, c));
    let pick = 0..8usize;
    let picks = proptest::collection::vec(pick.clone(), 0..3);
    prop_oneof![
        3 => name.clone().prop_map(Step::CreateUser),
        2 => (name.clone(), picks.clone()).prop_map(|(n, m)| Step::CreateGroup(n, m)),
        2 => (pick.clone(), name.clone()).prop_map(|(p, n)| Step::RenameUser(p, n)),
        1 => (pick.clone(), name.clone()).prop_map(|(p, n)| Step::ReplaceUser(p, n)),
        2 => (pick.clone(), name.clone()).prop_map(|(p, n)| Step::RenameGroup(p, n)),
        1 => (pick.clone(), name, picks).prop_map(|(p, n, m)| Step::ReplaceGroup(p, n, m)),
        1 => pick.clone().prop_map(Step::DeleteUser),
        1 => pick.clone().prop_map(Step::DeleteGroup),
        3 => (pick.clone(), pick.clone()).prop_map(|(g, u)| Step::AddMember(g, u)),
        2 => (pick.clone(), pick).prop_map(|(g, u)| Step::RemoveMember(g, u)),
    ]
}

/// What the directory should hold.
#[derive(Debug, Default)]
struct Model {
    users: BTreeMap<String, String>,
    groups: BTreeMap<String, (String, BTreeSet<String>)>,
    /// Every id ever created, per kind, in creation order (what a `Pick` indexes).
    user_ids: Vec<String>,
    group_ids: Vec<String>,
}

impl Model {
    fn user_taken(&self, name: &str, own: Option<&str>) -> bool {
        self.users
            .iter()
            .any(|(id, n)| n.eq_ignore_ascii_case(name) && Some(id.as_str()) != own)
    }
    fn group_taken(&self, name: &str, own: Option<&str>) -> bool {
        self.groups
            .iter()
            .any(|(id, (n, _))| n.eq_ignore_ascii_case(name) && Some(id.as_str()) != own)
    }
    fn pick(ids: &[String], p: Pick, kind: ResourceKind) -> String {
        match ids.len() {
            0 => match kind {
                ResourceKind::User => "u-neverexisted00000000".into(),
                ResourceKind::Group => "g-neverexisted00000000".into(),
            },
            n => ids[p % n].clone(),
        }
    }
    fn user(&self, p: Pick) -> String {
        Self::pick(&self.user_ids, p, ResourceKind::User)
    }
    fn group(&self, p: Pick) -> String {
        Self::pick(&self.group_ids, p, ResourceKind::Group)
    }
    fn members_exist(&self, members: &[String]) -> bool {
        members.iter().all(|m| self.users.contains_key(m))
    }
}

struct Real {
    dir: Directory,
    d: DirectoryId,
}

fn user_id(id: &str) -> PrincipalId {
    PrincipalId::new(ResourceKind::User, id)
}
fn group_id(id: &str) -> PrincipalId {
    PrincipalId::new(ResourceKind::Group, id)
}

fn members_json(ids: &[String]) -> Vec<Value> {
    ids.iter().map(|m| json!({"value": m})).collect()
}

fn ops(v: Value) -> Vec<cloudsso::scim::patch::PatchOp> {
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": v});
    parse_request(&body, 100, &FilterLimits::default()).unwrap()
}

impl Real {
    async fn patch(&self, id: PrincipalId, v: Value) -> bool {
        self.dir
            .patch(&self.d, &id, ops(v), None, None)
            .await
            .is_ok()
    }

    /// Runs one step on both; the model's prediction (`None` where it is not sure) and the real
    /// outcome.
    async fn run(&self, m: &mut Model, s: &Step) -> (Option<bool>, bool) {
        let sel = AttributeSelection::default();
        match s {
            Step::CreateUser(n) => {
                let name = n.text();
                let want = !m.user_taken(&name, None);
                let r = self
                    .dir
                    .create(ResourceKind::User, &self.d, json!({"userName": name}), &sel)
                    .await;
                if let Ok(doc) = &r {
                    let id = doc["id"].as_str().unwrap().to_owned();
                    m.user_ids.push(id.clone());
                    if want {
                        m.users.insert(id, name);
                    }
                }
                (Some(want), r.is_ok())
            }
            Step::CreateGroup(n, picks) => {
                let (name, members): (String, Vec<String>) =
                    (n.text(), picks.iter().map(|p| m.user(*p)).collect());
                let want = !m.group_taken(&name, None) && m.members_exist(&members);
                let body = json!({"displayName": name, "members": members_json(&members)});
                let r = self
                    .dir
                    .create(ResourceKind::Group, &self.d, body, &sel)
                    .await;
                if let Ok(doc) = &r {
                    let id = doc["id"].as_str().unwrap().to_owned();
                    m.group_ids.push(id.clone());
                    if want {
                        m.groups.insert(id, (name, members.into_iter().collect()));
                    }
                }
                (Some(want), r.is_ok())
            }
            Step::RenameUser(p, n) | Step::ReplaceUser(p, n) => {
                let (id, name) = (m.user(*p), n.text());
                let want = m.users.contains_key(&id) && !m.user_taken(&name, Some(&id));
                let ok = if matches!(s, Step::RenameUser(..)) {
                    self.patch(
                        user_id(&id),
                        json!([{"op": "replace", "path": "userName", "value": name}]),
                    )
                    .await
                } else {
                    self.dir
                        .replace(
                            &self.d,
                            &user_id(&id),
                            json!({"userName": name}),
                            None,
                            &sel,
                        )
                        .await
                        .is_ok()
                };
                if want {
                    m.users.insert(id, name);
                }
                (Some(want), ok)
            }
            Step::RenameGroup(p, n) => {
                let (id, name) = (m.group(*p), n.text());
                let want = m.groups.contains_key(&id) && !m.group_taken(&name, Some(&id));
                let ok = self
                    .patch(
                        group_id(&id),
                        json!([{"op": "replace", "path": "displayName", "value": name}]),
                    )
                    .await;
                if want && let Some(g) = m.groups.get_mut(&id) {
                    g.0 = name;
                }
                (Some(want), ok)
            }
            Step::ReplaceGroup(p, n, picks) => {
                let (id, name) = (m.group(*p), n.text());
                let members: Vec<String> = picks.iter().map(|p| m.user(*p)).collect();
                let want = m.groups.contains_key(&id)
                    && !m.group_taken(&name, Some(&id))
                    && m.members_exist(&members);
                let body = json!({"displayName": name, "members": members_json(&members)});
                let ok = self
                    .dir
                    .replace(&self.d, &group_id(&id), body, None, &sel)
                    .await
                    .is_ok();
                if want {
                    m.groups.insert(id, (name, members.into_iter().collect()));
                }
                (Some(want), ok)
            }
            Step::DeleteUser(p) => {
                let id = m.user(*p);
                let want = m.users.remove(&id).is_some();
                for (_, members) in m.groups.values_mut() {
                    members.remove(&id);
                }
                (
                    Some(want),
                    self.dir.delete(&self.d, &user_id(&id), None).await.is_ok(),
                )
            }
            Step::DeleteGroup(p) => {
                let id = m.group(*p);
                let want = m.groups.remove(&id).is_some();
                (
                    Some(want),
                    self.dir.delete(&self.d, &group_id(&id), None).await.is_ok(),
                )
            }
            Step::AddMember(g, u) => {
                let (g, u) = (m.group(*g), m.user(*u));
                let want = m.groups.contains_key(&g) && m.users.contains_key(&u);
                let ok = self
                    .patch(
                        group_id(&g),
                        json!([{"op": "add", "path": "members", "value": [{"value": u}]}]),
                    )
                    .await;
                if want && let Some(grp) = m.groups.get_mut(&g) {
                    grp.1.insert(u);
                }
                (Some(want), ok)
            }
            Step::RemoveMember(g, u) => {
                let (g, u) = (m.group(*g), m.user(*u));
                let path = format!("members[value eq \"{u}\"]");
                let ok = self
                    .patch(group_id(&g), json!([{"op": "remove", "path": path}]))
                    .await;
                let want = match m.groups.get_mut(&g) {
                    // Removing a member that is not there: either answer leaves the same state.
                    Some(grp) => grp.1.remove(&u).then_some(true),
                    None => Some(false),
                };
                (want, ok)
            }
        }
    }

    async fn list(&self, kind: ResourceKind, filter: Option<&str>) -> BTreeMap<String, String> {
        let q = ListQuery {
            filter: filter.map(|f| parse_filter(f, &FilterLimits::default()).unwrap()),
            start_index: 1,
            count: 1000,
            ..ListQuery::default()
        };
        let key = if kind == ResourceKind::User {
            "userName"
        } else {
            "displayName"
        };
        let page = self.dir.list(kind, &self.d, q).await.unwrap();
        assert_eq!(page.total, page.resources.len());
        page.resources
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_owned(),
                    r[key].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// Every read, compared with the model; the first difference.
    async fn agrees(&self, m: &Model) -> Result<(), String> {
        let users = self.list(ResourceKind::User, None).await;
        if users != m.users {
            return Err(format!("users: real {users:?}, model {:?}", m.users));
        }
        let groups = self.list(ResourceKind::Group, None).await;
        let model_groups: BTreeMap<String, String> = m
            .groups
            .iter()
            .map(|(id, (n, _))| (id.clone(), n.clone()))
            .collect();
        if groups != model_groups {
            return Err(format!("groups: real {groups:?}, model {model_groups:?}"));
        }
        for base in BASES {
            // Upper case: `eq` on these names is case-insensitive.
            let upper = base.to_uppercase();
            let want: BTreeMap<_, _> = m
                .users
                .iter()
                .filter(|(_, n)| n.eq_ignore_ascii_case(base))
                .map(|(i, n)| (i.clone(), n.clone()))
                .collect();
            let got = self
                .list(
                    ResourceKind::User,
                    Some(&format!("userName eq \"{upper}\"")),
                )
                .await;
            if got != want {
                return Err(format!("userName eq {upper}: real {got:?}, model {want:?}"));
            }
            let want: BTreeMap<_, _> = model_groups
                .iter()
                .filter(|(_, n)| n.eq_ignore_ascii_case(base))
                .map(|(i, n)| (i.clone(), n.clone()))
                .collect();
            let got = self
                .list(
                    ResourceKind::Group,
                    Some(&format!("displayName eq \"{upper}\"")),
                )
                .await;
            if got != want {
                return Err(format!(
                    "displayName eq {upper}: real {got:?}, model {want:?}"
                ));
            }
        }
        self.gets_agree(m).await
    }

    /// Get by id of every id ever created: present exactly when the model has it, with its name
    /// and (for a group) its members.
    async fn gets_agree(&self, m: &Model) -> Result<(), String> {
        let sel = AttributeSelection::default();
        for id in &m.user_ids {
            let got = self.dir.get(&self.d, &user_id(id), &sel).await.ok();
            let got = got.as_ref().map(|d| d["userName"].as_str().unwrap_or(""));
            if got != m.users.get(id).map(String::as_str) {
                return Err(format!(
                    "get user {id}: real {got:?}, model {:?}",
                    m.users.get(id)
                ));
            }
        }
        for id in &m.group_ids {
            let got = self
                .dir
                .get(&self.d, &group_id(id), &sel)
                .await
                .ok()
                .map(|d| {
                    let members = d["members"].as_array().cloned().unwrap_or_default();
                    let members: BTreeSet<String> = members
                        .iter()
                        .map(|v| v["value"].as_str().unwrap_or("").to_owned())
                        .collect();
                    (d["displayName"].as_str().unwrap_or("").to_owned(), members)
                });
            if got.as_ref() != m.groups.get(id) {
                return Err(format!(
                    "get group {id}: real {got:?}, model {:?}",
                    m.groups.get(id)
                ));
            }
        }
        Ok(())
    }
}

/// One case: a fresh database, the steps, a comparison after each.
fn run_case(steps: &[Step]) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tmp = tempfile::tempdir().unwrap();
        let options = Options {
            public_url: "http://x".into(),
            ..Default::default()
        };
        let (app, _writer) = App::open(&tmp.path().join("data"), Limits::default(), options)
            .await
            .unwrap();
        let dir = app.directory.clone();
        let d = dir
            .bootstrap("d-model000000000".into(), "secret".into())
            .await
            .unwrap()
            .unwrap()
            .directory_id;
        let real = Real { dir, d };
        let mut model = Model::default();
        for (i, s) in steps.iter().enumerate() {
            let (want, got) = real.run(&mut model, s).await;
            if want.is_some_and(|w| w != got) {
                return Err(format!("step {i} {s:?}: real ok={got}, model ok={want:?}"));
            }
            real.agrees(&model)
                .await
                .map_err(|e| format!("after step {i} {s:?}: {e}"))?;
        }
        Ok(())
    })
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]
    #[test]
    fn directory_agrees_with_the_model(steps in proptest::collection::vec(step(), 1..30)) {
        if let Err(e) = run_case(&steps) {
            prop_assert!(false, "{}", e);
        }
    }
}
