//! How the networking agents are deployed, and which nodes lack a ready one, with the reason.

use super::{cni, proxy};
use crate::model::{
    text_key, what, Cluster, DaemonSet, FastMap, Node, Pod, PodSpec, SelectorRequirement, Taint,
    Toleration,
};
use crate::report::{Cni, Counts, Deployment, MissingNode, ProxyAnswer, UnknownNode};
use std::collections::{HashMap, HashSet};

/// Taints the DaemonSet controller tolerates on every DaemonSet pod by itself.
const AUTO_TOLERATED: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/unschedulable",
    "node.kubernetes.io/network-unavailable",
];

fn tolerates(ts: &[Toleration], t: &Taint) -> bool {
    ts.iter().any(|tol| {
        let effect_ok = tol
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == t.effect);
        let key_ok = match tol.key.as_deref() {
            None | Some("") => tol.operator.as_deref() == Some("Exists"),
            Some(k) => k == t.key,
        };
        let value_ok = tol.operator.as_deref() == Some("Exists")
            || tol.value.as_deref().unwrap_or("") == t.value.as_deref().unwrap_or("");
        effect_ok && key_ok && value_ok
    })
}

fn requirement_matches(r: &SelectorRequirement, labels: &crate::model::StrMap) -> bool {
    let v = labels.get(&r.key);
    match r.operator.as_str() {
        "In" => v.is_some_and(|v| r.values.iter().any(|x| x == v)),
        "NotIn" => v.is_none_or(|v| !r.values.iter().any(|x| x == v)),
        "Exists" => v.is_some(),
        "DoesNotExist" => v.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(x)) = (
                v.and_then(|v| v.parse::<i64>().ok()),
                r.values.first().and_then(|x| x.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > x
            } else {
                v < x
            }
        }
        _ => false,
    }
}

/// Why the scheduler would keep this pod template off this node, if it would.
fn excluded(spec: &PodSpec, n: &Node) -> Option<MissingNode> {
    let labels = &n.metadata.labels;
    for (k, v) in &spec.node_selector {
        if labels.get(k).map(|x| x.as_str()) != Some(v.as_str()) {
            let has = labels
                .get(k)
                .map(|h| format!("node has {k}={h}"))
                .unwrap_or_else(|| format!("node has no {k} label"));
            return Some(MissingNode {
                node: n.name().into(),
                cause: "node-selector".into(),
                reason: format!("nodeSelector {k}={v} does not match ({has})"),
                by_design: true,
            });
        }
    }
    if let Some(req) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| na.required.as_ref())
    {
        let name_labels =
            crate::model::StrMap::from([("metadata.name".to_string(), n.name().to_string())]);
        let ok = req.node_selector_terms.iter().any(|t| {
            t.match_expressions
                .iter()
                .all(|r| requirement_matches(r, labels))
                && t.match_fields
                    .iter()
                    .all(|r| requirement_matches(r, &name_labels))
        });
        if !ok && !req.node_selector_terms.is_empty() {
            let terms: Vec<String> = req
                .node_selector_terms
                .iter()
                .flat_map(|t| &t.match_expressions)
                .map(|r| format!("{} {} [{}]", r.key, r.operator, r.values.join(",")))
                .collect();
            return Some(MissingNode {
                node: n.name().into(),
                cause: "affinity".into(),
                reason: format!(
                    "required node affinity excludes the node ({})",
                    terms.join("; ")
                ),
                by_design: true,
            });
        }
    }
    for t in n
        .spec
        .taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
    {
        if AUTO_TOLERATED.contains(&t.key.as_str()) || tolerates(&spec.tolerations, t) {
            continue;
        }
        let val = t
            .value
            .as_deref()
            .map(|v| format!("={v}"))
            .unwrap_or_default();
        return Some(MissingNode {
            node: n.name().into(),
            cause: "taint".into(),
            reason: format!(
                "taint {}{val}:{} is not tolerated (add toleration {{key: {}, operator: Exists, effect: {}}}, or operator: Exists for all)",
                t.key, t.effect, t.key, t.effect
            ),
            by_design: false,
        });
    }
    None
}

