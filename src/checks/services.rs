//! Findings about Services. Each Service's problems are diagnosed with it (discover::services);
//! here they become one finding per id, naming the Services, plus the cluster-wide ones:
//! EndpointSlices of no Service, and the cluster DNS. What rests on a read that failed (the
//! answer's `unread`) is not judged.

use super::{finding, Ctx, MAX_SUBJECTS};
use crate::model::what;
use crate::report::{Finding, Problem, Severity, Topic};

/// (id, message for n Services, hint). docs/findings.md describes each.
const KINDS: &[(&str, &str, &str)] = &[
    ("service-selector-matches-nothing", "Service(s) select no pod", "fix the selector or the pods' labels so that they match (`kubectl get pods -l <selector> -n NS --show-labels`); the closest pods and the labels that differ are named"),
    ("service-no-ready-endpoints", "Service(s) select pods of which none is Ready", "the pods exist but fail readiness: read each pod's reason (crash loop, readiness probe, unschedulable) in `kubectl describe pod` and fix it; a Service sends traffic to Ready pods only"),
    ("service-no-endpoints", "selector-less Service(s) have no endpoints", "a Service without a selector needs EndpointSlices (or Endpoints) made by hand, named after it with the label kubernetes.io/service-name; create them, or give the Service a selector"),
    ("service-target-port-missing", "Service port(s) target a port name the pods do not declare", "name the container port in the pod template (ports[].name) as the Service's targetPort says, with the same protocol, or set targetPort to the number the container listens on"),
    ("service-target-port-undeclared", "Service port(s) target a number no selected container declares", "containerPort is informational, so this can work; but if the container does not listen there the Service gets refused connections: check the number"),
    ("endpoint-stale", "Service(s) have endpoints that point at addresses their pods no longer hold", "the endpoints are behind the pods (the EndpointSlice controller in kube-controller-manager is not syncing, or the slices are made by hand): check kube-controller-manager's health and log, or fix the hand-made slices"),
    ("endpoint-invalid-address", "Service(s) have endpoints whose address does not parse", "correct the hand-made EndpointSlice or Endpoints object"),
    ("service-invalid-ip", "Service(s) have a ClusterIP that does not parse", "the object is damaged; recreate the Service"),
    ("service-ip-outside-range", "Service ClusterIP(s) lie outside the service range", "these Services were allocated from a previous service range (the flag changed after they were created); recreate them so they get an address from the current range"),
    ("nodeport-outside-range", "Service NodePort(s) lie outside the node-port range", "the API server would refuse this nodePort now: the range was changed after the Service was created; recreate it (or let the API server pick the nodePort)"),
    ("loadbalancer-pending", "LoadBalancer Service(s) are pending (no external address)", "install or fix a load-balancer implementation (cloud controller manager, MetalLB with an IPAddressPool and an L2Advertisement, kube-vip, Cilium LB IPAM with a pool), or check its events; meanwhile the Service answers on its NodePorts"),
    ("service-external-ips", "Service(s) set externalIPs", "externalIPs let anyone who may create Services intercept any address (CVE-2020-8554): use a LoadBalancer instead, and enable the DenyServiceExternalIPs admission plugin on the API server"),
    ("local-traffic-policy-nodes", "Service(s) with externalTrafficPolicy Local have nodes without a ready endpoint", "by design: those nodes drop NodePort and load-balancer traffic for the Service (the load balancer's health check on healthCheckNodePort steers around them); spread the pods, or use Cluster if the client address does not matter"),
];

/// One finding per problem id, with the Services as subjects.
pub fn problems(c: &Ctx) -> Vec<Finding> {
    let Some(s) = c.services else { return vec![] };
    // The range check belongs to `cidrs`; when it runs too, it reports these.
    let kinds: Vec<_> = KINDS
        .iter()
        .filter(|k| k.0 != "service-ip-outside-range" || !c.topics.contains(&Topic::Cidrs))
        .copied()
        .collect();
    let hits = s.services.iter().flat_map(|r| {
        r.problems
            .iter()
            .map(move |p| (format!("service {}/{}", r.namespace, r.name), p))
    });
    by_id(&kinds, hits.collect())
}

