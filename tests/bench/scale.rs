//! Scale benchmark (issue #5): `cargo bench --bench scale [-- SIZES...]`.
//!
//! For each node count it generates a synthetic cluster (30 pods per node, 2 Services per node,
//! objects at realistic size), serves it from the loopback test API server and runs, side by side:
//! - netcheck `report` against it (default settings), then with `--logs all`, and offline on a
//!   snapshot it saved;
//! - the curl floor: the very requests netcheck made (same paths, same pages), fetched by curl
//!   with every list's pages in sequence and all lists at once; `--logs all` against a floor of
//!   its own requests, its pod logs on as many connections as netcheck reads logs at once;
//! - a kubectl + jq pipeline answering the same questions.
//!
//! It prints wall time (the median of interleaved runs; kubectl's pipeline runs once), peak RSS,
//! requests and bytes served, and the ratios the issue targets.
//! Figures are for comparison within one run; nothing here asserts a time.

use netcheck_testkit::generate::{self, Layout, Spec};
use netcheck_testkit::{ApiServer, Options, Recorded};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

struct Measure {
    wall: f64,
    rss_mb: f64,
    ok: bool,
}

/// A command for the launcher: argv, where its stdout goes, extra environment.
#[derive(Serialize, Deserialize)]
struct Job {
    argv: Vec<String>,
    stdout: Option<PathBuf>,
    env: Vec<(String, String)>,
}

impl Job {
    fn new(argv: &[&str]) -> Job {
        Job {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            stdout: None,
            env: vec![],
        }
    }
    fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Job {
        self.argv.push(a.as_ref().to_string_lossy().into_owned());
        self
    }
    fn args(mut self, a: &[&str]) -> Job {
        self.argv.extend(a.iter().map(|s| s.to_string()));
        self
    }
    fn stdout(mut self, p: &Path) -> Job {
        self.stdout = Some(p.into());
        self
    }
}

/// Runs jobs from a small process started before the cluster is built. Linux counts the
/// RSS of the process a child was forked from into the child's peak, so children of the
/// benchmark itself (which holds the served cluster) would report hundreds of MB not their own.
struct Launcher {
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

const LAUNCHER_ENV: &str = "NETCHECK_BENCH_LAUNCHER";

impl Launcher {
    // The launcher exits when its stdin closes, with the benchmark.
    #[allow(clippy::zombie_processes)]
    fn start() -> Launcher {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(LAUNCHER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the launcher");
        Launcher {
            stdin: child.stdin.take().unwrap(),
            stdout: std::io::BufReader::new(child.stdout.take().unwrap()),
        }
    }
    fn run(&mut self, job: &Job) -> Measure {
        use std::io::{BufRead, Write};
        writeln!(self.stdin, "{}", serde_json::to_string(job).unwrap()).unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let (wall, rss_kb, ok): (f64, i64, bool) =
            serde_json::from_str(&line).expect("launcher answer");
        Measure {
            wall,
            rss_mb: rss_kb as f64 / 1024.0,
            ok,
        }
    }
}

/// The launcher's loop: run each job, answer (wall seconds, peak RSS KiB, exit ok).
// Children are reaped with wait4, which std's Child does not know of.
#[allow(clippy::zombie_processes)]
fn launcher() {
    use std::io::{BufRead, Write};
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let job: Job = serde_json::from_str(&line.unwrap()).unwrap();
        let mut cmd = Command::new(&job.argv[0]);
        cmd.args(&job.argv[1..])
            .envs(job.env.iter().cloned())
            .stdin(Stdio::null());
        cmd.stdout(match &job.stdout {
            Some(p) => Stdio::from(std::fs::File::create(p).unwrap()),
            None => Stdio::null(),
        });
        let t = Instant::now();
        let child = cmd.spawn().expect("spawn");
        let mut status = 0;
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own child with valid out-pointers. Its maxrss covers the
        // child and the descendants it waited for (the processes of a pipeline).
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
        assert!(pid > 0, "wait4 failed");
        let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) <= 1;
        let answer = (t.elapsed().as_secs_f64(), ru.ru_maxrss, ok);
        writeln!(out, "{}", serde_json::to_string(&answer).unwrap()).unwrap();
        out.flush().unwrap();
    }
}

struct Row {
    name: String,
    /// The floor row whose median wall time this one's ratio divides by.
    floor: &'static str,
    /// Wall time is the median of `walls`; peak RSS the largest seen.
    m: Measure,
    walls: Vec<f64>,
    requests: usize,
    bytes: usize,
}

