//! Benchmark of `policy::authorize`: a 100-statement policy set (10 policies of 10 statements:
//! exact and wildcard actions, NotAction, resources with leading, middle and trailing `*`,
//! conditions of every family, some Deny) against a deterministic mix of requests like the
//! management API makes. Prints p50/p99/p99.9/max of single evaluations in microseconds and
//! the throughput. Target (issue 3): p99 under 20 microseconds.
//!
//! Owns nothing the library uses; must not use a benchmarking crate (plain `fn main`,
//! `harness = false`) nor assert anything: it measures, tests check.

use cloudsso::policy::{Context, Outcome, PolicyDocument, Request, authorize};
use std::hint::black_box;
use std::time::{Duration, Instant};

const POLICIES: usize = 10;
const STATEMENTS_PER_POLICY: usize = 10;
const WARMUP: usize = 20_000;
const RUNS: usize = 200_000;

const OPERATIONS: [&str; 16] = [
    "CreateUser",
    "GetUser",
    "ListUsers",
    "UpdateUser",
    "DeleteUser",
    "CreateGroup",
    "GetGroup",
    "ListGroups",
    "AddUserToGroup",
    "ListGroupMembers",
    "GetDirectory",
    "ListDirectories",
    "DeleteDirectory",
    "CreateSCIMServerCredential",
    "ListSCIMServerCredentials",
    "GetSCIMSynchronizationStatus",
];

/// xorshift64: deterministic, no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.below(items.len()))
            .copied()
            .unwrap_or_default()
    }
}

