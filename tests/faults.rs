//! The live path against a misbehaving API server: the real binary, the loopback API server
//! serving the CKA lab (examples/cka-lab.json) with one injected fault at a time. For each:
//! netcheck finishes within its time bound, retries only GETs and only a bounded number of
//! times (with backoff, honouring Retry-After), restarts an expired list, never panics, and
//! reports what it could not read while answering everything else.
//!
//! Expected answers come from the scenario's definition, tests/scenarios/cka-lab/expected.json;
//! expected request counts from docs/usage.md ("3 attempts at most", "restarts the list at
//! most twice").

mod common;

use common::*;
use netcheck::model::Cluster;
use netcheck::report::{FactStatus, Report};
use netcheck_testkit::{ApiServer, Fault, Options, Recorded, Rule};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CKA: &str = "examples/cka-lab.json";
/// docs/usage.md: GETs are retried "3 attempts at most".
const ATTEMPTS: usize = 3;
/// docs/usage.md: Retry-After is honoured "at most 5s".
const RETRY_AFTER_CAP: Duration = Duration::from_secs(5);
/// Slack on top of a documented bound, for a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(10);

fn cka() -> Cluster {
    load(&root().join(CKA))
}

fn expected() -> Value {
    let p = root().join("tests/scenarios/cka-lab/expected.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

struct Live {
    run: Run,
    server: ApiServer,
    elapsed: Duration,
}

impl Live {
    fn report(&self) -> Report {
        report(&self.run)
    }
    /// Requests whose path is exactly `path`, in arrival order.
    fn to(&self, path: &str) -> Vec<Recorded> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
    fn no_panic(&self) {
        assert!(
            !self.run.stderr.contains("panicked"),
            "netcheck panicked: {}",
            self.run.stderr
        );
    }
}

fn live_on(cluster: Cluster, opts: Options, args: &[&str]) -> Live {
    let server = ApiServer::start(cluster, opts).unwrap();
    let kc = scratch("faults").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let mut all = args.to_vec();
    all.extend_from_slice(&["--kubeconfig", kc.to_str().unwrap()]);
    let t = Instant::now();
    let run = netcheck(&all);
    let elapsed = t.elapsed();
    let l = Live {
        run,
        server,
        elapsed,
    };
    l.no_panic();
    l
}

fn live(opts: Options, args: &[&str]) -> Live {
    live_on(cka(), opts, args)
}

/// `report -o json` that must not fail on findings (the point is what was read).
fn report_run(opts: Options, extra: &[&str]) -> Live {
    let mut args = vec!["report", "-o", "json", "--fail-on", "never"];
    args.extend_from_slice(extra);
    let l = live(opts, &args);
    assert_eq!(l.run.code, 0, "{}", l.run.stderr);
    l
}

fn fact(f: &netcheck::report::Fact) -> (String, Vec<String>) {
    let status = serde_json::to_value(f.status).unwrap();
    let mut cidrs: Vec<String> = f.cidrs.iter().map(|c| c.to_string()).collect();
    cidrs.sort();
    (status.as_str().unwrap().to_string(), cidrs)
}

fn want_fact(v: &Value) -> (String, Vec<String>) {
    let mut cidrs: Vec<String> = v["cidrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    cidrs.sort();
    (v["status"].as_str().unwrap().to_string(), cidrs)
}

/// The lab's answers that do not need the proxy logs or the DaemonSets: the CNI and the three
/// ranges (the live path has no host facts, hence `liveNodeNetwork`).
fn assert_ranges(rep: &Report) {
    let exp = expected();
    let c = rep.cidrs.as_ref().expect("cidrs answered");
    assert_eq!(c.cni.name, exp["cni"].as_str().unwrap());
    assert_eq!(fact(&c.node_network), want_fact(&exp["liveNodeNetwork"]));
    assert_eq!(fact(&c.pod_cidr), want_fact(&exp["podCidr"]));
    assert_eq!(fact(&c.service_cidr), want_fact(&exp["serviceCidr"]));
}

/// Proxy mode per node as the scenario defines it (from the logs).
fn assert_proxy(rep: &Report) {
    let exp = &expected()["proxy"];
    let p = rep.proxy.as_ref().expect("proxy answered");
    assert_eq!(p.implementation, exp["implementation"].as_str().unwrap());
    assert_eq!(p.configured_mode.as_deref(), exp["configuredMode"].as_str());
    let want = exp["nodes"].as_object().unwrap();
    assert_eq!(p.nodes.len(), want.len(), "{:?}", p.nodes);
    for n in &p.nodes {
        let w = &want[&n.node];
        assert_eq!(n.running.as_deref(), w["running"].as_str(), "{n:?}");
        assert_eq!(n.basis, w["basis"].as_str().unwrap(), "{n:?}");
    }
}

fn assert_deployments(rep: &Report) {
    let exp = expected()["deployments"].as_object().unwrap().clone();
    let deps = rep.deployments.as_ref().expect("deployments answered");
    for (comp, w) in exp {
        let d = deps
            .iter()
            .find(|d| d.component == comp)
            .unwrap_or_else(|| panic!("{comp} missing: {deps:?}"));
        assert_eq!(d.kind, w["kind"].as_str().unwrap(), "{d:?}");
        assert_eq!(d.nodes_ready as u64, w["nodesReady"].as_u64().unwrap());
        assert_eq!(d.nodes_total as u64, w["nodesTotal"].as_u64().unwrap());
    }
}

/// Every answer of the scenario, and nothing skipped.
fn assert_complete(rep: &Report) {
    assert!(rep.skipped.is_empty(), "skipped: {:?}", rep.skipped);
    assert_ranges(rep);
    assert_proxy(rep);
    assert_deployments(rep);
}

fn skipped<'a>(rep: &'a Report, what: &str) -> &'a netcheck::model::CollectError {
    rep.skipped
        .iter()
        .find(|s| s.what == what)
        .unwrap_or_else(|| panic!("{what} not reported as skipped: {:?}", rep.skipped))
}

fn statuses(reqs: &[Recorded]) -> Vec<u16> {
    reqs.iter().map(|r| r.status).collect()
}

fn gaps(reqs: &[Recorded]) -> Vec<Duration> {
    reqs.windows(2).map(|w| w[1].at - w[0].at).collect()
}

fn only_gets(l: &Live) {
    let reqs = l.server.requests();
    assert!(reqs.iter().all(|r| r.method == "GET"), "{reqs:?}");
}

fn names<T>(items: &[T], key: impl Fn(&T) -> String) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(key).collect();
    v.sort();
    v
}

