//! `--dump DIR`: directories written by real `kubectl cluster-info dump` against the test API
//! server (JSON and YAML), read offline and compared with the snapshot of the same cluster.

mod common;

use common::*;
use netcheck::report::{FactStatus, Report, SourceStatus};
use netcheck_testkit::{ApiServer, Options};
use std::path::{Path, PathBuf};
use std::process::Command;

const NOT_IN_DUMP: &str = "not in a cluster-info dump";

fn kubectl() -> &'static str {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "tests/dump.rs runs the real `kubectl cluster-info dump`: kubectl must be on PATH"
    );
    "kubectl"
}

/// Serves the cluster and has kubectl dump it into a fresh directory, in JSON or YAML.
fn dump(cluster: &Path, yaml: bool) -> PathBuf {
    let kubectl = kubectl();
    let server = ApiServer::start(load(cluster), Options::default()).unwrap();
    let work = scratch("dump");
    let kc = work.join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let dir = work.join(if yaml { "yaml" } else { "json" });
    let mut cmd = Command::new(kubectl);
    cmd.env_remove("KUBECONFIG")
        .args(["--kubeconfig", kc.to_str().unwrap()])
        .args([
            "cluster-info",
            "dump",
            "--all-namespaces",
            "--output-directory",
        ])
        .arg(&dir);
    if yaml {
        cmd.args(["-o", "yaml"]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "kubectl cluster-info dump of {}: {}",
        cluster.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let ext = if yaml { "yaml" } else { "json" };
    assert!(
        dir.join(format!("nodes.{ext}")).is_file(),
        "kubectl wrote no nodes.{ext}"
    );
    dir
}

fn run_report(args: &[&str]) -> Report {
    let mut a = vec!["report", "-o", "json", "--fail-on", "never"];
    a.extend_from_slice(args);
    let r = netcheck(&a);
    assert_eq!(r.code, 0, "netcheck {a:?}: {}", r.stderr);
    report(&r)
}

/// The answers a dump can give, compared with the snapshot's; returns the mismatches.
fn compare(name: &str, snap: &Report, dump: &Report, dir: &Path) -> Vec<String> {
    let mut errs = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            errs.push(format!("{name}: {what}"));
        }
    };
    check(
        dump.source.mode == "dump",
        format!("source.mode {:?}", dump.source.mode),
    );
    check(
        dump.source.file.as_deref() == Some(dir.to_str().unwrap()),
        format!("source.file {:?}", dump.source.file),
    );
    let (s, d) = (snap.cidrs.as_ref().unwrap(), dump.cidrs.as_ref().unwrap());
    check(
        s.cni.name == d.cni.name,
        format!("CNI {} vs {}", s.cni.name, d.cni.name),
    );
    // Each range: the same, or, when only a ConfigMap or ServiceCIDR stated it, unknown or
    // inferred with those sources skipped because the dump lacks them.
    for (what, s, d) in [
        ("pod range", &s.pod_cidr, &d.pod_cidr),
        ("service range", &s.service_cidr, &d.service_cidr),
    ] {
        if s.cidrs == d.cidrs && s.status == d.status {
            continue;
        }
        let skipped_for_dump = d
            .sources
            .iter()
            .any(|x| x.status == SourceStatus::Skipped && x.evidence.contains(NOT_IN_DUMP));
        check(
            d.status != FactStatus::Known && skipped_for_dump,
            format!(
                "{what} {:?} {:?} vs {:?} {:?}, and no source skipped as {NOT_IN_DUMP:?}",
                s.status, s.cidrs, d.status, d.cidrs
            ),
        );
    }
    let (sp, dp) = (snap.proxy.as_ref().unwrap(), dump.proxy.as_ref().unwrap());
    // What replaces kube-proxy may be stated only in the CNI's ConfigMap: then it is unknown.
    let cm_skipped = dump
        .skipped
        .iter()
        .any(|e| e.what.starts_with("configmap ") && e.reason.starts_with(NOT_IN_DUMP));
    let unknown_proxy = dp.implementation == "unknown" && cm_skipped;
    check(
        sp.implementation == dp.implementation || unknown_proxy,
        format!("proxy {} vs {}", sp.implementation, dp.implementation),
    );
    check(
        sp.running_modes == dp.running_modes || unknown_proxy,
        format!(
            "running modes {:?} vs {:?}",
            sp.running_modes, dp.running_modes
        ),
    );
    let deploys = |r: &Report| -> Vec<String> {
        let mut v: Vec<String> = r
            .deployments
            .iter()
            .flatten()
            // With the proxy implementation unknown, so is how it is deployed.
            .filter(|d| !(unknown_proxy && d.component == "kube-proxy"))
            .map(|d| {
                format!(
                    "{} {} {:?} {:?} ready {}/{} missing {:?}",
                    d.component,
                    d.kind,
                    d.name,
                    d.counts,
                    d.nodes_ready,
                    d.nodes_total,
                    d.missing.iter().map(|m| &m.node).collect::<Vec<_>>()
                )
            })
            .collect();
        v.sort();
        v
    };
    check(
        deploys(snap) == deploys(dump),
        format!("deployments {:?} vs {:?}", deploys(snap), deploys(dump)),
    );
    // What a dump lacks is skipped, with the reason; nothing else is.
    for w in [
        "version",
        "endpointslices",
        "servicecidrs",
        "configmap kube-system/kube-proxy",
    ] {
        check(
            dump.skipped
                .iter()
                .any(|e| e.what == w && e.reason.starts_with(NOT_IN_DUMP)),
            format!("{w} not skipped as {NOT_IN_DUMP:?}: {:?}", dump.skipped),
        );
    }
    for e in &dump.skipped {
        let ours = e.reason.starts_with(NOT_IN_DUMP)
            || snap.skipped.iter().any(|x| x.what == e.what)
            || e.reason.starts_with("kubectl could not read it");
        check(
            ours,
            format!("skipped {} ({}) for another reason", e.what, e.reason),
        );
    }
    errs
}

