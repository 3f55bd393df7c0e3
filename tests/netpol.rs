//! `netcheck can-reach` and `netcheck policies` (#17) against published NetworkPolicy semantics,
//! each case run from a snapshot and live against the test API server.
//!
//! Sources:
//! - The upstream conformance tests, kubernetes/kubernetes test/e2e/network/netpol
//!   (network_policy.go): three namespaces x, y, z with pods a, b, c each, serving 80 and 81,
//!   and for each policy a truth table of which pod may reach which. The cases below take the
//!   tests' names and policies; the tables are written here by hand from the API's semantics,
//!   with loopback left out as those tests leave it out (kubernetes/kubernetes#95879).
//! - The Kubernetes documentation, "Network Policies" (concepts/services-networking/
//!   network-policies): the test-network-policy example, the default policies, the
//!   `to`/`from` selector behaviour and port ranges (endPort).
//! - The AdminNetworkPolicy API reference (network-policy-api.sigs.k8s.io): priority order,
//!   Allow/Deny/Pass, then NetworkPolicy, then the BaselineAdminNetworkPolicy.

mod common;

use common::*;
use netcheck::model::Cluster;
use netcheck::report::{Report, Verdict};
use netcheck_testkit::apiserver::{ApiServer, Options};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const NS: [&str; 3] = ["x", "y", "z"];
const PODS: [&str; 3] = ["a", "b", "c"];

fn ip(ns: usize, pod: usize) -> String {
    format!("10.244.1.{}", 10 + ns * 10 + pod)
}

fn pod(ns: &str, name: &str, ip: &str, labels: Value, host_network: bool) -> Value {
    let mut spec = json!({
        "nodeName": "kind-worker",
        "containers": [{"name": "main", "image": "registry.k8s.io/e2e-test-images/agnhost:2.47", "ports": [
            {"name": "serve-80-tcp", "containerPort": 80},
            {"name": "serve-81-tcp", "containerPort": 81},
            {"name": "serve-80-udp", "containerPort": 80, "protocol": "UDP"}
        ]}]
    });
    if host_network {
        spec["hostNetwork"] = json!(true);
    }
    json!({
        "metadata": {"name": name, "namespace": ns, "labels": labels,
            "ownerReferences": [{"kind": "ReplicaSet", "name": format!("{name}-5f7d"), "controller": true}]},
        "spec": spec,
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": "True"}]}
    })
}

