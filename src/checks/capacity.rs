//! Capacity checks (#18): ranges near full or full, nodes out of pod addresses, maxPods above
//! a podCIDR, duplicate pod IPs, NetworkUnavailable nodes, and version skew.

use super::{finding, Ctx, MAX_SUBJECTS};
use crate::model::{Node, Pod};
use crate::report::{Finding, Severity, Usage};
use std::collections::BTreeMap;

/// Used share at which a range is reported as a warning.
pub const WARN_PERCENT: u32 = 80;

fn limited(mut f: Finding, subjects: Vec<String>) -> Finding {
    f.count = Some(subjects.len());
    f.subjects = subjects.into_iter().take(MAX_SUBJECTS).collect();
    f
}

/// The one-line figure the text output prints too.
pub fn line(u: &Usage) -> String {
    format!(
        "{} {}: {} {}, {} used, {} free ({}%)",
        u.what, u.range, u.total, u.unit, u.used, u.free, u.percent
    )
}

fn hint(kind: &str) -> &'static str {
    match kind {
        "node-slots" => "each new node needs a free slot for its podCIDR: widen the cluster CIDR (kube-controller-manager --cluster-cidr, a new range on a new cluster in most distributions) or lower --node-cidr-mask-size; a node without one gets CIDRNotAvailable and its pods never start",
        "pool-blocks" => "add an IPPool (or widen this one) or use a smaller blockSize for new pools; nodes that cannot claim a block borrow addresses from other nodes' blocks, or fail with strictAffinity",
        "pool-addresses" => "add an IPPool or a wider range: new pods fail in sandbox creation once no address is left",
        "service-ips" => "Service creates fail once the range is full: add a ServiceCIDR (Kubernetes 1.33+) or plan a wider --service-cluster-ip-range; delete unused Services",
        _ => "Service creates with a NodePort fail once the range is full: widen --service-node-port-range or use ClusterIP Services behind an Ingress",
    }
}

pub fn ranges(c: &Ctx) -> Vec<Finding> {
    let Some(cap) = c.capacity else {
        return vec![];
    };
    cap.ranges
        .iter()
        .filter(|u| u.percent >= WARN_PERCENT || u.full() || !u.failures.is_empty())
        .map(|u| {
            let failed = !u.failures.is_empty();
            let sev = if u.full() || failed {
                Severity::Error
            } else {
                Severity::Warning
            };
            let state = match (u.full(), failed) {
                (true, _) => "full",
                (false, true) => "failing",
                _ => "nearly full",
            };
            let mut f = finding(
                &format!("capacity-{}", u.kind),
                sev,
                format!("{} is {state}: {}", u.what, line(u)),
                hint(&u.kind),
            );
            f.ranges = vec![u.range.clone()];
            f.evidence = u.evidence.iter().chain(&u.failures).cloned().collect();
            limited(f, u.waiting.clone())
        })
        .collect()
}

pub fn nodes(c: &Ctx) -> Vec<Finding> {
    let Some(cap) = c.capacity else {
        return vec![];
    };
    let mut hot: Vec<_> = cap
        .nodes
        .iter()
        .filter(|n| n.percent.is_some_and(|p| p >= WARN_PERCENT))
        .collect();
    if hot.is_empty() {
        return vec![];
    }
    hot.sort_by_key(|n| std::cmp::Reverse(n.percent));
    let full = hot.iter().any(|n| n.usable.is_some_and(|u| n.used >= u));
    let f = finding(
        "capacity-node-pods",
        if full { Severity::Error } else { Severity::Warning },
        format!(
            "{} node(s) have used {WARN_PERCENT}% or more of their podCIDR's addresses",
            hot.len()
        ),
        "pods scheduled there fail in sandbox creation once the podCIDR is used up: lower the kubelet's maxPods to what the podCIDR holds, or give nodes larger podCIDRs (a smaller --node-cidr-mask-size)",
    );
    let subjects = hot
        .iter()
        .map(|n| {
            format!(
                "node {} {}: {} of {} addresses ({}%)",
                n.node,
                n.pod_cidrs.first().map(String::as_str).unwrap_or("-"),
                n.used,
                n.usable.unwrap_or(0),
                n.percent.unwrap_or(0)
            )
        })
        .collect();
    vec![limited(f, subjects)]
}

