//! The planner: from a user's facts (exists, enabled, the groups it is in, the assignments on
//! it and on those groups, which configurations exist and are provisioned where) to the grants
//! it must have; and from a directory's RAM user provisionings, its users and its groups'
//! members to the RAM users it must have in accounts. Pure: no IO, no clock; tested on data.

use super::provider::Grant;
use super::records::{Assignment, DeletionStrategy, DuplicationStrategy, UserProvisioning};
use crate::model::ResourceKind;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Deepest group nesting followed when expanding membership (cycles are cut by a visited set).
pub const GROUP_NESTING_DEPTH_MAX: usize = 16;

/// What the planner needs to know about one user.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub user_exists: bool,
    pub user_enabled: bool,
    /// Groups the user is in, directly or through nested groups.
    pub groups: BTreeSet<String>,
    /// Assignments whose principal is the user or one of `groups` (others are ignored).
    pub assignments: Vec<Assignment>,
    /// Configuration id -> name, for the configurations that exist.
    pub configs: BTreeMap<String, String>,
    /// (configuration, account) pairs whose role is in place.
    pub provisioned: BTreeSet<(String, String)>,
}

/// The grants `user` must have: one per (account, configuration) reachable through an
/// assignment on the user or a group it is in, whose configuration exists and is provisioned
/// on the account. None for a missing or disabled user. Sorted; sources sorted.
pub fn desired_grants(user: &str, f: &Facts) -> Vec<Grant> {
    if !f.user_exists || !f.user_enabled {
        return Vec::new();
    }
    let mut by_target: BTreeMap<(String, String), BTreeSet<(ResourceKind, String)>> =
        BTreeMap::new();
    for a in &f.assignments {
        let applies = match a.principal_type {
            ResourceKind::User => a.principal_id == user,
            ResourceKind::Group => f.groups.contains(&a.principal_id),
        };
        let target = (a.config_id.clone(), a.account_id.clone());
        if !applies || !f.configs.contains_key(&a.config_id) || !f.provisioned.contains(&target) {
            continue;
        }
        by_target
            .entry(target)
            .or_default()
            .insert((a.principal_type, a.principal_id.clone()));
    }
    let mut grants: Vec<Grant> = by_target
        .into_iter()
        .map(|((config_id, account_id), sources)| Grant {
            config_name: f.configs.get(&config_id).cloned().unwrap_or_default(),
            account_id,
            config_id,
            sources: sources.into_iter().collect(),
        })
        .collect();
    grants.sort();
    grants
}

/// Every group reachable from `direct` by following `parents` (the groups a group is in), at
/// most `GROUP_NESTING_DEPTH_MAX` levels, each group once.
pub fn transitive_groups<E>(
    direct: Vec<String>,
    mut parents: impl FnMut(&str) -> Result<Vec<String>, E>,
) -> Result<BTreeSet<String>, E> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<(String, usize)> = direct.into_iter().map(|g| (g, 1)).collect();
    while let Some((g, depth)) = queue.pop_front() {
        if !seen.insert(g.clone()) || depth >= GROUP_NESTING_DEPTH_MAX {
            continue;
        }
        for p in parents(&g)? {
            if !seen.contains(&p) {
                queue.push_back((p, depth + 1));
            }
        }
    }
    Ok(seen)
}

/// What the RAM user planner needs to know about a directory: its provisionings and the
/// users and groups they reach.
#[derive(Debug, Clone, Default)]
pub struct RamUserFacts {
    /// The directory's provisionings, oldest first.
    pub provisionings: Vec<UserProvisioning>,
    /// User id -> (`userName`, enabled), for the users that exist (others are ignored).
    pub users: BTreeMap<String, (String, bool)>,
    /// Group id -> its direct members (users and groups).
    pub members: BTreeMap<String, Vec<(ResourceKind, String)>>,
    /// Provisioning id -> the DuplicationStrategy a retry of its event asked for.
    pub duplication_retries: BTreeMap<String, DuplicationStrategy>,
}

/// A RAM user a directory user must have in an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredRamUser {
    pub account_id: String,
    pub user_id: String,
    /// The user's `userName` (the provider may add KeepBoth's suffix).
    pub name: String,
    pub duplication: DuplicationStrategy,
    pub deletion: DeletionStrategy,
    /// The provisioning that decides the strategies: the oldest of those reaching the user.
    pub provisioning_id: String,
}

