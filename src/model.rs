//! The plain cluster model: everything netcheck reads, in the shape the Kubernetes API serves it,
//! pruned to the fields netcheck uses. A snapshot is this model serialised; the test API server
//! serves it back; kubectl can read the same objects.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub const SNAPSHOT_API_VERSION: &str = "netcheck/v1";
pub const SNAPSHOT_KIND: &str = "Snapshot";

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cluster {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub source: SourceInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(default)]
    pub nodes: Vec<Node>,
    /// Infrastructure pods in full; other pods are pruned as they are read (so a snapshot of
    /// full Pod objects is never held whole) and moved to `workload_pods` on load.
    #[serde(default, deserialize_with = "pruned_pods")]
    pub pods: Vec<Pod>,
    /// Ordinary pods, reduced to placement and addresses: most of a big cluster's pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workload_pods: Vec<WorkloadPod>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub daemon_sets: Vec<DaemonSet>,
    #[serde(default)]
    pub config_maps: Vec<ConfigMap>,
    #[serde(default)]
    pub service_cidrs: Vec<ServiceCidr>,
    #[serde(default)]
    pub ip_pools: Vec<IpPool>,
    #[serde(default)]
    pub logs: Vec<PodLog>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ServiceCidrProbe>,
    /// What could not be read, and why. Kept in snapshots so offline answers stay honest.
    #[serde(default)]
    pub errors: Vec<CollectError>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    /// live, snapshot, on-node
    #[serde(default)]
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
}

/// A read that failed: the thing, why, and the permission that would allow it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CollectError {
    /// What was being read, e.g. `configmap kube-system/kube-proxy`.
    pub what: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
}

impl Meta {
    pub fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.get(k).map(String::as_str)
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OwnerRef {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
}

// ---------- nodes ----------

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
    pub pod_cidr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "podCIDRs")]
    pub pod_cidrs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unschedulable: bool,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "providerID"
    )]
    pub provider_id: Option<String>,
}

impl NodeSpec {
    /// podCIDRs, falling back to the single-stack podCIDR that older servers set alone.
    pub fn cidrs(&self) -> Vec<&str> {
        if !self.pod_cidrs.is_empty() {
            self.pod_cidrs.iter().map(String::as_str).collect()
        } else {
            self.pod_cidr.iter().map(String::as_str).collect()
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Taint {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub effect: String,
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
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeAddress {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    #[serde(default)]
    pub kubelet_version: String,
    #[serde(default)]
    pub kube_proxy_version: String,
    #[serde(default)]
    pub operating_system: String,
    #[serde(default)]
    pub os_image: String,
}

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

// ---------- pods ----------

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: PodSpec,
    #[serde(default)]
    pub status: PodStatus,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub host_network: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
}

impl Container {
    /// command followed by args: what the process sees as its argv.
    pub fn argv(&self) -> impl Iterator<Item = &str> {
        self.command.iter().chain(&self.args).map(String::as_str)
    }
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.value.as_deref())
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Toleration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Affinity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_affinity: Option<NodeAffinity>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeAffinity {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "requiredDuringSchedulingIgnoredDuringExecution"
    )]
    pub required: Option<NodeSelector>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeSelector {
    #[serde(default)]
    pub node_selector_terms: Vec<NodeSelectorTerm>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeSelectorTerm {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<SelectorRequirement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_fields: Vec<SelectorRequirement>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "podIP")]
    pub pod_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "podIPs")]
    pub pod_ips: Vec<PodIp>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "hostIP")]
    pub host_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub container_statuses: Vec<ContainerStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodIp {
    pub ip: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub ready: bool,
    #[serde(default)]
    pub restart_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ContainerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_state: Option<ContainerState>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ContainerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<StateDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<StateDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated: Option<StateDetail>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct StateDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
}

/// Namespaces whose pods netcheck reads in full; elsewhere only placement and IPs are kept.
pub const INFRA_NAMESPACES: &[&str] = &[
    "kube-system",
    "kube-flannel",
    "calico-system",
    "tigera-operator",
    "cilium",
    "kube-proxy",
    "antrea-system",
];

pub const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// Whether netcheck reads a pod in full: in an infrastructure namespace, run by a DaemonSet
/// (its controller, or else its first owner), or a static pod's mirror (annotated, or owned
/// by its Node). From borrowed parts, so decoders can decide before building a [`Pod`].
pub fn is_infra<'a>(
    namespace: &str,
    owners: impl Iterator<Item = (&'a str, bool)> + Clone,
    mirror_annotation: bool,
) -> bool {
    let controller = owners.clone().find(|o| o.1).or(owners.clone().next());
    INFRA_NAMESPACES.contains(&namespace)
        || controller.is_some_and(|o| o.0 == "DaemonSet")
        || mirror_annotation
        || owners.clone().any(|o| o.0 == "Node")
}

