//! `authorize`: a request against a set of policies gives a `Decision`.
//!
//! Owns the combination rules (default deny, any matching Deny wins, else any matching Allow
//! allows) and the report of which statements decided. Must not parse documents, do IO or
//! read the clock: everything it needs is in its arguments.

use super::PolicyError;
use super::condition::Context;
use super::document::{Effect, PolicyDocument, Statement};

/// What is being asked: may the caller do `action` (`cloudsso:GetUser`) on `resource` (an ARN)
/// given `context` (source IP, time, ...)?
#[derive(Debug, Clone, Copy)]
pub struct Request<'r> {
    pub action: &'r str,
    pub resource: &'r str,
    pub context: &'r Context,
}

/// The outcome of `authorize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    /// A Deny statement matched.
    ExplicitDeny,
    /// No statement matched (or only Allow statements that could not be evaluated).
    ImplicitDeny,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Allow => "Allow",
            Outcome::ExplicitDeny => "ExplicitDeny",
            Outcome::ImplicitDeny => "ImplicitDeny",
        }
    }
}

/// A statement: the policy it belongs to (its name and its position in the policy set) and
/// its index in that policy's `Statement` array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementRef<'p> {
    pub policy: &'p str,
    pub policy_index: usize,
    pub statement: usize,
}

/// A statement whose conditions could not be evaluated for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalFailure<'p> {
    pub statement: StatementRef<'p>,
    pub error: PolicyError,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'p> {
    pub outcome: Outcome,
    /// Every Deny statement that matched for `ExplicitDeny`, every Allow statement that
    /// matched for `Allow`, nothing for `ImplicitDeny`.
    pub decided_by: Vec<StatementRef<'p>>,
    /// Statements that could not be evaluated, whatever the outcome.
    pub failures: Vec<EvalFailure<'p>>,
}

impl Decision<'_> {
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }
}

/// Whether a statement applies to a request.
enum Applies {
    Yes,
    No,
    /// Action and resource match but a condition could not be evaluated.
    Unknown(PolicyError),
}

/// How one statement counts, by its effect and whether it applies. This and the `match` at
/// the end of `authorize` are the whole of the combination rules.
fn vote(effect: Effect, applies: &Applies) -> Option<Effect> {
    match (effect, applies) {
        (_, Applies::No) => None,
        (Effect::Allow, Applies::Yes) => Some(Effect::Allow),
        // Never allow on a statement that could not be evaluated.
        (Effect::Allow, Applies::Unknown(_)) => None,
        (Effect::Deny, Applies::Yes) => Some(Effect::Deny),
        // Fail closed: a Deny that might have matched denies.
        (Effect::Deny, Applies::Unknown(_)) => Some(Effect::Deny),
    }
}

/// Decides `request` against `policies` (name, document), RAM's way: a matching Deny
/// statement in any policy denies; otherwise a matching Allow statement allows; otherwise the
/// request is denied by default.
pub fn authorize<'p>(
    policies: &[(&'p str, &'p PolicyDocument)],
    request: &Request,
) -> Decision<'p> {
    let (mut allows, mut denies, mut failures) = (Vec::new(), Vec::new(), Vec::new());
    for (policy_index, (policy, document)) in policies.iter().enumerate() {
        for (statement, s) in document.statements().iter().enumerate() {
            let at = StatementRef {
                policy,
                policy_index,
                statement,
            };
            let applies = applies(s, request);
            match vote(s.effect, &applies) {
                Some(Effect::Allow) => allows.push(at),
                Some(Effect::Deny) => denies.push(at),
                None => {}
            }
            if let Applies::Unknown(error) = applies {
                failures.push(EvalFailure {
                    statement: at,
                    error,
                });
            }
        }
    }
    let (outcome, decided_by) = match (denies.is_empty(), allows.is_empty()) {
        (false, _) => (Outcome::ExplicitDeny, denies),
        (true, false) => (Outcome::Allow, allows),
        (true, true) => (Outcome::ImplicitDeny, Vec::new()),
    };
    Decision {
        outcome,
        decided_by,
        failures,
    }
}

/// Action, then resource, then every condition (AND). A condition that is false decides even
/// if another could not be evaluated.
fn applies(statement: &Statement, request: &Request) -> Applies {
    if !statement.actions.contains(request.action)
        || !statement
            .resources
            .iter()
            .any(|r| r.matches(request.resource))
    {
        return Applies::No;
    }
    let mut unknown = None;
    for condition in &statement.conditions {
        match condition.evaluate(request.context) {
            Ok(true) => {}
            Ok(false) => return Applies::No,
            Err(e) => {
                unknown.get_or_insert(e);
            }
        }
    }
    unknown.map_or(Applies::Yes, Applies::Unknown)
}
