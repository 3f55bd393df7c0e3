//! Address capacity (#18): node podCIDR slots of the cluster CIDR, a CNI's own pool, each
//! node's podCIDR against its pods and maxPods, ClusterIPs and NodePorts against their ranges,
//! and the failures already observed (CIDRNotAvailable, IP-allocation errors in events).

use super::{cidrs, cni, components, services};
use crate::cidr;
use crate::model::*;
use crate::parse::{config, flags};
use crate::report::*;
use ipnet::IpNet;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// kube-controller-manager's --node-cidr-mask-size defaults (also kubeadm's and k3s's).
const NODE_MASK_V4: u8 = 24;
const NODE_MASK_V6: u8 = 64;
/// Calico's default IPPool blockSize.
const CALICO_BLOCK_V4: u8 = 26;
const CALICO_BLOCK_V6: u8 = 122;
/// cilium-config's cluster-pool-ipv4-mask-size default.
const CILIUM_MASK_V4: u8 = 24;
const CILIUM_MASK_V6: u8 = 64;

/// What CNI IPAM plugins say, in a FailedCreatePodSandBox event, when they ran out of addresses.
const EXHAUSTED: &[(&str, &str)] = &[
    ("no IP addresses available in range set", "host-local"),
    ("IPAM allocated only", "calico"),
    ("pools are likely exhausted", "calico"),
    ("per host block limit", "calico"),
    ("range is full", "cilium"),
    ("failed to assign an IP address to container", "aws-vpc-cni"),
];

pub fn discover(c: &Cluster, a: &CidrAnswer) -> CapacityAnswer {
    let ev = Events::new(c);
    let mut out = CapacityAnswer::default();
    node_slots(c, a, &ev, &mut out);
    cni_pool(c, a, &ev, &mut out);
    nodes(c, a, &ev, &mut out);
    service_ips(c, a, &mut out);
    node_ports(c, a, &mut out);
    out
}

/// The failures events show: nodes the IPAM controller found no podCIDR for, and pods whose
/// sandbox got no address, by node.
pub struct Events {
    pub cidr_not_available: Vec<(String, String)>,
    pub exhausted: HashMap<String, Vec<String>>,
    /// The CNIs whose IPAM said it (host-local, calico, ...).
    pub exhausted_by: BTreeSet<&'static str>,
}

impl Events {
    pub fn new(c: &Cluster) -> Events {
        let mut e = Events {
            cidr_not_available: vec![],
            exhausted: HashMap::new(),
            exhausted_by: BTreeSet::new(),
        };
        // Built only when an event needs it: most clusters have none, and it spans every pod.
        let mut pod_node: Option<HashMap<(&str, PodRef), &str>> = None;
        for x in &c.events {
            let said = format!(
                "event {}: {} (x{}): {}",
                x.subject(),
                x.reason,
                x.times(),
                x.message
            );
            let o = &x.involved_object;
            if x.reason == CIDR_NOT_AVAILABLE && o.kind == "Node" {
                e.cidr_not_available.push((o.name.clone(), said));
            } else if x.reason == SANDBOX_FAILED {
                let Some((_, by)) = EXHAUSTED.iter().find(|(m, _)| x.message.contains(m)) else {
                    continue;
                };
                let ns = o.namespace.as_deref().unwrap_or("");
                let node = x
                    .source
                    .as_ref()
                    .and_then(|s| s.host.as_deref())
                    .or_else(|| {
                        pod_node
                            .get_or_insert_with(|| pods_by_name(c))
                            .get(&(ns, o.name.as_str().into()))
                            .copied()
                    })
                    .unwrap_or("(unknown node)");
                e.exhausted.entry(node.to_string()).or_default().push(said);
                e.exhausted_by.insert(by);
            }
        }
        e
    }
}

fn pods_by_name(c: &Cluster) -> HashMap<(&str, PodRef<'_>), &str> {
    c.pods
        .iter()
        .filter_map(|p| {
            Some((
                (p.metadata.ns(), p.name().into()),
                p.spec.node_name.as_deref()?,
            ))
        })
        .chain(
            c.workload_pods
                .iter()
                .filter(|w| !w.node.is_empty())
                .map(|w| ((&*w.namespace, (&w.name).into()), &*w.node)),
        )
        .collect()
}

