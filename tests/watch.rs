//! `report --watch` (#16): the first round whole, then only what changed, each round re-read
//! (here a snapshot file that the test rewrites between rounds, and a live test API server);
//! SIGINT ends it with exit 0.

mod common;

use common::*;
use netcheck::report::{Diff, Report};
use netcheck_testkit::apiserver::{ApiServer, Options};
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

#[test]
fn live_rounds_and_text() {
    let cluster = serde_json::from_value(kind()).unwrap();
    let server = ApiServer::start(cluster, Options::default()).unwrap();
    let kc = scratch("watch-live").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let (child, rx) = start(&[
        "cidrs",
        "--watch",
        "--interval",
        "200ms",
        "--kubeconfig",
        kc.to_str().unwrap(),
    ]);
    let mut lines = vec![];
    // The first report, then a "no change" round.
    while !lines.iter().any(|l: &String| l.ends_with(": no change")) {
        lines.push(next(&rx));
    }
    assert!(lines[0].starts_with("== 20"), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("10.244.0.0/16")),
        "{lines:?}"
    );
    let (code, err) = interrupt(child);
    assert_eq!(code, 0, "{err}");
    // Each round asked the server again.
    let lists = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/nodes")
        .count();
    assert!(lists >= 2, "{lists} node lists");
    // Not with commands that read rule dumps.
    let r = netcheck(&["rules", "--watch", "--snapshot", "examples/cka-lab.json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--watch goes with"), "{}", r.stderr);
}