fn served(server: &ApiServer, from: usize) -> (usize, usize, Vec<Recorded>) {
    let reqs: Vec<Recorded> = server.requests().into_iter().skip(from).collect();
    let bytes = reqs.iter().map(|r| r.bytes).sum();
    (reqs.len(), bytes, reqs)
}

const NETCHECK: &str = env!("CARGO_BIN_EXE_netcheck");

const FLOOR: &str = "curl floor";
const LOGS_FLOOR: &str = "curl floor, --logs all";

/// netcheck's default `--log-concurrency`.
const LOG_CHAINS: usize = 8;

fn netcheck(kc: &Path, out: &Path, extra: &[&str]) -> Job {
    command(kc, out, "report", extra)
}

fn command(kc: &Path, out: &Path, cmd: &str, extra: &[&str]) -> Job {
    Job::new(&[
        NETCHECK,
        cmd,
        "-o",
        "json",
        "--fail-on",
        "never",
        "--kubeconfig",
    ])
    .arg(kc)
    .args(extra)
    .stdout(out)
}

/// The curl floor: one curl per list (its pages in order on one connection) and one per single
/// read, all started at once. Lower than any real client: no list waits for another. With
/// `chained_logs`, pod logs (thousands with `--logs all`) go on `LOG_CHAINS` connections
/// instead, each read after the other, beside the lists: the concurrency netcheck allows itself
/// by default (`--log-concurrency`), since each log read is passed on to a node's kubelet.
fn curl_floor(server: &ApiServer, reqs: &[Recorded], chained_logs: bool, script_at: &Path) -> Job {
    // Grouped by path (or log chain) and Accept header: the same answers, in the same encoding.
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Group<'a> {
        Path(&'a str),
        Logs(usize),
    }
    let mut groups: BTreeMap<(Group, &str), Vec<String>> = BTreeMap::new();
    let mut logs = 0;
    for r in reqs {
        let url = match r.query.as_str() {
            "" => format!("{}{}", server.url(), r.path),
            q => format!("{}{}?{q}", server.url(), r.path),
        };
        let group = match chained_logs && r.path.ends_with("/log") {
            true => {
                logs += 1;
                Group::Logs(logs % LOG_CHAINS)
            }
            false => Group::Path(&r.path),
        };
        groups.entry((group, &r.accept)).or_default().push(url);
    }
    let mut script = String::new();
    for ((_, accept), urls) in &groups {
        // Not -f: some of netcheck's reads are answered 404 (kinds a cluster does not serve),
        // and are fetched all the same; a failed transfer is what fails the row.
        script.push_str(&format!("curl -s -H 'Accept: {accept}'"));
        for u in urls {
            script.push_str(&format!(" -o /dev/null '{u}'"));
        }
        script.push_str(" &\n");
    }
    // 2 for a failed read: the launcher takes 1 for netcheck's "findings", a success.
    script.push_str("fail=0; for j in $(jobs -p); do wait $j || fail=2; done; exit $fail\n");
    // A file, not `bash -c`: thousands of log URLs are beyond one argument's length limit.
    std::fs::write(script_at, script).expect("write the curl floor's script");
    Job::new(&["bash"]).arg(script_at)
}

