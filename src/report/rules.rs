//! `netcheck rules` and `netcheck trace`: the rules kube-proxy wrote on each node, read from
//! rule dumps and compared with the Services and EndpointSlices of the API.

use super::Severity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RulesAnswer {
    /// One entry per rule dump read.
    pub nodes: Vec<NodeRules>,
    /// Why nothing could be compared, when no dump was given or the API's Services could
    /// not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeRules {
    pub node: String,
    /// The file or command the dump came from.
    pub source: String,
    /// iptables-save, iptables-list, nft, nft-json, ipvsadm-list, ipvsadm-save.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// iptables, ipvs or nftables: the mode the dump is evidence of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The mode netcheck found kube-proxy running on this node, from the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_mode: Option<String>,
    pub lines: usize,
    /// Lines that are kube-proxy's.
    pub kube_lines: usize,
    /// Service entry points in the dump.
    pub entries: usize,
    /// Entry points of the API's Services compared with the dump, and how many agree.
    pub compared: usize,
    pub agreeing: usize,
    /// The pod ranges kube-proxy's masquerade rules exempt (its --cluster-cidr).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masquerade: Vec<String>,
    pub problems: Vec<RuleProblem>,
    /// What was not read or not compared, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The dump could not be read at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleProblem {
    pub id: String,
    pub severity: Severity,
    /// kube-proxy's name of the Service port, namespace/name:port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The entry point, as "10.96.0.10:53/udp cluster-ip".
    pub entry: String,
    pub detail: String,
    /// Dump lines, as "line N: text".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraceAnswer {
    /// namespace/name
    pub service: String,
    /// trace --host/--path: the Ingress or route that leads to the Service (#19).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<super::TraceEntry>,
    pub paths: Vec<TracePath>,
    /// Rule dumps that could not be read, nodes without one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The path of a packet to one entry point of the Service on one node.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TracePath {
    /// The node whose rules are shown; absent for the expected path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// True when read from the node's rules; false when it is what kube-proxy should have
    /// programmed, from the API.
    pub observed: bool,
    pub source: String,
    /// iptables, ipvs or nftables.
    pub mode: String,
    /// kube-proxy's name of the Service port.
    pub port_name: String,
    /// cluster-ip, node-port, external-ip or load-balancer.
    pub entry: String,
    /// ADDRESS:PORT/PROTOCOL (":PORT/PROTOCOL" on every node address for a NodePort).
    pub address: String,
    /// The rule that catches the packet, and the chain it jumps to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// The packet is rejected: no endpoints.
    pub reject: bool,
    /// Only this node's endpoints are used (traffic policy Local).
    pub local_only: bool,
    pub hops: Vec<TraceHop>,
    /// Commands that show each hop by hand (--explain).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraceHop {
    /// KUBE-SEP-…, endpoint-…; absent for ipvs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// The DNAT target, IP:PORT.
    pub endpoint: String,
    /// iptables: the rule's probability (absent: taken unconditionally).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// ipvs: the real server's weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// The share of new connections this endpoint really gets (0..1).
    pub share: f64,
    /// The pod behind the address and its node, from the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_node: Option<String>,
    /// Whether the API lists this endpoint as ready for the Service (observed paths only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_api: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}
