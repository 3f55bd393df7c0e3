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

/// Loads `restore` into real iptables in a fresh network namespace and returns what
/// `iptables-save` prints there. Needs root and the iptables package.
pub fn through_real_iptables(restore: &str) -> Result<String, String> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("unshare")
        .args(["-n", "sh", "-c", "iptables-restore && iptables-save"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run unshare (util-linux) to make a network namespace: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(restore.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "loading rules into iptables in a network namespace failed ({}): {}; this test needs root and the iptables package (apt-get install iptables)",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}
