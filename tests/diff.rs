//! `netcheck diff BEFORE AFTER` (#16): snapshots and `report -o json` files on either side.
//! The change between the two sides is written out here; so is what it must show.

mod common;

use common::*;
use netcheck::report::{Diff, Severity};
use serde_json::{json, Value};
use std::path::PathBuf;

fn kind() -> Value {
    let p = root().join("tests/scenarios/kind-default/cluster.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn save(dir: &std::path::Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string(v).unwrap()).unwrap();
    p
}

fn diff(args: &[&str]) -> (i32, Diff) {
    let mut a = vec!["diff"];
    a.extend_from_slice(args);
    a.extend(["-o", "json"]);
    let r = netcheck(&a);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let d: Diff = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    (r.code, d)
}

/// After: kind-worker2 lost its podCIDR (kindnet needs one: podcidr-missing) and the web
/// Service got an external IP (service-external-ips); nothing else differs.
fn after() -> Value {
    let mut v = kind();
    v["nodes"][2]["spec"] = json!({});
    for s in v["services"].as_array_mut().unwrap() {
        if s["metadata"]["name"] == "web" {
            s["spec"]["externalIPs"] = json!(["203.0.113.7"]);
        }
    }
    v
}

#[test]
fn new_and_resolved_findings_and_changed_answers() {
    let dir = scratch("diff");
    let before = save(&dir, "before.json", &kind());
    let after = save(&dir, "after.json", &after());
    let (b, a) = (before.to_str().unwrap(), after.to_str().unwrap());

    let (code, d) = diff(&[b, a, "--fail-on", "error"]);
    assert_eq!(code, 1, "a new error finding fails at --fail-on error");
    let new: Vec<(&str, Option<&str>)> = d
        .new_findings
        .iter()
        .map(|i| (i.id.as_str(), i.subject.as_deref()))
        .collect();
    assert!(
        new.contains(&("podcidr-missing", Some("node kind-worker2"))),
        "{new:?}"
    );
    assert!(
        new.iter().any(|(id, s)| *id == "service-external-ips"
            && s.is_some_and(|s| s.starts_with("service default/web"))),
        "{new:?}"
    );
    assert!(d.resolved_findings.is_empty(), "{:?}", d.resolved_findings);
    assert_eq!(d.unchanged_findings, 0, "kind-default has no findings");
    let change = d
        .changes
        .iter()
        .find(|c| c.what == "podCIDR of node kind-worker2")
        .expect("the podCIDR change");
    assert_eq!(
        (change.before.as_str(), change.after.as_str()),
        ("10.244.2.0/24", "none")
    );
    assert_eq!(
        d.summary.errors,
        d.new_findings
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .count()
    );

    // The other way round: the same items resolved, nothing new, exit 0.
    let (code, back) = diff(&[a, b, "--fail-on", "error"]);
    assert_eq!(code, 0);
    assert!(back.new_findings.is_empty());
    assert_eq!(back.resolved_findings.len(), d.new_findings.len());
}

#[test]
fn a_report_file_on_either_side_and_no_change() {
    let dir = scratch("diff-report");
    let snap = save(&dir, "snap.json", &kind());
    let r = netcheck(&["report", "--snapshot", snap.to_str().unwrap(), "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = dir.join("report.json");
    std::fs::write(&rep, &r.stdout).unwrap();
    // A report of a snapshot against the snapshot itself: the same answers.
    let (code, d) = diff(&[rep.to_str().unwrap(), snap.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(d.changes.is_empty(), "{:?}", d.changes);
    assert!(d.new_findings.is_empty() && d.resolved_findings.is_empty());
    // With findings on both sides, they are unchanged, not new.
    let a = save(&dir, "a.json", &after());
    let (_, same) = diff(&[
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--fail-on",
        "never",
    ]);
    assert!(same.new_findings.is_empty());
    assert!(same.unchanged_findings >= 2, "{}", same.unchanged_findings);
}

#[test]
fn bad_input() {
    let r = netcheck(&["diff", "/nonexistent/before.json", "examples/cka-lab.json"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("/nonexistent/before.json"),
        "{}",
        r.stderr
    );
    let dir = scratch("diff-bad");
    let junk = dir.join("junk.json");
    std::fs::write(&junk, "{\"kind\": \"Pod\"}").unwrap();
    let r = netcheck(&["diff", junk.to_str().unwrap(), "examples/cka-lab.json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("junk.json"), "{}", r.stderr);
}
