//! Rules in kube-proxy's nftables layout (pkg/proxy/nftables/proxier.go, Kubernetes 1.31+:
//! tables `ip kube-proxy` / `ip6 kube-proxy`), written as the `nft -f` transaction kube-proxy
//! runs: tests load them into the real kernel with the real `nft` inside a network namespace
//! of their own and read them back with `nft list ruleset` and `nft -j list ruleset`, so that
//! netcheck reads the real tool's output in both forms.
//!
//! The layout, as kube-proxy's setupNFTables and syncProxyRules write it (and as
//! tests/fixtures/rules/gen-nft.sh does):
//! - base chains `filter-*` / `nat-*` jumping to `services`, `masquerading`,
//!   `service-endpoints-check`, `nodeport-endpoints-check`, `firewall-check`,
//!   `cluster-ips-check`; `mark-for-masquerade` sets the masquerade bit;
//! - the verdict map `service-ips` (`IP . proto . port : goto service-…` for a ClusterIP,
//!   `goto external-…` for an external or load-balancer IP) and `service-nodeports`
//!   (`proto . port : goto external-…`), the `nodeport-ips` set of the node's addresses and the
//!   `cluster-ips` set;
//! - `service-HASH-ns/name/proto/port` chains: `ip daddr CIP PROTO dport PORT ip saddr !=
//!   CLUSTER-CIDR jump mark-for-masquerade`, then `numgen random mod N vmap { 0 : goto
//!   endpoint-…, … }`; `external-…` chains (Cluster policy): `jump mark-for-masquerade`,
//!   `goto service-…`; `endpoint-HASH-ns/name/proto/port__IP/PORT` chains: `ip saddr IP jump
//!   mark-for-masquerade`, `meta l4proto PROTO dnat to IP:PORT`;
//! - Service ports without endpoints in `no-endpoint-services` / `no-endpoint-nodeports`,
//!   commented with the port's name, `goto reject-chain`.
//!
//! HASH is the first 8 characters of base32(sha256(name)), name being the chain name's base
//! (kube-proxy's hashAndTruncate). Priorities are numeric: kube-proxy asks for `dstnat - 10`,
//! which nft 1.0.6 refuses outside the prerouting hook.

pub use crate::kubeproxy::SvcPort;
use netcheck::discover::rules::chain_hash;
use std::net::IpAddr;

/// What kube-proxy on the node was started with.
#[derive(Debug, Clone)]
pub struct NodeSetup {
    /// --cluster-cidr per family (the `saddr != …` of each service chain's masquerade rule).
    pub cluster_cidr_v4: String,
    pub cluster_cidr_v6: String,
    /// The Service range per family (`cluster-ips-check`'s drop rule).
    pub service_cidr_v4: String,
    pub service_cidr_v6: String,
    /// The node's addresses (`nodeport-ips`).
    pub node_ips: Vec<String>,
}

impl NodeSetup {
    /// An IPv4 node: its address, --cluster-cidr and the Service range.
    pub fn v4(node_ip: &str, cluster_cidr: &str, service_cidr: &str) -> Self {
        NodeSetup {
            cluster_cidr_v4: cluster_cidr.into(),
            cluster_cidr_v6: "fd00:10:244::/56".into(),
            service_cidr_v4: service_cidr.into(),
            service_cidr_v6: "fd00:10:96::/112".into(),
            node_ips: vec![node_ip.into()],
        }
    }
}

/// kube-proxy's hashAndTruncate: `HASH8-name`.
fn hashed(name: &str) -> String {
    format!("{}-{name}", &chain_hash(name)[..8])
}

/// (namespace, name, port name) of kube-proxy's "ns/name:port" or "ns/name".
fn split_name(n: &str) -> (&str, &str, &str) {
    let (ns, rest) = n.split_once('/').unwrap_or(("default", n));
    let (name, port) = rest.split_once(':').unwrap_or((rest, ""));
    (ns, name, port)
}

/// servicePortChainNameBase: `HASH-ns/name/proto/port`.
pub fn service_base(p: &SvcPort) -> String {
    let (ns, name, port) = split_name(&p.name);
    hashed(&format!("{ns}/{name}/{}/{port}", p.proto))
}

/// servicePortEndpointChainNameBase: `HASH-ns/name/proto/port__IP/PORT` (an IPv6 address
/// with its colons made dots).
pub fn endpoint_base(p: &SvcPort, ep: &str) -> String {
    let (ns, name, port) = split_name(&p.name);
    let (ip, eport) = split_ep(ep);
    let ip = ip.replace(':', ".");
    hashed(&format!("{ns}/{name}/{}/{port}__{ip}/{eport}", p.proto))
}

/// "ip:port" or "[ip6]:port".
fn split_ep(ep: &str) -> (&str, &str) {
    let (ip, port) = ep.rsplit_once(':').expect("endpoint is IP:PORT");
    (ip.trim_start_matches('[').trim_end_matches(']'), port)
}

