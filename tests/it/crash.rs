//! The crash-consistency suite (issue 15): cycles of concurrent SCIM and management API writes
//! against the real `cloudsso serve`, a SIGKILL in the middle of them, and a restart on the
//! same data folder. After every kill it holds each acknowledged (2xx) write durable: its
//! effect in a copy of the killed database (opened in-process), its effect over HTTP once the
//! restarted server has recovered its own file, and one outbox event per acknowledged write
//! with no gap in sequence numbers. After the last cycle the engine must converge: a group's
//! assignment is provisioned for exactly that group's members.
//!
//! `CRASH_CYCLES` (default 20) sets the cycles, `CRASH_SEED` the random seed (printed). The
//! long mode: `CRASH_CYCLES=1000 cargo test --release --test it crash -- --nocapture`.
//! Owns its model of acknowledged outcomes; must not write to the server's data folder (the
//! in-process checks read a copy, so the server recovers its own file after each kill).

use crate::access_http::{Setup, grant};
use crate::harness::*;
use cloudsso::model::{ChangeKind, ResourceKind, ResourceType};
use cloudsso::store::{ReadTxn, Store};
use hyper::Method;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// SCIM writers and management API writers running at once in each cycle.
const SCIM_WRITERS: usize = 8;
const API_WRITERS: usize = 2;
/// The kill comes this long (milliseconds, uniform) after the writers start.
const BURST_MS: std::ops::Range<u64> = 300..800;
/// A writer that is never cut off by the kill stops by itself after this long.
const WRITER_DEADLINE: Duration = Duration::from_secs(60);
/// The in-process check covers the whole model every this many cycles (and after the last),
/// else what the cycle touched: a long run stays linear in its cycles.
const FULL_CHECK_EVERY: usize = 10;
/// How long the engine may take to converge after the last restart.
const CONVERGE_DEADLINE: Duration = Duration::from_secs(60);
const CONFIG_NAME: &str = "CrashAdmin";
/// A long run prints its figures every this many cycles.
const PROGRESS_EVERY: usize = 50;

/// xorshift64*: reproducible from the printed seed, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<T: Clone>(&mut self, v: &[T]) -> Option<T> {
        v.get(self.below(v.len())).cloned()
    }
}

/// A write whose target ids are known (a create's id comes from its answer).
#[derive(Clone, Debug, PartialEq)]
enum Write {
    CreateUser(String),
    CreateGroup(String),
    Add { group: String, user: String },
    Remove { group: String, user: String },
    DeleteUser(String),
    DeleteGroup(String),
}

/// What a writer is about to send.
#[derive(Clone, Debug)]
enum Plan {
    NewUser(String),
    NewGroup(String),
    Change(Write),
}

/// What became of a write: acknowledged (2xx), or unknown (no answer, or a refusal, which
/// this suite does not expect and does not trust to have changed nothing). An unknown create
/// has no id.
#[derive(Debug)]
enum Step {
    Acked(Write),
    Unknown(Option<Write>),
}

enum Failure {
    Unanswered,
    Refused(String),
}

/// Which protocol a writer speaks.
#[derive(Clone, Copy, PartialEq)]
enum Front {
    Scim,
    Api,
}

/// The objects a writer alone manipulates (disjoint between writers, so the order of one
/// writer's acknowledged writes is the order they committed in), and the memberships it
/// knows present. The shared group is not owned; its memberships are, per user.
#[derive(Default, Clone)]
struct Owned {
    users: Vec<String>,
    groups: Vec<String>,
    pairs: Vec<(String, String)>,
}

impl Owned {
    fn acked(&mut self, w: &Write) {
        match w {
            Write::CreateUser(u) => self.users.push(u.clone()),
            Write::CreateGroup(g) => self.groups.push(g.clone()),
            Write::Add { group, user } => self.pairs.push((group.clone(), user.clone())),
            Write::Remove { group, user } => {
                self.pairs.retain(|p| p != &(group.clone(), user.clone()))
            }
            Write::DeleteUser(u) => self.drop_user(u),
            Write::DeleteGroup(g) => {
                self.groups.retain(|x| x != g);
                self.pairs.retain(|(x, _)| x != g);
            }
        }
    }

