//! What is read besides API objects: pod logs, the host (`--on-node`), the service-range probe.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodLog {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub previous: bool,
    /// The start of the log, as read (bounded by limitBytes); invalid UTF-8 replaced.
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// What `--on-node` read from the machine netcheck runs on.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct HostFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    #[serde(default)]
    pub manifests: Vec<HostFile>,
    /// Flag files named after their component (MicroK8s's args directory).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args_files: Vec<HostFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flannel_subnet_env: Option<HostFile>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Interface {
    pub name: String,
    /// Addresses with prefix length, as `ip addr` shows them (`10.19.9.9/24`).
    #[serde(default)]
    pub addresses: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct HostFile {
    pub path: String,
    pub content: String,
}

/// The API server's answer to a dry-run Service with an out-of-range clusterIP.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCidrProbe {
    pub requested_ip: String,
    pub code: u16,
    pub message: String,
}
