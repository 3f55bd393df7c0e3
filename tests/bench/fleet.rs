//! Fleet benchmark (issue #15): `cargo bench --bench fleet [-- CLUSTERS NODES LATENCY_MS]`.
//!
//! Generates CLUSTERS synthetic clusters of NODES nodes each (default 100 x 100; 30 pods per
//! node, 2 Services per node), serves each from its own loopback test API server (which, with
//! LATENCY_MS, waits that long before every answer, as a remote cluster's round trip would),
//! writes one kubeconfig naming them all, and runs the release binary:
//! - `netcheck report -o json --context cN` once per cluster (the single runs);
//! - `netcheck fleet --all-contexts -o json`, at the default --parallel 8 and at 32.
//!
//! It prints wall time and peak RSS of each, the ratio of the fleet run to the slowest single
//! run and to the sum of the single runs, and what the fleet found. The layouts vary: every
//! pod range lies in 10.64.0.0/10 (one copied default across the fleet), the service ranges
//! take 16 values (copies in groups), the node networks are alike. Nothing is asserted.

use netcheck_testkit::generate::{self, Spec};
use netcheck_testkit::{ApiServer, Fault, Options, Rule};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NETCHECK: &str = env!("CARGO_BIN_EXE_netcheck");
const LAUNCHER_ENV: &str = "NETCHECK_BENCH_LAUNCHER";

/// (wall seconds, peak RSS MB, exit code, CPU seconds of netcheck, CPU seconds of the servers)
type Measure = (f64, f64, i32, f64, f64);

/// User plus system CPU seconds of this process (the test API servers' threads) or of the
/// children it waited for.
fn cpu(who: i32) -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage with a valid out-pointer.
    unsafe { libc::getrusage(who, &mut ru) };
    secs(&ru)
}

fn secs(ru: &libc::rusage) -> f64 {
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// Runs commands from a small process started before the clusters are built: Linux counts
/// the RSS of the process a child was forked from into the child's peak, and this benchmark
/// holds a hundred served clusters.
struct Launcher {
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Launcher {
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
    /// argv, and the file stdout goes to.
    fn run(&mut self, argv: &[String], out: &Path) -> Measure {
        use std::io::{BufRead, Write};
        let job = (argv, out);
        let servers = cpu(libc::RUSAGE_SELF);
        writeln!(self.stdin, "{}", serde_json::to_string(&job).unwrap()).unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let (wall, rss_kb, code, cpu_s): (f64, i64, i32, f64) =
            serde_json::from_str(&line).unwrap();
        let servers = cpu(libc::RUSAGE_SELF) - servers;
        (wall, rss_kb as f64 / 1024.0, code, cpu_s, servers)
    }
}

#[allow(clippy::zombie_processes)]
fn launcher() {
    use std::io::{BufRead, Write};
    let mut out = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let (argv, file): (Vec<String>, PathBuf) = serde_json::from_str(&line.unwrap()).unwrap();
        let t = Instant::now();
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::fs::File::create(&file).unwrap()))
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut status = 0;
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own child with valid out-pointers.
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
        assert!(pid > 0, "wait4 failed");
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        };
        let answer = (t.elapsed().as_secs_f64(), ru.ru_maxrss, code, secs(&ru));
        writeln!(out, "{}", serde_json::to_string(&answer).unwrap()).unwrap();
        out.flush().unwrap();
    }
}

/// Cluster i: the generator's layout with its pod and service prefixes moved.
fn cluster(nodes: usize, i: usize) -> netcheck::model::Cluster {
    let c = generate::cluster(&Spec::sized(nodes));
    let text = serde_json::to_string(&c)
        .unwrap()
        .replace("10.64.", &format!("10.{}.", 64 + i % 64))
        .replace("172.20.", &format!("172.{}.", 16 + i % 16));
    serde_json::from_str(&text).unwrap()
}

