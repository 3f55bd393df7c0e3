//! `netcheck fleet`: several test API servers at once, with overlapping and disjoint layouts,
//! and clusters that fail in each way a real fleet does (unreachable, forbidden, expired
//! token, a kubeconfig entry with a missing CA file, an unknown context), named by one
//! kubeconfig; and saved files (`--from`: snapshots and reports). The JSON is read back with
//! unknown fields denied, and the rows, errors and findings are checked by cluster and range.

mod common;

use common::*;
use netcheck::model::Cluster;
use netcheck::report::{ErrorKind, Finding, Fleet, FleetCluster, Origin, RangeKind};
use netcheck_testkit::generate::{self, Cni, ProxyMode, Spec};
use netcheck_testkit::{ApiServer, Fault, Options, Rule};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CKA: &str = "examples/cka-lab.json";

/// A small generated cluster (nodes 10.0.0.0/16, pods 10.64.0.0/10, Services 172.20.0.0/16),
/// its addresses moved by textual replacement of those prefixes.
fn generated(moves: &[(&str, &str)]) -> Cluster {
    let c = generate::cluster(&Spec {
        nodes: 4,
        pods_per_node: 6,
        services: 6,
        cni: Cni::Flannel,
        proxy: ProxyMode::Iptables,
        inject: vec![],
    });
    let mut text = serde_json::to_string(&c).unwrap();
    for (from, to) in moves {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap()
}

/// gamma: disjoint from every other layout here.
const GAMMA: &[(&str, &str)] = &[
    ("10.64.", "100.64."),
    ("172.20.", "172.30."),
    ("10.0.", "192.168."),
];

fn cka() -> Cluster {
    load(&root().join(CKA))
}

fn serve(c: Cluster, opts: Options) -> ApiServer {
    ApiServer::start(c, opts).unwrap()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// One kubeconfig entry: context, cluster and user of the same name.
struct Entry {
    name: &'static str,
    server: String,
    /// Extra lines under `cluster:` (4-space indent).
    cluster_extra: String,
    token: String,
}

fn entry(name: &'static str, s: &ApiServer) -> Entry {
    Entry {
        name,
        server: s.url(),
        cluster_extra: String::new(),
        token: s.token().to_string(),
    }
}

fn write_kubeconfig(dir: &Path, entries: &[Entry]) -> PathBuf {
    let mut t = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for e in entries {
        writeln!(
            t,
            "- name: {n}\n  cluster:\n    server: {s}\n{x}",
            n = e.name,
            s = e.server,
            x = e.cluster_extra
        )
        .unwrap();
    }
    t.push_str("contexts:\n");
    for e in entries {
        writeln!(
            t,
            "- name: {n}\n  context:\n    cluster: {n}\n    user: {n}",
            n = e.name
        )
        .unwrap();
    }
    t.push_str("users:\n");
    for e in entries {
        writeln!(t, "- name: {}\n  user:\n    token: {}", e.name, e.token).unwrap();
    }
    writeln!(t, "current-context: {}", entries[0].name).unwrap();
    let p = dir.join("kubeconfig");
    std::fs::write(&p, t).unwrap();
    p
}

fn fleet(r: &Run) -> Fleet {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "not a netcheck/v1 Fleet ({e}); exit {}; stderr: {}\nstdout: {}",
            r.code,
            r.stderr,
            &r.stdout[..r.stdout.len().min(3000)]
        )
    })
}

fn cluster<'a>(f: &'a Fleet, name: &str) -> &'a FleetCluster {
    f.clusters
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no cluster {name}"))
}

fn ranges(c: &FleetCluster, k: RangeKind) -> Vec<String> {
    c.range(k)
        .map(|f| f.cidrs.iter().map(|n| n.to_string()).collect())
        .unwrap_or_default()
}

fn with_id<'a>(f: &'a Fleet, id: &str) -> Vec<&'a Finding> {
    f.findings.iter().filter(|x| x.id == id).collect()
}