pub fn max_pods(c: &Ctx) -> Vec<Finding> {
    let Some(cap) = c.capacity else {
        return vec![];
    };
    let over: Vec<String> = cap
        .nodes
        .iter()
        .filter_map(|n| {
            let (m, u) = (n.max_pods?, n.usable?);
            (m > u).then(|| {
                format!(
                    "node {} maxPods {m} > {u} usable addresses of {}",
                    n.node,
                    n.pod_cidrs.first().map(String::as_str).unwrap_or("-")
                )
            })
        })
        .collect();
    if over.is_empty() {
        return vec![];
    }
    let f = finding(
        "capacity-maxpods-over-podcidr",
        Severity::Warning,
        format!(
            "{} node(s) may be given more pods (kubelet maxPods) than their podCIDR has addresses",
            over.len()
        ),
        "the scheduler places up to maxPods pods on a node; past the podCIDR's addresses they fail with 'no IP addresses available'. Set the kubelet's maxPods to at most the usable addresses, or use a smaller --node-cidr-mask-size",
    );
    vec![limited(f, over)]
}

pub fn ip_allocation_failed(c: &Ctx) -> Vec<Finding> {
    if c.capacity.is_none() {
        return vec![];
    }
    // From the events themselves: a node that is not (or no longer) in the node list, or an
    // event whose node is unknown, still counts.
    let events = crate::discover::capacity::Events::new(c.cluster);
    if events.exhausted.is_empty() {
        return vec![];
    }
    let by_node: BTreeMap<&str, &Vec<String>> = events
        .exhausted
        .iter()
        .map(|(n, v)| (n.as_str(), v))
        .collect();
    let subjects = by_node
        .iter()
        .map(|(n, v)| match *n {
            "(unknown node)" => format!("node unknown: {} event(s)", v.len()),
            n => format!("node {n}: {} event(s)", v.len()),
        })
        .collect();
    let mut all: Vec<&String> = by_node.values().copied().flatten().collect();
    all.sort();
    let mut f = finding(
        "ip-allocation-failed",
        Severity::Error,
        format!(
            "pods could not get an address ({} event(s) of IP exhaustion, {})",
            all.len(),
            events
                .exhausted_by
                .iter()
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "the CNI's IPAM has no address left for new pods there: see the node's podCIDR or the pool above; pods stay in ContainerCreating until addresses free up",
    );
    f.evidence = all.into_iter().take(MAX_SUBJECTS).cloned().collect();
    vec![limited(f, subjects)]
}

pub fn duplicate_pod_ips(c: &Ctx) -> Vec<Finding> {
    // The addresses sorted as integers (4 bytes an IPv4 pod on a big cluster; an IpAddr sorted
    // at a third of the speed, and (address, position) pairs at half: perf and callgrind,
    // issue #20); the pods are walked again only when some address is held twice.
    let running = || c.cluster.pod_addresses().filter(|a| !a.finished);
    let (mut v4, mut v6): (Vec<u32>, Vec<u128>) = (vec![], vec![]);
    for a in running() {
        match a.ip {
            std::net::IpAddr::V4(ip) => v4.push(ip.to_bits()),
            std::net::IpAddr::V6(ip) => v6.push(ip.to_bits()),
        }
    }
    v4.sort_unstable();
    v6.sort_unstable();
    fn twice<T: Copy + PartialEq>(v: &[T]) -> impl Iterator<Item = T> + '_ {
        v.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0])
    }
    let shared: crate::model::FastSet<std::net::IpAddr> = twice(&v4)
        .map(|x| std::net::Ipv4Addr::from_bits(x).into())
        .chain(twice(&v6).map(|x| std::net::Ipv6Addr::from_bits(x).into()))
        .collect();
    let mut dups: BTreeMap<std::net::IpAddr, Vec<String>> = BTreeMap::new();
    if !shared.is_empty() {
        for a in running() {
            if shared.contains(&a.ip) {
                let who = format!("{}/{}", a.namespace, a.name);
                let e = dups.entry(a.ip).or_default();
                if !e.contains(&who) {
                    e.push(who);
                }
            }
        }
    }
    // One pod listing an address twice is not two pods.
    dups.retain(|_, pods| pods.len() > 1);
    if dups.is_empty() {
        return vec![];
    }
    let f = finding(
        "pod-ip-duplicate",
        Severity::Error,
        format!("{} pod IP(s) are held by more than one running pod", dups.len()),
        "two pods with one address get each other's traffic: usually an IPAM store that lost track (host-local files after a node rebuild, a podCIDR given twice); delete one pod so it gets a fresh address, and check the nodes' podCIDRs for overlaps",
    );
    let subjects = dups
        .iter()
        .map(|(ip, pods)| format!("{ip}: {}", pods.join(", ")))
        .collect();
    vec![limited(f, subjects)]
}

