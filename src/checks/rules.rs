//! Findings about the rules on nodes: each node's differences from the API are found with it
//! (discover::rules); here they become one finding per id, naming node and entry point.

use super::{finding, Ctx, MAX_SUBJECTS};
use crate::report::{Finding, Severity};

/// (id, message for n entries, hint). docs/findings.md describes each.
const KINDS: &[(&str, &str, &str)] = &[
    ("rules-entry-missing", "Service entry point(s) with ready endpoints have no rule on the node", "kube-proxy on that node is not syncing: read its log (`kubectl logs -n kube-system <kube-proxy pod on the node>`) and restart it (`kubectl delete pod` of that kube-proxy pod)"),
    ("rules-reject-with-endpoints", "Service entry point(s) are rejected as having no endpoints although the API lists ready ones", "kube-proxy on that node is behind the API: read its log and restart it"),
    ("rules-endpoints-differ", "Service entry point(s) send to other endpoints than the API's ready ones", "kube-proxy on that node is behind the API (it stopped syncing, or cannot reach the API server): read its log and restart it; rules that name pods which no longer exist black-hole a share of the connections"),
    ("rules-reject-missing", "Service entry point(s) without endpoints have no reject rule on the node", "kube-proxy writes a reject rule for every Service port without endpoints, so that clients are refused at once: its absence means kube-proxy there is behind the API or its rules were flushed; restart it"),
    ("rules-uneven-shares", "Service entry point(s) share connections unevenly among their endpoints", "kube-proxy writes probabilities 1/n, 1/(n-1), ... so that each endpoint gets an equal share; other values were written by hand or by another tool: restart kube-proxy to rewrite them"),
    ("rules-stale-entry", "entry point(s) in the rules belong to no Service of the API", "kube-proxy removes the rules of deleted Services when it syncs: if it is running, restart it; if it was replaced or switched mode, run `kube-proxy --cleanup` on the node"),
    ("rules-masquerade-range", "node(s) masquerade with another pod range than the cluster's", "kube-proxy's clusterCIDR (kube-proxy ConfigMap, or --cluster-cidr) must be the pod range: fix it and restart kube-proxy"),
    ("rules-leftover", "node(s) hold kube-proxy rules of a mode that is not running there", "rules of an earlier mode, or of kube-proxy after it was replaced, still catch traffic: run `kube-proxy --cleanup` on the node (or reboot it), then restart the running proxy"),
];

pub fn problems(c: &Ctx) -> Vec<Finding> {
    let Some(r) = c.rules else { return vec![] };
    let mut out = Vec::new();
    for (id, message, hint) in KINDS {
        let hits: Vec<(&str, &crate::report::RuleProblem)> = r
            .nodes
            .iter()
            .flat_map(|n| {
                n.problems
                    .iter()
                    .filter(|p| p.id == *id)
                    .map(move |p| (n.node.as_str(), p))
            })
            .collect();
        let Some(severity) = hits.iter().map(|(_, p)| p.severity).max() else {
            continue;
        };
        let mut f = finding(id, severity, format!("{} {message}", hits.len()), hint);
        f.subjects = hits
            .iter()
            .take(MAX_SUBJECTS)
            .map(|(node, p)| format!("node {node}: {}", p.detail))
            .collect();
        f.evidence = hits
            .iter()
            .flat_map(|(_, p)| p.evidence.iter().take(3))
            .take(MAX_SUBJECTS)
            .cloned()
            .collect();
        f.count = Some(hits.len());
        out.push(f);
    }
    out
}

/// A dump that could not be read at all.
pub fn unreadable(c: &Ctx) -> Vec<Finding> {
    let Some(r) = c.rules else { return vec![] };
    let bad: Vec<String> = r
        .nodes
        .iter()
        .filter_map(|n| n.error.as_ref().map(|e| format!("node {}: {e}", n.node)))
        .collect();
    if bad.is_empty() {
        return vec![];
    }
    let mut f = finding(
        "rules-unreadable",
        Severity::Warning,
        format!("{} rule dump(s) could not be read, so their nodes were not compared", bad.len()),
        "give the output of iptables-save, iptables -t nat -L -n, nft list ruleset (or nft -j list ruleset), ipvsadm -Ln or ipvsadm-save -n, whole and unedited",
    );
    f.count = Some(bad.len());
    f.subjects = bad.into_iter().take(MAX_SUBJECTS).collect();
    vec![f]
}
