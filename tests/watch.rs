//! `report --watch` (#16): the first round whole, then only what changed, each round re-read
//! (here a snapshot file that the test rewrites between rounds, and a live test API server);
//! SIGINT ends it with exit 0.

mod common;

use common::*;
use netcheck::report::{Diff, Report};
use netcheck_testkit::apiserver::{ApiServer, Options, STORE_VERSION};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn kind() -> Value {
    let p = root().join("tests/scenarios/kind-default/cluster.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The watch's stdout, line by line, as it comes.
fn start(args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args(args)
        .env_remove("KUBECONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn next(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(Duration::from_secs(30))
        .expect("a watch round within 30 s")
}

fn interrupt(mut child: Child) -> (i32, String) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status.code().unwrap_or(-1), err)
}

#[test]
fn rounds_print_only_what_changed() {
    let dir = scratch("watch");
    let snap = dir.join("cluster.json");
    std::fs::write(&snap, kind().to_string()).unwrap();
    let (child, rx) = start(&[
        "report",
        "--watch",
        "--interval",
        "300ms",
        "-o",
        "json",
        "--snapshot",
        snap.to_str().unwrap(),
    ]);
    // Round one: the whole report.
    let first: Report = serde_json::from_str(&next(&rx)).expect("round one is a report");
    assert_eq!(first.kind, "Report");
    // Nothing changed: an empty diff.
    let quiet: Diff = serde_json::from_str(&next(&rx)).expect("then diffs");
    assert!(
        quiet.changes.is_empty() && quiet.new_findings.is_empty(),
        "{quiet:?}"
    );
    // kind-worker2 loses its podCIDR: the next rounds say so, once.
    let mut v = kind();
    v["nodes"][2]["spec"] = json!({});
    let tmp = dir.join("cluster.json.new");
    std::fs::write(&tmp, v.to_string()).unwrap();
    std::fs::rename(&tmp, &snap).unwrap();
    let changed = (0..20)
        .map(|_| serde_json::from_str::<Diff>(&next(&rx)).unwrap())
        .find(|d| !d.new_findings.is_empty())
        .expect("the change shows within 20 rounds");
    assert!(
        changed
            .new_findings
            .iter()
            .any(|i| i.id == "podcidr-missing" && i.subject.as_deref() == Some("node kind-worker2")),
        "{changed:?}"
    );
    assert!(changed
        .changes
        .iter()
        .any(|c| c.what == "podCIDR of node kind-worker2"));
    let after: Diff = serde_json::from_str(&next(&rx)).unwrap();
    assert!(after.new_findings.is_empty(), "reported once: {after:?}");
    let (code, err) = interrupt(child);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("watch stopped"), "{err}");
}

/// Requests made since the `n`th that were not watches, and not of APIs this server does not
/// serve (those are asked again each round: they answer 404 and cannot be watched).
fn reads_since(server: &ApiServer, n: usize) -> Vec<String> {
    server.requests()[n..]
        .iter()
        .filter(|r| !r.query.contains("watch=1") && r.status != 404)
        .map(|r| format!("{} {}", r.path, r.query))
        .collect()
}

fn live(name: &str, opts: Options) -> (ApiServer, String) {
    let cluster = serde_json::from_value(kind()).unwrap();
    let server = ApiServer::start(cluster, opts).unwrap();
    let kc = scratch(name).join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    (server, kc.to_str().unwrap().to_string())
}

fn node(i: usize) -> netcheck::model::Node {
    serde_json::from_value(kind()["nodes"][i].clone()).unwrap()
}

/// The next round that changed something, within 20.
fn next_change(rx: &mpsc::Receiver<String>) -> Diff {
    (0..20)
        .map(|_| serde_json::from_str::<Diff>(&next(rx)).unwrap())
        .find(|d| {
            !d.changes.is_empty() || !d.new_findings.is_empty() || !d.resolved_findings.is_empty()
        })
        .expect("the change shows within 20 rounds")
}

