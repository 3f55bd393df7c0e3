//! Services and ServiceCIDRs.

use super::Meta;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: ServiceSpec,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "clusterIP")]
    pub cluster_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "clusterIPs")]
    pub cluster_ips: Vec<String>,
}

impl Service {
    /// Allocated ClusterIPs; headless ("None") and ExternalName services have none.
    pub fn ips(&self) -> Vec<&str> {
        let all: Vec<&str> = if self.spec.cluster_ips.is_empty() {
            self.spec.cluster_ip.iter().map(String::as_str).collect()
        } else {
            self.spec.cluster_ips.iter().map(String::as_str).collect()
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