/// The RAM users a directory must have: one per (account, user) for every existing, enabled
/// user a provisioning reaches (itself, or a member of its group, nested groups followed at
/// most `GROUP_NESTING_DEPTH_MAX` levels, each group once). Keyed by (account, user).
pub fn desired_ram_users(f: &RamUserFacts) -> BTreeMap<(String, String), DesiredRamUser> {
    let mut out = BTreeMap::new();
    for p in &f.provisionings {
        for user in reached_users(p.principal_type, &p.principal_id, &f.members) {
            let Some((name, true)) = f.users.get(&user) else {
                continue;
            };
            out.entry((p.account_id.clone(), user.clone()))
                .or_insert_with(|| DesiredRamUser {
                    account_id: p.account_id.clone(),
                    user_id: user,
                    name: name.clone(),
                    duplication: f
                        .duplication_retries
                        .get(&p.id)
                        .copied()
                        .unwrap_or(p.duplication),
                    deletion: p.deletion,
                    provisioning_id: p.id.clone(),
                });
        }
    }
    out
}

/// The users a principal stands for: itself, or its group's members through nested groups.
fn reached_users(
    kind: ResourceKind,
    id: &str,
    members: &BTreeMap<String, Vec<(ResourceKind, String)>>,
) -> BTreeSet<String> {
    let mut users = BTreeSet::new();
    if kind == ResourceKind::User {
        users.insert(id.to_owned());
        return users;
    }
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([(id.to_owned(), 1usize)]);
    while let Some((g, depth)) = queue.pop_front() {
        if depth > GROUP_NESTING_DEPTH_MAX || !seen.insert(g.clone()) {
            continue;
        }
        for (k, m) in members.get(&g).into_iter().flatten() {
            match k {
                ResourceKind::User => {
                    users.insert(m.clone());
                }
                ResourceKind::Group => queue.push_back((m.clone(), depth + 1)),
            }
        }
    }
    users
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PrincipalId;
    use std::convert::Infallible;

    fn assignment(config: &str, account: &str, principal: PrincipalId) -> Assignment {
        Assignment {
            directory_id: "d".into(),
            config_id: config.into(),
            account_id: account.into(),
            principal_type: principal.kind(),
            principal_id: principal.to_string(),
            created: String::new(),
        }
    }

    fn facts() -> Facts {
        Facts {
            user_exists: true,
            user_enabled: true,
            groups: ["g1".to_owned(), "g2".to_owned()].into(),
            assignments: vec![
                assignment("ac1", "A", PrincipalId::Group("g1".into())),
                assignment("ac1", "A", PrincipalId::User("u1".into())),
                assignment("ac1", "B", PrincipalId::Group("g2".into())),
                assignment("ac2", "A", PrincipalId::Group("g3".into())),
                assignment("ac3", "A", PrincipalId::User("u1".into())),
                assignment("gone", "A", PrincipalId::User("u1".into())),
            ],
            configs: [("ac1", "Admin"), ("ac2", "Read"), ("ac3", "Dev")]
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .into(),
            provisioned: [("ac1", "A"), ("ac1", "B"), ("ac2", "A"), ("gone", "A")]
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .into(),
        }
    }

    fn summary(grants: &[Grant]) -> Vec<String> {
        grants
            .iter()
            .map(|g| {
                let s: Vec<String> = g
                    .sources
                    .iter()
                    .map(|(t, id)| format!("{}:{id}", t.as_str()))
                    .collect();
                format!(
                    "{}/{}({}) <- {}",
                    g.account_id,
                    g.config_id,
                    g.config_name,
                    s.join(",")
                )
            })
            .collect()
    }

    #[test]
    fn grants_follow_assignments_groups_status_and_provisioning() {
        type Case = (&'static str, fn(&mut Facts), Vec<&'static str>);
        let cases: Vec<Case> = vec![
            (
                "direct and through groups; not through a group it is not in; not unprovisioned; not a deleted configuration",
                |_| {},
                vec![
                    "A/ac1(Admin) <- User:u1,Group:g1",
                    "B/ac1(Admin) <- Group:g2",
                ],
            ),
            ("disabled: nothing", |f| f.user_enabled = false, vec![]),
            ("deleted: nothing", |f| f.user_exists = false, vec![]),
            (
                "removed from g1: the direct grant stays",
                |f| {
                    f.groups.remove("g1");
                },
                vec!["A/ac1(Admin) <- User:u1", "B/ac1(Admin) <- Group:g2"],
            ),
            (
                "removed from g2: account B goes",
                |f| {
                    f.groups.remove("g2");
                },
                vec!["A/ac1(Admin) <- User:u1,Group:g1"],
            ),
            (
                "provisioned later: the grant comes",
                |f| {
                    f.provisioned.insert(("ac3".into(), "A".into()));
                },
                vec![
                    "A/ac1(Admin) <- User:u1,Group:g1",
                    "A/ac3(Dev) <- User:u1",
                    "B/ac1(Admin) <- Group:g2",
                ],
            ),
        ];
        for (name, change, want) in cases {
            let mut f = facts();
            change(&mut f);
            assert_eq!(summary(&desired_grants("u1", &f)), want, "{name}");
        }
    }

    #[test]
    fn nested_groups_are_followed_once_and_cycles_end() {
        let parents = |g: &str| -> Result<Vec<String>, Infallible> {
            Ok(match g {
                "a" => vec!["b".into()],
                "b" => vec!["c".into(), "a".into()],
                "c" => vec!["a".into()],
                _ => vec![],
            })
        };
        let got = transitive_groups(vec!["a".into()], parents).unwrap();
        assert_eq!(got, ["a", "b", "c"].map(str::to_owned).into());
        // A chain longer than the limit is cut at the limit.
        let chain = |g: &str| -> Result<Vec<String>, Infallible> {
            let n: usize = g.parse().unwrap();
            Ok(vec![(n + 1).to_string()])
        };
        let got = transitive_groups(vec!["0".into()], chain).unwrap();
        assert_eq!(got.len(), GROUP_NESTING_DEPTH_MAX);
    }

    fn up(id: &str, kind: ResourceKind, principal: &str, account: &str) -> UserProvisioning {
        UserProvisioning {
            id: id.into(),
            directory_id: "d".into(),
            principal_type: kind,
            principal_id: principal.into(),
            account_id: account.into(),
            duplication: DuplicationStrategy::KeepBoth,
            deletion: DeletionStrategy::Delete,
            description: String::new(),
            enabled: true,
            created: String::new(),
            updated: String::new(),
        }
    }

    #[test]
    fn ram_users_follow_nested_groups_and_user_status() {
        use ResourceKind::{Group, User};
        let mut take_over = up("up-2", User, "u1", "A");
        take_over.duplication = DuplicationStrategy::TakeOver;
        take_over.deletion = DeletionStrategy::Keep;
        let f = RamUserFacts {
            provisionings: vec![
                up("up-1", Group, "g1", "A"),
                take_over,
                up("up-3", User, "u-gone", "A"),
                up("up-4", Group, "cycle", "B"),
            ],
            users: [
                ("u1", "alice", true),
                ("u2", "bob", true),
                ("u3", "carol", false),
                ("u4", "dave", true),
            ]
            .map(|(id, n, on)| (id.to_owned(), (n.to_owned(), on)))
            .into(),
            members: [
                ("g1", vec![(User, "u1"), (Group, "g2")]),
                ("g2", vec![(User, "u2"), (User, "u3")]),
                ("cycle", vec![(Group, "cycle2"), (User, "u4")]),
                ("cycle2", vec![(Group, "cycle")]),
            ]
            .map(|(g, ms)| {
                (
                    g.to_owned(),
                    ms.into_iter().map(|(k, m)| (k, m.to_owned())).collect(),
                )
            })
            .into(),
            ..RamUserFacts::default()
        };
        let got = desired_ram_users(&f);
        let keys: Vec<(&str, &str)> = got.keys().map(|(a, u)| (a.as_str(), u.as_str())).collect();
        // u3 is disabled, u-gone does not exist; the cycle is followed once.
        assert_eq!(keys, [("A", "u1"), ("A", "u2"), ("B", "u4")]);
        let alice = &got[&("A".to_owned(), "u1".to_owned())];
        // The oldest provisioning reaching alice (the group's) decides the strategies.
        assert_eq!(alice.provisioning_id, "up-1");
        assert_eq!(alice.duplication, DuplicationStrategy::KeepBoth);
        assert_eq!(alice.name, "alice");
        // A retry's DuplicationStrategy replaces the provisioning's.
        let mut retried = f.clone();
        retried
            .duplication_retries
            .insert("up-1".into(), DuplicationStrategy::TakeOver);
        let alice = &desired_ram_users(&retried)[&("A".to_owned(), "u1".to_owned())];
        assert_eq!(alice.duplication, DuplicationStrategy::TakeOver);
        // Nesting deeper than the limit is not followed.
        let mut deep = RamUserFacts {
            provisionings: vec![up("up-1", Group, "g0", "A")],
            users: [("u".to_owned(), ("u".to_owned(), true))].into(),
            ..RamUserFacts::default()
        };
        for i in 0..GROUP_NESTING_DEPTH_MAX {
            let next = if i + 1 == GROUP_NESTING_DEPTH_MAX {
                (User, "u".to_owned())
            } else {
                (Group, format!("g{}", i + 1))
            };
            deep.members.insert(format!("g{i}"), vec![next]);
        }
        assert_eq!(desired_ram_users(&deep).len(), 1);
        let last = format!("g{}", GROUP_NESTING_DEPTH_MAX - 1);
        deep.members.insert(
            last.clone(),
            vec![(Group, format!("g{GROUP_NESTING_DEPTH_MAX}"))],
        );
        deep.members.insert(
            format!("g{GROUP_NESTING_DEPTH_MAX}"),
            vec![(User, "u".to_owned())],
        );
        assert!(desired_ram_users(&deep).is_empty());
    }
}