#[test]
fn live_rounds_read_only_what_changed() {
    let (server, kc) = live("watch-live", Options::default());
    // Requests time out after 1 s; the watches, silent far longer (no bookmark within the
    // test), must not.
    let (child, rx) = start(&[
        "report",
        "--watch",
        "--interval",
        "300ms",
        "--request-timeout",
        "1s",
        "-o",
        "json",
        "--kubeconfig",
        &kc,
    ]);
    let first: Report = serde_json::from_str(&next(&rx)).expect("round one is a report");
    assert_eq!(first.kind, "Report");
    let after_first = server.requests().len();
    // Each list is now watched from the version it was read at; each object from now (its
    // own version is older than the server's watch history), its replay not taken for a change.
    let watches: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.query.contains("watch=1"))
        .collect();
    assert!(
        watches.iter().any(|w| w.path == "/api/v1/nodes"
            && w.query
                .contains(&format!("resourceVersion={STORE_VERSION}"))),
        "{watches:?}"
    );
    assert!(
        watches
            .iter()
            .any(|w| w.path == "/api/v1/namespaces/kube-system/configmaps"
                && w.query.contains("fieldSelector=metadata.name%3Dkube-proxy")
                && !w.query.contains("resourceVersion")),
        "{watches:?}"
    );
    // Two rounds with nothing changed: no change, and nothing read but /version.
    for _ in 0..2 {
        let d: Diff = serde_json::from_str(&next(&rx)).unwrap();
        assert!(
            d.changes.is_empty() && d.new_findings.is_empty() && d.resolved_findings.is_empty(),
            "{d:?}"
        );
    }
    let reads = reads_since(&server, after_first);
    assert!(
        reads.len() >= 2 && reads.iter().all(|r| r.starts_with("/version")),
        "{reads:?}"
    );

    // kind-worker2 loses its podCIDR: the watch brings the change, no list is made again.
    let mut n = node(2);
    n.spec.pod_cidr = None;
    n.spec.pod_cidrs.clear();
    server.put("nodes", &n);
    let changed = next_change(&rx);
    assert!(
        changed.new_findings.iter().any(|i| i.id == "podcidr-missing" && i.subject.as_deref() == Some("node kind-worker2")),
        "{changed:?}"
    );
    // The round after: the same state, so no change.
    let d: Diff = serde_json::from_str(&next(&rx)).unwrap();
    assert!(
        d.new_findings.is_empty() && d.changes.is_empty(),
        "reported once: {d:?}"
    );
    // What the watch made of it is what a fresh read of the server finds.
    let fresh = || -> Report {
        serde_json::from_str(&netcheck(&["report", "-o", "json", "--kubeconfig", &kc]).stdout)
            .unwrap()
    };
    let now = fresh();
    same(
        &changed,
        &netcheck::report::diff(("first", &first), ("fresh", &now)),
    );

    // A deleted node goes from the model too.
    assert!(server.delete("nodes", "", "kind-worker"));
    let gone = next_change(&rx);
    assert!(
        gone.changes
            .iter()
            .any(|c| c.what.contains("node kind-worker") && !c.what.contains("kind-worker2")),
        "{gone:?}"
    );
    let later = fresh();
    same(
        &gone,
        &netcheck::report::diff(("before", &now), ("after", &later)),
    );

    // kind-worker2's kube-proxy pod is deleted: the pods' watch brings it.
    let pods = kind()["pods"].as_array().unwrap().clone();
    let proxy = pods
        .iter()
        .find(|p| {
            p["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("kube-proxy")
                && p["spec"]["nodeName"] == "kind-worker2"
        })
        .expect("the fixture runs kube-proxy on kind-worker2");
    assert!(server.delete(
        "pods",
        "kube-system",
        proxy["metadata"]["name"].as_str().unwrap()
    ));
    let lost = next_change(&rx);
    same(
        &lost,
        &netcheck::report::diff(("before", &later), ("after", &fresh())),
    );
    let reads = reads_since(&server, after_first);
    let watched = reads
        .iter()
        .filter(|r| !r.starts_with("/version"))
        .collect::<Vec<_>>();
    // Only the fresh runs of this test listed nodes and pods: one list each.
    for list in ["/api/v1/nodes ", "/api/v1/pods "] {
        assert_eq!(
            watched.iter().filter(|r| r.starts_with(list)).count(),
            3,
            "{list}: {reads:?}"
        );
    }

    // A Service whose selector matches no pod is created: the Services' watch brings it.
    let svc: netcheck::model::Service = serde_json::from_value(json!({
        "metadata": {"name": "orphan", "namespace": "default"},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.99", "clusterIPs": ["10.96.0.99"],
                 "selector": {"app": "nothing"}, "ports": [{"port": 80, "protocol": "TCP"}]}
    }))
    .unwrap();
    let before_svc = fresh();
    server.put("services", &svc);
    let added = next_change(&rx);
    same(
        &added,
        &netcheck::report::diff(("before", &before_svc), ("after", &fresh())),
    );

    // kube-proxy's ConfigMap switches to ipvs: its object watch brings it, and only that
    // ConfigMap is got again.
    let mut cm: netcheck::model::ConfigMap = serde_json::from_value(
        kind()["configMaps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metadata"]["name"] == "kube-proxy")
            .unwrap()
            .clone(),
    )
    .unwrap();
    let conf = cm
        .data
        .get("config.conf")
        .unwrap()
        .replace("mode: iptables", "mode: ipvs");
    assert!(conf.contains("mode: ipvs"));
    cm.data.insert("config.conf".into(), conf);
    let now = fresh();
    let before = server.requests().len();
    server.put("configmaps", &cm);
    let switched = next_change(&rx);
    same(
        &switched,
        &netcheck::report::diff(("before", &now), ("after", &fresh())),
    );
    let got: Vec<_> = reads_since(&server, before)
        .into_iter()
        .filter(|r| r.contains("configmaps"))
        .collect();
    // kube-proxy's: once by the watch round, once by the fresh run; kubeadm-config's only by
    // the fresh run.
    let count = |name: &str| got.iter().filter(|r| r.contains(name)).count();
    assert_eq!(count("configmaps/kube-proxy "), 2, "{got:?}");
    assert_eq!(count("configmaps/kubeadm-config "), 1, "{got:?}");
    let (code, err) = interrupt(child);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("watch was lost"), "{err}");
}

