//! The rules each node's data plane holds, against what kube-proxy should have programmed from
//! the API's Services and EndpointSlices; and the path of a packet to one Service.
//!
//! kube-proxy names its chains after a hash of the Service port (and endpoint): computing the
//! same hash ties each chain to its Service, whatever the comments say.

use crate::model::{Cluster, Service};
use crate::parse::rules::{self as parsed, Backend, Entry, Format, Frontend, Mode, Programmed};
use crate::report::{
    CidrAnswer, NodeRules, ProxyAnswer, RuleProblem, RulesAnswer, Scope, Severity, TraceAnswer,
    TraceHop, TracePath,
};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

/// Why the API's endpoints are unknown: neither EndpointSlices nor core Endpoints were read.
pub fn endpoints_unread(c: &Cluster) -> Option<String> {
    use crate::model::what;
    let slices = c.error_for(what::ENDPOINTSLICES)?;
    if c.endpoints_api.is_some() || !c.endpoints.is_empty() || !c.endpoint_slices.is_empty() {
        return None;
    }
    Some(match c.error_for(what::ENDPOINTS) {
        Some(e) => format!("EndpointSlices: {}; Endpoints: {}", slices.reason, e.reason),
        None => format!("EndpointSlices: {}", slices.reason),
    })
}

/// kube-proxy's chain hash: base32 of SHA-256, first 16 characters.
pub fn chain_hash(s: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    let mut out = String::with_capacity(16);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in digest.as_ref() {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 && out.len() < 16 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
        if out.len() == 16 {
            break;
        }
    }
    out
}

/// An endpoint of a Service port as the API lists it.
#[derive(Debug, Clone)]
pub struct Ep {
    pub addr: SocketAddr,
    pub node: Option<String>,
    pub pod: Option<String>,
}

/// One Service port, as kube-proxy should program it.
#[derive(Debug)]
pub struct Expected<'a> {
    pub service: &'a Service,
    /// "namespace/name:port", or "namespace/name" for an unnamed port: kube-proxy's name.
    pub port_name: String,
    pub protocol: String,
    pub port: u16,
    pub node_port: Option<u16>,
    pub ips: Vec<(Entry, IpAddr)>,
    /// Ready endpoints; serving terminating ones when none is ready (as kube-proxy falls back).
    pub endpoints: Vec<Ep>,
    pub external_local: bool,
    pub internal_local: bool,
}

impl Expected<'_> {
    pub fn svc_chain(&self) -> String {
        format!(
            "KUBE-SVC-{}",
            chain_hash(&format!("{}{}", self.port_name, self.protocol))
        )
    }
    pub fn sep_chain(&self, ep: &SocketAddr) -> String {
        format!(
            "KUBE-SEP-{}",
            chain_hash(&format!("{}{}{}", self.port_name, self.protocol, ep))
        )
    }
    /// The endpoints the rules for this entry should send to on `node`.
    fn endpoints_for(&self, entry: Entry, family_v6: Option<bool>, node: &str) -> Vec<&Ep> {
        let local = match entry {
            Entry::ClusterIp => self.internal_local,
            _ => self.external_local,
        };
        self.endpoints
            .iter()
            .filter(|e| family_v6.is_none_or(|v6| e.addr.is_ipv6() == v6))
            .filter(|e| !local || e.node.as_deref() == Some(node))
            .collect()
    }
}

/// Services kube-proxy programs: not headless, not ExternalName, not handed to another proxy.
fn proxied(s: &Service) -> bool {
    s.kind() != "ExternalName"
        && !s.headless()
        && s.metadata
            .label("service.kubernetes.io/service-proxy-name")
            .is_none()
}

