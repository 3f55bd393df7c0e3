use super::{finding, Ctx, MAX_SUBJECTS};
use crate::model::{what, Cluster, Pod};
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
        // Without the pods, kube-proxy is seen only by its DaemonSet's status: on which nodes
        // both run is unknown.
        let unread = c.cluster.error_for(what::PODS);
        let on = match unread {
            Some(e) => format!(
                "on nodes netcheck cannot name (pods could not be read: {})",
                e.reason
            ),
            None => format!("both on {} node(s)", both.len()),
        };
        let mut f = finding(
            "kube-proxy-double",
            Severity::Warning,
            format!(
                "kube-proxy runs although {} claims to handle Services, {on}",
                r.name
            ),
            "both program Service rules: remove the kube-proxy DaemonSet (and its iptables rules: kube-proxy --cleanup) or turn the replacement off",
        );
        f.subjects = name_some(&both, |(n, kp, agent)| {
            format!("node {n}: pod {kp} and pod {agent}")
        });
        f.count = unread.is_none().then_some(both.len());
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
        // With its pods unread, the DaemonSet's status may still count nodes without a ready
        // pod; which ones is unknown.
        let short = match (&d.counts, d.unknown.first()) {
            (Some(k), Some(u)) if k.ready < k.desired => {
                Some(((k.desired - k.ready) as usize, k, u.reason.as_str()))
            }
            _ => None,
        };
        if faults.is_empty() && short.is_none() {
            continue;
        }
        let cni = d.component != "kube-proxy";
        let rollout = short.is_none() && faults.iter().all(|m| m.cause == "rollout");
        let sev = if rollout {
            Severity::Info
        } else if cni {
            Severity::Error
        } else {
            Severity::Warning
        };
        let id = if rollout {
            "rollout-in-progress"
        } else {
            "agent-missing"
        };
        // The nodes it may be: those whose agent is unknown.
        let among = || {
            let names: Vec<&str> = d.unknown.iter().map(|u| u.node.as_str()).collect();
            let more = names.len().saturating_sub(MAX_SUBJECTS);
            let mut s = names[..names.len().min(MAX_SUBJECTS)].join(", ");
            if more > 0 {
                s.push_str(&format!(" and {more} more"));
            }
            s
        };
        let uncounted = short.map(|(n, k, why)| {
            format!(
                "{n} more without a ready pod by the DaemonSet's status ({} ready of {} desired), among {}; which is unknown: {why}",
                k.ready,
                k.desired,
                among()
            )
        });
        let message = match (faults.first(), short) {
            (Some(first), _) => format!(
                "{} has no ready pod on {} of {} node(s): {}",
                d.component,
                faults.len() + short.map_or(0, |s| s.0),
                d.nodes_total,
                first.reason
            ),
            (None, Some((n, k, why))) => format!(
                "{} has no ready pod on {n} of the {} node(s) its DaemonSet runs on, by its status ({} ready); which is unknown: {why}",
                d.component, k.desired, k.ready
            ),
            (None, None) => unreachable!("checked above"),
        };
        let mut f = finding(
            id,
            sev,
            message,
            if faults.iter().any(|m| m.cause == "taint") {
                "add the toleration named in the reason to the DaemonSet's pod template (networking agents usually tolerate everything: `- operator: Exists`)"
            } else if faults.is_empty() {
                "`kubectl -n NS get pods -o wide` (NS as in the evidence) shows which node lacks a ready pod and why; netcheck needs `list pods` (all namespaces) to tell"
            } else {
                "pods on those nodes cannot reach Services or other pods until the agent runs; see each node's reason"
            },
        );
        f.subjects = name_some(&faults, |m| format!("node {}: {}", m.node, m.reason));
        match short {
            Some((n, ..)) if faults.is_empty() => {
                f.subjects.push(format!("{n} of node(s) {}", among()))
            }
            _ => f.subjects.extend(uncounted),
        }
        f.count = Some(faults.len() + short.map_or(0, |s| s.0));
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

#[cfg(test)]
mod tests {
    //! What the agents' checks say when a read they rest on failed: unknown, never a finding
    //! made from a list that could not be read.