/// Two diffs say the same: the same changes and findings come and go.
fn same(a: &Diff, b: &Diff) {
    let key = |d: &Diff| {
        let mut v: Vec<String> = d
            .changes
            .iter()
            .map(|c| format!("{}: {} -> {}", c.what, c.before, c.after))
            .collect();
        v.extend(
            d.new_findings
                .iter()
                .map(|i| format!("new {} {:?}", i.id, i.subject)),
        );
        v.extend(
            d.resolved_findings
                .iter()
                .map(|i| format!("resolved {} {:?}", i.id, i.subject)),
        );
        v.sort();
        v
    };
    assert_eq!(key(a), key(b));
    assert!(!key(a).is_empty());
}

#[test]
fn expired_watches_are_read_again_and_said_so() {
    let (server, kc) = live("watch-expired", Options::default());
    let (child, rx) = start(&[
        "cidrs",
        "--watch",
        "--interval",
        "300ms",
        "--kubeconfig",
        &kc,
    ]);
    let mut lines = vec![];
    while !lines.iter().any(|l: &String| l.ends_with(": no change")) {
        lines.push(next(&rx));
    }
    assert!(lines[0].starts_with("== 20"), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("10.244.0.0/16")),
        "{lines:?}"
    );
    let before = server.requests().len();
    server.expire();
    // The nodes are listed again (from then on watched from the new version), and the
    // rounds still find nothing changed.
    let mut quiet = 0;
    for _ in 0..40 {
        if next(&rx).ends_with(": no change") {
            quiet += 1;
        }
        if reads_since(&server, before)
            .iter()
            .any(|r| r.starts_with("/api/v1/nodes"))
            && quiet >= 2
        {
            break;
        }
    }
    assert!(
        reads_since(&server, before)
            .iter()
            .any(|r| r.starts_with("/api/v1/nodes ")),
        "{:?}",
        reads_since(&server, before)
    );
    let (code, err) = interrupt(child);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read /api/v1/nodes again: its watch was lost: its history expired (410 Gone"),
        "{err}"
    );
}

#[test]
fn refused_watches_degrade_to_reading_each_round() {
    // The deployed role grants get and list only.
    let rules: Vec<netcheck_testkit::apiserver::PolicyRule> = {
        let text = std::fs::read_to_string(root().join("deploy/rbac.yaml")).unwrap();
        let role = text
            .split("\n---")
            .find(|d| d.contains("kind: ClusterRole\n"))
            .unwrap();
        let v: Value = serde_saphyr::from_str(role).unwrap();
        serde_json::from_value(v["rules"].clone()).unwrap()
    };
    let (server, kc) = live(
        "watch-refused",
        Options {
            allow: Some(rules),
            ..Options::default()
        },
    );
    let (child, rx) = start(&[
        "cidrs",
        "--watch",
        "--interval",
        "200ms",
        "--kubeconfig",
        &kc,
    ]);
    let mut rounds = 0;
    while rounds < 3 {
        if next(&rx).starts_with("== 20") {
            rounds += 1;
        }
    }
    let (code, err) = interrupt(child);
    assert_eq!(code, 0, "{err}");
    let lists = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/nodes" && !r.query.contains("watch"))
        .count();
    assert!(lists >= 3, "{lists} node lists in 3 rounds");
    // Said once, not every round: a refused watch is not asked for again.
    let said = err
        .matches("read /api/v1/nodes again: its watch was lost: watch answered 403")
        .count();
    assert_eq!(said, 1, "{err}");
    let watches = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/nodes" && r.query.contains("watch=1"))
        .count();
    assert_eq!(watches, 1, "asked once");
}

#[test]
fn rule_commands_refuse_watch() {
    let r = netcheck(&["rules", "--watch", "--snapshot", "examples/cka-lab.json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--watch goes with"), "{}", r.stderr);
}