/// kind-default (kindnetd v20250214: enforces) with the e2e model: namespaces x, y, z labelled
/// ns=NAME, pods a, b, c labelled pod=NAME (and matrix=1, for selecting a namespace's pods).
fn e2e_cluster(policies: Value) -> Value {
    let path = root().join("tests/scenarios/kind-default/cluster.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let pods = v["pods"].as_array_mut().unwrap();
    for (i, ns) in NS.iter().enumerate() {
        for (j, p) in PODS.iter().enumerate() {
            pods.push(pod(
                ns,
                p,
                &ip(i, j),
                json!({"pod": p, "matrix": "1"}),
                false,
            ));
        }
    }
    v["namespaces"] = json!(NS
        .iter()
        .map(|n| json!({"metadata": {"name": n, "labels": {"ns": n, "kubernetes.io/metadata.name": n}}}))
        .collect::<Vec<_>>());
    v["networkPolicies"] = policies;
    v
}

fn np(ns: &str, name: &str, spec: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": ns}, "spec": spec})
}

struct Paths {
    snapshot: String,
    kubeconfig: String,
    _server: ApiServer,
}

fn serve(v: &Value) -> Paths {
    let dir = scratch("netpol");
    let snap = dir.join("cluster.json");
    std::fs::write(&snap, serde_json::to_string(v).unwrap()).unwrap();
    let cluster: Cluster = serde_json::from_value(v.clone()).unwrap();
    let server = ApiServer::start(cluster, Options::default()).unwrap();
    let kc = dir.join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    Paths {
        snapshot: snap.to_string_lossy().into_owned(),
        kubeconfig: kc.to_string_lossy().into_owned(),
        _server: server,
    }
}

/// `can-reach` on both paths; the exit code must be the documented one for the verdict.
fn can_reach(p: &Paths, from: &str, to: &str, port: Option<&str>) -> [Report; 2] {
    let run = |src: [&str; 2]| {
        let mut a = vec!["can-reach", from, to, "-o", "json", src[0], src[1]];
        if let Some(port) = port {
            a.extend(["--port", port]);
        }
        let r = netcheck(&a);
        let rep = report(&r);
        let verdict = rep.reach.as_ref().expect("reach answer").verdict;
        let want = if verdict == Verdict::Allowed { 0 } else { 1 };
        assert_eq!(r.code, want, "{a:?}: {}", r.stderr);
        rep
    };
    [
        run(["--snapshot", &p.snapshot]),
        run(["--kubeconfig", &p.kubeconfig]),
    ]
}

/// The whole 9x9 table: one can-reach per namespace pair, on both paths.
fn matrix(v: &Value, port: &str) -> [BTreeMap<(String, String), Verdict>; 2] {
    let p = serve(v);
    let mut out = [BTreeMap::new(), BTreeMap::new()];
    std::thread::scope(|s| {
        let runs: Vec<_> = NS
            .iter()
            .flat_map(|a| NS.iter().map(move |b| (a, b)))
            .map(|(a, b)| {
                let p = &p;
                s.spawn(move || {
                    can_reach(
                        p,
                        &format!("{a}/matrix=1"),
                        &format!("{b}/matrix=1"),
                        Some(port),
                    )
                })
            })
            .collect();
        for h in runs {
            for (i, rep) in h.join().unwrap().iter().enumerate() {
                let r = rep.reach.as_ref().unwrap();
                assert_eq!(r.pairs_total, 9);
                for pair in &r.pairs {
                    let to = pair.to.split(':').next().unwrap().to_string();
                    out[i].insert((pair.from.clone(), to), pair.verdict);
                }
            }
        }
    });
    out
}

/// A truth table as the e2e tests print them: one row per client, one column per server,
/// `.` allowed, `X` denied, `-` loopback (not judged).
fn table(rows: [&str; 9]) -> BTreeMap<(String, String), Verdict> {
    let names: Vec<String> = NS
        .iter()
        .flat_map(|n| PODS.iter().map(move |p| format!("{n}/{p}")))
        .collect();
    let mut m = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<char> = row.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(cells.len(), 9, "row {i}");
        for (j, c) in cells.iter().enumerate() {
            let v = match c {
                '.' => Verdict::Allowed,
                'X' => Verdict::Denied,
                '-' => continue,
                _ => panic!("cell {c}"),
            };
            m.insert((names[i].clone(), names[j].clone()), v);
        }
    }
    m
}

fn assert_table(v: &Value, port: &str, want: [&str; 9]) {
    let want = table(want);
    for (path, got) in ["snapshot", "live"].iter().zip(matrix(v, port)) {
        let wrong: Vec<String> = want
            .iter()
            .filter(|(k, w)| got.get(*k) != Some(w))
            .map(|((f, t), w)| {
                format!(
                    "{f} -> {t}: want {w:?}, got {:?}",
                    got.get(&(f.clone(), t.clone()))
                )
            })
            .collect();
        assert!(wrong.is_empty(), "{path} on {port}:\n{}", wrong.join("\n"));
    }
}

//                                 to: x/a x/b x/c  y/a y/b y/c  z/a z/b z/c
const ALL: [&str; 9] = [
    "- . .  . . .  . . .",
    ". - .  . . .  . . .",
    ". . -  . . .  . . .",
    ". . .  - . .  . . .",
    ". . .  . - .  . . .",
    ". . .  . . -  . . .",
    ". . .  . . .  - . .",
    ". . .  . . .  . - .",
    ". . .  . . .  . . -",
];

#[test]
fn no_policies_everything_is_allowed() {
    assert_table(&e2e_cluster(json!([])), "80/TCP", ALL);
}

#[test]
fn e2e_default_deny_ingress() {
    // "should support a 'default-deny-ingress' policy"
    let v = e2e_cluster(json!([np(
        "x",
        "deny-ingress",
        json!({"podSelector": {}, "policyTypes": ["Ingress"]})
    )]));
    assert_table(
        &v,
        "80/TCP",
        [
            "- X X  . . .  . . .",
            "X - X  . . .  . . .",
            "X X -  . . .  . . .",
            "X X X  - . .  . . .",
            "X X X  . - .  . . .",
            "X X X  . . -  . . .",
            "X X X  . . .  - . .",
            "X X X  . . .  . - .",
            "X X X  . . .  . . -",
        ],
    );
}

