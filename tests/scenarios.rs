//! Every scenario under tests/scenarios/ through both paths: offline (--snapshot) and live
//! (the real binary against the loopback API server serving the same cluster). Expected
//! answers are written from each scenario's definition, in its expected.json.

mod common;

use common::*;
use netcheck::report::{Fact, Report};
use netcheck_testkit::{ApiServer, Options, Rule};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Expected {
    description: String,
    /// Path of the cluster relative to the scenario directory, when not cluster.json.
    #[serde(default)]
    cluster: Option<String>,
    #[serde(default)]
    cni: Option<String>,
    #[serde(default)]
    node_network: Option<FactExp>,
    /// Without host facts the live path can only infer the node network.
    #[serde(default)]
    live_node_network: Option<FactExp>,
    #[serde(default)]
    pod_cidr: Option<FactExp>,
    #[serde(default)]
    service_cidr: Option<FactExp>,
    #[serde(default)]
    findings: Vec<String>,
    #[serde(default)]
    absent_findings: Vec<String>,
    /// For findings that name their subjects: id -> how many (the finding's `count`).
    #[serde(default)]
    finding_counts: BTreeMap<String, usize>,
    #[serde(default)]
    proxy: Option<ProxyExp>,
    #[serde(default)]
    deployments: BTreeMap<String, DeployExp>,
    /// Reads the cluster's identity may not make: the snapshot records them as 403s, and the
    /// live path denies these path prefixes, so both paths see the same RBAC gaps.
    #[serde(default)]
    live_deny: Vec<String>,
    /// Group-versions the live path's server does not serve (an older API server).
    #[serde(default)]
    live_without: Vec<String>,
    /// What both paths report as skipped (by `what`); nothing else may be.
    #[serde(default)]
    skipped: Vec<String>,
    /// Checked against `netcheck services` on both paths.
    #[serde(default)]
    services: BTreeMap<String, ServiceExp>,
    /// Checked against `netcheck services`' routes on both paths, by "ingress NS/NAME",
    /// "httproute NS/NAME", "gateway NS/NAME", "gatewayclass NAME", "ingressclass NAME".
    #[serde(default)]
    routes: BTreeMap<String, RouteExp>,
    /// How each route kind was read: resource -> served, not-installed, skipped.
    #[serde(default)]
    route_apis: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteExp {
    status: String,
    #[serde(default)]
    problems: Vec<String>,
    /// IngressClass/GatewayClass: whether its controller runs (yes, no, unknown).
    #[serde(default)]
    running: Option<String>,
}

/// A Service as `netcheck services` shows it, by `namespace/name`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceExp {
    status: String,
    /// Ready endpoints / all endpoints.
    endpoints: String,
    #[serde(default)]
    problems: Vec<String>,
    /// The routes that reach it, exactly, when given.
    #[serde(default, rename = "reachedBy")]
    reached_by: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FactExp {
    status: String,
    cidrs: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProxyExp {
    implementation: String,
    configured_mode: Option<String>,
    #[serde(default)]
    nodes: BTreeMap<String, NodeExp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeExp {
    running: Option<String>,
    basis: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeployExp {
    kind: String,
    #[serde(default)]
    nodes_ready: Option<usize>,
    #[serde(default)]
    nodes_total: Option<usize>,
    #[serde(default)]
    missing: BTreeMap<String, String>,
    /// Nodes where whether the agent runs is unknown (its pods could not be read); exactly
    /// these.
    #[serde(default)]
    unknown: Vec<String>,
}

fn fact(errs: &mut Vec<String>, what: &str, got: &Fact, want: &FactExp) {
    let status = serde_json::to_value(got.status).unwrap();
    let mut cidrs: Vec<String> = got.cidrs.iter().map(|c| c.to_string()).collect();
    let mut want_cidrs = want.cidrs.clone();
    cidrs.sort();
    want_cidrs.sort();
    if status != want.status.as_str() || cidrs != want_cidrs {
        errs.push(format!(
            "{what}: got {status} {cidrs:?} (chosen {:?}: {}), want {} {want_cidrs:?}",
            got.chosen, got.why, want.status
        ));
    }
}

fn check(errs: &mut Vec<String>, path: &str, exp: &Expected, r: &Report, has_host: bool) {
    let mut e = Vec::new();
    let c = r.cidrs.as_ref().expect("report has cidrs");
    if let Some(cni) = &exp.cni {
        if &c.cni.name != cni {
            e.push(format!("cni: got {}, want {cni}", c.cni.name));
        }
    }
    let node_exp = if path == "live" && has_host {
        exp.live_node_network.as_ref()
    } else {
        exp.node_network.as_ref()
    };
    if let Some(n) = node_exp {
        fact(&mut e, "node network", &c.node_network, n);
    }
    if let Some(p) = &exp.pod_cidr {
        fact(&mut e, "pod range", &c.pod_cidr, p);
    }
    if let Some(s) = &exp.service_cidr {
        fact(&mut e, "service range", &c.service_cidr, s);
    }
    let mut skipped: Vec<&str> = r.skipped.iter().map(|s| s.what.as_str()).collect();
    let mut want_skipped: Vec<&str> = exp.skipped.iter().map(String::as_str).collect();
    skipped.sort();
    want_skipped.sort();
    if skipped != want_skipped {
        e.push(format!("skipped: got {skipped:?}, want {want_skipped:?}"));
    }
    let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
    for f in &exp.findings {
        if !ids.contains(&f.as_str()) {
            e.push(format!("missing finding {f} (got {ids:?})"));
        }
    }
    for (id, n) in &exp.finding_counts {
        match r.findings.iter().find(|x| &x.id == id) {
            Some(x) if x.count == Some(*n) => {}
            Some(x) => e.push(format!(
                "finding {id}: count {:?}, want {n}: {:?}",
                x.count, x.subjects
            )),
            None => e.push(format!("missing finding {id} (want count {n})")),
        }
    }
    for f in &exp.absent_findings {
        if let Some(x) = r.findings.iter().find(|x| &x.id == f) {
            e.push(format!("unexpected finding {f}: {}", x.message));
        }
    }
    if let Some(p) = &exp.proxy {
        let got = r.proxy.as_ref().expect("report has proxy");
        if got.implementation != p.implementation {
            e.push(format!(
                "proxy implementation: got {} ({}), want {}",
                got.implementation, got.implementation_evidence, p.implementation
            ));
        }
        if got.configured_mode != p.configured_mode {
            e.push(format!(
                "configured mode: got {:?}, want {:?}",
                got.configured_mode, p.configured_mode
            ));
        }
        for (node, want) in &p.nodes {
            match got.nodes.iter().find(|n| &n.node == node) {
                None => e.push(format!("proxy: node {node} missing")),
                Some(n) if n.running != want.running || n.basis != want.basis => e.push(format!(
                    "proxy node {node}: got running {:?} basis {} ({}), want {:?} {}",
                    n.running, n.basis, n.evidence, want.running, want.basis
                )),
                Some(_) => {}
            }
        }
    }
    let deps = r.deployments.as_deref().unwrap_or_default();
    for (comp, want) in &exp.deployments {
        let Some(d) = deps.iter().find(|d| &d.component == comp) else {
            e.push(format!(
                "deployment {comp} missing (got {:?})",
                deps.iter().map(|d| &d.component).collect::<Vec<_>>()
            ));
            continue;
        };
        if d.kind != want.kind
            || want.nodes_ready.is_some_and(|n| n != d.nodes_ready)
            || want.nodes_total.is_some_and(|n| n != d.nodes_total)
        {
            e.push(format!(
                "deployment {comp}: got {} {}/{}, want {} {:?}/{:?}",
                d.kind, d.nodes_ready, d.nodes_total, want.kind, want.nodes_ready, want.nodes_total
            ));
        }
        let mut unknown: Vec<&str> = d.unknown.iter().map(|u| u.node.as_str()).collect();
        let mut want_unknown: Vec<&str> = want.unknown.iter().map(String::as_str).collect();
        unknown.sort();
        want_unknown.sort();
        if unknown != want_unknown {
            e.push(format!(
                "deployment {comp}: unknown on {unknown:?}, want {want_unknown:?} ({:?})",
                d.unknown
            ));
        }
        for (node, cause) in &want.missing {
            match d.missing.iter().find(|m| &m.node == node) {
                Some(m) if &m.cause == cause => {}
                other => e.push(format!(
                    "deployment {comp}: node {node} want missing ({cause}), got {other:?}"
                )),
            }
        }
    }
    errs.extend(e.into_iter().map(|m| format!("[{path}] {m}")));
}

fn check_services(errs: &mut Vec<String>, path: &str, exp: &Expected, r: &Report) {
    let rows = &r.services.as_ref().expect("services answer").services;
    for (key, want) in &exp.services {
        let Some(row) = rows
            .iter()
            .find(|x| format!("{}/{}", x.namespace, x.name) == *key)
        else {
            errs.push(format!("[{path}] service {key} missing"));
            continue;
        };
        let endpoints = match row.endpoint_counts() {
            Some((ready, all)) => format!("{ready}/{all}"),
            None => "-".into(),
        };

        let mut problems: Vec<&str> = row.problems.iter().map(|p| p.id.as_str()).collect();
        problems.dedup();
        let mut want_problems: Vec<&str> = want.problems.iter().map(String::as_str).collect();
        problems.sort();
        want_problems.sort();
        if row.status != want.status || endpoints != want.endpoints || problems != want_problems {
            errs.push(format!(
                "[{path}] service {key}: got {} {endpoints} {problems:?} ({:?}), want {} {} {want_problems:?}",
                row.status,
                row.problems.iter().map(|p| &p.detail).collect::<Vec<_>>(),
                want.status,
                want.endpoints
            ));
        }
        if let Some(by) = &want.reached_by {
            let (mut got, mut by) = (row.reached_by.clone(), by.clone());
            got.sort();
            by.sort();
            if got != by {
                errs.push(format!(
                    "[{path}] service {key}: reached by {got:?}, want {by:?}"
                ));
            }
        }
    }
    check_routes(errs, path, exp, r);
}

fn check_routes(errs: &mut Vec<String>, path: &str, exp: &Expected, r: &Report) {
    if exp.routes.is_empty() && exp.route_apis.is_empty() {
        return;
    }
    let Some(a) = r.services.as_ref().and_then(|s| s.routes.as_ref()) else {
        errs.push(format!("[{path}] no routes answer"));
        return;
    };
    for (res, want) in &exp.route_apis {
        match a.apis.iter().find(|x| &x.resource == res) {
            Some(x) if &x.status == want => {}
            got => errs.push(format!("[{path}] api {res}: got {got:?}, want {want}")),
        }
    }
    let mut rows: Vec<(String, &str, Vec<&str>, Option<&str>)> = vec![];
    for k in &a.classes {
        let ids = k.problems.iter().map(|p| p.id.as_str()).collect();
        rows.push((
            format!("{} {}", k.kind.to_lowercase(), k.name),
            &k.status,
            ids,
            Some(&k.running),
        ));
    }
    for g in &a.gateways {
        let ids = g.problems.iter().map(|p| p.id.as_str()).collect();
        rows.push((
            format!("gateway {}/{}", g.namespace, g.name),
            &g.status,
            ids,
            None,
        ));
    }
    for x in &a.routes {
        let ids = x.problems.iter().map(|p| p.id.as_str()).collect();
        rows.push((
            format!("{} {}/{}", x.kind.to_lowercase(), x.namespace, x.name),
            &x.status,
            ids,
            None,
        ));
    }
    for (key, want) in &exp.routes {
        let Some((_, status, ids, running)) = rows.iter().find(|x| &x.0 == key) else {
            errs.push(format!(
                "[{path}] route {key} missing (got {:?})",
                rows.iter().map(|x| &x.0).collect::<Vec<_>>()
            ));
            continue;
        };
        let mut ids = ids.clone();
        ids.sort();
        ids.dedup();
        let mut want_ids: Vec<&str> = want.problems.iter().map(String::as_str).collect();
        want_ids.sort();
        if *status != want.status
            || ids != want_ids
            || (want.running.is_some() && want.running.as_deref() != *running)
        {
            errs.push(format!(
                "[{path}] {key}: got {status} {ids:?} running {running:?}, want {} {want_ids:?} {:?}",
                want.status, want.running
            ));
        }
    }
    // Every row is answered for: nothing found that the scenario does not expect.
    for (key, ..) in &rows {
        if !exp.routes.contains_key(key) {
            errs.push(format!("[{path}] unexpected route row {key}"));
        }
    }
}

fn scenario(dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let exp: Expected =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
            .unwrap_or_else(|e| panic!("{name}/expected.json: {e}"));
    assert!(!exp.description.is_empty());
    let cluster_path = dir.join(exp.cluster.as_deref().unwrap_or("cluster.json"));
    let cluster = load(&cluster_path);
    let has_host = cluster.host.is_some();
    let mut errs = Vec::new();

    let snap = netcheck(&[
        "report",
        "-o",
        "json",
        "--fail-on",
        "never",
        "--snapshot",
        cluster_path.to_str().unwrap(),
    ]);
    assert_eq!(snap.code, 0, "{name}: {}", snap.stderr);
    check(&mut errs, "snapshot", &exp, &report(&snap), has_host);
    let services = |args: &[&str]| -> Report {
        let mut a = vec!["services", "-o", "json", "--fail-on", "never"];
        a.extend_from_slice(args);
        let r = netcheck(&a);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        report(&r)
    };
    if !exp.services.is_empty() {
        check_services(
            &mut errs,
            "snapshot",
            &exp,
            &services(&["--snapshot", cluster_path.to_str().unwrap()]),
        );
    }

    let deny = exp.live_deny.iter().map(|p| Rule::path(p)).collect();
    let server = ApiServer::start(
        cluster,
        Options {
            deny,
            without: exp.live_without.clone(),
            ..Options::default()
        },
    )
    .unwrap();
    let kc = scratch(&name).join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let live = netcheck(&[
        "report",
        "-o",
        "json",
        "--fail-on",
        "never",
        "--kubeconfig",
        kc.to_str().unwrap(),
    ]);
    assert_eq!(live.code, 0, "{name}: {}", live.stderr);
    check(&mut errs, "live", &exp, &report(&live), has_host);
    if !exp.services.is_empty() {
        check_services(
            &mut errs,
            "live",
            &exp,
            &services(&["--kubeconfig", kc.to_str().unwrap()]),
        );
    }
    errs.into_iter().map(|e| format!("{name}: {e}")).collect()
}

#[test]
fn every_scenario_through_snapshot_and_live_paths() {
    let dirs = scenario_dirs();
    assert!(
        !dirs.is_empty(),
        "expected the scenario set, found {}",
        dirs.len()
    );
    let errs: Vec<String> = dirs.iter().flat_map(|d| scenario(d)).collect();
    assert!(
        errs.is_empty(),
        "{} mismatch(es):\n{}",
        errs.len(),
        errs.join("\n")
    );
}
