use super::{finding, Ctx, MAX_SUBJECTS};
use crate::cidr;
use crate::report::{Finding, Severity};
use ipnet::IpNet;

fn node_cidrs<'a>(c: &Ctx<'a>) -> Vec<(&'a str, IpNet)> {
    crate::discover::cidrs::node_pod_cidrs(c.cluster)
}

/// Node podCIDRs are carved from kube-controller-manager's --cluster-cidr (or the k3s/kubeadm
/// equivalent): the configured cluster range, not what a CNI with its own pool uses.
pub fn outside_cluster_cidr(c: &Ctx) -> Vec<Finding> {
    let cluster = crate::discover::cidrs::cluster_cidr(&c.cidrs.pod_cidr);
    let Some(cluster) = cluster else {
        return vec![];
    };
    let outside: Vec<(&str, IpNet)> = node_cidrs(c)
        .into_iter()
        .filter(|(_, p)| {
            cluster.cidrs.iter().any(|r| cidr::same_family(r, p))
                && !cidr::within(&cluster.cidrs, p)
        })
        .collect();
    if outside.is_empty() {
        return vec![];
    }
    let mut f = finding(
        "podcidr-outside-cluster-cidr",
        Severity::Error,
        format!("{} node podCIDR(s) lie outside the cluster CIDR {}", outside.len(), cidr::join(&cluster.cidrs)),
        "podCIDRs were allocated from a different --cluster-cidr (changed after the nodes joined?); the nodes need their podCIDR reassigned (delete and re-register them) or the cluster CIDR corrected",
    );
    f.ranges = std::iter::once(cidr::join(&cluster.cidrs))
        .chain(
            outside
                .iter()
                .take(MAX_SUBJECTS)
                .map(|(_, p)| p.to_string()),
        )
        .collect();
    f.subjects = outside
        .iter()
        .take(MAX_SUBJECTS)
        .map(|(n, p)| format!("node {n} {p}"))
        .collect();
    f.count = Some(outside.len());
    f.evidence = vec![format!("{}: {}", cluster.id.name(), cluster.evidence)];
    vec![f]
}

pub fn overlapping(c: &Ctx) -> Vec<Finding> {
    let all = node_cidrs(c);
    let nets: Vec<IpNet> = all.iter().map(|(_, n)| *n).collect();
    let pairs = cidr::overlapping_pairs(&nets);
    if pairs.is_empty() {
        return vec![];
    }
    let mut f = finding(
        "podcidr-overlap",
        Severity::Error,
        format!("{} pair(s) of nodes have overlapping podCIDRs", pairs.len()),
        "two nodes handing out the same pod addresses breaks routing between them; remove the duplicate node objects or reassign spec.podCIDR (it is immutable: delete and re-register the node)",
    );
    f.subjects = pairs
        .iter()
        .take(MAX_SUBJECTS)
        .map(|&(a, b)| {
            format!(
                "node {} {} / node {} {}",
                all[a].0, all[a].1, all[b].0, all[b].1
            )
        })
        .collect();
    f.count = Some(pairs.len());
    vec![f]
}

pub fn missing(c: &Ctx) -> Vec<Finding> {
    if c.cidrs.cni.ipam != "node-podcidrs" || c.cidrs.cni.name == "unknown" {
        return vec![];
    }
    let without: Vec<&str> = c
        .cluster
        .nodes
        .iter()
        .filter(|n| n.pod_subnets().is_empty())
        .map(|n| n.name())
        .collect();
    if without.is_empty() {
        return vec![];
    }
    let mut f = finding(
        "podcidr-missing",
        Severity::Error,
        format!("{} uses node podCIDRs but {} node(s) have none", c.cidrs.cni.name, without.len()),
        "start kube-controller-manager with --allocate-node-cidrs=true and --cluster-cidr (kubeadm: --pod-network-cidr); flannel logs 'pod cidr not assigned' on these nodes",
    );
    f.subjects = without
        .iter()
        .take(MAX_SUBJECTS)
        .map(|n| format!("node {n}"))
        .collect();
    // The node IPAM controller says why when the cluster CIDR is full.
    f.evidence = crate::discover::capacity::Events::new(c.cluster)
        .cidr_not_available
        .into_iter()
        .filter(|(n, _)| without.contains(&n.as_str()))
        .map(|(_, e)| e)
        .take(MAX_SUBJECTS)
        .collect();
    f.count = Some(without.len());
    vec![f]
}
