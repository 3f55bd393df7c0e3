//! `netcheck rules` and `netcheck trace` on nftables and ipvs rule sets.
//!
//! nftables: each test writes kube-proxy's nftables layout for a state of the CKA lab (in sync
//! with its API, or behind it: crates/testkit/src/kubeproxy_nft.rs), loads it with `nft -f`
//! into a network namespace of its own and compares what `nft list ruleset` and `nft -j list
//! ruleset` print there with the lab's API objects (the lab's kube-proxy log says "Using
//! nftables Proxier" in a copy). Needs root, unshare and nft (.ci/run installs nftables);
//! without them these tests fail saying so.
//!
//! ipvs: the kernel here has no IP_VS, so nothing is loaded: tests/fixtures/rules/ipvs-*.txt
//! (ipvsadm's documented output formats, see gen-nft.sh) are compared with
//! tests/fixtures/rules/ipvs-cluster-snapshot.json, the API of the cluster those fixtures (and
//! nft-cluster.*) describe: node-1 at 192.168.49.2, kube-proxy logging "Using ipvs Proxier".

mod common;

use common::*;
use netcheck::report::{Report, RuleProblem, TracePath};
use netcheck_testkit::kubeproxy_nft::{
    endpoint_base, nft_script, service_base, through_real_nft, Listed, NodeSetup, SvcPort,
};

// ---------------------------------------------------------------------------------------------
// Shared helpers.

fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures/rules")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A copy of a snapshot with kube-proxy's log and configuration saying `mode`.
fn snapshot_in_mode(path: &str, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let replaced = text
        .replace(
            &format!("Using {from} Proxier"),
            &format!("Using {to} Proxier"),
        )
        .replace(
            &format!("Creating dualStackProxier for {from}"),
            &format!("Creating dualStackProxier for {to}"),
        )
        .replace("mode: \\\"\\\"\\n", &format!("mode: {to}\\n"))
        .replace(&format!("mode: {from}\\n"), &format!("mode: {to}\\n"));
    assert!(
        replaced.contains(&format!("Using {to} Proxier")),
        "{path}: no 'Using {from} Proxier' log line to change"
    );
    let out = scratch("snap").join(format!("{to}.json"));
    std::fs::write(&out, replaced).unwrap();
    out.to_string_lossy().into_owned()
}

/// The CKA lab with kube-proxy in nftables mode.
fn cka_nft() -> String {
    snapshot_in_mode(
        &root().join("examples/cka-lab.json").to_string_lossy(),
        "iptables",
        "nftables",
    )
}

fn cka_iptables() -> String {
    root()
        .join("examples/cka-lab.json")
        .to_string_lossy()
        .into_owned()
}

/// The cluster of the ipvs and nft fixtures, kube-proxy in ipvs mode.
fn fixture_api() -> String {
    fixture("ipvs-cluster-snapshot.json")
}

/// The same cluster with kube-proxy in nftables mode.
fn fixture_api_nft() -> String {
    snapshot_in_mode(&fixture_api(), "ipvs", "nftables")
}

fn rules_on(snapshot: &str, node: &str, file: &str) -> (i32, Report) {
    let run = netcheck(&[
        "rules",
        "--snapshot",
        snapshot,
        "--rules",
        &format!("{node}={file}"),
        "-o",
        "json",
    ]);
    (run.code, report(&run))
}

fn node_rules(r: &Report) -> &netcheck::report::NodeRules {
    let a = r.rules.as_ref().expect("rules answer");
    assert_eq!(a.nodes.len(), 1, "{:#?}", a.nodes);
    &a.nodes[0]
}

fn problems(r: &Report) -> Vec<RuleProblem> {
    r.rules
        .as_ref()
        .expect("rules answer")
        .nodes
        .iter()
        .flat_map(|n| n.problems.clone())
        .collect()
}

fn ids(r: &Report) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = problems(r)
        .iter()
        .map(|p| (p.id.clone(), p.entry.clone()))
        .collect();
    v.sort();
    v
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    out.sort();
    out
}

fn problem<'a>(r: &'a [RuleProblem], id: &str, entry: &str) -> &'a RuleProblem {
    r.iter()
        .find(|p| p.id == id && p.entry == entry)
        .unwrap_or_else(|| panic!("no {id} for {entry} in {r:#?}"))
}

fn trace(service: &str, snapshot: &str, node: &str, file: &str) -> Vec<TracePath> {
    let run = netcheck(&[
        "trace",
        service,
        "--snapshot",
        snapshot,
        "--rules",
        &format!("{node}={file}"),
        "-o",
        "json",
        "--explain",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    report(&run).trace.expect("trace answer").paths
}

fn path<'a>(paths: &'a [TracePath], entry: &str, address: &str) -> &'a TracePath {
    paths
        .iter()
        .find(|p| p.entry == entry && p.address == address)
        .unwrap_or_else(|| {
            panic!(
                "no {entry} path at {address}; paths: {:?}",
                paths
                    .iter()
                    .map(|p| (p.entry.as_str(), p.address.as_str()))
                    .collect::<Vec<_>>()
            )
        })
}

// ---------------------------------------------------------------------------------------------
// nftables: the CKA lab's rules written in kube-proxy's layout, loaded into the real nft.

fn port(
    name: &str,
    proto: &str,
    ip: &str,
    port: u16,
    node_port: Option<u16>,
    eps: &[&str],
) -> SvcPort {
    SvcPort::new(name, proto, ip, port, node_port, eps)
}