fn pod_problem(p: &Pod, n: &Node) -> MissingNode {
    let who = format!("pod {}/{}", p.metadata.ns(), p.name());
    let (cause, reason) = if let Some(w) = p
        .status
        .container_statuses
        .iter()
        .find_map(|s| s.state.as_ref()?.waiting.clone())
    {
        let last = p.status.container_statuses.iter().find_map(|s| {
            let t = s.last_state.as_ref()?.terminated.as_ref()?;
            Some(format!(
                ", last terminated: {} exit {}",
                t.reason.clone().unwrap_or_default(),
                t.exit_code.unwrap_or(0)
            ))
        });
        let r = w.reason.unwrap_or_else(|| "Waiting".into());
        let cause = if r == "CrashLoopBackOff" {
            "crash-loop"
        } else {
            "pod-not-ready"
        };
        (
            cause,
            format!(
                "{who} {r} (restarts {}{})",
                p.restarts(),
                last.unwrap_or_default()
            ),
        )
    } else if p.status.phase.as_deref() == Some("Pending") {
        ("pod-pending", format!("{who} Pending"))
    } else {
        (
            "pod-not-ready",
            format!(
                "{who} not ready (phase {})",
                p.status.phase.as_deref().unwrap_or("unknown")
            ),
        )
    };
    MissingNode {
        node: n.name().into(),
        cause: cause.into(),
        reason,
        by_design: false,
    }
}

/// What a node needs of an agent, beyond running its pod.
enum Need<'a> {
    /// kube-proxy: only where pods use Services. Non-hostNetwork pods per node.
    Proxy(&'a HashMap<&'a str, usize>),
    /// The CNI agent: every node, unless another agent networks it. Nodes where a pod of
    /// some CNI agent DaemonSet runs.
    Network(&'a HashSet<&'a str>),
}

impl Need<'_> {
    /// Why a node without the agent is not missing it, if it is not: kube-proxy on a node
    /// kept free of workloads (registered unschedulable or tainted, as kube-up masters are)
    /// that runs no pod using Services.
    fn exempt(&self, n: &Node) -> Option<MissingNode> {
        let Need::Proxy(_) = self else {
            return None;
        };
        let kept_free = n.spec.unschedulable
            || n.spec
                .taints
                .iter()
                .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute");
        if !kept_free || self.users(n).unwrap_or(0) > 0 {
            return None;
        }
        let how = if n.spec.unschedulable {
            "registered unschedulable"
        } else {
            "tainted against workloads"
        };
        Some(MissingNode {
            node: n.name().into(),
            cause: "no-service-users".into(),
            reason: format!("{how} and runs no pod outside the host network: nothing on it uses Services through kube-proxy"),
            by_design: true,
        })
    }
    /// Pods on the node that use Services, when that is what the agent is needed for.
    fn users(&self, n: &Node) -> Option<usize> {
        match self {
            Need::Proxy(users) => Some(users.get(n.name()).copied().unwrap_or(0)),
            Need::Network(_) => None,
        }
    }
    /// A selector-excluded node that nothing networks and that is NotReady for want of a
    /// network plugin is broken, whatever the selector says.
    fn uncovered(&self, n: &Node, x: &MissingNode) -> Option<MissingNode> {
        let Need::Network(covered) = self else {
            return None;
        };
        if !x.by_design || covered.contains(n.name()) {
            return None;
        }
        let cond = n.network_not_ready()?;
        Some(MissingNode {
            node: n.name().into(),
            cause: "uncovered".into(),
            reason: format!(
                "no network agent runs on it and it is NotReady for want of one ({cond}); this DaemonSet leaves it out: {}",
                x.reason
            ),
            by_design: false,
        })
    }
}

/// Non-hostNetwork, unfinished pods per node: the pods that reach Services through kube-proxy.
fn service_users(c: &Cluster) -> HashMap<&str, usize> {
    let full = c
        .pods
        .iter()
        .filter(|p| !p.spec.host_network && !p.finished())
        .filter_map(|p| p.node());
    let reduced = c
        .workload_pods
        .iter()
        .filter(|w| !w.host_network && !w.finished)
        .map(|w| &*w.node);
    // Counted by copy of the name first (see `text_key`): on the analysis's longest lane.
    let mut by_copy: FastMap<(usize, usize), (&str, usize)> = FastMap::default();
    for node in full.chain(reduced).filter(|n| !n.is_empty()) {
        by_copy.entry(text_key(node)).or_insert((node, 0)).1 += 1;
    }
    let mut m: HashMap<&str, usize> = HashMap::new();
    for (node, n) in by_copy.into_values() {
        *m.entry(node).or_default() += n;
    }
    m
}