fn dump_vs_snapshot(cluster: &Path) -> Vec<String> {
    let snap = run_report(&["--snapshot", cluster.to_str().unwrap()]);
    let mut errs = Vec::new();
    for yaml in [false, true] {
        let dir = dump(cluster, yaml);
        let r = run_report(&["--dump", dir.to_str().unwrap()]);
        let name = format!(
            "{} ({})",
            cluster.display(),
            if yaml { "yaml" } else { "json" }
        );
        errs.extend(compare(&name, &snap, &r, &dir));
    }
    errs
}

#[test]
fn cka_lab_dump_answers_as_its_snapshot() {
    let cluster = root().join("examples/cka-lab.json");
    let errs = dump_vs_snapshot(&cluster);
    assert!(errs.is_empty(), "{}", errs.join("\n"));

    // The kube-proxy mode comes from the logs the dump holds; its ConfigMap is not in it.
    let dir = dump(&cluster, false);
    let r = run_report(&["--dump", dir.to_str().unwrap()]);
    let proxy = r.proxy.unwrap();
    assert!(!proxy.nodes.is_empty());
    for n in &proxy.nodes {
        assert_eq!(n.basis, "log", "{n:?}");
        assert!(n.evidence.contains("log kube-system/kube-proxy-"), "{n:?}");
    }
    // The weave range is read from weave's log in the dump.
    let pod = &r.cidrs.unwrap().pod_cidr;
    assert_eq!(pod.chosen, Some(netcheck::report::SourceId::WeaveLog));
}

