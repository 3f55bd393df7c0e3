//! Checks: small pure functions over the discovered answers, each returning findings.
//! Adding one means writing the function and naming it in `REGISTRY`.

mod addresses;
mod capacity;
pub mod catalog;
pub use capacity::{line as capacity_line, WARN_PERCENT};
pub mod fleet;
mod netpol;
mod overlap;
mod podcidr;
mod proxy;
mod routes;
mod rules;
mod services;
mod sources;

use crate::discover::Hints;
use crate::model::Cluster;
use crate::report::{
    CapacityAnswer, CidrAnswer, Deployment, Finding, PoliciesAnswer, ProxyAnswer, RulesAnswer,
    ServicesAnswer, Severity, Topic,
};

pub struct Ctx<'a> {
    pub cluster: &'a Cluster,
    pub cidrs: &'a CidrAnswer,
    pub proxy: Option<&'a ProxyAnswer>,
    pub deployments: Option<&'a [Deployment]>,
    pub services: Option<&'a ServicesAnswer>,
    pub rules: Option<&'a RulesAnswer>,
    pub capacity: Option<&'a CapacityAnswer>,
    pub policies: Option<&'a PoliciesAnswer>,
    pub hints: &'a Hints,
    /// The topics this run covers.
    pub topics: &'a [Topic],
}

type Check = fn(&Ctx) -> Vec<Finding>;

pub const REGISTRY: &[(Topic, Check)] = &[
    (Topic::Cidrs, overlap::pod_service),
    (Topic::Cidrs, overlap::pod_node),
    (Topic::Cidrs, overlap::service_node),
    (Topic::Cidrs, overlap::user_ranges),
    (Topic::Cidrs, overlap::docker_bridge),
    (Topic::Cidrs, podcidr::outside_cluster_cidr),
    (Topic::Cidrs, podcidr::overlapping),
    (Topic::Cidrs, podcidr::missing),
    (Topic::Cidrs, sources::cni_range_mismatch),
    (Topic::Cidrs, sources::kube_proxy_cluster_cidr),
    (Topic::Cidrs, sources::disagreement),
    (Topic::Cidrs, sources::contradicted),
    (Topic::Cidrs, sources::invalid_values),
    (Topic::Cidrs, sources::unknown_facts),
    (Topic::Cidrs, addresses::service_ips),
    (Topic::Cidrs, addresses::pod_ips),
    (Topic::Proxy, proxy::modes),
    (Topic::Deploy, proxy::deployments),
    (Topic::Services, services::problems),
    (Topic::Services, services::orphan_slices),
    (Topic::Services, services::dns),
    (Topic::Services, routes::problems),
    (Topic::Rules, rules::problems),
    (Topic::Rules, rules::unreadable),
    (Topic::Capacity, capacity::ranges),
    (Topic::Capacity, capacity::nodes),
    (Topic::Capacity, capacity::max_pods),
    (Topic::Capacity, capacity::ip_allocation_failed),
    (Topic::Capacity, capacity::duplicate_pod_ips),
    (Topic::Capacity, capacity::network_unavailable),
    (Topic::Capacity, capacity::version_skew),
    (Topic::Policies, netpol::not_enforced),
    (Topic::Policies, netpol::not_evaluated),
    (Topic::Policies, netpol::select_nothing),
    (Topic::Policies, netpol::dead_peers),
    (Topic::Policies, netpol::admin_errors),
];

/// Runs the checks of the given topics, most severe first; ties keep registry order.
pub fn run(ctx: &Ctx, topics: &[Topic]) -> Vec<Finding> {
    let checks: Vec<_> = REGISTRY
        .iter()
        .filter(|(t, _)| topics.contains(t))
        .map(|(_, check)| check)
        .collect();
    // On a big cluster a few checks (duplicate addresses, skew, pods per node) walk every pod.
    let done = crate::model::in_two(&checks, |check| check(ctx));
    let mut all: Vec<Finding> = done.into_iter().flatten().collect();
    all.sort_by_key(|f| std::cmp::Reverse(f.severity));
    all
}

pub(crate) fn finding(id: &str, severity: Severity, message: String, hint: &str) -> Finding {
    Finding {
        id: id.into(),
        severity,
        message,
        ranges: vec![],
        evidence: vec![],
        subjects: vec![],
        count: None,
        hint: hint.into(),
    }
}

/// At most this many subjects are named in one finding; `count` carries the total.
pub(crate) const MAX_SUBJECTS: usize = 10;