impl Pod {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }
    pub fn node(&self) -> Option<&str> {
        self.spec.node_name.as_deref()
    }
    pub fn is_mirror(&self) -> bool {
        self.metadata.annotations.contains_key(MIRROR_ANNOTATION)
            || self
                .metadata
                .owner_references
                .iter()
                .any(|o| o.kind == "Node")
    }
    pub fn controller(&self) -> Option<&OwnerRef> {
        let refs = &self.metadata.owner_references;
        refs.iter()
            .find(|o| o.controller == Some(true))
            .or_else(|| refs.first())
    }
    pub fn ips(&self) -> Vec<&str> {
        if !self.status.pod_ips.is_empty() {
            self.status.pod_ips.iter().map(|p| p.ip.as_str()).collect()
        } else {
            self.status.pod_ip.iter().map(String::as_str).collect()
        }
    }
    pub fn is_infra(&self) -> bool {
        let m = &self.metadata;
        is_infra(
            m.ns(),
            m.owner_references
                .iter()
                .map(|o| (o.kind.as_str(), o.controller == Some(true))),
            m.annotations.contains_key(MIRROR_ANNOTATION),
        )
    }
    /// Drops what netcheck never reads from an ordinary workload pod, so that a cluster of
    /// 150,000 pods fits in a few tens of megabytes.
    /// Pod-level scheduling fields are dropped from every pod: placement is judged from the
    /// DaemonSet's template.
    pub fn prune(&mut self) {
        self.spec.node_selector.clear();
        self.spec.tolerations.clear();
        self.spec.affinity = None;
        if self.is_infra() {
            return;
        }
        self.metadata.labels.clear();
        self.metadata.annotations.clear();
        self.metadata.owner_references.clear();
        self.status.host_ip = None;
        self.metadata.creation_timestamp = None;
        self.spec.containers.clear();
        self.status.container_statuses.clear();
        self.status.start_time = None;
    }
    /// Decodes one Pod as the API serves it (see [`PodEntry`]).
    pub fn decode(json: &str) -> serde_json::Result<PodEntry> {
        serde_json::from_str(json)
    }
    /// Pods grouped by node name, each group in list order: one pass instead of a scan per node.
    pub fn by_node<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> HashMap<&'a str, Vec<&'a Pod>> {
        let mut m: HashMap<&str, Vec<&Pod>> = HashMap::new();
        for p in pods {
            if let Some(n) = p.node() {
                m.entry(n).or_default().push(p);
            }
        }
        m
    }
    pub fn restarts(&self) -> u32 {
        self.status
            .container_statuses
            .iter()
            .map(|c| c.restart_count)
            .sum()
    }
    pub fn ready(&self) -> bool {
        !self.status.container_statuses.is_empty()
            && self.status.container_statuses.iter().all(|c| c.ready)
    }
}

/// A pod as read: kept in full, or reduced to a [`WorkloadPod`].
pub enum PodEntry {
    Infra(Box<Pod>),
    Workload(WorkloadPod),
}

/// An ordinary pod as netcheck keeps it: where it runs and its addresses. A fraction of a
/// [`Pod`]'s size, which matters at 150,000 pods.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadPod {
    pub namespace: Box<str>,
    pub name: Box<str>,
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub node: Box<str>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub host_network: bool,
    /// Succeeded or Failed: its addresses may since have been reused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub finished: bool,
    /// Addresses that do not parse are dropped, as the checks would ignore them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<std::net::IpAddr>,
}

impl From<&Pod> for WorkloadPod {
    fn from(p: &Pod) -> WorkloadPod {
        WorkloadPod::new(
            [p.metadata.ns(), p.name(), p.node().unwrap_or("")],
            p.spec.host_network,
            p.status.phase.as_deref(),
            p.ips(),
        )
    }
}