    use super::*;
    use crate::discover::{self, Hints};
    use crate::report::{Deployment, ProxyAnswer, Topic};
    use serde_json::{json, Value};

    const POD_403: &str = "403 Forbidden: pods is forbidden";

    fn node(name: &str, taints: Value) -> Value {
        json!({
            "metadata": {"name": name, "labels": {"kubernetes.io/os": "linux"}},
            "spec": {"taints": taints},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}
        })
    }

    fn nodes() -> Vec<Value> {
        vec![
            node(
                "cp1",
                json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
            ),
            node("worker1", json!([])),
            node("worker2", json!([])),
        ]
    }

    /// A DaemonSet with its status: desired, current, ready, misscheduled.
    fn ds(ns: &str, name: &str, tolerations: Value, counts: [i64; 4]) -> Value {
        let [desired, current, ready, misscheduled] = counts;
        json!({
            "metadata": {"name": name, "namespace": ns, "generation": 1},
            "spec": {"template": {"spec": {
                "containers": [{"name": name, "image": format!("{name}:v1")}],
                "tolerations": tolerations
            }}},
            "status": {
                "desiredNumberScheduled": desired, "currentNumberScheduled": current,
                "numberReady": ready, "updatedNumberScheduled": current,
                "numberAvailable": ready, "numberMisscheduled": misscheduled,
                "observedGeneration": 1
            }
        })
    }

    fn kube_proxy(counts: [i64; 4]) -> Value {
        ds(
            "kube-system",
            "kube-proxy",
            json!([{"operator": "Exists"}]),
            counts,
        )
    }

    fn flannel(counts: [i64; 4]) -> Value {
        let tolerate = json!([{"operator": "Exists", "effect": "NoSchedule"}]);
        ds("kube-flannel", "kube-flannel-ds", tolerate, counts)
    }

    fn error(what: &str, reason: &str) -> Value {
        json!({"what": what, "reason": reason})
    }

    fn cluster(nodes: Vec<Value>, daemon_sets: Vec<Value>, more: Value) -> Cluster {
        let mut c = json!({
            "apiVersion": "netcheck/v1", "kind": "Snapshot",
            "nodes": nodes, "daemonSets": daemon_sets
        });
        for (k, v) in more.as_object().unwrap() {
            c[k] = v.clone();
        }
        serde_json::from_value(c).unwrap()
    }

    fn pods_unread() -> Value {
        json!({"errors": [error("pods", POD_403)]})
    }

    struct Run {
        proxy: ProxyAnswer,
        deployments: Vec<Deployment>,
        findings: Vec<Finding>,
    }

    fn run(c: &Cluster) -> Run {
        let hints = Hints::default();
        let cidrs = discover::cidrs::discover(c, &hints);
        let proxy = discover::proxy::discover(c);
        let deployments = discover::deploy::discover(c, &proxy, &cidrs.cni);
        let topics = [Topic::Proxy, Topic::Deploy];
        let ctx = Ctx {
            cluster: c,
            cidrs: &cidrs,
            proxy: Some(&proxy),
            deployments: Some(&deployments),
            services: None,
            rules: None,
            capacity: None,
            policies: None,
            hints: &hints,
            topics: &topics,
        };
        let findings = crate::checks::run(&ctx, &topics);
        Run {
            proxy,
            deployments,
            findings,
        }
    }

    impl Run {
        fn agent(&self, component: &str) -> &Deployment {
            self.deployments
                .iter()
                .find(|d| d.component == component)
                .unwrap_or_else(|| panic!("{component}: {:?}", self.deployments))
        }
        fn ids(&self) -> Vec<&str> {
            self.findings.iter().map(|f| f.id.as_str()).collect()
        }
        fn unknown(&self, component: &str) -> Vec<&str> {
            let mut v: Vec<&str> = self
                .agent(component)
                .unknown
                .iter()
                .map(|u| u.node.as_str())
                .collect();
            v.sort();
            v
        }
    }

    #[test]
    fn unread_pods_with_full_counts_leave_every_node_ready() {
        let c = cluster(
            nodes(),
            vec![kube_proxy([3, 3, 3, 0]), flannel([3, 3, 3, 0])],
            pods_unread(),
        );
        let r = run(&c);
        for comp in ["kube-proxy", "flannel"] {
            let d = r.agent(comp);
            assert_eq!((d.nodes_ready, d.nodes_total), (3, 3), "{d:?}");
            assert!(d.missing.is_empty() && d.unknown.is_empty(), "{d:?}");
            assert!(d.evidence.contains(POD_403), "{}", d.evidence);
        }
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        // The service proxy is kube-proxy, by its DaemonSet; the mode each node runs is unknown.
        assert_eq!(r.proxy.implementation, "kube-proxy");
        for n in &r.proxy.nodes {
            assert_eq!((n.basis.as_str(), n.running.as_deref()), ("unknown", None));
            assert!(n.evidence.contains(POD_403), "{n:?}");
        }
    }

    #[test]
    fn unread_pods_with_a_shortfall_leave_the_nodes_unknown() {
        let c = cluster(
            nodes(),
            vec![kube_proxy([3, 3, 3, 0]), flannel([3, 3, 2, 0])],
            pods_unread(),
        );
        let r = run(&c);
        let d = r.agent("flannel");
        assert_eq!(r.unknown("flannel"), ["cp1", "worker1", "worker2"]);
        assert!(d.missing.is_empty(), "{d:?}");
        assert_eq!((d.nodes_ready, d.nodes_total), (0, 3));
        assert!(d.unknown.iter().all(|u| u.reason.contains(POD_403)));
        // One node lacks a ready pod by the DaemonSet's own count: a finding, naming no node.
        assert_eq!(r.ids(), ["agent-missing"]);
        let f = &r.findings[0];
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.count, Some(1));
        assert!(
            f.message.contains("1 of the 3") && f.message.contains("which is unknown"),
            "{}",
            f.message
        );
        assert_eq!(f.subjects, ["1 of node(s) cp1, worker1, worker2"]);
    }

    #[test]
    fn kube_proxy_kept_off_a_tainted_node_is_unknown_without_pods() {
        // With the pods, a tainted node that runs no pod outside the host network needs no
        // kube-proxy (by design); without them, whether any pod there uses Services is unknown.
        let only_cp =
            json!([{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]);
        let mut n = nodes();
        n.push(node(
            "gpu1",
            json!([{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]),
        ));
        let c = cluster(
            n,
            vec![ds("kube-system", "kube-proxy", only_cp, [3, 3, 3, 0])],
            pods_unread(),
        );
        let r = run(&c);
        let d = r.agent("kube-proxy");
        assert_eq!(r.unknown("kube-proxy"), ["gpu1"]);
        assert!(d.missing.is_empty(), "{d:?}");
        assert_eq!((d.nodes_ready, d.nodes_total), (3, 4));
        assert!(!r.ids().contains(&"agent-missing"), "{:?}", r.findings);
    }

    #[test]
    fn a_taint_with_misscheduled_pods_leaves_the_node_unknown() {
        let mut n = nodes();
        n.push(node(
            "gpu1",
            json!([{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]),
        ));
        // Flannel tolerating the control-plane taint only.
        let only_cp = json!([{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]);
        let flannel = |counts| ds("kube-flannel", "kube-flannel-ds", only_cp.clone(), counts);
        // One flannel pod runs where the controller would not place one: gpu1 may be it.
        let c = cluster(
            n.clone(),
            vec![kube_proxy([4, 4, 4, 0]), flannel([3, 3, 3, 1])],
            pods_unread(),
        );
        let r = run(&c);
        assert_eq!(r.unknown("flannel"), ["gpu1"]);
        assert!(r.agent("flannel").missing.is_empty());
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        // None does: gpu1 lacks flannel for its taint, as it would with the pods.
        let c = cluster(
            n,
            vec![kube_proxy([4, 4, 4, 0]), flannel([3, 3, 3, 0])],
            pods_unread(),
        );
        let r = run(&c);
        let d = r.agent("flannel");
        assert!(d.unknown.is_empty(), "{d:?}");
        assert_eq!(d.missing.len(), 1);
        assert_eq!(
            (d.missing[0].node.as_str(), d.missing[0].cause.as_str()),
            ("gpu1", "taint")
        );
        assert_eq!(r.ids(), ["agent-missing"]);
    }

    #[test]
    fn counts_for_other_nodes_than_netcheck_finds_settle_nothing() {
        // Ready equals desired, but desired is 2 where 3 nodes should run it.
        let c = cluster(
            nodes(),
            vec![kube_proxy([3, 3, 3, 0]), flannel([2, 2, 2, 0])],
            pods_unread(),
        );
        let r = run(&c);
        assert_eq!(r.unknown("flannel"), ["cp1", "worker1", "worker2"]);
        assert_eq!(r.agent("flannel").nodes_ready, 0);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    #[test]
    fn pods_read_and_absent_are_still_missing() {
        // An empty pod list that was read is an answer: no agent pod on any node.
        let c = cluster(
            nodes(),
            vec![kube_proxy([3, 3, 3, 0]), flannel([3, 3, 3, 0])],
            json!({}),
        );
        let r = run(&c);
        let d = r.agent("flannel");
        assert!(d.unknown.is_empty());
        assert_eq!(d.missing.len(), 3, "{d:?}");
        assert!(r.ids().contains(&"agent-missing"));
    }

    #[test]
    fn no_replacement_is_unknown_when_its_configuration_could_not_be_read() {
        // Pods read, no kube-proxy anywhere, Cilium's agent running; cilium-config refused.
        let cilium = ds(
            "kube-system",
            "cilium",
            json!([{"operator": "Exists"}]),
            [3, 3, 3, 0],
        );
        let c = cluster(
            nodes(),
            vec![cilium],
            json!({"errors": [error("configmap kube-system/cilium-config", "403 Forbidden")]}),
        );
        let r = run(&c);
        assert_eq!(r.proxy.implementation, "unknown");
        assert!(
            r.proxy
                .implementation_evidence
                .contains("configmap kube-system/cilium-config"),
            "{}",
            r.proxy.implementation_evidence
        );
        assert!(!r.ids().contains(&"no-service-proxy"), "{:?}", r.findings);
        // Read, and saying nothing of a replacement: no proxy at all.
        let cilium = ds(
            "kube-system",
            "cilium",
            json!([{"operator": "Exists"}]),
            [3, 3, 3, 0],
        );
        let r = run(&cluster(nodes(), vec![cilium], json!({})));
        assert_eq!(r.proxy.implementation, "none");
        assert!(r.ids().contains(&"no-service-proxy"));
    }

    #[test]
    fn a_replacement_is_found_by_its_pods_when_the_daemonsets_could_not_be_read() {
        let pod = json!({
            "metadata": {
                "name": "anetd-x7k2p", "namespace": "kube-system",
                "ownerReferences": [{"kind": "DaemonSet", "name": "anetd", "controller": true}]
            },
            "spec": {"nodeName": "worker1", "containers": [{"name": "cilium-agent"}]},
            "status": {"phase": "Running"}
        });
        let c = cluster(
            nodes(),
            vec![],
            json!({"pods": [pod], "errors": [error("daemonsets", "403 Forbidden")]}),
        );
        let r = run(&c);
        assert_eq!(r.proxy.implementation, "gke-dataplane-v2");
        assert!(!r.ids().contains(&"no-service-proxy"), "{:?}", r.findings);
    }

    #[test]
    fn kube_proxy_beside_a_replacement_names_no_node_without_pods() {
        let cm = json!({
            "metadata": {"name": "cilium-config", "namespace": "kube-system"},
            "data": {"kube-proxy-replacement": "true"}
        });
        let cilium = ds(
            "kube-system",
            "cilium",
            json!([{"operator": "Exists"}]),
            [3, 3, 3, 0],
        );
        let mut more = pods_unread();
        more["configMaps"] = json!([cm]);
        let c = cluster(nodes(), vec![kube_proxy([3, 3, 3, 0]), cilium], more);
        let r = run(&c);
        let f = r
            .findings
            .iter()
            .find(|f| f.id == "kube-proxy-double")
            .expect("kube-proxy-double");
        assert!(f.message.contains(POD_403), "{}", f.message);
        assert!(!f.message.contains("0 node(s)"), "{}", f.message);
        assert_eq!(f.count, None);
    }
}