/// What an operator would type to answer the same questions without netcheck. Pods and nodes
/// go through custom-columns, which kubectl prints chunk by chunk; `-o json | jq` over 150,000
/// pods would hold them all (several GB) in both kubectl and jq.
fn kubectl_pipeline(kc: &Path, cache: &Path, out: &Path) -> Job {
    let range = |cidr: &str| {
        let n: ipnet::Ipv4Net = cidr.parse().unwrap();
        (u32::from(n.network()), u32::from(n.broadcast()))
    };
    let (plo, phi) = range(Layout::CLUSTER_CIDR);
    let (slo, shi) = range(Layout::SERVICE_CIDR);
    let script = format!(
        r#"set -o pipefail
export KUBECONFIG='{kc}' KUBECACHEDIR='{cache}'
outside='function n(ip,  a) {{ split(ip, a, "."); return a[1]*16777216 + a[2]*65536 + a[3]*256 + a[4] }}
  $1 != "<none>" && $2 != "true" && (n($1) < lo || n($1) > hi) {{ c++ }} END {{ print c+0 }}'
{{
kubectl get nodes -o wide
kubectl get pods -n kube-system -o wide
kubectl get ds -A -o wide
kubectl get cm -n kube-system kube-proxy -o jsonpath='{{.data.config\.conf}}' | grep -E '^(mode|clusterCIDR):'
kubectl get pod -n kube-system kube-apiserver-cp-0 -o yaml | grep -- --service-cluster-ip-range
kubectl get pod -n kube-system kube-controller-manager-cp-0 -o yaml | grep -- --cluster-cidr
kubectl get cm -n kube-flannel kube-flannel-cfg -o jsonpath='{{.data.net-conf\.json}}'
echo "nodes sharing a podCIDR:"
kubectl get nodes --no-headers -o custom-columns=CIDR:.spec.podCIDR | sort | uniq -d | wc -l
echo "pod IPs outside the pod range:"
kubectl get pods -A --no-headers -o custom-columns=IP:.status.podIP,HOST:.spec.hostNetwork | awk -v lo={plo} -v hi={phi} "$outside"
echo "service IPs outside the service range:"
kubectl get svc -A -o json | jq -r '.items[].spec.clusterIP | select(. != "None")' | awk -v lo={slo} -v hi={shi} "$outside"
pod=$(kubectl get pods -n kube-system -l k8s-app=kube-proxy -o jsonpath='{{.items[0].metadata.name}}')
kubectl logs -n kube-system "$pod" | grep -E 'Using .* Proxier'
}} > '{out}'
"#,
        kc = kc.display(),
        cache = cache.display(),
        out = out.display()
    );
    Job::new(&["bash", "-c", &script])
}

fn run_size(nodes: usize, dir: &Path, with_kubectl: bool, launcher: &mut Launcher) -> Vec<Row> {
    let t = Instant::now();
    let spec = Spec::sized(nodes);
    let mut cluster = generate::cluster(&spec);
    // A busy cluster's events: netcheck must select the few it needs on the server.
    generate::noise_events(&mut cluster, nodes * EVENTS_PER_NODE);
    let events_json = serde_json::to_vec(&cluster.events).map_or(0, |v| v.len());
    let events = cluster.events.len();
    let (pods, services) = (cluster.pods.len(), cluster.services.len());
    let server = serve(cluster);
    let kc = dir.join(format!("kubeconfig-{nodes}"));
    server.write_kubeconfig(&kc).unwrap();
    println!(
        "\n== {nodes} nodes, {pods} pods, {services} services (generated and served in {:.1}s)",
        t.elapsed().as_secs_f64()
    );
    let mut rows = Vec::new();
    // Every job run again below, interleaved with the others.
    let mut jobs = Vec::new();
    let mut run = |name: &str, floor: &'static str, job: Job| -> Vec<Recorded> {
        let from = server.requests().len();
        let m = launcher.run(&job);
        jobs.push(job);
        let (requests, bytes, reqs) = served(&server, from);
        rows.push(Row {
            name: name.into(),
            floor,
            walls: vec![m.wall],
            m,
            requests,
            bytes,
        });
        reqs
    };

    let out = dir.join(format!("report-{nodes}.json"));
    let reqs = run("netcheck report", FLOOR, netcheck(&kc, &out, &[]));
    check_report(&out);
    let selected: Vec<&Recorded> = reqs.iter().filter(|r| r.path == "/api/v1/events").collect();
    println!(
        "   events: {events} in the cluster ({:.1} MB as JSON); netcheck's {} selected list(s) of them: {:.1} KB",
        events_json as f64 / 1e6,
        selected.len(),
        selected.iter().map(|r| r.bytes).sum::<usize>() as f64 / 1e3
    );
    let script = dir.join(format!("curl-floor-{nodes}.sh"));
    run(FLOOR, FLOOR, curl_floor(&server, &reqs, false, &script));
    let svc_out = dir.join(format!("services-{nodes}.json"));
    run(
        "netcheck services",
        FLOOR,
        command(&kc, &svc_out, "services", &[]),
    );
    check_services(&svc_out, services);
    let all = dir.join(format!("report-all-{nodes}.json"));
    let reqs = run(
        "netcheck --logs all",
        LOGS_FLOOR,
        netcheck(&kc, &all, &["--logs", "all"]),
    );
    let script = dir.join(format!("curl-floor-logs-{nodes}.sh"));
    run(
        LOGS_FLOOR,
        LOGS_FLOOR,
        curl_floor(&server, &reqs, true, &script),
    );
    let snap = dir.join(format!("snapshot-{nodes}.json"));
    let save = Job::new(&[NETCHECK, "snapshot", "--kubeconfig"])
        .arg(&kc)
        .arg("-o")
        .arg(&snap);
    run("netcheck snapshot (save)", FLOOR, save);
    let off = dir.join(format!("report-offline-{nodes}.json"));
    let offline = Job::new(&[NETCHECK, "report", "-o", "json", "--snapshot"])
        .arg(&snap)
        .stdout(&off);
    run("netcheck --snapshot", FLOOR, offline);
    check_report(&off);
    if with_kubectl {
        let cache = dir.join(format!("kube-cache-{nodes}"));
        let kout = dir.join(format!("kubectl-{nodes}.txt"));
        run("kubectl + jq", FLOOR, kubectl_pipeline(&kc, &cache, &kout));
        let text = std::fs::read_to_string(&kout).unwrap_or_default();
        let counts: Vec<&str> = text.lines().filter(|l| l.parse::<u64>().is_ok()).collect();
        println!(
            "   kubectl pipeline's counts (shared podCIDRs, pods, services outside): {counts:?}"
        );
    }
    // More rounds of every row (kubectl's excepted), interleaved: the machine's speed drifts
    // (its cores are shared), so one run can mislead either way. The ratio is of the medians.
    let mut again = vec![];
    for _ in 1..REPEATS {
        // kubectl's pipeline (the last row, when run) takes minutes, and is compared at 5x.
        for (i, job) in jobs
            .iter()
            .enumerate()
            .take(rows.len() - usize::from(with_kubectl))
        {
            again.push((i, launcher.run(job)));
        }
    }
    for (i, m) in again {
        let r = &mut rows[i];
        r.walls.push(m.wall);
        r.m.rss_mb = r.m.rss_mb.max(m.rss_mb);
        r.m.ok &= m.ok;
    }
    for r in &mut rows {
        r.walls.sort_by(f64::total_cmp);
        r.m.wall = r.walls[r.walls.len() / 2];
    }
    rows
}