pub fn network_unavailable(c: &Ctx) -> Vec<Finding> {
    let bad: Vec<(String, String)> = c
        .cluster
        .nodes
        .iter()
        .filter_map(|n| {
            let cond = n
                .status
                .conditions
                .iter()
                .find(|x| x.kind == "NetworkUnavailable" && x.status == "True")?;
            Some((
                format!("node {}", n.name()),
                format!(
                    "node {} condition NetworkUnavailable=True {}: {}",
                    n.name(),
                    cond.reason.as_deref().unwrap_or(""),
                    cond.message.as_deref().unwrap_or("")
                ),
            ))
        })
        .collect();
    if bad.is_empty() {
        return vec![];
    }
    let mut f = finding(
        "node-network-unavailable",
        Severity::Error,
        format!("{} node(s) report NetworkUnavailable", bad.len()),
        "the route controller or the CNI has not set up the node's pod network (the condition's reason says which); pods there cannot reach other nodes. Check the cloud route table and the CNI agent on the node",
    );
    f.evidence = bad
        .iter()
        .take(MAX_SUBJECTS)
        .map(|(_, e)| e.clone())
        .collect();
    vec![limited(f, bad.into_iter().map(|(s, _)| s).collect())]
}

/// (major, minor) of `v1.29.3`, `1.29.3-eks-1`, `v1.30.2+k3s1`.
pub fn minor(v: &str) -> Option<(u32, u32)> {
    let v = v.trim().trim_start_matches('v');
    let mut it = v.split('.');
    let major = it.next()?.parse().ok()?;
    let minor: String = it
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// How many minors a node component may lag the API server: three since 1.25 (two before),
/// and never lead it (kubernetes.io/releases/version-skew-policy).
fn allowed_lag(component_minor: u32) -> u32 {
    if component_minor >= 25 {
        3
    } else {
        2
    }
}

/// Where a component's version was read.
enum Place<'a> {
    Node(&'a Node),
    Pod(&'a Pod, &'a str),
}

impl Place<'_> {
    fn describe(&self) -> String {
        match self {
            Place::Node(n) => format!("node {}", n.name()),
            Place::Pod(p, image) => format!(
                "pod {}/{} on node {} image {image}",
                p.metadata.ns(),
                p.name(),
                p.spec.node_name.as_deref().unwrap_or("-"),
            ),
        }
    }
}

pub fn version_skew(c: &Ctx) -> Vec<Finding> {
    let Some(server) = c.cluster.server_version.as_deref().and_then(minor) else {
        return vec![];
    };
    // component -> (version, where) per node; where is written out only for the few skewed
    // (formatting it for all 10,000 at 5,000 nodes was 2% of a report's CPU, perf).
    let mut seen: Vec<(&str, &str, Place)> = vec![];
    for n in &c.cluster.nodes {
        if let Some(i) = &n.status.node_info {
            seen.push(("kubelet", &i.kubelet_version, Place::Node(n)));
        }
    }
    for p in c.cluster.pods.iter().filter(|p| !p.finished()) {
        for ct in p.spec.containers.iter() {
            let Some((repo, tag)) = ct.image.rsplit_once(':') else {
                continue;
            };
            if repo.ends_with("kube-proxy") {
                seen.push(("kube-proxy", tag, Place::Pod(p, &ct.image)));
            }
        }
    }
    let mut out = vec![];
    for component in ["kubelet", "kube-proxy"] {
        let bad: Vec<String> = seen
            .iter()
            .filter(|(k, _, _)| *k == component)
            .filter_map(|(_, v, at)| {
                let (maj, min) = minor(v)?;
                let why = if (maj, min) > server {
                    "newer than the API server".to_string()
                } else if maj == server.0 && server.1 - min > allowed_lag(min) {
                    format!("{} minor versions behind the API server", server.1 - min)
                } else {
                    return None;
                };
                Some(format!("{}: {v} ({why})", at.describe()))
            })
            .collect();
        if bad.is_empty() {
            continue;
        }
        let mut f = finding(
            &format!("version-skew-{component}"),
            Severity::Warning,
            format!(
                "{} {component}(s) outside the supported version skew of the API server {}",
                bad.len(),
                c.cluster.server_version.as_deref().unwrap_or("")
            ),
            "a kubelet or kube-proxy may be up to three minor versions older than the API server (two before 1.25) and never newer; upgrade the nodes one minor at a time",
        );
        f.evidence = vec![format!(
            "API server {}",
            c.cluster.server_version.as_deref().unwrap_or("")
        )];
        out.push(limited(f, bad));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minors() {
        assert_eq!(minor("v1.29.3"), Some((1, 29)));
        assert_eq!(minor("v1.30.2+k3s1"), Some((1, 30)));
        assert_eq!(minor("1.31.0-eks-a737599"), Some((1, 31)));
        assert_eq!(minor("latest"), None);
    }
}
