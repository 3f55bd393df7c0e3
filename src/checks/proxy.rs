use super::{finding, Ctx, MAX_SUBJECTS};
use crate::model::{Cluster, Pod};
use crate::report::{Finding, Severity};

fn name_some<T>(v: &[T], f: impl Fn(&T) -> String) -> Vec<String> {
    v.iter().take(MAX_SUBJECTS).map(f).collect()
}

pub fn modes(c: &Ctx) -> Vec<Finding> {
    let Some(p) = c.proxy else { return vec![] };
    let mut out = Vec::new();
    if p.running_modes.len() > 1 {
        let mut f = finding(
            "proxy-mode-mixed",
            Severity::Warning,
            format!("nodes run kube-proxy in different modes: {}", p.running_modes.join(", ")),
            "a node whose kube-proxy fell back or kept an old configuration programs Services differently; fix the cause (kernel modules, ConfigMap) and restart its kube-proxy pod",
        );
        let logged: Vec<_> = p.nodes.iter().filter(|n| n.basis == "log").collect();
        f.subjects = name_some(&logged, |n| {
            format!("node {} {}", n.node, n.running.clone().unwrap_or_default())
        });
        out.push(f);
    }
    let stale: Vec<_> = p
        .nodes
        .iter()
        .filter(|n| {
            n.basis == "log"
                && n.configured.is_some()
                && n.running.is_some()
                && n.configured != n.running
        })
        .collect();
    if !stale.is_empty() {
        let fell_back = stale.iter().any(|n| n.fell_back_from_ipvs.is_some());
        let mut f = finding(
            "proxy-mode-stale",
            Severity::Warning,
            format!(
                "{} node(s) run a different mode than configured ({} configured)",
                stale.len(),
                stale[0].configured.clone().unwrap_or_default()
            ),
            if fell_back {
                "kube-proxy could not use ipvs and fell back to iptables: load the ip_vs kernel modules (ip_vs, ip_vs_rr, ip_vs_wrr, ip_vs_sh, nf_conntrack) or configure iptables/nftables"
            } else {
                "the pods started before the configuration changed: `kubectl -n kube-system rollout restart daemonset kube-proxy`"
            },
        );
        f.subjects = name_some(&stale, |n| {
            format!(
                "node {} running {} (pod {})",
                n.node,
                n.running.clone().unwrap_or_default(),
                n.pod.clone().unwrap_or_default()
            )
        });
        f.evidence = stale
            .iter()
            .take(3)
            .map(|n| n.evidence.clone())
            .chain(
                stale
                    .iter()
                    .filter_map(|n| n.fell_back_from_ipvs.clone())
                    .take(1),
            )
            .collect();
        f.count = Some(stale.len());
        out.push(f);
    }
    let failing: Vec<_> = p.nodes.iter().filter(|n| n.failure.is_some()).collect();
    if !failing.is_empty() {
        let mut f = finding(
            "kube-proxy-crashloop",
            Severity::Error,
            format!(
                "kube-proxy is failing on {} node(s): {}",
                failing.len(),
                failing[0].failure.clone().unwrap_or_default()
            ),
            if failing.iter().any(|n| {
                n.failure
                    .as_deref()
                    .is_some_and(|x| x.to_lowercase().contains("ipvs"))
            }) {
                "since 1.26 kube-proxy no longer falls back from ipvs: load the ipvs kernel modules and install ipset, or set mode to iptables/nftables in the kube-proxy ConfigMap and restart the DaemonSet"
            } else {
                "read the previous container's log (`kubectl -n kube-system logs --previous POD`) for the error and fix the configuration"
            },
        );
        f.subjects = name_some(&failing, |n| {
            format!("node {} pod {}", n.node, n.pod.clone().unwrap_or_default())
        });
        f.count = Some(failing.len());
        out.push(f);
    }
    let minor = c.cluster.minor_version();
    if minor.is_some_and(|m| m >= 35) {
        let ipvs: Vec<_> = p
            .nodes
            .iter()
            .filter(|n| n.running.as_deref() == Some("ipvs"))
            .collect();
        if !ipvs.is_empty() {
            let mut f = finding(
                "ipvs-deprecated",
                Severity::Info,
                format!(
                    "{} node(s) run the ipvs proxier, deprecated since Kubernetes 1.35",
                    ipvs.len()
                ),
                "plan a move to nftables mode (GA since 1.33)",
            );
            f.evidence = ipvs
                .iter()
                .filter_map(|n| n.deprecation.clone())
                .take(1)
                .collect();
            f.count = Some(ipvs.len());
            out.push(f);
        }
    }
    if minor.is_some_and(|m| m >= 26) {
        let us: Vec<_> = p
            .nodes
            .iter()
            .filter(|n| {
                n.running.as_deref() == Some("userspace")
                    || n.configured.as_deref() == Some("userspace")
            })
            .collect();
        if !us.is_empty() {
            let mut f = finding(
                "userspace-removed",
                Severity::Error,
                format!(
                    "{} node(s) use the userspace proxier, removed in Kubernetes 1.26",
                    us.len()
                ),
                "set mode to iptables or nftables in the kube-proxy configuration",
            );
            f.subjects = name_some(&us, |n| format!("node {}", n.node));
            out.push(f);
        }
    }
    let repl = crate::discover::proxy::replacement(c.cluster);
    if let (Some(r), "kube-proxy") = (repl, p.implementation.as_str()) {
        let both = both_proxies(c.cluster, r.agent);
        let mut f = finding(
            "kube-proxy-double",
            Severity::Warning,
            format!(
                "kube-proxy runs although {} claims to handle Services, both on {} node(s)",
                r.name,
                both.len()
            ),
            "both program Service rules: remove the kube-proxy DaemonSet (and its iptables rules: kube-proxy --cleanup) or turn the replacement off",
        );
        f.subjects = name_some(&both, |(n, kp, agent)| {
            format!("node {n}: pod {kp} and pod {agent}")
        });
        f.count = Some(both.len());
        f.evidence = vec![r.evidence, p.implementation_evidence.clone()];
        out.push(f);
    }
    if p.implementation == "none" {
        let mut f = finding(
            "no-service-proxy",
            Severity::Error,
            "no kube-proxy and no replacement: ClusterIP Services will not work".into(),
            "deploy kube-proxy (kubeadm: `kubeadm init phase addon kube-proxy`) or enable your CNI's kube-proxy replacement",
        );
        f.evidence = vec![p.implementation_evidence.clone()];
        out.push(f);
    }
    out
}

