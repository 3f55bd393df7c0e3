//! NetworkPolicy benchmark (issue #17): `cargo bench --bench netpol [-- PODS POLICIES]`.
//!
//! A cluster of PODS pods (default 10,000) in 100 namespaces and POLICIES NetworkPolicies
//! (default 1,000; ten per namespace, each with pod, namespace, both-in-one-peer, ipBlock and
//! port rules, some of them egress), and times, in process with the model loaded:
//! - one `can-reach` question between two pods (index built, both sides resolved, evaluated);
//! - one between a 100-pod selector and a pod (100 pairs);
//! - the `policies` answer (every pod against every policy of its namespace, dead peers);
//!
//! and the whole `netcheck can-reach --snapshot` command (reading the snapshot included).
//! It prints the figures; nothing here asserts a time.

use netcheck::discover::{cidrs, netpol};
use netcheck::model::Cluster;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const NAMESPACES: usize = 100;

fn cluster(pods: usize, policies: usize) -> Value {
    let per_ns = pods / NAMESPACES;
    let mut pod_list = Vec::with_capacity(pods);
    for n in 0..NAMESPACES {
        for i in 0..per_ns {
            let ip = format!(
                "10.{}.{}.{}",
                64 + n / 64,
                (n % 64) * 4 + i / 250,
                i % 250 + 2
            );
            pod_list.push(json!({
                "metadata": {"name": format!("p{i}"), "namespace": format!("ns{n}"),
                    "labels": {"app": format!("app{}", i % 10), "tier": if i % 2 == 0 { "web" } else { "db" }},
                    "ownerReferences": [{"kind": "ReplicaSet", "name": format!("app{}-7c9d", i % 10), "controller": true}]},
                "spec": {"nodeName": format!("node-{}", i % 50),
                    "containers": [{"name": "main", "ports": [{"name": "http", "containerPort": 8080}]}]},
                "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}
            }));
        }
    }
    let mut nps = Vec::with_capacity(policies);
    for k in 0..policies {
        let n = k % NAMESPACES;
        let app = k / NAMESPACES % 10;
        nps.push(json!({
            "metadata": {"name": format!("np{k}"), "namespace": format!("ns{n}")},
            "spec": {
                "podSelector": {"matchLabels": {"app": format!("app{app}")}},
                "policyTypes": if k % 3 == 0 { json!(["Ingress", "Egress"]) } else { json!(["Ingress"]) },
                "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"app": format!("app{}", (app + 1) % 10)}}}],
                     "ports": [{"port": "http"}]},
                    {"from": [{"namespaceSelector": {"matchLabels": {"team": format!("t{}", n % 7)}},
                               "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}}],
                     "ports": [{"port": 8000, "endPort": 8100}]},
                    {"from": [{"ipBlock": {"cidr": "192.168.0.0/16", "except": ["192.168.1.0/24"]}}]}
                ],
                "egress": [{"to": [{"namespaceSelector": {}}], "ports": [{"port": 53, "protocol": "UDP"}]},
                           {"to": [{"podSelector": {"matchLabels": {"tier": "db"}}}]}]
            }
        }));
    }
    let namespaces: Vec<Value> = (0..NAMESPACES)
        .map(|n| json!({"metadata": {"name": format!("ns{n}"), "labels": {"team": format!("t{}", n % 7), "kubernetes.io/metadata.name": format!("ns{n}")}}}))
        .collect();
    json!({
        "apiVersion": "netcheck/v1", "kind": "Snapshot",
        "nodes": (0..50).map(|i| json!({"metadata": {"name": format!("node-{i}")}})).collect::<Vec<_>>(),
        "daemonSets": [{"metadata": {"name": "calico-node", "namespace": "kube-system"}, "spec": {}}],
        "pods": pod_list,
        "namespaces": namespaces,
        "networkPolicies": nps
    })
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    times.sort();
    (times[runs / 2], last.unwrap())
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let pods = args.first().copied().unwrap_or(10_000);
    let policies = args.get(1).copied().unwrap_or(1_000);
    let v = cluster(pods, policies);
    let mut c: Cluster = serde_json::from_value(v.clone()).unwrap();
    c.compact();
    let cni = cidrs::discover(&c, &Default::default()).cni;
    println!(
        "netpol benchmark: {} pods in {NAMESPACES} namespaces, {} NetworkPolicies, CNI {}",
        c.pod_count(),
        policies,
        cni.name
    );

    let q = netpol::parse_query("ns7/p3", "ns42/p10", Some("8080/TCP")).unwrap();
    let (t, a) = time(21, || netpol::can_reach(&c, &q, &cni).unwrap());
    println!(
        "  can-reach pod -> pod (in process, median of 21):        {:>8.2} ms  verdict {:?}",
        t.as_secs_f64() * 1e3,
        a.verdict
    );
    let q = netpol::parse_query("ns7/tier=web", "ns42/p11", Some("8080")).unwrap();
    let (t, a) = time(11, || netpol::can_reach(&c, &q, &cni).unwrap());
    println!("  can-reach 50 pods -> pod (in process, median of 11):    {:>8.2} ms  {} pairs: {} allowed, {} denied", t.as_secs_f64() * 1e3, a.pairs_total, a.allowed, a.denied);
    let (t, a) = time(5, || netpol::policies(&c, &cni));
    println!("  policies answer (in process, median of 5):              {:>8.2} ms  {} selecting nothing, {} dead peers", t.as_secs_f64() * 1e3, a.select_nothing.len(), a.dead_peers.len());

    let dir = std::env::temp_dir().join(format!("netcheck-netpol-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let snap = dir.join("snapshot.json");
    std::fs::write(&snap, serde_json::to_vec(&v).unwrap()).unwrap();
    let bin = env!("CARGO_BIN_EXE_netcheck");
    let (t, out) = time(5, || {
        std::process::Command::new(bin)
            .args([
                "can-reach",
                "ns7/p3",
                "ns42/p10",
                "--port",
                "8080",
                "-o",
                "json",
                "--snapshot",
            ])
            .arg(&snap)
            .output()
            .unwrap()
    });
    println!(
        "  netcheck can-reach --snapshot (whole command, median of 5): {:>6.0} ms  exit {}  ({} MB snapshot)",
        t.as_secs_f64() * 1e3,
        out.status.code().unwrap_or(-1),
        std::fs::metadata(&snap).map(|m| m.len() >> 20).unwrap_or(0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
