//! Watch-round benchmark (issue #16): `cargo bench --bench watch [-- NODES]`.
//!
//! Serves the synthetic cluster of the scale benchmark (30 pods and 2 Services per node,
//! objects at realistic size), runs `netcheck report --watch` against it, and counts what the
//! server answered for each round: the first (everything is listed), rounds with nothing
//! changed, and rounds after churn written through the server between them (pods restarted
//! with new addresses, nodes updated), as a busy cluster's watches would carry it. A full
//! re-read (what every round cost before watches) is the first round's figure.
//! Figures only; nothing here asserts a time.

use netcheck_testkit::generate::{self, Spec};
use netcheck_testkit::{ApiServer, Options};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const INTERVAL: &str = "3s";

/// Requests (not watches), bytes they answered, and watches opened since the `from`th
/// request; what the watch streams carried is summed at the end.
fn since(server: &ApiServer, from: usize) -> (usize, usize, usize) {
    let reqs = &server.requests()[from..];
    let reads: Vec<_> = reqs
        .iter()
        .filter(|r| !r.query.contains("watch=1"))
        .collect();
    let watches = reqs.len() - reads.len();
    (reads.len(), reads.iter().map(|r| r.bytes).sum(), watches)
}

/// VmHWM (peak) or VmRSS (now) of a process, in MB.
fn rss_mb(pid: u32, which: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(which))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Ends the watching netcheck if the benchmark panics, rather than leave it running.
struct Kill(Option<u32>);

impl Drop for Kill {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            // SAFETY: kill(2) on our own child, not yet reaped.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
        }
    }
}

fn main() {
    let nodes: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map_or(5000, |a| a.parse().expect("NODES"));
    let cluster = generate::cluster(&Spec::sized(nodes));
    let pods: Vec<_> = (cluster.pods.iter().cloned())
        .chain(cluster.workload_pods.iter().map(|w| w.to_pod()))
        .filter(|p| !p.status.pod_ips.is_empty())
        .collect();
    let node_objs = cluster.nodes.clone();
    let server = ApiServer::start(
        cluster,
        Options {
            decorate: Some(generate::realistic),
            ..Options::default()
        },
    )
    .expect("start the test API server");
    let kc = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubeconfig-watch-bench");
    server.write_kubeconfig(&kc).unwrap();
    println!(
        "netcheck watch benchmark: {nodes} nodes, {} pods; report --watch --interval {INTERVAL}",
        pods.len()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args([
            "report",
            "--watch",
            "--interval",
            INTERVAL,
            "-o",
            "json",
            "--fail-on",
            "never",
            "--kubeconfig",
        ])
        .arg(&kc)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start netcheck");
    let mut guard = Kill(Some(child.id()));
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send((Instant::now(), line.len())).is_err() {
                break;
            }
        }
    });
    let next = || rx.recv_timeout(Duration::from_secs(600)).expect("a round");
    let t0 = Instant::now();
    let (at, len) = next();
    let first = since(&server, 0);
    let after_first = (rss_mb(child.id(), "VmHWM:"), rss_mb(child.id(), "VmRSS:"));
    println!(
        "{:<34} {:>9} {:>12} {:>9} {:>10} {:>8} {:>8}",
        "round", "requests", "bytes read", "watches", "output", "RSS MB", "took s"
    );
    let pid = child.id();
    let interval = Duration::from_secs(INTERVAL.trim_end_matches('s').parse().unwrap());
    let mut last = t0.checked_sub(interval).unwrap_or(t0);
    // A round's time: from the end of the interval after the last output to its own output.
    let mut row = |name: &str,
                   (reqs, bytes, watches): (usize, usize, usize),
                   (at, len): (Instant, usize)| {
        let rss = rss_mb(pid, "VmRSS:");
        let took = at.saturating_duration_since(last + interval).as_secs_f64();
        last = at;
        println!("{name:<34} {reqs:>9} {bytes:>12} {watches:>9} {len:>10} {rss:>8.0} {took:>8.2}");
    };
    row("first (full read)", first, (at, len));
    let mut mark = server.requests().len();
    for i in 1..=6 {
        let got = next();
        row(&format!("quiet round {i}"), since(&server, mark), got);
        if i == 6 {
            let asked: Vec<String> = server.requests()[mark..]
                .iter()
                .map(|r| format!("{} {} ({})", r.path, r.query, r.status))
                .collect();
            println!("  asked in a quiet round: {asked:?}");
        }
        mark = server.requests().len();
    }
    // Churn: pods restarted with new addresses, nodes rewritten (status updates).
    let mut seq = 0usize;
    for (npods, nnodes) in [(100, 10), (1000, 100)] {
        for k in 0..npods {
            let mut p = pods[(seq * 7919 + k * 104_729) % pods.len()].clone();
            if let Some(ip) = p.status.pod_ips.first_mut() {
                ip.ip = format!("10.255.{}.{}", (seq + k) / 250 % 250, (seq + k) % 250 + 1).into();
            }
            server.put("pods", &p);
        }
        for k in 0..nnodes {
            server.put("nodes", &node_objs[(seq + k * 31) % node_objs.len()]);
        }
        seq += npods;
        let got = next();
        row(
            &format!("after {npods} pods + {nnodes} nodes changed"),
            since(&server, mark),
            got,
        );
        mark = server.requests().len();
    }
    let rss = (rss_mb(child.id(), "VmHWM:"), rss_mb(child.id(), "VmRSS:"));
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let _ = child.wait();
    guard.0 = None;
    let (_, _, watches) = since(&server, 0);
    let stream_bytes: usize = server
        .requests()
        .iter()
        .filter(|r| r.query.contains("watch=1"))
        .map(|r| r.bytes)
        .sum();
    println!("watch streams: {watches} requests over the run, {stream_bytes} bytes in all");
    println!(
        "netcheck RSS: after the first round peak {:.0} MB, resident {:.0} MB; at the end peak {:.0} MB, resident {:.0} MB",
        after_first.0, after_first.1, rss.0, rss.1
    );
    println!(
        "a full re-read (each round before watches): {} requests, {} bytes",
        first.0, first.1
    );
}
