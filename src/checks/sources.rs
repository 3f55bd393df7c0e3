use super::{finding, Ctx};
use crate::cidr;
use crate::report::{Fact, FactStatus, Finding, Severity, Source, SourceId, SourceStatus};

/// Sources that state a value the cluster does not contradict (contradicted ones are
/// reported once, by `contradicted`).
fn stated(f: &Fact) -> impl Iterator<Item = &Source> {
    f.believed()
        .filter(|s| !s.id.is_observed() && !s.cidrs.is_empty())
}

fn show(s: &Source) -> String {
    format!("{}: {}", s.id.name(), s.evidence)
}

/// The classic: weave on its default 10.32.0.0/12 while kubeadm was told 10.244.0.0/16.
pub fn cni_range_mismatch(c: &Ctx) -> Vec<Finding> {
    let f = &c.cidrs.pod_cidr;
    let Some(cni) = stated(f).filter(|s| s.id.is_cni()).min_by_key(|s| s.id) else {
        return vec![];
    };
    let Some(conf) = stated(f)
        .filter(|s| {
            matches!(
                s.id,
                SourceId::KubeControllerManagerFlag | SourceId::KubeadmConfig | SourceId::K3sArgs
            )
        })
        .min_by_key(|s| s.id)
    else {
        return vec![];
    };
    if cidr::same_set(&cni.cidrs, &conf.cidrs) {
        return vec![];
    }
    let mut x = finding(
        "cni-range-mismatch",
        Severity::Error,
        format!(
            "{} allocates pod addresses from {} but the cluster is configured for {}",
            c.cidrs.cni.name,
            cidr::join(&cni.cidrs),
            cidr::join(&conf.cidrs)
        ),
        "make them equal: set the CNI's range to the cluster CIDR (weave: IPALLOC_RANGE env on the weave container; calico: the IPPool; cilium: cluster-pool-ipv4-cidr), or re-initialise with --pod-network-cidr matching the CNI",
    );
    x.ranges = vec![cidr::join(&cni.cidrs), cidr::join(&conf.cidrs)];
    x.evidence = vec![show(cni), show(conf)];
    vec![x]
}

pub fn kube_proxy_cluster_cidr(c: &Ctx) -> Vec<Finding> {
    let f = &c.cidrs.pod_cidr;
    if f.status == FactStatus::Unknown || f.chosen == Some(SourceId::KubeProxyConfig) {
        return vec![];
    }
    let chosen = f.found().find(|s| Some(s.id) == f.chosen);
    let mut out = Vec::new();
    let kube_proxy = f
        .found()
        .filter(|s| s.id == SourceId::KubeProxyConfig && !s.cidrs.is_empty());
    for kp in kube_proxy {
        if f.cidrs.iter().all(|p| cidr::within(&kp.cidrs, p))
            && kp.cidrs.iter().all(|k| cidr::within(&f.cidrs, k))
        {
            continue;
        }
        let mut x = finding(
            "kube-proxy-cluster-cidr-mismatch",
            Severity::Warning,
            format!("kube-proxy clusterCIDR {} differs from the pod range {}", cidr::join(&kp.cidrs), cidr::join(&f.cidrs)),
            "kube-proxy uses clusterCIDR to tell pod traffic from outside traffic (masquerading, local detection); set clusterCIDR in the kube-proxy ConfigMap to the real pod range and restart the kube-proxy pods",
        );
        x.ranges = vec![cidr::join(&kp.cidrs), cidr::join(&f.cidrs)];
        x.evidence = std::iter::once(show(kp)).chain(chosen.map(show)).collect();
        out.push(x);
    }
    out
}

fn agrees(reference: &Source, other: &Source) -> bool {
    if reference.id == SourceId::ServicecidrApi || other.id == SourceId::ServiceCidrProbe {
        // Extra ServiceCIDRs widen the range; a probe names one of possibly several.
        return other
            .cidrs
            .iter()
            .all(|o| cidr::within(&reference.cidrs, o));
    }
    cidr::same_set(&reference.cidrs, &other.cidrs)
}

fn group_disagreements(fact_name: &str, sources: Vec<&Source>, out: &mut Vec<Finding>) {
    let Some((first, rest)) = sources.split_first() else {
        return;
    };
    let mut seen = std::collections::HashSet::new();
    for other in rest {
        if agrees(first, other) || !seen.insert((other.id, cidr::join(&other.cidrs))) {
            continue;
        }
        let mut x = finding(
            "source-disagreement",
            Severity::Warning,
            format!(
                "{fact_name}: {} says {} but {} says {}",
                first.id.name(),
                cidr::join(&first.cidrs),
                other.id.name(),
                cidr::join(&other.cidrs)
            ),
            "one of them is stale (changed in one place only); the first is what netcheck takes as effective. Align the other, e.g. edit the kubeadm-config ConfigMap after changing a manifest flag",
        );
        x.ranges = vec![cidr::join(&first.cidrs), cidr::join(&other.cidrs)];
        x.evidence = vec![show(first), show(other)];
        out.push(x);
    }
}

