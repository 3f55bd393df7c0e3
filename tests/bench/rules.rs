//! Rules benchmark (issue #13): `cargo bench --bench rules [-- SERVICES]`.
//!
//! Writes kube-proxy's iptables rules for SERVICES Services (default 10,000) of 3 endpoints
//! each (one in five with a NodePort), loads them into real iptables in a network namespace
//! made for the run and reads them back with iptables-save (as root; otherwise it says so and
//! uses the generated text, which has the same layout). Then it times, on the same dump:
//! - the reference: `wc -l` reading the dump file, and `iptables-save | wc -l` in the namespace;
//! - netcheck reading the dump (parse), and reading plus comparing it with the API's Services
//!   and EndpointSlices (in process, the model already loaded);
//! - the whole `netcheck rules --snapshot S --rules node=DUMP` command.
//!
//! It prints the figures and the ratios to the reference; nothing here asserts a time.

use netcheck::discover::{self, Hints};
use netcheck::model::Cluster;
use netcheck_testkit::kubeproxy::{even, iptables_restore, SvcPort};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::Instant;

fn cluster(ports: &[SvcPort]) -> Cluster {
    let mut services = Vec::new();
    let mut slices = Vec::new();
    for p in ports {
        let (ns, name) = p.name.split_once('/').unwrap();
        let mut port = json!({"port": p.port, "protocol": "TCP", "targetPort": 8080});
        if let Some(np) = p.node_port {
            port["nodePort"] = json!(np);
        }
        services.push(json!({
            "metadata": {"name": name, "namespace": ns},
            "spec": {"type": if p.node_port.is_some() { "NodePort" } else { "ClusterIP" }, "clusterIP": p.cluster_ip, "ports": [port]}
        }));
        slices.push(json!({
            "metadata": {"name": format!("{name}-abcde"), "namespace": ns, "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "endpoints": p.endpoints.iter().map(|e| json!({"addresses": [e.split(':').next().unwrap()], "conditions": {"ready": true}, "nodeName": "node-1"})).collect::<Vec<_>>(),
            "ports": [{"name": "", "port": 8080, "protocol": "TCP"}]
        }));
    }
    serde_json::from_value(json!({
        "apiVersion": "netcheck/v1", "kind": "Snapshot",
        "nodes": [{"metadata": {"name": "node-1"}, "spec": {"podCIDR": "10.128.0.0/9"}}],
        "services": services, "endpointSlices": slices
    }))
    .expect("cluster")
}

fn ports(n: usize) -> Vec<SvcPort> {
    (0..n)
        .map(|i| SvcPort {
            name: format!("ns-{}/svc-{i}", i % 50),
            proto: "tcp".into(),
            cluster_ip: format!("10.96.{}.{}", i / 250, i % 250 + 1),
            port: 80,
            node_port: (i % 5 == 0).then(|| 30000 + (i / 5) as u16),
            endpoints: (0..3)
                .map(|k| format!("10.{}.{}.{}:8080", 128 + k, (i / 250) % 256, i % 250 + 1))
                .collect(),
        })
        .collect()
}

fn time<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t = Instant::now();
    let v = f();
    (t.elapsed().as_secs_f64(), v)
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..runs).map(|_| time(&mut f).0).fold(f64::MAX, f64::min)
}

