//! Services and ServiceCIDRs.

use super::{Meta, Str, StrMap};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: ServiceSpec,
    #[serde(default, skip_serializing_if = "ServiceStatus::is_empty")]
    pub status: ServiceStatus,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "clusterIP")]
    pub cluster_ip: Option<Str>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "clusterIPs")]
    pub cluster_ips: Vec<Str>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_families: Vec<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_family_policy: Option<Str>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ServicePort>,
    /// Absent or empty: the Service selects no pods (its endpoints are made by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<StrMap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_traffic_policy: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_traffic_policy: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_node_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "externalIPs")]
    pub external_ips: Vec<Str>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "loadBalancerIP"
    )]
    pub load_balancer_ip: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_class: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_name: Option<Str>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub publish_not_ready_addresses: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Str>,
    #[serde(default)]
    pub port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<Str>,
}

/// A port by number or by the name a container gives it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Hash)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i32),
    Str(String),
}

impl std::fmt::Display for IntOrString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrString::Int(n) => write!(f, "{n}"),
            IntOrString::Str(s) => f.write_str(s),
        }
    }
}

impl ServicePort {
    /// TCP unless said otherwise, as the API defaults it.
    pub fn protocol(&self) -> &str {
        self.protocol.as_deref().unwrap_or("TCP")
    }
    /// The targetPort as the API defaults it: the port itself when absent, 0 or "".
    pub fn target(&self) -> IntOrString {
        match &self.target_port {
            None | Some(IntOrString::Int(0)) => IntOrString::Int(self.port),
            Some(IntOrString::Str(s)) if s.is_empty() => IntOrString::Int(self.port),
            Some(t) => t.clone(),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancerStatus>,
    /// Used by some load-balancer implementations (Cilium's LB IPAM) to say why none is given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<super::Condition>,
}

impl ServiceStatus {
    fn is_empty(&self) -> bool {
        self.conditions.is_empty()
            && self
                .load_balancer
                .as_ref()
                .is_none_or(|l| l.ingress.is_empty())
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<LoadBalancerIngress>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerIngress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_mode: Option<Str>,
}

impl Service {
    /// Lists are filled item by item, and a list's first push makes room for four: a Service
    /// of one port kept room for four (448 bytes), 10,000 Services 6 MB (heaptrack).
    pub fn shrink_to_fit(&mut self) {
        let sp = &mut self.spec;
        sp.ports.shrink_to_fit();
        sp.cluster_ips.shrink_to_fit();
        sp.ip_families.shrink_to_fit();
        sp.external_ips.shrink_to_fit();
        if let Some(s) = &mut sp.selector {
            s.shrink_to_fit();
        }
        self.status.conditions.shrink_to_fit();
        if let Some(lb) = &mut self.status.load_balancer {
            lb.ingress.shrink_to_fit();
        }
        self.metadata.shrink_to_fit();
    }
    pub fn kind(&self) -> &str {
        self.spec.kind.as_deref().unwrap_or("ClusterIP")
    }
    /// clusterIP None: DNS gives the endpoints' addresses, kube-proxy programs nothing.
    pub fn headless(&self) -> bool {
        self.spec.cluster_ip.as_deref() == Some("None")
    }
    /// The selector, when it selects anything: absent or empty selects nothing.
    pub fn selector(&self) -> Option<&StrMap> {
        self.spec.selector.as_ref().filter(|s| !s.is_empty())
    }
    /// Allocated ClusterIPs; headless ("None") and ExternalName services have none.
    pub fn ips(&self) -> Vec<&str> {
        let all: Vec<&str> = if self.spec.cluster_ips.is_empty() {
            self.spec.cluster_ip.iter().map(Str::as_str).collect()
        } else {
            self.spec.cluster_ips.iter().map(Str::as_str).collect()
        };
        all.into_iter()
            .filter(|ip| !ip.is_empty() && *ip != "None")
            .collect()
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCidr {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: ServiceCidrSpec,
    /// Which API version served it (networking.k8s.io/v1 or v1beta1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCidrSpec {
    #[serde(default)]
    pub cidrs: Vec<String>,
}

/// A ClusterIP the allocator holds (networking.k8s.io/v1 IPAddress, Kubernetes 1.33+): its
/// name is the address, its parentRef the Service holding it.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct IpAddress {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: IpAddressSpec,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct IpAddressSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_ref: Option<ParentRef>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    #[serde(default)]
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default)]
    pub name: String,
}
