//! NetworkPolicy findings (#17): policies nothing enforces, policies netcheck cannot
//! evaluate, policies that select nothing and peers that match nothing.

use super::{finding, Ctx, MAX_SUBJECTS};
use crate::report::{Finding, Severity};

fn named(mut f: Finding, subjects: Vec<String>) -> Finding {
    f.count = Some(subjects.len());
    f.subjects = subjects.into_iter().take(MAX_SUBJECTS).collect();
    f
}

pub fn not_enforced(ctx: &Ctx) -> Vec<Finding> {
    let Some(p) = ctx.policies else { return vec![] };
    let nps: usize = p.namespaces.iter().map(|n| n.policies.len()).sum();
    let admins = p.admin.len();
    if nps + admins == 0 {
        return vec![];
    }
    let what = match (nps, admins) {
        (n, 0) => format!("{n} NetworkPolicies"),
        (0, a) => format!("{a} AdminNetworkPolicies"),
        (n, a) => format!("{n} NetworkPolicies and {a} AdminNetworkPolicies"),
    };
    let e = &p.enforcement;
    let f = match e.enforces.as_str() {
        "no" => finding(
            "netpol-not-enforced",
            Severity::Warning,
            format!("{what} exist, but the CNI ({}) does not enforce them: every flow they deny still gets through", e.cni),
            "run a CNI or policy engine that implements NetworkPolicy (Calico, Cilium, Antrea, kube-router; canal on flannel), or do not rely on these policies",
        ),
        "unknown" => finding(
            "netpol-enforcement-unknown",
            Severity::Info,
            format!("{what} exist; whether the CNI ({}) enforces them is unknown", e.cni),
            "check the CNI's documentation for NetworkPolicy support, or test a default-deny policy in a scratch namespace",
        ),
        _ => return vec![],
    };
    let mut f = f;
    f.evidence = vec![e.why.clone()];
    vec![f]
}

pub fn not_evaluated(ctx: &Ctx) -> Vec<Finding> {
    let Some(p) = ctx.policies else { return vec![] };
    p.not_evaluated
        .iter()
        .map(|n| {
            named(
                finding(
                    "netpol-not-evaluated",
                    Severity::Info,
                    format!("{} {} not evaluated: the CNI enforces them with semantics of its own, so can-reach answers may be wrong for the pods they select", n.count, n.kind),
                    "read them with kubectl (or the CNI's CLI) beside netcheck's answers",
                ),
                n.names.clone(),
            )
        })
        .collect()
}

pub fn select_nothing(ctx: &Ctx) -> Vec<Finding> {
    let Some(p) = ctx.policies else { return vec![] };
    if p.select_nothing.is_empty() {
        return vec![];
    }
    vec![named(
        finding(
            "netpol-selects-nothing",
            Severity::Warning,
            format!("{} NetworkPolicies select no pod: they isolate and allow nothing", p.select_nothing.len()),
            "compare each policy's spec.podSelector with the labels of the pods it was meant for (kubectl get pods --show-labels)",
        ),
        p.select_nothing.clone(),
    )]
}

pub fn dead_peers(ctx: &Ctx) -> Vec<Finding> {
    let Some(p) = ctx.policies else { return vec![] };
    if p.dead_peers.is_empty() {
        return vec![];
    }
    let mut f = named(
        finding(
            "netpol-peer-matches-nothing",
            Severity::Warning,
            format!("{} policy peers can never match: their selectors name labels no pod or namespace has, so the traffic they were written to allow is denied", p.dead_peers.len()),
            "fix the selector's labels (kubectl get pods,namespaces --show-labels), or remove the rule",
        ),
        p.dead_peers
            .iter()
            .map(|d| format!("{} {}", d.policy, d.peer))
            .collect(),
    );
    f.evidence = p
        .dead_peers
        .iter()
        .take(MAX_SUBJECTS)
        .map(|d| format!("{} {}: {}", d.policy, d.peer, d.why))
        .collect();
    vec![f]
}

pub fn admin_errors(ctx: &Ctx) -> Vec<Finding> {
    let Some(p) = ctx.policies else { return vec![] };
    let bad: Vec<_> = p.admin.iter().filter(|a| a.error.is_some()).collect();
    if bad.is_empty() {
        return vec![];
    }
    let mut f = named(
        finding(
            "netpol-admin-not-understood",
            Severity::Warning,
            format!("{} AdminNetworkPolicy objects could not be understood and are not evaluated", bad.len()),
            "check them with kubectl get -o yaml against the policy.networking.k8s.io/v1alpha1 schema",
        ),
        bad.iter().map(|a| format!("{} {}", a.kind, a.name)).collect(),
    );
    f.evidence = bad
        .iter()
        .map(|a| {
            format!(
                "{} {}: {}",
                a.kind,
                a.name,
                a.error.clone().unwrap_or_default()
            )
        })
        .collect();
    vec![f]
}