pub fn deployments(c: &Ctx) -> Vec<Finding> {
    let Some(ds) = c.deployments else {
        return vec![];
    };
    let mut out = Vec::new();
    for d in ds {
        let faults: Vec<_> = d.missing.iter().filter(|m| !m.by_design).collect();
        if faults.is_empty() {
            continue;
        }
        let cni = d.component != "kube-proxy";
        let sev = if faults.iter().all(|m| m.cause == "rollout") {
            Severity::Info
        } else if cni {
            Severity::Error
        } else {
            Severity::Warning
        };
        let id = if faults.iter().all(|m| m.cause == "rollout") {
            "rollout-in-progress"
        } else {
            "agent-missing"
        };
        let mut f = finding(
            id,
            sev,
            format!(
                "{} has no ready pod on {} of {} node(s): {}",
                d.component,
                faults.len(),
                d.nodes_total,
                faults[0].reason
            ),
            if faults.iter().any(|m| m.cause == "taint") {
                "add the toleration named in the reason to the DaemonSet's pod template (networking agents usually tolerate everything: `- operator: Exists`)"
            } else {
                "pods on those nodes cannot reach Services or other pods until the agent runs; see each node's reason"
            },
        );
        f.subjects = name_some(&faults, |m| format!("node {}: {}", m.node, m.reason));
        f.count = Some(faults.len());
        f.evidence = vec![d.evidence.clone()];
        out.push(f);
    }
    out
}

/// Nodes where a kube-proxy pod and a pod of the replacement's agent DaemonSet both run:
/// (node, kube-proxy pod, agent pod).
fn both_proxies<'a>(c: &'a Cluster, agent: &str) -> Vec<(&'a str, String, String)> {
    let name = |p: &Pod| format!("{}/{}", p.metadata.ns(), p.name());
    let agents: std::collections::HashMap<&str, &Pod> = c
        .pods
        .iter()
        .filter(|p| {
            p.controller()
                .is_some_and(|o| o.kind == "DaemonSet" && o.name == agent)
        })
        .filter_map(|p| Some((p.node()?, p)))
        .collect();
    let mut out: Vec<_> = c
        .pods
        .iter()
        .filter(|p| crate::discover::proxy::is_kube_proxy(p))
        .filter_map(|p| {
            let node = p.node()?;
            agents.get(node).map(|a| (node, name(p), name(a)))
        })
        .collect();
    out.sort();
    out
}
