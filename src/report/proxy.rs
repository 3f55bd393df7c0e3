//! The service-proxy answer: what implements Services, its configured mode and, per node, the
//! mode it runs.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProxyAnswer {
    /// kube-proxy, k3s-embedded, rke2-embedded, cilium, antrea-proxy, gke-dataplane-v2, none, unknown.
    pub implementation: String,
    pub implementation_evidence: String,
    /// The mode configuration asks for (after flag precedence and defaults), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured_mode: Option<String>,
    pub configured: Vec<ConfiguredMode>,
    pub nodes: Vec<NodeProxy>,
    /// Distinct running modes seen across nodes.
    pub running_modes: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfiguredMode {
    /// kube-proxy-configmap, kube-proxy-flag, k3s-args, k3s-default, cilium-config, antrea-config.
    pub source: String,
    pub mode: String,
    pub evidence: String,
    /// True when another source overrides this one (e.g. --proxy-mode beside --config).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeProxy {
    pub node: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<String>,
    /// log: read from this node's kube-proxy log; assumed: taken from configuration (or
    /// from what replaces kube-proxy); failing: kube-proxy is not running; none: nothing
    /// implements Services here; unknown.
    pub basis: String,
    pub evidence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(default)]
    pub restarts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fell_back_from_ipvs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<String>,
}
