//! Address capacity: how much of each range is used, per range and per node.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CapacityAnswer {
    /// One line per range: node slots of the cluster CIDR, a CNI pool's blocks or addresses,
    /// ClusterIPs of each service range, NodePorts.
    pub ranges: Vec<Usage>,
    /// Per node: pod addresses in use against its podCIDR, and the kubelet's maxPods.
    pub nodes: Vec<NodeUsage>,
    /// What could not be counted, and why.
    pub unknown: Vec<Unknown>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Usage {
    /// node-slots, pool-blocks, pool-addresses, service-ips, node-ports.
    pub kind: String,
    /// What is counted, e.g. `pod range`, `calico pool default-ipv4-ippool`, `service range`.
    pub what: String,
    /// The range, e.g. `10.244.0.0/16` or `30000-32767`.
    pub range: String,
    /// What one unit is: `node slots of /24`, `blocks of /26`, `addresses`, `ports`.
    pub unit: String,
    pub total: u64,
    pub used: u64,
    pub free: u64,
    /// used / total, rounded to the nearest percent.
    pub percent: u32,
    /// Where the range, the unit size and the count come from.
    pub evidence: Vec<String>,
    /// For service ranges: the lower band that manually chosen ClusterIPs should use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_band: Option<String>,
    /// Nodes (or pods) waiting for one, e.g. nodes without a podCIDR.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<String>,
    /// Failures already observed: CIDRNotAvailable, IP-allocation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeUsage {
    pub node: String,
    /// The podCIDR (or the CNI's blocks) its pods' addresses come from.
    pub pod_cidrs: Vec<String>,
    /// Addresses pods can get there; absent when the CNI allocates from a shared pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usable: Option<u64>,
    /// Addresses held by its running, non-hostNetwork pods.
    pub used: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u32>,
    /// The kubelet's maxPods (status.capacity.pods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pods: Option<u64>,
    /// Pods whose sandbox could not get an address there, with the CNI's words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Unknown {
    pub what: String,
    pub why: String,
}

impl Usage {
    pub fn full(&self) -> bool {
        self.free == 0
    }
}

/// Rounded percentage; 0 of 0 is 0.
pub fn percent(used: u64, total: u64) -> u32 {
    if total == 0 {
        return 0;
    }
    let (u, t) = (used as u128, total as u128);
    ((u * 100 + t / 2) / t) as u32
}