#[test]
fn scenario_dumps_answer_as_their_snapshots() {
    let mut errs = Vec::new();
    for name in SCENARIOS {
        let cluster = root()
            .join("tests/scenarios")
            .join(name)
            .join("cluster.json");
        errs.extend(dump_vs_snapshot(&cluster));
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

const SCENARIOS: &[&str] = &["kind-default", "proxy-ipvs-crashloop-129"];

#[test]
fn bad_dumps_are_errors_naming_the_file() {
    let work = scratch("bad-dump");
    let file = work.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let empty = work.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let broken = work.join("broken");
    std::fs::create_dir_all(broken.join("kube-system")).unwrap();
    std::fs::write(
        broken.join("nodes.json"),
        r#"{"kind":"NodeList","items":[]}"#,
    )
    .unwrap();
    std::fs::write(
        broken.join("kube-system/pods.json"),
        r#"{"kind":"PodList","items":[{"#,
    )
    .unwrap();
    let broken_yaml = work.join("broken-yaml");
    std::fs::create_dir_all(&broken_yaml).unwrap();
    std::fs::write(broken_yaml.join("nodes.yaml"), "items:\n  - metadata: [\n").unwrap();
    let cases: [(&Path, &str); 5] = [
        (&work.join("missing"), "cannot read"),
        (&file, "is not a directory"),
        (&empty, "no nodes.json or nodes.yaml"),
        (&broken, "kube-system/pods.json is not a JSON list"),
        (&broken_yaml, "nodes.yaml is not a YAML list"),
    ];
    for (dir, msg) in cases {
        let r = netcheck(&["report", "--dump", dir.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{}: {}", dir.display(), r.stderr);
        assert!(r.stderr.contains(msg), "{}: {}", dir.display(), r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    let r = netcheck(&[
        "report",
        "--dump",
        empty.to_str().unwrap(),
        "--snapshot",
        "x.json",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--snapshot"), "{}", r.stderr);
}

#[test]
fn every_command_reads_a_dump() {
    let dir = dump(&root().join("examples/cka-lab.json"), true);
    for cmd in ["cidrs", "proxy-mode", "daemonsets", "services"] {
        let r = netcheck(&[cmd, "--dump", dir.to_str().unwrap(), "--fail-on", "never"]);
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        assert!(!r.stdout.is_empty(), "{cmd}");
    }
}

/// Every scenario through a real dump (slow: two kubectl runs each). Differences are printed,
/// not failed on: some answers need what a dump lacks. `cargo test --test dump -- --ignored`
#[test]
#[ignore]
fn survey_all_scenarios() {
    for dir in scenario_dirs() {
        if !dir.join("cluster.json").exists() {
            continue;
        }
        let errs = dump_vs_snapshot(&dir.join("cluster.json"));
        println!(
            "{}: {}",
            dir.display(),
            if errs.is_empty() { "same" } else { "differs" }
        );
        for e in errs {
            println!("  {e}");
        }
    }
}

/// A namespace's pods.yaml is far beyond the node budget meant for configuration files.
#[test]
fn large_yaml_dump_and_snapshot_of_a_dump() {
    let dir = scratch("big-yaml-dump");
    std::fs::write(
        dir.join("nodes.yaml"),
        "apiVersion: v1\nkind: NodeList\nitems:\n- metadata:\n    name: n1\n  spec:\n    podCIDR: 10.244.0.0/24\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("default")).unwrap();
    let mut pods = String::from("apiVersion: v1\nkind: PodList\nitems:\n");
    let n = 4000; // 280,000 YAML nodes: more than serde-saphyr allows by default
    for i in 0..n {
        pods.push_str(&format!(
            "- metadata:\n    name: web-{i}\n    namespace: default\n    labels:\n      app: web\n      tier: front\n      index: \"{i}\"\n    managedFields:\n    - manager: kubelet\n      fieldsV1:\n        f:status:\n          f:conditions:\n            k:{{\"type\":\"Ready\"}}:\n              f:status: {{}}\n              f:type: {{}}\n  spec:\n    nodeName: n1\n    containers:\n    - name: web\n      image: nginx\n      ports:\n      - containerPort: 80\n        protocol: TCP\n  status:\n    phase: Running\n    podIP: 10.244.{}.{}\n    podIPs:\n    - ip: 10.244.{}.{}\n    containerStatuses:\n    - name: web\n      ready: true\n      restartCount: 0\n",
            i / 250, i % 250, i / 250, i % 250
        ));
    }
    std::fs::write(dir.join("default/pods.yaml"), pods).unwrap();
    let r = netcheck(&["snapshot", "-o", "-", "--dump", dir.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c: netcheck::model::Cluster = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(c.source.mode, "dump");
    assert_eq!(c.workload_pods.len(), n);
}

/// kubectl writes a log it could not read as `Request log error: ...` inside the container's
/// section: that log is skipped with kubectl's error, and the node's mode is not read from it.
#[test]
fn a_log_kubectl_could_not_read_is_skipped_with_its_error() {
    let kubectl = kubectl();
    let cluster = load(&root().join("examples/cka-lab.json"));
    let pod = "kube-proxy-d7l2d";
    let opts = Options {
        deny: vec![netcheck_testkit::Rule::path(&format!(
            "/api/v1/namespaces/kube-system/pods/{pod}/log"
        ))],
        ..Options::default()
    };
    let server = ApiServer::start(cluster, opts).unwrap();
    let work = scratch("dump-denied-log");
    let kc = work.join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let dir = work.join("json");
    let out = Command::new(kubectl)
        .env_remove("KUBECONFIG")
        .args(["--kubeconfig", kc.to_str().unwrap()])
        .args(["cluster-info", "dump", "-A", "--output-directory"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = std::fs::read_to_string(dir.join("kube-system").join(pod).join("logs.txt")).unwrap();
    assert!(logs.contains("Request log error: "), "{logs}");
    let r = run_report(&["--dump", dir.to_str().unwrap()]);
    let what = format!("log kube-system/{pod} [kube-proxy]");
    let e = r.skipped.iter().find(|e| e.what == what);
    let e = e.unwrap_or_else(|| panic!("{what} not skipped: {:?}", r.skipped));
    assert!(
        e.reason
            .starts_with("kubectl could not read it when dumping: Request log error: "),
        "{e:?}"
    );
    let proxy = r.proxy.unwrap();
    let node = proxy
        .nodes
        .iter()
        .find(|n| n.pod.as_deref() == Some(&format!("kube-system/{pod}")))
        .unwrap();
    assert_ne!(node.basis, "log", "{node:?}");
}

/// A dump holds every event of each namespace; only the reasons netcheck reads are kept, and
/// capacity sees them as it does live.
#[test]
fn events_in_a_dump_feed_capacity() {
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/scenarios/kind-default/cluster.json")).unwrap(),
    )
    .unwrap();
    v["nodes"][2]["spec"] = serde_json::json!({});
    let event = |name: &str, kind: &str, obj: &str, reason: &str, message: &str| {
        serde_json::json!({
            "metadata": {"name": name, "namespace": "default"},
            "involvedObject": {"kind": kind, "name": obj},
            "reason": reason, "message": message, "count": 2
        })
    };
    v["events"] = serde_json::json!([
        event(
            "kind-worker2.1",
            "Node",
            "kind-worker2",
            "CIDRNotAvailable",
            "Node kind-worker2 status is now: CIDRNotAvailable"
        ),
        event(
            "web.1",
            "Pod",
            "web",
            "Scheduled",
            "Successfully assigned default/web to kind-worker"
        ),
    ]);
    let file = scratch("dump-events").join("cluster.json");
    std::fs::write(&file, v.to_string()).unwrap();
    let dir = dump(&file, false);
    let out = netcheck(&[
        "capacity",
        "--dump",
        dir.to_str().unwrap(),
        "-o",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = report(&out);
    let slots = r
        .capacity
        .as_ref()
        .unwrap()
        .ranges
        .iter()
        .find(|u| u.kind == "node-slots")
        .unwrap();
    assert_eq!(slots.waiting, ["node kind-worker2"]);
    assert_eq!(slots.failures.len(), 1, "{:?}", slots.failures);
    assert!(slots.failures[0].contains("CIDRNotAvailable"));
    let snap = netcheck(&["snapshot", "--dump", dir.to_str().unwrap(), "-o", "-"]);
    assert_eq!(snap.code, 0, "{}", snap.stderr);
    let kept: serde_json::Value = serde_json::from_str(&snap.stdout).unwrap();
    let reasons: Vec<&str> = kept["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["CIDRNotAvailable"]);
}
