//! `netcheck capacity` (#18) on the layouts the issue names, each built from a scenario with
//! the change written out here, run from a snapshot and live against the test API server.
//! Expected figures are worked out below from the layout, not read from netcheck's output.

mod common;

use common::*;
use netcheck::model::Cluster;
use netcheck::report::{Report, Usage};
use netcheck_testkit::apiserver::{ApiServer, Options};
use serde_json::{json, Value};

fn base(name: &str) -> Value {
    let path = root()
        .join("tests/scenarios")
        .join(name)
        .join("cluster.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The capacity report from a snapshot of `v`, and from the test API server serving it.
fn both(v: &Value) -> [Report; 2] {
    let dir = scratch("capacity");
    let snap = dir.join("cluster.json");
    std::fs::write(&snap, serde_json::to_string(v).unwrap()).unwrap();
    let run = |args: &[&str]| {
        let mut a = vec!["capacity", "-o", "json", "--fail-on", "never"];
        a.extend_from_slice(args);
        let r = netcheck(&a);
        assert_eq!(r.code, 0, "{}", r.stderr);
        report(&r)
    };
    let offline = run(&["--snapshot", snap.to_str().unwrap()]);
    let cluster: Cluster = serde_json::from_value(v.clone()).unwrap();
    let server = ApiServer::start(cluster, Options::default()).unwrap();
    let kc = dir.join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let live = run(&["--kubeconfig", kc.to_str().unwrap()]);
    [offline, live]
}

fn range<'a>(r: &'a Report, kind: &str, what: &str) -> &'a Usage {
    let cap = r.capacity.as_ref().expect("capacity answer");
    cap.ranges
        .iter()
        .find(|u| u.kind == kind && u.what.starts_with(what))
        .unwrap_or_else(|| panic!("no {kind} {what} in {:#?}", cap.ranges))
}

fn finding<'a>(r: &'a Report, id: &str) -> &'a netcheck::report::Finding {
    r.findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no finding {id}: {:?}", ids(r)))
}

fn ids(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.id.as_str()).collect()
}

fn pct(used: u64, total: u64) -> u32 {
    (used as f64 * 100.0 / total as f64).round() as u32
}

fn event(
    name: &str,
    ns: &str,
    kind: &str,
    obj: &str,
    reason: &str,
    message: &str,
    host: Option<&str>,
) -> Value {
    let mut e = json!({
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {"kind": kind, "name": obj},
        "reason": reason,
        "message": message,
        "count": 4,
        "lastTimestamp": "2026-11-20T10:00:00Z",
        "source": {"component": if kind == "Node" { "cidrAllocator" } else { "kubelet" }}
    });
    if kind != "Node" {
        e["involvedObject"]["namespace"] = json!(ns);
    }
    if let Some(h) = host {
        e["source"]["host"] = json!(h);
    }
    e
}

/// A pod of `node` stuck in sandbox creation, with the kubelet's event saying why (the event
/// names its node only when `host` is given, else through the pod).
fn stuck_pod(v: &mut Value, name: &str, node: &str, message: &str, host: Option<&str>) {
    v["pods"].as_array_mut().unwrap().push(json!({
        "metadata": {"name": name, "namespace": "default",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "batch-6d4cf56db6", "controller": true}]},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "busybox:1.36"}]},
        "status": {"phase": "Pending"}
    }));
    v["events"] = json!([event(
        &format!("{name}.187a2b3c4d5e6f71"),
        "default",
        "Pod",
        name,
        "FailedCreatePodSandBox",
        message,
        host
    )]);
}

