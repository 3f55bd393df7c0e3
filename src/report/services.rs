//! The Services answer: every Service from its ClusterIP to the pods behind it, the cluster's
//! NodePort range, load-balancer implementations and DNS, and what is wrong with each.

use super::Severity;
use crate::model::CollectError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServicesAnswer {
    /// discovery.k8s.io/v1 (EndpointSlices), v1 (core Endpoints), or none.
    pub endpoints_from: String,
    pub endpoints_evidence: String,
    pub counts: ServiceCounts,
    pub node_port_range: NodePortRange,
    /// Load-balancer implementations found; empty: none found (see `load_balancers_unseen`).
    pub load_balancers: Vec<Implementation>,
    /// Where implementations could not be looked for, and why (e.g. the pods, by which MetalLB
    /// and others are found, could not be read); empty: every place was looked at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancers_unseen: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsAnswer>,
    /// EndpointSlices whose kubernetes.io/service-name label names no Service (not looked
    /// for when the Services could not be read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orphan_slices: Vec<String>,
    /// The reads this answer rests on that failed (`services`, `pods`, and `endpointslices`
    /// when no endpoints at all could be read), as in the report's `skipped`: what comes from
    /// them is unknown, not empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<CollectError>,
    /// all: every Service asked for; problems: only those with a problem (in `report`); one:
    /// the one Service asked for.
    pub shown: String,
    pub services: Vec<ServiceRow>,
    /// Ingresses and Gateway API routes (#19); absent when they were not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routes: Option<super::RoutesAnswer>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceCounts {
    pub total: usize,
    /// By spec.type: ClusterIP, NodePort, LoadBalancer, ExternalName.
    pub by_type: BTreeMap<String, usize>,
    pub headless: usize,
    pub without_selector: usize,
    pub with_problems: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePortRange {
    /// e.g. 30000-32767, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// known (a flag was read), default (no flag on a whole command line), unknown.
    pub status: String,
    pub evidence: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Implementation {
    /// cloud-aws, cloud-gce, cloud-azure, ... (one per providerID prefix), metallb, kube-vip,
    /// k3s-servicelb, aws-load-balancer-controller, openelb, purelb, cilium-lb-ipam,
    /// minikube-tunnel.
    pub name: String,
    pub evidence: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DnsAnswer {
    /// The cluster DNS Service (namespace/name), when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<String>,
    /// The kubelets' clusterDNS, and where it was read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubelet_cluster_dns: Vec<String>,
    pub kubelet_evidence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_domain: Option<String>,
    /// The zones CoreDNS's kubernetes plugin serves, and its forward target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corefile_zones: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corefile_forward: Option<String>,
    /// NodeLocal DNSCache's address, when it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_local: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceRow {
    pub namespace: String,
    pub name: String,
    /// ClusterIP, NodePort, LoadBalancer, ExternalName.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_ips: Vec<ClusterIp>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub headless: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancerState>,
    /// Absent: the Service selects no pods (its endpoints are made by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<BTreeMap<String, String>>,
    /// Running or pending pods the selector matches, and how many of them are Ready.
    pub selected_pods: usize,
    pub ready_pods: usize,
    pub ports: Vec<PortRow>,
    /// Every endpoint with the pod and node behind it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<EndpointRow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_traffic_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_traffic_policy: Option<String>,
    /// With a Local traffic policy: the nodes that hold a ready endpoint, and so answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_nodes: Option<Vec<String>>,
    /// ok, or the severity of its worst problem.
    pub status: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// The Ingresses and routes that send traffic to it: "ingress NS/NAME", "httproute NS/NAME".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reached_by: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterIp {
    pub ip: String,
    /// Whether it lies in the service range; absent when that range is not believed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_range: Option<bool>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalancerState {
    /// Ingress IPs or host names, with the IP mode where given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<String>,
    pub pending: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub protocol: String,
    pub port: i32,
    /// As written, or defaulted to the port: a number or a container port's name.
    pub target_port: String,
    /// The container port numbers endpoints resolve it to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved: Vec<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_port: Option<i32>,
    pub ready: usize,
    pub serving: usize,
    pub terminating: usize,
    pub not_ready: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointRow {
    pub ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub ready: bool,
    pub serving: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub terminating: bool,
}

/// One thing wrong with a Service: a finding id (docs/findings.md) and what it says of it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Problem {
    pub id: String,
    pub severity: Severity,
    pub detail: String,
}

impl Problem {
    /// ok, or the severity of the worst of them.
    pub fn status(problems: &[Problem]) -> String {
        match problems.iter().map(|p| p.severity).max() {
            None => "ok",
            Some(Severity::Info) => "info",
            Some(Severity::Warning) => "warning",
            Some(Severity::Error) => "error",
        }
        .into()
    }
}

impl ServiceRow {
    /// Ready endpoints out of all, for the port that has most (an endpoint without the port,
    /// as for a pod lacking a named targetPort, does not count); None for ExternalName.
    pub fn endpoint_counts(&self) -> Option<(usize, usize)> {
        if self.kind == "ExternalName" {
            return None;
        }
        if self.ports.is_empty() {
            let ready = self.endpoints.iter().filter(|e| e.ready).count();
            return Some((ready, self.endpoints.len()));
        }
        let ready = self.ports.iter().map(|p| p.ready).max().unwrap_or(0);
        let all = self
            .ports
            .iter()
            .map(|p| p.ready + p.serving + p.not_ready)
            .max()
            .unwrap_or(0);
        Some((ready, all))
    }
}