// ---------- 5xx ----------

#[test]
fn transient_500_is_retried_with_backoff_then_answered_in_full() {
    let opts = Options {
        faults: vec![(Rule::path("/api/v1/nodes").first(2), Fault::Status(500))],
        ..Default::default()
    };
    let l = report_run(opts, &[]);
    let nodes = l.to("/api/v1/nodes");
    assert_eq!(statuses(&nodes), vec![500, 500, 200], "{nodes:?}");
    // Backoff: the attempts are spaced, not fired back to back.
    for g in gaps(&nodes) {
        assert!(g >= Duration::from_millis(200), "no backoff: {nodes:?}");
    }
    assert_complete(&l.report());
    only_gets(&l);
}

#[test]
fn persistent_500_is_tried_a_bounded_number_of_times_and_reported_skipped() {
    let opts = Options {
        faults: vec![(Rule::path("/api/v1/services"), Fault::Status(500))],
        ..Default::default()
    };
    let l = report_run(opts, &[]);
    let svc = l.to("/api/v1/services");
    assert_eq!(statuses(&svc), vec![500; ATTEMPTS], "{svc:?}");
    let rep = l.report();
    let s = skipped(&rep, "services");
    assert!(
        s.reason.starts_with("500") && s.reason.contains("injected fault"),
        "{s:?}"
    );
    // Not a permission problem: no "needs".
    assert_eq!(s.needs, None);
    assert_eq!(rep.skipped.len(), 1, "{:?}", rep.skipped);
    // Everything else is still answered from what was read.
    assert_ranges(&rep);
    assert_proxy(&rep);
    assert_deployments(&rep);
}