/// Nodes on which a pod of some CNI agent DaemonSet (any plugin netcheck knows) runs.
fn networked(c: &Cluster) -> HashSet<&str> {
    c.pods
        .iter()
        .filter(|p| {
            p.controller()
                .is_some_and(|o| o.kind == "DaemonSet" && cni::is_agent(&o.name))
        })
        .filter_map(|p| p.node())
        .collect()
}

fn for_daemonset(
    c: &Cluster,
    component: &str,
    ds: &DaemonSet,
    pods: &[&Pod],
    need: &Need,
) -> Deployment {
    let s = &ds.status;
    let mut missing = Vec::new();
    let mut total = 0;
    let mut ready = 0;
    let rollout = ds
        .metadata
        .generation
        .is_some_and(|g| s.observed_generation.is_some_and(|o| o < g))
        || s.updated_number_scheduled < s.desired_number_scheduled;
    let by_node = Pod::by_node(pods.iter().copied());
    for n in &c.nodes {
        let pod = by_node.get(n.name()).and_then(|v| v.first());
        if pod.is_none() {
            if let Some(x) = need.exempt(n) {
                missing.push(x);
                continue;
            }
        }
        if let Some(x) = excluded(&ds.spec.template.spec, n) {
            if pod.is_none() {
                // A selector excludes on purpose; a taint keeps the agent off a node that needs it.
                let x = need.uncovered(n, &x).unwrap_or(x);
                if !x.by_design {
                    total += 1;
                }
                missing.push(x);
                continue;
            }
        }
        total += 1;
        match pod {
            Some(p) if p.ready() => ready += 1,
            Some(p) => missing.push(pod_problem(p, n)),
            None if n.ready() == Some(false) => missing.push(MissingNode {
                node: n.name().into(),
                cause: "node-not-ready".into(),
                reason: "node is NotReady".into(),
                by_design: false,
            }),
            None if rollout => missing.push(MissingNode {
                node: n.name().into(),
                cause: "rollout".into(),
                reason: format!(
                    "no pod yet: rollout in progress ({} of {} updated)",
                    s.updated_number_scheduled, s.desired_number_scheduled
                ),
                by_design: false,
            }),
            None => missing.push(MissingNode {
                node: n.name().into(),
                cause: "unknown".into(),
                reason: "no pod on this node and no taint, selector or node condition explains it"
                    .into(),
                by_design: false,
            }),
        }
    }
    let ev = pods
        .first()
        .map(|p| {
            format!(
                "pod {}/{}: Controlled By DaemonSet/{}",
                p.metadata.ns(),
                p.name(),
                ds.metadata.name
            )
        })
        .unwrap_or_else(|| format!("daemonset {}/{}", ds.metadata.ns(), ds.metadata.name));
    Deployment {
        component: component.into(),
        kind: "DaemonSet".into(),
        name: Some(format!("{}/{}", ds.metadata.ns(), ds.metadata.name)),
        evidence: ev,
        counts: Some(counts(ds)),
        nodes_total: total,
        nodes_ready: ready,
        missing,
        unknown: vec![],
    }
}

fn counts(ds: &DaemonSet) -> Counts {
    let s = &ds.status;
    Counts {
        desired: s.desired_number_scheduled,
        current: s.current_number_scheduled,
        ready: s.number_ready,
        up_to_date: s.updated_number_scheduled,
        available: s.number_available,
    }
}

/// Why the pods are unknown, when the pod list could not be read: no node's agent pod can then
/// be looked at.
fn pods_unread(c: &Cluster) -> Option<String> {
    c.error_for(what::PODS)
        .map(|e| format!("pods could not be read ({})", e.reason))
}