fn size(net: &IpNet, unit: u8) -> u64 {
    let bits = unit.saturating_sub(net.prefix_len()) as u32;
    1u64.checked_shl(bits)
        .filter(|_| bits < 64)
        .unwrap_or(u64::MAX)
}

fn usage(kind: &str, what: String, range: String, unit: String, total: u64, used: u64) -> Usage {
    Usage {
        kind: kind.into(),
        what,
        range,
        unit,
        total,
        used,
        free: total.saturating_sub(used),
        percent: percent(used, total),
        evidence: vec![],
        static_band: None,
        waiting: vec![],
        failures: vec![],
    }
}

/// The values, sorted, each once: a sorted list, not a B-tree, for the 10,000 ClusterIPs and
/// 5,000 podCIDRs of a big cluster (callgrind: the B-trees 15 M instructions).
fn distinct<T: Ord>(v: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = v.collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn max_len(net: &IpNet) -> u8 {
    net.max_prefix_len()
}

/// Running (not finished), non-hostNetwork pods' addresses with their nodes.
fn pod_ips(c: &Cluster) -> impl Iterator<Item = (&str, IpAddr)> {
    let full = c
        .pods
        .iter()
        .filter(|p| !p.spec.host_network && !p.finished())
        .flat_map(|p| {
            let node = p.spec.node_name.as_deref().unwrap_or("");
            p.ips()
                .into_iter()
                .filter_map(cidr::parse_ip)
                .map(move |ip| (node, ip))
        });
    let reduced = c
        .workload_pods
        .iter()
        .filter(|w| !w.host_network && !w.finished)
        .flat_map(|w| w.ips.iter().map(move |ip| (&*w.node, *ip)));
    full.chain(reduced)
}

// ---------------- node slots ----------------

/// The node mask: kube-controller-manager's flag (or k3s's pass-through, or OpenShift's
/// hostPrefix), else the podCIDR length the nodes have, else the documented default.
fn node_mask(c: &Cluster, net: &IpNet, src: &Source) -> (u8, String) {
    let v6 = matches!(net, IpNet::V6(_));
    let names: &[&str] = if v6 {
        &["node-cidr-mask-size-ipv6", "node-cidr-mask-size"]
    } else {
        &["node-cidr-mask-size-ipv4", "node-cidr-mask-size"]
    };
    let parse = |v: &str| v.trim().parse::<u8>().ok();
    for inv in components::invocations(c, "kube-controller-manager") {
        for n in names {
            if let Some(m) = inv.flag(n).and_then(|h| Some((parse(&h.value)?, h.text))) {
                return (m.0, format!("{}: {}", inv.origin, m.1));
            }
        }
    }
    let kubeadm = c
        .config_map("kube-system", "kubeadm-config")
        .and_then(|m| m.data.get("ClusterConfiguration"))
        .and_then(|t| config::cluster_configuration(t).ok());
    if let Some(cc) = kubeadm {
        for n in names {
            if let Some(m) = cc.controller_manager.extra_args.get(n).and_then(parse) {
                return (m, format!("configmap kube-system/kubeadm-config: ClusterConfiguration controllerManager.extraArgs {n}: {m}"));
            }
        }
    }
    if let Some((flavour, _)) = cni::k3s_flavour(c) {
        let key = format!("{flavour}.io/node-args");
        for n in &c.nodes {
            let Some(args) = n.metadata.annotations.get(&key) else {
                continue;
            };
            let Ok(args) = config::node_args(args) else {
                continue;
            };
            for name in names {
                if let Some(h) = flags::passthrough(&args, "kube-controller-manager-arg", name) {
                    if let Some(m) = parse(&h.value) {
                        return (m, format!("node {} annotation {key}: {}", n.name(), h.text));
                    }
                }
            }
        }
    }
    if src.id == SourceId::OpenshiftNetwork {
        if let Some(m) = src
            .evidence
            .split("hostPrefix /")
            .nth(1)
            .and_then(|r| parse(r.split(|c: char| !c.is_ascii_digit()).next()?))
        {
            return (m, src.evidence.clone());
        }
    }
    let mut lens: HashMap<u8, (usize, String)> = HashMap::new();
    for (node, p) in cidrs::node_pod_cidrs(c) {
        if cidr::same_family(&p, net) && net.contains(&p) {
            let e = lens.entry(p.prefix_len()).or_insert((0, node.to_string()));
            e.0 += 1;
        }
    }
    if let Some((len, (n, eg))) = lens.into_iter().max_by_key(|(l, (n, _))| (*n, *l)) {
        return (
            len,
            format!("inferred: {n} node podCIDR(s) of /{len} (e.g. node {eg}); no --node-cidr-mask-size visible"),
        );
    }
    let d = if v6 { NODE_MASK_V6 } else { NODE_MASK_V4 };
    (
        d,
        format!("kube-controller-manager's default --node-cidr-mask-size /{d} (no flag visible)"),
    )
}

fn node_slots(c: &Cluster, a: &CidrAnswer, ev: &Events, out: &mut CapacityAnswer) {
    let uses_podcidrs =
        a.cni.ipam == "node-podcidrs" || a.pod_cidr.chosen == Some(SourceId::OpenshiftNetwork);
    if !uses_podcidrs {
        return;
    }
    let Some(src) = cidrs::cluster_cidr(&a.pod_cidr) else {
        out.unknown.push(Unknown {
            what: "node slots".into(),
            why: format!(
                "no source netcheck could read states the cluster CIDR that node podCIDRs are carved from (pod range: {})",
                a.pod_cidr.why
            ),
        });
        return;
    };
    let node_cidrs = cidrs::node_pod_cidrs(c);
    for net in &src.cidrs {
        let (mask, mask_ev) = node_mask(c, net, src);
        if mask < net.prefix_len() || mask > max_len(net) {
            out.unknown.push(Unknown {
                what: format!("node slots of {net}"),
                why: format!("the node mask /{mask} does not fit in {net} ({mask_ev})"),
            });
            continue;
        }
        let used = distinct(
            node_cidrs
                .iter()
                .filter(|(_, p)| cidr::same_family(p, net) && net.contains(p))
                .map(|(_, p)| *p),
        );
        let mut u = usage(
            "node-slots",
            "pod range".into(),
            net.to_string(),
            format!("node slots of /{mask}"),
            size(net, mask),
            used.len() as u64,
        );
        u.evidence = vec![format!("{}: {}", src.id.name(), src.evidence), mask_ev];
        u.waiting = c
            .nodes
            .iter()
            .filter(|n| !n.pod_nets().iter().any(|p| cidr::same_family(p, net)))
            .map(|n| format!("node {}", n.name()))
            .collect();
        u.failures = ev
            .cidr_not_available
            .iter()
            .map(|(_, s)| s.clone())
            .collect();
        out.ranges.push(u);
    }
}

// ---------------- the CNI's own pool ----------------

fn cni_pool(c: &Cluster, a: &CidrAnswer, ev: &Events, out: &mut CapacityAnswer) {
    let failures = |by: &str| -> Vec<String> {
        if !ev.exhausted_by.contains(by) {
            return vec![];
        }
        let mut v: Vec<String> = ev.exhausted.values().flatten().cloned().collect();
        v.sort();
        v
    };
    // Only the CNIs with a pool of their own need every pod address.
    let all_ips = || -> Vec<IpAddr> { pod_ips(c).map(|(_, ip)| ip).collect() };
    match a.cni.name.as_str() {
        "calico" => {
            let affinities: Vec<IpNet> = c
                .objects_of(&CALICO_BLOCK_AFFINITY)
                .filter(|o| o.spec.get("state").and_then(|s| s.as_str()) != Some("deleted"))
                .filter_map(|o| cidr::parse(o.spec.get("cidr")?.as_str()?).ok())
                .collect();
            let affinity_err = c.error_for(&what::object(&CALICO_BLOCK_AFFINITY, None));
            let ips = all_ips();
            for p in c.ip_pools.iter().filter(|p| p.spec.disabled != Some(true)) {
                let Ok(net) = cidr::parse(&p.spec.cidr) else {
                    continue;
                };
                let v6 = matches!(net, IpNet::V6(_));
                let default = if v6 { CALICO_BLOCK_V6 } else { CALICO_BLOCK_V4 };
                let block = p.spec.block_size.unwrap_or(default);
                if block < net.prefix_len() || block > max_len(&net) {
                    out.unknown.push(Unknown {
                        what: format!("calico pool {}", p.metadata.name),
                        why: format!("blockSize /{block} does not fit in {net}"),
                    });
                    continue;
                }
                let block_ev = match p.spec.block_size {
                    Some(b) => format!("ippool {}: spec.blockSize {b}", p.metadata.name),
                    None => format!("ippool {} sets no blockSize: calico default /{default}", p.metadata.name),
                };
                let (blocks, how) = if affinity_err.is_none() && !affinities.is_empty() {
                    let n = affinities.iter().filter(|b| net.contains(*b)).count();
                    (n, format!("{n} blockaffinities.crd.projectcalico.org claim blocks in it"))
                } else {
                    let held: BTreeSet<IpNet> = ips
                        .iter()
                        .filter(|ip| net.contains(*ip))
                        .filter_map(|ip| IpNet::new(*ip, block).ok().map(|b| b.trunc()))
                        .collect();
                    let why = match affinity_err {
                        Some(e) => format!("blockaffinities unreadable: {}", e.reason),
                        None => "no blockaffinities.crd.projectcalico.org read".into(),
                    };
                    (held.len(), format!("at least {}: blocks holding a pod IP ({why})", held.len()))
                };
                let what = format!("calico pool {}", p.metadata.name);
                let mut u = usage(
                    "pool-blocks",
                    what.clone(),
                    net.to_string(),
                    format!("blocks of /{block}"),
                    size(&net, block),
                    blocks as u64,
                );
                u.evidence = vec![format!("ippool {}: spec.cidr {}", p.metadata.name, p.spec.cidr), block_ev, how];
                u.failures = failures("calico");
                out.ranges.push(u);
                let used = ips.iter().filter(|ip| net.contains(*ip)).count() as u64;
                let mut u = usage(
                    "pool-addresses",
                    what,
                    net.to_string(),
                    "addresses".into(),
                    size(&net, max_len(&net)),
                    used,
                );
                u.evidence = vec![format!("{used} running pod IP(s) inside it")];
                u.failures = failures("calico");
                out.ranges.push(u);
            }
        }
        "cilium" if a.pod_cidr.chosen.is_some_and(|s| matches!(s, SourceId::CiliumConfig | SourceId::CiliumDefault)) => {
            let cm = c
                .config_map("kube-system", "cilium-config")
                .or_else(|| c.config_map("cilium", "cilium-config"));
            let ips = all_ips();
            for net in &a.pod_cidr.cidrs {
                let v6 = matches!(net, IpNet::V6(_));
                let key = if v6 { "cluster-pool-ipv6-mask-size" } else { "cluster-pool-ipv4-mask-size" };
                let (mask, mask_ev) = match cm.and_then(|m| Some((m.metadata.ns(), m.data.get(key)?))) {
                    Some((ns, v)) => match v.trim().parse::<u8>() {
                        Ok(m) => (m, format!("configmap {ns}/cilium-config: {key}={v}")),
                        Err(_) => {
                            out.unknown.push(Unknown {
                                what: format!("cilium cluster-pool {net}"),
                                why: format!("configmap {ns}/cilium-config: {key}={v} is not a prefix length"),
                            });
                            continue;
                        }
                    },
                    None => {
                        let d = if v6 { CILIUM_MASK_V6 } else { CILIUM_MASK_V4 };
                        (d, format!("no {key} in cilium-config: cilium default /{d}"))
                    }
                };
                if mask < net.prefix_len() || mask > max_len(net) {
                    continue;
                }
                let held: BTreeSet<IpNet> = ips
                    .iter()
                    .filter(|ip| net.contains(*ip))
                    .filter_map(|ip| IpNet::new(*ip, mask).ok().map(|b| b.trunc()))
                    .collect();
                let mut u = usage(
                    "node-slots",
                    "cilium cluster-pool".into(),
                    net.to_string(),
                    format!("node slots of /{mask}"),
                    size(net, mask),
                    held.len() as u64,
                );
                u.evidence = vec![
                    a.pod_cidr.why.clone(),
                    mask_ev,
                    format!("at least {}: node slices holding a pod IP (CiliumNode objects are not read)", held.len()),
                ];
                u.failures = failures("cilium");
                out.ranges.push(u);
            }
        }
        "weave" => {
            let ips = all_ips();
            for net in &a.pod_cidr.cidrs {
                let used = ips.iter().filter(|ip| net.contains(*ip)).count() as u64;
                let mut u = usage(
                    "pool-addresses",
                    "weave range".into(),
                    net.to_string(),
                    "addresses".into(),
                    size(net, max_len(net)),
                    used,
                );
                u.evidence = vec![
                    a.pod_cidr.why.clone(),
                    "weave shares one range among all nodes, handed out in pieces as needed".into(),
                ];
                u.failures = failures("host-local");
                out.ranges.push(u);
            }
        }
        _ if a.cni.ipam == "vpc" => out.unknown.push(Unknown {
            what: "pod addresses".into(),
            why: format!(
                "{} gives pods addresses of the cloud subnets, whose free counts the Kubernetes API does not show",
                a.cni.name
            ),
        }),
        _ if a.cni.ipam == "own-range" => out.unknown.push(Unknown {
            what: "pod addresses".into(),
            why: format!("netcheck does not count {}'s own pool", a.cni.name),
        }),
        _ => {}
    }
}

// ---------------- per node ----------------

/// Addresses host-local hands out of a node's podCIDR: all but the network address, the
/// gateway (.1, the bridge) and, for IPv4, the broadcast address.
fn host_local_usable(net: &IpNet) -> u64 {
    let reserved = if matches!(net, IpNet::V4(_)) { 3 } else { 2 };
    size(net, max_len(net)).saturating_sub(reserved)
}

fn nodes(c: &Cluster, a: &CidrAnswer, ev: &Events, out: &mut CapacityAnswer) {
    let podcidrs = a.cni.ipam == "node-podcidrs";
    // Each node's podCIDRs; the first listed (the primary family's) bounds the node.
    let nets: Vec<Vec<IpNet>> = c.nodes.iter().map(Node::pod_nets).collect();
    // Looked up once a pod: Fx, not SipHash (perf, issue #20).
    let index: FastMap<&str, usize> = c
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name(), i))
        .collect();
    // Per node: addresses inside its primary podCIDR, and IPv4 addresses at all.
    let mut counts = vec![(0u64, 0u64); c.nodes.len()];
    // Each node's place found once per copy of its name (see `text_key`).
    let mut at: FastMap<(usize, usize), Option<usize>> = FastMap::default();
    for (node, ip) in pod_ips(c) {
        let place = at.entry(text_key(node));
        if let Some(i) = *place.or_insert_with(|| index.get(node).copied()) {
            counts[i].0 += u64::from(nets[i].first().is_some_and(|p| p.contains(&ip)));
            counts[i].1 += u64::from(ip.is_ipv4());
        }
    }
    for (i, n) in c.nodes.iter().enumerate() {
        let nets = &nets[i];
        let primary = nets.first().filter(|_| podcidrs);
        let (usable, used) = match primary {
            Some(p) => (Some(host_local_usable(p)), counts[i].0),
            None => (None, counts[i].1),
        };
        // What the node's pods take addresses from: its podCIDRs, or its Calico blocks.
        let from: Vec<String> = if podcidrs {
            nets.iter().map(IpNet::to_string).collect()
        } else {
            c.objects_of(&CALICO_BLOCK_AFFINITY)
                .filter(|o| o.spec.get("node").and_then(|v| v.as_str()) == Some(n.name()))
                .filter_map(|o| Some(o.spec.get("cidr")?.as_str()?.to_string()))
                .collect()
        };
        out.nodes.push(NodeUsage {
            node: n.name().into(),
            pod_cidrs: from,
            usable,
            used,
            percent: usable.map(|u| percent(used, u)),
            max_pods: n.status.capacity.max_pods(),
            failures: ev.exhausted.get(n.name()).cloned().unwrap_or_default(),
        });
    }
}