// ---------- 429 ----------

#[test]
fn too_many_requests_waits_for_retry_after_then_answers_in_full() {
    let opts = Options {
        faults: vec![(
            Rule::path("/api/v1/pods").first(1),
            Fault::TooManyRequests {
                retry_after_secs: 2,
            },
        )],
        ..Default::default()
    };
    let l = report_run(opts, &[]);
    let pods = l.to("/api/v1/pods");
    assert_eq!(statuses(&pods), vec![429, 200], "{pods:?}");
    assert!(
        gaps(&pods)[0] >= Duration::from_secs(2),
        "Retry-After: 2 not honoured: {pods:?}"
    );
    assert_complete(&l.report());
}

#[test]
fn a_retry_after_longer_than_the_request_timeout_does_not_doom_the_retry() {
    // The wait is not part of the next request's time: a connection that sat idle through
    // Retry-After must not make the retry time out at once.
    let opts = Options {
        faults: vec![(
            Rule::path("/api/v1/services").first(1),
            Fault::TooManyRequests {
                retry_after_secs: 3,
            },
        )],
        ..Default::default()
    };
    let l = report_run(opts, &["--request-timeout", "1s"]);
    assert_eq!(statuses(&l.to("/api/v1/services")), vec![429, 200]);
    assert_complete(&l.report());
}

#[test]
fn persistent_429_with_a_huge_retry_after_is_capped_and_bounded() {
    let opts = Options {
        faults: vec![(
            Rule::path("/api/v1/services"),
            Fault::TooManyRequests {
                retry_after_secs: 3600,
            },
        )],
        ..Default::default()
    };
    let l = report_run(opts, &["--request-timeout", "2s"]);
    let svc = l.to("/api/v1/services");
    assert_eq!(statuses(&svc), vec![429; ATTEMPTS], "{svc:?}");
    for g in gaps(&svc) {
        // Waited (most of) the cap, not an hour, and not zero.
        assert!(g >= RETRY_AFTER_CAP - Duration::from_millis(500), "{svc:?}");
    }
    let bound = RETRY_AFTER_CAP * (ATTEMPTS as u32 - 1) + SLACK;
    assert!(l.elapsed < bound, "{:?} > {bound:?}", l.elapsed);
    let rep = l.report();
    assert!(skipped(&rep, "services").reason.starts_with("429"));
    assert_ranges(&rep);
}

// ---------- 410 Gone ----------

fn snapshot_run(cluster: Cluster, opts: Options, extra: &[&str]) -> (Live, Cluster) {
    let mut args = vec!["snapshot", "-o", "-"];
    args.extend_from_slice(extra);
    let l = live_on(cluster, opts, &args);
    assert_eq!(l.run.code, 0, "{}", l.run.stderr);
    let c: Cluster = serde_json::from_str(&l.run.stdout).expect("snapshot on stdout");
    (l, c)
}

#[test]
fn expired_continue_token_restarts_the_list_from_the_start() {
    let opts = Options {
        faults: vec![(Rule::path("/api/v1/pods").first(1), Fault::GoneOnContinue)],
        ..Default::default()
    };
    let (l, got) = snapshot_run(cka(), opts, &["--page-size", "3"]);
    let pods = l.to("/api/v1/pods");
    let firsts = pods
        .iter()
        .filter(|r| !r.query.contains("continue="))
        .count();
    assert_eq!(firsts, 2, "one start and one restart: {pods:?}");
    assert_eq!(pods.iter().filter(|r| r.status == 410).count(), 1);
    // Every pod exactly once: the partial first pass was thrown away.
    let want = cka();
    let key = |p: &netcheck::model::Pod| format!("{}/{}", p.metadata.ns(), p.metadata.name);
    let mut got_all = names(&got.pods, key);
    got_all.extend(
        got.workload_pods
            .iter()
            .map(|w| format!("{}/{}", w.namespace, w.name)),
    );
    got_all.sort();
    assert_eq!(got_all, names(&want.pods, key));
    assert!(got.errors.is_empty(), "{:?}", got.errors);
}