#[test]
fn e2e_default_deny_all() {
    // "should support a 'default-deny-all' policy": ingress and egress of every pod in x.
    let v = e2e_cluster(json!([np(
        "x",
        "deny-all",
        json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    )]));
    assert_table(
        &v,
        "80/TCP",
        [
            "- X X  X X X  X X X",
            "X - X  X X X  X X X",
            "X X -  X X X  X X X",
            "X X X  - . .  . . .",
            "X X X  . - .  . . .",
            "X X X  . . -  . . .",
            "X X X  . . .  - . .",
            "X X X  . . .  . - .",
            "X X X  . . .  . . -",
        ],
    );
}

#[test]
fn e2e_pod_selector_within_the_server_namespace() {
    // "should enforce policy to allow traffic from pods within server namespace based on
    // PodSelector": x/a admits x/b only.
    let v = e2e_cluster(json!([np(
        "x",
        "x-a-from-b",
        json!({
            "podSelector": {"matchLabels": {"pod": "a"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}]
        })
    )]));
    assert_table(
        &v,
        "80/TCP",
        [
            "- . .  . . .  . . .",
            ". - .  . . .  . . .",
            "X . -  . . .  . . .",
            "X . .  - . .  . . .",
            "X . .  . - .  . . .",
            "X . .  . . -  . . .",
            "X . .  . . .  - . .",
            "X . .  . . .  . - .",
            "X . .  . . .  . . -",
        ],
    );
}

#[test]
fn e2e_namespace_selector_with_match_expressions() {
    // "should enforce policy to allow traffic only from a different namespace, based on
    // NamespaceSelector" with an In expression: x/a admits every pod of y.
    let v = e2e_cluster(json!([np(
        "x",
        "x-a-from-y",
        json!({
            "podSelector": {"matchLabels": {"pod": "a"}},
            "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [{"key": "ns", "operator": "In", "values": ["y"]}]}}]}]
        })
    )]));
    assert_table(
        &v,
        "80/TCP",
        [
            "- . .  . . .  . . .",
            "X - .  . . .  . . .",
            "X . -  . . .  . . .",
            ". . .  - . .  . . .",
            ". . .  . - .  . . .",
            ". . .  . . -  . . .",
            "X . .  . . .  - . .",
            "X . .  . . .  . - .",
            "X . .  . . .  . . -",
        ],
    );
}

#[test]
fn e2e_pod_selector_or_namespace_selector_and_both_in_one_peer() {
    // "should enforce policy based on PodSelector or NamespaceSelector" (two peers: either) and
    // "... PodSelector and NamespaceSelector" (one peer: both), on x/a and x/b respectively.
    let v = e2e_cluster(json!([
        np(
            "x",
            "x-a-either",
            json!({
                "podSelector": {"matchLabels": {"pod": "a"}},
                "ingress": [{"from": [
                    {"namespaceSelector": {"matchLabels": {"ns": "y"}}},
                    {"podSelector": {"matchLabels": {"pod": "b"}}}
                ]}]
            })
        ),
        np(
            "x",
            "x-b-both",
            json!({
                "podSelector": {"matchLabels": {"pod": "b"}},
                "ingress": [{"from": [
                    {"namespaceSelector": {"matchLabels": {"ns": "z"}}, "podSelector": {"matchLabels": {"pod": "c"}}}
                ]}]
            })
        )
    ]));
    // x/a: all of y, and x/b (podSelector alone is the policy's namespace). x/b: only z/c.
    assert_table(
        &v,
        "80/TCP",
        [
            "- X .  . . .  . . .",
            ". - .  . . .  . . .",
            "X X -  . . .  . . .",
            ". X .  - . .  . . .",
            ". X .  . - .  . . .",
            ". X .  . . -  . . .",
            "X X .  . . .  - . .",
            "X X .  . . .  . - .",
            "X . .  . . .  . . -",
        ],
    );
}