/// A DaemonSet whose pods could not be read (`why`). What needs no pod is judged as usual:
/// the template against each node's labels and taints. Whether the nodes it should run on
/// have a ready pod comes from the DaemonSet's own status: when it counts as many ready pods
/// as the nodes netcheck finds it should run on (one per node, as the controller counts),
/// each has one; otherwise each of those nodes is unknown, never missing.
fn for_daemonset_unread(
    c: &Cluster,
    component: &str,
    ds: &DaemonSet,
    need: &Need,
    why: &str,
) -> Deployment {
    let s = &ds.status;
    let name = format!("{}/{}", ds.metadata.ns(), ds.metadata.name);
    let mut missing = Vec::new();
    let mut unknown = Vec::new();
    let mut should_run = Vec::new();
    let unknown_node = |n: &Node, reason: String| UnknownNode {
        node: n.name().into(),
        reason,
    };
    for n in &c.nodes {
        let Some(x) = excluded(&ds.spec.template.spec, n) else {
            should_run.push(n);
            continue;
        };
        if x.by_design {
            // Whether another agent networks a node the selector leaves out, and that is
            // NotReady for want of a network, only the pods tell.
            match (need, n.network_not_ready()) {
                (Need::Network(_), Some(cond)) => unknown.push(unknown_node(
                    n,
                    format!(
                        "{why}: this DaemonSet leaves it out ({}) and it is NotReady for want of a network ({cond}); whether another agent networks it is unknown",
                        x.reason
                    ),
                )),
                _ => missing.push(x),
            }
            continue;
        }
        // An untolerated taint: the controller places no pod here, but one placed before the
        // taint stays (NoSchedule evicts nothing), and the status counts it as misscheduled.
        if s.number_misscheduled > 0 {
            unknown.push(unknown_node(
                n,
                format!(
                    "{why}: {}, but the DaemonSet counts {} pod(s) on nodes it would not place one on (status.numberMisscheduled), so one may run here",
                    x.reason, s.number_misscheduled
                ),
            ));
        } else if let Need::Proxy(_) = need {
            // kube-proxy is needed only where pods use Services, which only the pods tell.
            unknown.push(unknown_node(
                n,
                format!(
                    "{why}: {}, and no kube-proxy pod runs here (status.numberMisscheduled 0); whether any pod here uses Services is unknown",
                    x.reason
                ),
            ));
        } else {
            missing.push(MissingNode {
                reason: format!(
                    "{} (no pod of it runs where it would not place one: status.numberMisscheduled 0)",
                    x.reason
                ),
                ..x
            });
        }
    }
    let desired = s.desired_number_scheduled;
    let scheduled_to_all = desired == should_run.len() as i64;
    let all_ready =
        scheduled_to_all && s.number_ready >= desired && s.current_number_scheduled >= desired;
    let counted = format!(
        "daemonset {name} status: desired {desired}, current {}, ready {}",
        s.current_number_scheduled, s.number_ready
    );
    let evidence = if all_ready {
        format!(
            "{counted}, one per node it should run on ({}): each has a ready pod, by these counts; {why}",
            should_run.len()
        )
    } else if !scheduled_to_all {
        format!(
            "{counted}, but netcheck finds {} node(s) it should run on; which have a ready pod is unknown: {why}",
            should_run.len()
        )
    } else {
        format!(
            "{counted}: {} of the {} node(s) it should run on without a ready pod; which is unknown: {why}",
            (desired - s.number_ready).max(0),
            should_run.len()
        )
    };
    let ready = if all_ready { should_run.len() } else { 0 };
    if !all_ready {
        unknown.extend(should_run.iter().map(|n| unknown_node(n, why.to_string())));
    }
    // Every node but those a selector leaves out on purpose.
    let total = c.nodes.len() - missing.iter().filter(|m| m.by_design).count();
    Deployment {
        component: component.into(),
        kind: "DaemonSet".into(),
        name: Some(name),
        evidence,
        counts: Some(counts(ds)),
        nodes_total: total,
        nodes_ready: ready,
        missing,
        unknown,
    }
}

fn for_static(c: &Cluster, component: &str, pods: &[&Pod], need: &Need) -> Deployment {
    let mut missing = Vec::new();
    let mut ready = 0;
    let mut total = 0;
    let by_node = Pod::by_node(pods.iter().copied());
    for n in &c.nodes {
        let pod = by_node.get(n.name()).and_then(|v| v.first());
        if let (None, Some(x)) = (pod, need.exempt(n)) {
            missing.push(x);
            continue;
        }
        total += 1;
        match pod {
            Some(p) if p.ready() => ready += 1,
            Some(p) => missing.push(pod_problem(p, n)),
            None => missing.push(MissingNode {
                node: n.name().into(),
                cause: "unknown".into(),
                reason: match need.users(n) {
                    Some(k) if k > 0 => format!("no static-pod manifest for it on this node (no mirror pod), though {k} pod(s) here use Services"),
                    _ => "no static-pod manifest for it on this node (no mirror pod)".into(),
                },
                by_design: false,
            }),
        }
    }
    Deployment {
        component: component.into(),
        kind: "static-pod".into(),
        name: None,
        evidence: format!(
            "pod {}/{}: mirror pod (annotation kubernetes.io/config.mirror, owned by Node/{})",
            pods[0].metadata.ns(),
            pods[0].name(),
            pods[0].node().unwrap_or("?")
        ),
        counts: None,
        nodes_total: total,
        nodes_ready: ready,
        missing,
        unknown: vec![],
    }
}