/// Every Service port kube-proxy should program, from the API.
pub fn expected(c: &Cluster) -> Vec<Expected<'_>> {
    // Slices by (namespace, service name).
    let mut slices: HashMap<(&str, &str), Vec<&crate::model::EndpointSlice>> = HashMap::new();
    let converted: Vec<crate::model::EndpointSlice> =
        c.endpoints.iter().flat_map(|e| e.to_slices()).collect();
    for s in c.endpoint_slices.iter().chain(&converted) {
        if let Some(name) = s.service() {
            slices.entry((s.metadata.ns(), name)).or_default().push(s);
        }
    }
    let mut out = Vec::new();
    for svc in c.services.iter().filter(|s| proxied(s)) {
        let ns = svc.metadata.ns();
        let name = &svc.metadata.name;
        let ips = svc.ips();
        let mut entries: Vec<(Entry, IpAddr)> = ips
            .iter()
            .filter_map(|i| i.parse().ok())
            .map(|i| (Entry::ClusterIp, i))
            .collect();
        entries.extend(
            svc.spec
                .external_ips
                .iter()
                .filter_map(|i| i.parse().ok())
                .map(|i| (Entry::ExternalIp, i)),
        );
        if svc.kind() == "LoadBalancer" {
            let ingress = svc.status.load_balancer.iter().flat_map(|l| &l.ingress);
            // ipMode Proxy: the load balancer delivers to the node, not to the VIP.
            let vip = ingress
                .filter(|i| i.ip_mode.as_deref() != Some("Proxy"))
                .filter_map(|i| i.ip.as_deref()?.parse().ok());
            entries.extend(vip.map(|i| (Entry::LoadBalancer, i)));
        }
        let external_local = svc.spec.external_traffic_policy.as_deref() == Some("Local")
            && matches!(svc.kind(), "NodePort" | "LoadBalancer");
        let internal_local = svc.spec.internal_traffic_policy.as_deref() == Some("Local");
        for sp in &svc.spec.ports {
            let Ok(port) = u16::try_from(sp.port) else {
                continue;
            };
            let protocol = sp.protocol().to_ascii_lowercase();
            let port_name = match sp.name.as_deref().filter(|n| !n.is_empty()) {
                Some(p) => format!("{ns}/{name}:{p}"),
                None => format!("{ns}/{name}"),
            };
            let mut ready = Vec::new();
            let mut terminating = Vec::new();
            let mut seen = HashSet::new();
            for slice in slices.get(&(ns, name.as_str())).into_iter().flatten() {
                let Some(ep_port) = slice.ports.iter().find(|p| {
                    p.name.as_deref().unwrap_or("") == sp.name.as_deref().unwrap_or("")
                        && p.protocol
                            .as_deref()
                            .unwrap_or("TCP")
                            .eq_ignore_ascii_case(sp.protocol())
                }) else {
                    continue;
                };
                let Some(p) = ep_port.port.and_then(|p| u16::try_from(p).ok()) else {
                    continue;
                };
                for e in &slice.endpoints {
                    let Some(ip) = e.addresses.first().and_then(|a| a.parse::<IpAddr>().ok())
                    else {
                        continue;
                    };
                    let addr = SocketAddr::new(ip, p);
                    if !seen.insert(addr) {
                        continue;
                    }
                    let ep = Ep {
                        addr,
                        node: e.node_name.as_deref().map(str::to_string),
                        pod: e
                            .target_ref
                            .as_ref()
                            .filter(|t| &*t.kind == "Pod")
                            .map(|t| {
                                format!("{}/{}", t.namespace.as_deref().unwrap_or(ns), t.name)
                            }),
                    };
                    if e.conditions.ready() {
                        ready.push(ep);
                    } else if e.conditions.serving() && e.conditions.terminating() {
                        terminating.push(ep);
                    }
                }
            }
            out.push(Expected {
                service: svc,
                port_name,
                protocol,
                port,
                node_port: sp
                    .node_port
                    .and_then(|p| u16::try_from(p).ok())
                    .filter(|p| *p > 0),
                ips: entries.clone(),
                endpoints: if ready.is_empty() { terminating } else { ready },
                external_local,
                internal_local,
            });
        }
    }
    out
}

/// Compares every rule set of the cluster with the API.
pub fn discover(c: &Cluster, cidrs: &CidrAnswer, proxy: &ProxyAnswer) -> RulesAnswer {
    if c.rule_sets.is_empty() {
        return RulesAnswer {
            nodes: vec![],
            unknown: Some("no rule dump given: pass --rules NODE=FILE (iptables-save, nft list ruleset, ipvsadm -Ln...) or run with --on-node on a node".into()),
        };
    }
    let services_unread = c
        .error_for(crate::model::what::SERVICES)
        .map(|e| e.reason.clone());
    let endpoints_unread = endpoints_unread(c);
    let expected = expected(c);
    let nodes = c
        .rule_sets
        .iter()
        .map(|rs| {
            let mut n = NodeRules {
                node: rs.node.clone(),
                source: rs.source.clone(),
                ..Default::default()
            };
            match parsed::parse(&rs.text) {
                Err(e) => n.error = Some(format!("{}: {e}", rs.source)),
                Ok((format, p)) => {
                    let running = proxy
                        .nodes
                        .iter()
                        .find(|x| x.node == rs.node)
                        .and_then(|x| x.running.clone().or(x.configured.clone()));
                    let covers = Covers::of(format, &rs.text);
                    compare(
                        c,
                        &expected,
                        cidrs,
                        proxy,
                        running,
                        &rs.node,
                        (format, covers),
                        &p,
                        (services_unread.as_deref(), endpoints_unread.as_deref()),
                        &mut n,
                    );
                }
            }
            n
        })
        .collect();
    RulesAnswer {
        nodes,
        unknown: None,
    }
}

fn entry_name(e: Entry) -> &'static str {
    match e {
        Entry::ClusterIp => "cluster-ip",
        Entry::NodePort => "node-port",
        Entry::ExternalIp => "external-ip",
        Entry::LoadBalancer => "load-balancer",
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::IptablesSave => "iptables-save",
        Format::IptablesList => "iptables-list",
        Format::Nft => "nft",
        Format::NftJson => "nft-json",
        Format::IpvsadmList => "ipvsadm-list",
        Format::IpvsadmSave => "ipvsadm-save",
    }
}

pub fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Iptables => "iptables",
        Mode::Ipvs => "ipvs",
        Mode::Nftables => "nftables",
    }
}