pub fn disagreement(c: &Ctx) -> Vec<Finding> {
    use SourceId::*;
    let mut out = Vec::new();
    let pod = &c.cidrs.pod_cidr;
    let mut conf: Vec<&Source> = stated(pod)
        .filter(|s| {
            matches!(
                s.id,
                KubeControllerManagerFlag | KubeadmConfig | K3sArgs | K3sDefault
            )
        })
        .collect();
    conf.sort_by_key(|s| s.id);
    group_disagreements("pod range (configuration)", conf, &mut out);
    // The CNI's own statements, minus defaults (they only apply when nothing else is said).
    let mut cni: Vec<&Source> = stated(pod)
        .filter(|s| s.id.is_cni() && s.status == SourceStatus::Found && s.id != CalicoEnv)
        .collect();
    cni.sort_by_key(|s| s.id);
    group_disagreements("pod range (CNI)", cni, &mut out);
    let mut svc: Vec<&Source> = stated(&c.cidrs.service_cidr).collect();
    svc.sort_by_key(|s| s.id);
    if svc.first().is_some_and(|s| s.id == ServicecidrApi) {
        // Compare against the union of all ServiceCIDR objects.
        let union = Source {
            cidrs: svc
                .iter()
                .filter(|s| s.id == ServicecidrApi)
                .flat_map(|s| s.cidrs.clone())
                .collect(),
            ..svc[0].clone()
        };
        let rest: Vec<&Source> = svc
            .iter()
            .copied()
            .filter(|s| s.id != ServicecidrApi)
            .collect();
        group_disagreements(
            "service range",
            std::iter::once(&union).chain(rest).collect(),
            &mut out,
        );
    } else {
        group_disagreements("service range", svc, &mut out);
    }
    out
}

/// A stated value that the addresses in use rule out: netcheck did not take it, and says why.
/// A stale statement is a warning; a default that does not apply, only information.
pub fn contradicted(c: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, f) in c.cidrs.facts() {
        let mut seen = std::collections::HashSet::new();
        // kube-proxy's clusterCIDR has a check of its own; a platform's defaults are guesses
        // among alternatives (EKS has two), so ruling one out says nothing.
        for s in f
            .sources
            .iter()
            .filter(|s| !matches!(s.id, SourceId::KubeProxyConfig | SourceId::PlatformDefault))
        {
            let Some(by) = &s.contradicted_by else {
                continue;
            };
            if !seen.insert(s.id) {
                continue;
            }
            let default = s.status != SourceStatus::Found;
            let mut x = finding(
                "source-contradicted",
                if default {
                    Severity::Info
                } else {
                    Severity::Warning
                },
                format!(
                    "{name}: {} says {} but {by}; netcheck does not take it",
                    s.id.name(),
                    cidr::join(&s.cidrs)
                ),
                if default {
                    "the documented default does not apply here: something netcheck did not read sets the value; nothing to fix unless the range shown is wrong"
                } else {
                    "this source is stale or describes another range than the one in use (changed in one place only?); align it with the real range, or find what allocates outside it"
                },
            );
            x.ranges = vec![cidr::join(&s.cidrs)];
            x.evidence = vec![show(s)];
            out.push(x);
        }
    }
    out
}

pub fn invalid_values(c: &Ctx) -> Vec<Finding> {
    c.cidrs
        .facts()
        .into_iter()
        .flat_map(|(name, f)| {
            f.sources.iter().filter(|s| s.status == SourceStatus::Invalid).map(move |s| {
                let mut x = finding(
                    "invalid-value",
                    Severity::Error,
                    format!("{name}: {} holds a value that does not parse", s.id.name()),
                    "the component reading it will refuse to start or ignore it; correct the value (a CIDR like 10.96.0.0/12; prefix at most /32 for IPv4, /128 for IPv6)",
                );
                x.ranges = s.raw.iter().cloned().collect();
                x.evidence = vec![show(s)];
                x
            })
        })
        .collect()
}

pub fn unknown_facts(c: &Ctx) -> Vec<Finding> {
    c.cidrs
        .facts()
        .into_iter()
        .filter(|(_, f)| f.status == FactStatus::Unknown)
        .map(|(name, f)| {
            let needs: Vec<String> = f.sources.iter().filter_map(|s| s.needs.clone()).collect();
            let mut x = finding(
                "fact-unknown",
                Severity::Warning,
                format!("the {name} could not be determined: {}", f.why),
                if needs.is_empty() {
                    "run with --on-node on a control-plane node, pass the value with a flag (--node-cidr), or use --probe-service-cidr for the service range"
                } else {
                    "grant the missing read permissions (see deploy/rbac.yaml), or run with --on-node on a control-plane node"
                },
            );
            x.evidence = f.sources.iter().filter(|s| s.status == SourceStatus::Skipped).map(show).collect();
            x
        })
        .collect()
}