fn describe(f: &Fleet) -> String {
    f.findings
        .iter()
        .map(|x| format!("[{}] {}", x.id, x.message))
        .collect::<Vec<_>>()
        .join("\n")
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The fleet of the issue: three reachable layouts (two alike, one disjoint) plus the CKA
/// lab, and five clusters that fail each in its own way.
#[test]
fn contexts_overlaps_and_failures() {
    let alpha = serve(generated(&[]), Options::default());
    let beta = serve(generated(&[]), Options::default());
    let gamma = serve(generated(GAMMA), Options::default());
    let lab = serve(cka(), Options::default());
    let forbidden = serve(
        generated(&[]),
        Options {
            deny: vec![Rule::path("/")],
            ..Default::default()
        },
    );
    let expired = serve(
        generated(&[]),
        Options {
            token: Some("fresh-token".into()),
            ..Default::default()
        },
    );
    let dir = scratch("fleet");
    let entries = vec![
        entry("alpha", &alpha),
        entry("beta", &beta),
        entry("gamma", &gamma),
        entry("lab", &lab),
        entry("forbidden", &forbidden),
        Entry {
            token: "expired-token".into(),
            ..entry("expired", &expired)
        },
        Entry {
            name: "down",
            server: format!("http://127.0.0.1:{}", closed_port()),
            cluster_extra: String::new(),
            token: "t".into(),
        },
        Entry {
            name: "noca",
            server: "https://127.0.0.1:6443".into(),
            cluster_extra: format!(
                "    certificate-authority: {}\n",
                dir.join("missing/ca.crt").display()
            ),
            token: "t".into(),
        },
    ];
    let kc = write_kubeconfig(&dir, &entries);
    let contexts = "alpha,beta,gamma,lab,forbidden,expired,down,noca,ghost";
    let t = Instant::now();
    let r = netcheck(&[
        "fleet",
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--contexts",
        contexts,
        "--also-check",
        "172.30.5.0/24",
        "--request-timeout",
        "3s",
        "-o",
        "json",
    ]);
    let took = t.elapsed();
    assert_eq!(
        r.code, 1,
        "findings, and some clusters answered: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("clusters answered"),
        "progress only on a terminal: {}",
        r.stderr
    );
    let f = fleet(&r);
    assert_eq!(f.api_version, "netcheck/v1");
    assert_eq!(f.kind, "Fleet");
    let names: Vec<&str> = f.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        contexts.split(',').collect::<Vec<_>>(),
        "asked order"
    );
    assert_eq!(
        (f.summary.clusters, f.summary.analysed, f.summary.failed),
        (9, 4, 5)
    );

    // Rows of the clusters that answered.
    for (name, server, version, cni, node, pod, svc) in [
        (
            "alpha",
            alpha.url(),
            "v1.31.4",
            "flannel",
            "10.0.0.8/29",
            "10.64.0.0/10",
            "172.20.0.0/16",
        ),
        (
            "beta",
            beta.url(),
            "v1.31.4",
            "flannel",
            "10.0.0.8/29",
            "10.64.0.0/10",
            "172.20.0.0/16",
        ),
        (
            "gamma",
            gamma.url(),
            "v1.31.4",
            "flannel",
            "192.168.0.8/29",
            "100.64.0.0/10",
            "172.30.0.0/16",
        ),
        (
            "lab",
            lab.url(),
            "v1.26.0",
            "weave",
            "10.19.9.8/29",
            "10.244.0.0/16",
            "10.96.0.0/12",
        ),
    ] {
        let c = cluster(&f, name);
        assert_eq!(c.origin, Origin::Context, "{name}");
        assert!(c.error.is_none(), "{name}: {:?}", c.error);
        assert_eq!(c.server.as_deref(), Some(server.as_str()), "{name}");
        let rep = c.report.as_ref().unwrap();
        assert_eq!(rep.kind, "Report");
        assert_eq!(rep.command, "report");
        assert_eq!(rep.source.context.as_deref(), Some(name));
        assert_eq!(rep.server_version.as_deref(), Some(version), "{name}");
        assert_eq!(c.cni(), Some(cni), "{name}");
        assert_eq!(c.proxy_mode().as_deref(), Some("iptables"), "{name}");
        assert_eq!(ranges(c, RangeKind::Node), [node], "{name}");
        assert_eq!(ranges(c, RangeKind::Pod), [pod], "{name}");
        assert_eq!(ranges(c, RangeKind::Service), [svc], "{name}");
    }

    // Each failure on its own row, with its kind and a message naming the cause.
    for (name, kind, want) in [
        ("forbidden", ErrorKind::Forbidden, "403"),
        ("expired", ErrorKind::Unauthorized, "401"),
        (
            "down",
            ErrorKind::Unreachable,
            "cannot reach the API server",
        ),
        ("noca", ErrorKind::Config, "missing/ca.crt"),
        ("ghost", ErrorKind::Config, "ghost"),
    ] {
        let c = cluster(&f, name);
        assert!(c.report.is_none(), "{name}");
        let e = c
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no error"));
        assert_eq!(e.kind, kind, "{name}: {}", e.message);
        assert!(
            e.message.contains(want),
            "{name}: want {want:?} in {}",
            e.message
        );
        assert_eq!(e.message.lines().count(), 1, "{name}: one line");
        let x = with_id(&f, "fleet-cluster-error");
        assert!(
            x.iter()
                .any(|x| x.subjects == [name] && x.message.contains(&e.message)),
            "{name}: {}",
            describe(&f)
        );
    }
    // Servers come from the kubeconfig for clusters that did not answer.
    assert_eq!(
        cluster(&f, "expired").server.as_deref(),
        Some(expired.url().as_str())
    );
    assert_eq!(cluster(&f, "ghost").server, None);
    assert_eq!(with_id(&f, "fleet-cluster-error").len(), 5);

    // Copied defaults: alpha and beta, one finding each.
    let pod = with_id(&f, "fleet-shared-pod-range");
    assert_eq!(pod.len(), 1, "{}", describe(&f));
    assert_eq!(pod[0].subjects, ["alpha", "beta"]);
    assert_eq!(pod[0].ranges, ["10.64.0.0/10"]);
    let svc = with_id(&f, "fleet-shared-service-range");
    assert_eq!(svc.len(), 1, "{}", describe(&f));
    assert_eq!(svc[0].subjects, ["alpha", "beta"]);
    assert_eq!(svc[0].ranges, ["172.20.0.0/16"]);
    let node = with_id(&f, "fleet-node-overlap");
    assert_eq!(node.len(), 1, "{}", describe(&f));
    assert_eq!(node[0].subjects, ["alpha", "beta"]);

    // The lab's service range lies inside alpha's and beta's pod range.
    let over = with_id(&f, "fleet-pod-overlap");
    assert_eq!(over.len(), 1, "{}", describe(&f));
    assert_eq!(
        over[0].message,
        "pod range 10.64.0.0/10 of alpha, beta overlaps service range 10.96.0.0/12 of lab"
    );
    assert_eq!(over[0].ranges, ["10.64.0.0/10", "10.96.0.0/12"]);
    assert_eq!(over[0].subjects, ["alpha", "beta", "lab"]);
    assert!(with_id(&f, "fleet-service-overlap").is_empty());

    // --also-check fleet-wide: gamma's service range only.
    let also = with_id(&f, "fleet-also-check-overlap");
    assert_eq!(also.len(), 1, "{}", describe(&f));
    assert_eq!(also[0].subjects, ["gamma"]);
    assert_eq!(also[0].ranges, ["172.30.0.0/16", "172.30.5.0/24"]);
    // ... and not again inside each cluster's own report.
    assert!(f
        .clusters
        .iter()
        .filter_map(|c| c.report.as_ref())
        .all(|r| r.findings.iter().all(|x| x.id != "user-range-overlap")));

    // Each cluster's own findings, counted: the lab's pending LoadBalancer.
    let own = with_id(&f, "fleet-cluster-findings");
    let lab_own = own.iter().find(|x| x.subjects == ["lab"]).unwrap();
    assert!(
        lab_own.message.contains("loadbalancer-pending"),
        "{}",
        lab_own.message
    );
    for x in &own {
        let c = cluster(&f, &x.subjects[0]);
        assert_eq!(x.count, Some(c.report.as_ref().unwrap().findings.len()));
    }
    // gamma is disjoint from everyone: named only by its --also-check overlap.
    assert!(f
        .findings
        .iter()
        .filter(|x| x.id != "fleet-also-check-overlap" && x.id != "fleet-cluster-findings")
        .all(|x| !x.subjects.iter().any(|s| s == "gamma")));
    assert!(took < Duration::from_secs(60), "took {took:?}");

    // The same fleet in the table: one row per cluster, errors by kind.
    let r = netcheck(&[
        "fleet",
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--all-contexts",
        "--also-check",
        "172.30.5.0/24",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    if std::env::var_os("FLEET_SHOW").is_some() {
        eprintln!("{}", r.stdout);
    }
    let rows: Vec<&str> = r.stdout.lines().collect();
    let header = rows.iter().position(|l| l.contains("CLUSTER")).unwrap();
    for h in [
        "SERVER",
        "VERSION",
        "CNI",
        "PROXY",
        "NODE-NETWORK",
        "POD-RANGE",
        "SERVICE-RANGE",
        "STATUS",
    ] {
        assert!(rows[header].contains(h), "{}", rows[header]);
    }
    let row = |name: &str| {
        rows[header + 1..]
            .iter()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row {name}:\n{}", r.stdout))
            .to_string()
    };
    assert!(row("gamma").contains("100.64.0.0/10"), "{}", row("gamma"));
    assert!(row("lab").contains("10.96.0.0/12"), "{}", row("lab"));
    assert!(
        row("down").ends_with("error: unreachable"),
        "{}",
        row("down")
    );
    assert!(
        row("forbidden").ends_with("error: forbidden"),
        "{}",
        row("forbidden")
    );
    assert!(row("noca").ends_with("error: config"), "{}", row("noca"));
    // --all-contexts: the kubeconfig's eight, not the unknown ninth.
    assert!(!r.stdout.contains("ghost"));
    assert!(r.stdout.contains("[fleet-pod-overlap] pod range 10.64.0.0/10 of alpha, beta overlaps service range 10.96.0.0/12 of lab"), "{}", r.stdout);

    // Only failing clusters: nothing analysed, exit 2, the rows still written.
    let r = netcheck(&[
        "fleet",
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--contexts",
        "down,ghost",
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no cluster could be analysed"),
        "{}",
        r.stderr
    );
    let f = fleet(&r);
    assert_eq!((f.summary.analysed, f.summary.failed), (0, 2));
}

/// Saved clusters: a snapshot is analysed, a report is taken as written; files that are
/// neither get an error row; the same cluster reached twice is not compared with itself.
#[test]
fn from_files() {
    let dir = scratch("fleet-from");
    let alpha_path = dir.join("alpha.json");
    std::fs::write(&alpha_path, serde_json::to_string(&generated(&[])).unwrap()).unwrap();
    let lab_report = dir.join("lab-report.json");
    let r = netcheck(&["report", "-o", "json", "--snapshot", CKA]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    std::fs::write(&lab_report, &r.stdout).unwrap();
    let junk = dir.join("junk.json");
    std::fs::write(&junk, "{\"kind\": \"Pod\", \"apiVersion\": \"v1\"}").unwrap();

    let p = |p: &Path| p.to_str().unwrap().to_string();
    let r = netcheck(&args(&[
        "fleet".into(),
        "--from".into(),
        p(&alpha_path),
        p(&lab_report),
        p(&junk),
        p(&dir.join("absent.json")),
        "-o".into(),
        "json".into(),
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = fleet(&r);
    let a = cluster(&f, &p(&alpha_path));
    assert_eq!(a.origin, Origin::Snapshot);
    assert_eq!(ranges(a, RangeKind::Pod), ["10.64.0.0/10"]);
    assert_eq!(a.report.as_ref().unwrap().source.mode, "snapshot");
    let l = cluster(&f, &p(&lab_report));
    assert_eq!(l.origin, Origin::Report);
    assert_eq!(ranges(l, RangeKind::Service), ["10.96.0.0/12"]);
    let j = cluster(&f, &p(&junk));
    assert_eq!(j.origin, Origin::File);
    let e = j.error.as_ref().unwrap();
    assert_eq!(e.kind, ErrorKind::File);
    assert!(e.message.contains("\"Pod\""), "{}", e.message);
    let e = cluster(&f, &p(&dir.join("absent.json")))
        .error
        .clone()
        .unwrap();
    assert!(e.message.contains("cannot open"), "{}", e.message);
    let over = with_id(&f, "fleet-pod-overlap");
    assert_eq!(over.len(), 1, "{}", describe(&f));
    assert_eq!(over[0].ranges, ["10.64.0.0/10", "10.96.0.0/12"]);

    // A fleet document is not a cluster.
    let fleet_doc = dir.join("fleet.json");
    std::fs::write(&fleet_doc, &r.stdout).unwrap();
    let r = netcheck(&["fleet", "--from", &p(&fleet_doc), CKA, "-o", "json"]);
    let f = fleet(&r);
    assert!(cluster(&f, &p(&fleet_doc))
        .error
        .as_ref()
        .unwrap()
        .message
        .contains("fleet document"));

    // A live context and a snapshot of the same API server: one cluster, not a conflict.
    let server = serve(generated(&[]), Options::default());
    let kc = write_kubeconfig(&dir, &[entry("alpha", &server)]);
    let mut copy = generated(&[]);
    copy.source.server = Some(format!("{}/", server.url()));
    let copy_path = dir.join("alpha-saved.json");
    std::fs::write(&copy_path, serde_json::to_string(&copy).unwrap()).unwrap();
    let r = netcheck(&[
        "fleet",
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--contexts",
        "alpha",
        "--from",
        &p(&copy_path),
        "-o",
        "json",
    ]);
    let f = fleet(&r);
    assert_eq!(f.summary.analysed, 2, "{}", r.stderr);
    let dup = with_id(&f, "fleet-duplicate-cluster");
    assert_eq!(dup.len(), 1, "{}", describe(&f));
    assert_eq!(dup[0].subjects, ["alpha".to_string(), p(&copy_path)]);
    assert!(
        f.findings
            .iter()
            .all(|x| !x.id.starts_with("fleet-shared") && !x.id.ends_with("-overlap")),
        "{}",
        describe(&f)
    );
    assert_eq!(
        r.code,
        0,
        "a clean generated cluster, seen twice: {}",
        describe(&f)
    );
}

/// --parallel bounds how many clusters are read at once; each cluster's deadline is its own.
#[test]
fn parallel_bound_and_slow_clusters() {
    const DELAY: Duration = Duration::from_millis(1500);
    let slow = || {
        serve(
            generated(&[]),
            Options {
                faults: vec![(Rule::path("/version"), Fault::Delay(DELAY))],
                ..Default::default()
            },
        )
    };
    let servers: Vec<ApiServer> = (0..3).map(|_| slow()).collect();
    // A server that accepts and never answers: bounded by --request-timeout.
    let hung = serve(
        generated(&[]),
        Options {
            faults: vec![(Rule::path("/"), Fault::Delay(Duration::from_secs(120)))],
            ..Default::default()
        },
    );
    let dir = scratch("fleet-parallel");
    let names = ["s0", "s1", "s2"];
    let mut entries: Vec<Entry> = names
        .iter()
        .zip(&servers)
        .map(|(n, s)| entry(n, s))
        .collect();
    entries.push(entry("hung", &hung));
    let kc = write_kubeconfig(&dir, &entries);
    let run = |parallel: &str, contexts: &str| {
        let t = Instant::now();
        let r = netcheck(&[
            "fleet",
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--contexts",
            contexts,
            "--parallel",
            parallel,
            "--request-timeout",
            "2s",
            "--timeout",
            "10s",
            "-o",
            "json",
        ]);
        (r, t.elapsed())
    };
    // One at a time: the three delays add up.
    let (r, took) = run("1", "s0,s1,s2");
    assert_eq!(fleet(&r).summary.analysed, 3, "{}", r.stderr);
    assert!(took >= DELAY * 3, "--parallel 1 took {took:?}");
    // The hung cluster fails on its own; the others still answer.
    let (r, took) = run("8", "hung,s0,s1,s2");
    let f = fleet(&r);
    assert_eq!(f.summary.analysed, 3, "{}", r.stderr);
    let e = cluster(&f, "hung").error.clone().unwrap();
    assert_eq!(e.kind, ErrorKind::Unreachable, "{}", e.message);
    assert!(e.message.contains("timed out"), "{}", e.message);
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn bad_flags() {
    for (argv, want) in [
        (vec!["fleet"], "which clusters?"),
        (
            vec!["fleet", "--context", "a", "--from", CKA],
            "--contexts NAMES",
        ),
        (
            vec!["fleet", "--snapshot", CKA, "--from", CKA],
            "--from FILE",
        ),
        (
            vec!["fleet", "--node-cidr", "10.0.0.0/8", "--from", CKA],
            "--node-cidr",
        ),
        (
            vec!["fleet", "--parallel", "0", "--from", CKA],
            "--parallel",
        ),
        (
            vec!["fleet", "--contexts", "a", "--all-contexts"],
            "cannot be used with",
        ),
        (vec!["fleet", "--all-contexts"], "kubeconfig"),
        (vec!["fleet", "--exec-rules", "--from", CKA], "--exec-rules"),
        (
            vec!["fleet", "--dump", "/nonexistent", "--from", CKA],
            "--dump",
        ),
    ] {
        let r = netcheck(&argv);
        assert_eq!(r.code, 2, "{argv:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{argv:?}: {}", r.stdout);
        assert!(
            r.stderr.contains(want),
            "{argv:?}: want {want:?} in {}",
            r.stderr
        );
    }
    // YAML is the same document.
    let r = netcheck(&["fleet", "--from", CKA, "-o", "yaml", "--fail-on", "never"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f: Fleet = serde_saphyr::from_str(&r.stdout).expect("valid YAML Fleet");
    assert_eq!((f.kind.as_str(), f.clusters.len()), ("Fleet", 1));
}

/// `--kubeconfig` repeated: each file's contexts are read from that file; a context name two
/// files share is shown with its file; a single-cluster command refuses several files.
#[test]
fn repeated_kubeconfig_files() {
    let lab = serve(cka(), Options::default());
    let gen = serve(generated(&[]), Options::default());
    let other = serve(generated(GAMMA), Options::default());
    let (da, db) = (scratch("fleet-kc-a"), scratch("fleet-kc-b"));
    let a = write_kubeconfig(&da, &[entry("lab", &lab), entry("shared", &gen)]);
    let b = write_kubeconfig(&db, &[entry("gen", &gen), entry("shared", &other)]);
    let (a_s, b_s) = (a.to_str().unwrap(), b.to_str().unwrap());
    let r = netcheck(&[
        "fleet",
        "--all-contexts",
        "--kubeconfig",
        a_s,
        "--kubeconfig",
        b_s,
        "-o",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = fleet(&r);
    let names: Vec<&str> = f.clusters.iter().map(|c| c.name.as_str()).collect();
    let (sa, sb) = (format!("shared ({a_s})"), format!("shared ({b_s})"));
    assert_eq!(names, ["lab", sa.as_str(), "gen", sb.as_str()]);
    assert!(
        f.clusters.iter().all(|c| c.report.is_some()),
        "{}",
        describe(&f)
    );
    let server = |n: &str| cluster(&f, n).server.clone().unwrap();
    assert_eq!(server(&sa), gen.url().trim_end_matches('/'));
    assert_eq!(server(&sb), other.url().trim_end_matches('/'));
    // --contexts: each from the first file that holds it.
    let r = netcheck(&[
        "fleet",
        "--contexts",
        "gen,lab,shared",
        "--kubeconfig",
        a_s,
        "--kubeconfig",
        b_s,
        "-o",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = fleet(&r);
    assert!(
        f.clusters.iter().all(|c| c.report.is_some()),
        "{}",
        describe(&f)
    );
    assert_eq!(
        cluster(&f, "shared").server.as_deref(),
        Some(gen.url().trim_end_matches('/'))
    );
    // One cluster, two files: refused.
    let r = netcheck(&["report", "--kubeconfig", a_s, "--kubeconfig", b_s]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--kubeconfig given 2 times"),
        "{}",
        r.stderr
    );
}