fn is_v6(ip: &str) -> bool {
    ip.parse::<IpAddr>().map(|i| i.is_ipv6()).unwrap_or(false)
}

/// The `nft -f` input kube-proxy's nftables mode writes for these Service ports: an
/// `ip kube-proxy` table for the IPv4 ones, and an `ip6 kube-proxy` table when some port has
/// an IPv6 ClusterIP.
pub fn nft_script(ports: &[SvcPort], node: &NodeSetup) -> String {
    let mut out = String::new();
    let v4: Vec<&SvcPort> = ports.iter().filter(|p| !is_v6(&p.cluster_ip)).collect();
    let v6: Vec<&SvcPort> = ports.iter().filter(|p| is_v6(&p.cluster_ip)).collect();
    table(&mut out, false, &v4, node);
    if !v6.is_empty() {
        table(&mut out, true, &v6, node);
    }
    out
}

fn table(out: &mut String, v6: bool, ports: &[&SvcPort], node: &NodeSetup) {
    let (fam, ipx, addr) = if v6 {
        ("ip6", "ip6", "ipv6_addr")
    } else {
        ("ip", "ip", "ipv4_addr")
    };
    let (cidr, svc_cidr) = if v6 {
        (&node.cluster_cidr_v6, &node.service_cidr_v6)
    } else {
        (&node.cluster_cidr_v4, &node.service_cidr_v4)
    };
    let t = format!("{fam} kube-proxy");
    let mut e = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    const MASQ_MARK: &str = "0x00004000";
    e(format!(
        "add table {t} {{ comment \"rules for kube-proxy\" ; }}"
    ));
    for (name, kind, hook, prio) in [
        ("filter-prerouting", "filter", "prerouting", -110),
        ("filter-input", "filter", "input", -110),
        ("filter-forward", "filter", "forward", -110),
        ("filter-output", "filter", "output", -110),
        ("filter-output-post-dnat", "filter", "output", -90),
        ("nat-prerouting", "nat", "prerouting", -100),
        ("nat-output", "nat", "output", -100),
        ("nat-postrouting", "nat", "postrouting", 100),
    ] {
        e(format!(
            "add chain {t} {name} {{ type {kind} hook {hook} priority {prio} ; }}"
        ));
    }
    for (chain, from, extra) in [
        ("nodeport-endpoints-check", "filter-input", "ct state new "),
        ("service-endpoints-check", "filter-input", "ct state new "),
        ("service-endpoints-check", "filter-forward", "ct state new "),
        ("service-endpoints-check", "filter-output", "ct state new "),
        ("firewall-check", "filter-prerouting", "ct state new "),
        ("firewall-check", "filter-output", "ct state new "),
        ("services", "nat-output", ""),
        ("services", "nat-prerouting", ""),
        ("masquerading", "nat-postrouting", ""),
        ("cluster-ips-check", "filter-forward", "ct state new "),
        (
            "cluster-ips-check",
            "filter-output-post-dnat",
            "ct state new ",
        ),
    ] {
        e(format!("add chain {t} {chain}"));
        e(format!("add rule {t} {from} {extra}jump {chain}"));
    }
    e(format!("add chain {t} mark-for-masquerade"));
    e(format!(
        "add rule {t} mark-for-masquerade mark set mark or {MASQ_MARK}"
    ));
    e(format!(
        "add rule {t} masquerading mark and {MASQ_MARK} == 0 return"
    ));
    e(format!(
        "add rule {t} masquerading mark set mark xor {MASQ_MARK}"
    ));
    e(format!("add rule {t} masquerading masquerade fully-random"));
    e(format!(
        "add set {t} cluster-ips {{ type {addr} ; comment \"Active ClusterIPs\" ; }}"
    ));
    e(format!("add rule {t} cluster-ips-check {ipx} daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\""));
    e(format!("add rule {t} cluster-ips-check {ipx} daddr {{ {svc_cidr} }} drop comment \"Drop traffic to unallocated ClusterIPs\""));
    e(format!(
        "add set {t} nodeport-ips {{ type {addr} ; comment \"IPs that accept NodePort traffic\" ; }}"
    ));
    for ip in node.node_ips.iter().filter(|i| is_v6(i) == v6) {
        e(format!("add element {t} nodeport-ips {{ {ip} }}"));
    }
    e(format!("add map {t} no-endpoint-services {{ type {addr} . inet_proto . inet_service : verdict ; comment \"vmap to drop or reject packets to services with no endpoints\" ; }}"));
    e(format!("add map {t} no-endpoint-nodeports {{ type inet_proto . inet_service : verdict ; comment \"vmap to drop or reject packets to service nodeports with no endpoints\" ; }}"));
    e(format!("add chain {t} reject-chain {{ comment \"helper for @no-endpoint-services / @no-endpoint-nodeports\" ; }}"));
    e(format!("add rule {t} reject-chain reject"));
    e(format!("add rule {t} service-endpoints-check {ipx} daddr . meta l4proto . th dport vmap @no-endpoint-services"));
    e(format!("add rule {t} nodeport-endpoints-check {ipx} daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports"));
    e(format!("add map {t} firewall-ips {{ type {addr} . inet_proto . inet_service : verdict ; comment \"destinations that are subject to LoadBalancerSourceRanges\" ; }}"));
    e(format!(
        "add rule {t} firewall-check {ipx} daddr . meta l4proto . th dport vmap @firewall-ips"
    ));
    e(format!("add map {t} service-ips {{ type {addr} . inet_proto . inet_service : verdict ; comment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\" ; }}"));
    e(format!("add map {t} service-nodeports {{ type inet_proto . inet_service : verdict ; comment \"NodePort traffic\" ; }}"));
    e(format!(
        "add rule {t} services {ipx} daddr . meta l4proto . th dport vmap @service-ips"
    ));
    e(format!("add rule {t} services {ipx} daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports"));

    for p in ports {
        let (n, proto, cip, port) = (&p.name, &p.proto, &p.cluster_ip, p.port);
        e(format!("add element {t} cluster-ips {{ {cip} }}"));
        if p.endpoints.is_empty() {
            e(format!("add element {t} no-endpoint-services {{ {cip} . {proto} . {port} comment \"{n}\" : goto reject-chain }}"));
            if let Some(np) = p.node_port {
                e(format!("add element {t} no-endpoint-nodeports {{ {proto} . {np} comment \"{n}\" : goto reject-chain }}"));
            }
            continue;
        }
        let svc = format!("service-{}", service_base(p));
        // kube-proxy creates the endpoint chains before the rules that point to them.
        for ep in &p.endpoints {
            e(format!("add chain {t} endpoint-{}", endpoint_base(p, ep)));
        }
        e(format!("add chain {t} {svc}"));
        e(format!("add rule {t} {svc} {ipx} daddr {cip} {proto} dport {port} {ipx} saddr != {cidr} jump mark-for-masquerade"));
        let vmap: Vec<String> = p
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, ep)| format!("{i} : goto endpoint-{}", endpoint_base(p, ep)))
            .collect();
        e(format!(
            "add rule {t} {svc} numgen random mod {} vmap {{ {} }}",
            p.endpoints.len(),
            vmap.join(" , ")
        ));
        if let Some(np) = p.node_port {
            let ext = format!("external-{}", service_base(p));
            e(format!("add chain {t} {ext}"));
            e(format!("add rule {t} {ext} jump mark-for-masquerade"));
            e(format!("add rule {t} {ext} goto {svc}"));
            e(format!(
                "add element {t} service-nodeports {{ {proto} . {np} : goto {ext} }}"
            ));
        }
        for ep in &p.endpoints {
            let c = format!("endpoint-{}", endpoint_base(p, ep));
            let (ip, eport) = split_ep(ep);
            let dst = if is_v6(ip) {
                format!("[{ip}]:{eport}")
            } else {
                format!("{ip}:{eport}")
            };
            e(format!(
                "add rule {t} {c} {ipx} saddr {ip} jump mark-for-masquerade"
            ));
            e(format!(
                "add rule {t} {c} meta l4proto {proto} dnat to {dst}"
            ));
        }
        e(format!(
            "add element {t} service-ips {{ {cip} . {proto} . {port} : goto {svc} }}"
        ));
    }
}

/// What the real `nft` prints after loading a script: `nft list ruleset` and
/// `nft -j list ruleset`.
#[derive(Debug, Clone)]
pub struct Listed {
    pub text: String,
    pub json: String,
}

const SPLIT: &str = "@@netcheck-nft-json@@";

/// Loads `script` with `nft -f` into a fresh network namespace and returns what `nft list
/// ruleset` and `nft -j list ruleset` print there. Needs root, unshare (util-linux) and nft
/// (the nftables package); without them the error says so.
pub fn through_real_nft(script: &str) -> Result<Listed, String> {
    let sh = format!(
        "command -v nft >/dev/null 2>&1 || {{ echo 'nft not found on PATH' >&2; exit 127; }}; \
         nft -f - && nft list ruleset && echo {SPLIT} && nft -j list ruleset"
    );
    let all =
        crate::kubeproxy::in_network_namespace(&sh, script, "nft (apt-get install nftables)")?;
    let (text, json) = all
        .split_once(&format!("{SPLIT}\n"))
        .ok_or_else(|| format!("nft printed no JSON listing: {all}"))?;
    Ok(Listed {
        text: text.to_string(),
        json: json.trim().to_string(),
    })
}