    /// After an unknown outcome the writer lets go of every object the write named (the
    /// shared group is never owned). The known pairs of an object let go stay: they still
    /// tell whether a group or user may be deleted through the API.
    fn unknown(&mut self, w: &Write) {
        match w {
            Write::CreateUser(u) | Write::DeleteUser(u) => self.users.retain(|x| x != u),
            Write::CreateGroup(g) | Write::DeleteGroup(g) => self.groups.retain(|x| x != g),
            Write::Add { group, user } | Write::Remove { group, user } => {
                self.users.retain(|x| x != user);
                self.groups.retain(|x| x != group);
            }
        }
    }

    /// A deleted user takes its pairs along.
    fn drop_user(&mut self, u: &str) {
        self.users.retain(|x| x != u);
        self.pairs.retain(|(_, x)| x != u);
    }

    fn paired(&self, id: &str) -> bool {
        self.pairs.iter().any(|(g, u)| g == id || u == id)
    }
}

/// The next write of a writer: mostly creates and membership changes, some deletions. An
/// operation with nothing to act on becomes a new user.
fn choose(rng: &mut Rng, owned: &Owned, shared: Option<&str>, front: Front, name: String) -> Plan {
    let plan = match rng.below(10) {
        0..=2 => None,
        3 => Some(Plan::NewGroup(name.clone())),
        4..=6 => plan_add(rng, owned, shared),
        7..=8 => plan_remove(rng, owned, shared),
        _ => plan_delete(rng, owned, front),
    };
    plan.unwrap_or(Plan::NewUser(name))
}

/// A known membership of a user and a group the writer still owns (or the shared group).
fn plan_remove(rng: &mut Rng, owned: &Owned, shared: Option<&str>) -> Option<Plan> {
    let pairs: Vec<(String, String)> = owned
        .pairs
        .iter()
        .filter(|(_, u)| owned.users.contains(u))
        .filter(|(g, _)| owned.groups.contains(g) || shared == Some(g.as_str()))
        .cloned()
        .collect();
    let (group, user) = rng.pick(&pairs)?;
    Some(Plan::Change(Write::Remove { group, user }))
}

fn plan_add(rng: &mut Rng, owned: &Owned, shared: Option<&str>) -> Option<Plan> {
    let mut groups = owned.groups.clone();
    groups.extend(shared.map(str::to_owned));
    let group = rng.pick(&groups)?;
    let user = rng.pick(&owned.users)?;
    let pair = (group.clone(), user.clone());
    (!owned.pairs.contains(&pair)).then_some(Plan::Change(Write::Add { group, user }))
}

/// The API refuses to delete a user in a group or a group with members: it deletes only
/// those without; SCIM deletes either.
fn plan_delete(rng: &mut Rng, owned: &Owned, front: Front) -> Option<Plan> {
    let (ids, write): (&[String], fn(String) -> Write) = if rng.below(2) == 0 {
        (&owned.users, Write::DeleteUser)
    } else {
        (&owned.groups, Write::DeleteGroup)
    };
    let id = rng.pick(ids)?;
    (front == Front::Scim || !owned.paired(&id)).then(|| Plan::Change(write(id)))
}

impl Plan {
    /// The write as far as it is known before the answer.
    fn known(&self) -> Option<Write> {
        match self {
            Plan::Change(w) => Some(w.clone()),
            Plan::NewUser(_) | Plan::NewGroup(_) => None,
        }
    }

    /// The acknowledged write, given the id the answer named.
    fn done(&self, id: Option<&str>) -> Result<Write, Failure> {
        let missing = || Failure::Refused(format!("{self:?}: no id in the answer"));
        match self {
            Plan::NewUser(_) => id
                .map(|i| Write::CreateUser(i.to_owned()))
                .ok_or_else(missing),
            Plan::NewGroup(_) => id
                .map(|i| Write::CreateGroup(i.to_owned()))
                .ok_or_else(missing),
            Plan::Change(w) => Ok(w.clone()),
        }
    }
}