// ---------------- Services ----------------

/// The addresses the ClusterIP allocator hands out: all but the network address and, for
/// IPv4, the broadcast address.
fn service_usable(net: &IpNet) -> u64 {
    let reserved = if matches!(net, IpNet::V4(_)) { 2 } else { 1 };
    size(net, max_len(net)).saturating_sub(reserved)
}

/// The lower band kept for static ClusterIPs: min(max(16, size/16), 256) addresses from the
/// first usable one (KEP-3070, the ServiceIPStaticSubrange allocator).
fn static_band(net: &IpNet) -> String {
    let offset = (size(net, max_len(net)) / 16).clamp(16, 256);
    let first = net.network();
    let nth = |k: u64| -> String {
        match first {
            IpAddr::V4(a) => {
                std::net::Ipv4Addr::from(u32::from(a).wrapping_add(k as u32)).to_string()
            }
            IpAddr::V6(a) => {
                std::net::Ipv6Addr::from(u128::from(a).wrapping_add(k as u128)).to_string()
            }
        }
    };
    format!("{}-{}", nth(1), nth(offset.min(service_usable(net))))
}

fn service_ips(c: &Cluster, a: &CidrAnswer, out: &mut CapacityAnswer) {
    let fact = &a.service_cidr;
    if fact.status != FactStatus::Known {
        out.unknown.push(Unknown {
            what: "ClusterIPs".into(),
            why: format!(
                "the service range is {:?}, not known: {}",
                fact.status, fact.why
            )
            .to_lowercase(),
        });
        return;
    }
    if c.error_for(what::SERVICES).is_some() {
        out.unknown.push(Unknown {
            what: "ClusterIPs".into(),
            why: "the Services could not be read".into(),
        });
        return;
    }
    let ips = distinct(
        c.services
            .iter()
            .flat_map(Service::ips)
            .filter_map(cidr::parse_ip),
    );
    let chosen = fact
        .found()
        .find(|s| Some(s.id) == fact.chosen)
        .map(|s| format!("{}: {}", s.id.name(), s.evidence));
    // The allocator's own record (1.33+): what it holds, Services or not.
    let held = distinct(
        c.ip_addresses
            .iter()
            .filter_map(|a| cidr::parse_ip(&a.metadata.name)),
    );
    for net in &fact.cidrs {
        let by_services = ips.iter().filter(|ip| net.contains(*ip)).count() as u64;
        let in_net: Vec<&IpAddr> = held.iter().filter(|ip| net.contains(*ip)).collect();
        let what = c
            .service_cidrs
            .iter()
            .find(|s| {
                s.spec
                    .cidrs
                    .iter()
                    .any(|x| cidr::parse(x).ok() == Some(*net))
            })
            .map_or("service range".to_string(), |s| {
                format!("servicecidr {}", s.metadata.name)
            });
        let mut evidence: Vec<String> = chosen.iter().cloned().collect();
        evidence.push(format!(
            "{by_services} distinct ClusterIP(s) of {} Service(s) inside it",
            c.services.len()
        ));
        let used = if in_net.is_empty() {
            by_services
        } else {
            let orphans: Vec<String> = in_net
                .iter()
                .filter(|ip| ips.binary_search(ip).is_err())
                .map(|ip| ip.to_string())
                .collect();
            evidence.push(format!(
                "{} IPAddress object(s) (networking.k8s.io/v1) allocated inside it{}",
                in_net.len(),
                match orphans.first() {
                    Some(eg) => format!("; {} held by no Service (e.g. {eg})", orphans.len()),
                    None => String::new(),
                }
            ));
            in_net.len() as u64
        };
        let mut u = usage(
            "service-ips",
            what,
            net.to_string(),
            "ClusterIPs".into(),
            service_usable(net),
            used,
        );
        u.evidence = evidence;
        u.static_band = Some(static_band(net));
        out.ranges.push(u);
    }
}

fn node_ports(c: &Cluster, a: &CidrAnswer, out: &mut CapacityAnswer) {
    let (range, bounds) = services::node_port_range(c, &a.platform);
    let Some((lo, hi)) = bounds else {
        out.unknown.push(Unknown {
            what: "NodePorts".into(),
            why: range.evidence,
        });
        return;
    };
    if c.error_for(what::SERVICES).is_some() {
        return;
    }
    let used = distinct(
        c.services
            .iter()
            .flat_map(|s| {
                s.spec
                    .ports
                    .iter()
                    .filter_map(|p| p.node_port)
                    .chain(s.spec.health_check_node_port)
            })
            .filter(|p| (lo..=hi).contains(p)),
    );
    let mut u = usage(
        "node-ports",
        "node-port range".into(),
        format!("{lo}-{hi}"),
        "ports".into(),
        (hi - lo + 1).max(0) as u64,
        used.len() as u64,
    );
    u.evidence = vec![
        range.evidence,
        format!(
            "{} distinct nodePort/healthCheckNodePort number(s) in use",
            used.len()
        ),
    ];
    out.ranges.push(u);
}
