//! Nodes: addresses, podCIDRs, taints, conditions.

use super::{Meta, Str};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: NodeSpec,
    #[serde(default)]
    pub status: NodeStatus,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeSpec {
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "podCIDR")]
    pub pod_cidr: Option<Str>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "podCIDRs")]
    pub pod_cidrs: Vec<Str>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unschedulable: bool,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "providerID"
    )]
    pub provider_id: Option<Str>,
}

impl Node {
    /// As [`super::Service::shrink_to_fit`].
    pub fn shrink_to_fit(&mut self) {
        self.spec.pod_cidrs.shrink_to_fit();
        self.spec.taints.shrink_to_fit();
        self.status.addresses.shrink_to_fit();
        self.status.conditions.shrink_to_fit();
        self.metadata.shrink_to_fit();
    }
}

impl NodeSpec {
    /// podCIDRs, falling back to the single-stack podCIDR that older servers set alone.
    pub fn cidrs(&self) -> Vec<&str> {
        self.cidr_texts().iter().map(Str::as_str).collect()
    }
    fn cidr_texts(&self) -> &[Str] {
        if self.pod_cidrs.is_empty() {
            self.pod_cidr.as_slice()
        } else {
            &self.pod_cidrs
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Taint {
    pub key: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Str>,
    pub effect: Str,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<NodeAddress>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_info: Option<NodeInfo>,
    /// Only `pods`: the kubelet's maxPods.
    #[serde(default, skip_serializing_if = "Capacity::is_empty")]
    pub capacity: Capacity,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Capacity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<Str>,
}

impl Capacity {
    pub fn is_empty(&self) -> bool {
        self.pods.is_none()
    }
    pub fn max_pods(&self) -> Option<u64> {
        self.pods.as_deref()?.trim().parse().ok()
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeAddress {
    #[serde(rename = "type")]
    pub kind: Str,
    pub address: Str,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: Str,
    pub status: Str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Str>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    #[serde(default)]
    pub kubelet_version: Str,
    #[serde(default)]
    pub kube_proxy_version: Str,
    #[serde(default)]
    pub operating_system: Str,
    #[serde(default)]
    pub os_image: Str,
}

pub const OVN_NODE_SUBNETS: &str = "k8s.ovn.org/node-subnets";

impl Node {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }
    pub fn addresses_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.status
            .addresses
            .iter()
            .filter(move |a| a.kind == kind)
            .map(|a| a.address.as_str())
    }
    /// Ready condition: Some(true/false), None when the node reports none.
    pub fn ready(&self) -> Option<bool> {
        self.status
            .conditions
            .iter()
            .find(|c| c.kind == "Ready")
            .map(|c| c.status == "True")
    }
    /// The node's pod subnets: spec.podCIDRs, or, for OVN-Kubernetes (which leaves them
    /// empty and allocates itself), its `k8s.ovn.org/node-subnets` annotation, written as
    /// `{"default":["10.128.2.0/23"]}` (older releases: `{"default":"10.128.2.0/23"}`).
    pub fn pod_subnets(&self) -> Vec<String> {
        let spec = self.spec.cidrs();
        if !spec.is_empty() {
            return spec.into_iter().map(str::to_string).collect();
        }
        let Some(raw) = self.metadata.annotations.get(OVN_NODE_SUBNETS) else {
            return vec![];
        };
        match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(v) => match &v["default"] {
                serde_json::Value::String(s) => vec![s.clone()],
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                _ => vec![],
            },
            Err(_) => vec![],
        }
    }
    /// [`Self::pod_subnets`] that parse, the spec's read without copying their text: asked of
    /// every node by several answers (callgrind: `pod_subnets` 23 M instructions at 5,000 nodes).
    pub fn pod_nets(&self) -> Vec<ipnet::IpNet> {
        let spec = self.spec.cidr_texts();
        let parse = |p: &str| crate::cidr::parse(p).ok();
        if spec.is_empty() {
            self.pod_subnets().iter().filter_map(|p| parse(p)).collect()
        } else {
            spec.iter().filter_map(|p| parse(p)).collect()
        }
    }
    /// The Ready condition's reason and message when the node is NotReady because the
    /// container runtime's network (the CNI plugin) is not ready, as the kubelet words it.
    pub fn network_not_ready(&self) -> Option<String> {
        let c = self
            .status
            .conditions
            .iter()
            .find(|c| c.kind == "Ready" && c.status != "True")?;
        let m = c.message.as_deref().unwrap_or("");
        let network = [
            "NetworkPluginNotReady",
            "network not ready",
            "cni plugin not initialized",
        ];
        network.iter().any(|n| m.contains(n)).then(|| {
            format!(
                "Ready={} {}: {m}",
                c.status,
                c.reason.as_deref().unwrap_or("")
            )
        })
    }
    pub fn os(&self) -> &str {
        self.metadata
            .label("kubernetes.io/os")
            .or_else(|| {
                self.status
                    .node_info
                    .as_ref()
                    .map(|i| i.operating_system.as_str())
            })
            .unwrap_or("linux")
    }
}