/// Noise events per node in the generated cluster.
const EVENTS_PER_NODE: usize = 20;

/// Runs of each row at each size (kubectl's pipeline once): medians of interleaved runs.
const REPEATS: usize = 5;

/// Every Service answered, each healthy (the generator's Services select ready pods).
fn check_services(path: &Path, n: usize) {
    let r: netcheck::report::Report =
        serde_json::from_slice(&std::fs::read(path).unwrap()).expect("netcheck wrote a report");
    let s = r.services.expect("services answered");
    assert!(r.skipped.is_empty(), "skipped reads: {:?}", r.skipped);
    assert_eq!(s.services.len(), n);
    assert_eq!(s.counts.with_problems, 0, "{:?}", r.findings);
}

/// The figures only count if netcheck answered in full.
fn check_report(path: &Path) {
    let r: netcheck::report::Report =
        serde_json::from_slice(&std::fs::read(path).unwrap()).expect("netcheck wrote a report");
    let c = r.cidrs.expect("cidrs answered");
    assert!(r.skipped.is_empty(), "skipped reads: {:?}", r.skipped);
    assert_eq!(c.pod_cidr.cidrs[0].to_string(), Layout::CLUSTER_CIDR);
    assert_eq!(c.service_cidr.cidrs[0].to_string(), Layout::SERVICE_CIDR);
}

fn print(rows: &[Row]) {
    println!(
        "   {:<26} {:>9} {:>12} {:>9} {:>11} {:>10}",
        "run", "wall s", "peak RSS MB", "requests", "MB served", "x floor"
    );
    for r in rows {
        let floor = rows.iter().find(|f| f.name == r.floor).map(|f| f.m.wall);
        let ratio = floor.map_or(String::new(), |f| format!("{:.2}", r.m.wall / f));
        println!(
            "   {:<26} {:>9.2} {:>12.1} {:>9} {:>11.1} {:>10}{}",
            r.name,
            r.m.wall,
            r.m.rss_mb,
            r.requests,
            r.bytes as f64 / 1e6,
            ratio,
            if r.m.ok { "" } else { "  (FAILED)" }
        );
    }
    for r in rows.iter().filter(|r| r.walls.len() > 1) {
        let w: Vec<String> = r.walls.iter().map(|w| format!("{w:.2}")).collect();
        println!("   {} runs: {} s (median shown)", r.name, w.join(" "));
    }
}