/// The SCIM request of a plan: method, path, body.
fn scim_request(plan: &Plan) -> (Method, String, Option<Value>) {
    let patch = |group: &str, op: Value| {
        let body = json!({"schemas": [PATCH_OP], "Operations": [op]});
        (Method::PATCH, format!("/Groups/{group}"), Some(body))
    };
    match plan {
        Plan::NewUser(n) => (
            Method::POST,
            "/Users".into(),
            Some(json!({"schemas": [USER], "userName": n})),
        ),
        Plan::NewGroup(n) => (
            Method::POST,
            "/Groups".into(),
            Some(json!({"schemas": [GROUP], "displayName": n})),
        ),
        Plan::Change(Write::Add { group, user }) => patch(
            group,
            json!({"op": "add", "path": "members", "value": [{"value": user}]}),
        ),
        Plan::Change(Write::Remove { group, user }) => patch(
            group,
            json!({"op": "remove", "path": format!("members[value eq \"{user}\"]")}),
        ),
        Plan::Change(Write::DeleteUser(u)) => (Method::DELETE, format!("/Users/{u}"), None),
        Plan::Change(Write::DeleteGroup(g)) => (Method::DELETE, format!("/Groups/{g}"), None),
        Plan::Change(Write::CreateUser(_) | Write::CreateGroup(_)) => {
            unreachable!("creates are planned by name")
        }
    }
}

/// The management API call of a plan: action, parameters (without `DirectoryId`), and where
/// a create's answer names the new id.
fn api_request(plan: &Plan) -> (&'static str, Vec<(&'static str, String)>, [&'static str; 2]) {
    let none = ["", ""];
    let pair = |g: &str, u: &str| vec![("GroupId", g.to_owned()), ("UserId", u.to_owned())];
    match plan {
        Plan::NewUser(n) => (
            "CreateUser",
            vec![("UserName", n.clone())],
            ["User", "UserId"],
        ),
        Plan::NewGroup(n) => (
            "CreateGroup",
            vec![("GroupName", n.clone())],
            ["Group", "GroupId"],
        ),
        Plan::Change(Write::Add { group, user }) => ("AddUserToGroup", pair(group, user), none),
        Plan::Change(Write::Remove { group, user }) => {
            ("RemoveUserFromGroup", pair(group, user), none)
        }
        Plan::Change(Write::DeleteUser(u)) => ("DeleteUser", vec![("UserId", u.clone())], none),
        Plan::Change(Write::DeleteGroup(g)) => ("DeleteGroup", vec![("GroupId", g.clone())], none),
        Plan::Change(Write::CreateUser(_) | Write::CreateGroup(_)) => {
            unreachable!("creates are planned by name")
        }
    }
}

async fn scim_send(srv: &Server, plan: &Plan) -> Result<Write, Failure> {
    let (method, path, body) = scim_request(plan);
    let r = srv
        .try_call(method, &path, body)
        .await
        .ok_or(Failure::Unanswered)?;
    if !r.status.is_success() {
        return Err(Failure::Refused(format!("{} {path}: {}", r.status, r.body)));
    }
    plan.done(r.body["id"].as_str())
}

async fn api_send(srv: &Server, key: &Key, plan: &Plan) -> Result<Write, Failure> {
    let (action, params, id_at) = api_request(plan);
    let mut p: Vec<(&str, &str)> = vec![("DirectoryId", &srv.directory_id)];
    p.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
    let r = srv
        .try_api(key, SSO, action, &p)
        .await
        .ok_or(Failure::Unanswered)?;
    if !r.status.is_success() {
        return Err(Failure::Refused(format!(
            "{} {action}: {}",
            r.status, r.body
        )));
    }
    plan.done(r.body[id_at[0]][id_at[1]].as_str())
}

/// One writer's share of a cycle.
struct Writer {
    front: Front,
    tag: String,
    owned: Owned,
    rng: Rng,
    count: u64,
}

