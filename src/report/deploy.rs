//! The deployment answer: how each networking agent runs, and which nodes lack a ready one.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    /// kube-proxy or the CNI's name.
    pub component: String,
    /// DaemonSet, static-pod, embedded, replaced, absent, unknown.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub evidence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    /// Nodes that should run the agent.
    pub nodes_total: usize,
    /// Nodes known to run a ready pod of it.
    pub nodes_ready: usize,
    pub missing: Vec<MissingNode>,
    /// Nodes where whether it runs is unknown, and why: its pods could not be read and
    /// nothing else read settles it. Neither ready nor missing; counted in `nodes_total`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<UnknownNode>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Counts {
    pub desired: i64,
    pub current: i64,
    pub ready: i64,
    pub up_to_date: i64,
    pub available: i64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MissingNode {
    pub node: String,
    /// taint, node-selector, affinity, node-not-ready, pod-pending, crash-loop, pod-not-ready,
    /// rollout, no-service-users, uncovered, unknown (no pod, and nothing read explains why).
    pub cause: String,
    pub reason: String,
    /// Excluded on purpose (selector/affinity): not a fault.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_design: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnknownNode {
    pub node: String,
    /// The failed read and what it hides, e.g. `pods could not be read (403 Forbidden: …)`.
    pub reason: String,
}