#[test]
fn list_that_keeps_expiring_gives_up_after_two_restarts() {
    let opts = Options {
        faults: vec![(Rule::path("/api/v1/pods"), Fault::GoneOnContinue)],
        ..Default::default()
    };
    let l = report_run(opts, &["--page-size", "3"]);
    let pods = l.to("/api/v1/pods");
    let firsts = pods
        .iter()
        .filter(|r| !r.query.contains("continue="))
        .count();
    assert_eq!(firsts, 3, "the start and two restarts: {pods:?}");
    let rep = l.report();
    let s = skipped(&rep, "pods");
    assert!(s.reason.starts_with("410"), "{s:?}");
    // The ranges that do not come from pods are still answered.
    let c = rep.cidrs.unwrap();
    assert_eq!(c.cni.name, expected()["cni"].as_str().unwrap());
    assert_eq!(
        fact(&c.node_network),
        want_fact(&expected()["liveNodeNetwork"])
    );
}

// ---------- transport ----------

#[test]
fn reset_connection_is_retried() {
    let opts = Options {
        faults: vec![(Rule::path("/api/v1/services").first(1), Fault::Reset)],
        ..Default::default()
    };
    let l = report_run(opts, &[]);
    let svc = l.to("/api/v1/services");
    assert_eq!(
        statuses(&svc),
        vec![0, 200],
        "reset, then answered: {svc:?}"
    );
    assert_complete(&l.report());
}

#[test]
fn truncated_json_is_retried() {
    let opts = Options {
        faults: vec![(Rule::path("/api/v1/nodes").first(1), Fault::TruncatedJson)],
        ..Default::default()
    };
    let l = report_run(opts, &[]);
    assert_eq!(l.to("/api/v1/nodes").len(), 2);
    assert_complete(&l.report());
}

#[test]
fn always_truncated_json_is_skipped_without_a_panic() {
    let opts = Options {
        faults: vec![(Rule::path("/api/v1/nodes"), Fault::TruncatedJson)],
        ..Default::default()
    };
    let l = report_run(opts, &[]);
    assert_eq!(l.to("/api/v1/nodes").len(), ATTEMPTS);
    let rep = l.report();
    let s = skipped(&rep, "nodes");
    assert!(s.needs.is_none(), "{s:?}");
    assert!(!s.reason.is_empty());
    // Without nodes there is no node network, and netcheck says so rather than guessing.
    let c = rep.cidrs.unwrap();
    assert_eq!(c.node_network.status, FactStatus::Unknown);
    assert_eq!(fact(&c.pod_cidr), want_fact(&expected()["podCidr"]));
    assert_eq!(fact(&c.service_cidr), want_fact(&expected()["serviceCidr"]));
}

// ---------- hostile logs ----------