#[test]
fn e2e_ports_numbered_and_named() {
    // "should enforce policy based on Ports" (x/a admits y on 81 only) and "should allow
    // ingress access on one named port" (x/b admits everyone on serve-81-tcp only).
    let v = e2e_cluster(json!([
        np(
            "x",
            "x-a-81-from-y",
            json!({
                "podSelector": {"matchLabels": {"pod": "a"}},
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}],
                             "ports": [{"port": 81, "protocol": "TCP"}]}]
            })
        ),
        np(
            "x",
            "x-b-named",
            json!({
                "podSelector": {"matchLabels": {"pod": "b"}},
                "ingress": [{"ports": [{"port": "serve-81-tcp"}]}]
            })
        )
    ]));
    assert_table(
        &v,
        "80/TCP",
        [
            "- X .  . . .  . . .",
            "X - .  . . .  . . .",
            "X X -  . . .  . . .",
            "X X .  - . .  . . .",
            "X X .  . - .  . . .",
            "X X .  . . -  . . .",
            "X X .  . . .  - . .",
            "X X .  . . .  . - .",
            "X X .  . . .  . . -",
        ],
    );
    assert_table(
        &v,
        "81/TCP",
        [
            "- . .  . . .  . . .",
            "X - .  . . .  . . .",
            "X . -  . . .  . . .",
            ". . .  - . .  . . .",
            ". . .  . - .  . . .",
            ". . .  . . -  . . .",
            "X . .  . . .  - . .",
            "X . .  . . .  . - .",
            "X . .  . . .  . . -",
        ],
    );
    // The rule names TCP: UDP on 80 is not allowed by x/a's policy either (default deny).
    assert_table(
        &v,
        "80/UDP",
        [
            "- X .  . . .  . . .",
            "X - .  . . .  . . .",
            "X X -  . . .  . . .",
            "X X .  - . .  . . .",
            "X X .  . - .  . . .",
            "X X .  . . -  . . .",
            "X X .  . . .  - . .",
            "X X .  . . .  . - .",
            "X X .  . . .  . . -",
        ],
    );
}

#[test]
fn e2e_egress_to_another_namespace_and_client_side_deny() {
    // "should enforce egress policy allowing traffic to a server in a different namespace
    // based on PodSelector and NamespaceSelector" (x/a may reach y/a only), and "should
    // support denying of egress traffic on the client side (even if the server explicitly
    // allows this traffic)" (z/a may send nothing, though y/b admits it).
    let v = e2e_cluster(json!([
        np(
            "x",
            "x-a-to-y-a",
            json!({
                "podSelector": {"matchLabels": {"pod": "a"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}, "podSelector": {"matchLabels": {"pod": "a"}}}]}]
            })
        ),
        np(
            "z",
            "z-a-no-egress",
            json!({
                "podSelector": {"matchLabels": {"pod": "a"}},
                "policyTypes": ["Egress"]
            })
        ),
        np(
            "y",
            "y-b-from-z-a",
            json!({
                "podSelector": {"matchLabels": {"pod": "b"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "z"}}, "podSelector": {"matchLabels": {"pod": "a"}}}]}]
            })
        )
    ]));
    assert_table(
        &v,
        "80/TCP",
        [
            "- X X  . X X  X X X",
            ". - .  . X .  . . .",
            ". . -  . X .  . . .",
            ". . .  - X .  . . .",
            ". . .  . - .  . . .",
            ". . .  . X -  . . .",
            "X X X  X X X  - X X",
            ". . .  . X .  . - .",
            ". . .  . X .  . . -",
        ],
    );
}

#[test]
fn e2e_ingress_and_egress_together_and_policy_types_default() {
    // "should work with Ingress, Egress specified together" (x/a: in from x/b, out to y), and
    // the API's default for an absent policyTypes with egress rules: Ingress and Egress
    // (z/c: out to x only, and in from nothing).
    let v = e2e_cluster(json!([
        np(
            "x",
            "x-a-both",
            json!({
                "podSelector": {"matchLabels": {"pod": "a"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}],
                "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}]
            })
        ),
        np(
            "z",
            "z-c-defaulted",
            json!({
                "podSelector": {"matchLabels": {"pod": "c"}},
                "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "x"}}}]}]
            })
        )
    ]));
    assert_table(
        &v,
        "80/TCP",
        [
            "- X X  . . .  X X X",
            ". - .  . . .  . . X",
            "X . -  . . .  . . X",
            "X . .  - . .  . . X",
            "X . .  . - .  . . X",
            "X . .  . . -  . . X",
            "X . .  . . .  - . X",
            "X . .  . . .  . - X",
            "X . .  X X X  X X -",
        ],
    );
}