/// kind's kube-controller-manager carves /24s out of --cluster-cidr=10.244.0.0/16: 2^(24-16) =
/// 256 node slots. With 256 nodes holding one, a 257th waits, and the IPAM controller says
/// CIDRNotAvailable.
#[test]
fn full_cluster_cidr_with_a_node_waiting() {
    let mut v = base("kind-default");
    let template = v["nodes"][2].clone();
    let nodes = v["nodes"].as_array_mut().unwrap();
    // kind-default's three nodes hold 10.244.0-2.0/24; 253 more take 10.244.3-255.0/24.
    for i in 3..=255 {
        let mut n = template.clone();
        n["metadata"]["name"] = json!(format!("node-{i:03}"));
        n["spec"]["podCIDR"] = json!(format!("10.244.{i}.0/24"));
        n["spec"]["podCIDRs"] = json!([format!("10.244.{i}.0/24")]);
        nodes.push(n);
    }
    let mut late = template.clone();
    late["metadata"]["name"] = json!("late-node");
    late["spec"] = json!({});
    nodes.push(late);
    v["events"] = json!([event(
        "late-node.187a2b3c4d5e6f70",
        "default",
        "Node",
        "late-node",
        "CIDRNotAvailable",
        "Node late-node status is now: CIDRNotAvailable",
        None
    )]);
    for r in both(&v) {
        let u = range(&r, "node-slots", "pod range");
        assert_eq!(u.range, "10.244.0.0/16");
        assert_eq!(u.unit, "node slots of /24");
        assert_eq!((u.total, u.used, u.free, u.percent), (256, 256, 0, 100));
        assert_eq!(u.waiting, ["node late-node"]);
        let f = finding(&r, "capacity-node-slots");
        assert_eq!(f.severity, netcheck::report::Severity::Error);
        assert!(
            f.message.contains(
                "pod range 10.244.0.0/16: 256 node slots of /24, 256 used, 0 free (100%)"
            ),
            "{}",
            f.message
        );
        assert_eq!(f.subjects, ["node late-node"]);
        assert!(
            f.evidence.iter().any(|e| e.contains("CIDRNotAvailable")),
            "{:?}",
            f.evidence
        );
    }
}

/// The three kind nodes hold 3 of the 256 slots: not a finding.
#[test]
fn kind_default_has_room_everywhere() {
    for r in both(&base("kind-default")) {
        let u = range(&r, "node-slots", "pod range");
        assert_eq!((u.total, u.used, u.percent), (256, 3, pct(3, 256)));
        // kube-apiserver --service-cluster-ip-range=10.96.0.0/16: 2^16 - 2 usable; the
        // kubernetes, kube-dns and web Services hold one each.
        let s = range(&r, "service-ips", "service range");
        assert_eq!((s.total, s.used), (65534, 3));
        // KEP-3070: min(max(16, 65536/16), 256) = 256 addresses from 10.96.0.1.
        assert_eq!(s.static_band.as_deref(), Some("10.96.0.1-10.96.1.0"));
        assert_eq!(ids(&r), Vec::<&str>::new());
    }
}

/// A Calico pool of 10.10.0.0/22 in /26 blocks: 2^(26-22) = 16 blocks; 14 claimed by the
/// nodes (BlockAffinity objects) is 87.5%, above the 80% warning line.
fn calico(claimed: usize) -> Value {
    let mut v = base("kubeadm-calico-overlap");
    v["ipPools"][0]["spec"]["cidr"] = json!("10.10.0.0/22");
    v["ipPools"][0]["spec"]["blockSize"] = json!(26);
    let nodes = ["k8s-cp-1", "k8s-worker-1", "k8s-worker-2"];
    let objects: Vec<Value> = (0..claimed)
        .map(|i| {
            let cidr = format!("10.10.{}.{}/26", i / 4, (i % 4) * 64);
            let node = nodes[i % 3];
            json!({
                "apiVersion": "crd.projectcalico.org/v1",
                "kind": "BlockAffinity",
                "metadata": {"name": format!("{node}-{}", cidr.replace(['.', '/'], "-"))},
                "spec": {"cidr": cidr, "node": node, "state": "confirmed", "deleted": "false"}
            })
        })
        .collect();
    v["objects"] = json!(objects);
    v
}

#[test]
fn calico_pool_near_exhaustion() {
    for r in both(&calico(14)) {
        let u = range(&r, "pool-blocks", "calico pool default-ipv4-ippool");
        assert_eq!(u.unit, "blocks of /26");
        assert_eq!((u.total, u.used, u.free), (16, 14, 2));
        assert_eq!(u.percent, pct(14, 16));
        let f = finding(&r, "capacity-pool-blocks");
        assert_eq!(f.severity, netcheck::report::Severity::Warning);
        // A /22 has 1024 addresses; the scenario's pods are all in 192.168.0.0/16.
        let a = range(&r, "pool-addresses", "calico pool default-ipv4-ippool");
        assert_eq!((a.total, a.used), (1024, 0));
        // Blocks per node: 14 claimed round-robin over 3 nodes -> 5, 5, 4.
        let cap = r.capacity.as_ref().unwrap();
        let blocks = |n: &str| {
            cap.nodes
                .iter()
                .find(|x| x.node == n)
                .unwrap()
                .pod_cidrs
                .len()
        };
        assert_eq!(
            (
                blocks("k8s-cp-1"),
                blocks("k8s-worker-1"),
                blocks("k8s-worker-2")
            ),
            (5, 5, 4)
        );
    }
}

