//! What the live collector's second round reads, decided from what the first round showed:
//! the detected CNI's own configuration (ConfigMaps, the ConfigMaps its agent takes
//! environment from, Calico's IPPools), the platform's own objects, and kube-proxy's logs.

use super::proxy::{self, LogPolicy, LogRequest};
use super::{cni, env, platform};
use crate::model::{
    ApiType, Cluster, ADMIN_NETWORK_POLICY, AZURE_NNC, BASELINE_ADMIN_NETWORK_POLICY,
    CALICO_BLOCK_AFFINITY, CALICO_GLOBAL_NETWORK_POLICY, CALICO_NETWORK_POLICY,
    CILIUM_CLUSTERWIDE_NETWORK_POLICY, CILIUM_NETWORK_POLICY, KUBEOVN_SUBNET, OPENSHIFT_NETWORK,
};

/// One object (by name) or whole collection of an API that only some clusters serve.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRead {
    pub api: ApiType,
    pub namespace: Option<&'static str>,
    pub name: Option<&'static str>,
}

#[derive(Debug, Default)]
pub struct Plan {
    /// (namespace, name)
    pub config_maps: Vec<(String, String)>,
    pub ip_pools: bool,
    pub objects: Vec<ObjectRead>,
    pub logs: Vec<LogRequest>,
}

pub fn second_round(c: &Cluster, logs: LogPolicy) -> Plan {
    let cni = cni::detect(c);
    let platform = platform::detect(c);
    let own: &[(&str, &str)] = match cni.name.as_str() {
        "cilium" => &[
            ("kube-system", "cilium-config"),
            ("cilium", "cilium-config"),
        ],
        "antrea" => &[("kube-system", "antrea-config")],
        _ => &[],
    };
    let agent_ns = cni.daemon_set.as_deref().and_then(|d| d.split_once('/'));
    let mut config_maps = cni::net_conf_maps(&cni);
    config_maps.extend(
        own.iter()
            // Cilium's ConfigMap is in the cilium namespace only when its agent runs there.
            .filter(|(ns, _)| *ns != "cilium" || agent_ns.is_some_and(|(a, _)| a == "cilium"))
            .map(|(ns, n)| (ns.to_string(), n.to_string())),
    );
    if let Some(ds) = cni::agent(c, &cni) {
        let ns = ds.metadata.ns();
        for ct in ds.spec.template.spec.containers.iter() {
            for name in env::config_maps(ct) {
                let key = (ns.to_string(), name.to_string());
                if !config_maps.contains(&key) {
                    config_maps.push(key);
                }
            }
        }
    }
    let mut objects = Vec::new();
    let mut read = |api, namespace, name| {
        objects.push(ObjectRead {
            api,
            namespace,
            name,
        })
    };
    if platform.name == "openshift" {
        read(OPENSHIFT_NETWORK, None, Some("cluster"));
    }
    if cni.name == "calico" {
        read(CALICO_BLOCK_AFFINITY, None, None);
    }
    if cni.name == "kube-ovn" {
        read(KUBEOVN_SUBNET, None, None);
    }
    // Any cluster may have the policy API's CRDs installed; absent ones answer 404.
    read(ADMIN_NETWORK_POLICY, None, None);
    read(BASELINE_ADMIN_NETWORK_POLICY, None, None);
    // The CNI's own policies exist only where that CNI runs (its CRDs come with it).
    if cni.name == "cilium" {
        read(CILIUM_NETWORK_POLICY, None, None);
        read(CILIUM_CLUSTERWIDE_NETWORK_POLICY, None, None);
    }
    if matches!(cni.name.as_str(), "calico" | "canal") {
        read(CALICO_NETWORK_POLICY, None, None);
        read(CALICO_GLOBAL_NETWORK_POLICY, None, None);
    }
    if platform.name == "aks" && matches!(cni.name.as_str(), "azure-cni" | "cilium") {
        read(AZURE_NNC, Some("kube-system"), None);
    }
    Plan {
        config_maps,
        ip_pools: cni.name == "calico",
        objects,
        logs: proxy::logs_to_read(c, logs),
    }
}
