use super::{finding, Ctx, MAX_SUBJECTS};
use crate::cidr;
use crate::model::{PodAddress, Service};
use crate::report::{Fact, Finding, Severity, SourceId};
use ipnet::IpNet;
use std::net::IpAddr;

/// The (who, ip) pairs whose address lies outside the fact's ranges, counting only families
/// the range covers; `who` is formatted only for those.
fn outside<T>(
    fact: &Fact,
    items: impl Iterator<Item = (T, IpAddr)>,
    who: impl Fn(&T) -> String,
) -> Vec<(String, String)> {
    let v4 = fact.cidrs.iter().any(|n| matches!(n, IpNet::V4(_)));
    let v6 = fact.cidrs.iter().any(|n| matches!(n, IpNet::V6(_)));
    items
        .filter(|(_, ip)| {
            let covered_family = if ip.is_ipv4() { v4 } else { v6 };
            covered_family && !cidr::contains_ip(&fact.cidrs, ip)
        })
        .map(|(t, ip)| (who(&t), ip.to_string()))
        .collect()
}

fn report(
    id: &str,
    what: &str,
    fact: &Fact,
    bad: Vec<(String, String)>,
    hint: &str,
) -> Vec<Finding> {
    if bad.is_empty() {
        return vec![];
    }
    let mut f = finding(
        id,
        Severity::Error,
        format!(
            "{} {what} outside the range {}",
            bad.len(),
            cidr::join(&fact.cidrs)
        ),
        hint,
    );
    f.ranges = vec![cidr::join(&fact.cidrs)];
    f.subjects = bad
        .iter()
        .take(MAX_SUBJECTS)
        .map(|(w, ip)| format!("{w} {ip}"))
        .collect();
    f.count = Some(bad.len());
    f.evidence = fact
        .found()
        .filter(|s| Some(s.id) == fact.chosen)
        .map(|s| format!("{}: {}", s.id.name(), s.evidence))
        .collect();
    vec![f]
}

pub fn service_ips(c: &Ctx) -> Vec<Finding> {
    let fact = &c.cidrs.service_cidr;
    if !fact.is_known() || fact.chosen == Some(SourceId::ServiceIps) {
        return vec![];
    }
    let items = c.cluster.services.iter().flat_map(|s| {
        s.ips()
            .into_iter()
            .filter_map(cidr::parse_ip)
            .map(move |ip| (s, ip))
    });
    let who = |s: &&Service| format!("service {}/{}", s.metadata.ns(), s.metadata.name);
    report(
        "service-ip-outside-range",
        "Service ClusterIP(s) lie",
        fact,
        outside(fact, items, who),
        "these Services were allocated from a previous service range (the flag changed after they were created); recreate them so they get an address from the current range",
    )
}

pub fn pod_ips(c: &Ctx) -> Vec<Finding> {
    let fact = &c.cidrs.pod_cidr;
    if !fact.is_known() || fact.chosen == Some(SourceId::PodIps) {
        return vec![];
    }
    let items = c.cluster.pod_addresses().filter(|a| !a.finished).map(|a| {
        let ip = a.ip;
        (a, ip)
    });
    let who = |a: &PodAddress| format!("pod {}/{}", a.namespace, a.name);
    report(
        "pod-ip-outside-range",
        "pod IP(s) lie",
        fact,
        outside(fact, items, who),
        "these pods got addresses from a range netcheck does not take as the pod range: either another IP pool is active or the effective range is wrong; compare the CNI configuration with --cluster-cidr",
    )
}