fn addr_label(ip: Option<IpAddr>, port: u16, proto: &str) -> String {
    match ip {
        Some(IpAddr::V6(v6)) => format!("[{v6}]:{port}/{proto}"),
        Some(ip) => format!("{ip}:{port}/{proto}"),
        None => format!(":{port}/{proto}"),
    }
}

/// Which entry points a dump shows in full: a listing of one chain (`iptables -t nat -L
/// KUBE-SERVICES`) says nothing of NodePorts.
#[derive(Clone, Copy)]
struct Covers {
    addresses: bool,
    node_ports: bool,
    /// The rules that reject packets to a Service without endpoints (iptables: the filter
    /// table; nftables: the no-endpoint maps; ipvs has none).
    rejects: bool,
}

impl Covers {
    fn of(format: Format, text: &str) -> Covers {
        let has = |chain: &str| match format {
            Format::IptablesSave => {
                text.contains(&format!("\n:{chain} ")) || text.starts_with(&format!(":{chain} "))
            }
            Format::IptablesList => text.contains(&format!("Chain {chain} ")),
            _ => true,
        };
        Covers {
            addresses: has("KUBE-SERVICES"),
            node_ports: has("KUBE-NODEPORTS"),
            rejects: match format {
                Format::IptablesSave => text.contains("*filter"),
                Format::IptablesList => text.contains(" has no endpoints"),
                Format::Nft | Format::NftJson => true,
                Format::IpvsadmList | Format::IpvsadmSave => false,
            },
        }
    }
}

fn line(f: &Frontend) -> String {
    format!("line {}: {}", f.line, f.text)
}