#[test]
fn e2e_ip_block_except_and_stacked_policies() {
    // "should enforce except clause while egress access to server in CIDR block" (x/a may
    // reach the pod range except y/b's address) and "should enforce multiple, stacked
    // policies with overlapping podSelectors" (y/c admits x and z through two policies).
    let v = e2e_cluster(json!([
        np(
            "x",
            "x-a-cidr",
            json!({
                "podSelector": {"matchLabels": {"pod": "a"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": "10.244.0.0/16", "except": [format!("{}/32", ip(1, 1))]}}]}]
            })
        ),
        np(
            "y",
            "y-c-from-x",
            json!({
                "podSelector": {"matchLabels": {"pod": "c"}},
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "x"}}}]}]
            })
        ),
        np(
            "y",
            "y-all-from-z",
            json!({
                "podSelector": {},
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "z"}}}]}]
            })
        )
    ]));
    // y-all-from-z isolates all of y: y/a and y/b admit only z; y/c admits x and z.
    assert_table(
        &v,
        "80/TCP",
        [
            "- . .  X X .  . . .",
            ". - .  X X .  . . .",
            ". . -  X X .  . . .",
            ". . .  - X X  . . .",
            ". . .  X - X  . . .",
            ". . .  X X -  . . .",
            ". . .  . . .  - . .",
            ". . .  . . .  . - .",
            ". . .  . . .  . . -",
        ],
    );
}

#[test]
fn admin_network_policies_in_their_documented_precedence() {
    // ANPs by priority (lower first; the first matching rule decides, Pass hands over to
    // NetworkPolicy), then NetworkPolicy, then the BaselineAdminNetworkPolicy.
    let mut v = e2e_cluster(json!([np(
        "x",
        "x-a-from-z-b",
        json!({
            "podSelector": {"matchLabels": {"pod": "a"}},
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "z"}}, "podSelector": {"matchLabels": {"pod": "b"}}}]}]
        })
    )]));
    let anp = |name: &str, priority: i64, rule: Value| {
        json!({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
            "metadata": {"name": name},
            "spec": {"priority": priority, "subject": {"namespaces": {"matchLabels": {"ns": "x"}}}, "ingress": [rule]}})
    };
    v["objects"] = json!([
        anp("pass-z", 5, json!({"name": "z-to-netpol", "action": "Pass", "from": [{"namespaces": {"matchLabels": {"ns": "z"}}}]})),
        anp("deny-y", 10, json!({"name": "no-y", "action": "Deny", "from": [{"namespaces": {"matchLabels": {"ns": "y"}}}]})),
        // Shadowed: priority 20 comes after deny-y.
        anp("allow-y-a", 20, json!({"name": "y-a", "action": "Allow", "from": [{"pods": {"namespaceSelector": {"matchLabels": {"ns": "y"}}, "podSelector": {"matchLabels": {"pod": "a"}}}}]})),
        {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
         "metadata": {"name": "default"},
         "spec": {"subject": {"namespaces": {"matchLabels": {"ns": "x"}}},
                  "ingress": [{"name": "default-deny", "action": "Deny", "from": [{"namespaces": {}}]}]}}
    ]);
    // Into x: y denied by ANP; z passed to NetworkPolicy (x/a admits z/b; x/b, x/c are not
    // selected, so the baseline denies); x itself: no ANP rule, x/a isolated by its
    // NetworkPolicy, x/b and x/c denied by the baseline.
    assert_table(
        &v,
        "80/TCP",
        [
            "- X X  . . .  . . .",
            "X - X  . . .  . . .",
            "X X -  . . .  . . .",
            "X X X  - . .  . . .",
            "X X X  . - .  . . .",
            "X X X  . . -  . . .",
            "X X X  . . .  - . .",
            ". X X  . . .  . - .",
            "X X X  . . .  . . -",
        ],
    );
    let p = serve(&v);
    for rep in can_reach(&p, "y/a", "x/a", Some("80")) {
        let r = rep.reach.unwrap();
        let ing = r.pairs[0].ingress.as_ref().unwrap();
        assert_eq!(ing.decided_by, "admin");
        assert!(ing.reasons[0].contains("deny-y"), "{:?}", ing.reasons);
        // No NetworkPolicy can override an AdminNetworkPolicy's Deny: no YAML.
        assert_eq!(r.suggestion.unwrap().yaml, "");
    }
}