fn sh(script: &str, input: Option<&str>) -> Result<String, String> {
    use std::io::Write;
    let mut c = Command::new("sh")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut stdin = c.stdin.take().unwrap();
    if let Some(i) = input {
        stdin.write_all(i.as_bytes()).map_err(|e| e.to_string())?;
    }
    drop(stdin);
    let out = c.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("rules-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let ports = ports(n);
    let restore = iptables_restore(&ports, "10.128.0.0/9", &even);
    // Load once in a namespace, then save repeatedly there: the live reference.
    let script = "iptables-restore < \"$1\" && for i in 1 2 3; do s=$(date +%s.%N); iptables-save | wc -l >/dev/null; e=$(date +%s.%N); echo \"$s $e\"; done; iptables-save";
    let restore_file = dir.join("restore.txt");
    std::fs::write(&restore_file, &restore).unwrap();
    let (load_s, loaded) = time(|| {
        sh(
            &format!(
                "unshare -n sh -c '{}' _ {}",
                script.replace('\'', "'\\''"),
                restore_file.display()
            ),
            None,
        )
    });
    let (text, live_save) = match loaded {
        Ok(out) => {
            let mut lines = out.lines();
            let times: Vec<f64> = (0..3)
                .filter_map(|_| lines.next())
                .filter_map(|l| {
                    let (s, e) = l.split_once(' ')?;
                    Some(e.parse::<f64>().ok()? - s.parse::<f64>().ok()?)
                })
                .collect();
            let rest: Vec<&str> = lines.collect();
            (rest.join("\n") + "\n", times.into_iter().reduce(f64::min))
        }
        Err(e) => {
            println!(
                "not loaded into real iptables ({}): using the generated rules as the dump",
                e.trim()
            );
            (restore.clone(), None)
        }
    };
    let dump = dir.join("node-1.iptables-save");
    std::fs::write(&dump, &text).unwrap();
    let lines = text.lines().count();
    let c = cluster(&ports);
    let snap = dir.join("snapshot.json");
    std::fs::write(&snap, serde_json::to_vec(&c).unwrap()).unwrap();

    let wc = best(5, || {
        sh(&format!("wc -l < {}", dump.display()), None).unwrap()
    });
    let parse = best(5, || {
        netcheck::parse::rules::parse(&std::fs::read_to_string(&dump).unwrap()).unwrap()
    });
    let mut with_dump = c.clone();
    let cidrs = discover::cidrs::discover(&with_dump, &Hints::default());
    let proxy = discover::proxy::discover(&with_dump);
    with_dump.rule_sets.push(netcheck::model::RuleSet {
        node: "node-1".into(),
        source: dump.display().to_string(),
        text: std::fs::read_to_string(&dump).unwrap(),
    });
    let mut answer = None;
    let compare = best(5, || {
        answer = Some(discover::rules::discover(&with_dump, &cidrs, &proxy))
    });
    let a = answer.unwrap();
    let node = &a.nodes[0];
    let cli = best(3, || {
        let out = Command::new(env!("CARGO_BIN_EXE_netcheck"))
            .args([
                "rules",
                "--snapshot",
                &snap.to_string_lossy(),
                "--rules",
                &format!("node-1={}", dump.display()),
                "-o",
                "json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.code() == Some(0),
            "netcheck rules: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    let load_only = best(3, || {
        let out = Command::new(env!("CARGO_BIN_EXE_netcheck"))
            .args(["rules", "--snapshot", &snap.to_string_lossy(), "-o", "json"])
            .output()
            .unwrap();
        assert!(out.status.success());
    });

    println!(
        "rules benchmark: {n} Services x 3 endpoints, dump of {lines} lines ({:.1} MB){}",
        text.len() as f64 / 1e6,
        if live_save.is_some() {
            ", read back from real iptables"
        } else {
            ""
        }
    );
    println!("  loading into iptables in a namespace (once):   {load_s:>8.3} s");
    if let Some(s) = live_save {
        println!("  iptables-save | wc -l (live, in the namespace): {s:>8.3} s");
    }
    println!("  wc -l < dump (reference):                      {wc:>8.3} s");
    println!(
        "  netcheck parse of the dump:                    {parse:>8.3} s   {:.2}x wc -l{}",
        parse / wc,
        live_save
            .map(|s| format!(", {:.2}x iptables-save | wc -l", parse / s))
            .unwrap_or_default()
    );
    println!(
        "  netcheck parse + compare with the API:         {compare:>8.3} s   {:.2}x wc -l{}",
        compare / wc,
        live_save
            .map(|s| format!(", {:.2}x iptables-save | wc -l", compare / s))
            .unwrap_or_default()
    );
    println!("  netcheck rules (whole command, snapshot):      {cli:>8.3} s   (of which loading the snapshot alone: {load_only:.3} s)");
    println!(
        "  compared {} entries, {} agree, {} problems",
        node.compared,
        node.agreeing,
        node.problems.len()
    );
    assert_eq!(
        node.problems.len(),
        0,
        "the generated rules agree with the generated API"
    );
    assert_eq!(node.compared, n + n / 5);
}
