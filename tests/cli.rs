//! The binary as a user meets it: README command, exit codes, errors, partial access,
//! read-only behaviour, output formats.

mod common;

use common::*;
use netcheck::report::{FactStatus, SourceStatus};
use netcheck_testkit::{ApiServer, Fault, Options, Rule};
use std::time::{Duration, Instant};

const CKA: &str = "examples/cka-lab.json";

fn cka() -> String {
    root().join(CKA).to_string_lossy().into_owned()
}

#[test]
fn readme_command_answers_the_three_lab_questions_with_evidence() {
    let r = netcheck(&["cidrs", "--snapshot", &cka()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = |fact: &str| {
        r.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(fact))
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("node network"),
        "node network 10.19.9.0/24 known host-interface"
    );
    assert_eq!(line("pod range"), "pod range 10.244.0.0/16 known weave-log");
    assert_eq!(
        line("service range"),
        "service range 10.96.0.0/12 known kube-apiserver-flag"
    );
    assert!(r
        .stdout
        .contains("interface eth0 10.19.9.9/24 on controlplane"));
    assert!(r.stdout.contains("ipalloc-range:10.244.0.0/16"));
    assert!(r.stdout.contains("--service-cluster-ip-range=10.96.0.0/12"));
}

#[test]
fn report_on_the_example_names_iptables_and_the_daemonset() {
    let r = netcheck(&["report", "--explain", "--snapshot", &cka()]);
    // The lab's my-service-lb stays pending (no load balancer): an error, so exit 1.
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("ERROR [loadbalancer-pending]"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Running mode(s): iptables"),
        "{}",
        r.stdout
    );
    let ds = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("kube-proxy") && l.contains("DaemonSet"))
        .unwrap();
    assert!(
        ds.contains("kube-system/kube-proxy") && ds.trim_end().ends_with("2/2"),
        "{ds}"
    );
    assert!(r.stdout.contains("Controlled By DaemonSet/kube-proxy"));
    // --explain: real names filled in.
    assert!(
        r.stdout
            .contains("$ kubectl -n kube-system logs kube-proxy-"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("$ ipcalc -b 10.19.9.9/24"));
    assert!(r
        .stdout
        .contains("$ kubectl -n kube-system logs weave-net-255sj -c weave | grep ipalloc-range"));
}

#[test]
fn exit_codes_follow_fail_on() {
    let s = root().join("tests/scenarios/weave-default-vs-kubeadm/cluster.json");
    let s = s.to_str().unwrap();
    let r = netcheck(&["cidrs", "--snapshot", s]);
    assert_eq!(
        r.code, 1,
        "an error finding fails the default --fail-on warning"
    );
    assert!(r.stdout.contains("[cni-range-mismatch]"));
    assert_eq!(
        netcheck(&["cidrs", "--snapshot", s, "--fail-on", "never"]).code,
        0
    );
    assert_eq!(
        netcheck(&["cidrs", "--snapshot", &cka(), "--fail-on", "info"]).code,
        0
    );
}

#[test]
fn bad_snapshots_are_one_clear_error_with_exit_2() {
    let dir = scratch("bad");
    let cases = [
        ("missing.json", None, "cannot open"),
        (
            "truncated.json",
            Some(r#"{"apiVersion":"netcheck/v1","kind":"Snapshot","nodes":[{"metadata":"#),
            "truncated",
        ),
        (
            "version.json",
            Some(r#"{"apiVersion":"netcheck/v9","kind":"Snapshot"}"#),
            "not supported",
        ),
        (
            "types.json",
            Some(r#"{"apiVersion":"netcheck/v1","kind":"Snapshot","nodes":{"a":1}}"#),
            "does not match",
        ),
        ("garbage.json", Some("\u{0}\u{1}not json"), "not valid JSON"),
    ];
    for (name, content, want) in cases {
        let p = dir.join(name);
        if let Some(c) = content {
            std::fs::write(&p, c).unwrap();
        }
        let r = netcheck(&["cidrs", "--snapshot", p.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains(want) && r.stderr.contains(name),
            "{name}: {}",
            r.stderr
        );
        assert_eq!(r.stderr.trim().lines().count(), 1, "{name}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"));
    }
}

#[test]
fn bad_flags_name_the_input() {
    for (flag, value, want) in [
        ("--also-check", "10.0.0.0/33", "0..=32"),
        ("--node-cidr", "300.1.1.1/8", "not an IP address"),
        ("--also-check", "fd00::/129", "0..=128"),
        ("--request-timeout", "5h", "unknown unit"),
    ] {
        let r = netcheck(&["cidrs", "--snapshot", &cka(), flag, value]);
        assert_eq!(r.code, 2, "{flag} {value}");
        assert!(
            r.stderr.contains(want) && r.stderr.contains(flag),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn unreachable_cluster_and_bad_kubeconfig_fail_fast_with_exit_2() {
    let dir = scratch("kc");
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let kc = dir.join("refused");
    std::fs::write(&kc, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:9\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n").unwrap();
    let t = Instant::now();
    let r = netcheck(&[
        "cidrs",
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--request-timeout",
        "2s",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("cannot reach the API server http://127.0.0.1:9"),
        "{}",
        r.stderr
    );
    assert!(t.elapsed() < Duration::from_secs(20));

    let r = netcheck(&["cidrs", "--kubeconfig", dir.join("nope").to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("kubeconfig") && r.stderr.contains("nope"),
        "{}",
        r.stderr
    );

    let r = netcheck(&[
        "cidrs",
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--context",
        "absent",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("absent"), "{}", r.stderr);
}

#[test]
fn kubectl_plugin_usage_says_kubectl_netcheck() {
    let r = run_bin(env!("CARGO_BIN_EXE_kubectl-netcheck"), &["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Usage: kubectl netcheck"), "{}", r.stdout);
    assert!(r.stdout.contains("--probe-service-cidr") && r.stdout.contains("WRITES"));
}

fn live(opts: Options, args: &[&str]) -> (Run, ApiServer) {
    let server = ApiServer::start(load(&root().join(CKA)), opts).unwrap();
    let kc = scratch("live").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let mut all = vec!["--kubeconfig", kc.to_str().unwrap()];
    all.extend_from_slice(args);
    let r = netcheck(&all);
    (r, server)
}

#[test]
fn log_reads_run_as_many_at_once_as_log_concurrency_allows() {
    // Long enough that three reads sent together cannot arrive a delay apart on a busy machine.
    let delay = Duration::from_secs(1);
    // When each of the three log reads (two kube-proxy, one weave) arrived, held `delay` each.
    let arrivals = |args: &[&str]| {
        let opts = Options {
            faults: vec![(
                Rule::path("/api/v1/namespaces/kube-system/pods/"),
                Fault::Delay(delay),
            )],
            ..Options::default()
        };
        let mut all = vec!["report", "-o", "json", "--fail-on", "never"];
        all.extend_from_slice(args);
        let (r, server) = live(opts, &all);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut at: Vec<Duration> = server
            .requests()
            .iter()
            .filter(|q| q.path.ends_with("/log"))
            .map(|q| q.at)
            .collect();
        at.sort();
        assert_eq!(at.len(), 3, "{at:?}");
        at
    };
    // One at a time: each read is sent only once the one before has been answered.
    let one = arrivals(&["--log-concurrency", "1"]);
    assert!(one.windows(2).all(|w| w[1] - w[0] >= delay), "{one:?}");
    // The default, 8: all three are sent together.
    let many = arrivals(&[]);
    assert!(many[2] - many[0] < delay, "{many:?}");
    let r = netcheck(&["report", "--log-concurrency", "0"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--log-concurrency"), "{}", r.stderr);
}

#[test]
fn default_run_only_reads_pages_and_bounds_logs() {
    let (r, server) = live(
        Options::default(),
        &[
            "report",
            "-o",
            "json",
            "--page-size",
            "3",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let reqs = server.requests();
    assert!(reqs.iter().all(|q| q.method == "GET"), "{reqs:?}");
    assert!(!reqs.iter().any(|q| q.path.contains("secrets")));
    for q in reqs.iter().filter(|q| {
        [
            "/api/v1/pods",
            "/api/v1/nodes",
            "/api/v1/services",
            "/apis/apps/v1/daemonsets",
        ]
        .contains(&q.path.as_str())
    }) {
        assert!(q.query.contains("limit=3"), "{q:?}");
    }
    // 10 pods at 3 a page: 4 pages, the continue tokens followed.
    assert_eq!(reqs.iter().filter(|q| q.path == "/api/v1/pods").count(), 4);
    let logs: Vec<_> = reqs.iter().filter(|q| q.path.ends_with("/log")).collect();
    assert_eq!(
        logs.len(),
        3,
        "two kube-proxy logs and one weave log: {logs:?}"
    );
    assert!(logs.iter().all(|q| q.query.contains("limitBytes=65536")));
    // The same list is never read twice.
    let mut firsts: Vec<_> = reqs
        .iter()
        .filter(|q| !q.query.contains("continue="))
        .map(|q| (q.path.clone(), q.query.clone()))
        .collect();
    let n = firsts.len();
    firsts.sort();
    firsts.dedup();
    assert_eq!(firsts.len(), n, "{reqs:?}");
}

#[test]
fn probe_is_opt_in_and_a_dry_run() {
    let (r, server) = live(
        Options::default(),
        &["cidrs", "-o", "json", "--probe-service-cidr"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let posts: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|q| q.method != "GET")
        .collect();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].path, "/api/v1/namespaces/default/services");
    assert!(posts[0].query.contains("dryRun=All"));
}

#[test]
fn probe_answer_names_the_service_range() {
    let mut c = load(&root().join(CKA));
    // A managed cluster: no control-plane pods, no kubeadm-config; only the probe can tell.
    c.pods.retain(|p| !p.is_mirror());
    c.host = None;
    c.config_maps
        .retain(|m| m.metadata.name != "kubeadm-config");
    c.probe = Some(netcheck::model::ServiceCidrProbe {
        requested_ip: "1.1.1.1".into(),
        code: 422,
        message: "Service \"netcheck-probe\" is invalid: spec.clusterIPs: Invalid value: []string{\"1.1.1.1\"}: failed to allocate IP 1.1.1.1: the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12".into(),
    });
    let server = ApiServer::start(c, Options::default()).unwrap();
    let kc = scratch("probe").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let rep = report(&netcheck(&[
        "cidrs",
        "-o",
        "json",
        "--probe-service-cidr",
        "--kubeconfig",
        kc.to_str().unwrap(),
    ]));
    let f = rep.cidrs.unwrap().service_cidr;
    assert_eq!(
        f.cidrs.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        vec!["10.96.0.0/12"]
    );
    assert_eq!(f.chosen, Some(netcheck::report::SourceId::ServiceCidrProbe));
}

#[test]
fn forbidden_configmaps_and_logs_degrade_to_skipped_with_the_permission_needed() {
    let opts = Options {
        deny: vec![
            Rule::path("/api/v1/namespaces/kube-system/configmaps"),
            Rule::path("/api/v1/namespaces/kube-system/pods/"),
        ],
        ..Default::default()
    };
    let (r, _server) = live(opts, &["report", "-o", "json", "--fail-on", "never"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = report(&r);
    let kp = rep
        .skipped
        .iter()
        .find(|s| s.what == "configmap kube-system/kube-proxy")
        .expect("kube-proxy configmap skipped");
    assert!(kp.reason.starts_with("403"), "{kp:?}");
    assert_eq!(kp.needs.as_deref(), Some("get configmaps in kube-system"));
    assert!(rep
        .skipped
        .iter()
        .any(|s| s.what.starts_with("log kube-system/kube-proxy-")
            && s.needs.as_deref() == Some("get pods/log in kube-system")));
    let c = rep.cidrs.unwrap();
    // Still answered from what was readable: weave's DaemonSet env and the mirror pods.
    assert_eq!(c.pod_cidr.status, FactStatus::Known);
    assert_eq!(c.pod_cidr.cidrs[0].to_string(), "10.244.0.0/16");
    assert_eq!(c.service_cidr.cidrs[0].to_string(), "10.96.0.0/12");
    assert!(c
        .pod_cidr
        .sources
        .iter()
        .any(|s| s.status == SourceStatus::Skipped
            && s.needs.as_deref() == Some("get configmaps in kube-system")));
    let p = rep.proxy.unwrap();
    assert!(
        p.nodes
            .iter()
            .all(|n| n.basis == "assumed" && n.evidence.contains("403")),
        "{:?}",
        p.nodes
    );
}

#[test]
fn slow_server_is_bounded_by_the_timeouts() {
    let opts = Options {
        faults: vec![(
            Rule::path("/api/v1/services"),
            Fault::Delay(Duration::from_secs(30)),
        )],
        ..Default::default()
    };
    let t = Instant::now();
    let (r, _s) = live(
        opts,
        &[
            "cidrs",
            "-o",
            "json",
            "--request-timeout",
            "1s",
            "--fail-on",
            "never",
        ],
    );
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = report(&r);
    let s = rep
        .skipped
        .iter()
        .find(|s| s.what == "services")
        .expect("services skipped");
    assert!(s.reason.contains("timed out"), "{s:?}");
    assert_eq!(
        rep.cidrs.unwrap().pod_cidr.cidrs[0].to_string(),
        "10.244.0.0/16"
    );
}

#[test]
fn snapshot_round_trip_gives_the_same_answers() {
    let server = ApiServer::start(load(&root().join(CKA)), Options::default()).unwrap();
    let dir = scratch("rt");
    let kc = dir.join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let file = dir.join("snap.json");
    let r = netcheck(&[
        "snapshot",
        "-o",
        file.to_str().unwrap(),
        "--kubeconfig",
        kc.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = server.requests().len();
    let a = report(&netcheck(&[
        "report",
        "-o",
        "json",
        "--kubeconfig",
        kc.to_str().unwrap(),
    ]));
    let b = report(&netcheck(&[
        "report",
        "-o",
        "json",
        "--snapshot",
        file.to_str().unwrap(),
    ]));
    assert!(server.requests().len() > before, "the live run reads");
    assert_eq!(
        serde_json::to_value(&a.cidrs).unwrap(),
        serde_json::to_value(&b.cidrs).unwrap()
    );
    assert_eq!(
        serde_json::to_value(&a.proxy).unwrap(),
        serde_json::to_value(&b.proxy).unwrap()
    );
}

#[test]
fn yaml_and_user_ranges() {
    let r = netcheck(&[
        "cidrs",
        "-o",
        "yaml",
        "--snapshot",
        &cka(),
        "--also-check",
        "10.96.0.0/16,192.168.0.0/16",
        "--fail-on",
        "never",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_saphyr::from_str(&r.stdout).expect("valid YAML");
    assert_eq!(v["apiVersion"], "netcheck/v1");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec!["user-range-overlap"],
        "10.96.0.0/16 sits inside the service range; 192.168/16 touches nothing"
    );
}

#[test]
fn on_node_reads_manifests_and_interfaces_of_this_host() {
    let dir = scratch("manifests");
    std::fs::write(
        dir.join("kube-apiserver.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\n  labels: {component: kube-apiserver}\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver, --service-cluster-ip-range=10.55.0.0/16]\n",
    )
    .unwrap();
    std::fs::write(dir.join("broken.yaml"), "spec: {containers: [\n").unwrap();
    let r = netcheck(&[
        "cidrs",
        "-o",
        "json",
        "--fail-on",
        "never",
        "--snapshot",
        &cka(),
        "--on-node",
        "--manifests-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = report(&r);
    let svc = rep.cidrs.unwrap().service_cidr;
    let from_file = svc
        .sources
        .iter()
        .find(|s| s.evidence.starts_with("file ") && s.evidence.contains("kube-apiserver.yaml"))
        .expect("manifest read");
    assert_eq!(from_file.cidrs[0].to_string(), "10.55.0.0/16");
    // The mirror pod still says 10.96.0.0/12: the two disagree, and netcheck says so.
    assert!(
        rep.findings
            .iter()
            .any(|f| f.id == "source-disagreement" && f.message.contains("10.55.0.0/16")),
        "{:?}",
        rep.findings
    );
    assert!(
        rep.skipped
            .iter()
            .any(|s| s.what.ends_with("broken.yaml") && s.reason.contains("not valid YAML")),
        "{:?}",
        rep.skipped
    );
}

#[test]
fn on_node_reads_microk8s_args_files() {
    // MicroK8s keeps each component's flags in a file named after it, not in a pod.
    let dir = scratch("microk8s-args");
    std::fs::write(
        dir.join("kube-apiserver"),
        "--cert-dir=${SNAP_DATA}/certs\n--service-cluster-ip-range=10.152.183.0/24 # MicroK8s default\n--secure-port=16443\n--etcd-servers=\"unix://${SNAP_DATA}/var/kubernetes/backend/kine.sock:12379\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("kube-proxy"), "--cluster-cidr=10.1.0.0/16\n").unwrap();
    let snap = root().join("tests/scenarios/microk8s-kubelite/cluster.json");
    let r = netcheck(&[
        "cidrs",
        "-o",
        "json",
        "--snapshot",
        snap.to_str().unwrap(),
        "--on-node",
        "--manifests-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = report(&r).cidrs.unwrap();
    let svc = &c.service_cidr;
    assert_eq!(svc.status, FactStatus::Known, "{}", svc.why);
    assert_eq!(
        svc.chosen,
        Some(netcheck::report::SourceId::KubeApiserverFlag)
    );
    let flag = svc
        .sources
        .iter()
        .find(|s| {
            s.id == netcheck::report::SourceId::KubeApiserverFlag && s.status == SourceStatus::Found
        })
        .expect("flag read from the args file");
    assert!(
        flag.evidence.contains("kube-apiserver"),
        "{}",
        flag.evidence
    );
    assert_eq!(svc.cidrs[0].to_string(), "10.152.183.0/24");
    let kp = c
        .pod_cidr
        .sources
        .iter()
        .find(|s| s.id == netcheck::report::SourceId::KubeProxyConfig)
        .expect("kube-proxy's --cluster-cidr from its args file");
    assert_eq!(kp.cidrs[0].to_string(), "10.1.0.0/16");
}
