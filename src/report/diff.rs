//! `netcheck diff BEFORE AFTER`: what changed between two reports of one cluster. Findings are
//! compared subject by subject (a finding naming three nodes is three items), answers field by
//! field: ranges, CNI, the proxy per node, each component's deployment coverage.

use super::*;
use crate::model::SourceInfo;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const DIFF_KIND: &str = "Diff";

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Diff {
    pub api_version: String,
    pub kind: String,
    pub before: Side,
    pub after: Side,
    /// Answers that differ: ranges, CNI, proxy per node, deployments.
    pub changes: Vec<Change>,
    pub new_findings: Vec<Item>,
    pub resolved_findings: Vec<Item>,
    pub unchanged_findings: usize,
    pub summary: Summary,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Side {
    pub file: String,
    pub source: SourceInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Change {
    /// e.g. `pod range`, `cni`, `proxy on node worker1`, `deployment kube-proxy`.
    pub what: String,
    pub before: String,
    pub after: String,
}

/// One finding about one subject (or the finding itself when it names none).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub message: String,
}

/// Items keyed by what they are about, so that a changed count in a message is not a change.
fn items(r: &Report) -> BTreeMap<(String, String), Item> {
    let mut out = BTreeMap::new();
    for f in &r.findings {
        let item = |subject: Option<&String>| Item {
            id: f.id.clone(),
            severity: f.severity,
            subject: subject.cloned(),
            message: f.message.clone(),
        };
        if f.subjects.is_empty() {
            out.insert((f.id.clone(), f.ranges.join(",")), item(None));
        }
        for s in &f.subjects {
            out.insert((f.id.clone(), s.clone()), item(Some(s)));
        }
    }
    out
}

fn fact(f: &Fact) -> String {
    let status = format!("{:?}", f.status).to_lowercase();
    if f.cidrs.is_empty() {
        status
    } else {
        format!("{} ({status})", crate::cidr::join(&f.cidrs))
    }
}

fn push(out: &mut Vec<Change>, what: String, x: String, y: String) {
    if x != y {
        out.push(Change {
            what,
            before: x,
            after: y,
        });
    }
}

/// One change per key whose value differs; a key on one side only shows "-" on the other.
fn keyed(
    out: &mut Vec<Change>,
    what: &str,
    x: BTreeMap<String, String>,
    y: BTreeMap<String, String>,
) {
    let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
    for k in keys {
        let side = |m: &BTreeMap<String, String>| m.get(k).cloned().unwrap_or_else(|| "-".into());
        push(out, format!("{what} {k}"), side(&x), side(&y));
    }
}

fn changes(a: &Report, b: &Report) -> Vec<Change> {
    let mut out = vec![];
    let none = || "-".to_string();
    if let (Some(x), Some(y)) = (&a.cidrs, &b.cidrs) {
        for ((name, fx), (_, fy)) in x.facts().into_iter().zip(y.facts()) {
            push(&mut out, name.into(), fact(fx), fact(fy));
        }
        push(
            &mut out,
            "cni".into(),
            x.cni.name.clone(),
            y.cni.name.clone(),
        );
        push(
            &mut out,
            "platform".into(),
            x.platform.name.clone(),
            y.platform.name.clone(),
        );
        let pods = |c: &CidrAnswer| -> BTreeMap<String, String> {
            c.nodes
                .iter()
                .map(|n| match n.pod_cidrs.is_empty() {
                    true => (n.name.clone(), "none".to_string()),
                    false => (n.name.clone(), n.pod_cidrs.join(",")),
                })
                .collect()
        };
        keyed(&mut out, "podCIDR of node", pods(x), pods(y));
    }
    if let (Some(x), Some(y)) = (&a.proxy, &b.proxy) {
        push(
            &mut out,
            "proxy implementation".into(),
            x.implementation.clone(),
            y.implementation.clone(),
        );
        push(
            &mut out,
            "proxy mode configured".into(),
            x.configured_mode.clone().unwrap_or_else(none),
            y.configured_mode.clone().unwrap_or_else(none),
        );
        let per = |p: &ProxyAnswer| -> BTreeMap<String, String> {
            p.nodes
                .iter()
                .map(|n| {
                    let running = n.running.clone();
                    (
                        n.node.clone(),
                        running.unwrap_or_else(|| format!("unknown ({})", n.basis)),
                    )
                })
                .collect()
        };
        keyed(&mut out, "proxy mode on node", per(x), per(y));
    }
    if let (Some(x), Some(y)) = (&a.deployments, &b.deployments) {
        let by = |v: &[Deployment]| -> BTreeMap<String, String> {
            v.iter()
                .map(|d| {
                    let mut s =
                        format!("{} {}/{} nodes ready", d.kind, d.nodes_ready, d.nodes_total);
                    if !d.missing.is_empty() {
                        let names: Vec<&str> = d.missing.iter().map(|m| m.node.as_str()).collect();
                        s.push_str(&format!(", missing on {}", names.join(", ")));
                    }
                    (d.component.clone(), s)
                })
                .collect()
        };
        keyed(&mut out, "deployment", by(x), by(y));
    }
    out
}

pub fn diff(before: (&str, &Report), after: (&str, &Report)) -> Diff {
    let (bx, by) = (items(before.1), items(after.1));
    let new_findings: Vec<Item> = by
        .iter()
        .filter(|(k, _)| !bx.contains_key(*k))
        .map(|(_, v)| v.clone())
        .collect();
    let resolved_findings: Vec<Item> = bx
        .iter()
        .filter(|(k, _)| !by.contains_key(*k))
        .map(|(_, v)| v.clone())
        .collect();
    let unchanged_findings = by.keys().filter(|k| bx.contains_key(*k)).count();
    let n = |s: Severity| new_findings.iter().filter(|i| i.severity == s).count();
    let side = |(file, r): (&str, &Report)| Side {
        file: file.into(),
        source: r.source.clone(),
        server_version: r.server_version.clone(),
    };
    Diff {
        api_version: REPORT_API_VERSION.into(),
        kind: DIFF_KIND.into(),
        before: side(before),
        after: side(after),
        changes: changes(before.1, after.1),
        summary: Summary {
            errors: n(Severity::Error),
            warnings: n(Severity::Warning),
            infos: n(Severity::Info),
        },
        new_findings,
        resolved_findings,
        unchanged_findings,
    }
}
