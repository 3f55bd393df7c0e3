//! `netcheck services` as a person uses it: the list, one Service in detail, namespaces, a
//! missing Service, Services and slices of odd shapes, and RBAC-limited reads of endpoints,
//! Services and pods (what rests on a read that failed is unknown, never a finding).

mod common;

use common::*;
use netcheck::model::Cluster;
use netcheck::report::{Report, Severity};
use netcheck_testkit::{ApiServer, Options, Rule};
use serde_json::json;

const CKA: &str = "examples/cka-lab.json";

fn cka() -> String {
    root().join(CKA).to_string_lossy().into_owned()
}

fn rows(r: &Report) -> Vec<String> {
    r.services
        .as_ref()
        .expect("services answer")
        .services
        .iter()
        .map(|s| format!("{}/{}", s.namespace, s.name))
        .collect()
}

#[test]
fn the_example_answers_the_seed_lab() {
    let r = netcheck(&["services", "--snapshot", &cka()]);
    assert_eq!(
        r.code, 1,
        "the pending LoadBalancer is an error: {}",
        r.stderr
    );
    let line = |name: &str| {
        r.stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no row {name}: {}", r.stdout))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("my-service"),
        "default my-service ClusterIP 10.109.214.77 <none> 80/TCP 2/2 ok"
    );
    assert_eq!(
        line("my-service-nodeport"),
        "default my-service-nodeport NodePort 10.108.37.176 <none> 80:30007/TCP 2/2 ok"
    );
    assert_eq!(
        line("my-service-lb"),
        "default my-service-lb LoadBalancer 10.104.175.68 <pending> 80:31006/TCP 2/2 loadbalancer-pending"
    );
    // As `kubectl describe service/my-service` shows its endpoints.
    let d = netcheck(&["services", "default/my-service", "--snapshot", &cka()]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(
        d.stdout
            .contains("Endpoints:                10.244.192.1:80,10.244.192.2:80 (2 ready"),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains("default/nginx1  node01"), "{}", d.stdout);
    // The same Service named with -n.
    let n = netcheck(&[
        "services",
        "my-service",
        "-n",
        "default",
        "--snapshot",
        &cka(),
        "-o",
        "json",
    ]);
    assert_eq!(rows(&report(&n)), ["default/my-service"]);
}

#[test]
fn namespaces_filter_and_a_missing_service_is_an_error() {
    let r = netcheck(&[
        "services",
        "-n",
        "kube-system",
        "-o",
        "json",
        "--snapshot",
        &cka(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(rows(&report(&r)), ["kube-system/kube-dns"]);
    let all = netcheck(&[
        "services",
        "-A",
        "-o",
        "json",
        "--fail-on",
        "never",
        "--snapshot",
        &cka(),
    ]);
    assert_eq!(rows(&report(&all)).len(), 5);
    let missing = netcheck(&["services", "default/nope", "--snapshot", &cka()]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("service default/nope not found") && missing.stdout.is_empty(),
        "{}",
        missing.stderr
    );
    let both = netcheck(&["services", "-n", "a", "-A", "--snapshot", &cka()]);
    assert_eq!(both.code, 2, "-n and -A conflict: {}", both.stderr);
}

/// Services and slices no API server would hand out, as a damaged or hand-edited snapshot
/// can hold them: each is reported or passed over, never a panic.
#[test]
fn odd_shapes_are_findings_not_panics() {
    let mut c: Cluster = load(&root().join(CKA));
    let svc = |v: serde_json::Value| serde_json::from_value(v).unwrap();
    c.services.extend([
        svc(json!({"metadata": {"name": "no-ports", "namespace": "default"},
                   "spec": {"type": "ClusterIP", "clusterIP": "10.96.7.1", "selector": {"app": "my-app"}}})),
        svc(json!({"metadata": {"name": "weird-type", "namespace": "default"},
                   "spec": {"type": "Weird", "clusterIP": "10.96.7.2", "ports": [{"port": 80}]}})),
        svc(json!({"metadata": {"name": "v6-only", "namespace": "default"},
                   "spec": {"clusterIP": "fd00:10:96::7", "clusterIPs": ["fd00:10:96::7"], "ipFamilies": ["IPv6"],
                            "selector": {"app": "my-app"}, "ports": [{"port": 80, "targetPort": "http"}]}})),
        svc(json!({"metadata": {"name": "bad-ip", "namespace": "default"},
                   "spec": {"clusterIP": "10.96.0.300", "ports": [{"port": 80, "targetPort": "", "nodePort": -5}]}})),
        svc(json!({"metadata": {"name": "empty-selector", "namespace": "default"},
                   "spec": {"clusterIP": "10.96.7.4", "selector": {}, "ports": [{"port": 0, "protocol": "SCTP"}]}})),
        svc(json!({"metadata": {"name": "lb-odd", "namespace": "default"},
                   "spec": {"type": "LoadBalancer", "clusterIP": "10.96.7.5", "ports": [{"port": 80, "nodePort": 30999}]},
                   "status": {"loadBalancer": {"ingress": [{}]}}})),
        svc(json!({"metadata": {"name": "extname-empty", "namespace": "default"}, "spec": {"type": "ExternalName"}})),
    ]);
    let slice = |v: serde_json::Value| serde_json::from_value(v).unwrap();
    let dup = json!({"metadata": {"name": "weird-type-x", "namespace": "default", "labels": {"kubernetes.io/service-name": "weird-type"}},
                     "addressType": "IPv4",
                     "endpoints": [{"addresses": ["not-an-ip"], "conditions": {}}, {"addresses": []}],
                     "ports": [{"port": 80}]});
    c.endpoint_slices.extend([
        slice(dup.clone()),
        slice(dup),
        slice(json!({"metadata": {"name": "unlabelled", "namespace": "default"}, "addressType": "FQDN",
                     "endpoints": [{"addresses": ["db.example.com"]}]})),
    ]);
    let dir = scratch("odd");
    let path = dir.join("odd.json");
    std::fs::write(&path, serde_json::to_string(&c).unwrap()).unwrap();
    let r = netcheck(&[
        "services",
        "-o",
        "json",
        "--fail-on",
        "never",
        "--snapshot",
        path.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
    let rep = report(&r);
    let s = rep.services.as_ref().unwrap();
    let row = |n: &str| {
        s.services
            .iter()
            .find(|x| x.name == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let ids = |n: &str| {
        row(n)
            .problems
            .iter()
            .map(|p| p.id.clone())
            .collect::<Vec<_>>()
    };
    // A malformed ClusterIP; no selector and no endpoints; nodePort -5 is in no range.
    assert_eq!(
        ids("bad-ip"),
        [
            "service-invalid-ip",
            "service-no-endpoints",
            "nodeport-outside-range"
        ]
    );

    assert_eq!(ids("weird-type"), ["endpoint-invalid-address"]);
    // The duplicated slice counts once: one endpoint with an address, one without.
    assert_eq!(row("weird-type").endpoints.len(), 1);
    // IPv6-only against an IPv4 service range: not judged, not "outside".
    assert_eq!(row("v6-only").cluster_ips[0].in_range, None);
    assert!(
        ids("v6-only").contains(&"service-target-port-missing".to_string()),
        "{:?}",
        ids("v6-only")
    );
    assert_eq!(row("no-ports").ports.len(), 0);
    assert_eq!(
        row("empty-selector").selector,
        None,
        "an empty selector selects nothing"
    );
    assert!(
        ids("lb-odd").contains(&"loadbalancer-pending".to_string()),
        "an empty ingress entry is no address: {:?}",
        ids("lb-odd")
    );

    assert_eq!(row("extname-empty").endpoint_counts(), None);
    // The table renders them too.
    let t = netcheck(&[
        "services",
        "--fail-on",
        "never",
        "--snapshot",
        path.to_str().unwrap(),
    ]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(
        t.stdout.contains("weird-type") && t.stdout.contains("Weird"),
        "{}",
        t.stdout
    );
}

fn live(c: Cluster, opts: Options, args: &[&str]) -> (Run, ApiServer) {
    let server = ApiServer::start(c, opts).unwrap();
    let kc = scratch("svc-live").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let mut all = vec!["--kubeconfig", kc.to_str().unwrap()];
    all.extend_from_slice(args);
    (netcheck(&all), server)
}

#[test]
fn refused_slices_fall_back_to_endpoints_and_refused_both_are_skipped() {
    let c = load(&root().join("tests/scenarios/services-core-endpoints/cluster.json"));
    let deny = |paths: &[&str]| Options {
        deny: paths.iter().map(|p| Rule::path(p)).collect(),
        ..Options::default()
    };
    let args = ["services", "-o", "json", "--fail-on", "never"];
    let (r, _s) = live(
        c.clone(),
        deny(&["/apis/discovery.k8s.io/v1/endpointslices"]),
        &args,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = report(&r);
    let s = rep.services.as_ref().unwrap();
    assert_eq!(s.endpoints_from, "v1");
    assert!(
        s.endpoints_evidence.contains("403"),
        "{}",
        s.endpoints_evidence
    );
    let web = s.services.iter().find(|x| x.name == "web").unwrap();
    assert_eq!(web.endpoint_counts(), Some((1, 2)));
    assert_eq!(rep.skipped.len(), 1, "{:?}", rep.skipped);
    assert_eq!(rep.skipped[0].what, "endpointslices");
    assert_eq!(
        rep.skipped[0].needs.as_deref(),
        Some("list endpointslices.discovery.k8s.io (all namespaces)")
    );

    let (r, _s) = live(
        c,
        deny(&[
            "/apis/discovery.k8s.io/v1/endpointslices",
            "/api/v1/endpoints",
        ]),
        &args,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = report(&r);
    let s = rep.services.as_ref().unwrap();
    assert_eq!(s.endpoints_from, "none");
    assert_eq!(rep.skipped.len(), 1, "{:?}", rep.skipped);
    let sk = &rep.skipped[0];
    assert!(sk.reason.contains("core Endpoints: 403"), "{}", sk.reason);
    assert!(
        sk.needs
            .as_deref()
            .unwrap()
            .starts_with("list endpointslices"),
        "{sk:?}"
    );
    // The Services are still listed, with what could be read; no endpoint finding is guessed.
    assert_eq!(s.services.len(), 2);
    assert!(
        rep.findings.iter().all(|f| !f.id.contains("endpoint")),
        "{:?}",
        rep.findings
    );
}

fn deny(paths: &[&str]) -> Options {
    Options {
        deny: paths.iter().map(|p| Rule::path(p)).collect(),
        ..Options::default()
    }
}

fn ids(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.id.as_str()).collect()
}

/// The Service list refused: the DNS Service is unknown, not missing, and no EndpointSlice is
/// an orphan for want of its Service; the text says so rather than "none".
#[test]
fn refused_services_leave_dns_and_orphans_unknown() {
    let c = load(&root().join(CKA));
    assert!(!c.endpoint_slices.is_empty() && !c.config_maps.is_empty());
    let opts = || deny(&["/api/v1/services"]);
    for cmd in ["services", "report"] {
        let (r, _s) = live(
            c.clone(),
            opts(),
            &[cmd, "-o", "json", "--fail-on", "never"],
        );
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        let rep = report(&r);
        assert!(
            rep.skipped.iter().any(|s| s.what == "services"),
            "{cmd}: {:?}",
            rep.skipped
        );
        for id in [
            "dns-service-missing",
            "endpointslice-orphan",
            "dns-clusterip-mismatch",
        ] {
            assert!(
                !ids(&rep).contains(&id),
                "{cmd}: {id} in {:?}",
                rep.findings
            );
        }
        let s = rep.services.as_ref().unwrap();
        assert!(s.orphan_slices.is_empty(), "{:?}", s.orphan_slices);
        // The kubelets' side of the DNS is still answered.
        let dns = s.dns.as_ref().expect("dns from kubelet-config");
        assert_eq!(dns.kubelet_cluster_dns, ["10.96.0.10"]);
        assert_eq!(dns.service, None);
    }
    let (t, _s) = live(c.clone(), opts(), &["services", "--fail-on", "never"]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    let dns = t.stdout.lines().find(|l| l.starts_with("DNS:")).unwrap();
    assert!(
        dns.starts_with("DNS: DNS Service unknown (Services could not be read: 403"),
        "{dns}"
    );
    assert!(
        t.stdout.contains("The Services could not be read: 403")
            && !t.stdout.contains("No Service matches"),
        "{}",
        t.stdout
    );
    let (t, _s) = live(c, opts(), &["report", "--fail-on", "never"]);
    assert!(
        t.stdout
            .contains("Services: unknown (the Services could not be read: 403"),
        "{}",
        t.stdout
    );
}

/// The pod list refused: MetalLB (found by its pods) cannot be seen, so a pending
/// LoadBalancer's implementation is unknown (a warning naming the read), not absent (an error);
/// and nothing that needs pods is judged.
#[test]
fn refused_pods_leave_the_load_balancer_implementation_unknown() {
    let c = load(&root().join("tests/scenarios/services-metallb/cluster.json"));
    let (r, _s) = live(
        c.clone(),
        deny(&["/api/v1/pods"]),
        &["services", "-o", "json", "--fail-on", "never"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = report(&r);
    assert!(
        rep.skipped.iter().any(|s| s.what == "pods"),
        "{:?}",
        rep.skipped
    );
    let s = rep.services.as_ref().unwrap();
    assert!(s.load_balancers.is_empty(), "{:?}", s.load_balancers);
    let row = s.services.iter().find(|x| x.name == "partner-api").unwrap();
    let p = row
        .problems
        .iter()
        .find(|p| p.id == "loadbalancer-pending")
        .expect("still pending");
    assert_eq!(p.severity, Severity::Warning, "{}", p.detail);
    assert!(
        p.detail.contains("implementation is unknown")
            && p.detail.contains("pods could not be read (403")
            && p.detail.contains("MetalLB")
            && !p.detail.contains("no load-balancer implementation found"),
        "{}",
        p.detail
    );
    let f = rep
        .findings
        .iter()
        .find(|f| f.id == "loadbalancer-pending")
        .unwrap();
    assert_eq!(f.severity, Severity::Warning);
    for id in [
        "service-selector-matches-nothing",
        "service-no-ready-endpoints",
        "service-target-port-missing",
        "service-target-port-undeclared",
        "endpoint-stale",
    ] {
        assert!(!ids(&rep).contains(&id), "{id} in {:?}", rep.findings);
    }
    // The text says where it could not look, and that pods are unknown.
    let (t, _s) = live(
        c.clone(),
        deny(&["/api/v1/pods"]),
        &["services", "--fail-on", "never"],
    );
    assert!(
        t.stdout
            .contains("Load balancers: unknown: none found where netcheck could look")
            && t.stdout
                .contains("not looked for: pods could not be read (403"),
        "{}",
        t.stdout
    );
    let (d, _s) = live(
        c.clone(),
        deny(&["/api/v1/pods"]),
        &["services", "apps/partner-api", "--fail-on", "never"],
    );
    assert!(
        d.stdout
            .contains("Pods:                     <unknown> (pods could not be read: 403"),
        "{}",
        d.stdout
    );
    // With the pods read, MetalLB is found and nothing is unseen.
    let (r, _s) = live(
        c,
        Options::default(),
        &["services", "-o", "json", "--fail-on", "never"],
    );
    let rep = report(&r);
    let s = rep.services.as_ref().unwrap();
    assert_eq!(s.load_balancers[0].name, "metallb");
    assert!(!r.stdout.contains("loadBalancersUnseen"), "{}", r.stdout);
}

/// Neither EndpointSlices nor Endpoints readable: the counts are unknown in the table and the
/// detail view, not 0/0; pods were read, so a Service whose pods exist is not said to select
/// none.
#[test]
fn refused_endpoints_show_unknown_counts() {
    let c = load(&root().join("tests/scenarios/services-core-endpoints/cluster.json"));
    let both = || {
        deny(&[
            "/apis/discovery.k8s.io/v1/endpointslices",
            "/api/v1/endpoints",
        ])
    };
    let (t, _s) = live(c.clone(), both(), &["services", "--fail-on", "never"]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    let web = t
        .stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("web"))
        .unwrap_or_else(|| panic!("{}", t.stdout));
    assert!(web.contains("<unknown>") && !web.contains("0/0"), "{web}");
    let (d, _s) = live(
        c.clone(),
        both(),
        &["services", "default/web", "--fail-on", "never"],
    );
    assert!(
        d.stdout
            .contains("Endpoints:                <unknown> (EndpointSlices could not be read (403"),
        "{}",
        d.stdout
    );
    let (r, _s) = live(c, both(), &["services", "-o", "json", "--fail-on", "never"]);
    let rep = report(&r);
    assert!(
        !ids(&rep).contains(&"service-selector-matches-nothing"),
        "{:?}",
        rep.findings
    );
    let s = rep.services.as_ref().unwrap();
    let web = s.services.iter().find(|x| x.name == "web").unwrap();
    assert_eq!((web.selected_pods, web.problems.len()), (2, 0), "{web:?}");
}

/// The detail view's keys are each followed by a space, aligned as kubectl aligns them; the
/// DNS line has no stray space where no DNS Service exists.
#[test]
fn detail_keys_and_the_dns_line_are_spaced() {
    let d = netcheck(&["services", "default/my-service-lb", "--snapshot", &cka()]);
    let keys: Vec<&str> = d
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Name:"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(
        keys.contains(&"External Traffic Policy:  Cluster"),
        "{}",
        d.stdout
    );
    for l in &keys {
        let v = l.split_once(':').unwrap().1;
        assert_eq!(l.len() - v.trim_start().len(), 26, "value column: {l:?}");
    }
    let mut c: Cluster = load(&root().join(CKA));
    c.services.retain(|s| s.metadata.name != "kube-dns");
    let path = scratch("no-dns").join("c.json");
    std::fs::write(&path, serde_json::to_string(&c).unwrap()).unwrap();
    let t = netcheck(&[
        "services",
        "--fail-on",
        "never",
        "--snapshot",
        path.to_str().unwrap(),
    ]);
    let dns = t.stdout.lines().find(|l| l.starts_with("DNS:")).unwrap();
    assert!(
        dns.starts_with("DNS: no DNS Service; kubelets use 10.96.0.10"),
        "{dns}"
    );
    let r = netcheck(&[
        "services",
        "-o",
        "json",
        "--fail-on",
        "never",
        "--snapshot",
        path.to_str().unwrap(),
    ]);
    assert!(
        ids(&report(&r)).contains(&"dns-service-missing"),
        "read and absent: {}",
        r.stdout
    );
}

// ---------- kubectl's listing habits: -o name, --no-headers, -o wide ----------

fn broken() -> String {
    root()
        .join("tests/scenarios/services-broken/cluster.json")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn output_name_lists_every_service_as_kubectl_names_it_and_nothing_else() {
    for (snap, ns) in [
        (cka(), None),
        (broken(), None),
        (cka(), Some("kube-system")),
    ] {
        let mut args = vec!["services", "--snapshot", &snap];
        if let Some(ns) = ns {
            args.extend(["-n", ns]);
        }
        let json = report(&netcheck(&[args.as_slice(), &["-o", "json"]].concat()));
        let r = netcheck(&[args.as_slice(), &["-o", "name"]].concat());
        let want: Vec<String> = rows(&json).iter().map(|r| format!("service/{r}")).collect();
        assert!(!want.is_empty());
        assert_eq!(r.stdout.lines().collect::<Vec<_>>(), want, "{}", r.stdout);
        // The exit code still follows the findings, which are not printed.
        assert_eq!(
            r.code,
            netcheck(&args).code,
            "-o name changes what is printed, not the verdict"
        );
    }
}

#[test]
fn no_headers_prints_every_row_and_only_rows() {
    let snap = broken();
    let json = report(&netcheck(&["services", "--snapshot", &snap, "-o", "json"]));
    for extra in [&[][..], &["-o", "wide"][..]] {
        let args = [
            &["services", "--snapshot", &snap, "--no-headers"][..],
            extra,
        ]
        .concat();
        let r = netcheck(&args);
        let got: Vec<String> = r
            .stdout
            .lines()
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join("/"))
            .collect();
        assert_eq!(got, rows(&json), "{}", r.stdout);
        assert!(!r.stdout.contains("NAMESPACE") && !r.stdout.contains("Endpoints from:"));
        assert!(!r.stdout.contains("ERROR ["), "no findings under the rows");
        assert_eq!(r.code, 1, "{}", r.stderr);
    }
}

#[test]
fn wide_adds_the_selector_the_pods_and_the_nodes_behind_the_endpoints() {
    let snap = broken();
    let json = report(&netcheck(&["services", "--snapshot", &snap, "-o", "json"]));
    let r = netcheck(&["services", "--snapshot", &snap, "-o", "wide"]);
    let header = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("NAMESPACE"))
        .expect("header");
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(cols[cols.len() - 3..], ["SELECTOR", "PODS", "NODES"]);
    let plain = netcheck(&["services", "--snapshot", &snap]);
    let plain_cols = plain
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("NAMESPACE"))
        .unwrap()
        .split_whitespace()
        .count();
    assert_eq!(cols.len(), plain_cols + 3);
    let services = &json.services.as_ref().unwrap().services;
    let mut checked = 0;
    for s in services {
        // Rows whose cells have no spaces can be split on whitespace; the others are skipped.
        let Some(line) = r.stdout.lines().find(|l| {
            let mut w = l.split_whitespace();
            w.next() == Some(s.namespace.as_str()) && w.next() == Some(s.name.as_str())
        }) else {
            panic!("no row for {}/{}", s.namespace, s.name);
        };
        let cells: Vec<&str> = line.split_whitespace().collect();
        if cells.len() != cols.len() {
            continue;
        }
        let tail = &cells[cells.len() - 3..];
        // The cell read back as a map: key=value pairs, or <none> for no selector.
        let cell: std::collections::BTreeMap<String, String> = match tail[0] {
            "<none>" => Default::default(),
            c => c
                .split(',')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').expect("key=value");
                    (k.to_string(), v.to_string())
                })
                .collect(),
        };
        assert_eq!(cell, s.selector.clone().unwrap_or_default(), "{line}");
        if s.selector.as_ref().is_some_and(|x| !x.is_empty()) {
            assert_eq!(
                tail[1],
                format!("{}/{}", s.ready_pods, s.selected_pods),
                "{line}"
            );
        }
        let nodes: std::collections::BTreeSet<&str> = s
            .endpoints
            .iter()
            .filter_map(|e| e.node.as_deref())
            .collect();
        let shown: std::collections::BTreeSet<&str> =
            tail[2].split(',').filter(|n| *n != "<none>").collect();
        assert_eq!(shown, nodes, "{line}");
        checked += 1;
    }
    assert!(
        checked * 2 > services.len(),
        "too few rows checked: {checked}"
    );
}

#[test]
fn wide_and_name_are_for_services_only() {
    for cmd in ["report", "cidrs"] {
        for f in ["wide", "name"] {
            let r = netcheck(&[cmd, "--snapshot", &cka(), "-o", f]);
            assert_eq!(r.code, 2, "{cmd} -o {f}");
            assert!(r.stderr.contains(&format!("'{f}'")), "{}", r.stderr);
        }
    }
}

/// The load-balancer search checks one pod of each run that shares a namespace, label set and
/// name stem, unless a name's tail could decide a prefix: `kube-vip` after `kube-abc` (stem
/// `kube-`) is kube-vip, however it is read; a run of `svclb-web-` pods is named by its first.
#[test]
fn a_pod_whose_tail_names_an_implementation_is_found_after_its_stem_mates() {
    let mut c = load(&root().join(CKA));
    let pod = |ns: &str, name: &str| {
        serde_json::from_value::<netcheck::model::Pod>(json!({
            "metadata": {"name": name, "namespace": ns, "labels": {"app": "edge"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": "kube", "controller": true}]},
            "spec": {"nodeName": "node01", "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running", "podIP": "10.244.192.9",
                "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .unwrap()
    };
    c.pods
        .extend(["kube-abc", "kube-vip", "kube-xyz"].map(|n| pod("edge", n)));
    // A run whose stem decides: the first pod's name is the evidence.
    c.pods
        .extend(["svclb-web-a1b2c", "svclb-web-d3e4f"].map(|n| pod("edge2", n)));
    let found = |r: &Run| {
        assert_eq!(r.code, 0, "{}", r.stderr);
        let rep = report(r);
        let s = rep.services.unwrap();
        s.load_balancers
            .iter()
            .map(|i| format!("{} {}", i.name, i.evidence))
            .collect::<Vec<_>>()
    };
    let (live_run, _s) = live(
        c.clone(),
        Options::default(),
        &["services", "-o", "json", "--fail-on", "never"],
    );
    let path = scratch("tail-decides").join("cluster.json");
    std::fs::write(&path, serde_json::to_string(&c).unwrap()).unwrap();
    let offline = netcheck(&[
        "services",
        "--snapshot",
        path.to_str().unwrap(),
        "-o",
        "json",
        "--fail-on",
        "never",
    ]);
    for r in [&live_run, &offline] {
        let lbs = found(r);
        assert!(
            lbs.iter()
                .any(|l| l.starts_with("kube-vip pod edge/kube-vip (kube-vip;")),
            "{lbs:?}"
        );
        assert!(
            lbs.iter()
                .any(|l| l
                    == "k3s-servicelb pod edge2/svclb-web-a1b2c (k3s ServiceLB: node addresses)"),
            "{lbs:?}"
        );
    }
}