fn other(component: &str, kind: &str, evidence: String, nodes: usize) -> Deployment {
    let ready = if kind == "embedded" || kind == "replaced" {
        nodes
    } else {
        0
    };
    Deployment {
        component: component.into(),
        kind: kind.into(),
        name: None,
        evidence,
        counts: None,
        nodes_total: nodes,
        nodes_ready: ready,
        missing: vec![],
        unknown: vec![],
    }
}

pub fn discover(c: &Cluster, proxy: &ProxyAnswer, cni_: &Cni) -> Vec<Deployment> {
    let mut out = Vec::new();
    let unread = pods_unread(c);
    let users = service_users(c);
    let proxy_need = Need::Proxy(&users);
    let kp: Vec<&Pod> = c.pods.iter().filter(|p| proxy::is_kube_proxy(p)).collect();
    let kp_ds = c.daemon_set("kube-system", "kube-proxy");
    out.push(match (kp_ds, proxy.implementation.as_str()) {
        (Some(ds), _) if unread.is_some() => for_daemonset_unread(
            c,
            "kube-proxy",
            ds,
            &proxy_need,
            unread.as_deref().unwrap_or_default(),
        ),
        (Some(ds), _) => {
            let pods: Vec<&Pod> = kp
                .iter()
                .copied()
                .filter(|p| p.controller().is_some_and(|o| o.kind == "DaemonSet"))
                .collect();
            for_daemonset(c, "kube-proxy", ds, &pods, &proxy_need)
        }
        (None, _) if kp.iter().any(|p| p.is_mirror()) => for_static(
            c,
            "kube-proxy",
            &kp.iter()
                .copied()
                .filter(|p| p.is_mirror())
                .collect::<Vec<_>>(),
            &proxy_need,
        ),
        (None, "kube-proxy") if !kp.is_empty() => {
            let owner = kp[0]
                .controller()
                .map(|o| format!("{}/{}", o.kind, o.name))
                .unwrap_or_else(|| "no owner".into());
            other(
                "kube-proxy",
                "unknown",
                format!(
                    "pods such as {}/{} ({owner}); their DaemonSet is not readable",
                    kp[0].metadata.ns(),
                    kp[0].name()
                ),
                c.nodes.len(),
            )
        }
        (None, imp) if imp.ends_with("-embedded") => other(
            "kube-proxy",
            "embedded",
            proxy.implementation_evidence.clone(),
            c.nodes.len(),
        ),
        (None, "none") => other(
            "kube-proxy",
            "absent",
            proxy.implementation_evidence.clone(),
            c.nodes.len(),
        ),
        (None, "unknown") => other(
            "kube-proxy",
            "unknown",
            proxy.implementation_evidence.clone(),
            c.nodes.len(),
        ),
        (None, _) => other(
            "kube-proxy",
            "replaced",
            format!(
                "replaced by {}: {}",
                proxy.implementation, proxy.implementation_evidence
            ),
            c.nodes.len(),
        ),
    });
    if let (Some(ds), Some(why)) = (cni::agent(c, cni_), &unread) {
        let covered = HashSet::new();
        out.push(for_daemonset_unread(
            c,
            &cni_.name,
            ds,
            &Need::Network(&covered),
            why,
        ));
    } else if let Some(ds) = cni::agent(c, cni_) {
        let pods: Vec<&Pod> = c
            .pods
            .iter()
            .filter(|p| {
                p.metadata.ns() == ds.metadata.ns()
                    && p.controller()
                        .is_some_and(|o| o.kind == "DaemonSet" && o.name == ds.metadata.name)
            })
            .collect();
        let covered = networked(c);
        out.push(for_daemonset(
            c,
            &cni_.name,
            ds,
            &pods,
            &Need::Network(&covered),
        ));
    } else if cni_.name.ends_with("-flannel") || cni_.name == "kubenet" {
        out.push(other(
            &cni_.name,
            "embedded",
            cni_.evidence.clone(),
            c.nodes.len(),
        ));
    } else if cni_.name != "unknown" {
        out.push(other(
            &cni_.name,
            "unknown",
            format!("{} (DaemonSet not readable)", cni_.evidence),
            c.nodes.len(),
        ));
    }
    out
}