/// The test API server with objects at realistic size, listed in key order (namespace/name) as
/// kube-apiserver lists them (from etcd or its watch cache). The generator makes pods node by
/// node; a reader that shares what neighbours repeat saw none of one owner's pods together.
fn serve(mut cluster: netcheck::model::Cluster) -> ApiServer {
    fn key(m: &netcheck::model::Meta) -> String {
        format!("{}/{}", m.ns(), m.name)
    }
    cluster.pods.sort_by_cached_key(|p| key(&p.metadata));
    cluster.services.sort_by_cached_key(|s| key(&s.metadata));
    cluster
        .endpoint_slices
        .sort_by_cached_key(|s| key(&s.metadata));
    cluster.nodes.sort_by_cached_key(|n| key(&n.metadata));
    ApiServer::start(
        cluster,
        Options {
            decorate: Some(generate::realistic),
            ..Options::default()
        },
    )
    .expect("start the test API server")
}

/// `serve N`: only serve a generated cluster of N nodes, for trying commands by hand.
fn keep_serving(nodes: usize) {
    let server = serve(generate::cluster(&Spec::sized(nodes)));
    let kc = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("kubeconfig-serve-{nodes}"));
    server.write_kubeconfig(&kc).unwrap();
    println!(
        "serving {nodes} nodes at {}; kubeconfig {}",
        server.url(),
        kc.display()
    );
    loop {
        std::thread::park();
    }
}

fn main() {
    if std::env::var_os(LAUNCHER_ENV).is_some() {
        return launcher();
    }
    let mut launcher = Launcher::start();
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [serve, n] = &args[..] {
        if serve == "serve" {
            return keep_serving(n.parse().expect("serve NODES"));
        }
    }
    let mut sizes: Vec<usize> = args
        .iter()
        .map(|a| a.parse().expect("sizes are node counts"))
        .collect();
    if sizes.is_empty() {
        sizes = vec![100, 1000, 5000];
    }
    let no_kubectl = std::env::var_os("NETCHECK_BENCH_NO_KUBECTL").is_some();
    let dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scale-bench");
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "netcheck scale benchmark: {} cores, sizes {sizes:?}; outputs in {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        dir.display()
    );
    let mut summary = Vec::new();
    for &n in &sizes {
        let rows = run_size(n, &dir, !no_kubectl, &mut launcher);
        print(&rows);
        summary.push((n, rows));
    }
    println!("\n== targets");
    for (n, rows) in &summary {
        let get = |name: &str| rows.iter().find(|r| r.name == name);
        let (nc, floor) = (get("netcheck report").unwrap(), get(FLOOR).unwrap());
        let svc = get("netcheck services").unwrap();
        let ratio = |name: &str, floor: &str| {
            get(name)
                .zip(get(floor))
                .map_or(f64::NAN, |(r, f)| r.m.wall / f.m.wall)
        };
        let mut line = format!(
            "   {n:>6} nodes: report/curl floor {:.2}x (target <= 1.25), --logs all {:.2}x (target <= 2), snapshot save {:.2}x (target <= 1.5), services/curl floor {:.2}x (target <= 2), peak RSS report {:.0} MB (target < 64), services {:.0} MB (target < 150), snapshot RSS {:.0} MB",
            nc.m.wall / floor.m.wall,
            ratio("netcheck --logs all", LOGS_FLOOR),
            ratio("netcheck snapshot (save)", FLOOR),
            svc.m.wall / floor.m.wall,
            nc.m.rss_mb,
            svc.m.rss_mb,
            get("netcheck --snapshot").map_or(0.0, |r| r.m.rss_mb),
        );

        if let Some(k) = get("kubectl + jq") {
            line.push_str(&format!(
                ", kubectl+jq/netcheck {:.1}x (target >= 5)",
                k.m.wall / nc.m.wall
            ));
        }
        println!("{line}");
    }
    if summary.len() > 1 {
        let (n0, r0) = &summary[0];
        for (n, r) in &summary[1..] {
            let f = |rows: &[Row]| {
                rows.iter()
                    .find(|r| r.name == "netcheck report")
                    .map(|r| (r.m.wall, r.m.rss_mb, r.requests))
                    .unwrap()
            };
            let ((t0, m0, q0), (t, m, q)) = (f(r0), f(r));
            println!(
                "   {n0} -> {n} nodes ({:.0}x): time {:.1}x, RSS {:.1}x, requests {q0} -> {q}",
                *n as f64 / *n0 as f64,
                t / t0,
                m / m0
            );
        }
    }
}