impl WorkloadPod {
    /// From a pod's namespace, name, node, hostNetwork, phase and addresses (podIPs, or podIP
    /// where podIPs is empty).
    pub fn new<'a>(
        [namespace, name, node]: [&str; 3],
        host_network: bool,
        phase: Option<&str>,
        ips: impl IntoIterator<Item = &'a str>,
    ) -> WorkloadPod {
        WorkloadPod {
            namespace: namespace.into(),
            name: name.into(),
            node: node.into(),
            host_network,
            finished: matches!(phase, Some("Succeeded" | "Failed")),
            ips: ips.into_iter().filter_map(crate::cidr::parse_ip).collect(),
        }
    }
    /// Back to the API's shape, for the test API server.
    pub fn to_pod(&self) -> Pod {
        let ips: Vec<PodIp> = self
            .ips
            .iter()
            .map(|ip| PodIp { ip: ip.to_string() })
            .collect();
        Pod {
            metadata: Meta {
                name: self.name.to_string(),
                namespace: Some(self.namespace.to_string()),
                ..Meta::default()
            },
            spec: PodSpec {
                node_name: (!self.node.is_empty()).then(|| self.node.to_string()),
                host_network: self.host_network,
                ..PodSpec::default()
            },
            status: PodStatus {
                phase: Some(
                    if self.finished {
                        "Succeeded"
                    } else {
                        "Running"
                    }
                    .into(),
                ),
                pod_ip: ips.first().map(|p| p.ip.clone()),
                pod_ips: ips,
                ..PodStatus::default()
            },
        }
    }
}

/// A pod's address, as the address checks see every pod alike.
pub struct PodAddress<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub finished: bool,
    pub ip: std::net::IpAddr,
}

/// Decoded in one pass: `metadata`, which the API server sends ahead of `spec` and `status`,
/// decides whether the rest is read in full or only for placement and addresses. (Should
/// `metadata` come last, spec and status are read in full and reduced afterwards.)
impl<'de> Deserialize<'de> for PodEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PodEntry, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PodEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Pod")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<PodEntry, A::Error> {
                let mut pod = Pod::default();
                let mut infra = None;
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    match (&*k, infra) {
                        ("metadata", _) => {
                            pod.metadata = m.next_value()?;
                            infra = Some(pod.is_infra());
                        }
                        ("spec", Some(false)) => {
                            let h: PodSpecHead = m.next_value()?;
                            pod.spec.node_name = h.node_name;
                            pod.spec.host_network = h.host_network;
                        }
                        ("status", Some(false)) => {
                            let h: PodStatusHead = m.next_value()?;
                            pod.status.phase = h.phase;
                            pod.status.pod_ip = h.pod_ip;
                            pod.status.pod_ips = h.pod_ips;
                        }
                        ("spec", _) => pod.spec = m.next_value()?,
                        ("status", _) => pod.status = m.next_value()?,
                        _ => {
                            m.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(if pod.is_infra() {
                    pod.prune();
                    PodEntry::Infra(Box::new(pod))
                } else {
                    PodEntry::Workload(WorkloadPod::from(&pod))
                })
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PodSpecHead {
    #[serde(default)]
    node_name: Option<String>,
    #[serde(default)]
    host_network: bool,
}

#[derive(Deserialize, Default)]
struct PodStatusHead {
    #[serde(default)]
    phase: Option<String>,
    #[serde(default, rename = "podIP")]
    pod_ip: Option<String>,
    #[serde(default, rename = "podIPs")]
    pod_ips: Vec<PodIp>,
}

fn pruned_pods<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Pod>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<Pod>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of pods")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Vec<Pod>, A::Error> {
            let mut v = Vec::new();
            while let Some(mut p) = s.next_element::<Pod>()? {
                p.prune();
                v.push(p);
            }
            Ok(v)
        }
    }
    d.deserialize_seq(V)
}

// ---------- services, ServiceCIDRs, IPPools ----------

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

