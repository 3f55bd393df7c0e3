//! Configuration documents held in ConfigMaps, annotations and manifest files.

use crate::model::Pod;
use serde::Deserialize;

/// The fields of a KubeProxyConfiguration netcheck reads.
#[derive(Deserialize, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KubeProxyConfig {
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default, rename = "clusterCIDR")]
    pub cluster_cidr: Option<String>,
    #[serde(default)]
    pub detect_local: Option<DetectLocal>,
}

#[derive(Deserialize, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DetectLocal {
    #[serde(default, rename = "clusterCIDRs")]
    pub cluster_cidrs: Vec<String>,
}

/// kubeadm's ClusterConfiguration networking section.
#[derive(Deserialize, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfiguration {
    #[serde(default)]
    pub networking: Networking,
    #[serde(default)]
    pub kubernetes_version: Option<String>,
    #[serde(default)]
    pub controller_manager: ControlPlaneComponent,
}

#[derive(Deserialize, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneComponent {
    #[serde(default)]
    pub extra_args: ExtraArgs,
}

/// kubeadm v1beta3 writes extraArgs as a map, v1beta4 as a list of name/value pairs.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(untagged)]
pub enum ExtraArgs {
    Map(std::collections::BTreeMap<String, String>),
    List(Vec<NameValue>),
}

#[derive(Deserialize, Debug, PartialEq)]
pub struct NameValue {
    pub name: String,
    #[serde(default)]
    pub value: String,
}

impl Default for ExtraArgs {
    fn default() -> Self {
        ExtraArgs::List(vec![])
    }
}

impl ExtraArgs {
    pub fn get(&self, name: &str) -> Option<&str> {
        match self {
            ExtraArgs::Map(m) => m.get(name).map(String::as_str),
            ExtraArgs::List(l) => l
                .iter()
                .rev()
                .find(|a| a.name == name)
                .map(|a| a.value.as_str()),
        }
    }
}

#[derive(Deserialize, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Networking {
    #[serde(default)]
    pub pod_subnet: Option<String>,
    #[serde(default)]
    pub service_subnet: Option<String>,
}

/// flannel's net-conf.json.
#[derive(Deserialize, Debug, Default, PartialEq)]
pub struct FlannelNetConf {
    #[serde(default, rename = "Network")]
    pub network: Option<String>,
    #[serde(default, rename = "IPv6Network")]
    pub ipv6_network: Option<String>,
    #[serde(default, rename = "EnableIPv4")]
    pub enable_ipv4: Option<bool>,
}

fn yaml_error(what: &str, e: impl std::fmt::Display) -> String {
    let e = e.to_string();
    let first = e
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    format!("{what} is not valid YAML: {first}")
}

pub fn kube_proxy_config(text: &str) -> Result<KubeProxyConfig, String> {
    serde_saphyr::from_str(text).map_err(|e| yaml_error("KubeProxyConfiguration", e))
}

pub fn cluster_configuration(text: &str) -> Result<ClusterConfiguration, String> {
    serde_saphyr::from_str(text).map_err(|e| yaml_error("ClusterConfiguration", e))
}

pub fn flannel_net_conf(text: &str) -> Result<FlannelNetConf, String> {
    serde_json::from_str(text).map_err(|e| format!("net-conf.json is not valid JSON: {e}"))
}

/// A static-pod manifest: one or more YAML documents, of which the Pods are kept.
pub fn manifest_pods(text: &str) -> Result<Vec<Pod>, String> {
    #[derive(Deserialize)]
    struct Kind {
        #[serde(default)]
        kind: Option<String>,
    }
    let kinds: Vec<Kind> =
        serde_saphyr::from_multiple(text).map_err(|e| yaml_error("manifest", e))?;
    let pods: Vec<Pod> =
        serde_saphyr::from_multiple(text).map_err(|e| yaml_error("manifest", e))?;
    Ok(kinds
        .into_iter()
        .zip(pods)
        .filter(|(k, _)| k.kind.as_deref().is_none_or(|k| k == "Pod"))
        .map(|(_, p)| p)
        .collect())
}

/// k3s/RKE2 `node-args` annotation: a JSON array of the server's or agent's argv.
pub fn node_args(text: &str) -> Result<Vec<String>, String> {
    serde_json::from_str(text).map_err(|e| format!("node-args is not a JSON array of strings: {e}"))
}

#[cfg(test)]
mod tests {

    #[test]
    fn kubeadm_extra_args_as_map_and_as_list() {
        let v3 = "controllerManager:\n  extraArgs:\n    node-cidr-mask-size: \"25\"\n";
        let v4 =
            "controllerManager:\n  extraArgs:\n  - name: node-cidr-mask-size\n    value: \"26\"\n";
        let get = |t| {
            cluster_configuration(t)
                .unwrap()
                .controller_manager
                .extra_args
                .get("node-cidr-mask-size")
                .map(str::to_string)
        };
        assert_eq!(get(v3).as_deref(), Some("25"));
        assert_eq!(get(v4).as_deref(), Some("26"));
        assert_eq!(get("networking: {}\n"), None);
    }

    use super::*;

    #[test]
    fn kube_proxy_config_fields() {
        let c = kube_proxy_config("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\nmode: \"\"\niptables:\n  masqueradeAll: false\n").unwrap();
        assert_eq!(c.mode.as_deref(), Some(""));
        assert_eq!(c.cluster_cidr.as_deref(), Some("10.244.0.0/16"));
        assert!(kube_proxy_config("mode: [unclosed").is_err());
    }

    #[test]
    fn cluster_configuration_networking() {
        let c = cluster_configuration("networking:\n  dnsDomain: cluster.local\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\nkubernetesVersion: v1.26.0\n").unwrap();
        assert_eq!(c.networking.pod_subnet.as_deref(), Some("10.244.0.0/16"));
        assert_eq!(c.networking.service_subnet.as_deref(), Some("10.96.0.0/12"));
    }

    #[test]
    fn manifest_with_several_documents_and_odd_indentation() {
        let m = "apiVersion: v1\nkind: Pod\nmetadata:\n    name: kube-apiserver\n    namespace: kube-system\nspec:\n    containers:\n    -   name: kube-apiserver\n        command:\n        - kube-apiserver\n        - --service-cluster-ip-range=10.96.0.0/12\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
        let pods = manifest_pods(m).unwrap();
        assert_eq!(pods.len(), 1);
        assert_eq!(
            pods[0].spec.containers[0].command[1],
            "--service-cluster-ip-range=10.96.0.0/12"
        );
        assert!(manifest_pods("spec:\n  containers: {\n").is_err());
    }

    #[test]
    fn flannel_and_node_args() {
        let f = flannel_net_conf(r#"{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}"#)
            .unwrap();
        assert_eq!(f.network.as_deref(), Some("10.244.0.0/16"));
        assert!(flannel_net_conf("{").is_err());
        assert_eq!(
            node_args(r#"["server","--cluster-cidr","10.42.0.0/16"]"#)
                .unwrap()
                .len(),
            3
        );
        assert!(node_args("{}").is_err());
    }
}
