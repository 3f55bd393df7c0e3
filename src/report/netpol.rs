//! Answers of `netcheck can-reach` and `netcheck policies` (#17): NetworkPolicy reachability
//! and whether anything enforces it.

use serde::{Deserialize, Serialize};

/// One side of `can-reach`, as typed: a pod, pods by label in a namespace, a Service's pods,
/// or addresses outside the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Pod {
        namespace: String,
        name: String,
    },
    Selector {
        namespace: String,
        labels: Vec<(String, String)>,
    },
    Service {
        namespace: String,
        name: String,
    },
    Cidr(ipnet::IpNet),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortQuery {
    pub port: u16,
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachQuery {
    pub from: Target,
    pub to: Target,
    pub port: Option<PortQuery>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allowed,
    Denied,
    /// A read the answer needs was refused or never made.
    Unknown,
}

/// Whether the cluster's CNI implements NetworkPolicy.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Enforcement {
    pub cni: String,
    /// yes, no, unknown
    pub enforces: String,
    pub why: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReachAnswer {
    pub from: String,
    pub to: String,
    /// PORT/PROTOCOL asked about; absent: any port (allowed then means on at least one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// allowed when every pair is; denied when any is; else unknown.
    pub verdict: Verdict,
    pub enforcement: Enforcement,
    pub pairs_total: usize,
    pub allowed: usize,
    pub denied: usize,
    pub unknown: usize,
    /// The pairs, denied first; at most `MAX_PAIRS`.
    pub pairs: Vec<PairVerdict>,
    /// Policies of kinds netcheck does not evaluate (the CNI's own): they may change the answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_evaluated: Vec<String>,
    /// The smallest NetworkPolicy that would allow the first denied pair; never applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Suggestion>,
}

pub const MAX_PAIRS: usize = 50;

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PairVerdict {
    pub from: String,
    pub to: String,
    pub verdict: Verdict,
    /// Egress of `from`'s pod (absent for addresses outside the cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<SideVerdict>,
    /// Ingress of `to`'s pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<SideVerdict>,
}

/// One direction of one pair: who decided and why.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SideVerdict {
    pub verdict: Verdict,
    /// Which tier decided: admin (AdminNetworkPolicy), networkpolicy, baseline
    /// (BaselineAdminNetworkPolicy), none (nothing selects the pod), hostnetwork, unknown.
    pub decided_by: String,
    /// NetworkPolicies (namespace/name) that select the pod for this direction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selected_by: Vec<String>,
    /// The rules that matched (policy and rule index), or the default deny that applied.
    pub reasons: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Suggestion {
    /// Why this policy, and what else it changes.
    pub note: String,
    /// The NetworkPolicy, as YAML; empty when no NetworkPolicy can allow the flow (an
    /// AdminNetworkPolicy denies it).
    pub yaml: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoliciesAnswer {
    pub enforcement: Enforcement,
    /// Why the answer is incomplete (reads refused or not made).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
    pub namespaces: Vec<NamespacePolicies>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin: Vec<AdminPolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_evaluated: Vec<NotEvaluated>,
    /// NetworkPolicies (namespace/name) whose podSelector selects no pod.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select_nothing: Vec<String>,
    /// Peers that can never match: their selectors name labels no pod or namespace has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dead_peers: Vec<DeadPeer>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamespacePolicies {
    pub namespace: String,
    pub policies: Vec<String>,
    pub pods: usize,
    /// Pods selected by some policy for ingress (so all ingress not allowed is denied).
    pub ingress_isolated: Vec<String>,
    pub egress_isolated: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdminPolicy {
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    pub pods: usize,
    /// Set when the object could not be understood; it is then not evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotEvaluated {
    pub kind: String,
    pub count: usize,
    pub names: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeadPeer {
    pub policy: String,
    /// e.g. `ingress[0].from[1]`
    pub peer: String,
    pub why: String,
}