/// What a writer did in one cycle: its steps in order, and the refusals it met.
struct Log {
    steps: Vec<Step>,
    refused: Vec<String>,
}

impl Writer {
    /// Writes until the server stops answering (the kill) or the safety deadline.
    async fn run(
        mut self,
        srv: Arc<Server>,
        key: Key,
        shared: String,
        cycle: usize,
    ) -> (Writer, Log) {
        let mut log = Log {
            steps: Vec::new(),
            refused: Vec::new(),
        };
        let shared = (self.front == Front::Scim).then_some(shared.as_str());
        let started = Instant::now();
        while started.elapsed() < WRITER_DEADLINE {
            self.count += 1;
            let name = format!("c{cycle}-{}-{}", self.tag, self.count);
            let plan = choose(&mut self.rng, &self.owned, shared, self.front, name);
            let sent = match self.front {
                Front::Scim => scim_send(&srv, &plan).await,
                Front::Api => api_send(&srv, &key, &plan).await,
            };
            if !self.record(&plan, sent, &mut log) {
                break;
            }
        }
        (self, log)
    }

    /// Records an outcome; false once the server stopped answering.
    fn record(&mut self, plan: &Plan, sent: Result<Write, Failure>, log: &mut Log) -> bool {
        let failure = match sent {
            Ok(w) => {
                self.owned.acked(&w);
                log.steps.push(Step::Acked(w));
                return true;
            }
            Err(failure) => failure,
        };
        let known = plan.known();
        if let Some(w) = &known {
            self.owned.unknown(w);
        }
        log.steps.push(Step::Unknown(known));
        match failure {
            Failure::Unanswered => false,
            Failure::Refused(why) => {
                log.refused.push(why);
                true
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Fact {
    Present,
    Absent,
    Unknown,
}

/// One outbox event an acknowledged write must have left.
#[derive(Debug)]
struct Expected {
    resource: ResourceType,
    id: String,
    kind: ChangeKind,
    member: Option<String>,
}

impl Expected {
    fn new(resource: ResourceType, id: &str, kind: ChangeKind, member: Option<&str>) -> Expected {
        Expected {
            resource,
            id: id.to_owned(),
            kind,
            member: member.map(str::to_owned),
        }
    }
    fn key(&self) -> String {
        let member = self.member.as_deref().unwrap_or("");
        format!("{:?} {} {:?} {member}", self.resource, self.id, self.kind)
    }
}

/// The last acknowledged state of every object and membership the writers touched. Objects
/// and memberships whose last write went unanswered are `Unknown` and not checked.
#[derive(Default)]
struct Model {
    users: HashMap<String, Fact>,
    groups: HashMap<String, Fact>,
    /// group -> user -> fact.
    members: HashMap<String, HashMap<String, Fact>>,
    touched_users: HashSet<String>,
    touched_groups: HashSet<String>,
}

impl Model {
    /// Applies one step; the outbox events it must have left.
    fn apply(&mut self, step: &Step) -> Vec<Expected> {
        match step {
            Step::Acked(w) => self.acked(w),
            Step::Unknown(Some(w)) => {
                self.unknown(w);
                Vec::new()
            }
            Step::Unknown(None) => Vec::new(),
        }
    }

    fn acked(&mut self, w: &Write) -> Vec<Expected> {
        use ResourceType::{Group, User};
        match w {
            Write::CreateUser(u) => {
                self.set_user(u, Fact::Present);
                vec![Expected::new(User, u, ChangeKind::Created, None)]
            }
            Write::CreateGroup(g) => {
                self.set_group(g, Fact::Present);
                vec![Expected::new(Group, g, ChangeKind::Created, None)]
            }
            Write::Add { group, user } => {
                self.set_pair(group, user, Fact::Present);
                vec![Expected::new(
                    Group,
                    group,
                    ChangeKind::MembersAdded,
                    Some(user),
                )]
            }
            Write::Remove { group, user } => {
                self.set_pair(group, user, Fact::Absent);
                vec![Expected::new(
                    Group,
                    group,
                    ChangeKind::MembersRemoved,
                    Some(user),
                )]
            }
            Write::DeleteUser(u) => self.user_deleted(u),
            Write::DeleteGroup(g) => self.group_deleted(g),
        }
    }

    /// A deleted group's membership rows go with it, under its one event.
    fn group_deleted(&mut self, g: &str) -> Vec<Expected> {
        self.set_group(g, Fact::Absent);
        let users: Vec<String> = self
            .members
            .get(g)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for u in users {
            self.set_pair(g, &u, Fact::Absent);
        }
        vec![Expected::new(
            ResourceType::Group,
            g,
            ChangeKind::Deleted,
            None,
        )]
    }

    /// A deleted user leaves every group it was in, each with its own event.
    fn user_deleted(&mut self, u: &str) -> Vec<Expected> {
        self.set_user(u, Fact::Absent);
        let mut out = vec![Expected::new(
            ResourceType::User,
            u,
            ChangeKind::Deleted,
            None,
        )];
        for g in self.groups_with(u, &[Fact::Present, Fact::Unknown]) {
            if self.pair(&g, u) == Fact::Present {
                out.push(Expected::new(
                    ResourceType::Group,
                    &g,
                    ChangeKind::MembersRemoved,
                    Some(u),
                ));
            }
            self.set_pair(&g, u, Fact::Absent);
        }
        out
    }

    fn unknown(&mut self, w: &Write) {
        match w {
            Write::CreateUser(_) | Write::CreateGroup(_) => {}
            Write::Add { group, user } | Write::Remove { group, user } => {
                self.set_pair(group, user, Fact::Unknown)
            }
            Write::DeleteUser(u) => {
                self.set_user(u, Fact::Unknown);
                for g in self.groups_with(u, &[Fact::Present]) {
                    self.set_pair(&g, u, Fact::Unknown);
                }
            }
            Write::DeleteGroup(g) => {
                self.set_group(g, Fact::Unknown);
                let present: Vec<String> = self
                    .members
                    .get(g)
                    .into_iter()
                    .flatten()
                    .filter(|(_, f)| **f == Fact::Present)
                    .map(|(u, _)| u.clone())
                    .collect();
                for u in present {
                    self.set_pair(g, &u, Fact::Unknown);
                }
            }
        }
    }

    fn groups_with(&self, u: &str, facts: &[Fact]) -> Vec<String> {
        self.members
            .iter()
            .filter(|(_, m)| m.get(u).is_some_and(|f| facts.contains(f)))
            .map(|(g, _)| g.clone())
            .collect()
    }

    fn pair(&self, g: &str, u: &str) -> Fact {
        self.members
            .get(g)
            .and_then(|m| m.get(u))
            .copied()
            .unwrap_or(Fact::Absent)
    }

    fn set_user(&mut self, u: &str, f: Fact) {
        self.users.insert(u.to_owned(), f);
        self.touched_users.insert(u.to_owned());
    }

    fn set_group(&mut self, g: &str, f: Fact) {
        self.groups.insert(g.to_owned(), f);
        self.touched_groups.insert(g.to_owned());
    }

    fn set_pair(&mut self, g: &str, u: &str, f: Fact) {
        self.members
            .entry(g.to_owned())
            .or_default()
            .insert(u.to_owned(), f);
        self.touched_groups.insert(g.to_owned());
    }
}

/// What the run found so far.
#[derive(Default)]
struct Tally {
    acknowledged: u64,
    unknown: u64,
    refused: u64,
    verified: u64,
    checks: u64,
    gaps: u64,
    /// The size of the database file at the last kill.
    db_bytes: u64,
    /// Every acknowledged write or state found missing, and every gap, described.
    problems: Vec<String>,
}

impl Tally {
    /// The summary after `cycles` cycles.
    fn line(&self, cycles: usize, seed: u64, started: Instant) -> String {
        format!(
            "crash: cycles={cycles} seed={seed} acknowledged={} verified={} unknown={} refused={} checks={} lost={} gaps={} db_bytes={} elapsed={:.1}s",
            self.acknowledged,
            self.verified,
            self.unknown,
            self.refused,
            self.checks,
            self.problems.len() as u64 - self.gaps,
            self.gaps,
            self.db_bytes,
            started.elapsed().as_secs_f64()
        )
    }

    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.checks += 1;
        if !ok {
            self.problems.push(what());
        }
    }
}

/// Checks the model against a store: every known object present or absent as acknowledged,
/// every known membership in both the member rows and their mirror; all of it when `full`,
/// else what the last cycle touched (every changed membership touches its group).
fn check_state(model: &Model, txn: &ReadTxn, dir: &str, full: bool, tally: &mut Tally) {
    for (kind, facts, touched) in [
        (ResourceKind::User, &model.users, &model.touched_users),
        (ResourceKind::Group, &model.groups, &model.touched_groups),
    ] {
        let checked =
            |(id, f): &(&String, &Fact)| **f != Fact::Unknown && (full || touched.contains(*id));
        for (id, fact) in facts.iter().filter(checked) {
            let exists = txn.exists(kind, dir, id).unwrap();
            tally.check(exists == (*fact == Fact::Present), || {
                format!("store: {kind:?} {id} should be {fact:?}")
            });
        }
    }
    let mut mirror: HashMap<&str, Vec<String>> = HashMap::new();
    let groups = model
        .members
        .iter()
        .filter(|(g, _)| full || model.touched_groups.contains(*g));
    for (g, users) in groups {
        let rows: HashSet<String> = txn
            .members(dir, g, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        for (u, fact) in users.iter().filter(|(_, f)| **f != Fact::Unknown) {
            let present = *fact == Fact::Present;
            let of = mirror
                .entry(u.as_str())
                .or_insert_with(|| txn.groups_of(dir, u).unwrap());
            tally.check(rows.contains(u) == present, || {
                format!("store: member {u} of {g} should be {fact:?}")
            });
            tally.check(of.contains(g) == present, || {
                format!("store: mirror {u} in {g} should be {fact:?}")
            });
        }
    }
}

/// Reads the outbox after `from`: counts gaps in the sequence numbers and checks each
/// expected event is there. Returns the last sequence number.
fn check_outbox(txn: &ReadTxn, from: u64, expected: &[Vec<Expected>], tally: &mut Tally) -> u64 {
    let events = txn.events_after(from, usize::MAX).unwrap();
    let mut next = from + 1;
    let mut seen = HashSet::new();
    for e in &events {
        if e.seq != next {
            tally.gaps += 1;
            tally
                .problems
                .push(format!("outbox: seq {} follows {}", e.seq, next - 1));
        }
        next = e.seq + 1;
        seen.insert(Expected::new(e.resource, &e.id, e.kind, None).key());
        for m in &e.members {
            seen.insert(Expected::new(e.resource, &e.id, e.kind, Some(m)).key());
        }
    }
    let last = txn.last_seq().unwrap();
    tally.check(last == next - 1, || {
        format!("outbox: last_seq {last}, last event {}", next - 1)
    });
    for write in expected {
        let mut all = true;
        for x in write {
            let found = seen.contains(&x.key());
            all &= found;
            tally.check(found, || {
                let all = txn.events_after(0, usize::MAX).unwrap();
                let about: Vec<_> = all
                    .iter()
                    .filter(|e| {
                        x.member
                            .as_ref()
                            .is_some_and(|m| e.id == *m || e.members.contains(m))
                    })
                    .collect();
                format!("outbox: no event for {x:?} after {from}; events about it: {about:#?}")
            });
        }
        tally.verified += u64::from(all);
    }
    last
}

/// Copies the killed server's database, opens the copy in-process (redb recovers the copy),
/// checks it, and removes it.
fn check_copy(
    data: &Path,
    model: &Model,
    dir: &str,
    from: u64,
    expected: &[Vec<Expected>],
    full: bool,
    tally: &mut Tally,
) -> u64 {
    let copy = data.with_file_name("crash-copy.redb");
    tally.db_bytes = std::fs::copy(data.join(cloudsso::app::DB_FILE), &copy).unwrap();
    let store = Store::open(&copy).unwrap();
    let txn = store.read().unwrap();
    let last = check_outbox(&txn, from, expected, tally);
    check_state(model, &txn, dir, full, tally);
    drop(txn);
    drop(store);
    std::fs::remove_file(&copy).unwrap();
    last
}

/// Checks over HTTP, on the restarted server, what the last cycle touched.
async fn check_http(srv: &Server, model: &mut Model, tally: &mut Tally) {
    for u in std::mem::take(&mut model.touched_users) {
        let Some(&fact) = model.users.get(&u).filter(|f| **f != Fact::Unknown) else {
            continue;
        };
        let r = srv.get(&format!("/Users/{u}")).await;
        tally.check(r.status.is_success() == (fact == Fact::Present), || {
            format!("http: user {u} should be {fact:?}: {}", r.status)
        });
    }
    for g in std::mem::take(&mut model.touched_groups) {
        let r = srv.get(&format!("/Groups/{g}")).await;
        let fact = model.groups.get(&g).copied().unwrap_or(Fact::Present);
        if fact != Fact::Unknown {
            tally.check(r.status.is_success() == (fact == Fact::Present), || {
                format!("http: group {g} should be {fact:?}: {}", r.status)
            });
        }
        let listed = member_ids(&r.body);
        for (u, fact) in model
            .members
            .get(&g)
            .into_iter()
            .flatten()
            .filter(|(_, f)| **f != Fact::Unknown)
        {
            tally.check(listed.contains(u) == (*fact == Fact::Present), || {
                format!("http: member {u} of {g} should be {fact:?}")
            });
        }
    }
}

fn member_ids(group: &Value) -> HashSet<String> {
    group["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["value"].as_str().map(str::to_owned))
        .collect()
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Everything one run carries from cycle to cycle.
struct Run {
    data: std::path::PathBuf,
    dir: String,
    key: Key,
    shared: String,
    writers: Vec<Writer>,
    model: Model,
    tally: Tally,
    outbox_checked: u64,
}

impl Run {
    fn new(srv: &Server, data: &Path, shared: String, seed: u64) -> Run {
        let mut rng = Rng::new(seed);
        let fronts = std::iter::repeat_n(Front::Scim, SCIM_WRITERS)
            .chain(std::iter::repeat_n(Front::Api, API_WRITERS));
        let writers = fronts
            .enumerate()
            .map(|(i, front)| {
                let tag = format!("{}{i}", if front == Front::Scim { "s" } else { "a" });
                Writer {
                    front,
                    tag,
                    owned: Owned::default(),
                    rng: Rng::new(rng.next()),
                    count: 0,
                }
            })
            .collect();
        let mut model = Model::default();
        model.set_group(&shared, Fact::Present);
        Run {
            data: data.to_owned(),
            dir: srv.directory_id.clone(),
            key: srv.admin_key(),
            shared,
            writers,
            model,
            tally: Tally::default(),
            outbox_checked: 0,
        }
    }

    /// Runs the writers, kills the server after `burst_ms`, and waits for it to be gone.
    async fn burst(&mut self, srv: Server, cycle: usize, burst_ms: u64) -> Vec<Log> {
        let srv = Arc::new(srv);
        let mut tasks = Vec::new();
        for w in self.writers.drain(..) {
            let (srv, key, shared) = (srv.clone(), self.key.clone(), self.shared.clone());
            tasks.push(tokio::spawn(w.run(srv, key, shared, cycle)));
        }
        tokio::time::sleep(Duration::from_millis(burst_ms)).await;
        let killed = std::process::Command::new("kill")
            .arg("-KILL")
            .arg(srv.pid().to_string())
            .status()
            .unwrap();
        assert!(killed.success(), "kill -9 {}", srv.pid());
        let mut logs = Vec::new();
        for t in tasks {
            let (w, log) = t.await.unwrap();
            self.writers.push(w);
            logs.push(log);
        }
        // The last handle: dropping it reaps the process.
        drop(Arc::into_inner(srv));
        logs
    }

    /// Folds a cycle's logs into the model and checks the killed database's copy (all of the
    /// model when `full`).
    fn check_killed(&mut self, logs: &[Log], full: bool) {
        let mut expected = Vec::new();
        for log in logs {
            for step in &log.steps {
                let events = self.model.apply(step);
                match step {
                    Step::Acked(_) => {
                        self.tally.acknowledged += 1;
                        expected.push(events);
                    }
                    Step::Unknown(_) => self.tally.unknown += 1,
                }
            }
            self.tally.refused += log.refused.len() as u64;
            for why in log.refused.iter().take(3) {
                eprintln!("crash: refused: {why}");
            }
        }
        let (data, dir, from) = (&self.data, &self.dir, self.outbox_checked);
        self.outbox_checked = check_copy(
            data,
            &self.model,
            dir,
            from,
            &expected,
            full,
            &mut self.tally,
        );
    }

    fn assert_nothing_lost(&self, seed: u64, cycle: usize) {
        let p = &self.tally.problems;
        assert!(
            p.is_empty(),
            "cycle {cycle} (CRASH_SEED={seed}): {} problems:\n{}",
            p.len(),
            p.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}

/// Waits until every user the model knows present has the shared group's grant exactly when
/// the server lists it as a member; returns how many users it checked.
async fn converge(srv: &Server, s: &Setup, model: &Model, shared: &str) -> usize {
    let users: Vec<&String> = model
        .members
        .get(shared)
        .into_iter()
        .flatten()
        .map(|(u, _)| u)
        .filter(|u| model.users.get(*u) == Some(&Fact::Present))
        .collect();
    let with = grant(s, CONFIG_NAME, &[("Group", shared)]);
    let started = Instant::now();
    loop {
        let members = member_ids(&srv.get(&format!("/Groups/{shared}")).await.body);
        let mut wrong = Vec::new();
        for u in &users {
            let want = if members.contains(*u) {
                with.clone()
            } else {
                json!([])
            };
            let got = srv.effective(s, u).await;
            if got != want {
                wrong.push(format!("{u}: got {got}, want {want}"));
            }
        }
        if wrong.is_empty() {
            return users.len();
        }
        assert!(
            started.elapsed() < CONVERGE_DEADLINE,
            "the engine did not converge: {}",
            wrong.join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_cycles_and_the_engine_converges() {
    let cycles = env_or("CRASH_CYCLES", 20) as usize;
    let seed = env_or(
        "CRASH_SEED",
        u64::from(std::process::id())
            ^ time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64,
    );
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut srv = Server::start_on(&data, &[]);
    let shared = srv.group("crash-shared", &[]).await;
    let s = srv.setup_access(CONFIG_NAME).await;
    assert_eq!(srv.assign(&s, "Group", &shared).await["Status"], "Success");
    let mut run = Run::new(&srv, &data, shared.clone(), seed);
    let mut rng = Rng::new(seed ^ 0x9E37_79B9_7F4A_7C15);
    for cycle in 1..=cycles {
        let burst_ms = BURST_MS.start + rng.next() % (BURST_MS.end - BURST_MS.start);
        let logs = run.burst(srv, cycle, burst_ms).await;
        run.check_killed(&logs, cycle % FULL_CHECK_EVERY == 0 || cycle == cycles);
        srv = Server::start_on(&data, &[]);
        check_http(&srv, &mut run.model, &mut run.tally).await;
        run.assert_nothing_lost(seed, cycle);
        if cycle % PROGRESS_EVERY == 0 && cycle < cycles {
            eprintln!("{}", run.tally.line(cycle, seed, started));
        }
    }
    let converged = converge(&srv, &s, &run.model, &shared).await;
    let t = &run.tally;
    println!(
        "{} converged_users={converged}",
        t.line(cycles, seed, started)
    );
    assert_eq!(
        t.verified, t.acknowledged,
        "every acknowledged write has its outbox event"
    );
    drop(srv);
}