/// One finding per id of `kinds`: the highest severity among its problems, each subject
/// `SUBJECT: detail`, and the count of distinct subjects.
pub(super) fn by_id(kinds: &[(&str, &str, &str)], hits: Vec<(String, &Problem)>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (id, message, hint) in kinds {
        let hits: Vec<&(String, &Problem)> = hits.iter().filter(|(_, p)| p.id == *id).collect();
        let Some(severity) = hits.iter().map(|(_, p)| p.severity).max() else {
            continue;
        };
        let mut subjects: Vec<&str> = hits.iter().map(|(w, _)| w.as_str()).collect();
        subjects.dedup();
        let mut f = finding(id, severity, format!("{} {message}", subjects.len()), hint);
        f.subjects = hits
            .iter()
            .take(MAX_SUBJECTS)
            .map(|(w, p)| format!("{w}: {}", p.detail))
            .collect();
        f.count = Some(subjects.len());
        out.push(f);
    }
    out
}

pub fn orphan_slices(c: &Ctx) -> Vec<Finding> {
    let Some(s) = c.services.filter(|s| !s.orphan_slices.is_empty()) else {
        return vec![];
    };
    let mut f = finding(
        "endpointslice-orphan",
        Severity::Warning,
        format!("{} EndpointSlice(s) belong to no Service", s.orphan_slices.len()),
        "a slice whose kubernetes.io/service-name names a missing Service is left over (its Service was deleted and the slice was made by hand, or a controller leaked it); delete it, or create the Service it was meant for",
    );
    f.subjects = s.orphan_slices.iter().take(MAX_SUBJECTS).cloned().collect();
    f.count = Some(s.orphan_slices.len());
    vec![f]
}

/// The cluster DNS: the Service every pod's resolv.conf names, and what the kubelets are told.
pub fn dns(c: &Ctx) -> Vec<Finding> {
    let Some((s, d)) = c.services.and_then(|s| Some((s, s.dns.as_ref()?))) else {
        return vec![];
    };
    let mut out = Vec::new();
    // Without the Service list the DNS Service is unknown, not missing: only the domain is
    // judged then.
    let services_read = !s.unread.iter().any(|e| e.what == what::SERVICES);
    match d.cluster_ip.as_deref() {
        None if services_read => {
            let mut f = finding(
                "dns-service-missing",
                Severity::Error,
                "the kubelets point pods at a cluster DNS, but no DNS Service (kube-system/kube-dns) exists".into(),
                "deploy CoreDNS and its kube-dns Service (kubeadm: `kubeadm init phase addon coredns`) with the ClusterIP the kubelets use",
            );
            f.evidence = vec![d.kubelet_evidence.clone()];
            return vec![f];
        }
        None => {}
        Some(ip) => {
            let points_elsewhere = !d.kubelet_cluster_dns.is_empty()
                && !d.kubelet_cluster_dns.iter().any(|x| x == ip)
                && !d
                    .node_local
                    .as_ref()
                    .is_some_and(|l| d.kubelet_cluster_dns.contains(l));
            if points_elsewhere {
                let mut f = finding(
                    "dns-clusterip-mismatch",
                    Severity::Error,
                    format!(
                        "the kubelets give pods the DNS server {} but the DNS Service {} has ClusterIP {ip}",
                        d.kubelet_cluster_dns.join(","),
                        d.service.as_deref().unwrap_or("")
                    ),
                    "pods resolve nothing: set the kubelets' clusterDNS to the DNS Service's ClusterIP (kubeadm: the kubelet-config ConfigMap, then each node's /var/lib/kubelet/config.yaml), or recreate the Service with that ClusterIP",
                );
                f.ranges = vec![ip.to_string()];
                f.evidence = vec![d.kubelet_evidence.clone()];
                out.push(f);
            }
        }
    }
    if let (Some(domain), false) = (d.cluster_domain.as_deref(), d.corefile_zones.is_empty()) {
        let serves = d
            .corefile_zones
            .iter()
            .any(|z| z.trim_end_matches('.') == domain.trim_end_matches('.'));
        if !serves {
            let mut f = finding(
                "dns-domain-mismatch",
                Severity::Warning,
                format!(
                    "the kubelets' clusterDomain is {domain} but CoreDNS's kubernetes plugin serves {}",
                    d.corefile_zones.join(" ")
                ),
                "Service names under the kubelets' domain are not answered: make the Corefile's kubernetes zone and the kubelets' clusterDomain the same",
            );
            f.evidence = vec![
                d.kubelet_evidence.clone(),
                "configmap kube-system/coredns: Corefile".into(),
            ];
            out.push(f);
        }
    }
    out
}