fn rss_of_self_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    if std::env::var_os(LAUNCHER_ENV).is_some() {
        return launcher();
    }
    let mut launcher = Launcher::start();
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(|a| a.parse().expect("CLUSTERS NODES"))
        .collect();
    let (n, nodes, latency) = match args[..] {
        [n, nodes, ms] => (n, nodes, ms),
        [n, nodes] => (n, nodes, 0),
        [n] => (n, 100, 0),
        _ => (100, 100, 0),
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fleet-bench");
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "netcheck fleet benchmark: {n} clusters x {nodes} nodes ({} pods, {} Services each), {latency} ms before each answer, {} cores; outputs in {}",
        nodes * 30,
        nodes * 2,
        std::thread::available_parallelism().map_or(0, |c| c.get()),
        dir.display()
    );
    let t = Instant::now();
    let servers: Vec<ApiServer> = (0..n)
        .map(|i| {
            let faults = match latency {
                0 => vec![],
                ms => vec![(
                    Rule::path("/"),
                    Fault::Delay(Duration::from_millis(ms as u64)),
                )],
            };
            let opts = Options {
                faults,
                ..Options::default()
            };
            ApiServer::start(cluster(nodes, i), opts).unwrap()
        })
        .collect();
    println!(
        "   {n} test API servers started in {:.1} s (this process: {:.0} MB)",
        t.elapsed().as_secs_f64(),
        rss_of_self_mb()
    );
    let mut kc = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for (i, s) in servers.iter().enumerate() {
        writeln!(kc, "- name: c{i}\n  cluster:\n    server: {}", s.url()).unwrap();
    }
    kc.push_str("contexts:\n");
    for i in 0..n {
        writeln!(
            kc,
            "- name: c{i}\n  context:\n    cluster: c{i}\n    user: u"
        )
        .unwrap();
    }
    kc.push_str("current-context: c0\nusers:\n- name: u\n  user:\n    token: test-token\n");
    let kc_path = dir.join("kubeconfig");
    std::fs::write(&kc_path, kc).unwrap();
    let kc_arg = kc_path.to_string_lossy().into_owned();
    let argv = |extra: &[&str]| -> Vec<String> {
        [NETCHECK, "--kubeconfig", &kc_arg]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };

    // Warm the page cache and the servers' first connections.
    launcher.run(
        &argv(&["report", "-o", "json", "--context", "c0"]),
        &dir.join("warm.json"),
    );
    let mut singles = Vec::new();
    for i in 0..n {
        let ctx = format!("c{i}");
        let m = launcher.run(
            &argv(&["report", "-o", "json", "--context", &ctx]),
            &dir.join(format!("single-{i}.json")),
        );
        assert!(m.2 <= 1, "single run c{i} exited {}", m.2);
        singles.push(m);
    }
    let slowest = singles.iter().map(|m| m.0).fold(0.0, f64::max);
    let sum: f64 = singles.iter().map(|m| m.0).sum();
    let mut sorted: Vec<f64> = singles.iter().map(|m| m.0).collect();
    sorted.sort_by(f64::total_cmp);
    let rss_single = singles.iter().map(|m| m.1).fold(0.0, f64::max);
    let cpu_nc: f64 = singles.iter().map(|m| m.3).sum();
    let cpu_srv: f64 = singles.iter().map(|m| m.4).sum();
    println!(
        "   single runs (netcheck report -o json --context cN): median {:.2} s, slowest {slowest:.2} s, sum {sum:.1} s, peak RSS {rss_single:.0} MB; CPU in all: netcheck {cpu_nc:.1} s, servers {cpu_srv:.1} s",
        sorted[sorted.len() / 2]
    );

    println!(
        "\n   {:<30} {:>7} {:>8} {:>16} {:>13} {:>10} {:>10} {:>10}",
        "run",
        "wall s",
        "peak MB",
        "/slowest single",
        "/sum singles",
        "CPU nc s",
        "CPU srv s",
        "output MB"
    );
    for parallel in ["8", "32"] {
        let out = dir.join(format!("fleet-{parallel}.json"));
        let m = launcher.run(
            &argv(&[
                "fleet",
                "--all-contexts",
                "-o",
                "json",
                "--parallel",
                parallel,
            ]),
            &out,
        );
        let size = std::fs::metadata(&out).map_or(0, |m| m.len()) as f64 / 1e6;
        println!(
            "   {:<30} {:>7.2} {:>8.0} {:>15.2}x {:>12.3}x {:>10.1} {:>10.1} {:>10.1}",
            format!("netcheck fleet --parallel {parallel}"),
            m.0,
            m.1,
            m.0 / slowest,
            m.0 / sum,
            m.3,
            m.4,
            size
        );
        let f: netcheck::report::Fleet =
            serde_json::from_slice(&std::fs::read(&out).unwrap()).expect("a Fleet document");
        let mut ids: std::collections::BTreeMap<&str, usize> = Default::default();
        for x in &f.findings {
            *ids.entry(x.id.as_str()).or_default() += 1;
        }
        println!(
            "      exit {}, {} of {} clusters analysed; findings: {:?}",
            m.2, f.summary.analysed, f.summary.clusters, ids
        );
    }
    println!("\n   (targets: fleet well under the sum of single runs; peak RSS < 300 MB. With the servers on\n   the same cores, the floor of the fleet's wall time is the CPU of netcheck and servers over the cores)");
}