/// All 16 blocks claimed and a pod failing with Calico's IPAM message.
#[test]
fn calico_pool_exhausted_with_failing_pods() {
    let mut v = calico(16);
    stuck_pod(
        &mut v,
        "api-7f9c-x2",
        "k8s-worker-2",
        "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"5c1d\": plugin type=\"calico\" failed (add): failed to request 1 IPv4 addresses. IPAM allocated only 0.",
        Some("k8s-worker-2"),
    );
    for r in both(&v) {
        let u = range(&r, "pool-blocks", "calico pool");
        assert_eq!((u.total, u.used, u.free), (16, 16, 0));
        assert_eq!(
            finding(&r, "capacity-pool-blocks").severity,
            netcheck::report::Severity::Error
        );
        let f = finding(&r, "ip-allocation-failed");
        assert_eq!(f.subjects, ["node k8s-worker-2: 1 event(s)"]);
        assert!(f.message.contains("calico"), "{}", f.message);
    }
}

/// kind-worker given a /26: 2^6 = 64 addresses, minus network, gateway and broadcast = 61
/// that host-local hands out, against the kubelet's default maxPods of 110.
#[test]
fn max_pods_above_the_pod_cidr() {
    let mut v = base("kind-default");
    v["nodes"][1]["spec"]["podCIDR"] = json!("10.244.1.0/26");
    v["nodes"][1]["spec"]["podCIDRs"] = json!(["10.244.1.0/26"]);
    for i in 0..3 {
        v["nodes"][i]["status"]["capacity"] = json!({"cpu": "8", "memory": "16Gi", "pods": "110"});
    }
    for r in both(&v) {
        let f = finding(&r, "capacity-maxpods-over-podcidr");
        assert_eq!(f.count, Some(1), "{:?}", f.subjects);
        assert_eq!(
            f.subjects,
            ["node kind-worker maxPods 110 > 61 usable addresses of 10.244.1.0/26"]
        );
        let n = r
            .capacity
            .as_ref()
            .unwrap()
            .nodes
            .iter()
            .find(|n| n.node == "kind-worker")
            .unwrap();
        assert_eq!((n.usable, n.max_pods, n.used), (Some(61), Some(110), 1));
    }
}

