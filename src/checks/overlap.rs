use super::{finding, Ctx};
use crate::cidr;
use crate::report::{Fact, Finding, Severity};
use ipnet::IpNet;

const DOCKER_BRIDGE: &str = "172.17.0.0/16";

fn evidence(f: &Fact) -> Vec<String> {
    f.sources
        .iter()
        .filter(|s| Some(s.id) == f.chosen)
        .map(|s| format!("{}: {}", s.id.name(), s.evidence))
        .take(2)
        .collect()
}

/// One finding per pair of colliding ranges between two facts.
fn between(
    id: &str,
    sev: Severity,
    a: (&str, &Fact),
    b: (&str, &Fact),
    hint: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for x in &a.1.cidrs {
        for y in b.1.cidrs.iter().filter(|y| cidr::overlap(x, y)) {
            let mut f = finding(
                id,
                sev,
                format!("{} range {x} overlaps {} range {y}", a.0, b.0),
                hint,
            );
            f.ranges = vec![x.to_string(), y.to_string()];
            f.evidence = evidence(a.1).into_iter().chain(evidence(b.1)).collect();
            out.push(f);
        }
    }
    out
}

pub fn pod_service(c: &Ctx) -> Vec<Finding> {
    between(
        "pod-service-overlap",
        Severity::Error,
        ("pod", &c.cidrs.pod_cidr),
        ("service", &c.cidrs.service_cidr),
        "pods and Services must use disjoint ranges: traffic to a ClusterIP that is also a pod address is captured by kube-proxy; move the CNI pool or the service range",
    )
}

pub fn pod_node(c: &Ctx) -> Vec<Finding> {
    // With VPC-native CNIs pods take addresses from the node subnets by design.
    if c.cidrs.cni.ipam == "vpc" {
        return vec![];
    }
    between(
        "pod-node-overlap",
        Severity::Error,
        ("pod", &c.cidrs.pod_cidr),
        ("node network", &c.cidrs.node_network),
        "the pod network must not overlap any host network: nodes' traffic to their own subnet is routed into the overlay; choose a pod range outside the node subnets (e.g. set CALICO_IPV4POOL_CIDR / --pod-network-cidr)",
    )
}

pub fn service_node(c: &Ctx) -> Vec<Finding> {
    between(
        "service-node-overlap",
        Severity::Error,
        ("service", &c.cidrs.service_cidr),
        ("node network", &c.cidrs.node_network),
        "the service range must not overlap node addresses: kube-proxy would intercept traffic meant for hosts; pick a --service-cluster-ip-range outside the node subnets",
    )
}

fn against(
    c: &Ctx,
    id: &str,
    sev: Severity,
    outside: &[IpNet],
    label: &str,
    hint: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, fact) in c.cidrs.facts() {
        for x in &fact.cidrs {
            for y in outside.iter().filter(|y| cidr::overlap(x, y)) {
                let mut f = finding(
                    id,
                    sev,
                    format!("{name} range {x} overlaps {label} {y}"),
                    hint,
                );
                f.ranges = vec![x.to_string(), y.to_string()];
                f.evidence = evidence(fact);
                out.push(f);
            }
        }
    }
    out
}

pub fn user_ranges(c: &Ctx) -> Vec<Finding> {
    against(
        c,
        "user-range-overlap",
        Severity::Warning,
        &c.hints.also_check,
        "--also-check range",
        "hosts in that range will be unreachable from pods (or shadowed by Services); renumber one side or route it explicitly",
    )
}

pub fn docker_bridge(c: &Ctx) -> Vec<Finding> {
    let bridge = cidr::parse_list(DOCKER_BRIDGE).0;
    against(
        c,
        "docker-bridge-overlap",
        Severity::Warning,
        &bridge,
        "Docker's default bridge (docker0)",
        "on nodes that also run Docker, docker0 claims 172.17.0.0/16; set \"bip\" in /etc/docker/daemon.json or use another range",
    )
}
