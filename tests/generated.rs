//! Synthetic clusters from crates/testkit/src/generate.rs: the answers follow the generator's address
//! plan for every CNI and proxy mode, each injected fault raises its finding, and the live
//! path's request count grows with the node count only through list pages.

mod common;

use common::*;
use netcheck::analyze::analyze;
use netcheck::discover::Hints;
use netcheck::report::{Command, Scope};
use netcheck::report::{FactStatus, Report};
use netcheck_testkit::generate::{self, Cni, Inject, Layout, ProxyMode, Spec};
use netcheck_testkit::{ApiServer, Options};

fn spec(nodes: usize, cni: Cni, proxy: ProxyMode, inject: &[Inject]) -> Spec {
    Spec {
        nodes,
        pods_per_node: 6,
        services: nodes,
        cni,
        proxy,
        inject: inject.to_vec(),
    }
}

fn report_of(s: &Spec) -> Report {
    analyze(
        &generate::cluster(s),
        &Hints::default(),
        Command::Report,
        false,
        &Scope::default(),
    )
}

fn ids(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.id.as_str()).collect()
}

const COMBOS: &[(Cni, ProxyMode, &str, &str)] = &[
    (Cni::Flannel, ProxyMode::Iptables, "flannel", "kube-proxy"),
    (Cni::Calico, ProxyMode::Ipvs, "calico", "kube-proxy"),
    (Cni::Weave, ProxyMode::Nftables, "weave", "kube-proxy"),
    (Cni::Cilium, ProxyMode::Iptables, "cilium", "kube-proxy"),
    (Cni::Cilium, ProxyMode::Replaced, "cilium", "cilium"),
];

#[test]
fn clean_clusters_answer_from_the_address_plan() {
    for &(cni, proxy, cni_name, implementation) in COMBOS {
        let r = report_of(&spec(12, cni, proxy, &[]));
        let at = format!("{cni:?}/{proxy:?}");
        let c = r.cidrs.as_ref().unwrap();
        assert_eq!(c.cni.name, cni_name, "{at}");
        assert_eq!(
            c.pod_cidr.status,
            FactStatus::Known,
            "{at}: {}",
            c.pod_cidr.why
        );
        assert_eq!(
            c.pod_cidr.cidrs,
            vec![Layout::CLUSTER_CIDR.parse().unwrap()],
            "{at}"
        );
        assert_eq!(
            c.service_cidr.cidrs,
            vec![Layout::SERVICE_CIDR.parse().unwrap()],
            "{at}"
        );
        // Without host facts the node network is the smallest range covering the node IPs.
        let node_net: ipnet::IpNet = Layout::NODE_NETWORK.parse().unwrap();
        assert!(
            c.node_network.cidrs.iter().all(|n| node_net.contains(n)),
            "{at}"
        );
        let p = r.proxy.as_ref().unwrap();
        assert_eq!(p.implementation, implementation, "{at}");
        if proxy != ProxyMode::Replaced {
            assert_eq!(p.configured_mode.as_deref(), Some(proxy.name()), "{at}");
            assert_eq!(p.running_modes, vec![proxy.name().to_string()], "{at}");
        }
        let deploy = r.deployments.as_ref().unwrap();
        let agent = deploy.iter().find(|d| d.component == cni_name).unwrap();
        assert_eq!(
            (agent.kind.as_str(), agent.nodes_ready, agent.nodes_total),
            ("DaemonSet", 12, 12),
            "{at}"
        );
        assert!(
            r.findings
                .iter()
                .all(|f| f.severity == netcheck::report::Severity::Info),
            "{at}: {:?}",
            ids(&r)
        );
    }
}

#[test]
fn each_injected_fault_raises_its_finding() {
    for f in Inject::ALL {
        let r = report_of(&spec(12, Cni::Flannel, ProxyMode::Iptables, &[f]));
        assert!(ids(&r).contains(&f.finding()), "{f:?}: {:?}", ids(&r));
        let clean = report_of(&spec(12, Cni::Flannel, ProxyMode::Iptables, &[]));
        assert!(
            !ids(&clean).contains(&f.finding()),
            "{f:?} without injection"
        );
    }
    // The taint is named as the reason the agent is missing.
    let r = report_of(&spec(
        12,
        Cni::Flannel,
        ProxyMode::Iptables,
        &[Inject::UntoleratedTaint],
    ));
    let flannel = r
        .deployments
        .unwrap()
        .into_iter()
        .find(|d| d.component == "flannel")
        .unwrap();
    assert_eq!((flannel.nodes_ready, flannel.nodes_total), (11, 12));
    assert_eq!(flannel.missing.len(), 1);
    assert_eq!(flannel.missing[0].node, Layout::node_name(11));
}

