//! `-o html` (#14) opened in a real headless browser (Debian's chromium): the DOM after the
//! page's script ran holds the map's ranges, the overlaps named, and the findings; the page
//! loads nothing from the network and its script ends without an error.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

fn require_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "these tests need Debian's chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)"
    );
}

/// The page's DOM after load, and what the browser logged.
fn dom(html: &str) -> (String, String) {
    require_chromium();
    let dir = scratch("html");
    let page = dir.join("page.html");
    std::fs::write(&page, html).unwrap();
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let (dom, log) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "chromium failed: {log}");
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not finish: {log}"
    );
    assert!(!log.contains("Uncaught"), "script error: {log}");
    (dom, log)
}

fn html(args: &[&str]) -> String {
    let r = netcheck(args);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("<!DOCTYPE html>"),
        "{}",
        &r.stdout[..r.stdout.len().min(200)]
    );
    // Self-contained: nothing to fetch when opened.
    for external in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!r.stdout.contains(external), "the page loads {external}");
    }
    r.stdout
}

#[test]
fn cka_lab_map() {
    let (dom, _) = dom(&html(&[
        "report",
        "-o",
        "html",
        "--snapshot",
        "examples/cka-lab.json",
    ]));
    // The lab's ranges (seed 002): nodes 10.19.9.0/24, weave 10.244.0.0/16, services
    // 10.96.0.0/12, and Docker's bridge laid beside them.
    for r in [
        "10.19.9.0/24",
        "10.244.0.0/16",
        "10.96.0.0/12",
        "172.17.0.0/16",
    ] {
        assert!(
            dom.contains(&format!("data-range=\"{r}\"")),
            "no box for {r}"
        );
    }
    // Its two node podCIDRs 10.244.0.0/24 and 10.244.1.0/24 are one aggregated box.
    assert!(
        dom.contains("data-range=\"10.244.0.0/23\""),
        "podCIDRs not aggregated"
    );
    assert!(dom.contains("node podCIDRs (2)"));
    assert!(dom.contains("No ranges overlap."));
    assert!(!dom.contains("class=\"overlap\""));
}

#[test]
fn overlaps_are_marked_and_named() {
    let (dom, _) = dom(&html(&[
        "report",
        "-o",
        "html",
        "--snapshot",
        "tests/scenarios/cilium-pool-vs-service/cluster.json",
        "--also-check",
        "10.8.0.0/16",
    ]));
    // Cilium's pool 10.0.0.0/8 holds the service range 10.0.0.0/16 and the VPN's 10.8.0.0/16.
    for (range, label) in [
        (
            "10.0.0.0/16",
            "pod range ∩ service range: 10.0.0.0/16 [pod-service-overlap]",
        ),
        (
            "10.8.0.0/16",
            "pod range ∩ --also-check: 10.8.0.0/16 [user-range-overlap]",
        ),
    ] {
        assert!(
            dom.contains(&format!("data-overlap=\"{range}\"")),
            "no overlap mark on {range}"
        );
        assert!(dom.contains(label), "overlap not named: {label}");
    }
    assert!(dom.contains("data-finding=\"pod-service-overlap\""));
}

#[test]
fn fleet_map_marks_clusters_sharing_a_range() {
    // The CKA lab and minikube both use flannel's/weave's 10.244.0.0/16.
    let (dom, _) = dom(&html(&[
        "fleet",
        "-o",
        "html",
        "--from",
        "examples/cka-lab.json",
        "tests/scenarios/minikube-flannel/cluster.json",
    ]));
    assert!(dom.contains("examples/cka-lab.json pod range ∩ tests/scenarios/minikube-flannel/cluster.json pod range: 10.244.0.0/16"), "{}", &dom[..dom.len().min(3000)]);
    assert!(dom.contains("data-finding=\"fleet-shared-pod-range\""));
}

#[test]
fn practice_refuses_html() {
    let r = netcheck(&[
        "practice",
        "--snapshot",
        "examples/cka-lab.json",
        "-o",
        "html",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("practice has no Html output"),
        "{}",
        r.stderr
    );
}