/// Calico IPPool (crd.projectcalico.org/v1 or projectcalico.org/v3).
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct IpPool {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: IpPoolSpec,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct IpPoolSpec {
    #[serde(default)]
    pub cidr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_size: Option<u8>,
}

// ---------- DaemonSets and ConfigMaps ----------

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSet {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: DaemonSetSpec,
    #[serde(default)]
    pub status: DaemonSetStatus,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetSpec {
    #[serde(default)]
    pub selector: LabelSelector,
    #[serde(default)]
    pub template: PodTemplate,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplate {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: PodSpec,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetStatus {
    #[serde(default)]
    pub desired_number_scheduled: i64,
    #[serde(default)]
    pub current_number_scheduled: i64,
    #[serde(default)]
    pub number_ready: i64,
    #[serde(default)]
    pub updated_number_scheduled: i64,
    #[serde(default)]
    pub number_available: i64,
    #[serde(default)]
    pub number_misscheduled: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMap {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub data: BTreeMap<String, String>,
}

// ---------- logs, host, probe ----------

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

impl Cluster {
    /// Addresses of every non-hostNetwork pod, full or reduced.
    pub fn pod_addresses(&self) -> impl Iterator<Item = PodAddress<'_>> {
        let full = self
            .pods
            .iter()
            .filter(|p| !p.spec.host_network)
            .flat_map(|p| {
                let finished = matches!(p.status.phase.as_deref(), Some("Succeeded" | "Failed"));
                p.ips()
                    .into_iter()
                    .filter_map(crate::cidr::parse_ip)
                    .map(move |ip| PodAddress {
                        namespace: p.metadata.ns(),
                        name: p.name(),
                        finished,
                        ip,
                    })
            });
        let reduced = self
            .workload_pods
            .iter()
            .filter(|w| !w.host_network)
            .flat_map(|w| {
                w.ips.iter().map(move |ip| PodAddress {
                    namespace: &w.namespace,
                    name: &w.name,
                    finished: w.finished,
                    ip: *ip,
                })
            });
        full.chain(reduced)
    }
    pub fn pod_count(&self) -> usize {
        self.pods.len() + self.workload_pods.len()
    }
    /// Moves pruned ordinary pods out of `pods` into their reduced form.
    pub fn compact(&mut self) {
        if self.pods.iter().all(Pod::is_infra) {
            return;
        }
        let (infra, work): (Vec<Pod>, Vec<Pod>) = std::mem::take(&mut self.pods)
            .into_iter()
            .partition(Pod::is_infra);
        self.pods = infra;
        self.workload_pods
            .extend(work.iter().map(WorkloadPod::from));
    }
    pub fn new_snapshot() -> Self {
        Cluster {
            api_version: SNAPSHOT_API_VERSION.into(),
            kind: SNAPSHOT_KIND.into(),
            ..Default::default()
        }
    }
    pub fn config_map(&self, ns: &str, name: &str) -> Option<&ConfigMap> {
        self.config_maps
            .iter()
            .find(|c| c.metadata.name == name && c.metadata.ns() == ns)
    }
    pub fn daemon_set(&self, ns: &str, name: &str) -> Option<&DaemonSet> {
        self.daemon_sets
            .iter()
            .find(|d| d.metadata.name == name && d.metadata.ns() == ns)
    }
    /// Logs by (namespace, pod, container, previous), for lookups in per-node loops.
    pub fn log_index(&self) -> HashMap<(&str, &str, &str, bool), &PodLog> {
        let mut m = HashMap::with_capacity(self.logs.len());
        for l in &self.logs {
            let key = (&*l.namespace, &*l.pod, &*l.container, l.previous);
            m.entry(key).or_insert(l);
        }
        m
    }
    pub fn log(&self, ns: &str, pod: &str, container: &str, previous: bool) -> Option<&PodLog> {
        self.logs.iter().find(|l| {
            l.namespace == ns && l.pod == pod && l.container == container && l.previous == previous
        })
    }
    /// The collection error recorded for `what`, if the read failed.
    pub fn error_for(&self, what: &str) -> Option<&CollectError> {
        self.errors.iter().find(|e| e.what == what)
    }
    /// Minor version of the API server (e.g. 26 for v1.26.0), or of the newest kubelet.
    pub fn minor_version(&self) -> Option<u32> {
        let parse = |v: &str| -> Option<u32> {
            let v = v.trim_start_matches('v');
            let mut it = v.split('.');
            let _major = it.next()?;
            it.next()?
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
                .parse()
                .ok()
        };
        self.server_version.as_deref().and_then(parse).or_else(|| {
            self.nodes
                .iter()
                .filter_map(|n| n.status.node_info.as_ref())
                .filter_map(|i| parse(&i.kubelet_version))
                .max()
        })
    }
}

/// The `what` of collection errors, shared by collectors (which record them) and discovery
/// (which turns them into "skipped" sources).
pub mod what {
    pub const VERSION: &str = "version";
    pub const NODES: &str = "nodes";
    pub const PODS: &str = "pods";
    pub const SERVICES: &str = "services";
    pub const DAEMONSETS: &str = "daemonsets";
    pub const SERVICECIDRS: &str = "servicecidrs";
    pub const IPPOOLS: &str = "ippools";
    pub const PROBE: &str = "service-cidr probe";
    pub const HOST: &str = "host";
    pub fn config_map(ns: &str, name: &str) -> String {
        format!("configmap {ns}/{name}")
    }
    pub fn log(ns: &str, pod: &str, container: &str, previous: bool) -> String {
        let p = if previous { " (previous)" } else { "" };
        format!("log {ns}/{pod} [{container}]{p}")
    }
}