fn in_sync() -> Vec<SvcPort> {
    netcheck_testkit::kubeproxy::cka_in_sync()
}

/// node01 of the lab: its address, kube-proxy's --cluster-cidr, the Service range.
fn node01(cluster_cidr: &str) -> NodeSetup {
    NodeSetup::v4("10.19.9.12", cluster_cidr, "10.96.0.0/12")
}

/// The two dumps (`nft list ruleset`, `nft -j list ruleset`) of these rules loaded into the
/// real nft, as files: [(path, format netcheck should detect)].
fn nft_dumps(ports: &[SvcPort], node: &NodeSetup) -> [(String, &'static str); 2] {
    let Listed { text, json } =
        through_real_nft(&nft_script(ports, node)).unwrap_or_else(|e| panic!("{e}"));
    assert!(text.starts_with("table ip kube-proxy {"), "{text}");
    assert!(json.starts_with("{\"nftables\": ["), "{json}");
    let dir = scratch("nft");
    let t = dir.join("node01.nft");
    let j = dir.join("node01.nft.json");
    std::fs::write(&t, text).unwrap();
    std::fs::write(&j, json).unwrap();
    [
        (t.to_string_lossy().into_owned(), "nft"),
        (j.to_string_lossy().into_owned(), "nft-json"),
    ]
}

#[test]
fn nft_chain_names_are_kube_proxys() {
    // As the real nft printed them in tests/fixtures/rules/nft-cluster.txt.
    let k = port(
        "default/kubernetes:https",
        "tcp",
        "10.96.0.1",
        443,
        None,
        &[],
    );
    assert_eq!(service_base(&k), "2QRHZV4L-default/kubernetes/tcp/https");
    assert_eq!(
        endpoint_base(&k, "192.168.49.2:8443"),
        "PFFLQ6JN-default/kubernetes/tcp/https__192.168.49.2/8443"
    );
    let m = port("default/my-service", "tcp", "fd00:10:96::4d", 80, None, &[]);
    assert_eq!(service_base(&m), "4BBKY5IM-default/my-service/tcp/");
    assert_eq!(
        endpoint_base(&m, "[fd00:10:244:1::3]:80"),
        "BNDUUVL4-default/my-service/tcp/__fd00.10.244.1..3/80"
    );
    let fixture = std::fs::read_to_string(fixture("nft-cluster.txt")).unwrap();
    for name in [
        "service-2QRHZV4L-default/kubernetes/tcp/https",
        "endpoint-PFFLQ6JN-default/kubernetes/tcp/https__192.168.49.2/8443",
        "service-4BBKY5IM-default/my-service/tcp/",
    ] {
        assert!(fixture.contains(&format!("chain {name} {{")), "{name}");
    }
}

#[test]
fn nft_rules_in_sync_with_the_api_agree() {
    let snap = cka_nft();
    let dumps = nft_dumps(&in_sync(), &node01("10.244.0.0/16"));
    // The real nft's own words for kube-proxy's layout.
    let text = std::fs::read_to_string(&dumps[0].0).unwrap();
    for want in [
        "map service-ips {",
        "map service-nodeports {",
        "tcp . 30007 : goto external-",
        "numgen random mod 2 vmap { 0 : goto endpoint-",
        "meta l4proto tcp dnat to 10.244.192.1:80",
        "ip saddr != 10.244.0.0/16 jump mark-for-masquerade",
        "elements = { 10.19.9.12 }",
    ] {
        assert!(text.contains(want), "no {want:?} in:\n{text}");
    }
    for (file, format) in &dumps {
        let (code, r) = rules_on(&snap, "node01", file);
        let n = node_rules(&r);
        assert_eq!(ids(&r), vec![], "{format}: {n:#?}");
        assert_eq!(code, 0, "{format}");
        assert_eq!(
            (
                n.format.as_deref(),
                n.mode.as_deref(),
                n.expected_mode.as_deref()
            ),
            (Some(*format), Some("nftables"), Some("nftables"))
        );
        // Seven cluster IPs and two NodePorts, all compared, all agreeing.
        assert_eq!((n.entries, n.compared, n.agreeing), (9, 9, 9), "{format}");
        assert_eq!(n.masquerade, ["10.244.0.0/16"], "{format}");
        assert!(n.error.is_none() && n.notes.is_empty(), "{format}: {n:#?}");
    }
}

#[test]
fn nft_node_behind_the_api_is_named_entry_by_entry() {
    let mut behind = in_sync();
    // my-service still sends to a pod that is gone; the NodePort Service was never
    // programmed; metrics was rejected when it had no endpoints; and a deleted NodePort
    // Service remains.
    behind[4].endpoints[1] = "10.244.192.9:80".into();
    behind.remove(5);
    behind[3].endpoints.clear();
    behind.push(port(
        "default/old",
        "tcp",
        "10.96.100.100",
        80,
        Some(30099),
        &["10.244.192.7:80"],
    ));
    let snap = cka_nft();
    for (file, format) in nft_dumps(&behind, &node01("10.244.0.0/16")) {
        let (code, r) = rules_on(&snap, "node01", &file);
        assert_eq!(code, 1, "{format}");
        assert_eq!(
            ids(&r),
            pairs(&[
                ("rules-endpoints-differ", "10.109.214.77:80/tcp cluster-ip"),
                ("rules-entry-missing", "10.108.37.176:80/tcp cluster-ip"),
                ("rules-entry-missing", ":30007/tcp node-port"),
                (
                    "rules-reject-with-endpoints",
                    "10.96.0.10:9153/tcp cluster-ip"
                ),
                ("rules-stale-entry", "10.96.100.100:80/tcp cluster-ip"),
                ("rules-stale-entry", ":30099/tcp node-port"),
            ]),
            "{format}"
        );
        let all = problems(&r);
        let differ = problem(
            &all,
            "rules-endpoints-differ",
            "10.109.214.77:80/tcp cluster-ip",
        );
        assert_eq!(differ.service.as_deref(), Some("default/my-service"));
        assert!(
            differ.detail.contains("missing 10.244.192.2:80")
                && differ.detail.contains("still sending to 10.244.192.9:80"),
            "{format}: {}",
            differ.detail
        );
        // The gone pod's endpoint chain is quoted (`dnat to 10.244.192.9:80` in text, a
        // `"dnat": {"addr": "10.244.192.9", "port": 80}` object in JSON).
        assert!(
            differ
                .evidence
                .iter()
                .any(|e| e.contains("__10.244.192.9/80") || e.contains("dnat to 10.244.192.9:80")),
            "{format}: {:?}",
            differ.evidence
        );
        let reject = problem(
            &all,
            "rules-reject-with-endpoints",
            "10.96.0.10:9153/tcp cluster-ip",
        );
        assert_eq!(
            reject.service.as_deref(),
            Some("kube-system/kube-dns:metrics")
        );
        assert!(
            reject.evidence.iter().any(|e| e.contains("reject-chain")),
            "{format}: {:?}",
            reject.evidence
        );
        let stale = problem(&all, "rules-stale-entry", "10.96.100.100:80/tcp cluster-ip");
        assert_eq!(stale.service.as_deref(), Some("default/old"), "{format}");
        assert!(
            stale.detail.contains("left from a deleted Service"),
            "{format}: {}",
            stale.detail
        );
        let finding = r
            .findings
            .iter()
            .find(|f| f.id == "rules-entry-missing")
            .unwrap();
        assert_eq!(finding.count, Some(2), "{format}");
        assert!(
            finding.subjects[0].starts_with("node node01: "),
            "{:?}",
            finding.subjects
        );
    }
}

#[test]
fn nft_reject_of_a_nodeport_service_with_endpoints_is_named_per_entry() {
    let mut behind = in_sync();
    // my-service-lb's endpoints were gone at kube-proxy's last sync: its ClusterIP and its
    // NodePort are rejected, though the API lists two ready pods.
    behind[6].endpoints.clear();
    let snap = cka_nft();
    for (file, format) in nft_dumps(&behind, &node01("10.244.0.0/16")) {
        let (code, r) = rules_on(&snap, "node01", &file);
        assert_eq!(code, 1, "{format}");
        assert_eq!(
            ids(&r),
            pairs(&[
                (
                    "rules-reject-with-endpoints",
                    "10.104.175.68:80/tcp cluster-ip"
                ),
                ("rules-reject-with-endpoints", ":31006/tcp node-port"),
            ]),
            "{format}"
        );
        let n = node_rules(&r);
        assert_eq!((n.entries, n.compared, n.agreeing), (9, 9, 7), "{format}");
        let all = problems(&r);
        let np = problem(&all, "rules-reject-with-endpoints", ":31006/tcp node-port");
        assert!(
            np.evidence
                .iter()
                .any(|e| e.contains("31006") && e.contains("reject-chain")),
            "{format}: {:?}",
            np.evidence
        );
    }
}

#[test]
fn nft_wrong_masquerade_range_is_found() {
    let snap = cka_nft();
    for (file, format) in nft_dumps(&in_sync(), &node01("10.0.0.0/16")) {
        let (_, r) = rules_on(&snap, "node01", &file);
        assert_eq!(
            ids(&r),
            pairs(&[("rules-masquerade-range", "10.0.0.0/16")]),
            "{format}"
        );
        let p = &problems(&r)[0];
        assert!(p.detail.contains("10.244.0.0/16"), "{format}: {}", p.detail);
        if format == "nft" {
            assert!(
                p.evidence.iter().any(|e| e.contains("saddr != 10.0.0.0/16")
                    && e.contains("jump mark-for-masquerade")),
                "{format}: {:?}",
                p.evidence
            );
        }
        // Everything else agrees.
        let n = node_rules(&r);
        assert_eq!((n.compared, n.agreeing), (9, 9), "{format}");
    }
}

/// `nft -j` prints a rule as one long JSON object; the evidence must still show the range.
#[test]
fn nft_json_masquerade_evidence_shows_the_range() {
    let snap = cka_nft();
    let [_, (json, _)] = nft_dumps(&in_sync(), &node01("10.0.0.0/16"));
    let (_, r) = rules_on(&snap, "node01", &json);
    let p = &problems(&r)[0];
    assert_eq!(p.id, "rules-masquerade-range");
    assert!(
        p.evidence
            .iter()
            .any(|e| e.contains("10.0.0.0") && e.contains("mark-for-masquerade")),
        "{:?}",
        p.evidence
    );
}

#[test]
fn nft_rules_on_an_iptables_node_are_left_overs() {
    for (file, format) in nft_dumps(&in_sync(), &node01("10.244.0.0/16")) {
        let (code, r) = rules_on(&cka_iptables(), "node01", &file);
        assert_eq!(code, 1, "{format}");
        assert_eq!(
            ids(&r),
            pairs(&[("rules-leftover", "9 nftables entries")]),
            "{format}"
        );
        assert!(problems(&r)[0]
            .detail
            .contains("kube-proxy runs in iptables mode"));
    }
}

/// A Service whose ClusterIP changed while the node's rules still use the old one: the rules
/// still name the Service port (in the chain name), so the stale entry is tied to it.
#[test]
fn nft_rules_from_before_a_cluster_ip_change_are_tied_to_the_service() {
    let mut old = in_sync();
    old[4].cluster_ip = "10.109.214.99".into();
    let snap = cka_nft();
    for (file, format) in nft_dumps(&old, &node01("10.244.0.0/16")) {
        let (_, r) = rules_on(&snap, "node01", &file);
        assert_eq!(
            ids(&r),
            pairs(&[
                ("rules-entry-missing", "10.109.214.77:80/tcp cluster-ip"),
                ("rules-stale-entry", "10.109.214.99:80/tcp cluster-ip"),
            ]),
            "{format}"
        );
        let all = problems(&r);
        let stale = problem(&all, "rules-stale-entry", "10.109.214.99:80/tcp cluster-ip");
        assert!(
            stale.detail.contains("lead to default/my-service")
                && stale.detail.contains("now at 10.109.214.77:80/tcp"),
            "{format}: {}",
            stale.detail
        );
    }
}

#[test]
fn nft_trace_follows_the_real_rules_to_the_pods() {
    let mut three = in_sync();
    three[4].endpoints.push("10.244.192.3:80".into());
    let snap = cka_nft();
    for (file, format) in nft_dumps(&three, &node01("10.244.0.0/16")) {
        let paths = trace("default/my-service", &snap, "node01", &file);
        assert_eq!(paths.len(), 1, "{format}: {paths:#?}");
        let p = &paths[0];
        assert!(p.observed && !p.reject && !p.local_only, "{format}");
        assert_eq!(p.mode, "nftables");
        assert_eq!(
            (p.entry.as_str(), p.address.as_str()),
            ("cluster-ip", "10.109.214.77:80/tcp")
        );
        assert_eq!(
            p.chain.as_deref(),
            Some("service-4BBKY5IM-default/my-service/tcp/"),
            "{format}"
        );
        let hops: Vec<(&str, Option<&str>)> = p
            .hops
            .iter()
            .map(|h| (h.endpoint.as_str(), h.chain.as_deref()))
            .collect();
        let my = port("default/my-service", "tcp", "", 80, None, &[]);
        let chains: Vec<String> = ["10.244.192.1:80", "10.244.192.2:80", "10.244.192.3:80"]
            .iter()
            .map(|e| format!("endpoint-{}", endpoint_base(&my, e)))
            .collect();
        assert_eq!(
            hops,
            [
                ("10.244.192.1:80", Some(chains[0].as_str())),
                ("10.244.192.2:80", Some(chains[1].as_str())),
                ("10.244.192.3:80", Some(chains[2].as_str())),
            ],
            "{format}"
        );
        // numgen random mod 3: no probabilities, a third each.
        for h in &p.hops {
            assert_eq!(h.probability, None);
            assert!((h.share - 1.0 / 3.0).abs() < 1e-9, "{format}: {}", h.share);
        }
        let api: Vec<Option<bool>> = p.hops.iter().map(|h| h.in_api).collect();
        assert_eq!(
            api,
            [Some(true), Some(true), Some(false)],
            "{format}: the third endpoint is not in the API"
        );
        assert_eq!(p.hops[0].pod.as_deref(), Some("default/nginx1"));
        assert_eq!(p.hops[0].pod_node.as_deref(), Some("node01"));
        assert!(
            p.commands
                .iter()
                .any(|c| c
                    == "nft list chain ip kube-proxy service-4BBKY5IM-default/my-service/tcp/"),
            "{format}: {:?}",
            p.commands
        );
        assert!(
            p.commands
                .iter()
                .any(|c| c == &format!("nft list chain ip kube-proxy {}", chains[2])),
            "{format}: {:?}",
            p.commands
        );

        // A NodePort Service: its ClusterIP and its NodePort, through external- to service-.
        let paths = trace("default/my-service-nodeport", &snap, "node01", &file);
        let np = path(&paths, "node-port", ":30007/tcp");
        assert!(
            np.chain
                .as_deref()
                .is_some_and(|c| c.starts_with("external-")
                    && c.ends_with("-default/my-service-nodeport/tcp/")),
            "{format}: {:?}",
            np.chain
        );
        assert_eq!(np.hops.len(), 2, "{format}");
        path(&paths, "cluster-ip", "10.108.37.176:80/tcp");
    }
}

#[test]
fn nft_trace_of_a_rejected_port_shows_the_no_endpoint_map() {
    let mut behind = in_sync();
    behind[3].endpoints.clear();
    let snap = cka_nft();
    for (file, format) in nft_dumps(&behind, &node01("10.244.0.0/16")) {
        let run = netcheck(&[
            "trace",
            "kube-system/kube-dns",
            "--port",
            "metrics",
            "--snapshot",
            &snap,
            "--rules",
            &format!("node01={file}"),
            "-o",
            "json",
            "--explain",
        ]);
        let paths = report(&run).trace.unwrap().paths;
        let p = path(&paths, "cluster-ip", "10.96.0.10:9153/tcp");
        assert!(p.reject && p.hops.is_empty(), "{format}");
        assert!(
            p.commands
                .iter()
                .any(|c| c
                    == "nft list map ip kube-proxy no-endpoint-services | grep -e '10.96.0.10'"),
            "{format}: {:?}",
            p.commands
        );
    }
}

#[test]
fn snapshots_keep_nft_rule_sets() {
    let snap = cka_nft();
    let [_, (json, _)] = nft_dumps(&in_sync(), &node01("10.244.0.0/16"));
    let out = scratch("snap").join("with-nft-rules.json");
    let run = netcheck(&[
        "snapshot",
        "--snapshot",
        &snap,
        "--rules",
        &format!("node01={json}"),
        "-o",
        &out.to_string_lossy(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = report(&netcheck(&[
        "rules",
        "--snapshot",
        &out.to_string_lossy(),
        "-o",
        "json",
    ]));
    let n = node_rules(&r);
    assert_eq!(
        (n.node.as_str(), n.format.as_deref(), n.compared, n.agreeing),
        ("node01", Some("nft-json"), 9, 9)
    );
}

// ---------------------------------------------------------------------------------------------
// nftables: the fixture another engineer made with the real nft (nft-cluster.txt / .json:
// Local traffic policies, external and load-balancer IPs, SCTP, IPv6) against its cluster's API.

#[test]
fn nft_fixture_agrees_with_its_clusters_api() {
    let snap = fixture_api_nft();
    for (file, format) in [
        (fixture("nft-cluster.txt"), "nft"),
        (fixture("nft-cluster.json"), "nft-json"),
    ] {
        let (code, r) = rules_on(&snap, "node-1", &file);
        let n = node_rules(&r);
        assert_eq!(ids(&r), vec![], "{format}: {n:#?}");
        assert_eq!(code, 0, "{format}");
        assert_eq!(
            (
                n.format.as_deref(),
                n.mode.as_deref(),
                n.expected_mode.as_deref()
            ),
            (Some(format), Some("nftables"), Some("nftables"))
        );
        // IPv4: 14 service-ips, 3 service-nodeports and 2 entries only in the no-endpoint
        // maps; IPv6: 3 service-ips and 2 no-endpoint entries (default/empty, and kube-dns's
        // metrics, which its IPv6 slice lacks).
        assert_eq!(
            (n.entries, n.compared, n.agreeing),
            (24, 24, 24),
            "{format}"
        );
        assert_eq!(
            n.masquerade,
            ["10.244.0.0/16", "fd00:10:244::/56"],
            "{format}"
        );
    }
}

/// node-1's rules read as if they were node-2's: every Local-policy entry is wrong there.
#[test]
fn nft_local_policies_are_compared_per_node() {
    let snap = fixture_api_nft();
    for (file, format) in [
        (fixture("nft-cluster.txt"), "nft"),
        (fixture("nft-cluster.json"), "nft-json"),
    ] {
        let (_, r) = rules_on(&snap, "node-2", &file);
        assert_eq!(
            ids(&r),
            pairs(&[
                // lb-local (externalTrafficPolicy Local): node-1's pod, not node-2's.
                (
                    "rules-endpoints-differ",
                    "203.0.113.10:443/tcp load-balancer"
                ),
                ("rules-endpoints-differ", ":31443/tcp node-port"),
                // node-cache (internalTrafficPolicy Local): likewise for its ClusterIP.
                ("rules-endpoints-differ", "10.96.0.53:53/udp cluster-ip"),
                // lb-remote: dropped as having no local endpoint, but node-2 has one.
                (
                    "rules-reject-with-endpoints",
                    "203.0.113.11:80/tcp load-balancer"
                ),
                ("rules-reject-with-endpoints", ":31080/tcp node-port"),
            ]),
            "{format}"
        );
        let all = problems(&r);
        let nc = problem(
            &all,
            "rules-endpoints-differ",
            "10.96.0.53:53/udp cluster-ip",
        );
        assert!(
            nc.detail.contains("missing 10.244.2.11:53")
                && nc.detail.contains("still sending to 10.244.1.11:53"),
            "{format}: {}",
            nc.detail
        );
    }
}

#[test]
fn nft_fixture_trace_shows_local_policy_paths() {
    let snap = fixture_api_nft();
    for file in [fixture("nft-cluster.txt"), fixture("nft-cluster.json")] {
        let paths = trace("default/lb-local", &snap, "node-1", &file);
        assert_eq!(paths.len(), 3, "{file}: {paths:#?}");
        let lb = path(&paths, "load-balancer", "203.0.113.10:443/tcp");
        assert!(lb.local_only, "{file}");
        let eps: Vec<&str> = lb.hops.iter().map(|h| h.endpoint.as_str()).collect();
        assert_eq!(eps, ["10.244.1.8:8443"], "{file}");
        assert_eq!(lb.hops[0].pod.as_deref(), Some("default/lb-local-1"));
        let np = path(&paths, "node-port", ":31443/tcp");
        assert!(np.local_only && np.hops.len() == 1, "{file}");
        let cip = path(&paths, "cluster-ip", "10.98.7.7:443/tcp");
        assert!(!cip.local_only && cip.hops.len() == 2, "{file}");

        let paths = trace("default/node-cache", &snap, "node-1", &file);
        let p = path(&paths, "cluster-ip", "10.96.0.53:53/udp");
        assert!(p.local_only, "{file}");
        assert!(
            p.chain.as_deref().is_some_and(|c| c.starts_with("local-")),
            "{file}: {:?}",
            p.chain
        );
        assert_eq!(p.hops.len(), 1, "{file}");
    }
}

/// A load-balancer IP without loadBalancerSourceRanges is not in firewall-ips: the dump alone
/// cannot tell it from an external IP, but the API can.
#[test]
fn nft_trace_names_a_load_balancer_ip_as_the_api_does() {
    let snap = fixture_api_nft();
    for file in [fixture("nft-cluster.txt"), fixture("nft-cluster.json")] {
        let paths = trace("default/lb-remote", &snap, "node-1", &file);
        let lb = path(&paths, "load-balancer", "203.0.113.11:80/tcp");
        assert!(lb.reject && lb.local_only && lb.hops.is_empty(), "{file}");
    }
}

// ---------------------------------------------------------------------------------------------
// ipvs: the fixtures in ipvsadm's formats against the snapshot of their cluster.

/// An ipvs dump as virtual servers with their real servers (address, weight), written back in
/// either of ipvsadm's formats, so that tests can edit the fixture.
/// A real server: address, weight, active connections.
type Real = (String, u32, u32);
/// A virtual server: protocol word of `ipvsadm -Ln` (TCP, UDP, SCTP), address, scheduler and
/// flags, its real servers.
type Virtual = (String, String, String, Vec<Real>);

#[derive(Clone)]
struct Ipvs {
    servers: Vec<Virtual>,
}

impl Ipvs {
    /// Reads tests/fixtures/rules/ipvs-cluster.txt.
    fn fixture() -> Ipvs {
        let text = std::fs::read_to_string(fixture("ipvs-cluster.txt")).unwrap();
        let mut servers: Vec<Virtual> = Vec::new();
        for l in text.lines().skip(3) {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w[0] == "->" {
                let weight = w[3].parse().unwrap();
                let active = w[4].parse().unwrap();
                servers
                    .last_mut()
                    .unwrap()
                    .3
                    .push((w[1].to_string(), weight, active));
            } else {
                servers.push((
                    w[0].to_string(),
                    w[1].to_string(),
                    w[2..].join(" "),
                    Vec::new(),
                ));
            }
        }
        assert_eq!(servers.len(), 22);
        Ipvs { servers }
    }

    fn find(&mut self, proto: &str, addr: &str) -> &mut Vec<(String, u32, u32)> {
        &mut self
            .servers
            .iter_mut()
            .find(|s| s.0 == proto && s.1 == addr)
            .unwrap_or_else(|| panic!("no virtual server {proto} {addr}"))
            .3
    }

    fn remove_real(&mut self, proto: &str, vs: &str, rs: &str) {
        let reals = self.find(proto, vs);
        let before = reals.len();
        reals.retain(|r| r.0 != rs);
        assert_eq!(reals.len() + 1, before, "{vs} has no real server {rs}");
    }

    fn add_real(&mut self, proto: &str, vs: &str, rs: &str, weight: u32, active: u32) {
        self.find(proto, vs).push((rs.into(), weight, active));
    }

    fn remove_virtual(&mut self, proto: &str, vs: &str) {
        let before = self.servers.len();
        self.servers.retain(|s| !(s.0 == proto && s.1 == vs));
        assert_eq!(self.servers.len() + 1, before, "no virtual server {vs}");
    }

    fn add_virtual(&mut self, proto: &str, vs: &str, reals: &[&str]) {
        self.servers.push((
            proto.into(),
            vs.into(),
            "rr".into(),
            reals.iter().map(|r| (r.to_string(), 1, 0)).collect(),
        ));
    }

    /// `ipvsadm -Ln`, with ipvsadm's format strings (as gen-nft.sh prints them).
    fn list(&self) -> String {
        let mut out = String::from(
            "IP Virtual Server version 1.2.1 (size=4096)\n\
             Prot LocalAddress:Port Scheduler Flags\n  \
             -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
        );
        for (proto, addr, sched, reals) in &self.servers {
            let head = format!("{proto:<4} {addr}");
            out.push_str(&format!("{head} {sched}\n"));
            for (rs, weight, active) in reals {
                out.push_str(&format!(
                    "  -> {rs:<28} {:<7} {weight:<6} {active:<10} {:<10}\n",
                    "Masq", 0
                ));
            }
        }
        out
    }

    /// `ipvsadm-save -n`.
    fn save(&self) -> String {
        let mut out = String::new();
        for (proto, addr, sched, reals) in &self.servers {
            let flag = match proto.as_str() {
                "TCP" => "-t",
                "UDP" => "-u",
                _ => "--sctp-service",
            };
            let mut words = sched.split_whitespace();
            let mut line = format!("-A {flag} {addr} -s {}", words.next().unwrap());
            if let (Some("persistent"), Some(t)) = (words.next(), words.next()) {
                line.push_str(&format!(" -p {t}"));
            }
            out.push_str(&line);
            out.push('\n');
            for (rs, weight, _) in reals {
                out.push_str(&format!("-a {flag} {addr} -r {rs} -m -w {weight}\n"));
            }
        }
        out
    }

    /// Both forms written to files: [(path, format)].
    fn files(&self) -> [(String, &'static str); 2] {
        let dir = scratch("ipvs");
        let l = dir.join("node-1.ipvsadm");
        let s = dir.join("node-1.ipvsadm-save");
        std::fs::write(&l, self.list()).unwrap();
        std::fs::write(&s, self.save()).unwrap();
        [
            (l.to_string_lossy().into_owned(), "ipvsadm-list"),
            (s.to_string_lossy().into_owned(), "ipvsadm-save"),
        ]
    }
}

#[test]
fn ipvs_fixture_rewritten_is_the_fixture() {
    // The editor above writes the fixture back byte for byte, in both formats.
    let ipvs = Ipvs::fixture();
    let list = std::fs::read_to_string(fixture("ipvs-cluster.txt")).unwrap();
    let save = std::fs::read_to_string(fixture("ipvs-cluster-save.txt")).unwrap();
    assert_eq!(ipvs.list(), list);
    assert_eq!(ipvs.save(), save);
}

#[test]
fn ipvs_fixtures_agree_with_their_clusters_api() {
    let snap = fixture_api();
    for (file, format) in [
        (fixture("ipvs-cluster.txt"), "ipvsadm-list"),
        (fixture("ipvs-cluster-save.txt"), "ipvsadm-save"),
        (fixture("ipvs-cluster-with-addrs.txt"), "ipvsadm-list"),
    ] {
        let (code, r) = rules_on(&snap, "node-1", &file);
        let n = node_rules(&r);
        assert_eq!(ids(&r), vec![], "{file}: {n:#?}");
        assert_eq!(code, 0, "{file}");
        assert_eq!(
            (
                n.format.as_deref(),
                n.mode.as_deref(),
                n.expected_mode.as_deref()
            ),
            (Some(format), Some("ipvs"), Some("ipvs"))
        );
        // 22 virtual servers: ClusterIPs, the external IP, the load-balancer IPs, and the
        // NodePorts on node-1's address 192.168.49.2; IPv4 and IPv6.
        assert_eq!((n.entries, n.compared, n.agreeing), (22, 22, 22), "{file}");
        assert!(n.masquerade.is_empty());
    }
}

#[test]
fn ipvs_node_behind_the_api_is_named_entry_by_entry() {
    let mut ipvs = Ipvs::fixture();
    // my-service lost a pod the API still lists; web still sends to one the API no longer
    // has; lb-local's NodePort sends to a pod on another node despite externalTrafficPolicy
    // Local; web's NodePort was never programmed; diameter's virtual server has no real
    // server although its pod is ready; a deleted Service's virtual server remains.
    ipvs.remove_real("TCP", "10.109.214.77:80", "10.244.2.4:80");
    ipvs.add_real("TCP", "10.100.10.20:80", "10.244.2.7:8080", 1, 0);
    ipvs.add_real("TCP", "192.168.49.2:31443", "10.244.2.9:8443", 1, 0);
    ipvs.remove_virtual("TCP", "192.168.49.2:30080");
    ipvs.remove_real("SCTP", "10.96.0.40:3868", "10.244.2.30:3868");
    ipvs.add_virtual("TCP", "10.96.100.100:80", &["10.244.2.50:80"]);
    let snap = fixture_api();
    for (file, format) in ipvs.files() {
        let (code, r) = rules_on(&snap, "node-1", &file);
        assert_eq!(code, 1, "{format}");
        assert_eq!(
            ids(&r),
            pairs(&[
                ("rules-endpoints-differ", "10.109.214.77:80/tcp cluster-ip"),
                ("rules-endpoints-differ", "10.100.10.20:80/tcp cluster-ip"),
                ("rules-endpoints-differ", ":31443/tcp node-port"),
                ("rules-endpoints-differ", "10.96.0.40:3868/sctp cluster-ip"),
                ("rules-entry-missing", ":30080/tcp node-port"),
                ("rules-stale-entry", "10.96.100.100:80/tcp cluster-ip"),
            ]),
            "{format}"
        );
        let n = node_rules(&r);
        // 21 virtual servers are left; web's NodePort is compared as missing.
        assert_eq!(
            (n.entries, n.compared, n.agreeing),
            (22, 22, 17),
            "{format}"
        );
        let all = problems(&r);
        let mine = problem(
            &all,
            "rules-endpoints-differ",
            "10.109.214.77:80/tcp cluster-ip",
        );
        assert!(
            mine.detail.contains("missing 10.244.2.4:80"),
            "{format}: {}",
            mine.detail
        );
        let web = problem(
            &all,
            "rules-endpoints-differ",
            "10.100.10.20:80/tcp cluster-ip",
        );
        assert!(
            web.detail.contains("still sending to 10.244.2.7:8080"),
            "{format}: {}",
            web.detail
        );
        assert!(
            web.evidence.iter().any(|e| e.contains("10.244.2.7:8080")),
            "{format}: {:?}",
            web.evidence
        );
        let local = problem(&all, "rules-endpoints-differ", ":31443/tcp node-port");
        assert!(
            local.detail.contains("still sending to 10.244.2.9:8443"),
            "{format}: {}",
            local.detail
        );
        let sctp = problem(
            &all,
            "rules-endpoints-differ",
            "10.96.0.40:3868/sctp cluster-ip",
        );
        assert!(
            sctp.detail.contains("missing 10.244.2.30:3868"),
            "{format}: {}",
            sctp.detail
        );
        let stale = problem(&all, "rules-stale-entry", "10.96.100.100:80/tcp cluster-ip");
        assert!(
            stale.detail.contains("left from a deleted Service"),
            "{format}: {}",
            stale.detail
        );
    }
}

/// A deleted NodePort Service's virtual server on the node's address is a NodePort left
/// behind, not a ClusterIP.
#[test]
fn ipvs_stale_nodeport_virtual_server_is_a_node_port() {
    let mut ipvs = Ipvs::fixture();
    ipvs.add_virtual("TCP", "192.168.49.2:30099", &["10.244.2.50:80"]);
    for (file, format) in ipvs.files() {
        let (_, r) = rules_on(&fixture_api(), "node-1", &file);
        let got = ids(&r);
        assert_eq!(got.len(), 1, "{format}: {got:?}");
        assert_eq!(got[0].0, "rules-stale-entry");
        assert!(
            got[0].1.contains(":30099/tcp") && got[0].1.ends_with(" node-port"),
            "{format}: {got:?}"
        );
    }
}

/// With nodePortAddresses unset (the default in ipvs mode), kube-proxy makes a NodePort's
/// virtual server on every address of the node's interfaces but kube-ipvs0
/// (pkg/proxy/ipvs/proxier.go: ipGetter.NodeIPs), e.g. the CNI bridge's 10.244.1.1 — an address
/// the Node object does not list. Those are the NodePort, in sync, not stale entries.
#[test]
fn ipvs_nodeport_on_another_host_address_is_the_nodeport() {
    let mut ipvs = Ipvs::fixture();
    ipvs.add_virtual(
        "TCP",
        "10.244.1.1:30080",
        &["10.244.1.5:8080", "10.244.2.6:8080"],
    );
    for (file, format) in ipvs.files() {
        let (code, r) = rules_on(&fixture_api(), "node-1", &file);
        assert_eq!(ids(&r), vec![], "{format}");
        assert_eq!(code, 0, "{format}");
        let n = node_rules(&r);
        assert_eq!(
            (n.entries, n.compared, n.agreeing),
            (23, 22, 22),
            "{format}"
        );
    }
}

/// kube-proxy's ipvs graceful termination: a removed endpoint's real server is kept with
/// weight 0 until its connections end (pkg/proxy/ipvs/graceful_termination.go). It gets no
/// new connections: the node is in sync.
#[test]
fn ipvs_draining_real_server_is_not_a_difference() {
    let mut ipvs = Ipvs::fixture();
    ipvs.add_real("TCP", "10.109.214.77:80", "10.244.1.99:80", 0, 3);
    for (file, format) in ipvs.files() {
        let (code, r) = rules_on(&fixture_api(), "node-1", &file);
        assert_eq!(ids(&r), vec![], "{format}");
        assert_eq!(code, 0, "{format}");
        let n = node_rules(&r);
        assert_eq!((n.compared, n.agreeing), (22, 22), "{format}");
    }
}

#[test]
fn ipvs_trace_shows_real_servers_with_their_weights() {
    let snap = fixture_api();
    for file in [
        fixture("ipvs-cluster.txt"),
        fixture("ipvs-cluster-save.txt"),
    ] {
        let paths = trace("default/my-service", &snap, "node-1", &file);
        assert_eq!(paths.len(), 2, "{file}: IPv4 and IPv6: {paths:#?}");
        let p = path(&paths, "cluster-ip", "10.109.214.77:80/tcp");
        assert!(p.observed && p.chain.is_none(), "{file}");
        assert_eq!(p.mode, "ipvs");
        #[allow(clippy::type_complexity)]
        let hops: Vec<(&str, Option<u32>, Option<&str>, Option<&str>)> = p
            .hops
            .iter()
            .map(|h| {
                (
                    h.endpoint.as_str(),
                    h.weight,
                    h.pod.as_deref(),
                    h.pod_node.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            hops,
            [
                (
                    "10.244.1.3:80",
                    Some(1),
                    Some("default/my-app-1"),
                    Some("node-1")
                ),
                (
                    "10.244.2.3:80",
                    Some(1),
                    Some("default/my-app-2"),
                    Some("node-2")
                ),
                (
                    "10.244.2.4:80",
                    Some(1),
                    Some("default/my-app-3"),
                    Some("node-2")
                ),
            ],
            "{file}"
        );
        for h in &p.hops {
            assert!((h.share - 1.0 / 3.0).abs() < 1e-9);
            assert_eq!(h.in_api, Some(true));
        }
        assert!(
            p.commands
                .iter()
                .any(|c| c == "ipvsadm -Ln -t 10.109.214.77:80"),
            "{file}: {:?}",
            p.commands
        );
        let v6 = path(&paths, "cluster-ip", "[fd00:10:96::4d]:80/tcp");
        assert_eq!(v6.hops.len(), 3, "{file}");
        assert!(
            v6.commands
                .iter()
                .any(|c| c == "ipvsadm -Ln -t [fd00:10:96::4d]:80"),
            "{file}: {:?}",
            v6.commands
        );
    }
}

/// web's NodePort is a virtual server on node-1's address: trace ties it to the Service.
#[test]
fn ipvs_trace_follows_a_nodeport_virtual_server() {
    let snap = fixture_api();
    for file in [
        fixture("ipvs-cluster.txt"),
        fixture("ipvs-cluster-save.txt"),
    ] {
        let paths = trace("default/web", &snap, "node-1", &file);
        assert_eq!(paths.len(), 2, "{file}: {paths:#?}");
        path(&paths, "cluster-ip", "10.100.10.20:80/tcp");
        let np = paths
            .iter()
            .find(|p| p.entry == "node-port")
            .unwrap_or_else(|| panic!("{file}: no node-port path: {paths:#?}"));
        assert!(np.address.contains("30080"), "{}", np.address);
        assert_eq!(np.hops.len(), 2);
    }
}

/// ipvs does not say what an address is: the API does (external IP, load-balancer ingress).
#[test]
fn ipvs_trace_names_entries_as_the_api_does() {
    let snap = fixture_api();
    for file in [
        fixture("ipvs-cluster.txt"),
        fixture("ipvs-cluster-save.txt"),
    ] {
        let paths = trace("default/ext", &snap, "node-1", &file);
        path(&paths, "external-ip", "192.168.49.100:8080/tcp");
        let paths = trace("default/lb-local", &snap, "node-1", &file);
        let lb = path(&paths, "load-balancer", "203.0.113.10:443/tcp");
        assert!(lb.local_only, "{file}: externalTrafficPolicy Local");
    }
}