/// Statement `n` of the set: one of ten shapes, specialized by `n`.
fn statement(n: usize) -> String {
    let d = n % 40;
    let (effect, action, resource, condition) = match n % 10 {
        0 => (
            "Allow",
            r#""Action":["cloudsso:Get*","cloudsso:List*"]"#.to_owned(),
            format!(r#"["acs:cloudsso:*:1234:directory/d-{d}","acs:cloudsso:*:1234:directory/d-{d}/*"]"#),
            String::new(),
        ),
        1 => (
            "Allow",
            r#""Action":"cloudsso:*User""#.to_owned(),
            format!(r#""acs:cloudsso:*:*:directory/d-{d}/user/*""#),
            r#","Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.0.0/16","2001:db8::/32"]}}"#.to_owned(),
        ),
        2 => (
            "Allow",
            format!(r#""Action":"cloudsso:{}""#, OPERATIONS.get(n % OPERATIONS.len()).copied().unwrap_or_default()),
            r#""acs:cloudsso:*:*:directory/*/group/*""#.to_owned(),
            r#","Condition":{"Bool":{"acs:SecureTransport":"true"},"StringLike":{"acs:AccessId":"LTAI*"}}"#.to_owned(),
        ),
        3 => (
            "Deny",
            r#""Action":"cloudsso:Delete*""#.to_owned(),
            format!(r#""acs:cloudsso:*:*:directory/d-{d}*""#),
            r#","Condition":{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}"#.to_owned(),
        ),
        4 => (
            "Allow",
            r#""Action":["cloudsso:Create*","cloudsso:Update*","cloudsso:Add*"]"#.to_owned(),
            format!(r#""acs:cloudsso:*:1234:directory/d-{d}/*""#),
            r#","Condition":{"DateGreaterThanEquals":{"acs:CurrentTime":"2026-01-01T00:00:00Z"},"DateLessThan":{"acs:CurrentTime":"2027-01-01T00:00:00Z"}}"#.to_owned(),
        ),
        5 => (
            "Allow",
            r#""NotAction":["cloudsso:Delete*","ram:*"]"#.to_owned(),
            format!(r#""acs:cloudsso:*:*:directory/d-{d}/user/u-?{d}""#),
            r#","Condition":{"StringEquals":{"acs:ResourceTag/env":["prod","staging"]}}"#.to_owned(),
        ),
        6 => (
            "Deny",
            r#""Action":"*""#.to_owned(),
            r#""*""#.to_owned(),
            r#","Condition":{"Bool":{"acs:MFAPresent":"false"},"StringEquals":{"acs:ResourceTag/tier":"restricted"}}"#.to_owned(),
        ),
        7 => (
            "Allow",
            r#""Action":"cloudsso:*SCIM*""#.to_owned(),
            format!(r#""acs:cloudsso:*:*:directory/d-{d}/scimcredential/*""#),
            r#","Condition":{"NumericLessThanEquals":{"acs:ResourceTag/level":"3"}}"#.to_owned(),
        ),
        8 => (
            "Allow",
            r#""Action":"cloudsso:Get?ser""#.to_owned(),
            r#""acs:cloudsso:cn-*:*:*/user/*""#.to_owned(),
            r#","Condition":{"StringNotEqualsIgnoreCase":{"acs:AccessId":["LTAIBLOCKED1","LTAIBLOCKED2"]}}"#.to_owned(),
        ),
        _ => (
            "Allow",
            r#""Action":"ram:*""#.to_owned(),
            r#""acs:ram::1234:*""#.to_owned(),
            String::new(),
        ),
    };
    format!(r#"{{"Effect":"{effect}",{action},"Resource":{resource}{condition}}}"#)
}

fn policy_set() -> Result<Vec<(String, PolicyDocument)>, Box<dyn std::error::Error>> {
    let mut set = Vec::new();
    for p in 0..POLICIES {
        let statements: Vec<String> = (0..STATEMENTS_PER_POLICY)
            .map(|s| statement(p * STATEMENTS_PER_POLICY + s))
            .collect();
        let text = format!(
            r#"{{"Version":"1","Statement":[{}]}}"#,
            statements.join(",")
        );
        set.push((format!("policy-{p}"), PolicyDocument::parse(&text)?));
    }
    Ok(set)
}

struct Sample {
    action: String,
    resource: String,
    context: Context,
}

fn request_mix(count: usize) -> Vec<Sample> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let kinds = ["user/u-", "group/g-", "scimcredential/scimcred-"];
    (0..count)
        .map(|_| {
            let operation = rng.pick(&OPERATIONS);
            let d = rng.below(50);
            let resource = format!(
                "acs:cloudsso:cn-shanghai:1234:directory/d-{d}/{}{}",
                rng.pick(&kinds),
                rng.below(100)
            );
            let source_ip = match rng.below(3) {
                0 => format!(
                    "10.{}.{}.{}",
                    rng.below(256),
                    rng.below(256),
                    rng.below(256)
                ),
                1 => format!("203.0.113.{}", rng.below(256)),
                _ => format!("2001:db8::{:x}", rng.below(65536)),
            };
            let mut context = Context::new()
                .with("acs:SourceIp", source_ip)
                .with("acs:CurrentTime", "2026-05-01T12:00:00Z")
                .with("acs:SecureTransport", "true")
                .with("acs:AccessId", format!("LTAI{:016x}", rng.next()))
                .with("acs:MFAPresent", rng.pick(&["true", "false"]))
                .with("acs:ResourceTag/env", rng.pick(&["prod", "dev", "staging"]));
            if rng.below(4) == 0 {
                context.insert("acs:ResourceTag/tier", "restricted");
            }
            context.insert("acs:ResourceTag/level", rng.below(6).to_string());
            Sample {
                action: format!("cloudsso:{operation}"),
                resource,
                context,
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1);
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let set = policy_set()?;
    let policies: Vec<(&str, &PolicyDocument)> = set.iter().map(|(n, d)| (n.as_str(), d)).collect();
    let statements: usize = set.iter().map(|(_, d)| d.statements().len()).sum();
    let samples = request_mix(4096);
    let request = |i: usize| {
        samples.get(i % samples.len()).map(|s| Request {
            action: &s.action,
            resource: &s.resource,
            context: &s.context,
        })
    };

    for i in 0..WARMUP {
        if let Some(r) = request(i) {
            black_box(authorize(black_box(&policies), &r));
        }
    }

    let mut times = Vec::with_capacity(RUNS);
    let mut outcomes = [0usize; 3];
    let started = Instant::now();
    for i in 0..RUNS {
        let Some(r) = request(i) else { continue };
        let t = Instant::now();
        let decision = black_box(authorize(black_box(&policies), &r));
        times.push(t.elapsed());
        let slot = match decision.outcome {
            Outcome::Allow => 0,
            Outcome::ExplicitDeny => 1,
            Outcome::ImplicitDeny => 2,
        };
        if let Some(n) = outcomes.get_mut(slot) {
            *n += 1;
        }
    }
    let wall = started.elapsed();
    times.sort_unstable();

    let [allow, explicit, implicit] = outcomes;
    println!(
        "policy_eval: {statements} statements in {POLICIES} policies, {RUNS} evaluations over {} distinct requests",
        samples.len()
    );
    println!("  outcomes: {allow} Allow, {explicit} ExplicitDeny, {implicit} ImplicitDeny");
    println!(
        "  p50 {:.2} us   p99 {:.2} us   p99.9 {:.2} us   max {:.2} us",
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        percentile(&times, 0.999),
        percentile(&times, 1.0)
    );
    println!(
        "  throughput {:.0} evaluations/s (one thread, timing included)",
        RUNS as f64 / wall.as_secs_f64()
    );
    Ok(())
}