/// The documentation's example "test-network-policy": role=db in default admits
/// 172.17.0.0/16 except 172.17.1.0/24, namespaces project=myproject and role=frontend pods
/// of its own namespace, on TCP 6379; it may send to 10.0.0.0/24 on TCP 5978.
fn docs_cluster() -> Value {
    let path = root().join("tests/scenarios/kind-default/cluster.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let pods = v["pods"].as_array_mut().unwrap();
    pods.push(pod(
        "default",
        "db",
        "10.244.1.50",
        json!({"role": "db", "pod-template-hash": "5f7d"}),
        false,
    ));
    pods.push(pod(
        "default",
        "frontend",
        "10.244.1.51",
        json!({"role": "frontend"}),
        false,
    ));
    pods.push(pod(
        "default",
        "other",
        "10.244.1.52",
        json!({"role": "other"}),
        false,
    ));
    pods.push(pod(
        "myproject",
        "client",
        "10.244.1.53",
        json!({"app": "client"}),
        false,
    ));
    pods.push(pod(
        "elsewhere",
        "frontend",
        "10.244.1.54",
        json!({"role": "frontend"}),
        false,
    ));
    pods.push(pod(
        "default",
        "host-agent",
        "172.18.0.3",
        json!({"role": "db"}),
        true,
    ));
    v["namespaces"] = json!([
        {"metadata": {"name": "default", "labels": {"kubernetes.io/metadata.name": "default"}}},
        {"metadata": {"name": "myproject", "labels": {"kubernetes.io/metadata.name": "myproject", "project": "myproject"}}},
        {"metadata": {"name": "elsewhere", "labels": {"kubernetes.io/metadata.name": "elsewhere"}}}
    ]);
    v["networkPolicies"] = json!([np(
        "default",
        "test-network-policy",
        json!({
            "podSelector": {"matchLabels": {"role": "db"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [
                {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
                {"podSelector": {"matchLabels": {"role": "frontend"}}}
            ], "ports": [{"protocol": "TCP", "port": 6379}]}],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 5978}]}]
        })
    )]);
    v
}

#[test]
fn docs_example_test_network_policy() {
    let p = serve(&docs_cluster());
    let cases: &[(&str, &str, Option<&str>, Verdict)] = &[
        (
            "default/frontend",
            "default/db",
            Some("6379"),
            Verdict::Allowed,
        ),
        (
            "default/frontend",
            "default/db",
            Some("80"),
            Verdict::Denied,
        ),
        (
            "default/frontend",
            "default/db",
            Some("6379/UDP"),
            Verdict::Denied,
        ),
        ("default/other", "default/db", Some("6379"), Verdict::Denied),
        (
            "myproject/client",
            "default/db",
            Some("6379"),
            Verdict::Allowed,
        ),
        // podSelector alone means the policy's own namespace.
        (
            "elsewhere/frontend",
            "default/db",
            Some("6379"),
            Verdict::Denied,
        ),
        ("172.17.0.5", "default/db", Some("6379"), Verdict::Allowed),
        ("172.17.1.5", "default/db", Some("6379"), Verdict::Denied),
        ("172.17.1.0/25", "default/db", Some("6379"), Verdict::Denied),
        ("192.168.0.1", "default/db", Some("6379"), Verdict::Denied),
        ("default/db", "10.0.0.5", Some("5978"), Verdict::Allowed),
        ("default/db", "10.0.0.5", Some("80"), Verdict::Denied),
        ("default/db", "8.8.8.8", Some("5978"), Verdict::Denied),
        // Egress of db is isolated too: even to a pod that admits everything.
        (
            "default/db",
            "default/frontend",
            Some("80"),
            Verdict::Denied,
        ),
        // Not selected: frontend's own traffic is not isolated.
        ("default/frontend", "default/other", None, Verdict::Allowed),
        // hostNetwork pods are never selected, whatever their labels.
        (
            "default/host-agent",
            "8.8.8.8",
            Some("53/UDP"),
            Verdict::Allowed,
        ),
        (
            "192.168.0.1",
            "default/host-agent",
            Some("22"),
            Verdict::Allowed,
        ),
    ];
    for (from, to, port, want) in cases {
        for (path, rep) in ["snapshot", "live"]
            .iter()
            .zip(can_reach(&p, from, to, *port))
        {
            let r = rep.reach.unwrap();
            assert_eq!(
                r.verdict, *want,
                "{path}: {from} -> {to} {port:?}: {:#?}",
                r.pairs
            );
            assert_eq!(r.enforcement.enforces, "yes", "kindnetd v20250214 enforces");
        }
    }
    // The denied flow's suggestion: exactly this pair and port, on the receiving side; the
    // pod's generated label is left out.
    for rep in can_reach(&p, "default/other", "default/db", Some("6379")) {
        let r = rep.reach.unwrap();
        let ing = r.pairs[0].ingress.as_ref().unwrap();
        assert_eq!(ing.decided_by, "networkpolicy");
        assert_eq!(ing.selected_by, ["default/test-network-policy"]);
        assert!(
            ing.reasons.iter().any(|x| x.starts_with("default deny")),
            "{:?}",
            ing.reasons
        );
        let s = r.suggestion.expect("suggestion");
        let doc: Value = serde_saphyr::from_str(&s.yaml).unwrap();
        assert_eq!(doc["kind"], "NetworkPolicy");
        assert_eq!(doc["metadata"]["namespace"], "default");
        assert_eq!(
            doc["spec"]["podSelector"],
            json!({"matchLabels": {"role": "db"}})
        );
        assert_eq!(doc["spec"]["policyTypes"], json!(["Ingress"]));
        assert_eq!(
            doc["spec"]["ingress"],
            json!([{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "default"}},
                             "podSelector": {"matchLabels": {"role": "other"}}}],
                    "ports": [{"protocol": "TCP", "port": 6379}]}])
        );
    }
}