#[test]
fn a_200_mb_log_is_read_only_up_to_log_bytes() {
    const HUGE: usize = 200 << 20;
    const LIMIT: usize = 16 << 10;
    let opts = Options {
        // The server ignores limitBytes and streams 200 MB for every kube-system log.
        faults: vec![(
            Rule::path("/api/v1/namespaces/kube-system/pods/"),
            Fault::HugeLog { bytes: HUGE },
        )],
        ..Default::default()
    };
    let limit = LIMIT.to_string();
    let (l, got) = snapshot_run(cka(), opts, &["--log-bytes", &limit]);
    assert!(l.elapsed < Duration::from_secs(30), "{:?}", l.elapsed);
    let logs: Vec<Recorded> = l
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/log"))
        .collect();
    assert_eq!(logs.len(), 3, "two kube-proxy logs and weave's: {logs:?}");
    assert!(logs
        .iter()
        .all(|r| r.query.contains(&format!("limitBytes={LIMIT}"))));
    assert_eq!(got.logs.len(), 3, "{:?}", got.errors);
    for log in &got.logs {
        assert!(log.text.len() <= LIMIT, "{} bytes kept", log.text.len());
        assert!(log.truncated);
    }
    // What actually left the server: netcheck hung up long before 200 MB. The server records
    // the real count once its write fails, so wait for that (it cannot fail if all was read).
    let t = Instant::now();
    let sent = loop {
        let sent: Vec<usize> = l
            .server
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/log"))
            .map(|r| r.bytes)
            .collect();
        if sent.iter().all(|&b| b < HUGE) || t.elapsed() > Duration::from_secs(20) {
            break sent;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for b in sent {
        // Socket buffers hold a few MB at most; the point is "not 200 MB".
        assert!(b < 64 << 20, "{b} bytes sent of {HUGE}");
    }
}

#[test]
fn a_log_with_invalid_utf8_is_still_parsed() {
    let opts = Options {
        // Garbage bytes around one "Using ipvs Proxier" line (the fault's definition).
        faults: vec![(
            Rule::path("/api/v1/namespaces/kube-system/pods/kube-proxy-"),
            Fault::InvalidUtf8Log,
        )],
        ..Default::default()
    };
    let l = report_run(opts, &[]);
    let rep = l.report();
    assert!(rep.skipped.is_empty(), "{:?}", rep.skipped);
    let p = rep.proxy.unwrap();
    assert_eq!(p.nodes.len(), 2);
    for n in &p.nodes {
        assert_eq!(
            (n.running.as_deref(), n.basis.as_str()),
            (Some("ipvs"), "log"),
            "{n:?}"
        );
    }
}

/// A refused kube-proxy log leaves each node's mode assumed from configuration, and says why
/// its log was not read (the reason of the failed read, not "not selected").
#[test]
fn a_refused_kube_proxy_log_is_named_in_each_nodes_evidence() {
    let opts = Options {
        faults: vec![(
            Rule::path("/api/v1/namespaces/kube-system/pods/kube-proxy-"),
            Fault::Status(403),
        )],
        ..Default::default()
    };
    let l = report_run(opts, &[]);
    let rep = l.report();
    let p = rep.proxy.unwrap();
    assert_eq!(p.nodes.len(), 2);
    for n in &p.nodes {
        assert_eq!(n.basis, "assumed", "{n:?}");
        assert!(
            n.evidence.starts_with("log not read: 403")
                && n.evidence.contains("assumed from configuration"),
            "{n:?}"
        );
    }
}

// ---------- missing APIs ----------

#[test]
fn api_without_servicecidrs_is_not_an_error() {
    let opts = Options {
        without: vec!["networking.k8s.io/v1".into()],
        ..Default::default()
    };
    let l = report_run(opts, &[]);
    // Both versions asked for, both absent: a server from before ServiceCIDRs.
    assert_eq!(
        statuses(&l.to("/apis/networking.k8s.io/v1/servicecidrs")),
        vec![404]
    );
    assert_eq!(
        statuses(&l.to("/apis/networking.k8s.io/v1beta1/servicecidrs")),
        vec![404]
    );
    assert_complete(&l.report());
}

#[test]
fn api_without_apps_v1_reports_the_daemonsets_unknown_and_answers_the_rest() {
    let opts = Options {
        without: vec!["apps/v1".into()],
        ..Default::default()
    };
    let l = report_run(opts, &[]);
    assert_eq!(statuses(&l.to("/apis/apps/v1/daemonsets")), vec![404]);
    let rep = l.report();
    let s = skipped(&rep, "daemonsets");
    assert!(s.reason.starts_with("404"), "{s:?}");
    assert_eq!(rep.skipped.len(), 1, "{:?}", rep.skipped);
    let deps = rep.deployments.as_ref().unwrap();
    for comp in expected()["deployments"].as_object().unwrap().keys() {
        let d = deps.iter().find(|d| &d.component == comp).unwrap();
        assert_eq!(d.kind, "unknown", "{d:?}");
        assert!(d.evidence.contains("not readable"), "{d:?}");
    }
    assert_ranges(&rep);
    assert_proxy(&rep);
}

// ---------- time bounds ----------

#[test]
fn global_deadline_ends_the_run_and_names_what_was_not_read() {
    let opts = Options {
        // /version answers; every API read hangs for a minute.
        faults: vec![(Rule::path("/api"), Fault::Delay(Duration::from_secs(60)))],
        ..Default::default()
    };
    let l = report_run(opts, &["--timeout", "3s", "--request-timeout", "30s"]);
    let bound = Duration::from_secs(3) + SLACK;
    assert!(l.elapsed < bound, "{:?}", l.elapsed);
    let rep = l.report();
    for what in [
        "nodes",
        "pods",
        "services",
        "daemonsets",
        "servicecidrs",
        "configmap kube-system/kube-proxy",
        "configmap kube-system/kubeadm-config",
    ] {
        let s = skipped(&rep, what);
        assert!(s.reason.contains("deadline"), "{s:?}");
    }
    let c = rep.cidrs.unwrap();
    assert_eq!(c.pod_cidr.status, FactStatus::Unknown);
}

#[test]
fn server_that_never_answers_is_an_error_within_the_deadline() {
    let opts = Options {
        faults: vec![(Rule::path("/"), Fault::Delay(Duration::from_secs(60)))],
        ..Default::default()
    };
    let l = live(
        opts,
        &["report", "--timeout", "3s", "--request-timeout", "30s"],
    );
    assert!(
        l.elapsed < Duration::from_secs(3) + SLACK,
        "{:?}",
        l.elapsed
    );
    assert_eq!(l.run.code, 2, "{}", l.run.stderr);
    assert_eq!(l.run.stderr.trim().lines().count(), 1, "{}", l.run.stderr);
    assert!(
        l.run.stderr.contains("cannot reach the API server") && l.run.stderr.contains("--timeout"),
        "{}",
        l.run.stderr
    );
}

#[test]
fn ctrl_c_exits_promptly_with_130() {
    let server = ApiServer::start(
        cka(),
        Options {
            faults: vec![(Rule::path("/api"), Fault::Delay(Duration::from_secs(120)))],
            ..Default::default()
        },
    )
    .unwrap();
    let kc = scratch("sigint").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args(["report", "--request-timeout", "100s", "--timeout", "100s"])
        .arg("--kubeconfig")
        .arg(&kc)
        .env_remove("KUBECONFIG")
        .env("HOME", scratch("home"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it is blocked on the server: a list request in flight.
    let t = Instant::now();
    while !server
        .requests()
        .iter()
        .any(|r| r.path == "/api/v1/nodes" && r.status == 0)
    {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "netcheck never listed nodes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Instant::now();
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if sent.elapsed() > SLACK {
            let _ = child.kill();
            panic!("still running {SLACK:?} after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(130), "{status:?} {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(out.stdout.is_empty(), "no partial report");
}

// ---------- only GETs are retried ----------

#[test]
fn the_probe_post_is_never_retried() {
    for fault in [Fault::Status(500), Fault::Reset, Fault::Status(503)] {
        let opts = Options {
            faults: vec![(
                Rule::path("/api/v1/namespaces/default/services").method("POST"),
                fault.clone(),
            )],
            ..Default::default()
        };
        let l = report_run(opts, &["--probe-service-cidr"]);
        let posts: Vec<Recorded> = l
            .server
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect();
        assert_eq!(posts.len(), 1, "{fault:?}: {posts:?}");
        assert_eq!(posts[0].method, "POST");
        let rep = l.report();
        let s = skipped(&rep, "service-cidr probe");
        assert!(s.needs.is_none(), "{s:?}");
        assert_ranges(&rep);
    }
}