/// Service range 10.96.0.0/24: 2^8 - 2 = 254 ClusterIPs; 250 Services take 98% of it.
#[test]
fn service_range_nearly_full() {
    let text = serde_json::to_string(&base("kind-default"))
        .unwrap()
        .replace("10.96.0.0/16", "10.96.0.0/24")
        .replace("10.96.142.37", "10.96.0.200");
    let mut v: Value = serde_json::from_str(&text).unwrap();
    // kubernetes .1, kube-dns .10 and web .200 are taken; 247 more from what is left.
    let free = (2..=254).filter(|i| ![10, 200].contains(i)).take(247);
    let svcs = v["services"].as_array_mut().unwrap();
    for (k, i) in free.enumerate() {
        svcs.push(json!({
            "metadata": {"name": format!("svc-{k}"), "namespace": "apps"},
            "spec": {"type": "ClusterIP", "clusterIP": format!("10.96.0.{i}"), "clusterIPs": [format!("10.96.0.{i}")],
                     "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}], "selector": {"app": format!("a{k}")}}
        }));
    }
    for r in both(&v) {
        let u = range(&r, "service-ips", "service range");
        assert_eq!(u.range, "10.96.0.0/24");
        assert_eq!((u.total, u.used, u.free), (254, 250, 4));
        assert_eq!(u.percent, pct(250, 254));
        // min(max(16, 256/16), 256) = 16: the static band is .1 to .16.
        assert_eq!(u.static_band.as_deref(), Some("10.96.0.1-10.96.0.16"));
        assert_eq!(
            finding(&r, "capacity-service-ips").severity,
            netcheck::report::Severity::Warning
        );
    }
}

/// A pod stuck in sandbox creation with host-local's own words, on kind-worker.
#[test]
fn host_local_exhaustion_is_reported_per_node() {
    let mut v = base("kind-default");
    stuck_pod(
        &mut v,
        "batch-6d4cf56db6-q8x2k",
        "kind-worker",
        "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"9a3f\": plugin type=\"ptp\" failed (add): failed to allocate for range 0: no IP addresses available in range set: 10.244.1.1-10.244.1.254",
        None,
    );
    for r in both(&v) {
        let f = finding(&r, "ip-allocation-failed");
        assert_eq!(f.subjects, ["node kind-worker: 1 event(s)"]);
        assert!(f.message.contains("host-local"), "{}", f.message);
        let n = r
            .capacity
            .as_ref()
            .unwrap()
            .nodes
            .iter()
            .find(|n| n.node == "kind-worker")
            .unwrap();
        assert_eq!(n.failures.len(), 1);
    }
}

/// A copy of one of the fixture's running web pods, to make others from.
fn web_pod(v: &Value) -> Value {
    v["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["metadata"]["name"] == "web-5d9c7b8f46-f8p2h")
        .unwrap()
        .clone()
}

/// Two running pods with 10.244.1.2; a finished pod with it too, and the hostNetwork pods that
/// all share their node's address, are not duplicates.
#[test]
fn two_pods_sharing_an_ip() {
    let mut v = base("kind-default");
    let mut dup = web_pod(&v);
    dup["metadata"]["name"] = json!("cache-0");
    dup["status"]["podIP"] = json!("10.244.1.2");
    dup["status"]["podIPs"] = json!([{"ip": "10.244.1.2"}]);
    let mut done = dup.clone();
    done["metadata"]["name"] = json!("job-done");
    done["status"]["phase"] = json!("Succeeded");
    v["pods"].as_array_mut().unwrap().extend([dup, done]);
    for r in both(&v) {
        let f = finding(&r, "pod-ip-duplicate");
        assert_eq!(
            f.subjects,
            ["10.244.1.2: default/web-5d9c7b8f46-9l7qm, default/cache-0"]
        );
    }
}

/// Dual-stack pods: two share an IPv6 address but not their IPv4 ones; the IPv4 address of one
/// equals the other's IPv6 address read as IPv4-compatible (::10.244.1.9), which is no clash.
#[test]
fn two_pods_sharing_an_ipv6_address() {
    let mut v = base("kind-default");
    let web = web_pod(&v);
    let pod = |name: &str, ips: [&str; 2]| {
        let mut p = web.clone();
        p["metadata"]["name"] = json!(name);
        p["status"]["podIP"] = json!(ips[0]);
        p["status"]["podIPs"] = json!([{"ip": ips[0]}, {"ip": ips[1]}]);
        p
    };
    let a = pod("ds-a", ["10.244.1.9", "fd00:10:244::7"]);
    let b = pod("ds-b", ["10.244.1.10", "fd00:10:244::7"]);
    let c = pod("ds-c", ["10.244.1.11", "::10.244.1.9"]);
    v["pods"].as_array_mut().unwrap().extend([a, b, c]);
    for r in both(&v) {
        let f = finding(&r, "pod-ip-duplicate");
        assert_eq!(f.subjects, ["fd00:10:244::7: default/ds-a, default/ds-b"]);
    }
}

#[test]
fn network_unavailable_node() {
    let mut v = base("kind-default");
    v["nodes"][2]["status"]["conditions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "NetworkUnavailable", "status": "True", "reason": "NoRouteCreated", "message": "Node created without a route"}));
    for r in both(&v) {
        let f = finding(&r, "node-network-unavailable");
        assert_eq!(f.subjects, ["node kind-worker2"]);
        assert!(f.evidence[0].contains("NoRouteCreated"));
    }
}

/// API server v1.32.2: kube-proxy v1.28 is four minors behind (three are allowed since 1.25);
/// v1.29 is three behind and still supported.
#[test]
fn kube_proxy_four_minors_behind() {
    let mut v = base("kind-default");
    for p in v["pods"].as_array_mut().unwrap() {
        let image = match p["metadata"]["name"].as_str().unwrap() {
            "kube-proxy-l2gg5" => "registry.k8s.io/kube-proxy:v1.28.15",
            "kube-proxy-lxhc2" => "registry.k8s.io/kube-proxy:v1.29.0",
            _ => continue,
        };
        p["spec"]["containers"][0]["image"] = json!(image);
    }
    for r in both(&v) {
        let f = finding(&r, "version-skew-kube-proxy");
        assert_eq!(f.count, Some(1), "{:?}", f.subjects);
        assert!(
            f.subjects[0].contains("kube-proxy-l2gg5")
                && f.subjects[0].contains("4 minor versions behind"),
            "{:?}",
            f.subjects
        );
        assert!(!ids(&r).contains(&"version-skew-kubelet"));
    }
}

/// Events are asked for by reason, so the server sends only those.
#[test]
fn events_are_selected_by_the_server() {
    let cluster: Cluster = serde_json::from_value(base("kind-default")).unwrap();
    let server = ApiServer::start(cluster, Options::default()).unwrap();
    let kc = scratch("capacity-events").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let r = netcheck(&[
        "capacity",
        "-o",
        "json",
        "--kubeconfig",
        kc.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut asked: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|q| q.path == "/api/v1/events")
        .map(|q| q.query)
        .collect();
    asked.sort();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(
        asked[0].contains("fieldSelector=reason%3DCIDRNotAvailable"),
        "{asked:?}"
    );
    assert!(
        asked[1].contains("fieldSelector=reason%3DFailedCreatePodSandBox"),
        "{asked:?}"
    );
}

/// The text view: one line per range, as the issue words it.
#[test]
fn text_line_per_range() {
    let snap = root().join("tests/scenarios/kind-default/cluster.json");
    let r = netcheck(&["cidrs", "--snapshot", snap.to_str().unwrap()]);
    assert!(
        r.stdout
            .contains("pod range 10.244.0.0/16: 256 node slots of /24, 3 used, 253 free (1%)"),
        "{}",
        r.stdout
    );
}

/// kind's dual-stack ServiceCIDR `kubernetes` holds 10.96.0.0/16 and fd00:10:96::/112: each
/// family counted apart. IPv4 loses the network and broadcast addresses (2^16 - 2), IPv6 only
/// the network address (2^16 - 1). Its Services hold 4 IPv4 and 2 IPv6 ClusterIPs. With
/// IPAddress objects served, they are the count: here two more than the Services hold.
#[test]
fn dual_stack_service_cidr_per_family_and_ipaddress_objects() {
    let mut v = base("kind-dualstack");
    let held = [
        "10.96.0.1",
        "10.96.0.10",
        "10.96.87.211",
        "10.96.211.9",
        "10.96.5.5",
        "10.96.6.6",
    ];
    v["ipAddresses"] = json!(held
        .iter()
        .map(|ip| json!({"metadata": {"name": ip}, "spec": {"parentRef": {"resource": "services", "namespace": "default", "name": "x"}}}))
        .collect::<Vec<_>>());
    for r in both(&v) {
        let v4 = range(&r, "service-ips", "servicecidr kubernetes");
        assert_eq!(v4.range, "10.96.0.0/16");
        assert_eq!((v4.total, v4.used), (65534, 6));
        assert!(
            v4.evidence
                .iter()
                .any(|e| e.contains("2 held by no Service")),
            "{:?}",
            v4.evidence
        );
        let cap = r.capacity.as_ref().unwrap();
        let v6 = cap
            .ranges
            .iter()
            .find(|u| u.range == "fd00:10:96::/112")
            .unwrap();
        assert_eq!((v6.total, v6.used), (65535, 2));
    }
}

/// With the controller manager's pod not visible, kubeadm-config's controllerManager.extraArgs
/// (v1beta4's name/value list) gives the node mask: /23 of the /16 podSubnet is 2^(23-16) = 128
/// slots.
#[test]
fn node_mask_from_kubeadm_config() {
    let mut v = base("kind-default");
    v["pods"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p["metadata"]["name"] != "kube-controller-manager-kind-control-plane");
    for cm in v["configMaps"].as_array_mut().unwrap() {
        if cm["metadata"]["name"] == "kubeadm-config" {
            let text = cm["data"]["ClusterConfiguration"].as_str().unwrap().replace(
                "  - name: enable-hostpath-provisioner\n",
                "  - name: node-cidr-mask-size-ipv4\n    value: \"23\"\n  - name: enable-hostpath-provisioner\n",
            );
            cm["data"]["ClusterConfiguration"] = json!(text);
        }
    }
    for (i, n) in v["nodes"].as_array_mut().unwrap().iter_mut().enumerate() {
        let cidr = format!("10.244.{}.0/23", i * 2);
        n["spec"]["podCIDR"] = json!(cidr);
        n["spec"]["podCIDRs"] = json!([cidr]);
    }
    for r in both(&v) {
        let u = range(&r, "node-slots", "pod range");
        assert_eq!(
            (u.unit.as_str(), u.total, u.used),
            ("node slots of /23", 128, 3)
        );
        assert!(
            u.evidence
                .iter()
                .any(|e| e.contains("controllerManager.extraArgs node-cidr-mask-size-ipv4")),
            "{:?}",
            u.evidence
        );
    }
}