#[test]
fn end_port_range_and_a_service_target_port() {
    // The documentation's port range example: 32000 to 32768 on TCP.
    let mut v = docs_cluster();
    v["networkPolicies"] = json!([
        np(
            "default",
            "multi-port-egress",
            json!({
                "podSelector": {"matchLabels": {"role": "db"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}]}]
            })
        ),
        np(
            "default",
            "db-on-80",
            json!({
                "podSelector": {"matchLabels": {"role": "db"}},
                "ingress": [{"ports": [{"port": 80}]}]
            })
        )
    ]);
    // Service port 6379 targets the pods' port 80: the policy sees 80.
    v["services"].as_array_mut().unwrap().push(json!({
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.50", "clusterIPs": ["10.96.0.50"],
                 "selector": {"role": "db"}, "ports": [{"port": 6379, "targetPort": 80, "protocol": "TCP"}]}
    }));
    let p = serve(&v);
    for (to, port, want) in [
        ("10.0.0.9", "31999", Verdict::Denied),
        ("10.0.0.9", "32000", Verdict::Allowed),
        ("10.0.0.9", "32768", Verdict::Allowed),
        ("10.0.0.9", "32769", Verdict::Denied),
    ] {
        for rep in can_reach(&p, "default/db", to, Some(port)) {
            assert_eq!(rep.reach.unwrap().verdict, want, "{to}:{port}");
        }
    }
    for rep in can_reach(&p, "default/other", "svc/default/db", Some("6379")) {
        let r = rep.reach.unwrap();
        assert_eq!(r.verdict, Verdict::Allowed, "{:#?}", r.pairs);
        // The selector takes the hostNetwork pod too, which no policy selects.
        assert_eq!(r.pairs_total, 2, "{:#?}", r.pairs);
        let tos: Vec<&str> = r.pairs.iter().map(|p| p.to.as_str()).collect();
        assert!(tos.contains(&"default/db:80/TCP"), "{tos:?}");
    }
}