/// Serves a generated cluster at realistic object sizes and runs the binary against it.
fn live(s: &Spec, extra: &[&str]) -> (Report, Vec<netcheck_testkit::Recorded>) {
    let server = ApiServer::start(
        generate::cluster(s),
        Options {
            decorate: Some(generate::realistic),
            ..Options::default()
        },
    )
    .unwrap();
    let kc = scratch("gen").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let mut args = vec!["report", "-o", "json", "--kubeconfig", kc.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = netcheck(&args);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    (report(&run), server.requests())
}

#[test]
fn live_answers_match_the_model_and_requests_grow_only_by_pages() {
    let inject = [Inject::OverlappingPodCidrs, Inject::ServiceIpOutsideRange];
    let small = spec(60, Cni::Calico, ProxyMode::Ipvs, &inject);
    let big = spec(240, Cni::Calico, ProxyMode::Ipvs, &inject);
    let (r_small, req_small) = live(&small, &["--page-size", "100"]);
    let (r_big, req_big) = live(&big, &["--page-size", "100"]);

    for (r, s) in [(&r_small, &small), (&r_big, &big)] {
        let offline = report_of(s);
        assert_eq!(ids(r), ids(&offline), "live and in-process analysis agree");
        let c = r.cidrs.as_ref().unwrap();
        assert_eq!(
            c.pod_cidr.cidrs,
            offline.cidrs.as_ref().unwrap().pod_cidr.cidrs
        );
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        for f in inject {
            assert!(ids(r).contains(&f.finding()));
        }
    }
    // Every read is a GET; lists are paged; the only requests that scale with the cluster
    // are list pages (the kube-proxy log sample is capped).
    let lists = |reqs: &[netcheck_testkit::Recorded]| {
        reqs.iter().filter(|r| r.query.contains("limit=")).count()
    };
    let others = |reqs: &[netcheck_testkit::Recorded]| reqs.len() - lists(reqs);
    assert!(req_small.iter().chain(&req_big).all(|r| r.method == "GET"));
    let pods_pages = |s: &Spec| (generate::cluster(s).pods.len()).div_ceil(100);
    assert!(lists(&req_big) >= pods_pages(&big));
    assert!(lists(&req_big) > lists(&req_small));
    // 60 nodes already exceed the log sample cap (50), so the other requests are the same set.
    assert_eq!(
        others(&req_small),
        others(&req_big),
        "non-list requests: {req_small:?} vs {req_big:?}"
    );
}

#[test]
fn lean_pod_decoding_keeps_exactly_what_pruning_keeps() {
    use netcheck::model::{Pod, PodEntry, WorkloadPod};
    let c = generate::cluster(&spec(
        8,
        Cni::Weave,
        ProxyMode::Iptables,
        &[Inject::ProxyCrashLoop],
    ));
    let mut infra = 0;
    for p in &c.pods {
        let mut v = serde_json::to_value(p).unwrap();
        generate::realistic("Pod", &mut v);
        v["metadata"]["annotations"] = serde_json::json!({"example.com/owner": "team-a"});
        let json = v.to_string();
        let mut full: Pod = serde_json::from_str(&json).unwrap();
        full.prune();
        match Pod::decode(&json).unwrap() {
            PodEntry::Infra(lean) => {
                infra += 1;
                assert!(full.is_infra(), "{}", full.name());
                assert_eq!(
                    serde_json::to_value(&*lean).unwrap(),
                    serde_json::to_value(&full).unwrap()
                );
            }
            PodEntry::Workload(lean) => {
                assert!(!full.is_infra(), "{}", full.name());
                assert_eq!(lean, WorkloadPod::from(&full));
                assert!(!lean.ips.is_empty() && !lean.node.is_empty());
            }
        }
    }
    assert!(
        infra > 0 && infra < c.pods.len(),
        "both kinds of pod were compared"
    );

    // A snapshot's pods are pruned as they are read and ordinary ones reduced; the answers
    // stay the same.
    let text = serde_json::to_string(&c).unwrap();
    let loaded = netcheck::collect::snapshot::from_reader(text.as_bytes(), "test").unwrap();
    assert_eq!(loaded.pod_count(), c.pods.len());
    assert_eq!(loaded.pods.len(), infra);
    assert!(loaded.pods.iter().all(|p| p.is_infra()));
    let proxy = loaded
        .pods
        .iter()
        .find(|p| p.name().starts_with("kube-proxy"))
        .unwrap();
    assert!(!proxy.spec.containers.is_empty());
    let again = analyze(
        &loaded,
        &Hints::default(),
        Command::Report,
        false,
        &Scope::default(),
    );
    let direct = analyze(
        &c,
        &Hints::default(),
        Command::Report,
        false,
        &Scope::default(),
    );
    assert_eq!(
        serde_json::to_value(&again.cidrs).unwrap(),
        serde_json::to_value(&direct.cidrs).unwrap()
    );
    assert_eq!(ids(&again), ids(&direct));
}

#[test]
fn pod_decoding_does_not_depend_on_key_order_and_rejects_odd_shapes_without_panic() {
    use netcheck::model::{Pod, PodEntry};
    let work_first = r#"{"metadata":{"name":"w","namespace":"shop","ownerReferences":[{"kind":"ReplicaSet","name":"w-1","controller":true}]},"spec":{"nodeName":"n1","containers":[{"name":"a"}]},"status":{"phase":"Running","podIPs":[{"ip":"10.1.0.5"}]}}"#;
    let work_last = r#"{"status":{"phase":"Running","podIPs":[{"ip":"10.1.0.5"}]},"spec":{"nodeName":"n1","containers":[{"name":"a"}]},"metadata":{"name":"w","namespace":"shop"}}"#;
    let (PodEntry::Workload(a), PodEntry::Workload(b)) = (
        Pod::decode(work_first).unwrap(),
        Pod::decode(work_last).unwrap(),
    ) else {
        panic!("ordinary pods are reduced whatever the key order");
    };
    assert_eq!(a, b);
    let infra_last = r#"{"spec":{"nodeName":"n1","containers":[{"name":"kube-proxy","command":["kube-proxy","--proxy-mode=ipvs"]}]},"metadata":{"name":"kube-proxy-x","namespace":"kube-system"}}"#;
    let PodEntry::Infra(p) = Pod::decode(infra_last).unwrap() else {
        panic!("a kube-system pod is kept in full even when metadata comes last");
    };
    assert_eq!(p.spec.containers[0].command[1], "--proxy-mode=ipvs");
    for odd in [
        "null",
        "[]",
        r#"{"metadata":null}"#,
        r#"{"metadata":{"name":7}}"#,
        r#"{"metadata":{"annotations":{"kubernetes.io/config.mirror":1}}}"#,
        r#"{"status":{"podIPs":"10.0.0.1"}}"#,
        r#"{"metadata":{"name":"x"}"#,
    ] {
        assert!(Pod::decode(odd).is_err(), "{odd}");
    }
    // Unknown fields and an empty object are fine.
    assert!(matches!(
        Pod::decode(r#"{"kind":"Pod","x":[1,{"y":null}]}"#),
        Ok(PodEntry::Workload(_))
    ));
}

/// The address plan of the largest benchmark runs: /24 podCIDRs while the /10 holds one per
/// node, /25 beyond, the last node's still inside the cluster CIDR and clear of its neighbour's.
#[test]
fn address_plan_holds_the_largest_benchmark_sizes() {
    let cluster: ipnet::Ipv4Net = Layout::CLUSTER_CIDR.parse().unwrap();
    for (nodes, mask) in [(16_000, 24), (16_001, 25), (Layout::MAX_NODES, 25)] {
        assert_eq!(Layout::node_mask(nodes), mask, "{nodes} nodes");
        let (before, last) = (
            Layout::pod_cidr(nodes - 2, mask),
            Layout::pod_cidr(nodes - 1, mask),
        );
        assert!(
            cluster.contains(&last),
            "{nodes} nodes: {last} outside {cluster}"
        );
        assert!(before.broadcast() < last.network(), "{before} and {last}");
        let spec = Spec::sized(nodes);
        assert!(
            last.hosts().count() >= spec.pods_per_node + 2,
            "{last} too small"
        );
    }
}
