//! Rules in kube-proxy's iptables layout (as of Kubernetes 1.28+), written as
//! `iptables-restore` input: tests load them into real iptables inside a network namespace
//! and read them back with `iptables-save`, so that netcheck reads the real tool's output.

use netcheck::discover::rules::chain_hash;
use std::fmt::Write;

/// One Service port as kube-proxy sees it.
#[derive(Debug, Clone)]
pub struct SvcPort {
    /// kube-proxy's name: "namespace/name:port" or "namespace/name".
    pub name: String,
    /// tcp, udp, sctp.
    pub proto: String,
    pub cluster_ip: String,
    pub port: u16,
    pub node_port: Option<u16>,
    /// "ip:port", in the order the rules should try them.
    pub endpoints: Vec<String>,
}

/// `iptables-restore` input for these Service ports; `cluster_cidr` is kube-proxy's
/// --cluster-cidr (the masquerade rule's `! -s`). `probability` writes each endpoint's rule
/// probability given (index, count): kube-proxy's is 1/(count-index).
pub fn iptables_restore(
    ports: &[SvcPort],
    cluster_cidr: &str,
    probability: &dyn Fn(usize, usize) -> f64,
) -> String {
    let mut filter =
        String::from("*filter\n:KUBE-SERVICES - [0:0]\n:KUBE-EXTERNAL-SERVICES - [0:0]\n");
    let mut decl = String::from(
        "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n",
    );
    let mut rules = String::from(
        "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
         -A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
         -A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n",
    );
    let mut tail = String::new();
    for p in ports {
        let (n, proto, ip, port) = (&p.name, &p.proto, &p.cluster_ip, p.port);
        if p.endpoints.is_empty() {
            let _ = writeln!(filter, "-A KUBE-SERVICES -d {ip}/32 -p {proto} -m comment --comment \"{n} has no endpoints\" -m {proto} --dport {port} -j REJECT --reject-with icmp-port-unreachable");
            if let Some(np) = p.node_port {
                let _ = writeln!(filter, "-A KUBE-EXTERNAL-SERVICES -p {proto} -m comment --comment \"{n} has no endpoints\" -m addrtype --dst-type LOCAL -m {proto} --dport {np} -j REJECT --reject-with icmp-port-unreachable");
            }
            continue;
        }
        let h = chain_hash(&format!("{n}{proto}"));
        let _ = writeln!(decl, ":KUBE-SVC-{h} - [0:0]");
        let _ = writeln!(rules, "-A KUBE-SERVICES -d {ip}/32 -p {proto} -m comment --comment \"{n} cluster IP\" -m {proto} --dport {port} -j KUBE-SVC-{h}");
        if let Some(np) = p.node_port {
            let _ = writeln!(decl, ":KUBE-EXT-{h} - [0:0]");
            let _ = writeln!(rules, "-A KUBE-NODEPORTS -p {proto} -m comment --comment {n} -m {proto} --dport {np} -j KUBE-EXT-{h}");
            let _ = writeln!(rules, "-A KUBE-EXT-{h} -m comment --comment \"masquerade traffic for {n} external destinations\" -j KUBE-MARK-MASQ");
            let _ = writeln!(rules, "-A KUBE-EXT-{h} -j KUBE-SVC-{h}");
        }
        let _ = writeln!(rules, "-A KUBE-SVC-{h} ! -s {cluster_cidr} -d {ip}/32 -p {proto} -m comment --comment \"{n} cluster IP\" -m {proto} --dport {port} -j KUBE-MARK-MASQ");
        let count = p.endpoints.len();
        for (i, ep) in p.endpoints.iter().enumerate() {
            let sep = chain_hash(&format!("{n}{proto}{ep}"));
            let _ = writeln!(decl, ":KUBE-SEP-{sep} - [0:0]");
            let stat = if i + 1 < count {
                format!(
                    " -m statistic --mode random --probability {:.10}",
                    probability(i, count)
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                rules,
                "-A KUBE-SVC-{h} -m comment --comment \"{n} -> {ep}\"{stat} -j KUBE-SEP-{sep}"
            );
            let ep_ip = ep.rsplit_once(':').map(|(a, _)| a).unwrap_or(ep);
            let _ = writeln!(
                tail,
                "-A KUBE-SEP-{sep} -s {ep_ip}/32 -m comment --comment {n} -j KUBE-MARK-MASQ"
            );
            let _ = writeln!(tail, "-A KUBE-SEP-{sep} -p {proto} -m comment --comment {n} -m {proto} -j DNAT --to-destination {ep}");
        }
    }
    rules.push_str("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n");
    format!("{filter}COMMIT\n{decl}{rules}{tail}COMMIT\n")
}

/// kube-proxy's probabilities: 1/(endpoints left), the last endpoint unconditionally.
pub fn even(i: usize, n: usize) -> f64 {
    1.0 / (n - i) as f64
}

/// Runs `script` under `sh` in a fresh network namespace with `input` on its standard input,
/// and returns what it prints. Needs root and unshare (util-linux); `what` names the tool the
/// script needs, for the error.
pub fn in_network_namespace(script: &str, input: &str, what: &str) -> Result<String, String> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("unshare")
        .args(["-n", "sh", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run unshare (util-linux) to make a network namespace: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "loading rules into {what} in a network namespace failed ({}): {}; this test needs root, unshare (util-linux) and {what}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// Loads `restore` into real iptables in a fresh network namespace and returns what
/// `iptables-save` prints there. Needs root and the iptables package.
pub fn through_real_iptables(restore: &str) -> Result<String, String> {
    in_network_namespace(
        "iptables-restore && iptables-save",
        restore,
        "iptables (apt-get install iptables)",
    )
}

impl SvcPort {
    pub fn new(
        name: &str,
        proto: &str,
        ip: &str,
        port: u16,
        node_port: Option<u16>,
        eps: &[&str],
    ) -> SvcPort {
        SvcPort {
            name: name.into(),
            proto: proto.into(),
            cluster_ip: ip.into(),
            port,
            node_port,
            endpoints: eps.iter().map(|e| e.to_string()).collect(),
        }
    }
}

/// The CKA lab's (examples/cka-lab.json) Services and ready endpoints, written out by hand from
/// its snapshot: what kube-proxy in sync programs.
pub fn cka_in_sync() -> Vec<SvcPort> {
    let pods = ["10.244.192.1:80", "10.244.192.2:80"];
    let dns = ["10.244.0.2:53", "10.244.0.3:53"];
    vec![
        SvcPort::new(
            "default/kubernetes:https",
            "tcp",
            "10.96.0.1",
            443,
            None,
            &["10.19.9.9:6443"],
        ),
        SvcPort::new(
            "kube-system/kube-dns:dns",
            "udp",
            "10.96.0.10",
            53,
            None,
            &dns,
        ),
        SvcPort::new(
            "kube-system/kube-dns:dns-tcp",
            "tcp",
            "10.96.0.10",
            53,
            None,
            &dns,
        ),
        SvcPort::new(
            "kube-system/kube-dns:metrics",
            "tcp",
            "10.96.0.10",
            9153,
            None,
            &["10.244.0.2:9153", "10.244.0.3:9153"],
        ),
        SvcPort::new(
            "default/my-service",
            "tcp",
            "10.109.214.77",
            80,
            None,
            &pods,
        ),
        SvcPort::new(
            "default/my-service-nodeport",
            "tcp",
            "10.108.37.176",
            80,
            Some(30007),
            &pods,
        ),
        SvcPort::new(
            "default/my-service-lb",
            "tcp",
            "10.104.175.68",
            80,
            Some(31006),
            &pods,
        ),
    ]
}