#[test]
fn policies_command_isolation_and_findings() {
    let mut v = e2e_cluster(json!([
        np(
            "x",
            "deny-ingress",
            json!({"podSelector": {}, "policyTypes": ["Ingress"]})
        ),
        np(
            "y",
            "y-a-out",
            json!({"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"]})
        ),
        np(
            "y",
            "typo",
            json!({"podSelector": {"matchLabels": {"pod": "aa"}}})
        ),
        np(
            "z",
            "dead",
            json!({
                "podSelector": {"matchLabels": {"pod": "a"}},
                "ingress": [{"from": [
                    {"podSelector": {"matchLabels": {"app": "gone"}}},
                    {"namespaceSelector": {"matchLabels": {"team": "nobody"}}},
                    {"namespaceSelector": {"matchLabels": {"ns": "x"}}, "podSelector": {"matchLabels": {"pod": "b"}}}
                ]}]
            })
        )
    ]));
    v["objects"] = json!([{"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "l7", "namespace": "x"}, "spec": {}}]);
    let p = serve(&v);
    for src in [["--snapshot", &p.snapshot], ["--kubeconfig", &p.kubeconfig]] {
        let r = netcheck(&["policies", "-o", "json", src[0], src[1]]);
        assert_eq!(r.code, 1, "warnings: {}", r.stderr);
        let rep = report(&r);
        let a = rep.policies.as_ref().expect("policies");
        let ns = |n: &str| a.namespaces.iter().find(|x| x.namespace == n).unwrap();
        assert_eq!(ns("x").ingress_isolated, ["a", "b", "c"]);
        assert!(ns("x").egress_isolated.is_empty());
        assert_eq!(ns("y").egress_isolated, ["a"]);
        // typo has no egress rules and no policyTypes: Ingress only, and selects no pod.
        assert!(ns("y").ingress_isolated.is_empty());
        assert_eq!(ns("z").ingress_isolated, ["a"]);
        assert_eq!(a.select_nothing, ["y/typo"]);
        let dead: Vec<&str> = a.dead_peers.iter().map(|d| d.peer.as_str()).collect();
        assert_eq!(
            dead,
            ["ingress[0].from[0]", "ingress[0].from[1]"],
            "{:?}",
            a.dead_peers
        );
        let ids: Vec<&str> = rep.findings.iter().map(|f| f.id.as_str()).collect();
        for id in ["netpol-selects-nothing", "netpol-peer-matches-nothing"] {
            assert!(ids.contains(&id), "{ids:?}");
        }
        // The live path reads Cilium's policies only where Cilium runs (here kindnet does);
        // the snapshot holds the object, and names it.
        if src[0] == "--snapshot" {
            assert!(ids.contains(&"netpol-not-evaluated"), "{ids:?}");
        }
        assert!(!ids.contains(&"netpol-not-enforced"), "{ids:?}");
    }
}

#[test]
fn policies_on_a_cni_that_ignores_them_is_a_finding() {
    let path = root().join("tests/scenarios/minikube-flannel/cluster.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["networkPolicies"] = json!([np(
        "default",
        "deny-ingress",
        json!({"podSelector": {}, "policyTypes": ["Ingress"]})
    )]);
    let p = serve(&v);
    for src in [["--snapshot", &p.snapshot], ["--kubeconfig", &p.kubeconfig]] {
        let r = netcheck(&["report", "-o", "json", "--fail-on", "never", src[0], src[1]]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let rep = report(&r);
        let f = rep
            .findings
            .iter()
            .find(|f| f.id == "netpol-not-enforced")
            .expect("netpol-not-enforced");
        assert!(f.message.contains("flannel"), "{}", f.message);
        assert_eq!(rep.policies.unwrap().enforcement.enforces, "no");
    }
}

#[test]
fn bad_input_exits_2_with_what_was_expected() {
    let p = serve(&e2e_cluster(json!([])));
    let cases: &[(&[&str], &str)] = &[
        (&["x", "y/a"], "FROM 'x': no namespace"),
        (&["x/a", "y/a/b"], "TO 'y/a/b'"),
        (&["x/a", "y/a", "--port", "http"], "--port 'http'"),
        (&["x/a", "y/a", "--port", "80/ICMP"], "protocol 'ICMP'"),
        (&["x/a", "y/nope"], "TO: pod y/nope not found"),
        (
            &["x/pod=zz", "y/a"],
            "FROM: no pod in namespace x has the labels pod=zz",
        ),
        (&["svc/x/none", "y/a"], "FROM: service x/none not found"),
        (&["1.2.3.4", "8.8.8.8"], "both outside the cluster"),
    ];
    for (args, want) in cases {
        let mut a = vec!["can-reach"];
        a.extend_from_slice(args);
        a.extend(["--snapshot", &p.snapshot]);
        let r = netcheck(&a);
        assert_eq!(r.code, 2, "{a:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{a:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("netcheck: error:") && !r.stderr.contains("panicked"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn refused_reads_make_the_answer_unknown() {
    let p = serve(&e2e_cluster(json!([])));
    let server = ApiServer::start(
        serde_json::from_str(&std::fs::read_to_string(&p.snapshot).unwrap()).unwrap(),
        Options {
            deny: vec![netcheck_testkit::Rule::path(
                "/apis/networking.k8s.io/v1/networkpolicies",
            )],
            ..Default::default()
        },
    )
    .unwrap();
    let kc = scratch("netpol-403").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let r = netcheck(&[
        "can-reach",
        "x/a",
        "y/b",
        "-o",
        "json",
        "--kubeconfig",
        kc.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "unknown is not allowed: {}", r.stderr);
    let rep = report(&r);
    let a = rep.reach.unwrap();
    assert_eq!(a.verdict, Verdict::Unknown);
    let eg = a.pairs[0].egress.as_ref().unwrap();
    assert!(
        eg.reasons[0].contains("NetworkPolicies could not be read: 403"),
        "{:?}",
        eg.reasons
    );
    assert!(rep.skipped.iter().any(|s| s.what == "networkpolicies"
        && s.needs.as_deref() == Some("list networkpolicies.networking.k8s.io (all namespaces)")));
}