#[allow(clippy::too_many_arguments)]
fn compare(
    c: &Cluster,
    expected: &[Expected],
    cidrs: &CidrAnswer,
    proxy: &ProxyAnswer,
    running: Option<String>,
    node: &str,
    (format, covers): (Format, Covers),
    p: &Programmed,
    (services_unread, endpoints_unread): (Option<&str>, Option<&str>),
    n: &mut NodeRules,
) {
    let mode = format.mode();
    n.format = Some(format_name(format).into());
    n.mode = Some(mode_name(mode).into());
    n.expected_mode = running.clone();
    n.lines = p.lines;
    n.kube_lines = p.kube_lines;
    n.entries = p.frontends.len();
    n.masquerade = p.masquerade.iter().map(|m| m.range.to_string()).collect();
    n.notes = p.notes.clone();
    let problem = |id: &str,
                   sev: Severity,
                   service: Option<&str>,
                   entry: String,
                   detail: String,
                   evidence: Vec<String>| RuleProblem {
        id: id.into(),
        severity: sev,
        service: service.map(str::to_string),
        entry,
        detail,
        evidence,
    };

    // Rules of a mode the node does not run, or of kube-proxy where something replaces it,
    // are left-overs: none of them is compared.
    let replacement =
        crate::discover::proxy::replacement(c).filter(|_| proxy.implementation != "kube-proxy");
    let replaced = replacement.is_some();
    if proxy.implementation == "none" && !p.frontends.is_empty() {
        n.notes.push("the API shows no kube-proxy, yet these are kube-proxy's rules: it may run outside the cluster's view (a systemd service), or it was removed and left them".into());
    }

    let other_mode = running
        .as_deref()
        .filter(|r| *r != mode_name(mode) && matches!(*r, "iptables" | "ipvs" | "nftables"));
    if !p.frontends.is_empty() && (replaced || other_mode.is_some()) {
        let why = if replaced {
            format!(
                "{} replaces kube-proxy ({})",
                replacement.as_ref().map(|r| r.name).unwrap_or_default(),
                replacement
                    .as_ref()
                    .map(|r| r.evidence.as_str())
                    .unwrap_or_default()
            )
        } else {
            format!(
                "kube-proxy runs in {} mode on this node",
                other_mode.unwrap_or_default()
            )
        };
        n.problems.push(problem(
            "rules-leftover",
            Severity::Warning,
            None,
            format!("{} {} entries", p.frontends.len(), mode_name(mode)),
            format!("{} Service rules of kube-proxy's {} mode are here, but {why}: they are left behind and may catch traffic", p.frontends.len(), mode_name(mode)),
            p.frontends.iter().take(3).map(line).collect(),
        ));
        return;
    }
    if let Some(reason) = services_unread {
        n.notes.push(format!(
            "not compared: the API's Services could not be read ({reason})"
        ));
        return;
    }
    if let Some(reason) = endpoints_unread {
        n.notes.push(format!("endpoints not compared: the API's endpoints could not be read ({reason}); entries are still matched to their Services"));
    }

    // The masquerade rule's pod range against the cluster's.
    let pod_ranges: Vec<ipnet::IpNet> = cidrs.pod_cidr.cidrs.clone();
    for m in &p.masquerade {
        let same_family: Vec<&ipnet::IpNet> = pod_ranges
            .iter()
            .filter(|r| r.addr().is_ipv6() == m.range.addr().is_ipv6())
            .collect();
        if !same_family.is_empty() && !same_family.contains(&&m.range) {
            n.problems.push(problem(
                "rules-masquerade-range",
                Severity::Error,
                None,
                m.range.to_string(),
                format!(
                    "kube-proxy here treats {} as the pod range (traffic from outside it to a Service is masqueraded), but pods get {}: pod traffic is masqueraded or outside traffic is not",
                    m.range,
                    same_family.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
                ),
                vec![format!("line {}: {}", m.line, m.text)],
            ));
        }
    }

    // Programmed entries by address; NodePorts by port.
    let mut by_ip: HashMap<(IpAddr, u16, &str), Vec<&Frontend>> = HashMap::new();
    let mut by_node_port: HashMap<(u16, &str), Vec<&Frontend>> = HashMap::new();
    let node_ips: HashSet<IpAddr> = c
        .nodes
        .iter()
        .filter(|x| x.name() == node)
        .flat_map(|x| x.status.addresses.iter())
        .filter_map(|a| a.address.parse().ok())
        .collect();
    let expected_node_ports: HashSet<(u16, &str)> = expected
        .iter()
        .filter_map(|e| Some((e.node_port?, e.protocol.as_str())))
        .collect();
    let service_ips: HashSet<IpAddr> = expected
        .iter()
        .flat_map(|e| e.ips.iter().map(|(_, ip)| *ip))
        .collect();
    // ipvs serves a NodePort as a virtual server on every address of the node's interfaces
    // (the CNI bridge's too, which the Node object does not list).
    let ipvs_node_port = |f: &Frontend| {
        mode == Mode::Ipvs
            && f.ip.is_some_and(|ip| {
                node_ips.contains(&ip)
                    || !service_ips.contains(&ip)
                        && expected_node_ports.contains(&(f.port, f.protocol.as_str()))
            })
    };
    for f in &p.frontends {
        match f.ip {
            Some(_) if ipvs_node_port(f) => by_node_port
                .entry((f.port, &f.protocol))
                .or_default()
                .push(f),
            Some(ip) => by_ip.entry((ip, f.port, &f.protocol)).or_default().push(f),
            None => by_node_port
                .entry((f.port, &f.protocol))
                .or_default()
                .push(f),
        }
    }
    let families: HashSet<bool> = p
        .frontends
        .iter()
        .filter_map(|f| f.ip)
        .map(|i| i.is_ipv6())
        .collect();
    if !covers.node_ports {
        n.notes
            .push("the dump does not hold the KUBE-NODEPORTS chain: NodePorts not compared".into());
    }
    if !covers.addresses {
        n.notes.push("the dump does not hold the KUBE-SERVICES chain: cluster, external and load-balancer IPs not compared".into());
    }
    let mut used: HashSet<*const Frontend> = HashSet::new();

    for e in expected {
        let mut targets: Vec<(Entry, Option<IpAddr>, Vec<&Frontend>)> = e
            .ips
            .iter()
            .filter(|(_, ip)| covers.addresses && families.contains(&ip.is_ipv6()))
            .map(|(entry, ip)| {
                (
                    *entry,
                    Some(*ip),
                    by_ip
                        .get(&(*ip, e.port, e.protocol.as_str()))
                        .cloned()
                        .unwrap_or_default(),
                )
            })
            .collect();
        if let Some(np) = e
            .node_port
            .filter(|_| covers.node_ports && !p.frontends.is_empty())
        {
            targets.push((
                Entry::NodePort,
                None,
                by_node_port
                    .get(&(np, e.protocol.as_str()))
                    .cloned()
                    .unwrap_or_default(),
            ));
        }
        for (entry, ip, fronts) in targets {
            let port = if entry == Entry::NodePort {
                e.node_port.unwrap_or(e.port)
            } else {
                e.port
            };
            let label = format!(
                "{} {}",
                addr_label(ip, port, &e.protocol),
                entry_name(entry)
            );
            // A NodePort has no address: its endpoints are those of the families the dump
            // holds (an iptables-save says nothing of the IPv6 NodePort).
            let mut want = e.endpoints_for(entry, ip.map(|i| i.is_ipv6()), node);
            want.retain(|ep| families.contains(&ep.addr.is_ipv6()));
            for f in &fronts {
                used.insert(*f as *const Frontend);
            }
            if endpoints_unread.is_some() {
                continue;
            }
            if fronts.is_empty() {
                if !want.is_empty() {
                    n.compared += 1;
                    n.problems.push(problem(
                        "rules-entry-missing",
                        Severity::Error,
                        Some(&e.port_name),
                        label.clone(),
                        format!("no rule for {} at {label} although the API lists {} ready endpoint(s): kube-proxy has not programmed it", e.port_name, want.len()),
                        vec![],
                    ));
                } else if covers.rejects {
                    n.compared += 1;
                    n.problems.push(problem(
                        "rules-reject-missing",
                        Severity::Warning,
                        Some(&e.port_name),
                        label.clone(),
                        format!("no rule rejects {} at {label}, which has no ready endpoint{}: connections to it hang until they time out instead of being refused at once", e.port_name, if entry == Entry::ClusterIp { "" } else { " (on this node)" }),
                        vec![],
                    ));
                }
                continue;
            }
            n.compared += 1;
            let forwarding: Vec<&&Frontend> = fronts.iter().filter(|f| !f.reject).collect();
            if forwarding.is_empty() {
                if !want.is_empty() {
                    n.problems.push(problem(
                        "rules-reject-with-endpoints",
                        Severity::Error,
                        Some(&e.port_name),
                        label.clone(),
                        format!("the rules reject {} at {label} as having no endpoints, but the API lists {} ready: kube-proxy is behind the API", e.port_name, want.len()),
                        fronts.iter().map(|f| line(f)).collect(),
                    ));
                } else {
                    n.agreeing += 1;
                }
                continue;
            }
            // kube-proxy never forwards to no endpoint (it rejects): a forwarding entry without
            // backends is one whose chain the dump does not hold (a partial listing). ipvs has
            // no reject: a virtual server without real servers is its Service without endpoints.
            let known: Vec<&&&Frontend> = forwarding
                .iter()
                .filter(|f| !f.backends.is_empty() || mode == Mode::Ipvs)
                .collect();
            if known.is_empty() {
                continue;
            }

            // ipvs keeps a removed endpoint at weight 0 while its connections drain: it gets
            // no new ones.
            let got: Vec<&Backend> = known
                .iter()
                .flat_map(|f| &f.backends)
                .filter(|b| b.weight != Some(0))
                .collect();
            let got_set: HashSet<SocketAddr> = got.iter().map(|b| b.addr).collect();
            let want_set: HashSet<SocketAddr> = want.iter().map(|e| e.addr).collect();
            let missing: Vec<String> = want
                .iter()
                .filter(|w| !got_set.contains(&w.addr))
                .map(|w| w.addr.to_string())
                .collect();
            let extra: Vec<&&Backend> =
                got.iter().filter(|b| !want_set.contains(&b.addr)).collect();
            if !missing.is_empty() || !extra.is_empty() {
                let mut parts = vec![];
                if !missing.is_empty() {
                    parts.push(format!(
                        "missing {} the API lists as ready",
                        missing.join(", ")
                    ));
                }
                if !extra.is_empty() {
                    parts.push(format!(
                        "still sending to {} the API no longer lists as ready",
                        extra
                            .iter()
                            .map(|b| b.addr.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                let mut ev: Vec<String> = known.iter().map(|f| line(f)).collect();
                ev.extend(extra.iter().map(|b| format!("line {}: {}", b.line, b.text)));
                n.problems.push(problem(
                    "rules-endpoints-differ",
                    Severity::Error,
                    Some(&e.port_name),
                    label.clone(),
                    format!(
                        "the rules for {} at {label}: {}",
                        e.port_name,
                        parts.join("; ")
                    ),
                    ev,
                ));
                continue;
            }
            for f in known {
                let live: Vec<Backend> = f
                    .backends
                    .iter()
                    .filter(|b| b.weight != Some(0))
                    .cloned()
                    .collect();
                let shares = parsed::shares(&live);
                let even = 1.0 / live.len().max(1) as f64;
                if shares.iter().any(|s| (s - even).abs() > 0.01) {
                    n.problems.push(problem(
                        "rules-uneven-shares",
                        Severity::Warning,
                        Some(&e.port_name),
                        label.clone(),
                        format!(
                            "the rules give {}'s endpoints unequal shares of new connections ({}), not {:.1}% each",
                            e.port_name,
                            live.iter().zip(&shares).map(|(b, s)| format!("{} {:.1}%", b.addr, s * 100.0)).collect::<Vec<_>>().join(", "),
                            even * 100.0
                        ),
                        live.iter().map(|b| format!("line {}: {}", b.line, b.text)).collect(),
                    ));
                    break;
                }
            }
            n.agreeing += 1;
        }
    }

    // Entries the API has no Service port for.
    let by_hash: HashMap<String, &Expected> = expected.iter().map(|e| (e.svc_chain(), e)).collect();
    for f in p
        .frontends
        .iter()
        .filter(|f| !used.contains(&(*f as *const Frontend)))
    {
        let entry = if ipvs_node_port(f) {
            Entry::NodePort
        } else {
            f.entry
        };
        let label = format!(
            "{} {}",
            addr_label(f.ip, f.port, &f.protocol),
            entry_name(entry)
        );
        // Tied to a Service port of the API by kube-proxy's chain hash (iptables) or by the
        // Service port the rules name (nftables chain names, comments).
        let tied = f
            .chain
            .as_deref()
            .and_then(|ch| {
                by_hash
                    .get(&format!("KUBE-SVC-{}", ch.rsplit('-').next()?))
                    .copied()
            })
            .or_else(|| {
                let name = f.service.as_deref()?;
                expected
                    .iter()
                    .find(|e| e.port_name == name && e.protocol == f.protocol)
            });
        let detail = match tied {
            Some(e) => format!(
                "rules for {label} lead to {}, but that Service port is now at {}: the rules are from before it changed",
                e.port_name,
                e.ips.iter().map(|(_, ip)| addr_label(Some(*ip), e.port, &e.protocol)).collect::<Vec<_>>().join(", ")
            ),
            None => format!(
                "rules for {label}{}, which no Service of the API has: left from a deleted Service",
                f.service.as_deref().map(|s| format!(" ({s})")).unwrap_or_default()
            ),
        };
        n.problems.push(problem(
            "rules-stale-entry",
            Severity::Warning,
            f.service.as_deref().or(tied.map(|e| e.port_name.as_str())),
            label,
            detail,
            vec![line(f)],
        ));
    }
}

/// The path of a packet to one Service: from each node's rules when there are some, else the
/// path kube-proxy should have programmed.
pub fn trace(c: &Cluster, proxy: &ProxyAnswer, scope: &Scope) -> Result<TraceAnswer, String> {
    let (svc, all) = target(c, scope)?;
    let (ns, name) = (svc.metadata.ns(), &svc.metadata.name);
    let ports: Vec<&Expected> = all.iter().collect();
    let mut notes = Vec::new();
    let unread = endpoints_unread(c);
    if let Some(r) = &unread {
        notes.push(format!(
            "endpoints unknown: the API's endpoints could not be read ({r})"
        ));
    }
    let service_ips: HashSet<IpAddr> = expected(c)
        .iter()
        .flat_map(|e| e.ips.iter().map(|(_, ip)| *ip))
        .collect();
    let pods: HashMap<SocketAddr, &Ep> = ports
        .iter()
        .flat_map(|e| &e.endpoints)
        .map(|ep| (ep.addr, ep))
        .collect();
    let mut paths = Vec::new();
    let sets: Vec<_> = c
        .rule_sets
        .iter()
        .filter(|r| scope.node.as_deref().is_none_or(|n| n == r.node))
        .collect();
    if let Some(n) = scope.node.as_deref() {
        if !c.rule_sets.is_empty() && sets.is_empty() {
            notes.push(format!(
                "no rule dump of node {n}: the path shown is the expected one"
            ));
        }
    }
    for rs in &sets {
        let (format, p) = match parsed::parse(&rs.text) {
            Ok(x) => x,
            Err(e) => {
                notes.push(format!("{} ({}): not read: {e}", rs.source, rs.node));
                continue;
            }
        };
        let before = paths.len();
        for e in &ports {
            for f in p
                .frontends
                .iter()
                .filter(|f| matches_port(f, e, &service_ips))
            {
                // The API says what an address is; dumps cannot always (ipvs names nothing,
                // nftables cannot tell an external IP from a load-balancer one).
                let mut f = f.clone();
                f.entry = api_entry(&f, e, &service_ips);
                if format.mode() == Mode::Ipvs {
                    f.local_only = if f.entry == Entry::ClusterIp {
                        e.internal_local
                    } else {
                        e.external_local
                    };
                }
                let f = &f;
                let shares = parsed::shares(&f.backends);
                let want: HashSet<SocketAddr> = e
                    .endpoints_for(f.entry, f.ip.map(|i| i.is_ipv6()), &rs.node)
                    .iter()
                    .map(|x| x.addr)
                    .collect();
                paths.push(TracePath {
                    node: Some(rs.node.clone()),
                    observed: true,
                    source: format!("{} ({})", rs.source, format_name(format)),
                    mode: mode_name(format.mode()).into(),
                    port_name: e.port_name.clone(),
                    entry: entry_name(f.entry).into(),
                    address: addr_label(f.ip, f.port, &f.protocol),
                    rule: Some(line(f)),
                    chain: f.chain.clone(),
                    reject: f.reject,
                    local_only: f.local_only,
                    hops: f
                        .backends
                        .iter()
                        .zip(shares)
                        .map(|(b, share)| TraceHop {
                            chain: b.chain.clone(),
                            endpoint: b.addr.to_string(),
                            probability: b.probability,
                            weight: b.weight,
                            share,
                            pod: pods.get(&b.addr).and_then(|p| p.pod.clone()),
                            pod_node: pods.get(&b.addr).and_then(|p| p.node.clone()),
                            in_api: unread.is_none().then(|| want.contains(&b.addr)),
                            rule: Some(format!("line {}: {}", b.line, b.text)),
                        })
                        .collect(),
                    commands: commands(format.mode(), f, &f.backends),
                });
            }
        }
        if paths.len() == before {
            notes.push(format!(
                "{} ({}): no rule for {ns}/{name}",
                rs.source, rs.node
            ));
        }
    }

    if sets.is_empty() {
        let mode = proxy
            .configured_mode
            .as_deref()
            .or(proxy.running_modes.first().map(String::as_str))
            .unwrap_or("iptables");
        let mode = match mode {
            "ipvs" => Mode::Ipvs,
            "nftables" => Mode::Nftables,
            _ => Mode::Iptables,
        };
        for e in &ports {
            let mut entries: Vec<(Entry, Option<IpAddr>, u16)> = e
                .ips
                .iter()
                .map(|(k, ip)| (*k, Some(*ip), e.port))
                .collect();
            entries.extend(e.node_port.map(|np| (Entry::NodePort, None, np)));
            for (entry, ip, port) in entries {
                let node = scope.node.as_deref().unwrap_or("");
                let eps: Vec<&Ep> = e
                    .endpoints
                    .iter()
                    .filter(|x| ip.is_none_or(|i| i.is_ipv6() == x.addr.is_ipv6()))
                    .collect();
                let local = if entry == Entry::ClusterIp {
                    e.internal_local
                } else {
                    e.external_local
                };
                let eps: Vec<&Ep> = if local && !node.is_empty() {
                    eps.into_iter()
                        .filter(|x| x.node.as_deref() == Some(node))
                        .collect()
                } else {
                    eps
                };
                let n = eps.len();
                let iptables = mode == Mode::Iptables;
                let backends: Vec<Backend> = eps
                    .iter()
                    .enumerate()
                    .map(|(i, x)| Backend {
                        addr: x.addr,
                        // kube-proxy writes 1/(endpoints left), the last one unconditionally.
                        probability: (iptables && i + 1 < n).then(|| 1.0 / (n - i) as f64),
                        weight: (mode == Mode::Ipvs).then_some(1),
                        chain: iptables.then(|| e.sep_chain(&x.addr)),
                        line: 0,
                        text: String::new(),
                    })
                    .collect();
                let shares = parsed::shares(&backends);
                let chain = iptables.then(|| {
                    let h = chain_hash(&format!("{}{}", e.port_name, e.protocol));
                    if entry == Entry::ClusterIp {
                        format!("KUBE-{}-{h}", if local { "SVL" } else { "SVC" })
                    } else {
                        format!("KUBE-EXT-{h}")
                    }
                });
                let f = Frontend {
                    entry,
                    service: Some(e.port_name.clone()),
                    protocol: e.protocol.clone(),
                    ip,
                    port,
                    chain: chain.clone(),
                    reject: n == 0 && unread.is_none(),
                    backends: backends.clone(),
                    local_only: local,
                    line: 0,
                    text: String::new(),
                };
                paths.push(TracePath {
                    node: None,
                    observed: false,
                    source: "expected from the API (no rule dump given: --rules NODE=FILE)".into(),
                    mode: mode_name(mode).into(),
                    port_name: e.port_name.clone(),
                    entry: entry_name(entry).into(),
                    address: addr_label(ip, port, &e.protocol),
                    rule: None,
                    chain,
                    reject: n == 0 && unread.is_none(),
                    local_only: local,
                    hops: eps
                        .iter()
                        .zip(&backends)
                        .zip(shares)
                        .map(|((x, b), share)| TraceHop {
                            chain: b.chain.clone(),
                            endpoint: x.addr.to_string(),
                            probability: b.probability,
                            weight: b.weight,
                            share,
                            pod: x.pod.clone(),
                            pod_node: x.node.clone(),
                            in_api: None,
                            rule: None,
                        })
                        .collect(),
                    commands: commands(mode, &f, &backends),
                });
            }
        }
    }
    Ok(TraceAnswer {
        service: format!("{ns}/{name}"),
        entry: None,
        paths,
        notes,
    })
}

/// The Service `trace` follows and its ports (filtered by --port): an error names what is wrong.
pub fn target<'a>(
    c: &'a Cluster,
    scope: &Scope,
) -> Result<(&'a Service, Vec<Expected<'a>>), String> {
    let name = scope.service.as_deref().ok_or("trace needs a Service")?;
    let ns = scope.namespace.as_deref().unwrap_or("default");
    let unread = c
        .error_for(crate::model::what::SERVICES)
        .map(|e| format!(" (Services could not be read: {})", e.reason))
        .unwrap_or_default();
    let svc = c
        .services
        .iter()
        .find(|s| s.metadata.ns() == ns && s.metadata.name == name)
        .ok_or_else(|| format!("service {ns}/{name} not found{unread}; expected NAMESPACE/NAME or NAME with -n NAMESPACE"))?;
    if !proxied(svc) {
        return Err(format!(
            "service {ns}/{name} has no rules to trace: {}",
            if svc.kind() == "ExternalName" {
                "it is an ExternalName (a DNS alias)"
            } else if svc.headless() {
                "it is headless (DNS gives the pods' addresses)"
            } else {
                "another proxy handles it (service-proxy-name label)"
            }
        ));
    }
    let ports: Vec<Expected> = expected(c)
        .into_iter()
        .filter(|e| std::ptr::eq(e.service, svc))
        .filter(|e| {
            scope.port.as_deref().is_none_or(|p| {
                e.port.to_string() == p || e.port_name.rsplit_once(':').is_some_and(|(_, n)| n == p)
            })
        })
        .collect();
    if ports.is_empty() {
        let have: Vec<String> = svc
            .spec
            .ports
            .iter()
            .map(|p| {
                p.name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .map(|n| format!("{n} ({})", p.port))
                    .unwrap_or_else(|| p.port.to_string())
            })
            .collect();
        return Err(format!(
            "service {ns}/{name} has no port {}; it has {}",
            scope.port.as_deref().unwrap_or("?"),
            if have.is_empty() {
                "none".into()
            } else {
                have.join(", ")
            }
        ));
    }
    Ok((svc, ports))
}

/// Whether an entry of a dump is one of this Service port's. ipvs names no Service: its
/// virtual servers match by address, a NodePort by its port on an address no Service has.
fn matches_port(f: &Frontend, e: &Expected, service_ips: &HashSet<IpAddr>) -> bool {
    if f.protocol != e.protocol {
        return false;
    }
    match (&f.service, f.ip) {
        (Some(s), _) => *s == e.port_name,
        (None, Some(ip)) => {
            e.ips.iter().any(|(_, x)| *x == ip) && f.port == e.port
                || e.node_port == Some(f.port) && !service_ips.contains(&ip)
        }
        (None, None) => e.node_port == Some(f.port),
    }
}

/// The kind of an entry as the API has it.
fn api_entry(f: &Frontend, e: &Expected, service_ips: &HashSet<IpAddr>) -> Entry {
    match f.ip {
        Some(ip) if f.port == e.port => e
            .ips
            .iter()
            .find(|(_, x)| *x == ip)
            .map(|(k, _)| *k)
            .unwrap_or(f.entry),
        Some(ip) if e.node_port == Some(f.port) && !service_ips.contains(&ip) => Entry::NodePort,
        None if e.node_port == Some(f.port) => Entry::NodePort,
        _ => f.entry,
    }
}

/// The commands that show each hop by hand.
fn commands(mode: Mode, f: &Frontend, backends: &[Backend]) -> Vec<String> {
    let v6 =
        f.ip.is_some_and(|i| i.is_ipv6()) || backends.first().is_some_and(|b| b.addr.is_ipv6());
    match mode {
        Mode::Iptables => {
            let ipt = if v6 { "ip6tables" } else { "iptables" };
            let entry_chain = if f.entry == Entry::NodePort {
                "KUBE-NODEPORTS"
            } else {
                "KUBE-SERVICES"
            };
            let mut out = vec![format!(
                "{ipt} -t nat -L {entry_chain} -n --line-numbers | grep -e '{}'",
                f.service.as_deref().unwrap_or("")
            )];
            if let Some(ch) = &f.chain {
                out.push(format!("{ipt} -t nat -L {ch} -n --line-numbers"));
                if let Some(h) = ch.strip_prefix("KUBE-EXT-") {
                    out.push(format!("{ipt} -t nat -L KUBE-SVC-{h} -n --line-numbers"));
                }
            }
            out.extend(
                backends
                    .iter()
                    .filter_map(|b| b.chain.as_ref())
                    .map(|ch| format!("{ipt} -t nat -L {ch} -n --line-numbers")),
            );
            if f.reject {
                out.push(format!(
                    "{ipt} -t filter -L KUBE-SERVICES -n --line-numbers"
                ));
            }
            out
        }
        Mode::Ipvs => {
            let flag = match f.protocol.as_str() {
                "udp" => "-u",
                "sctp" => "--sctp-service",
                _ => "-t",
            };
            match f.ip {
                Some(IpAddr::V6(ip)) => vec![format!("ipvsadm -Ln {flag} [{ip}]:{}", f.port)],
                Some(ip) => vec![format!("ipvsadm -Ln {flag} {ip}:{}", f.port)],
                None => vec![
                    format!(
                        "ipvsadm -Ln | grep -A{} ':{} '",
                        backends.len().max(1),
                        f.port
                    ),
                    "ip -brief addr show kube-ipvs0".into(),
                ],
            }
        }
        Mode::Nftables => {
            let fam = if v6 { "ip6" } else { "ip" };
            let mut out = vec![format!(
                "nft list map {fam} kube-proxy {} | grep -e '{}'",
                match (f.entry == Entry::NodePort, f.reject) {
                    (true, false) => "service-nodeports",
                    (false, false) => "service-ips",
                    (true, true) => "no-endpoint-nodeports",
                    (false, true) => "no-endpoint-services",
                },
                f.ip.map(|i| i.to_string())
                    .unwrap_or_else(|| f.port.to_string())
            )];
            out.extend(
                f.chain
                    .iter()
                    .map(|ch| format!("nft list chain {fam} kube-proxy {ch}")),
            );
            out.extend(
                backends
                    .iter()
                    .filter_map(|b| b.chain.as_ref())
                    .map(|ch| format!("nft list chain {fam} kube-proxy {ch}")),
            );
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::chain_hash;

    /// The chain names of seed 004's listing, printed by kube-proxy on minikube.
    #[test]
    fn hashes_are_kube_proxys() {
        assert_eq!(chain_hash("default/my-servicetcp"), "FXIYY6OHUSNBITIX");
        assert_eq!(
            chain_hash("default/my-servicetcp10.244.2.4:80"),
            "BENFWTFL3RRJWBIC"
        );
        assert_eq!(
            chain_hash("default/my-servicetcp10.244.1.3:80"),
            "WGKLWVVFG4NQGKEX"
        );
        assert_eq!(
            chain_hash("kube-system/kube-dns:dnsudp"),
            "TCOU7JCQXEZGVUNU"
        );
        assert_eq!(
            chain_hash("default/kubernetes:httpstcp"),
            "NPX46M4PTMTKRN6Y"
        );
    }
}
